#!/usr/bin/env bash
# tests/reliability/existing_run.sh — nothing finished is lost: a new run started with --out on a
# folder that already holds a run (model.ckpt, metrics.csv) must refuse with a non-zero exit and
# a message pointing to --resume DIR (or another --out), leaving that run's files byte for byte.
# (Restarting the same command after a crash is what people do; it must not wipe the finished
# epochs.)
# Usage: existing_run.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

dir=$work/run
run_gammacl "$dir" "${TRAIN[@]}" --epochs 1 --seed 2 --progress 0 --out "$dir" ||
    { cat "$dir.err"; fail_now "the first run failed"; }
cp "$dir/metrics.csv" "$work/metrics.before"
cp "$dir/model.ckpt" "$work/model.before"

run_gammacl "$dir.again" "${TRAIN[@]}" --epochs 1 --seed 3 --progress 0 --out "$dir"
rc=$?
cat "$dir.again.err"
check "a new run into a folder holding a run exits non-zero (got $rc)" exited_cleanly "$rc"
check "the message points to --resume" has_line "$dir.again.err" "--resume"
check "metrics.csv is untouched" cmp -s "$dir/metrics.csv" "$work/metrics.before"
check "model.ckpt is untouched" cmp -s "$dir/model.ckpt" "$work/model.before"
done_checks
