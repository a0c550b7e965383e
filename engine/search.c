/*
** search.c: what a person types -> a safe FTS5 query -> ranked results.
**
** Query building (search_build_query, search_build_query_kb). No byte of the
** user's text ever becomes FTS5 syntax: the query is made only of double-quoted
** strings (a '"' inside would be doubled, though words cannot hold one), '*'
** after the last one, parentheses, AND and OR, all written by this file.
**
**  1. Words. text_next_word() over the whole text (NUL bytes are separators),
**     at most SEARCH_MAX_SCAN (64) words looked at, so a 100 KB paste costs
**     no more than its first 64 words. Words are folded (ASCII lower case).
**  2. Phrases. Words separated only by one or more of . - _ / \ (no space)
**     form one phrase, written "kofmsp dll": FTS5 then matches the tokens
**     whole and in that order, so kofmsp.dll does not match KofMsp32.dll, nor
**     the reverse; 16.0.1234 and Outlook-2016 likewise. A run longer than
**     TEXT_MAX_WORD bytes, which text_next_word cuts, is glued back together.
**  3. Dropping. A one-word term that is a stop word (text_is_stopword, plus
**     doesn, didn, wasn... of n't contractions) or a single byte is dropped; inside a phrase every word is kept. At most
**     SEARCH_MAX_TERMS (16) terms are used.
**  4. Synonyms (KB only). At each position the longest run of whole terms
**     (stop words included, up to the longest synonym term's word count)
**     whose words joined by one space are a synonym term becomes an OR group
**     of all terms of its group(s), the typed term first: "koff" or "kerio
**     outlook connector" -> ("koff" OR "kerio outlook connector"). At most
**     SEARCH_MAX_ALTS (8) alternatives per group, 48 in a query. A term that is
**     a synonym is neither corrected nor a prefix.
**  5. Spelling (KB only, unless TSHOOT_SEARCH_NO_SPELLING), and only when
**     the query as typed finds nothing (a word the index lacks always empties
**     the AND query, so spelling costs nothing when the typed words match).
**     Each word is looked up in vocab (one indexed lookup). A word that is
**     not there, has no digit (codes and versions are exact), is not an
**     inflection of an indexed word (the word alone as an FTS5 query finds a
**     row: the porter stemmer of the index decides, so "profiles" stays when
**     the KB says "profile"), is replaced by the closest vocab word: same
**     first byte, length within 2, within text_max_typos(len) edits (1 edit
**     for a two-byte word after the first word of a phrase: "kofmsp.dl " ->
**     "kofmsp.dll"), never a stop word; ranked by distance, then (two-byte
**     words) completions first, then by n (articles), then byte order. The
**     corrected query then runs, and tshoot_results_suggestion() gives the
**     text with the replaced words swapped (case kept as typed: Outlok ->
**     Outlook), control bytes as spaces, trimmed. A corrected word that is a
**     synonym term expands to its group.
**  6. Prefix (search-as-you-type). Unless TSHOOT_SEARCH_NO_PREFIX, when the
**     text's last byte is part of the last word and that word belongs to the
**     last term, the last term gets '*' when its last word has at least 3
**     bytes (2 after the first word of a phrase: "kofmsp dl"*), known word
**     or not ("out" must still find outlook while it is typed). Not on a
**     synonym group nor on a corrected word. The last word is not corrected
**     when some vocab word starts with it (kofm -> "kofm"*). Stop words are
**     dropped even as the last word. Never a '*' anywhere else.
**  7. Form. Terms are joined by a space (FTS5's implicit AND), or by " AND "
**     when a synonym group is present (FTS5 allows implicit AND only between
**     phrases). No usable word: "" and no results.
**  8. Fallback. When the AND query (corrected or not) finds nothing and had
**     2+ terms, the same terms are ORed ("a" OR "b" OR "c"*; groups
**     flattened, same quoting, the same single prefix term) so that a chatty
**     sentence still finds the best article; tshoot_results_query() then
**     reports the OR query. A one-word term found in more than half the
**     articles (vocab.n) is left out of the OR when another one-word term is
**     known to be in some article: bm25 gives it an IDF of 1e-6, so it cannot
**     reorder the articles that match the other terms, and it would make FTS5
**     score nearly every article (it cut the fallback's cost 3.5x on the
**     benchmark corpus). The OR runs first on titles, symptoms and aliases
**     only ({title symptoms aliases} : (...)): far fewer rows to score, and
**     the stronger matches; only if that finds nothing, on every column.
**
** Running. ts_rank(article_fts) is FTS5's bm25(article_fts, TS_FTS_WEIGHTS),
** computed the same way (fts5_aux.c of SQLite 3.40: same IDF, k1, b, order
** of operations, so the same doubles); ORDER BY it LIMIT n; score = -bm25.
** While ranking, for each row that enters the best n so far it notes where
** the row's best passage is (best_window(): from the hit list bm25 needs
** anyway); ts_where(rowid) hands that to the outer query, which joins the
** article, its source and the one text column from FTS5's content table. The
** passage is cut in C (add_snippet()). FTS5's own snippet() would tokenize
** every column and needs a second MATCH per returned row: 4-5x the cost of
** the search. Every statement (vocabulary, spelling, search) runs under
** kb_conn_arm(c, kb, 0): when the budget runs out the results are empty and
** truncated, status TSHOOT_OK. Statements are prepared once per pooled
** connection (slots KB_STMT_SEARCH_FIRST..); per connection, module_data[0]
** holds the synonym table, ts_rank/ts_where, two FTS5 tokenizers and scratch
** memory, so a search allocates only its result (one block) and its query
** strings.
*/
#include "search.h"
#include "kb_schema.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  ST_VOCAB = KB_STMT_SEARCH_FIRST, /* vocab word and its next neighbour */
  ST_STEM,                         /* is a word indexed (after stemming)? */
  ST_CANDS,                        /* vocab words with a given first byte */
  ST_SYN,                          /* the synonym table */
  ST_QUERY,                        /* the search */
  ST_DOCSIZE                       /* FTS5's document lengths */
};

#define MAX_ALTS_TOTAL 48
#define MAX_SYN_WORDS 8
#define SNIPPET_MAX 64

static const char sql_vocab[] = "SELECT word, n FROM vocab WHERE word >= ?1 ORDER BY word LIMIT 2";
static const char sql_stem[] = "SELECT rowid FROM article_fts WHERE article_fts MATCH ?1 LIMIT 1";
static const char sql_cands[] = "SELECT word, n FROM vocab WHERE word >= ?1 AND word < ?2";
static const char sql_syn[] = "SELECT term, grp FROM synonym ORDER BY term, grp LIMIT 65536";
static const char sql_docsize[] =
  "SELECT id, sz FROM article_fts_docsize WHERE id BETWEEN 1 AND ?1 ORDER BY id";
/* The search: ts_rank (below) ranks and notes the passages of the best rows;
** ts_where(id) is where the returned row's passage is: col | start << 3 |
** colsize << 32. */
static const char sql_query[] =
  "SELECT t.id, -t.r, ts_where(t.id), a.name, a.title, s.path, a.line,"
  "  CASE ts_where(t.id) & 7 WHEN 0 THEN c.c0 WHEN 1 THEN c.c1 WHEN 2 THEN c.c2"
  "  WHEN 3 THEN c.c3 WHEN 4 THEN c.c4 END"
  " FROM (SELECT rowid AS id, ts_rank(article_fts) AS r"
  "       FROM article_fts WHERE article_fts MATCH ?1 ORDER BY r LIMIT ?2) AS t"
  " JOIN article AS a ON a.id = t.id"
  " LEFT JOIN source AS s ON s.id = a.source"
  " LEFT JOIN article_fts_content AS c ON c.id = t.id"
  " ORDER BY t.r, t.id";

/* ===== per-connection state (module_data[0]) ===== */

typedef struct syn_entry {
  const char *term;
  sqlite3_int64 grp;
} syn_entry;

typedef struct row_ref {
  size_t name, title, file, snippet;       /* offsets into scratch */
  sqlite3_int64 id;
  int line;
  double score;
} row_ref;

typedef struct top_row {
  sqlite3_int64 rowid, where;
  double r;
} top_row;

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
  int fts5_ready;       /* ts_rank registered and tokenizer made */
  double weight[TS_FTS_NCOLS]; /* TS_FTS_WEIGHTS */
  /* the running query: its limit and passage length, the best `limit` ranks
  ** so far (a max-heap) and the rows that entered them, with their passage */
  int limit, tokens;
  double *heap;
  size_t nheap, heap_cap;
  struct top_row *top;
  size_t ntop, top_cap;
  struct splan *plan;   /* the running search's plan */
  int dl_loaded;        /* dl was read (or could not be) */
  uint32_t *dl;         /* dl[rowid]: the article's length in tokens, all
                        ** columns; DL_UNKNOWN where FTS5 must be asked */
  size_t ndl;
  fts5_tokenizer tok_api, raw_api;
  Fts5Tokenizer *tok;     /* porter unicode61 remove_diacritics 2: the index's */
  Fts5Tokenizer *raw_tok; /* unicode61 remove_diacritics 2: the same tokens, unstemmed */
} search_state;

static void state_free(void *p)
{
  search_state *s = p;
  if (!s) return;
  ts_free(s->by_term);
  ts_free(s->by_grp);
  ts_free(s->syn_arena);
  ts_buf_free(&s->scratch);
  ts_free(s->rows);
  if (s->tok) s->tok_api.xDelete(s->tok);
  if (s->raw_tok) s->raw_api.xDelete(s->raw_tok);
  ts_free(s->heap);
  ts_free(s->top);
  ts_free(s->plan);
  ts_free(s->dl);
  ts_free(s);
}

static search_state *state_get(kb_conn *c)
{
  if (!c->module_data[0]) {
    search_state *s = ts_calloc(1, sizeof *s);
    if (!s) return NULL;
    c->module_data[0] = s;
    c->module_free[0] = state_free;
  }
  return c->module_data[0];
}

/* A failed statement: TSHOOT_ETIMEOUT when the budget ran out. */
static int step_error(kb_conn *c, int rc, const char *what)
{
  if ((rc & 0xff) == SQLITE_INTERRUPT || c->timed_out)
    return ts_error(TSHOOT_ETIMEOUT, "%s: ran past its time budget", what);
  return kb_sqlite_error(c->db, rc, what);
}

static int stmt_get(kb_conn *c, int slot, const char *sql, sqlite3_stmt **out)
{
  *out = kb_conn_stmt(c, slot, sql);
  if (*out) return TSHOOT_OK;
  if (c->timed_out) return ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
  return tshoot_error_last()->code != TSHOOT_OK ? tshoot_error_last()->code : TSHOOT_ERROR;
}

static int cmp_term(const void *a, const void *b)
{
  const syn_entry *x = a, *y = b;
  int r = strcmp(x->term, y->term);
  if (r) return r;
  return x->grp < y->grp ? -1 : x->grp > y->grp;
}

static int cmp_grp(const void *a, const void *b)
{
  const syn_entry *x = a, *y = b;
  if (x->grp != y->grp) return x->grp < y->grp ? -1 : 1;
  return strcmp(x->term, y->term);
}

/* ===== document lengths =====
** bm25 needs each scored row's length. FTS5 reads it from article_fts_docsize
** with one SQL lookup per row (xColumnSize): a quarter of the time of a
** search that scores hundreds of rows (the OR fallback). The lengths are read
** once per connection instead (4 bytes an article): the same integers, summed
** from the same varints (one per column, SQLite's varint encoding), so the
** same ranks. A row missing or malformed here is left to xColumnSize. */

#define DL_UNKNOWN UINT32_MAX

static int varint32(const unsigned char *p, int n, uint32_t *v)
{
  uint64_t x = 0;
  int i;
  for (i = 0; i < n && i < 9; i++) {
    if (i == 8) { x = (x << 8) | p[i]; break; }
    x = (x << 7) | (p[i] & 0x7f);
    if (!(p[i] & 0x80)) break;
  }
  if (i >= n) return 0;
  *v = x > 0x7fffffff ? 0x7fffffff : (uint32_t)x;
  return i + 1;
}

static void dl_load(kb_conn *c, search_state *s, size_t articles)
{
  sqlite3_stmt *st;
  size_t i;
  int rc;
  s->dl_loaded = 1;
  if (articles == 0 || articles > ((size_t)1 << 26)) return;
  if (stmt_get(c, ST_DOCSIZE, sql_docsize, &st) != TSHOOT_OK) return;
  s->dl = ts_malloc((articles + 1) * sizeof *s->dl);
  if (!s->dl) { sqlite3_reset(st); return; }
  for (i = 0; i <= articles; i++) s->dl[i] = DL_UNKNOWN;
  s->ndl = articles + 1;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)articles);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    const unsigned char *b = sqlite3_column_blob(st, 1);
    int n = sqlite3_column_bytes(st, 1), off = 0, col, k;
    uint64_t sum = 0;
    uint32_t v;
    if (id < 1 || (size_t)id > articles || !b) continue;
    for (col = 0; col < TS_FTS_NCOLS; col++) {
      if ((k = varint32(b + off, n - off, &v)) == 0) break;
      off += k;
      sum += v;
    }
    if (col == TS_FTS_NCOLS && off == n && sum < DL_UNKNOWN) s->dl[id] = (uint32_t)sum;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {         /* out of time or damaged: ask FTS5 instead */
    ts_free(s->dl);
    s->dl = NULL;
    s->ndl = 0;
  }
}

static int syn_load(kb_conn *c, search_state *s)
{
  sqlite3_stmt *st;
  ts_buf arena = TS_BUF_INIT;
  size_t n = 0, cap = 0, i;
  syn_entry *e = NULL;
  int rc = stmt_get(c, ST_SYN, sql_syn, &st);
  if (rc != TSHOOT_OK) return rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    int tl = sqlite3_column_bytes(st, 0);
    if (!t || tl <= 0 || strlen(t) != (size_t)tl) continue;
    if (ts_grow((void **)&e, &cap, n + 1, sizeof *e) < 0) { rc = SQLITE_NOMEM; break; }
    e[n].term = (const char *)(uintptr_t)arena.len; /* offset until arena is final */
    e[n].grp = sqlite3_column_int64(st, 1);
    ts_buf_add(&arena, t, (size_t)tl + 1);
    n++;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE || arena.oom) {
    ts_free(e);
    ts_buf_free(&arena);
    if (arena.oom || rc == SQLITE_NOMEM) return ts_error_oom();
    return step_error(c, rc, "reading the KB's synonyms");
  }
  s->syn_arena = arena.p;
  s->by_term = e;
  s->nsyn = n;
  s->syn_maxwords = 1;
  for (i = 0; i < n; i++) {
    const char *t = s->syn_arena + (size_t)(uintptr_t)e[i].term;
    int words = 1;
    const char *q;
    e[i].term = t;
    for (q = t; *q; q++) words += *q == ' ';
    if (words > s->syn_maxwords) s->syn_maxwords = words;
  }
  if (s->syn_maxwords > MAX_SYN_WORDS) s->syn_maxwords = MAX_SYN_WORDS;
  if (n) {
    qsort(s->by_term, n, sizeof *e, cmp_term); /* SQL's order, but be sure */
    s->by_grp = ts_malloc(n * sizeof *e);
    if (!s->by_grp) {
      ts_free(s->by_term);
      ts_free(s->syn_arena);
      s->by_term = NULL;
      s->syn_arena = NULL;
      s->nsyn = 0;
      return ts_error_oom();
    }
    memcpy(s->by_grp, e, n * sizeof *e);
    qsort(s->by_grp, n, sizeof *e, cmp_grp);
  }
  s->syn_loaded = 1;
  return TSHOOT_OK;
}

/* First index in by_term whose term is `key`, or -1. */
static long syn_find(const search_state *s, const char *key)
{
  size_t lo = 0, hi = s->nsyn;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(s->by_term[mid].term, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->nsyn && strcmp(s->by_term[lo].term, key) == 0 ? (long)lo : -1;
}

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

/* text_is_stopword(), plus the stems of "n't" contractions that text.c's
** list lacks ("doesn't" is the words doesn, t): alone they only empty an
** AND query. (Reported for text.c's list; kept here meanwhile.) */
static int is_stop(const char *w, size_t n)
{
  static const char *const more[] = { "aren", "couldn", "didn", "doesn", "hadn", "hasn", "haven",
                                      "mustn", "needn", "shouldn", "wasn", "weren", "wouldn" };
  size_t i;
  if (text_is_stopword(w, n)) return 1;
  if (n < 4 || n > 7) return 0;
  for (i = 0; i < TS_ARRAY_LEN(more); i++)
    if (strlen(more[i]) == n && memcmp(more[i], w, n) == 0) return 1;
  return 0;
}

static int is_joiner(unsigned char ch)
{
  return ch == '.' || ch == '-' || ch == '_' || ch == '/' || ch == '\\';
}

static void plan_words(splan *p, const char *text, size_t len)
{
  size_t pos = 0, st, wl, prev_end = 0, k;
  p->nw = 0;
  p->more = 0;
  while (text_next_word(text, len, &pos, &st, &wl)) {
    sword *w;
    if (p->nw == SEARCH_MAX_SCAN) { p->more = 1; break; }
    w = &p->w[p->nw];
    w->start = st;
    w->len = wl;
    w->joined = 0;
    if (p->nw > 0) {
      if (st == prev_end) {
        w->joined = 2;
      } else {
        w->joined = 1;
        for (k = prev_end; k < st; k++)
          if (!is_joiner((unsigned char)text[k])) { w->joined = 0; break; }
      }
    }
    text_fold(w->fold, text + st, wl);
    w->fix[0] = '\0';
    w->digit = 0;
    w->n = -1;
    for (k = 0; k < wl; k++)
      if (w->fold[k] >= '0' && w->fold[k] <= '9') { w->digit = 1; break; }
    prev_end = st + wl;
    p->nw++;
  }
  p->scanned_end = prev_end;
  p->at_end = p->nw > 0 && !p->more && prev_end == len;
}

static const char *word_text(const sword *w) { return w->fix[0] ? w->fix : w->fold; }

/* The words [w0, w1) as a synonym key: folded, one space between. */
static int make_key(const splan *p, int w0, int w1, char *key, size_t cap)
{
  size_t n = 0;
  int i;
  for (i = w0; i < w1; i++) {
    const char *t = word_text(&p->w[i]);
    size_t tl = strlen(t);
    if (i > w0) {
      if (n + 1 >= cap) return -1;
      key[n++] = ' ';
    }
    if (n + tl >= cap) return -1;
    memcpy(key + n, t, tl);
    n += tl;
  }
  key[n] = '\0';
  return 0;
}

/* Fill t's alternatives with the group(s) of synonym `key`. 0 if not a term. */
static int syn_expand(splan *p, const search_state *s, sterm *t, const char *key)
{
  long i = s ? syn_find(s, key) : -1;
  if (i < 0) return 0;
  t->nalt = 0;
  t->alt[t->nalt++] = s->by_term[i].term;
  for (; (size_t)i < s->nsyn && strcmp(s->by_term[i].term, key) == 0; i++) {
    sqlite3_int64 g = s->by_term[i].grp;
    size_t lo = 0, hi = s->nsyn, j;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (s->by_grp[mid].grp < g) lo = mid + 1;
      else hi = mid;
    }
    for (j = lo; j < s->nsyn && s->by_grp[j].grp == g; j++) {
      int k, dup = 0;
      if (t->nalt >= SEARCH_MAX_ALTS || p->nalts + t->nalt >= MAX_ALTS_TOTAL) break;
      for (k = 0; k < t->nalt && !dup; k++) dup = strcmp(t->alt[k], s->by_grp[j].term) == 0;
      if (!dup) t->alt[t->nalt++] = s->by_grp[j].term;
    }
  }
  p->nalts += t->nalt;
  return 1;
}

/* Split words into terms (phrases), matching synonym runs when s is set. */
static void plan_terms(splan *p, const search_state *s)
{
  int seg[SEARCH_MAX_SCAN + 1], nseg = 0, i, j;
  for (i = 0; i < p->nw; i++)
    if (p->w[i].joined == 0) seg[nseg++] = i;
  seg[nseg] = p->nw;
  p->nt = 0;
  p->nalts = 0;
  for (i = 0; i < nseg && p->nt < SEARCH_MAX_TERMS; ) {
    sterm *t = &p->t[p->nt];
    int w0 = seg[i], w1 = seg[i + 1], matched = 0;
    memset(t, 0, sizeof *t);
    if (s && s->nsyn && p->nalts < MAX_ALTS_TOTAL) {
      char key[(TEXT_MAX_WORD + 1) * MAX_SYN_WORDS + 1];
      for (j = nseg; j > i && !matched; j--) {
        int e = seg[j];
        if (e - w0 > s->syn_maxwords) continue;
        if (j == i + 1 && e - w0 == 1 &&
            (p->w[w0].len == 1 || is_stop(p->w[w0].fold, p->w[w0].len)))
          continue;
        if (make_key(p, w0, e, key, sizeof key) < 0) continue;
        if (syn_expand(p, s, t, key)) {
          t->w0 = w0;
          t->w1 = e;
          matched = 1;
          i = j;
        }
      }
    }
    if (matched) { p->nt++; continue; }
    i++;
    if (w1 - w0 == 1 && (p->w[w0].len == 1 || is_stop(p->w[w0].fold, p->w[w0].len)))
      continue;
    t->w0 = w0;
    t->w1 = w1;
    p->nt++;
  }
}

/* Should the last term be a prefix, judging by length only? */
static void plan_prefix(splan *p, unsigned int flags)
{
  sterm *t;
  const sword *w;
  size_t min;
  if ((flags & TSHOOT_SEARCH_NO_PREFIX) || !p->at_end || p->nt == 0) return;
  t = &p->t[p->nt - 1];
  if (t->w1 != p->nw || t->nalt > 0) return;
  w = &p->w[t->w1 - 1];
  min = t->w1 - 1 > t->w0 && w->joined == 1 ? 2 : 3;
  if (w->len >= min) t->prefix = 1;
}

/* ===== spelling ===== */

/* Look folded word w up in vocab: *exact if it is there, *ext if a longer
** vocab word starts with it. */
static int vocab_lookup(kb_conn *c, const char *w, int *exact, int *ext, sqlite3_int64 *n)
{
  sqlite3_stmt *st;
  size_t wl = strlen(w);
  int rc = stmt_get(c, ST_VOCAB, sql_vocab, &st);
  *exact = *ext = 0;
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_text(st, 1, w, (int)wl, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    size_t vl = (size_t)sqlite3_column_bytes(st, 0);
    if (!v) continue;
    if (vl == wl && memcmp(v, w, wl) == 0) {
      *exact = 1;
      *n = sqlite3_column_int64(st, 1);
    }
    else if (vl > wl && memcmp(v, w, wl) == 0) *ext = 1;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TSHOOT_OK : step_error(c, rc, "searching the KB vocabulary");
}

/* Is folded word w in the index after stemming (an inflection of a KB word)? */
static int stem_indexed(kb_conn *c, const char *w, int *found)
{
  sqlite3_stmt *st;
  char q[TEXT_MAX_WORD + 3];
  size_t wl = strlen(w);
  int rc = stmt_get(c, ST_STEM, sql_stem, &st);
  *found = 0;
  if (rc != TSHOOT_OK) return rc;
  q[0] = '"';
  memcpy(q + 1, w, wl); /* words hold no '"' */
  q[wl + 1] = '"';
  sqlite3_bind_text(st, 1, q, (int)wl + 2, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) { *found = 1; rc = SQLITE_DONE; }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TSHOOT_OK : step_error(c, rc, "searching the KB index");
}

/* The closest vocab word to w within max edits into out (or "" if none). */
static int closest_word(kb_conn *c, const char *w, int max, int completion_first, char *out)
{
  sqlite3_stmt *st;
  size_t wl = strlen(w);
  unsigned char lo = (unsigned char)w[0];
  char lo_s[2] = { (char)lo, 0 }, hi_s[2] = { (char)(lo + 1), 0 };
  int rc, best_d = max + 1, best_comp = 0;
  sqlite3_int64 best_n = -1;
  out[0] = '\0';
  if (lo == 0xff) return TSHOOT_OK;
  rc = stmt_get(c, ST_CANDS, sql_cands, &st);
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_text(st, 1, lo_s, 1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, hi_s, 1, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    size_t vl = (size_t)sqlite3_column_bytes(st, 0);
    sqlite3_int64 n = sqlite3_column_int64(st, 1);
    int d, comp;
    if (!v || vl < 2 || vl > TEXT_MAX_WORD || (vl > wl ? vl - wl : wl - vl) > 2) continue;
    if (is_stop(v, vl) || memchr(v, '"', vl) || strlen(v) != vl) continue;
    d = text_distance(w, wl, v, vl, max);
    if (d > max) continue;
    comp = completion_first && vl > wl && memcmp(v, w, wl) == 0;
    if (d < best_d || (d == best_d && (comp > best_comp || (comp == best_comp && n > best_n)))) {
      best_d = d;
      best_comp = comp;
      best_n = n;
      memcpy(out, v, vl + 1);
    }
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) { out[0] = '\0'; return step_error(c, rc, "correcting spelling"); }
  return TSHOOT_OK;
}

/* Vocabulary, spelling and the prefix rule for every word of every term. */
static int plan_spell(splan *p, kb_conn *c, const search_state *s, unsigned int flags)
{
  int ti, wi, rc;
  if (flags & TSHOOT_SEARCH_NO_SPELLING) return TSHOOT_OK;
  for (ti = 0; ti < p->nt; ti++) {
    sterm *t = &p->t[ti];
    int fixed = 0;
    if (t->nalt > 0) continue;
    for (wi = t->w0; wi < t->w1; wi++) {
      sword *w = &p->w[wi];
      int last = t->prefix && wi == t->w1 - 1;
      int exact, ext, indexed, max;
      if (w->joined == 2 || (wi + 1 < t->w1 && p->w[wi + 1].joined == 2)) continue;
      if (w->len == 1 || is_stop(w->fold, w->len) || w->digit) continue;
      rc = vocab_lookup(c, w->fold, &exact, &ext, &w->n);
      if (rc != TSHOOT_OK) return rc;
      if (exact || (last && ext)) continue;
      max = text_max_typos(w->len);
      if (max == 0 && w->len == 2 && wi > t->w0 && w->joined == 1) max = 1;
      if (max == 0) continue;
      rc = stem_indexed(c, w->fold, &indexed);
      if (rc != TSHOOT_OK) return rc;
      if (indexed) continue;
      rc = closest_word(c, w->fold, max, w->len == 2, w->fix);
      if (rc != TSHOOT_OK) return rc;
      if (w->fix[0]) {
        fixed = 1;
        p->any_fix = 1;
        if (last) t->prefix = 0;
      }
    }
    if (fixed && s && s->nsyn && p->nalts < MAX_ALTS_TOTAL) {
      char key[(TEXT_MAX_WORD + 1) * SEARCH_MAX_SCAN + 1];
      if (make_key(p, t->w0, t->w1, key, sizeof key) == 0 && syn_expand(p, s, t, key))
        t->prefix = 0;
    }
  }
  return TSHOOT_OK;
}

/* ===== writing queries ===== */

static void add_quoted(ts_buf *b, const char *s, size_t n)
{
  size_t i;
  ts_buf_addc(b, '"');
  for (i = 0; i < n; i++) {
    if (s[i] == '"') ts_buf_addc(b, '"');
    ts_buf_addc(b, s[i]);
  }
  ts_buf_addc(b, '"');
}

/* The term's own words, quoted. */
static void add_term_words(ts_buf *b, const splan *p, const sterm *t)
{
  int i;
  ts_buf_addc(b, '"');
  for (i = t->w0; i < t->w1; i++) {
    const char *w = word_text(&p->w[i]);
    if (i > t->w0 && p->w[i].joined != 2) ts_buf_addc(b, ' ');
    ts_buf_adds(b, w); /* words hold no '"' */
  }
  ts_buf_addc(b, '"');
}

static void add_term(ts_buf *b, const splan *p, const sterm *t, int flat)
{
  int k;
  if (t->nalt == 0) {
    add_term_words(b, p, t);
    if (t->prefix) ts_buf_addc(b, '*');
    return;
  }
  if (t->nalt > 1 && !flat) ts_buf_addc(b, '(');
  for (k = 0; k < t->nalt; k++) {
    if (k) ts_buf_adds(b, " OR ");
    add_quoted(b, t->alt[k], strlen(t->alt[k]));
  }
  if (t->nalt > 1 && !flat) ts_buf_addc(b, ')');
}

/* In the OR fallback, a one-word term found in more than half the articles
** is left out (bm25 gives it an IDF of 1e-6: it cannot change the order of
** the articles that match another term, but makes FTS5 score nearly every
** article), when another one-word term is known to be in some article (so
** the OR still finds something). */
static int term_too_common(const splan *p, int i)
{
  int k;
  const sterm *t = &p->t[i];
  if (p->articles <= 0 || t->nalt > 0 || t->w1 - t->w0 != 1 || p->w[t->w0].fix[0] ||
      p->w[t->w0].n * 2 <= p->articles)
    return 0;
  for (k = 0; k < p->nt; k++) {
    const sterm *u = &p->t[k];
    if (u->nalt == 0 && u->w1 - u->w0 == 1 && !p->w[u->w0].fix[0] && p->w[u->w0].n > 0 &&
        p->w[u->w0].n * 2 <= p->articles)
      return 1;
  }
  return 0;
}

static char *write_query(const splan *p, int or_form)
{
  ts_buf b = TS_BUF_INIT;
  const char *sep = " ";
  int i;
  if (or_form) sep = " OR ";
  else
    for (i = 0; i < p->nt; i++)
      if (p->t[i].nalt > 1) sep = " AND ";
  for (i = 0; i < p->nt; i++) {
    if (or_form && term_too_common(p, i)) continue;
    if (b.len) ts_buf_adds(&b, sep);
    add_term(&b, p, &p->t[i], or_form);
  }
  return ts_buf_detach(&b);
}

static void add_cased(ts_buf *b, const char *orig, size_t olen, const char *fix)
{
  int upper = 0, lower = 0;
  size_t i, n = strlen(fix);
  for (i = 0; i < olen; i++) {
    unsigned char ch = (unsigned char)orig[i];
    if (ch >= 'A' && ch <= 'Z') upper++;
    else if (ch >= 'a' && ch <= 'z') lower++;
  }
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)fix[i];
    int up = (upper > 1 && lower == 0) ||
             (i == 0 && (unsigned char)orig[0] >= 'A' && (unsigned char)orig[0] <= 'Z');
    ts_buf_addc(b, (char)(up && ch >= 'a' && ch <= 'z' ? ch - 32 : ch));
  }
}

static char *write_suggestion(const splan *p, const char *text, size_t len)
{
  ts_buf b = TS_BUF_INIT;
  size_t pos = 0, end = p->more ? p->scanned_end : len, start;
  int i;
  char *r;
  for (i = 0; i < p->nw; i++) {
    const sword *w = &p->w[i];
    if (!w->fix[0]) continue;
    ts_buf_add(&b, text + pos, w->start - pos);
    add_cased(&b, text + w->start, w->len, w->fix);
    pos = w->start + w->len;
  }
  ts_buf_add(&b, text + pos, end - pos);
  if (b.oom) { ts_buf_free(&b); return NULL; }
  for (pos = 0; pos < b.len; pos++)
    if ((unsigned char)b.p[pos] < 0x20 || b.p[pos] == 0x7f) b.p[pos] = ' ';
  for (start = 0; start < b.len && b.p[start] == ' '; start++) {}
  while (b.len > start && b.p[b.len - 1] == ' ') b.len--;
  r = ts_strndup(b.p + start, b.len - start);
  ts_buf_free(&b);
  return r;
}

char *search_build_query(const char *text, size_t len, unsigned int flags)
{
  splan *p;
  char *q;
  if (!text) len = 0;
  p = ts_malloc(sizeof *p);
  if (!p) return NULL;
  p->any_fix = 0;
  p->articles = 0;
  plan_words(p, text ? text : "", len);
  plan_terms(p, NULL);
  plan_prefix(p, flags);
  q = write_query(p, 0);
  ts_free(p);
  return q;
}

int search_build_query_kb(kb_conn *c, const char *text, size_t len, unsigned int flags,
                          char **query, char **or_query, char **suggestion)
{
  search_state *s;
  splan *p;
  int rc;
  *query = *or_query = *suggestion = NULL;
  if (!text) len = 0;
  s = state_get(c);
  if (!s) return ts_error_oom();
  if (!s->syn_loaded) {
    rc = syn_load(c, s);
    if (rc != TSHOOT_OK) return rc;
  }
  p = ts_malloc(sizeof *p);
  if (!p) return ts_error_oom();
  p->any_fix = 0;
  p->articles = 0;
  plan_words(p, text ? text : "", len);
  plan_terms(p, s);
  plan_prefix(p, flags);
  rc = plan_spell(p, c, s, flags);
  if (rc == TSHOOT_OK) {
    *query = write_query(p, 0);
    if (p->nt >= 2) *or_query = write_query(p, 1);
    if (p->any_fix) *suggestion = write_suggestion(p, text ? text : "", len);
    if (!*query || (p->nt >= 2 && !*or_query) || (p->any_fix && !*suggestion)) {
      ts_free(*query);
      ts_free(*or_query);
      ts_free(*suggestion);
      *query = *or_query = *suggestion = NULL;
      rc = ts_error_oom();
    }
  }
  ts_free(p);
  return rc;
}

/* ===== results ===== */

struct tshoot_results {
  size_t n;
  tshoot_result *items;
  const char *query;
  const char *suggestion;   /* NULL: none */
  int truncated;
};

/* ===== passages (snippets) =====
**
** best_window(), run by ts_rank for each row that enters the best n so far,
** reads the row's hit list (which bm25 needs anyway) and returns, as one
** integer, where the best passage of N tokens is: the window with the most
** distinct phrases, then the heavier column, then the most hits. Only for
** the rows returned is that one column tokenized (unicode61 remove_diacritics
** 2: the index's tokens, unstemmed), up to the window's end, and the tokens
** that match the query marked (see hl_set); marked tokens separated by no
** space (kofmsp.dll) share one pair of marks. */

static const int col_weight[TS_FTS_NCOLS] = { 10, 8, 6, 2, 1 };
#define HITS_MAX_INST 64

/* Where the best passage of n tokens of the current row is:
** col | start << 3 | colsize << 32, or -1. */
static sqlite3_int64 best_window(const Fts5ExtensionApi *api, Fts5Context *fts, int n)
{
  int ninst = 0, i, j, k;
  int ip[HITS_MAX_INST], ic[HITS_MAX_INST], io[HITS_MAX_INST];
  int best = -1, best_start = 0, colsize = 0, sorted = 1, nphrase;
  long best_score = -1;
  if (n < 1) n = 1;
  if (n > SNIPPET_MAX) n = SNIPPET_MAX;
  if (api->xInstCount(fts, &ninst) != SQLITE_OK || ninst <= 0) return -1;
  nphrase = api->xPhraseCount(fts);
  if (ninst > HITS_MAX_INST) ninst = HITS_MAX_INST;
  for (i = 0; i < ninst; i++) {
    if (api->xInst(fts, i, &ip[i], &ic[i], &io[i]) != SQLITE_OK) return -1;
    if (i > 0 && (ic[i] < ic[i - 1] || (ic[i] == ic[i - 1] && io[i] < io[i - 1]))) sorted = 0;
  }
  if (sorted) {
    /* one pass: a window [io[i] - n/4, +n) per hit, two pointers, counts
    ** of each phrase in the window */
    int lo = 0, hi = 0, distinct = 0;
    unsigned char cnt[64];
    memset(cnt, 0, sizeof cnt);
    for (i = 0; i < ninst; i++) {
      int start = io[i] > n / 4 ? io[i] - n / 4 : 0;
      long score;
      while (lo < i && (ic[lo] != ic[i] || io[lo] < start)) {
        if (lo < hi && --cnt[ip[lo] < 63 ? ip[lo] : 63] == 0) distinct--;
        lo++;
      }
      if (hi < lo) hi = lo;
      while (hi < ninst && ic[hi] == ic[i] && io[hi] < start + n) {
        if (cnt[ip[hi] < 63 ? ip[hi] : 63]++ == 0) distinct++;
        hi++;
      }
      score = (long)distinct * 100000 + (ic[i] < TS_FTS_NCOLS ? col_weight[ic[i]] : 0) * 1000 +
              (hi - lo);
      if (score > best_score) { best_score = score; best = i; best_start = start; }
      /* columns come in order of weight: no later window beats one with
      ** every phrase */
      if (distinct >= nphrase && hi < ninst && ic[hi] != ic[i]) break;
      if (distinct >= nphrase && ic[i] == 0) break;
    }
  } else {
    if (ninst > 32) ninst = 32;
    for (i = 0; i < ninst; i++) {
      int start = io[i] > n / 4 ? io[i] - n / 4 : 0, hits = 0;
      uint64_t mask = 0;
      long score;
      for (j = 0; j < ninst; j++)
        if (ic[j] == ic[i] && io[j] >= start && io[j] < start + n) {
          mask |= (uint64_t)1 << (ip[j] < 63 ? ip[j] : 63);
          hits++;
        }
      for (k = 0; mask; k++) mask &= mask - 1;
      score = (long)k * 100000 + (ic[i] < TS_FTS_NCOLS ? col_weight[ic[i]] : 0) * 1000 + hits;
      if (score > best_score) { best_score = score; best = i; best_start = start; }
    }
  }
  if (best < 0 || api->xColumnSize(fts, ic[best], &colsize) != SQLITE_OK) return -1;
  if (best_start + n > colsize) best_start = colsize > n ? colsize - n : 0;
  if (best_start < 0 || best_start >= (1 << 28) || colsize < 0) return -1;
  return (sqlite3_int64)ic[best] | (sqlite3_int64)best_start << 3 | (sqlite3_int64)colsize << 32;
}

/* ts_rank(article_fts): FTS5's bm25(article_fts, TS_FTS_WEIGHTS), computed
** the same way (fts5_aux.c, SQLite 3.40), and, for a row that enters the best
** `limit` so far, where its passage is (into s->top, for ts_where). */
typedef struct rank_data {
  int nphrase;
  double avgdl;
  double *idf, *freq;
} rank_data;

static int count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *arg)
{
  (void)api;
  (void)fts;
  (*(sqlite3_int64 *)arg)++;
  return SQLITE_OK;
}

static int rank_data_get(const Fts5ExtensionApi *api, Fts5Context *fts, rank_data **out)
{
  rank_data *p = api->xGetAuxdata(fts, 0);
  int rc = SQLITE_OK, i;
  if (!p) {
    sqlite3_int64 nrow = 0, ntoken = 0;
    int nphrase = api->xPhraseCount(fts);
    p = sqlite3_malloc64(sizeof *p + sizeof(double) * 2 * (size_t)(nphrase > 0 ? nphrase : 1));
    if (!p) return SQLITE_NOMEM;
    p->nphrase = nphrase;
    p->idf = (double *)&p[1];
    p->freq = &p->idf[nphrase];
    rc = api->xRowCount(fts, &nrow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &ntoken);
    if (rc == SQLITE_OK) p->avgdl = (double)ntoken / (double)nrow;
    for (i = 0; rc == SQLITE_OK && i < nphrase; i++) {
      sqlite3_int64 nhit = 0;
      rc = api->xQueryPhrase(fts, i, (void *)&nhit, count_cb);
      if (rc == SQLITE_OK) {
        double idf = log((nrow - nhit + 0.5) / (nhit + 0.5));
        if (idf <= 0.0) idf = 1e-6;
        p->idf[i] = idf;
      }
    }
    if (rc == SQLITE_OK) rc = api->xSetAuxdata(fts, p, sqlite3_free);
    else sqlite3_free(p);
    if (rc != SQLITE_OK) p = NULL;
  }
  *out = p;
  return rc;
}

static void heap_down(double *h, size_t n, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    double t;
    if (l < n && h[l] > h[m]) m = l;
    if (r < n && h[r] > h[m]) m = r;
    if (m == i) return;
    t = h[i]; h[i] = h[m]; h[m] = t;
    i = m;
  }
}

static void heap_up(double *h, size_t i)
{
  while (i > 0 && h[(i - 1) / 2] < h[i]) {
    double t = h[i];
    h[i] = h[(i - 1) / 2];
    h[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

static void ts_rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                       int nval, sqlite3_value **val)
{
  const double k1 = 1.2, b = 0.75;
  search_state *s = api->xUserData(fts);
  rank_data *d;
  double score = 0.0, dl = 0.0, r;
  int rc = rank_data_get(api, fts, &d), ninst = 0, i;
  (void)nval;
  (void)val;
  if (rc == SQLITE_OK) {
    memset(d->freq, 0, sizeof(double) * (size_t)d->nphrase);
    rc = api->xInstCount(fts, &ninst);
  }
  for (i = 0; rc == SQLITE_OK && i < ninst; i++) {
    int ip, ic, io;
    rc = api->xInst(fts, i, &ip, &ic, &io);
    if (rc == SQLITE_OK) d->freq[ip] += ic >= 0 && ic < TS_FTS_NCOLS ? s->weight[ic] : 1.0;
  }
  if (rc == SQLITE_OK) {
    int ntok;
    sqlite3_int64 id = api->xRowid(fts);
    if (id > 0 && (size_t)id < s->ndl && s->dl[id] != DL_UNKNOWN) {
      dl = (double)s->dl[id];
    } else {
      rc = api->xColumnSize(fts, -1, &ntok);
      dl = (double)ntok;
    }
  }
  for (i = 0; rc == SQLITE_OK && i < d->nphrase; i++)
    score += d->idf[i] * ((d->freq[i] * (k1 + 1.0)) / (d->freq[i] + k1 * (1 - b + b * dl / d->avgdl)));
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  r = -1.0 * score;
  if (s->limit > 0 && (s->nheap < (size_t)s->limit || r <= s->heap[0])) {
    if (s->nheap < (size_t)s->limit) {
      s->heap[s->nheap] = r;
      heap_up(s->heap, s->nheap++);
    } else {
      s->heap[0] = r;
      heap_down(s->heap, s->nheap, 0);
    }
    if (s->ntop >= s->top_cap) { /* keep only rows that can still be returned */
      size_t j, k = 0;
      for (j = 0; j < s->ntop; j++)
        if (s->top[j].r <= s->heap[0]) s->top[k++] = s->top[j];
      s->ntop = k;
      if (s->ntop >= s->top_cap &&
          ts_grow((void **)&s->top, &s->top_cap, s->ntop + 1, sizeof *s->top) < 0) {
        sqlite3_result_error_nomem(ctx);
        return;
      }
    }
    s->top[s->ntop].rowid = api->xRowid(fts);
    s->top[s->ntop].r = r;
    s->top[s->ntop].where = best_window(api, fts, s->tokens);
    s->ntop++;
  }
  sqlite3_result_double(ctx, r);
}

/* ts_where(rowid): the passage ts_rank noted for a returned row, or NULL. */
static void ts_where_fn(sqlite3_context *ctx, int nval, sqlite3_value **val)
{
  search_state *s = sqlite3_user_data(ctx);
  sqlite3_int64 id = sqlite3_value_int64(val[0]);
  size_t i;
  (void)nval;
  for (i = s->ntop; i-- > 0;)
    if (s->top[i].rowid == id) {
      if (s->top[i].where >= 0) sqlite3_result_int64(ctx, s->top[i].where);
      return;
    }
}

/* Register ts_rank and ts_where and make the tokenizer, once per connection. */
static int fts5_setup(kb_conn *c, search_state *s)
{
  fts5_api *api = NULL;
  sqlite3_stmt *st = NULL;
  void *ud = NULL;
  const char *args[] = { "unicode61", "remove_diacritics", "2" };
  int i, rc = sqlite3_prepare_v2(c->db, "SELECT fts5(?1)", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK) return step_error(c, rc, "setting up FTS5");
  if (!api || api->iVersion < 2)
    return ts_error(TSHOOT_ERROR, "setting up FTS5: this SQLite has no usable fts5_api");
  {
    const char *w = TS_FTS_WEIGHTS;
    char *e;
    for (i = 0; i < TS_FTS_NCOLS; i++) {
      s->weight[i] = strtod(w, &e);
      w = e;
      while (*w == ',' || *w == ' ') w++;
    }
  }
  rc = api->xCreateFunction(api, "ts_rank", s, ts_rank_fn, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(c->db, "ts_where", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, s,
                                    ts_where_fn, NULL, NULL, NULL);
  s->tok = s->raw_tok = NULL;
  if (rc == SQLITE_OK) rc = api->xFindTokenizer(api, "porter", &ud, &s->tok_api);
  if (rc == SQLITE_OK) rc = s->tok_api.xCreate(ud, args, 3, &s->tok);
  if (rc == SQLITE_OK) rc = api->xFindTokenizer(api, "unicode61", &ud, &s->raw_api);
  if (rc == SQLITE_OK) rc = s->raw_api.xCreate(ud, args + 1, 2, &s->raw_tok);
  if (rc != SQLITE_OK) {
    if (s->tok) s->tok_api.xDelete(s->tok);
    if (s->raw_tok) s->raw_api.xDelete(s->raw_tok);
    s->tok = s->raw_tok = NULL;
    return rc == SQLITE_NOMEM ? ts_error_oom()
                              : ts_error(TSHOOT_ERROR, "setting up FTS5: %s", sqlite3_errstr(rc));
  }
  s->fts5_ready = 1;
  return TSHOOT_OK;
}

/* The query that ran, to mark in passages: each token of its quoted strings
** as typed (folded by unicode61) and as stemmed by the index's porter. A
** passage token (unicode61, not stemmed: cheaper) is marked when it equals a
** query token or extends its stem by at most 4 bytes (profile, profiles for
** profil), or extends the stem of the prefix term by any number. */
#define HL_MAX 64
typedef struct hl_set {
  int n, fill;
  unsigned char len[HL_MAX], rlen[HL_MAX], prefix[HL_MAX];
  char t[HL_MAX][TEXT_MAX_WORD], r[HL_MAX][TEXT_MAX_WORD];
} hl_set;

static int hl_raw_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  hl_set *h = ctx;
  (void)flags;
  (void)b0;
  (void)b1;
  if (h->n < HL_MAX) {
    int l = nt > 0 && nt <= TEXT_MAX_WORD ? nt : 0;
    memcpy(h->r[h->n], t, (size_t)l);
    h->rlen[h->n] = (unsigned char)l;
    h->len[h->n] = 0;
    h->prefix[h->n] = 0;
    h->n++;
  }
  return SQLITE_OK;
}

static int hl_stem_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  hl_set *h = ctx;
  (void)flags;
  (void)b0;
  (void)b1;
  if (h->fill < h->n) {
    int l = nt > 0 && nt <= TEXT_MAX_WORD ? nt : 0;
    memcpy(h->t[h->fill], t, (size_t)l);
    h->len[h->fill] = (unsigned char)l;
    h->fill++;
  }
  return SQLITE_OK;
}

/* The tokens of every quoted string of q (which search.c wrote). */
static void hl_prepare(search_state *s, hl_set *h, const char *q)
{
  char str[(TEXT_MAX_WORD + 1) * SEARCH_MAX_SCAN + 1];
  h->n = 0;
  while (*q) {
    size_t n = 0;
    int before;
    if (*q != '"') { q++; continue; }
    for (q++; *q; q++) {
      if (*q == '"') {
        if (q[1] != '"') break;
        q++;
      }
      if (n < sizeof str - 1) str[n++] = *q;
    }
    if (*q) q++;
    before = h->fill = h->n;
    s->raw_api.xTokenize(s->raw_tok, h, FTS5_TOKENIZE_QUERY, str, (int)n, hl_raw_cb);
    s->tok_api.xTokenize(s->tok, h, FTS5_TOKENIZE_QUERY, str, (int)n, hl_stem_cb);
    if (*q == '*' && h->n > before) h->prefix[h->n - 1] = 1;
  }
}

typedef struct tok_span {
  const hl_set *hl;
  int want0, want1, idx;     /* tokens [want0, want1) wanted; next index */
  int b0[SNIPPET_MAX], b1[SNIPPET_MAX];
  unsigned char hit[SNIPPET_MAX];
} tok_span;

static int tok_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  tok_span *sp = ctx;
  if (flags & FTS5_TOKEN_COLOCATED) return SQLITE_OK;
  if (sp->idx >= sp->want0 && sp->idx - sp->want0 < SNIPPET_MAX) {
    const hl_set *h = sp->hl;
    int k = sp->idx - sp->want0, i, hit = 0;
    sp->b0[k] = b0;
    sp->b1[k] = b1;
    for (i = 0; i < h->n && !hit; i++) {
      int l = h->len[i];
      hit = (h->rlen[i] == nt && memcmp(h->r[i], t, (size_t)nt) == 0) ||
            (l > 0 && l <= nt && (h->prefix[i] || nt - l <= 4) && memcmp(h->t[i], t, (size_t)l) == 0);
    }
    sp->hit[k] = (unsigned char)hit;
  }
  sp->idx++;
  return sp->idx >= sp->want1 ? SQLITE_DONE : SQLITE_OK;
}

/* Append to s->scratch the passage that `where` (from ts_where) names in
** `text`, its column. */
static int add_snippet(search_state *s, const hl_set *hl, sqlite3_int64 where, int tokens,
                       const char *text, int tl, const char *mo, const char *mc)
{
  tok_span sp;
  int rc, k, n, start = (int)((where >> 3) & ((1 << 29) - 1)), colsize = (int)(where >> 32);
  if (!text || where < 0) return TSHOOT_OK;
  memset(&sp, 0, sizeof sp);
  sp.hl = hl;
  sp.want0 = start;
  sp.want1 = start + tokens < colsize ? start + tokens : colsize;
  if (sp.want1 <= start) return TSHOOT_OK;
  rc = s->raw_api.xTokenize(s->raw_tok, &sp, FTS5_TOKENIZE_DOCUMENT, text, tl, tok_cb);
  if (rc != SQLITE_OK && rc != SQLITE_DONE)
    return rc == SQLITE_NOMEM ? ts_error_oom() : ts_error(TSHOOT_ERROR, "cutting a passage");
  n = (sp.idx < sp.want1 ? sp.idx : sp.want1) - start;   /* tokens found in the window */
  if (n <= 0) return TSHOOT_OK;
  if (start > 0) ts_buf_adds(&s->scratch, "...");
  for (k = 0; k < n; k++) {
    int glued = 0;
    if (k > 0) {
      const char *g = text + sp.b1[k - 1];
      int gl = sp.b0[k] - sp.b1[k - 1], i;
      glued = sp.hit[k - 1] && sp.hit[k];
      for (i = 0; i < gl && glued; i++)
        if (g[i] == ' ' || g[i] == '\t' || g[i] == '\n' || g[i] == '\r') glued = 0;
      if (sp.hit[k - 1] && !glued) ts_buf_adds(&s->scratch, mc);
      ts_buf_add(&s->scratch, g, (size_t)gl);
    }
    if (sp.hit[k] && !glued) ts_buf_adds(&s->scratch, mo);
    ts_buf_add(&s->scratch, text + sp.b0[k], (size_t)(sp.b1[k] - sp.b0[k]));
  }
  if (sp.hit[n - 1]) ts_buf_adds(&s->scratch, mc);
  if (start + n < colsize) ts_buf_adds(&s->scratch, "...");
  return TSHOOT_OK;
}

/* Run query q; rows into s->rows / s->scratch. *n_out rows. */
static int run_query(kb_conn *c, search_state *s, const char *q, const char *mo,
                     const char *mc, int tokens, int limit, size_t *n_out)
{
  sqlite3_stmt *st;
  size_t n = 0;
  int rc;
  hl_set hl;
  *n_out = 0;
  ts_buf_reset(&s->scratch);
  if (!s->fts5_ready) {
    rc = fts5_setup(c, s);
    if (rc != TSHOOT_OK) return rc;
  }
  rc = stmt_get(c, ST_QUERY, sql_query, &st);
  if (rc != TSHOOT_OK) return rc;
  hl_prepare(s, &hl, q);
  if (ts_grow((void **)&s->heap, &s->heap_cap, (size_t)limit, sizeof *s->heap) < 0 ||
      (!s->top && ts_grow((void **)&s->top, &s->top_cap, 64, sizeof *s->top) < 0))
    return ts_error_oom();
  s->limit = limit;
  s->tokens = tokens;
  s->nheap = s->ntop = 0;
  sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, limit);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_ref *r;
    int col;
    size_t *offs[3];
    if (ts_grow((void **)&s->rows, &s->rows_cap, n + 1, sizeof *s->rows) < 0) {
      sqlite3_reset(st);
      return ts_error_oom();
    }
    r = &s->rows[n];
    r->id = sqlite3_column_int64(st, 0);
    r->score = sqlite3_column_double(st, 1);
    offs[0] = &r->name;
    offs[1] = &r->title;
    offs[2] = &r->file;
    for (col = 0; col < 3; col++) {
      const char *v = (const char *)sqlite3_column_text(st, col + 3);
      size_t vl = v ? (size_t)sqlite3_column_bytes(st, col + 3) : 0;
      *offs[col] = s->scratch.len;
      ts_buf_add(&s->scratch, v ? v : "", vl);
      ts_buf_addc(&s->scratch, '\0');
    }
    r->line = sqlite3_column_int(st, 6);
    r->snippet = s->scratch.len;
    if (sqlite3_column_type(st, 2) == SQLITE_INTEGER) {
      const char *text = (const char *)sqlite3_column_text(st, 7);
      int tl = sqlite3_column_bytes(st, 7);
      rc = add_snippet(s, &hl, sqlite3_column_int64(st, 2), tokens, text, tl, mo, mc);
    }
    if (rc != TSHOOT_OK) {
      sqlite3_reset(st);
      return rc;
    }
    if (!s->scratch.oom) { /* a passage is one line; the caller's marks stay as given */
      char *p = s->scratch.p + r->snippet, *e = s->scratch.p + s->scratch.len;
      size_t lo = strlen(mo), lc = strlen(mc);
      while (p < e) {
        if (lo && (size_t)(e - p) >= lo && memcmp(p, mo, lo) == 0) { p += lo; continue; }
        if (lc && (size_t)(e - p) >= lc && memcmp(p, mc, lc) == 0) { p += lc; continue; }
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
        p++;
      }
    }
    ts_buf_addc(&s->scratch, '\0');
    n++;
  }
  sqlite3_reset(st);
  if (s->scratch.oom) {
    ts_buf_free(&s->scratch);
    return ts_error_oom();
  }
  if (rc != SQLITE_DONE) return step_error(c, rc, "searching the KB");
  *n_out = n;
  return TSHOOT_OK;
}

static tshoot_results *make_results(const search_state *s, size_t n, const char *query,
                                    const char *suggestion, int truncated)
{
  size_t head = sizeof(tshoot_results), ql = strlen(query), sl = suggestion ? strlen(suggestion) : 0;
  size_t strings = n ? s->scratch.len : 0, total, i;
  tshoot_results *r;
  char *str;
  head = (head + _Alignof(tshoot_result) - 1) / _Alignof(tshoot_result) * _Alignof(tshoot_result);
  total = head + n * sizeof(tshoot_result) + strings + ql + 1 + (suggestion ? sl + 1 : 0);
  r = ts_malloc(total);
  if (!r) return NULL;
  r->n = n;
  r->items = (tshoot_result *)((char *)r + head);
  r->truncated = truncated;
  str = (char *)(r->items + n);
  if (strings) memcpy(str, s->scratch.p, strings);
  for (i = 0; i < n; i++) {
    const row_ref *rr = &s->rows[i];
    r->items[i].article = str + rr->name;
    r->items[i].title = str + rr->title;
    r->items[i].file = str + rr->file;
    r->items[i].snippet = str + rr->snippet;
    r->items[i].line = rr->line;
    r->items[i].score = rr->score;
  }
  str += strings;
  memcpy(str, query, ql + 1);
  r->query = str;
  str += ql + 1;
  r->suggestion = NULL;
  if (suggestion) {
    memcpy(str, suggestion, sl + 1);
    r->suggestion = str;
  }
  return r;
}

TSHOOT_API int tshoot_search(tshoot_results **out, tshoot_kb *kb, const char *text, size_t len,
                             const tshoot_search_options *opts)
{
  static const tshoot_search_options defaults = TSHOOT_SEARCH_OPTIONS_INIT;
  kb_conn *c = NULL;
  search_state *s;
  splan *p;
  char *query = NULL, *fixed = NULL, *or_query = NULL, *suggestion = NULL;
  const char *ran = "", *mo, *mc;
  int rc = TSHOOT_OK, limit, tokens, truncated = 0;
  size_t n = 0;

  if (out) *out = NULL;
  if (!out || !kb) return ts_error(TSHOOT_EINVALID, "tshoot_search: NULL argument");
  if (!text && len > 0) return ts_error(TSHOOT_EINVALID, "tshoot_search: text is NULL");
  if (!text) text = "";
  if (!opts) opts = &defaults;
  if (opts->version < 1 || opts->version > TSHOOT_SEARCH_OPTIONS_VERSION)
    return ts_error(TSHOOT_EINVALID, "tshoot_search: unknown options version %u", opts->version);
  limit = opts->limit == 0 ? 10 : opts->limit < 1 ? 1 : opts->limit > 1000 ? 1000 : opts->limit;
  tokens = opts->snippet_tokens == 0 ? 24 : opts->snippet_tokens < 1 ? 1
         : opts->snippet_tokens > SNIPPET_MAX ? SNIPPET_MAX : opts->snippet_tokens;
  mo = opts->mark_open ? opts->mark_open : "[";
  mc = opts->mark_close ? opts->mark_close : "]";

  rc = kb_conn_acquire(kb, &c);
  if (rc != TSHOOT_OK) return rc;
  s = state_get(c);
  if (!s) { kb_conn_release(kb, c); return ts_error_oom(); }
  if (!s->plan && !(s->plan = ts_malloc(sizeof *s->plan))) {
    kb_conn_release(kb, c);
    return ts_error_oom();
  }
  p = s->plan;
  kb_conn_arm(c, kb, 0);
  if (!s->syn_loaded) rc = syn_load(c, s);
  if (rc == TSHOOT_OK && !s->dl_loaded) dl_load(c, s, kb->info.articles);
  /* 1. the words as typed, with synonyms */
  if (rc == TSHOOT_OK) {
    p->any_fix = 0;
    p->articles = (sqlite3_int64)kb->info.articles;
    plan_words(p, text, len);
    plan_terms(p, s);
    plan_prefix(p, opts->flags);
    query = write_query(p, 0);
    if (!query) rc = ts_error_oom();
  }
  if (rc == TSHOOT_OK && query[0] && (opts->flags & TSHOOT_SEARCH_ANY_WORD) && p->nt >= 2) {
    /* any of the words, everywhere, ranked: no AND pass first */
    or_query = write_query(p, 1);
    if (!or_query) rc = ts_error_oom();
    else {
      ran = or_query;
      rc = run_query(c, s, or_query, mo, mc, tokens, limit, &n);
    }
  } else if (rc == TSHOOT_OK && query[0]) {
    ran = query;
    rc = run_query(c, s, query, mo, mc, tokens, limit, &n);
    /* 2. nothing: was a word unknown? (a word the index lacks always makes
    ** the AND query empty, so spelling costs nothing when it finds rows) */
    if (rc == TSHOOT_OK && n == 0) {
      rc = plan_spell(p, c, s, opts->flags);
      if (rc == TSHOOT_OK && p->any_fix) {
        fixed = write_query(p, 0);
        suggestion = write_suggestion(p, text, len);
        if (!fixed || !suggestion) rc = ts_error_oom();
        else {
          ran = fixed;
          rc = run_query(c, s, fixed, mo, mc, tokens, limit, &n);
        }
      }
    }
    /* 3. still nothing: any of the terms, first in titles, symptoms and
    ** aliases only (few rows to score, and the better matches for a chatty
    ** sentence), then anywhere */
    if (rc == TSHOOT_OK && n == 0 && p->nt >= 2) {
      char *any = write_query(p, 1);
      if (!any) rc = ts_error_oom();
      else {
        ts_buf strong = TS_BUF_INIT;
        ts_buf_addf(&strong, "{title symptoms aliases} : (%s)", any);
        or_query = ts_buf_detach(&strong);
        if (!or_query) rc = ts_error_oom();
        else {
          ran = or_query;
          rc = run_query(c, s, or_query, mo, mc, tokens, limit, &n);
        }
        if (rc == TSHOOT_OK && n == 0) {
          ts_free(or_query);
          or_query = any;
          any = NULL;
          ran = or_query;
          rc = run_query(c, s, or_query, mo, mc, tokens, limit, &n);
        }
        ts_free(any);
      }
    }
  }
  if (rc == TSHOOT_ETIMEOUT) {
    truncated = 1;
    n = 0;
    rc = TSHOOT_OK;
  }
  if (rc == TSHOOT_OK) {
    *out = make_results(s, n, ran, suggestion, truncated);
    if (!*out) rc = ts_error_oom();
  }
  if (s->scratch.cap > 1 << 20) ts_buf_free(&s->scratch);
  kb_conn_release(kb, c);
  ts_free(query);
  ts_free(fixed);
  ts_free(or_query);
  ts_free(suggestion);
  return rc;
}

TSHOOT_API size_t tshoot_results_count(const tshoot_results *r) { return r ? r->n : 0; }

TSHOOT_API const tshoot_result *tshoot_results_get(const tshoot_results *r, size_t i)
{
  return r && i < r->n ? &r->items[i] : NULL;
}

TSHOOT_API const char *tshoot_results_suggestion(const tshoot_results *r)
{
  return r ? r->suggestion : NULL;
}

TSHOOT_API const char *tshoot_results_query(const tshoot_results *r)
{
  return r ? r->query : "";
}

TSHOOT_API int tshoot_results_truncated(const tshoot_results *r) { return r ? r->truncated : 0; }

TSHOOT_API void tshoot_results_free(tshoot_results *r) { ts_free(r); }
