/* out.c — partfile_out: what path, mode and the roll limits mean (see partfile.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "partfile.h"
#include "s3_sink.h"

/* A part written and sealed, waiting for partfile_publish. */
typedef struct staged_part {
    partfile_sink *sink; /* owned: sealed */
    char *name;          /* owned: its name in the directory */
    uint64_t rows, bytes;
    size_t first_id, n_ids; /* its ids in out->ids */
} staged_part;

typedef struct names {
    char **v; /* owned */
    size_t n, cap;
    const char *prefix; /* of S3 keys, stripped */
    int oom;
} names;

struct partfile_out {
    partfile_options opt;                         /* path and extension point at the copies below */
    char *path, *extension, *manifest_path, *run; /* owned */
    int parts;                                    /* path is a directory of parts */
    /* Parts wait sealed until partfile_publish (a batch run publishes at its
     * end); without, every roll is a commit (max_age: a rolling output). */
    int staging;
    /* Single file: the sidecar in the state directory recording what
     * this run published (owned, or NULL), and whether the file is that. */
    char *sidecar_path;
    int resumed;
    unsigned next_seq;
    manifest manifest;
    staged_part *staged; /* owned */
    size_t n_staged, cap_staged;
    names old; /* overwrite: the earlier output's parts, removed after the new manifest */

    partfile_sink *sink; /* the open part, or NULL */
    char *part_path;     /* owned: its final name */
    uint64_t rows, bytes;
    int64_t opened_ms;
    int64_t due_ms;      /* the open part's rows' earliest deadline (partfile_note_due) */
    int64_t min_open_ms; /* partfile_set_min_open */
    /* Owned: the ids of the open part (and of the staged ones before it),
     * then of what the last commit published. */
    char **ids;
    size_t n_ids, cap_ids, first_open; /* the open part's are ids[first_open..n_ids) */
    size_t n_committed;                /* ids[0..n_committed) were just published */
    idset open_ids; /* the ids not yet published, to find a record that comes twice */

    /* An s3:// path: the bucket and a client; path is then the URL of the
     * object or of the parts' prefix, without a trailing '/'. */
    s3_client *s3; /* owned, or NULL for a local path */
    char *bucket;  /* owned */
    char *where;   /* owned: endpoint, region and credential source, for the log */
};

/* ---- where the bytes go: a local directory or an S3 prefix ---------------- */

/* The key of an s3:// URL inside this output's bucket. */
static const char *key_of(const partfile_out *out, const char *url)
{
    return url + 5 + strlen(out->bucket) + 1;
}

/* The listing prefix of the parts: "" for the bucket's root, else "key/". */
static char *parts_prefix(const partfile_out *out)
{
    size_t root = 5 + strlen(out->bucket);
    const char *key = strlen(out->path) > root ? out->path + root + 1 : "";
    size_t n = strlen(key);
    char *p = malloc(n + 2);
    if (p)
        snprintf(p, n + 2, "%s%s", key, n ? "/" : "");
    return p;
}

static partfile_sink *open_sink(partfile_out *out, const char *url, int replace, char *err,
                                size_t err_size)
{
    return out->s3 ? partfile_s3_open(out->s3, out->bucket, key_of(out, url), err, err_size)
                   : partfile_local_open(url, replace, err, err_size);
}

static partfile_sink *open_manifest(void *ctx, const char *path, char *err, size_t err_size)
{
    return open_sink(ctx, path, 1, err, err_size);
}

/* Removes out->path/name. */
static int remove_file(partfile_out *out, const char *name, char *err, size_t err_size)
{
    char url[4200];
    snprintf(url, sizeof url, "%s/%s", out->path, name);
    if (out->s3) {
        s3_error e = {0};
        if (s3_delete(out->s3, out->bucket, key_of(out, url), &e) == 0)
            return 0;
        snprintf(err, err_size, "removing %s: %s", url, e.message);
        return -1;
    }
    if (unlink(url) == 0)
        return 0;
    snprintf(err, err_size, "removing %s: %s", url, strerror(errno));
    return -1;
}

static int names_add(names *l, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name)))
        return -1;
    l->n++;
    return 0;
}

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* The objects right under the prefix (not in deeper "folders"). */
static int list_object(void *user, const s3_object *obj)
{
    names *l = user;
    const char *name = obj->key + strlen(l->prefix);
    if (!*name || strchr(name, '/'))
        return 0;
    if (names_add(l, name)) {
        l->oom = 1;
        return 1;
    }
    return 0;
}

/* The file names in the output's directory or under its prefix. */
static int list_files(partfile_out *out, names *l, char *err, size_t err_size)
{
    if (out->s3) {
        s3_error e = {0};
        char *prefix = parts_prefix(out);
        l->prefix = prefix;
        int rc = prefix ? s3_list(out->s3, out->bucket, prefix, NULL, list_object, l, &e) : -1;
        free(prefix);
        l->prefix = NULL;
        if (rc || l->oom)
            snprintf(err, err_size, "listing %s/: %s", out->path,
                     rc && prefix ? e.message : "out of memory");
        return rc || l->oom ? -1 : 0;
    }
    DIR *d = opendir(out->path);
    if (!d) {
        snprintf(err, err_size, "reading directory %s: %s", out->path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && names_add(l, e->d_name)) {
            snprintf(err, err_size, "out of memory reading directory %s", out->path);
            rc = -1;
        }
    closedir(d);
    return rc;
}

/* The manifest object of append-parts; a missing one is an empty manifest. */
static int load_s3_manifest(partfile_out *out, char *err, size_t err_size)
{
    s3_buf buf = {0};
    s3_error e = {0};
    int rc = 0;
    if (s3_get(out->s3, out->bucket, key_of(out, out->manifest_path), 0, 0, &buf, &e)) {
        rc = e.cls == S3_ERR_NOT_FOUND && strcmp(e.code, "NoSuchBucket") != 0 ? 0 : -1;
        if (rc)
            snprintf(err, err_size, "reading %s: %s", out->manifest_path, e.message);
    } else if (buf.len) {
        FILE *f = fmemopen(buf.data, buf.len, "r");
        rc = f ? manifest_read(&out->manifest, f, out->manifest_path, err, err_size) : -1;
        if (!f)
            snprintf(err, err_size, "reading %s: %s", out->manifest_path, strerror(errno));
        if (f)
            fclose(f);
    }
    s3_buf_free(&buf);
    return rc;
}

int partfile_mode_parse(const char *s)
{
    return strcmp(s, "error") == 0          ? PARTFILE_ERROR
           : strcmp(s, "overwrite") == 0    ? PARTFILE_OVERWRITE
           : strcmp(s, "append-parts") == 0 ? PARTFILE_APPEND_PARTS
                                            : -1;
}

/* "part-<seq>.<ext>" -> seq, or -1. */
static long part_seq(const char *name, const char *ext)
{
    unsigned seq;
    int end = 0;
    if (sscanf(name, "part-%5u.%n", &seq, &end) != 1 || end != 11 || strcmp(name + end, ext))
        return -1;
    return (long)seq;
}

/* ".part-00001.csv.tmp-123", "._manifest.json.tmp-123": a temporary file
 * of an earlier run that was killed before its commit. */
static int stale_temp(const char *name)
{
    return (strncmp(name, ".part-", 6) == 0 || strncmp(name, "._manifest.json.", 16) == 0) &&
           partfile_local_stale(name) != 0;
}

/* A part of the output found at open: mode error refuses it; overwrite
 * keeps it until the new manifest is in place (partfile_publish), and new
 * parts are numbered after it so the two never share a name; append-parts
 * continues after it, and removes it when the manifest does not list it: an
 * earlier run published it but was killed before its manifest (and so its
 * commit) was written, so its records are redone. */
static int found_part(partfile_out *out, const char *name, long seq, char *err, size_t err_size)
{
    if (out->opt.mode == PARTFILE_ERROR) {
        snprintf(err, err_size, "%s already holds %s (mode: error; use overwrite or append-parts)",
                 out->path, name);
        return -1;
    }
    if (out->opt.mode == PARTFILE_APPEND_PARTS && !idset_has(&out->manifest.files, name))
        return remove_file(out, name, err, err_size);
    if (seq >= (long)out->next_seq)
        out->next_seq = (unsigned)seq + 1;
    if (out->opt.mode == PARTFILE_OVERWRITE && names_add(&out->old, name)) {
        snprintf(err, err_size, "out of memory listing %s", out->path);
        return -1;
    }
    return 0;
}

/* Finds the existing parts (see found_part) and removes the temporary
 * files of killed runs. */
static int scan_parts(partfile_out *out, char *err, size_t err_size)
{
    names l = {0};
    int rc = list_files(out, &l, err, err_size);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const char *name = l.v[i];
        long seq = part_seq(name, out->extension);
        if (!out->s3 && stale_temp(name))
            rc = remove_file(out, name, err, err_size);
        else if (seq >= 0)
            rc = found_part(out, name, seq, err, err_size);
        else if (strcmp(name, "_manifest.json") == 0 && out->opt.mode == PARTFILE_ERROR)
            rc = found_part(out, name, -1, err, err_size);
    }
    names_free(&l);
    return rc;
}

typedef struct upload_scan {
    partfile_out *out;
    const char *prefix; /* of the keys: the parts' "key/", or the object's key */
    s3_error e;
    int failed;
} upload_scan;

/* An incomplete upload to one of this output's own keys: a killed run's
 * (a run's uploads stay open until its end), aborted. */
static int abort_leftover(void *user, const char *key, const char *upload_id)
{
    upload_scan *u = user;
    const char *name = key + strlen(u->prefix);
    int ours = u->out->parts ? !strchr(name, '/') && (part_seq(name, u->out->extension) >= 0 ||
                                                      strcmp(name, "_manifest.json") == 0)
                             : *name == '\0';
    if (ours && s3_abort_upload(u->out->s3, u->out->bucket, key, upload_id, &u->e) != 0) {
        u->failed = 1;
        return 1;
    }
    return 0;
}

static int abort_leftover_uploads(partfile_out *out, const char *prefix, char *err, size_t err_size)
{
    upload_scan u = {.out = out, .prefix = prefix};
    if (s3_list_uploads(out->s3, out->bucket, prefix, abort_leftover, &u, &u.e) == 0 && !u.failed)
        return 0;
    snprintf(err, err_size, "%s: aborting the uploads a killed run left: %s", out->path,
             u.e.message);
    return -1;
}

/* Creating and removing a file is the only test of writability that also
 * holds for root and read-only mounts. */
static int probe_dir(const char *dir, char *err, size_t err_size)
{
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/.flowrun-probe-%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "cannot write in %s: %s", dir, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

/* mkdir -p dir: an output folder is made, parents included, as users expect
 * of `path: out/run1/features.csv`.  Returns 0 or -1 with errno. */
static int make_dirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int prepare_dir(partfile_out *out, char *err, size_t err_size)
{
    if (!out->s3 && make_dirs(out->path) != 0) {
        snprintf(err, err_size, "creating directory %s: %s", out->path, strerror(errno));
        return -1;
    }
    size_t size = strlen(out->path) + 20;
    if (!(out->manifest_path = malloc(size))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(out->manifest_path, size, "%s/_manifest.json", out->path);
    if (!out->s3 && probe_dir(out->path, err, err_size))
        return -1;
    int resumable = out->opt.run && *out->opt.run;
    if ((out->opt.mode == PARTFILE_APPEND_PARTS || resumable) &&
        (out->s3 ? load_s3_manifest(out, err, err_size)
                 : manifest_load(&out->manifest, out->manifest_path, err, err_size)))
        return -1;
    if (resumable && out->manifest.read_run && strcmp(out->manifest.read_run, out->opt.run) == 0)
        out->opt.mode = PARTFILE_APPEND_PARTS; /* this run's own earlier commits: continue them */
    else if (out->opt.mode != PARTFILE_APPEND_PARTS)
        manifest_free(&out->manifest); /* an earlier run's output: replaced or refused */
    if (resumable && !(out->manifest.run = strdup(out->opt.run))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (out->s3) {
        char *prefix = parts_prefix(out);
        int rc = prefix ? abort_leftover_uploads(out, prefix, err, err_size) : -1;
        if (!prefix)
            snprintf(err, err_size, "out of memory");
        free(prefix);
        if (rc)
            return -1;
    }
    return scan_parts(out, err, err_size);
}

static int find_own_file(partfile_out *out, char *err, size_t err_size);

/* One object: HEAD tells whether it exists, and checks the credentials
 * before any byte is written; the object this run published before it was
 * interrupted is kept and acknowledged. */
static int prepare_s3_file(partfile_out *out, char *err, size_t err_size)
{
    s3_object obj;
    s3_error e = {0};
    if (strlen(out->path) <= 5 + strlen(out->bucket)) {
        snprintf(err, err_size,
                 "%s: a single output file needs a key (s3://bucket/features.csv); a parts "
                 "folder needs max_rows, max_bytes, max_age or mode append-parts",
                 out->path);
        return -1;
    }
    if (abort_leftover_uploads(out, key_of(out, out->path), err, err_size) ||
        find_own_file(out, err, err_size))
        return -1;
    if (out->resumed)
        return 0;
    if (s3_head(out->s3, out->bucket, key_of(out, out->path), &obj, &e) == 0) {
        if (out->opt.mode != PARTFILE_ERROR)
            return 0;
        snprintf(err, err_size, "%s already exists (mode: error; use overwrite)", out->path);
        return -1;
    }
    if (e.cls == S3_ERR_NOT_FOUND && strcmp(e.code, "NoSuchBucket") != 0)
        return 0;
    snprintf(err, err_size, "%s", e.message);
    return -1;
}

/* The temporary files ".<base>.tmp-<pid>" of killed runs writing base in
 * dir: only that pattern, never another file. */
static int remove_stale_temps(const char *dir, const char *base, char *err, size_t err_size)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_size, "reading directory %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t n = strlen(base);
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        const char *name = e->d_name;
        if (name[0] != '.' || strncmp(name + 1, base, n) || strncmp(name + 1 + n, ".tmp-", 5) ||
            !partfile_local_stale(name))
            continue;
        if (unlinkat(dirfd(d), name, 0) != 0 && errno != ENOENT) {
            snprintf(err, err_size, "removing %s/%s, left by a killed run: %s", dir, name,
                     strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

/* What the sidecar says this run published: "<run>:<size>:<mtime ns>" of
 * the local file, "<run>:<size>:<ETag>" of the S3 object (what the sink's
 * identity op said before publishing it).  1; 0 when there is no such file
 * (or the local one cannot be stat'ed); -1 with err when S3 fails. */
static int identity(const partfile_out *out, char *buf, size_t size, char *err, size_t err_size)
{
    if (out->s3) {
        s3_object obj;
        s3_error e = {0};
        if (s3_head(out->s3, out->bucket, key_of(out, out->path), &obj, &e) == 0) {
            snprintf(buf, size, "%s:%llu:%s", out->opt.run, (unsigned long long)obj.size,
                     obj.etag ? obj.etag : "");
            return 1;
        }
        if (e.cls == S3_ERR_NOT_FOUND && strcmp(e.code, "NoSuchBucket") != 0)
            return 0;
        snprintf(err, err_size, "%s", e.message);
        return -1;
    }
    struct stat st;
    char what[64];
    if (stat(out->path, &st) != 0)
        return 0; /* opening the file will say why to the user */
    partfile_local_identity(&st, what, sizeof what);
    snprintf(buf, size, "%s:%s", out->opt.run, what);
    return 1;
}

/* A single file (local or S3 object) this run published before it was
 * interrupted (the sidecar in the state directory names it, and it is
 * unchanged): its ids are acknowledged, not written again, and it is kept
 * as it is.  0, or -1 with err. */
static int find_own_file(partfile_out *out, char *err, size_t err_size)
{
    char id[4400];
    int found;
    if (!out->sidecar_path || (found = identity(out, id, sizeof id, err, err_size)) == 0)
        return 0;
    if (found < 0 || manifest_load(&out->manifest, out->sidecar_path, err, err_size))
        return -1;
    out->resumed = out->manifest.read_run && strcmp(out->manifest.read_run, id) == 0;
    if (!out->resumed)
        manifest_free(&out->manifest);
    return 0;
}

static int prepare_file(partfile_out *out, char *err, size_t err_size)
{
    if (out->s3)
        return prepare_s3_file(out, err, err_size);
    struct stat st;
    if (find_own_file(out, err, err_size))
        return -1;
    if (out->opt.mode == PARTFILE_ERROR && !out->resumed && stat(out->path, &st) == 0) {
        snprintf(err, err_size, "%s already exists (mode: error; use overwrite)", out->path);
        return -1;
    }
    char *dir = strdup(out->path);
    if (!dir) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    const char *parent = slash ? (*dir ? dir : "/") : ".";
    int rc = 0;
    if (slash && make_dirs(parent) != 0) {
        snprintf(err, err_size, "creating directory %s: %s", parent, strerror(errno));
        rc = -1;
    }
    if (rc == 0)
        rc = probe_dir(parent, err, err_size);
    if (rc == 0)
        rc = remove_stale_temps(parent, slash ? slash + 1 : dir, err, err_size);
    free(dir);
    return rc;
}

/* An s3:// path: its bucket, and a client resolved as s3-source's. */
static int open_s3(partfile_out *out, const partfile_options *o, char *err, size_t err_size)
{
    char *bucket = NULL, *prefix = NULL;
    if (s3_parse_url(out->path, &bucket, &prefix) < 0) {
        snprintf(err, err_size, "path \"%s\": expected s3://bucket/key or s3://bucket/prefix",
                 out->path);
        return -1;
    }
    free(prefix);
    out->bucket = bucket;
    for (size_t n = strlen(out->path); n > 5 + strlen(out->bucket) && out->path[n - 1] == '/';)
        out->path[--n] = '\0';
    s3_options so = {.endpoint = o->endpoint,
                     .region = o->region,
                     .addressing =
                         o->addressing && strcmp(o->addressing, "auto") ? o->addressing : NULL,
                     .profile = o->profile,
                     .count = o->count,
                     .count_user = o->count_user};
    s3_error e = {0};
    if (!(out->s3 = s3_client_new(&so, &e))) {
        snprintf(err, err_size, "%s: %s", out->path, e.message);
        return -1;
    }
    size_t size = strlen(out->path) + 1024;
    if (!(out->where = malloc(size))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(out->where, size, "%s: region %s, endpoint %s, credentials from %s", out->path,
             s3_client_region(out->s3), s3_client_endpoint(out->s3),
             s3_client_credential_source(out->s3));
    return 0;
}

const char *partfile_describe(const partfile_out *out)
{
    return out->where;
}

partfile_out *partfile_open(const partfile_options *o, char *err, size_t err_size)
{
    partfile_out *out = calloc(1, sizeof *out);
    if (!out || !(out->path = strdup(o->path)) || !(out->extension = strdup(o->extension))) {
        snprintf(err, err_size, "out of memory opening %s", o->path);
        partfile_free(out);
        return NULL;
    }
    out->opt = *o;
    out->opt.path = out->path;
    out->opt.extension = out->extension;
    if (o->run && !(out->run = strdup(o->run))) {
        snprintf(err, err_size, "out of memory opening %s", o->path);
        partfile_free(out);
        return NULL;
    }
    out->opt.run = out->run;
    size_t size = o->state_dir ? strlen(o->state_dir) + 32 : 0;
    if (o->run && *o->run && o->state_dir && *o->state_dir && (out->sidecar_path = malloc(size)))
        snprintf(out->sidecar_path, size, "%s/published.json", o->state_dir);
    out->parts = o->max_rows || o->max_bytes || o->max_age_ms || o->mode == PARTFILE_APPEND_PARTS;
    out->staging = out->parts && !o->max_age_ms;
    if ((strncmp(out->path, "s3://", 5) == 0 && open_s3(out, o, err, err_size)) ||
        (out->parts ? prepare_dir(out, err, err_size) : prepare_file(out, err, err_size))) {
        partfile_free(out);
        return NULL;
    }
    return out;
}

static void clear_ids(partfile_out *out)
{
    for (size_t i = 0; i < out->n_ids; i++)
        free(out->ids[i]);
    out->n_ids = out->first_open = out->n_committed = 0;
    idset_clear(&out->open_ids);
}

/* Forgets the open part's ids (after it failed or was aborted). */
static void drop_open_ids(partfile_out *out)
{
    if (out->n_staged == 0) {
        clear_ids(out);
        return;
    }
    for (size_t i = out->first_open; i < out->n_ids; i++)
        free(out->ids[i]);
    out->n_ids = out->first_open; /* open_ids keeps them: harmless, they never come back */
}

int partfile_begin(partfile_out *out, int64_t now_ms, char *err, size_t err_size)
{
    if (out->resumed) {
        snprintf(err, err_size,
                 "%s was published by this run before it was interrupted, and one file cannot "
                 "take more rows; rerun with --fresh, or write parts (max_rows or append-parts)",
                 out->path);
        return -1;
    }
    size_t size = strlen(out->path) + strlen(out->extension) + 32;
    free(out->part_path);
    if (!(out->part_path = malloc(size))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (out->parts)
        snprintf(out->part_path, size, "%s/part-%05u.%s", out->path, out->next_seq, out->extension);
    else
        snprintf(out->part_path, size, "%s", out->path);
    int replace = !out->parts && out->opt.mode == PARTFILE_OVERWRITE;
    if (!(out->sink = open_sink(out, out->part_path, replace, err, err_size)))
        return -1;
    if (out->n_staged == 0)
        clear_ids(out);
    out->first_open = out->n_ids;
    out->n_committed = 0;
    out->rows = out->bytes = 0;
    out->opened_ms = now_ms;
    out->due_ms = INT64_MAX;
    return 0;
}

int partfile_is_open(const partfile_out *out)
{
    return out->sink != NULL;
}

int partfile_write(void *ctx, const void *data, size_t n, char *err, size_t err_size)
{
    partfile_out *out = ctx;
    if (out->sink->ops->write(out->sink, data, n, err, err_size))
        return -1;
    out->bytes += n;
    return 0;
}

int partfile_add_id(partfile_out *out, const char *id, char *err, size_t err_size)
{
    if (out->n_ids == out->cap_ids) {
        size_t cap = out->cap_ids ? out->cap_ids * 2 : 1024;
        char **ids = realloc(out->ids, cap * sizeof *ids);
        if (!ids)
            goto oom;
        out->ids = ids;
        out->cap_ids = cap;
    }
    if (!(out->ids[out->n_ids] = strdup(id ? id : "")))
        goto oom;
    out->n_ids++;
    if (idset_add(&out->open_ids, id ? id : "") < 0)
        goto oom;
    out->rows++;
    return 0;
oom:
    snprintf(err, err_size, "out of memory keeping record ids for %s", out->part_path);
    return -1;
}

int partfile_should_roll(const partfile_out *out, uint64_t pending_bytes, int64_t now_ms)
{
    const partfile_options *o = &out->opt;
    return (o->max_rows && out->rows >= o->max_rows) ||
           (o->max_bytes && out->bytes + pending_bytes >= o->max_bytes) ||
           (o->max_age_ms && now_ms >= partfile_due(out));
}

int64_t partfile_due(const partfile_out *out)
{
    return partfile_part_due(out->opened_ms, out->opt.max_age_ms, out->due_ms, out->min_open_ms);
}

void partfile_set_min_open(partfile_out *out, int64_t min_open_ms)
{
    out->min_open_ms = min_open_ms;
}

void partfile_note_due(partfile_out *out, int64_t due_ms)
{
    if (due_ms < out->due_ms)
        out->due_ms = due_ms;
}

int partfile_seen(const partfile_out *out, const char *id)
{
    return idset_has(&out->manifest.ids, id) ? 2 : idset_has(&out->open_ids, id) ? 1 : 0;
}

/* Takes back a published file, so the output holds only what its manifest
 * lists. */
static void unpublish(partfile_out *out, const char *name)
{
    char err[256];
    remove_file(out, name, err,
                sizeof err); /* best effort: a leftover is cleaned at the next open */
    int fd = out->s3 ? -1 : open(out->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Lists the parts (published already) in the manifest, taking them back
 * when that fails. */
static int list_parts(partfile_out *out, const manifest_part *parts, size_t n, char *err,
                      size_t err_size)
{
    int rc =
        manifest_commit_parts(&out->manifest, out->manifest_path, parts, n,
                              (const char *const *)out->ids, open_manifest, out, err, err_size);
    for (size_t k = 0; rc == -1 && k < n; k++)
        unpublish(out, parts[k].file);
    return rc;
}

/* staging: the open part sealed, to be published by partfile_publish. */
static int stage_part(partfile_out *out, partfile_sink *s, char *err, size_t err_size)
{
    if (out->n_staged == out->cap_staged) {
        size_t cap = out->cap_staged ? out->cap_staged * 2 : 16;
        staged_part *p = realloc(out->staged, cap * sizeof *p);
        if (!p)
            goto oom;
        out->staged = p;
        out->cap_staged = cap;
    }
    char *name = strdup(strrchr(out->part_path, '/') + 1);
    if (!name)
        goto oom;
    if (s->ops->seal(s, err, err_size)) {
        free(name);
        s->ops->abort(s);
        return -1;
    }
    out->staged[out->n_staged++] = (staged_part){.sink = s,
                                                 .name = name,
                                                 .rows = out->rows,
                                                 .bytes = out->bytes,
                                                 .first_id = out->first_open,
                                                 .n_ids = out->n_ids - out->first_open};
    out->next_seq++;
    return 0;
oom:
    snprintf(err, err_size, "out of memory staging %s", out->part_path);
    s->ops->abort(s);
    return -1;
}

static void remove_old(partfile_out *out);

/* Single file (local or S3), sealed: before it is published, the sidecar
 * records what it will be and its ids, so a run killed right after the
 * publishing step still knows the file as its own.  0, or -1 with err (s is
 * then still to abort). */
static int write_sidecar(partfile_out *out, partfile_sink *s, char *err, size_t err_size)
{
    char what[256], id[512];
    if (!out->sidecar_path)
        return 0;
    if (s->ops->seal(s, err, err_size) || s->ops->identity(s, what, sizeof what, err, err_size))
        return -1;
    snprintf(id, sizeof id, "%s:%s", out->opt.run, what);
    manifest side = {.run = id};
    const char *slash = strrchr(out->path, '/');
    manifest_part part = {.file = slash ? slash + 1 : out->path,
                          .rows = out->rows,
                          .bytes = out->bytes,
                          .n_ids = out->n_ids};
    int rc = manifest_commit_parts(&side, out->sidecar_path, &part, 1,
                                   (const char *const *)out->ids, NULL, NULL, err, err_size);
    side.run = NULL; /* borrowed */
    manifest_free(&side);
    return rc == -1 ? -1 : 0;
}

/* Publishes the open part and lists it (a rolling output, or one file). */
static int commit_now(partfile_out *out, partfile_sink *s, char *err, size_t err_size)
{
    if (!out->parts && write_sidecar(out, s, err, err_size)) {
        s->ops->abort(s);
        return -1;
    }
    if (s->ops->commit(s, err, err_size))
        return -1;
    if (!out->parts) {
        if (manifest_note(&out->manifest, out->part_path, out->rows, out->bytes)) {
            snprintf(err, err_size, "out of memory listing %s", out->part_path);
            return -1;
        }
        out->n_committed = out->n_ids;
        return 0;
    }
    manifest_part part = {.file = strrchr(out->part_path, '/') + 1,
                          .rows = out->rows,
                          .bytes = out->bytes,
                          .n_ids = out->n_ids};
    int rc = list_parts(out, &part, 1, err, err_size);
    if (rc != -1)
        out->next_seq++;
    if (rc == 0) {
        remove_old(out); /* overwrite: the first new manifest no longer lists them */
        out->n_committed = out->n_ids;
    }
    return rc ? -1 : 0;
}

int partfile_commit(partfile_out *out, char *err, size_t err_size)
{
    partfile_sink *s = out->sink;
    out->sink = NULL;
    out->n_committed = 0;
    int rc = out->staging ? stage_part(out, s, err, err_size) : commit_now(out, s, err, err_size);
    if (rc)
        drop_open_ids(out);
    return rc;
}

/* overwrite: the earlier output's parts go once the new manifest is in
 * place.  A failure leaves them unlisted, for the next open to remove. */
static void remove_old(partfile_out *out)
{
    char err[256];
    for (size_t i = 0; i < out->old.n; i++)
        remove_file(out, out->old.v[i], err, sizeof err);
    names_free(&out->old);
    out->old = (names){0};
}

/* Aborts the staged parts: nothing of them stays. */
static void free_staged(partfile_out *out)
{
    for (size_t k = 0; k < out->n_staged; k++) {
        out->staged[k].sink->ops->abort(out->staged[k].sink);
        free(out->staged[k].name);
    }
    out->n_staged = 0;
}

int partfile_publish(partfile_out *out, char *err, size_t err_size)
{
    size_t n = out->n_staged, done = 0;
    out->n_committed = 0;
    if (n == 0)
        return 0;
    manifest_part *parts = calloc(n, sizeof *parts);
    int rc = parts ? 0 : -1;
    if (!parts)
        snprintf(err, err_size, "out of memory publishing %s", out->path);
    for (; rc == 0 && done < n; done++) {
        staged_part *p = &out->staged[done];
        parts[done] = (manifest_part){p->name, p->rows, p->bytes, p->first_id, p->n_ids};
        rc = p->sink->ops->commit(p->sink, err, err_size);
        p->sink = NULL;
    }
    if (rc == 0)
        rc = list_parts(out, parts, n, err, err_size); /* takes the parts back on failure */
    else
        for (size_t k = 0; k + 1 < done; k++) /* those published before the one that failed */
            unpublish(out, parts[k].file);
    for (size_t k = 0; k < done; k++)
        free(out->staged[k].name);
    out->n_staged -= done;
    memmove(out->staged, out->staged + done, out->n_staged * sizeof *out->staged);
    free_staged(out);
    free(parts);
    if (rc == 0) {
        remove_old(out);
        out->n_committed = out->n_ids;
    }
    return rc ? -1 : 0;
}

size_t partfile_committed_ids(const partfile_out *out, const char *const **ids)
{
    *ids = (const char *const *)out->ids;
    return out->n_committed;
}

size_t partfile_part_count(const partfile_out *out)
{
    return out->manifest.files.n;
}

void partfile_abort(partfile_out *out)
{
    if (out->sink)
        out->sink->ops->abort(out->sink);
    out->sink = NULL;
    drop_open_ids(out);
}

static void partfile_abort_all(partfile_out *out)
{
    partfile_abort(out);
    free_staged(out);
    clear_ids(out);
}

const char *partfile_parts_json(const partfile_out *out)
{
    return out->manifest.json ? out->manifest.json : "[]";
}

void partfile_free(partfile_out *out)
{
    if (!out)
        return;
    partfile_abort_all(out); /* with the client, which it may use */
    s3_client_free(out->s3);
    free(out->bucket);
    free(out->where);
    free(out->ids);
    idset_free(&out->open_ids);
    manifest_free(&out->manifest);
    free(out->part_path);
    free(out->manifest_path);
    free(out->staged);
    names_free(&out->old);
    free(out->extension);
    free(out->path);
    free(out->run);
    free(out->sidecar_path);
    free(out);
}
