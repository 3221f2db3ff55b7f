/* runtime/cache.c — the on-disk cache of compiled kernel binaries.
 *
 * Directory: GAMMACL_CACHE_DIR, else $XDG_CACHE_HOME/gammacl, else ~/.cache/gammacl.
 * GAMMACL_NO_CACHE=1 turns it off; device rows with cache_binaries = 0 skip it (drivers that cache
 * themselves). File name: "<program>-v<format>-<64-bit hash>.bin", the hash over the prelude and
 * program source, build options, platform name and version, device name, driver and device version.
 * Layout: magic "GCLBIN\0\1", u32 format, u32 key length, key, u64 binary length, binary, u32 CRC-32
 * of the binary. Written to a temporary file and renamed, so readers never see half a file; any
 * mismatch or read error falls back silently to compiling.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_internal.h"

static const unsigned char magic[8] = {'G', 'C', 'L', 'B', 'I', 'N', 0, 1};

uint64_t rt_hash64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void cache_path(const rt_ctx *ctx, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s/%s.bin", ctx->cache_dir, key);
}

int rt_cache_load(rt_ctx *ctx, const char *key, unsigned char **bin, size_t *len)
{
    char path[1200];
    cache_path(ctx, key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char m[8];
    uint32_t fmt, klen, crc;
    uint64_t blen;
    char k[256];
    int ok = fread(m, 1, 8, f) == 8 && memcmp(m, magic, 8) == 0 && fread(&fmt, 4, 1, f) == 1 &&
             fread(&klen, 4, 1, f) == 1 && klen < sizeof k && fread(k, 1, klen, f) == klen;
    if (ok) {
        k[klen] = 0;
        ok = strcmp(k, key) == 0 && fread(&blen, 8, 1, f) == 1 && blen > 0 && blen < (1ull << 30);
    }
    unsigned char *b = NULL;
    if (ok) {
        b = malloc((size_t)blen);
        ok = b && fread(b, 1, (size_t)blen, f) == blen && fread(&crc, 4, 1, f) == 1 &&
             crc == (uint32_t)crc32(0L, b, (uInt)blen);
    }
    fclose(f);
    if (!ok) {
        free(b);
        return 0;
    }
    *bin = b;
    *len = (size_t)blen;
    return 1;
}

int rt_make_dirs(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

void rt_cache_store(rt_ctx *ctx, const char *key, const unsigned char *bin, size_t len)
{
    if (rt_make_dirs(ctx->cache_dir) != 0) return; /* a cache we cannot write is simply not used */
    char path[1200], tmp[1300];
    cache_path(ctx, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    uint32_t fmt = 1, klen = (uint32_t)strlen(key), crc = (uint32_t)crc32(0L, bin, (uInt)len);
    uint64_t blen = len;
    int ok = fwrite(magic, 1, 8, f) == 8 && fwrite(&fmt, 4, 1, f) == 1 &&
             fwrite(&klen, 4, 1, f) == 1 && fwrite(key, 1, klen, f) == klen &&
             fwrite(&blen, 8, 1, f) == 1 && fwrite(bin, 1, len, f) == len &&
             fwrite(&crc, 4, 1, f) == 1;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}
