/*
 * cli_classify.c — `flowrun classify BUNDLE PHOTO...`: each photo's most
 * probable classes, through the bundle's stages (cli_chain.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_chain.h"
#include "runtime.h"

static const char classify_usage[] =
    "usage: flowrun classify [options] BUNDLE PHOTO...\n"
    "\n"
    "Classifies JPEG photos with a bundle written by flowrun train, through the\n"
    "bundle's own stages: the photo is turned upright by its EXIF orientation,\n"
    "resized whole (no crop) to the network's input with the training's filter\n"
    "(manifest.json: preprocessing), then embedded, scaled, projected and\n"
    "classified.  Any size; a photo that cannot be read gets an error line and\n"
    "the others are still classified.\n"
    "\n"
    "options:\n"
    "  --top K            classes per photo (default 5)\n"
    "  --json             one JSON object per photo and line:\n"
    "                     {\"photo\", \"top\": [{\"label\", \"score\"}]} or {\"photo\", "
    "\"error\"}\n" CHAIN_OPTIONS_HELP "  -h, --help         this help\n"
    "\n"
    "exit codes: 0 every photo classified, 1 some photos refused, 2 usage or bundle error\n";

/* Photos larger than this are refused before they are read whole. */
#define CLASSIFY_MAX_BYTES ((size_t)256 << 20)

typedef struct classify_args {
    const char *bundle, *onnx;
    char **photos;
    int n_photos, top, json;
    chain_options chain;
} classify_args;

static int classify_parse(int argc, char **argv, classify_args *a)
{
    *a = (classify_args){.top = 5, .chain = {.batch = 1, .max_pixels = 50000000}};
    int n = 0; /* the arguments that are not options move to argv[0..n) */
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' || !argv[i][1]) {
            argv[n++] = argv[i];
            continue;
        }
        int r = chain_option(argc, argv, &i, &a->chain, &a->onnx);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--json") == 0)
            a->json = 1;
        else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            a->top = atoi(argv[++i]);
        else {
            cli_say(FR_LOG_ERROR, "classify", "unknown or incomplete option '%s'", argv[i]);
            return -1;
        }
    }
    if (n < 2) {
        cli_usage_error(classify_usage);
        return -1;
    }
    a->bundle = argv[0];
    a->photos = argv + 1;
    a->n_photos = n - 1;
    return 0;
}

/* A JSON string body (without quotes): escapes quotes, backslashes and
 * control characters. */
static void print_json_text(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
}

static void classify_print(const classify_args *a, const chain *c, const char *photo,
                           const chain_answer *ans, const uint32_t *top, size_t k)
{
    if (a->json) {
        printf("{\"photo\": \"");
        print_json_text(photo);
        if (ans->status != CHAIN_OK) {
            printf("\", \"error\": \"");
            print_json_text(ans->error);
            printf("\"}\n");
            return;
        }
        printf("\", \"top\": [");
        for (size_t i = 0; i < k; i++) {
            printf("%s{\"label\": \"", i ? ", " : "");
            print_json_text(chain_class(c, top[i]));
            printf("\", \"score\": %.9g}", ans->prob[top[i]]);
        }
        printf("]}\n");
        return;
    }
    if (ans->status != CHAIN_OK) {
        printf("%s\terror: %s\n", photo, ans->error);
        return;
    }
    for (size_t i = 0; i < k; i++)
        printf("%s\t%-28s %.6f\n", i ? "" : photo, chain_class(c, top[i]), ans->prob[top[i]]);
}

/* Reads and classifies one photo; 0, or 1 when it was refused. */
static int classify_one(const classify_args *a, chain *c, const char *path, float *prob,
                        uint32_t *top, size_t k)
{
    chain_answer ans = {.prob = prob};
    void *data = NULL;
    size_t size = 0;
    if (chain_read_file(path, CLASSIFY_MAX_BYTES, &data, &size, ans.error, sizeof ans.error) < 0)
        ans.status = CHAIN_BAD_PHOTO;
    else
        chain_classify(c, &(chain_photo){.data = data, .size = size, .name = path}, 1, &ans);
    free(data);
    if (ans.status == CHAIN_OK)
        chain_top(prob, chain_classes(c), k, top);
    classify_print(a, c, path, &ans, top, k);
    return ans.status != CHAIN_OK;
}

int cli_classify(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, classify_usage))
        return EXIT_DELIVERED;
    classify_args a;
    if (classify_parse(argc, argv, &a) < 0)
        return EXIT_USAGE;
    char err[1024];
    bundle b;
    if (bundle_open(&b, a.bundle, a.onnx, err, sizeof err) < 0) {
        cli_say(FR_LOG_ERROR, "classify", "%s", err);
        return EXIT_USAGE;
    }
    chain *c = chain_new(&b, &a.chain, err, sizeof err);
    size_t n = b.n_classes, k = (size_t)a.top < n ? (size_t)a.top : n;
    bundle_free(&b);
    if (!c) {
        cli_say(FR_LOG_ERROR, "classify", "%s", err);
        return EXIT_USAGE;
    }
    float *prob = malloc(n * sizeof *prob);
    uint32_t *top = malloc(k * sizeof *top);
    int refused = 0;
    for (int i = 0; prob && top && i < a.n_photos; i++) {
        refused += classify_one(&a, c, a.photos[i], prob, top, k);
        fflush(stdout);
    }
    int code = !prob || !top ? EXIT_FAILED : refused ? EXIT_DEAD_LETTERS : EXIT_DELIVERED;
    free(top);
    free(prob);
    chain_free(c);
    return code;
}
