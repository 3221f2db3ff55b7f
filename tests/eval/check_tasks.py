#!/usr/bin/env python3
"""tests/eval/check_tasks.py — checks the long-tailed and open-set figures of an eval.json
against the data they were made from (Fashion-MNIST's labels, read here from the IDX files).

  check_tasks.py long-tail EVAL_JSON RHO TRAIN_LIMIT ORDER   (ORDER "" = 0..K-1)
  check_tasks.py open-set EVAL_JSON KNOWN TEST_LIMIT"""
import gzip
import json
import os
import sys


def labels(split, limit):
    roots = [os.environ.get("GAMMACL_DATA", ""), "/usr/share/datasets"]
    name = "train-labels-idx1-ubyte" if split == "train" else "t10k-labels-idx1-ubyte"
    for r in roots:
        for ext in ("", ".gz"):
            p = os.path.join(r, "fashion-mnist", name + ext)
            if r and os.path.exists(p):
                data = (gzip.open if ext else open)(p, "rb").read()
                return list(data[8:8 + limit])
    sys.exit("no Fashion-MNIST labels found")


def fail(msg):
    print("problem:", msg)
    sys.exit(1)


def long_tail(e, rho, limit, order):
    lab = labels("train", limit)
    K = 10
    order = [int(x) for x in order.split(",")] if order else list(range(K))
    n_max = min(lab.count(k) for k in range(K))
    want = [0] * K
    for i, c in enumerate(order):
        want[c] = max(1, round(n_max * rho ** (-i / (K - 1))))
    got = [c["train_count"] for c in e["per_class"]]
    if got != want:
        fail(f"train counts {got}, the formula gives {want}")
    lt = e["long_tail"]
    if sum(lt[g]["classes"] for g in ("many", "medium", "few")) != K:
        fail("the shot groups do not cover the classes")
    top = max(got)
    if abs(lt["many_above"] - top / 5) > 1e-9 or abs(lt["few_below"] - top / 25) > 1e-9:
        fail("shot thresholds are not n_max/5 and n_max/25")
    many = [k for k in range(K) if got[k] > top / 5]
    if lt["many"]["classes"] != len(many):
        fail("many-shot class count")
    test = labels("test", e["test_count"])
    acc = sum(c["acc"] * test.count(c["class"]) for c in e["per_class"]) / len(test)
    if abs(acc - e["clean_acc"]) > 1e-9:
        fail(f"per-class accuracies weigh to {acc}, not the clean accuracy {e['clean_acc']}")


def open_set(e, known, limit):
    known = [int(x) for x in known.split(",")]
    lab = labels("test", limit)
    o = e["open_set"]
    if e["classes"] != len(known) or len(e["per_class"]) != len(known):
        fail("K is not the number of known classes")
    if o["known_count"] != sum(1 for x in lab if x in known) or o["unknown_count"] != sum(1 for x in lab if x not in known):
        fail(f"known/unknown counts {o['known_count']}/{o['unknown_count']}")
    if o["closed_set_acc"] != e["clean_acc"]:
        fail("closed-set accuracy")
    for s in ("max_cosine", "max_logit", "max_sigmoid", "max_softmax"):
        if not (0 <= o[s]["auroc"] <= 1 and 0 <= o[s]["oscr"] <= o["closed_set_acc"] + 1e-12):
            fail(f"{s}: AUROC {o[s]['auroc']} or OSCR {o[s]['oscr']} out of range")
    # one shared bias: cosine, logit and sigmoid rank the samples alike
    if not (o["max_cosine"]["auroc"] == o["max_logit"]["auroc"] == o["max_sigmoid"]["auroc"]):
        fail("max cosine, logit and sigmoid should give one AUROC")


e = json.load(open(sys.argv[2]))
if sys.argv[1] == "long-tail":
    long_tail(e, float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
else:
    open_set(e, sys.argv[3], int(sys.argv[4]))
print("ok")
