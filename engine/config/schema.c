/*
 * schema.c — a stage's key/value entries checked against its plugin's
 * fr_param table, and the parsers for the scalar types.
 *
 * Sizes: an integer or decimal number, optional spaces, then a unit, case
 * insensitive: none or B (bytes), KiB MiB GiB TiB (powers of 1024), KB MB GB
 * TB (powers of 1000).  "1.5GiB" is fine when it comes to whole bytes.  A
 * bare "k", "M" or "G" is refused: it does not say whether 1000 or 1024.
 * Durations: a number with a unit ms, s, m (or min), h, or several of them
 * ("1h30m"); a plain number is seconds ("1.5" = 1500 ms).  The result must
 * be whole milliseconds.  Bools: true/false, yes/no, on/off, any case.
 */
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct schema_value {
    char *key;  /* owned copy of the param's key */
    char *text; /* owned: the value as written, or the default */
    int64_t i;  /* INT, SIZE (bytes), DURATION (ms) */
    double f;   /* FLOAT (also INT/SIZE/DURATION as double) */
    int b;      /* BOOL */
    int choice; /* ENUM: the value's index in the param's choices; -1 otherwise */
} schema_value;

struct schema_values {
    schema_value *v; /* owned, one per param */
    size_t n;
};

static const char *const schema_reserved[] = {"plugin", "inputs",  "replicas",
                                              "node",   "retries", "retry_backoff"};

const char *schema_type_name(fr_param_type type)
{
    switch (type) {
    case FR_PARAM_STRING:
        return "string";
    case FR_PARAM_PATH:
        return "path";
    case FR_PARAM_INT:
        return "int";
    case FR_PARAM_FLOAT:
        return "float";
    case FR_PARAM_BOOL:
        return "bool";
    case FR_PARAM_ENUM:
        return "enum";
    case FR_PARAM_SIZE:
        return "size";
    case FR_PARAM_DURATION:
        return "duration";
    case FR_PARAM_INPUT_FILE:
        return "input file";
    }
    return "?";
}

static int schema_fail(char *err, size_t err_size, const char *msg)
{
    if (err && err_size)
        snprintf(err, err_size, "%s", msg);
    return -1;
}

/* ---- scalar parsers ----------------------------------------------------- */

int schema_parse_int(const char *text, int64_t *out, char *err, size_t err_size)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return schema_fail(err, err_size, "expected an integer");
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            return schema_fail(err, err_size, "expected an integer");
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    if (errno == ERANGE)
        return schema_fail(err, err_size, "expected an integer that fits in 64 bits");
    *out = (int64_t)v;
    return 0;
}

int schema_parse_double(const char *text, double *out, char *err, size_t err_size)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || errno == ERANGE || isspace((unsigned char)*text))
        return schema_fail(err, err_size, "expected a number");
    *out = v;
    return 0;
}

int schema_parse_bool(const char *text, int *out, char *err, size_t err_size)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return schema_fail(err, err_size, "expected true or false (or yes/no, on/off)");
}

/* Reads "123" or "1.25" at *pp: whole part and up to 9 fraction digits as
 * frac / den.  Returns 0, or -1 if there is no number or it overflows. */
static int schema_number(const char **pp, uint64_t *whole, uint64_t *frac, uint64_t *den)
{
    const char *p = *pp;
    uint64_t w = 0, f = 0, d = 1;
    int digits = 0;
    for (; isdigit((unsigned char)*p); p++, digits++) {
        if (w > (UINT64_MAX - 9) / 10)
            return -1;
        w = w * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        for (; isdigit((unsigned char)*p); p++, digits++) {
            if (d < 1000000000ull) {
                f = f * 10 + (uint64_t)(*p - '0');
                d *= 10;
            } else if (*p != '0') {
                return -1; /* more precision than any unit can use */
            }
        }
    }
    if (!digits)
        return -1;
    *pp = p;
    *whole = w;
    *frac = f;
    *den = d;
    return 0;
}

/* whole.frac * mult as an exact int64; -1 if not whole or out of range. */
static int schema_scale(uint64_t whole, uint64_t frac, uint64_t den, uint64_t mult, int64_t *out)
{
    if (whole && mult > (uint64_t)INT64_MAX / whole)
        return -1;
    uint64_t v = whole * mult;
    /* frac < den <= 1e9 and mult <= 1e12: frac * mult may overflow, so split */
    uint64_t fq = mult / den, fr = mult % den;
    uint64_t part = frac * fq;
    if (fr) {
        if ((frac * fr) % den)
            return -1;
        part += frac * fr / den;
    }
    if (v > (uint64_t)INT64_MAX - part)
        return -1;
    *out = (int64_t)(v + part);
    return 0;
}

int schema_parse_size(const char *text, int64_t *bytes, char *err, size_t err_size)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"kib", 1ull << 10},
        {"mib", 1ull << 20},
        {"gib", 1ull << 30},
        {"tib", 1ull << 40},
        {"kb", 1000ull},
        {"mb", 1000000ull},
        {"gb", 1000000000ull},
        {"tb", 1000000000000ull},
    };
    const char *bad = "expected a size like 4096, 64KiB, 64MiB or 1GB";
    const char *p = text;
    uint64_t w, f, d;
    if (schema_number(&p, &w, &f, &d) < 0)
        return schema_fail(err, err_size, bad);
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(p, units[i].unit) != 0)
            continue;
        if (schema_scale(w, f, d, units[i].mult, bytes) < 0)
            return schema_fail(err, err_size,
                               "expected a size in whole bytes below 8 EiB, like 64KiB or 1GB");
        return 0;
    }
    return schema_fail(err, err_size, bad);
}

int schema_parse_duration(const char *text, int64_t *ms, char *err, size_t err_size)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"ms", 1}, {"min", 60000}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const char *bad = "expected a duration like 250ms, 30s, 5m or 1h";
    const char *p = text;
    int64_t total = 0;
    uint64_t w, f, d;
    if (schema_number(&p, &w, &f, &d) < 0)
        return schema_fail(err, err_size, bad);
    if (!*p) { /* plain number: seconds */
        if (schema_scale(w, f, d, 1000, ms) < 0)
            return schema_fail(err, err_size, "expected a duration in whole milliseconds");
        return 0;
    }
    for (;;) {
        size_t i, n = sizeof units / sizeof units[0];
        for (i = 0; i < n; i++)
            if (strncmp(p, units[i].unit, strlen(units[i].unit)) == 0 &&
                !isalpha((unsigned char)p[strlen(units[i].unit)]))
                break;
        if (i == n)
            return schema_fail(err, err_size, bad);
        p += strlen(units[i].unit);
        int64_t part;
        if (schema_scale(w, f, d, units[i].mult, &part) < 0 || total > INT64_MAX - part)
            return schema_fail(err, err_size, "expected a duration in whole milliseconds");
        total += part;
        if (!*p)
            break;
        if (schema_number(&p, &w, &f, &d) < 0)
            return schema_fail(err, err_size, bad);
    }
    *ms = total;
    return 0;
}

/* ---- messages ---------------------------------------------------------- */

/* "4KiB", "1GiB", "1500": sizes in the largest exact binary unit. */
static void schema_format_size(double v, char *out, size_t n)
{
    static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
    int64_t b = (int64_t)v;
    for (int i = 0; i < 4; i++) {
        int64_t m = (int64_t)1 << (10 * (4 - i));
        if (b && b % m == 0) {
            snprintf(out, n, "%" PRId64 "%s", b / m, units[i]);
            return;
        }
    }
    snprintf(out, n, "%" PRId64, b);
}

static void schema_format_duration(double v, char *out, size_t n)
{
    int64_t ms = (int64_t)v;
    if (ms && ms % 3600000 == 0)
        snprintf(out, n, "%" PRId64 "h", ms / 3600000);
    else if (ms && ms % 60000 == 0)
        snprintf(out, n, "%" PRId64 "m", ms / 60000);
    else if (ms && ms % 1000 == 0)
        snprintf(out, n, "%" PRId64 "s", ms / 1000);
    else
        snprintf(out, n, "%" PRId64 "ms", ms);
}

static void schema_format_bound(const fr_param *p, double v, char *out, size_t n)
{
    if (p->type == FR_PARAM_SIZE)
        schema_format_size(v, out, n);
    else if (p->type == FR_PARAM_DURATION)
        schema_format_duration(v, out, n);
    else
        snprintf(out, n, "%.15g", v);
}

/* What a value of p's type looks like, for "expected ...". */
static void schema_expected(const fr_param *p, char *out, size_t n)
{
    switch (p->type) {
    case FR_PARAM_INT:
        snprintf(out, n, "an integer");
        return;
    case FR_PARAM_FLOAT:
        snprintf(out, n, "a number");
        return;
    case FR_PARAM_BOOL:
        snprintf(out, n, "true or false");
        return;
    case FR_PARAM_ENUM:
        snprintf(out, n, "one of %s", p->choices ? p->choices : "");
        return;
    case FR_PARAM_SIZE:
        snprintf(out, n, "a size");
        return;
    case FR_PARAM_DURATION:
        snprintf(out, n, "a duration");
        return;
    case FR_PARAM_PATH:
    case FR_PARAM_INPUT_FILE:
        snprintf(out, n, "a path");
        return;
    case FR_PARAM_STRING:
        break;
    }
    snprintf(out, n, "a string");
}

/* min == max == 0 is ABI 1.0's spelling of "unbounded", still honoured;
 * FR_NO_MIN / FR_NO_MAX leave one side open. */
static int schema_has_bounds(const fr_param *p)
{
    return !(p->min == 0 && p->max == 0) && (p->min > -HUGE_VAL || p->max < HUGE_VAL);
}

void schema_bounds_text(const fr_param *p, char *out, size_t n)
{
    char lo[32], hi[32];
    out[0] = '\0';
    int numeric = p->type == FR_PARAM_INT || p->type == FR_PARAM_FLOAT ||
                  p->type == FR_PARAM_SIZE || p->type == FR_PARAM_DURATION;
    if (!numeric || !schema_has_bounds(p))
        return;
    schema_format_bound(p, p->min, lo, sizeof lo);
    schema_format_bound(p, p->max, hi, sizeof hi);
    if (p->min == -HUGE_VAL)
        snprintf(out, n, "at most %s", hi);
    else if (p->max == HUGE_VAL)
        snprintf(out, n, "at least %s", lo);
    else
        snprintf(out, n, "from %s to %s", lo, hi);
}

/* The index of text in p->choices ("a|b|c"), or -1. */
static int schema_choice_index(const fr_param *p, const char *text)
{
    const char *c = p->choices;
    size_t len = strlen(text);
    for (int index = 0; c && *c; index++) {
        const char *bar = strchr(c, '|');
        size_t l = bar ? (size_t)(bar - c) : strlen(c);
        if (l == len && strncmp(c, text, l) == 0)
            return index;
        if (!bar)
            break;
        c = bar + 1;
    }
    return -1;
}

/* Parses text as p's type into out.  Returns 0, or -1 with "expected ..." in
 * err (bounds included). */
static int schema_parse_value(const fr_param *p, const char *text, schema_value *out, char *err,
                              size_t err_size)
{
    double num = 0;
    switch (p->type) {
    case FR_PARAM_STRING:
    case FR_PARAM_PATH:
    case FR_PARAM_INPUT_FILE:
        return 0;
    case FR_PARAM_ENUM:
        out->choice = schema_choice_index(p, text);
        if (out->choice < 0) {
            snprintf(err, err_size, "expected one of %s", p->choices ? p->choices : "");
            return -1;
        }
        return 0;
    case FR_PARAM_BOOL:
        return schema_parse_bool(text, &out->b, err, err_size);
    case FR_PARAM_INT:
        if (schema_parse_int(text, &out->i, err, err_size) < 0)
            return -1;
        num = out->f = (double)out->i;
        break;
    case FR_PARAM_SIZE:
        if (schema_parse_size(text, &out->i, err, err_size) < 0)
            return -1;
        num = out->f = (double)out->i;
        break;
    case FR_PARAM_DURATION:
        if (schema_parse_duration(text, &out->i, err, err_size) < 0)
            return -1;
        num = out->f = (double)out->i;
        break;
    case FR_PARAM_FLOAT:
        if (schema_parse_double(text, &out->f, err, err_size) < 0)
            return -1;
        num = out->f;
        out->i = (int64_t)out->f;
        break;
    default:
        snprintf(err, err_size, "has an unknown type %d", (int)p->type);
        return -1;
    }
    if (schema_has_bounds(p) && (num < p->min || num > p->max)) {
        char what[64], bounds[80];
        schema_expected(p, what, sizeof what);
        schema_bounds_text(p, bounds, sizeof bounds);
        snprintf(err, err_size, "expected %s %s", what, bounds);
        return -1;
    }
    return 0;
}

/* ---- schema_apply ------------------------------------------------------- */

/* The prefix of every message: `stage "x": `, `plugin "p": ` or "". */
static void schema_prefix(const schema_origin *o, char *out, size_t n)
{
    if (o && o->stage)
        snprintf(out, n, "stage \"%s\": ", o->stage);
    else if (o && o->plugin)
        snprintf(out, n, "plugin \"%s\": ", o->plugin);
    else
        out[0] = '\0';
}

static const fr_param *schema_find_param(const fr_param *params, const char *key)
{
    for (const fr_param *p = params; p && p->key; p++)
        if (strcmp(p->key, key) == 0)
            return p;
    return NULL;
}

static size_t schema_count(const fr_param *params)
{
    size_t n = 0;
    while (params && params[n].key)
        n++;
    return n;
}

void schema_values_free(schema_values *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].key);
        free(v->v[i].text);
    }
    free(v->v);
    free(v);
}

schema_values *schema_apply(const fr_param *params, const schema_entry *entries, size_t n,
                            const schema_origin *origin, diag *d)
{
    const char *file = origin ? origin->file : NULL;
    char pre[256];
    schema_prefix(origin, pre, sizeof pre);
    size_t np = schema_count(params);
    int bad = 0;

    schema_values *vals = calloc(1, sizeof *vals);
    if (!vals || !(vals->v = calloc(np ? np : 1, sizeof *vals->v))) {
        free(vals);
        diag_error(d, file, 0, 0, "%sout of memory", pre);
        return NULL;
    }
    vals->n = np;
    for (size_t i = 0; i < np; i++)
        vals->v[i].choice = -1;
    /* which entry gave each param, or -1 */
    long *given = malloc((np ? np : 1) * sizeof *given);
    const char **names = malloc((np ? np : 1) * sizeof *names);
    unsigned char *failed = calloc(np ? np : 1, 1); /* param i has had its message */
    if (!given || !names || !failed) {
        free(given);
        free(names);
        free(failed);
        schema_values_free(vals);
        diag_error(d, file, 0, 0, "%sout of memory", pre);
        return NULL;
    }
    for (size_t i = 0; i < np; i++) {
        given[i] = -1;
        names[i] = params[i].key;
    }

    for (size_t e = 0; e < n; e++) {
        const schema_entry *en = &entries[e];
        const char *fl = file;
        const fr_param *p = schema_find_param(params, en->key);
        if (!p) {
            const char *near = schema_did_you_mean(en->key, names, np);
            if (near)
                diag_error(d, fl, en->key_line, en->key_col,
                           "%sunknown key \"%s\" (did you mean \"%s\"?)", pre, en->key, near);
            else
                diag_error(d, fl, en->key_line, en->key_col, "%sunknown key \"%s\"", pre, en->key);
            bad = 1;
            continue;
        }
        size_t idx = (size_t)(p - params);
        if (given[idx] >= 0) {
            const schema_entry *first = &entries[given[idx]];
            if (first->key_line > 0)
                diag_error(d, fl, en->key_line, en->key_col,
                           "%sduplicate key \"%s\" (first at line %d)", pre, en->key,
                           first->key_line);
            else
                diag_error(d, fl, en->key_line, en->key_col, "%sduplicate key \"%s\"", pre,
                           en->key);
            bad = 1;
            continue;
        }
        given[idx] = (long)e;
        /* A bad value is reported where its setting starts (the key), as
         * in "x.yaml:12:5: stage "resize": key "filter": ..."; the value's
         * own position when the key has none. */
        int line = en->key_line ? en->key_line : en->line;
        int col = en->key_line ? en->key_col : en->col;
        char err[256];
        if (!en->value) {
            char what[128];
            schema_expected(p, what, sizeof what);
            diag_error(d, fl, line, col, "%skey \"%s\": expected %s, got %s", pre, en->key, what,
                       en->value_kind ? en->value_kind : "no value");
            bad = failed[idx] = 1;
            continue;
        }
        if (schema_parse_value(p, en->value, &vals->v[idx], err, sizeof err) < 0) {
            diag_error(d, fl, line, col, "%skey \"%s\": %s, got \"%s\"", pre, en->key, err,
                       en->value);
            bad = failed[idx] = 1;
            continue;
        }
        vals->v[idx].text = strdup(en->value);
    }

    for (size_t i = 0; i < np; i++) {
        const fr_param *p = &params[i];
        if (failed[i])
            continue;
        if (given[i] < 0) {
            if (!p->default_value) {
                diag_error(d, file, origin ? origin->line : 0, origin ? origin->col : 0,
                           "%smissing required key \"%s\"", pre, p->key);
                bad = 1;
                continue;
            }
            char err[256];
            if (*p->default_value &&
                schema_parse_value(p, p->default_value, &vals->v[i], err, sizeof err) < 0) {
                diag_error(d, file, 0, 0, "%skey \"%s\": default \"%s\" of the plugin: %s", pre,
                           p->key, p->default_value, err);
                bad = 1;
                continue;
            }
            vals->v[i].text = strdup(p->default_value);
        }
        vals->v[i].key = strdup(p->key);
        if (!vals->v[i].key || !vals->v[i].text) {
            diag_error(d, file, 0, 0, "%sout of memory", pre);
            bad = 1;
        }
    }
    free(given);
    free(names);
    free(failed);
    if (bad) {
        schema_values_free(vals);
        return NULL;
    }
    return vals;
}

static const schema_value *schema_lookup(const schema_values *v, const char *key, int *found)
{
    for (size_t i = 0; v && i < v->n; i++) {
        if (v->v[i].key && strcmp(v->v[i].key, key) == 0) {
            if (found)
                *found = 1;
            return &v->v[i];
        }
    }
    if (found)
        *found = 0;
    return NULL;
}

const char *schema_string(const schema_values *v, const char *key, int *found)
{
    const schema_value *x = schema_lookup(v, key, found);
    return x && x->text ? x->text : "";
}

int64_t schema_int(const schema_values *v, const char *key, int *found)
{
    const schema_value *x = schema_lookup(v, key, found);
    return x ? x->i : 0;
}

double schema_double(const schema_values *v, const char *key, int *found)
{
    const schema_value *x = schema_lookup(v, key, found);
    return x ? x->f : 0;
}

int schema_bool(const schema_values *v, const char *key, int *found)
{
    const schema_value *x = schema_lookup(v, key, found);
    return x ? x->b : 0;
}

int schema_param_is_enum(const fr_param *params, const char *key)
{
    for (const fr_param *p = params; p && p->key; p++)
        if (strcmp(p->key, key) == 0)
            return p->type == FR_PARAM_ENUM;
    return 0;
}

int schema_enum(const schema_values *v, const char *key, int *found)
{
    const schema_value *x = schema_lookup(v, key, found);
    return x ? x->choice : -1;
}

/* ---- schema_check_table ------------------------------------------------- */

static int schema_key_ok(const char *k)
{
    if (!islower((unsigned char)*k))
        return 0;
    for (; *k; k++)
        if (!islower((unsigned char)*k) && !isdigit((unsigned char)*k) && *k != '_')
            return 0;
    return 1;
}

/* An INPUT_FILE's condition: none, or "key=value" naming another key of the
 * table (and, for an ENUM, one of its choices). */
static int schema_check_condition(const fr_param *params, const fr_param *p, char *err,
                                  size_t err_size)
{
    const char *c = p->choices;
    if (!c || !*c)
        return 0;
    const char *eq = strchr(c, '=');
    const fr_param *q = NULL;
    if (eq && eq > c && eq[1]) {
        for (q = params; q->key; q++)
            if (strlen(q->key) == (size_t)(eq - c) && strncmp(q->key, c, (size_t)(eq - c)) == 0)
                break;
    }
    if (!q || !q->key || q == p ||
        (q->type == FR_PARAM_ENUM && schema_choice_index(q, eq + 1) < 0)) {
        snprintf(err, err_size,
                 "key \"%s\": an input file's condition must be \"key=value\" naming another key "
                 "and one of its values, got \"%s\"",
                 p->key, c);
        return -1;
    }
    return 0;
}

int schema_check_table(const fr_param *params, char *err, size_t err_size)
{
    for (const fr_param *p = params; p && p->key; p++) {
        if (!schema_key_ok(p->key)) {
            snprintf(err, err_size, "key \"%s\": must match [a-z][a-z0-9_]*", p->key);
            return -1;
        }
        for (size_t r = 0; r < sizeof schema_reserved / sizeof schema_reserved[0]; r++) {
            if (strcmp(p->key, schema_reserved[r]) == 0) {
                snprintf(err, err_size, "key \"%s\": reserved for the engine", p->key);
                return -1;
            }
        }
        for (const fr_param *q = params; q != p; q++) {
            if (strcmp(p->key, q->key) == 0) {
                snprintf(err, err_size, "key \"%s\": declared twice", p->key);
                return -1;
            }
        }
        if (p->type < FR_PARAM_STRING || p->type > FR_PARAM_INPUT_FILE) {
            snprintf(err, err_size, "key \"%s\": unknown type %d", p->key, (int)p->type);
            return -1;
        }
        if (p->type == FR_PARAM_ENUM) {
            const char *c = p->choices;
            if (!c || !*c || *c == '|' || c[strlen(c) - 1] == '|' || strstr(c, "||")) {
                snprintf(err, err_size, "key \"%s\": enum needs choices like \"a|b\", got \"%s\"",
                         p->key, c ? c : "(null)");
                return -1;
            }
        }
        if (p->type == FR_PARAM_INPUT_FILE && schema_check_condition(params, p, err, err_size) < 0)
            return -1;
        int numeric = p->type == FR_PARAM_INT || p->type == FR_PARAM_FLOAT ||
                      p->type == FR_PARAM_SIZE || p->type == FR_PARAM_DURATION;
        if (schema_has_bounds(p) && !numeric) {
            snprintf(err, err_size, "key \"%s\": bounds on a %s", p->key,
                     schema_type_name(p->type));
            return -1;
        }
        if (schema_has_bounds(p) && !(p->min <= p->max)) {
            snprintf(err, err_size, "key \"%s\": min %g is above max %g", p->key, p->min, p->max);
            return -1;
        }
        if (p->default_value && *p->default_value) {
            schema_value v = {0};
            char why[200];
            if (schema_parse_value(p, p->default_value, &v, why, sizeof why) < 0) {
                snprintf(err, err_size, "key \"%s\": default \"%s\": %s", p->key, p->default_value,
                         why);
                return -1;
            }
        }
    }
    return 0;
}
