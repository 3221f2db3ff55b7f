/* tests/unit/test_buffer.c — views into a buffer (rt_view), on every device: what is written
 * through a view is what the parent holds at its offset and the reverse, a fill of a view stays
 * inside it, a view that is not aligned, reaches past its parent, is empty or views a view is
 * refused with RT_E_ARG, and a discarded buffer gives its memory back to the driver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void body(th *t)
{
    const size_t align = rt_view_align(t->rt), n = 3 * align / sizeof(float) + 37;
    th_check(t, align >= 4 && align % 4 == 0, "view alignment %zu bytes is not whole floats", align);
    float *host = malloc(n * sizeof *host);
    for (size_t i = 0; i < n; i++) host[i] = (float)i + 0.5f;
    rt_buf *parent = th_upload(t, host, n), *a = NULL, *b = NULL;
    const size_t la = align / sizeof(float) + 5, lb = 2 * align / sizeof(float) + 37 - 5;
    if (!parent || !th_ok(t, rt_view(t->rt, parent, 0, la * sizeof(float), &a), "view at 0") ||
        !th_ok(t, rt_view(t->rt, parent, align, lb * sizeof(float) + 5 * sizeof(float), &b),
               "view at the alignment")) {
        free(host);
        rt_free(t->rt, a);
        rt_free(t->rt, parent);
        return;
    }
    th_check(t, rt_buf_size(a) == la * sizeof(float), "view size %zu, asked %zu", rt_buf_size(a),
             la * sizeof(float));
    /* reads through a view see the parent at the view's offset */
    float *got = th_download(t, b, 8);
    int same = got != NULL;
    for (int i = 0; got && i < 8; i++) same &= got[i] == host[align / sizeof(float) + (size_t)i];
    th_check(t, same, "a view at offset %zu does not read the parent's values there", align);
    free(got);
    /* a fill of view a changes a's range of the parent only */
    th_ok(t, rt_fill_zero(t->rt, a, 0, la * sizeof(float)), "fill of a view");
    float *all = th_download(t, parent, n);
    int ok = all != NULL;
    for (size_t i = 0; all && i < n; i++) ok &= all[i] == (i < la ? 0.0f : host[i]);
    th_check(t, ok, "a fill of a %zu-float view changed the parent elsewhere or not at all", la);
    free(all);
    /* a write through the parent is seen through the view */
    const float v = -7.25f;
    th_ok(t, rt_write(t->rt, parent, align + 9 * sizeof(float), &v, sizeof v), "write to the parent");
    float back = 0;
    th_ok(t, rt_read(t->rt, b, 9 * sizeof(float), &back, sizeof back), "read through the view");
    th_check(t, back == v, "a view read %g where the parent holds %g", back, v);
    /* refused: misaligned, past the end, a view of a view, empty */
    rt_buf *bad = NULL;
    if (align > 4)
        th_check(t, rt_view(t->rt, parent, 4, 16, &bad) == RT_E_ARG && !bad, "a misaligned view was made");
    th_check(t, rt_view(t->rt, parent, align, n * sizeof(float), &bad) == RT_E_ARG && !bad,
             "a view past its parent's end was made");
    th_check(t, rt_view(t->rt, a, 0, 16, &bad) == RT_E_ARG && !bad, "a view of a view was made");
    th_check(t, rt_view(t->rt, parent, 0, 0, &bad) == RT_E_ARG && !bad, "an empty view was made");
    rt_free(t->rt, a);
    rt_free(t->rt, b);
    rt_free(t->rt, parent);
    free(host);
    /* discarded: the pool no longer holds it (in use: what rt_free would have left there) */
    rt_buf *d = NULL;
    const uint64_t before = rt_bytes_in_use(t->rt);
    if (th_ok(t, rt_alloc(t->rt, 1 << 20, &d), "a 1 MiB buffer")) {
        th_check(t, rt_bytes_in_use(t->rt) >= before + (1 << 20), "rt_alloc did not count the buffer");
        rt_discard(t->rt, d);
        th_check(t, rt_bytes_in_use(t->rt) == before, "rt_discard left %llu bytes counted",
                 (unsigned long long)(rt_bytes_in_use(t->rt) - before));
    }
}

int main(void) { return th_run("buffer", body, 0); }
