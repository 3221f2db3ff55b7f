#!/usr/bin/env python3
"""tests/eval/make_test_sets.py — writes the small data sets of test_data.sh into OUT: PNG class
trees (a training tree, a matching test tree, trees whose class folders, image size or channels
differ, trees with a damaged or forged PNG), and test sets of the other readers that are broken
(IDX pairs with a truncated or forged file, CIFAR batches truncated or with a forged label).

  make_test_sets.py OUT"""
import os
import struct
import sys
import zlib

SIDE = 8


def png(width, height, channels, seed):
    """An 8-bit gray (1) or RGB (3) PNG of a seeded pattern."""
    color = {1: 0, 3: 2}[channels]
    rows = b"".join(b"\0" + bytes((x * 29 + y * 13 + c * 7 + seed * 31) & 0xFF
                                  for x in range(width) for c in range(channels))
                    for y in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def save(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def tree(root, classes, per_class, side=SIDE, channels=3):
    for k, name in enumerate(classes):
        for i in range(per_class):
            save(os.path.join(root, name, f"{i:02d}.png"), png(side, side, channels, k * 50 + i))


def idx_pair(folder, prefix, count, truncate_images=False, forged_count=None, bad_magic=False):
    images = struct.pack(">IIII", 0x0803 if not bad_magic else 0x0E03,
                         forged_count or count, 28, 28) + bytes(count * 784)
    labels = struct.pack(">II", 0x0801, count) + bytes(i % 10 for i in range(count))
    if truncate_images:
        images = images[:16 + count * 784 - 100]
    save(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), images)
    save(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), labels)


def cifar_records(count, bad_label=False):
    return b"".join(bytes([200 if bad_label and i == 1 else i % 10]) + bytes(3072)
                    for i in range(count))


def main():
    out = sys.argv[1]
    pets = ["cat", "dog", "owl"]
    tree(os.path.join(out, "train"), pets, 6)        # 18 training images
    tree(os.path.join(out, "test"), pets, 4)         # 12 test images
    tree(os.path.join(out, "test-kat"), ["cat", "kat", "owl"], 2)
    tree(os.path.join(out, "test-two"), ["cat", "dog"], 2)
    tree(os.path.join(out, "test-big"), pets, 2, side=SIDE + 2)
    tree(os.path.join(out, "test-gray"), pets, 2, channels=1)
    # a split folder: its test/ is the test set
    tree(os.path.join(out, "split", "train"), pets, 1)
    tree(os.path.join(out, "split", "test"), pets, 3)

    good = png(SIDE, SIDE, 3, 1)
    tree(os.path.join(out, "png-truncated"), pets, 2)
    save(os.path.join(out, "png-truncated", "dog", "01.png"), good[:len(good) // 2])
    tree(os.path.join(out, "png-corrupt"), pets, 2)
    body = bytearray(good)
    body[44:50] = b"\xff" * 6                        # inside IDAT: the CRC no longer matches
    save(os.path.join(out, "png-corrupt", "owl", "00.png"), bytes(body))
    tree(os.path.join(out, "png-forged"), pets, 2)
    forged = bytearray(good)
    forged[16:24] = struct.pack(">II", 1 << 30, 1 << 30)
    save(os.path.join(out, "png-forged", "cat", "01.png"), bytes(forged))
    tree(os.path.join(out, "png-notpng"), pets, 2)
    save(os.path.join(out, "png-notpng", "cat", "00.png"), b"GIF89a not a png at all")

    idx_pair(os.path.join(out, "idx-truncated"), "t10k", 5, truncate_images=True)
    idx_pair(os.path.join(out, "idx-forged"), "t10k", 5, forged_count=1 << 28)
    idx_pair(os.path.join(out, "idx-magic"), "t10k", 5, bad_magic=True)
    idx_pair(os.path.join(out, "idx-good"), "t10k", 5)
    lonely = os.path.join(out, "idx-lonely")
    idx_pair(lonely, "t10k", 5)
    os.remove(os.path.join(lonely, "t10k-labels-idx1-ubyte"))

    save(os.path.join(out, "cifar-truncated", "test_batch.bin"), cifar_records(3)[:-500])
    save(os.path.join(out, "cifar-label", "test_batch.bin"), cifar_records(3, bad_label=True))
    save(os.path.join(out, "cifar-file", "test_batch.bin"), cifar_records(3)[:-1])
    save(os.path.join(out, "cifar-empty", "test_batch.bin"), b"")


main()
