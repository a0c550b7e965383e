/*
** test-expr.c: stored conditions (expr.c): the one version order shared by
** KB conditions and tshoot.vercmp, number order, parsing (and refusing what a
** damaged KB holds), and three-valued evaluation.
*/
#include "tshoot_int.h"
#include "expr.h"
#include "test.h"

#include <string.h>

/* ===== version order ===== */

/* Both ways round, so that the order is antisymmetric. */
#define CHECK_VER(a, b, want) do { \
    CHECK_INT(expr_version_cmp((a), (b)), (want)); \
    CHECK_INT(expr_version_cmp((b), (a)), -(want)); \
  } while (0)

static void test_expr__version_numbers(void)
{
  CHECK_VER("9.2.10", "9.2.9", 1);
  CHECK_VER("16.0", "16.0.0", 0);           /* a missing part is 0 */
  CHECK_VER("7.3", "7.10", -1);
  CHECK_VER("7.3", "7.3.0.1", -1);
  CHECK_VER("16.0.4266", "16.0.10000", -1);
  CHECK_VER("007.1", "7.1", 0);             /* leading zeros do not count */
  CHECK_VER("1.0", "1.00", 0);
  CHECK_VER("", "0", 0);
  CHECK_VER("", "", 0);
  CHECK_VER("", "1", -1);
  /* numbers longer than any integer still compare exactly */
  CHECK_VER("1.123456789012345678901234567890", "1.123456789012345678901234567891", -1);
  CHECK_VER("99999999999999999999999", "100000000000000000000000", -1);
}

static void test_expr__version_text_and_prereleases(void)
{
  CHECK_VER("9.2.4-beta", "9.2.4", -1);     /* a pre-release comes before its release */
  CHECK_VER("9.2.4~rc1", "9.2.4", -1);
  CHECK_VER("9.2.4-beta", "9.2.3", 1);      /* ... and after the release before */
  CHECK_VER("9.2.4-alpha", "9.2.4-beta", -1);
  CHECK_VER("9.2.4-rc2", "9.2.4-rc10", -1);
  CHECK_VER("9.2.4-beta", "9.2.4.1", -1);
  CHECK_VER("1.0.0-beta", "1.0", -1);
  CHECK_VER("9.2a", "9.2b", -1);            /* letters compare as text */
  CHECK_VER("9.2a", "9.2", 1);              /* a letter suffix is a later release */
  CHECK_VER("1.0.2k", "1.0.2", 1);
  CHECK_VER("9.2.4-beta", "9.2.4a", -1);
  CHECK_VER("9.2.1", "9.2a", -1);           /* letters come after numbers */
  CHECK_VER("9.2.4-beta", "9.2.4.0", -1);
  CHECK_VER("9.2A", "9.2a", 0);             /* ASCII case does not count */
  CHECK_VER("9.2.4 build 5", "9.2.4 build 12", -1);
  CHECK_VER("1.0-", "1.0", 0);              /* a separator alone is nothing */
  CHECK_VER("1_2", "1.2", 0);               /* any separator separates */
}

/* The order is a total preorder: sorting a mixed list by it and checking
** every pair for transitivity. */
static void test_expr__version_order_is_transitive(void)
{
  static const char *const v[] = {
    "", "0", "1", "1.0-beta", "1.0", "1.0a", "1.0.1", "1.2", "1.10", "1.10-rc1",
    "2", "2a", "2b", "2.0.0.0", "10", "9.2.4-beta", "9.2.4", "9.2.4a", "9.2a", "9.2.1", "x", "-y"
  };
  size_t i, j, k, n = TS_ARRAY_LEN(v);
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      int ij = expr_version_cmp(v[i], v[j]);
      CHECK_INT(ij, -expr_version_cmp(v[j], v[i]));
      for (k = 0; k < n; k++) {
        int jk = expr_version_cmp(v[j], v[k]);
        if (ij <= 0 && jk <= 0 && expr_version_cmp(v[i], v[k]) > 0) {
          fprintf(stderr, "not transitive: %s <= %s <= %s\n", v[i], v[j], v[k]);
          CHECK(0);
        }
      }
    }
}

static void test_expr__number_order(void)
{
  CHECK_INT(expr_number_cmp("2", "10"), -1);
  CHECK_INT(expr_number_cmp("-1.5", "-1.25"), -1);
  CHECK_INT(expr_number_cmp("3.0", "3"), 0);
  CHECK_INT(expr_number_cmp("abc", "0"), 0);   /* a non-number is 0 */
}

/* ===== parsing and evaluating ===== */

/* Questions q0..q3 (q1 and q3 are versions), facts f0..f1. */
typedef struct world {
  const char *answer[4];
  int known[4];
  tri fact[2];
} world;

static int resolve(void *ctx, int is_fact, const char *id)
{
  (void)ctx;
  if (!is_fact && id[0] == 'q' && id[1] >= '0' && id[1] <= '3' && !id[2]) return id[1] - '0';
  if (is_fact && id[0] == 'f' && id[1] >= '0' && id[1] <= '1' && !id[2]) return id[1] - '0';
  return -1;
}

static const char *w_answer(void *ctx, int q) { return ((world *)ctx)->answer[q]; }
static int w_known(void *ctx, int q) { return ((world *)ctx)->known[q]; }
static tri w_fact(void *ctx, int f) { return ((world *)ctx)->fact[f]; }
static int w_is_version(void *ctx, int q) { (void)ctx; return q == 1 || q == 3; }

static tri eval_in(world *w, const char *text)
{
  expr e;
  expr_env env;
  tri t;
  if (expr_parse(&e, text, resolve, NULL) != TSHOOT_OK) {
    fprintf(stderr, "does not parse: %s\n", text);
    CHECK(0);
    return (tri)-1;
  }
  env.answer = w_answer;
  env.known = w_known;
  env.fact = w_fact;
  env.is_version = w_is_version;
  env.ctx = w;
  t = expr_eval(&e, &env);
  expr_free(&e);
  return t;
}

static void test_expr__parse_refuses_damage(void)
{
  static const char *const bad[] = {
    "", "(", "()", "(nosuch q0 \"1\")", "(eq q9 \"1\")", "(eq q0)", "(eq q0 \"1\" \"2\")",
    "(and)", "(not (known q0) (known q1))", "(known q0 \"x\")", "(holds f0 \"x\")",
    "(eq q0 \"1\") trailing", "(eq q0 \"unterminated)", "(in q0 \"a\" b)",
  };
  size_t i;
  ts_buf deep = TS_BUF_INIT;
  expr e;
  for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
    int rc = expr_parse(&e, bad[i], resolve, NULL);
    if (rc != TSHOOT_ECORRUPT) fprintf(stderr, "accepted: %s\n", bad[i]);
    CHECK_INT(rc, TSHOOT_ECORRUPT);
    CHECK(e.n_nodes == 0 && e.nodes == NULL && e.values == NULL);
  }
  CHECK_INT(expr_parse(&e, NULL, resolve, NULL), TSHOOT_ECORRUPT);
  /* nesting deeper than 64 is refused, not recursed into */
  for (i = 0; i < 100; i++) ts_buf_adds(&deep, "(not ");
  ts_buf_adds(&deep, "(known q0)");
  for (i = 0; i < 100; i++) ts_buf_adds(&deep, ")");
  CHECK(ts_buf_cstr(&deep) != NULL);
  CHECK_INT(expr_parse(&e, deep.p, resolve, NULL), TSHOOT_ECORRUPT);
  ts_buf_free(&deep);
  /* a string with an escaped quote, and white space between tokens */
  CHECK_INT(expr_parse(&e, " (in  q0\n\"a\\\"b\"\t\"c\" ) ", resolve, NULL), TSHOOT_OK);
  CHECK_INT(e.n_nodes, 1);
  CHECK_INT(e.n_values, 2);
  if (e.n_values == 2) CHECK_STR(e.values[0], "a\"b");
  expr_free(&e);
}

static void test_expr__three_valued_evaluation(void)
{
  world w;
  memset(&w, 0, sizeof w);
  w.known[0] = w.known[1] = w.known[2] = w.known[3] = -1;
  w.fact[0] = TRI_TRUE;
  w.fact[1] = TRI_UNKNOWN;

  /* nothing answered: comparisons are unknown */
  CHECK_INT(eval_in(&w, "(eq q0 \"yes\")"), TRI_UNKNOWN);
  CHECK_INT(eval_in(&w, "(not (eq q0 \"yes\"))"), TRI_UNKNOWN);
  CHECK_INT(eval_in(&w, "(and (eq q0 \"yes\") (holds f0))"), TRI_UNKNOWN);
  CHECK_INT(eval_in(&w, "(or (eq q0 \"yes\") (holds f0))"), TRI_TRUE);
  CHECK_INT(eval_in(&w, "(known q0)"), TRI_UNKNOWN);
  CHECK_INT(eval_in(&w, "(holds f1)"), TRI_UNKNOWN);

  w.answer[0] = "no";
  w.known[0] = 1;
  CHECK_INT(eval_in(&w, "(eq q0 \"yes\")"), TRI_FALSE);
  CHECK_INT(eval_in(&w, "(ne q0 \"yes\")"), TRI_TRUE);
  CHECK_INT(eval_in(&w, "(in q0 \"maybe\" \"no\")"), TRI_TRUE);
  CHECK_INT(eval_in(&w, "(and (eq q0 \"yes\") (holds f1))"), TRI_FALSE);   /* false wins over unknown */
  CHECK_INT(eval_in(&w, "(or (eq q0 \"no\") (holds f1))"), TRI_TRUE);      /* true wins over unknown */
  CHECK_INT(eval_in(&w, "(known q0)"), TRI_TRUE);
  w.known[2] = 0;                                                           /* "don't know" */
  CHECK_INT(eval_in(&w, "(known q2)"), TRI_FALSE);

  /* q1 is a version question: the version order */
  w.answer[1] = "9.2.4-beta";
  CHECK_INT(eval_in(&w, "(lt q1 \"9.2.4\")"), TRI_TRUE);
  CHECK_INT(eval_in(&w, "(ge q1 \"9.2.3\")"), TRI_TRUE);
  w.answer[1] = "9.2.10";
  CHECK_INT(eval_in(&w, "(gt q1 \"9.2.9\")"), TRI_TRUE);
  CHECK_INT(eval_in(&w, "(le q1 \"9.2.9\")"), TRI_FALSE);
  /* q2 is a number question: the number order ("9.10" < "9.9" as numbers) */
  w.answer[2] = "9.10";
  CHECK_INT(eval_in(&w, "(lt q2 \"9.9\")"), TRI_TRUE);
}

static void test_expr__allocation_failures(void)
{
  const char *text = "(or (and (eq q0 \"a\") (in q1 \"1\" \"2\" \"3\")) (not (holds f0)) (lt q3 \"7.3\"))";
  long k;
  int done = 0;
  for (k = 0; k < 200 && !done; k++) {
    expr e;
    int rc;
    ts_alloc_fail_after(k);
    rc = expr_parse(&e, text, resolve, NULL);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) {
      CHECK_INT(e.n_nodes, 7);
      expr_free(&e);
      done = 1;
    } else {
      CHECK_INT(rc, TSHOOT_ENOMEM);
      CHECK(e.nodes == NULL && e.values == NULL);
    }
  }
  CHECK(done);
}

int main(void)
{
  RUN(test_expr__version_numbers);
  RUN(test_expr__version_text_and_prereleases);
  RUN(test_expr__version_order_is_transitive);
  RUN(test_expr__number_order);
  RUN(test_expr__parse_refuses_damage);
  RUN(test_expr__three_valued_evaluation);
  RUN(test_expr__allocation_failures);
  TEST_EXIT();
}
