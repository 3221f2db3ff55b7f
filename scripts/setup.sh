#!/usr/bin/env bash
# scripts/setup.sh — shared by scripts/demo and scripts/test: installs the Debian packages gammacl
# needs when they are missing (as root, or through sudo), then configures and builds with meson.
# Usage: source scripts/setup.sh; gammacl_setup [BUILD_DIR]
set -euo pipefail

GAMMACL_PACKAGES=(build-essential python3 meson ninja-build pkg-config
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd mesa-opencl-icd
  libclblast-dev libpng-dev zlib1g-dev libcjson-dev libcairo2-dev liblapacke-dev
  libopenblas-dev libopenmpi-dev openmpi-bin dataset-fashion-mnist)

gammacl_install_packages() {
  local missing=()
  for p in "${GAMMACL_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "error: missing packages (${missing[*]}) and not root; install them or run as root" >&2
      return 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

gammacl_build() {
  local dir="${1:-build}"
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=release >/dev/null
  fi
  ninja -C "$dir" >/dev/null
}

gammacl_setup() {
  gammacl_install_packages
  gammacl_build "${1:-build}"
}
