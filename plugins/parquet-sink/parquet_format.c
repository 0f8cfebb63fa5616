/* parquet_format.c — one pq_writer per output file (see parquet_format.h). */
#include "parquet_format.h"

#include <stdlib.h>
#include <string.h>

typedef struct pqf {
    pq_options opt; /* strings point at the copies below */
    char *prefix, *created_by;
    char *meta_strings[2 * 4];
    pq_kv meta[4];
    pq_writer *writer; /* owned while a file is open */
} pqf;

static int pqf_begin(void *fmt, partfile_out *out, uint32_t width, unsigned columns, char *err,
                     size_t err_size)
{
    pqf *p = fmt;
    p->opt.width = width;
    p->opt.model_version = (columns & PARTFILE_COL_MODEL_VERSION) != 0;
    p->opt.source_version = (columns & PARTFILE_COL_VERSION) != 0;
    p->writer = pq_writer_open(&p->opt, partfile_write, out, err, err_size);
    return p->writer ? 0 : -1;
}

static int pqf_row(void *fmt, const fr_record *rec, const float *features, char *err,
                   size_t err_size)
{
    pqf *p = fmt;
    const char *version = fr_record_attr(rec, "version");
    return pq_writer_add_versioned_row(p->writer, rec->key ? rec->key : "",
                                       rec->label ? rec->label : "", features, rec->model_version,
                                       version ? version : "", err, err_size);
}

static void pqf_discard(void *fmt)
{
    pqf *p = fmt;
    pq_writer_free(p->writer);
    p->writer = NULL;
}

static int pqf_end(void *fmt, char *err, size_t err_size)
{
    pqf *p = fmt;
    int rc = pq_writer_close(p->writer, err, err_size);
    pqf_discard(p);
    return rc;
}

static uint64_t pqf_pending(void *fmt)
{
    pqf *p = fmt;
    return p->writer ? pq_writer_bytes(p->writer) : 0;
}

static void pqf_free(void *fmt)
{
    pqf *p = fmt;
    if (!p)
        return;
    pqf_discard(p);
    free(p->prefix);
    free(p->created_by);
    for (size_t i = 0; i < 2 * p->opt.n_metadata; i++)
        free(p->meta_strings[i]);
    free(p);
}

void *parquet_format_new(const pq_options *opt)
{
    pqf *p = calloc(1, sizeof *p);
    if (!p || opt->n_metadata > 4) {
        free(p);
        return NULL;
    }
    p->opt = *opt;
    p->opt.metadata = p->meta;
    int bad =
        !(p->prefix = strdup(opt->feature_prefix)) || !(p->created_by = strdup(opt->created_by));
    for (size_t i = 0; i < opt->n_metadata; i++) {
        bad |= !(p->meta_strings[2 * i] = strdup(opt->metadata[i].key));
        bad |= !(p->meta_strings[2 * i + 1] = strdup(opt->metadata[i].value));
        p->meta[i] = (pq_kv){p->meta_strings[2 * i], p->meta_strings[2 * i + 1]};
    }
    p->opt.feature_prefix = p->prefix;
    p->opt.created_by = p->created_by;
    if (bad) {
        pqf_free(p);
        return NULL;
    }
    return p;
}

const partfile_format parquet_format = {.begin = pqf_begin,
                                        .row = pqf_row,
                                        .end = pqf_end,
                                        .pending = pqf_pending,
                                        .discard = pqf_discard,
                                        .free = pqf_free};
