/*
 * yaml_doc.c — libyaml's document loader turned into yaml_doc_node trees.
 */
#include "yaml_doc.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Bounds on what a file can make the reader build (a pipeline file is a
 * few KiB): nesting, nodes, and bytes of the tree with every alias
 * expanded (an alias bomb is a small file whose expansion is not). */
#define YAML_DOC_MAX_DEPTH   64
#define YAML_DOC_MAX_NODES   1000000
#define YAML_DOC_MAX_BYTES   ((size_t)16 << 20)
#define YAML_DOC_MAX_ANCHORS 1024

typedef struct yaml_doc_anchor {
    char *name;          /* owned */
    yaml_doc_node *node; /* borrowed from the tree; NULL while still open */
    int height;          /* levels of node, for the nesting bound of copies */
} yaml_doc_anchor;

/* One open list or mapping. */
typedef struct yaml_doc_open {
    yaml_doc_node *node; /* owned until closed and attached */
    size_t slots, cap;   /* items used and allocated */
    int height;          /* highest child so far */
    int anchor;          /* its index in anchors, or -1 */
} yaml_doc_open;

/* The tree is built from libyaml's events, never from its document loader:
 * the loader scans the whole file before anything can be checked, and its
 * scanner is quadratic in nesting; events let the bounds stop a hostile
 * file early, in time linear in what was read. */
typedef struct yaml_doc_build {
    yaml_doc_open open[YAML_DOC_MAX_DEPTH + 1];
    int depth;
    yaml_doc_anchor anchors[YAML_DOC_MAX_ANCHORS];
    size_t n_anchors;
    size_t nodes, bytes;
    yaml_doc_node *root;
    int documents;
    const char *why; /* set when the tree cannot be built */
} yaml_doc_build;

void yaml_doc_free(yaml_doc_node *n)
{
    if (!n)
        return;
    size_t slots = n->kind == YAML_DOC_MAP ? 2 * n->n : n->n;
    for (size_t i = 0; i < slots; i++)
        yaml_doc_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

/* Counts a node of text_len bytes against the bounds; -1 with why set. */
static int yaml_doc_charge(yaml_doc_build *b, size_t text_len)
{
    b->bytes += sizeof(yaml_doc_node) + sizeof(yaml_doc_node *) + text_len;
    if (++b->nodes > YAML_DOC_MAX_NODES || b->bytes > YAML_DOC_MAX_BYTES) {
        b->why = "more than 1000000 nodes or 16 MiB once aliases are expanded (an alias bomb?)";
        return -1;
    }
    return 0;
}

static yaml_doc_node *yaml_doc_new(yaml_doc_build *b, yaml_doc_kind kind, const yaml_mark_t *mark,
                                   size_t text_len)
{
    if (yaml_doc_charge(b, text_len) < 0)
        return NULL;
    yaml_doc_node *n = calloc(1, sizeof *n);
    if (!n) {
        b->why = "out of memory";
        return NULL;
    }
    n->kind = kind;
    n->line = (int)mark->line + 1;
    n->col = (int)mark->column + 1;
    return n;
}

/* Hangs n (transferred) under the innermost open node, or makes it the
 * root.  height: n's levels. */
static int yaml_doc_attach(yaml_doc_build *b, yaml_doc_node *n, int height)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    yaml_doc_open *o = &b->open[b->depth - 1];
    if (o->slots == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 8;
        yaml_doc_node **items = realloc(o->node->items, cap * sizeof *items);
        if (!items) {
            yaml_doc_free(n);
            b->why = "out of memory";
            return -1;
        }
        o->node->items = items;
        o->cap = cap;
    }
    o->node->items[o->slots++] = n;
    o->node->n = o->node->kind == YAML_DOC_MAP ? o->slots / 2 : o->slots;
    if (height > o->height)
        o->height = height;
    return 0;
}

/* Remembers an anchor for later aliases (node NULL: still open).  Returns
 * its index, -1 for none, or -2 with why set. */
static int yaml_doc_anchor_add(yaml_doc_build *b, const yaml_char_t *name, yaml_doc_node *node)
{
    if (!name)
        return -1;
    if (b->n_anchors == YAML_DOC_MAX_ANCHORS) {
        b->why = "more than 1024 anchors";
        return -2;
    }
    yaml_doc_anchor *a = &b->anchors[b->n_anchors];
    if (!(a->name = strdup((const char *)name))) {
        b->why = "out of memory";
        return -2;
    }
    a->node = node;
    a->height = 1;
    return (int)b->n_anchors++;
}

static yaml_doc_node *yaml_doc_copy(yaml_doc_build *b, const yaml_doc_node *src)
{
    yaml_doc_node *n =
        yaml_doc_new(b, src->kind, &(yaml_mark_t){0}, src->text ? strlen(src->text) : 0);
    if (!n)
        return NULL;
    n->line = src->line;
    n->col = src->col;
    n->plain = src->plain;
    size_t slots = src->kind == YAML_DOC_MAP ? 2 * src->n : src->n;
    if ((src->text && !(n->text = strdup(src->text))) ||
        (slots && !(n->items = calloc(slots, sizeof *n->items)))) {
        b->why = "out of memory";
        yaml_doc_free(n);
        return NULL;
    }
    n->n = src->n;
    for (size_t i = 0; i < slots; i++)
        if (!(n->items[i] = yaml_doc_copy(b, src->items[i]))) {
            yaml_doc_free(n);
            return NULL;
        }
    return n;
}

/* An alias: a copy of its anchor's (complete) node, within the bounds. */
static int yaml_doc_alias(yaml_doc_build *b, const yaml_char_t *name)
{
    const yaml_doc_anchor *a = NULL;
    for (size_t i = b->n_anchors; i-- > 0 && !a;) /* the latest definition counts */
        if (strcmp(b->anchors[i].name, (const char *)name) == 0)
            a = &b->anchors[i];
    if (!a || !a->node) {
        b->why = a ? "an alias inside its own anchor (a recursive alias)" : "an alias to no anchor";
        return -1;
    }
    if (b->depth + a->height > YAML_DOC_MAX_DEPTH) {
        b->why = "nested deeper than 64 levels";
        return -1;
    }
    yaml_doc_node *n = yaml_doc_copy(b, a->node);
    return n ? yaml_doc_attach(b, n, a->height) : -1;
}

static int yaml_doc_scalar(yaml_doc_build *b, const yaml_event_t *ev)
{
    size_t len = ev->data.scalar.length;
    yaml_doc_node *n = yaml_doc_new(b, YAML_DOC_SCALAR, &ev->start_mark, len);
    if (!n)
        return -1;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (!(n->text = malloc(len + 1))) {
        free(n);
        b->why = "out of memory";
        return -1;
    }
    memcpy(n->text, ev->data.scalar.value, len);
    n->text[len] = '\0';
    int a = yaml_doc_anchor_add(b, ev->data.scalar.anchor, n);
    if (a < -1) {
        yaml_doc_free(n);
        return -1;
    }
    return yaml_doc_attach(b, n, 1);
}

static int yaml_doc_open_node(yaml_doc_build *b, const yaml_event_t *ev, yaml_doc_kind kind)
{
    if (b->depth == YAML_DOC_MAX_DEPTH) {
        b->why = "nested deeper than 64 levels";
        return -1;
    }
    yaml_doc_node *n = yaml_doc_new(b, kind, &ev->start_mark, 0);
    if (!n)
        return -1;
    const yaml_char_t *anchor =
        kind == YAML_DOC_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    int a = yaml_doc_anchor_add(b, anchor, NULL);
    if (a < -1) {
        free(n);
        return -1;
    }
    b->open[b->depth++] = (yaml_doc_open){.node = n, .anchor = a};
    return 0;
}

static int yaml_doc_close_node(yaml_doc_build *b)
{
    yaml_doc_open o = b->open[--b->depth];
    if (o.anchor >= 0) {
        b->anchors[o.anchor].node = o.node;
        b->anchors[o.anchor].height = o.height + 1;
    }
    return yaml_doc_attach(b, o.node, o.height + 1);
}

/* One event into the tree; -1 with why set. */
static int yaml_doc_event(yaml_doc_build *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (b->documents++) {
            b->why = "a second YAML document: a pipeline file holds exactly one";
            return -1;
        }
        return 0;
    case YAML_SCALAR_EVENT:
        return yaml_doc_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return yaml_doc_open_node(b, ev, YAML_DOC_LIST);
    case YAML_MAPPING_START_EVENT:
        return yaml_doc_open_node(b, ev, YAML_DOC_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return yaml_doc_close_node(b);
    case YAML_ALIAS_EVENT:
        return yaml_doc_alias(b, ev->data.alias.anchor);
    default:
        return 0;
    }
}

static void yaml_doc_build_free(yaml_doc_build *b)
{
    while (b->depth > 0) {
        /* An open mapping may hold a key without its value yet: n counts
         * pairs, so its slots are freed one by one. */
        yaml_doc_open *o = &b->open[--b->depth];
        for (size_t i = 0; i < o->slots; i++)
            yaml_doc_free(o->node->items[i]);
        o->node->n = 0;
        yaml_doc_free(o->node);
    }
    for (size_t i = 0; i < b->n_anchors; i++)
        free(b->anchors[i].name);
    yaml_doc_free(b->root);
    free(b);
}

static void yaml_doc_syntax_error(const yaml_parser_t *p, const char *file, diag *d)
{
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "unreadable YAML";
    if (p->error == YAML_READER_ERROR) {
        diag_error(d, file, 0, 0, "YAML syntax error: %s at byte %zu", problem, p->problem_offset);
    } else if (p->context) {
        diag_error(d, file, line, col, "YAML syntax error: %s (%s at line %d)", problem, p->context,
                   (int)p->context_mark.line + 1);
    } else {
        diag_error(d, file, line, col, "YAML syntax error: %s", problem);
    }
}

yaml_doc_node *yaml_doc_parse(const char *data, size_t len, const char *file, diag *d)
{
    yaml_parser_t parser;
    yaml_doc_build *b = calloc(1, sizeof *b);
    if (!b || !yaml_parser_initialize(&parser)) {
        free(b);
        diag_error(d, file, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    yaml_doc_node *root = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_doc_syntax_error(&parser, file, d);
            break;
        }
        int rc = yaml_doc_event(b, &ev);
        yaml_event_type_t type = ev.type;
        if (rc < 0)
            diag_error(d, file, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1, "%s%s",
                       b->documents > 1 ? "" : "cannot read the YAML: ", b->why);
        yaml_event_delete(&ev);
        if (rc < 0)
            break;
        if (type == YAML_STREAM_END_EVENT) {
            root = b->root;
            b->root = NULL;
            break;
        }
    }
    yaml_parser_delete(&parser);
    yaml_doc_build_free(b);
    return root;
}

const char *yaml_doc_kind_name(const yaml_doc_node *n)
{
    if (!n)
        return "nothing";
    switch (n->kind) {
    case YAML_DOC_SCALAR:
        return yaml_doc_is_null(n) ? "no value" : "a string";
    case YAML_DOC_LIST:
        return "a list";
    case YAML_DOC_MAP:
        return "a mapping";
    }
    return "?";
}

const char *yaml_doc_key(const yaml_doc_node *map, size_t i)
{
    const yaml_doc_node *k = map->items[2 * i];
    return k->kind == YAML_DOC_SCALAR ? k->text : NULL;
}

const yaml_doc_node *yaml_doc_value(const yaml_doc_node *map, size_t i)
{
    return map->items[2 * i + 1];
}

int yaml_doc_is_null(const yaml_doc_node *n)
{
    return n && n->kind == YAML_DOC_SCALAR && n->plain &&
           (!*n->text || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
            strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}
