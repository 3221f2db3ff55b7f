#!/usr/bin/env bash
# tests/reliability/resume_kill.sh — crash safety: a run killed with SIGKILL in the middle of its
# second epoch (no chance to clean up) resumes from the checkpoint of its first epoch and ends with
# the same metrics.csv as an uninterrupted run — every column bit for bit (exact string equality)
# except the wall-clock ones (seconds, img_per_s, *_seconds) — and the same final weights, bit
# for bit.
#
# The kill is timed by the progress lines on stderr ("epoch 2/3  batch 2/8"), so it always lands
# inside epoch 2's steps; both runs show progress, so they do the same work.
# Usage: resume_kill.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

ref=$work/ref
reference_run "$ref" --seed 7 --progress 1

run=$work/killed
"$gammacl" "${TRAIN[@]}" --seed 7 --progress 1 --out "$run" > "$run.out" 2> "$run.err" &
pid=$!   # gammacl itself (not a wrapper), so the SIGKILL reaches the training process
if ! wait_for_line "$pid" "$run.err" '^epoch 2/3 +batch [2-7]/8'; then
    cat "$run.err"
    fail_now "the run never reached the middle of epoch 2"
fi
kill -KILL "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
check "the run died of SIGKILL (status $rc)" test "$rc" -eq 137
check "it was killed inside epoch 2 (metrics.csv rows: $(rows "$run/metrics.csv"), expected 1)" \
    test "$(rows "$run/metrics.csv")" -eq 1
check "the checkpoint left behind is readable and holds epoch 1" \
    test "$(ckpt_epoch "$run/model.ckpt")" = 1

resume_matches "SIGKILL + resume" "$run" "$ref" "$work/resume" 1
check "the resumed run says it resumed" has_line "$work/resume.out" '\(resumed\)'
check "no checkpoint temporary is left in the run folder" no_temp_files "$run"
done_checks
