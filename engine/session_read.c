/*
** session_read.c: what a person typed, read against the session's current
** step (tshoot_session_read), and applied (tshoot_session_input). The one
** reader of replies for every front-end: the CLI's prompt, the bindings and
** chatbots pass the text through, so "the first one", "2", "yep", "sixty-four
** bit" or "I can't, no admin rights" mean the same everywhere.
**
** The rules, in order (the text lower-cased, curly quotes made straight,
** white space collapsed, end punctuation dropped):
**   1. Words of the dialogue: back, why, how (a few phrasings of each).
**   2. "Don't know" phrasings; at a fix, "skip"/"next" is SKIPPED.
**   3. At a question: a choice's value or label (any case; the session's
**      own rule), its number on screen ("2"), an ordinal ("the first one",
**      "second", "last"), yes/no words, number words ("sixty-four" -> 64),
**      a choice whose value or label the text names and no other does, the
**      question's <phrase>s; for number and version questions the first
**      number or version in the text; for text questions the text.
**   4. At a fix: its number or ordinal among worked, did not work, could not
**      try, skip (the order front-ends offer them); worked / did not work /
**      could not try / skipped phrasings, "can't" before "no" ("no admin
**      rights" cannot try, it did not fail).
**   5. Otherwise: three words or more are more description (TEXT), fewer
**      are UNCLEAR with a message that lists what would be understood.
*/
#include "session_int.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_MAX 512               /* bytes of a reply read as an answer */

/* ===== normalising ===== */

/* out: lower-case ASCII, one space between words, no end punctuation; UTF-8
** right single quotes become '. Returns its length. */
static size_t norm(char *out, size_t cap, const char *in, size_t len)
{
  size_t i, n = 0;
  int space = 1;
  for (i = 0; i < len && n + 1 < cap; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == 0xE2 && i + 2 < len && (unsigned char)in[i + 1] == 0x80 &&
        ((unsigned char)in[i + 2] == 0x99 || (unsigned char)in[i + 2] == 0x98)) {
      c = '\'';
      i += 2;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') {
      if (!space) out[n++] = ' ';
      space = 1;
      continue;
    }
    out[n++] = (char)tolower(c);
    space = 0;
  }
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.' || out[n - 1] == '!' || out[n - 1] == '?' ||
                   out[n - 1] == ','))
    n--;
  out[n] = '\0';
  return n;
}

/* Whether t holds phrase p as whole words. */
static int has(const char *t, const char *p)
{
  size_t n = strlen(p);
  const char *x = t;
  while ((x = strstr(x, p)) != NULL) {
    int before = x == t || !isalnum((unsigned char)x[-1]);
    int after = !isalnum((unsigned char)x[n]);
    if (before && after) return 1;
    x++;
  }
  return 0;
}

/* Whether t is one of the phrases, or holds one (any = 1). */
static int match_any(const char *t, const char *const *list, int any)
{
  size_t i;
  for (i = 0; list[i]; i++)
    if (any ? has(t, list[i]) : strcmp(t, list[i]) == 0) return 1;
  return 0;
}

static size_t count_words(const char *t)
{
  size_t n = 0;
  int in = 0;
  for (; *t; t++) {
    if (*t == ' ') in = 0;
    else if (!in) { in = 1; n++; }
  }
  return n;
}

static const char *const w_back[] = { "back", "undo", "go back", "previous", "take that back",
                                      "change my answer", "change my last answer", NULL };
static const char *const w_why[] = { "why", "why?", "why do you ask", "why are you asking", "why ask",
                                     "why is that", "what for", NULL };
static const char *const w_how[] = { "how", "explain", "how did you get there", "how do you know",
                                     "show your reasoning", NULL };
static const char *const w_unknown[] = { "don't know", "dont know", "do not know", "i don't know",
                                         "i dont know", "no idea", "not sure", "unsure", "unknown",
                                         "idk", "dunno", "no clue", "can't tell", "cannot tell",
                                         "can't say", "i have no idea", "?", NULL };
static const char *const w_skip_q[] = { "skip", "pass", "next question", NULL };
static const char *const w_yes[] = { "yes", "y", "yeah", "yep", "yup", "ya", "sure", "correct", "right",
                                     "true", "affirmative", "it does", "it is", "i did", "i do", "ok",
                                     "okay", "of course", "definitely", "yes it does", "yes it is",
                                     "yes i did", "that's right", "thats right", NULL };
static const char *const w_no[] = { "no", "n", "nope", "nah", "false", "never", "not really",
                                    "it doesn't", "it does not", "it isn't", "it is not", "i didn't",
                                    "i did not", "no it doesn't", "no it does not", "no it isn't",
                                    "no i didn't", "negative", "none", NULL };

/* Fix outcomes: could-not-try first (it often starts with "no"), then
** did-not-work (negations of "work"), then worked, then skipped. */
static const char *const f_cannot[] = { "can't", "cant", "cannot", "can not", "couldn't", "could not",
                                        "unable", "not allowed", "no admin", "no rights", "no permission",
                                        "not permitted", "access denied", "no time", "not now", "later",
                                        "don't have", "do not have", "won't let me", NULL };
static const char *const f_failed[] = { "didn't work", "did not work", "didnt work", "doesn't work",
                                        "does not work", "not work", "still broken", "still fails",
                                        "still failing", "still the same", "same problem", "no luck",
                                        "not fixed", "didn't help", "did not help", "failed", "no change",
                                        "still", NULL };
static const char *const f_failed_exact[] = { "no", "n", "nope", "nah", "negative", NULL };
static const char *const f_worked[] = { "worked", "it worked", "works", "works now", "working", "fixed",
                                        "fixed it", "solved", "resolved", "that did it", "that helped",
                                        "helped", "all good", "great", NULL };
static const char *const f_worked_exact[] = { "yes", "y", "yep", "yeah", "yup", "ok", "okay", NULL };
static const char *const f_skip[] = { "skip", "next", "pass", "another", "something else",
                                      "skip it", "try another", NULL };

/* "first" -> 1 ... ; "last" -> n; 0: none. */
static size_t ordinal(const char *t, size_t n)
{
  static const char *const ords[] = { "first", "second", "third", "fourth", "fifth", "sixth",
                                      "seventh", "eighth", "ninth", "tenth" };
  static const char *const abbr[] = { "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th" };
  size_t i;
  if (has(t, "last") || has(t, "last one")) return n;
  for (i = 0; i < 10; i++)
    if (has(t, ords[i]) || has(t, abbr[i])) return i + 1;
  return 0;
}

/* Number words a person types for the numbers choices hold ("sixty-four",
** "thirty two"): the value, or -1. */
static long number_words(const char *t)
{
  static const char *const ones[] = { "zero", "one", "two", "three", "four", "five", "six", "seven",
                                      "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
                                      "fifteen", "sixteen", "seventeen", "eighteen", "nineteen" };
  static const char *const tens[] = { "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
                                      "eighty", "ninety" };
  long v = -1;
  size_t i, j;
  char buf[64];
  for (i = 2; i < 10 && v < 0; i++) {
    for (j = 1; j < 10 && v < 0; j++) {
      snprintf(buf, sizeof buf, "%s-%s", tens[i], ones[j]);
      if (has(t, buf)) v = (long)(i * 10 + j);
      snprintf(buf, sizeof buf, "%s %s", tens[i], ones[j]);
      if (v < 0 && has(t, buf)) v = (long)(i * 10 + j);
    }
    if (v < 0 && has(t, tens[i])) v = (long)(i * 10);
  }
  for (i = 0; i < 20 && v < 0; i++) if (has(t, ones[i])) v = (long)i;
  return v;
}

/* The first number or version in t ("16.0.1234", "64", "2.5"), copied
** into out; 0 if none. */
static int first_number(const char *t, char *out, size_t cap)
{
  const char *p = t;
  while (*p) {
    if (isdigit((unsigned char)*p) && (p == t || !isalnum((unsigned char)p[-1]))) {
      size_t n = 0;
      while ((isdigit((unsigned char)p[n]) || (p[n] == '.' && isdigit((unsigned char)p[n + 1]))) && n + 1 < cap) n++;
      memcpy(out, p, n);
      out[n] = '\0';
      return 1;
    }
    p++;
  }
  return 0;
}

/* ===== reading ===== */

static int set_value(tshoot_session *s, tshoot_input *out, const char *v)
{
  char *c = ts_strdup(v);
  if (!c) return ts_error_oom();
  ts_free(s->input_value);
  s->input_value = c;
  out->kind = TSHOOT_INPUT_ANSWER;
  out->value = c;
  return TSHOOT_OK;
}

/* The choice of a choice or yes/no question that the text names. */
static const char *read_choice(const rm_question *qq, const char *raw, const char *t)
{
  size_t i, n = qq->n_choices, k;
  const char *hit = NULL;
  int hits = 0;
  long num;
  char buf[64], lab[READ_MAX];
  char *end;
  /* the session's own rule: value or label, any case; y/n */
  for (i = 0; i < n; i++)
    if (strcasecmp(qq->choices[i], raw) == 0 || (qq->labels && qq->labels[i] && strcasecmp(qq->labels[i], raw) == 0))
      return qq->choices[i];
  if (qq->type == RM_YESNO) {
    if (match_any(t, w_yes, 0)) return "yes";
    if (match_any(t, w_no, 0)) return "no";
  }
  /* its number on screen */
  k = (size_t)strtoul(t, &end, 10);
  if (end != t && *end == '\0' && k >= 1 && k <= n) return qq->choices[k - 1];
  /* a choice the text names, and no other */
  for (i = 0; i < n; i++) {
    size_t ll = norm(lab, sizeof lab, qq->labels && qq->labels[i] ? qq->labels[i] : "", qq->labels && qq->labels[i] ? strlen(qq->labels[i]) : 0);
    char val[READ_MAX];
    norm(val, sizeof val, qq->choices[i], strlen(qq->choices[i]));
    if ((ll && has(t, lab)) || (strlen(val) > 1 && has(t, val))) { hit = qq->choices[i]; hits++; }
  }
  if (hits == 1) return hit;
  /* number words against choices that are numbers or hold one */
  num = number_words(t);
  if (num >= 0) {
    hit = NULL;
    hits = 0;
    snprintf(buf, sizeof buf, "%ld", num);
    for (i = 0; i < n; i++) {
      char val[READ_MAX];
      norm(val, sizeof val, qq->choices[i], strlen(qq->choices[i]));
      norm(lab, sizeof lab, qq->labels && qq->labels[i] ? qq->labels[i] : "", qq->labels && qq->labels[i] ? strlen(qq->labels[i]) : 0);
      if (strstr(val, buf) || strstr(lab, buf)) { hit = qq->choices[i]; hits++; }
    }
    if (hits == 1) return hit;
  }
  /* an ordinal */
  k = ordinal(t, n);
  if (k >= 1 && k <= n) return qq->choices[k - 1];
  if (qq->type == RM_YESNO) {
    if (match_any(t, w_yes, 1) && !match_any(t, w_no, 1)) return "yes";
    if (match_any(t, w_no, 1) && !match_any(t, w_yes, 1)) return "no";
  }
  return NULL;
}

static void unclear(tshoot_session *s, tshoot_input *out, const rm_question *qq)
{
  ts_buf b = TS_BUF_INIT;
  size_t i;
  if (qq && qq->n_choices) {
    ts_buf_adds(&b, "I did not understand that. Answer with ");
    for (i = 0; i < qq->n_choices; i++)
      ts_buf_addf(&b, "%s%zu (%s)", i ? (i + 1 == qq->n_choices ? " or " : ", ") : "", i + 1,
                  qq->labels && qq->labels[i] ? qq->labels[i] : qq->choices[i]);
    ts_buf_adds(&b, ", \"don't know\", \"back\" or \"why\".");
  } else if (qq) {
    ts_buf_addf(&b, "I did not understand that. Answer with a %s, \"don't know\", \"back\" or \"why\".",
                qq->type == RM_VERSION ? "version such as 16.0.4266" : qq->type == RM_NUMBER ? "number" : "text");
  } else {
    ts_buf_adds(&b, "I did not understand that. Say \"it worked\", \"it did not work\", \"I can't do this\" "
                "or \"skip\", or \"back\".");
  }
  ts_free(s->input_value);
  s->input_value = b.oom ? NULL : ts_buf_detach(&b);
  ts_buf_free(&b);
  out->kind = TSHOOT_INPUT_UNCLEAR;
  out->message = s->input_value ? s->input_value : "I did not understand that.";
}

TSHOOT_API int tshoot_session_read(tshoot_input *out, tshoot_session *s, const char *text, size_t len)
{
  char t[READ_MAX], raw[READ_MAX];
  size_t n, words;
  const tshoot_step *st;
  TS_CHECK_ARG(out && s && (text || !len));
  memset(out, 0, sizeof *out);
  if (!s->have_step) return ts_error(TSHOOT_EINVALID, "tshoot_session_read: no current step (call tshoot_session_next first)");
  st = &s->step;
  n = norm(t, sizeof t, text ? text : "", len < READ_MAX ? len : READ_MAX - 1);
  words = count_words(t);
  /* raw: the text as typed, trimmed (for values and labels in their case) */
  {
    size_t a = 0, b = len < READ_MAX ? len : READ_MAX - 1;
    while (a < b && isspace((unsigned char)text[a])) a++;
    while (b > a && isspace((unsigned char)text[b - 1])) b--;
    memcpy(raw, text + a, b - a);
    raw[b - a] = '\0';
  }
  if (n == 0) {
    unclear(s, out, st->kind == TSHOOT_STEP_ASK ? &s->m->q[rules_question(s->m, st->question)] : NULL);
    return TSHOOT_OK;
  }
  if (match_any(t, w_back, 0)) { out->kind = TSHOOT_INPUT_BACK; return TSHOOT_OK; }
  if (match_any(t, w_why, 0)) { out->kind = TSHOOT_INPUT_WHY; return TSHOOT_OK; }
  if (match_any(t, w_how, 0)) { out->kind = TSHOOT_INPUT_HOW; return TSHOOT_OK; }

  if (st->kind == TSHOOT_STEP_ASK) {
    int q = rules_question(s->m, st->question);
    const rm_question *qq = &s->m->q[q];
    const char *v = NULL;
    char num[64];
    if (match_any(t, w_unknown, 0) || match_any(t, w_skip_q, 0) || (words <= 6 && match_any(t, w_unknown, 1))) {
      out->kind = TSHOOT_INPUT_UNKNOWN;
      return TSHOOT_OK;
    }
    if (qq->type == RM_YESNO || qq->type == RM_CHOICE) v = read_choice(qq, raw, t);
    if (!v) v = session_phrase_value(qq, raw, strlen(raw));   /* as a description's phrases */
    if (v) return set_value(s, out, v);
    if (qq->type == RM_NUMBER || qq->type == RM_VERSION) {
      char why[256];
      long w = number_words(t);
      if (first_number(t, num, sizeof num) || (w >= 0 && snprintf(num, sizeof num, "%ld", w) > 0))
        if (rules_answer_ok(s->m, q, num, why, sizeof why)) return set_value(s, out, num);
    }
    if (qq->type == RM_TEXT) return set_value(s, out, raw);
    if (words >= 3) { out->kind = TSHOOT_INPUT_TEXT; return TSHOOT_OK; }
    unclear(s, out, qq);
    return TSHOOT_OK;
  }
  if (st->kind == TSHOOT_STEP_FIX) {
    /* the four answers in the order front-ends offer them: worked, did not
    ** work, could not try, skip ("2", "the second one") */
    static const tshoot_fix_outcome order[] = { TSHOOT_FIX_WORKED, TSHOOT_FIX_DID_NOT_WORK,
                                                TSHOOT_FIX_COULD_NOT_TRY, TSHOOT_FIX_SKIPPED };
    char *end;
    size_t k = (size_t)strtoul(t, &end, 10);
    out->kind = TSHOOT_INPUT_FIX;
    if (end != t && *end == '\0' && k >= 1 && k <= 4) { out->outcome = order[k - 1]; return TSHOOT_OK; }
    if (words <= 4 && (k = ordinal(t, 4)) >= 1) { out->outcome = order[k - 1]; return TSHOOT_OK; }
    if (match_any(t, f_cannot, 1)) out->outcome = TSHOOT_FIX_COULD_NOT_TRY;
    else if (match_any(t, f_failed, 1) || match_any(t, f_failed_exact, 0)) out->outcome = TSHOOT_FIX_DID_NOT_WORK;
    else if (match_any(t, f_skip, 0) || (words <= 3 && match_any(t, f_skip, 1))) out->outcome = TSHOOT_FIX_SKIPPED;
    else if (match_any(t, f_worked, 1) || match_any(t, f_worked_exact, 0)) out->outcome = TSHOOT_FIX_WORKED;
    else if (words >= 3) out->kind = TSHOOT_INPUT_TEXT;
    else unclear(s, out, NULL);
    return TSHOOT_OK;
  }
  /* concluded: only more description changes anything */
  if (words >= 3) out->kind = TSHOOT_INPUT_TEXT;
  else {
    ts_free(s->input_value);
    s->input_value = ts_strdup("The diagnosis has ended. Say \"back\" to change an answer, or describe "
                               "more of the problem.");
    out->kind = TSHOOT_INPUT_UNCLEAR;
    out->message = s->input_value ? s->input_value : "The diagnosis has ended.";
  }
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_input(tshoot_session *s, const char *text, size_t len, tshoot_input *out)
{
  tshoot_input in;
  int rc;
  if (!out) out = &in;
  rc = tshoot_session_read(out, s, text, len);
  if (rc != TSHOOT_OK) return rc;
  switch (out->kind) {
  case TSHOOT_INPUT_ANSWER: return tshoot_session_answer(s, s->step.question, out->value);
  case TSHOOT_INPUT_UNKNOWN: return tshoot_session_unknown(s, s->step.question);
  case TSHOOT_INPUT_FIX: return tshoot_session_fix_result(s, s->step.fix, out->outcome);
  case TSHOOT_INPUT_BACK: return tshoot_session_undo(s);
  case TSHOOT_INPUT_TEXT: return tshoot_session_add_text(s, text, len);
  case TSHOOT_INPUT_WHY: case TSHOOT_INPUT_HOW: case TSHOOT_INPUT_UNCLEAR: return TSHOOT_OK;
  }
  return TSHOOT_OK;
}
