/* fuzz-serve: what a client's request to `flowrun serve` goes through
 * before and after the model (engine/bundle/cli_serve_body.c): a KServe v2
 * infer body (JSON with base64 data, or the binary data extension after
 * Inference-Header-Content-Length bytes of JSON) and /v1/classify's ?top=K,
 * then the answer encoded for made-up probabilities.
 *
 * The first byte chooses: 0 v2 without the header, 1 v2 with the header
 * (the next line of the input is its value), 2 /v1/classify (the next line
 * is ?top=).  Checks: every photo parsed lies within the body or its
 * decoded copy (each byte is read), a refusal is a 4xx/5xx with a JSON
 * error, and an answer's JSON part parses with n labels. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_classes[] = {"Apple Braeburn", "Apple \"Crimson\" Snow", "Kiwi\n"};
static const server fuzz_server = {.model_name = "fruits",
                                   .version = "20261205T000000Z",
                                   .classes = fuzz_classes,
                                   .n_classes = 3,
                                   .max_photos = 64};

/* The next line of the input (at most 63 bytes), as a string into out. */
static const uint8_t *fuzz_line(const uint8_t *data, size_t *size, char out[64])
{
    size_t n = 0;
    while (n < *size && n < 63 && data[n] != '\n')
        n++;
    memcpy(out, data, n);
    out[n] = '\0';
    n += n < *size;
    *size -= n;
    return data + n;
}

/* A refusal: a 4xx/5xx status and {"error": "..."}. */
static void fuzz_check_error(const http_response *res)
{
    json_t *j = json_loadb(res->body, res->size, 0, NULL);
    if (res->status < 400 || !json_is_string(json_object_get(j, "error")))
        abort();
    json_decref(j);
}

static volatile unsigned fuzz_sink;

/* Each photo within what the request holds; every byte read. */
static unsigned fuzz_read_photos(const serve_photos *p, const uint8_t *body, size_t size)
{
    unsigned sum = 0;
    for (size_t i = 0; i < p->n; i++) {
        const chain_photo *ph = &p->items[i].photo;
        const uint8_t *at = ph->data;
        int in_body = at >= body && at <= body + size && ph->size <= (size_t)(body + size - at);
        if (!in_body && (!p->decoded[i] || at != p->decoded[i]))
            abort();
        for (size_t b = 0; b < ph->size; b++)
            sum += at[b];
    }
    return sum;
}

static void fuzz_v2(const uint8_t *body, size_t size, const char *hlen)
{
    static float prob[64][3];
    http_response res = {0};
    json_t *req = NULL;
    serve_photos p = {0};
    if (serve_v2_parse(&fuzz_server, body, size, hlen, &req, &p, &res) < 0) {
        fuzz_check_error(&res);
    } else {
        if (p.n < 1 || p.n > fuzz_server.max_photos)
            abort();
        fuzz_sink += fuzz_read_photos(&p, body, size);
        for (size_t i = 0; i < p.n; i++) {
            prob[i][0] = 0.25f, prob[i][1] = 0.5f, prob[i][2] = 0.25f;
            p.items[i].answer.status = CHAIN_OK;
            p.items[i].answer.prob = prob[i];
        }
        serve_v2_answer(&fuzz_server, req, &p, &res);
        size_t json_size = res.header_name ? strtoull(res.header_value, NULL, 10) : res.size;
        json_t *o = json_size <= res.size ? json_loadb(res.body, json_size, 0, NULL) : NULL;
        json_t *label = json_array_get(json_object_get(o, "outputs"), 0);
        json_t *shape = json_object_get(label, "shape");
        if (res.status != 200 || json_integer_value(json_array_get(shape, 0)) != (json_int_t)p.n)
            abort();
        json_decref(o);
        for (size_t i = 0; i < p.n; i++)
            p.items[i].answer.prob = NULL; /* not the items' own: not freed with them */
    }
    serve_photos_free(&p);
    json_decref(req);
    free(res.body);
}

static void fuzz_v1(const char *top)
{
    static const float prob[3] = {0.2f, 0.7f, 0.1f};
    http_response res = {0};
    size_t k = 0;
    if (serve_v1_top(&fuzz_server, top[0] ? top : NULL, &k, &res) < 0) {
        fuzz_check_error(&res);
    } else {
        serve_v1_answer(&fuzz_server, prob, k, 1.5, &res);
        json_t *o = json_loadb(res.body, res.size, 0, NULL);
        if (res.status != 200 || json_array_size(json_object_get(o, "top")) != k)
            abort();
        json_decref(o);
    }
    free(res.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    char line[64];
    data++, size--;
    if (mode == 0) {
        fuzz_v2(data, size, NULL);
    } else if (mode == 1) {
        const uint8_t *body = fuzz_line(data, &size, line);
        fuzz_v2(body, size, line);
    } else {
        fuzz_line(data, &size, line);
        fuzz_v1(line);
    }
    return 0;
}
