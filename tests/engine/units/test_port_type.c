/* Port types: parsing, edge compatibility, binding named dims, ${key}. */
#include <string.h>

#include "check.h"
#include "port_type.h"

static port_type parse(const char *text)
{
    port_type t;
    char err[256];
    CHECK(port_type_parse(text, &t, err, sizeof err) == 0);
    return t;
}

static int accepts(const char *in, const char *out, char *why)
{
    port_type a = parse(in), b = parse(out);
    return port_type_accepts(&a, &b, why, 256);
}

static const char *lookup(void *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, "width") == 0 ? "320" : NULL;
}

int main(void)
{
    char why[256], text[256], err[256];
    port_type t;
    CHECK(accepts("image/u8[h,w,3]", "image/u8[100,100,3]", why));
    CHECK(accepts("bytes/jpeg", "bytes/*", why));
    CHECK(accepts("*", "tensor/f32[2048]", why));
    CHECK(!accepts("image/u8[224,224,3]", "image/u8[100,100,3]", why));
    CHECK_STR(why, "dim 0 is 100, expected 224");
    CHECK(!accepts("image/u8[h,w,3]", "bytes/jpeg", why));
    CHECK_STR(why, "bytes is not image");
    CHECK(!accepts("tensor/f32[n]", "tensor/f32[2,3]", why));
    CHECK(!accepts("bytes/jpeg", "bytes/png", why));

    port_type in = parse("tensor/f32[n]"), up = parse("tensor/f32[2048]"), out;
    port_type pattern = parse("tensor/f32[n]");
    port_type_bind(&in, &up, &pattern, &out);
    port_type_format(&out, text, sizeof text);
    CHECK_STR(text, "tensor/f32[2048]");

    CHECK(port_type_expand("image/u8[${width},${width},3]", lookup, NULL, text, sizeof text, err,
                           sizeof err) == 0);
    CHECK_STR(text, "image/u8[320,320,3]");
    CHECK(port_type_expand("tensor/f32[${components}]", lookup, NULL, text, sizeof text, err,
                           sizeof err) != 0);
    CHECK_CONTAINS(err, "no config key \"components\"");

    CHECK(port_type_parse("image/u8[0,1]", &t, err, sizeof err) != 0);
    CHECK(port_type_parse("video/h264", &t, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "unknown kind \"video\"");
    CHECK(port_type_parse("tensor/f32[1,2,3,4,5]", &t, err, sizeof err) != 0);

    fr_payload p = {.kind = FR_KIND_IMAGE, .rank = 3, .dims = {100, 100, 3}};
    t = parse("image/u8[h,w,3]");
    CHECK(port_type_matches_payload(&t, &p));
    t = parse("image/u8[224,224,3]");
    CHECK(!port_type_matches_payload(&t, &p));
    return check_exit();
}
