#!/usr/bin/env python3
"""tests/eval/check_tasks.py — checks the long-tailed and open-set figures of an eval.json
against the data they were made from (Fashion-MNIST's labels, read here from the IDX files),
and the per-class and shot-group figures a training run writes (metrics.csv, class_acc.csv,
summary.json) against a recomputation from its per-class accuracies and class counts.

  check_tasks.py long-tail EVAL_JSON RHO TRAIN_LIMIT ORDER   (ORDER "" = 0..K-1)
  check_tasks.py open-set EVAL_JSON KNOWN TEST_LIMIT
  check_tasks.py shots RUN_DIR RHO TRAIN_LIMIT ORDER [eval]  (RHO "": a run without --imbalance;
                                                             eval: also RUN_DIR/eval.json)"""
import csv
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


def lt_counts(rho, limit, order):
    """the training images per class that --imbalance RHO keeps of the first LIMIT"""
    lab = labels("train", limit)
    K = 10
    order = [int(x) for x in order.split(",")] if order else list(range(K))
    n_max = min(lab.count(k) for k in range(K))
    want = [0] * K
    for i, c in enumerate(order):
        want[c] = max(1, round(n_max * rho ** (-i / (K - 1))))
    return want


def long_tail(e, rho, limit, order):
    K = 10
    want = lt_counts(rho, limit, order)
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
    # closed_set_acc is clean_acc written twice: recompute it instead, from the per-class
    # accuracies weighed by the known classes' test counts (class k is the k-th known class)
    counts = [sum(1 for x in lab if x == c) for c in known]
    acc = sum(c["acc"] * n for c, n in zip(e["per_class"], counts) if n) / max(1, sum(counts))
    if abs(o["closed_set_acc"] - acc) > 1e-9:
        fail(f"closed-set accuracy {o['closed_set_acc']}, the per-class accuracies weigh to {acc}")
    for s in ("max_cosine", "max_logit", "max_sigmoid", "max_softmax"):
        if not (0 <= o[s]["auroc"] <= 1 and 0 <= o[s]["oscr"] <= o["closed_set_acc"] + 1e-12):
            fail(f"{s}: AUROC {o[s]['auroc']} or OSCR {o[s]['oscr']} out of range")
    # one shared bias: cosine, logit and sigmoid rank the samples alike
    if not (o["max_cosine"]["auroc"] == o["max_logit"]["auroc"] == o["max_sigmoid"]["auroc"]):
        fail("max cosine, logit and sigmoid should give one AUROC")


def cell(v):
    return float(v) if v != "" else None


def close(a, b, tol):
    """a and b both None, or numbers within tol"""
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= tol)


def shots(run, rho, limit, order, with_eval):
    """Per row of metrics.csv: class_acc.csv's row of the same epoch weighs back to test_acc; the
    shot groups (by the training counts: many > n_max/5, few < n_max/25) recomputed from it give
    test_acc_many/medium/few (empty without --imbalance); summary.json's class_acc, class_test_counts
    and long_tail are the last row's; eval.json (same checkpoint, same batch) agrees with them."""
    rows = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
    with open(os.path.join(run, "class_acc.csv")) as f:
        head = f.readline().rstrip("\n").split(",")
        crows = [line.rstrip("\n").split(",") for line in f]
    s = json.load(open(os.path.join(run, "summary.json")))
    K = len(head) - 1
    if head != ["epoch"] + [f"acc_class_{k}" for k in range(K)] or K != len(s["class_acc"]):
        fail(f"class_acc.csv header {head[:3]}.. for {len(s['class_acc'])} classes")
    cols = list(rows[0].keys())
    # appended after the earlier columns, so those keep their places; only test_flip_prev after them
    if cols[-4:] != ["test_acc_many", "test_acc_medium", "test_acc_few", "test_flip_prev"] or cols[:9][-1] != "test_acc":
        fail(f"metrics.csv: the shot columns are not appended at the end: {cols[-5:]}")
    if [r["epoch"] for r in rows] != [c[0] for c in crows] or not rows:
        fail(f"epochs of metrics.csv {[r['epoch'] for r in rows]} vs class_acc.csv {[c[0] for c in crows]}")
    n = s["class_test_counts"]
    N = sum(n)
    if rho:
        test = labels("test", N)
        if n != [test.count(k) for k in range(K)]:
            fail(f"class_test_counts {n} are not the test set's")
    long = bool(rho)
    if long != ("long_tail" in s):
        fail(f"summary.json {'lacks' if long else 'has'} long_tail")
    groups = None
    if long:
        lt = s["long_tail"]
        tc = lt["train_counts"]
        if tc != lt_counts(float(rho), limit, order):
            fail(f"summary.json train_counts {tc}, the formula gives {lt_counts(float(rho), limit, order)}")
        n_max = max(tc)
        if lt["n_max"] != n_max or abs(lt["many_above"] - n_max / 5) > 1e-12 or abs(lt["few_below"] - n_max / 25) > 1e-12:
            fail(f"summary.json thresholds n_max {lt['n_max']}, many > {lt['many_above']}, few < {lt['few_below']}")
        groups = {"many": [k for k in range(K) if tc[k] > n_max / 5],
                  "few": [k for k in range(K) if tc[k] < n_max / 25]}
        groups["medium"] = [k for k in range(K) if k not in groups["many"] + groups["few"]]
        for g, ks in groups.items():
            if not ks:
                fail(f"no {g}-shot class: the run does not test every group")
            if lt[g]["classes"] != len(ks):
                fail(f"summary.json: {lt[g]['classes']} {g}-shot classes, want {len(ks)}")
    varied = set()
    for r, c in zip(rows, crows):
        acc = [cell(v) for v in c[1:]]
        right = []
        for k in range(K):
            if (acc[k] is None) != (n[k] == 0):
                fail(f"epoch {r['epoch']}: class {k} accuracy '{c[k + 1]}' with {n[k]} test images")
            x = (acc[k] or 0) * n[k]
            if abs(x - round(x)) > 5e-7 * n[k] + 1e-9:
                fail(f"epoch {r['epoch']}: class {k} accuracy {acc[k]} is no count of {n[k]} test images")
            right.append(round(x))
        if not close(sum(right) / N, cell(r["test_acc"]), 1e-6):
            fail(f"epoch {r['epoch']}: per-class accuracies weigh to {sum(right) / N}, test_acc is {r['test_acc']}")
        for g in ("many", "medium", "few"):
            want = None
            if groups:
                m = sum(n[k] for k in groups[g])
                want = sum(right[k] for k in groups[g]) / m if m else None
            if not close(cell(r["test_acc_" + g]), want, 1e-6):
                fail(f"epoch {r['epoch']}: test_acc_{g} '{r['test_acc_' + g]}', the per-class figures give {want}")
            varied.add((g, r["test_acc_" + g]))
    last = [cell(v) for v in crows[-1][1:]]
    if s["final"]["epoch"] != int(crows[-1][0]):
        fail(f"summary.json final epoch {s['final']['epoch']}, last row {crows[-1][0]}")
    if not all(close(a, b, 5e-7) for a, b in zip(s["class_acc"], last)):
        fail(f"summary.json class_acc {s['class_acc']} is not class_acc.csv's last row {last}")
    if long:
        lt = s["long_tail"]
        if lt["epoch"] != s["final"]["epoch"]:
            fail("summary.json long_tail is not of the final epoch")
        for g, ks in groups.items():
            m = sum(n[k] for k in ks)
            want = sum(s["class_acc"][k] * n[k] for k in ks) / m if m else None
            if not close(lt[g]["acc"], want, 1e-12) or not close(lt[g]["acc"], cell(rows[-1]["test_acc_" + g]), 5e-7):
                fail(f"summary.json {g}-shot acc {lt[g]['acc']}, per class {want}, metrics.csv {rows[-1]['test_acc_' + g]}")
        if len({v for g, v in varied}) < 3:
            fail("the shot accuracies hardly vary over the rows: a weak test")
    if with_eval:
        e = json.load(open(os.path.join(run, "eval.json")))
        if e["epoch"] != s["final"]["epoch"]:
            fail(f"eval.json is of epoch {e['epoch']}, summary.json of {s['final']['epoch']}")
        if [c["acc"] for c in e["per_class"]] != s["class_acc"]:
            fail(f"eval.json per-class accuracy {[c['acc'] for c in e['per_class']]} vs summary.json {s['class_acc']}")
        if long:
            if [c["train_count"] for c in e["per_class"]] != s["long_tail"]["train_counts"]:
                fail("eval.json and summary.json train counts differ")
            for key in ("n_max", "many_above", "few_below"):
                if e["long_tail"][key] != s["long_tail"][key]:
                    fail(f"eval.json long_tail {key} {e['long_tail'][key]} vs summary.json {s['long_tail'][key]}")
            for g in ("many", "medium", "few"):
                if e["long_tail"][g] != s["long_tail"][g]:
                    fail(f"eval.json {g}-shot {e['long_tail'][g]} vs summary.json {s['long_tail'][g]}")
        elif "long_tail" in e:
            fail("eval.json of a run without --imbalance has long_tail")


if sys.argv[1] == "shots":
    shots(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:] == ["eval"])
    print("ok")
    sys.exit(0)
e = json.load(open(sys.argv[2]))
if sys.argv[1] == "long-tail":
    long_tail(e, float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
else:
    open_set(e, sys.argv[3], int(sys.argv[4]))
print("ok")
