#!/usr/bin/env bash
# tests/reliability/closed_output.sh — a reader of the output that goes away must not kill a run:
# `gammacl train ... 2>&1 | true` (the pipe is closed before the first line, as by `| head` or a
# `| tee` that ends) trains to the end, exits 0 and writes every epoch's row and its checkpoint;
# a sweep whose output pipe is closed finishes its cells too.
#
#   closed_output.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

run=$work/piped
timeout -k 10 "$limit" "$gammacl" "${TRAIN[@]}" --progress 1 --out "$run" 2>&1 | true
rc=${PIPESTATUS[0]}
check "train with its output pipe closed: exit 0 (got $rc)" test "$rc" -eq 0
check "every epoch's row is written ($(rows "$run/metrics.csv") of 3)" test "$(rows "$run/metrics.csv")" -eq 3
check "the checkpoint holds the last epoch" test "$(ckpt_epoch "$run/model.ckpt")" = 3

sweep=$work/sweep
timeout -k 10 "$limit" "$gammacl" sweep --devices "$device" --epochs 1 --train-limit 256 --test-limit 128 \
    --metrics-train-limit 128 --batch 64 --gammas 4 --losses ce --no-eval --out "$sweep" 2>&1 | true
rc=${PIPESTATUS[0]}
check "a sweep with its output pipe closed: exit 0 (got $rc)" test "$rc" -eq 0
check "its cell finished" grep -q '^ce-g4-s1,done,' "$sweep/sweep.csv"
done_checks
