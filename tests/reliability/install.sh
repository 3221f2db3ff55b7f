#!/usr/bin/env bash
# tests/reliability/install.sh — `meson install` into a temporary prefix gives a gammacl that runs
# from anywhere (kernels and built-in models are embedded): `gammacl devices` and a one-step
# training from another working folder; the README is installed beside it.
#   install.sh GAMMACL CKPT_TOOL BUILD_DIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build=$(realpath "$3")
dest=$work/dest
meson install -C "$build" --no-rebuild --destdir "$dest" > "$work/install.out" 2>&1 ||
    { cat "$work/install.out"; fail_now "meson install failed"; }
installed=$(find "$dest" -type f -name gammacl -perm -u+x | head -1)
check "the gammacl command is installed" [ -n "$installed" ]
check "the README is installed" bash -c "find '$dest' -path '*doc/gammacl/README.md' | grep -q ."
mkdir -p "$work/elsewhere"
cd "$work/elsewhere" || fail_now "no working folder"
timeout "$limit" "$installed" devices > "$work/devices.out" 2>&1
check "the installed gammacl lists devices" grep -qi "pocl\|platform" "$work/devices.out"
timeout "$limit" "$installed" train --train-limit 64 --test-limit 64 --batch 64 --epochs 1 \
    --metrics-every 0 --device "$device" --progress 0 --out "$work/elsewhere/run" > "$work/train.out" 2>&1
check "the installed gammacl trains a step from another folder" grep -q "^epoch 1/1" "$work/train.out"
done_checks
