/* fuzz-s3_xml: what an S3 server's XML replies go through (expat
 * underneath): a ListObjectsV2 page, an error reply, a
 * CreateMultipartUpload reply.  Objects reported must have a key, and a
 * size only when it was valid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_object(void *user, const s3_object *o)
{
    size_t *seen = user;
    if (!o->key || !o->key[0] || (o->size_invalid && o->size) || o->size >= UINT64_C(1) << 63)
        abort();
    return ++*seen >= 100000; /* fn may stop the page */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    size_t seen = 0;
    int truncated = 0;
    s3_buf token = {0};
    s3_list_page(xml, size, fuzz_object, &seen, &truncated, &token);
    if (token.len && strlen(token.data) != token.len)
        abort();
    s3_buf_free(&token);
    char code[64], message[256], id[512];
    s3_error_reply(xml, size, code, sizeof code, message, sizeof message);
    s3_upload_id(xml, size, id, sizeof id);
    return 0;
}
