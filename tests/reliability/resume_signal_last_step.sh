#!/usr/bin/env bash
# tests/reliability/resume_signal_last_step.sh — a SIGINT that arrives during the last step of an
# epoch must also leave a run that --resume can continue to the uninterrupted run's metrics.csv
# (every column but the wall-clock ones, bit for bit).
#
# With 64 training images and --batch 64 every epoch is one step, so the signal (sent once the run
# has created metrics.csv) is always taken after an epoch's last step: the case a Ctrl-C hits
# with probability 1/steps in any run.
# OPENBLAS_NUM_THREADS=1 keeps OpenBLAS from starting a worker thread that would receive the
# signal before gammacl does (the bug sigint_resume shows), so this test fails only for the
# reason it is named after.
# Usage: resume_signal_last_step.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
export OPENBLAS_NUM_THREADS=1

RUN=(--train-limit 64 --seed 5 --progress 0)
ref=$work/ref
reference_run "$ref" "${RUN[@]}"

run=$work/int
"$gammacl" "${TRAIN[@]}" "${RUN[@]}" --out "$run" > "$run.out" 2> "$run.err" &
pid=$!
wait_for_file "$pid" "$run/metrics.csv" || fail_now "the run never created metrics.csv"
kill -INT "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
check "SIGINT: exit status 130 (got $rc; the shell also says 130 when the signal killed it)" test "$rc" -eq 130
check "SIGINT: the message says how to resume" has_line "$run.err" "gammacl train --resume $run"

resume_matches "stop at an epoch's last step + resume" "$run" "$ref" "$run.r1" 0
done_checks
