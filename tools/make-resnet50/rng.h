/* rng.h — the seeded generator behind every random number of make-resnet50
 * (splitmix64: tiny, fast, identical on every platform, so a seed names one
 * model everywhere). */
#ifndef MAKE_RESNET50_RNG_H
#define MAKE_RESNET50_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_uniform(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller; one of the pair is dropped for simplicity). */
static inline double rng_normal(rng *r)
{
    double u = 1.0 - rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

#endif
