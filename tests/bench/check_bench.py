#!/usr/bin/env python3
"""tests/bench/check_bench.py DIR — checks a finished `gammacl bench` folder: bench.json holds
finite figures of the recipe's sizes for every device, bench.csv says the same numbers, and the
charts are valid PNGs with an SVG beside each. Exit 1 with the first problems found."""
import csv
import json
import math
import os
import struct
import sys

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


def positive(v):
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def main(folder):
    b = json.load(open(os.path.join(folder, "bench.json")))
    r = b["recipe"]
    need(b["format"] == 1, "format 1")
    need(len(b["devices"]) >= 1, "at least one device")
    rows = list(csv.DictReader(open(os.path.join(folder, "bench.csv"))))
    for d in b["devices"]:
        i = d["id"]
        need(d.get("kernel_params") in ("no tunable kernels", "untuned defaults") or
             str(d.get("kernel_params")).startswith(("tuned here (", "shipped for this CPU (")),
             f"{i}: which kernel parameters ran ({d.get('kernel_params')!r})")
        for k in ("fma_gflops", "bandwidth_gbs"):
            need(positive(d["probes"][k]), f"{i}: probe {k} positive")
        for k in ("cold_s", "cached_s"):
            need(positive(d["build"][k]), f"{i}: build {k} positive")
        s = d["speed"]
        for k in ("train_img_per_s", "eval_img_per_s", "ms_per_step", "kernel_ms", "conv_ms", "step_flops", "conv_flops"):
            need(positive(s[k]), f"{i}: speed {k} positive")
        need(abs(s["train_img_per_s"] * s["ms_per_step"] / 1e3 - r["speed_batch"]) < 1e-6 * r["speed_batch"],
             f"{i}: img/s and ms/step describe the same step")
        groups = sum(v for v in s["groups_ms"].values() if v is not None)
        need(abs(groups - s["kernel_ms"]) <= 1e-6 * s["kernel_ms"], f"{i}: kernel groups sum to the kernel time")
        need(s["conv_ms"] <= s["kernel_ms"] * (1 + 1e-9), f"{i}: convolutions within the kernel time")
        t = d["trace"]
        need(len(t["ce"]) == r["trace_steps"] == len(t["bce"]), f"{i}: trace of {r['trace_steps']} steps")
        need(all(positive(v) for v in t["ce"] + t["bce"]), f"{i}: trace losses positive")
        need(t["ce"][-1] < t["ce"][0], f"{i}: the seeded steps lower the loss")
        sc = d["science"]
        need(len(sc) == 2 * len(r["gammas"]), f"{i}: {2 * len(r['gammas'])} science cells")
        need(sorted({(c["loss"], c["gamma"]) for c in sc}) ==
             sorted((l, g) for l in ("ce", "bce") for g in r["gammas"]), f"{i}: the science grid")
        for c in sc:
            need(0 <= c["test_acc"] <= 1 and positive(c["excess"]) and math.isfinite(c["rate"]),
                 f"{i}: science cell {c['loss']} {c['gamma']} figures")
        cv = d["convergence_test_acc"]
        need(len(cv) == r["conv_seeds"] and all(len(x) == r["conv_epochs"] + 1 for x in cv),
             f"{i}: {r['conv_seeds']} convergence curves of {r['conv_epochs'] + 1} points")
        # bench.csv: the same numbers as bench.json
        mine = {(x["section"], x["figure"], x["loss"], x["gamma"]): x["value"] for x in rows if x["device"] == i}
        def same(key, v):
            got = mine.get(key)
            need(got is not None and got != "" and abs(float(got) - v) <= 1e-8 * abs(v),
                 f"{i}: bench.csv {key} = {got}, bench.json {v}")
        same(("limit", "fma_gflops", "", ""), d["probes"]["fma_gflops"])
        same(("speed", "train_img_per_s", "", ""), s["train_img_per_s"])
        for c in sc:
            same(("science", "test_acc", c["loss"], "%g" % c["gamma"]), c["test_acc"])
            same(("science", "rate", c["loss"], "%g" % c["gamma"]), c["rate"])
    for name in ("science", "speed", "kernels", "agreement"):
        png = os.path.join(folder, "plots", name + ".png")
        data = open(png, "rb").read()
        need(data[:8] == b"\x89PNG\r\n\x1a\n", f"{name}.png is a PNG")
        w, h = struct.unpack(">II", data[16:24])
        need(w >= 400 and h >= 300 and len(data) > 5000, f"{name}.png has a real picture ({w}x{h})")
        svg = open(os.path.join(folder, "plots", name + ".svg")).read()
        need(svg.lstrip().startswith("<?xml") and "</svg>" in svg, f"{name}.svg is complete")
    for p in problems[:20]:
        print("problem:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
