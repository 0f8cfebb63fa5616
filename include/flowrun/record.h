/*
 * flowrun/record.h — the unit of data that flows between stages.
 *
 * A record is metadata (id, key, label, model version, attributes) plus one
 * typed payload.  Records are plain structs: a plugin reads the ones the
 * engine hands it and fills in its own to emit.  What may be kept and what
 * must be copied is stated at each field and in plugin.h.
 *
 * Part of the public plugin ABI: fields are only ever appended.
 */
#ifndef FLOWRUN_RECORD_H
#define FLOWRUN_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A payload buffer owned by the engine and reference-counted.  Opaque to
 * plugins; see fr_buffer_new/ref/unref in plugin.h. */
typedef struct fr_buffer fr_buffer;

/* Element/payload kinds.  The numeric values cross the wire (wire.h). */
typedef enum fr_kind {
    FR_KIND_NONE = 0,   /* no payload (control records, empty objects) */
    FR_KIND_BYTES = 1,  /* opaque bytes; media names the format, e.g. "jpeg" */
    FR_KIND_IMAGE = 2,  /* uint8 pixels, row-major [h, w, c], interleaved */
    FR_KIND_TENSOR = 3, /* float32, row-major, dims[0..rank) */
} fr_kind;

#define FR_MAX_RANK  4
#define FR_MEDIA_MAX 32

typedef struct fr_payload {
    fr_kind kind;
    /* Media type of FR_KIND_BYTES ("jpeg", "png", "*"), NUL-terminated. */
    char media[FR_MEDIA_MAX];
    uint32_t rank;
    uint32_t dims[FR_MAX_RANK]; /* image: {h, w, c}; tensor: {n} or more */
    /* The bytes.  For IMAGE: h*w*c bytes; for TENSOR: 4*prod(dims) bytes,
     * 64-byte aligned when the engine allocated it.  The engine checks this
     * on every record it passes in, whoever sent it (a record whose size
     * disagrees with its kind and dims is dropped as malformed before any
     * plugin sees it), and fr_emit() fails with FR_FATAL on a payload that
     * breaks it. */
    void *data;
    size_t size;
    /* The engine buffer that holds data, or NULL.
     * In a record the engine passes in: the engine's buffer, borrowed for
     * the duration of the call (fr_buffer_ref() it to keep or forward it).
     * In a record passed to fr_emit(): either a buffer whose one reference
     * the caller gives to the engine (transfer full), or NULL, in which case
     * data is borrowed and the engine copies size bytes before returning. */
    fr_buffer *buffer;
} fr_payload;

/* One attribute: both strings borrowed for the lifetime of the record. */
typedef struct fr_attr {
    const char *name;
    const char *value;
} fr_attr;

typedef struct fr_record {
    /* Stable identity given by the source: "<source-stage>:<key>[@<version>]".
     * Derived records keep their input's id, so a sink's commit can be
     * routed back to the source that owns it (docs/architecture.md, "Delivery"). */
    const char *id;
    const char *key;   /* e.g. "Training/Apple Braeburn/109_100.jpg" */
    const char *label; /* e.g. "Apple Braeburn"; "" when unknown */
    /* Version of the fitted model that produced this record (online-scaler,
     * incremental-pca with fit: stream); 0 when none. */
    uint64_t model_version;
    const fr_attr *attrs;
    uint32_t n_attrs;
    fr_payload payload;
} fr_record;

/* Returns the value of attribute name, or NULL.  Pointer borrowed from rec. */
static inline const char *fr_record_attr(const fr_record *rec, const char *name)
{
    for (uint32_t i = 0; i < rec->n_attrs; i++)
        if (strcmp(rec->attrs[i].name, name) == 0)
            return rec->attrs[i].value;
    return NULL;
}

#ifdef __cplusplus
}
#endif
#endif /* FLOWRUN_RECORD_H */
