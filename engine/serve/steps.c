/*
** steps.c: the one place where HTTP bodies meet session calls.
**
** Request bodies (JSON, already parsed) become tshoot_session_* calls, and a
** session becomes the body the API returns: its step in words for people,
** the causes still in play, the answers and fix results so far. When the
** session API changes (fix outcomes as an enum, an "inconclusive" step, a
** parser for free-text replies), this file is what changes; api.c only
** loads, stores and answers.
*/
#include "serve.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void steps_session_options(tshoot_session_options *o)
{
  tshoot_session_options init = TSHOOT_SESSION_OPTIONS_INIT;
  *o = init;
  o->key = serve_cfg.key;
  o->key_len = sizeof serve_cfg.key;
}

/* Refuse members other than `allowed` (NULL-terminated). */
static int steps_members(json_t *body, const char *const *allowed, serve_problem *p)
{
  const char *key;
  json_t *v;
  if (!json_is_object(body))
    return serve_fail(p, 400, "", "the body must be a JSON object");
  json_object_foreach(body, key, v) {
    size_t i;
    for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++) {}
    if (!allowed[i]) return serve_fail(p, 400, key, "unknown member \"%s\"", key);
  }
  return 0;
}

/* An optional string member: *out NULL when absent. */
static int steps_string(json_t *body, const char *name, const char **out, serve_problem *p)
{
  json_t *v = json_object_get(body, name);
  *out = NULL;
  if (!v) return 0;
  if (!json_is_string(v)) return serve_fail(p, 400, name, "\"%s\" must be a string", name);
  *out = json_string_value(v);
  return 0;
}

int steps_check_revision(json_t *body, long long revision, serve_problem *p)
{
  json_t *v = body ? json_object_get(body, "revision") : NULL;
  if (!v) return 0;
  if (!json_is_integer(v))
    return serve_fail(p, 400, "revision", "\"revision\" must be an integer");
  if (json_integer_value(v) != revision) {
    serve_fail(p, 409, "revision", "the session has moved on: it is at revision %lld, "
               "the request was made at %lld; get the session and answer its current step",
               revision, (long long)json_integer_value(v));
    p->revision = revision;
    return -1;
  }
  return 0;
}

/* An answer given in a body: value (a choice, its label, a version...), or
** NULL for "don't know". */
static int steps_give(tshoot_session *s, const char *question, const char *value,
                      const char *field, serve_problem *p)
{
  int rc = value ? tshoot_session_answer(s, question, value) : tshoot_session_unknown(s, question);
  if (rc == TSHOOT_OK) return 0;
  if (rc == TSHOOT_ENOTFOUND)     /* no such question */
    return serve_fail(p, 400, strncmp(field, "answers.", 8) == 0 ? field : "question", "%s",
                      tshoot_error_last()->message);
  if (rc == TSHOOT_EINVALID)      /* a value the question does not allow */
    return serve_fail(p, 400, field, "%s", tshoot_error_last()->message);
  return serve_fail_lib(p, rc, field);
}

int steps_create(tshoot_session **out, tshoot_kb *kb, json_t *body, serve_problem *p)
{
  static const char *const allowed[] = { "text", "answers", "symptoms", NULL };
  tshoot_session_options o;
  tshoot_session *s = NULL;
  const char *text, *key;
  json_t *answers, *symptoms, *v;
  size_t i;
  int rc;
  *out = NULL;
  if (steps_members(body, allowed, p) || steps_string(body, "text", &text, p)) return -1;
  answers = json_object_get(body, "answers");
  if (answers && !json_is_object(answers))
    return serve_fail(p, 400, "answers", "\"answers\" must be an object: {\"question\": "
                      "\"value\" or null for don't know}");
  symptoms = json_object_get(body, "symptoms");
  if (symptoms && !json_is_array(symptoms))
    return serve_fail(p, 400, "symptoms", "\"symptoms\" must be an array of symptom ids");
  steps_session_options(&o);
  rc = tshoot_session_new(&s, kb, &o);
  if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "");
  if (text && (rc = tshoot_session_describe(s, text, strlen(text))) != TSHOOT_OK) {
    serve_fail_lib(p, rc, "text");
    goto fail;
  }
  json_array_foreach(symptoms, i, v) {
    char field[64];
    snprintf(field, sizeof field, "symptoms[%zu]", i);
    if (!json_is_string(v)) {
      serve_fail(p, 400, field, "a symptom is given by its id, a string");
      goto fail;
    }
    rc = tshoot_session_symptom(s, json_string_value(v));
    if (rc != TSHOOT_OK) {
      serve_fail(p, 400, field, "%s", tshoot_error_last()->message);
      goto fail;
    }
  }
  json_object_foreach(answers, key, v) {
    char field[128];
    snprintf(field, sizeof field, "answers.%.100s", key);
    if (!json_is_string(v) && !json_is_null(v)) {
      serve_fail(p, 400, field, "an answer is a string, or null for \"don't know\"");
      goto fail;
    }
    if (steps_give(s, key, json_string_value(v), field, p)) goto fail;
  }
  *out = s;
  return 0;
fail:
  tshoot_session_free(s);
  return -1;
}

/* A reply in the person's words, read by the library against the current
** step (one rule for every front-end): an answer, "don't know", a fix
** outcome, "back" or more description is applied; "why" and "how" change
** nothing (the client asks /why or /how); what it cannot read is a 400. */
static int steps_reply(tshoot_session *s, const char *text, json_t **reply, int *changed,
                       serve_problem *p)
{
  static const char *const kinds[] = { "unclear", "answer", "unknown", "fix", "back", "why",
                                       "how", "text" };
  const tshoot_step *step;
  tshoot_input in;
  int rc = tshoot_session_next(&step, s);     /* the step the reply is to */
  if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "");
  rc = tshoot_session_input(s, text, strlen(text), &in);
  if (rc == TSHOOT_ENOTFOUND) return serve_fail(p, 409, "text", "%s", tshoot_error_last()->message);
  if (rc == TSHOOT_EINVALID) return serve_fail(p, 400, "text", "%s", tshoot_error_last()->message);
  if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "text");
  if (in.kind == TSHOOT_INPUT_UNCLEAR)
    return serve_fail(p, 400, "text", "%s", in.message ? in.message : "the reply was not understood");
  *changed = in.kind != TSHOOT_INPUT_WHY && in.kind != TSHOOT_INPUT_HOW;
  *reply = json_pack("{s:s,s:o}", "kind", (unsigned)in.kind < 8 ? kinds[in.kind] : "text",
                     "message", in.message ? serve_jstr(in.message) : json_null());
  return 0;
}

int steps_answer(tshoot_session *s, json_t *body, json_t **reply, int *changed, serve_problem *p)
{
  static const char *const allowed[] = { "question", "value", "unknown", "text", "revision", NULL };
  const char *question, *value, *text;
  json_t *unknown;
  int forms;
  *reply = NULL;
  *changed = 1;
  if (steps_members(body, allowed, p) || steps_string(body, "question", &question, p) ||
      steps_string(body, "value", &value, p) || steps_string(body, "text", &text, p))
    return -1;
  unknown = json_object_get(body, "unknown");
  if (unknown && !json_is_true(unknown))
    return serve_fail(p, 400, "unknown", "\"unknown\" can only be true (\"don't know\")");
  forms = !!value + !!unknown + !!text;
  if (forms != 1)
    return serve_fail(p, 400, forms ? "value" : "", "give exactly one of \"value\" (a choice, "
                      "its label, a number or a version), \"unknown\": true, or \"text\" (what "
                      "the person replied)");
  if (text) {
    if (question)
      return serve_fail(p, 400, "question", "a reply in words is read against the current step: "
                        "send it without \"question\"");
    return steps_reply(s, text, reply, changed, p);
  }
  if (!question) {
    const tshoot_step *step;
    int rc = tshoot_session_next(&step, s);
    if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "");
    if (step->kind != TSHOOT_STEP_ASK)
      return serve_fail(p, 409, "question", "the current step asks no question; name the "
                        "question to change an earlier answer");
    question = step->question;
  }
  return steps_give(s, question, unknown ? NULL : value, "value", p);
}

int steps_back(tshoot_session *s, serve_problem *p)
{
  int rc = tshoot_session_undo(s);
  if (rc == TSHOOT_ENOTFOUND) return serve_fail(p, 409, "", "there is no answer to take back");
  return rc == TSHOOT_OK ? 0 : serve_fail_lib(p, rc, "");
}

/* The outcomes a person can report for a fix, in tshoot_fix_outcome's order. */
static const char *const steps_outcomes[] = { "did_not_work", "worked", "could_not_try", "skipped" };

static int steps_outcome(const char *s)
{
  int i;
  for (i = 0; i < 4; i++)
    if (strcmp(s, steps_outcomes[i]) == 0) return i;
  return -1;
}

static const char *steps_outcome_name(tshoot_fix_outcome o)
{
  return (unsigned)o < 4 ? steps_outcomes[o] : "did_not_work";
}

int steps_fix(tshoot_session *s, const char *fix, json_t *body, serve_problem *p)
{
  static const char *const allowed[] = { "outcome", "revision", NULL };
  const char *outcome;
  int o, rc;
  if (steps_members(body, allowed, p) || steps_string(body, "outcome", &outcome, p)) return -1;
  if (!outcome || (o = steps_outcome(outcome)) < 0)
    return serve_fail(p, 400, "outcome", "\"outcome\" must be \"worked\", \"did_not_work\", "
                      "\"could_not_try\" or \"skipped\"");
  /* did_not_work is evidence against the fix's cause; could_not_try and
  ** skipped are none, and the fix is not proposed again */
  rc = tshoot_session_fix_result(s, fix, (tshoot_fix_outcome)o);
  if (rc == TSHOOT_ENOTFOUND)
    return serve_fail(p, 404, "fix", "%s", tshoot_error_last()->message);
  return rc == TSHOOT_OK ? 0 : serve_fail_lib(p, rc, "fix");
}

/* ===== the session as the API shows it ===== */

static json_t *steps_fix_json(const tshoot_fix_info *f)
{
  json_t *steps = json_array();
  size_t i;
  for (i = 0; i < f->n_steps; i++) json_array_append_new(steps, serve_jstr(f->steps[i]));
  return json_pack("{s:o,s:o,s:o,s:o,s:s,s:b,s:b}", "id", serve_jstr(f->id),
                   "title", serve_jstr(f->title), "steps", steps,
                   "verify", f->verify ? serve_jstr(f->verify) : json_null(),
                   "risk", f->risk ? f->risk : "low", "needs_admin", f->needs_admin,
                   "reversible", f->reversible);
}

static json_t *steps_cause_json(const char *id, const char *title, const char *article, double pr)
{
  return json_pack("{s:o,s:o,s:o,s:f}", "id", serve_jstr(id), "title", serve_jstr(title),
                   "article", article ? serve_jstr(article) : json_null(), "probability", pr);
}

/* The cause's entry in its article (loaded into *art), or NULL. */
static const tshoot_cause_info *steps_find_cause(tshoot_article **art, tshoot_kb *kb,
                                                 const char *article, const char *cause)
{
  size_t i;
  *art = NULL;
  if (!article || tshoot_article_load(art, kb, article) != TSHOOT_OK) return NULL;
  for (i = 0; i < (*art)->n_causes; i++)
    if (strcmp((*art)->causes[i].id, cause) == 0) return &(*art)->causes[i];
  return NULL;
}

static json_t *steps_step_json(const tshoot_step *st, tshoot_kb *kb)
{
  char say[1024];
  json_t *j;
  size_t i;
  if (st->kind == TSHOOT_STEP_ASK) {
    json_t *choices = json_array();
    for (i = 0; i < st->n_choices; i++)
      json_array_append_new(choices, json_pack("{s:o,s:o}", "value", serve_jstr(st->choices[i]),
                                               "label", serve_jstr(st->labels[i])));
    return json_pack("{s:s,s:o,s:{s:o,s:o,s:o,s:o,s:o,s:o},s:f,s:f,s:I}",
                     "kind", "ask", "say", serve_jstr(st->prompt),
                     "question", "id", serve_jstr(st->question), "prompt", serve_jstr(st->prompt),
                     "why", st->why ? serve_jstr(st->why) : json_null(),
                     "type", serve_jstr(st->type), "unit", st->unit ? serve_jstr(st->unit) : json_null(),
                     "choices", choices, "expected_gain", st->expected_gain, "cost", st->cost,
                     "questions_asked", (json_int_t)st->questions_asked);
  } else {
    tshoot_article *art = NULL;
    const tshoot_cause_info *c = steps_find_cause(&art, kb, st->article, st->cause);
    json_t *cause = steps_cause_json(st->cause, st->cause_title, st->article, st->probability);
    if (st->kind == TSHOOT_STEP_FIX) {
      const tshoot_fix_info *f = NULL;
      for (i = 0; c && i < c->n_fixes; i++)
        if (strcmp(c->fixes[i].id, st->fix) == 0) f = &c->fixes[i];
      snprintf(say, sizeof say, "It may be this: %s (%.0f%% likely). Try this fix: %s. Then say "
               "whether it worked, did not work, or could not be tried.", st->cause_title,
               st->probability * 100, st->fix_title ? st->fix_title : f ? f->title : st->fix);
      j = json_pack("{s:s,s:o,s:o,s:o,s:I}", "kind", "fix", "say", serve_jstr(say),
                    "fix", f ? steps_fix_json(f) : json_pack("{s:o}", "id", serve_jstr(st->fix)),
                    "cause", cause, "questions_asked", (json_int_t)st->questions_asked);
    } else if (st->kind == TSHOOT_STEP_INCONCLUSIVE) {
      snprintf(say, sizeof say, "No cause has the evidence to be named; the most likely is: %s "
               "(%.0f%% likely). %s", st->cause_title, st->probability * 100,
               st->escalation ? st->escalation : "");
      j = json_pack("{s:s,s:o,s:o,s:o,s:I}", "kind", "inconclusive", "say", serve_jstr(say),
                    "cause", cause, "escalation", st->escalation ? serve_jstr(st->escalation) : json_null(),
                    "questions_asked", (json_int_t)st->questions_asked);
    } else {
      json_t *fixes = json_array();
      for (i = 0; c && i < c->n_fixes; i++) json_array_append_new(fixes, steps_fix_json(&c->fixes[i]));
      if (strcmp(st->cause, "none") == 0)
        snprintf(say, sizeof say, "None of the known causes fits what you described (%.0f%% "
                 "likely). Ask your support team for help, and tell them the answers you gave.",
                 st->probability * 100);
      else
        snprintf(say, sizeof say, "The most likely cause is: %s (%.0f%% likely).%s",
                 st->cause_title, st->probability * 100,
                 c && c->n_fixes ? " Its fixes follow, in the order to try them." : "");
      j = json_pack("{s:s,s:o,s:o,s:o,s:o,s:I}", "kind", "conclude", "say", serve_jstr(say),
                    "cause", cause,
                    "explanation", c && c->explanation ? serve_jstr(c->explanation) : json_null(),
                    "fixes", fixes, "questions_asked", (json_int_t)st->questions_asked);
    }
    tshoot_article_free(art);
    return j;
  }
}

static void steps_iso_time(char *buf, size_t n, long long t)
{
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *steps_session_json(tshoot_session *s, tshoot_kb *kb, const char *id, long long revision,
                           long long expires, serve_problem *p)
{
  const tshoot_step *st;
  const tshoot_cause_rank *causes;
  const tshoot_answer_info *answers;
  const tshoot_fix_report *fixes;
  size_t nc, na, nf, i;
  json_t *j, *step, *jc, *ja, *jf;
  const char *text;
  char when[32];
  int rc = tshoot_session_next(&st, s);
  if (rc != TSHOOT_OK) {
    serve_fail_lib(p, rc, "");
    return NULL;
  }
  step = steps_step_json(st, kb);
  if ((rc = tshoot_session_causes(&causes, &nc, s)) != TSHOOT_OK ||
      (rc = tshoot_session_answers(&answers, &na, s)) != TSHOOT_OK ||
      (rc = tshoot_session_fixes(&fixes, &nf, s)) != TSHOOT_OK) {
    json_decref(step);
    serve_fail_lib(p, rc, "");
    return NULL;
  }
  jc = json_array();
  for (i = 0; i < nc; i++)
    json_array_append_new(jc, steps_cause_json(causes[i].cause, causes[i].title,
                                               causes[i].article, causes[i].probability));
  ja = json_array();
  for (i = 0; i < na; i++)
    json_array_append_new(ja, json_pack("{s:o,s:o,s:o,s:o,s:o}", "question", serve_jstr(answers[i].question),
                                        "value", answers[i].value ? serve_jstr(answers[i].value) : json_null(),
                                        "source", serve_jstr(answers[i].source),
                                        "prompt", serve_jstr(answers[i].prompt ? answers[i].prompt : answers[i].question),
                                        "label", serve_jstr(answers[i].label ? answers[i].label :
                                                            answers[i].value ? answers[i].value : "I don't know")));
  jf = json_array();
  for (i = 0; i < nf; i++)
    json_array_append_new(jf, json_pack("{s:o,s:o,s:o,s:s}", "fix", serve_jstr(fixes[i].fix),
                                        "title", serve_jstr(fixes[i].title ? fixes[i].title : fixes[i].fix),
                                        "cause", serve_jstr(fixes[i].cause),
                                        "outcome", steps_outcome_name(fixes[i].outcome)));
  text = tshoot_session_text(s);
  steps_iso_time(when, sizeof when, expires);
  j = json_pack("{s:s,s:I,s:s,s:o,s:o,s:o,s:o,s:o}", "id", id, "revision", (json_int_t)revision,
                "expires_at", when, "text", text ? serve_jstr(text) : json_null(),
                "step", step, "causes", jc, "answers", ja, "fixes", jf);
  if (!j) serve_fail(p, 500, "", "out of memory");
  return j;
}

json_t *steps_explanation_json(const tshoot_explanation *e)
{
  json_t *items = json_array(), *causes = json_array();
  size_t i;
  for (i = 0; i < e->n_items; i++) {
    const tshoot_explain_item *it = &e->items[i];
    json_array_append_new(items, json_pack("{s:o,s:o,s:o,s:f}", "kind", serve_jstr(it->kind),
                                           "subject", it->subject ? serve_jstr(it->subject) : json_null(),
                                           "detail", it->detail ? serve_jstr(it->detail) : json_null(),
                                           "factor", isfinite(it->factor) ? it->factor : 0.0));
  }
  for (i = 0; i < e->n_causes; i++)
    json_array_append_new(causes, steps_cause_json(e->causes[i].cause, e->causes[i].title,
                                                   e->causes[i].article, e->causes[i].probability));
  return json_pack("{s:o,s:o,s:o,s:o,s:f,s:f}", "subject", e->subject ? serve_jstr(e->subject) : json_null(),
                   "text", serve_jstr(e->text ? e->text : ""), "items", items, "causes", causes,
                   "expected_gain", e->expected_gain, "cost", e->cost);
}
