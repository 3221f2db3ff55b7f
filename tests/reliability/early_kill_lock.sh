#!/usr/bin/env bash
# tests/reliability/early_kill_lock.sh — a run killed before its first epoch ended, and folders in
# use by another process.
#   early_kill  SIGKILL after the evaluation before training, before any checkpoint: --resume
#               explains that nothing finished and to start again (no circle), and the same
#               command, run again, is accepted and reproduces the uninterrupted run's
#               metrics.csv (but wall time)
#   lock        a second `gammacl train` on a run folder in use, and a second `gammacl sweep` on a
#               sweep folder in use, are refused with exit 2 naming the process holding it; once
#               the holder is killed (SIGKILL), the folder is usable at once
# Usage: early_kill_lock.sh GAMMACL CKPT_TOOL CASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case_name=${3:-}
LONG=("${TRAIN[@]}" --train-limit 4096 --epochs 2 --progress 0)

case_early_kill() {
    local ref=$work/ref dir=$work/run
    run_gammacl "$ref" "${LONG[@]}" --out "$ref" || { cat "$ref.err"; fail_now "the reference run failed"; }
    "$gammacl" "${LONG[@]}" --out "$dir" > "$dir.first.out" 2>&1 &
    local pid=$!
    wait_for_line "$pid" "$dir.first.out" "before training" || fail_now "the run never got past its evaluation before training"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    [ ! -f "$dir/model.ckpt" ] || fail_now "the kill came too late: a checkpoint exists"
    check "the killed run left its epoch-0 row" [ -f "$dir/metrics.csv" ]
    run_gammacl "$dir.resume" train --resume "$dir" --device "$device" --progress 0
    local rc=$?
    check "--resume with nothing finished exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "--resume says to start again without --resume" grep -q "start the run again with the same command" "$dir.resume.err"
    run_gammacl "$dir.again" "${LONG[@]}" --out "$dir"
    rc=$?
    check "the same command again is accepted ($rc)" [ "$rc" -eq 0 ]
    check "and reproduces the uninterrupted run" same_metrics "$ref/metrics.csv" "$dir/metrics.csv"
}

case_lock() {
    local dir=$work/run
    "$gammacl" "${LONG[@]}" --out "$dir" > "$dir.first.out" 2>&1 &
    local pid=$!
    wait_for_line "$pid" "$dir.first.out" "before training" || fail_now "the run never got past its evaluation before training"
    run_gammacl "$dir.second" "${LONG[@]}" --out "$dir" --seed 9
    local rc=$?
    check "a second train on a folder in use exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message names the holder's pid" grep -q "in use by another process (pid $pid, gammacl train)" "$dir.second.err"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    run_gammacl "$dir.third" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$dir"
    rc=$?
    check "after the holder died the folder is usable ($rc)" [ "$rc" -eq 0 ]

    local sw=$work/sweep
    "$gammacl" sweep --out "$sw" --devices "$device" --gammas 1 --losses ce --epochs 2 \
        --train-limit 4096 --test-limit 128 > "$sw.first.out" 2>&1 &
    pid=$!
    wait_for_line "$pid" "$sw.first.out" "start ce-g1-s1" || fail_now "the sweep never started its cell"
    run_gammacl "$sw.second" sweep --out "$sw"
    rc=$?
    check "a second sweep on a folder in use exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "the message names the sweep's pid" grep -q "in use by another process (pid $pid, gammacl sweep)" "$sw.second.err"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
}

case "$case_name" in
early_kill) case_early_kill ;;
lock) case_lock ;;
*) fail_now "unknown case '$case_name'" ;;
esac
done_checks
