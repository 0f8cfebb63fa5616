/*
 * image.h — small helpers shared by the image plugins (jpeg-decode,
 * resize-224).  No knowledge of the engine.
 */
#ifndef FLOWRUN_IMAGE_H
#define FLOWRUN_IMAGE_H

#include <stddef.h>

/* A working buffer that grows to the largest size asked for and is then
 * reused, so a stream of same-sized images allocates once.  Zero-initialise
 * it; image_scratch_free releases it. */
typedef struct image_scratch {
    void *data; /* owned */
    size_t cap; /* bytes allocated at data */
} image_scratch;

/* At least size bytes (contents not kept across growth), owned by s; NULL
 * when out of memory. */
void *image_scratch_get(image_scratch *s, size_t size);
void image_scratch_free(image_scratch *s);

#endif
