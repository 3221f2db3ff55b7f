# shellcheck shell=bash
# tests/reliability/lib.sh — shared by the reliability test scripts (sourced, not run).
#
# Each script is called by meson as: SCRIPT GAMMACL CKPT_TOOL. It gets a scratch folder ($work,
# removed on success, kept and printed on failure), a small fixed training run ($TRAIN: 512
# Fashion-MNIST images, 3 epochs of 8 steps, on PoCL unless GAMMACL_DEVICE names a device),
# checks that count failures, and a comparison of metrics.csv files that ignores only the
# wall-clock columns. Every gammacl call runs under a timeout, so a hang is a failure, not a
# stuck test.

set -u
# Job control: background runs then keep SIGINT at its default disposition, as a run started from
# a terminal does (without it, bash starts them with SIGINT ignored).
set -m

if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "usage: $0 GAMMACL CKPT_TOOL" >&2
    exit 2
fi
gammacl=$(realpath "$1")
ckpt_tool=$(realpath "$2")
device=${GAMMACL_DEVICE:-pocl}
limit=${RELIABILITY_TIMEOUT:-120}      # seconds any one gammacl run may take
failures=0
checks=0

work=$(mktemp -d "${TMPDIR:-/tmp}/gammacl-reliability.XXXXXX")
finish() {
    local rc=$?
    # stop anything still running in the background (only the processes this script started)
    for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null; done
    if [ "$failures" -eq 0 ] && [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "kept for inspection: $work"; fi
}
trap finish EXIT

TRAIN=(train --data fashion-mnist --train-limit 512 --test-limit 256 --batch 64 --epochs 3
       --device "$device")

# check DESCRIPTION COMMAND...: runs the command; counts a failure (and says so) when it fails.
check() {
    local what=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        failures=$((failures + 1))
    fi
}

# fail_now MESSAGE: a precondition broke; nothing after it can be checked.
fail_now() {
    echo "FAIL: $1"
    failures=$((failures + 1))
    exit 1
}

# done_checks: the last line of every script; exit 1 when any check failed.
done_checks() {
    echo "$((checks - failures)) of $checks checks passed"
    [ "$failures" -eq 0 ]
    exit $?
}

# run_gammacl LOG ARGS...: runs gammacl in the foreground under the timeout, stdout and stderr to
# LOG.out and LOG.err; returns its exit status (124 or 137 when it had to be killed).
run_gammacl() {
    local log=$1
    shift
    timeout -k 10 "$limit" "$gammacl" "$@" > "$log.out" 2> "$log.err"
}

# resume_matches LABEL DIR REF LOG PROGRESS: resumes the stopped run in DIR (output to LOG.out and
# LOG.err, --progress PROGRESS) and checks that it exits 0 and ends with REF's metrics.csv (every
# column but the wall-clock ones), REF's class_acc.csv and REF's final tensors, bit for bit.
resume_matches() {
    local label=$1 dir=$2 ref=$3 log=$4 progress=$5 rc
    run_gammacl "$log" train --resume "$dir" --device "$device" --progress "$progress"
    rc=$?
    check "$label: resume exits 0 (got $rc)" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || cat "$log.err"
    check "$label: metrics.csv equals the uninterrupted run's, every column but $WALL_CLOCK" \
        same_metrics "$ref/metrics.csv" "$dir/metrics.csv"
    check "$label: class_acc.csv (per-class test accuracy) equals the uninterrupted run's" \
        same_metrics "$ref/class_acc.csv" "$dir/class_acc.csv"
    check "$label: the final tensors equal the uninterrupted run's, bit for bit" \
        "$ckpt_tool" tensors-equal "$ref/model.ckpt" "$dir/model.ckpt"
}

# wait_for_line PID FILE PATTERN: waits until FILE has a line matching PATTERN; 1 when process PID
# ends first or the time limit passes.
wait_for_line() {
    local pid=$1 file=$2 pattern=$3 deadline=$((SECONDS + limit))
    until has_line "$file" "$pattern"; do
        kill -0 "$pid" 2>/dev/null || { has_line "$file" "$pattern"; return; }
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.02
    done
}

# wait_for_file PID FILE: waits until FILE exists; 1 when process PID ends first or time is up.
wait_for_file() {
    local pid=$1 file=$2 deadline=$((SECONDS + limit))
    until [ -e "$file" ]; do
        kill -0 "$pid" 2>/dev/null || { [ -e "$file" ]; return; }
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.02
    done
}

# has_line FILE PATTERN: FILE exists and a line matches the extended regular expression.
has_line() { [ -f "$1" ] && grep -Eq -- "$2" "$1"; }

# refused WHAT PATTERN ARGS...: `gammacl ARGS` (output to $work/bad.out and $work/bad.err) must
# exit 2 with a message matching the extended regular expression PATTERN (shown when it does not).
refused() {
    local what=$1 pattern=$2 rc
    shift 2
    run_gammacl "$work/bad" "$@"
    rc=$?
    check "$what: exit 2 (got $rc)" test "$rc" -eq 2
    check "$what: message" grep -Eq -- "$pattern" "$work/bad.err"
    if [ "$rc" -ne 2 ] || ! grep -Eq -- "$pattern" "$work/bad.err"; then cat "$work/bad.err"; fi
}

# rows FILE: the number of finished training epochs in a metrics.csv: complete rows whose epoch
# is 1 or more (the header, a row for the state before training (epoch 0) and torn lines are
# not counted).
rows() {
    [ -f "$1" ] || { echo 0; return; }
    awk -F, 'NR > 1 && $1 + 0 >= 1 { n++ } END { print n + 0 }' "$1"
}

# The wall-clock columns of metrics.csv, the only ones same_metrics does not compare.
export WALL_CLOCK="seconds, img_per_s and *_seconds"

# same_metrics REF GOT: every column of every row equal as a string, except the wall-clock ones
# (seconds, img_per_s and any *_seconds), which can never repeat between two runs. The header
# and the number of rows must match exactly. Prints the first difference.
same_metrics() {
    awk -F, '
        FNR == 1 && NR == 1 { header = $0; for (i = 1; i <= NF; i++) name[i] = $i; ncol = NF; next }
        FNR == 1 { ngot = 1; if ($0 != header) { print "  headers differ: " header " vs " $0; bad = 1 } next }
        NR == FNR { ref[FNR] = $0; nref = FNR; next }
        {
            ngot = FNR
            if (!(FNR in ref)) { print "  extra row " FNR - 1 ": " $0; bad = 1; next }
            split(ref[FNR], r, ",")
            if (NF != ncol) { print "  row " FNR - 1 " has " NF " columns, not " ncol; bad = 1; next }
            for (i = 1; i <= NF; i++) {
                if (name[i] == "seconds" || name[i] == "img_per_s" || name[i] ~ /_seconds$/) continue
                if ($i != r[i]) {
                    print "  row of epoch " $1 ", column " name[i] ": " r[i] " (uninterrupted) vs " $i
                    bad = 1
                }
            }
        }
        END {
            if (ngot != nref) { print "  " nref - 1 " rows expected, " (ngot > 0 ? ngot - 1 : 0) " found"; bad = 1 }
            if (nref < 2) { print "  the reference has no data rows"; bad = 1 }
            exit bad
        }' "$1" "$2"
}

# reference_run DIR: the uninterrupted run the resumed ones must reproduce.
reference_run() {
    local dir=$1
    shift
    run_gammacl "$dir" "${TRAIN[@]}" --progress 0 "$@" --out "$dir"
    local rc=$?
    [ "$rc" -eq 0 ] || { cat "$dir.err"; fail_now "the uninterrupted run exited $rc"; }
    [ "$(rows "$dir/metrics.csv")" -eq 3 ] || fail_now "the uninterrupted run wrote $(rows "$dir/metrics.csv") rows, not 3"
}

# ckpt_epoch FILE: the completed epochs recorded in a checkpoint ("" if unreadable).
ckpt_epoch() { "$ckpt_tool" info "$1" 2>/dev/null | awk 'NR == 1 { print $2 }'; }
ckpt_step() { "$ckpt_tool" info "$1" 2>/dev/null | awk 'NR == 1 { print $4 }'; }

# ckpt_has_tensor FILE NAME COUNT: the checkpoint holds tensor NAME of COUNT elements.
ckpt_has_tensor() { "$ckpt_tool" info "$1" 2>/dev/null | grep -qx -- "$2 $3"; }

# no_temp_files DIR: no checkpoint temporaries are left behind by a run that ended normally.
no_temp_files() { ! compgen -G "$1/*.tmp.*" > /dev/null; }

# exited_cleanly RC: a normal non-zero exit — not success, not killed by a signal or the timeout.
exited_cleanly() { [ "$1" -ne 0 ] && [ "$1" -lt 124 ]; }
