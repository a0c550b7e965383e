/*
** test-dialogue.c: the parts of a dialogue a person meets, through the C API,
** on tests/data/session/dialogue.xml: a question asked only when it makes
** sense (<ask-when>, and why says so), answers filled from the person's
** words (<phrase>), fix outcomes (only "did not work" is evidence; back
** undoes a report), fixes that do the same thing are not proposed after one
** failed (one script; same-as), an inconclusive end with the KB's escalation
** advice, a 200-cause KB that still concludes on one answer, the one reader
** of replies (tshoot_session_read), and saved sessions that survive a
** rebuilt KB where what they used is unchanged.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];
static char src_path[1024];
static tshoot_kb *kb;

static int write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

static char *read_all(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *b;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
  if (b) b[n] = '\0';
  fclose(f);
  return b;
}

static int compile_text(const char *name, const char *xml, char *db, size_t dbn)
{
  char src[600];
  const char *s = src;
  snprintf(src, sizeof src, "%s/%s.xml", tmpdir, name);
  snprintf(db, dbn, "%s/%s.db", tmpdir, name);
  if (write_file(src, xml) != 0) return -1;
  /* the fixture's script lives next to the source */
  {
    char lua[600];
    snprintf(lua, sizeof lua, "%s/charge.lua", tmpdir);
    if (write_file(lua, "return true\n") != 0) return -1;
  }
  return tshoot_compile(NULL, &s, 1, db, NULL);
}

static double prob_of(tshoot_session *s, const char *cause)
{
  const tshoot_cause_rank *r;
  size_t n, i;
  if (tshoot_session_causes(&r, &n, s) != TSHOOT_OK) return -1;
  for (i = 0; i < n; i++) if (strcmp(r[i].cause, cause) == 0) return r[i].probability;
  return 0;
}

static const char *answer_of(tshoot_session *s, const char *q, const char **source)
{
  const tshoot_answer_info *a;
  size_t n, i;
  if (tshoot_session_answers(&a, &n, s) != TSHOOT_OK) return NULL;
  for (i = 0; i < n; i++)
    if (strcmp(a[i].question, q) == 0) {
      if (source) *source = a[i].source;
      return a[i].value ? a[i].value : "?";
    }
  return NULL;
}

static void test_dialogue__ask_only_when_it_makes_sense(void)
{
  tshoot_session *s = NULL;
  const tshoot_step *st;
  tshoot_explanation *e = NULL;
  int steps = 0;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "no"), TSHOOT_OK);
  /* with the engine dead the tank is never asked about */
  while (steps++ < 10 && tshoot_session_next(&st, s) == TSHOOT_OK && st->kind == TSHOOT_STEP_ASK) {
    CHECK(strcmp(st->question, "tank.empty") != 0);
    CHECK_INT(tshoot_session_unknown(s, st->question), TSHOOT_OK);
  }
  CHECK_INT(tshoot_session_why(&e, s, "tank.empty"), TSHOOT_OK);
  if (e) {
    CHECK_CONTAINS(e->text, "not asked now: it makes sense only when");
    CHECK_CONTAINS(e->text, "Does the engine turn over when you turn the key?");
    tshoot_explanation_free(e);
  }
  tshoot_session_free(s);
  s = NULL;
  /* with the engine turning it makes sense (and why says what it tells apart) */
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_why(&e, s, "tank.empty"), TSHOOT_OK);
  if (e) {
    CHECK(strstr(e->text, "not asked now") == NULL);
    tshoot_explanation_free(e);
  }
  tshoot_session_free(s);
}

static void test_dialogue__words_answer_questions(void)
{
  tshoot_session *s = NULL;
  const char *text = "Nothing happens when I turn the key this morning", *src = NULL;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_describe(s, text, strlen(text)), TSHOOT_OK);
  CHECK_STR(answer_of(s, "engine.turns", &src), "no");
  if (src) CHECK_STR(src, "text");
  /* the person may change it: then it is theirs */
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "yes"), TSHOOT_OK);
  CHECK_STR(answer_of(s, "engine.turns", &src), "yes");
  if (src) CHECK_STR(src, "user");
  /* more words: a text answering both ways answers nothing */
  CHECK_INT(tshoot_session_retract(s, "engine.turns"), TSHOOT_OK);
  CHECK_INT(tshoot_session_add_text(s, "or the engine turns over, I am not sure", 39), TSHOOT_OK);
  CHECK(answer_of(s, "engine.turns", NULL) == NULL);
  tshoot_session_free(s);
}

/* The textbook car base: "my car will not start" answers "Does the engine
** start?" (it is not asked), and the tank is asked about only once the
** engine turns over. */
static void test_dialogue__car_words_and_conditions(void)
{
  char src[1024], db[600];
  const char *root = getenv("TSHOOT_SOURCE_ROOT"), *s1 = src, *source = NULL;
  tshoot_kb *car = NULL;
  tshoot_session *s = NULL;
  const tshoot_step *st;
  int steps = 0;
  snprintf(src, sizeof src, "%s/tests/data/car/car.xml", root ? root : "..");
  snprintf(db, sizeof db, "%s/car.db", tmpdir);
  CHECK_INT(tshoot_compile(NULL, &s1, 1, db, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_kb_open(&car, db, NULL), TSHOOT_OK);
  if (!car) return;
  CHECK_INT(tshoot_session_new(&s, car, NULL), TSHOOT_OK);
  if (s) {
    CHECK_INT(tshoot_session_describe(s, "my car will not start", 21), TSHOOT_OK);
    CHECK_STR(answer_of(s, "car.engine-starts", &source), "no");
    if (source) CHECK_STR(source, "text");
    CHECK_INT(tshoot_session_answer(s, "car.engine-rotates", "no"), TSHOOT_OK);
    while (steps++ < 15 && tshoot_session_next(&st, s) == TSHOOT_OK && st->kind == TSHOOT_STEP_ASK) {
      CHECK(strcmp(st->question, "car.engine-starts") != 0);
      CHECK(strcmp(st->question, "car.tank-has-gas") != 0);
      CHECK_INT(tshoot_session_unknown(s, st->question), TSHOOT_OK);
    }
    tshoot_session_free(s);
  }
  tshoot_kb_close(car);
}

static void test_dialogue__fix_outcomes(void)
{
  tshoot_session *s = NULL;
  const tshoot_fix_report *f;
  const tshoot_step *st;
  size_t n;
  double before, after;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  before = prob_of(s, "battery");
  /* could not try, skipped: no evidence */
  CHECK_INT(tshoot_session_fix_result(s, "fix.new-battery", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.fill", TSHOOT_FIX_SKIPPED), TSHOOT_OK);
  CHECK(fabs(prob_of(s, "battery") - before) < 1e-12);
  /* did not work: evidence against its cause */
  CHECK_INT(tshoot_session_fix_result(s, "fix.jump", TSHOOT_FIX_DID_NOT_WORK), TSHOOT_OK);
  after = prob_of(s, "battery");
  CHECK(after < before);
  CHECK_INT(tshoot_session_fixes(&f, &n, s), TSHOOT_OK);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_INT(f[0].outcome, TSHOOT_FIX_COULD_NOT_TRY);
    CHECK_INT(f[0].worked, 0);
    CHECK_STR(f[2].title, "Jump-start the car");
  }
  /* back takes the last report back, whatever came before */
  CHECK_INT(tshoot_session_answer(s, "lights.work", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.starter", TSHOOT_FIX_DID_NOT_WORK), TSHOOT_OK);
  CHECK_INT(tshoot_session_undo(s), TSHOOT_OK);
  CHECK_INT(tshoot_session_fixes(&f, &n, s), TSHOOT_OK);
  CHECK_INT(n, 3);
  CHECK_STR(answer_of(s, "lights.work", NULL), "no");
  CHECK_INT(tshoot_session_undo(s), TSHOOT_OK);
  CHECK(answer_of(s, "lights.work", NULL) == NULL);
  /* an outcome outside the enum */
  CHECK_INT(tshoot_session_fix_result(s, "fix.fill", (tshoot_fix_outcome)7), TSHOOT_EINVALID);
  /* a fix that worked concludes */
  CHECK_INT(tshoot_session_fix_result(s, "fix.fill", TSHOOT_FIX_WORKED), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  CHECK_INT(st->kind, TSHOOT_STEP_CONCLUDE);
  CHECK_STR(st->cause, "fuel");
  CHECK_STR(st->fix_title, "Fill the tank");
  tshoot_session_free(s);
}

/* The fixes proposed in a walk where every fix fails and every question
** gets `answers`' value; 1 if `never` was proposed. */
static int proposed(const char *first_fail, const char *never)
{
  tshoot_session *s = NULL;
  const tshoot_step *st;
  int steps = 0, seen = 0;
  if (tshoot_session_new(&s, kb, NULL) != TSHOOT_OK) return -1;
  tshoot_session_answer(s, "engine.turns", "no");
  tshoot_session_fix_result(s, first_fail, TSHOOT_FIX_DID_NOT_WORK);
  while (steps++ < 30 && tshoot_session_next(&st, s) == TSHOOT_OK) {
    if (st->kind == TSHOOT_STEP_ASK) tshoot_session_unknown(s, st->question);
    else if (st->kind == TSHOOT_STEP_FIX) {
      if (strcmp(st->fix, never) == 0) seen = 1;
      tshoot_session_fix_result(s, st->fix, TSHOOT_FIX_DID_NOT_WORK);
    } else break;
  }
  tshoot_session_free(s);
  return seen;
}

static void test_dialogue__the_same_fix_is_not_proposed_again(void)
{
  CHECK_INT(proposed("fix.jump", "fix.charge"), 0);          /* one script */
  CHECK_INT(proposed("fix.starter", "fix.tap-starter"), 0);  /* same-as, named the other way */
  CHECK_INT(proposed("fix.tap-starter", "fix.starter"), 0);
  /* a different fix of the same cause is still proposed */
  CHECK_INT(proposed("fix.jump", "fix.new-battery"), 1);
}

static void test_dialogue__nothing_known_is_inconclusive(void)
{
  tshoot_session *s = NULL;
  const tshoot_step *st;
  int steps = 0;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  o.flags = TSHOOT_SESSION_NO_FIXES;
  CHECK_INT(tshoot_session_new(&s, kb, &o), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_describe(s, "the car will not start", 22), TSHOOT_OK);
  while (steps++ < 20 && tshoot_session_next(&st, s) == TSHOOT_OK && st->kind == TSHOOT_STEP_ASK)
    CHECK_INT(tshoot_session_unknown(s, st->question), TSHOOT_OK);
  CHECK_INT(st->kind, TSHOOT_STEP_INCONCLUSIVE);
  CHECK_STR(st->escalation, "Call roadside assistance on 555-0199.");
  CHECK(st->cause != NULL && st->probability < 0.9);
  tshoot_session_free(s);
}

static void test_dialogue__two_hundred_causes_settled_by_one_answer(void)
{
  ts_buf x = TS_BUF_INIT;
  char db[600];
  tshoot_kb *big = NULL;
  int i, k;
  ts_buf_adds(&x, "<kb xmlns=\"urn:tshoot:kb:1\" id=\"big\"><question id=\"code\" type=\"choice\">"
                  "<prompt>Which error code is shown?</prompt>");
  for (i = 0; i < 200; i++) ts_buf_addf(&x, "<choice value=\"e%d\">Error %d</choice>", i, i);
  ts_buf_adds(&x, "</question><article id=\"a\"><title>Error codes</title>");
  for (i = 0; i < 200; i++)
    ts_buf_addf(&x, "<cause id=\"c%d\" prior=\"0.01\"><title>Cause %d</title><explanation>Code %d.</explanation>"
                "<evidence><answer question=\"code\" value=\"e%d\" p=\"0.98\"/></evidence></cause>", i, i, i, i);
  ts_buf_adds(&x, "</article></kb>\n");
  CHECK(!x.oom);
  CHECK_INT(compile_text("big", ts_buf_cstr(&x), db, sizeof db), TSHOOT_OK);
  ts_buf_free(&x);
  CHECK_INT(tshoot_kb_open(&big, db, NULL), TSHOOT_OK);
  if (!big) return;
  for (k = 0; k < 200; k += 37) {
    tshoot_session *s = NULL;
    const tshoot_step *st;
    char v[16], want[16];
    snprintf(v, sizeof v, "e%d", k);
    snprintf(want, sizeof want, "c%d", k);
    CHECK_INT(tshoot_session_new(&s, big, NULL), TSHOOT_OK);
    if (!s) continue;
    CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
    CHECK_INT(st->kind, TSHOOT_STEP_ASK);       /* nothing known: asks, names nothing */
    CHECK_INT(tshoot_session_answer(s, "code", v), TSHOOT_OK);
    CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
    CHECK_INT(st->kind, TSHOOT_STEP_CONCLUDE);
    CHECK_STR(st->cause, want);
    CHECK(st->probability >= 0.9);
    CHECK_INT((int)st->questions_asked, 1);
    tshoot_session_free(s);
  }
  {
    tshoot_session *s = NULL;
    const tshoot_step *st;
    CHECK_INT(tshoot_session_new(&s, big, NULL), TSHOOT_OK);
    if (s) {
      CHECK_INT(tshoot_session_unknown(s, "code"), TSHOOT_OK);
      CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
      CHECK_INT(st->kind, TSHOOT_STEP_INCONCLUSIVE);
      tshoot_session_free(s);
    }
  }
  tshoot_kb_close(big);
}

static void test_dialogue__replies_are_read_by_the_library(void)
{
  tshoot_session *s = NULL;
  const tshoot_step *st;
  tshoot_input in;
  static const struct { const char *text; tshoot_input_kind kind; const char *value; } ask[] = {
    { "the first one", TSHOOT_INPUT_ANSWER, "freezing" }, { "2", TSHOOT_INPUT_ANSWER, "mild" },
    { "HOT", TSHOOT_INPUT_ANSWER, "hot" }, { "  Below Freezing. ", TSHOOT_INPUT_ANSWER, "freezing" },
    { "last one", TSHOOT_INPUT_ANSWER, "hot" }, { "it is mild today", TSHOOT_INPUT_ANSWER, "mild" },
    { "no idea", TSHOOT_INPUT_UNKNOWN, NULL }, { "I don't know", TSHOOT_INPUT_UNKNOWN, NULL },
    { "back", TSHOOT_INPUT_BACK, NULL }, { "why?", TSHOOT_INPUT_WHY, NULL }, { "how", TSHOOT_INPUT_HOW, NULL },
    { "banana", TSHOOT_INPUT_UNCLEAR, NULL },
    { "the car also makes a clicking noise when I try", TSHOOT_INPUT_TEXT, NULL },
  };
  static const struct { const char *text; tshoot_fix_outcome outcome; } fix[] = {
    { "it worked", TSHOOT_FIX_WORKED }, { "yes", TSHOOT_FIX_WORKED }, { "nope", TSHOOT_FIX_DID_NOT_WORK },
    { "didn't work", TSHOOT_FIX_DID_NOT_WORK }, { "I can't, no admin rights", TSHOOT_FIX_COULD_NOT_TRY },
    { "no time now", TSHOOT_FIX_COULD_NOT_TRY }, { "skip", TSHOOT_FIX_SKIPPED },
    { "the first one", TSHOOT_FIX_WORKED }, { "2", TSHOOT_FIX_DID_NOT_WORK }, { "third", TSHOOT_FIX_COULD_NOT_TRY },
  };
  size_t i;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_read(&in, s, "yes", 3), TSHOOT_EINVALID);   /* no step yet */
  /* the temperature question: answer the others first */
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "lights.work", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.jump", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.charge", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.new-battery", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.starter", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.tap-starter", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.fill", TSHOOT_FIX_COULD_NOT_TRY), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  CHECK(st->kind == TSHOOT_STEP_ASK && strcmp(st->question, "temp") == 0);
  if (st->kind == TSHOOT_STEP_ASK && strcmp(st->question, "temp") == 0)
    for (i = 0; i < TS_ARRAY_LEN(ask); i++) {
      CHECK_INT(tshoot_session_read(&in, s, ask[i].text, strlen(ask[i].text)), TSHOOT_OK);
      if ((int)in.kind != (int)ask[i].kind) printf("  '%s' read as %d\n", ask[i].text, (int)in.kind);
      CHECK_INT(in.kind, ask[i].kind);
      if (ask[i].value) CHECK_STR(in.value, ask[i].value);
      if (ask[i].kind == TSHOOT_INPUT_UNCLEAR) CHECK_CONTAINS(in.message, "1 (Below freezing)");
    }
  /* yes/no words */
  tshoot_session_free(s);
  s = NULL;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "yes"), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  if (st->kind == TSHOOT_STEP_ASK) {
    CHECK_INT(tshoot_session_read(&in, s, "yep", 3), TSHOOT_OK);
    CHECK(in.kind == TSHOOT_INPUT_ANSWER && strcmp(in.value, "yes") == 0);
    CHECK_INT(tshoot_session_read(&in, s, "nah", 3), TSHOOT_OK);
    CHECK(in.kind == TSHOOT_INPUT_ANSWER && strcmp(in.value, "no") == 0);
  }
  /* at a fix */
  tshoot_session_free(s);
  s = NULL;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) return;
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "lights.work", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
  CHECK_INT(st->kind, TSHOOT_STEP_FIX);
  if (st->kind == TSHOOT_STEP_FIX) {
    char cause[64];
    snprintf(cause, sizeof cause, "%s", st->cause);
    for (i = 0; i < TS_ARRAY_LEN(fix); i++) {
      CHECK_INT(tshoot_session_read(&in, s, fix[i].text, strlen(fix[i].text)), TSHOOT_OK);
      CHECK_INT(in.kind, TSHOOT_INPUT_FIX);
      if (in.kind == TSHOOT_INPUT_FIX && in.outcome != fix[i].outcome) printf("  '%s' read as %d\n", fix[i].text, (int)in.outcome);
      CHECK_INT(in.outcome, fix[i].outcome);
    }
    /* input applies it */
    CHECK_INT(tshoot_session_input(s, "it worked!", 10, &in), TSHOOT_OK);
    CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
    CHECK_INT(st->kind, TSHOOT_STEP_CONCLUDE);
    CHECK_STR(st->cause, cause);
  }
  tshoot_session_free(s);
}

static void test_dialogue__sessions_survive_a_rebuilt_kb(void)
{
  char *xml = read_all(src_path), *json = NULL, db2[600], db3[600], *p;
  tshoot_session *s = NULL, *r = NULL;
  tshoot_kb *k2 = NULL, *k3 = NULL;
  ts_buf b = TS_BUF_INIT;
  CHECK(xml != NULL);
  if (!xml) return;
  CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
  if (!s) { free(xml); return; }
  CHECK_INT(tshoot_session_answer(s, "engine.turns", "no"), TSHOOT_OK);
  CHECK_INT(tshoot_session_answer(s, "temp", "freezing"), TSHOOT_OK);
  CHECK_INT(tshoot_session_fix_result(s, "fix.jump", TSHOOT_FIX_DID_NOT_WORK), TSHOOT_OK);
  CHECK_INT(tshoot_session_save(&json, s), TSHOOT_OK);
  /* rebuilt with a comment and a new question: the session loads, the same */
  p = strstr(xml, "</kb>");
  CHECK(p != NULL);
  if (!p || !json) goto out;
  ts_buf_add(&b, xml, (size_t)(p - xml));
  ts_buf_adds(&b, "<!-- deployed again --><question id=\"new.q\" type=\"yesno\"><prompt>New?</prompt></question></kb>\n");
  CHECK_INT(compile_text("rebuilt", ts_buf_cstr(&b), db2, sizeof db2), TSHOOT_OK);
  CHECK_INT(tshoot_kb_open(&k2, db2, NULL), TSHOOT_OK);
  if (k2) {
    CHECK_INT(tshoot_session_load(&r, k2, json, strlen(json), NULL), TSHOOT_OK);
    if (r) CHECK(fabs(prob_of(r, "battery") - prob_of(s, "battery")) < 1e-9);
    tshoot_session_free(r);
    r = NULL;
  }
  /* rebuilt with another choice for a question it answered: refused, saying what */
  ts_buf_free(&b);
  {
    const char *a = "<choice value=\"hot\">Hot</choice>";
    char *q = strstr(xml, a);
    CHECK(q != NULL);
    if (!q) goto out;
    ts_buf_add(&b, xml, (size_t)(q - xml) + strlen(a));
    ts_buf_adds(&b, "<choice value=\"scorching\">Scorching</choice>");
    ts_buf_adds(&b, q + strlen(a));
  }
  CHECK_INT(compile_text("changed", ts_buf_cstr(&b), db3, sizeof db3), TSHOOT_OK);
  CHECK_INT(tshoot_kb_open(&k3, db3, NULL), TSHOOT_OK);
  if (k3) {
    CHECK_INT(tshoot_session_load(&r, k3, json, strlen(json), NULL), TSHOOT_EVERSION);
    CHECK(r == NULL);
    CHECK_CONTAINS(tshoot_error_last()->message, "question 'temp' has changed");
    CHECK_CONTAINS(tshoot_error_last()->message, "start a new session");
  }
out:
  ts_buf_free(&b);
  tshoot_kb_close(k2);
  tshoot_kb_close(k3);
  tshoot_free(json);
  tshoot_session_free(s);
  free(xml);
}

int main(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char db[600];
  const char *src = src_path;
  snprintf(src_path, sizeof src_path, "%s/tests/data/session/dialogue.xml", root ? root : "..");
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-test-dialogue-XXXXXX");
  if (!mkdtemp(tmpdir)) return 99;
  snprintf(db, sizeof db, "%s/dialogue.db", tmpdir);
  if (tshoot_compile(NULL, &src, 1, db, NULL) != TSHOOT_OK || tshoot_kb_open(&kb, db, NULL) != TSHOOT_OK) {
    fprintf(stderr, "fixture: %s\n", tshoot_error_last()->message);
    return 99;
  }
  RUN(test_dialogue__ask_only_when_it_makes_sense);
  RUN(test_dialogue__words_answer_questions);
  RUN(test_dialogue__car_words_and_conditions);
  RUN(test_dialogue__fix_outcomes);
  RUN(test_dialogue__the_same_fix_is_not_proposed_again);
  RUN(test_dialogue__nothing_known_is_inconclusive);
  RUN(test_dialogue__two_hundred_causes_settled_by_one_answer);
  RUN(test_dialogue__replies_are_read_by_the_library);
  RUN(test_dialogue__sessions_survive_a_rebuilt_kb);
  tshoot_kb_close(kb);
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  TEST_EXIT();
}
