/*
 * agreement_tool — prints resnet50-embed's agreement measures of two
 * feature files, for check_agreement.py to compare with numpy.
 *
 *   agreement-tool REF.f32 GOT.f32 COUNT FEATURES
 *
 * Prints "cosine <min> pca <min>".
 */
#include <stdio.h>
#include <stdlib.h>

#include "agreement.h"

/* The n floats of path, which must hold exactly that many; NULL otherwise. */
static float *read_floats(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    float *data = size == (long)(n * sizeof(float)) ? malloc(n * sizeof *data) : NULL;
    if (data && (fseek(f, 0, SEEK_SET) != 0 || fread(data, sizeof *data, n, f) != n)) {
        free(data);
        data = NULL;
    }
    if (f)
        fclose(f);
    return data;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: agreement-tool REF.f32 GOT.f32 COUNT FEATURES\n");
        return 2;
    }
    int count = atoi(argv[3]);
    size_t f = (size_t)atol(argv[4]);
    float *ref = read_floats(argv[1], (size_t)count * f),
          *got = read_floats(argv[2], (size_t)count * f);
    int ok = ref && got;
    if (ok)
        printf("cosine %.9f pca %.9f\n", agreement_min_cosine(ref, got, count, f),
               agreement_min_pca(ref, got, count, f));
    else
        fprintf(stderr, "agreement-tool: cannot read %d x %zu floats\n", count, f);
    free(ref);
    free(got);
    return ok ? 0 : 1;
}
