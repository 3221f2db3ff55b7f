#!/usr/bin/env bash
# tests/reliability/resume_kill.sh — crash safety: a run killed with SIGKILL in the middle of its
# second epoch (no chance to clean up) resumes from the checkpoint of its first epoch and ends with
# the same metrics.csv as an uninterrupted run — every column bit for bit (exact string equality)
# except the wall-clock ones (seconds, img_per_s, *_seconds) — and the same final weights, bit
# for bit.
#
# A copy of the killed run whose metrics.csv has an older version's header (this one less its
# last column, test_flip_prev) resumes too: the header is upgraded, the kept rows gain an empty
# cell, and every other cell equals the uninterrupted run's.
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

old=$work/older
cp -r "$run" "$old"
awk -F, -v OFS=, '{ NF = NF - 1 } 1' "$run/metrics.csv" > "$old/metrics.csv"
resume_matches "SIGKILL + resume" "$run" "$ref" "$work/resume" 1

run_gammacl "$work/older-resume" train --resume "$old" --device "$device" --progress 0
rc=$?
check "an older version's metrics.csv: resume exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$work/older-resume.err"
# the uninterrupted run's rows, the last cell of those the older file kept (epochs 0 and 1) empty
awk -F, -v OFS=, 'NR > 1 && $1 + 0 <= 1 { $NF = "" } 1' "$ref/metrics.csv" > "$work/older-expected.csv"
check "an older version's metrics.csv: the new header, kept rows with an empty test_flip_prev" \
    same_metrics "$work/older-expected.csv" "$old/metrics.csv"
check "an older version's metrics.csv: the final tensors equal the uninterrupted run's" \
    "$ckpt_tool" tensors-equal "$ref/model.ckpt" "$old/model.ckpt"
check "the resumed run says it resumed" has_line "$work/resume.out" '\(resumed\)'
check "no checkpoint temporary is left in the run folder" no_temp_files "$run"
done_checks
