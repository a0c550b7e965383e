/*
** prompt.c: the dialogue of `tshoot diagnose` at a terminal (or with
** --interactive): a question with its numbered choices, the commands a
** person can type instead of an answer (why, back, skip, causes, how, quit),
** "Did this fix the problem?", and the yes/no questions around a fix. Also
** what a person is shown on request and in the conclusion: the ranking, the
** evidence for a cause, a fix step by step.
*/
#include "diagnose.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int prompt_pct(double p)
{
  double v = p * 100.0 + 0.5;
  if (v < 0) v = 0;
  if (v > 100) v = 100;
  return (int)v;
}

/* ===== printing for a person ===== */

void prompt_print_causes(diagnosis *d, size_t limit, const char *skip)
{
  const tshoot_cause_rank *r;
  size_t n, i, shown = 0;
  int width = cli_width();
  int rc = tshoot_session_causes(&r, &n, d->s);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return; }
  for (i = 0; i < n && shown < limit; i++) {
    char label[32];
    if (skip && strcmp(r[i].cause, skip) == 0) continue;
    snprintf(label, sizeof label, "  %3d%%  ", prompt_pct(r[i].probability));
    fputs(label, stdout);
    {
      size_t m = strlen(r[i].title ? r[i].title : "") + strlen(r[i].cause) + 64;
      char *t = malloc(m);
      if (!t) continue;
      if (d->verbose)
        snprintf(t, m, "%s %s(%s)%s", r[i].title ? r[i].title : "", cli_sgr(stdout, SGR_DIM),
                 r[i].cause, cli_sgr(stdout, SGR_RESET));
      else
        snprintf(t, m, "%s", r[i].title ? r[i].title : r[i].cause);
      cli_wrap(stdout, t, (int)strlen(label), (int)strlen(label), width);
      free(t);
    }
    shown++;
  }
}

static void print_why(diagnosis *d, const char *question)
{
  tshoot_explanation *e = NULL;
  size_t i;
  int width = cli_width();
  int rc = tshoot_session_why(&e, d->s, question);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return; }
  fputs("  ", stdout);
  cli_wrap(stdout, e->text, 2, 2, width);
  if (e->n_causes > 4) {   /* the text names the first four */
    printf("  It tells apart:\n");
    for (i = 0; i < e->n_causes && i < TOP_CAUSES; i++) {
      char label[32];
      snprintf(label, sizeof label, "  %3d%%  ", prompt_pct(e->causes[i].probability));
      fputs(label, stdout);
      cli_wrap(stdout, e->causes[i].title, (int)strlen(label), (int)strlen(label), width);
    }
  }
  tshoot_explanation_free(e);
}

/* The evidence behind cause `cause` (NULL: the most likely), briefly. */
void prompt_print_how(diagnosis *d, const char *cause, int with_text)
{
  tshoot_explanation *e = NULL;
  size_t i, shown = 0;
  int width = cli_width();
  int rc = tshoot_session_how(&e, d->s, cause);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return; }
  if (with_text) {
    fputs("  ", stdout);
    cli_wrap(stdout, e->text, 2, 2, width);
  }
  for (i = 0; i < e->n_items && shown < 10; i++) {
    const tshoot_explain_item *it = &e->items[i];
    char label[32];
    if (strcmp(it->kind, "prior") == 0) continue;
    if (it->factor > 0.999 && it->factor < 1.001 && strcmp(it->kind, "condition") == 0) continue;
    if (it->factor >= 10) snprintf(label, sizeof label, "  x%-5.0f ", it->factor);
    else snprintf(label, sizeof label, "  x%-5.2g ", it->factor);
    printf("%s%s%s", cli_sgr(stdout, SGR_DIM), label, cli_sgr(stdout, SGR_RESET));
    cli_wrap(stdout, it->detail, (int)strlen(label), (int)strlen(label), width);
    shown++;
  }
  if (!with_text && shown == 0) printf("  (no answers speak to it; its prior and the description rank it)\n");
  tshoot_explanation_free(e);
}

void prompt_print_fix(const tshoot_fix_info *x, const char *label, int indent, int tried, int outcome,
                      int show_id)
{
  int width = cli_width();
  size_t k;
  char meta[256], step_label[32];
  printf("%*s%s%s", indent, "", label, cli_sgr(stdout, SGR_BOLD));
  cli_wrap(stdout, x->title, indent + (int)strlen(label), indent + (int)strlen(label), width);
  snprintf(meta, sizeof meta, "%s%s%s%s, %s, risk %s%s%s", cli_sgr(stdout, SGR_DIM), show_id ? x->id : "",
           show_id ? ": " : "",
           x->needs_admin ? "needs admin" : "no admin needed",
           x->reversible ? "reversible" : "not reversible", x->risk ? x->risk : "?",
           !tried ? "" : outcome == TSHOOT_FIX_WORKED ? "; tried: it worked"
           : outcome == TSHOOT_FIX_DID_NOT_WORK ? "; tried: it did not work"
           : outcome == TSHOOT_FIX_SKIPPED ? "; skipped" : "; could not be tried",
           cli_sgr(stdout, SGR_RESET));
  printf("%s%*s", cli_sgr(stdout, SGR_RESET), indent + 2, "");
  cli_wrap(stdout, meta, indent + 4, indent + 2, width);
  for (k = 0; k < x->n_steps; k++) {
    snprintf(step_label, sizeof step_label, "%*s%zu. ", indent + 2, "", k + 1);
    fputs(step_label, stdout);
    cli_wrap(stdout, x->steps[k], (int)strlen(step_label), (int)strlen(step_label), width);
  }
  if (x->verify) {
    printf("%*s%sCheck:%s ", indent + 2, "", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
    cli_wrap(stdout, x->verify, indent + 9, indent + 9, width);
  }
}

static void show_hint(diagnosis *d)
{
  if (d->hint_shown) return;
  d->hint_shown = 1;
  printf("%sAnswer with a number or a value. Also: ? or why (why this is asked), back (change the\n"
         "last answer), skip (don't know), causes (the ranking), how (why the leading cause), quit.%s\n",
         cli_sgr(stdout, SGR_DIM), cli_sgr(stdout, SGR_RESET));
}

/* Read one line from stdin after printing `prompt`; NULL at end of input.
** The line is trimmed and borrowed until the next call. */
static char *read_line(diagnosis *d, const char *prompt)
{
  ssize_t n;
  printf("%s", prompt);
  fflush(stdout);
  n = getline(&d->line, &d->line_cap, stdin);
  if (n < 0) {
    putchar('\n');
    return NULL;
  }
  if (d->echo) {   /* input from a pipe: show it, so the output reads as a dialogue */
    fwrite(d->line, 1, (size_t)n, stdout);
    if (n == 0 || d->line[n - 1] != '\n') putchar('\n');
  }
  return cli_trim(d->line);
}


/* ===== one question ===== */

/* A number typed at a choice question is the choice shown with that number
** (the screen numbers them); any other text goes to the library as it was
** typed, which decides what it means (a value or a label, any case; y/n for
** yes/no questions). */
static const char *match_choice(const tshoot_step *st, const char *in)
{
  int num;
  if (cli_parse_int(in, 1, (int)st->n_choices, &num) == 0) return st->choices[num - 1];
  return in;
}

/* The value the session recorded for question qid (a choice's value, whatever
** form the person typed), or NULL. Borrowed until the session changes. */
static const char *recorded_value(tshoot_session *s, const char *qid)
{
  const tshoot_answer_info *a;
  size_t n, k;
  if (tshoot_session_answers(&a, &n, s) != TSHOOT_OK) return NULL;
  for (k = n; k-- > 0;)
    if (strcmp(a[k].question, qid) == 0) return a[k].value;
  return NULL;
}

static void print_question(const tshoot_step *st)
{
  int width = cli_width();
  size_t i;
  char label[48];
  snprintf(label, sizeof label, "Question %zu: ", st->questions_asked + 1);
  printf("\n%s%s%s", cli_sgr(stdout, SGR_BOLD), label, cli_sgr(stdout, SGR_RESET));
  if (st->n_choices == 0) {
    size_t m = strlen(st->prompt) + 128 + (st->unit ? strlen(st->unit) : 0);
    char *t = malloc(m);
    if (!t) return;
    if (strcmp(st->type, "version") == 0)
      snprintf(t, m, "%s %s(a version, such as 7.3.1)%s", st->prompt, cli_sgr(stdout, SGR_DIM),
               cli_sgr(stdout, SGR_RESET));
    else if (strcmp(st->type, "number") == 0 && st->unit)
      snprintf(t, m, "%s %s(a number, in %s)%s", st->prompt, cli_sgr(stdout, SGR_DIM), st->unit,
               cli_sgr(stdout, SGR_RESET));
    else if (strcmp(st->type, "number") == 0)
      snprintf(t, m, "%s %s(a number)%s", st->prompt, cli_sgr(stdout, SGR_DIM), cli_sgr(stdout, SGR_RESET));
    else
      snprintf(t, m, "%s", st->prompt);
    cli_wrap(stdout, t, 2, (int)strlen(label), width);
    free(t);
  } else {
    cli_wrap(stdout, st->prompt, 2, (int)strlen(label), width);
    for (i = 0; i < st->n_choices; i++) {
      snprintf(label, sizeof label, "  %zu. ", i + 1);
      fputs(label, stdout);
      cli_wrap(stdout, st->labels && st->labels[i] ? st->labels[i] : st->choices[i], (int)strlen(label),
               (int)strlen(label), width);
    }
  }
}

static int is_cmd(const char *in, const char *a, const char *b)
{
  return strcasecmp(in, a) == 0 || (b && strcasecmp(in, b) == 0);
}

/* Copies of the session's answers (question, prompt) and fix reports (fix,
** title): what "back" took is the one missing afterwards. */
typedef struct said { char **id, **text; size_t n; } said;

static void said_free(said *x)
{
  size_t i;
  for (i = 0; i < x->n; i++) { free(x->id[i]); free(x->text[i]); }
  free(x->id);
  free(x->text);
}

static int said_of(tshoot_session *s, said *ans, said *fix)
{
  const tshoot_answer_info *a;
  const tshoot_fix_report *f;
  size_t na, nf, i;
  memset(ans, 0, sizeof *ans);
  memset(fix, 0, sizeof *fix);
  if (tshoot_session_answers(&a, &na, s) != TSHOOT_OK) return -1;
  ans->id = calloc(na + 1, sizeof *ans->id);
  ans->text = calloc(na + 1, sizeof *ans->text);
  if (!ans->id || !ans->text) return -1;
  for (i = 0; i < na; i++, ans->n++) {
    ans->id[i] = strdup(a[i].question);
    ans->text[i] = strdup(a[i].prompt ? a[i].prompt : a[i].question);
  }
  if (tshoot_session_fixes(&f, &nf, s) != TSHOOT_OK) return -1;
  fix->id = calloc(nf + 1, sizeof *fix->id);
  fix->text = calloc(nf + 1, sizeof *fix->text);
  if (!fix->id || !fix->text) return -1;
  for (i = 0; i < nf; i++, fix->n++) {
    fix->id[i] = strdup(f[i].fix);
    fix->text[i] = strdup(f[i].title ? f[i].title : f[i].fix);
  }
  return 0;
}

/* The index in `before` of the one item no longer in the session, or -1. */
static long said_gone(const said *before, tshoot_session *s, int fixes)
{
  size_t i, k, n;
  for (i = 0; i < before->n; i++) {
    int found = 0;
    if (!before->id[i]) continue;
    if (fixes) {
      const tshoot_fix_report *f;
      if (tshoot_session_fixes(&f, &n, s) != TSHOOT_OK) return -1;
      for (k = 0; k < n && !found; k++) found = strcmp(f[k].fix, before->id[i]) == 0;
    } else {
      const tshoot_answer_info *a;
      if (tshoot_session_answers(&a, &n, s) != TSHOOT_OK) return -1;
      for (k = 0; k < n && !found; k++) found = strcmp(a[k].question, before->id[i]) == 0;
    }
    if (!found) return (long)i;
  }
  return -1;
}

/* Take back the last answer or fix report (the library decides which was
** last); a question taken back is then asked of the person, even if an
** answer file had it. Said in words: the question, the fix's title. */
static act go_back(diagnosis *d)
{
  said ans, fix;
  long gone;
  int rc;
  if (said_of(d->s, &ans, &fix) != 0) {
    said_free(&ans);
    said_free(&fix);
    cli_error("out of memory");
    return ACT_FAIL;
  }
  rc = tshoot_session_undo(d->s);
  if (rc == TSHOOT_ENOTFOUND) {
    tshoot_error_clear();
    printf("  There is no earlier answer to change.\n");
    said_free(&ans);
    said_free(&fix);
    return ACT_AGAIN;   /* nothing changed: ask again */
  }
  if (rc != TSHOOT_OK) { said_free(&ans); said_free(&fix); cli_lib_error(rc); return ACT_FAIL; }
  if ((gone = said_gone(&fix, d->s, 1)) >= 0) {
    printf("  Took back your report on \"%s\".\n", fix.text[gone] ? fix.text[gone] : fix.id[gone]);
    diagnosis_record_back(d, fix.id[gone]);
  } else if ((gone = said_gone(&ans, d->s, 0)) >= 0) {
    answers_disable(&d->given, ans.id[gone]);
    printf("  Took back your answer to \"%s\".\n", ans.text[gone] ? ans.text[gone] : ans.id[gone]);
    diagnosis_record_back(d, ans.id[gone]);
  }
  said_free(&ans);
  said_free(&fix);
  return ACT_BACK;
}

act prompt_question(diagnosis *d, const tshoot_step *st)
{
  /* copies: the step is borrowed only until the session changes */
  char *qid = strdup(st->question), *prompt = strdup(st->prompt);
  act result = ACT_FAIL;
  int rc;

  if (!qid || !prompt) { free(qid); free(prompt); cli_error("out of memory"); return ACT_FAIL; }
  print_question(st);
  show_hint(d);
  for (;;) {
    char *in = read_line(d, "> ");
    const char *value = NULL;
    if (!in) { result = ACT_QUIT; break; }
    if (!*in) {
      char *yn = read_line(d, "Skip this question (don't know)? [y/N] ");
      if (!yn) { result = ACT_QUIT; break; }
      if (strcasecmp(yn, "y") != 0 && strcasecmp(yn, "yes") != 0) continue;
      in = "skip";
    }
    if (is_cmd(in, "?", "why")) { print_why(d, qid); continue; }
    if (is_cmd(in, "causes", NULL)) { prompt_print_causes(d, TOP_CAUSES, NULL); continue; }
    if (is_cmd(in, "how", NULL)) { prompt_print_how(d, NULL, 1); continue; }
    if (is_cmd(in, "help", "h")) { d->hint_shown = 0; show_hint(d); continue; }
    if (is_cmd(in, "quit", "q") || is_cmd(in, "exit", NULL)) { result = ACT_QUIT; break; }
    if (is_cmd(in, "back", "b")) {
      act a = go_back(d);
      if (a == ACT_AGAIN) continue;
      result = a;
      break;
    }
    if (is_cmd(in, "skip", "dunno") || is_cmd(in, "don't know", "dont know")) {
      rc = tshoot_session_unknown(d->s, qid);
      if (rc != TSHOOT_OK) { cli_lib_error(rc); break; }
      diagnosis_record_ask(d, prompt, qid, NULL, "user");
      result = ACT_DONE;
      break;
    }
    value = st->n_choices ? match_choice(st, in) : in;
    if (value == in) {
      /* not a number on screen: the library reads it ("the first one",
      ** "yep", "sixty-four bit", more description...) */
      tshoot_input ri;
      rc = tshoot_session_read(&ri, d->s, in, strlen(in));
      if (rc != TSHOOT_OK) { cli_lib_error(rc); break; }
      if (ri.kind == TSHOOT_INPUT_UNKNOWN) {
        rc = tshoot_session_unknown(d->s, qid);
        if (rc != TSHOOT_OK) { cli_lib_error(rc); break; }
        diagnosis_record_ask(d, prompt, qid, NULL, "user");
        result = ACT_DONE;
        break;
      }
      if (ri.kind == TSHOOT_INPUT_TEXT) {
        rc = tshoot_session_add_text(d->s, in, strlen(in));
        if (rc != TSHOOT_OK) { cli_lib_error(rc); break; }
        printf("  Taken as more description of the problem.\n");
        result = ACT_BACK;   /* the next step is chosen again */
        break;
      }
      if (ri.kind == TSHOOT_INPUT_ANSWER) value = ri.value;
    }
    {
      char *v = strdup(value);   /* value may point into the step */
      if (!v) { cli_error("out of memory"); break; }
      rc = tshoot_session_answer(d->s, qid, v);
      if (rc == TSHOOT_EINVALID && st->n_choices) {   /* refused: the session and st are unchanged */
        size_t i;
        printf("  '%s' is not one of the choices: type a number from 1 to %zu, or one of: ", in,
               st->n_choices);
        for (i = 0; i < st->n_choices; i++) printf("%s%s", i ? ", " : "", st->choices[i]);
        printf(".\n");
        free(v);
        continue;
      }
      if (rc == TSHOOT_EINVALID) {
        printf("  %s\n", tshoot_error_last()->message);
        free(v);
        continue;
      }
      if (rc == TSHOOT_OK) diagnosis_record_ask(d, prompt, qid, recorded_value(d->s, qid), "user");
      free(v);
    }
    if (rc != TSHOOT_OK) { cli_lib_error(rc); break; }
    result = ACT_DONE;
    break;
  }
  free(qid);
  free(prompt);
  return result;
}


/* ===== around a fix ===== */

/* Ask `prompt` until the answer is yes or no (into *out): 0; -1 when the
** person quits or input ends. `help` is shown after anything else. */
int prompt_yes_no(diagnosis *d, const char *prompt, const char *help, int *out)
{
  for (;;) {
    char *in = read_line(d, prompt);
    if (!in) return -1;
    if (answers_parse_bool(in, out) == 0) return 0;
    if (is_cmd(in, "quit", "q") || is_cmd(in, "exit", NULL)) return -1;
    printf("%s", help);
  }
}

/* Why this fix: the cause it is for, said first (it need not be the
** leading cause: a cheap fix of a likely cause may come before asking), then
** that cause's evidence. */
static void fix_why(diagnosis *d, const tshoot_step *st)
{
  printf("  This fix is for: %s (%d%% likely). It is proposed now because trying it costs\n"
         "  less, on average, than asking more first.\n",
         st->cause_title ? st->cause_title : st->cause, prompt_pct(st->probability));
  prompt_print_how(d, st->cause, 1);
}

/* "Did this fix the problem?": the reply is read by the library
** (tshoot_session_read: "it worked", "no", "I can't do this, no admin
** rights", "skip" ...), so that every front-end understands the same. */
act prompt_fix_result(diagnosis *d, const tshoot_step *st, int *outcome)
{
  for (;;) {
    tshoot_input in;
    char *line = read_line(d, "Did this fix the problem? [y = it worked, n = it did not, c = I can't do this, s = skip] ");
    int rc;
    if (!line) return ACT_QUIT;
    if (is_cmd(line, "c", NULL)) { *outcome = TSHOOT_FIX_COULD_NOT_TRY; return ACT_DONE; }
    if (is_cmd(line, "s", NULL)) { *outcome = TSHOOT_FIX_SKIPPED; return ACT_DONE; }
    if (is_cmd(line, "causes", NULL)) { prompt_print_causes(d, TOP_CAUSES, NULL); continue; }
    if (is_cmd(line, "?", NULL)) { fix_why(d, st); continue; }
    if (is_cmd(line, "quit", "q") || is_cmd(line, "exit", NULL)) return ACT_QUIT;
    rc = tshoot_session_read(&in, d->s, line, strlen(line));
    if (rc != TSHOOT_OK) { cli_lib_error(rc); return ACT_FAIL; }
    switch (in.kind) {
    case TSHOOT_INPUT_FIX: *outcome = (int)in.outcome; return ACT_DONE;
    case TSHOOT_INPUT_WHY: case TSHOOT_INPUT_HOW: fix_why(d, st); continue;
    case TSHOOT_INPUT_BACK: {
      act a = go_back(d);
      if (a == ACT_AGAIN) continue;
      return a;
    }
    default:
      printf("  Answer y (it fixed the problem), n (it did not), c (I can't do this: no rights, no\n"
             "  time) or s (skip it). Also: causes, how, back, quit.\n");
    }
  }
}
