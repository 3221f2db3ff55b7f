#!/usr/bin/env bash
# tests/reliability/kill_points.sh — SIGKILL at chosen points of a run, then the continuation:
# it must end with the uninterrupted run's metrics.csv (every column but the wall-clock ones) and
# its final model.ckpt tensors, bit for bit. Each case makes its own uninterrupted reference with
# the same options (the TRAIN options of lib.sh plus the case's) and prints one line
#   kill point: CASE: resumed yes|no, bit-identical yes|no
# for tabulation.
#
#   before_first_step  killed as soon as "epoch 0/N ... (before training)" is on stdout: the
#                      evaluation before training is done, the first step has not finished and
#                      no checkpoint exists (the run is writing summary.json or in epoch 1's
#                      first steps). The continuation is the same command again (same --out, no
#                      --resume), which must be accepted.
#   mid_epoch          2048 training images of 32 steps per epoch: killed once epoch 1's line is
#                      out and its checkpoint renamed in place, half of epoch 1's training time
#                      later, so inside epoch 2's steps (epoch 2's row and histogram not written).
#                      Continued with `train --resume DIR`.
#   metrics_pass       a long feature-metrics pass (the metrics' training set is the whole
#                      512-image training set, and 2048 test images). run.c prints an epoch's line
#                      and its "metrics" lines together, after the pass (finish_epoch: statistics,
#                      metrics pass, histogram, metrics.csv row, then the lines, then the
#                      checkpoint), so no stdout line falls inside the pass. The last progress
#                      line of the epoch's steps does: "epoch 2/3  batch 8/8" on stderr is printed
#                      once the last step's loss has been read back, and the metrics pass follows
#                      at once. This case therefore runs with --progress 1 (the reference too;
#                      progress only reads values back) and kills a third of epoch 1's pass time
#                      after that line, checking afterwards that epoch 2's histogram (written at
#                      the end of the pass) and its row are missing: the kill hit the pass.
#   checkpoint_write   a kill inside the checkpoint write cannot be timed from a shell, so its
#                      leftovers are simulated. A 2-epoch run is killed right after epoch 1's
#                      checkpoint is renamed in place (its state: checkpoint of epoch 1, rows 0-1).
#                      That folder and a copy of it are continued with --resume:
#                        renamed   as it is: killed just after the rename of the new checkpoint;
#                        temporary as killed while epoch 2's checkpoint was being written: a
#                                  half-written model.ckpt.tmp.99999 (the first half of
#                                  model.ckpt) and epoch 2's metrics.csv row, which finish_epoch
#                                  writes before the checkpoint (taken from the reference, whose
#                                  rows differ only in wall time).
#                      Both must match, and no temporary may be left.
# In every case a temporary file left after the continuation fails (the killed run's
# model.ckpt.tmp.PID, summary.json.tmp.PID, ...: the continuation removes them under its lock).
# Usage: kill_points.sh GAMMACL CKPT_TOOL CASE
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
case_name=${3:-}

# ref_run DIR ROWS ARGS...: the uninterrupted run with ARGS, which must end with ROWS epoch rows.
ref_run() {
    local dir=$1 want=$2 rc
    shift 2
    run_gammacl "$dir" "$@" --out "$dir"
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$dir.err"; fail_now "the uninterrupted run exited $rc"; }
    [ "$(rows "$dir/metrics.csv")" -eq "$want" ] ||
        fail_now "the uninterrupted run wrote $(rows "$dir/metrics.csv") rows, not $want"
}

# start_run DIR ARGS...: gammacl itself in the background (so the SIGKILL reaches the training
# process), --out DIR, logs DIR.out and DIR.err; its pid in $pid.
start_run() {
    local dir=$1
    shift
    "$gammacl" "$@" --out "$dir" > "$dir.out" 2> "$dir.err" &
    pid=$!
}

# kill_run WHAT: SIGKILL to $pid, then checks that it died of it (status 137).
kill_run() {
    kill -KILL "$pid" 2>/dev/null
    local rc
    { wait "$pid"; rc=$?; } 2>/dev/null
    check "$1: the run died of SIGKILL (status $rc)" test "$rc" -eq 137
}

# wait_for_ckpt_epoch PID FILE E: waits until checkpoint FILE records E finished epochs; 1 when
# the process ends first or the time limit passes.
wait_for_ckpt_epoch() {
    local pid=$1 file=$2 want=$3 deadline=$((SECONDS + limit))
    until [ "$(ckpt_epoch "$file")" = "$want" ]; do
        kill -0 "$pid" 2>/dev/null || { [ "$(ckpt_epoch "$file")" = "$want" ]; return; }
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.02
    done
}

# csv_value FILE EPOCH COLUMN: the value of COLUMN in the row of EPOCH of a metrics.csv.
csv_value() {
    awk -F, -v e="$2" -v col="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        c && $1 == e { v = $c } END { print v }' "$1"
}

# train_seconds FILE EPOCH IMAGES: the time the epoch's steps took (IMAGES / img_per_s).
train_seconds() { awk -v n="$3" -v r="$(csv_value "$1" "$2" img_per_s)" 'BEGIN { print (r > 0 ? n / r : 0) }'; }

# continue_run LABEL DIR REF LOG HOW ARGS...: continues the killed run in DIR, HOW = resume
# (`train --resume DIR --device D ARGS`) or rerun (ARGS --out DIR, the original command), and
# checks it against REF. Appends yes/no to $resumed and $identical.
continue_run() {
    local label=$1 dir=$2 ref=$3 log=$4 how=$5 rc f0
    shift 5
    if [ "$how" = resume ]; then
        run_gammacl "$log" train --resume "$dir" --device "$device" "$@"
    else
        run_gammacl "$log" "$@" --out "$dir"
    fi
    rc=$?
    f0=$failures
    check "$label: the continuation ($how) exits 0 (got $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || cat "$log.err"
    if [ "$how" = resume ]; then
        check "$label: it says it resumed" has_line "$log.out" '\(resumed\)'
    else
        check "$label: it starts afresh (not resumed)" not_resumed "$log.out"
    fi
    resumed+=" $([ "$failures" -eq "$f0" ] && echo yes || echo no)"
    f0=$failures
    check "$label: metrics.csv equals the uninterrupted run's, every column but $WALL_CLOCK" \
        same_metrics "$ref/metrics.csv" "$dir/metrics.csv"
    check "$label: the final tensors equal the uninterrupted run's, bit for bit" \
        "$ckpt_tool" tensors-equal "$ref/model.ckpt" "$dir/model.ckpt"
    identical+=" $([ "$failures" -eq "$f0" ] && echo yes || echo no)"
    check "$label: no temporary file (*.tmp.*) is left in the run folder or hist/" no_temps "$dir"
}
# shellcheck disable=SC2317  # called through check
no_temps() { ! compgen -G "$1/*.tmp.*" > /dev/null && ! compgen -G "$1/hist/*.tmp*" > /dev/null; }

# shellcheck disable=SC2317  # called through check
not_resumed() { ! has_line "$1" '\(resumed\)'; }

# report: the tabulation line; yes only when every continuation of the case was.
report() {
    local r=yes i=yes
    case " $resumed " in *" no "* | "  ") r=no ;; esac
    case " $identical " in *" no "* | "  ") i=no ;; esac
    echo "kill point: $case_name: resumed $r, bit-identical $i"
}

resumed=""
identical=""
ref=$work/ref
run=$work/killed

case_before_first_step() {
    local opts=("${TRAIN[@]}" --seed 5 --progress 0)
    ref_run "$ref" 3 "${opts[@]}"
    start_run "$run" "${opts[@]}"
    wait_for_line "$pid" "$run.out" '^epoch 0/3 .*\(before training\)' ||
        { cat "$run.err"; fail_now "the run never printed its evaluation before training"; }
    kill_run "before the first step"
    [ ! -e "$run/model.ckpt" ] || fail_now "the kill came too late: a checkpoint exists"
    check "the killed run left no epoch row (rows: $(rows "$run/metrics.csv"))" \
        test "$(rows "$run/metrics.csv")" -eq 0
    continue_run "before the first step" "$run" "$ref" "$run.again" rerun "${opts[@]}"
}

case_mid_epoch() {
    local opts=("${TRAIN[@]}" --train-limit 2048 --metrics-train-limit 512 --seed 3 --progress 0)
    ref_run "$ref" 3 "${opts[@]}"
    start_run "$run" "${opts[@]}"
    wait_for_line "$pid" "$run.out" '^epoch 1/3 ' ||
        { cat "$run.err"; fail_now "the run never finished epoch 1"; }
    wait_for_ckpt_epoch "$pid" "$run/model.ckpt" 1 ||
        { cat "$run.err"; fail_now "epoch 1's checkpoint never appeared"; }
    local half
    half=$(awk -v t="$(train_seconds "$run/metrics.csv" 1 2048)" 'BEGIN { printf "%.2f", t / 2 }')
    sleep "$half"
    kill_run "mid epoch ($half s into epoch 2)"
    check "it was killed inside epoch 2 (rows: $(rows "$run/metrics.csv"), expected 1)" \
        test "$(rows "$run/metrics.csv")" -eq 1
    check "epoch 2's metrics pass had not finished (no hist/epoch_002.png)" test ! -e "$run/hist/epoch_002.png"
    check "the checkpoint holds the end of epoch 1 (epoch $(ckpt_epoch "$run/model.ckpt"), step $(ckpt_step "$run/model.ckpt"))" \
        test "$(ckpt_epoch "$run/model.ckpt") $(ckpt_step "$run/model.ckpt")" = "1 32"
    continue_run "mid epoch" "$run" "$ref" "$run.resume" resume --progress 0
}

case_metrics_pass() {
    local opts=("${TRAIN[@]}" --metrics-train-limit 512 --test-limit 2048 --seed 4 --progress 1)
    ref_run "$ref" 3 "${opts[@]}"
    start_run "$run" "${opts[@]}"
    wait_for_line "$pid" "$run.err" '^epoch 2/3 +batch 8/8 ' ||
        { cat "$run.err"; fail_now "the run never finished epoch 2's steps"; }
    # epoch 1's metrics pass: its time minus the steps' (the row is written before epoch 2)
    local pass delay
    pass=$(awk -v s="$(csv_value "$run/metrics.csv" 1 seconds)" -v t="$(train_seconds "$run/metrics.csv" 1 512)" \
        'BEGIN { printf "%.2f", (s - t > 0 ? s - t : 0) }')
    delay=$(awk -v p="$pass" 'BEGIN { printf "%.2f", p / 3 }')
    sleep "$delay"
    kill_run "metrics pass ($delay s into a pass of about $pass s)"
    check "the kill hit epoch 2's metrics pass: no hist/epoch_002.png yet" test ! -e "$run/hist/epoch_002.png"
    check "and no epoch-2 row (rows: $(rows "$run/metrics.csv"), expected 1)" test "$(rows "$run/metrics.csv")" -eq 1
    check "the checkpoint left behind holds epoch 1" test "$(ckpt_epoch "$run/model.ckpt")" = 1
    continue_run "metrics pass" "$run" "$ref" "$run.resume" resume --progress 1
}

case_checkpoint_write() {
    local opts=("${TRAIN[@]}" --epochs 2 --seed 6 --progress 0)
    ref_run "$ref" 2 "${opts[@]}"
    start_run "$run" "${opts[@]}"
    wait_for_line "$pid" "$run.out" '^epoch 1/2 ' || { cat "$run.err"; fail_now "the run never finished epoch 1"; }
    wait_for_ckpt_epoch "$pid" "$run/model.ckpt" 1 || { cat "$run.err"; fail_now "epoch 1's checkpoint never appeared"; }
    kill_run "after the rename of epoch 1's checkpoint"
    { [ "$(ckpt_epoch "$run/model.ckpt")" = 1 ] && [ "$(rows "$run/metrics.csv")" -eq 1 ]; } ||
        fail_now "the kill came too late: checkpoint epoch $(ckpt_epoch "$run/model.ckpt"), $(rows "$run/metrics.csv") rows"

    local tmp=$work/tmpfile size
    cp -a "$run" "$tmp"
    size=$(stat -c %s "$tmp/model.ckpt")
    head -c "$((size / 2))" "$tmp/model.ckpt" > "$tmp/model.ckpt.tmp.99999"
    head -c 100 "$tmp/summary.json" > "$tmp/summary.json.tmp.99998"   # other atomic writers' leftovers
    head -c 100 "$tmp/metrics.csv" > "$tmp/metrics.csv.tmp.99997"
    grep '^2,' "$ref/metrics.csv" >> "$tmp/metrics.csv"
    check "the simulated write: a half-written temporary ($((size / 2)) of $size bytes)" \
        test "$(stat -c %s "$tmp/model.ckpt.tmp.99999")" -eq "$((size / 2))"
    check "the simulated write: epoch 2's row is in metrics.csv (rows: $(rows "$tmp/metrics.csv"))" \
        test "$(rows "$tmp/metrics.csv")" -eq 2

    continue_run "killed after the rename" "$run" "$ref" "$run.resume" resume --progress 0
    continue_run "killed during the write" "$tmp" "$ref" "$tmp.resume" resume --progress 0
}

case "$case_name" in
before_first_step) case_before_first_step ;;
mid_epoch) case_mid_epoch ;;
metrics_pass) case_metrics_pass ;;
checkpoint_write) case_checkpoint_write ;;
*) echo "usage: $0 GAMMACL CKPT_TOOL before_first_step|mid_epoch|metrics_pass|checkpoint_write" >&2; exit 2 ;;
esac
report
done_checks
