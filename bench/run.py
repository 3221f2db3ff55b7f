#!/usr/bin/env python3
"""bench/run.py — gammacl against its peers on one device, in one run.

Measures, interleaved so that a noisy shared machine affects all alike:
  * cnn5 (or resnet18 on 32x32x3) training throughput (batch 128, 20 steps per timing) of gammacl
    (bench_step) with its tuned kernel parameters, with the untuned defaults (GAMMACL_TUNING=
    defaults), and of the PyTorch reference (bench/peers/torch_train.py, speed mode, same threads)
    in both memory layouts, NCHW and NHWC (channels_last), RUNS times each, in turn; reports each
    median and the medians of the pairwise ratios gammacl / PyTorch;
  * one detailed gammacl run: device time per layer, and cnn5's conv GEMMs through gammacl's
    GEMM path against OpenBLAS SGEMM at the same shapes (bench_step prints the table).
Writes a JSON result (--out) and, with --check BASELINE, flags a drop of more than 10% of the
throughput ratio to PyTorch (the ratio, not the absolute img/s, is what survives machine noise);
the exit code is then 1. --update-baseline writes the result as the new baseline.

usage: bench/run.py [--device pocl] [--model cnn5|resnet18] [--runs 5] [--steps 20] [--build build]
                    [--out FILE] [--check FILE] [--update-baseline FILE] [--python /usr/bin/python3]
                    [--no-peer] [--no-defaults] [--no-nhwc]
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
sys.path.insert(0, os.path.join(HERE, "peers"))
from available import free_openblas_kernels, missing_peer  # noqa: E402


def run(cmd, env=None):
    """Runs a command, returns its stdout; stops the benchmark with its stderr on failure."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"bench/run.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def gammacl_ips(args, tmp, tuning=None):
    out = os.path.join(tmp, "g.json")
    env = dict(os.environ)
    env.pop("GAMMACL_TUNING", None)
    if tuning:
        env["GAMMACL_TUNING"] = tuning
    run([os.path.join(args.build, "bench", "bench_step"), "--device", args.device, "--model", args.model,
         "--no-layers", "--no-gemm", "--steps", str(args.steps), "--repeats", "1", "--json", out], env=env)
    with open(out) as f:
        rows = json.load(f)
    return rows[0]["img_per_s"], rows[0]


def torch_ips(args, tmp, layout="nchw"):
    out = os.path.join(tmp, "t.json")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    extra = ["--synthetic", "3,32,32,10"] if args.model == "resnet18" else []
    run([args.python, os.path.join(HERE, "peers", "torch_train.py"), "--model", args.model, "--steps",
         str(args.steps), "--warmup", "3", "--repeats", "1", "--threads", str(args.threads),
         "--memory-format", layout, "--json", out] + extra, env=env)
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
    ap.add_argument("--model", choices=("cnn5", "resnet18"), default="cnn5")
    ap.add_argument("--no-defaults", action="store_true",
                    help="skip gammacl with the untuned default kernel parameters")
    ap.add_argument("--no-nhwc", action="store_true", help="skip PyTorch's NHWC layout")
    args = ap.parse_args()
    if args.runs < 1 or args.steps < 1:
        sys.exit("bench/run.py: --runs and --steps must be positive")
    free_openblas_kernels("bench/run.py")
    problem = None if args.no_peer else missing_peer(args.python)
    if problem:
        sys.exit(f"bench/run.py: {problem}; --no-peer runs gammacl alone")

    def line(name, xs):
        return f"{name}: median {statistics.median(xs):.1f} img/s (min {min(xs):.1f}, max {max(xs):.1f})"

    def ratio_line(name, a, b):
        r = [x / y for x, y in zip(a, b)]
        return r, f"ratio {name}: median {statistics.median(r):.2f} (min {min(r):.2f}, max {max(r):.2f})"

    with tempfile.TemporaryDirectory() as tmp:
        g, d, t, h, info = [], [], [], [], None
        for i in range(args.runs):
            ips, info = gammacl_ips(args, tmp)
            g.append(ips)
            msg = f"run {i + 1}/{args.runs}: gammacl {g[-1]:.1f} img/s"
            if not args.no_defaults:
                d.append(gammacl_ips(args, tmp, "defaults")[0])
                msg += f", untuned {d[-1]:.1f}"
            if not args.no_peer:
                t.append(torch_ips(args, tmp))
                msg += f", PyTorch NCHW {t[-1]:.1f}"
                if not args.no_nhwc:
                    h.append(torch_ips(args, tmp, "nhwc"))
                    msg += f", NHWC {h[-1]:.1f}"
            print(msg, flush=True)
        detail = run([os.path.join(args.build, "bench", "bench_step"), "--device", args.device,
                      "--model", args.model, "--steps", "3", "--repeats", "3"])

    result = {
        "device": info["device"], "platform": info["platform"], "driver": info["driver"],
        "model": args.model, "batch": info["batch"], "runs": args.runs, "steps": args.steps,
        "gammacl_img_per_s": g, "gammacl_median": statistics.median(g),
    }
    summary = [line(f"gammacl on {result['device']} (tuned as this machine has it)", g)]
    if d:
        result.update(untuned_img_per_s=d, untuned_median=statistics.median(d))
        summary.append(line("gammacl with the untuned defaults", d))
    ratios = []
    if t:
        ratios, r_line = ratio_line("gammacl / PyTorch NCHW", g, t)
        result.update(torch_img_per_s=t, torch_median=statistics.median(t),
                      ratio_each=ratios, ratio_median=statistics.median(ratios),
                      torch_threads=args.threads)
        summary += [line(f"PyTorch NCHW, {args.threads} threads", t)]
        if h:
            rh, rh_line = ratio_line("gammacl / PyTorch NHWC", g, h)
            result.update(torch_nhwc_img_per_s=h, torch_nhwc_median=statistics.median(h),
                          ratio_nhwc_each=rh, ratio_nhwc_median=statistics.median(rh))
            summary += [line(f"PyTorch NHWC, {args.threads} threads", h)]
        summary.append(r_line)
        if h:
            summary.append(rh_line)
            if d:
                rd, rd_line = ratio_line("untuned gammacl / PyTorch NHWC", d, h)
                result.update(ratio_untuned_nhwc_median=statistics.median(rd))
                summary.append(rd_line)
    if d:
        ru, ru_line = ratio_line("tuned / untuned gammacl", g, d)
        result.update(ratio_tuned_untuned_median=statistics.median(ru))
        summary.append(ru_line)
    result["detail"] = detail
    print(detail)
    print("\n".join(summary))
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
