/* fuzz-config: the pipeline file reader (engine/config/config.c on libyaml events,
 * engine/config/yaml_doc.c) with ${VAR} expansion (engine/config/envsubst.c) on every
 * scalar: any bytes must give a pipeline or messages, never a crash, a
 * leak or unbounded memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "envsubst.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* Variables the corpus refers to: set, empty, long. */
    setenv("FUZZ_A", "alpha", 1);
    setenv("FUZZ_EMPTY", "", 1);
    setenv("FUZZ_NEST", "${FUZZ_A}", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    diag *d = diag_new();
    config_free(config_load_string(text, "fuzz.yaml", d));
    free(diag_join(d));
    diag_free(d);
    char err[256];
    free(envsubst_expand(text, err, sizeof err));
    free(text);
    return 0;
}
