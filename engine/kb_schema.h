/*
** kb_schema.h: the layout of a compiled KB file (format 6). Shared by the
** writer (kb_write.c), the opener (kb_open.c), search.c, article.c and rules.c.
**
** A compiled KB is one SQLite file:
**  - PRAGMA application_id = TS_KB_APPLICATION_ID ('TSKB'),
**    PRAGMA user_version = TSHOOT_KB_FORMAT;
**  - the tables below, created by exactly these statements (the opener
**    compares sqlite_schema against them and refuses anything else);
**  - article_fts, an FTS5 index over each article's text, rowid = article.id,
**    that stores no text of its own: its content is the table rank_doc
**    (format 5), which holds each column's text as kb_write.c
**    (article_texts) joined it for the index: the non-NULL fields in order,
**    separated by one newline; NULL when there is none. FTS5's
**    'integrity-check' with rank 1 compares the two. (Format 3 read it from
**    a view over the model tables: 7 us a returned article to assemble a
**    column; format 4 from a table of its own, article_text: a second
**    lookup for each returned article beside rank_doc's; format 5 keeps it
**    in the row search reads anyway.)
**  - cause_term, each cause's words counted for bm25 (format 6; formats 2 to
**    5 ranked a second FTS5 index, cause_fts): kb_cause_words.c has its layout.
**
** Conditions (fact.cond, evidence.cond) are stored as S-expressions:
**   cond := (and cond...) | (or cond...) | (not cond)
**         | (eq Q "v") | (ne Q "v") | (lt Q "v") | (le Q "v") | (gt Q "v")
**         | (ge Q "v") | (in Q "v1" "v2" ...) | (holds F) | (known Q)
** where Q is a question id, F a fact id, and strings escape " and \ with \.
*/
#ifndef TSHOOT_KB_SCHEMA_H
#define TSHOOT_KB_SCHEMA_H

#include <stdint.h>

#define TS_KB_APPLICATION_ID 0x54534B42   /* "TSKB" */

/* FTS5 columns, in order, and their bm25 weights: titles and symptoms far
** above causes and fix text. */
enum { TS_FTS_TITLE, TS_FTS_SYMPTOMS, TS_FTS_ALIASES, TS_FTS_CAUSES, TS_FTS_FIXES,
       TS_FTS_NCOLS };
#define TS_FTS_WEIGHTS "10.0, 8.0, 6.0, 2.0, 1.0"
/* The same weights as integers (the ranking tables' weighted frequencies
** are integers), the columns of the OR fallback's first pass ({title symptoms
** aliases}: the first three), and bm25's constants as FTS5's bm25() has them. */
#define TS_FTS_WEIGHT_INTS { 10, 8, 6, 2, 1 }
#define TS_FTS_HEAD_COLS 3
#define TS_BM25_K1 1.2
#define TS_BM25_B 0.75
#define TS_FTS_TOKENIZE "porter unicode61 remove_diacritics 2"

/* article_fts (kb_write.c builds it in a database of its own, then copies
** its shadow tables in). */
#define TS_KB_ARTICLE_FTS_SQL_TOK(tok) \
  "CREATE VIRTUAL TABLE article_fts USING fts5(title, symptoms, aliases, causes, fixes, content='rank_doc', content_rowid='id', tokenize='" tok "')"
#define TS_KB_ARTICLE_FTS_SQL TS_KB_ARTICLE_FTS_SQL_TOK(TS_FTS_TOKENIZE)
/* Each cause's words (kb_cause_words.c): per term, the causes that use it. */
#define TS_KB_CAUSE_TERM_SQL "CREATE TABLE cause_term(term TEXT PRIMARY KEY, df INTEGER NOT NULL, post BLOB NOT NULL) WITHOUT ROWID"

/* The ranking tables that kb_rank_write.c builds beside article_fts (in the
** index thread's own database, then copied in). */
#define TS_KB_RANK_TERM_SQL "CREATE TABLE rank_term(term TEXT PRIMARY KEY, id INTEGER NOT NULL, df INTEGER NOT NULL, hdf INTEGER NOT NULL) WITHOUT ROWID"
#define TS_KB_RANK_POST_SQL "CREATE TABLE rank_post(id INTEGER PRIMARY KEY, post BLOB NOT NULL)"
#define TS_KB_RANK_POS_SQL "CREATE TABLE rank_pos(id INTEGER PRIMARY KEY, pos BLOB NOT NULL)"
/* What a search returns of an article (its name, source and line, its
** tokens) and its text, article_fts's content (title .. fixes: the columns
** of article_fts by name), in one row: a returned article costs one lookup,
** and its passage is cut from a column of the row that placed it. The
** small columns come first, so that the tokens stay on the row's page when
** its text overflows. */
#define TS_KB_RANK_DOC_SQL "CREATE TABLE rank_doc(id INTEGER PRIMARY KEY, name TEXT NOT NULL, title TEXT NOT NULL, path TEXT, line INTEGER NOT NULL, toks BLOB NOT NULL, symptoms TEXT, aliases TEXT, causes TEXT, fixes TEXT)"

/* The statements that create a KB, in order. The opener checks that
** sqlite_schema holds these tables and indexes (and FTS5's shadow
** tables) and nothing else. The indexes let article.c find an article's
** symptoms, causes and fixes without a scan. */
#define TS_KB_DDL_LIST(X) \
  X("meta", "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID") \
  X("source", "CREATE TABLE source(id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL)") \
  X("question", "CREATE TABLE question(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, prompt TEXT NOT NULL, why TEXT, cost REAL NOT NULL, probe TEXT, unit TEXT, ask_when TEXT, source INTEGER NOT NULL, line INTEGER NOT NULL)") \
  X("choice", "CREATE TABLE choice(question INTEGER NOT NULL, pos INTEGER NOT NULL, value TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY(question, pos)) WITHOUT ROWID") \
  X("phrase", "CREATE TABLE phrase(question INTEGER NOT NULL, pos INTEGER NOT NULL, value TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY(question, pos)) WITHOUT ROWID") \
  X("fact", "CREATE TABLE fact(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, cond TEXT NOT NULL, source INTEGER NOT NULL, line INTEGER NOT NULL)") \
  X("article", "CREATE TABLE article(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL, summary TEXT, escalation TEXT, source INTEGER NOT NULL, line INTEGER NOT NULL)") \
  X("symptom", "CREATE TABLE symptom(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, article INTEGER NOT NULL, kind TEXT NOT NULL, code TEXT, text TEXT NOT NULL, causes TEXT, line INTEGER NOT NULL)") \
  X("alias", "CREATE TABLE alias(article INTEGER NOT NULL, pos INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY(article, pos)) WITHOUT ROWID") \
  X("cause", "CREATE TABLE cause(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, article INTEGER NOT NULL, title TEXT NOT NULL, explanation TEXT NOT NULL, prior REAL NOT NULL, source INTEGER NOT NULL, line INTEGER NOT NULL)") \
  X("cause_alias", "CREATE TABLE cause_alias(cause INTEGER NOT NULL, pos INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY(cause, pos)) WITHOUT ROWID") \
  X("evidence", "CREATE TABLE evidence(cause INTEGER NOT NULL, pos INTEGER NOT NULL, kind TEXT NOT NULL, question TEXT, value TEXT, p REAL, cond TEXT, line INTEGER NOT NULL, PRIMARY KEY(cause, pos)) WITHOUT ROWID") \
  X("fix", "CREATE TABLE fix(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, cause INTEGER NOT NULL, pos INTEGER NOT NULL, title TEXT NOT NULL, cost REAL NOT NULL, risk TEXT NOT NULL, admin INTEGER NOT NULL, reversible INTEGER NOT NULL, script TEXT, verify TEXT, same_as TEXT, line INTEGER NOT NULL)") \
  X("fix_step", "CREATE TABLE fix_step(fix INTEGER NOT NULL, pos INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY(fix, pos)) WITHOUT ROWID") \
  X("script", "CREATE TABLE script(name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID") \
  X("test", "CREATE TABLE test(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, text TEXT, expect_cause TEXT, expect_fix TEXT, source INTEGER NOT NULL, line INTEGER NOT NULL)") \
  X("test_given", "CREATE TABLE test_given(test INTEGER NOT NULL, pos INTEGER NOT NULL, question TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(test, pos)) WITHOUT ROWID") \
  X("synonym", "CREATE TABLE synonym(term TEXT NOT NULL, grp INTEGER NOT NULL, PRIMARY KEY(term, grp)) WITHOUT ROWID") \
  X("vocab", "CREATE TABLE vocab(word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID") \
  X("symptom_article", "CREATE INDEX symptom_article ON symptom(article)") \
  X("cause_article", "CREATE INDEX cause_article ON cause(article)") \
  X("fix_cause", "CREATE INDEX fix_cause ON fix(cause)") \
  X("article_fts", TS_KB_ARTICLE_FTS_SQL) \
  X("rank_term", TS_KB_RANK_TERM_SQL) \
  X("rank_post", TS_KB_RANK_POST_SQL) \
  X("rank_pos", TS_KB_RANK_POS_SQL) \
  X("rank_doc", TS_KB_RANK_DOC_SQL) \
  X("cause_term", TS_KB_CAUSE_TERM_SQL)

/* Shadow tables FTS5 creates for article_fts (detail=full, external
** content). kb_write.c copies them (but its content, rank_doc) from the
** database it built the index in. */
#define TS_KB_FTS_SHADOW_LIST(X) \
  X("article_fts_data") X("article_fts_idx") \
  X("article_fts_docsize") X("article_fts_config")

/* rank_term, rank_post, rank_pos, rank_doc: article_fts's terms, postings,
** positions and each article's tokens as term ids (with where every
** RANK_CHECKPOINT-th token starts in its column's text), written by
** kb_rank_write.c (its header is the layout) and ranked by search_postings.c. Postings come in blocks of
** RANK_BLOCK, each with a skip entry. */
#define RANK_BLOCK 32
#define RANK_CHECKPOINT 16
/* A skip entry of a posting list is RANK_SKIP bytes; a term id in
** rank_doc.toks RANK_TOK_BYTES bytes, little-endian (a fixed width: placing
** a passage walks every token of an article), read by rank_tok_get. */
#define RANK_SKIP 16
#define RANK_TOK_BYTES 3
static inline uint32_t rank_tok_get(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* meta keys */
#define TS_META_FORMAT   "format"          /* "1" */
#define TS_META_DIGEST   "digest"          /* sha256 hex over sources (path, bytes) */
#define TS_META_VERSION  "tshoot_version"  /* library that compiled it */
#define TS_META_KB_ID    "kb_ids"          /* space-separated <kb id="..."> values */
#define TS_META_ESCALATION "escalation"    /* the KB-wide <escalation> text (optional row) */

/* The words that speak for a cause in a person's description (kb_write.c
** cause_texts), in five columns, and their bm25 weights: as numbers (what a
** reference FTS5 table over the same columns is ranked with, in the tests)
** and in halves (the counts cause_term stores). Read by search.c
** (search_cause_scores). meta's TS_META_CAUSE_TOKENS: the causes' tokens. */
enum { TS_CAUSE_TITLE, TS_CAUSE_EXPLANATION, TS_CAUSE_SYMPTOMS, TS_CAUSE_ALIASES,
       TS_CAUSE_ANSWERS, TS_CAUSE_NCOLS };
#define TS_CAUSE_WEIGHTS "1.0, 1.0, 1.0, 3.0, 0.5"
#define TS_CAUSE_WEIGHT_HALVES { 2, 2, 2, 6, 1 }
#define TS_META_CAUSE_TOKENS "cause_tokens"

/* vocab.word: a word as text_next_word() splits and text_fold() folds it.
** synonym.term: a term's words folded and joined by one space; rows with the
** same grp are synonyms of each other. */

#endif /* TSHOOT_KB_SCHEMA_H */
