/*
 * envsubst.h — ${VAR} substitution in config scalars.
 *
 *   ${VAR}            the variable's value; an error if it is not set
 *   ${VAR:-default}   the value, or default when VAR is unset or empty
 *                     (default may itself hold ${...})
 *   $$                a literal '$'
 * Any other '$' is kept as it is.  VAR is [A-Za-z_][A-Za-z0-9_]*.
 */
#ifndef FLOWRUN_ENVSUBST_H
#define FLOWRUN_ENVSUBST_H

#include <stddef.h>

/* Returns the substituted text (malloc'd, the caller frees), or NULL with
 * one line in err: `undefined environment variable "X" (...)`,
 * `unterminated "${"`, `bad variable name "..."`, or out of memory. */
char *envsubst_expand(const char *text, char *err, size_t err_size);

#endif
