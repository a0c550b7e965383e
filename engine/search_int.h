/*
** search_int.h: what search.c, search_query.c and search_rank.c share: the
** per-connection state, the plan of a query and the steps of a search.
** Nothing outside these three files includes it.
*/
#ifndef TSHOOT_SEARCH_INT_H
#define TSHOOT_SEARCH_INT_H

#include "search.h"
#include "kb_schema.h"
#include "text.h"

/* Statement slots of a pooled connection. */
enum {
  ST_VOCAB = KB_STMT_SEARCH_FIRST, /* vocab word and its next neighbour */
  ST_STEM,                         /* is a word indexed (after stemming)? */
  ST_CANDS,                        /* vocab words with a given first byte */
  ST_SYN,                          /* the synonym table */
  ST_QUERY,                        /* the search */
  ST_DOCSIZE,                      /* FTS5's document lengths */
  ST_CAUSES,                       /* the words of causes (search_cause_scores) */
  ST_RTERM,                        /* search_postings.c: a term's id and counts */
  ST_RPREFIX,                      /* ... the terms with a prefix */
  ST_RPOST,                        /* ... posting lists of a range of ids */
  ST_RDOC,                         /* ... an article's tokens (phrases of several words) */
  ST_RPOS,                         /* ... a term's postings and positions (phrases) */
  ST_ROW,                          /* search_rank.c: a ranked article's row and text */
  ST_BEGIN,                        /* search.c: one read transaction a search */
  ST_COMMIT
};

/* Internal flag of tshoot_search_options.flags (no public name): rank with
** FTS5 only, never the postings (the tests compare the two). */
#define SEARCH_FLAG_FTS5_RANK (1u << 30)

#define MAX_ALTS_TOTAL 48   /* synonym alternatives in one query */
#define MAX_SYN_WORDS 8     /* words of a synonym term matched */
#define SNIPPET_MAX 64      /* tokens of a passage */
#define DL_UNKNOWN UINT32_MAX /* search_state.dl: ask FTS5 */
#define SEARCH_HITS_MAX 64  /* hits of one article looked at to place its passage */

/* ===== per-connection state (module_data[KB_CONN_DATA_SEARCH]) ===== */

typedef struct syn_entry {
  const char *term;
  sqlite3_int64 grp;
} syn_entry;

typedef struct row_ref {
  size_t name, title, file, snippet, passage; /* offsets into scratch */
  size_t mark0, nmark;                     /* its marks: s->marks[mark0, +nmark) */
  sqlite3_int64 id;
  int line;
  double score;
} row_ref;

typedef struct top_row {
  sqlite3_int64 rowid, where;
  double r;
} top_row;

/* An article ranked by search_postings.c: score as tshoot_result.score. */
typedef struct search_hit {
  sqlite3_int64 id;
  double score;
} search_hit;

typedef struct search_rank_mem search_rank_mem;  /* search_postings.c */

typedef struct search_state {
  int syn_loaded;
  size_t nsyn;
  syn_entry *by_term;   /* sorted by (term, grp) */
  syn_entry *by_grp;    /* sorted by (grp, term) */
  char *syn_arena;
  int syn_maxwords;
  ts_buf scratch;       /* row strings of the running search */
  row_ref *rows;
  size_t rows_cap;
  tshoot_span *marks;   /* the rows' marks, offsets into their passages */
  size_t nmarks, marks_cap;
  int fts5_ready;       /* ts_rank registered and tokenizer made */
  double weight[TS_FTS_NCOLS]; /* TS_FTS_WEIGHTS */
  /* the running query: its limit and passage length, the best `limit` ranks
  ** so far (a max-heap) and the rows that entered them, with their passage */
  int limit, tokens;
  /* the row sql_row reads (search_rank.c): its passage's length in tokens,
  ** then where ts_toks_where placed it */
  int row_tokens, row_from, row_tok0;
  sqlite3_int64 row_where;
  double *heap;
  size_t nheap, heap_cap;
  struct top_row *top;
  size_t ntop, top_cap;
  struct splan *plan;   /* the running search's plan */
  int dl_loaded;        /* dl was read (or could not be) */
  uint32_t *dl;         /* dl[rowid]: the article's length in tokens, all
                        ** columns; DL_UNKNOWN where FTS5 must be asked */
  size_t ndl;
  unsigned int flags;     /* the running search's tshoot_search_options.flags */
  search_rank_mem *rank;  /* search_postings.c: its memory (NULL: not yet) */
  void *rq;               /* ... the query read back */
  search_hit *hits;
  size_t hits_cap;
  fts5_tokenizer tok_api, raw_api;
  Fts5Tokenizer *tok;     /* porter unicode61 remove_diacritics 2: the index's */
  Fts5Tokenizer *raw_tok; /* unicode61 remove_diacritics 2: the same tokens, unstemmed */
} search_state;
/* ===== the plan: words, terms ===== */

typedef struct sword {
  size_t start, len;               /* bytes of the text */
  int joined;                      /* 0: new term, 1: phrase word, 2: piece of a long run */
  int digit;                       /* holds an ASCII digit */
  sqlite3_int64 n;                 /* vocab.n once looked up, else -1 */
  char fold[TEXT_MAX_WORD + 1];
  char fix[TEXT_MAX_WORD + 1];     /* the spelling correction, or "" */
} sword;

typedef struct sterm {
  int w0, w1;                      /* words [w0, w1) */
  int prefix;
  int nalt;                        /* > 0: a synonym group */
  const char *alt[SEARCH_MAX_ALTS];
} sterm;

typedef struct splan {
  sword w[SEARCH_MAX_SCAN];
  int nw;
  sterm t[SEARCH_MAX_TERMS];
  int nt;
  int at_end;                      /* the text's last byte ends the last word */
  int any_fix;
  sqlite3_int64 articles;          /* in the KB; 0: unknown */
  int nalts;                       /* alternatives in all groups */
  size_t scanned_end;              /* end of the last word looked at */
  int more;                        /* words beyond SEARCH_MAX_SCAN exist */
} splan;

/* search.c: the state of connection c (made on first use; NULL on oom), and
** errors of its statements (TSHOOT_ETIMEOUT when the budget ran out). */
search_state *search_state_get(kb_conn *c);
int search_step_error(kb_conn *c, int rc, const char *what);
int search_stmt_get(kb_conn *c, int slot, const char *sql, sqlite3_stmt **out);

/* search_query.c: the synonym table (once per connection), the plan's steps
** in the order they run, and the query and suggestion they write. */
int search_syn_load(kb_conn *c, search_state *s);
void search_plan_words(splan *p, const char *text, size_t len);
void search_plan_terms(splan *p, const search_state *s);
void search_plan_prefix(splan *p, unsigned int flags);
int search_plan_spell(splan *p, kb_conn *c, const search_state *s, unsigned int flags);
char *search_write_query(const splan *p, int or_form);
char *search_write_suggestion(const splan *p, const char *text, size_t len);

/* search_rank.c: document lengths (once per connection) and one query run:
** rows into s->rows, their strings into s->scratch, *n_out rows. */
void search_dl_load(kb_conn *c, search_state *s, size_t articles);
/* ts_rank and ts_where registered on c, and s's tokenizers made (s->tok:
** the index's, porter over unicode61), once per connection. */
int search_fts5_ready(kb_conn *c, search_state *s);
int search_run_query(kb_conn *c, search_state *s, const char *q, const char *mo,
                     const char *mc, int tokens, int limit, size_t *n_out);

/* search_rank.c: where the best passage of n tokens is, from an article's
** hits (phrase, column, token offset; in FTS5's xInst order: by column, then
** offset, then phrase) and its column sizes: col | start << 3 | colsize << 32,
** or -1. */
sqlite3_int64 search_pick_window(const int *ip, const int *ic, const int *io, int ninst,
                                 int nphrase, int n, const int *colsize);
#define SEARCH_WHERE(col, start, colsize) \
  ((sqlite3_int64)(col) | (sqlite3_int64)(start) << 3 | (sqlite3_int64)(colsize) << 32)
#define SEARCH_WHERE_COL(w)     ((int)((w) & 7))
#define SEARCH_WHERE_START(w)   ((int)(((w) >> 3) & ((1 << 29) - 1)))
#define SEARCH_WHERE_COLSIZE(w) ((int)((w) >> 32))

/* search_postings.c: rank `query` (as search_write_query wrote it) over the
** KB's postings: the best `limit` articles into *hits (the state's memory),
** best first. Returns TSHOOT_OK, an error, or 1: not a query these postings
** can rank (FTS5 must). Then, for a returned article whose rank_doc.toks is
** toks (len bytes), where its passage of `tokens` is (search_pick_window's
** value, -1: none), and where in its column's text to start tokenizing for
** that passage: *from bytes in, the token numbered *tok0 (0, 0 when toks
** says nothing of it). */
int search_postings_rank(kb_conn *c, search_state *s, const char *query, int limit,
                         search_hit **hits, size_t *n_out);
sqlite3_int64 search_postings_where(const search_state *s, const void *toks, int len, int tokens,
                                    int *from, int *tok0);
void search_rank_mem_free(search_rank_mem *m);
unsigned long search_postings_ranked(void);  /* queries it ranked (tests) */
unsigned long search_passages_from_checkpoint(void);  /* search_rank.c: passages cut
                                                       ** from a stored offset (tests) */

#endif /* TSHOOT_SEARCH_INT_H */
