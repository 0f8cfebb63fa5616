/* parquet-sink — writes feature records as Parquet, atomically (the plugin descriptor). */
#include <flowrun/plugin.h>

#include "parquet_format.h"

/* The enum keys' values in the order of their choices (fr_config_enum). */
static const pq_layout layouts[] = {PQ_LAYOUT_COLUMNS, PQ_LAYOUT_LIST};
static const pq_codec codecs[] = {PQ_CODEC_ZSTD, PQ_CODEC_SNAPPY, PQ_CODEC_NONE};

static const fr_param parquet_params[] = {
    PARTFILE_STAGE_PARAMS,
    {"layout", FR_PARAM_ENUM, "columns", 0, 0, "columns|list",
     "features as one FLOAT column per component (Spark-friendly) or one LIST<FLOAT> column"},
    {"column_prefix", FR_PARAM_STRING, "", 0, 0, NULL,
     "name of the feature columns (<prefix>0, ...) or of the list column; default c / features"},
    {"compression", FR_PARAM_ENUM, "zstd", 0, 0, "zstd|snappy|none", "page compression"},
    {"row_group_bytes", FR_PARAM_SIZE, "64MiB", 4096, FR_NO_MAX, NULL,
     "start a new row group after about this many uncompressed bytes"},
    {NULL},
};

static fr_status parquet_init(fr_stage *st, void **state)
{
    const char *prefix = fr_config_string(st, "column_prefix");
    pq_layout layout = layouts[fr_config_enum(st, "layout")];
    int list = layout == PQ_LAYOUT_LIST;
    pq_kv meta[] = {{"flowrun.pipeline", fr_pipeline_name(st)},
                    {"flowrun.stage", fr_stage_name(st)}};
    pq_options opt = {
        .layout = layout,
        .feature_prefix = *prefix ? prefix
                          : list  ? "features"
                                  : "c",
        .codec = codecs[fr_config_enum(st, "compression")],
        .row_group_bytes = (size_t)fr_config_int(st, "row_group_bytes"),
        .created_by = "flowrun parquet-sink version 1",
        .metadata = meta,
        .n_metadata = 2,
    };
    void *fmt = parquet_format_new(&opt);
    if (!fmt)
        return fr_fail(st, FR_FATAL, "out of memory");
    return partfile_stage_init(st, &parquet_format, fmt, "parquet", (partfile_stage **)state);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "parquet-sink",
    .summary = "Write records as Parquet (key, label, features, model_version); zstd/snappy, "
               "atomic, rolling part files",
    .version = "1",
    .input = "*",
    .params = parquet_params,
    .init = parquet_init,
    .process = partfile_stage_process,
    .flush = partfile_stage_flush,
    .fini = partfile_stage_fini,
    .tick = partfile_stage_tick,
};
