/*
 * cli_serve_body.c — the model server's request bodies and answers, apart
 * from the server (cli_serve.h): what /v1/classify and /v2/models/NAME/infer
 * read from a client and write back, parsed and encoded here, so that they
 * are tested and fuzzed (tests/fuzz/fuzz_serve.c) without a network or a
 * model.
 *
 * /v2/models/NAME/infer takes one BYTES input whose elements are encoded
 * photos (shape [n] or [n, 1]):
 *   - JSON: "data" holds each photo base64-encoded (a JSON string cannot
 *     carry raw bytes);
 *   - binary data extension: the request body is the JSON header
 *     (Inference-Header-Content-Length bytes) then the raw tensor data; the
 *     input says "parameters": {"binary_data_size": B}, and its B bytes are
 *     the elements, each a 4-byte little-endian length then the bytes.
 * Outputs: "label" (BYTES, [n]: the most probable class) and
 * "probabilities" (FP32, [n, classes], in the order of the model
 * metadata's "classes" parameter); in JSON, or as binary data when the
 * request's "parameters" say "binary_data_output": true or an output asks
 * "binary_data": true.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_serve.h"

json_t *serve_jstr(const char *s)
{
    return json_stringn(s, strlen(s)); /* not json_string: see engine/support/json_out.h */
}

void serve_json(http_response *res, int status, const char *json)
{
    res->status = status;
    res->body = strdup(json);
    res->size = res->body ? strlen(res->body) : 0;
}

void serve_dump(http_response *res, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(o);
    if (!text) {
        http_error(res, 500, "out of memory");
        return;
    }
    res->status = 200;
    res->body = text;
    res->size = strlen(text);
}

int serve_v1_top(const server *s, const char *arg, size_t *top, http_response *res)
{
    char *end = NULL;
    long k = arg ? strtol(arg, &end, 10) : 5;
    if (arg && (*end || end == arg || k < 1 || (size_t)k > s->n_classes)) {
        http_error(res, 400, "top: expected a whole number in 1..%zu, got \"%s\"", s->n_classes,
                   arg);
        return -1;
    }
    *top = (size_t)k < s->n_classes ? (size_t)k : s->n_classes;
    return 0;
}

void serve_v1_answer(const server *s, const float *prob, size_t top, double timing_ms,
                     http_response *res)
{
    uint32_t best[1024];
    size_t k = top < 1024 ? top : 1024;
    chain_top(prob, s->n_classes, k, best);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(list,
                              json_pack("{s:o, s:f}", "label", serve_jstr(s->classes[best[i]]),
                                        "score", (double)prob[best[i]]));
    json_t *o = json_pack("{s:o, s:o, s:o, s:f}", "model", serve_jstr(s->model_name), "version",
                          serve_jstr(s->version), "top", list, "timing_ms", timing_ms);
    serve_dump(res, o);
}

void serve_items_free(batch_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].answer.prob);
        items[i].answer.prob = NULL;
    }
}

void serve_photos_free(serve_photos *p)
{
    for (size_t i = 0; p->decoded && i < p->n; i++)
        free(p->decoded[i]);
    free(p->decoded);
    serve_items_free(p->items, p->n);
    free(p->items);
}

static int photos_alloc(serve_photos *p, size_t n, http_response *res)
{
    p->n = n;
    p->items = calloc(n, sizeof *p->items);
    p->decoded = calloc(n, sizeof *p->decoded);
    if (!p->items || !p->decoded) {
        http_error(res, 500, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        p->items[i].photo.name = "inputs[0]";
    return 0;
}

/* Elements of the binary data: 4-byte little-endian length, bytes. */
static int photos_binary(serve_photos *p, const unsigned char *data, size_t size,
                         http_response *res)
{
    size_t at = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (size - at < 4) {
            http_error(res, 400, "binary data of input 0: element %zu missing (%zu bytes left)", i,
                       size - at);
            return -1;
        }
        uint32_t len = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 |
                       (uint32_t)data[at + 2] << 16 | (uint32_t)data[at + 3] << 24;
        at += 4;
        if (len > size - at) {
            http_error(res, 400, "binary data of input 0: element %zu claims %u bytes, %zu left", i,
                       len, size - at);
            return -1;
        }
        p->items[i].photo.data = data + at;
        p->items[i].photo.size = len;
        at += len;
    }
    if (at != size) {
        http_error(res, 400, "binary data of input 0: %zu bytes beyond its %zu elements", size - at,
                   p->n);
        return -1;
    }
    return 0;
}

/* JSON data: one base64 string per element. */
static int photos_base64(serve_photos *p, json_t *data, http_response *res)
{
    if (!json_is_array(data) || json_array_size(data) != p->n) {
        http_error(res, 400,
                   "inputs[0].data: expected %zu base64 strings (one encoded photo "
                   "each), or the binary data extension",
                   p->n);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++) {
        const char *b64 = json_string_value(json_array_get(data, i));
        size_t len = b64 ? strlen(b64) : 0;
        if (!b64 || len % 4 || !(p->decoded[i] = malloc(len / 4 * 3 + 1))) {
            http_error(res, 400, "inputs[0].data[%zu]: not a base64 string", i);
            return -1;
        }
        int n = EVP_DecodeBlock(p->decoded[i], (const unsigned char *)b64, (int)len);
        if (n < 0) {
            http_error(res, 400, "inputs[0].data[%zu]: not valid base64", i);
            return -1;
        }
        n -= (len > 0 && b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
        p->items[i].photo.data = p->decoded[i];
        p->items[i].photo.size = (size_t)n;
    }
    return 0;
}

/* Elements in the shape ([n] or [n, 1]). */
static long shape_elements(json_t *shape)
{
    size_t dims = json_array_size(shape);
    long n = dims ? (long)json_integer_value(json_array_get(shape, 0)) : -1;
    if (dims < 1 || dims > 2 || n < 1 ||
        (dims == 2 && json_integer_value(json_array_get(shape, 1)) != 1))
        return -1;
    return n;
}

/* The request's input: photos filled.  0, or -1 with res. */
static int infer_input(const server *s, json_t *req, const unsigned char *binary,
                       size_t binary_size, serve_photos *p, http_response *res)
{
    json_t *inputs = json_object_get(req, "inputs");
    json_t *in = json_array_get(inputs, 0);
    const char *type = json_string_value(json_object_get(in, "datatype"));
    if (json_array_size(inputs) != 1 || !type || strcmp(type, "BYTES") != 0) {
        http_error(res, 400,
                   "expected \"inputs\": one input of datatype BYTES holding encoded "
                   "photos (see GET /v2/models/%s)",
                   s->model_name);
        return -1;
    }
    long n = shape_elements(json_object_get(in, "shape"));
    if (n < 1 || (size_t)n > s->max_photos) {
        http_error(res, 400, "inputs[0].shape: expected [n] or [n, 1] with 1 <= n <= %zu",
                   s->max_photos);
        return -1;
    }
    if (photos_alloc(p, (size_t)n, res) < 0)
        return -1;
    json_t *bsize = json_object_get(json_object_get(in, "parameters"), "binary_data_size");
    if (!bsize)
        return photos_base64(p, json_object_get(in, "data"), res);
    if (!json_is_integer(bsize) || (size_t)json_integer_value(bsize) != binary_size) {
        http_error(res, 400,
                   "inputs[0].parameters.binary_data_size: %lld, but %zu bytes follow "
                   "the JSON header",
                   (long long)json_integer_value(bsize), binary_size);
        return -1;
    }
    return photos_binary(p, binary, binary_size, res);
}

static int wants_binary(json_t *req, const char *output)
{
    if (json_is_true(json_object_get(json_object_get(req, "parameters"), "binary_data_output")))
        return 1;
    json_t *outs = json_object_get(req, "outputs"), *o;
    size_t i;
    json_array_foreach(outs, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        if (name && strcmp(name, output) == 0)
            return json_is_true(json_object_get(json_object_get(o, "parameters"), "binary_data"));
    }
    return 0;
}

/* A growable byte string for the binary outputs. */
typedef struct bytes {
    unsigned char *b;
    size_t n, cap;
    int failed;
} bytes;

static void bytes_put(bytes *t, const void *d, size_t n)
{
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->n + n)
            cap *= 2;
        unsigned char *b = realloc(t->b, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->b = b;
        t->cap = cap;
    }
    memcpy(t->b + t->n, d, n);
    t->n += n;
}

static json_t *output_label(const server *s, const serve_photos *p, int binary, bytes *bin)
{
    json_t *o = json_pack("{s:s, s:s, s:[I]}", "name", "label", "datatype", "BYTES", "shape",
                          (json_int_t)p->n);
    json_t *data = json_array();
    size_t start = bin->n;
    for (size_t i = 0; i < p->n; i++) {
        uint32_t best;
        chain_top(p->items[i].answer.prob, s->n_classes, 1, &best);
        const char *label = s->classes[best];
        uint32_t len = (uint32_t)strlen(label);
        unsigned char le[4] = {len & 255, len >> 8 & 255, len >> 16 & 255, len >> 24};
        if (binary) {
            bytes_put(bin, le, 4);
            bytes_put(bin, label, len);
        } else {
            json_array_append_new(data, serve_jstr(label));
        }
    }
    if (binary) {
        json_decref(data);
        json_object_set_new(o, "parameters",
                            json_pack("{s:I}", "binary_data_size", (json_int_t)(bin->n - start)));
    } else {
        json_object_set_new(o, "data", data);
    }
    return o;
}

static json_t *output_probabilities(const server *s, const serve_photos *p, int binary, bytes *bin)
{
    json_t *o = json_pack("{s:s, s:s, s:[I, I]}", "name", "probabilities", "datatype", "FP32",
                          "shape", (json_int_t)p->n, (json_int_t)s->n_classes);
    if (binary) { /* little-endian floats, as this machine stores them */
        for (size_t i = 0; i < p->n; i++)
            bytes_put(bin, p->items[i].answer.prob, s->n_classes * sizeof(float));
        json_object_set_new(o, "parameters",
                            json_pack("{s:I}", "binary_data_size",
                                      (json_int_t)(p->n * s->n_classes * sizeof(float))));
        return o;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < p->n; i++)
        for (size_t c = 0; c < s->n_classes; c++)
            json_array_append_new(data, json_real(p->items[i].answer.prob[c]));
    json_object_set_new(o, "data", data);
    return o;
}

void serve_v2_answer(const server *s, json_t *req, const serve_photos *p, http_response *res)
{
    bytes bin = {0};
    json_t *o = json_pack("{s:o, s:o}", "model_name", serve_jstr(s->model_name), "model_version",
                          serve_jstr(s->version));
    json_t *id = json_object_get(req, "id");
    if (json_is_string(id))
        json_object_set(o, "id", id);
    json_t *outs = json_array();
    json_array_append_new(outs, output_label(s, p, wants_binary(req, "label"), &bin));
    json_array_append_new(outs,
                          output_probabilities(s, p, wants_binary(req, "probabilities"), &bin));
    json_object_set_new(o, "outputs", outs);
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    size_t len = text ? strlen(text) : 0;
    char *body = text && !bin.failed ? realloc(text, len + bin.n + 1) : NULL;
    if (!body) {
        free(text);
        free(bin.b);
        http_error(res, 500, "out of memory");
        return;
    }
    if (bin.n) {
        memcpy(body + len, bin.b, bin.n);
        res->header_name = "Inference-Header-Content-Length";
        snprintf(res->header_value, sizeof res->header_value, "%zu", len);
        res->content_type = "application/octet-stream";
    }
    free(bin.b);
    res->status = 200;
    res->body = body;
    res->size = len + bin.n;
}

int serve_v2_parse(const server *s, const unsigned char *body, size_t size, const char *hlen,
                   json_t **req, serve_photos *p, http_response *res)
{
    char *end = NULL;
    size_t json_size = hlen ? (size_t)strtoull(hlen, &end, 10) : size;
    *req = NULL;
    if (hlen && (*end || end == hlen || json_size > size)) {
        http_error(res, 400,
                   "Inference-Header-Content-Length: \"%s\" is not a length within the "
                   "%zu-byte body",
                   hlen, size);
        return -1;
    }
    json_error_t je;
    json_t *r = json_loadb((const char *)body, json_size, 0, &je);
    if (!json_is_object(r)) {
        http_error(res, 400, "request JSON: %s (line %d, column %d)",
                   r ? "expected an object" : je.text, je.line, je.column);
        json_decref(r);
        return -1;
    }
    *req = r;
    return infer_input(s, r, body + json_size, size - json_size, p, res);
}
