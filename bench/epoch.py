#!/usr/bin/env python3
"""bench/epoch.py — a whole training epoch, gammacl against the PyTorch peer, as whole processes.

Runs `gammacl train` (one epoch of cnn5 on the first --train-limit Fashion-MNIST images, a
--test-limit test pass, the feature metrics before and after, as a user would run it) and
`peers/torch_train.py` (the same recipe, its evaluation after the epoch, no feature metrics) in
each memory layout, one after the other, --runs times after one warm-up round that is not
counted. Each figure is the wall time of the whole process, start-up, data loading and
evaluation included; the ratios are taken pair by pair (gammacl / PyTorch in the same round), so
that a machine whose speed drifts hits both sides alike, and reported as median (min-max).

  bench/epoch.py --device pocl --runs 3 [--layouts nhwc,nchw] [--out FILE.json]

Exit status: 0, or 1 when a run fails (its output is shown), 2 for bad arguments.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "peers"))
from available import free_openblas_kernels, missing_peer  # noqa: E402


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv):
    ap = argparse.ArgumentParser(description="a whole training epoch, gammacl against PyTorch")
    ap.add_argument("--device", default="pocl", help="gammacl's device (index, P:D or part of a name)")
    ap.add_argument("--runs", type=positive_int, default=3, help="counted rounds (default 3)")
    ap.add_argument("--model", default="cnn5", choices=["cnn5", "resnet18"])
    ap.add_argument("--train-limit", type=positive_int, default=12800)
    ap.add_argument("--test-limit", type=positive_int, default=1000)
    ap.add_argument("--layouts", default="nhwc,nchw", help="PyTorch memory layouts (nhwc, nchw)")
    ap.add_argument("--gammacl", default=os.path.join(ROOT, "build", "apps", "gammacl"))
    ap.add_argument("--python", default="/usr/bin/python3", help="an interpreter with PyTorch")
    ap.add_argument("--out", default=None, metavar="FILE", help="write the figures as JSON")
    args = ap.parse_args(argv)
    args.layouts = [x for x in args.layouts.split(",") if x]
    if not args.layouts or any(x not in ("nhwc", "nchw") for x in args.layouts):
        ap.error("--layouts takes nhwc and/or nchw")
    if not os.access(args.gammacl, os.X_OK):
        ap.error(f"no gammacl at {args.gammacl} (build it first: ninja -C build)")
    problem = missing_peer(args.python)
    if problem:
        ap.error(problem)
    return args


def timed(cmd):
    """Runs cmd to its end; returns (wall seconds, CPU seconds of the child) or raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:])
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited {done.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def spread(values):
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    free_openblas_kernels("epoch.py")
    work = tempfile.mkdtemp(prefix="gammacl-epoch-")
    common = ["--epochs", "1", "--train-limit", str(args.train_limit), "--test-limit", str(args.test_limit)]
    gammacl = [args.gammacl, "train", "--data", "fashion-mnist", "--model", args.model, "--device",
               args.device, "--progress", "0", *common]
    peer = [args.python, os.path.join(HERE, "peers", "torch_train.py"), "--model", args.model, *common]
    sides = [("gammacl", None)] + [(f"PyTorch {x.upper()}", x) for x in args.layouts]
    walls = {name: [] for name, _ in sides}
    cpus = {name: [] for name, _ in sides}
    try:
        for r in range(args.runs + 1):  # round 0 warms caches and is not counted
            for name, layout in sides:
                if layout is None:
                    out = os.path.join(work, "run")
                    shutil.rmtree(out, ignore_errors=True)
                    wall, cpu = timed(gammacl + ["--out", out])
                else:
                    wall, cpu = timed(peer + ["--memory-format", layout])
                if r > 0:
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            if r > 0:
                print(f"round {r}/{args.runs}: " +
                      ", ".join(f"{n} {walls[n][-1]:.2f} s" for n, _ in sides), flush=True)
    except (RuntimeError, OSError) as e:
        print(f"epoch.py: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {"model": args.model, "device": args.device, "runs": args.runs,
              "train_limit": args.train_limit, "test_limit": args.test_limit,
              "wall_s": walls, "cpu_s": cpus, "ratios": {}}
    print(f"\n{args.model}, one epoch of {args.train_limit} images (+ {args.test_limit} test), whole processes:")
    for name, _ in sides:
        print(f"{name}: wall {spread(walls[name])} s, CPU {spread(cpus[name])} s")
    for name, layout in sides[1:]:
        ratios = [g / t for g, t in zip(walls["gammacl"], walls[name])]
        result["ratios"][layout] = ratios
        print(f"wall ratio gammacl / {name}: {spread(ratios)} -> gammacl "
              f"{1 / statistics.median(ratios):.2f}x as fast")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
