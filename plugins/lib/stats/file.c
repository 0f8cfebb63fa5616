/*
 * file.c — the model file: moments and an optional PCA, versioned and
 * checksummed.
 *
 * Layout (little-endian, IEEE doubles/floats as in memory):
 *   header   magic "FRSTATS\0", u32 format version, u32 dim, u32 k,
 *            u32 flags (bit 0: cross-product present), u64 count,
 *            u64 model version, u32 has_shift, u32 reserved (0)
 *   moments  f64 shift[dim], sum[dim], sq[dim], [cross[dim*dim]]
 *   pca      when k > 0: f64 total_variance, variance[k], f32 mean[dim],
 *            components[dim*k]
 *   trailer  u64 FNV-1a 64 of every byte before it
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "stats model files are written in host order, which must be little-endian"
#endif

#define FILE_MAGIC   "FRSTATS"
#define FILE_VERSION 1u
#define FLAG_CROSS   1u

typedef struct file_header {
    char magic[8];
    uint32_t format, dim, k, flags;
    uint64_t count, model_version;
    uint32_t has_shift, reserved;
} file_header;

/* A FILE with the running checksum of what went through it. */
typedef struct hashed_file {
    FILE *f;
    uint64_t hash;
    int failed;
} hashed_file;

static void fnv1a(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ p[i]) * 1099511628211ull;
}

static void put(hashed_file *hf, const void *data, size_t n)
{
    if (hf->failed || fwrite(data, 1, n, hf->f) != n)
        hf->failed = 1;
    fnv1a(&hf->hash, data, n);
}

static void get(hashed_file *hf, void *data, size_t n)
{
    if (hf->failed || fread(data, 1, n, hf->f) != n) {
        hf->failed = 1;
        memset(data, 0, n);
    }
    fnv1a(&hf->hash, data, n);
}

/* The body in file order, through put or get: one list of fields for
 * both directions.  put never writes through its pointer. */
typedef void (*transfer_fn)(hashed_file *hf, void *data, size_t n);

static void put_fn(hashed_file *hf, void *data, size_t n)
{
    put(hf, data, n);
}

static void transfer_body(hashed_file *hf, transfer_fn io, stats_moments *m, stats_pca *pca)
{
    size_t d = m->dim, k = pca ? pca->k : 0;
    io(hf, m->shift, d * sizeof(double));
    io(hf, m->sum, d * sizeof(double));
    io(hf, m->sq, d * sizeof(double));
    if (m->cross)
        io(hf, m->cross, d * d * sizeof(double));
    if (k) {
        io(hf, &pca->total_variance, sizeof(double));
        io(hf, pca->variance, k * sizeof(double));
        io(hf, pca->mean, d * sizeof(float));
        io(hf, pca->components, d * k * sizeof(float));
    }
}

int stats_save(const char *path, stats_moments *m, const stats_pca *pca, uint64_t version,
               char *err, size_t err_size)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, err_size, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    hashed_file hf = {.f = fd >= 0 ? fdopen(fd, "wb") : NULL, .hash = 14695981039346656037ull};
    if (!hf.f) {
        snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    moments_settle(m);
    file_header h = {.magic = FILE_MAGIC,
                     .format = FILE_VERSION,
                     .dim = m->dim,
                     .k = pca ? pca->k : 0,
                     .flags = m->cross ? FLAG_CROSS : 0,
                     .count = m->count,
                     .model_version = version,
                     .has_shift = m->has_shift};
    put(&hf, &h, sizeof h);
    transfer_body(&hf, put_fn, m, (stats_pca *)pca);
    uint64_t sum = hf.hash;
    put(&hf, &sum, sizeof sum);
    int failed = hf.failed || fflush(hf.f) != 0 || fsync(fileno(hf.f)) != 0;
    failed = fclose(hf.f) != 0 || failed;
    if (failed || rename(tmp, path) != 0) {
        snprintf(err, err_size, "writing %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int read_header(hashed_file *hf, const char *path, file_header *h, char *err,
                       size_t err_size)
{
    get(hf, h, sizeof *h);
    if (hf->failed || memcmp(h->magic, FILE_MAGIC, sizeof h->magic) != 0) {
        snprintf(err, err_size, "%s: not a flowrun statistics file", path);
        return -1;
    }
    if (h->format > FILE_VERSION || h->dim == 0 || h->k > h->dim) {
        snprintf(err, err_size, "%s: format %u with %u columns, %u components unsupported", path,
                 h->format, h->dim, h->k);
        return -1;
    }
    return 0;
}

static stats_moments *read_file(hashed_file *hf, const char *path, stats_pca *pca,
                                uint64_t *version, char *err, size_t err_size)
{
    file_header h;
    if (read_header(hf, path, &h, err, err_size) < 0)
        return NULL;
    stats_moments *m = stats_moments_new(h.dim, h.flags & FLAG_CROSS, err, err_size);
    stats_pca scratch = {0}, *p = pca ? pca : &scratch;
    if (!m)
        return NULL;
    if (!h.k)
        stats_pca_clear(p);
    if (h.k && (stats_blas_load(err, err_size) < 0 || stats_pca_alloc(p, h.dim, h.k) < 0)) {
        if (!err[0])
            snprintf(err, err_size, "%s: out of memory", path);
        goto fail;
    }
    m->count = h.count;
    m->has_shift = (int)h.has_shift;
    *version = h.model_version;
    transfer_body(hf, get, m, h.k ? p : NULL);
    uint64_t want = hf->hash, sum;
    get(hf, &sum, sizeof sum);
    if (hf->failed || sum != want || fgetc(hf->f) != EOF) {
        snprintf(err, err_size, "%s: %s", path,
                 hf->failed    ? "truncated"
                 : sum != want ? "checksum mismatch"
                               : "trailing bytes");
        goto fail;
    }
    stats_pca_clear(&scratch);
    return m;
fail:
    stats_pca_clear(p);
    stats_moments_free(m);
    return NULL;
}

int stats_load(const char *path, stats_moments **m, stats_pca *pca, uint64_t *version, char *err,
               size_t err_size)
{
    hashed_file hf = {.f = fopen(path, "rb"), .hash = 14695981039346656037ull};
    if (!hf.f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    err[0] = '\0';
    *m = read_file(&hf, path, pca, version, err, err_size);
    fclose(hf.f);
    return *m ? 0 : -1;
}
