#!/usr/bin/env bash
# tests/reliability/resume_signal.sh — SIGINT and SIGTERM: the run finishes its step, writes a
# checkpoint holding the unfinished epoch's statistics, exits 130 (143) and says how to resume;
# resuming (twice in a row for SIGINT: stopped in epoch 1, then again in epoch 2) ends with the
# metrics.csv of an uninterrupted run — every column bit for bit (exact string equality) except
# the wall-clock ones (seconds, img_per_s, *_seconds) — and the same final weights.
#
# A BCE run with a step schedule, so the learned bias, its momentum and the milestone logic
# cross the checkpoint too. Signals are sent once the run has created metrics.csv (it has set up
# its signal handling before that), or at a progress line in the middle of epoch 2.
#
#   resume_signal.sh GAMMACL CKPT_TOOL int|term
#   int   SIGINT after the first step of epoch 1, resume, SIGINT again in epoch 2, resume
#   term  SIGTERM in the middle of epoch 2, resume
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case_name=${3:-}
case $case_name in
    int | term) ;;
    *) echo "usage: $0 GAMMACL CKPT_TOOL int|term" >&2; exit 2 ;;
esac

RUN=(--seed 11 --loss bce --bias-init theory --lr-schedule step --milestones 2 --lr-decay 0.5
     --progress 1)
ref=$work/ref
reference_run "$ref" "${RUN[@]}"

# start_run DIR ARGS...: gammacl in the background (its own pid in $pid), logs DIR.out/.err
start_run() {
    local dir=$1
    shift
    "$gammacl" "$@" > "$dir.out" 2> "$dir.err" &
    pid=$!
}

# stop_run SIGNAL LOG: sends the signal, waits for the exit; the status goes to $rc
stop_run() {
    kill "-$1" "$pid"
    local deadline=$((SECONDS + limit))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        echo "FAIL: the run did not stop within ${limit}s of SIG$1"
        failures=$((failures + 1))
    fi
    { wait "$pid"; rc=$?; } 2>/dev/null
}

if [ "$case_name" = int ]; then
# ---- SIGINT right at the start: stops after the first step of epoch 1 ----
run=$work/int
start_run "$run" "${TRAIN[@]}" "${RUN[@]}" --out "$run"
wait_for_file "$pid" "$run/metrics.csv" || fail_now "the run never created metrics.csv"
stop_run INT "$run"
check "SIGINT: exit status 130 (got $rc; the shell also says 130 when the signal killed it)" test "$rc" -eq 130
check "SIGINT: the message says how to resume" \
    has_line "$run.err" "stopped by SIGINT after epoch 1, step 1; checkpoint written\. Continue with: gammacl train --resume $run"
check "SIGINT: the checkpoint holds epoch 0, step 1" \
    test "$(ckpt_epoch "$run/model.ckpt") $(ckpt_step "$run/model.ckpt")" = "0 1"
check "SIGINT: the checkpoint keeps the unfinished epoch's statistics" \
    ckpt_has_tensor "$run/model.ckpt" run.epoch_stats 4

# resume, and interrupt again in the middle of epoch 2
start_run "$run.r1" train --resume "$run" --device "$device" --progress 1
wait_for_line "$pid" "$run.r1.err" '^epoch 2/3 +batch [2-7]/8' ||
    { cat "$run.r1.err"; fail_now "the resumed run never reached the middle of epoch 2"; }
stop_run INT "$run.r1"
check "SIGINT again, after resuming: exit status 130 (got $rc)" test "$rc" -eq 130
check "SIGINT again: the checkpoint is in epoch 2 (completed epochs: $(ckpt_epoch "$run/model.ckpt"))" \
    test "$(ckpt_epoch "$run/model.ckpt")" = 1
check "SIGINT again: metrics.csv keeps epoch 1's row" test "$(rows "$run/metrics.csv")" -eq 1

resume_matches "SIGINT twice, second resume" "$run" "$ref" "$run.r2" 1

else
# ---- SIGTERM in the middle of epoch 2 ----
# (on a fast GPU, epoch 2's eight steps can all be done when the signal lands: the run then stops
# at the end of epoch 2, or of epoch 3, and says so without a step number)
run=$work/term
start_run "$run" "${TRAIN[@]}" "${RUN[@]}" --out "$run"
wait_for_line "$pid" "$run.err" '^epoch 2/3 +batch [2-7]/8' ||
    { cat "$run.err"; fail_now "the run never reached the middle of epoch 2"; }
stop_run TERM "$run"
check "SIGTERM: exit status 143 (got $rc; the shell also says 143 when the signal killed it)" test "$rc" -eq 143
check "SIGTERM: the message names the signal and how to resume" \
    has_line "$run.err" "stopped by SIGTERM after epoch [23](, step [0-9]+)?; checkpoint written\. Continue with: gammacl train --resume $run"
resume_matches "SIGTERM + resume" "$run" "$ref" "$run.r1" 1
fi
check "no checkpoint temporary is left in the run folder" no_temp_files "$run"
done_checks
