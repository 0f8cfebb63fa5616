/* digest.c — sha256 (payload hashes for SigV4) and md5 (ETag checks). */
#include <openssl/evp.h>

#include "s3_private.h"

static void digest_hex(const EVP_MD *md, const void *data, size_t len, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    static const char hex[] = "0123456789abcdef";
    EVP_Digest(data, len, d, &n, md, NULL);
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t len, char out[65])
{
    digest_hex(EVP_sha256(), data, len, out);
}

void s3_md5_hex(const void *data, size_t len, char out[33])
{
    digest_hex(EVP_md5(), data, len, out);
}

void s3_md5(const void *data, size_t len, unsigned char out[16])
{
    EVP_Digest(data, len, out, NULL, EVP_md5(), NULL);
}
