/* emit.c — one object as a record: id "<stage>:<key>@<etag>" (what a rerun
 * skips once committed, docs/architecture.md, "Delivery"), label = the key's parent
 * folder (Fruits-360's "Training/Apple Braeburn/1.jpg" → "Apple Braeburn"),
 * and the object's key, ETag, size and LastModified as attributes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_source.h"

/* Copies the parent folder's name of key into out ("" at the top). */
static void emit_label(const char *key, char *out, size_t n)
{
    const char *last = strrchr(key, '/');
    const char *start = last;
    while (start && start > key && start[-1] != '/')
        start--;
    if (!last || last == key)
        out[0] = '\0';
    else
        snprintf(out, n, "%.*s", (int)(last - start), start);
}

fr_status source_emit(fr_stage *st, const char *bucket, const source_object *obj, const char *media,
                      fr_buffer *buf, void *data, const char *reason)
{
    char size[32], label[512];
    size_t idlen = strlen(fr_stage_name(st)) + strlen(obj->key) + strlen(obj->etag) + 3;
    char *id = malloc(idlen);
    if (!id) {
        if (buf)
            fr_buffer_unref(st, buf);
        return fr_fail(st, FR_FATAL, "out of memory for the id of s3://%s/%s", bucket, obj->key);
    }
    snprintf(id, idlen, "%s:%s@%s", fr_stage_name(st), obj->key, obj->etag);
    snprintf(size, sizeof size, "%" PRIu64, obj->size);
    emit_label(obj->key, label, sizeof label);
    const fr_attr attrs[] = {{"bucket", bucket},
                             {"key", obj->key},
                             {"etag", obj->etag},
                             {"size", size},
                             {"last_modified", obj->last_modified}};
    fr_record rec = {.id = id, .key = obj->key, .label = label, .attrs = attrs, .n_attrs = 5};
    rec.payload = (fr_payload){.kind = FR_KIND_BYTES, /* bytes carry no dims */
                               .data = data,
                               .size = obj->size,
                               .buffer = buf};
    snprintf(rec.payload.media, sizeof rec.payload.media, "%s", media);
    fr_status s = FR_OK;
    if (reason) {
        if (buf)
            fr_buffer_unref(st, buf);
        rec.payload = (fr_payload){.kind = FR_KIND_NONE};
        fr_reject(st, &rec, reason);
        fr_metric_add(st, "objects_failed", 1);
    } else {
        s = fr_emit(st, &rec);
        fr_metric_add(st, "objects", 1);
        fr_metric_add(st, "bytes", (double)obj->size);
    }
    free(id);
    return s;
}
