/*
 * cli_serve_v2.c — the KServe v2 / Open Inference Protocol endpoints: the
 * metadata, and infer, whose body is parsed and answer encoded by
 * cli_serve_body.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_serve.h"

void serve_v2_server_metadata(server *s, http_response *res)
{
    (void)s;
    serve_dump(res, json_pack("{s:s, s:s, s:[s]}", "name", "flowrun", "version", FLOWRUN_VERSION,
                              "extensions", "binary_tensor_data"));
}

void serve_v2_model_metadata(server *s, http_response *res)
{
    json_t *classes = json_array();
    for (size_t i = 0; i < s->n_classes; i++)
        json_array_append_new(classes, serve_jstr(s->classes[i]));
    serve_dump(res,
               json_pack("{s:o, s:[o], s:s, s:[{s:s, s:s, s:[i]}], s:[{s:s, s:s, s:[i]}, {s:s, "
                         "s:s, s:[i, I]}], s:{s:o, s:o}}",
                         "name", serve_jstr(s->model_name), "versions", serve_jstr(s->version),
                         "platform", "flowrun", "inputs", "name", "image", "datatype", "BYTES",
                         "shape", -1, "outputs", "name", "label", "datatype", "BYTES", "shape", -1,
                         "name", "probabilities", "datatype", "FP32", "shape", -1,
                         (json_int_t)s->n_classes, "parameters", "classes", classes, "precision",
                         serve_jstr(s->precision)));
}

/* A request's photos: pointers into the body or into decoded copies. */
void serve_v2_infer(server *s, const http_request *req, http_response *res)
{
    size_t size;
    const unsigned char *body = http_body(req, &size);
    json_t *r = NULL;
    serve_photos p = {0};
    if (serve_v2_parse(s, body, size, http_header(req, "Inference-Header-Content-Length"), &r, &p,
                       res) == 0 &&
        serve_classify(s, p.items, p.n, res) == 0) {
        size_t bad = p.n;
        for (size_t i = 0; i < p.n && bad == p.n; i++)
            bad = p.items[i].answer.status != CHAIN_OK ? i : p.n;
        if (bad < p.n)
            http_error(res, serve_photo_status(&p.items[bad].answer), "inputs[0] element %zu: %s",
                       bad, p.items[bad].answer.error);
        else
            serve_v2_answer(s, r, &p, res);
    }
    serve_photos_free(&p);
    json_decref(r);
}
