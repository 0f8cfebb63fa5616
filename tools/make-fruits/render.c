/*
 * render.c — a fruit as a shaded, textured, rotated blob with sensor noise.
 *
 * Cheap on purpose (a few dozen flops per pixel, no tables): the generator
 * must write thousands of images per second, and what matters is that
 * classes differ and photos of one class vary.
 */
#include "render.h"

#include <math.h>

uint64_t fruit_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static float fruit_uniform(uint64_t *rng, float lo, float hi)
{
    return lo + (hi - lo) * (float)(fruit_rand(rng) >> 40) / (float)(1 << 24);
}

fruit_pose fruit_pose_random(uint64_t *rng)
{
    fruit_pose p;
    p.angle = fruit_uniform(rng, 0.0f, 6.2831853f);
    p.dx = fruit_uniform(rng, -6.0f, 6.0f);
    p.dy = fruit_uniform(rng, -6.0f, 6.0f);
    p.scale = fruit_uniform(rng, 0.9f, 1.08f);
    p.light = fruit_uniform(rng, 0.9f, 1.1f);
    p.noise = fruit_uniform(rng, 2.0f, 10.0f);
    p.grain = (uint32_t)fruit_rand(rng) | 1u;
    return p;
}

static inline uint8_t fruit_clamp(float v)
{
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f);
}

/* 0..1, the share of the texture colour at object coordinates (u, v). */
static inline float fruit_texture(const fruit_look *l, float u, float v)
{
    if (l->texture == 1) {
        float t = u * l->freq;
        return fabsf(t - floorf(t) - 0.5f) * 2.0f; /* triangle-wave stripes */
    }
    if (l->texture == 2)
        return (float)(((int)floorf(u * l->freq) ^ (int)floorf(v * l->freq)) & 1);
    return 0.0f;
}

void fruit_render(const fruit_look *l, const fruit_pose *p, uint8_t *rgb)
{
    float c = cosf(p->angle), s = sinf(p->angle);
    float irx = 1.0f / (l->rx * p->scale), iry = 1.0f / (l->ry * p->scale);
    float cx = FRUIT_SIZE / 2.0f + p->dx, cy = FRUIT_SIZE / 2.0f + p->dy;
    uint32_t grain = p->grain;
    for (int y = 0; y < FRUIT_SIZE; y++) {
        for (int x = 0; x < FRUIT_SIZE; x++, rgb += 3) {
            float px = (float)x + 0.5f - cx, py = (float)y + 0.5f - cy;
            float u = px * c + py * s, v = py * c - px * s;
            float nu = u * irx, nv = v * iry;
            float r2 = nu * nu + nv * nv;
            float shape = l->boxy ? nu * nu * nu * nu + nv * nv * nv * nv : r2;
            if (shape > 1.0f) {
                rgb[0] = rgb[1] = rgb[2] = 255;
                continue;
            }
            float m = fruit_texture(l, u, v);
            /* A round body: brighter in the middle, darker at the rim. */
            float shade = p->light * (1.05f - 0.4f * r2);
            grain ^= grain << 13;
            grain ^= grain >> 17;
            grain ^= grain << 5;
            for (int k = 0; k < 3; k++) {
                float n = ((float)((grain >> (8 * k)) & 0xff) - 127.5f) * (p->noise / 127.5f);
                rgb[k] = fruit_clamp((l->base[k] + (l->second[k] - l->base[k]) * m) * shade + n);
            }
        }
    }
}
