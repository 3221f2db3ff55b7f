#!/usr/bin/env bash
# tests/eval/eval.sh — `gammacl eval` on a small trained run: zero disturbances (input, feature and
# class-weight noise, FGSM) flip nothing and cost no accuracy; large ones flip some; results are seeded (a rerun, and another batch size, give the same eval.json
# figures) and the seed matters; the .npz export holds what the model computes (checked with
# NumPy when /usr/bin/python3 has it); bad options and checkpoints exit 2 with a message.
#
#   eval.sh GAMMACL CKPT_TOOL CHECK_EXPORT_PY
# shellcheck source=../reliability/lib.sh
source "$(dirname "$0")/../reliability/lib.sh"
check_export=$(realpath "$3")

run=$work/run
run_gammacl "$run" "${TRAIN[@]}" --loss bce --gamma 8 --progress 0 --out "$run" ||
    { cat "$run.err"; fail_now "the training run failed"; }

# figure FILE NAME FIELD: a condition's field from eval.json ("clean" for the top-level figures)
figure() {
    /usr/bin/env awk -v name="$2" -v field="$3" '
        /"name":/ { cur = $2; gsub(/[",]/, "", cur) }
        $1 == "\"" field "\":" && cur == name { v = $2; gsub(/,/, "", v); print v; exit }' "$1"
}
conditions() { sed -n '/"conditions"/,$p' "$1"; }

run_gammacl "$work/zero" eval --run "$run" --noise 0 --feature-noise 0 --weight-noise 0 --fgsm 0 --json "$work/zero.json" \
    --device "$device" || { cat "$work/zero.err"; fail_now "eval with zero disturbances failed"; }
check "zero input noise flips nothing" [ "$(figure "$work/zero.json" input_noise_0 flip_rate)" = 0 ]
check "zero feature noise flips nothing" [ "$(figure "$work/zero.json" feature_noise_0 flip_rate)" = 0 ]
check "zero weight noise flips nothing" [ "$(figure "$work/zero.json" weight_noise_0 flip_rate)" = 0 ]
check "FGSM with eps 0 flips nothing" [ "$(figure "$work/zero.json" fgsm_0 flip_rate)" = 0 ]
clean=$(awk '$1 == "\"clean_acc\":" { v = $2; gsub(/,/, "", v); print v }' "$work/zero.json")
check "zero noise keeps the clean accuracy" [ "$(figure "$work/zero.json" input_noise_0 acc)" = "$clean" ]

run_gammacl "$work/full" eval --run "$run" --device "$device" --export "$work/f.npz" ||
    { cat "$work/full.err"; fail_now "the default eval failed"; }
check "eval.json goes into the run folder" [ -f "$run/eval.json" ]
check "fourteen default conditions" [ "$(grep -c '"name":' "$run/eval.json")" -eq 14 ]
check "the default weight-noise levels" bash -c "grep -q '\"weight_noise_0.01\"' '$run/eval.json' && grep -q '\"weight_noise_0.1\"' '$run/eval.json'"
check "the table is printed" grep -q 'fgsm_2' "$work/full.out"
run_gammacl "$work/big" eval --run "$run" --device "$device" --noise 64 --feature-noise 0.5 --fgsm none \
    --weight-noise 0.5 --json "$work/big.json" || fail_now "the eval with large noise failed"
for c in input_noise_64 feature_noise_0.5 weight_noise_0.5; do
    f=$(figure "$work/big.json" $c flip_rate)
    check "$c flips some predictions ($f)" awk -v f="$f" 'BEGIN { exit !(f > 0 && f < 1) }'
done
fg=$(figure "$run/eval.json" fgsm_2 acc)
check "FGSM 2/255 lowers the accuracy ($fg < $clean)" awk -v a="$fg" -v c="$clean" 'BEGIN { exit !(a < c) }'
run_gammacl "$work/again" eval --run "$run" --device "$device" --json "$work/again.json" --batch 7 ||
    fail_now "the second eval failed"
check "seeded: a rerun with another batch size gives the same figures" \
    cmp -s <(conditions "$run/eval.json") <(conditions "$work/again.json")
run_gammacl "$work/big2" eval --run "$run" --device "$device" --noise 64 --feature-noise 0.5 --fgsm none \
    --weight-noise 0.5 --json "$work/big2.json" --seed 2 || fail_now "the eval with seed 2 failed"
check "another seed draws other noise" \
    bash -c "! cmp -s <(sed -n '/conditions/,\$p' '$work/big.json') <(sed -n '/conditions/,\$p' '$work/big2.json')"
check "another seed draws other class-weight noise" \
    [ "$(figure "$work/big.json" weight_noise_0.5 flip_rate)" != "$(figure "$work/big2.json" weight_noise_0.5 flip_rate)" ]

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check "the .npz holds what the model computes" /usr/bin/python3 "$check_export" "$work/f.npz" "$clean"
else
    echo "note: no NumPy for /usr/bin/python3; the .npz content check is skipped (its format is tested in report_npz)"
fi

# bad input
expect_refusal() {
    local what=$1 needle=$2
    shift 2
    run_gammacl "$work/bad" eval "$@" --device "$device"
    local rc=$?
    check "$what: exit 2 ($rc)" [ "$rc" -eq 2 ]
    check "$what: the message says '$needle'" grep -q -- "$needle" "$work/bad.err"
}
expect_refusal "no checkpoint given" "exactly one of --run" --noise 1
expect_refusal "--run and --ckpt both" "exactly one of --run" --run "$run" --ckpt "$run/model.ckpt"
expect_refusal "a negative noise level" "--noise" --run "$run" --noise -1
expect_refusal "a noise list with an empty item" "--fgsm" --run "$run" --fgsm 1,
expect_refusal "a negative weight-noise level" "--weight-noise" --run "$run" --weight-noise 0.1,-2
expect_refusal "an unknown option" "unknown option" --run "$run" --gamma 3
expect_refusal "a missing checkpoint" "$work/none" --ckpt "$work/none/model.ckpt"
head -c 2000 "$run/model.ckpt" > "$work/cut.ckpt"
expect_refusal "a truncated checkpoint" "cut.ckpt" --ckpt "$work/cut.ckpt"
done_checks
