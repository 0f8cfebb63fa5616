/*
 * yaml_doc.c — libyaml's document loader turned into yaml_doc_node trees.
 */
#include "yaml_doc.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Guards against recursive aliases ("&a [*a]") and alias bombs. */
#define YAML_DOC_MAX_DEPTH 64
#define YAML_DOC_MAX_NODES 1000000

typedef struct yaml_doc_build {
    yaml_document_t *doc;
    size_t nodes;
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

static yaml_doc_node *yaml_doc_convert(yaml_doc_build *b, yaml_node_t *src, int depth)
{
    if (!src) {
        b->why = "dangling node";
        return NULL;
    }
    if (depth > YAML_DOC_MAX_DEPTH || ++b->nodes > YAML_DOC_MAX_NODES) {
        b->why = "nested too deep or too many nodes (a recursive alias?)";
        return NULL;
    }
    yaml_doc_node *n = calloc(1, sizeof *n);
    if (!n) {
        b->why = "out of memory";
        return NULL;
    }
    n->line = (int)src->start_mark.line + 1;
    n->col = (int)src->start_mark.column + 1;
    size_t count = 0, slots = 0;
    switch (src->type) {
    case YAML_SCALAR_NODE:
        n->kind = YAML_DOC_SCALAR;
        n->plain = src->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->text = malloc(src->data.scalar.length + 1);
        if (!n->text)
            goto oom;
        memcpy(n->text, src->data.scalar.value, src->data.scalar.length);
        n->text[src->data.scalar.length] = '\0';
        return n;
    case YAML_SEQUENCE_NODE:
        n->kind = YAML_DOC_LIST;
        count = (size_t)(src->data.sequence.items.top - src->data.sequence.items.start);
        break;
    case YAML_MAPPING_NODE:
        n->kind = YAML_DOC_MAP;
        count = (size_t)(src->data.mapping.pairs.top - src->data.mapping.pairs.start);
        break;
    default:
        b->why = "empty node";
        free(n);
        return NULL;
    }
    slots = n->kind == YAML_DOC_MAP ? 2 * count : count;
    if (slots && !(n->items = calloc(slots, sizeof *n->items)))
        goto oom;
    for (size_t i = 0; i < count; i++) {
        if (n->kind == YAML_DOC_LIST) {
            yaml_node_item_t id = src->data.sequence.items.start[i];
            n->items[i] = yaml_doc_convert(b, yaml_document_get_node(b->doc, id), depth + 1);
            if (!n->items[i])
                goto fail;
        } else {
            yaml_node_pair_t pr = src->data.mapping.pairs.start[i];
            n->items[2 * i] =
                yaml_doc_convert(b, yaml_document_get_node(b->doc, pr.key), depth + 1);
            if (!n->items[2 * i])
                goto fail;
            n->items[2 * i + 1] =
                yaml_doc_convert(b, yaml_document_get_node(b->doc, pr.value), depth + 1);
            if (!n->items[2 * i + 1])
                goto fail;
        }
    }
    n->n = count;
    return n;
oom:
    b->why = "out of memory";
fail:
    /* items is zeroed: free what was built, slot by slot */
    for (size_t k = 0; n->items && k < slots; k++)
        yaml_doc_free(n->items[k]);
    free(n->items);
    free(n->text);
    free(n);
    return NULL;
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
    yaml_document_t doc;
    yaml_doc_node *root = NULL;
    if (!yaml_parser_initialize(&parser)) {
        diag_error(d, file, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_doc_syntax_error(&parser, file, d);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (top) {
        yaml_doc_build b = {.doc = &doc};
        root = yaml_doc_convert(&b, top, 0);
        if (!root)
            diag_error(d, file, (int)top->start_mark.line + 1, (int)top->start_mark.column + 1,
                       "cannot read the YAML: %s", b.why ? b.why : "unknown error");
    }
    yaml_document_delete(&doc);

    if (root) {
        /* A second document would be silently ignored: refuse it. */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            yaml_doc_syntax_error(&parser, file, d);
            yaml_doc_free(root);
            root = NULL;
        } else {
            yaml_node_t *second = yaml_document_get_root_node(&next);
            if (second) {
                diag_error(d, file, (int)next.start_mark.line + 1, (int)next.start_mark.column + 1,
                           "a second YAML document: a pipeline file holds exactly one");
                yaml_doc_free(root);
                root = NULL;
            }
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&parser);
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
