#!/usr/bin/env bash
# tests/reliability/repo_root.sh — the repository root holds only the project's own top-level
# files and folders (no stray checkpoints or outputs), and runs/ and build/ are ignored by git.
#   repo_root.sh GAMMACL CKPT_TOOL SOURCE_ROOT
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
root=$(realpath "$3")
if ! git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    echo "note: $root is not a git checkout; only the ignore rules are checked"
else
    allowed=" .ci .gitignore README.md apps bench kernels meson.build meson_options.txt net runtime scripts tests "
    stray=""
    for f in $(git -C "$root" ls-files | cut -d/ -f1 | sort -u); do
        case "$allowed" in *" $f "*) ;; *) stray+=" $f" ;; esac
    done
    check "no stray files at the repository root (found:${stray:- none})" [ -z "$stray" ]
    check "runs/ is ignored by git" git -C "$root" check-ignore -q runs/x
    check "build/ is ignored by git" git -C "$root" check-ignore -q build/x
fi
done_checks
