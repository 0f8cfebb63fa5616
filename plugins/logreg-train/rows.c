/* rows.c — the training rows held in memory (200 floats a row: 90,000 rows
 * are 72 MB, less than liblinear's own copy of them). */
#include <stdlib.h>
#include <string.h>

#include "rows.h"

static int rows_grow(rows *r)
{
    size_t cap = r->cap ? r->cap * 2 : 1024;
    float *v = realloc(r->values, cap * r->dim * sizeof *v);
    if (!v)
        return -1;
    r->values = v;
    uint32_t *c = realloc(r->classes, cap * sizeof *c);
    if (!c)
        return -1;
    r->classes = c;
    char **ids = realloc(r->ids, cap * sizeof *ids);
    if (!ids)
        return -1;
    r->ids = ids;
    r->cap = cap;
    return 0;
}

/* The class index of label, added when new; -1 when out of memory. */
static long rows_class(rows *r, const char *label)
{
    for (uint32_t i = 0; i < r->n_names; i++)
        if (strcmp(r->names[i], label) == 0)
            return i;
    char **names = realloc(r->names, (r->n_names + 1) * sizeof *names);
    if (!names)
        return -1;
    r->names = names;
    if (!(names[r->n_names] = strdup(label)))
        return -1;
    return r->n_names++;
}

int rows_add(rows *r, const float *values, const char *label, const char *id)
{
    if (r->n == r->cap && rows_grow(r) < 0)
        return -1;
    long c = rows_class(r, label);
    char *id_copy = strdup(id ? id : "");
    if (c < 0 || !id_copy) {
        free(id_copy);
        return -1;
    }
    memcpy(r->values + r->n * r->dim, values, r->dim * sizeof *values);
    r->classes[r->n] = (uint32_t)c;
    r->ids[r->n++] = id_copy;
    return 0;
}

static int rows_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rows_sort_classes(rows *r)
{
    char **old = malloc(r->n_names * sizeof *old);
    uint32_t *map = malloc(r->n_names * sizeof *map);
    if (old && map) {
        memcpy(old, r->names, r->n_names * sizeof *old);
        qsort(r->names, r->n_names, sizeof *r->names, rows_cmp_names);
        for (uint32_t i = 0; i < r->n_names; i++)
            for (uint32_t j = 0; j < r->n_names; j++)
                if (old[i] == r->names[j])
                    map[i] = j;
        for (size_t i = 0; i < r->n; i++)
            r->classes[i] = map[r->classes[i]];
    }
    /* out of memory: the classes stay in order of appearance, still correct */
    free(map);
    free(old);
}

void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->ids[i]);
    for (uint32_t i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->names);
    free(r->ids);
    free(r->classes);
    free(r->values);
    *r = (rows){0};
}
