/*
** kb_model.h: the in-memory model of KB sources, built by kb_read.c from the
** parsed XML, checked by kb_check.c and written by kb_write.c. Only the
** compiler (kb_*.c) uses it.
**
** Strings, conditions and per-item arrays live in the model's arena and are
** freed all at once, except the text of articles, causes and fixes (titles,
** summaries, escalations, symptoms' text and code, aliases, explanations,
** steps, verify): that lives in a second arena, m->tar, and is dropped
** (set to NULL) once each source's articles are written (kb_write_articles)
** so that a large KB is never all in memory: the checks need ids and places
** only. Articles, causes, fixes and all in them but their text live in a
** third arena, m->aar, dropped after the checks (kb_read_drop_articles).
** The top-level lists (questions, causes, ...) are growable arrays, so items
** refer to one another by index, never by pointer.
*/
#ifndef TSHOOT_KB_MODEL_H
#define TSHOOT_KB_MODEL_H

#include "tshoot_int.h"
#include "diag.h"
#include "kb_xml.h"

/* ===== model ===== */
typedef struct m_loc { int src, line, col; } m_loc;

typedef enum m_cond_op {
  C_AND, C_OR, C_NOT, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_IN, C_HOLDS, C_KNOWN
} m_cond_op;

typedef struct m_cond {
  m_cond_op op;
  char *ref;               /* question (EQ..IN, KNOWN) or fact (HOLDS) id */
  char **values;           /* EQ..GE: 1 value; IN: n_values */
  size_t n_values;
  struct m_cond **kids;    /* AND, OR: n_kids; NOT: 1 */
  size_t n_kids;
  m_loc at;                /* the element */
  m_loc ref_at;            /* its question=/fact= attribute */
  m_loc value_at;          /* its value=/values= attribute */
} m_cond;

typedef enum m_qtype { Q_YESNO, Q_CHOICE, Q_VERSION, Q_NUMBER, Q_TEXT } m_qtype;

typedef struct m_choice { char *value, *label; m_loc at; } m_choice;

/* <phrase value="v">words</phrase>: a person's text holding `words` answers v */
typedef struct m_phrase { char *value, *text; m_loc at, value_at; } m_phrase;

typedef struct m_question {
  char *id, *type_name, *prompt, *why, *probe, *unit;
  m_qtype type;
  double cost;
  m_choice *choices;
  size_t n_choices;
  m_cond *ask_when;        /* <ask-when>: asked only when this may hold, or NULL */
  m_phrase *phrases;
  size_t n_phrases;
  m_loc at, probe_at;
  int used;
} m_question;

typedef struct m_fact {
  char *id, *description;
  m_cond **whens;
  size_t n_whens;
  m_loc at;
  int used, visit;         /* visit: cycle detection state */
} m_fact;

typedef struct m_symptom {
  char *id, *kind, *code, *text;
  char **causes;           /* cause ids, or NULL: all causes of the article */
  size_t n_causes;
  m_loc at, causes_at;
} m_symptom;

typedef enum m_ev_kind { E_ANSWER, E_EXPECT, E_REQUIRES } m_ev_kind;

typedef struct m_evidence {
  m_ev_kind kind;
  char *question, *value;  /* E_ANSWER */
  double p;                /* E_ANSWER, E_EXPECT */
  m_cond *cond;            /* E_EXPECT, E_REQUIRES */
  m_loc at, question_at, value_at;
} m_evidence;

typedef struct m_fix {
  char *id, *title, *verify, *risk, *script;
  char **steps;
  size_t n_steps;
  double cost;
  int admin, reversible;
  char **same_as;          /* same-as=: fixes that do the same thing */
  size_t n_same_as;
  m_loc at, script_at, same_at;
} m_fix;

typedef struct m_cause {
  char *id, *title, *explanation;
  double prior;
  size_t article;          /* index into model.articles */
  m_evidence *ev;
  size_t n_ev;
  m_fix *fixes;
  size_t n_fixes;
  char **aliases;          /* other words people use for it */
  size_t n_aliases;
  m_loc at;
  int broken;              /* its article has a schema error */
} m_cause;

typedef struct m_article {
  char *id, *title, *summary;
  char *escalation;        /* what to do when a diagnosis is inconclusive, or NULL */
  m_symptom *symptoms;
  size_t n_symptoms;
  char **aliases;
  size_t n_aliases;
  size_t first_cause, n_causes;  /* model.causes[first_cause ..] */
  m_loc at;
  int broken;              /* the schema reported something inside it */
} m_article;

typedef struct m_given { char *question, *value; m_loc at, question_at, value_at; } m_given;

typedef struct m_test {
  char *id, *expect_cause, *expect_fix, *description, *text;
  m_given *given;
  size_t n_given;
  m_loc at, cause_at, fix_at;
  int broken;              /* the schema reported something inside it */
} m_test;

typedef struct m_synonyms { char **terms; size_t n_terms; m_loc at; } m_synonyms;

typedef struct m_source {
  char *path;              /* as named (or found under a named folder) */
  char sha256[65];
  size_t size;
  kbxml_source xs;
  char *kb_id;
  char *escalation;        /* the file's top-level <escalation>, or NULL */
  m_loc escalation_at;
  int schema_ok;
} m_source;

typedef struct m_script {
  char *name;              /* as the KB names it */
  char *body;              /* ts_malloc'd */
  size_t len;
  char sha256[65];
} m_script;

#define M_LIST(type, name) type *name; size_t n_##name, cap_##name

typedef struct kb_model {
  ts_arena ar;
  ts_arena aar;            /* articles and all in them but their text (kb_read_drop_articles) */
  ts_arena tar;            /* the articles' text since the last kb_read_drop_text */
  M_LIST(m_source, sources);
  M_LIST(m_question, questions);
  M_LIST(m_fact, facts);
  M_LIST(m_article, articles);
  M_LIST(m_cause, causes);
  size_t n_fixes;          /* of all causes */
  M_LIST(m_test, tests);
  M_LIST(m_synonyms, synonyms);
  M_LIST(m_script, scripts);
  const char *const *script_dirs;
  size_t n_script_dirs;
  diag_sink *diag;
  int schema_failed;       /* a source could not be read at all: skip unknown-id checks */
  /* ids defined or named inside elements the schema reported: a reference
  ** to one of them is not reported unknown, nor is it reported unused (the
  ** element that defines or uses it is broken) */
  char **maybe_ids;
  size_t n_maybe_ids, cap_maybe_ids;
} kb_model;

void model_free(kb_model *m);

/* kb_read.c: walk one parsed source into the model. Elements the schema
** reported (src.xs.bad) are marked broken, or skipped if they lack their id. */
int kb_read_source(kb_model *m, size_t src);

/* kb_read.c: drop the text (m->tar) of articles [first, n_articles), their
** causes and fixes: the fields become NULL, counts stay. Only the articles
** read since the last drop have text in m->tar. */
void kb_read_drop_text(kb_model *m, size_t first);

/* kb_read.c: drop the articles and causes (m->aar, m->articles, m->causes)
** once the checks are done and every article is written: only their counts
** stay (n_articles, n_causes, n_fixes), the lists become NULL. */
void kb_read_drop_articles(kb_model *m);

/* kb_check.c: the checks the schema cannot express. Reports to m->diag. */
int kb_check(kb_model *m);

/* kb_write.c: the model into a new SQLite file, source by source.
** kb_write_begin opens tmp_path (an empty file), makes the tables and starts
** the threads that build article_fts and count the causes' words (cause_term);
** source_bytes, the sources' size, sizes article_fts's buffer.
** kb_write_articles writes
** the articles read since its last call (their rows, their index rows and
** their words): their text may be dropped then (kb_read_drop_text).
** progress("read", done, total) is called every 256 articles (non-zero:
** cancelled, TSHOOT_EUSER). kb_write_end writes the rest (sources, scripts,
** questions, facts, tests, synonyms, vocabulary, meta), waits for the
** indexes, copies them in and closes the file; kb_write_cancel drops it all (a failed compile). Both
** free the writer. The model must not move between the calls (its lists
** may grow). */
typedef struct kb_writer kb_writer;
int kb_write_begin(kb_writer **out, kb_model *m, const char *tmp_path, uint64_t source_bytes);
int kb_write_articles(kb_writer *w, tshoot_progress_cb progress, void *payload, size_t done, size_t total);
int kb_write_end(kb_writer *w, tshoot_progress_cb progress, void *payload);
void kb_write_cancel(kb_writer *w);

/* A source file name for diagnostics. */
static inline const char *model_src_name(const kb_model *m, const m_loc *l)
{
  return (l->src >= 0 && (size_t)l->src < m->n_sources) ? m->sources[l->src].path : "";
}

#define M_ERROR(m, loc, code, ...) \
  diag_report((m)->diag, TSHOOT_ERRSEV, model_src_name((m), &(loc)), (loc).line, (loc).col, code, __VA_ARGS__)
#define M_WARN(m, loc, code, ...) \
  diag_report((m)->diag, TSHOOT_WARNING, model_src_name((m), &(loc)), (loc).line, (loc).col, code, __VA_ARGS__)
#define M_NOTE(m, loc, ...) \
  diag_report((m)->diag, TSHOOT_NOTE, model_src_name((m), &(loc)), (loc).line, (loc).col, "", __VA_ARGS__)

#endif /* TSHOOT_KB_MODEL_H */
