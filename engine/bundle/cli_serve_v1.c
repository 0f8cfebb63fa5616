/*
 * cli_serve_v1.c — POST /v1/classify: the image bytes as the body, ?top=k;
 * answers {"model", "version", "top": [{"label", "score"}], "timing_ms"}
 * (argument and answer: cli_serve_body.c).
 */
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
    size_t top, size;
    if (serve_v1_top(s, http_query(req, "top"), &top, res) < 0)
        return;
    const unsigned char *body = http_body(req, &size);
    batch_item item = {.photo = {.data = body, .size = size, .name = "request body"}};
    if (serve_classify(s, &item, 1, res) < 0)
        return;
    if (item.answer.status != CHAIN_OK)
        http_error(res, serve_photo_status(&item.answer), "%s", item.answer.error);
    else
        serve_v1_answer(s, item.answer.prob, top, now_ms() - t0, res);
    serve_items_free(&item, 1);
}
