/*
 * fr_payload_alloc (include/flowrun/plugin.h, inline in every plugin): the
 * shape and size of a good payload; a rank above FR_MAX_RANK is FR_FATAL and
 * a size that overflows size_t is FR_REJECT, each with its reason, before any
 * buffer is asked for and with *p left empty.  The host here is a minimal
 * one that records the reason and counts allocations.
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

struct fr_stage {
    const fr_host_api *api; /* first, as the inline wrappers expect */
    char reason[256];
    int allocations;
};

static fr_status fake_vfail(fr_stage *st, fr_status status, const char *fmt, va_list ap)
{
    vsnprintf(st->reason, sizeof st->reason, fmt, ap);
    return status;
}

/* Hands out plain malloc'd blocks; the buffer handle is the block itself. */
static fr_buffer *fake_buffer_new(fr_stage *st, size_t size, void **data)
{
    st->allocations++;
    *data = malloc(size);
    return (fr_buffer *)*data;
}

static const fr_host_api fake_api = {
    .size = sizeof(fr_host_api), .vfail = fake_vfail, .buffer_new = fake_buffer_new};

static void check_good_shape(void)
{
    fr_stage st = {.api = &fake_api};
    fr_payload p;
    const uint32_t dims[] = {3, 224, 224};
    REQUIRE_VOID(fr_payload_alloc(&st, &p, FR_KIND_TENSOR, 3, dims) == FR_OK);
    CHECK_INT(p.kind, FR_KIND_TENSOR);
    CHECK_INT(p.rank, 3);
    CHECK_INT(p.dims[2], 224);
    CHECK_INT(p.size, 3 * 224 * 224 * sizeof(float));
    CHECK(p.data != NULL && (void *)p.buffer == p.data);
    free(p.data);

    const uint32_t image[] = {100, 100, 3};
    REQUIRE_VOID(fr_payload_alloc(&st, &p, FR_KIND_IMAGE, 3, image) == FR_OK);
    CHECK_INT(p.size, 30000);
    free(p.data);
    CHECK_INT(st.allocations, 2);
}

static void check_rank_above_max(void)
{
    fr_stage st = {.api = &fake_api};
    fr_payload p;
    const uint32_t dims[FR_MAX_RANK + 1] = {1, 1, 1, 1, 1};
    CHECK_INT(fr_payload_alloc(&st, &p, FR_KIND_TENSOR, FR_MAX_RANK + 1, dims), FR_FATAL);
    CHECK_CONTAINS(st.reason, "payload rank 5 is above FR_MAX_RANK (4)");
    CHECK_INT(st.allocations, 0);
    CHECK(p.buffer == NULL && p.data == NULL && p.size == 0 && p.rank == 0);
}

static void check_size_overflow(void)
{
    fr_stage st = {.api = &fake_api};
    fr_payload p;
    /* 4 bytes x 2^20 x 2^20 x 2^20 = 2^62 still fits 64 bits; x 8 does not. */
    const uint32_t dims[] = {1u << 20, 1u << 20, 1u << 20, 8};
    CHECK_INT(fr_payload_alloc(&st, &p, FR_KIND_TENSOR, 4, dims), FR_REJECT);
    CHECK_CONTAINS(st.reason, "overflows size_t at dim 3 (8)");
    CHECK_INT(st.allocations, 0);
    CHECK(p.buffer == NULL && p.data == NULL && p.size == 0);
}

int main(void)
{
    check_good_shape();
    check_rank_above_max();
    check_size_overflow();
    return check_exit();
}
