#!/usr/bin/env bash
# tests/reliability/tuning.sh — `gammacl tune` and the tuning file: the tuner writes an entry
# per measured class (and its JSON), `gammacl devices` and `gammacl train` report and use it,
# GAMMACL_TUNING=defaults ignores it, a damaged or forged file is ignored silently (defaults, and
# the run still trains), a budget that runs out keeps the best so far, bad flags are refused, and
# a device with GPU-style kernels has nothing to tune.
# Usage: tuning.sh GAMMACL CKPT_TOOL
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
export GAMMACL_CACHE_DIR=$work/cache
unset GAMMACL_TUNING

run_gammacl "$work/tune" tune --device "$device" --kernels conv_wgrad --reps 1 --json "$work/tune.json"
rc=$?
check "tune: exit 0 ($rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || cat "$work/tune.err"
file=$(find "$GAMMACL_CACHE_DIR" -name 'tuning-*.txt' | head -n 1)
check "tune: a tuning file in the cache folder" [ -n "$file" ]
[ -n "$file" ] || fail_now "no tuning file"
check "tune: the format line" has_line "$file" '^gammacl-tuning 1$'
entries=$(grep -c '^conv_wgrad m' "$file")
classes=$(/usr/bin/env python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["classes"]))' "$work/tune.json")
check "tune: one entry per measured class ($entries of $classes)" [ "$entries" -ge 1 -a "$entries" -eq "$classes" ]
check "tune: no other kernel written" test "$(grep -Ec '^(conv_fwd|gemm_)' "$file")" -eq 0
check "tune: the table names the peak and each class" has_line "$work/tune.out" 'FMA peak [0-9]+ GFLOP/s'
check "tune: JSON with every candidate" /usr/bin/env python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
cls = d["classes"]
assert len(cls) >= 1 and all(c["kernel"] == "conv_wgrad" for c in cls)
names = {x["what"]: c["class"] for c in cls for x in c["shapes"]}
assert names.get("cnn5 conv1") == "m<=32", names  # a first layer never runs as Winograd
if sys.argv[2] == "pocl":  # PoCL runs cnn5 conv2 as Winograd: not a shape of the direct kernel
    assert "cnn5 conv2" not in names, names
for c in cls:
    ok = [x for x in c["candidates"] if x["result"] == "ok"]
    assert len(c["candidates"]) == 19 and len(ok) == 19, c["class"]
    assert c["best"]["gflops"] >= max(x["params"]["gflops"] for x in ok) - 1e-9
    assert c["shapes"] and all(x["default_gflops"] > 0 and x["best_gflops"] > 0 for x in c["shapes"])
assert d["fma_peak_gflops"] > 0' "$work/tune.json" "$device"

run_gammacl "$work/dev" devices
check "devices: reports the tuned state" has_line "$work/dev.out" "tuned here \($entries entries"

run_gammacl "$work/t1" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$work/t1"
check "train with the file: exit 0" [ $? -eq 0 ]
check "train: says the parameters are tuned" has_line "$work/t1.out" "kernel parameters: tuned on this machine \\($entries entries\\)"
check "train: summary.json records it" has_line "$work/t1/summary.json" "\"tuned_entries\":[[:space:]]*$entries"

GAMMACL_TUNING=defaults run_gammacl "$work/t2" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$work/t2"
check "GAMMACL_TUNING=defaults: exit 0" [ $? -eq 0 ]
check "GAMMACL_TUNING=defaults: the file is ignored, and the hint given" \
    has_line "$work/t2.out" 'untuned defaults; `gammacl tune --device [0-9]+`'

# damaged files: each one ignored as a whole (the shipped rows, on a CPU the device table knows,
# or the defaults)
cp "$file" "$work/good.txt"
i=0
for forge in 's/mr=[0-9]*/mr=5/' 's/^conv_wgrad/conv_nonsense/' 's/^gammacl-tuning 1/gammacl-tuning 9/' \
    's/ls=[0-9]*/ls=-3/' 's/ gflops=.*$/ extra=1/'; do
    i=$((i + 1))
    sed "$forge" "$work/good.txt" > "$file"
    run_gammacl "$work/d$i" devices
    check "forged file ($forge): devices ignores it" has_line "$work/d$i.out" 'kernel parameters: (defaults|shipped)'
done
head -c 120 "$work/good.txt" > "$file" # truncated inside a line
run_gammacl "$work/d9" devices
check "truncated file: ignored" has_line "$work/d9.out" 'kernel parameters: (defaults|shipped)'
run_gammacl "$work/t3" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$work/t3"
check "train with a damaged file: exit 0" [ $? -eq 0 ]
check "train with a damaged file: not tuned" has_line "$work/t3.out" 'kernel parameters: (untuned defaults|shipped for this CPU)'

# The forward convolution (and input gradient) and the GEMM sum every output's terms in the same
# order under any parameter set: a run with other such parameters gives the same figures bit for
# bit as one with the defaults (the weight gradient's, which do change the order, set to the
# defaults, over any shipped rows).
{
    head -n 4 "$work/good.txt"
    for c in 'm<=16' 'm<=32' 'm<=64' 'm<=128' 'm>128'; do
        echo "conv_fwd $c mr=4 nv=2 vw=8 ls=1"
        echo "gemm_nn $c mr=12 nv=1 vw=8 ls=16"
        echo "gemm_tn $c mr=16 nv=1 vw=16 ls=1"
        echo "conv_wgrad $c mr=2 nv=1 vw=16 ls=512"
    done
    echo "gemm_nn split-k mr=4 nv=2 vw=16 ls=4"
} > "$file"
run_gammacl "$work/t4" "${TRAIN[@]}" --epochs 1 --progress 0 --out "$work/t4"
check "other forward and GEMM parameters: exit 0" [ $? -eq 0 ]
check "other forward and GEMM parameters: the file is used" has_line "$work/t4.out" 'tuned on this machine \(21 entries\)'
check "other forward and GEMM parameters: the same figures as the defaults" \
    same_metrics "$work/t2/metrics.csv" "$work/t4/metrics.csv"

# a row whose convolutions never run the direct kernels (im2col + GEMM): no conv class to measure
GAMMACL_PARAMS=cpu-im2col run_gammacl "$work/im" tune --device "$device" --kernels conv_fwd,conv_wgrad --no-save
check "im2col row: exit 0 ($?)" [ $? -eq 0 ]
check "im2col row: nothing to tune, and says so" has_line "$work/im.out" 'no layer runs these kernels on this device'
check "im2col row: no class measured" bash -c "! grep -Eq '^conv_(fwd|wgrad) +m' '$work/im.out'"

# a budget that runs out: the default is measured, the rest reported as not measured
cp "$work/good.txt" "$file"
run_gammacl "$work/b" tune --device "$device" --kernels gemm_tn --budget 0.001 --reps 1 --json "$work/b.json"
rc=$?
check "tiny budget: exit 0 ($rc)" [ "$rc" -eq 0 ]
check "tiny budget: says so" has_line "$work/b.out" 'budget ran out with [0-9]+ candidates not measured'
check "tiny budget: the earlier entries are kept" test "$(grep -c '^conv_wgrad m' "$file")" -eq "$entries"
check "tiny budget: the measured class is added" has_line "$file" '^gemm_tn m>128 mr=[0-9]+ nv=[12] vw=(8|16) ls=[0-9]+'
check "GEMM shapes: only the GEMMs of passes that run as GEMMs" /usr/bin/env python3 -c '
import json, sys
names = {x["what"] for c in json.load(open(sys.argv[1]))["classes"] for x in c["shapes"]}
assert "resnet18 layer3 down dcol" in names, names  # a stride-2 layer onto 8 columns: im2col + GEMM
if sys.argv[2] == "pocl":  # cnn5 conv2 runs as Winograd there: its im2col GEMM never runs
    assert "cnn5 conv2 dcol" not in names, names' "$work/b.json" "$device"

refused "negative budget" 'budget.*not a number of seconds' tune --device "$device" --budget -1
refused "budget not a number" 'budget.*not a number of seconds' tune --device "$device" --budget 1s
refused "no reps" 'reps.*whole number' tune --device "$device" --reps 0
refused "unknown kernel" "unknown kernel 'conv_foo'" tune --device "$device" --kernels conv_fwd,conv_foo
refused "missing value" '--json needs a value' tune --json
refused "unknown option" "unknown option '--fast'" tune --fast

if "$gammacl" devices 2>/dev/null | grep -qi llvmpipe; then
    run_gammacl "$work/r" tune --device llvmpipe
    check "rusticl: nothing to tune, exit 0" [ $? -eq 0 ]
    check "rusticl: says why" has_line "$work/r.out" 'GPU-style kernels.*nothing to tune'
fi
done_checks
