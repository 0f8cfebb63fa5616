/* imds.c — temporary credentials from the container endpoint (ECS/EKS pod
 * identity) and from the EC2 instance role through IMDSv2 (a session token
 * first, then the role name, then the role's credentials). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

enum { IMDS_TOKEN_TTL_S = 21600 };

/* Fills cr from the JSON both services answer. */
static int imds_parse(const char *json, const char *where, s3_creds *cr, s3_error *err)
{
    char expiration[64] = "";
    if (!s3_json_string(json, "AccessKeyId", cr->access_key, sizeof cr->access_key) ||
        !s3_json_string(json, "SecretAccessKey", cr->secret_key, sizeof cr->secret_key)) {
        s3_err_set(err, S3_ERR_DENIED, 0, "%s: reply without AccessKeyId/SecretAccessKey", where);
        return -1;
    }
    if (!s3_json_string(json, "Token", cr->token, sizeof cr->token))
        cr->token[0] = '\0';
    s3_json_string(json, "Expiration", expiration, sizeof expiration);
    cr->expires = s3_parse_iso8601(expiration);
    return 0;
}

/* GET url (with an optional header); 0 with the body in out, -1 with err. */
static int imds_get(const char *url, const char *header, long timeout_ms, s3_buf *out,
                    s3_error *err)
{
    const char *headers[] = {header, NULL};
    long status = s3_http("GET", url, headers, timeout_ms, out, err);
    if (status == 200)
        return 0;
    if (status > 0)
        s3_err_set(err, S3_ERR_DENIED, status, "GET %s: HTTP %ld", url, status);
    return -1;
}

int s3_creds_container(long timeout_ms, s3_creds *cr, s3_error *err)
{
    const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char url[2048], auth[2048] = "";
    if (rel && *rel)
        snprintf(url, sizeof url, "http://169.254.170.2%s", rel);
    else if (full && *full)
        snprintf(url, sizeof url, "%s", full);
    else
        return 0;
    if (token && *token)
        snprintf(auth, sizeof auth, "Authorization: %s", token);
    s3_buf body = {0};
    int rc = imds_get(url, *auth ? auth : NULL, timeout_ms, &body, err);
    if (rc == 0)
        rc = imds_parse(body.data, url, cr, err);
    s3_buf_free(&body);
    if (rc < 0)
        return -1;
    cr->kind = S3_CRED_CONTAINER;
    snprintf(cr->source, sizeof cr->source, "container credentials (%.900s)", url);
    return 1;
}

/* IMDSv2's session token: PUT /latest/api/token. */
static int imds_token(const char *base, long timeout_ms, char *header, size_t n, s3_error *err)
{
    char url[1024], ttl[64];
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    snprintf(ttl, sizeof ttl, "X-aws-ec2-metadata-token-ttl-seconds: %d", IMDS_TOKEN_TTL_S);
    const char *headers[] = {ttl, NULL};
    s3_buf body = {0};
    long status = s3_http("PUT", url, headers, timeout_ms, &body, err);
    if (status == 200)
        snprintf(header, n, "X-aws-ec2-metadata-token: %s", body.data);
    else if (status > 0)
        s3_err_set(err, S3_ERR_DENIED, status, "PUT %s: HTTP %ld", url, status);
    s3_buf_free(&body);
    return status == 200 ? 0 : -1;
}

int s3_creds_imds(long timeout_ms, s3_creds *cr, s3_error *err)
{
    const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
    if (disabled && strcasecmp(disabled, "true") == 0)
        return 0;
    const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char base[512], token[512], url[1024];
    snprintf(base, sizeof base, "%s", ep && *ep ? ep : "http://169.254.169.254");
    size_t blen = strlen(base);
    if (blen && base[blen - 1] == '/')
        base[blen - 1] = '\0';
    if (imds_token(base, timeout_ms, token, sizeof token, err) < 0)
        return -1;
    s3_buf role = {0}, body = {0};
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", base);
    int rc = imds_get(url, token, timeout_ms, &role, err);
    if (rc == 0) {
        role.data[strcspn(role.data, "\r\n")] = '\0';
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", base,
                 role.data);
        rc = imds_get(url, token, timeout_ms, &body, err);
    }
    if (rc == 0)
        rc = imds_parse(body.data, url, cr, err);
    if (rc == 0) {
        cr->kind = S3_CRED_IMDS;
        snprintf(cr->source, sizeof cr->source, "EC2 instance role %.300s (IMDSv2 at %.500s)",
                 role.data, base);
    }
    s3_buf_free(&role);
    s3_buf_free(&body);
    return rc < 0 ? -1 : 1;
}
