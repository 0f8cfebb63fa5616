/*
 * schema_suggest.c — "did you mean": the closest known name to a typo, by
 * optimal string alignment distance (Levenshtein plus adjacent swaps, so
 * "fliter" is one edit from "filter").
 */
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* Distance between a and b; (size_t)-1 when out of memory. */
static size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t w = lb + 1;
    /* three rows: i-2, i-1, i */
    size_t *rows = malloc(3 * w * sizeof *rows);
    if (!rows)
        return (size_t)-1;
    size_t *r2 = rows, *r1 = rows + w, *r0 = rows + 2 * w;
    for (size_t j = 0; j <= lb; j++)
        r1[j] = j;
    for (size_t i = 1; i <= la; i++) {
        r0[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = r1[j] + 1;
            if (r0[j - 1] + 1 < best)
                best = r0[j - 1] + 1;
            if (r1[j - 1] + cost < best)
                best = r1[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                r2[j - 2] + 1 < best)
                best = r2[j - 2] + 1;
            r0[j] = best;
        }
        size_t *t = r2;
        r2 = r1;
        r1 = r0;
        r0 = t;
    }
    size_t d = r1[lb];
    free(rows);
    return d;
}

const char *schema_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
    if (!word || !*word)
        return NULL;
    size_t len = strlen(word);
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        size_t d = suggest_distance(word, candidates[i]);
        /* A candidate as far away as the word is long shares nothing with it. */
        if (d == 0 || d > limit || d >= len || d >= strlen(candidates[i]))
            continue;
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}
