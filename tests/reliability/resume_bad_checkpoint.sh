#!/usr/bin/env bash
# tests/reliability/resume_bad_checkpoint.sh — bad files never crash or silently corrupt a run:
# --resume on a damaged run folder (checkpoint cut short, a flipped bit, empty, missing, a
# metrics.csv that lost its rows, an unknown option line) must stop before training with a clean
# non-zero exit and a message naming the file, and leave the folder's files as they were (all
# but .lock, the folder lock, which names the process that held the folder last).
# Usage: resume_bad_checkpoint.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

base=$work/base
run_gammacl "$base" "${TRAIN[@]}" --epochs 1 --seed 6 --progress 0 --out "$base" ||
    { cat "$base.err"; fail_now "the 1-epoch base run failed"; }
"$ckpt_tool" set-meta "$base/model.ckpt" epochs 2 || fail_now "cannot edit the checkpoint"
size=$(stat -c %s "$base/model.ckpt")

# damaged NAME EXPECTED_PATTERN EDIT...: copies the base run, applies the edit, resumes
damaged() {
    local name=$1 pattern=$2
    shift 2
    local dir=$work/$name
    cp -r "$base" "$dir"
    (cd "$dir" && "$@") || fail_now "$name: the edit failed"
    local before
    before=$(cd "$dir" && find . -type f ! -name .lock -exec md5sum {} + | sort)
    run_gammacl "$dir.resume" train --resume "$dir" --device "$device" --progress 0
    local rc=$?
    echo "-- $name: exit $rc: $(head -c 300 "$dir.resume.err")"
    check "$name: clean non-zero exit (got $rc)" exited_cleanly "$rc"
    check "$name: the message names the problem ($pattern)" has_line "$dir.resume.err" "$pattern"
    check "$name: the folder's files are unchanged" \
        test "$(cd "$dir" && find . -type f ! -name .lock -exec md5sum {} + | sort)" = "$before"
}

damaged truncated "model\\.ckpt" truncate -s $((size / 2)) model.ckpt
damaged bit-flip "model\\.ckpt.*(CRC|checksum)" \
    sh -c "printf '\\377' | dd of=model.ckpt bs=1 seek=$((size / 2)) conv=notrunc status=none"
damaged empty "model\\.ckpt" truncate -s 0 model.ckpt
damaged missing "model\\.ckpt" rm model.ckpt
damaged metrics-lost "metrics\\.csv" sh -c "head -n 1 metrics.csv > m && mv m metrics.csv"
damaged bad-option "epochs|--resume" "$ckpt_tool" set-meta model.ckpt epochs zero
run_gammacl "$work/nowhere" train --resume "$work/no-such-run" --device "$device" --progress 0
rc=$?
check "a folder that does not exist: clean non-zero exit (got $rc)" exited_cleanly "$rc"
check "a folder that does not exist: nothing is created" test ! -e "$work/no-such-run"
done_checks
