#include "record_copy.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 1;
}

static char *put_str(char **cursor, const char *s)
{
    char *dst = *cursor;
    size_t n = str_size(s);
    memcpy(dst, s ? s : "", n);
    *cursor += n;
    return dst;
}

fr_record *record_clone(const fr_record *rec, fr_buffer *buffer)
{
    size_t bytes = sizeof(fr_record) + rec->n_attrs * sizeof(fr_attr);
    bytes += str_size(rec->id) + str_size(rec->key) + str_size(rec->label);
    for (uint32_t i = 0; i < rec->n_attrs; i++)
        bytes += str_size(rec->attrs[i].name) + str_size(rec->attrs[i].value);

    fr_record *copy = malloc(bytes);
    if (!copy) {
        buffer_unref(buffer);
        return NULL;
    }
    fr_attr *attrs = (fr_attr *)(copy + 1);
    char *cursor = (char *)(attrs + rec->n_attrs);
    *copy = *rec;
    copy->attrs = rec->n_attrs ? attrs : NULL;
    copy->id = put_str(&cursor, rec->id);
    copy->key = put_str(&cursor, rec->key);
    copy->label = put_str(&cursor, rec->label);
    for (uint32_t i = 0; i < rec->n_attrs; i++) {
        attrs[i].name = put_str(&cursor, rec->attrs[i].name);
        attrs[i].value = put_str(&cursor, rec->attrs[i].value);
    }
    copy->payload.buffer = buffer;
    copy->payload.data = buffer ? buffer_data(buffer) : NULL;
    return copy;
}

void record_destroy(fr_record *rec)
{
    if (!rec)
        return;
    buffer_unref(rec->payload.buffer);
    free(rec);
}
