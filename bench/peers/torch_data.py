"""Data for the PyTorch peer (torch_train.py): Fashion-MNIST IDX files (plain or gzip) from
--data, GAMMACL_DATA or Debian's dataset folder, or synthetic data; standardized with the training
set's per-channel mean and standard deviation, as gammacl does."""

import gzip
import os

import numpy as np
import torch

# Public Debian location of the data sets; GAMMACL_DATA and --data take precedence.
DEFAULT_DATA_ROOT = "/usr/share/datasets"
FMNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# ---------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------

def read_maybe_gzip(path):
    """Returns the bytes of a file, gunzipped when it starts with the gzip magic number."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw


def parse_idx(raw, expect_dims, what):
    """Parses an IDX file of unsigned bytes (type 0x08) with expect_dims dimensions into a numpy array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{what}: not an IDX file (bad magic)")
    if raw[2] != 0x08:
        raise ValueError(f"{what}: element type 0x{raw[2]:02x}, expected unsigned bytes (0x08)")
    ndim = raw[3]
    if ndim != expect_dims:
        raise ValueError(f"{what}: {ndim} dimensions, expected {expect_dims}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{what}: truncated header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(shape))
    if len(raw) - header != count:
        raise ValueError(f"{what}: {len(raw) - header} data bytes, header promises {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def find_idx_file(folder, stem):
    """Returns the path of stem.gz or stem inside folder, or None."""
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def resolve_fmnist_dir(data_arg):
    """Finds the folder holding the Fashion-MNIST IDX files.

    Order: --data PATH (the folder itself, or a root with a fashion-mnist/ sub-folder), then
    $GAMMACL_DATA/fashion-mnist, then the Debian location.
    """
    if data_arg:
        candidates = [data_arg, os.path.join(data_arg, "fashion-mnist")]
    elif os.environ.get("GAMMACL_DATA"):
        candidates = [os.path.join(os.environ["GAMMACL_DATA"], "fashion-mnist")]
    else:
        candidates = [os.path.join(DEFAULT_DATA_ROOT, "fashion-mnist")]
    for folder in candidates:
        if find_idx_file(folder, FMNIST_FILES["train"][0]):
            return folder
    raise FileNotFoundError("Fashion-MNIST IDX files not found in: " + ", ".join(candidates))


def load_fmnist_split(folder, split):
    """Loads one split as (uint8 images N x 1 x 28 x 28, int64 labels N)."""
    img_stem, lab_stem = FMNIST_FILES[split]
    img_path, lab_path = find_idx_file(folder, img_stem), find_idx_file(folder, lab_stem)
    if img_path is None or lab_path is None:
        raise FileNotFoundError(f"{split} files of Fashion-MNIST missing in {folder}")
    images = parse_idx(read_maybe_gzip(img_path), 3, img_path)
    labels = parse_idx(read_maybe_gzip(lab_path), 1, lab_path)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{split}: {images.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and labels.max() >= 10:
        raise ValueError(f"{split}: label {labels.max()} out of range for 10 classes")
    return images[:, None, :, :], labels.astype(np.int64)


def synthetic_split(shape, count, rng):
    """Random uint8 images of shape (C, H, W) and uniform labels in [0, K)."""
    c, h, w, k = shape
    images = rng.integers(0, 256, size=(count, c, h, w), dtype=np.uint8)
    labels = rng.integers(0, k, size=count, dtype=np.int64)
    return images, labels


def standardize(train_u8, test_u8):
    """Scales pixels to [0, 1] and standardizes both splits with the training split's statistics.

    One scalar mean/std for 1-channel data, one per channel otherwise (population std, computed in
    float64 over all training pixels). Returns float32 arrays and the (mean, std) lists.
    """
    train = train_u8.astype(np.float32) / 255.0
    test = test_u8.astype(np.float32) / 255.0
    channels = train.shape[1]
    axes = (0, 1, 2, 3) if channels == 1 else (0, 2, 3)
    mean = train.mean(axis=axes, dtype=np.float64)
    std = train.std(axis=axes, dtype=np.float64)
    mean = np.atleast_1d(mean).astype(np.float32)
    std = np.maximum(np.atleast_1d(std), 1e-12).astype(np.float32)
    view = (1, -1, 1, 1) if channels > 1 else (1, 1, 1, 1)
    train = (train - mean.reshape(view)) / std.reshape(view)
    test = (test - mean.reshape(view)) / std.reshape(view)
    return train, test, mean.tolist(), std.tolist()


def load_data(args):
    """Returns a dict with standardized train/test tensors, labels, class count and a description."""
    rng = np.random.default_rng(args.seed + 1000003)  # separate stream from the shuffling RNG
    if args.synthetic:
        c, h, w, k = args.synthetic
        # Speed mode only needs a few batches; training mode defaults to 10000 / 2000 samples.
        n_train = args.train_limit or (4 * args.batch if args.steps else 10000)
        n_test = args.test_limit or (args.batch if args.steps else 2000)
        x_tr, y_tr = synthetic_split(args.synthetic, n_train, rng)
        x_te, y_te = synthetic_split(args.synthetic, n_test, rng)
        source = f"synthetic {c}x{h}x{w}, {k} classes"
        classes = k
    else:
        folder = resolve_fmnist_dir(args.data)
        x_tr, y_tr = load_fmnist_split(folder, "train")
        x_te, y_te = load_fmnist_split(folder, "test")
        if args.train_limit:
            x_tr, y_tr = x_tr[:args.train_limit], y_tr[:args.train_limit]
        if args.test_limit:
            x_te, y_te = x_te[:args.test_limit], y_te[:args.test_limit]
        source = "fashion-mnist"
        classes = 10
    train, test, mean, std = standardize(x_tr, x_te)
    return {
        "source": source,
        "classes": classes,
        "x_train": torch.from_numpy(train), "y_train": torch.from_numpy(y_tr),
        "x_test": torch.from_numpy(test), "y_test": torch.from_numpy(y_te),
        "mean": mean, "std": std,
    }
