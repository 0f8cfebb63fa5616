/*
 * s3_cli.c — a command-line front to the s3 library for the Python tests,
 * which drive it against radosgw and cross-check every result with boto3.
 *   s3-cli whoami | ls B PREFIX [START_AFTER] | head B K | get B K [OFF LEN]
 *          | put B K FILE | upload B K FILE | rm B K | fetch B PREFIX CONCURRENCY
 *   s3-cli backoff ATTEMPT N    N backoff delays (ms) before retry ATTEMPT, no client
 * Errors go to stderr as "error class=N: message"; the exit code is 1.
 * S3CLI_ATTEMPTS and S3CLI_STALL_MS override the retry bound and stall timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "s3.h"
#include "s3_private.h" /* s3_backoff_ms */

static int cli_fail(const s3_error *err)
{
    fprintf(stderr, "error class=%d: %s\n", err->cls, err->message);
    return 1;
}

static int cli_print_object(void *user, const s3_object *o)
{
    printf("%s\t%llu\t%s\t%s\n", o->key, (unsigned long long)o->size, o->etag, o->last_modified);
    return 0;
}

static int cli_read_file(const char *path, s3_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    b->len = b->cap = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b->data = malloc(b->len + 1);
    int ok = b->data && fread(b->data, 1, b->len, f) == b->len;
    fclose(f);
    return ok ? 0 : -1;
}

static int cli_upload(s3_client *c, char **argv, s3_error *err)
{
    s3_buf b = {0};
    if (cli_read_file(argv[4], &b) < 0) {
        fprintf(stderr, "cannot read %s\n", argv[4]);
        return 1;
    }
    s3_upload *u = s3_upload_begin(c, argv[2], argv[3], 0, err);
    /* Uneven writes: parts must not depend on how the caller slices. */
    size_t off = 0, step = 777777;
    int rc = u ? 0 : -1;
    for (; rc == 0 && off < b.len; off += step)
        rc = s3_upload_write(u, b.data + off, b.len - off < step ? b.len - off : step, err);
    if (rc == 0)
        rc = s3_upload_commit(u, err);
    else
        s3_upload_abort(u);
    s3_buf_free(&b);
    return rc < 0 ? cli_fail(err) : 0;
}

typedef struct cli_listing {
    char **keys;
    size_t *sizes;
    char **etags;
    size_t n, cap;
} cli_listing;

static int cli_collect(void *user, const s3_object *o)
{
    cli_listing *l = user;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->keys = realloc(l->keys, l->cap * sizeof *l->keys);
        l->sizes = realloc(l->sizes, l->cap * sizeof *l->sizes);
        l->etags = realloc(l->etags, l->cap * sizeof *l->etags);
    }
    l->keys[l->n] = strdup(o->key);
    l->etags[l->n] = strdup(o->etag);
    l->sizes[l->n++] = o->size;
    return 0;
}

static void cli_print_fetched(const cli_listing *l, size_t i, const char *data, size_t size)
{
    unsigned char d[16];
    unsigned n;
    EVP_Digest(data, size, d, &n, EVP_md5(), NULL);
    printf("%s\t%zu\t", l->keys[i], size);
    for (unsigned k = 0; k < n; k++)
        printf("%02x", d[k]);
    printf("\n");
}

/* Lists prefix and fetches every object with curl multi; failures are
 * printed as "FAILED key: message" and the rest goes on. */
static int cli_fetch(s3_client *c, char **argv, s3_error *err)
{
    cli_listing l = {0};
    if (s3_list(c, argv[2], argv[3], NULL, cli_collect, &l, err) < 0)
        return cli_fail(err);
    s3_fetch *f = s3_fetch_new(c, atoi(argv[4]), err);
    char **bufs = calloc(l.n + 1, sizeof *bufs);
    size_t next = 0;
    int failures = 0;
    s3_fetch_result r;
    while (f) {
        while (next < l.n && s3_fetch_has_room(f)) {
            bufs[next] = malloc(l.sizes[next] + 1);
            if (s3_fetch_add(f, argv[2], l.keys[next], l.etags[next], bufs[next], l.sizes[next],
                             (void *)next, err) < 0)
                return cli_fail(err);
            next++;
        }
        if (!s3_fetch_next(f, &r))
            break;
        size_t i = (size_t)r.user;
        if (r.failed) {
            fprintf(stderr, "FAILED %s: %s\n", l.keys[i], r.err.message);
            failures++;
        } else {
            cli_print_fetched(&l, i, bufs[i], r.size);
        }
        free(bufs[i]);
    }
    s3_fetch_free(f);
    for (size_t i = 0; i < l.n; i++) {
        free(l.keys[i]);
        free(l.etags[i]);
    }
    free(l.keys);
    free(l.etags);
    free(l.sizes);
    free(bufs);
    return failures ? 1 : 0;
}

static int cli_run(s3_client *c, int argc, char **argv, s3_error *err)
{
    const char *cmd = argv[1];
    s3_buf b = {0};
    s3_object o;
    int rc = 0;
    if (strcmp(cmd, "whoami") == 0)
        printf("%s\n%s\n%s\n", s3_client_credential_source(c), s3_client_region(c),
               s3_client_endpoint(c));
    else if (strcmp(cmd, "ls") == 0 && argc >= 4)
        rc = s3_list(c, argv[2], argv[3], argc > 4 ? argv[4] : NULL, cli_print_object, NULL, err);
    else if (strcmp(cmd, "head") == 0 && argc == 4) {
        if ((rc = s3_head(c, argv[2], argv[3], &o, err)) == 0)
            printf("%llu\t%s\n", (unsigned long long)o.size, o.etag);
    } else if (strcmp(cmd, "get") == 0 && argc >= 4) {
        rc = s3_get(c, argv[2], argv[3], argc > 5 ? strtoull(argv[4], NULL, 10) : 0,
                    argc > 5 ? strtoull(argv[5], NULL, 10) : 0, &b, err);
        if (rc == 0)
            fwrite(b.data, 1, b.len, stdout);
    } else if (strcmp(cmd, "put") == 0 && argc == 5) {
        if (cli_read_file(argv[4], &b) < 0)
            return fprintf(stderr, "cannot read %s\n", argv[4]), 1;
        rc = s3_put(c, argv[2], argv[3], b.data, b.len, err);
    } else if (strcmp(cmd, "upload") == 0 && argc == 5)
        return cli_upload(c, argv, err);
    else if (strcmp(cmd, "rm") == 0 && argc == 4)
        rc = s3_delete(c, argv[2], argv[3], err);
    else if (strcmp(cmd, "fetch") == 0 && argc == 5)
        return cli_fetch(c, argv, err);
    else
        return fprintf(stderr, "usage: see s3_cli.c\n"), 2;
    s3_buf_free(&b);
    return rc < 0 ? cli_fail(err) : 0;
}

int main(int argc, char **argv)
{
    s3_error err = {0};
    const char *attempts = getenv("S3CLI_ATTEMPTS"), *stall = getenv("S3CLI_STALL_MS");
    s3_options opt = {.max_attempts = attempts ? atoi(attempts) : 0,
                      .stall_timeout_ms = stall ? atol(stall) : 0};
    if (argc < 2)
        return fprintf(stderr, "usage: see s3_cli.c\n"), 2;
    if (strcmp(argv[1], "backoff") == 0 && argc == 4) {
        unsigned seed = 12345;
        for (long i = 0, n = atol(argv[3]); i < n; i++)
            printf("%ld\n", s3_backoff_ms(atoi(argv[2]), &seed));
        return 0;
    }
    s3_client *c = s3_client_new(&opt, &err);
    if (!c)
        return cli_fail(&err);
    int rc = cli_run(c, argc, argv, &err);
    s3_client_free(c);
    return rc;
}
