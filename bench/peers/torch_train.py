#!/usr/bin/env python3
"""PyTorch peer of gammacl: the same networks and training recipe, as a speed and accuracy reference.

gammacl trains small CNNs with a *normalized* classifier head (features and class weights on the unit
sphere, scale gamma) under either cross-entropy (CE) or a one-vs-all binary cross-entropy with one
shared, learnable bias (BCE). This script trains the same models with the same recipe in PyTorch, on
CPU or CUDA, so that gammacl's accuracy can be checked against an independent implementation and its
speed compared with a mature engine (oneDNN on CPU, cuDNN on NVIDIA).

Two modes:
  * training (default): --epochs N over Fashion-MNIST (or --synthetic data); each epoch logs the train
    CE and train BCE losses at the run's gamma, train accuracy and test accuracy.
  * speed (--steps N): times N training steps on fixed, pre-built batches after --warmup W steps,
    --repeats R times, and reports the median img/s and ms/step. No evaluation.

The file is self-contained (torch + numpy only) and is not used by gammacl's test suite.
See README.md next to it for the exact recipe and the choices made where the recipe was open.
"""

import argparse
import json
import math
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_data import load_data

EVAL_BATCH = 128  # evaluation batch (eval-mode BN, so it does not change the results)


# ---------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------

def conv_bn_relu(cin, cout):
    """3x3 convolution (pad 1, no bias) + batch norm + ReLU."""
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class CNN5(nn.Module):
    """Five conv-BN-ReLU layers, two 2x2 max-pools, global average pool -> 128-d feature."""

    feature_dim = 128

    def __init__(self, in_channels):
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn_relu(in_channels, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
            *conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
            *conv_bn_relu(64, 128),
        )

    def forward(self, x):
        return self.body(x).mean(dim=(2, 3))


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv-BN, identity or 1x1 conv-BN projection shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x), inplace=True)


class ResNet18(nn.Module):
    """CIFAR-style ResNet-18: 3x3 stem, no max-pool, stages 64/128/256/512 -> 512-d feature."""

    feature_dim = 512

    def __init__(self, in_channels):
        super().__init__()
        layers = conv_bn_relu(in_channels, 64)
        cin = 64
        for stage, cout in enumerate((64, 128, 256, 512)):
            for block in range(2):
                stride = 2 if (stage > 0 and block == 0) else 1
                layers.append(BasicBlock(cin, cout, stride))
                cin = cout
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x).mean(dim=(2, 3))


def theory_bias(gamma, k):
    """Optimal shared BCE bias b*(gamma, K) at the simplex ETF, evaluated in log space.

    b* = log(((K-2) + sqrt((K-2)^2 + 4(K-1) e^A)) / (2 e^{gamma/(K-1)})), A = gamma K/(K-1).
    Factoring e^{A/2} out of the numerator keeps every exponential <= 1 for gamma >= 0.
    """
    a = gamma * k / (k - 1)
    e = math.exp(-a)
    inner = (k - 2) * math.exp(-a / 2) + math.sqrt((k - 2) ** 2 * e + 4 * (k - 1))
    return a / 2 + math.log(inner) - math.log(2.0) - gamma / (k - 1)


class NormalizedHead(nn.Module):
    """Cosine classifier: cos_k = <h/||h||, w_k/||w_k||>; W is K x d.

    With use_bias (BCE runs) it owns one shared scalar bias b, subtracted from every logit.
    """

    def __init__(self, dim, classes, use_bias, bias_init):
        super().__init__()
        bound = 1.0 / math.sqrt(dim)
        self.weight = nn.Parameter(torch.empty(classes, dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.tensor(float(bias_init))) if use_bias else None

    def forward(self, h):
        return F.normalize(h, dim=1) @ F.normalize(self.weight, dim=1).t()


class Net(nn.Module):
    """Backbone + normalized head; forward returns the cosine matrix (N x K)."""

    def __init__(self, backbone, classes, use_bias, bias_init):
        super().__init__()
        self.backbone = backbone
        self.head = NormalizedHead(backbone.feature_dim, classes, use_bias, bias_init)

    def forward(self, x):
        return self.head(self.backbone(x))


def build_model(args, in_channels, classes):
    """Builds the network (after the caller seeded torch); returns (model, initial bias value)."""
    backbone = CNN5(in_channels) if args.model == "cnn5" else ResNet18(in_channels)
    b_star = theory_bias(args.gamma, classes)
    if args.bias_init == "zero":
        b0 = 0.0
    elif args.bias_init == "theory":
        b0 = b_star
    else:
        b0 = float(args.bias_init)
    model = Net(backbone, classes, use_bias=(args.loss == "bce"), bias_init=b0)
    return model, b_star


# ---------------------------------------------------------------------------------------------------
# Losses, optimizer, schedule
# ---------------------------------------------------------------------------------------------------

def ce_loss(cos, y, gamma, reduction="mean"):
    """Cross entropy on logits gamma*cos."""
    return F.cross_entropy(gamma * cos, y, reduction=reduction)


def bce_loss(cos, y, gamma, bias, reduction="mean"):
    """Sum over classes of one-vs-all BCE on logits gamma*cos - b; mean (or sum) over the batch."""
    onehot = F.one_hot(y, cos.shape[1]).to(cos.dtype)
    total = F.binary_cross_entropy_with_logits(gamma * cos - bias, onehot, reduction="sum")
    return total / cos.shape[0] if reduction == "mean" else total


def make_optimizer(model, args):
    """SGD with momentum; weight decay on conv weights and the classifier W only (not BN, not b)."""
    decay, no_decay = [], []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            decay.append(module.weight)
            if module.bias is not None:
                no_decay.append(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            no_decay += [module.weight, module.bias]
        elif isinstance(module, NormalizedHead):
            decay.append(module.weight)
            if module.bias is not None:
                no_decay.append(module.bias)
    n_params = sum(1 for _ in model.parameters())
    assert len(decay) + len(no_decay) == n_params, "a parameter is in no weight-decay group"
    groups = [{"params": decay, "weight_decay": args.wd},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum)


def cosine_lr(lr0, step, total_steps):
    """lr_t = lr0 * 0.5 * (1 + cos(pi * t / T)) for the global step t in [0, T)."""
    return lr0 * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))


def train_step(model, opt, x, y, args, lr):
    """One SGD step at learning rate lr; returns (loss, cos) tensors (no host synchronization)."""
    for group in opt.param_groups:
        group["lr"] = lr
    cos = model(x)
    if args.loss == "ce":
        loss = ce_loss(cos, y, args.gamma)
    else:
        loss = bce_loss(cos, y, args.gamma, model.head.bias)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach(), cos.detach()


# ---------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, x_all, y_all, gamma, bce_bias, device, fmt):
    """Eval-mode pass: mean CE, mean BCE (bias bce_bias), argmax-of-cosine accuracy (%)."""
    model.eval()
    ce_sum = torch.zeros((), dtype=torch.float64, device=device)
    bce_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, x_all.shape[0], EVAL_BATCH):
        x = x_all[start:start + EVAL_BATCH].to(device).contiguous(memory_format=fmt)
        y = y_all[start:start + EVAL_BATCH].to(device)
        cos = model(x)
        ce_sum += ce_loss(cos, y, gamma, reduction="sum").double()
        bce_sum += bce_loss(cos, y, gamma, bce_bias, reduction="sum").double()
        correct += (cos.argmax(dim=1) == y).sum()
    model.train()
    n = max(1, x_all.shape[0])
    return ce_sum.item() / n, bce_sum.item() / n, 100.0 * correct.item() / n


def memory_format(args):
    """torch memory format of activations: NCHW (PyTorch's default) or NHWC (channels_last)."""
    return torch.channels_last if args.memory_format == "nhwc" else torch.contiguous_format


def synchronize(device):
    """Waits for queued device work (no-op on CPU) so that wall-clock readings are meaningful."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------------------------------------
# Modes
# ---------------------------------------------------------------------------------------------------

def run_training(args, data, model, opt, b_star, device):
    """Trains for args.epochs; returns the list of per-epoch rows."""
    x_tr, y_tr = data["x_train"].to(device), data["y_train"].to(device)
    n = x_tr.shape[0]
    steps_per_epoch = math.ceil(n / args.batch)  # last partial batch kept
    total_steps = args.epochs * steps_per_epoch
    order_rng = np.random.default_rng(args.seed)
    rows, step = [], 0
    fmt = memory_format(args)
    print(f"training {args.model} ({args.loss}, gamma {args.gamma:g}) on {data['source']}: "
          f"{n} train / {data['x_test'].shape[0]} test, {steps_per_epoch} steps/epoch, "
          f"b* = {b_star:.4f}", flush=True)
    for epoch in range(1, args.epochs + 1):
        perm = torch.from_numpy(order_rng.permutation(n)).to(device)
        run_loss = torch.zeros((), dtype=torch.float64, device=device)
        run_correct = torch.zeros((), dtype=torch.int64, device=device)
        synchronize(device)
        t0 = time.perf_counter()
        for start in range(0, n, args.batch):
            idx = perm[start:start + args.batch]
            x = x_tr.index_select(0, idx).contiguous(memory_format=fmt)
            y = y_tr.index_select(0, idx)
            lr = cosine_lr(args.lr, step, total_steps)
            loss, cos = train_step(model, opt, x, y, args, lr)
            run_loss += loss.double() * y.shape[0]
            run_correct += (cos.argmax(dim=1) == y).sum()
            step += 1
        synchronize(device)
        train_s = time.perf_counter() - t0

        t1 = time.perf_counter()
        bias = model.head.bias.item() if args.loss == "bce" else b_star
        tr_ce, tr_bce, tr_acc = evaluate(model, data["x_train"], data["y_train"], args.gamma, bias,
                                         device, fmt)
        te_ce, te_bce, te_acc = evaluate(model, data["x_test"], data["y_test"], args.gamma, bias,
                                         device, fmt)
        eval_s = time.perf_counter() - t1
        row = {
            "epoch": epoch, "seconds": train_s, "eval_seconds": eval_s, "lr": lr,
            "train_ce": tr_ce, "train_bce": tr_bce, "train_acc": tr_acc,
            "test_ce": te_ce, "test_bce": te_bce, "test_acc": te_acc, "bias": bias,
            "run_loss": run_loss.item() / n, "run_acc": 100.0 * run_correct.item() / n,
            "img_per_s": n / train_s,
        }
        rows.append(row)
        print(f"epoch {epoch}/{args.epochs}  lr {lr:.4g}  train ce {tr_ce:.4f} bce {tr_bce:.4f} "
              f"acc {tr_acc:.2f}%  test acc {te_acc:.2f}%  b {bias:.4f}  "
              f"{train_s:.1f}s ({n / train_s:.0f} img/s) + eval {eval_s:.1f}s", flush=True)
    return rows


def run_speed(args, data, model, opt, device):
    """Times args.repeats runs of args.steps training steps on fixed batches; returns a summary."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # throughput mode: let cuDNN pick its fastest kernels
    x_all, y_all = data["x_train"], data["y_train"]
    n_fixed = max(1, min(4, x_all.shape[0] // args.batch))
    if x_all.shape[0] < args.batch:
        raise SystemExit(f"speed mode needs at least --batch ({args.batch}) training samples")
    perm = torch.from_numpy(np.random.default_rng(args.seed).permutation(x_all.shape[0]))
    batches = []
    for i in range(n_fixed):
        idx = perm[i * args.batch:(i + 1) * args.batch]
        x = x_all[idx].to(device).contiguous(memory_format=memory_format(args))
        batches.append((x, y_all[idx].to(device)))
    total_steps = args.warmup + args.repeats * args.steps
    step = 0

    def run(count):
        nonlocal step
        for _ in range(count):
            x, y = batches[step % n_fixed]
            train_step(model, opt, x, y, args, cosine_lr(args.lr, step, total_steps))
            step += 1

    run(args.warmup)
    synchronize(device)
    timings = []
    for r in range(args.repeats):
        synchronize(device)
        t0 = time.perf_counter()
        run(args.steps)
        synchronize(device)
        dt = time.perf_counter() - t0
        timings.append(dt)
        print(f"repeat {r + 1}/{args.repeats}: {1000 * dt / args.steps:.2f} ms/step, "
              f"{args.steps * args.batch / dt:.1f} img/s", flush=True)
    med = statistics.median(timings)
    summary = {
        "steps": args.steps, "warmup": args.warmup, "repeats": args.repeats,
        "fixed_batches": n_fixed, "seconds": timings,
        "img_per_s_each": [args.steps * args.batch / t for t in timings],
        "ms_per_step": 1000.0 * med / args.steps,
        "img_per_s": args.steps * args.batch / med,
    }
    print(f"speed {args.model} batch {args.batch} on {device_name(device)}, "
          f"{torch.get_num_threads()} threads: median {summary['img_per_s']:.1f} img/s, "
          f"{summary['ms_per_step']:.2f} ms/step (of {args.repeats} x {args.steps} steps)", flush=True)
    return summary


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------

def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def nonnegative_float(text):
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def bias_init_arg(text):
    if text in ("zero", "theory"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected zero, theory or a number, got {text}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"bias init must be finite, got {text}")
    return text


def synthetic_arg(text):
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"expected C,H,W,K, got {text}")
    try:
        c, h, w, k = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected four integers C,H,W,K, got {text}") from None
    if c < 1 or h < 4 or w < 4 or k < 2:
        raise argparse.ArgumentTypeError("need C >= 1, H >= 4, W >= 4, K >= 2")
    return (c, h, w, k)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="PyTorch peer of gammacl: normalized-head CE/BCE training and step timing.")
    p.add_argument("--model", choices=("cnn5", "resnet18"), default="cnn5")
    p.add_argument("--loss", choices=("ce", "bce"), default="ce")
    p.add_argument("--gamma", type=positive_float, default=16.0, help="scale of the cosines")
    p.add_argument("--bias-init", type=bias_init_arg, default="zero",
                   help="BCE shared bias init: zero, theory (b*(gamma,K)) or a number")
    p.add_argument("--epochs", type=positive_int, default=3)
    p.add_argument("--batch", type=positive_int, default=128)
    p.add_argument("--lr", type=positive_float, default=0.1, help="initial learning rate")
    p.add_argument("--momentum", type=nonnegative_float, default=0.9)
    p.add_argument("--wd", type=nonnegative_float, default=5e-4,
                   help="weight decay on conv weights and the classifier W")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=positive_int, default=2, help="torch.set_num_threads")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--train-limit", type=positive_int, default=None,
                   help="keep the first N training samples (synthetic: N samples, default 10000, "
                        "speed mode 4 batches)")
    p.add_argument("--test-limit", type=positive_int, default=None,
                   help="keep the first N test samples (synthetic: N samples, default 2000)")
    p.add_argument("--memory-format", choices=("nchw", "nhwc"), default="nchw",
                   help="activation layout: nchw (PyTorch default) or nhwc (channels_last)")
    p.add_argument("--data", default=None,
                   help="folder with the Fashion-MNIST IDX files (or a root holding fashion-mnist/)")
    p.add_argument("--synthetic", type=synthetic_arg, default=None, metavar="C,H,W,K",
                   help="random data of this shape instead of Fashion-MNIST")
    p.add_argument("--strict-fp32", action="store_true",
                   help="CUDA: no TF32 in convolutions and matrix products (PyTorch lets cuDNN "
                        "use TF32 for convolutions by default); gammacl computes in plain fp32")
    p.add_argument("--json", default=None, metavar="OUT", help="write a JSON summary here")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="speed mode: time this many training steps per repeat")
    p.add_argument("--warmup", type=nonnegative_int, default=3, help="speed mode: untimed steps")
    p.add_argument("--repeats", type=positive_int, default=5, help="speed mode: timings (median)")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda requested but CUDA is not available")
    if args.bias_init != "zero" and args.loss == "ce":
        print("note: --bias-init only affects --loss bce (CE has no bias)", file=sys.stderr)
    return args


def device_name(device):
    """Human-readable name of the compute device."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device(args.device)
    if args.strict_fp32:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False

    data = load_data(args)
    in_channels = data["x_train"].shape[1]
    model, b_star = build_model(args, in_channels, data["classes"])
    model.to(device, memory_format=memory_format(args)).train()
    opt = make_optimizer(model, args)

    summary = {
        "args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()},
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "device": args.device, "device_name": device_name(device),
        "onednn": torch.backends.mkldnn.is_available(),
        "cudnn_tf32": bool(torch.backends.cudnn.allow_tf32) if args.device == "cuda" else None,
        "data": data["source"], "classes": data["classes"],
        "train_samples": int(data["x_train"].shape[0]), "test_samples": int(data["x_test"].shape[0]),
        "input_mean": data["mean"], "input_std": data["std"], "b_star": b_star,
    }
    if args.steps is not None:
        summary["mode"] = "speed"
        summary["speed"] = run_speed(args, data, model, opt, device)
    else:
        summary["mode"] = "train"
        rows = run_training(args, data, model, opt, b_star, device)
        train_s = sum(r["seconds"] for r in rows)
        summary["epochs"] = rows
        summary["final_test_acc"] = rows[-1]["test_acc"]
        summary["train_seconds"] = train_s
        summary["train_img_per_s"] = args.epochs * summary["train_samples"] / train_s
        print(f"final test accuracy {rows[-1]['test_acc']:.2f}%, training throughput "
              f"{summary['train_img_per_s']:.0f} img/s (evaluation excluded)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
