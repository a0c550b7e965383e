/*
** rules.h: the reasoning model of a KB at run time (rules.c). Loaded from the
** compiled file once per tshoot_kb, on first use, and then shared read-only
** by every session on every thread.
**
** Besides the items themselves it holds what makes a diagnosis step cheap:
** for each question, the causes whose likelihood depends on it (directly or
** through facts and conditions), so that weighing a question touches only
** those causes.
*/
#ifndef TSHOOT_RULES_H
#define TSHOOT_RULES_H

#include "tshoot_int.h"
#include "expr.h"
#include "kb.h"

typedef enum rm_qtype { RM_YESNO, RM_CHOICE, RM_VERSION, RM_NUMBER, RM_TEXT } rm_qtype;

typedef struct rm_question {
  char *id, *type_name, *prompt, *why, *unit, *probe;
  rm_qtype type;
  double cost;
  char **choices;          /* answer values: the choices, or yes/no */
  char **labels;           /* what a person reads for each */
  size_t n_choices;
  /* Answers that stand for the possible outcomes when weighing the question:
  ** the choices, or for open questions the values the KB's evidence and
  ** conditions mention plus one below and one above them all. */
  char **reps;
  size_t n_reps;
  uint32_t *causes;        /* causes that depend on this question */
  size_t n_causes;
  size_t pos;              /* order in the sources */
  expr ask_when;           /* asked only when this is not false (has_ask_when) */
  int has_ask_when;
  char **phrase_values;    /* <phrase>: text holding phrase_texts[i] answers phrase_values[i] */
  char **phrase_texts;
  size_t n_phrases;
  char digest[17];         /* what an answer to it means: id, type, choices */
} rm_question;

typedef struct rm_fact {
  char *id, *description;
  expr cond;
  uint32_t *questions;     /* every question it depends on, transitively */
  size_t n_questions;
} rm_fact;

typedef enum rm_ev_kind { RM_ANSWER, RM_EXPECT, RM_REQUIRES } rm_ev_kind;

typedef struct rm_evidence {
  rm_ev_kind kind;
  int question;            /* RM_ANSWER */
  char *value;             /* RM_ANSWER */
  double p;                /* RM_ANSWER, RM_EXPECT */
  expr cond;               /* RM_EXPECT, RM_REQUIRES */
  double pu_true;          /* P(cond holds) if its questions were answered at
                              random (uniform over their outcomes) */
  uint32_t *questions;     /* the questions cond reads, through facts (sorted) */
  size_t n_questions;
} rm_evidence;

typedef struct rm_cause {
  char *id, *title, *explanation;
  int article;
  double prior;
  rm_evidence *ev;
  size_t n_ev;
  char digest[17];         /* its article, prior and evidence */
  uint32_t first_fix, n_fixes;
  uint32_t *questions;     /* questions its evidence depends on (sorted, unique) */
  size_t n_questions;
} rm_cause;

typedef struct rm_fix {
  char *id, *title, *risk, *script, *verify;
  char **steps;
  size_t n_steps;
  int cause;
  double cost;
  int admin, reversible;
  char *same_as;           /* same-as= as written: fix ids, space-separated, or NULL */
  uint32_t *same;          /* fixes declared the same (same-as=, either direction);
                              a fix with the same script is the same too */
  size_t n_same;
  char digest[17];         /* its cause, script and steps */
} rm_fix;

typedef struct rm_symptom {
  char *id, *kind, *code, *text;
  int article;
  int *causes;             /* NULL: all causes of the article */
  size_t n_causes;
  char digest[17];         /* its text and causes */
} rm_symptom;

typedef struct rm_article {
  char *id, *title;
  char *escalation;        /* what to do when the diagnosis is inconclusive, or NULL */
  uint32_t first_cause, n_causes;
  uint32_t first_symptom, n_symptoms;
} rm_article;

typedef struct rm_name { const char *name; uint32_t idx; } rm_name;

typedef struct rules_model {
  rm_question *q; size_t nq;
  rm_fact *f; size_t nf;
  rm_cause *c; size_t nc;
  rm_fix *x; size_t nx;
  rm_article *a; size_t na;
  rm_symptom *s; size_t ns;
  /* sorted by name, for lookups */
  rm_name *q_by_name, *f_by_name, *c_by_name, *x_by_name, *a_by_name, *s_by_name;
  char digest[65];
  char *escalation;        /* the KB-wide escalation text, or NULL */
  void *arena;             /* strings */
  /* objects derived from the model for one setting (rules_derived), made
  ** on first use under derived_mu and freed with the model */
  pthread_mutex_t derived_mu;
  int derived_mu_ok;
  struct rm_derived *derived;
  size_t n_derived;
} rules_model;

/* The model of kb, loading it on first use. Borrowed from kb. */
int rules_get(const rules_model **out, tshoot_kb *kb);
void rules_free(rules_model *m);

/* At most this many derived objects per model (one per setting): past it,
** rules_derived makes nothing and the caller keeps its own. */
#define RULES_MAX_DERIVED 8

/* The object derived from m for setting `key` (e.g. session.c's likelihood
** tables for one noise), made by make(m, key, &obj) on first use under the
** model's lock, shared read-only, freed with free_fn when the model is.
** TSHOOT_OK and *out (NULL when RULES_MAX_DERIVED settings are held
** already), or make's error. */
int rules_derived(const rules_model *m, double key, int (*make)(const rules_model *m, double key, void **obj),
                  void (*free_fn)(void *), void **out);

/* Index by id, or -1. */
int rules_question(const rules_model *m, const char *id);
int rules_fact(const rules_model *m, const char *id);
int rules_cause(const rules_model *m, const char *id);
int rules_fix(const rules_model *m, const char *id);
int rules_article(const rules_model *m, const char *id);
int rules_symptom(const rules_model *m, const char *id);

/* The closest id of a kind for did-you-mean ('q', 'c', 'x', 's'), or NULL
** (text_closest's rule), and the clause for a "no such id" message made from
** it: " (did you mean 'x'?)" in buf, or "" (ts_did_you_mean). */
const char *rules_suggest(const rules_model *m, char kind, const char *id);
const char *rules_did_you_mean(char *buf, size_t cap, const rules_model *m, char kind,
                               const char *id);

/* Whether value is an allowed answer to question q; when it is not, *why
** explains (static or in buf). */
int rules_answer_ok(const rules_model *m, int q, const char *value, char *buf, size_t n);

#endif /* TSHOOT_RULES_H */
