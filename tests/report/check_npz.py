# tests/report/check_npz.py — loads the archive test_npz writes with numpy.load and checks every
# array's name, dtype, shape and values exactly (the values are computed here the same way).
# Usage: check_npz.py ARCHIVE; exits non-zero with a message on the first kind of mismatch.
import sys
import zipfile

import numpy as np


def xorshift32(n, x=2463534242):
    out = []
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x)
    return np.array(out, dtype=np.uint32).view(np.int32)


def expected():
    big = np.zeros(12000, dtype=np.float32)
    big[10000:] = (np.arange(2000) % 17) * 0.25
    long_name = 'L' + ''.join(str(i % 10) for i in range(99))
    return {
        'grid': np.array([[r * 10 + c + 0.5 for c in range(5)] for r in range(3)], dtype='<f4'),
        'counts': np.array([-2**31, -1, 0, 1, 42, 2**31 - 1, 123456789], dtype='<i4'),
        'ratio': np.array(3.141592653589793, dtype='<f8'),
        'cube': (np.arange(24, dtype='<f8') * 0.5 - 3.0).reshape(2, 3, 4),
        'big': big.astype('<f4'),
        'empty': np.zeros((0, 4), dtype='<f4'),
        'noise': xorshift32(65536).astype('<i4'),
        long_name: np.array(7, dtype='<i4'),
    }


def main():
    if len(sys.argv) != 2:
        print('usage: check_npz.py ARCHIVE', file=sys.stderr)
        return 2
    path = sys.argv[1]
    problems = []
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()  # reads every member and checks its CRC-32
        if bad is not None:
            problems.append(f'zipfile: CRC mismatch in {bad}')
    want = expected()
    with np.load(path, allow_pickle=False) as npz:
        names = list(npz.files)
        if sorted(names) != sorted(want):
            problems.append(f'names {sorted(names)}, wanted {sorted(want)}')
        for name, w in want.items():
            if name not in names:
                continue
            a = npz[name]
            if a.dtype.str != w.dtype.str:
                problems.append(f'{name}: dtype {a.dtype.str}, wanted {w.dtype.str}')
            if a.shape != w.shape:
                problems.append(f'{name}: shape {a.shape}, wanted {w.shape}')
            elif not a.flags.c_contiguous:
                problems.append(f'{name}: not in C order')
            elif a.tobytes() != w.astype(a.dtype).tobytes():
                diff = np.flatnonzero(a.reshape(-1) != w.reshape(-1).astype(a.dtype))
                problems.append(f'{name}: {diff.size} values differ, first at flat index '
                                f'{diff[0] if diff.size else "?"}')
    for p in problems:
        print(f'check_npz: {path}: {p}', file=sys.stderr)
    if not problems:
        print(f'check_npz: {len(want)} arrays match')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
