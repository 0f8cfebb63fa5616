/*
 * check.h — the few assertions flowrun's C tests use.
 *
 * A failed check prints file:line, the expression and the values, and the
 * test goes on so one run shows every failure; main returns check_exit(),
 * which also fails a test that made no check at all.
 */
#ifndef FLOWRUN_TEST_CHECK_H
#define FLOWRUN_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        check_count++;                                                                             \
        if (check_a_ != check_b_) {                                                                \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, check_a_, check_b_);                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        check_count++;                                                                             \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                           \
            check_failures++;                                                                      \
            fprintf(stderr,                                                                        \
                    "%s:%d: CHECK failed: %s == %s\n  got:      \"%s\"\n"                          \
                    "  expected: \"%s\"\n",                                                        \
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                    \
                    check_b_ ? check_b_ : "(null)");                                               \
        }                                                                                          \
    } while (0)

/* a contains b */
#define CHECK_CONTAINS(a, b)                                                                       \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        check_count++;                                                                             \
        if (!check_a_ || !strstr(check_a_, check_b_)) {                                            \
            check_failures++;                                                                      \
            fprintf(stderr,                                                                        \
                    "%s:%d: CHECK failed: %s contains %s\n  text: \"%s\"\n"                        \
                    "  wanted: \"%s\"\n",                                                          \
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", check_b_);         \
        }                                                                                          \
    } while (0)

/* Stops the test at once (a later step would crash without this one). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        int require_ok_ = !!(cond); /* evaluated once: cond may have effects */                    \
        check_count++;                                                                             \
        if (!require_ok_) {                                                                        \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            return check_exit();                                                                   \
        }                                                                                          \
    } while (0)

/* The same in a void helper function. */
#define REQUIRE_VOID(cond)                                                                         \
    do {                                                                                           \
        int require_ok_ = !!(cond);                                                                \
        check_count++;                                                                             \
        if (!require_ok_) {                                                                        \
            check_failures++;                                                                      \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* The test's exit status: 1 if a check failed, and 1 too if no check ran
 * (a test that checks nothing cannot fail, so it specifies nothing). */
static inline int check_exit(void)
{
    fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
    if (check_count == 0) {
        fprintf(stderr, "no check ran: a test must check something\n");
        return 1;
    }
    return check_failures ? 1 : 0;
}

#endif
