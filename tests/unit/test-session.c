/*
** test-session.c: diagnosis sessions on tests/data/session/web.xml: every
** cause is reached by answering as that cause would, answers can be changed
** and withdrawn, nothing becomes NaN, explanations name their evidence, and
** saved sessions round-trip while forged ones are refused whole.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "session_int.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];
static char web_db[512], empty_db[512];
static tshoot_kb *kb;

/* How a machine with each cause answers. */
typedef struct oracle { const char *cause; const char *answers[8]; } oracle;
static const oracle oracles[] = {
  { "no-wifi", { "wifi.connected=no", "other.sites=no", "router.lights=green", "dns.works=no", "vpn.on=no", "browser.version=120" } },
  { "router-down", { "wifi.connected=yes", "other.sites=no", "router.lights=off", "dns.works=no", "vpn.on=no", "browser.version=120" } },
  { "dns-broken", { "wifi.connected=yes", "other.sites=no", "router.lights=green", "dns.works=no", "vpn.on=no", "browser.version=120" } },
  { "site-down", { "wifi.connected=yes", "other.sites=yes", "router.lights=green", "dns.works=yes", "vpn.on=no", "browser.version=120" } },
  { "vpn-block", { "wifi.connected=yes", "other.sites=yes", "router.lights=green", "dns.works=yes", "vpn.on=yes", "browser.version=120" } },
  { "old-browser", { "wifi.connected=yes", "other.sites=yes", "router.lights=green", "dns.works=yes", "vpn.on=no", "browser.version=90" } },
};

static const char *oracle_answer(const oracle *o, const char *q, char *buf, size_t n)
{
  size_t i, ql = strlen(q);
  for (i = 0; i < 8 && o->answers[i]; i++)
    if (strncmp(o->answers[i], q, ql) == 0 && o->answers[i][ql] == '=') {
      snprintf(buf, n, "%s", o->answers[i] + ql + 1);
      return buf;
    }
  return NULL;
}

static int fix_of(const char *fix, const char *cause)
{
  static const char *const pairs[][2] = { { "connect", "no-wifi" }, { "restart-router", "router-down" },
    { "set-dns", "dns-broken" }, { "wait", "site-down" }, { "vpn-off", "vpn-block" },
    { "update-browser", "old-browser" } };
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(pairs); i++)
    if (strcmp(pairs[i][0], fix) == 0) return strcmp(pairs[i][1], cause) == 0;
  return 0;
}

/* Walk a session as the oracle; return the concluded cause (static buffer). */
static const char *walk(const oracle *o, unsigned flags, int *asked)
{
  static char concluded[64];
  tshoot_session_options opts = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *s = NULL;
  const tshoot_step *st;
  int steps = 0;
  opts.flags = flags;
  concluded[0] = '\0';
  *asked = 0;
  CHECK_INT(tshoot_session_new(&s, kb, &opts), TSHOOT_OK);
  if (!s) return concluded;
  while (steps++ < 40) {
    char buf[64];
    CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
    if (st->kind == TSHOOT_STEP_CONCLUDE) {
      snprintf(concluded, sizeof concluded, "%s", st->cause);
      CHECK(st->probability >= 0 && st->probability <= 1);
      break;
    }
    if (st->kind == TSHOOT_STEP_INCONCLUSIVE) {
      /* every answer given and the cause still under the threshold: the
      ** best candidate is what the walk reached (the fixture's evidence for
      ** vpn-block and old-browser stops near 75%) */
      snprintf(concluded, sizeof concluded, "%s", st->cause);
      CHECK(st->escalation != NULL && st->escalation[0]);
      CHECK(st->probability < 0.9);
      break;
    }
    if (st->kind == TSHOOT_STEP_FIX) {
      CHECK_INT(tshoot_session_fix_result(s, st->fix, fix_of(st->fix, o->cause)), TSHOOT_OK);
      continue;
    }
    (*asked)++;
    if (oracle_answer(o, st->question, buf, sizeof buf))
      CHECK_INT(tshoot_session_answer(s, st->question, buf), TSHOOT_OK);
    else
      CHECK_INT(tshoot_session_unknown(s, st->question), TSHOOT_OK);
  }
  CHECK(steps < 40);
  tshoot_session_free(s);
  return concluded;
}

static void test_session__every_cause_is_reached_without_fixes(void)
{
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(oracles); i++) {
    int asked;
    const char *got = walk(&oracles[i], TSHOOT_SESSION_NO_FIXES, &asked);
    printf("  %-12s concluded %-12s after %d questions\n", oracles[i].cause, got, asked);
    CHECK_STR(got, oracles[i].cause);
    CHECK(asked <= 5);
  }
}

static void test_session__every_cause_is_reached_with_fixes(void)
{
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(oracles); i++) {
    int asked;
    const char *got = walk(&oracles[i], 0, &asked);
    if (strcmp(got, oracles[i].cause) != 0)
      fprintf(stderr, "  %s (fixes on): concluded %s after %d questions\n", oracles[i].cause, got, asked);
    CHECK_STR(got, oracles[i].cause);
  }
}

static void test_session__written_order_asks_at_least_as_many(void)
{
  size_t i;
  int smart = 0, written = 0;
  for (i = 0; i < TS_ARRAY_LEN(oracles); i++) {
    int a, b;
    CHECK_STR(walk(&oracles[i], TSHOOT_SESSION_NO_FIXES, &a), oracles[i].cause);
    CHECK_STR(walk(&oracles[i], TSHOOT_SESSION_NO_FIXES | TSHOOT_SESSION_WRITTEN_ORDER, &b), oracles[i].cause);
    smart += a;
    written += b;
  }
  printf("  questions: %d chosen by information gain, %d in written order\n", smart, written);
  CHECK(smart <= written);
}

static double prob_of(tshoot_session *s, const char *cause)
{
  const tshoot_cause_rank *r;
  size_t n, i;
  double total = 0, p = -1;
  CHECK_INT(tshoot_session_causes(&r, &n, s), TSHOOT_OK);
  for (i = 0; i < n; i++) {
    CHECK(isfinite(r[i].probability));
    total += r[i].probability;
    if (strcmp(r[i].cause, cause) == 0) p = r[i].probability;
    if (i) CHECK(r[i - 1].probability >= r[i].probability);
  }
  CHECK(fabs(total - 1) < 1e-9);
  return p;
}

static void test_session__change_retract_undo(void)
{
  tshoot_session *s = NULL;
  const tshoot_answer_info *a;
  size_t n;
  double p0, p1, p2;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  p0 = prob_of(s, "no-wifi");
  CHECK_INT(tshoot_session_answer(s, "wifi.connected", "no"), TSHOOT_OK);
  p1 = prob_of(s, "no-wifi");
  CHECK(p1 > p0);
  CHECK_INT(tshoot_session_answer(s, "wifi.connected", "yes"), TSHOOT_OK);   /* changed */
  p2 = prob_of(s, "no-wifi");
  CHECK(p2 < p0);
  CHECK_INT(tshoot_session_answers(&a, &n, s), TSHOOT_OK);
  CHECK_INT(n, 1);
  CHECK_STR(a[0].value, "yes");
  CHECK_INT(tshoot_session_answer(s, "other.sites", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_undo(s), TSHOOT_OK);                               /* back */
  CHECK_INT(tshoot_session_answers(&a, &n, s), TSHOOT_OK);
  CHECK_INT(n, 1);
  CHECK_INT(tshoot_session_retract(s, "wifi.connected"), TSHOOT_OK);
  CHECK(fabs(prob_of(s, "no-wifi") - p0) < 1e-12);
  CHECK_INT(tshoot_session_retract(s, "wifi.connected"), TSHOOT_ENOTFOUND);
  CHECK_INT(tshoot_session_undo(s), TSHOOT_ENOTFOUND);
  CHECK_INT(tshoot_session_unknown(s, "vpn.on"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answers(&a, &n, s), TSHOOT_OK);
  CHECK(n == 1 && a[0].value == NULL);
  tshoot_session_free(s);
}

static void test_session__bad_answers_say_why(void)
{
  tshoot_session *s = NULL;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_answer(s, "wifi.conected", "yes"), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "did you mean 'wifi.connected'");
  CHECK_INT(tshoot_session_answer(s, "router.lights", "purple"), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "green, amber, off");
  CHECK_INT(tshoot_session_answer(s, "browser.version", "new"), TSHOOT_EINVALID);
  CHECK_INT(tshoot_session_answer(s, "router.lights", "GREEN"), TSHOOT_OK);  /* case is forgiven */
  CHECK_INT(tshoot_session_fix_result(s, "restart-routr", 0), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "restart-router");
  CHECK_INT(tshoot_session_symptom(s, "nope"), TSHOOT_ENOTFOUND);
  CHECK_INT(tshoot_session_answer(NULL, "x", "y"), TSHOOT_EINVALID);
  tshoot_session_free(s);
}

static void test_session__contradictions_stay_finite(void)
{
  tshoot_session *s = NULL;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  const tshoot_step *st;
  o.noise = 1e-9;   /* almost no room for a wrong answer */
  CHECK_INT(tshoot_session_new(&s, kb, &o), TSHOOT_OK);
  if (!s) return;
  /* every cause is ruled out by some answer */
  CHECK_INT(tshoot_session_answer(s, "wifi.connected", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "other.sites", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "router.lights", "green"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "dns.works", "yes"), TSHOOT_OK);
  prob_of(s, "none");
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  CHECK(isfinite(st->probability) || st->kind == TSHOOT_STEP_ASK);
  if (st->kind == TSHOOT_STEP_CONCLUDE) CHECK_STR(st->cause, "none");
  tshoot_session_free(s);
}

static void test_session__empty_kb_is_inconclusive(void)
{
  tshoot_kb *ek = NULL;
  tshoot_session *s = NULL;
  const tshoot_step *st;
  CHECK_INT(tshoot_kb_open(&ek, empty_db, NULL), TSHOOT_OK);
  if (!ek) return;
  CHECK_INT(tshoot_session_new(&s, ek, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_session_describe(s, "anything at all", 15), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  /* nothing but "none", with no evidence for it: not a conclusion */
  CHECK_INT(st->kind, TSHOOT_STEP_INCONCLUSIVE);
  CHECK_STR(st->cause, "none");
  tshoot_session_free(s);
  tshoot_kb_close(ek);
}

static void test_session__text_narrows_and_symptoms_count(void)
{
  tshoot_session *s = NULL;
  const char *text = "ERR_NAME_NOT_RESOLVED server DNS address could not be found";
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_describe(s, text, strlen(text)), TSHOOT_OK);
  {
    const tshoot_cause_rank *r;
    size_t n;
    CHECK_INT(tshoot_session_causes(&r, &n, s), TSHOOT_OK);
    CHECK_STR(r[0].cause, "dns-broken");   /* the error names it (causes="dns-broken") */
  }
  tshoot_session_free(s);
}

static void test_session__fix_reports_are_evidence(void)
{
  tshoot_session *s = NULL;
  const tshoot_step *st;
  double before, after;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  before = prob_of(s, "vpn-block");
  CHECK_INT(tshoot_session_fix_result(s, "vpn-off", 0), TSHOOT_OK);
  after = prob_of(s, "vpn-block");
  CHECK(after < before);
  CHECK_INT(tshoot_session_fix_result(s, "wait", 1), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  CHECK_INT(st->kind, TSHOOT_STEP_CONCLUDE);
  CHECK_STR(st->cause, "site-down");
  tshoot_session_free(s);
}

static void test_session__explanations(void)
{
  tshoot_session *s = NULL;
  tshoot_explanation *e = NULL;
  size_t i;
  int saw_condition = 0;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_why(&e, s, "wifi.connected"), TSHOOT_OK);
  if (e) {
    CHECK_CONTAINS(e->text, "Without a connection nothing loads.");
    CHECK(e->n_causes >= 2);
    CHECK(e->expected_gain > 0);
    CHECK(e->cost == 0.5);
    tshoot_explanation_free(e);
  }
  CHECK_INT(tshoot_session_answer(s, "wifi.connected", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "other.sites", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "vpn.on", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_how(&e, s, "vpn-block"), TSHOOT_OK);
  if (e) {
    CHECK_STR(e->subject, "vpn-block");
    for (i = 0; i < e->n_items; i++)
      if (strcmp(e->items[i].kind, "condition") == 0 && strstr(e->items[i].detail, "that is so")) saw_condition = 1;
    CHECK(saw_condition);
    CHECK_CONTAINS(e->text, "ruled out");
    tshoot_explanation_free(e);
  }
  CHECK_INT(tshoot_session_how(&e, s, "vpn-blok"), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "vpn-block");
  tshoot_session_free(s);
}

static void test_session__save_and_restore(void)
{
  tshoot_session *s = NULL, *r = NULL;
  char *json = NULL;
  const tshoot_step *a, *b;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_describe(s, "page cannot be reached", 22), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "wifi.connected", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_unknown(s, "router.lights"), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "vpn-off", 0), TSHOOT_OK);
  CHECK_INT(tshoot_session_save(&json, s), TSHOOT_OK);
  CHECK(json != NULL);
  if (!json) return;
  CHECK_INT(tshoot_session_load(&r, kb, json, strlen(json), NULL), TSHOOT_OK);
  if (r) {
    char *again = NULL;
    CHECK_INT(tshoot_session_next(&a, s), TSHOOT_OK);
    CHECK_INT(tshoot_session_next(&b, r), TSHOOT_OK);
    CHECK_INT(a->kind, b->kind);
    CHECK(fabs(prob_of(s, "site-down") - prob_of(r, "site-down")) < 1e-12);
    CHECK_INT(tshoot_session_save(&again, r), TSHOOT_OK);
    CHECK_STR(again, json);
    tshoot_free(again);
  }
  tshoot_free(json);
  tshoot_session_free(s);
  tshoot_session_free(r);
}

static void test_session__fixes_and_text_are_readable(void)
{
  tshoot_session *s = NULL, *r = NULL;
  const tshoot_fix_report *f;
  char *json = NULL;
  size_t n;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK(tshoot_session_text(s) == NULL);
  CHECK(tshoot_session_text(NULL) == NULL);
  CHECK_INT(tshoot_session_fixes(&f, &n, s), TSHOOT_OK);
  CHECK_INT(n, 0);
  CHECK_INT(tshoot_session_fixes(NULL, &n, s), TSHOOT_EINVALID);
  CHECK_INT(tshoot_session_describe(s, "page cannot be reached", 22), TSHOOT_OK);
  CHECK_STR(tshoot_session_text(s), "page cannot be reached");
  CHECK_INT(tshoot_session_fix_result(s, "vpn-off", 0), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "set-dns", 0), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "vpn-off", 1), TSHOOT_OK);   /* reported again: keeps its place */
  CHECK_INT(tshoot_session_fixes(&f, &n, s), TSHOOT_OK);
  CHECK_INT(n, 2);
  if (n == 2) {
    CHECK_STR(f[0].fix, "vpn-off");
    CHECK_STR(f[0].cause, "vpn-block");
    CHECK_INT(f[0].worked, 1);
    CHECK_STR(f[1].fix, "set-dns");
    CHECK_STR(f[1].cause, "dns-broken");
    CHECK_INT(f[1].worked, 0);
  }
  /* what a resumed session reports, without parsing the saved JSON */
  CHECK_INT(tshoot_session_save(&json, s), TSHOOT_OK);
  CHECK_INT(tshoot_session_load(&r, kb, json, json ? strlen(json) : 0, NULL), TSHOOT_OK);
  if (r) {
    CHECK_STR(tshoot_session_text(r), "page cannot be reached");
    CHECK_INT(tshoot_session_fixes(&f, &n, r), TSHOOT_OK);
    CHECK_INT(n, 2);
    if (n == 2) { CHECK_STR(f[0].fix, "vpn-off"); CHECK_INT(f[0].worked, 1); CHECK_INT(f[1].worked, 0); }
  }
  /* a text that matches nothing is no evidence, and is not kept */
  CHECK_INT(tshoot_session_describe(s, "qqqzzz xxyyzz", 13), TSHOOT_OK);
  CHECK(tshoot_session_text(s) == NULL);
  CHECK_INT(tshoot_session_describe(s, NULL, 0), TSHOOT_OK);
  CHECK(tshoot_session_text(s) == NULL);
  tshoot_free(json);
  tshoot_session_free(s);
  tshoot_session_free(r);
}

/* Save a session made with `o`, load it with `lo`, return the loaded one's
** options as saved again (conclude_at, noise, flags). */
static void reload_options(const tshoot_session_options *o, const tshoot_session_options *lo,
                           double *conclude_at, double *noise, long *flags)
{
  tshoot_session *s = NULL, *r = NULL;
  char *json = NULL, *again = NULL;
  const char *p;
  *conclude_at = *noise = -1;
  *flags = -1;
  CHECK_INT(tshoot_session_new(&s, kb, o), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_save(&json, s), TSHOOT_OK);
  CHECK_INT(tshoot_session_load(&r, kb, json, json ? strlen(json) : 0, lo), TSHOOT_OK);
  if (r && tshoot_session_save(&again, r) == TSHOOT_OK) {
    if ((p = strstr(again, "\"conclude_at\":"))) *conclude_at = strtod(p + 14, NULL);
    if ((p = strstr(again, "\"noise\":"))) *noise = strtod(p + 8, NULL);
    if ((p = strstr(again, "\"flags\":"))) *flags = strtol(p + 8, NULL, 10);
  }
  tshoot_free(json);
  tshoot_free(again);
  tshoot_session_free(s);
  tshoot_session_free(r);
}

static void test_session__load_options_keep_saved_values(void)
{
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT, lo = TSHOOT_SESSION_OPTIONS_INIT;
  double c, nz;
  long fl;
  o.conclude_at = 0.8;
  o.noise = 0.05;
  o.flags = TSHOOT_SESSION_NO_FIXES | TSHOOT_SESSION_WRITTEN_ORDER;
  reload_options(&o, NULL, &c, &nz, &fl);                  /* NULL: all saved */
  CHECK(c == 0.8 && nz == 0.05);
  CHECK_INT(fl, 3);
  reload_options(&o, &lo, &c, &nz, &fl);                   /* all 0: all saved */
  CHECK(c == 0.8 && nz == 0.05);
  CHECK_INT(fl, 3);
  lo.conclude_at = 0.95;                                   /* one field changed */
  reload_options(&o, &lo, &c, &nz, &fl);
  CHECK(c == 0.95 && nz == 0.05);
  CHECK_INT(fl, 3);
  lo.conclude_at = 0;
  lo.flags_off = TSHOOT_SESSION_NO_FIXES;                  /* turn a saved flag off */
  reload_options(&o, &lo, &c, &nz, &fl);
  CHECK(c == 0.8 && nz == 0.05);
  CHECK_INT(fl, TSHOOT_SESSION_WRITTEN_ORDER);
  lo.flags = TSHOOT_SESSION_NO_FIXES;                      /* off, then on again */
  reload_options(&o, &lo, &c, &nz, &fl);
  CHECK_INT(fl, 3);
  {
    /* a version 1 caller has no flags_off: its flags are added */
    tshoot_session_options v1 = TSHOOT_SESSION_OPTIONS_INIT;
    tshoot_session_options plain = TSHOOT_SESSION_OPTIONS_INIT;
    v1.version = 1;
    v1.flags_off = 0xffffffffu;                            /* not read */
    v1.flags = TSHOOT_SESSION_NO_FIXES;
    plain.flags = TSHOOT_SESSION_WRITTEN_ORDER;
    reload_options(&plain, &v1, &c, &nz, &fl);
    CHECK_INT(fl, 3);
    CHECK(c == 0.9 && nz == 0.01);
  }
  {
    tshoot_session *r = NULL;
    tshoot_session_options bad = TSHOOT_SESSION_OPTIONS_INIT;
    const char *json = "{}";
    bad.version = 99;
    CHECK_INT(tshoot_session_load(&r, kb, json, 2, &bad), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "version");
    CHECK(r == NULL);
  }
}

static void test_session__answer_forms_are_decided_here(void)
{
  tshoot_session *s = NULL;
  const tshoot_answer_info *a;
  size_t n;
  static const struct { const char *q, *given, *recorded; } ok[] = {
    { "router.lights", "amber", "amber" },
    { "router.lights", "GREEN", "green" },                 /* a value, any case */
    { "router.lights", "Amber or blinking", "amber" },     /* a label */
    { "router.lights", "aMBER OR BLINKING", "amber" },     /* a label, any case */
    { "wifi.connected", "Y", "yes" },
    { "wifi.connected", "n", "no" },
    { "wifi.connected", "TRUE", "yes" },
    { "wifi.connected", "false", "no" },
    { "wifi.connected", "Yes", "yes" },
    { "wifi.connected", "NO", "no" },
  };
  static const struct { const char *q, *given; } bad[] = {
    { "router.lights", "purple" }, { "router.lights", "y" }, { "router.lights", "1" },
    { "wifi.connected", "1" }, { "wifi.connected", "yess" }, { "wifi.connected", "" },
    { "browser.version", "y" },
  };
  size_t i;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  for (i = 0; i < TS_ARRAY_LEN(ok); i++) {
    CHECK_INT(tshoot_session_answer(s, ok[i].q, ok[i].given), TSHOOT_OK);
    CHECK_INT(tshoot_session_answers(&a, &n, s), TSHOOT_OK);
    CHECK(n >= 1);
    if (n >= 1) {
      CHECK_STR(a[n - 1].question, ok[i].q);
      if (strcmp(a[n - 1].value ? a[n - 1].value : "", ok[i].recorded) != 0)
        fprintf(stderr, "  %s = '%s' recorded as '%s'\n", ok[i].q, ok[i].given, a[n - 1].value);
      CHECK_STR(a[n - 1].value, ok[i].recorded);
    }
  }
  for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
    int rc = tshoot_session_answer(s, bad[i].q, bad[i].given);
    if (rc != TSHOOT_EINVALID) fprintf(stderr, "  %s = '%s' accepted\n", bad[i].q, bad[i].given);
    CHECK_INT(rc, TSHOOT_EINVALID);
  }
  CHECK_INT(tshoot_session_answer(s, "router.lights", "purple"), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "green, amber, off");
  tshoot_session_free(s);
}

static void test_session__option_bounds_are_decided_here(void)
{
  static const struct { double conclude_at, noise; int rc; const char *why; } cases[] = {
    { 0, 0, TSHOOT_OK, "" },               /* defaults */
    { 1.0, 0.01, TSHOOT_OK, "" },          /* conclude only when certain */
    { 0.5, 0.49, TSHOOT_OK, "" },
    { 1e-3, 1e-9, TSHOOT_OK, "" },
    { 1.5, 0, TSHOOT_EINVALID, "conclude_at is 1.5: it must be in (0, 1]" },
    { -0.1, 0, TSHOOT_EINVALID, "conclude_at" },
    { 0, 0.5, TSHOOT_EINVALID, "noise is 0.5: it must be in [0, 0.5)" },
    { 0, 0.7, TSHOOT_EINVALID, "noise" },
    { 0, -1, TSHOOT_EINVALID, "noise" },
  };
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
    tshoot_session *s = NULL;
    tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
    int rc;
    o.conclude_at = cases[i].conclude_at;
    o.noise = cases[i].noise;
    rc = tshoot_session_new(&s, kb, &o);
    if (rc != cases[i].rc) fprintf(stderr, "  case %zu: %d %s\n", i, rc, tshoot_error_last()->message);
    CHECK_INT(rc, cases[i].rc);
    CHECK((s != NULL) == (rc == TSHOOT_OK));
    if (rc != TSHOOT_OK) CHECK_CONTAINS(tshoot_error_last()->message, cases[i].why);
    tshoot_session_free(s);
  }
  {
    /* NaN is outside every range */
    tshoot_session *s = NULL;
    tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
    o.conclude_at = NAN;
    CHECK_INT(tshoot_session_new(&s, kb, &o), TSHOOT_EINVALID);
    o.conclude_at = 0;
    o.noise = NAN;
    CHECK_INT(tshoot_session_new(&s, kb, &o), TSHOOT_EINVALID);
    CHECK(s == NULL);
  }
}

/* A KB with one fix that has a script and needs admin rights. */
static const char refuse_xml[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<kb xmlns=\"urn:tshoot:kb:1\" id=\"refuse\">\n"
  "  <question id=\"light.on\" type=\"yesno\"><prompt>Is the light on?</prompt></question>\n"
  "  <question id=\"power.on\" type=\"yesno\" probe=\"power.lua\"><prompt>Is there power?</prompt></question>\n"
  "  <article id=\"dark\">\n"
  "    <title>The room is dark</title>\n"
  "    <symptoms><symptom>The room stays dark</symptom></symptoms>\n"
  "    <cause id=\"bulb\" prior=\"0.5\">\n"
  "      <title>The bulb is broken</title><explanation>It burnt out.</explanation>\n"
  "      <evidence><answer question=\"power.on\" value=\"yes\" p=\"0.9\"/></evidence>\n"
  "      <fix id=\"new-bulb\" cost=\"1\" admin=\"yes\" script=\"new-bulb.lua\"><title>Change the bulb</title>"
  "<step>Screw in a new one.</step></fix>\n"
  "    </cause>\n"
  "    <cause id=\"fuse\" prior=\"0.5\">\n"
  "      <title>The fuse blew</title><explanation>Too much load.</explanation>\n"
  "      <evidence><answer question=\"power.on\" value=\"yes\" p=\"0.2\"/></evidence>\n"
  "      <fix id=\"new-fuse\" cost=\"1\"><title>Change the fuse</title><step>Replace it.</step></fix>\n"
  "    </cause>\n"
  "  </article>\n"
  "</kb>\n";
static const char refuse_lua[] =
  "local fix, done = {}, false\n"
  "function fix.apply() done = true end\n"
  "function fix.verify() if done then return true end return false, \"not yet\" end\n"
  "return fix\n";
static char refuse_db[512];

static int write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

static void test_session__refused_fix_is_no_evidence(void)
{
  tshoot_kb *rk = NULL;
  tshoot_host *h = NULL;
  tshoot_host_ops ops;
  tshoot_session *s = NULL;
  tshoot_run *run = NULL;
  const tshoot_fix_report *f;
  size_t n;
  double before;
  memset(&ops, 0, sizeof ops);
  ops.version = TSHOOT_HOST_OPS_VERSION;    /* no ui_confirm: every confirmation is refused */
  CHECK_INT(tshoot_kb_open(&rk, refuse_db, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
  if (!rk || !h) goto out;
  CHECK_INT(tshoot_session_new(&s, rk, NULL), TSHOOT_OK);
  if (!s) goto out;
  CHECK_INT(tshoot_session_set_host(s, h, NULL), TSHOOT_OK);
  before = prob_of(s, "bulb");
  CHECK_INT(tshoot_session_run_fix(&run, s, "new-bulb", 0), TSHOOT_OK);
  CHECK(run != NULL);
  if (run) CHECK_INT(run->status, TSHOOT_EUSER);
  tshoot_run_free(run);
  /* not tried: no report, the ranking is as before */
  CHECK_INT(tshoot_session_fixes(&f, &n, s), TSHOOT_OK);
  CHECK_INT(n, 0);
  CHECK(fabs(prob_of(s, "bulb") - before) < 1e-12);
  /* and it is not proposed again (it would be refused again): the dialogue
  ** goes on to other steps */
  {
    int k;
    for (k = 0; k < 10; k++) {
      const tshoot_step *st = NULL;
      CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
      if (!st || st->kind == TSHOOT_STEP_CONCLUDE) break;
      if (st->kind == TSHOOT_STEP_ASK) {
        CHECK_INT(tshoot_session_answer(s, st->question, "yes"), TSHOOT_OK);
      } else {
        CHECK(strcmp(st->fix, "new-bulb") != 0);
        CHECK_INT(tshoot_session_fix_result(s, st->fix, 0), TSHOOT_OK);
      }
    }
    CHECK(k < 10);
  }
  CHECK_INT(tshoot_session_fixes(&f, &n, s), TSHOOT_OK);
  for (size_t i = 0; i < n; i++) CHECK(strcmp(f[i].fix, "new-bulb") != 0);
  before = prob_of(s, "bulb");
  /* a fix reported as not working is evidence, for comparison */
  CHECK_INT(tshoot_session_fix_result(s, "new-bulb", 0), TSHOOT_OK);
  CHECK(prob_of(s, "bulb") < before);
out:
  tshoot_session_free(s);
  tshoot_host_free(h);
  tshoot_kb_close(rk);
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* n bytes of a pasted log that names the DNS error, with many distinct words. */
static char *long_text(size_t n)
{
  char *p = malloc(n + 1);
  size_t k = 0, i = 0;
  if (!p) return NULL;
  while (k < n) {
    char w[96];
    int m = i % 7 == 0 ? snprintf(w, sizeof w, "ERR_NAME_NOT_RESOLVED server DNS address could not be found ")
                       : snprintf(w, sizeof w, "line%zu word%zux ", i, i * 7919);
    size_t c = (size_t)m < n - k ? (size_t)m : n - k;
    memcpy(p + k, w, c);
    k += c;
    i++;
  }
  p[n] = '\0';
  return p;
}

/* Time describe on n bytes; the DNS symptom must be found. */
static double describe_ms(size_t n)
{
  tshoot_session *s = NULL;
  char *text = long_text(n);
  double t0, t1;
  CHECK(text != NULL);
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s || !text) { free(text); tshoot_session_free(s); return 0; }
  t0 = now_ms();
  CHECK_INT(tshoot_session_describe(s, text, n), TSHOOT_OK);
  t1 = now_ms();
  {
    const tshoot_cause_rank *r;
    size_t k;
    CHECK_INT(tshoot_session_causes(&r, &k, s), TSHOOT_OK);
    CHECK_STR(r[0].cause, "dns-broken");   /* the error's symptom counted */
  }
  free(text);
  tshoot_session_free(s);
  return t1 - t0;
}

static void test_session__long_description_is_linear(void)
{
  double small = describe_ms(64 << 10), big = describe_ms(1 << 20);
  printf("  describe: 64 KiB in %.1f ms, 1 MiB in %.1f ms\n", small, big);
  /* quadratic, 1 MiB took minutes; linear, well under 100 ms in a release
  ** build. The bound leaves room for sanitizers and a busy machine. */
  CHECK(big < 5000);
  {
    /* a saved session carrying nearly 1 MiB of text loads as fast */
    tshoot_session *s = NULL, *r = NULL;
    size_t n = (1 << 20) - 4096;
    char *text = long_text(n), *json = NULL;
    double t0, t1;
    CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
    if (s && text) CHECK_INT(tshoot_session_describe(s, text, n), TSHOOT_OK);
    if (s) CHECK_INT(tshoot_session_save(&json, s), TSHOOT_OK);
    t0 = now_ms();
    if (json) CHECK_INT(tshoot_session_load(&r, kb, json, strlen(json), NULL), TSHOOT_OK);
    t1 = now_ms();
    printf("  load: %zu bytes in %.1f ms\n", json ? strlen(json) : 0, t1 - t0);
    CHECK(t1 - t0 < 5000);
    CHECK(r != NULL && strlen(tshoot_session_text(r)) == n);
    free(text);
    tshoot_free(json);
    tshoot_session_free(s);
    tshoot_session_free(r);
  }
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
  size_t i;
  for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_session__hmac_known_answers(void)
{
  /* RFC 4231 test cases 2 and 6 (a key longer than the block) */
  unsigned char mac[32], key[131];
  char hex[65];
  const char *d2 = "what do ya want for nothing?";
  const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  session_hmac_sha256((const unsigned char *)"Jefe", 4, d2, 10, d2 + 10, strlen(d2) - 10, mac);
  hex_of(mac, 32, hex);
  CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  memset(key, 0xaa, sizeof key);
  session_hmac_sha256(key, sizeof key, d6, strlen(d6), "", 0, mac);
  hex_of(mac, 32, hex);
  CHECK_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static int load_rc(const char *json, size_t len, const char *key)
{
  tshoot_session *r = NULL;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  int rc;
  o.key = key;
  o.key_len = key ? strlen(key) : 0;
  rc = tshoot_session_load(&r, kb, json, len, &o);
  CHECK((r != NULL) == (rc == TSHOOT_OK));
  tshoot_session_free(r);
  return rc;
}

static void test_session__signed_sessions(void)
{
  tshoot_session *s = NULL, *u = NULL, *r = NULL;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  char *signed_json = NULL, *plain = NULL, *again = NULL, *bad;
  const char *p;
  size_t n;
  o.key = "server secret";
  o.key_len = 13;
  CHECK_INT(tshoot_session_new(&s, kb, &o), TSHOOT_OK);
  CHECK_INT(tshoot_session_new(&u, kb, NULL), TSHOOT_OK);
  if (!s || !u) goto out;
  CHECK_INT(tshoot_session_answer(s, "wifi.connected", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(u, "wifi.connected", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_save(&signed_json, s), TSHOOT_OK);
  CHECK_INT(tshoot_session_save(&plain, u), TSHOOT_OK);
  if (!signed_json || !plain) goto out;
  n = strlen(signed_json);
  /* the same content, plus the MAC as the last member */
  CHECK(n == strlen(plain) + 8 + 64 + 1);
  CHECK(strncmp(signed_json, plain, strlen(plain) - 1) == 0);
  CHECK((p = strstr(signed_json, ",\"mac\":\"")) != NULL && p[8 + 64] == '"' && p[8 + 64 + 1] == '}');
  /* loads with its key, and saves to the same bytes (it keeps the key) */
  CHECK_INT(tshoot_session_load(&r, kb, signed_json, n, &o), TSHOOT_OK);
  if (r) {
    CHECK_INT(tshoot_session_save(&again, r), TSHOOT_OK);
    CHECK_STR(again, signed_json);
  }
  CHECK_INT(load_rc(signed_json, n, "server secret"), TSHOOT_OK);
  /* trailing white space is not content */
  {
    char *nl = malloc(n + 2);
    memcpy(nl, signed_json, n);
    memcpy(nl + n, "\n", 2);
    CHECK_INT(load_rc(nl, n + 1, "server secret"), TSHOOT_OK);
    free(nl);
  }
  /* one byte changed anywhere in the content: refused whole */
  bad = malloc(n + 1);
  memcpy(bad, signed_json, n + 1);
  p = strstr(bad, "\"yes\"");
  CHECK(p != NULL);
  if (p) {
    bad[p - bad + 1] = 'Y';             /* still a valid answer: only the MAC can tell */
    CHECK_INT(load_rc(bad, n, "server secret"), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "MAC does not match");
    memcpy(bad, signed_json, n + 1);
  }
  bad[n - 3] = bad[n - 3] == '0' ? '1' : '0';   /* a byte of the MAC itself */
  CHECK_INT(load_rc(bad, n, "server secret"), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "MAC does not match");
  free(bad);
  /* another key */
  CHECK_INT(load_rc(signed_json, n, "server secreT"), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "MAC does not match");
  /* no MAC: refused when a key is set */
  CHECK_INT(load_rc(plain, strlen(plain), "server secret"), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "not signed");
  /* a MAC not at the end is no signature */
  {
    char forged[4096];
    snprintf(forged, sizeof forged, "{\"mac\":\"%s\",%s", p ? "x" : "x", plain + 1);
    CHECK_INT(load_rc(forged, strlen(forged), "server secret"), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "not signed");
  }
  /* without a key the MAC is not checked: the session loads */
  CHECK_INT(load_rc(signed_json, n, NULL), TSHOOT_OK);
  {
    /* a key needs its length; a version 1 caller has no key */
    tshoot_session *x = NULL;
    tshoot_session_options k0 = TSHOOT_SESSION_OPTIONS_INIT, v1 = TSHOOT_SESSION_OPTIONS_INIT;
    k0.key = "k";
    CHECK_INT(tshoot_session_new(&x, kb, &k0), TSHOOT_EINVALID);
    CHECK_INT(tshoot_session_load(&x, kb, signed_json, n, &k0), TSHOOT_EINVALID);
    CHECK(x == NULL);
    v1.version = 1;
    v1.key = "not read";
    v1.key_len = 8;
    CHECK_INT(tshoot_session_load(&x, kb, plain, strlen(plain), &v1), TSHOOT_OK);
    tshoot_session_free(x);
  }
out:
  tshoot_free(signed_json);
  tshoot_free(plain);
  tshoot_free(again);
  tshoot_session_free(s);
  tshoot_session_free(u);
  tshoot_session_free(r);
}

static const char *source_of(tshoot_session *s, const char *q)
{
  const tshoot_answer_info *a;
  size_t n, i;
  if (tshoot_session_answers(&a, &n, s) != TSHOOT_OK) return NULL;
  for (i = 0; i < n; i++) if (strcmp(a[i].question, q) == 0) return a[i].source;
  return NULL;
}

static void test_session__probe_claims_need_a_signature(void)
{
  tshoot_kb *rk = NULL;
  tshoot_host *h = NULL;
  tshoot_host_ops ops;
  tshoot_session *s = NULL, *r = NULL;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  const tshoot_step *st;
  char *json = NULL;
  memset(&ops, 0, sizeof ops);
  ops.version = TSHOOT_HOST_OPS_VERSION;
  o.key = "k3y";
  o.key_len = 3;
  CHECK_INT(tshoot_kb_open(&rk, refuse_db, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
  if (!rk || !h) goto out;
  CHECK_INT(tshoot_session_new(&s, rk, &o), TSHOOT_OK);
  if (!s) goto out;
  CHECK_INT(tshoot_session_set_host(s, h, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);        /* the probe answers power.on */
  CHECK_STR(source_of(s, "power.on"), "probe");
  CHECK_INT(tshoot_session_save(&json, s), TSHOOT_OK);
  if (!json) goto out;
  CHECK_CONTAINS(json, "\"source\":\"probe\"");
  /* signed and checked: the library's own word */
  CHECK_INT(tshoot_session_load(&r, rk, json, strlen(json), &o), TSHOOT_OK);
  if (r) CHECK_STR(source_of(r, "power.on"), "probe");
  tshoot_session_free(r);
  r = NULL;
  /* unchecked: the claim is ignored, the answer is the person's */
  CHECK_INT(tshoot_session_load(&r, rk, json, strlen(json), NULL), TSHOOT_OK);
  if (r) CHECK_STR(source_of(r, "power.on"), "user");
  tshoot_session_free(r);
  r = NULL;
  {
    /* a forged unsigned session marking its own answer as a probe's */
    char forged[512], digest[80];
    tshoot_kb_info info;
    CHECK_INT(tshoot_kb_info_get(&info, kb), TSHOOT_OK);
    snprintf(digest, sizeof digest, "%s", info.digest);
    snprintf(forged, sizeof forged, "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[{\"question\":\"vpn.on\","
             "\"answer\":\"yes\",\"source\":\"probe\"}],\"fixes\":[{\"fix\":\"vpn-off\",\"outcome\":\"did_not_work\"}]}", digest);
    CHECK_INT(tshoot_session_load(&r, kb, forged, strlen(forged), NULL), TSHOOT_OK);
    if (r) CHECK_STR(source_of(r, "vpn.on"), "user");
  }
out:
  tshoot_free(json);
  tshoot_session_free(s);
  tshoot_session_free(r);
  tshoot_host_free(h);
  tshoot_kb_close(rk);
}

/* Copy tmpl into buf with "%s" replaced by digest and "%.0s" dropped. */
static void fill(char *buf, size_t n, const char *tmpl, const char *digest)
{
  ts_buf b = TS_BUF_INIT;
  const char *p = tmpl;
  while (*p) {
    if (strncmp(p, "%.0s", 4) == 0) { p += 4; continue; }
    if (strncmp(p, "%s", 2) == 0) { ts_buf_adds(&b, digest); p += 2; continue; }
    ts_buf_addc(&b, *p++);
  }
  snprintf(buf, n, "%s", ts_buf_cstr(&b) ? ts_buf_cstr(&b) : "");
  ts_buf_free(&b);
}

static void test_session__forged_saves_are_refused_whole(void)
{
  tshoot_session *s = NULL;
  char *good = NULL, digest[80], buf[4096];
  const tshoot_kb_info *ip;
  tshoot_kb_info info;
  size_t i;
  CHECK_INT(tshoot_kb_info_get(&info, kb), TSHOOT_OK);
  ip = &info;
  snprintf(digest, sizeof digest, "%s", ip->digest);
  {
    const struct { const char *json; int rc; const char *why; } cases[] = {
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[],\"answers\":[]}", TSHOOT_EINVALID, "" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":{}}", TSHOOT_EINVALID, "must be an array" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[{\"question\":\"nope\",\"answer\":\"yes\"}]}", TSHOOT_EINVALID, "unknown question" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[{\"question\":\"router.lights\",\"answer\":\"purple\"}]}", TSHOOT_EINVALID, "not an answer" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[{\"question\":\"vpn.on\",\"answer\":\"y\\u0000es\"}]}", TSHOOT_EINVALID, "" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[{\"question\":\"vpn.on\",\"answer\":1}]}", TSHOOT_EINVALID, "string or null" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[{\"question\":\"vpn.on\",\"answer\":\"yes\"},{\"question\":\"vpn.on\",\"answer\":\"no\"}]}", TSHOOT_EINVALID, "answered twice" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"posterior\":[1,0]}", TSHOOT_EINVALID, "unknown key 'posterior'" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"fixes\":[{\"fix\":\"nope\",\"outcome\":\"worked\"}]}", TSHOOT_EINVALID, "unknown fix" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"symptoms\":[{\"symptom\":\"nope\"}]}", TSHOOT_EINVALID, "unknown symptom" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"noise\":\"high\"}", TSHOOT_EINVALID, "noise" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"noise\":0.5}", TSHOOT_EINVALID, "noise" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"noise\":0}", TSHOOT_EINVALID, "noise" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"conclude_at\":1.5}", TSHOOT_EINVALID, "conclude_at" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"conclude_at\":-1e-300}", TSHOOT_EINVALID, "conclude_at" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"conclude_at\":1e999}", TSHOOT_EINVALID, "" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"flags\":4}", TSHOOT_EINVALID, "flags" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"flags\":-1}", TSHOOT_EINVALID, "flags" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"symptoms\":[{\"symptom\":\"site-not-loading#2\"},{\"symptom\":\"site-not-loading#2\"}]}", TSHOOT_EINVALID, "given twice" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"fixes\":[{\"fix\":\"wait\",\"outcome\":\"worked\"},{\"fix\":\"wait\",\"outcome\":\"did_not_work\"}]}", TSHOOT_EINVALID, "reported twice" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"mac\":1}", TSHOOT_EINVALID, "'mac' must be a string" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\"} trailing", TSHOOT_EINVALID, "not valid JSON" },
      { "{\"tshoot_session\":2,\"kb\":\"%s\",\"answers\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}", TSHOOT_EINVALID, "nested" },
      { "{\"tshoot_session\":3,\"kb\":\"%s\"}", TSHOOT_EVERSION, "format" },
      { "{\"tshoot_session\":2,\"kb\":\"0000000000000000000000000000000000000000000000000000000000000000%.0s\",\"answers\":[{\"question\":\"vpn.on\",\"digest\":\"0000000000000000\",\"answer\":\"yes\"}]}", TSHOOT_EVERSION, "changed what this session used: question 'vpn.on' has changed" },
      { "[1,2,3]%.0s", TSHOOT_EINVALID, "" },
      { "%.0s", TSHOOT_EINVALID, "" },
    };
    for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
      int rc;
      fill(buf, sizeof buf, cases[i].json, digest);
      rc = tshoot_session_load(&s, kb, buf, strlen(buf), NULL);
      if (rc != cases[i].rc) fprintf(stderr, "  case %zu: %s -> %d %s\n", i, buf, rc, tshoot_error_last()->message);
      CHECK_INT(rc, cases[i].rc);
      CHECK(s == NULL);
      CHECK_CONTAINS(tshoot_error_last()->message, cases[i].why);
      tshoot_session_free(s);
      s = NULL;
    }
  }
  {
    /* over 1 MiB */
    size_t big = 2u << 20;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = '\0';
    CHECK_INT(tshoot_session_load(&s, kb, huge, big, NULL), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "1 MiB");
    free(huge);
  }
  (void)good;
}

/* One pass over the allocating paths: new, describe, answers, next, causes,
** why, how, a fix report, save, load, next and save again. *out gets the
** second save (the caller frees it). Everything is freed on every path. */
static int sweep_once(char **out)
{
  tshoot_session *s = NULL, *r = NULL;
  const tshoot_step *st;
  const tshoot_cause_rank *cr;
  const tshoot_fix_report *f;
  const tshoot_answer_info *a;
  tshoot_explanation *e = NULL;
  char *json = NULL;
  size_t n;
  int rc;
  *out = NULL;
  if ((rc = tshoot_session_new(&s, kb, NULL)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_describe(s, "ERR_NAME_NOT_RESOLVED page cannot be reached", 44)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_answer(s, "wifi.connected", "Y")) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_answer(s, "router.lights", "Green")) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_unknown(s, "vpn.on")) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_next(&st, s)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_causes(&cr, &n, s)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_why(&e, s, "dns.works")) != TSHOOT_OK) goto done;
  tshoot_explanation_free(e);
  e = NULL;
  if ((rc = tshoot_session_how(&e, s, NULL)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_fix_result(s, "vpn-off", 0)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_fixes(&f, &n, s)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_save(&json, s)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_load(&r, kb, json, strlen(json), NULL)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_next(&st, r)) != TSHOOT_OK) goto done;
  if ((rc = tshoot_session_answers(&a, &n, r)) != TSHOOT_OK) goto done;
  rc = tshoot_session_save(out, r);
done:
  tshoot_explanation_free(e);
  tshoot_free(json);
  tshoot_session_free(s);
  tshoot_session_free(r);
  return rc;
}

static void test_session__allocation_failures(void)
{
  char *want = NULL;
  long n;
  int ok = 0, failed = 0, misreported = 0;
  /* jansson allocates through our allocator too, so save and load fail as well */
  json_set_alloc_funcs(ts_malloc, ts_free);
  CHECK_INT(sweep_once(&want), TSHOOT_OK);
  if (!want) return;
  for (n = 0; n < 20000 && !ok; n++) {
    char *got = NULL;
    int rc;
    ts_alloc_fail_after(n);
    rc = sweep_once(&got);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) {
      ok = 1;
      CHECK_STR(got, want);
    } else if (rc == TSHOOT_EINVALID && strstr(tshoot_error_last()->message, "refused: not valid JSON")) {
      /* jansson's lexer reports some allocation failures as syntax errors:
      ** a clean refusal, if not the right code */
      CHECK(got == NULL);
      failed++;
      misreported++;
    } else {
      if (rc != TSHOOT_ENOMEM) fprintf(stderr, "  allocation %ld: %d %s\n", n, rc, tshoot_error_last()->message);
      CHECK_INT(rc, TSHOOT_ENOMEM);
      CHECK(got == NULL);
      failed++;
    }
    tshoot_free(got);
  }
  json_set_alloc_funcs(malloc, free);
  printf("  %d allocation points failed in turn (%d seen by jansson as bad JSON), then a full pass\n",
         failed, misreported);
  CHECK(ok);
  tshoot_free(want);
}

typedef struct thread_arg { int ok; } thread_arg;

static void *thread_main(void *p)
{
  thread_arg *a = p;
  int i;
  a->ok = 1;
  for (i = 0; i < 30; i++) {
    const oracle *o = &oracles[i % TS_ARRAY_LEN(oracles)];
    tshoot_session_options opts = TSHOOT_SESSION_OPTIONS_INIT;
    tshoot_session *s = NULL;
    const tshoot_step *st;
    int steps = 0;
    opts.flags = TSHOOT_SESSION_NO_FIXES;
    if (tshoot_session_new(&s, kb, &opts) != TSHOOT_OK) { a->ok = 0; break; }
    while (steps++ < 40 && tshoot_session_next(&st, s) == TSHOOT_OK && st->kind == TSHOOT_STEP_ASK) {
      char buf[64];
      if (oracle_answer(o, st->question, buf, sizeof buf)) tshoot_session_answer(s, st->question, buf);
      else tshoot_session_unknown(s, st->question);
    }
    if ((st->kind != TSHOOT_STEP_CONCLUDE && st->kind != TSHOOT_STEP_INCONCLUSIVE) || strcmp(st->cause, o->cause) != 0)
      a->ok = 0;
    tshoot_session_free(s);
  }
  return NULL;
}

static void test_session__many_threads_share_one_kb(void)
{
  pthread_t t[6];
  thread_arg a[6];
  int i;
  for (i = 0; i < 6; i++) pthread_create(&t[i], NULL, thread_main, &a[i]);
  for (i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    CHECK(a[i].ok);
  }
}

int main(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char src[1024], src2[1024];
  char src3[1024], lua[1024];
  const char *s1 = src, *s2 = src2, *s3 = src3;
  snprintf(src, sizeof src, "%s/tests/data/session/web.xml", root ? root : "..");
  snprintf(src2, sizeof src2, "%s/tests/data/session/empty.xml", root ? root : "..");
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-test-session-XXXXXX");
  if (!mkdtemp(tmpdir)) return 99;
  snprintf(web_db, sizeof web_db, "%s/web.db", tmpdir);
  snprintf(empty_db, sizeof empty_db, "%s/empty.db", tmpdir);
  snprintf(refuse_db, sizeof refuse_db, "%s/refuse.db", tmpdir);
  snprintf(src3, sizeof src3, "%s/refuse.xml", tmpdir);
  snprintf(lua, sizeof lua, "%s/new-bulb.lua", tmpdir);
  if (write_file(src3, refuse_xml) != 0 || write_file(lua, refuse_lua) != 0) return 99;
  snprintf(lua, sizeof lua, "%s/power.lua", tmpdir);
  if (write_file(lua, "return \"yes\"\n") != 0) return 99;
  if (tshoot_compile(NULL, &s1, 1, web_db, NULL) != TSHOOT_OK ||
      tshoot_compile(NULL, &s3, 1, refuse_db, NULL) != TSHOOT_OK ||
      tshoot_compile(NULL, &s2, 1, empty_db, NULL) != TSHOOT_OK ||
      tshoot_kb_open(&kb, web_db, NULL) != TSHOOT_OK) {
    fprintf(stderr, "fixture: %s\n", tshoot_error_last()->message);
    return 99;
  }
  RUN(test_session__every_cause_is_reached_without_fixes);
  RUN(test_session__every_cause_is_reached_with_fixes);
  RUN(test_session__written_order_asks_at_least_as_many);
  RUN(test_session__change_retract_undo);
  RUN(test_session__bad_answers_say_why);
  RUN(test_session__answer_forms_are_decided_here);
  RUN(test_session__option_bounds_are_decided_here);
  RUN(test_session__refused_fix_is_no_evidence);
  RUN(test_session__contradictions_stay_finite);
  RUN(test_session__empty_kb_is_inconclusive);
  RUN(test_session__text_narrows_and_symptoms_count);
  RUN(test_session__long_description_is_linear);
  RUN(test_session__fix_reports_are_evidence);
  RUN(test_session__explanations);
  RUN(test_session__save_and_restore);
  RUN(test_session__fixes_and_text_are_readable);
  RUN(test_session__load_options_keep_saved_values);
  RUN(test_session__hmac_known_answers);
  RUN(test_session__signed_sessions);
  RUN(test_session__probe_claims_need_a_signature);
  RUN(test_session__forged_saves_are_refused_whole);
  RUN(test_session__many_threads_share_one_kb);
  RUN(test_session__allocation_failures);
  tshoot_kb_close(kb);
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  TEST_EXIT();
}
