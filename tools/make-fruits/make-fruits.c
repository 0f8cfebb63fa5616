/*
 * make-fruits — writes a synthetic data set in the Fruits-360 layout:
 *
 *   OUT/Training/<Class name>/<i>_100.jpg   (3/4 of each class)
 *   OUT/Test/<Class name>/<i>_100.jpg       (1/4)
 *
 * 100x100 RGB baseline JPEGs (4:2:0) on white.  Every image's pixels depend
 * only on (seed, class, split, i), so a seed gives the same bytes on every
 * run and machine with the same libjpeg-turbo.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <turbojpeg.h>

#include "classes.h"
#include "render.h"

typedef struct fruits_opts {
    const char *out;
    unsigned long count, classes, quality;
    uint64_t seed;
} fruits_opts;

typedef struct fruits_writer {
    tjhandle tj;
    uint8_t pixels[FRUIT_SIZE * FRUIT_SIZE * 3];
    unsigned char *jpeg; /* tjAlloc'd, big enough for any 100x100 image */
    char path[4096];
} fruits_writer;

static const char *const fruits_splits[2] = {"Training", "Test"};

static void fruits_usage(FILE *f)
{
    fprintf(f, "usage: make-fruits [--count N] [--classes N] [--seed S] [--quality Q] OUT\n"
               "  --count N    images in all, spread over the classes (default 1000)\n"
               "  --classes N  the first N of the 131 Fruits-360 classes (default 131)\n"
               "  --seed S     the data set for a seed is always the same (default 1)\n"
               "  --quality Q  JPEG quality 1..100 (default 95)\n");
}

static int fruits_number(const char *arg, const char *name, unsigned long lo, unsigned long hi,
                         unsigned long *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(arg, &end, 10);
    if (errno || *end || end == arg || n < lo || n > hi) {
        fprintf(stderr, "make-fruits: %s: expected %lu..%lu, got \"%s\"\n", name, lo, hi, arg);
        return -1;
    }
    *v = n;
    return 0;
}

static int fruits_parse(int argc, char **argv, fruits_opts *o)
{
    static const struct option longs[] = {
        {"count", required_argument, 0, 'n'}, {"classes", required_argument, 0, 'c'},
        {"seed", required_argument, 0, 's'},  {"quality", required_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    *o = (fruits_opts){.count = 1000, .classes = FRUIT_CLASSES, .quality = 95, .seed = 1};
    unsigned long seed = 1;
    for (int ch; (ch = getopt_long(argc, argv, "h", longs, NULL)) != -1;) {
        int rc = 0;
        if (ch == 'n')
            rc = fruits_number(optarg, "--count", 1, 100000000, &o->count);
        else if (ch == 'c')
            rc = fruits_number(optarg, "--classes", 1, FRUIT_CLASSES, &o->classes);
        else if (ch == 's')
            rc = fruits_number(optarg, "--seed", 0, (unsigned long)-1, &seed);
        else if (ch == 'q')
            rc = fruits_number(optarg, "--quality", 1, 100, &o->quality);
        else {
            fruits_usage(ch == 'h' ? stdout : stderr);
            exit(ch == 'h' ? 0 : 2);
        }
        if (rc)
            return -1;
    }
    if (optind != argc - 1) {
        fruits_usage(stderr);
        return -1;
    }
    o->out = argv[optind];
    o->seed = seed;
    return 0;
}

static int fruits_mkdir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "make-fruits: mkdir %s: %s\n", path, strerror(errno));
    return -1;
}

static int fruits_write_file(const char *path, const unsigned char *data, unsigned long size)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "make-fruits: writing %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

/* Renders, encodes and writes image i of class cls in split sp. */
static int fruits_image(fruits_writer *w, const fruits_opts *o, unsigned cls, int sp,
                        unsigned long i)
{
    /* One stream per image: the bytes do not depend on what came before. */
    uint64_t rng = o->seed;
    rng = fruit_rand(&rng) ^ ((uint64_t)cls << 40) ^ ((uint64_t)sp << 39) ^ i;
    fruit_pose pose = fruit_pose_random(&rng);
    fruit_look look = fruit_class_look(cls);
    fruit_render(&look, &pose, w->pixels);
    unsigned long size = tjBufSize(FRUIT_SIZE, FRUIT_SIZE, TJSAMP_420);
    if (tjCompress2(w->tj, w->pixels, FRUIT_SIZE, 0, FRUIT_SIZE, TJPF_RGB, &w->jpeg, &size,
                    TJSAMP_420, (int)o->quality, TJFLAG_NOREALLOC) != 0) {
        fprintf(stderr, "make-fruits: encoding: %s\n", tjGetErrorStr2(w->tj));
        return -1;
    }
    snprintf(w->path, sizeof w->path, "%s/%s/%s/%lu_100.jpg", o->out, fruits_splits[sp],
             fruit_class_name(cls), i);
    return fruits_write_file(w->path, w->jpeg, size);
}

/* Class cls gets count/classes images (the first count%classes one more),
 * a quarter of them (rounded down) in Test, as in Fruits-360. */
static int fruits_class(fruits_writer *w, const fruits_opts *o, unsigned cls)
{
    unsigned long n = o->count / o->classes + (cls < o->count % o->classes);
    unsigned long per_split[2] = {n - n / 4, n / 4};
    for (int sp = 0; sp < 2; sp++) {
        snprintf(w->path, sizeof w->path, "%s/%s/%s", o->out, fruits_splits[sp],
                 fruit_class_name(cls));
        if (fruits_mkdir(w->path) != 0)
            return -1;
        for (unsigned long i = 0; i < per_split[sp]; i++)
            if (fruits_image(w, o, cls, sp, i) != 0)
                return -1;
    }
    return 0;
}

static int fruits_run(const fruits_opts *o)
{
    fruits_writer *w = calloc(1, sizeof *w);
    if (!w) {
        fprintf(stderr, "make-fruits: out of memory\n");
        return -1;
    }
    int rc = -1;
    w->tj = tjInitCompress();
    w->jpeg = tjAlloc((int)tjBufSize(FRUIT_SIZE, FRUIT_SIZE, TJSAMP_420));
    if (!w->tj || !w->jpeg) {
        fprintf(stderr, "make-fruits: cannot start libjpeg-turbo\n");
        goto done;
    }
    for (int sp = 0; sp < 2; sp++) {
        snprintf(w->path, sizeof w->path, "%s/%s", o->out, fruits_splits[sp]);
        if ((sp == 0 && fruits_mkdir(o->out) != 0) || fruits_mkdir(w->path) != 0)
            goto done;
    }
    for (unsigned cls = 0; cls < o->classes; cls++)
        if (fruits_class(w, o, cls) != 0)
            goto done;
    rc = 0;
done:
    tjFree(w->jpeg);
    if (w->tj)
        tjDestroy(w->tj);
    free(w);
    return rc;
}

int main(int argc, char **argv)
{
    fruits_opts o;
    if (fruits_parse(argc, argv, &o) != 0)
        return 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (fruits_run(&o) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("make-fruits: %lu images of %lu classes in %s (%.2f s, %.0f images/s)\n", o.count,
           o.classes, o.out, s, (double)o.count / s);
    return 0;
}
