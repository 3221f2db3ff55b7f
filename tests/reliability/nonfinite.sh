#!/usr/bin/env bash
# tests/reliability/nonfinite.sh — numerical faults: NaN or Inf in the loss or the gradients must
# stop the run with a non-zero exit and a message naming the epoch, the step and the layer, keep
# the last good checkpoint untouched, and never write a row of garbage to metrics.csv.
#
#   nonfinite.sh GAMMACL CKPT_TOOL CASE
#   absurd_lr      --lr 1e9 from the start: the loss overflows in epoch 1
#   no_checkpoint  the same run: the message must not promise a checkpoint that was never written
#   later_epoch    a finished epoch-1 checkpoint whose options are set to a constant lr 1e9 and
#                  weight decay 1, resumed: the weights overflow in epoch 2; model.ckpt and
#                  metrics.csv keep epoch 1 exactly
#   poisoned_head  the epoch-1 checkpoint with one class weight set to NaN, resumed: the loss is
#                  NaN at epoch 2, step 1, and the message names head.w (where the NaN was at
#                  that step, not where it spread to by the end of the epoch)
#   poisoned_hidden  one weight of conv3 set to NaN (and, separately, one bn2 shift set to +Inf):
#                  the ReLU after them turns the NaN into 0, so the loss stays finite while the
#                  gradients of every layer below go NaN — the run must still stop at epoch 2,
#                  step 1, naming conv3 (bn2), instead of finishing with a model full of NaN
# A resumed checkpoint is edited through ckpt_tool (same format, valid CRC), so the fault lands in
# a chosen epoch on every device.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case_name=${3:-}

# base_checkpoint DIR: a finished 1-epoch run whose checkpoint asks for EPOCHS epochs, so that
# --resume DIR runs epoch 2 onwards.
base_checkpoint() {
    local dir=$1
    run_gammacl "$dir" "${TRAIN[@]}" --epochs 1 --seed 4 --progress 0 --out "$dir" ||
        { cat "$dir.err"; fail_now "the 1-epoch base run failed"; }
    "$ckpt_tool" set-meta "$dir/model.ckpt" epochs 2 || fail_now "cannot edit the checkpoint"
}

# expect_stop DIR EPOCH STEP NAME: resumes DIR (already doctored) and checks the stop.
expect_stop() {
    local dir=$1 epoch=$2 step=$3 name=$4
    cp "$dir/model.ckpt" "$dir.doctored.ckpt"
    cp "$dir/metrics.csv" "$dir.metrics-before.csv"
    run_gammacl "$dir.resume" train --resume "$dir" --device "$device" --progress 0
    local rc=$?
    cat "$dir.resume.err"
    check "the run stops with a clean non-zero exit (got $rc)" exited_cleanly "$rc"
    check "the message names epoch $epoch, step $step" \
        has_line "$dir.resume.err" "NaN or infinite at epoch $epoch, step $step \\(of [0-9]+\\)"
    check "the message names $name" has_line "$dir.resume.err" "first non-finite values: [^.]*$name"
    check "model.ckpt is still the last good one, byte for byte" \
        cmp -s "$dir/model.ckpt" "$dir.doctored.ckpt"
    check "metrics.csv is unchanged (no row for the failed epoch)" \
        cmp -s "$dir/metrics.csv" "$dir.metrics-before.csv"
}

case $case_name in
absurd_lr | no_checkpoint)
    dir=$work/lr
    run_gammacl "$dir" "${TRAIN[@]}" --lr 1e9 --seed 4 --progress 0 --out "$dir"
    rc=$?
    cat "$dir.err"
    if [ "$case_name" = absurd_lr ]; then
        check "--lr 1e9 stops with a clean non-zero exit (got $rc)" exited_cleanly "$rc"
        check "the message names epoch 1 and a step" \
            has_line "$dir.err" "NaN or infinite at epoch 1, step [1-8] \\(of 8\\)"
        check "the message names where the first non-finite values are" \
            has_line "$dir.err" "first non-finite values: (parameter|layer|gradient|output|cosines)"
        check "the message says what to do (lower --lr)" has_line "$dir.err" "Lower --lr"
        check "metrics.csv has no row" test "$(rows "$dir/metrics.csv")" -eq 0
        check "no checkpoint with non-finite weights was written" test ! -e "$dir/model.ckpt"
    else
        check "no checkpoint exists after a failed first epoch" test ! -e "$dir/model.ckpt"
        claims=$(grep -c 'model.ckpt still holds' "$dir.err")
        check "so the message does not claim that $dir/model.ckpt holds the last good epoch" \
            test "$claims" -eq 0
    fi
    ;;
later_epoch)
    dir=$work/later
    base_checkpoint "$dir"
    # constant lr 1e9 with weight decay 1: every step multiplies the weights by about -1e9, so
    # they overflow float32 within a few steps of epoch 2 on any device
    for kv in "lr 1e9" "wd 1" "lr-schedule step" "milestones 99"; do
        # shellcheck disable=SC2086
        "$ckpt_tool" set-meta "$dir/model.ckpt" $kv || fail_now "cannot edit the checkpoint"
    done
    cp "$dir/model.ckpt" "$dir.doctored.ckpt"
    run_gammacl "$dir.resume" train --resume "$dir" --device "$device" --progress 0
    rc=$?
    cat "$dir.resume.err"
    check "lr 1e9 from epoch 2 stops with a clean non-zero exit (got $rc)" exited_cleanly "$rc"
    check "the message names epoch 2 and a step" \
        has_line "$dir.resume.err" "NaN or infinite at epoch 2, step [1-8] \\(of 8\\)"
    check "the message names where the first non-finite values are" \
        has_line "$dir.resume.err" "first non-finite values: (parameter|layer|gradient|output|cosines)"
    check "the message points to the kept checkpoint" \
        has_line "$dir.resume.err" "$dir/model.ckpt still holds the last good epoch"
    check "model.ckpt is still epoch 1's, byte for byte" cmp -s "$dir/model.ckpt" "$dir.doctored.ckpt"
    check "metrics.csv keeps epoch 1's row and nothing else" test "$(rows "$dir/metrics.csv")" -eq 1
    ;;
poisoned_head)
    dir=$work/head
    base_checkpoint "$dir"
    "$ckpt_tool" poison "$dir/model.ckpt" head.w nan || fail_now "cannot edit the checkpoint"
    expect_stop "$dir" 2 1 head.w
    ;;
poisoned_hidden)
    dir=$work/conv3
    base_checkpoint "$dir"
    cp -r "$dir" "$work/bn2"
    cp "$dir.out" "$work/bn2.out"
    "$ckpt_tool" poison "$dir/model.ckpt" conv3.w nan || fail_now "cannot edit the checkpoint"
    echo "-- NaN in conv3.w"
    expect_stop "$dir" 2 1 conv3
    "$ckpt_tool" poison "$work/bn2/model.ckpt" bn2.beta inf || fail_now "cannot edit the checkpoint"
    echo "-- +Inf in bn2.beta"
    expect_stop "$work/bn2" 2 1 bn2
    ;;
*)
    echo "usage: $0 GAMMACL CKPT_TOOL absurd_lr|no_checkpoint|later_epoch|poisoned_head|poisoned_hidden" >&2
    exit 2
    ;;
esac
done_checks
