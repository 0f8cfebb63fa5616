/*
 * fruits.c — the images BN statistics are calibrated on.  A random ResNet
 * only gives meaningful features if its BN statistics come from inputs with
 * natural-image structure (smooth regions, edges, colour blobs), so these
 * imitate the Fruits-360 style: fruit on a plain, unevenly lit background.
 */
#include "fruits.h"

#include "rng.h"

#include <math.h>
#include <stddef.h>

typedef struct {
    double cx, cy, rx, ry; /* centre and radii, pixels */
    double rgb[3];         /* base colour, 0..255 */
} fruit;

/* Colours of apples, lemons, oranges, limes, plums, bananas. */
static const double palette[][3] = {
    {200, 30, 35}, {240, 210, 60}, {245, 140, 30}, {120, 190, 50}, {110, 40, 90}, {230, 200, 80},
};

static void fruit_random(rng *r, int size, fruit *f)
{
    double s = size;
    f->rx = s * (0.15 + 0.2 * rng_uniform(r));
    f->ry = f->rx * (0.8 + 0.4 * rng_uniform(r));
    f->cx = s * (0.25 + 0.5 * rng_uniform(r));
    f->cy = s * (0.3 + 0.45 * rng_uniform(r));
    const double *c = palette[rng_next(r) % (sizeof(palette) / sizeof(palette[0]))];
    for (int k = 0; k < 3; k++)
        f->rgb[k] = c[k] * (0.8 + 0.3 * rng_uniform(r));
}

/* Shade of fruit f at (x, y), or a negative value outside it: Lambert-like
 * darkening towards the rim, and a specular spot up-left. */
static double fruit_shade(const fruit *f, double x, double y, double *spec)
{
    double dx = (x - f->cx) / f->rx, dy = (y - f->cy) / f->ry;
    double d2 = dx * dx + dy * dy;
    if (d2 > 1)
        return -1;
    double hx = dx + 0.35, hy = dy + 0.4;
    *spec = exp(-(hx * hx + hy * hy) * 18);
    return 0.45 + 0.55 * sqrt(1 - d2);
}

static int in_stem(const fruit *f, double x, double y)
{
    return fabs(x - f->cx - 0.05 * f->rx) < f->rx * 0.06 && y < f->cy - f->ry * 0.85 &&
           y > f->cy - f->ry * 1.15;
}

static uint8_t clamp_u8(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
}

void fruits_render(uint64_t seed, int index, int size, uint8_t *rgb)
{
    rng r = {seed * 0x100000001b3ull + (uint64_t)index * 0x9e3779b97f4a7c15ull};
    double bg[3], light = 0.7 + 0.3 * rng_uniform(&r);
    for (int k = 0; k < 3; k++)
        bg[k] = 200 + 50 * rng_uniform(&r);
    fruit fruits[3];
    int n = 1 + (int)(rng_next(&r) % 3);
    for (int i = 0; i < n; i++)
        fruit_random(&r, size, &fruits[i]);
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            /* Background lit from the top-left, fading to the corner. */
            double c[3], fall = light - 0.25 * (x + y) / (2.0 * size);
            for (int k = 0; k < 3; k++)
                c[k] = bg[k] * fall;
            for (int i = 0; i < n; i++) {
                double spec, shade = fruit_shade(&fruits[i], x, y, &spec);
                if (shade >= 0)
                    for (int k = 0; k < 3; k++)
                        c[k] = fruits[i].rgb[k] * shade * (1 - spec) + 255 * spec;
                else if (in_stem(&fruits[i], x, y))
                    c[0] = 90, c[1] = 60, c[2] = 30;
            }
            uint8_t *p = rgb + ((size_t)y * size + x) * 3;
            for (int k = 0; k < 3; k++)
                p[k] = clamp_u8(c[k] + 6 * rng_normal(&r));
        }
    }
}
