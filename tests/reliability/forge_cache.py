# tests/reliability/forge_cache.py — damages a kernel binary cache entry the way disks, crashes
# and copied folders do, or checks one (runtime/cache.c has the layout: magic "GCLBIN\0\1", u32
# format, u32 key length, key, u64 binary length, binary, u32 CRC-32 of the binary).
#   forge_cache.py truncate|flip|garbage|swapkey|check FILE
import struct
import sys
import zlib

kind, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
MAGIC = b"GCLBIN\0\1"


def parse(d):
    if d[:8] != MAGIC:
        return None
    klen = struct.unpack_from("<I", d, 12)[0]
    key = d[16:16 + klen]
    off = 16 + klen
    blen = struct.unpack_from("<Q", d, off)[0]
    binary = d[off + 8:off + 8 + blen]
    if len(binary) != blen or len(d) != off + 8 + blen + 4:
        return None
    crc = struct.unpack_from("<I", d, off + 8 + blen)[0]
    return key, binary, crc


def build(key, binary):
    return MAGIC + struct.pack("<II", 1, len(key)) + key + struct.pack("<Q", len(binary)) + binary + \
        struct.pack("<I", zlib.crc32(binary) & 0xFFFFFFFF)


p = parse(data)
if kind == "check":
    # good: well formed, right CRC, not the forged binary, and the key its file name says
    name = path.rsplit("/", 1)[-1][:-len(".bin")].encode()
    sys.exit(0 if p and zlib.crc32(p[1]) & 0xFFFFFFFF == p[2] and not p[1].startswith(b"garbage")
             and p[0] == name else 1)
if p is None:
    sys.exit("not a cache entry: " + path)
key, binary, _ = p
if kind == "truncate":
    out = data[:len(data) // 2]
elif kind == "flip":
    b = bytearray(data)
    b[16 + len(key) + 8 + len(binary) // 2] ^= 0x40
    out = bytes(b)
elif kind == "garbage":
    out = build(key, (b"garbage" * (len(binary) // 7 + 1))[:len(binary)])
elif kind == "swapkey":
    out = build(key[:-1] + (b"x" if key[-1:] != b"x" else b"y"), binary)
else:
    sys.exit("unknown kind " + kind)
open(path, "wb").write(out)
