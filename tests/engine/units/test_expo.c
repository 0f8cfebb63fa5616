/* The metrics exposition (expo.h): the format an Accept header asks for,
 * label values escaped, OpenMetrics' counter family names and "# EOF". */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "expo.h"

static void negotiation(void)
{
    CHECK_INT(expo_negotiate(NULL), EXPO_PROMETHEUS);
    CHECK_INT(expo_negotiate(""), EXPO_PROMETHEUS);
    CHECK_INT(expo_negotiate("text/plain"), EXPO_PROMETHEUS);
    CHECK_INT(expo_negotiate("application/openmetrics-text"), EXPO_OPENMETRICS);
    /* what Prometheus 2.x sends */
    CHECK_INT(expo_negotiate("application/openmetrics-text;version=1.0.0,application/"
                             "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                             "q=0.5,*/*;q=0.1"),
              EXPO_OPENMETRICS);
    CHECK_INT(expo_negotiate("text/plain;version=0.0.4, application/openmetrics-text;q=0.3"),
              EXPO_PROMETHEUS);
    CHECK_INT(expo_negotiate("Application/OpenMetrics-Text; q=0"), EXPO_PROMETHEUS);
}

static char *render(expo_format f, size_t *len)
{
    expo e;
    expo_init(&e, f);
    expo_family(&e, "x_events_total", "counter", "Events.");
    expo_sample(&e, "x_events_total", 3, "stage", "a\"b\\c\nd", "node", "", NULL);
    expo_family(&e, "x_depth", "gauge", "Depth.");
    expo_sample(&e, "x_depth", 0.25, NULL);
    return expo_finish(&e, len);
}

static void text(void)
{
    size_t len;
    char *prom = render(EXPO_PROMETHEUS, &len);
    REQUIRE_VOID(prom);
    CHECK_STR(prom, "# HELP x_events_total Events.\n# TYPE x_events_total counter\n"
                    "x_events_total{stage=\"a\\\"b\\\\c\\nd\",node=\"\"} 3\n"
                    "# HELP x_depth Depth.\n# TYPE x_depth gauge\nx_depth 0.25\n");
    CHECK_INT(len, strlen(prom));
    char *om = render(EXPO_OPENMETRICS, &len);
    REQUIRE_VOID(om);
    CHECK(strstr(om, "# TYPE x_events counter\n") != NULL);
    CHECK(strstr(om, "\nx_events_total{") != NULL);
    CHECK(len > 6 && strcmp(om + len - 6, "# EOF\n") == 0);
    free(prom);
    free(om);
}

/* Cumulative buckets in order, +Inf, _sum and _count; the le label after the
 * others; a bound written as the reference clients write it. */
static void histogram(void)
{
    static const double bounds[] = {1, 2.5, 4};
    static const uint64_t counts[] = {2, 0, 5, 1};
    const char *labels[] = {"stage", "s", NULL};
    expo_buckets h = {bounds, counts, 3, 31.5};
    expo e;
    size_t len;
    expo_init(&e, EXPO_PROMETHEUS);
    expo_family(&e, "x_batch", "histogram", "Batches.");
    expo_histogram(&e, "x_batch", &h, labels);
    char *text = expo_finish(&e, &len);
    REQUIRE_VOID(text);
    CHECK_STR(text, "# HELP x_batch Batches.\n# TYPE x_batch histogram\n"
                    "x_batch_bucket{stage=\"s\",le=\"1.0\"} 2\n"
                    "x_batch_bucket{stage=\"s\",le=\"2.5\"} 2\n"
                    "x_batch_bucket{stage=\"s\",le=\"4.0\"} 7\n"
                    "x_batch_bucket{stage=\"s\",le=\"+Inf\"} 8\n"
                    "x_batch_sum{stage=\"s\"} 31.5\n"
                    "x_batch_count{stage=\"s\"} 8\n");
    free(text);
    const char *none[] = {NULL};
    expo_init(&e, EXPO_OPENMETRICS);
    expo_family(&e, "x_batch", "histogram", "Batches.");
    expo_histogram(&e, "x_batch", &h, none);
    text = expo_finish(&e, &len);
    REQUIRE_VOID(text);
    CHECK(strstr(text, "# TYPE x_batch histogram\nx_batch_bucket{le=\"1.0\"} 2\n") != NULL);
    CHECK(strstr(text, "x_batch_count 8\n# EOF\n") != NULL);
    free(text);
}

static void names(void)
{
    char out[32];
    expo_name("rows", out, sizeof out);
    CHECK_STR(out, "rows");
    expo_name("3d-hits.per s", out, sizeof out);
    CHECK_STR(out, "_3d_hits_per_s");
    expo_name("a-very-long-name-that-does-not-fit", out, 8);
    CHECK_STR(out, "a_very_");
}

int main(void)
{
    negotiation();
    text();
    histogram();
    names();
    return check_exit();
}
