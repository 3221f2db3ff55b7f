#!/usr/bin/env bash
# tests/expect_exit.sh — a test of bad input: runs CMD and passes only when it exits with exactly
# CODE and writes an error message to stderr (a crash, a hang past meson's timeout, success or
# a silent failure all fail the test, unlike meson's should_fail).
# usage: expect_exit.sh CODE CMD [ARG...]
set -u
want=$1
shift
err=$("$@" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne "$want" ]; then
  echo "FAIL: '$*' exited $rc, want $want; stderr: $err"
  exit 1
fi
if [ -z "$err" ]; then
  echo "FAIL: '$*' exited $rc without a message"
  exit 1
fi
echo "ok: exit $rc: $err"
