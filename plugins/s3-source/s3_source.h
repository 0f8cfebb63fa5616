/* s3_source.h — what the files of the s3-source plugin share. */
#ifndef FLOWRUN_S3_SOURCE_H
#define FLOWRUN_S3_SOURCE_H

/* A file:// or plain-path url: 1 with *root the folder (malloc'd, caller
 * owns), 0 for an s3:// url, -1 for another scheme or host. */
int source_url_local_root(const char *url, char **root);

#endif
