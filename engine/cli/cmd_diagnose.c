/*
** cmd_diagnose.c: `tshoot diagnose [TEXT...]`: a guided diagnosis.
**
** The loop is the one tshoot.h describes: a session (new, or --resume), the
** user's words (describe), then next() until CONCLUDE. Each question is
** answered from --answer/--answers when they have it, else asked at a
** terminal (or with --interactive), else counted as "don't know" so that an
** unattended run always ends. A proposed fix is shown and its result asked
** (scripted: --answer fix:ID=yes|no). Unattended, fixes are proposed only
** when some fix:ID answer is given, and one without an answer then counts as
** "did not work": a fix nobody tried must not count against its cause. --save
** writes the session after every step (temporary file + rename), --json
** prints one transcript object at the end instead of prose.
**
** Exit status: 0 concluded with a cause, 4 concluded "none of the known
** causes", 3 --strict and a question without an answer, 5 stopped before a
** conclusion (quit or end of input), 1 failure, 2 usage error.
*/
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { EXIT_STRICT = 3, EXIT_NONE = 4, EXIT_STOPPED = 5 };

/* How many causes `causes` shows, and "none" lists. */
#define TOP_CAUSES 8
#define TOP_NONE 3

/* An answer given in advance: question = value, or fix:ID = yes|no. */
typedef struct given {
  char *key;          /* question id, or fix id (is_fix) */
  char *value;        /* NULL: "don't know" (questions only) */
  int is_fix, worked;
  int disabled;       /* taken back at the prompt: ask the person instead */
  int used;
  const char *file;   /* the answer file, or NULL for --answer */
  int line;
} given;

typedef struct diag {
  tshoot_kb *kb;
  tshoot_session *s;
  given *g;
  size_t n_g, cap_g;
  int json, quiet, prompt, strict, echo;
  size_t fix_answers;         /* how many fix:ID answers were given */
  const char *save_path;
  json_t *steps;              /* the transcript (always kept; printed with --json) */
  json_t *tried;              /* fix id -> worked (bool), this run and resumed */
  char *text;                 /* the description, or NULL */
  tshoot_article *art;        /* cache for fix and cause details */
  char *line;                 /* the last line read */
  size_t line_cap;
  int hint_shown;
  tshoot_host *host;          /* --host: probes answer, fixes with scripts run */
  int yes;                    /* --yes: apply fixes without asking */
  size_t probes_seen;
} diag;

/* ===== small helpers ===== */

static char *trim(char *s)
{
  char *e;
  while (*s && isspace((unsigned char)*s)) s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

static int pct(double p)
{
  double v = p * 100.0 + 0.5;
  if (v < 0) v = 0;
  if (v > 100) v = 100;
  return (int)v;
}

static int parse_bool(const char *v, int *out)
{
  static const char *const yes[] = { "yes", "y", "true", "1", "worked" };
  static const char *const no[] = { "no", "n", "false", "0", "failed" };
  size_t i;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp(v, yes[i]) == 0) { *out = 1; return 0; }
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strcasecmp(v, no[i]) == 0) { *out = 0; return 0; }
  return -1;
}

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
static const tshoot_cause_info *cause_info(diag *d, const char *article, const char *cause)
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

/* ===== answers given in advance ===== */

static given *given_find(diag *d, const char *key, int is_fix)
{
  size_t i;
  /* the last one wins: --answer comes after --answers */
  for (i = d->n_g; i-- > 0;)
    if (!d->g[i].disabled && d->g[i].is_fix == is_fix && strcmp(d->g[i].key, key) == 0)
      return &d->g[i];
  return NULL;
}

/* Parse "key = value" into a new entry; 0, or -1 with *why set. */
static int given_add(diag *d, const char *spec, const char *file, int line, const char **why)
{
  char *copy, *eq, *key, *val;
  given *g;
  copy = strdup(spec);
  if (!copy) { *why = "out of memory"; return -1; }
  eq = strchr(copy, '=');
  if (!eq) {
    free(copy);
    *why = "expected QUESTION=VALUE (or fix:FIX=yes|no)";
    return -1;
  }
  *eq = '\0';
  key = trim(copy);
  val = trim(eq + 1);
  if (!*key) { free(copy); *why = "no question before '='"; return -1; }
  if (!*val) { free(copy); *why = "no value after '=' (use ? for \"don't know\")"; return -1; }
  if (d->n_g == d->cap_g) {
    size_t cap = d->cap_g ? 2 * d->cap_g : 16;
    given *ng = realloc(d->g, cap * sizeof *ng);
    if (!ng) { free(copy); *why = "out of memory"; return -1; }
    d->g = ng;
    d->cap_g = cap;
  }
  g = &d->g[d->n_g];
  memset(g, 0, sizeof *g);
  g->file = file;
  g->line = line;
  if (strncmp(key, "fix:", 4) == 0) {
    g->is_fix = 1;
    if (parse_bool(val, &g->worked) != 0) {
      free(copy);
      *why = "a fix's result is yes (it worked) or no";
      return -1;
    }
    g->key = strdup(trim(key + 4));
  } else {
    g->key = strdup(key);
    if (strcmp(val, "?") != 0) g->value = strdup(val);
    if (strcmp(val, "?") != 0 && !g->value) { free(g->key); g->key = NULL; }
  }
  free(copy);
  if (!g->key) { *why = "out of memory"; return -1; }
  if (g->is_fix) d->fix_answers++;
  d->n_g++;
  return 0;
}

static void given_free(diag *d)
{
  size_t i;
  for (i = 0; i < d->n_g; i++) {
    free(d->g[i].key);
    free(d->g[i].value);
  }
  free(d->g);
}

/* Read an answer file: `question.id = value` a line, # comments, blank lines. */
static int read_answers_file(diag *d, const char *path)
{
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  int line = 0, status = EXIT_OK;
  if (!f) return cli_error("cannot read the answer file %s: %s", path, strerror(errno));
  while ((n = getline(&buf, &cap, f)) >= 0) {
    char *s, *hash;
    const char *why;
    line++;
    if ((size_t)n != strlen(buf)) {
      status = cli_error("%s:%d: a NUL byte in the line", path, line);
      break;
    }
    hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    s = trim(buf);
    if (!*s) continue;
    if (given_add(d, s, path, line, &why) != 0) {
      status = cli_error("%s:%d: %s", path, line, why);
      break;
    }
  }
  if (status == EXIT_OK && ferror(f)) status = cli_error("cannot read %s: %s", path, strerror(errno));
  free(buf);
  fclose(f);
  return status;
}

/* Check every given answer against the KB (unknown ids with did-you-mean,
** values the question does not allow) on a scratch session, before any
** question is asked. */
static int check_given(diag *d)
{
  tshoot_session *scratch = NULL;
  size_t i;
  int rc = tshoot_session_new(&scratch, d->kb, NULL), status = EXIT_OK;
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  for (i = 0; i < d->n_g && status == EXIT_OK; i++) {
    const given *g = &d->g[i];
    if (g->is_fix) rc = tshoot_session_fix_result(scratch, g->key, 0);
    else if (g->value) rc = tshoot_session_answer(scratch, g->key, g->value);
    else rc = tshoot_session_unknown(scratch, g->key);
    if (rc == TSHOOT_OK) continue;
    if (g->file) {
      status = cli_error("%s:%d: %s", g->file, g->line, tshoot_error_last()->message);
    } else {
      status = cli_usage_error("diagnose", "--answer %s%s=%s: %s", g->is_fix ? "fix:" : "", g->key,
                               g->is_fix ? (g->worked ? "yes" : "no") : g->value ? g->value : "?",
                               tshoot_error_last()->message);
    }
  }
  tshoot_session_free(scratch);
  return status;
}

/* ===== saving ===== */

static int save_session(diag *d)
{
  char *json = NULL, *tmp;
  size_t n, len;
  int rc, fd;
  FILE *f;

  if (!d->save_path) return EXIT_OK;
  rc = tshoot_session_save(&json, d->s);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  n = strlen(d->save_path) + 16;
  tmp = malloc(n);
  if (!tmp) { tshoot_free(json); return cli_error("out of memory"); }
  snprintf(tmp, n, "%s.tmp.XXXXXX", d->save_path);
  fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    free(tmp);
    tshoot_free(json);
    return cli_error("cannot save the session to %s: %s", d->save_path, strerror(e));
  }
  f = fdopen(fd, "w");
  len = strlen(json);
  if (!f || fwrite(json, 1, len, f) != len || fputc('\n', f) == EOF || fflush(f) != 0 ||
      fsync(fileno(f)) != 0) {
    int e = errno;
    if (f) fclose(f); else close(fd);
    unlink(tmp);
    free(tmp);
    tshoot_free(json);
    return cli_error("cannot save the session to %s: %s", d->save_path, strerror(e));
  }
  tshoot_free(json);
  if (fclose(f) != 0 || rename(tmp, d->save_path) != 0) {
    int e = errno;
    unlink(tmp);
    free(tmp);
    return cli_error("cannot save the session to %s: %s", d->save_path, strerror(e));
  }
  free(tmp);
  return EXIT_OK;
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

static void record_ask(diag *d, const char *prompt, const char *question, const char *answer,
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

static void record_back(diag *d, const char *question)
{
  json_t *o = json_object();
  json_object_set_new(o, "kind", json_string("back"));
  json_object_set_new(o, "question", cli_jstr(question));
  json_array_append_new(d->steps, o);
}

/* Record a fix step (st must still be valid: call before the session changes);
** returns the record, borrowed from the transcript, for a caller to add to. */
static json_t *record_fix(diag *d, const tshoot_step *st, const char *title, int worked, const char *source)
{
  json_t *o = json_object();
  json_object_set_new(o, "kind", json_string("fix"));
  json_object_set_new(o, "fix", cli_jstr(st->fix));
  json_object_set_new(o, "title", cli_jstr(title));
  json_object_set_new(o, "cause", cli_jstr(st->cause));
  json_object_set_new(o, "probability", json_real(st->probability));
  json_object_set_new(o, "worked", json_boolean(worked));
  json_object_set_new(o, "source", json_string(source));
  json_array_append_new(d->steps, o);
  json_object_set_new(d->tried, st->fix, json_boolean(worked));
  return o;
}

/* Record and show what probes did since the last step. */
static void report_probes(diag *d)
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
static size_t person_answers(diag *d, size_t *probed)
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

/* ===== printing for a person ===== */

static void print_causes(diag *d, size_t limit, const char *skip)
{
  const tshoot_cause_rank *r;
  size_t n, i, shown = 0;
  int width = cli_width();
  int rc = tshoot_session_causes(&r, &n, d->s);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return; }
  for (i = 0; i < n && shown < limit; i++) {
    char label[32];
    if (skip && strcmp(r[i].cause, skip) == 0) continue;
    snprintf(label, sizeof label, "  %3d%%  ", pct(r[i].probability));
    fputs(label, stdout);
    {
      size_t m = strlen(r[i].title ? r[i].title : "") + strlen(r[i].cause) + 64;
      char *t = malloc(m);
      if (!t) continue;
      snprintf(t, m, "%s %s(%s)%s", r[i].title ? r[i].title : "", cli_sgr(stdout, SGR_DIM),
               r[i].cause, cli_sgr(stdout, SGR_RESET));
      cli_wrap(stdout, t, (int)strlen(label), (int)strlen(label), width);
      free(t);
    }
    shown++;
  }
}

static void print_why(diag *d, const char *question)
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
      snprintf(label, sizeof label, "  %3d%%  ", pct(e->causes[i].probability));
      fputs(label, stdout);
      cli_wrap(stdout, e->causes[i].title, (int)strlen(label), (int)strlen(label), width);
    }
  }
  tshoot_explanation_free(e);
}

/* The evidence behind cause `cause` (NULL: the most likely), briefly. */
static void print_how(diag *d, const char *cause, int with_text)
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

static void print_fix(const tshoot_fix_info *x, const char *label, int indent, int tried, int worked)
{
  int width = cli_width();
  size_t k;
  char meta[256], step_label[32];
  printf("%*s%s%s", indent, "", label, cli_sgr(stdout, SGR_BOLD));
  cli_wrap(stdout, x->title, indent + (int)strlen(label), indent + (int)strlen(label), width);
  snprintf(meta, sizeof meta, "%s%s: %s, %s, risk %s%s%s", cli_sgr(stdout, SGR_DIM), x->id,
           x->needs_admin ? "needs admin" : "no admin needed",
           x->reversible ? "reversible" : "not reversible", x->risk ? x->risk : "?",
           tried ? (worked ? "; tried: it worked" : "; tried: it did not work") : "",
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

static void show_hint(diag *d)
{
  if (d->hint_shown) return;
  d->hint_shown = 1;
  printf("%sAnswer with a number or a value. Also: ? or why (why this is asked), back (change the\n"
         "last answer), skip (don't know), causes (the ranking), how (why the leading cause), quit.%s\n",
         cli_sgr(stdout, SGR_DIM), cli_sgr(stdout, SGR_RESET));
}

/* Read one line from stdin after printing `prompt`; NULL at end of input.
** The line is trimmed and borrowed until the next call. */
static char *read_line(diag *d, const char *prompt)
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
  return trim(d->line);
}

/* ===== one question ===== */

/* What became of a step: answered, taken back, quit, failed, or nothing
** changed (ask again). */
typedef enum { ACT_DONE, ACT_BACK, ACT_QUIT, ACT_FAIL, ACT_AGAIN } act;

/* The value of `in` for a choice question, or NULL. */
static const char *match_choice(const tshoot_step *st, const char *in)
{
  size_t i;
  int num;
  if (cli_parse_int(in, 1, (int)st->n_choices, &num) == 0) return st->choices[num - 1];
  for (i = 0; i < st->n_choices; i++)
    if (strcasecmp(in, st->choices[i]) == 0 || (st->labels && st->labels[i] &&
                                                 strcasecmp(in, st->labels[i]) == 0))
      return st->choices[i];
  if (strcmp(st->type, "yesno") == 0) {
    const char *want = NULL;
    if (strcasecmp(in, "y") == 0) want = "yes";
    else if (strcasecmp(in, "n") == 0) want = "no";
    for (i = 0; want && i < st->n_choices; i++)
      if (strcmp(st->choices[i], want) == 0) return st->choices[i];
  }
  return NULL;
}

static void print_question(diag *d, const tshoot_step *st)
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
  (void)d;
}

static int is_cmd(const char *in, const char *a, const char *b)
{
  return strcasecmp(in, a) == 0 || (b && strcasecmp(in, b) == 0);
}

/* Take back the last answer; the question it answered is then asked of the
** person, even if an answer file had it. */
static act go_back(diag *d)
{
  const tshoot_answer_info *a;
  size_t n;
  char *q = NULL;
  int rc = tshoot_session_answers(&a, &n, d->s);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return ACT_FAIL; }
  if (n == 0) {
    printf("  There is no earlier answer to change.\n");
    return ACT_AGAIN;   /* nothing changed: ask again */
  }
  q = strdup(a[n - 1].question);
  if (!q) { cli_error("out of memory"); return ACT_FAIL; }
  rc = tshoot_session_undo(d->s);
  if (rc != TSHOOT_OK) { free(q); cli_lib_error(rc); return ACT_FAIL; }
  {
    size_t i;
    for (i = 0; i < d->n_g; i++)
      if (!d->g[i].is_fix && strcmp(d->g[i].key, q) == 0) d->g[i].disabled = 1;
  }
  printf("  Took back the answer to %s.\n", q);
  record_back(d, q);
  free(q);
  return ACT_BACK;
}

/* Ask question `st` at the prompt until it is answered or the person goes back or quits. */
static act ask_person(diag *d, const tshoot_step **stp)
{
  const tshoot_step *st = *stp;
  /* copies: the step is borrowed only until the session changes */
  char *qid = strdup(st->question), *prompt = strdup(st->prompt);
  act result = ACT_FAIL;
  int rc;

  if (!qid || !prompt) { free(qid); free(prompt); cli_error("out of memory"); return ACT_FAIL; }
  print_question(d, st);
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
    if (is_cmd(in, "causes", NULL)) { print_causes(d, TOP_CAUSES, NULL); continue; }
    if (is_cmd(in, "how", NULL)) { print_how(d, NULL, 1); continue; }
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
      record_ask(d, prompt, qid, NULL, "user");
      result = ACT_DONE;
      break;
    }
    if (st->n_choices) {
      value = match_choice(st, in);
      if (!value) {
        size_t i;
        printf("  '%s' is not one of the choices: type a number from 1 to %zu, or one of: ", in,
               st->n_choices);
        for (i = 0; i < st->n_choices; i++) printf("%s%s", i ? ", " : "", st->choices[i]);
        printf(".\n");
        continue;
      }
    } else {
      value = in;
    }
    {
      char *v = strdup(value);   /* value may point into the step */
      if (!v) { cli_error("out of memory"); break; }
      rc = tshoot_session_answer(d->s, qid, v);
      if (rc == TSHOOT_EINVALID) {
        printf("  %s\n", tshoot_error_last()->message);
        free(v);
        continue;
      }
      if (rc == TSHOOT_OK) record_ask(d, prompt, qid, v, "user");
      free(v);
    }
    if (rc != TSHOOT_OK) { cli_lib_error(rc); break; }
    result = ACT_DONE;
    break;
  }
  free(qid);
  free(prompt);
  (void)stp;
  return result;
}

/* ===== one fix ===== */

/* Ask `prompt` until the answer is yes or no (into *out): 0; -1 when the
** person quits or input ends. `help` is shown after anything else. */
static int ask_yes_no(diag *d, const char *prompt, const char *help, int *out)
{
  for (;;) {
    char *in = read_line(d, prompt);
    if (!in) return -1;
    if (parse_bool(in, out) == 0) return 0;
    if (is_cmd(in, "quit", "q") || is_cmd(in, "exit", NULL)) return -1;
    printf("%s", help);
  }
}

/* A fix with a script, on the host: show its plan, confirm (unless --yes),
** apply and verify; the library reports the outcome to the session. */
static act host_fix(diag *d, const tshoot_step *st, const tshoot_fix_info *x, const char *fix_id)
{
  tshoot_run *plan = NULL, *run = NULL;
  json_t *o;
  int rc, worked;
  size_t k;
  if (!d->json && !d->quiet) {
    printf("\n%sTrying a fix on the machine%s (for: %s, %d%% likely): %s%s%s\n", cli_sgr(stdout, SGR_BOLD),
           cli_sgr(stdout, SGR_RESET), st->cause_title ? st->cause_title : st->cause, pct(st->probability),
           x->title, x->needs_admin ? ", needs admin rights" : "", x->reversible ? "" : ", cannot be undone");
  }
  rc = tshoot_session_run_fix(&plan, d->s, fix_id, 1);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return ACT_FAIL; }
  if (!d->json && !d->quiet) {
    if (plan->status != TSHOOT_OK) printf("  the plan failed: %s\n", plan->message);
    else if (plan->n_changes) { printf("  plan:\n"); cli_print_changes(stdout, plan->changes, plan->n_changes, "    "); }
    else printf("  plan: no change to the machine\n");
  }
  tshoot_run_free(plan);
  if (!d->yes) {
    int ok = 0;
    if (d->prompt && ask_yes_no(d, "  Apply it? [y/n] ", "  Answer y (apply it) or n (do not).\n", &ok) != 0)
      return ACT_QUIT;
    if (!ok) {
      /* declined: the person may do it by hand; counted as not working */
      record_fix(d, st, x->title, 0, "declined");
      rc = tshoot_session_fix_result(d->s, fix_id, 0);
      return rc == TSHOOT_OK ? ACT_DONE : (cli_lib_error(rc), ACT_FAIL);
    }
  }
  /* recorded now, completed below: applying the fix changes the session, and
  ** with it ends the life of st */
  o = record_fix(d, st, x->title, 0, "host");
  rc = tshoot_session_run_fix(&run, d->s, fix_id, 0);
  if (rc != TSHOOT_OK) { cli_lib_error(rc); return ACT_FAIL; }
  worked = run->verified;
  if (run->status == TSHOOT_EUSER) {
    rc = tshoot_session_fix_result(d->s, fix_id, 0);   /* refused: it cannot help here */
    if (rc != TSHOOT_OK) { tshoot_run_free(run); cli_lib_error(rc); return ACT_FAIL; }
  }
  if (!d->json && !d->quiet) {
    for (k = 0; k < run->n_notes; k++) printf("  note: %s\n", run->notes[k]);
    if (worked) printf("  applied and verified\n");
    else printf("  did not work: %s%s\n", run->message, run->rolled_back ? " (rolled back)" : "");
  }
  json_object_set_new(o, "verified", json_boolean(run->verified));
  if (worked && d->prompt) {
    /* The script's check proves that its change took effect, not that the
    ** problem is gone: the person at the machine can tell. Their answer
    ** replaces the outcome the library reported. */
    int gone = 0;
    if (ask_yes_no(d, "  Is the problem gone now? [y/n] ",
                   "  Answer y (the problem is gone) or n (it is still there).\n", &gone) != 0) {
      tshoot_run_free(run);
      return ACT_QUIT;
    }
    if (!gone) {
      worked = 0;
      json_object_set_new(o, "source", json_string("host+user"));
      rc = tshoot_session_fix_result(d->s, fix_id, 0);
      if (rc != TSHOOT_OK) { tshoot_run_free(run); cli_lib_error(rc); return ACT_FAIL; }
      if (!d->quiet)
        printf("  counted as not working; its change stays on the machine (undo it by hand if it\n"
               "  should not: the plan above lists it)\n");
    }
  }
  json_object_set_new(o, "worked", json_boolean(worked));
  json_object_set_new(o, "rolled_back", json_boolean(run->rolled_back));
  json_object_set_new(o, "message", cli_jstr(run->message));
  json_object_set_new(o, "changes", cli_changes_json(run->changes, run->n_changes));
  json_object_set_new(d->tried, fix_id, json_boolean(worked));
  tshoot_run_free(run);
  return ACT_DONE;
}

static act fix_step(diag *d, const tshoot_step *st)
{
  const tshoot_cause_info *c = cause_info(d, st->article, st->cause);
  const tshoot_fix_info *x = find_fix(c, st->fix);
  const char *title = x ? x->title : st->fix;
  given *g = given_find(d, st->fix, 1);
  int worked = 0, rc;
  const char *source;
  char *fix_id = strdup(st->fix);

  if (!fix_id) { cli_error("out of memory"); return ACT_FAIL; }
  if (d->host && x && x->script && !g) {
    act a = host_fix(d, st, x, fix_id);
    free(fix_id);
    return a;
  }
  if (!d->json && d->prompt && !g) {
    printf("\n%sTry this fix%s (for: %s, %d%% likely)\n", cli_sgr(stdout, SGR_BOLD),
           cli_sgr(stdout, SGR_RESET), st->cause_title ? st->cause_title : st->cause,
           pct(st->probability));
    if (x) print_fix(x, "Fix: ", 2, 0, 0);
    else printf("  Fix: %s\n", st->fix);
  } else if (!d->json && !d->quiet) {
    /* nobody tries it now: one line (the conclusion lists the steps) */
    printf("Fix: %s (%s, for %s) -> ", title, st->fix, st->cause);
  }
  if (g) {
    g->used = 1;
    worked = g->worked;
    source = "answers";
    if (!d->json && !d->quiet) printf("%s (from answers)\n", worked ? "worked" : "did not work");
  } else if (d->prompt) {
    source = "user";
    for (;;) {
      char *in = read_line(d, "Did this fix the problem? [y/n] ");
      if (!in) { free(fix_id); return ACT_QUIT; }
      if (parse_bool(in, &worked) == 0) break;
      if (is_cmd(in, "causes", NULL)) { print_causes(d, TOP_CAUSES, NULL); continue; }
      if (is_cmd(in, "how", "?") || is_cmd(in, "why", NULL)) { print_how(d, st->cause, 1); continue; }
      if (is_cmd(in, "quit", "q") || is_cmd(in, "exit", NULL)) { free(fix_id); return ACT_QUIT; }
      if (is_cmd(in, "back", "b")) {
        act a = go_back(d);
        if (a == ACT_AGAIN) continue;
        free(fix_id);
        return a;
      }
      printf("  Answer y (it fixed the problem) or n (it did not). Also: causes, how, back, quit.\n");
    }
  } else {
    source = "unattended";
    worked = 0;
    if (!d->json && !d->quiet) printf("not tried (unattended): counted as not working\n");
  }
  record_fix(d, st, title, worked, source);   /* st is borrowed until the session changes */
  rc = tshoot_session_fix_result(d->s, fix_id, worked);
  if (rc != TSHOOT_OK) { free(fix_id); cli_lib_error(rc); return ACT_FAIL; }
  free(fix_id);
  return ACT_DONE;
}

/* ===== the conclusion ===== */

static json_t *fix_json(const tshoot_fix_info *x, json_t *tried)
{
  json_t *fx = json_object(), *steps = json_array(), *t = json_object_get(tried, x->id);
  size_t m;
  json_object_set_new(fx, "id", cli_jstr(x->id));
  json_object_set_new(fx, "title", cli_jstr(x->title));
  for (m = 0; m < x->n_steps; m++) json_array_append_new(steps, cli_jstr(x->steps[m]));
  json_object_set_new(fx, "steps", steps);
  json_object_set_new(fx, "verify", cli_jstr(x->verify));
  json_object_set_new(fx, "risk", cli_jstr(x->risk));
  json_object_set_new(fx, "needs_admin", json_boolean(x->needs_admin));
  json_object_set_new(fx, "reversible", json_boolean(x->reversible));
  json_object_set_new(fx, "tried", t ? json_true() : json_false());
  if (t) json_object_set(fx, "worked", t);
  return fx;
}

/* The fix that worked (this run or a resumed one), or NULL. */
static const char *fix_that_worked(diag *d)
{
  const char *k;
  json_t *v;
  json_object_foreach(d->tried, k, v)
    if (json_is_true(v)) return k;
  return NULL;
}

static void print_conclusion(diag *d, const tshoot_step *st)
{
  int width = cli_width();
  const char *fixed = fix_that_worked(d);
  size_t i;

  putchar('\n');
  if (strcmp(st->cause, "none") == 0) {
    printf("%sNo known cause fits.%s ", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
    cli_wrap(stdout,
             "What you described and answered matches none of the causes in this knowledge "
             "base well enough. Contact your support team, and give them this transcript. "
             "The closest candidates were:", 0, 21, width);
    print_causes(d, TOP_NONE, "none");
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
                 cli_sgr(stdout, SGR_BOLD_OFF), pct(st->probability));
        cli_wrap(stdout, t, 2, (int)strlen(label), width);
        free(t);
      }
    }
    printf("%s  %s%s, article %s%s\n", cli_sgr(stdout, SGR_RESET), cli_sgr(stdout, SGR_DIM), st->cause,
           st->article ? st->article : "?", cli_sgr(stdout, SGR_RESET));
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
    print_how(d, st->cause, 0);
    if (c && c->n_fixes) {
      printf("\n%sWhat to do%s (in this order):\n", cli_sgr(stdout, SGR_BOLD), cli_sgr(stdout, SGR_RESET));
      for (i = 0; i < c->n_fixes; i++) {
        json_t *t = json_object_get(d->tried, c->fixes[i].id);
        snprintf(label, sizeof label, "Fix %zu: ", i + 1);
        if (i) putchar('\n');
        print_fix(&c->fixes[i], label, 2, t != NULL, json_is_true(t));
      }
    }
  }
}

static json_t *conclusion_json(diag *d, const tshoot_step *st)
{
  json_t *o = json_object();
  const char *fixed = fix_that_worked(d);
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
    for (i = 0; c && i < c->n_fixes; i++) json_array_append_new(fixes, fix_json(&c->fixes[i], d->tried));
    json_object_set_new(o, "fixes", fixes);
  }
  return o;
}

/* ===== the command ===== */

static int unattended_ask(diag *d, const tshoot_step *st)
{
  int rc;
  if (d->strict) {
    cli_error("no answer for question %s (\"%s\"); --strict stops here", st->question, st->prompt);
    return EXIT_STRICT;
  }
  if (!d->json && !d->quiet) printf("Q: %s -> don't know (no answer given)\n", st->prompt);
  record_ask(d, st->prompt, st->question, NULL, "unknown");
  rc = tshoot_session_unknown(d->s, st->question);
  return rc == TSHOOT_OK ? EXIT_OK : cli_lib_error(rc);
}

static int answer_given(diag *d, const tshoot_step *st, given *g)
{
  int rc;
  g->used = 1;
  if (!d->json && !d->quiet)
    printf("Q: %s -> %s (from answers)\n", st->prompt, g->value ? g->value : "don't know");
  record_ask(d, st->prompt, st->question, g->value, "answers");
  rc = g->value ? tshoot_session_answer(d->s, st->question, g->value)
                : tshoot_session_unknown(d->s, st->question);
  return rc == TSHOOT_OK ? EXIT_OK : cli_lib_error(rc);
}

static int run_loop(diag *d, const tshoot_step **concl)
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
    if (st->kind == TSHOOT_STEP_CONCLUDE) {
      *concl = st;
      return EXIT_OK;
    }
    if (st->kind == TSHOOT_STEP_FIX) {
      if (!d->prompt && ++auto_steps > limit)
        return cli_error("the session does not move on (fix %s proposed again); stopping", st->fix);
      a = fix_step(d, st);
    } else if ((g = given_find(d, st->question, 0)) != NULL) {
      if (++auto_steps > limit)
        return cli_error("the session does not move on (question %s asked again); stopping", st->question);
      if ((status = answer_given(d, st, g)) != EXIT_OK) return status;
      a = ACT_DONE;
    } else if (d->prompt) {
      a = ask_person(d, &st);
    } else {
      if (++auto_steps > limit)
        return cli_error("the session does not move on (question %s asked again); stopping", st->question);
      if ((status = unattended_ask(d, st)) != EXIT_OK) return status;
      a = ACT_DONE;
    }
    if (a == ACT_FAIL) return EXIT_FAIL;
    if (a == ACT_QUIT) {
      if (save_session(d) != EXIT_OK) return EXIT_FAIL;
      if (d->save_path) printf("Stopped. Continue later with: tshoot diagnose --resume %s\n", d->save_path);
      else printf("Stopped.\n");
      return EXIT_STOPPED;
    }
    if (save_session(d) != EXIT_OK) return EXIT_FAIL;
  }
}

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

int cmd_diagnose(int argc, char **argv)
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
    { "interactive", no_argument, NULL, 'i' },
    { "strict", no_argument, NULL, 's' },
    { "host", required_argument, NULL, 'H' },
    { "yes", no_argument, NULL, 'y' },
    { "log", required_argument, NULL, 'L' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  diag d;
  tshoot_session_options so = TSHOOT_SESSION_OPTIONS_INIT;
  const char *kb_opt = NULL, *answers_file = NULL, *resume = NULL, *host_spec = NULL, *log_path = NULL;
  const char **cmd_answers = NULL;
  const tshoot_step *concl = NULL;
  size_t n_cmd = 0, i;
  int c, rc, force_interactive = 0, set_threshold = 0, no_fixes = 0, status = EXIT_OK;

  memset(&d, 0, sizeof d);
  cmd_answers = calloc((size_t)argc + 1, sizeof *cmd_answers);
  if (!cmd_answers) return cli_error("out of memory");
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":a:iqh", longs, NULL)) != -1) {
    switch (c) {
    case 'k': kb_opt = optarg; break;
    case 'a': cmd_answers[n_cmd++] = optarg; break;
    case 'A': answers_file = optarg; break;
    case 'j': d.json = 1; break;
    case 'S': d.save_path = optarg; break;
    case 'R': resume = optarg; break;
    case 't':
      if (parse_threshold(optarg, &so.conclude_at) != 0) {
        free(cmd_answers);
        return cli_usage_error("diagnose", "--threshold wants a probability in (0, 1] such as 0.9 "
                                           "(or 90%%), not '%s'", optarg);
      }
      set_threshold = 1;
      break;
    case 'F': no_fixes = 1; break;
    case 'q': d.quiet = 1; break;
    case 'i': force_interactive = 1; break;
    case 's': d.strict = 1; break;
    case 'H': host_spec = optarg; break;
    case 'y': d.yes = 1; break;
    case 'L': log_path = optarg; break;
    case 'h': free(cmd_answers); cli_print_command_help(stdout, "diagnose"); return EXIT_OK;
    default: free(cmd_answers); return cli_getopt_error("diagnose", c, argv);
    }
  }
  if (resume && optind < argc) {
    free(cmd_answers);
    return cli_usage_error("diagnose", "a resumed session keeps its own description; "
                                       "give either TEXT or --resume");
  }
  if (force_interactive && d.json) {
    free(cmd_answers);
    return cli_usage_error("diagnose", "--json never asks; leave out --interactive");
  }
  if (optind < argc) {
    d.text = cli_join_words(argc - optind, argv + optind);
    if (!d.text) { free(cmd_answers); return cli_error("out of memory"); }
  }
  d.prompt = !d.json && (force_interactive || isatty(STDIN_FILENO));
  d.echo = d.prompt && !isatty(STDIN_FILENO);
  d.steps = json_array();
  d.tried = json_object();

  if (answers_file && (status = read_answers_file(&d, answers_file)) != EXIT_OK) goto done;
  for (i = 0; i < n_cmd; i++) {
    const char *why;
    if (given_add(&d, cmd_answers[i], NULL, 0, &why) != 0) {
      status = cli_usage_error("diagnose", "--answer '%s': %s", cmd_answers[i], why);
      goto done;
    }
  }
  if (cli_open_kb(&d.kb, kb_opt, NULL) != EXIT_OK) { status = EXIT_FAIL; goto done; }
  if (host_spec && (status = cli_open_host(&d.host, host_spec)) != EXIT_OK) goto done;
  if (log_path && !d.host) { status = cli_usage_error("diagnose", "--log writes the host's journal: give --host too"); goto done; }
  if ((status = check_given(&d)) != EXIT_OK) goto done;
  /* Unattended, nobody can try a fix: reporting it as "did not work" would be
  ** false evidence against its cause. So fixes are proposed only at a prompt,
  ** or when some fix:ID answer says how fixes went. */
  if (!d.prompt && !d.fix_answers && !(d.host && d.yes)) no_fixes = 1;

  if (resume) {
    char *buf = NULL;
    size_t len = 0;
    if ((status = read_saved(resume, &buf, &len)) != EXIT_OK) goto done;
    {
      /* the saved options, changed by what was given now; the library checks them */
      json_t *j = json_loadb(buf, len, 0, NULL), *v;
      if ((v = json_object_get(j, "conclude_at")) && json_is_number(v) && !set_threshold)
        so.conclude_at = json_number_value(v);
      if ((v = json_object_get(j, "noise")) && json_is_number(v)) so.noise = json_number_value(v);
      if ((v = json_object_get(j, "flags")) && json_is_integer(v) && json_integer_value(v) >= 0)
        so.flags = (unsigned)json_integer_value(v) & ~TSHOOT_SESSION_NO_FIXES;
      json_decref(j);
    }
    if (no_fixes) so.flags |= TSHOOT_SESSION_NO_FIXES;
    rc = tshoot_session_load(&d.s, d.kb, buf, len, &so);
    if (rc != TSHOOT_OK) {
      free(buf);
      status = cli_lib_error(rc);
      cli_note("could not resume from %s", resume);
      goto done;
    }
    {
      /* the transcript starts with what was saved */
      json_t *j = json_loadb(buf, len, 0, NULL), *v;
      const tshoot_answer_info *a;
      size_t n, k;
      if (j && json_is_string(json_object_get(j, "text")))
        d.text = strdup(json_string_value(json_object_get(j, "text")));
      json_array_foreach(json_object_get(j, "fixes"), k, v)
        if (json_is_string(json_object_get(v, "fix")))
          json_object_set(d.tried, json_string_value(json_object_get(v, "fix")), json_object_get(v, "worked"));
      json_decref(j);
      if (tshoot_session_answers(&a, &n, d.s) == TSHOOT_OK) {
        if (!d.json && !d.quiet && n) printf("Resumed with %zu earlier answer%s:\n", n, n == 1 ? "" : "s");
        for (k = 0; k < n; k++) {
          if (!d.json && !d.quiet) printf("  %s = %s\n", a[k].question, a[k].value ? a[k].value : "don't know");
          record_ask(&d, NULL, a[k].question, a[k].value, "saved");
        }
      }
    }
    free(buf);
  } else {
    if (no_fixes) so.flags |= TSHOOT_SESSION_NO_FIXES;
    rc = tshoot_session_new(&d.s, d.kb, &so);
    if (rc != TSHOOT_OK) { status = cli_lib_error(rc); goto done; }
    if (d.text) {
      rc = tshoot_session_describe(d.s, d.text, strlen(d.text));
      if (rc != TSHOOT_OK) { status = cli_lib_error(rc); goto done; }
    }
  }
  if (d.host && (rc = tshoot_session_set_host(d.s, d.host, NULL)) != TSHOOT_OK) {
    status = cli_lib_error(rc);
    goto done;
  }
  if ((status = save_session(&d)) != EXIT_OK) goto done;

  status = run_loop(&d, &concl);
  if (log_path && d.host) {
    char *text = NULL;
    rc = tshoot_host_journal_json(&text, d.host);
    if (rc != TSHOOT_OK) status = cli_lib_error(rc);
    else if (cli_write_file(log_path, text) != EXIT_OK) status = EXIT_FAIL;
    tshoot_free(text);
  }
  if (status != EXIT_OK) {
    if (d.json && status == EXIT_STRICT) {
      /* still a transcript, so that a program sees where it stopped */
      json_t *j = json_object();
      json_object_set_new(j, "text", cli_jstr(d.text));
      json_object_set(j, "steps", d.steps);
      json_object_set_new(j, "conclusion", json_null());
      json_object_set_new(j, "causes", causes_json(d.s, TOP_CAUSES));
      cli_json_print(j);
    }
    goto done;
  }
  status = strcmp(concl->cause, "none") == 0 ? EXIT_NONE : EXIT_OK;

  if (d.json) {
    json_t *j = json_object(), *unused = json_array();
    size_t probed, asked = person_answers(&d, &probed);
    json_object_set_new(j, "text", cli_jstr(d.text));
    json_object_set_new(j, "resumed", json_boolean(resume != NULL));
    json_object_set(j, "steps", d.steps);
    json_object_set_new(j, "conclusion", conclusion_json(&d, concl));
    json_object_set_new(j, "causes", causes_json(d.s, TOP_CAUSES));
    json_object_set_new(j, "questions_asked", json_integer((json_int_t)asked));
    json_object_set_new(j, "probed", json_integer((json_int_t)probed));
    for (i = 0; i < d.n_g; i++)
      if (!d.g[i].used && !d.g[i].disabled)
        json_array_append_new(unused, json_string(d.g[i].key));
    json_object_set_new(j, "unused_answers", unused);
    if (cli_json_print(j) != EXIT_OK) status = EXIT_FAIL;
  } else {
    size_t probed, asked = person_answers(&d, &probed), k, n_ans = 0, dunno = 0;
    const tshoot_answer_info *a;
    print_conclusion(&d, concl);
    if (tshoot_session_answers(&a, &n_ans, d.s) == TSHOOT_OK)
      for (k = 0; k < n_ans; k++) if (!a[k].value) dunno++;
    printf("\n%zu question%s asked", asked, asked == 1 ? "" : "s");
    if (dunno) printf(" (%zu not known)", dunno);
    if (probed) printf(", %zu answered by probes on the machine", probed);
    k = json_object_size(d.tried);
    if (k) printf(", %zu fix%s tried", k, k == 1 ? "" : "es");
    printf(".\n");
    if (!d.quiet) {
      size_t n_unused = 0;
      for (i = 0; i < d.n_g; i++) if (!d.g[i].used && !d.g[i].disabled) n_unused++;
      if (n_unused) {
        fflush(stdout);
        fprintf(stderr, "tshoot: %snote:%s %zu given answer%s not needed:", cli_sgr(stderr, SGR_CYAN),
                cli_sgr(stderr, SGR_RESET), n_unused, n_unused == 1 ? " was" : "s were");
        for (i = 0; i < d.n_g; i++)
          if (!d.g[i].used && !d.g[i].disabled) fprintf(stderr, " %s%s", d.g[i].is_fix ? "fix:" : "", d.g[i].key);
        fputc('\n', stderr);
      }
    }
  }

done:
  tshoot_article_free(d.art);
  tshoot_session_free(d.s);
  tshoot_host_free(d.host);
  tshoot_kb_close(d.kb);
  json_decref(d.steps);
  json_decref(d.tried);
  given_free(&d);
  free(d.text);
  free(d.line);
  free(cmd_answers);
  return status;
}
