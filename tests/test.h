/*
** test.h: a tiny test harness. A test file defines functions named
** test_<module>__<behaviour>(void) and lists them in main() with RUN(...).
** A failing CHECK prints file:line and the expression and marks the test
** failed; the process exits 1 if any test failed, 77 if all were skipped.
*/
#ifndef TSHOOT_TEST_H
#define TSHOOT_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_failed_count, test_run_count, test_cur_failed;

#define CHECK(cond) do { \
    if (!(cond)) { \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      test_cur_failed = 1; \
    } \
  } while (0)

#define CHECK_INT(a, b) do { \
    long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
              __FILE__, __LINE__, #a, #b, a_, b_); \
      test_cur_failed = 1; \
    } \
  } while (0)

#define CHECK_STR(a, b) do { \
    const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
              __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
      test_cur_failed = 1; \
    } \
  } while (0)

#define CHECK_CONTAINS(hay, needle) do { \
    const char *h_ = (hay), *n_ = (needle); \
    if (!h_ || !strstr(h_, n_)) { \
      fprintf(stderr, "%s:%d: CHECK failed: \"%s\" contains \"%s\"\n", \
              __FILE__, __LINE__, h_ ? h_ : "(null)", n_); \
      test_cur_failed = 1; \
    } \
  } while (0)

/* Run one test function; print its name and verdict. */
#define RUN(fn) do { \
    test_cur_failed = 0; \
    fn(); \
    test_run_count++; \
    if (test_cur_failed) test_failed_count++; \
    printf("%s %s\n", test_cur_failed ? "FAIL" : "ok  ", #fn); \
  } while (0)

#define TEST_EXIT() do { \
    printf("%d tests, %d failed\n", test_run_count, test_failed_count); \
    return test_failed_count ? 1 : 0; \
  } while (0)

/* Remove folder dir and the files in it (a test's temporary folder: no
** subfolders). */
static inline void test_remove_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[1024];
  if (!d) return;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

#endif /* TSHOOT_TEST_H */
