/* dict.c — string dictionary with open addressing (see dict.h). */
#include "dict.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: labels are short */
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int entry_equals(const pq_column *c, uint32_t index, const void *p, uint32_t n)
{
    const uint8_t *e = c->dict.data + c->entry[index];
    uint32_t len =
        (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
    return len == n && memcmp(e + 4, p, n) == 0;
}

/* Doubles the slot table (kept at most half full) and the entry offsets. */
static int grow(pq_column *c)
{
    uint32_t n_slots = c->n_slots ? c->n_slots * 2 : 64;
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    uint32_t *entry = realloc(c->entry, (size_t)n_slots / 2 * sizeof *entry);
    if (!slots || !entry) {
        free(slots);
        if (entry)
            c->entry = entry;
        return -1;
    }
    c->entry = entry;
    for (uint32_t i = 0; i < c->dict_count; i++) {
        const uint8_t *e = c->dict.data + entry[i];
        uint32_t len =
            (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
        uint32_t s = hash(e + 4, len) & (n_slots - 1);
        while (slots[s])
            s = (s + 1) & (n_slots - 1);
        slots[s] = i + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = n_slots;
    return 0;
}

uint32_t pq_dict_index(pq_column *c, const void *p, uint32_t n)
{
    if ((c->dict_count + 1) * 2 > c->n_slots && grow(c) != 0) {
        c->dict.failed = 1;
        return UINT32_MAX;
    }
    uint32_t s = hash(p, n) & (c->n_slots - 1);
    for (; c->slots[s]; s = (s + 1) & (c->n_slots - 1))
        if (entry_equals(c, c->slots[s] - 1, p, n))
            return c->slots[s] - 1;
    c->entry[c->dict_count] = (uint32_t)c->dict.len;
    pq_buf_u32le(&c->dict, n);
    pq_buf_append(&c->dict, p, n);
    if (c->dict.failed)
        return UINT32_MAX;
    c->slots[s] = ++c->dict_count;
    return c->dict_count - 1;
}

void pq_dict_reset(pq_column *c)
{
    if (c->slots)
        memset(c->slots, 0, (size_t)c->n_slots * sizeof *c->slots);
    c->dict_count = 0;
    c->dict.len = 0;
}
