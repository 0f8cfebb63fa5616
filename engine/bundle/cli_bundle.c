/*
 * cli_bundle.c — writes and reads a model bundle's manifest (cli_bundle.h).
 */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_bundle.h"

/* libflowrun exports a json_string of its own (engine/support/json_out.h). */
static json_t *jstr(const char *s)
{
    return json_stringn(s ? s : "", strlen(s ? s : ""));
}

static const char *stage_value(const config_stage *s, const char *key)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return s->entries[i].value;
    return NULL;
}

static const config_stage *find_plugin(const config_pipeline *cfg, const char *plugin)
{
    for (size_t i = 0; i < cfg->n_stages; i++)
        if (strcmp(cfg->stages[i].plugin.name, plugin) == 0)
            return &cfg->stages[i];
    return NULL;
}

const char *bundle_dir_of(const config_pipeline *cfg, char *err, size_t err_size)
{
    static char dir[4096];
    const config_stage *t = find_plugin(cfg, "logreg-train");
    const char *model = t ? stage_value(t, "model") : NULL;
    if (!model) {
        snprintf(err, err_size, "%s: no logreg-train stage with a `model`: nothing to bundle",
                 cfg->file);
        return NULL;
    }
    snprintf(dir, sizeof dir, "%s", model);
    char *d = dirname(dir);
    memmove(dir, d, strlen(d) + 1);
    return dir;
}

int bundle_sha256_file(const char *path, char out[65], char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buf[1 << 16], md[32];
    unsigned int len = 0;
    size_t n;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n);
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok) {
        snprintf(err, err_size, "%s: cannot read to hash it", path);
        return -1;
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* A model path as the manifest keeps it: relative when in the bundle. */
static const char *relative_to(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

/* Keys a serving chain leaves out: how a fit runs, and the batch/threads
 * that the server chooses. */
static int dropped_key(const char *plugin, const char *key)
{
    static const char *const fit_keys[] = {"fit", "refit_every", "spill_dir", NULL};
    if (strcmp(plugin, "resnet50-embed") == 0)
        return strcmp(key, "batch") == 0 || strcmp(key, "threads") == 0 ||
               strcmp(key, "calibration") == 0;
    for (int i = 0; fit_keys[i]; i++)
        if (strcmp(key, fit_keys[i]) == 0)
            return 1;
    return 0;
}

/* The network's precision as the pipeline asks it (the plugin's default:
 * auto). */
static const char *embed_precision(const config_stage *e)
{
    const char *p = stage_value(e, "precision");
    return p ? p : "auto";
}

/* The network's settings a serving chain needs beyond the pipeline's: the
 * precision written out, and for 8/16 bits the bundle's calibration file,
 * read only (the plugin's calibration_fixed: no calibrating on photos
 * sent to a server, the training's choice of precisions). */
static void manifest_embed(json_t *config, const config_stage *s)
{
    const char *precision = embed_precision(s);
    json_object_set_new(config, "precision", jstr(precision));
    if (strcmp(precision, "fp32") == 0)
        return;
    json_object_set_new(config, "calibration", jstr(BUNDLE_CALIBRATION));
    json_object_set_new(config, "calibration_fixed", jstr("true"));
}

/* One stage of the chain as the manifest writes it. */
static json_t *manifest_stage(const config_stage *s, const char *dir, char *err, size_t err_size)
{
    const char *plugin = s->plugin.name;
    int fitted = strcmp(plugin, "online-scaler") == 0 || strcmp(plugin, "incremental-pca") == 0;
    int train = strcmp(plugin, "logreg-train") == 0;
    json_t *config = json_object();
    for (size_t i = 0; i < s->n_entries && config; i++) {
        const schema_entry *e = &s->entries[i];
        if (!e->value || dropped_key(plugin, e->key) || (train && strcmp(e->key, "model") != 0))
            continue;
        int path = (fitted || train) && strcmp(e->key, "model") == 0;
        json_object_set_new(config, e->key, jstr(path ? relative_to(e->value, dir) : e->value));
    }
    if (fitted && !stage_value(s, "model")) {
        snprintf(err, err_size,
                 "stage \"%s\" (%s) has no `model`: its fitted statistics are "
                 "not saved, so the bundle could not apply them",
                 s->name, plugin);
        json_decref(config);
        return NULL;
    }
    if (fitted)
        json_object_set_new(config, "fit", jstr("none"));
    if (strcmp(plugin, "resnet50-embed") == 0)
        manifest_embed(config, s);
    return json_pack("{s:o, s:o, s:o}", "name", jstr(s->name), "plugin",
                     jstr(train ? "logreg-predict" : plugin), "config", config);
}

/* The stages from the source (excluded) to logreg-train, in order. */
static json_t *manifest_chain(const config_pipeline *cfg, const char *dir, char *err,
                              size_t err_size)
{
    const config_stage *chain[64];
    size_t n = 0;
    for (const config_stage *s = find_plugin(cfg, "logreg-train"); s && s->n_inputs > 0;
         s = config_find_stage(cfg, s->inputs[0].name)) {
        if (n == 64 || s->n_inputs != 1) {
            snprintf(err, err_size,
                     "stage \"%s\": a bundle needs a single chain of stages "
                     "from the source to logreg-train",
                     s->name);
            return NULL;
        }
        chain[n++] = s;
    }
    json_t *stages = json_array();
    for (size_t i = n; i-- > 0 && stages;) {
        json_t *j = manifest_stage(chain[i], dir, err, err_size);
        if (!j) {
            json_decref(stages);
            return NULL;
        }
        json_array_append_new(stages, j);
    }
    return stages;
}

static const char *value_or(const config_stage *s, const char *key, const char *dflt)
{
    const char *v = s ? stage_value(s, key) : NULL;
    return v ? v : dflt;
}

/* What a client must know of the input: the resize and the preprocessing. */
static json_t *manifest_preprocessing(const config_pipeline *cfg)
{
    const config_stage *r = find_plugin(cfg, "resize-224"), *e = find_plugin(cfg, "resnet50-embed");
    return json_pack("{s:{s:o, s:o, s:o, s:s}, s:o}", "resize", "width",
                     jstr(value_or(r, "width", "224")), "height",
                     jstr(value_or(r, "height", "224")), "filter",
                     jstr(value_or(r, "filter", "bilinear")), "fit",
                     "stretch: the whole photo, upright by its EXIF orientation, to width x "
                     "height (no crop)",
                     "preprocess", jstr(value_or(e, "preprocess", "keras")));
}

static json_t *manifest_onnx(const config_pipeline *cfg, char *err, size_t err_size)
{
    const config_stage *e = find_plugin(cfg, "resnet50-embed");
    const char *path = e ? stage_value(e, "model") : NULL;
    char hex[65], abs[4096];
    if (!path) {
        snprintf(err, err_size, "%s: no resnet50-embed stage with a `model`", cfg->file);
        return NULL;
    }
    if (bundle_sha256_file(path, hex, err, err_size) < 0)
        return NULL;
    if (!realpath(path, abs))
        snprintf(abs, sizeof abs, "%s", path);
    return json_pack("{s:o, s:s}", "path", jstr(abs), "sha256", hex);
}

/* Copies from to path through a temporary file and a rename.  0, or -1
 * with err. */
static int copy_file(const char *from, const char *path, char *err, size_t err_size)
{
    char tmp[4300];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp) {
        snprintf(err, err_size, "%.200s...: path too long", path);
        return -1;
    }
    FILE *in = fopen(from, "rb"), *out = in ? fopen(tmp, "wb") : NULL;
    char buf[1 << 16];
    size_t n;
    int ok = out != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    if (out && fclose(out) != 0)
        ok = 0;
    if (in)
        fclose(in);
    if (!ok || rename(tmp, path) < 0) {
        snprintf(err, err_size, "copying %s to %s: %s", from, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The network's calibration file (activation ranges, the precision choice)
 * as the bundle keeps it: DIR/embed.calibration (copied there when the
 * pipeline kept it elsewhere) and its sha256; JSON null for fp32. */
static json_t *manifest_calibration(const config_pipeline *cfg, const char *dir, char *err,
                                    size_t err_size)
{
    const config_stage *e = find_plugin(cfg, "resnet50-embed");
    if (strcmp(embed_precision(e), "fp32") == 0)
        return json_null();
    const char *given = stage_value(e, "calibration");
    char from[4200], into[4200], a[4096], b[4096], hex[65];
    if (given && given[0])
        snprintf(from, sizeof from, "%s", given);
    else
        snprintf(from, sizeof from, "%s.calibration", stage_value(e, "model"));
    snprintf(into, sizeof into, "%s/%s", dir, BUNDLE_CALIBRATION);
    int same = realpath(from, a) && realpath(into, b) && strcmp(a, b) == 0;
    if (!same && copy_file(from, into, err, err_size) < 0)
        return NULL;
    if (bundle_sha256_file(into, hex, err, err_size) < 0)
        return NULL;
    return json_pack("{s:s, s:s, s:o}", "path", BUNDLE_CALIBRATION, "sha256", hex, "precision",
                     jstr(embed_precision(e)));
}

/* Writes o to path through a temporary file and a rename. */
static int write_json(json_t *o, const char *path, char *err, size_t err_size)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, err_size, "%.200s...: path too long", path);
        return -1;
    }
    if (json_dump_file(o, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(9)) < 0 ||
        rename(tmp, path) < 0) {
        snprintf(err, err_size, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int bundle_write(const config_pipeline *cfg, char *err, size_t err_size)
{
    const char *d = bundle_dir_of(cfg, err, err_size);
    if (!d)
        return -1;
    char dir[4096], path[4200], when[32];
    snprintf(dir, sizeof dir, "%s", d);
    const config_stage *t = find_plugin(cfg, "logreg-train");
    json_error_t je;
    json_t *clf = json_load_file(stage_value(t, "model"), 0, &je);
    if (!clf) {
        snprintf(err, err_size, "%s: %s", stage_value(t, "model"), je.text);
        return -1;
    }
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_t *onnx = manifest_onnx(cfg, err, err_size);
    json_t *calibration = onnx ? manifest_calibration(cfg, dir, err, err_size) : NULL;
    json_t *stages = calibration ? manifest_chain(cfg, dir, err, err_size) : NULL;
    json_t *metrics = json_object_get(clf, "metrics");
    json_t *m =
        stages ? json_pack("{s:s, s:i, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:O, s:o}", "format",
                           BUNDLE_FORMAT, "version", BUNDLE_VERSION, "name", jstr(cfg->name),
                           "pipeline", jstr(cfg->file), "created", when, "onnx", onnx,
                           "calibration", calibration, "preprocessing", manifest_preprocessing(cfg),
                           "stages", stages, "classes", json_object_get(clf, "classes"), "metrics",
                           metrics ? json_incref(metrics) : json_object())
               : NULL;
    if (!stages) {
        json_decref(onnx);
        json_decref(calibration);
    }
    json_decref(clf);
    if (!m) {
        if (!stages)
            return -1;
        snprintf(err, err_size, "%s: the classifier file has no \"classes\"", dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, BUNDLE_MANIFEST);
    int rc = write_json(m, path, err, err_size);
    json_decref(m);
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

void bundle_free(bundle *b)
{
    for (size_t i = 0; i < b->n_stages; i++) {
        for (char **c = b->stages[i].config; c && *c; c++)
            free(*c);
        free(b->stages[i].config);
        free(b->stages[i].name);
        free(b->stages[i].plugin);
    }
    free(b->stages);
    for (size_t i = 0; i < b->n_classes; i++)
        free(b->classes[i]);
    free(b->classes);
    free(b->dir);
    free(b->name);
    free(b->created);
    free(b->onnx_path);
    free(b->onnx_sha256);
    memset(b, 0, sizeof *b);
}

bundle_stage *bundle_find(const bundle *b, const char *plugin)
{
    for (size_t i = 0; i < b->n_stages; i++)
        if (strcmp(b->stages[i].plugin, plugin) == 0)
            return &b->stages[i];
    return NULL;
}

int bundle_stage_set(bundle_stage *s, const char *key, const char *value)
{
    size_t n = 0;
    for (; s->config && s->config[n]; n += 2)
        if (strcmp(s->config[n], key) == 0) {
            char *v = strdup(value);
            if (!v)
                return -1;
            free(s->config[n + 1]);
            s->config[n + 1] = v;
            return 0;
        }
    char **c = realloc(s->config, (n + 3) * sizeof *c);
    if (!c)
        return -1;
    s->config = c;
    c[n] = strdup(key);
    c[n + 1] = strdup(value);
    c[n + 2] = NULL;
    return c[n] && c[n + 1] ? 0 : -1;
}

/* A string value of the manifest, copied; NULL when missing. */
static char *manifest_string(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? strdup(v) : NULL;
}

/* One stage's config: strings, with "model" of a fitted stage or the
 * classifier made relative to the bundle directory. */
static int read_stage(bundle *b, bundle_stage *s, json_t *j)
{
    s->name = manifest_string(j, "name");
    s->plugin = manifest_string(j, "plugin");
    json_t *config = json_object_get(j, "config");
    if (!s->name || !s->plugin || !json_is_object(config))
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(config, key, v)
    {
        const char *text = json_string_value(v);
        char path[4200];
        if (!text)
            return -1;
        int bundled = strcmp(s->plugin, "resnet50-embed") == 0 ? strcmp(key, "calibration") == 0
                                                               : strcmp(key, "model") == 0;
        if (bundled && text[0] != '/') {
            snprintf(path, sizeof path, "%s/%s", b->dir, text);
            text = path;
        }
        if (bundle_stage_set(s, key, text) < 0)
            return -1;
    }
    return 0;
}

static int read_manifest(bundle *b, json_t *m, char *err, size_t err_size)
{
    json_t *stages = json_object_get(m, "stages"), *classes = json_object_get(m, "classes");
    json_t *onnx = json_object_get(m, "onnx");
    b->name = manifest_string(m, "name");
    b->created = manifest_string(m, "created");
    b->onnx_path = manifest_string(onnx, "path");
    b->onnx_sha256 = manifest_string(onnx, "sha256");
    size_t ns = json_array_size(stages), nc = json_array_size(classes);
    b->stages = calloc(ns ? ns : 1, sizeof *b->stages);
    b->classes = calloc(nc ? nc : 1, sizeof *b->classes);
    if (!b->name || !b->onnx_path || !b->onnx_sha256 || !ns || !nc || !b->stages || !b->classes) {
        snprintf(err, err_size,
                 "%s/%s: needs \"name\", \"onnx\" {path, sha256}, \"stages\" and "
                 "\"classes\"",
                 b->dir, BUNDLE_MANIFEST);
        return -1;
    }
    for (; b->n_stages < ns; b->n_stages++)
        if (read_stage(b, &b->stages[b->n_stages], json_array_get(stages, b->n_stages)) < 0) {
            snprintf(err, err_size,
                     "%s/%s: stages[%zu]: needs \"name\", \"plugin\" and a "
                     "\"config\" of strings",
                     b->dir, BUNDLE_MANIFEST, b->n_stages);
            b->n_stages++;
            return -1;
        }
    for (; b->n_classes < nc; b->n_classes++) {
        const char *c = json_string_value(json_array_get(classes, b->n_classes));
        if (!c || !(b->classes[b->n_classes] = strdup(c))) {
            snprintf(err, err_size, "%s/%s: classes[%zu] is not a string", b->dir, BUNDLE_MANIFEST,
                     b->n_classes);
            return -1;
        }
    }
    return 0;
}

/* The calibration file, when the bundle has one, must be the one training
 * left: the precisions and activation ranges the classifier was fitted on. */
static int check_calibration(const bundle *b, json_t *m, char *err, size_t err_size)
{
    json_t *c = json_object_get(m, "calibration");
    if (!c || json_is_null(c))
        return 0;
    const char *name = json_string_value(json_object_get(c, "path"));
    const char *sha = json_string_value(json_object_get(c, "sha256"));
    char path[4200], hex[65];
    if (!name || !sha || strchr(name, '/')) {
        snprintf(err, err_size,
                 "%s/%s: \"calibration\" needs \"path\" (a file in the bundle) and "
                 "\"sha256\"",
                 b->dir, BUNDLE_MANIFEST);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", b->dir, name);
    if (bundle_sha256_file(path, hex, err, err_size) < 0)
        return -1;
    if (strcmp(hex, sha) != 0) {
        snprintf(err, err_size,
                 "%s: changed since the bundle was trained (sha256 %.12s…, the manifest records "
                 "%.12s…): the network would not compute the features the classifier was "
                 "fitted on; train the bundle again",
                 path, hex, sha);
        return -1;
    }
    return 0;
}

/* The ONNX file must be the one the bundle was trained with. */
static int check_onnx(bundle *b, const char *onnx, char *err, size_t err_size)
{
    char hex[65];
    const char *path = onnx ? onnx : b->onnx_path;
    if (bundle_sha256_file(path, hex, err, err_size) < 0)
        return -1;
    if (strcmp(hex, b->onnx_sha256) != 0) {
        snprintf(err, err_size,
                 "%s: this ONNX model (sha256 %.12s…) is not the one the bundle %s "
                 "was trained with (%s, sha256 %.12s…): its features would not match the "
                 "scaler, PCA and classifier",
                 path, hex, b->dir, b->onnx_path, b->onnx_sha256);
        return -1;
    }
    bundle_stage *e = bundle_find(b, "resnet50-embed");
    if (!e || bundle_stage_set(e, "model", path) < 0) {
        snprintf(err, err_size, "%s/%s: no resnet50-embed stage", b->dir, BUNDLE_MANIFEST);
        return -1;
    }
    return 0;
}

int bundle_open(bundle *b, const char *dir, const char *onnx, char *err, size_t err_size)
{
    char path[4200];
    json_error_t je;
    memset(b, 0, sizeof *b);
    snprintf(path, sizeof path, "%s/%s", dir, BUNDLE_MANIFEST);
    json_t *m = json_load_file(path, 0, &je);
    if (!m) {
        snprintf(err, err_size, "%s: %s%s", path, je.text,
                 errno == ENOENT ? " (not a bundle: make one with flowrun train)" : "");
        return -1;
    }
    const char *format = json_string_value(json_object_get(m, "format"));
    b->version = (int)json_integer_value(json_object_get(m, "version"));
    int rc = -1;
    if (!(b->dir = strdup(dir)))
        snprintf(err, err_size, "out of memory");
    else if (!format || strcmp(format, BUNDLE_FORMAT) != 0)
        snprintf(err, err_size, "%s: not a flowrun bundle manifest (format \"%s\")", path,
                 format ? format : "");
    else if (b->version < 1 || b->version > BUNDLE_VERSION)
        snprintf(err, err_size, "%s: bundle version %d; this flowrun reads up to %d", path,
                 b->version, BUNDLE_VERSION);
    else if (read_manifest(b, m, err, err_size) == 0 && check_onnx(b, onnx, err, err_size) == 0 &&
             check_calibration(b, m, err, err_size) == 0)
        rc = 0;
    json_decref(m);
    if (rc < 0)
        bundle_free(b);
    return rc;
}

int bundle_add_metrics(const char *dir, const char *key, const char *json, char *err,
                       size_t err_size)
{
    char path[4200];
    json_error_t je;
    snprintf(path, sizeof path, "%s/%s", dir, BUNDLE_MANIFEST);
    json_t *m = json_load_file(path, 0, &je), *v = json_loads(json, 0, &je);
    json_t *metrics = json_object_get(m, "metrics");
    int rc = -1;
    if (!m || !v || !json_is_object(metrics))
        snprintf(err, err_size, "%s: cannot add metrics: %s", path, je.text);
    else if (json_object_set(metrics, key, v) == 0)
        rc = write_json(m, path, err, err_size);
    json_decref(v);
    json_decref(m);
    return rc;
}
