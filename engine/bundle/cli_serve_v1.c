/*
 * cli_serve_v1.c — POST /v1/classify: the image bytes as the body, ?top=k;
 * answers {"model", "version", "top": [{"label", "score"}], "timing_ms"}.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_serve.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

void serve_v1_classify(server *s, const http_request *req, http_response *res)
{
    double t0 = now_ms();
    const char *top_arg = http_query(req, "top");
    char *end = NULL;
    long top = top_arg ? strtol(top_arg, &end, 10) : 5;
    if (top_arg && (*end || end == top_arg || top < 1 || (size_t)top > s->n_classes)) {
        http_error(res, 400, "top: expected a whole number in 1..%zu, got \"%s\"", s->n_classes,
                   top_arg);
        return;
    }
    size_t size;
    const unsigned char *body = http_body(req, &size);
    batch_item item = {.photo = {.data = body, .size = size, .name = "request body"}};
    if (serve_classify(s, &item, 1, res) < 0)
        return;
    if (item.answer.status != CHAIN_OK) {
        http_error(res, serve_photo_status(&item.answer), "%s", item.answer.error);
        serve_items_free(&item, 1);
        return;
    }
    uint32_t best[1024];
    size_t k = (size_t)top < 1024 ? (size_t)top : 1024;
    chain_top(item.answer.prob, s->n_classes, k, best);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(list,
                              json_pack("{s:o, s:f}", "label", serve_jstr(s->classes[best[i]]),
                                        "score", (double)item.answer.prob[best[i]]));
    serve_items_free(&item, 1);
    json_t *o = json_pack("{s:o, s:o, s:o, s:f}", "model", serve_jstr(s->model_name), "version",
                          serve_jstr(s->version), "top", list, "timing_ms", now_ms() - t0);
    serve_dump(res, o);
}
