/*
 * cli_chain.c — the bundle's stages driven through the plugin harness
 * (cli_chain.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_chain.h"
#include "flowrun/harness.h"

/* The stages in the order the manifest lists them; the network is the
 * one that batches. */
#define CHAIN_MAX_STAGES 16

struct chain {
    fr_harness *stage[CHAIN_MAX_STAGES]; /* owned */
    size_t n_stages, embed;              /* embed: index of resnet50-embed */
    char **classes;                      /* owned copies */
    size_t n_classes;
    size_t *held;      /* owned, batch: which photo each photo in the network is */
    const char **name; /* owned array, batch: each photo's name, borrowed for a batch */
    int batch;
};

void chain_free(chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_stages; i++)
        fr_harness_free(c->stage[i]);
    for (size_t i = 0; i < c->n_classes; i++)
        free(c->classes[i]);
    free(c->classes);
    free(c->held);
    free(c->name);
    free(c);
}

size_t chain_classes(const chain *c)
{
    return c->n_classes;
}

const char *chain_class(const chain *c, size_t i)
{
    return i < c->n_classes ? c->classes[i] : "";
}

void chain_precision(const chain *c, char *buf, size_t size)
{
    const char *r = fr_harness_report(c->stage[c->embed], "precision");
    size_t n = 0;
    int depth = 0;
    for (; r && *r && n + 1 < size; r++) { /* without the quotes and the layers' names */
        depth += *r == '(' ? 1 : *r == ')' ? -1 : 0;
        if (depth == 0 && *r != '"' && *r != ')' && !(*r == ' ' && r[1] == '('))
            buf[n++] = *r;
    }
    snprintf(buf + n, size - n, "%s", n ? "" : "unknown");
}

/* The stage's config with the chain's own settings on top. */
static int chain_configure(bundle_stage *s, const chain_options *o, size_t n_classes)
{
    char v[32];
    if (strcmp(s->plugin, "jpeg-decode") == 0) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)o->max_pixels);
        return bundle_stage_set(s, "orientation", "exif") | bundle_stage_set(s, "max_pixels", v);
    }
    if (strcmp(s->plugin, "resnet50-embed") == 0) {
        snprintf(v, sizeof v, "%d", o->batch);
        int rc = bundle_stage_set(s, "batch", v);
        snprintf(v, sizeof v, "%d", o->threads);
        return rc | bundle_stage_set(s, "threads", v);
    }
    if (strcmp(s->plugin, "logreg-predict") == 0) {
        snprintf(v, sizeof v, "%zu", n_classes); /* every probability */
        return bundle_stage_set(s, "top", v);
    }
    return 0;
}

/* Loads and starts stage i, its input being what stage i - 1 emits. */
static int chain_load(chain *c, bundle_stage *s, const char *input_type, char *err, size_t err_size)
{
    char *why = NULL;
    fr_harness *h = fr_harness_new(s->plugin, (const char *const *)s->config, &why);
    if (!h) {
        snprintf(err, err_size, "bundle stage \"%s\": %s", s->name, why ? why : "out of memory");
        free(why);
        return -1;
    }
    c->stage[c->n_stages++] = h;
    fr_harness_set_input_type(h, input_type);
    if (fr_harness_start(h) != FR_OK) {
        snprintf(err, err_size, "bundle stage \"%s\" (%s): %s", s->name, s->plugin,
                 fr_harness_reason(h));
        return -1;
    }
    return 0;
}

chain *chain_new(const bundle *b, const chain_options *o, char *err, size_t err_size)
{
    chain *c = calloc(1, sizeof *c);
    if (!c || !(c->classes = calloc(b->n_classes, sizeof *c->classes)) ||
        !(c->held = calloc((size_t)o->batch, sizeof *c->held)) ||
        !(c->name = calloc((size_t)o->batch, sizeof *c->name))) {
        snprintf(err, err_size, "out of memory");
        chain_free(c);
        return NULL;
    }
    c->batch = o->batch;
    for (; c->n_classes < b->n_classes; c->n_classes++)
        if (!(c->classes[c->n_classes] = strdup(b->classes[c->n_classes])))
            goto oom;
    if (b->n_stages > CHAIN_MAX_STAGES || strcmp(b->stages[0].plugin, "jpeg-decode") != 0 ||
        strcmp(b->stages[b->n_stages - 1].plugin, "logreg-predict") != 0) {
        snprintf(err, err_size,
                 "%s: the bundle's stages must go from jpeg-decode to "
                 "logreg-predict",
                 b->dir);
        chain_free(c);
        return NULL;
    }
    const char *type = "bytes/jpeg";
    c->embed = b->n_stages;
    for (size_t i = 0; i < b->n_stages; i++) {
        bundle_stage *s = &b->stages[i];
        if (strcmp(s->plugin, "resnet50-embed") == 0)
            c->embed = i;
        if (chain_configure(s, o, b->n_classes) != 0)
            goto oom;
        if (chain_load(c, s, type, err, err_size) < 0) {
            chain_free(c);
            return NULL;
        }
        type = fr_harness_output_type(c->stage[i]);
    }
    if (c->embed == b->n_stages) {
        snprintf(err, err_size, "%s: the bundle has no resnet50-embed stage", b->dir);
        chain_free(c);
        return NULL;
    }
    return c;
oom:
    snprintf(err, err_size, "out of memory");
    chain_free(c);
    return NULL;
}

static void answer_fail(chain_answer *a, chain_status status, const char *name, const char *why)
{
    a->status = status;
    snprintf(a->error, sizeof a->error, "%s: %s", name, why);
}

/* Pushes rec into stage i; the record stage i emitted, or NULL (a is told). */
static const fr_record *chain_step(chain *c, size_t i, const fr_record *rec, chain_answer *a,
                                   const char *name)
{
    fr_status s = fr_harness_push(c->stage[i], rec);
    if (s != FR_OK) {
        answer_fail(a, s == FR_REJECT ? CHAIN_BAD_PHOTO : CHAIN_FAILED, name,
                    fr_harness_reason(c->stage[i]));
        return NULL;
    }
    return fr_harness_output(c->stage[i], 0);
}

/* Pushes rec through stages first..embed: its pixels reach the network.
 * 0 or -1 (a is told). */
static int chain_front(chain *c, const fr_record *rec, size_t first, chain_answer *a,
                       const char *name)
{
    const fr_record *r = rec;
    int ok = 1;
    for (size_t i = first; ok && i <= c->embed; i++) {
        r = chain_step(c, i, r, a, name);
        ok = i == c->embed || r != NULL;
        if (i > first)
            fr_harness_clear_outputs(c->stage[i - 1]);
    }
    return ok && a->status == CHAIN_OK ? 0 : -1;
}

/* A photo's bytes into the chain's first stage (jpeg-decode).  0 or -1. */
static int chain_photo_in(chain *c, const chain_photo *p, size_t index, chain_answer *a)
{
    char id[32];
    snprintf(id, sizeof id, "photo:%zu", index);
    fr_record rec = {.id = id, .key = p->name, .label = ""};
    rec.payload = (fr_payload){.kind = FR_KIND_BYTES, .data = (void *)p->data, .size = p->size};
    memcpy(rec.payload.media, "jpeg", 5);
    if (p->size == 0) {
        answer_fail(a, CHAIN_BAD_PHOTO, p->name, "empty: no image data");
        return -1;
    }
    return chain_front(c, &rec, 0, a, p->name);
}

/* The classifier's record: k scores, most probable first, classes named by
 * attributes top1..topk.  Into prob by class index. */
static void chain_probabilities(const chain *c, const fr_record *r, float *prob)
{
    const float *score = r->payload.data;
    char key[16];
    memset(prob, 0, c->n_classes * sizeof *prob);
    for (uint32_t i = 0; i < r->payload.dims[0]; i++) {
        snprintf(key, sizeof key, "top%u", i + 1);
        const char *name = fr_record_attr(r, key);
        for (size_t k = 0; name && k < c->n_classes; k++)
            if (strcmp(c->classes[k], name) == 0) {
                prob[k] = score[i];
                break;
            }
    }
}

/* The stages after the network, one feature row at a time. */
static void chain_back(chain *c, const fr_record *features, const char *name, chain_answer *a)
{
    const fr_record *r = features;
    for (size_t i = c->embed + 1; r && i < c->n_stages; i++) {
        r = chain_step(c, i, r, a, name);
        if (i > c->embed + 1)
            fr_harness_clear_outputs(c->stage[i - 1]);
    }
    if (r)
        chain_probabilities(c, r, a->prob);
    fr_harness_clear_outputs(c->stage[c->n_stages - 1]);
    if (c->n_stages - 1 > c->embed + 1)
        fr_harness_clear_outputs(c->stage[c->n_stages - 2]);
}

/* Runs the network on the held photos (c->held, c->name), then the stages
 * after it, one photo at a time.  0, or -1 when the chain failed. */
static int chain_finish(chain *c, size_t held, chain_answer *out)
{
    fr_harness *embed = c->stage[c->embed];
    fr_status s = fr_harness_flush(embed);
    size_t got = fr_harness_output_count(embed);
    int rc = 0;
    for (size_t j = 0; j < held; j++) {
        chain_answer *a = &out[c->held[j]];
        if (s != FR_OK || got != held) {
            answer_fail(a, CHAIN_FAILED, c->name[j],
                        s != FR_OK ? fr_harness_reason(embed) : "the network lost a photo");
            rc = -1;
        } else {
            chain_back(c, fr_harness_output(embed, j), c->name[j], a);
            rc |= a->status == CHAIN_FAILED ? -1 : 0;
        }
    }
    fr_harness_clear_outputs(embed);
    return rc;
}

int chain_classify(chain *c, const chain_photo *in, size_t n, chain_answer *out)
{
    size_t held = 0;
    for (size_t i = 0; i < n && i < (size_t)c->batch; i++) {
        out[i].status = CHAIN_OK;
        out[i].error[0] = '\0';
        if (chain_photo_in(c, &in[i], i, &out[i]) == 0) {
            c->name[held] = in[i].name;
            c->held[held++] = i;
        }
    }
    return chain_finish(c, held, out);
}

/* One batch of n grey 224×224 images from the resize on (the network's
 * plan for n is made at its first use). */
static int chain_warm_batch(chain *c, int n, const fr_record *image, chain_answer *out, char *err,
                            size_t err_size)
{
    for (int i = 0; i < n; i++) {
        out[i].status = CHAIN_OK;
        c->name[i] = "warm-up image";
        c->held[i] = (size_t)i;
        if (chain_front(c, image, 1, &out[i], c->name[i]) < 0)
            break;
    }
    for (int i = 0; i < n; i++)
        if (out[i].status != CHAIN_OK) {
            snprintf(err, err_size, "%s", out[i].error);
            return -1;
        }
    if (chain_finish(c, (size_t)n, out) == 0)
        return 0;
    snprintf(err, err_size, "%s", out[0].error);
    return -1;
}

int chain_warm(chain *c, char *err, size_t err_size)
{
    enum { SIDE = 224 };
    uint32_t dims[3] = {SIDE, SIDE, 3};
    unsigned char *pixels = malloc((size_t)SIDE * SIDE * 3);
    float *prob = calloc((size_t)c->batch * c->n_classes, sizeof *prob);
    chain_answer *out = calloc((size_t)c->batch, sizeof *out);
    int rc = pixels && prob && out ? 0 : -1;
    if (rc < 0)
        snprintf(err, err_size, "out of memory");
    fr_record image = {.id = "warm-up", .key = "warm-up image", .label = ""};
    image.payload = (fr_payload){
        .kind = FR_KIND_IMAGE, .data = pixels, .size = (size_t)SIDE * SIDE * 3, .rank = 3};
    memcpy(image.payload.dims, dims, sizeof dims);
    if (pixels)
        memset(pixels, 128, image.payload.size);
    for (int i = 0; rc == 0 && i < c->batch; i++)
        out[i].prob = prob + (size_t)i * c->n_classes;
    for (int n = 1; rc == 0 && n <= c->batch; n++)
        rc = chain_warm_batch(c, n, &image, out, err, err_size);
    free(out);
    free(prob);
    free(pixels);
    return rc;
}

int chain_read_file(const char *path, size_t max_bytes, void **data, size_t *size, char *err,
                    size_t err_size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || n > max_bytes)
            break;
        unsigned char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > max_bytes) {
        snprintf(err, err_size, "%s: %s", path,
                 !buf  ? "out of memory"
                 : bad ? "read error"
                       : "larger than the size limit");
        free(buf);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

int chain_option(int argc, char **argv, int *i, chain_options *o, const char **onnx)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long long n = 0;
    if (strcmp(a, "--onnx") == 0) {
        if (!v) {
            cli_error("--onnx needs a file");
            return -1;
        }
        *onnx = v;
    } else if (strcmp(a, "--threads") == 0) {
        if (cli_number(a, v, 0, 256, &n) < 0)
            return -1;
        o->threads = (int)n;
    } else if (strcmp(a, "--max-pixels") == 0) {
        if (cli_number(a, v, 1, 1LL << 40, &n) < 0)
            return -1;
        o->max_pixels = (uint64_t)n;
    } else if (strcmp(a, "--batch") == 0) {
        if (cli_number(a, v, 1, 64, &n) < 0)
            return -1;
        o->batch = (int)n;
    } else if (strcmp(a, "--log-format") == 0) {
        if (!v)
            cli_error("--log-format needs text or json");
        if (!v || cli_log_format(v) < 0)
            return -1;
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}
