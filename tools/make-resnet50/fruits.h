/* fruits.h — synthetic fruit-like photographs for BN calibration and tests. */
#ifndef MAKE_RESNET50_FRUITS_H
#define MAKE_RESNET50_FRUITS_H

#include <stdint.h>

/* Renders image `index` of the set named by seed into rgb (caller-owned,
 * size*size*3 bytes, row-major RGB): one to three shaded round fruits with a
 * highlight and a stem on a lit background, plus sensor noise.  The same
 * (seed, index, size) always gives the same pixels. */
void fruits_render(uint64_t seed, int index, int size, uint8_t *rgb);

#endif
