/*
 * make-bad-images — writes the hostile-image corpus for jpeg-decode:
 *
 *   make-bad-images OUT
 *
 * Each file is named after what jpeg-decode (default config) must do with
 * it: "ok--<what>.jpg" decodes; "reject-<reason>--<what>.jpg" is refused
 * with a reason starting with <reason>, dashes read as spaces (e.g.
 * "reject-image-too-large--10000x10000.jpg").  The bytes are the same on
 * every run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

typedef struct bad_jpeg {
    unsigned char *data; /* tjAlloc'd, owned */
    unsigned long size;
} bad_jpeg;

static const char *bad_dir;

static int bad_write(const char *name, const void *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", bad_dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "make-bad-images: writing %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

/* A valid w×h JPEG of a colour ramp; 0, or -1 with a message printed. */
static int bad_encode(int w, int h, int samp, int flags, bad_jpeg *out)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    tjhandle tj = tjInitCompress();
    int rc = -1;
    if (px && tj) {
        for (size_t i = 0; i < (size_t)w * h * 3; i++)
            px[i] = (unsigned char)(i * 7 + i / 97);
        *out = (bad_jpeg){0};
        rc = tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out->data, &out->size, samp, 85, flags);
        if (rc != 0)
            fprintf(stderr, "make-bad-images: encoding: %s\n", tjGetErrorStr2(tj));
    }
    if (tj)
        tjDestroy(tj);
    free(px);
    return rc;
}

/* Offset of the height field of the first SOF0/SOF2 segment, or 0. */
static size_t bad_sof_dims(const bad_jpeg *j)
{
    for (size_t i = 2; i + 9 < j->size; i++)
        if (j->data[i] == 0xff && (j->data[i + 1] == 0xc0 || j->data[i + 1] == 0xc2))
            return i + 5;
    return 0;
}

/* A copy of j with the header claiming w×h: a small file that says huge. */
static int bad_write_dims(const char *name, const bad_jpeg *j, unsigned w, unsigned h)
{
    size_t at = bad_sof_dims(j);
    unsigned char *copy = malloc(j->size);
    if (!at || !copy) {
        free(copy);
        fprintf(stderr, "make-bad-images: no SOF marker to patch\n");
        return -1;
    }
    memcpy(copy, j->data, j->size);
    copy[at] = (unsigned char)(h >> 8);
    copy[at + 1] = (unsigned char)h;
    copy[at + 2] = (unsigned char)(w >> 8);
    copy[at + 3] = (unsigned char)w;
    int rc = bad_write(name, copy, j->size);
    free(copy);
    return rc;
}

static int bad_write_with_tail(const char *name, const bad_jpeg *j, const char *tail)
{
    size_t n = strlen(tail);
    unsigned char *copy = malloc(j->size + n);
    if (!copy)
        return -1;
    memcpy(copy, j->data, j->size);
    memcpy(copy + j->size, tail, n);
    int rc = bad_write(name, copy, j->size + n);
    free(copy);
    return rc;
}

static int bad_corpus(const bad_jpeg *base, const bad_jpeg *tiny, const bad_jpeg *prog)
{
    static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02";
    static const char text[] = "<html><body>404 Not Found</body></html>\n";
    unsigned char corrupt[64] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x02};
    for (size_t i = 6; i < sizeof corrupt; i++)
        corrupt[i] = (unsigned char)(i * 37);
    int rc = 0;
    rc |= bad_write("ok--baseline-64x48.jpg", base->data, base->size);
    rc |= bad_write("ok--1x1.jpg", tiny->data, tiny->size);
    rc |= bad_write("ok--progressive-64x48.jpg", prog->data, prog->size);
    rc |= bad_write_with_tail("ok--trailing-garbage.jpg", base, "GARBAGE AFTER THE EOI MARKER");
    rc |= bad_write("reject-empty-object--zero-bytes.jpg", "", 0);
    rc |= bad_write("reject-not-a-jpeg--png-data.jpg", png, sizeof png - 1);
    rc |= bad_write("reject-not-a-jpeg--text.jpg", text, sizeof text - 1);
    rc |= bad_write("reject-corrupt-jpeg-header--garbage-after-soi.jpg", corrupt, sizeof corrupt);
    rc |= bad_write("reject-corrupt-jpeg-header--cut-in-header.jpg", base->data, 40);
    rc |= bad_write("reject-corrupt-jpeg-data--truncated.jpg", base->data, base->size * 2 / 3);
    rc |= bad_write("reject-corrupt-jpeg-data--truncated-progressive.jpg", prog->data,
                    prog->size * 2 / 3);
    rc |= bad_write_dims("reject-image-too-large--10000x10000-header.jpg", base, 10000, 10000);
    rc |= bad_write_dims("reject-corrupt-jpeg-header--0x48.jpg", base, 0, 48);
    rc |= bad_write_dims("reject-corrupt-jpeg-header--64x0.jpg", base, 64, 0);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: make-bad-images OUT\n");
        return 2;
    }
    bad_dir = argv[1];
    if (mkdir(bad_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "make-bad-images: mkdir %s: %s\n", bad_dir, strerror(errno));
        return 1;
    }
    bad_jpeg base = {0}, tiny = {0}, prog = {0};
    int rc = bad_encode(64, 48, TJSAMP_420, 0, &base) || bad_encode(1, 1, TJSAMP_444, 0, &tiny) ||
             bad_encode(64, 48, TJSAMP_420, TJFLAG_PROGRESSIVE, &prog) ||
             bad_corpus(&base, &tiny, &prog);
    tjFree(prog.data);
    tjFree(tiny.data);
    tjFree(base.data);
    return rc ? 1 : 0;
}
