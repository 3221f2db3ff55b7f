#!/usr/bin/env bash
# tests/reliability/cache.sh — the kernel binary cache: entries that are truncated, corrupted (a
# flipped byte) or foreign (well-formed, right CRC, but a binary the driver rejects, or the key
# of another entry) are ignored: the run compiles instead, gives the same figures bit for bit,
# and the entry is rewritten good.
# Usage: cache.sh GAMMACL CKPT_TOOL FORGE_PY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
forge=$(realpath "$3")
export GAMMACL_CACHE_DIR=$work/cache
unset GAMMACL_NO_CACHE

run_gammacl "$work/ref" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$work/ref" ||
    { cat "$work/ref.err"; fail_now "the first run failed"; }
n=$(find "$GAMMACL_CACHE_DIR" -name '*.bin' | wc -l)
[ "$n" -gt 0 ] || fail_now "the run cached no kernel binary (this device's row may not cache)"
echo "cached binaries: $n"

i=0
for kind in truncate flip garbage swapkey; do
    for f in "$GAMMACL_CACHE_DIR"/*.bin; do
        /usr/bin/env python3 "$forge" "$kind" "$f" || fail_now "cannot forge $f"
    done
    i=$((i + 1))
    run_gammacl "$work/run$i" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$work/run$i"
    rc=$?
    check "$kind cache entries: the run succeeds ($rc)" [ "$rc" -eq 0 ]
    check "$kind cache entries: same figures as with a good cache" same_metrics "$work/ref/metrics.csv" "$work/run$i/metrics.csv"
    bad=0
    for f in "$GAMMACL_CACHE_DIR"/*.bin; do /usr/bin/env python3 "$forge" check "$f" || bad=$((bad + 1)); done
    check "$kind cache entries: every entry rewritten good ($bad bad)" [ "$bad" -eq 0 ]
done
done_checks
