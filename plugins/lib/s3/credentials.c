/* credentials.c — the standard AWS credential chain, in the standard order:
 * environment, shared credentials/config files (profile), container
 * endpoint, EC2 instance role (IMDSv2).  The first that applies wins; its
 * description (never the secret) is kept for logs and error messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

enum { CREDS_REFRESH_MARGIN_S = 300, METADATA_TIMEOUT_MS = 2000 };

static int creds_env(s3_creds *cr)
{
    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (!id || !*id || !secret || !*secret)
        return 0;
    snprintf(cr->access_key, sizeof cr->access_key, "%s", id);
    snprintf(cr->secret_key, sizeof cr->secret_key, "%s", secret);
    snprintf(cr->token, sizeof cr->token, "%s", token ? token : "");
    cr->kind = S3_CRED_ENV;
    snprintf(cr->source, sizeof cr->source, "environment (AWS_ACCESS_KEY_ID)");
    return 1;
}

static int creds_files(const char *profile, s3_creds *cr)
{
    if (!s3_profile_get(profile, "aws_access_key_id", cr->access_key, sizeof cr->access_key) ||
        !s3_profile_get(profile, "aws_secret_access_key", cr->secret_key, sizeof cr->secret_key))
        return 0;
    if (!s3_profile_get(profile, "aws_session_token", cr->token, sizeof cr->token))
        cr->token[0] = '\0';
    char path[1024];
    s3_credentials_file(path, sizeof path);
    cr->kind = S3_CRED_FILE;
    snprintf(cr->source, sizeof cr->source, "shared credentials (profile %.100s, %.800s)", profile,
             path);
    return 1;
}

int s3_creds_resolve(const char *profile, long connect_timeout_ms, s3_creds *cr, s3_error *err)
{
    *cr = (s3_creds){0};
    if (creds_env(cr) || creds_files(profile, cr))
        return 0;
    long timeout =
        connect_timeout_ms < METADATA_TIMEOUT_MS ? connect_timeout_ms : METADATA_TIMEOUT_MS;
    int rc = s3_creds_container(timeout, cr, err);
    if (rc == 0)
        rc = s3_creds_imds(timeout, cr, err);
    if (rc > 0)
        return 0;
    char path[1024], why[sizeof err->message] = "AWS_EC2_METADATA_DISABLED";
    if (rc < 0)
        snprintf(why, sizeof why, "%s", err->message);
    s3_credentials_file(path, sizeof path);
    s3_err_set(err, S3_ERR_DENIED, 0,
               "no AWS credentials: none in the environment, none for profile %s in %s, no "
               "container credentials, no instance role (%s)",
               profile, path, why);
    return -1;
}

int s3_creds_refresh(s3_creds *cr, long connect_timeout_ms, s3_error *err)
{
    if (!cr->expires || time(NULL) < cr->expires - CREDS_REFRESH_MARGIN_S)
        return 0;
    s3_creds fresh = {0};
    long timeout =
        connect_timeout_ms < METADATA_TIMEOUT_MS ? connect_timeout_ms : METADATA_TIMEOUT_MS;
    int rc = cr->kind == S3_CRED_CONTAINER ? s3_creds_container(timeout, &fresh, err)
                                           : s3_creds_imds(timeout, &fresh, err);
    if (rc <= 0) {
        if (rc == 0)
            s3_err_set(err, S3_ERR_DENIED, 0, "%s: gone while refreshing credentials", cr->source);
        return -1;
    }
    *cr = fresh;
    return 0;
}
