#!/usr/bin/env bash
# bench/gpu/pack.sh — prepares a run on a bare GPU machine that has a GPU driver but none of
# gammacl's libraries and no package registry. Builds here, then fills .pack/ (ignored by git):
#   libs.tar.xz        the shared libraries of every gammacl executable (the OpenCL ICD loader,
#                      CLBlast, libpng, ...), the C library itself excepted
#   tests.json         the suite's test list (meson's introspection), and source_root, the folder
#                      its paths start with, so bench/gpu/run_tests.py can run it without meson
#   data/fashion-mnist the four IDX files (the reliability tests and the accuracy run read them)
#   trace-pocl-*.txt   reference loss trajectories on PoCL, for the cross-device agreement figure
# The build travels as build/. Then bench/gpu/run.sh runs there; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/setup.sh
gammacl_setup build
pack=.pack
rm -rf "$pack"
mkdir -p "$pack/data/fashion-mnist"

libs=$(mktemp -d)
trap 'rm -rf "$libs"' EXIT
mapfile -t exes < <(find build -type f -perm -u+x ! -path '*.p/*' ! -path '*/meson-*' ! -name '*.so*')
ldd "${exes[@]}" | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) continue ;;
  esac
  cp -L "$lib" "$libs/"
done
tar -C "$libs" -cf - . | xz -6 -T0 >"$pack/libs.tar.xz"

meson introspect build --tests >"$pack/tests.json"
pwd >"$pack/source_root"

data_root=${GAMMACL_DATA:-/usr/share/datasets}
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  src="$data_root/fashion-mnist/$f"
  if [ -f "$src.gz" ]; then cp "$src.gz" "$pack/data/fashion-mnist/"
  elif [ -f "$src" ]; then cp "$src" "$pack/data/fashion-mnist/"
  else echo "pack: $src(.gz) not found; install dataset-fashion-mnist or set GAMMACL_DATA" >&2; exit 1
  fi
done

for loss in ce bce; do
  build/bench/step_trace --device pocl --model cnn5 --loss "$loss" --steps 20 \
    --out "$pack/trace-pocl-$loss.txt" >/dev/null
done
echo "packed: $(du -sh "$pack" | cut -f1) in $pack, plus build/ ($(du -sh build | cut -f1))"
