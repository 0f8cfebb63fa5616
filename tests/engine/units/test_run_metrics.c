/* A run's /metrics text (run_metrics.h) for plugin metrics with labels
 * (plugin.h, fr_metric_add: `base{key="value"}`): one family per base, the
 * stage's labels then the metric's, a clashing key renamed exported_KEY, a
 * name that does not parse kept whole as the base. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run_metrics.h"

static char *render(snap_metric *metrics, size_t n)
{
    snap_stage stage = {
        .name = "src", .plugin = "s3-source", .is_source = 1, .metrics = metrics, .n_metrics = n};
    run_snapshot s = {.pipeline = "p", .phase = SNAP_FLOWING, .stages = &stage, .n_stages = 1};
    size_t len;
    return run_metrics_text(&s, EXPO_PROMETHEUS, &len);
}

static size_t occurrences(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

static void labels_of_a_plugin_metric(void)
{
    snap_metric m[] = {{"s3_requests{status=\"200\"}", 5, 0},
                       {"s3_requests{status=\"503\"}", 2, 0},
                       {"s3_retries{status=\"503\",stage=\"x\\\"y\"}", 2, 0},
                       {"rows", 3, 0},
                       {"fill{pool=\"a\"}", 0.5, 1}};
    char *text = render(m, sizeof m / sizeof *m);
    REQUIRE_VOID(text);
    CHECK_INT(occurrences(text, "# TYPE flowrun_plugin_s3_requests_total counter\n"), 1);
    CHECK(strstr(text, "\nflowrun_plugin_s3_requests_total{stage=\"src\",plugin=\"s3-source\","
                       "node=\"\",status=\"200\"} 5\n") != NULL);
    CHECK(strstr(text, "\nflowrun_plugin_s3_requests_total{stage=\"src\",plugin=\"s3-source\","
                       "node=\"\",status=\"503\"} 2\n") != NULL);
    CHECK(strstr(text, "\nflowrun_plugin_s3_retries_total{stage=\"src\",plugin=\"s3-source\","
                       "node=\"\",status=\"503\",exported_stage=\"x\\\"y\"} 2\n") != NULL);
    CHECK(strstr(text, "\nflowrun_plugin_rows_total{stage=\"src\",plugin=\"s3-source\","
                       "node=\"\"} 3\n") != NULL);
    CHECK(strstr(text, "# TYPE flowrun_plugin_fill gauge\n") != NULL);
    CHECK(strstr(text, "\nflowrun_plugin_fill{stage=\"src\",plugin=\"s3-source\",node=\"\","
                       "pool=\"a\"} 0.5\n") != NULL);
    free(text);
}

static void names_that_do_not_parse(void)
{
    snap_metric m[] = {{"odd{status=200}", 1, 0}, {"open{a=\"b\"", 1, 0}, {"empty{}", 1, 0}};
    char *text = render(m, sizeof m / sizeof *m);
    REQUIRE_VOID(text);
    CHECK(strstr(text, "\nflowrun_plugin_odd_status_200__total{stage=\"src\",plugin=\"s3-source\","
                       "node=\"\"} 1\n") != NULL);
    CHECK(strstr(text, "\nflowrun_plugin_open_a__b__total{") != NULL);
    CHECK(strstr(text, "\nflowrun_plugin_empty___total{") != NULL);
    free(text);
}

int main(void)
{
    labels_of_a_plugin_metric();
    names_that_do_not_parse();
    return check_exit();
}
