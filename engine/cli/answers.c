/*
** answers.c: answers given in advance to `tshoot diagnose`: --answer Q=V
** (repeatable) and --answers FILE (`question.id = value` a line, # comments,
** blank lines; `?` is "don't know"; fix:FIX=yes|no reports a fix). All are
** checked against the KB before the first question, so that a typo stops the
** run with did-you-mean instead of being silently unused.
*/
#include "diagnose.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int answers_parse_bool(const char *v, int *out)
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

int answers_parse_outcome(const char *v, int *out)
{
  static const struct { const char *name; int outcome; } names[] = {
    { "could-not-try", TSHOOT_FIX_COULD_NOT_TRY }, { "could_not_try", TSHOOT_FIX_COULD_NOT_TRY },
    { "cannot", TSHOOT_FIX_COULD_NOT_TRY }, { "skipped", TSHOOT_FIX_SKIPPED }, { "skip", TSHOOT_FIX_SKIPPED },
    { "did-not-work", TSHOOT_FIX_DID_NOT_WORK }, { "did_not_work", TSHOOT_FIX_DID_NOT_WORK },
  };
  size_t i;
  int b;
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(v, names[i].name) == 0) { *out = names[i].outcome; return 0; }
  if (answers_parse_bool(v, &b) == 0) { *out = b ? TSHOOT_FIX_WORKED : TSHOOT_FIX_DID_NOT_WORK; return 0; }
  return -1;
}

const char *answers_outcome_name(int outcome)
{
  switch (outcome) {
  case TSHOOT_FIX_WORKED: return "worked";
  case TSHOOT_FIX_COULD_NOT_TRY: return "could_not_try";
  case TSHOOT_FIX_SKIPPED: return "skipped";
  default: return "did_not_work";
  }
}

given *answers_find(answers *a, const char *key, int is_fix)
{
  size_t i;
  /* the last one wins: --answer comes after --answers */
  for (i = a->n; i-- > 0;)
    if (!a->v[i].disabled && a->v[i].is_fix == is_fix && strcmp(a->v[i].key, key) == 0)
      return &a->v[i];
  return NULL;
}

void answers_disable(answers *a, const char *question)
{
  size_t i;
  for (i = 0; i < a->n; i++)
    if (!a->v[i].is_fix && strcmp(a->v[i].key, question) == 0) a->v[i].disabled = 1;
}

size_t answers_unused(const answers *a)
{
  size_t i, n = 0;
  for (i = 0; i < a->n; i++) if (!a->v[i].used && !a->v[i].disabled) n++;
  return n;
}

/* Fill g from the trimmed key and value; 0, or -1 with *why set. */
static int given_set(given *g, char *key, const char *val, const char **why)
{
  if (strncmp(key, "fix:", 4) == 0) {
    g->is_fix = 1;
    if (answers_parse_outcome(val, &g->outcome) != 0) {
      *why = "a fix's result is yes (it worked), no (it did not), could-not-try or skipped";
      return -1;
    }
    g->key = strdup(cli_trim(key + 4));
  } else {
    g->key = strdup(key);
    if (strcmp(val, "?") != 0) g->value = strdup(val);
    if (strcmp(val, "?") != 0 && !g->value) { free(g->key); g->key = NULL; }
  }
  if (!g->key) { *why = "out of memory"; return -1; }
  return 0;
}

int answers_add(answers *a, const char *spec, const char *file, int line, const char **why)
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
  key = cli_trim(copy);
  val = cli_trim(eq + 1);
  if (!*key) { free(copy); *why = "no question before '='"; return -1; }
  if (!*val) { free(copy); *why = "no value after '=' (use ? for \"don't know\")"; return -1; }
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 16;
    given *nv = realloc(a->v, cap * sizeof *nv);
    if (!nv) { free(copy); *why = "out of memory"; return -1; }
    a->v = nv;
    a->cap = cap;
  }
  g = &a->v[a->n];
  memset(g, 0, sizeof *g);
  g->file = file;
  g->line = line;
  if (given_set(g, key, val, why) != 0) { free(copy); return -1; }
  free(copy);
  if (g->is_fix) a->n_fix++;
  a->n++;
  return 0;
}

void answers_free(answers *a)
{
  size_t i;
  for (i = 0; i < a->n; i++) {
    free(a->v[i].key);
    free(a->v[i].value);
  }
  free(a->v);
  memset(a, 0, sizeof *a);
}

int answers_read_file(answers *a, const char *path)
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
    s = cli_trim(buf);
    if (!*s) continue;
    if (answers_add(a, s, path, line, &why) != 0) {
      status = cli_error("%s:%d: %s", path, line, why);
      break;
    }
  }
  if (status == EXIT_OK && ferror(f)) status = cli_error("cannot read %s: %s", path, strerror(errno));
  free(buf);
  fclose(f);
  return status;
}

/* The checks run on a scratch session: the library decides what it accepts. */
int answers_check(const answers *a, tshoot_kb *kb)
{
  tshoot_session *scratch = NULL;
  size_t i;
  int rc = tshoot_session_new(&scratch, kb, NULL), status = EXIT_OK;
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  for (i = 0; i < a->n && status == EXIT_OK; i++) {
    const given *g = &a->v[i];
    if (g->is_fix) rc = tshoot_session_fix_result(scratch, g->key, 0);
    else if (g->value) rc = tshoot_session_answer(scratch, g->key, g->value);
    else rc = tshoot_session_unknown(scratch, g->key);
    if (rc == TSHOOT_OK) continue;
    if (g->file) {
      status = cli_error("%s:%d: %s", g->file, g->line, tshoot_error_last()->message);
    } else {
      status = cli_usage_error("diagnose", "--answer %s%s=%s: %s", g->is_fix ? "fix:" : "", g->key,
                               g->is_fix ? answers_outcome_name(g->outcome) : g->value ? g->value : "?",
                               tshoot_error_last()->message);
    }
  }
  tshoot_session_free(scratch);
  return status;
}
