/* kernels/prelude.cl — prepended to every program: shared helpers and the device's -D values.
 *
 * RT_CHUNK     elements per work-item in element-wise kernels (large on CPUs, 1 on GPUs)
 * RT_RED_WG    work-group size of per-channel reductions (1: one work-item loops over a channel)
 * RT_CPU_STYLE 1 on CPU devices: chunked loops, wide vectors, no barriers
 * All arithmetic is fp32; reductions run in a fixed order so that results reproduce.
 */
#ifndef RT_CHUNK
#define RT_CHUNK 1
#endif
#ifndef RT_RED_WG
#define RT_RED_WG 1
#endif
#ifndef RT_CPU_STYLE
#define RT_CPU_STYLE 0
#endif

/* The [begin, end) range of element-wise work of this work-item. */
#define CHUNK_RANGE(n, i0, i1)                                   \
    const int i0 = (int)get_global_id(0) * RT_CHUNK;            \
    const int i1 = min(i0 + RT_CHUNK, (int)(n))
