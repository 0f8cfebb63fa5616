/*
 * render.h — draws one synthetic fruit photo: 100x100 RGB on white.
 */
#ifndef FLOWRUN_MAKE_FRUITS_RENDER_H
#define FLOWRUN_MAKE_FRUITS_RENDER_H

#include <stdint.h>

#include "classes.h"

#define FRUIT_SIZE 100

/* What varies from one photo of a class to the next. */
typedef struct fruit_pose {
    float angle;    /* radians */
    float dx, dy;   /* shift of the centre in pixels */
    float scale;    /* size factor */
    float light;    /* brightness factor */
    float noise;    /* amplitude of the per-pixel noise, in levels */
    uint32_t grain; /* seed of the noise (nonzero) */
} fruit_pose;

/* A pose drawn from *rng (splitmix64 state, advanced). */
fruit_pose fruit_pose_random(uint64_t *rng);

/* Draws into rgb (FRUIT_SIZE² × 3 bytes, borrowed). */
void fruit_render(const fruit_look *look, const fruit_pose *pose, uint8_t *rgb);

/* splitmix64: small, seedable from any value, good enough for pictures. */
uint64_t fruit_rand(uint64_t *state);

#endif
