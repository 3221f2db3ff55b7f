#!/usr/bin/env python3
"""tests/fuzz/make_corpus_text.py — writes the seed corpora of the text-input fuzz targets.

Run from anywhere: python3 tests/fuzz/make_corpus_text.py. It writes into tests/fuzz/corpus/
  spec/     three shape bytes (channels-1, height-1, width-1) + a model spec: the shipped models,
            every layer with its options, labels and residual links, and typical mistakes;
  cmdline/  a mode byte, then NUL-separated `gammacl train` arguments (mode 0) or checkpoint
            option lines (mode 1): good runs, every flag, and typical mistakes.
Files are named seed-*; crash reproducers found by fuzzing are kept next to them under other
names and are not touched.
"""
import os

from corpus_files import out_dir, save

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def shape(c, h, w):
    return bytes([c - 1, h - 1, w - 1])


SPECS = {
    "tiny": "conv 4\nbn\nrelu\ngap\n",
    "all-options": "# every layer\nconv 8 k=5 s=2 p=2\nbn\nrelu\nmaxpool k=2\nconv 16 k=1 s=1 p=0\n"
                   "bn\nrelu\ngap\nlinear 10\n",
    "residual": "stem: conv 8\nbn\nrelu\nconv 8\nbn\nadd stem\nrelu\ngap\n",
    "branch": "a: conv 8\nb: relu\nconv 8 < a\nadd b\ngap\n",
    "comments-blanks": "\n\t# comment only\nconv 4   # trailing\n\n  bn\r\nrelu\ngap\n",
    "bad-unknown-op": "conv 8\ndropout 0.5\ngap\n",
    "bad-label": "1x: conv 8\ngap\n",
    "bad-missing-label": "conv 8\nadd nowhere\ngap\n",
    "bad-duplicate-label": "a: conv 8\na: relu\ngap\n",
    "bad-not-vector": "conv 8\nbn\nrelu\n",
    "bad-unused": "a: conv 8\nconv 4 < a\nb: relu\ngap\n",
    "bad-shape-add": "a: conv 8\nconv 16\nadd a\ngap\n",
    "bad-pool-too-big": "maxpool k=64\ngap\n",
    "bad-numbers": "conv 99999999999999999999 k=-3\ngap\n",
    "bad-option": "conv 8 q=3\ngap\n",
    "bad-label-only": "x:\n",
    "bad-from-no-label": "conv 8 <\ngap\n",
    "bad-too-many-words": "conv 8 k=3 s=1 p=1 a b c d e f g h i j k l m\ngap\n",
    "bad-empty": "",
    "bad-long-line": "conv 8 " + "#" * 600 + "\ngap\n",
}


def spec_corpus():
    d = out_dir("spec")
    for name, text in SPECS.items():
        save(d, name, shape(3, 32, 32) + text.encode())
    save(d, "tiny-1x1", shape(1, 1, 1) + SPECS["tiny"].encode())
    save(d, "tiny-odd", shape(8, 7, 5) + SPECS["all-options"].encode())
    for model in ("cnn5", "resnet18"):
        path = os.path.join(ROOT, "net", "models", model + ".spec")
        with open(path, "rb") as f:
            text = f.read()
        save(d, model + "-fashion", shape(1, 28, 28) + text)
        save(d, model + "-cifar", shape(3, 32, 32) + text)
        save(d, model + "-large", shape(8, 256, 256) + text)


ARGS = {
    "defaults": [],
    "typical": ["--data", "fashion-mnist", "--model", "cnn5", "--loss", "ce", "--gamma", "16",
                "--epochs", "3", "--batch", "128", "--lr", "0.1", "--wd", "5e-4", "--seed", "1",
                "--out", "runs/x"],
    "bce-theory": ["--loss=bce", "--bias-init=theory", "--gamma=0.5", "--momentum=0.99"],
    "step-schedule": ["--lr-schedule", "step", "--milestones", "2,5,9", "--lr-decay", "0.1"],
    "limits": ["--train-limit", "512", "--test-limit", "256", "--device", "pocl", "--progress", "0",
               "--fast-math"],
    "resume": ["--resume", "runs/x", "--device", "1:0"],
    "help": ["--help"],
    "bad-unknown": ["--frobnicate"],
    "bad-missing-value": ["--epochs"],
    "bad-range": ["--gamma", "1e300", "--lr", "nan", "--epochs", "0"],
    "bad-list": ["--lr-schedule", "step", "--milestones", "5,3,,"],
    "bad-step-no-milestones": ["--lr-schedule", "step"],
    "bad-bias": ["--bias-init", "inf"],
    "bad-positional": ["extra"],
    "bad-seed": ["--seed", "-1"],
    "long-strings": ["--data", "d" * 511, "--model", "m" * 511, "--out", "o" * 1023],
    "too-long": ["--out", "o" * 1024],
}

METAS = {
    "typical": "data=fashion-mnist\nmodel=cnn5\nloss=bce\ngamma=16\nepochs=3\nbatch=128\nlr=0.1\n"
               "momentum=0.90000000000000002\nwd=0.00050000000000000001\nlr-schedule=step\n"
               "milestones=2,4\nlr-decay=0.20000000000000001\nseed=1\ntrain-limit=0\n"
               "test-limit=0\nbias-init=zero\nfast-math=0\n",
    "ignored-keys": "device=0\nout=/tmp/x\nprogress=1\nresume=x\nunknown=3\nno-equals-sign\n",
    "bad-value": "epochs=abc\n",
    "bad-range": "gamma=-1\n",
    "no-final-newline": "lr=0.5",
    "empty-values": "data=\nmodel=\n",
    "equals-in-value": "data=a=b\nbias-init=1e-3\n",
}


def cmdline_corpus():
    d = out_dir("cmdline")
    for name, args in ARGS.items():
        save(d, "args-" + name, b"\x00" + b"\x00".join(a.encode() for a in args))
    for name, text in METAS.items():
        save(d, "meta-" + name, b"\x01" + text.encode())


if __name__ == "__main__":
    spec_corpus()
    cmdline_corpus()
