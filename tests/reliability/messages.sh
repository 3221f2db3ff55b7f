#!/usr/bin/env bash
# tests/reliability/messages.sh — every command's error message starts the same way,
# "gammacl COMMAND: ", and bad usage exits 2; a GAMMACL_DATA folder without the set asked for falls
# back to the standard place, and a set found nowhere is named with every folder tried.
# Usage: messages.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

for cmd in devices train theory sweep eval; do
    run_gammacl "$work/$cmd" "$cmd" --no-such-option
    rc=$?
    check "$cmd: bad option exits 2 ($rc)" [ "$rc" -eq 2 ]
    check "$cmd: the message starts with 'gammacl $cmd: '" \
        bash -c "head -1 '$work/$cmd.err' | grep -q '^gammacl $cmd: '"
done
run_gammacl "$work/theory2" theory --classes 1
check "theory: a bad value says 'gammacl theory: '" bash -c "head -1 '$work/theory2.err' | grep -q '^gammacl theory: '"
mkdir -p "$work/empty"
GAMMACL_DATA=$work/empty run_gammacl "$work/fallback" "${TRAIN[@]}" --epochs 1 --metrics-every 0 --progress 0 --out "$work/fallback"
rc=$?
check "GAMMACL_DATA without fashion-mnist falls back to the standard folder ($rc)" [ "$rc" -eq 0 ]
GAMMACL_DATA=$work/empty run_gammacl "$work/missing" train --data cifar100 --device "$device" --out "$work/missing"
rc=$?
check "a set found nowhere exits 2 ($rc)" [ "$rc" -eq 2 ]
check "its message lists GAMMACL_DATA's folder and the standard one" \
    bash -c "grep -q '$work/empty/cifar100' '$work/missing.err' && grep -q '/usr/share/datasets/cifar100' '$work/missing.err'"
done_checks
