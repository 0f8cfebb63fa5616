/*
 * yaml_doc.h — a YAML file as a small tree of scalars, lists and mappings,
 * each with its 1-based line and column, read with libyaml.  Duplicate keys
 * are kept (the config layer reports them); aliases are expanded.
 */
#ifndef FLOWRUN_YAML_DOC_H
#define FLOWRUN_YAML_DOC_H

#include <stddef.h>

#include "diag.h"

typedef enum yaml_doc_kind {
    YAML_DOC_SCALAR = 1,
    YAML_DOC_LIST = 2,
    YAML_DOC_MAP = 3,
} yaml_doc_kind;

typedef struct yaml_doc_node yaml_doc_node;
struct yaml_doc_node {
    yaml_doc_kind kind;
    int line, col; /* 1-based, where the node starts */
    char *text;    /* SCALAR: the text, owned; NULL otherwise */
    int plain;     /* SCALAR: written without quotes (so "", "~", "null" are null) */
    /* LIST: n items.  MAP: n pairs, key i at items[2i], value at items[2i+1]
     * (keys may be any node; duplicates are kept in file order).  Owned. */
    yaml_doc_node **items;
    size_t n;
};

/* Parses len bytes of data.  On a syntax error reports
 * "file:line:col: YAML syntax error: ..." to d and returns NULL; an empty
 * document also gives NULL (with no message: the caller knows what it
 * needed).  More than one document is an error.  file is for messages. */
yaml_doc_node *yaml_doc_parse(const char *data, size_t len, const char *file, diag *d);
void yaml_doc_free(yaml_doc_node *n);

/* "a string", "a list", "a mapping", for "expected ..., got a list". */
const char *yaml_doc_kind_name(const yaml_doc_node *n);
/* Map access: the key text of pair i (NULL if the key is not a scalar) and
 * its value. */
const char *yaml_doc_key(const yaml_doc_node *map, size_t i);
const yaml_doc_node *yaml_doc_value(const yaml_doc_node *map, size_t i);
/* A plain scalar that YAML reads as null: "", "~", "null". */
int yaml_doc_is_null(const yaml_doc_node *n);

#endif
