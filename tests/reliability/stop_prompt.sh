#!/usr/bin/env bash
# tests/reliability/stop_prompt.sh — a stop request is served within a step or two, not after all
# the work the host has already queued. With --progress 0 nothing else makes the host wait for the
# device, so without a bound it queues a whole epoch ahead. SIGTERM 1.5 s into training (the host
# has long queued the rest of the epoch by then) must end the run within 3 s although an epoch
# (64 steps of batch 128) takes ~8 s on PoCL. 50 epochs, so that a fast GPU is still training.
#
#   stop_prompt.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

run=$work/prompt
"$gammacl" train --data fashion-mnist --train-limit 8192 --test-limit 256 --batch 128 --epochs 50 \
    --metrics-every 0 --progress 0 --device "$device" --out "$run" > "$run.out" 2> "$run.err" &
pid=$!
wait_for_file "$pid" "$run/metrics.csv" || fail_now "the run never created metrics.csv"
sleep 1.5
t0=$(date +%s%N)
kill -TERM "$pid"
deadline=$((SECONDS + limit))
while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.01; done
ms=$((($(date +%s%N) - t0) / 1000000))
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
check "SIGTERM: exit status 143 (got $rc)" test "$rc" -eq 143
check "SIGTERM: the run stopped within 3 s of the signal (took $ms ms)" test "$ms" -lt 3000
check "SIGTERM: the message names the signal and how to resume" \
    has_line "$run.err" "stopped by SIGTERM after epoch [0-9]+(, step [0-9]+)?; checkpoint written\. Continue with: gammacl train --resume $run"
done_checks
