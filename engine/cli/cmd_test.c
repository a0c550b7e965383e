/*
** cmd_test.c: `tshoot test [ID...]`: run the test cases a KB carries.
**
** Each case runs a fresh session as a user would who knows only what the
** test says: its text is described, its given answers are applied up front,
** every other question is answered "don't know". A test without expect-fix
** runs without fixes (TSHOOT_SESSION_NO_FIXES): the evidence alone must lead
** to the cause. With expect-fix, fixes are proposed and only that one works
** (the others are reported as not working). The concluded cause is compared with
** expect-cause; an expect-fix must have been proposed or be a fix of the
** concluded cause. A failure names the test's file:line and the top causes.
**
** Exit status: 0 all passed, 1 a test failed (or a library error), 2 usage.
*/
#include "cli.h"

#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define TOP_CAUSES 3

typedef struct test_run {
  int ok;
  char message[1024];          /* why it failed, one line */
  char concluded[128];         /* the concluded cause id */
  double probability;
  size_t questions_asked;
  json_t *proposed;            /* fix ids proposed, in order */
  json_t *asked;               /* question ids asked (answered "don't know") */
  json_t *causes;              /* the top causes at the end */
} test_run;

static int fix_of_cause(tshoot_kb *kb, const char *article, const char *cause, const char *fix)
{
  tshoot_article *a = NULL;
  size_t i, k;
  int found = 0;
  if (!article || !cause || tshoot_article_load(&a, kb, article) != TSHOOT_OK) {
    tshoot_error_clear();
    return 0;
  }
  for (i = 0; i < a->n_causes && !found; i++)
    if (strcmp(a->causes[i].id, cause) == 0)
      for (k = 0; k < a->causes[i].n_fixes; k++)
        if (strcmp(a->causes[i].fixes[k].id, fix) == 0) found = 1;
  tshoot_article_free(a);
  return found;
}

static int was_given(const tshoot_test_case *tc, const char *q)
{
  size_t i;
  for (i = 0; i < tc->n_given; i++)
    if (strcmp(tc->questions[i], q) == 0) return 1;
  return 0;
}

/* Run one case. Returns EXIT_OK (the verdict is in r) or EXIT_FAIL on a
** library error that is not the test's fault (out of memory and the like). */
static int run_case(tshoot_kb *kb, const tshoot_test_case *tc, test_run *r, size_t limit)
{
  tshoot_session *s = NULL;
  const tshoot_step *st = NULL;
  const tshoot_cause_rank *rank;
  size_t i, n, steps = 0;
  int rc;

  r->ok = 0;
  r->proposed = json_array();
  r->asked = json_array();
  r->causes = json_array();
  {
    /* Without an expect-fix the test is about the diagnosis alone: no fixes
    ** (reporting the true cause's own fix as "did not work" would be false
    ** evidence against it). With one, fixes are proposed and only it works. */
    tshoot_session_options so = TSHOOT_SESSION_OPTIONS_INIT;
    if (!tc->expect_fix) so.flags |= TSHOOT_SESSION_NO_FIXES;
    rc = tshoot_session_new(&s, kb, &so);
  }
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  if (tc->text && (rc = tshoot_session_describe(s, tc->text, strlen(tc->text))) != TSHOOT_OK) {
    tshoot_session_free(s);
    return cli_lib_error(rc);
  }
  for (i = 0; i < tc->n_given; i++) {
    rc = tshoot_session_answer(s, tc->questions[i], tc->values[i]);
    if (rc != TSHOOT_OK) {
      snprintf(r->message, sizeof r->message, "given %s = %s refused: %s", tc->questions[i],
               tc->values[i], tshoot_error_last()->message);
      tshoot_session_free(s);
      return EXIT_OK;
    }
  }
  for (;;) {
    rc = tshoot_session_next(&st, s);
    if (rc != TSHOOT_OK) {
      snprintf(r->message, sizeof r->message, "the session failed: %s", tshoot_error_last()->message);
      tshoot_session_free(s);
      return EXIT_OK;
    }
    if (st->kind == TSHOOT_STEP_CONCLUDE || st->kind == TSHOOT_STEP_INCONCLUSIVE) break;
    if (++steps > limit) {
      snprintf(r->message, sizeof r->message, "the session does not conclude (%zu steps)", steps - 1);
      tshoot_session_free(s);
      return EXIT_OK;
    }
    if (st->kind == TSHOOT_STEP_ASK) {
      if (was_given(tc, st->question)) {
        snprintf(r->message, sizeof r->message, "the session asks %s again although it is answered",
                 st->question);
        tshoot_session_free(s);
        return EXIT_OK;
      }
      json_array_append_new(r->asked, json_string(st->question));
      rc = tshoot_session_unknown(s, st->question);
    } else {
      int worked = tc->expect_fix && strcmp(st->fix, tc->expect_fix) == 0;
      json_array_append_new(r->proposed, json_string(st->fix));
      rc = tshoot_session_fix_result(s, st->fix, worked);
    }
    if (rc != TSHOOT_OK) {
      snprintf(r->message, sizeof r->message, "the session refused a step: %s", tshoot_error_last()->message);
      tshoot_session_free(s);
      return EXIT_OK;
    }
  }
  snprintf(r->concluded, sizeof r->concluded, "%s", st->cause);
  r->probability = st->probability;
  r->questions_asked = st->questions_asked;
  if (tshoot_session_causes(&rank, &n, s) == TSHOOT_OK)
    for (i = 0; i < n && i < TOP_CAUSES; i++) {
      json_t *o = json_object();
      json_object_set_new(o, "cause", cli_jstr(rank[i].cause));
      json_object_set_new(o, "title", cli_jstr(rank[i].title));
      json_object_set_new(o, "probability", json_real(rank[i].probability));
      json_array_append_new(r->causes, o);
    }
  r->ok = 1;
  if (st->kind == TSHOOT_STEP_INCONCLUSIVE && !(tc->expect_cause && strcmp(tc->expect_cause, st->cause) == 0)) {
    r->ok = 0;
    snprintf(r->message, sizeof r->message, "inconclusive: no cause reached the threshold on evidence "
             "(best candidate %s, p=%.2f)", st->cause, st->probability);
  } else if (st->kind == TSHOOT_STEP_INCONCLUSIVE) {
    /* the expected cause leads, but the test's answers do not settle it:
    ** a pass, said so (the person would be told to escalate) */
    snprintf(r->message, sizeof r->message, "inconclusive, but the expected cause leads (p=%.2f)",
             st->probability);
  } else if (tc->expect_cause && strcmp(tc->expect_cause, st->cause) != 0) {
    r->ok = 0;
    snprintf(r->message, sizeof r->message, "expected cause %s, concluded %s (p=%.2f)", tc->expect_cause,
             st->cause, st->probability);
  } else if (tc->expect_fix) {
    int proposed = 0;
    json_t *v;
    json_array_foreach(r->proposed, i, v)
      if (strcmp(json_string_value(v), tc->expect_fix) == 0) proposed = 1;
    if (!proposed && !fix_of_cause(kb, st->article, st->cause, tc->expect_fix)) {
      r->ok = 0;
      snprintf(r->message, sizeof r->message,
               "expected fix %s, which was not proposed and is not a fix of the concluded cause %s (p=%.2f)",
               tc->expect_fix, st->cause, st->probability);
    }
  }
  tshoot_session_free(s);
  return EXIT_OK;
}

static void run_free(test_run *r)
{
  json_decref(r->proposed);
  json_decref(r->asked);
  json_decref(r->causes);
}

static int selected(const tshoot_test_case *tc, int argc, char **argv)
{
  int i;
  if (argc == 0) return 1;
  for (i = 0; i < argc; i++)
    if (strcmp(argv[i], tc->id) == 0 || fnmatch(argv[i], tc->id, 0) == 0) return 1;
  return 0;
}

/* A test id close to `word` (not a pattern), or NULL. */
static const char *closest_test(const tshoot_tests *t, const char *word)
{
  size_t n = tshoot_tests_count(t), i;
  const char **ids, *found;
  if (strpbrk(word, "*?[") || !n || !(ids = malloc(n * sizeof *ids))) return NULL;
  for (i = 0; i < n; i++) ids[i] = tshoot_tests_get(t, i)->id;
  found = cli_closest(word, ids, n);
  free(ids);
  return found;
}

static void print_ids(const char *label, json_t *arr)
{
  size_t i;
  json_t *v;
  if (!json_array_size(arr)) return;
  printf("     %s%s:", cli_sgr(stdout, SGR_DIM), label);
  json_array_foreach(arr, i, v) printf(" %s", json_string_value(v));
  printf("%s\n", cli_sgr(stdout, SGR_RESET));
}

int cmd_test(int argc, char **argv)
{
  static const struct option longs[] = {
    { "kb", required_argument, NULL, 'k' },
    { "json", no_argument, NULL, 'j' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  tshoot_kb *kb = NULL;
  tshoot_tests *tests = NULL;
  tshoot_kb_info info;
  const char *kb_opt = NULL, *kb_path = NULL;
  json_t *report = NULL;
  size_t i, n, passed = 0, failed = 0, run = 0, limit;
  int c, rc, json = 0, verbose = 0, status = EXIT_OK;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":vh", longs, NULL)) != -1) {
    switch (c) {
    case 'k': kb_opt = optarg; break;
    case 'j': json = 1; break;
    case 'v': verbose = 1; break;
    case 'h': cli_print_command_help(stdout, "test"); return EXIT_OK;
    default: return cli_getopt_error("test", c, argv);
    }
  }
  if (cli_open_kb(&kb, kb_opt, &kb_path) != EXIT_OK) return EXIT_FAIL;
  rc = tshoot_kb_tests(&tests, kb);
  if (rc != TSHOOT_OK) {
    status = cli_lib_error(rc);
    goto done;
  }
  if (tshoot_kb_info_get(&info, kb) != TSHOOT_OK) memset(&info, 0, sizeof info);
  limit = 2 * (info.questions + info.fixes) + 16;
  n = tshoot_tests_count(tests);
  if (json) {
    report = json_object();
    json_object_set_new(report, "kb", cli_jstr(kb_path));
    json_object_set_new(report, "tests", json_array());
  }

  for (i = 0; i < n; i++) {
    const tshoot_test_case *tc = tshoot_tests_get(tests, i);
    test_run r;
    if (!selected(tc, argc - optind, argv + optind)) continue;
    memset(&r, 0, sizeof r);
    run++;
    if (run_case(kb, tc, &r, limit) != EXIT_OK) {
      run_free(&r);
      status = EXIT_FAIL;
      goto done;
    }
    if (r.ok) passed++;
    else failed++;
    if (json) {
      json_t *o = json_object();
      json_object_set_new(o, "id", cli_jstr(tc->id));
      json_object_set_new(o, "ok", json_boolean(r.ok));
      json_object_set_new(o, "message", r.message[0] ? cli_jstr(r.message) : json_null());
      json_object_set_new(o, "file", cli_jstr(tc->file));
      json_object_set_new(o, "line", json_integer(tc->line));
      json_object_set_new(o, "expect_cause", cli_jstr(tc->expect_cause));
      json_object_set_new(o, "expect_fix", cli_jstr(tc->expect_fix));
      json_object_set_new(o, "concluded", *r.concluded ? cli_jstr(r.concluded) : json_null());
      json_object_set_new(o, "probability", json_real(r.probability));
      json_object_set_new(o, "questions_asked", json_integer((json_int_t)r.questions_asked));
      json_object_set(o, "asked", r.asked);
      json_object_set(o, "fixes_proposed", r.proposed);
      json_object_set(o, "causes", r.causes);
      json_array_append_new(json_object_get(report, "tests"), o);
    } else if (r.ok) {
      printf("%sok%s   %s%s%s\n", cli_sgr(stdout, SGR_GREEN), cli_sgr(stdout, SGR_RESET), tc->id,
             r.message[0] ? ": " : "", r.message);
      if (verbose) {
        printf("     %sconcluded %s (p=%.2f) after %zu answer%s%s\n", cli_sgr(stdout, SGR_DIM), r.concluded,
               r.probability, r.questions_asked, r.questions_asked == 1 ? "" : "s", cli_sgr(stdout, SGR_RESET));
        print_ids("asked (don't know)", r.asked);
        print_ids("fixes proposed", r.proposed);
      }
    } else {
      size_t k;
      json_t *v;
      printf("%sFAIL%s %s: %s; %s:%d: <test>\n", cli_sgr(stdout, SGR_RED), cli_sgr(stdout, SGR_RESET), tc->id,
             r.message, tc->file ? tc->file : "?", tc->line);
      json_array_foreach(r.causes, k, v)
        printf("     %3.0f%%  %s (%s)\n", 100 * json_real_value(json_object_get(v, "probability")),
               json_string_value(json_object_get(v, "title")), json_string_value(json_object_get(v, "cause")));
      print_ids("asked (don't know)", r.asked);
      print_ids("fixes proposed", r.proposed);
    }
    run_free(&r);
  }
  if (argc > optind && run == 0) {
    const char *s = closest_test(tests, argv[optind]);
    status = cli_usage_error("test", "no test matches '%s'%s%s%s%s", argv[optind],
                             argc - optind > 1 ? " (or the others)" : "", s ? " (did you mean '" : "",
                             s ? s : "", s ? "'?)" : "");
    goto done;
  }
  if (json) {
    json_object_set_new(report, "passed", json_integer((json_int_t)passed));
    json_object_set_new(report, "failed", json_integer((json_int_t)failed));
    status = cli_json_print(report);
    report = NULL;
  } else {
    if (n == 0) {
      fflush(stdout);
      fprintf(stderr, "this KB has no test cases\n");
    }
    printf("%zu passed, %zu failed\n", passed, failed);
  }
  if (status == EXIT_OK && failed) status = EXIT_FAIL;

done:
  json_decref(report);
  tshoot_tests_free(tests);
  tshoot_kb_close(kb);
  return status;
}
