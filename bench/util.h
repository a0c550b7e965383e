/*
** util.h: what the benchmark programs share (bench-kb, bench-peer,
** bench-session): a clock, dying with a message, allocation that cannot
** fail, percentiles of sorted samples, a file's size.
*/
#ifndef TSHOOT_BENCH_UTIL_H
#define TSHOOT_BENCH_UTIL_H

#include <stddef.h>

/* The program's name, for die()'s messages ("bench-kb"); set by main. */
extern const char *bench_name;

double now(void);                                   /* seconds, monotonic */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xmalloc(size_t n);                            /* dies when out of memory */
int cmp_double(const void *a, const void *b);       /* qsort, ascending */
double pct(const double *v, size_t n, double p);    /* p-th percentile of sorted v[0, n) */
long long file_size(const char *path);              /* -1 when it cannot be read */

#endif /* TSHOOT_BENCH_UTIL_H */
