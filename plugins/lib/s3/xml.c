/* xml.c — S3's XML replies through expat, flattened into (path, text)
 * events: the callers want a handful of fields, not a tree. */
#include <expat.h>
#include <limits.h>
#include <string.h>

#include "s3_private.h"

typedef struct xml_state {
    s3_xml_fn fn;
    void *user;
    s3_buf path; /* "A/B/C" of the open elements */
    s3_buf text; /* text of the innermost open element */
    int oom;
} xml_state;

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    xml_state *x = ud;
    if ((x->path.len && s3_buf_append(&x->path, "/", 1) < 0) ||
        s3_buf_append(&x->path, name, strlen(name)) < 0 || s3_buf_terminate(&x->path) < 0)
        x->oom = 1;
    x->text.len = 0;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    xml_state *x = ud;
    if (x->oom || s3_buf_terminate(&x->text) < 0) {
        x->oom = 1;
        return;
    }
    x->fn(x->user, x->path.data, x->text.data);
    x->text.len = 0;
    char *slash = strrchr(x->path.data, '/');
    x->path.len = slash ? (size_t)(slash - x->path.data) : 0;
    x->path.data[x->path.len] = '\0';
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
    xml_state *x = ud;
    if (s3_buf_append(&x->text, s, (size_t)len) < 0)
        x->oom = 1;
}

int s3_xml_parse(const char *data, size_t len, s3_xml_fn fn, void *user)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (!p)
        return -1;
    xml_state x = {.fn = fn, .user = user};
    XML_SetUserData(p, &x);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_chars);
    /* expat takes int lengths: feed a long reply in pieces. */
    int ok = 1;
    do {
        int piece = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
        ok = XML_Parse(p, data, piece, (size_t)piece == len) == XML_STATUS_OK && !x.oom;
        data += piece;
        len -= (size_t)piece;
    } while (ok && len);
    XML_ParserFree(p);
    s3_buf_free(&x.path);
    s3_buf_free(&x.text);
    return ok ? 0 : -1;
}
