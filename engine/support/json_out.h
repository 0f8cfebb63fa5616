/*
 * json_out.h — writes JSON into a growable string: the dead-letter lines
 * and the run summary.  Only what those need: objects, strings, numbers.
 */
#ifndef FLOWRUN_JSON_OUT_H
#define FLOWRUN_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct json_out {
    char *text; /* NUL-terminated; owned, free with json_out_free */
    size_t len, cap;
    int failed; /* an allocation failed: text is incomplete */
    int need_comma;
} json_out;

void json_out_free(json_out *j);
void json_open(json_out *j, const char *key); /* "key": { , or { when key NULL */
void json_close(json_out *j);                 /* } */
void json_string(json_out *j, const char *key, const char *value);
void json_int(json_out *j, const char *key, int64_t value);
void json_double(json_out *j, const char *key, double value);
/* value is already JSON (a plugin's report); inserted as is. */
void json_raw(json_out *j, const char *key, const char *value);

#endif
