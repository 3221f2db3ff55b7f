#!/usr/bin/env bash
# tests/reliability/second_signal.sh — a stop request says at once that it was heard, and a second
# one quits without waiting for the step (a hung or very slow device):
#   - a run hung in a launch (GAMMACL_FAULT=hang:N, after its first checkpoint: N = 1800 falls in
#     epoch 2 with the CPU kernels of PoCL's row; HANG_AT sets another) gets SIGINT: it says it
#     stops after this step and keeps waiting; a second SIGINT two seconds later ends it at once
#     (exit 130) saying so; the checkpoint stays as it was, and --resume ends with the
#     uninterrupted run's metrics.csv (every column but the wall-clock ones) and final tensors;
#   - a second signal within a second of the first (a terminal's Ctrl-C that a sweep passes on
#     as well; sent once the run has said it heard the first) counts as the same one: the run
#     stops after its step with a checkpoint, as for one.
#
#   second_signal.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

RUN=(--seed 3 --progress 1)
ref=$work/ref
reference_run "$ref" "${RUN[@]}"

# ---- hung in epoch 2: the first SIGINT is heard, the second quits ----
run=$work/hung
GAMMACL_FAULT=hang:${HANG_AT:-1800} "$gammacl" "${TRAIN[@]}" "${RUN[@]}" --out "$run" > "$run.out" 2> "$run.err" &
pid=$!
wait_for_line "$pid" "$run.err" '^GAMMACL_FAULT: launch [0-9]+ .* hangs' ||
    { cat "$run.err"; fail_now "the run never reached the hanging launch"; }
kept=$(ckpt_epoch "$run/model.ckpt")
[ -n "$kept" ] && [ "$kept" -ge 1 ] || fail_now "the hang came before the first checkpoint: raise HANG_AT"
kill -INT "$pid"
sleep 2
check "the first SIGINT is heard at once" has_line "$run.err" '^gammacl train: SIGINT: stopping after this step, with a checkpoint'
check "and the hung run keeps waiting for its step" kill -0 "$pid"
kill -INT "$pid"
deadline=$((SECONDS + 10))
while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
{ wait "$pid"; rc=$?; } 2>/dev/null
check "the second SIGINT ends it at once: exit 130 (got $rc)" test "$rc" -eq 130
check "saying so and how to continue" \
    has_line "$run.err" "^gammacl train: stopped at once by a second signal, without finishing the step; the last checkpoint written \(if any\) is kept: continue with gammacl train --resume $run\$"
check "the checkpoint of epoch $kept stays" test "$(ckpt_epoch "$run/model.ckpt")" = "$kept"
resume_matches "quit at once + resume" "$run" "$ref" "$run.r1" 0
check "no checkpoint temporary is left in the run folder" no_temp_files "$run"

# ---- a second signal within a second of the first: the same stop request ----
run=$work/twice
"$gammacl" "${TRAIN[@]}" "${RUN[@]}" --out "$run" > "$run.out" 2> "$run.err" &
pid=$!
wait_for_line "$pid" "$run.err" '^epoch 2/3 +batch [2-7]/8' ||
    { cat "$run.err"; fail_now "the second run never reached the middle of epoch 2"; }
kill -INT "$pid"
wait_for_line "$pid" "$run.err" '^gammacl train: SIGINT: stopping after this step'
kill -INT "$pid" 2>/dev/null
deadline=$((SECONDS + limit))
while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
{ wait "$pid"; rc=$?; } 2>/dev/null
check "two SIGINTs at once: exit 130 (got $rc)" test "$rc" -eq 130
check "they stop it after its step with a checkpoint, as one does" \
    has_line "$run.err" "stopped by SIGINT after epoch [23](, step [0-9]+)?; checkpoint written\. Continue with: gammacl train --resume $run"
check "not at once" bash -c "! grep -q 'stopped at once' '$run.err'"
resume_matches "two signals at once + resume" "$run" "$ref" "$run.r1" 0
done_checks
