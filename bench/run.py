#!/usr/bin/env python3
"""bench/run.py — gammacl against its peers on one device, in one run.

Measures, interleaved so that a noisy shared machine affects both alike:
  * cnn5 training throughput (batch 128, 20 steps per timing) of gammacl (bench_step) and of the
    PyTorch reference (bench/peers/torch_train.py, speed mode, same threads), RUNS times each,
    alternating; reports each median and the median of the pairwise ratios gammacl / PyTorch;
  * one detailed gammacl run: device time per layer, and cnn5's conv GEMMs through gammacl's
    GEMM path against OpenBLAS SGEMM at the same shapes (bench_step prints the table).
Writes a JSON result (--out) and, with --check BASELINE, flags a drop of more than 10% of the
throughput ratio to PyTorch (the ratio, not the absolute img/s, is what survives machine noise);
the exit code is then 1. --update-baseline writes the result as the new baseline.

usage: bench/run.py [--device pocl] [--runs 5] [--steps 20] [--build build] [--out FILE]
                    [--check FILE] [--update-baseline FILE] [--python /usr/bin/python3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd, env=None):
    """Runs a command, returns its stdout; stops the benchmark with its stderr on failure."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"bench/run.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def gammacl_ips(args, tmp):
    out = os.path.join(tmp, "g.json")
    run([os.path.join(args.build, "bench", "bench_step"), "--device", args.device, "--no-layers",
         "--no-gemm", "--steps", str(args.steps), "--repeats", "1", "--json", out])
    with open(out) as f:
        rows = json.load(f)
    return rows[0]["img_per_s"], rows[0]


def torch_ips(args, tmp):
    out = os.path.join(tmp, "t.json")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    run([args.python, os.path.join(HERE, "peers", "torch_train.py"), "--model", "cnn5", "--steps",
         str(args.steps), "--warmup", "3", "--repeats", "1", "--threads", str(args.threads), "--json",
         out], env=env)
    with open(out) as f:
        return json.load(f)["speed"]["img_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="pocl")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (the cores PoCL uses)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--python", default="/usr/bin/python3", help="an interpreter with PyTorch")
    ap.add_argument("--out", default=None)
    ap.add_argument("--check", default=None, metavar="BASELINE")
    ap.add_argument("--update-baseline", default=None, metavar="FILE")
    ap.add_argument("--no-peer", action="store_true", help="skip PyTorch (no ratio)")
    args = ap.parse_args()
    if args.runs < 1 or args.steps < 1:
        sys.exit("bench/run.py: --runs and --steps must be positive")

    with tempfile.TemporaryDirectory() as tmp:
        g, t, info = [], [], None
        for i in range(args.runs):
            ips, info = gammacl_ips(args, tmp)
            g.append(ips)
            if not args.no_peer:
                t.append(torch_ips(args, tmp))
            print(f"run {i + 1}/{args.runs}: gammacl {g[-1]:.0f} img/s"
                  + ("" if args.no_peer else f", PyTorch {t[-1]:.0f} img/s, ratio {g[-1] / t[-1]:.2f}"),
                  flush=True)
        detail = run([os.path.join(args.build, "bench", "bench_step"), "--device", args.device,
                      "--steps", "3", "--repeats", "3"])

    result = {
        "device": info["device"], "platform": info["platform"], "driver": info["driver"],
        "model": "cnn5", "batch": info["batch"], "runs": args.runs, "steps": args.steps,
        "gammacl_img_per_s": g, "gammacl_median": statistics.median(g),
    }
    if t:
        ratios = [a / b for a, b in zip(g, t)]
        result.update(torch_img_per_s=t, torch_median=statistics.median(t),
                      ratio_each=ratios, ratio_median=statistics.median(ratios),
                      torch_threads=args.threads)
    result["detail"] = detail
    print(detail)
    print(f"gammacl on {result['device']}: median {result['gammacl_median']:.0f} img/s "
          f"(min {min(g):.0f}, max {max(g):.0f})")
    if t:
        print(f"PyTorch {args.threads} threads: median {result['torch_median']:.0f} img/s "
              f"(min {min(t):.0f}, max {max(t):.0f})")
        print(f"ratio gammacl / PyTorch: median {result['ratio_median']:.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    if args.update_baseline:
        with open(args.update_baseline, "w") as f:
            json.dump({k: v for k, v in result.items() if k != "detail"}, f, indent=2)
    if args.check:
        with open(args.check) as f:
            base = json.load(f)
        key = "ratio_median" if "ratio_median" in base and t else "gammacl_median"
        drop = 1 - result[key] / base[key]
        print(f"regression check on {key}: baseline {base[key]:.3f}, now {result[key]:.3f} "
              f"({-100 * drop:+.1f}%)")
        if drop > 0.10:
            print("REGRESSION: more than 10% below the baseline")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
