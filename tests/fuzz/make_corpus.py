#!/usr/bin/env python3
"""tests/fuzz/make_corpus.py — writes the seed corpora of the data reader fuzz targets.

Run from anywhere: python3 tests/fuzz/make_corpus.py. It writes small valid and slightly broken
inputs into tests/fuzz/corpus/{idx,cifar,png}/ (files named seed-*; crash reproducers found by
fuzzing are kept next to them under other names and are not touched).
"""
import gzip
import struct
import zlib

from corpus_files import out_dir, save


# ---- IDX: two bytes of split position, then the image file, then the label file ----

def idx_images(count, rows, cols):
    pixels = bytes((i * 7 + 3) & 255 for i in range(count * rows * cols))
    return struct.pack(">IIII", 0x803, count, rows, cols) + pixels


def idx_labels(count, first=0):
    return struct.pack(">II", 0x801, count) + bytes((first + i) % 10 for i in range(count))


def idx_input(images, labels):
    return struct.pack(">H", len(images)) + images + labels


def gz(data):
    return gzip.compress(data, mtime=0)


def write_idx():
    d = out_dir("idx")
    images, labels = idx_images(3, 4, 5), idx_labels(3)
    save(d, "raw", idx_input(images, labels))
    save(d, "gzip-both", idx_input(gz(images), gz(labels)))
    save(d, "gzip-images", idx_input(gz(images), labels))
    save(d, "gzip-two-members", idx_input(gz(images[:30]) + gz(images[30:]), labels))
    save(d, "one-28x28", idx_input(idx_images(1, 28, 28), idx_labels(1)))
    save(d, "truncated-pixels", idx_input(images[:-7], labels))
    save(d, "count-mismatch", idx_input(images, idx_labels(2)))
    bad_label = bytearray(labels)
    bad_label[-1] = 10
    save(d, "label-out-of-range", idx_input(images, bytes(bad_label)))
    save(d, "swapped", idx_input(labels, images))
    save(d, "huge-count", idx_input(struct.pack(">IIII", 0x803, 0x7FFFFFFF, 28, 28), labels))
    save(d, "gzip-bomb", idx_input(gz(images[:16] + bytes(60000)), labels))


# ---- CIFAR: one flag byte (bit 0: CIFAR-100), then records ----

def cifar_record(label_bytes, seed):
    return bytes(label_bytes) + bytes((seed * 3 + i) & 255 for i in range(3072))


def write_cifar():
    d = out_dir("cifar")
    save(d, "cifar10-two", b"\0" + cifar_record([3], 1) + cifar_record([9], 2))
    save(d, "cifar100-two", b"\1" + cifar_record([4, 41], 1) + cifar_record([19, 99], 2))
    save(d, "cifar10-partial", b"\0" + cifar_record([1], 3)[:1500])
    save(d, "cifar10-bad-label", b"\0" + cifar_record([10], 4))
    save(d, "cifar100-bad-coarse", b"\1" + cifar_record([20, 5], 5))


# ---- PNG ----

def chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def pack_row(samples, depth):
    """Packs sample values (already in file order) at the given bit depth."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def raw_image(width, height, per_pixel, depth, interlace, sample):
    """Filter-type-0 scanlines; sample(x, y) gives the samples of one pixel."""
    def lines(xs, ys):
        return b"".join(b"\0" + pack_row([v for x in xs for v in sample(x, y)], depth) for y in ys)
    if not interlace:
        return lines(range(width), range(height))
    data = b""
    for x0, y0, dx, dy in ADAM7:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if len(xs) and len(ys):
            data += lines(xs, ys)
    return data


def png(width, height, color_type, depth, sample, interlace=0, extra=(), plte=None, trns=None):
    per_pixel = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    body = chunk(b"IHDR", ihdr)
    for kind, data in extra:
        body += chunk(kind, data)
    if plte is not None:
        body += chunk(b"PLTE", plte)
    if trns is not None:
        body += chunk(b"tRNS", trns)
    pixels = raw_image(width, height, per_pixel, depth, interlace, sample)
    body += chunk(b"IDAT", zlib.compress(pixels, 9))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def write_png():
    d = out_dir("png")
    save(d, "gray8", png(5, 3, 0, 8, lambda x, y: [x * 40 + y]))
    save(d, "gray1", png(9, 2, 0, 1, lambda x, y: [(x + y) & 1]))
    save(d, "gray4-trns", png(6, 3, 0, 4, lambda x, y: [x + y], trns=struct.pack(">H", 2)))
    save(d, "gray-alpha", png(4, 4, 4, 8, lambda x, y: [x * 60, y * 60]))
    save(d, "rgb8", png(4, 3, 2, 8, lambda x, y: [x * 60, y * 80, 7],
                        extra=[(b"gAMA", struct.pack(">I", 45455)), (b"tEXt", b"k\0v")]))
    save(d, "rgb16", png(3, 3, 2, 16, lambda x, y: [x * 9000, y * 9000, 65535]))
    save(d, "rgba8-adam7", png(9, 9, 6, 8, lambda x, y: [x * 25, y * 25, x ^ y, 200],
                               interlace=1))
    save(d, "gray16-alpha", png(2, 5, 4, 16, lambda x, y: [x * 30000, y * 10000]))
    plte = bytes(v for i in range(4) for v in (i * 60, 255 - i * 60, i * 20))
    save(d, "palette2-trns", png(7, 3, 3, 2, lambda x, y: [(x + y) % 4], plte=plte,
                                 trns=bytes([0, 128])))
    good = png(4, 3, 2, 8, lambda x, y: [x, y, 1])
    save(d, "truncated", good[:len(good) - 20])
    small = png(1, 1, 0, 8, lambda x, y: [0])
    forged = chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 4000, 8, 0, 0, 0, 0))
    save(d, "forged-size", small[:8] + forged + small[8 + len(forged):])


if __name__ == "__main__":
    write_idx()
    write_cifar()
    write_png()
