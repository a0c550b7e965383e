/*
** cmd_diagnose.c: `tshoot diagnose [TEXT...]`: a guided diagnosis, in four
** phases: parse_options() (with the answers given in advance, answers.c),
** open_or_resume() (a new session or a saved one, and the host), run_loop()
** (next() until CONCLUDE) and report() (the conclusion, or --json's one
** transcript object). Also here: the session file and the transcript.
**
** Each question is answered from --answer/--answers when they have it, else
** asked at a terminal or with --interactive (prompt.c), else counted as
** "don't know" so that an unattended run always ends. A proposed fix is shown
** and its result asked (scripted: --answer fix:ID=yes|no); with --host a fix
** with a script is run on the machine (fixrun.c). Unattended, fixes are
** proposed only when some fix:ID answer is given, and one without an answer
** then counts as "did not work": a fix nobody tried must not count against
** its cause. --save writes the session after every step (temporary file +
** rename).
**
** Exit status: 0 concluded with a cause, 4 concluded "none of the known
** causes", 6 inconclusive (nothing left to ask, no cause with the evidence
** to be named: the best candidates and the KB's escalation advice are
** shown), 3 --strict and a question without an answer, 5 stopped before a
** conclusion (quit, Ctrl-C or end of input: the session is saved and the
** command that resumes it shown), 1 failure, 2 usage error.
*/
#include "diagnose.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ===== small helpers ===== */

static const tshoot_cause_info *find_cause(const tshoot_article *a, const char *id)
{
  size_t i;
  if (!a || !id) return NULL;
  for (i = 0; i < a->n_causes; i++)
    if (strcmp(a->causes[i].id, id) == 0) return &a->causes[i];
  return NULL;
}

static const tshoot_fix_info *find_fix(const tshoot_cause_info *c, const char *id)
{
  size_t i;
  if (!c || !id) return NULL;
  for (i = 0; i < c->n_fixes; i++)
    if (strcmp(c->fixes[i].id, id) == 0) return &c->fixes[i];
  return NULL;
}

/* The cause `cause` of article `article`, loading the article when needed.
** NULL (no message) when it cannot be found: details are then left out. */
static const tshoot_cause_info *cause_info(diagnosis *d, const char *article, const char *cause)
{
  if (!article || !cause) return NULL;
  if (!d->art || strcmp(d->art->id, article) != 0) {
    tshoot_article_free(d->art);
    d->art = NULL;
    if (tshoot_article_load(&d->art, d->kb, article) != TSHOOT_OK) {
      tshoot_error_clear();
      return NULL;
    }
  }
  return find_cause(d->art, cause);
}

/* ===== the session file ===== */

/* --save: the session after every step. */
static int save_session(diagnosis *d)
{
  char *json = NULL;
  int rc, status;
  if (!d->save_path) return EXIT_OK;
  rc = tshoot_session_save(&json, d->s);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  status = cli_write_file(d->save_path, json, 1, "save the session to");
  tshoot_free(json);
  return status;
}

static int read_saved(const char *path, char **out, size_t *len)
{
  /* the library refuses more than 1 MiB anyway */
  if (cli_read_file(path, 8u << 20, out, len) == 0) return EXIT_OK;
  if (errno == EFBIG) return cli_error("the saved session %s is too large", path);
  if (errno == ENOMEM) return cli_error("out of memory");
  return cli_error("cannot read the saved session %s: %s", path, strerror(errno));
}

/* ===== the transcript ===== */

void diagnosis_record_ask(diagnosis *d, const char *prompt, const char *question, const char *answer,
                          const char *source)
{
  json_t *o = json_object();
  json_object_set_new(o, "kind", json_string("ask"));
  json_object_set_new(o, "question", cli_jstr(question));
  if (prompt) json_object_set_new(o, "prompt", cli_jstr(prompt));
  json_object_set_new(o, "answer", cli_jstr(answer));
  json_object_set_new(o, "source", json_string(source));
  json_array_append_new(d->steps, o);
}

void diagnosis_record_back(diagnosis *d, const char *question)
{
  json_t *o = json_object();
  json_object_set_new(o, "kind", json_string("back"));
  json_object_set_new(o, "question", cli_jstr(question));
  json_array_append_new(d->steps, o);
}

/* A fix step, not yet recorded (st must still be valid: call before the
** session changes). */
static json_t *fix_step_new(const tshoot_step *st, const char *title)
{
  json_t *o = json_object();
  json_object_set_new(o, "kind", json_string("fix"));
  json_object_set_new(o, "fix", cli_jstr(st->fix));
  json_object_set_new(o, "title", cli_jstr(title));
  json_object_set_new(o, "cause", cli_jstr(st->cause));
  json_object_set_new(o, "probability", json_real(st->probability));
  return o;
}

/* Record fix step o (taken over) with its outcome. */
static void record_fix(diagnosis *d, json_t *o, int outcome, const char *source)
{
  json_object_set_new(o, "result", json_string(answers_outcome_name(outcome)));
  json_object_set_new(o, "worked", json_boolean(outcome == TSHOOT_FIX_WORKED));
  json_object_set_new(o, "source", json_string(source));
  json_array_append_new(d->steps, o);
}

/* Record and show what probes did since the last step. */
static void report_probes(diagnosis *d)
{
  const tshoot_probe_info *p;
  size_t n, k;
  if (!d->host || tshoot_session_probes(&p, &n, d->s) != TSHOOT_OK) return;
  for (k = d->probes_seen; k < n; k++) {
    json_t *o = json_object();
    int took = p[k].status == TSHOOT_OK && p[k].answer;
    json_object_set_new(o, "kind", json_string(took ? "ask" : "probe"));
    json_object_set_new(o, "question", cli_jstr(p[k].question));
    json_object_set_new(o, "answer", cli_jstr(took ? p[k].answer : NULL));
    json_object_set_new(o, "source", json_string("probe"));
    json_object_set_new(o, "script", cli_jstr(p[k].script));
    if (!took) json_object_set_new(o, "message", cli_jstr(*p[k].message ? p[k].message : "the probe cannot tell"));
    json_array_append_new(d->steps, o);
    if (d->json || d->quiet) continue;
    if (took) printf("P: %s -> %s (probe %s)\n", p[k].question, p[k].answer, p[k].script);
    else printf("P: %s: probe %s cannot tell%s%s\n", p[k].question, p[k].script,
                *p[k].message ? ": " : "", p[k].message);
  }
  d->probes_seen = n;
}

/* Answers given by the person (not by probes). */
static size_t person_answers(diagnosis *d, size_t *probed)
{
  const tshoot_answer_info *a;
  size_t n = 0, k, by_person = 0;
  *probed = 0;
  if (tshoot_session_answers(&a, &n, d->s) != TSHOOT_OK) return 0;
  for (k = 0; k < n; k++) {
    if (a[k].source && strcmp(a[k].source, "probe") == 0) (*probed)++;
    else by_person++;
  }
  return by_person;
}

static json_t *causes_json(tshoot_session *s, size_t limit)
{
  const tshoot_cause_rank *r;
  size_t n, i;
  json_t *arr = json_array();
  if (tshoot_session_causes(&r, &n, s) != TSHOOT_OK) return arr;
  for (i = 0; i < n && i < limit; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "cause", cli_jstr(r[i].cause));
    json_object_set_new(o, "title", cli_jstr(r[i].title));
    json_object_set_new(o, "article", cli_jstr(r[i].article));
    json_object_set_new(o, "probability", json_real(r[i].probability));
    json_array_append_new(arr, o);
  }
  return arr;
}

/* ===== one fix ===== */

/* Without --yes: ask at the prompt; unattended nobody can, so it is declined. */
static int confirm_apply(const tshoot_fix_info *x, const tshoot_run *plan, void *payload)
{
  diagnosis *d = payload;
  int ok = 0;
  (void)x;
  (void)plan;
  if (d->prompt && prompt_yes_no(d, "  Apply it? [y/n] ", "  Answer y (apply it) or n (do not).\n", &ok) != 0)
    return -1;   /* quit */
  return ok;
}

/* The script's check proves that its change took effect, not that the
** problem is gone: the person at the machine can tell. Their answer replaces
** the outcome the library reported. ACT_DONE with *worked updated, or
** ACT_QUIT, ACT_FAIL. */
static act ask_gone(diagnosis *d, const char *fix_id, int *outcome)
{
  int gone = 0, rc;
  if (prompt_yes_no(d, "  Is the problem gone now? [y/n] ",
                    "  Answer y (the problem is gone) or n (it is still there).\n", &gone) != 0)
    return ACT_QUIT;
  if (gone) return ACT_DONE;
  *outcome = TSHOOT_FIX_DID_NOT_WORK;
  rc = tshoot_session_fix_result(d->s, fix_id, TSHOOT_FIX_DID_NOT_WORK);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return ACT_FAIL; }
  if (!d->quiet)
    printf("  counted as not working; its change stays on the machine (undo it by hand if it\n"
           "  should not: the plan above lists it)\n");
  return ACT_DONE;
}

/* A fix with a script, on the host: show its plan, confirm (unless --yes),
** apply and verify (fixrun.c); the library reports the outcome to the
** session, except for a fix declined or refused, reported here. */
static act host_fix(diagnosis *d, const tshoot_step *st, const tshoot_fix_info *x)
{
  cli_fix_options o;
  cli_fix_outcome run_outcome;
  json_t *step, *r = NULL;
  const char *source = "host";
  int rc = TSHOOT_OK, outcome;
  act a = ACT_DONE;

  if (!d->json && !d->quiet) {
    printf("\n%sTrying a fix on the machine%s (for: %s, %d%% likely): %s%s%s\n", cli_sgr(stdout, SGR_BOLD),
           cli_sgr(stdout, SGR_RESET), st->cause_title ? st->cause_title : st->cause, prompt_pct(st->probability),
           x->title, x->needs_admin ? ", needs admin rights" : "", x->reversible ? "" : ", cannot be undone");
  }
  memset(&o, 0, sizeof o);
  o.show = !d->json && !d->quiet;
  o.apply_failed_plan = 1;
  o.confirm = d->yes ? NULL : confirm_apply;
  o.payload = d;
  /* the step is borrowed until the session changes, and applying changes it */
  step = fix_step_new(st, x->title);
  if (cli_fix_run(&r, &run_outcome, d->s, x, &o) != EXIT_OK) { json_decref(step); return ACT_FAIL; }
  if (run_outcome == FIX_NOT_CONFIRMED) { json_decref(r); json_decref(step); return ACT_QUIT; }
  json_object_update(step, r);
  json_decref(r);
  outcome = run_outcome == FIX_VERIFIED ? TSHOOT_FIX_WORKED : TSHOOT_FIX_DID_NOT_WORK;
  if (run_outcome == FIX_DECLINED) {
    /* the person did not want it run: not tried, no evidence */
    source = "declined";
    outcome = TSHOOT_FIX_COULD_NOT_TRY;
    rc = tshoot_session_fix_result(d->s, x->id, TSHOOT_FIX_COULD_NOT_TRY);
  } else if (run_outcome == FIX_REFUSED) {
    /* the host refused: no evidence, and the session will not propose it again */
    source = "refused";
    outcome = TSHOOT_FIX_COULD_NOT_TRY;
  } else if (outcome == TSHOOT_FIX_WORKED && d->prompt) {
    a = ask_gone(d, x->id, &outcome);
    if (a == ACT_DONE && outcome != TSHOOT_FIX_WORKED) source = "host+user";
  }
  if (rc != TSHOOT_OK) { json_decref(step); cli_lib_error(rc); return ACT_FAIL; }
  if (a != ACT_DONE) { json_decref(step); return a; }
  record_fix(d, step, outcome, source);
  return ACT_DONE;
}

static act fix_step(diagnosis *d, const tshoot_step *st)
{
  const tshoot_cause_info *c = cause_info(d, st->article, st->cause);
  const tshoot_fix_info *x = find_fix(c, st->fix);
  const char *title = x ? x->title : st->fix;
  given *g = answers_find(&d->given, st->fix, 1);
  int outcome = TSHOOT_FIX_DID_NOT_WORK, rc;
  const char *source;
  char *fix_id;

  if (d->host && x && x->script && !g) return host_fix(d, st, x);
  if (!d->json && d->prompt && !g) {
    printf("\n%sTry this fix%s (for: %s, %d%% likely)\n", cli_sgr(stdout, SGR_BOLD),
           cli_sgr(stdout, SGR_RESET), st->cause_title ? st->cause_title : st->cause,
           prompt_pct(st->probability));
    if (x) prompt_print_fix(x, "Fix: ", 2, 0, 0, d->verbose);
    else printf("  Fix: %s\n", st->fix);
  } else if (!d->json && !d->quiet) {
    /* nobody tries it now: one line (the conclusion lists the steps) */
    if (d->verbose) printf("Fix: %s (%s, for %s) -> ", title, st->fix, st->cause);
    else printf("Fix: %s (for: %s) -> ", title, st->cause_title ? st->cause_title : st->cause);
  }
  if (g) {
    g->used = 1;
    outcome = g->outcome;
    source = "answers";
    if (!d->json && !d->quiet) printf("%s (from answers)\n", answers_outcome_name(outcome));
  } else if (d->prompt) {
    act a = prompt_fix_result(d, st, &outcome);
    if (a != ACT_DONE) return a;
    source = "user";
  } else {
    /* nobody tried it: no evidence against its cause, not proposed again */
    source = "unattended";
    outcome = TSHOOT_FIX_COULD_NOT_TRY;
    if (!d->json && !d->quiet) printf("not tried (unattended): no evidence either way\n");
  }
  fix_id = strdup(st->fix);   /* st is borrowed until the session changes */
  if (!fix_id) { cli_error("out of memory"); return ACT_FAIL; }
  record_fix(d, fix_step_new(st, title), outcome, source);
  rc = tshoot_session_fix_result(d->s, fix_id, (tshoot_fix_outcome)outcome);
  free(fix_id);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return ACT_FAIL; }
  return ACT_DONE;
}

/* ===== the conclusion ===== */

/* Whether fix `id` was reported to the session (this run or a resumed one):
** 1 and *worked set, or 0. The session's own record is the one truth. */
static int fix_reported(diagnosis *d, const char *id, int *outcome)
{
  const tshoot_fix_report *f;
  size_t n, k;
  if (tshoot_session_fixes(&f, &n, d->s) != TSHOOT_OK) return 0;
  for (k = 0; k < n; k++)
    if (strcmp(f[k].fix, id) == 0) { *outcome = (int)f[k].outcome; return 1; }
  return 0;
}

static json_t *fix_json(diagnosis *d, const tshoot_fix_info *x)
{
  json_t *fx = json_object(), *steps = json_array();
  int outcome = 0, tried = fix_reported(d, x->id, &outcome);
  size_t m;
  json_object_set_new(fx, "id", cli_jstr(x->id));
  json_object_set_new(fx, "title", cli_jstr(x->title));
  for (m = 0; m < x->n_steps; m++) json_array_append_new(steps, cli_jstr(x->steps[m]));
  json_object_set_new(fx, "steps", steps);
  json_object_set_new(fx, "verify", cli_jstr(x->verify));
  json_object_set_new(fx, "risk", cli_jstr(x->risk));
  json_object_set_new(fx, "needs_admin", json_boolean(x->needs_admin));
  json_object_set_new(fx, "reversible", json_boolean(x->reversible));
  json_object_set_new(fx, "tried", json_boolean(tried));
  if (tried) {
    json_object_set_new(fx, "result", json_string(answers_outcome_name(outcome)));
    json_object_set_new(fx, "worked", json_boolean(outcome == TSHOOT_FIX_WORKED));
  }
  return fx;
}

/* The fix that worked (this run or a resumed one), or NULL. */
static const char *fix_that_worked(diagnosis *d)
{
  const tshoot_fix_report *f;
  size_t n, k;
  if (tshoot_session_fixes(&f, &n, d->s) != TSHOOT_OK) return NULL;
  for (k = 0; k < n; k++)
    if (f[k].worked) return f[k].fix;
  return NULL;
}

static void print_conclusion(diagnosis *d, const tshoot_step *st)
{
  int width = cli_width();
  const char *fixed = fix_that_worked(d);
  size_t i;

  putchar('\n');
  if (st->kind == TSHOOT_STEP_INCONCLUSIVE) {
    printf("%sNo cause can be named with confidence.%s ", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
    cli_wrap(stdout, "The answers do not single out one cause. The best candidates are:", 0, 40, width);
    prompt_print_causes(d, TOP_NONE, NULL);
    printf("\n%sWhat to do now:%s ", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
    cli_wrap(stdout, st->escalation ? st->escalation : "", 2, 16, width);
    return;
  }
  if (strcmp(st->cause, "none") == 0) {
    printf("%sNo known cause fits.%s ", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
    cli_wrap(stdout,
             "What you described and answered matches none of the causes in this knowledge "
             "base well enough. Contact your support team, and give them this transcript. "
             "The closest candidates were:", 0, 21, width);
    prompt_print_causes(d, TOP_NONE, "none");
    return;
  }
  {
    const tshoot_cause_info *c = cause_info(d, st->article, st->cause);
    char label[64];
    snprintf(label, sizeof label, "%s: ", fixed ? "Cause" : "Most likely cause");
    printf("%s%s", label, cli_sgr(stdout, SGR_BOLD));
    {
      size_t m = strlen(st->cause_title ? st->cause_title : st->cause) + 64;
      char *t = malloc(m);
      if (t) {
        snprintf(t, m, "%s%s (%d%%)", st->cause_title ? st->cause_title : st->cause,
                 cli_sgr(stdout, SGR_BOLD_OFF), prompt_pct(st->probability));
        cli_wrap(stdout, t, 2, (int)strlen(label), width);
        free(t);
      }
    }
    fputs(cli_sgr(stdout, SGR_RESET), stdout);
    if (d->verbose)
      printf("  %s%s, article %s%s\n", cli_sgr(stdout, SGR_DIM), st->cause, st->article ? st->article : "?",
             cli_sgr(stdout, SGR_RESET));
    if (c && c->explanation) {
      fputs("  ", stdout);
      cli_wrap(stdout, c->explanation, 2, 2, width);
    }
    if (fixed) {
      const tshoot_fix_info *x = find_fix(c, fixed);
      printf("\n%sSolved:%s ", cli_sgr(stdout, SGR_GREEN), cli_sgr(stdout, SGR_RESET));
      {
        size_t m = strlen(x ? x->title : fixed) + 32;
        char *t = malloc(m);
        if (t) {
          snprintf(t, m, "'%s' fixed the problem.", x ? x->title : fixed);
          cli_wrap(stdout, t, 2, 8, width);
          free(t);
        }
      }
      return;
    }
    printf("\n%sWhy:%s\n", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
    prompt_print_how(d, st->cause, 0);
    if (c && c->n_fixes) {
      printf("\n%sWhat to do%s (in this order):\n", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
      for (i = 0; i < c->n_fixes; i++) {
        int outcome = 0, tried = fix_reported(d, c->fixes[i].id, &outcome);
        snprintf(label, sizeof label, "Fix %zu: ", i + 1);
        if (i) putchar('\n');
        prompt_print_fix(&c->fixes[i], label, 2, tried, outcome, d->verbose);
      }
    }
  }
}

static json_t *conclusion_json(diagnosis *d, const tshoot_step *st)
{
  json_t *o = json_object();
  const char *fixed = fix_that_worked(d);
  json_object_set_new(o, "outcome", json_string(st->kind == TSHOOT_STEP_INCONCLUSIVE ? "inconclusive" : "concluded"));
  if (st->kind == TSHOOT_STEP_INCONCLUSIVE) json_object_set_new(o, "escalation", cli_jstr(st->escalation));
  json_object_set_new(o, "cause", cli_jstr(st->cause));
  json_object_set_new(o, "title", cli_jstr(st->cause_title));
  json_object_set_new(o, "probability", json_real(st->probability));
  json_object_set_new(o, "article", cli_jstr(st->article));
  json_object_set_new(o, "fixed_by", cli_jstr(fixed));
  if (strcmp(st->cause, "none") != 0) {
    const tshoot_cause_info *c = cause_info(d, st->article, st->cause);
    json_t *fixes = json_array();
    size_t i;
    json_object_set_new(o, "explanation", cli_jstr(c ? c->explanation : NULL));
    for (i = 0; c && i < c->n_fixes; i++) json_array_append_new(fixes, fix_json(d, &c->fixes[i]));
    json_object_set_new(o, "fixes", fixes);
  }
  return o;
}

/* ===== the loop ===== */

/* The question --strict stopped at, for --json: what a program needs to ask
** it itself and run again with --answer. */
static json_t *pending_json(const tshoot_step *st)
{
  json_t *o = json_object(), *choices = json_array();
  size_t i;
  json_object_set_new(o, "question", cli_jstr(st->question));
  json_object_set_new(o, "prompt", cli_jstr(st->prompt));
  json_object_set_new(o, "type", cli_jstr(st->type));
  json_object_set_new(o, "unit", cli_jstr(st->unit));
  for (i = 0; i < st->n_choices; i++) {
    json_t *c = json_object();
    json_object_set_new(c, "value", cli_jstr(st->choices[i]));
    json_object_set_new(c, "label", cli_jstr(st->labels ? st->labels[i] : st->choices[i]));
    json_array_append_new(choices, c);
  }
  json_object_set_new(o, "choices", choices);
  return o;
}

static int unattended_ask(diagnosis *d, const tshoot_step *st)
{
  int rc;
  if (d->strict) {
    cli_error("no answer for question %s (\"%s\"); --strict stops here", st->question, st->prompt);
    d->pending = pending_json(st);
    return EXIT_STRICT;
  }
  if (!d->json && !d->quiet) printf("Q: %s -> don't know (no answer given)\n", st->prompt);
  diagnosis_record_ask(d, st->prompt, st->question, NULL, "unknown");
  rc = tshoot_session_unknown(d->s, st->question);
  return rc == TSHOOT_OK ? EXIT_OK : cli_lib_error(rc);
}

static int answer_given(diagnosis *d, const tshoot_step *st, given *g)
{
  int rc;
  g->used = 1;
  if (!d->json && !d->quiet)
    printf("Q: %s -> %s (from answers)\n", st->prompt, g->value ? g->value : "don't know");
  diagnosis_record_ask(d, st->prompt, st->question, g->value, "answers");
  rc = g->value ? tshoot_session_answer(d->s, st->question, g->value)
                : tshoot_session_unknown(d->s, st->question);
  return rc == TSHOOT_OK ? EXIT_OK : cli_lib_error(rc);
}

/* Ctrl-C at the prompt: the read is interrupted (no SA_RESTART), the
** dialogue stops as at end of input, and the session is saved. */
static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) { (void)sig; interrupted = 1; }

/* Where a stopped dialogue is saved when --save named no file:
** $XDG_STATE_HOME/tshoot/last-session.json, else
** ~/.local/state/tshoot/last-session.json (the folders are made, 0700). */
static char *stop_path(void)
{
  const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  char dir[4096], *path;
  size_t n;
  if (state && *state) snprintf(dir, sizeof dir, "%s/tshoot", state);
  else if (home && *home) snprintf(dir, sizeof dir, "%s/.local/state/tshoot", home);
  else return NULL;
  /* make each missing folder of dir */
  for (n = 1; dir[n]; n++)
    if (dir[n] == '/') {
      dir[n] = '\0';
      mkdir(dir, 0700);
      dir[n] = '/';
    }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return NULL;
  n = strlen(dir) + sizeof "/last-session.json";
  path = malloc(n);
  if (path) snprintf(path, n, "%s/last-session.json", dir);
  return path;
}

/* next() until CONCLUDE (*concl), a quit (EXIT_STOPPED), --strict or a failure. */
static int run_loop(diagnosis *d, const tshoot_step **concl)
{
  tshoot_kb_info info;
  size_t auto_steps = 0, limit;
  int rc;

  if (tshoot_kb_info_get(&info, d->kb) != TSHOOT_OK) memset(&info, 0, sizeof info);
  /* every unattended step answers a question or reports a fix: more than
  ** that many would mean the session does not move */
  limit = 2 * (info.questions + info.fixes) + 16;
  for (;;) {
    const tshoot_step *st;
    given *g;
    act a;
    int status;

    rc = tshoot_session_next(&st, d->s);
    report_probes(d);
    if (rc != TSHOOT_OK) return cli_lib_error(rc);
    if (st->kind == TSHOOT_STEP_CONCLUDE || st->kind == TSHOOT_STEP_INCONCLUSIVE) {
      *concl = st;
      return EXIT_OK;
    }
    if (st->kind == TSHOOT_STEP_FIX) {
      if (!d->prompt && ++auto_steps > limit)
        return cli_error("the session does not move on (fix %s proposed again); stopping", st->fix);
      a = fix_step(d, st);
    } else if ((g = answers_find(&d->given, st->question, 0)) != NULL) {
      if (++auto_steps > limit)
        return cli_error("the session does not move on (question %s asked again); stopping", st->question);
      if ((status = answer_given(d, st, g)) != EXIT_OK) return status;
      a = ACT_DONE;
    } else if (d->prompt) {
      a = prompt_question(d, st);
    } else {
      if (++auto_steps > limit)
        return cli_error("the session does not move on (question %s asked again); stopping", st->question);
      if ((status = unattended_ask(d, st)) != EXIT_OK) return status;
      a = ACT_DONE;
    }
    if (a == ACT_FAIL) return EXIT_FAIL;
    if (a == ACT_QUIT) {
      char *fallback = NULL;
      if (!d->save_path && (fallback = stop_path()) != NULL) d->save_path = fallback;
      if (save_session(d) != EXIT_OK) { free(fallback); return EXIT_FAIL; }
      if (d->save_path)
        printf("%s. Continue later with: tshoot diagnose --resume %s\n",
               interrupted ? "Interrupted; your answers are saved" : "Stopped", d->save_path);
      else printf("Stopped.\n");
      if (fallback) d->save_path = NULL;
      free(fallback);
      return EXIT_STOPPED;
    }
    if (save_session(d) != EXIT_OK) return EXIT_FAIL;
  }
}

/* ===== the command ===== */

/* What the options ask for, beyond what the diagnosis itself keeps. */
typedef struct diagnose_options {
  const char *kb_opt, *answers_file, *resume, *host_spec, *log_path;
  const char **cmd_answers;          /* the --answer values, in order */
  size_t n_cmd;
  tshoot_session_options so;
  int force_interactive, set_threshold, no_fixes, help;
} diagnose_options;

/* The most a description read from stdin may hold. */
#define DESCRIPTION_MAX (16 << 20)

static int parse_threshold(const char *s, double *out)
{
  char *end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if (errno || end == s) return -1;
  if (*end == '%') { v /= 100; end++; }
  if (*end || !(v > 0 && v <= 1)) return -1;
  *out = v;
  return 0;
}

/* TEXT '-': the description is all of stdin (a pasted log can be larger
** than the command line allows). At a terminal it ends with Ctrl-D, and the
** questions are then asked there. Empty: no description. */
static int read_description(diagnosis *d)
{
  size_t n = 0, cap = 0, got;
  char *buf = NULL, *t;
  do {
    if (cap - n < 4096) {
      char *nb;
      if (cap >= DESCRIPTION_MAX) {
        free(buf);
        return cli_error("the description on stdin is larger than %d MiB", DESCRIPTION_MAX >> 20);
      }
      nb = realloc(buf, cap ? 2 * cap : 65536);
      if (!nb) { free(buf); return cli_error("out of memory"); }
      buf = nb;
      cap = cap ? 2 * cap : 65536;
    }
    got = fread(buf + n, 1, cap - n - 1, stdin);
    n += got;
  } while (got > 0);
  if (ferror(stdin)) { free(buf); return cli_error("cannot read the description from stdin: %s", strerror(errno)); }
  clearerr(stdin);   /* a terminal can still answer the questions */
  buf[n] = '\0';
  if (strlen(buf) != n) { free(buf); return cli_error("the description on stdin has a NUL byte"); }
  t = cli_trim(buf);
  if (!*t) { free(buf); return EXIT_OK; }
  memmove(buf, t, strlen(t) + 1);
  d->text = buf;
  return EXIT_OK;
}

/* Read the words and options, then the answers given in advance (the file
** first, so that --answer wins). EXIT_OK (o->help: the help was printed), or
** the error printed. */
static int parse_options(diagnosis *d, diagnose_options *o, int argc, char **argv)
{
  static const struct option longs[] = {
    { "kb", required_argument, NULL, 'k' },
    { "answer", required_argument, NULL, 'a' },
    { "answers", required_argument, NULL, 'A' },
    { "json", no_argument, NULL, 'j' },
    { "save", required_argument, NULL, 'S' },
    { "resume", required_argument, NULL, 'R' },
    { "threshold", required_argument, NULL, 't' },
    { "no-fixes", no_argument, NULL, 'F' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "interactive", no_argument, NULL, 'i' },
    { "strict", no_argument, NULL, 's' },
    { "host", required_argument, NULL, 'H' },
    { "yes", no_argument, NULL, 'y' },
    { "log", required_argument, NULL, 'L' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  size_t i;
  int c, status;

  o->cmd_answers = calloc((size_t)argc + 1, sizeof *o->cmd_answers);
  if (!o->cmd_answers) return cli_error("out of memory");
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":a:iqvh", longs, NULL)) != -1) {
    switch (c) {
    case 'k': o->kb_opt = optarg; break;
    case 'a': o->cmd_answers[o->n_cmd++] = optarg; break;
    case 'A': o->answers_file = optarg; break;
    case 'j': d->json = 1; break;
    case 'S': d->save_path = optarg; break;
    case 'R': o->resume = optarg; break;
    case 't':
      if (parse_threshold(optarg, &o->so.conclude_at) != 0)
        return cli_usage_error("diagnose", "--threshold wants a probability in (0, 1] such as 0.9 "
                                           "(or 90%%), not '%s'", optarg);
      o->set_threshold = 1;
      break;
    case 'F': o->no_fixes = 1; break;
    case 'q': d->quiet = 1; break;
    case 'v': d->verbose = 1; break;
    case 'i': o->force_interactive = 1; break;
    case 's': d->strict = 1; break;
    case 'H': o->host_spec = optarg; break;
    case 'y': d->yes = 1; break;
    case 'L': o->log_path = optarg; break;
    case 'h': o->help = 1; cli_print_command_help(stdout, "diagnose"); return EXIT_OK;
    default: return cli_getopt_error("diagnose", c, argv);
    }
  }
  if (o->resume && optind < argc)
    return cli_usage_error("diagnose", "a resumed session keeps its own description; "
                                       "give either TEXT or --resume");
  if (o->force_interactive && d->json)
    return cli_usage_error("diagnose", "--json never asks; leave out --interactive");
  if (argc - optind == 1 && strcmp(argv[optind], "-") == 0) {
    if (o->force_interactive)
      return cli_usage_error("diagnose", "'-' reads the description from stdin, and --interactive "
                                         "the answers: give the description as TEXT");
    if ((status = read_description(d)) != EXIT_OK) return status;
  } else if (optind < argc) {
    d->text = cli_join_words(argc - optind, argv + optind);
    if (!d->text) return cli_error("out of memory");
  }
  d->prompt = !d->json && (o->force_interactive || isatty(STDIN_FILENO));
  d->echo = d->prompt && !isatty(STDIN_FILENO);

  if (o->answers_file && (status = answers_read_file(&d->given, o->answers_file)) != EXIT_OK) return status;
  for (i = 0; i < o->n_cmd; i++) {
    const char *why;
    if (answers_add(&d->given, o->cmd_answers[i], NULL, 0, &why) != 0)
      return cli_usage_error("diagnose", "--answer '%s': %s", o->cmd_answers[i], why);
  }
  return EXIT_OK;
}

/* Load the saved session; the transcript starts with its answers. */
static int resume_session(diagnosis *d, diagnose_options *o)
{
  const tshoot_answer_info *a;
  char *buf = NULL;
  size_t len = 0, n, k;
  int rc, status;

  if ((status = read_saved(o->resume, &buf, &len)) != EXIT_OK) return status;
  /* 0 fields keep the saved options (a --threshold given now replaces it);
  ** whether fixes are proposed is decided by this run, not the saved one */
  o->so.flags_off = TSHOOT_SESSION_NO_FIXES;
  if (o->no_fixes) o->so.flags |= TSHOOT_SESSION_NO_FIXES;
  rc = tshoot_session_load(&d->s, d->kb, buf, len, &o->so);
  if (rc != TSHOOT_OK) {
    free(buf);
    status = cli_lib_error(rc);
    cli_note("could not resume from %s", o->resume);
    return status;
  }
  free(buf);
  if (tshoot_session_text(d->s) && !(d->text = strdup(tshoot_session_text(d->s))))
    return cli_error("out of memory");
  if (tshoot_session_answers(&a, &n, d->s) == TSHOOT_OK) {
    if (!d->json && !d->quiet && n) printf("Resumed with %zu earlier answer%s:\n", n, n == 1 ? "" : "s");
    for (k = 0; k < n; k++) {
      if (!d->json && !d->quiet) printf("  %s -> %s\n", a[k].prompt ? a[k].prompt : a[k].question, a[k].label);
      diagnosis_record_ask(d, NULL, a[k].question, a[k].value, "saved");
    }
  }
  return EXIT_OK;
}

/* The KB, the host, a checked set of given answers, and the session: new
** (with the description) or resumed; saved once before the first step. */
static int open_or_resume(diagnosis *d, diagnose_options *o)
{
  int rc, status;
  if (cli_open_kb(&d->kb, o->kb_opt, NULL) != EXIT_OK) return EXIT_FAIL;
  if (o->host_spec && (status = cli_open_host(&d->host, o->host_spec)) != EXIT_OK) return status;
  if (o->log_path && !d->host) return cli_usage_error("diagnose", "--log writes the host's journal: give --host too");
  if ((status = answers_check(&d->given, d->kb)) != EXIT_OK) return status;
  /* Unattended, nobody can try a fix: reporting it as "did not work" would be
  ** false evidence against its cause. So fixes are proposed only at a prompt,
  ** or when some fix:ID answer says how fixes went. */
  if (!d->prompt && !d->given.n_fix && !(d->host && d->yes)) o->no_fixes = 1;

  if (o->resume) {
    if ((status = resume_session(d, o)) != EXIT_OK) return status;
  } else {
    if (o->no_fixes) o->so.flags |= TSHOOT_SESSION_NO_FIXES;
    rc = tshoot_session_new(&d->s, d->kb, &o->so);
    if (rc != TSHOOT_OK) return cli_lib_error(rc);
    if (d->text && (rc = tshoot_session_describe(d->s, d->text, strlen(d->text))) != TSHOOT_OK)
      return cli_lib_error(rc);
  }
  if (d->host && (rc = tshoot_session_set_host(d->s, d->host, NULL)) != TSHOOT_OK) return cli_lib_error(rc);
  return save_session(d);
}

/* --json: the transcript, the conclusion and the ranking, as one object. */
static int report_json(diagnosis *d, const diagnose_options *o, const tshoot_step *concl)
{
  json_t *j = json_object(), *unused = json_array();
  size_t probed, asked = person_answers(d, &probed), i;
  json_object_set_new(j, "text", cli_jstr(d->text));
  json_object_set_new(j, "resumed", json_boolean(o->resume != NULL));
  json_object_set(j, "steps", d->steps);
  json_object_set_new(j, "conclusion", conclusion_json(d, concl));
  json_object_set_new(j, "causes", causes_json(d->s, TOP_CAUSES));
  json_object_set_new(j, "questions_asked", json_integer((json_int_t)asked));
  json_object_set_new(j, "probed", json_integer((json_int_t)probed));
  for (i = 0; i < d->given.n; i++)
    if (!d->given.v[i].used && !d->given.v[i].disabled)
      json_array_append_new(unused, json_string(d->given.v[i].key));
  json_object_set_new(j, "unused_answers", unused);
  return cli_json_print(j);
}

/* For a person: the conclusion, a summary line, and the answers not needed. */
static void report_text(diagnosis *d, const tshoot_step *concl)
{
  size_t probed, asked = person_answers(d, &probed), k, n_ans = 0, dunno = 0, i, n_unused;
  const tshoot_answer_info *a;
  const tshoot_fix_report *fixes;
  print_conclusion(d, concl);
  if (tshoot_session_answers(&a, &n_ans, d->s) == TSHOOT_OK)
    for (k = 0; k < n_ans; k++) if (!a[k].value) dunno++;
  printf("\n%zu question%s asked", asked, asked == 1 ? "" : "s");
  if (dunno) printf(" (%zu not known)", dunno);
  if (probed) printf(", %zu answered by probes on the machine", probed);
  if (tshoot_session_fixes(&fixes, &k, d->s) != TSHOOT_OK) k = 0;
  if (k) printf(", %zu fix%s tried", k, k == 1 ? "" : "es");
  printf(".\n");
  if (d->quiet || (n_unused = answers_unused(&d->given)) == 0) return;
  fflush(stdout);
  fprintf(stderr, "tshoot: %snote:%s %zu given answer%s not needed:", cli_sgr(stderr, SGR_CYAN),
          cli_sgr(stderr, SGR_RESET), n_unused, n_unused == 1 ? " was" : "s were");
  for (i = 0; i < d->given.n; i++)
    if (!d->given.v[i].used && !d->given.v[i].disabled)
      fprintf(stderr, " %s%s", d->given.v[i].is_fix ? "fix:" : "", d->given.v[i].key);
  fputc('\n', stderr);
}

/* The journal (--log), then the end of the run for the loop's status. */
static int report(diagnosis *d, const diagnose_options *o, int status, const tshoot_step *concl)
{
  if (o->log_path && d->host) {
    char *text = NULL;
    int rc = tshoot_host_journal_json(&text, d->host);
    if (rc != TSHOOT_OK) status = cli_lib_error(rc);
    else if (cli_write_file(o->log_path, text, 0, NULL) != EXIT_OK) status = EXIT_FAIL;
    tshoot_free(text);
  }
  if (status != EXIT_OK) {
    if (d->json && status == EXIT_STRICT) {
      /* still a transcript, so that a program sees where it stopped */
      json_t *j = json_object();
      json_object_set_new(j, "text", cli_jstr(d->text));
      json_object_set(j, "steps", d->steps);
      json_object_set_new(j, "conclusion", json_null());
      json_object_set(j, "pending", d->pending ? d->pending : json_null());
      json_object_set_new(j, "causes", causes_json(d->s, TOP_CAUSES));
      cli_json_print(j);
    }
    return status;
  }
  status = concl->kind == TSHOOT_STEP_INCONCLUSIVE ? EXIT_INCONCLUSIVE
         : strcmp(concl->cause, "none") == 0 ? EXIT_NONE : EXIT_OK;
  if (!d->json) report_text(d, concl);
  else if (report_json(d, o, concl) != EXIT_OK) status = EXIT_FAIL;
  return status;
}

int cmd_diagnose(int argc, char **argv)
{
  diagnosis d;
  diagnose_options o;
  tshoot_session_options so = TSHOOT_SESSION_OPTIONS_INIT;
  const tshoot_step *concl = NULL;
  int status;

  memset(&d, 0, sizeof d);
  memset(&o, 0, sizeof o);
  o.so = so;
  d.steps = json_array();
  status = parse_options(&d, &o, argc, argv);
  if (status == EXIT_OK && !o.help && (status = open_or_resume(&d, &o)) == EXIT_OK) {
    {
      struct sigaction sa, old;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = on_interrupt;   /* no SA_RESTART: the prompt's read returns */
      sigemptyset(&sa.sa_mask);
      interrupted = 0;
      if (d.prompt) sigaction(SIGINT, &sa, &old);
      status = run_loop(&d, &concl);
      if (d.prompt) sigaction(SIGINT, &old, NULL);
    }
    status = report(&d, &o, status, concl);
  }
  tshoot_article_free(d.art);
  tshoot_session_free(d.s);
  tshoot_host_free(d.host);
  tshoot_kb_close(d.kb);
  json_decref(d.steps);
  json_decref(d.pending);
  answers_free(&d.given);
  free(d.text);
  free(d.line);
  free(o.cmd_answers);
  return status;
}
