#!/usr/bin/env python3
"""bench/gpu/run_tests.py — runs gammacl's test suite from the test list that bench/gpu/pack.sh
saved (meson's introspection), on a machine without meson, in a repository copy at another path.

Each test runs as meson would run it: its command, its environment, in the build folder, under its
timeout; a test passes when it exits 0. The paths in the list start with the folder where the pack
was made; they are rewritten to this repository and to --build. Prints a line per test, the output
of the failed ones, and last "N passed, N failed"; exits 1 when any failed.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pack", default=".pack", help="folder holding tests.json and source_root")
    p.add_argument("--build", default="build", help="the build folder here")
    p.add_argument("--env", action="append", default=[], metavar="VAR=VALUE",
                   help="extra environment for every test (repeatable)")
    p.add_argument("--only", default=None, help="run only tests whose name contains this")
    args = p.parse_args()

    with open(os.path.join(args.pack, "tests.json")) as f:
        tests = json.load(f)
    with open(os.path.join(args.pack, "source_root")) as f:
        old_root = f.read().strip()
    here = os.getcwd()
    build = os.path.abspath(args.build)
    old_build = os.path.join(old_root, "build")

    def rewrite(s):
        if s.startswith(old_build):
            return build + s[len(old_build):]
        if s.startswith(old_root):
            return here + s[len(old_root):]
        return s

    extra = dict(kv.split("=", 1) for kv in args.env)
    passed = failed = 0
    for t in sorted(tests, key=lambda t: -t.get("priority", 0)):
        if args.only and args.only not in t["name"]:
            continue
        env = dict(os.environ)
        env.update(t.get("env") or {})
        env.update(extra)
        cmd = [rewrite(c) for c in t["cmd"]]
        cwd = rewrite(t["workdir"]) if t.get("workdir") else build
        t0 = time.monotonic()
        try:
            r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=t["timeout"] or None)
            rc, out = r.returncode, r.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            rc, out = "TIMEOUT", (e.stdout or b"").decode(errors="replace")
        except OSError as e:
            rc, out = "ERROR", str(e)
        ok = rc == 0
        passed += ok
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {t['name']:<45} {time.monotonic() - t0:7.2f} s"
              + ("" if ok else f"  ({rc})"), flush=True)
        if not ok:
            print(out[-4000:], flush=True)
    if passed + failed == 0:
        print("no test ran", file=sys.stderr)
        failed = 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
