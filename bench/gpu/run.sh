#!/usr/bin/env bash
# bench/gpu/run.sh — runs on the GPU machine, in a copy of the repository that carries build/ and
# .pack/ (made by bench/gpu/pack.sh): sets up the libraries and an OpenCL vendors folder for the
# NVIDIA driver, then, each step under a time limit so one hang cannot eat the rest:
#   devices, the whole test suite on the GPU, kernel-build times (cold, driver cache, gammacl's
#   cache), bench_step for cnn5 and resnet18, the PyTorch-CUDA peer on the same shapes, the loss
#   trajectory against PoCL's, a 3-epoch Fashion-MNIST training with CE and with BCE, and
#   `gammacl bench --quick` (its bench.json also as RESULTS_DIR/bench-quick.json).
# Results: RESULTS_DIR (default $OUT, else ./gpu-results) gets summary.txt and results.tar.gz.
# DEVICE (default nvidia) picks the OpenCL device; BUDGET_S (default 420) bounds the whole run;
# COMPARE_ROWS names device-table rows to bench besides the device's own; STEPS (default all)
# lists the step-name prefixes to run (e.g. "devices suite bench-").
set -u
root=$(pwd)
pack=$root/.pack
results=${RESULTS_DIR:-${OUT:-$root/gpu-results}}
device=${DEVICE:-nvidia}
deadline=$(($(date +%s) + ${BUDGET_S:-420}))
logs=$(mktemp -d)
summary=$results/summary.txt
mkdir -p "$results"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

[ -d "$pack" ] && [ -x build/apps/gammacl ] || { echo "run.sh: build/ and .pack/ missing: run bench/gpu/pack.sh first" >&2; exit 2; }

# --- libraries: gammacl's ICD loader and CLBlast always; the rest only where the system lacks them
lib=$(mktemp -d)
mkdir -p "$lib/all"
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$pack/libs.tar.xz" "$lib/all"
for f in "$lib"/all/*; do
  n=$(basename "$f")
  case "$n" in
    libOpenCL.so.*|libclblast.so.*) ln -s "$f" "$lib/$n" ;;
    *) ldconfig -p | grep -q "^[[:space:]]*$n (" || ln -s "$f" "$lib/$n" ;;
  esac
done
# --- the NVIDIA OpenCL driver, wherever this machine keeps it
icd=$(ldconfig -p | awk '/libnvidia-opencl\.so\.1 /{print $NF; exit}')
[ -n "$icd" ] || icd=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local -name 'libnvidia-opencl.so.1' 2>/dev/null | head -1)
libpath=$lib
if [ -n "$icd" ]; then
  mkdir -p "$lib/vendors"
  echo "$icd" >"$lib/vendors/nvidia.icd"
  export OCL_ICD_VENDORS=$lib/vendors
  libpath=$lib:$(dirname "$icd")
else
  note "no libnvidia-opencl.so.1 found: using the system's OpenCL vendors"
fi
export GAMMACL_DATA=$pack/data
export GAMMACL_DEVICE=$device
export GAMMACL_CACHE_DIR=$logs/cache
note "carried libraries used: $(cd "$lib" && ls | grep -v '^all$\|^vendors$' | tr '\n' ' ')"
note "OpenCL driver: ${icd:-system}"

# "${gc[@]}" [VAR=VALUE...] CMD...: a gammacl program with the carried libraries (python keeps
# the system's)
gc=(env "LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
# step NAME LIMIT CMD...: runs CMD under min(LIMIT, time left), output to logs/NAME.log
step() {
  local name=$1 limit=$2 w
  shift 2
  if [ -n "${STEPS:-}" ]; then
    for w in $STEPS; do [ "${name#"$w"}" != "$name" ] && break; w=; done
    if [ -z "$w" ]; then note "[$name] skipped: not in STEPS"; return 1; fi
  fi
  local left=$((deadline - $(date +%s)))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -le 5 ]; then note "[$name] skipped: out of time"; return 1; fi
  local t0 rc
  t0=$(date +%s%N)
  timeout -k 5 "$limit" "$@" >"$logs/$name.log" 2>&1
  rc=$?
  local ms=$((($(date +%s%N) - t0) / 1000000))
  note "[$name] exit $rc in $((ms / 1000)).$((ms % 1000 / 100)) s"
  # the logs so far, so that a run cut short still brings them back
  tar -C "$logs" --exclude=cache --exclude=cuda-cache -czf "$results/results.tar.gz" .
  return $rc
}

{ uname -a; ldconfig -p | grep -i -E 'opencl|nvidia'; ls -la /etc/OpenCL/vendors; } >"$logs/env.txt" 2>&1
nvidia-smi -L >"$logs/nvidia-smi.txt" 2>&1 && note "$(head -1 "$logs/nvidia-smi.txt")"
step devices 30 "${gc[@]}" build/apps/gammacl devices
cat "$logs/devices.log" >>"$summary"
"${gc[@]}" build/apps/gammacl devices --json >"$logs/devices.json" 2>&1

# suite first: it is the must-have
step suite 200 python3 bench/gpu/run_tests.py --pack "$pack" --build build --env "LD_LIBRARY_PATH=$libpath"
tail -1 "$logs/suite.log" 2>/dev/null | sed 's/^/suite: /' >>"$summary"
grep -E '^FAIL|TIMEOUT' "$logs/suite.log" 2>/dev/null >>"$summary"

# kernel builds: cold (no cache at all), from the driver's cache, from gammacl's cache (row gpu)
export CUDA_CACHE_PATH=$logs/cuda-cache
one_step=(build/bench/bench_step --device "$device" --no-layers --no-gemm --steps 1 --repeats 1)
step build-cold 60 "${gc[@]}" CUDA_CACHE_DISABLE=1 GAMMACL_NO_CACHE=1 "${one_step[@]}"
step build-driver-fill 60 "${gc[@]}" "${one_step[@]}"
step build-driver-cache 60 "${gc[@]}" "${one_step[@]}"
step build-gammacl-fill 60 "${gc[@]}" CUDA_CACHE_DISABLE=1 GAMMACL_PARAMS=gpu "${one_step[@]}"
step build-gammacl-cache 60 "${gc[@]}" CUDA_CACHE_DISABLE=1 GAMMACL_PARAMS=gpu "${one_step[@]}"
for b in build-cold build-driver-cache build-gammacl-cache; do
  grep -h "kernel programs" "$logs/$b.log" 2>/dev/null | sed "s/^/$b: /" >>"$summary"
done

# speed: gammacl then PyTorch-CUDA (default TF32 convolutions, and strict fp32) on the same shapes
# COMPARE_ROWS: other device-table rows to bench beside the device's own (e.g. nvidia-direct)
for row in "" ${COMPARE_ROWS:-}; do
  tag=${row:+-$row}
  step "bench-cnn5$tag" 90 "${gc[@]}" GAMMACL_PARAMS="$row" build/bench/bench_step --device "$device" \
    --model cnn5 --no-gemm --steps 20 --repeats 5 --json "$logs/bench-cnn5$tag.json"
  step "bench-resnet18$tag" 120 "${gc[@]}" GAMMACL_PARAMS="$row" build/bench/bench_step --device "$device" \
    --model resnet18 --no-gemm --steps 10 --repeats 5 --json "$logs/bench-resnet18$tag.json"
done
for f in "$logs"/bench-*.log; do
  echo "$(basename "$f" .log): $(grep -h "training step" "$f"); device sum $(grep -h "^sum" "$f" | awk '{print $2}') ms"
done >>"$summary"
peer=(python3 bench/peers/torch_train.py --device cuda --batch 128 --repeats 5)
step torch-cnn5 60 "${peer[@]}" --model cnn5 --synthetic 1,28,28,10 --steps 50 --json "$logs/torch-cnn5.json"
step torch-cnn5-fp32 60 "${peer[@]}" --model cnn5 --synthetic 1,28,28,10 --steps 50 --strict-fp32 \
  --json "$logs/torch-cnn5-fp32.json"
step torch-resnet18 90 "${peer[@]}" --model resnet18 --synthetic 3,32,32,10 --steps 20 \
  --json "$logs/torch-resnet18.json"
step torch-resnet18-fp32 90 "${peer[@]}" --model resnet18 --synthetic 3,32,32,10 --steps 20 --strict-fp32 \
  --json "$logs/torch-resnet18-fp32.json"
for f in "$logs"/torch-*.log; do
  [ -f "$f" ] && echo "$(basename "$f" .log): $(grep -h "^speed" "$f")"
done >>"$summary"

# agreement with PoCL: the same 20 seeded steps
for loss in ce bce; do
  step "trace-$loss" 60 "${gc[@]}" build/bench/step_trace --device "$device" --loss "$loss" --steps 20 \
    --compare "$pack/trace-pocl-$loss.txt"
  grep -A2 "^against" "$logs/trace-$loss.log" 2>/dev/null | sed "s/^/trace $loss: /" >>"$summary"
done

# accuracy: the README's 3-epoch recipe on the GPU
for loss in ce bce; do
  step "train-$loss" 150 "${gc[@]}" build/apps/gammacl train --data fashion-mnist --model cnn5 --loss "$loss" \
    --gamma 16 --epochs 3 --progress 0 --out "$logs/run-$loss"
  tail -3 "$logs/train-$loss.log" 2>/dev/null | sed "s/^/train $loss: /" >>"$summary"
done

# the vendor bench (--quick) on the GPU; its bench.json comes back in results.tar.gz and joins
# this machine's through `gammacl bench --compare`
step bench-quick 240 "${gc[@]}" build/apps/gammacl bench --quick --devices "$device" --out "$logs/bench-quick"
grep -A3 "^== speed" "$logs/bench-quick.log" 2>/dev/null | sed "s/^/bench: /" >>"$summary"
cp "$logs/bench-quick/bench.json" "$results/bench-quick.json" 2>/dev/null

echo "---- summary ----"
cat "$summary"
