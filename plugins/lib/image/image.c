/*
 * image.c — the image plugins' shared helpers.
 */
#include "image.h"

#include <stdlib.h>

void *image_scratch_get(image_scratch *s, size_t size)
{
    if (size > s->cap) {
        free(s->data);
        s->data = malloc(size);
        s->cap = s->data ? size : 0;
    }
    return s->data;
}

void image_scratch_free(image_scratch *s)
{
    free(s->data);
    *s = (image_scratch){0};
}
