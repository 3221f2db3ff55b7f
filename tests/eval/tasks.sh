#!/usr/bin/env bash
# tests/eval/tasks.sh — long-tailed and open-set runs end to end on small Fashion-MNIST runs:
#   --imbalance RHO keeps the exponential profile (counts checked against the formula on the real
#   labels), --class-order reverses it, eval.json's per-class figures and shot groups add up;
#   --known trains on those classes (K = their count), and `gammacl eval` scores the other
#   classes' test images as unknown (counts, AUROC and OSCR in range, closed-set accuracy);
#   bad values of the three options exit 2 with a message.
#
#   tasks.sh GAMMACL CKPT_TOOL CHECK_TASKS_PY
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
check_py=$(realpath "$3")
SMALL=(train --data fashion-mnist --model cnn3 --train-limit 2000 --test-limit 500 --batch 64 --epochs 1
       --metrics-every 0 --device "$device" --progress 0)

lt=$work/lt
run_gammacl "$lt" "${SMALL[@]}" --imbalance 10 --out "$lt" || { cat "$lt.err"; fail_now "the long-tailed run failed"; }
run_gammacl "$lt.eval" eval --run "$lt" --device "$device" || { cat "$lt.eval.err"; fail_now "eval of the long-tailed run"; }
check "long-tailed: class counts follow n_max * 10^(-k/9), figures add up" \
    python3 "$check_py" long-tail "$lt/eval.json" 10 2000 ""
check "long-tailed: eval prints the shot groups" grep -q "many-shot" "$lt.eval.out"

rev=$work/rev
run_gammacl "$rev" "${SMALL[@]}" --imbalance 10 --class-order 9,8,7,6,5,4,3,2,1,0 --out "$rev" ||
    { cat "$rev.err"; fail_now "the reversed long-tailed run failed"; }
run_gammacl "$rev.eval" eval --run "$rev" --device "$device" || fail_now "eval of the reversed run"
check "--class-order 9,..,0 gives class 9 the most images" \
    python3 "$check_py" long-tail "$rev/eval.json" 10 2000 "9,8,7,6,5,4,3,2,1,0"

os=$work/open
run_gammacl "$os" "${SMALL[@]}" --known 0,1,2,3,4,5 --loss bce --out "$os" || { cat "$os.err"; fail_now "the open-set run failed"; }
run_gammacl "$os.eval" eval --run "$os" --device "$device" || { cat "$os.eval.err"; fail_now "eval of the open-set run"; }
check "open set: 6 known classes, the other 4 classes' test images as unknown, AUROC and OSCR" \
    python3 "$check_py" open-set "$os/eval.json" 0,1,2,3,4,5 500
check "open set: eval prints AUROC and OSCR" grep -q "max_softmax .*AUROC" "$os.eval.out"

bad() {
    local what=$1 pattern=$2 rc
    shift 2
    run_gammacl "$work/bad" "${SMALL[@]}" --out "$work/bad-run" "$@"
    rc=$?
    check "$what: exit 2 (got $rc)" test "$rc" -eq 2
    check "$what: message" grep -Eq -- "$pattern" "$work/bad.err"
}
bad "--imbalance 0.5" "at least 1" --imbalance 0.5
bad "--class-order without --imbalance" "give --imbalance" --class-order 1,0
bad "--known with one class" "--known: .*2..9" --known 3
bad "--known with a repeated class" "--known: .*repeated" --known 1,1,2
bad "--known beyond the classes" "--known: .*outside 0..9" --known 1,2,12
bad "--known with a bad list" "--known: .*not a class id" --known 1,x
bad "--class-order not a permutation" "--imbalance: .*order lists 3 classes" --imbalance 10 --class-order 0,1,2
done_checks
