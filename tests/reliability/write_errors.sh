#!/usr/bin/env bash
# tests/reliability/write_errors.sh — a write error while saving (a file size limit stands in for
# a full disk): the run stops with a clear message naming the file and the cause and a non-zero
# exit, the previous checkpoint stays byte for byte, no temporary file is left, and once the
# cause is gone --resume ends exactly where a run that never failed ends.
#   write_errors.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# base DIR: a finished 1-epoch run whose checkpoint asks for 2 epochs
base() {
    run_gammacl "$1" "${TRAIN[@]}" --epochs 1 --seed 5 --progress 0 --out "$1" ||
        { cat "$1.err"; fail_now "the base run failed"; }
    "$ckpt_tool" set-meta "$1/model.ckpt" epochs 2 || fail_now "cannot edit the checkpoint"
}

ref=$work/ref
base "$ref"
run_gammacl "$ref.resume" train --resume "$ref" --device "$device" --progress 0 || fail_now "the reference resume failed"

for kb in 1000 3; do
    dir=$work/limit$kb
    base "$dir"
    cp "$dir/model.ckpt" "$work/before.ckpt"
    (ulimit -f "$kb"; timeout -k 10 "$limit" "$gammacl" train --resume "$dir" --device "$device" --progress 0 \
        > "$dir.lim.out" 2> "$dir.lim.err")
    rc=$?
    check "a ${kb} KB file limit: the run fails cleanly ($rc)" exited_cleanly "$rc"
    check "a ${kb} KB file limit: the message names the cause" grep -q "File too large" "$dir.lim.err"
    check "a ${kb} KB file limit: the previous checkpoint is intact" cmp -s "$dir/model.ckpt" "$work/before.ckpt"
    check "a ${kb} KB file limit: no temporary file is left" no_temp_files "$dir"
    run_gammacl "$dir.resume" train --resume "$dir" --device "$device" --progress 0
    rc=$?
    check "a ${kb} KB file limit: --resume afterwards succeeds ($rc)" [ "$rc" -eq 0 ]
    check "a ${kb} KB file limit: and ends as the run that never failed" same_metrics "$ref/metrics.csv" "$dir/metrics.csv"
done
done_checks
