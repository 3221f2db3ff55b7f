#!/usr/bin/env bash
# tests/eval/tasks.sh — long-tailed and open-set runs end to end on small Fashion-MNIST runs:
#   --imbalance RHO keeps the exponential profile (counts checked against the formula on the real
#   labels), --class-order reverses it, eval.json's per-class figures and shot groups add up;
#   training writes the shot groups every epoch (metrics.csv, class_acc.csv, summary.json: they
#   recompute from the per-class figures, agree with eval.json, and come back the same on resume);
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

# The shot groups of training: rho 50 puts classes in all three groups; 3 epochs with metrics every
# 2 give rows from the metrics pass (epochs 0, 2, 3) and from the plain test pass (epoch 1).
# metrics.csv's test_acc_many/medium/few, class_acc.csv and summary.json are recomputed from the
# per-class figures and the training counts; eval.json of the final checkpoint (evaluated in the
# run's batches) agrees with summary.json; a run stopped by SIGINT and resumed writes the same rows.
LT50=("${SMALL[@]}" --imbalance 50 --epochs 3 --metrics-every 2 --metrics-train-limit 200)
lt50=$work/lt50
run_gammacl "$lt50" "${LT50[@]}" --out "$lt50" || { cat "$lt50.err"; fail_now "the rho 50 run failed"; }
run_gammacl "$lt50.eval" eval --run "$lt50" --batch 64 --device "$device" ||
    { cat "$lt50.eval.err"; fail_now "eval of the rho 50 run"; }
check "long-tailed training: shot groups of metrics.csv, class_acc.csv and summary.json recompute; eval.json agrees" \
    python3 "$check_py" shots "$lt50" 50 2000 "" eval
check "long-tailed training: the last lines give the shot groups and thresholds" \
    grep -Eq "^long-tailed \(n_max [0-9]+\): many-shot \(> [0-9.]+ training images\) .* few-shot \(< [0-9.]+\)" "$lt50.out"
cut=$work/lt50-cut
"$gammacl" "${LT50[@]}" --out "$cut" > "$cut.out" 2> "$cut.err" &
pid=$!
wait_for_file "$pid" "$cut/metrics.csv" || fail_now "the stopped rho 50 run never created metrics.csv"
kill -INT "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
check "long-tailed run stopped by SIGINT: exit 130 (got $rc)" test "$rc" -eq 130
run_gammacl "$cut.r" train --resume "$cut" --device "$device" --progress 0
check "long-tailed run resumed: exit 0" test $? -eq 0
check "long-tailed run resumed: metrics.csv equals the uninterrupted run's, every column but $WALL_CLOCK" \
    same_metrics "$lt50/metrics.csv" "$cut/metrics.csv"
check "long-tailed run resumed: class_acc.csv equals the uninterrupted run's" \
    same_metrics "$lt50/class_acc.csv" "$cut/class_acc.csv"

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
check "a run without --imbalance: class_acc.csv and summary.json's class_acc, empty shot columns, no long_tail" \
    python3 "$check_py" shots "$os" "" 2000 ""

bad() { refused "$1" "$2" "${SMALL[@]}" --out "$work/bad-run" "${@:3}"; }
bad "--imbalance 0.5" "at least 1" --imbalance 0.5
bad "--class-order without --imbalance" "give --imbalance" --class-order 1,0
bad "--known with one class" "--known: .*2..9" --known 3
bad "--known with a repeated class" "--known: .*repeated" --known 1,1,2
bad "--known beyond the classes" "--known: .*outside 0..9" --known 1,2,12
bad "--class-order outside --known" "^gammacl train: --class-order: class 5 is not among --known 0,1,2$" --known 0,1,2 --imbalance 10 --class-order 5,1
bad "--known with a bad list" "--known: .*not a class id" --known 1,x
bad "--class-order not a permutation" "--imbalance: .*order lists 3 classes" --imbalance 10 --class-order 0,1,2
done_checks
