/* manifest.c — the parts list of a parts directory and its ids (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partfile.h"

/* ---- idset ------------------------------------------------------------- */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static size_t slot_of(const idset *s, const char *id)
{
    size_t i = hash(id) & (s->cap - 1);
    while (s->slots[i] && strcmp(s->slots[i], id) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int grow(idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    idset bigger = {.slots = slots, .cap = cap, .n = s->n};
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            slots[slot_of(&bigger, s->slots[i])] = s->slots[i];
    free(s->slots);
    *s = bigger;
    return 0;
}

int idset_add(idset *s, const char *id)
{
    if ((s->n + 1) * 2 > s->cap && grow(s))
        return -1;
    size_t i = slot_of(s, id);
    if (s->slots[i])
        return 0;
    if (!(s->slots[i] = strdup(id)))
        return -1;
    s->n++;
    return 1;
}

int idset_has(const idset *s, const char *id)
{
    return s->n && s->slots[slot_of(s, id)] != NULL;
}

void idset_clear(idset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        free(s->slots[i]);
        s->slots[i] = NULL;
    }
    s->n = 0;
}

void idset_free(idset *s)
{
    idset_clear(s);
    free(s->slots);
    *s = (idset){0};
}

/* ---- JSON strings ------------------------------------------------------- */

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static int text_put(text *t, const char *s, size_t n)
{
    if (t->cap - t->len < n + 1) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap - t->len < n + 1)
            cap *= 2;
        char *p = realloc(t->data, cap);
        if (!p)
            return -1;
        t->data = p;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
    return 0;
}

/* A JSON string: quotes, backslashes and control characters escaped; other
 * bytes (UTF-8) as they are. */
static int put_json_string(text *t, const char *s)
{
    int bad = text_put(t, "\"", 1);
    for (; !bad && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\')
            bad = text_put(t, "\\", 1) || text_put(t, s, 1);
        else if (c < 0x20)
            bad = text_put(t, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c));
        else
            bad = text_put(t, s, 1);
    }
    return bad || text_put(t, "\"", 1);
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        *v = *v * 16 + (unsigned)d;
    }
    return 0;
}

/* Parses the JSON string at *p (at its opening quote) into out; advances *p
 * past the closing quote.  0, or -1 when malformed or out of memory. */
static int get_json_string(const char **p, text *out)
{
    const char *s = *p;
    out->len = 0;
    if (*s++ != '"' || text_put(out, "", 0))
        return -1;
    for (; *s != '"'; s++) {
        if (!*s)
            return -1;
        if (*s != '\\') {
            if (text_put(out, s, 1))
                return -1;
            continue;
        }
        s++;
        const char *simple = strchr("\"\\/bfnrt", *s);
        if (*s && simple) {
            static const char with[] = "\"\\/\b\f\n\r\t";
            if (text_put(out, &with[simple - "\"\\/bfnrt"], 1))
                return -1;
            continue;
        }
        unsigned v;
        if (*s != 'u' || hex4(s + 1, &v))
            return -1;
        s += 4;
        char u[3];
        size_t n = v < 0x80 ? (u[0] = (char)v, 1)
                   : v < 0x800
                       ? (u[0] = (char)(0xc0 | v >> 6), u[1] = (char)(0x80 | (v & 0x3f)), 2)
                       : (u[0] = (char)(0xe0 | v >> 12), u[1] = (char)(0x80 | ((v >> 6) & 0x3f)),
                          u[2] = (char)(0x80 | (v & 0x3f)), 3);
        if (text_put(out, u, n))
            return -1;
    }
    *p = s + 1;
    return 0;
}

/* ---- the manifest -------------------------------------------------------- */

static int set_json(manifest *m)
{
    size_t size = m->brief_len + 3;
    char *json = realloc(m->json, size);
    if (!json)
        return -1;
    snprintf(json, size, "[%s]", m->brief ? m->brief : "");
    m->json = json;
    return 0;
}

/* Appends line to a ",\n"-joined list. */
static int join(char **list, size_t *len, const char *line, size_t n)
{
    size_t sep = *len ? 2 : 0;
    char *p = realloc(*list, *len + sep + n + 1);
    if (!p)
        return -1;
    memcpy(p + *len, ",\n", sep);
    memcpy(p + *len + sep, line, n);
    *len += sep + n;
    p[*len] = '\0';
    *list = p;
    return 0;
}

/* Takes the file name and ids of one manifest line into the sets. */
static int index_line(manifest *m, const char *line)
{
    text s = {0};
    const char *p = line + strlen("{\"file\":");
    int rc = get_json_string(&p, &s) || idset_add(&m->files, s.data) < 0 ? -1 : 0;
    const char *ids = strstr(p, "\"ids\":[");
    for (p = ids ? ids + 7 : NULL; rc == 0 && p && *p == '"';) {
        rc = get_json_string(&p, &s) || idset_add(&m->ids, s.data) < 0 ? -1 : 0;
        if (*p == ',')
            p++;
    }
    if (rc == 0 && (!ids || *p != ']'))
        rc = -1;
    free(s.data);
    return rc;
}

/* The run token of the first line: "{"run":"TOKEN","parts":[". */
static int read_run(manifest *m, const char *p)
{
    text s = {0};
    if (get_json_string(&p, &s) || !s.data) {
        free(s.data);
        return -1;
    }
    free(m->read_run);
    m->read_run = s.data;
    return 0;
}

int manifest_read(manifest *m, FILE *f, const char *name, char *err, size_t err_size)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0, lineno = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == ','))
            line[--n] = '\0';
        if (lineno == 1 && strncmp(line, "{\"run\":", 7) == 0) {
            rc = read_run(m, line + 7);
            if (rc)
                snprintf(err, err_size, "%s:1: a bad run token", name);
            continue;
        }
        if (strncmp(line, "{\"file\":", 8) != 0)
            continue;
        if (index_line(m, line)) {
            snprintf(err, err_size, "%s:%d: not a part line of a flowrun manifest", name, lineno);
            rc = -1;
        } else if (join(&m->entries, &m->len, line, (size_t)n)) {
            snprintf(err, err_size, "out of memory reading %s", name);
            rc = -1;
        }
    }
    free(line);
    return rc;
}

int manifest_load(manifest *m, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "reading %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = manifest_read(m, f, path, err, err_size);
    fclose(f);
    return rc;
}

static int write_file(const manifest *m, const char *path, manifest_open_fn open, void *ctx,
                      char *err, size_t err_size)
{
    partfile_sink *s =
        open ? open(ctx, path, err, err_size) : partfile_local_open(path, 1, err, err_size);
    if (!s)
        return -1;
    const char *tail = "\n]}\n";
    text head = {0};
    int bad = text_put(&head, "{", 1);
    if (!bad && m->run && *m->run)
        bad = text_put(&head, "\"run\":", 6) || put_json_string(&head, m->run) ||
              text_put(&head, ",", 1);
    if (bad || text_put(&head, "\"parts\":[\n", 10)) {
        snprintf(err, err_size, "out of memory writing %s", path);
        free(head.data);
        s->ops->abort(s);
        return -1;
    }
    bad = s->ops->write(s, head.data, head.len, err, err_size);
    free(head.data);
    if (bad || s->ops->write(s, m->entries ? m->entries : "", m->len, err, err_size) ||
        s->ops->write(s, tail, strlen(tail), err, err_size)) {
        s->ops->abort(s);
        return -1;
    }
    return s->ops->commit(s, err, err_size);
}

int manifest_note(manifest *m, const char *file, uint64_t rows, uint64_t bytes)
{
    char line[4200];
    int n = snprintf(line, sizeof line, "{\"file\":\"%s\",\"rows\":%llu,\"bytes\":%llu}", file,
                     (unsigned long long)rows, (unsigned long long)bytes);
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    return join(&m->brief, &m->brief_len, line, (size_t)n) || set_json(m);
}

/* One part's manifest line: {"file":..,"rows":..,"bytes":..,"ids":[..]}. */
static int put_part_line(text *t, const manifest_part *p, const char *const *ids)
{
    char nums[96];
    snprintf(nums, sizeof nums, ",\"rows\":%llu,\"bytes\":%llu,\"ids\":[",
             (unsigned long long)p->rows, (unsigned long long)p->bytes);
    t->len = 0;
    int bad = text_put(t, "{\"file\":", 8) || put_json_string(t, p->file) ||
              text_put(t, nums, strlen(nums));
    for (size_t i = 0; !bad && i < p->n_ids; i++)
        bad = (i && text_put(t, ",", 1)) || put_json_string(t, ids[p->first_id + i]);
    return bad || text_put(t, "]}", 2);
}

/* Takes the committed parts and their ids into the sets and the summary. */
static int index_parts(manifest *m, const manifest_part *parts, size_t n_parts,
                       const char *const *ids)
{
    int bad = 0;
    for (size_t k = 0; !bad && k < n_parts; k++) {
        const manifest_part *p = &parts[k];
        bad = idset_add(&m->files, p->file) < 0 || manifest_note(m, p->file, p->rows, p->bytes);
        for (size_t i = 0; !bad && i < p->n_ids; i++)
            bad = idset_add(&m->ids, ids[p->first_id + i]) < 0;
    }
    return bad;
}

int manifest_commit_parts(manifest *m, const char *path, const manifest_part *parts, size_t n_parts,
                          const char *const *ids, manifest_open_fn open, void *ctx, char *err,
                          size_t err_size)
{
    text t = {0};
    size_t before = m->len;
    int bad = 0;
    for (size_t k = 0; !bad && k < n_parts; k++)
        bad = put_part_line(&t, &parts[k], ids) || join(&m->entries, &m->len, t.data, t.len);
    free(t.data);
    if (bad) {
        snprintf(err, err_size, "out of memory adding parts to %s", path);
        goto undo;
    }
    if (write_file(m, path, open, ctx, err, err_size))
        goto undo;
    if (index_parts(m, parts, n_parts, ids)) {
        snprintf(err, err_size, "out of memory keeping the ids of the parts in %s", path);
        return -2;
    }
    return 0;
undo: /* as it was: the parts stay out of the manifest */
    m->len = before;
    if (m->entries)
        m->entries[m->len] = '\0';
    return -1;
}

void manifest_free(manifest *m)
{
    free(m->entries);
    free(m->brief);
    free(m->json);
    idset_free(&m->ids);
    idset_free(&m->files);
    free(m->run);
    free(m->read_run);
    *m = (manifest){0};
}
