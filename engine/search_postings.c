/*
** search_postings.c: ranking in C over the postings the compiler wrote
** (rank_term, rank_post, rank_pos, rank_doc: kb_rank_write.c has the layout),
** with the numbers FTS5 would give. search_rank.c asks here first and runs
** the FTS5 query itself only when this file says it cannot (a phrase whose
** last word is a prefix and whose rarest word is in more than
** PHRASE_MAX_WALK articles, a query it did not expect, a damaged table).
**
** Why: FTS5 ranks by walking every query term's whole posting list twice per
** query (once only to count the articles for the IDF), building the position
** list of every matching article and scoring each. Here the counts are stored
** (rank_term.df / hdf), frequencies are stored weighted by column (no
** positions), an AND walks the rarest term and jumps through the others by
** their skip entries and skips what cannot reach the best results found so
** far (block-max: each block's largest frequency part is stored), a term's
** blocks are read from the KB as the walk reaches them (rcur's window), an
** OR visits only the articles of the phrases that can still matter
** (MaxScore), a phrase of several words is matched on the stored positions
** of its words (rank_pos), and an article's tokens are read only for the
** articles returned (rank_doc), to place their passage.
**
** Same results: the query is the one search_query.c wrote for FTS5, read back
** here (quoted strings, '*', parentheses, AND, OR, one column filter); each
** string goes through FTS5's own tokenizer with FTS5's query flags, so the
** terms are the ones FTS5 would look up. The score is FTS5's bm25 (fts5_aux.c)
** with TS_FTS_WEIGHTS, computed with the same expression in the same order of
** phrases, so the same doubles; ties are broken by article id, as the FTS5
** path's ORDER BY r, id does. A test (tests/unit/test-search-postings.c)
** keeps both paths and compares articles, order, scores and passages.
*/
#include "search_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char sql_rterm[] = "SELECT id, df, hdf FROM rank_term WHERE term = ?1";
static const char sql_rprefix[] =
  "SELECT term, id, df, hdf FROM rank_term WHERE term >= ?1 ORDER BY term";
static const char sql_rpost[] = "SELECT id, post FROM rank_post WHERE id BETWEEN ?1 AND ?2 ORDER BY id";

#define RP_MAX 64                 /* phrases of a query (FTS5's are fewer) */
#define HEAD_COLS TS_FTS_HEAD_COLS /* {title symptoms aliases} */
static const double k1 = TS_BM25_K1, b = TS_BM25_B;
static const uint32_t wcol[TS_FTS_NCOLS] = TS_FTS_WEIGHT_INTS;

/* bm25's frequency part for weighted frequency f in an article whose
** k1 * (1 - b + b * dl / avgdl) is K: FTS5's expression (fts5_aux.c), so the
** same doubles. */
static double part(double f, double K)
{
  return (f * (k1 + 1.0)) / (f + K);
}

/* A bound or a sum of bounds, raised past the rounding of the sums it is
** compared with (an article is skipped only when this stays below the
** worst of the best found). */
static double slack(double v)
{
  return v * (1.0 + 1e-9);
}

/* ===== reading blobs: SQLite varints, little-endian u32 ===== */

static const unsigned char *rd_varint(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
  uint64_t x;
  size_t k = p && end > p ? ts_varint_get(p, (size_t)(end - p), &x) : 0;
  if (k == 0 || x > UINT32_MAX) return NULL;
  *v = (uint32_t)x;
  return p + k;
}

/* The same, quicker for the one- to three-byte values that term ids are. */
static inline const unsigned char *rd_id(const unsigned char *p, const unsigned char *end,
                                         uint32_t *v)
{
  if (end - p >= 3) {
    if (!(p[0] & 0x80)) { *v = p[0]; return p + 1; }
    if (!(p[1] & 0x80)) { *v = (uint32_t)(p[0] & 0x7f) << 7 | p[1]; return p + 2; }
    if (!(p[2] & 0x80)) {
      *v = (uint32_t)(p[0] & 0x7f) << 14 | (uint32_t)(p[1] & 0x7f) << 7 | p[2];
      return p + 3;
    }
  }
  return rd_varint(p, end, v);
}

static uint32_t rd_u32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static double rd_f32(const unsigned char *p)
{
  uint32_t v = rd_u32(p);
  float f;
  memcpy(&f, &v, sizeof f);
  return f == f && f >= 0 ? (double)f : HUGE_VAL;   /* a damaged bound prunes nothing */
}

/* ===== a cursor over one posting list (a blob) or a merged array ===== */

/* A posting list in memory (body: all its blocks), or read from the KB a
** window at a time (win: up to RCUR_WIN bytes of whole blocks, from block
** win0 to win1, read through the blob handle bh): an AND seeks through the
** blocks of its common words and needs few of them, and copying each whole
** list (tens of KB for a word in a third of the articles, twice: SQLite
** assembles a value from its overflow pages, then it was copied here) was
** most of the memory a search touched. */
#define RCUR_WIN 2048

typedef struct rcur {
  const unsigned char *skip, *body, *end, *p;
  uint32_t n, nblk, blk, left, prev;
  const uint32_t *arr;     /* merged form: 3 per posting */
  uint32_t narr, i;
  uint32_t doc, wtf, hwtf;
  int eof, bad;
  sqlite3_blob *bh;        /* read in windows: the list's blob, */
  uint32_t body_off, len;  /* where its body starts in it, its length, */
  uint32_t win0, win1;     /* the blocks [win0, win1) in win, */
  uint32_t win_off;        /* block win0's offset in the body */
  unsigned char *win;
} rcur;

/* Where block k starts in the body, and where the next one does. */
static int block_span(const rcur *c, uint32_t k, uint32_t *off, uint32_t *next)
{
  uint32_t body = c->len - c->body_off;
  *off = rd_u32(c->skip + RANK_SKIP * (size_t)k + 4);
  *next = k + 1 < c->nblk ? rd_u32(c->skip + RANK_SKIP * (size_t)(k + 1) + 4) : body;
  return *off <= *next && *next <= body;
}

/* Read blocks k.. into c->win: as many whole ones as the window holds when
** the cursor walks on from the last window, a quarter of that when it
** jumped (a seek needs one block; the rest would be read for nothing). */
static int cur_window(rcur *c, uint32_t k)
{
  uint32_t off, next, end, j, room = k == c->win1 ? RCUR_WIN : RCUR_WIN / 4;
  if (!block_span(c, k, &off, &next) || next - off > RCUR_WIN) return 0;
  for (j = k + 1, end = next; j < c->nblk; j++) {
    uint32_t o2, n2;
    if (!block_span(c, j, &o2, &n2) || o2 != end || n2 - off > room) break;
    end = n2;
  }
  if (sqlite3_blob_read(c->bh, c->win, (int)(end - off), (int)(c->body_off + off)) != SQLITE_OK)
    return 0;
  c->win0 = k;
  c->win1 = j;
  c->win_off = off;
  c->end = c->win + (end - off);
  return 1;
}

static void cur_block(rcur *c, uint32_t k)
{
  uint32_t off = rd_u32(c->skip + RANK_SKIP * (size_t)k + 4);
  c->blk = k;
  c->prev = k ? rd_u32(c->skip + RANK_SKIP * (size_t)(k - 1)) : 0;
  c->left = c->n - k * RANK_BLOCK < RANK_BLOCK ? c->n - k * RANK_BLOCK : RANK_BLOCK;
  if (c->bh) {                       /* blocks in order: off is within the window */
    if ((k < c->win0 || k >= c->win1) && !cur_window(c, k)) { c->bad = c->eof = 1; return; }
    c->p = c->win + (off - c->win_off);
    return;
  }
  if (off > (size_t)(c->end - c->body)) { c->bad = c->eof = 1; return; }
  c->p = c->body + off;
}

/* Is the posting at p three one-byte varints (article gap, wtf, hwtf)? Most
** are, and read as three bytes. */
static inline int small_posting(const unsigned char *p, const unsigned char *end)
{
  return end - p >= 3 && !((p[0] | p[1] | p[2]) & 0x80);
}

static void cur_next(rcur *c)
{
  uint32_t d;
  if (c->eof) return;
  if (c->arr) {
    if (++c->i >= c->narr) { c->eof = 1; return; }
    c->doc = c->arr[3 * c->i];
    c->wtf = c->arr[3 * c->i + 1];
    c->hwtf = c->arr[3 * c->i + 2];
    return;
  }
  if (c->left == 0) {
    if (c->blk + 1 >= c->nblk) { c->eof = 1; return; }
    cur_block(c, c->blk + 1);
    if (c->eof) return;
  }
  if (small_posting(c->p, c->end)) {
    d = c->p[0];
    c->wtf = c->p[1];
    c->hwtf = c->p[2];
    c->p += 3;
    if (d == 0) { c->bad = c->eof = 1; return; }
  } else if (!(c->p = rd_id(c->p, c->end, &d)) || !(c->p = rd_id(c->p, c->end, &c->wtf)) ||
             !(c->p = rd_id(c->p, c->end, &c->hwtf)) || d == 0) {
    c->bad = c->eof = 1;
    return;
  }
  c->doc = c->prev + d;
  c->prev = c->doc;
  c->left--;
}

/* Block k's largest frequency part, from its skip entry (head: of the first
** three columns). */
static double skip_max(const rcur *c, uint32_t k, int head)
{
  return rd_f32(c->skip + RANK_SKIP * (size_t)k + (head ? 12 : 8));
}

/* That of the cursor's current block; a merged list has none (HUGE_VAL). */
static double cur_block_max(const rcur *c, int head)
{
  if (c->arr || c->eof) return HUGE_VAL;
  return skip_max(c, c->blk, head);
}

/* The largest over all blocks. */
static double cur_global_max(const rcur *c, int head)
{
  double m = 0;
  uint32_t k;
  if (c->arr) return HUGE_VAL;
  for (k = 0; k < c->nblk; k++) {
    double v = skip_max(c, k, head);
    if (v > m) m = v;
  }
  return m;
}

/* The count, block count and skip table at the start of a posting list
** (len bytes at blob); the body's offset. 0: damaged. */
static uint32_t cur_head(rcur *c, const unsigned char *blob, size_t len)
{
  const unsigned char *p = blob, *end = blob + len;
  memset(c, 0, sizeof *c);
  if (!(p = rd_varint(p, end, &c->n)) || !(p = rd_varint(p, end, &c->nblk)) ||
      c->nblk != (c->n + RANK_BLOCK - 1) / RANK_BLOCK || (size_t)(end - p) / RANK_SKIP < c->nblk) {
    c->bad = c->eof = 1;
    return 0;
  }
  c->skip = p;
  return (uint32_t)(p - blob) + RANK_SKIP * c->nblk;
}

/* Open a cursor on its first posting: the whole list in memory (bh NULL),
** or its head (count, block count, skip table) there and its blocks read
** from bh, a blob of len bytes, into win (RCUR_WIN bytes) as they are
** reached. */
static void cur_open(rcur *c, const unsigned char *blob, size_t len, sqlite3_blob *bh,
                     uint32_t blob_len, unsigned char *win)
{
  uint32_t body = cur_head(c, blob, len);
  if (!body) return;
  if (bh) {
    c->bh = bh;
    c->win = win;
    c->body_off = body;
    c->len = blob_len;
    c->win0 = c->win1 = 0;
    if (blob_len < body) { c->bad = c->eof = 1; return; }
  } else {
    c->body = blob + body;
    c->end = blob + len;
  }
  if (c->n == 0) { c->eof = 1; return; }
  cur_block(c, 0);
  cur_next(c);
}

static void cur_open_array(rcur *c, const uint32_t *arr, uint32_t n)
{
  memset(c, 0, sizeof *c);
  c->arr = arr;
  c->narr = n;
  c->i = (uint32_t)-1;
  cur_next(c);
}

/* Move to the first posting at or after article `to`. */
static void cur_seek(rcur *c, uint32_t to)
{
  if (c->eof || c->doc >= to) return;
  if (c->arr) {
    uint32_t lo = c->i + 1, hi = c->narr;
    while (lo < hi) {              /* first index with arr doc >= to */
      uint32_t mid = lo + (hi - lo) / 2;
      if (c->arr[3 * mid] < to) lo = mid + 1;
      else hi = mid;
    }
    c->i = lo - 1;
    cur_next(c);
    return;
  }
  if (to > rd_u32(c->skip + RANK_SKIP * (size_t)c->blk)) {
    uint32_t lo = c->blk + 1, hi = c->nblk;
    while (lo < hi) {              /* first block whose last article >= to */
      uint32_t mid = lo + (hi - lo) / 2;
      if (rd_u32(c->skip + RANK_SKIP * (size_t)mid) < to) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= c->nblk) { c->eof = 1; return; }
    cur_block(c, lo);
    if (c->eof) return;
    cur_next(c);
  }
  if (!c->eof && c->doc < to) {      /* through the block: one-byte postings in registers */
    const unsigned char *p = c->p, *end = c->end;
    uint32_t doc = c->doc, left = c->left, wtf = c->wtf, hwtf = c->hwtf;
    while (doc < to && left > 0 && small_posting(p, end) && p[0]) {
      doc += p[0];
      wtf = p[1];
      hwtf = p[2];
      p += 3;
      left--;
    }
    c->p = p;
    c->doc = c->prev = doc;
    c->left = left;
    c->wtf = wtf;
    c->hwtf = hwtf;
  }
  while (!c->eof && c->doc < to) cur_next(c);   /* a longer varint, the next block */
}

static int out_of_time(kb_conn *c)
{
  if (c->deadline_ns && kb_now_ns() > c->deadline_ns) c->timed_out = 1;
  return c->timed_out;
}

/* ===== the query, read back ===== */

typedef struct rphrase {
  int group;               /* AND form: the group (a term or a synonym group) */
  uint32_t id0, id1;       /* term ids it matches: [id0, id1]; id1 < id0: none */
  sqlite3_int64 df;        /* articles it matches (in the columns searched) */
  double idf;
  size_t blob, blen;       /* its postings in rk->blobs (one term), or their head */
  int bslot;               /* m->bh[bslot] reads its blocks (-1: all in blobs) */
  uint32_t blob_len;       /* then: the list's length */
  size_t arr;              /* merged postings in rk->arr (a prefix of several terms) */
  uint32_t narr;
  int merged;
  int t0, ntok;            /* its tokens: q->tok[t0, t0 + ntok) */
  rcur cur;
} rphrase;

/* A token of a phrase: the terms it matches, ids [lo, hi] (the last token
** of a prefix phrase: every term that starts with it). */
typedef struct rtok {
  char t[TEXT_MAX_WORD * 2 + 8];
  int len, prefix;
  uint32_t lo, hi;
  sqlite3_int64 df;        /* articles holding it (one term only; else unknown) */
} rtok;

#define RP_MAXTOK 128             /* tokens of all phrases of a query */
#define PH_MAXTOK 8               /* tokens of a phrase matched by positions */

typedef struct rquery {
  uint64_t first[16];      /* bit (id & 1023): some phrase may start with term id */
  int or_form, head;       /* ORed phrases; only {title symptoms aliases} */
  int np, ngroup, nt;
  rphrase p[RP_MAX];
  rtok tok[RP_MAXTOK];
} rquery;

/* A phrase string -> its tokens (FTS5's tokenizer, FTS5's query flags). */
typedef struct tokq { rquery *q; int bad; } tokq;

static int tokq_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  tokq *k = ctx;
  rtok *r;
  (void)b0;
  (void)b1;
  if ((flags & FTS5_TOKEN_COLOCATED) || k->q->nt >= RP_MAXTOK || nt <= 0 ||
      (size_t)nt >= sizeof r->t) {
    k->bad = 1;
    return SQLITE_OK;
  }
  r = &k->q->tok[k->q->nt++];
  memcpy(r->t, t, (size_t)nt);
  r->len = nt;
  r->prefix = 0;
  return SQLITE_OK;
}

/* Read back what search_write_query wrote: 1 when it is a form this file
** ranks (every string one token), 0 otherwise. */
static int parse_query(search_state *s, rquery *q, const char *str)
{
  const char *p = str;
  int depth = 0, saw_and = 0, saw_or = 0, group_open = 0, in_group_or = 0;
  memset(q, 0, offsetof(rquery, p));
  q->np = q->ngroup = q->nt = 0;
  if (strncmp(p, "{title symptoms aliases} : (", 28) == 0) {
    size_t l = strlen(p);
    if (l < 29 || p[l - 1] != ')') return 0;
    q->head = 1;
    p += 28;
    depth = 1;
  }
  while (*p) {
    if (*p == ' ') { p++; continue; }
    if (strncmp(p, "AND ", 4) == 0) { saw_and = 1; p += 4; continue; }
    if (strncmp(p, "OR ", 3) == 0) {
      if (group_open) in_group_or = 1;
      else saw_or = 1;
      p += 3;
      continue;
    }
    if (*p == '(') {
      if (group_open || (q->head && depth > 1)) return 0;
      group_open = 1;
      depth++;
      q->ngroup++;
      p++;
      continue;
    }
    if (*p == ')') {
      if (group_open) { group_open = 0; depth--; p++; continue; }
      if (q->head && depth == 1 && p[1] == '\0') { depth = 0; p++; continue; }
      return 0;
    }
    if (*p == '"') {
      char buf[(TEXT_MAX_WORD + 1) * SEARCH_MAX_SCAN + 1];
      size_t n = 0;
      tokq k;
      int prefix = 0, rc;
      for (p++; *p; p++) {
        if (*p == '"') {
          if (p[1] != '"') break;
          p++;
        }
        if (n >= sizeof buf - 1) return 0;
        buf[n++] = *p;
      }
      if (*p != '"') return 0;
      p++;
      if (*p == '*') { prefix = 1; p++; }
      if (q->np >= RP_MAX) return 0;
      k.q = q;
      k.bad = 0;
      q->p[q->np].t0 = q->nt;
      rc = s->tok_api.xTokenize(s->tok, &k, FTS5_TOKENIZE_QUERY | (prefix ? FTS5_TOKENIZE_PREFIX : 0),
                                buf, (int)n, tokq_cb);
      q->p[q->np].ntok = q->nt - q->p[q->np].t0;
      if (rc != SQLITE_OK || k.bad || q->p[q->np].ntok < 1) return 0;
      q->tok[q->nt - 1].prefix = prefix;
      if (!group_open) q->ngroup++;
      q->p[q->np].group = q->ngroup - 1;
      q->np++;
      continue;
    }
    return 0;
  }
  if (group_open || depth != 0 || q->np == 0) return 0;
  if (saw_or && saw_and) return 0;
  if (in_group_or && saw_or) return 0;   /* the OR form is flat */
  if (q->head && !saw_or && q->np > 1) return 0;
  q->or_form = saw_or || (q->head && q->np == 1);
  return 1;
}

/* ===== the ranker's per-connection memory ===== */

#define RP_BLOBS 16              /* posting lists read in windows (more are copied) */

struct search_rank_mem {
  ts_buf blobs;             /* the query's posting lists, copied, or their heads */
  sqlite3_blob *bh[RP_BLOBS]; /* open on rank_post.post, moved from row to row */
  unsigned char *win[RP_BLOBS]; /* their cursors' windows, RCUR_WIN bytes each */
  int nbh;                  /* used by the query being loaded */
  uint32_t *arr;            /* merged prefix lists */
  size_t narr, arr_cap;
  uint32_t *w, *h, *stamp;  /* per article: a prefix's merge */
  uint64_t *bits;           /* a bit per article (kept all zero between uses) */
  uint32_t *touched;
  size_t ntouched, touched_cap;
  uint32_t cur_stamp;
  double *K;                /* per article: k1 * (1 - b + b * dl / avgdl) */
  double nrow, avgdl;
  size_t ndoc;              /* articles + 1 */
  int ready;                /* 1 usable, -1 not (no tables, no lengths) */
  /* a phrase's tokens, decoded (load_phrase_positions): per token j, its
  ** articles pd[j][0, pn[j]), where each one's positions start in pv[j]
  ** (po[j][k] .. po[j][k + 1]) */
  uint32_t *pd[PH_MAXTOK], *po[PH_MAXTOK], *pv[PH_MAXTOK];
  size_t pn[PH_MAXTOK], pd_cap[PH_MAXTOK], po_cap[PH_MAXTOK], pv_cap[PH_MAXTOK];
};

void search_rank_mem_free(search_rank_mem *m)
{
  int j;
  if (!m) return;
  for (j = 0; j < PH_MAXTOK; j++) {
    ts_free(m->pd[j]);
    ts_free(m->po[j]);
    ts_free(m->pv[j]);
  }
  for (j = 0; j < RP_BLOBS; j++) {
    if (m->bh[j]) sqlite3_blob_close(m->bh[j]);
    ts_free(m->win[j]);
  }
  ts_buf_free(&m->blobs);
  ts_free(m->arr);
  ts_free(m->w);
  ts_free(m->h);
  ts_free(m->stamp);
  ts_free(m->bits);
  ts_free(m->touched);
  ts_free(m->K);
  ts_free(m);
}

static search_rank_mem *mem_get(kb_conn *c, search_state *s)
{
  search_rank_mem *m = s->rank;
  size_t i;
  uint64_t ntok = 0;
  if (m) return m->ready > 0 ? m : NULL;
  m = s->rank = ts_calloc(1, sizeof *m);
  if (!m) return NULL;
  m->ready = -1;
  if (!s->dl || s->ndl < 2) return NULL;
  for (i = 1; i < s->ndl; i++) {
    if (s->dl[i] == DL_UNKNOWN) return NULL;
    ntok += s->dl[i];
  }
  {   /* the tables are there (a KB of this format always has them) */
    sqlite3_stmt *st;
    if (search_stmt_get(c, ST_RTERM, sql_rterm, &st) != TSHOOT_OK) return NULL;
  }
  m->ndoc = s->ndl;
  m->nrow = (double)(s->ndl - 1);
  m->avgdl = (double)(sqlite3_int64)ntok / m->nrow;
  m->K = ts_malloc(m->ndoc * sizeof *m->K);
  m->w = ts_calloc(m->ndoc, sizeof *m->w);
  m->h = ts_calloc(m->ndoc, sizeof *m->h);
  m->stamp = ts_calloc(m->ndoc, sizeof *m->stamp);
  m->bits = ts_calloc((m->ndoc + 63) / 64, sizeof *m->bits);
  if (!m->K || !m->w || !m->h || !m->stamp || !m->bits) return NULL;
  for (i = 0; i < m->ndoc; i++) m->K[i] = k1 * (1 - b + b * (double)s->dl[i] / m->avgdl);
  m->ready = 1;
  return m;
}

static uint32_t next_stamp(search_rank_mem *m)
{
  if (++m->cur_stamp == 0) {
    memset(m->stamp, 0, m->ndoc * sizeof *m->stamp);
    m->cur_stamp = 1;
  }
  return m->cur_stamp;
}

static int cmp_u32(const void *a, const void *b2)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b2;
  return x < y ? -1 : x > y;
}

/* ===== terms and postings ===== */

#define RP_NOT_HERE 1   /* not a form this file ranks: use FTS5 */

/* One term's postings read in windows (rcur): its blob handle moved to the
** term's row, the list's head (count, block count, skip table) copied into
** m->blobs. RP_NOT_HERE for a damaged list (the FTS5 path then says so). */
static int load_windowed(kb_conn *c, search_rank_mem *m, rphrase *ph)
{
  int slot = m->nbh, rc, len, hl, k;
  sqlite3_blob **bh = &m->bh[slot];
  unsigned char head[20], chunk[1024];
  const unsigned char *p;
  uint32_t n, nblk, need;
  if (!m->win[slot] && !(m->win[slot] = ts_malloc(RCUR_WIN))) return ts_error_oom();
  rc = *bh ? sqlite3_blob_reopen(*bh, (sqlite3_int64)ph->id0)
           : sqlite3_blob_open(c->db, "main", "rank_post", "post", (sqlite3_int64)ph->id0, 0, bh);
  if (rc != SQLITE_OK) {
    if (*bh) sqlite3_blob_close(*bh);    /* a failed move leaves it unusable */
    *bh = NULL;
    if (c->timed_out) return ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
    return (rc & 0xff) == SQLITE_NOMEM ? ts_error_oom() : RP_NOT_HERE;
  }
  len = sqlite3_blob_bytes(*bh);
  hl = len < (int)sizeof head ? len : (int)sizeof head;
  if (sqlite3_blob_read(*bh, head, hl, 0) != SQLITE_OK) return RP_NOT_HERE;
  p = head;
  if (!(p = rd_varint(p, head + hl, &n)) || !(p = rd_varint(p, head + hl, &nblk)) ||
      nblk > (uint32_t)len / RANK_SKIP)
    return RP_NOT_HERE;
  need = (uint32_t)(p - head) + RANK_SKIP * nblk;
  if (need > (uint32_t)len) return RP_NOT_HERE;
  ph->blob = m->blobs.len;
  for (k = 0; (uint32_t)k < need; k += (int)sizeof chunk) {
    int part = need - (uint32_t)k < sizeof chunk ? (int)(need - (uint32_t)k) : (int)sizeof chunk;
    if (sqlite3_blob_read(*bh, chunk, part, k) != SQLITE_OK) return RP_NOT_HERE;
    ts_buf_add(&m->blobs, (const char *)chunk, (size_t)part);
  }
  if (m->blobs.oom) return ts_error_oom();
  ph->blen = need;
  ph->bslot = slot;
  ph->blob_len = (uint32_t)len;
  m->nbh++;
  return TSHOOT_OK;
}

/* The postings of ids [id0, id1] into rk->blobs (one term: its blob) or, for
** several, merged into rk->arr. */
static int load_phrase(kb_conn *c, search_rank_mem *m, rquery *q, int i)
{
  rphrase *ph = &q->p[i];
  sqlite3_stmt *st;
  int rc, nterm = 0;
  uint32_t stamp = 0;
  m->ntouched = 0;
  if (ph->id0 == ph->id1 && m->nbh < RP_BLOBS) return load_windowed(c, m, ph);
  rc = search_stmt_get(c, ST_RPOST, sql_rpost, &st);
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_int64(st, 1, ph->id0);
  sqlite3_bind_int64(st, 2, ph->id1);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *bl = sqlite3_column_blob(st, 1);
    size_t len = (size_t)sqlite3_column_bytes(st, 1);
    nterm++;
    if (ph->id0 == ph->id1) {        /* one term: keep its blob */
      ph->blob = m->blobs.len;
      ph->blen = len;
      ts_buf_add(&m->blobs, (const char *)bl, len);
      continue;
    }
    if (nterm == 1) stamp = next_stamp(m);
    {                               /* a prefix: add into the accumulators */
      rcur cu;
      cur_open(&cu, bl, len, NULL, 0, NULL);
      if (cu.bad) break;
      for (; !cu.eof; cur_next(&cu)) {
        if (cu.doc >= m->ndoc) { cu.bad = 1; break; }
        if (m->stamp[cu.doc] != stamp) {
          m->stamp[cu.doc] = stamp;
          m->w[cu.doc] = m->h[cu.doc] = 0;
          if (ts_grow((void **)&m->touched, &m->touched_cap, m->ntouched + 1,
                      sizeof *m->touched) < 0) {
            sqlite3_reset(st);
            return ts_error_oom();
          }
          m->touched[m->ntouched++] = cu.doc;
        }
        m->w[cu.doc] += cu.wtf;
        m->h[cu.doc] += cu.hwtf;
      }
      if (cu.bad) break;
    }
    if ((nterm & 63) == 0 && c->deadline_ns && kb_now_ns() > c->deadline_ns) {
      c->timed_out = 1;
      break;
    }
  }
  sqlite3_reset(st);
  if (c->timed_out) return ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
  if (rc != SQLITE_DONE) return rc == SQLITE_ROW ? RP_NOT_HERE : search_step_error(c, rc, "searching the KB");
  if (m->blobs.oom) return ts_error_oom();
  if (ph->id0 != ph->id1) {          /* the merged list, in article order */
    size_t k, n = 0;
    ph->merged = 1;
    ph->arr = m->narr;
    if (ts_grow((void **)&m->arr, &m->arr_cap, m->narr + 3 * m->ntouched + 3, sizeof *m->arr) < 0)
      return ts_error_oom();
    if (m->ntouched < 64) qsort(m->touched, m->ntouched, sizeof *m->touched, cmp_u32);
    else {                           /* in order: a bit per article, read off word by word */
      size_t nw = (m->ndoc + 63) / 64;
      for (k = 0; k < m->ntouched; k++)
        m->bits[m->touched[k] >> 6] |= (uint64_t)1 << (m->touched[k] & 63);
      n = 0;
      for (k = 0; k < nw; k++)
        while (m->bits[k]) {
          m->touched[n++] = (uint32_t)(k * 64 + (size_t)__builtin_ctzll(m->bits[k]));
          m->bits[k] &= m->bits[k] - 1;
        }
    }
    n = 0;
    for (k = 0; k < m->ntouched; k++) {
      uint32_t d = m->touched[k];
      m->arr[m->narr + 3 * n] = d;
      m->arr[m->narr + 3 * n + 1] = m->w[d];
      m->arr[m->narr + 3 * n + 2] = m->h[d];
      n++;
    }
    ph->narr = (uint32_t)n;
    m->narr += 3 * n;
    ph->df = 0;
    for (k = 0; k < n; k++)
      if (q->head ? m->arr[ph->arr + 3 * k + 2] != 0 : 1) ph->df++;
  }
  return TSHOOT_OK;
}

/* A token's term ids and article count: one term, or the range of terms
** that start with a prefix token. */
static int lookup_token(kb_conn *c, const rquery *q, rtok *t)
{
  sqlite3_stmt *st;
  int rc, first = 1;
  t->lo = 1;
  t->hi = 0;
  t->df = 0;
  if (!t->prefix) {
    rc = search_stmt_get(c, ST_RTERM, sql_rterm, &st);
    if (rc != TSHOOT_OK) return rc;
    sqlite3_bind_text(st, 1, t->t, t->len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      t->lo = t->hi = (uint32_t)sqlite3_column_int64(st, 0);
      t->df = sqlite3_column_int64(st, q->head ? 2 : 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return search_step_error(c, rc, "searching the KB");
    return TSHOOT_OK;
  }
  rc = search_stmt_get(c, ST_RPREFIX, sql_rprefix, &st);
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_text(st, 1, t->t, t->len, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *w = (const char *)sqlite3_column_text(st, 0);
    int wl = sqlite3_column_bytes(st, 0);
    uint32_t id = (uint32_t)sqlite3_column_int64(st, 1);
    if (!w || wl < t->len || memcmp(w, t->t, (size_t)t->len) != 0) break;
    if (first) {
      t->lo = id;
      t->df = sqlite3_column_int64(st, q->head ? 3 : 2);  /* kept if it is the only one */
    } else if (id != t->hi + 1) {
      sqlite3_reset(st);
      return RP_NOT_HERE;
    }
    t->hi = id;
    first = 0;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return search_step_error(c, rc, "searching the KB");
  return TSHOOT_OK;
}

/* Does the phrase of tokens t[0, n) start at the token `first`, whose
** followers in its column are at p (at least n - 1 of them)? */
static int phrase_at(const rtok *t, int n, uint32_t first, const unsigned char *p,
                     const unsigned char *end)
{
  int j;
  if (first < t[0].lo || first > t[0].hi) return 0;
  for (j = 1; j < n; j++, p += RANK_TOK_BYTES) {
    uint32_t v;
    if (end - p < RANK_TOK_BYTES) return 0;
    v = rank_tok_get(p);
    if (v < t[j].lo || v > t[j].hi) return 0;
  }
  return 1;
}

static const char sql_rdoc[] = "SELECT toks FROM rank_doc WHERE id = ?1";
static const char sql_rpos[] =
  "SELECT p.post, q.pos FROM rank_post AS p JOIN rank_pos AS q ON q.id = p.id WHERE p.id = ?1";

/* A phrase's matches in article d (weighted frequencies w, and h in the first
** three columns) onto its merged postings in m->arr, counted in its df when
** they are in the columns searched. -1 when out of memory. */
static int push_merged(search_rank_mem *m, const rquery *q, rphrase *ph, uint32_t d, uint32_t w,
                       uint32_t h)
{
  if (ts_grow((void **)&m->arr, &m->arr_cap, m->narr + 3, sizeof *m->arr) < 0) return -1;
  m->arr[m->narr++] = d;
  m->arr[m->narr++] = w;
  m->arr[m->narr++] = h;
  ph->narr++;
  if (!q->head || h != 0) ph->df++;
  return 0;
}

/* Token j's postings and positions, decoded into m->pd[j], po[j], pv[j]
** (positions absolute: col << 24 | offset). */
static int decode_positions(kb_conn *c, search_rank_mem *m, int j, uint32_t id)
{
  sqlite3_stmt *st;
  int rc = search_stmt_get(c, ST_RPOS, sql_rpos, &st), bad = 0;
  size_t n = 0, nv = 0;
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rcur cu;
    const unsigned char *p = sqlite3_column_blob(st, 1), *end;
    end = p + sqlite3_column_bytes(st, 1);
    cur_open(&cu, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), NULL, 0, NULL);
    for (; !cu.bad && !cu.eof && !bad; cur_next(&cu)) {
      uint32_t k, np, v = 0, dv;
      if (!p || !(p = rd_id(p, end, &np)) || np > (uint32_t)(end - p)) { bad = 1; break; }
      if (ts_grow((void **)&m->pd[j], &m->pd_cap[j], n + 1, sizeof *m->pd[j]) < 0 ||
          ts_grow((void **)&m->po[j], &m->po_cap[j], n + 2, sizeof *m->po[j]) < 0 ||
          ts_grow((void **)&m->pv[j], &m->pv_cap[j], nv + np, sizeof *m->pv[j]) < 0) {
        sqlite3_reset(st);
        return ts_error_oom();
      }
      m->pd[j][n] = cu.doc;
      m->po[j][n] = (uint32_t)nv;
      for (k = 0; k < np; k++) {
        if (!(p = rd_id(p, end, &dv))) { bad = 1; break; }
        v += dv;
        m->pv[j][nv++] = v;
      }
      n++;
    }
    if (cu.bad) bad = 1;
    if (m->po[j]) m->po[j][n] = (uint32_t)nv;
    rc = bad ? RP_NOT_HERE : TSHOOT_OK;
  } else {
    rc = rc == SQLITE_DONE ? RP_NOT_HERE : search_step_error(c, rc, "searching the KB");
  }
  sqlite3_reset(st);
  m->pn[j] = n;
  return rc;
}

/* A phrase of one-term tokens, matched on their positions: the articles that
** hold every token, and in each the places where they follow each other. */
static int load_phrase_positions(kb_conn *c, search_rank_mem *m, rquery *q, int i)
{
  rphrase *ph = &q->p[i];
  const rtok *t = &q->tok[ph->t0];
  size_t at[PH_MAXTOK], k;
  int j, rc;
  for (j = 0; j < ph->ntok; j++) {
    rc = decode_positions(c, m, j, t[j].lo);
    if (rc != TSHOOT_OK) return rc;
    at[j] = 0;
  }
  ph->merged = 1;
  ph->arr = m->narr;
  ph->narr = 0;
  ph->df = 0;
  for (k = 0; k < m->pn[0]; k++) {
    uint32_t d = m->pd[0][k], w = 0, h = 0, a;
    size_t pp[PH_MAXTOK];
    int all = 1;
    for (j = 1; j < ph->ntok && all; j++) {
      while (at[j] < m->pn[j] && m->pd[j][at[j]] < d) at[j]++;
      all = at[j] < m->pn[j] && m->pd[j][at[j]] == d;
    }
    if (!all) continue;
    for (j = 1; j < ph->ntok; j++) pp[j] = m->po[j][at[j]];
    for (a = m->po[0][k]; a < m->po[0][k + 1]; a++) {
      uint32_t v = m->pv[0][a];
      int ok = 1;
      for (j = 1; j < ph->ntok && ok; j++) {
        uint32_t want = v + (uint32_t)j, e = m->po[j][at[j] + 1];
        while (pp[j] < e && m->pv[j][pp[j]] < want) pp[j]++;
        ok = pp[j] < e && m->pv[j][pp[j]] == want && (want >> 24) == (v >> 24);
      }
      if (ok && (v >> 24) < TS_FTS_NCOLS) {
        w += wcol[v >> 24];
        if ((v >> 24) < HEAD_COLS) h += wcol[v >> 24];
      }
    }
    if (w == 0) continue;
    if (d >= m->ndoc) return RP_NOT_HERE;
    if (push_merged(m, q, ph, d, w, h) < 0) return ts_error_oom();
  }
  return TSHOOT_OK;
}

/* Articles walked to count a phrase of several words: the ones that hold its
** rarest word. Beyond this many, FTS5's own phrase matching is used. */
#define PHRASE_MAX_WALK 300

/* A phrase of several tokens: the articles that hold its rarest one-term
** token, each read (rank_doc) for the phrase's matches; its postings merged
** into m->arr as (article, wtf, hwtf), with its count. */
static int load_multi(kb_conn *c, search_rank_mem *m, rquery *q, int i)
{
  rphrase *ph = &q->p[i];
  const rtok *t = &q->tok[ph->t0];
  sqlite3_stmt *sp, *sd;
  int k, drive = -1, rc;
  size_t walked = 0;
  ph->merged = 1;
  ph->arr = m->narr;
  ph->narr = 0;
  ph->df = 0;
  for (k = 0; k < ph->ntok; k++) {
    if (t[k].hi < t[k].lo) return TSHOOT_OK;            /* a token no article holds */
    if (t[k].lo == t[k].hi && !t[k].prefix && (drive < 0 || t[k].df < t[drive].df)) drive = k;
  }
  {                                      /* one term a token: by positions */
    int one = ph->ntok <= PH_MAXTOK;
    for (k = 0; k < ph->ntok && one; k++) one = t[k].lo == t[k].hi;
    if (one) return load_phrase_positions(c, m, q, i);
  }
  if (drive < 0 || t[drive].df > PHRASE_MAX_WALK) return RP_NOT_HERE;
  rc = search_stmt_get(c, ST_RPOST, sql_rpost, &sp);
  if (rc == TSHOOT_OK) rc = search_stmt_get(c, ST_RDOC, sql_rdoc, &sd);
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_int64(sp, 1, t[drive].lo);
  sqlite3_bind_int64(sp, 2, t[drive].lo);
  rc = sqlite3_step(sp);
  if (rc == SQLITE_ROW) {
    rcur cu;
    cur_open(&cu, sqlite3_column_blob(sp, 1), (size_t)sqlite3_column_bytes(sp, 1), NULL, 0, NULL);
    rc = cu.bad ? RP_NOT_HERE : TSHOOT_OK;
    for (; rc == TSHOOT_OK && !cu.eof; cur_next(&cu)) {
      const unsigned char *p, *end;
      uint32_t w = 0, h = 0;
      int col, src;
      if (cu.doc >= m->ndoc) { rc = RP_NOT_HERE; break; }
      if ((++walked & 63) == 0 && out_of_time(c)) {
        rc = ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
        break;
      }
      sqlite3_bind_int64(sd, 1, cu.doc);
      src = sqlite3_step(sd);
      if (src != SQLITE_ROW) {
        sqlite3_reset(sd);
        rc = src == SQLITE_DONE ? RP_NOT_HERE : search_step_error(c, src, "searching the KB");
        break;
      }
      p = sqlite3_column_blob(sd, 0);
      end = p + sqlite3_column_bytes(sd, 0);
      for (col = 0; p && col < TS_FTS_NCOLS; col++) {
        uint32_t n, x, v;
        if (!(p = rd_varint(p, end, &n))) break;
        if ((size_t)(end - p) / RANK_TOK_BYTES < n) { p = NULL; break; }
        for (x = 0; x < n; x++) {
          v = rank_tok_get(p);
          p += RANK_TOK_BYTES;
          if (x + (uint32_t)ph->ntok <= n && phrase_at(t, ph->ntok, v, p, end)) {
            w += wcol[col];
            if (col < HEAD_COLS) h += wcol[col];
          }
        }
      }
      sqlite3_reset(sd);
      if (!p) { rc = RP_NOT_HERE; break; }
      if (w == 0) continue;
      if (push_merged(m, q, ph, cu.doc, w, h) < 0) {
        rc = ts_error_oom();
        break;
      }
    }
    if (rc == TSHOOT_OK && cu.bad) rc = RP_NOT_HERE;
  } else if (rc == SQLITE_DONE) {
    rc = RP_NOT_HERE;                                    /* damaged: a term without postings */
  } else {
    rc = search_step_error(c, rc, "searching the KB");
  }
  sqlite3_reset(sp);
  return rc;
}

/* Look up each phrase's term(s), count and load. */
static int load_query(kb_conn *c, search_rank_mem *m, rquery *q)
{
  int i, k, rc;
  ts_buf_reset(&m->blobs);
  m->narr = 0;
  m->nbh = 0;
  for (i = 0; i < q->np; i++) {
    rphrase *ph = &q->p[i];
    ph->bslot = -1;
    ph->id0 = 1;
    ph->id1 = 0;
    ph->df = 0;
    ph->merged = 0;
    ph->narr = 0;
    ph->blen = 0;
    for (k = ph->t0; k < ph->t0 + ph->ntok; k++) {
      rc = lookup_token(c, q, &q->tok[k]);
      if (rc != TSHOOT_OK) return rc;
    }
    if (ph->ntok > 1) {
      rc = load_multi(c, m, q, i);
      if (rc != TSHOOT_OK) return rc;
      goto idf;
    }
    ph->id0 = q->tok[ph->t0].lo;
    ph->id1 = q->tok[ph->t0].hi;
    ph->df = q->tok[ph->t0].df;
    if (ph->id1 >= ph->id0) {
      rc = load_phrase(c, m, q, i);
      if (rc != TSHOOT_OK) return rc;
      if (ph->id0 == ph->id1 && ph->blen == 0) return RP_NOT_HERE;  /* damaged */
    }
  idf:
    {
      double idf = log((m->nrow - (double)ph->df + 0.5) / ((double)ph->df + 0.5));
      if (idf <= 0.0) idf = 1e-6;
      ph->idf = idf;
    }
  }
  for (i = 0; i < q->np; i++) {      /* cursors, once every blob is in place */
    rphrase *ph = &q->p[i];
    if (ph->merged) cur_open_array(&ph->cur, m->arr + ph->arr, ph->narr);
    else if (ph->id1 >= ph->id0)
      cur_open(&ph->cur, (const unsigned char *)m->blobs.p + ph->blob, ph->blen,
               ph->bslot >= 0 ? m->bh[ph->bslot] : NULL, ph->blob_len,
               ph->bslot >= 0 ? m->win[ph->bslot] : NULL);
    else {
      memset(&ph->cur, 0, sizeof ph->cur);
      ph->cur.eof = 1;
    }
    if (ph->cur.bad) return RP_NOT_HERE;
  }
  return TSHOOT_OK;
}

/* ===== the best `limit`: a heap with the worst on top ===== */

static int worse(const search_hit *a, const search_hit *x)
{
  return a->score < x->score || (a->score == x->score && a->id > x->id);
}

static void top_add(search_hit *h, size_t *n, int limit, sqlite3_int64 id, double score)
{
  search_hit e;
  size_t i;
  e.id = id;
  e.score = score;
  if (*n < (size_t)limit) {
    i = (*n)++;
    while (i > 0 && worse(&e, &h[(i - 1) / 2])) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
    h[i] = e;
    return;
  }
  if (!worse(&h[0], &e)) return;
  i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const search_hit *at = &e;
    if (l < *n && worse(&h[l], at)) { m = l; at = &h[l]; }
    if (r < *n && worse(&h[r], at)) m = r;
    if (m == i) break;
    h[i] = h[m];
    i = m;
  }
  h[i] = e;
}

static int cmp_hit(const void *a, const void *b2)
{
  const search_hit *x = a, *y = b2;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}


/* FTS5's bm25 sum for article d, given each phrase's weighted frequency. */
static double bm25(const rquery *q, const search_rank_mem *m, uint32_t d, const double *freq)
{
  double score = 0.0, K = m->K[d];
  int i;
  for (i = 0; i < q->np; i++)
    score += q->p[i].idf * part(freq[i], K);
  return score;
}

/* AND of groups (each a phrase or an OR of phrases): walk the group with the
** fewest articles, jump through the others. */
static int rank_and(kb_conn *c, search_rank_mem *m, rquery *q, int limit, search_hit *top,
                    size_t *ntop)
{
  sqlite3_int64 gdf[RP_MAX];
  double freq[RP_MAX], ub[RP_MAX], rest = 0.0;
  int g, i, drive = 0, one = -1;
  unsigned long steps = 0;
  for (g = 0; g < q->ngroup; g++) { gdf[g] = 0; ub[g] = 0.0; }
  for (i = 0; i < q->np; i++) gdf[q->p[i].group] += q->p[i].df;
  for (g = 0; g < q->ngroup; g++) {
    if (gdf[g] == 0) return TSHOOT_OK;   /* a group no article holds */
    if (gdf[g] < gdf[drive]) drive = g;
  }
  /* Bounds (block-max): what a group can add at most, idf times the
  ** largest frequency part of its postings, rounded up. Once the best
  ** `limit` are found, an article whose bound cannot beat the worst of them
  ** (a later article loses a tie: higher ids rank after) is not scored, and
  ** a block of the driving word is skipped whole. */
  for (i = 0; i < q->np; i++) {
    double v = slack(q->p[i].idf * cur_global_max(&q->p[i].cur, 0));
    if (v > ub[q->p[i].group]) ub[q->p[i].group] = v;
    if (q->p[i].group == drive) one = one == -1 ? i : -2;
  }
  for (g = 0; g < q->ngroup; g++)
    if (g != drive) rest += ub[g];
  for (;;) {
    uint32_t d = UINT32_MAX;
    int ok = 1;
    if (one >= 0 && *ntop == (size_t)limit && !q->p[one].cur.eof && !q->p[one].cur.arr) {
      rcur *dc = &q->p[one].cur;   /* a block of the driving word that cannot reach the top */
      while (!dc->eof && slack(slack(q->p[one].idf * cur_block_max(dc, 0)) + rest) < top[0].score) {
        if (dc->blk + 1 >= dc->nblk) { dc->eof = 1; break; }
        cur_block(dc, dc->blk + 1);
        if (!dc->eof) cur_next(dc);
      }
    }
    for (i = 0; i < q->np; i++)          /* the driving group's next article */
      if (q->p[i].group == drive && !q->p[i].cur.eof && q->p[i].cur.doc < d) d = q->p[i].cur.doc;
    if (d == UINT32_MAX) break;
    if (d >= m->ndoc) return RP_NOT_HERE;
    if (*ntop == (size_t)limit) {        /* its bound: the driver's exact part and the rest */
      double bound = rest;
      for (i = 0; i < q->np; i++)
        if (q->p[i].group == drive && !q->p[i].cur.eof && q->p[i].cur.doc == d) {
          double fr = (double)q->p[i].cur.wtf;
          bound += q->p[i].idf * part(fr, m->K[d]);
        }
      if (slack(bound) < top[0].score) ok = 0;
    }
    for (g = 0; g < q->ngroup && ok; g++) {
      int hit = 0;
      if (g == drive) continue;
      for (i = 0; i < q->np; i++)
        if (q->p[i].group == g) {
          cur_seek(&q->p[i].cur, d);
          if (!q->p[i].cur.eof && q->p[i].cur.doc == d) hit = 1;
        }
      ok = hit;
    }
    if (ok) {
      for (i = 0; i < q->np; i++)
        freq[i] = !q->p[i].cur.eof && q->p[i].cur.doc == d ? (double)q->p[i].cur.wtf : 0.0;
      top_add(top, ntop, limit, d, bm25(q, m, d, freq));
    }
    for (i = 0; i < q->np; i++)
      if (q->p[i].group == drive && !q->p[i].cur.eof && q->p[i].cur.doc == d) cur_next(&q->p[i].cur);
    if ((++steps & 1023) == 0 && out_of_time(c))
      return ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
  }
  for (i = 0; i < q->np; i++)
    if (q->p[i].cur.bad) return RP_NOT_HERE;
  return TSHOOT_OK;
}

/* OR of phrases, article by article (MaxScore): the phrases whose bounds
** (idf x their largest frequency part) together cannot lift an article to
** the worst of the best `limit` found so far are "non-essential": an article
** only they hold cannot enter, so only the other phrases' articles are
** visited, and the non-essential ones are sought for those. Each article
** that may enter is scored by bm25() over every phrase in order: the same
** sum FTS5 makes. Head (the fallback's first pass): frequencies in the first
** three columns only; a posting with none there does not count. */
static int rank_or_maxscore(kb_conn *c, search_rank_mem *m, rquery *q, int limit,
                            search_hit *top, size_t *ntop)
{
  double ub[RP_MAX], cum[RP_MAX + 1], freq[RP_MAX];
  int idx[RP_MAX], i, j, ne = 0, np = q->np;
  unsigned long steps = 0;
  for (i = 0; i < np; i++) {
    double g = cur_global_max(&q->p[i].cur, q->head);
    ub[i] = g == HUGE_VAL ? HUGE_VAL : slack(q->p[i].idf * g);
    idx[i] = i;
  }
  for (i = 1; i < np; i++)               /* by bound, smallest first */
    for (j = i; j > 0 && ub[idx[j]] < ub[idx[j - 1]]; j--) {
      int t = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = t;
    }
  cum[0] = 0.0;
  for (i = 0; i < np; i++) cum[i + 1] = cum[i] + ub[idx[i]];
  for (;;) {
    uint32_t d = UINT32_MAX;
    double upper;
    int any = 0;
    if (*ntop == (size_t)limit)          /* more phrases become non-essential */
      while (ne < np && slack(cum[ne + 1]) < top[0].score) ne++;
    for (i = ne; i < np; i++) {           /* the essential phrases' next article */
      rcur *cu = &q->p[idx[i]].cur;
      if (q->head)
        while (!cu->eof && cu->hwtf == 0) cur_next(cu);
      if (!cu->eof && cu->doc < d) d = cu->doc;
    }
    if (d == UINT32_MAX) break;
    if (d >= m->ndoc) return RP_NOT_HERE;
    upper = cum[ne];
    for (i = ne; i < np; i++) {
      const rcur *cu = &q->p[idx[i]].cur;
      if (!cu->eof && cu->doc == d) {
        double fr = (double)(q->head ? cu->hwtf : cu->wtf);
        upper += q->p[idx[i]].idf * part(fr, m->K[d]);
      }
    }
    if (*ntop < (size_t)limit || slack(upper) >= top[0].score) {
      for (i = 0; i < ne; i++) cur_seek(&q->p[idx[i]].cur, d);
      for (i = 0; i < np; i++) {
        const rcur *cu = &q->p[i].cur;
        uint32_t f = !cu->eof && cu->doc == d ? (q->head ? cu->hwtf : cu->wtf) : 0;
        freq[i] = (double)f;
        if (f) any = 1;
      }
      if (any) top_add(top, ntop, limit, d, bm25(q, m, d, freq));
    }
    for (i = ne; i < np; i++) {
      rcur *cu = &q->p[idx[i]].cur;
      if (!cu->eof && cu->doc == d) cur_next(cu);
    }
    if ((++steps & 1023) == 0 && out_of_time(c))
      return ts_error(TSHOOT_ETIMEOUT, "search: ran past its time budget");
  }
  for (i = 0; i < np; i++)
    if (q->p[i].cur.bad) return RP_NOT_HERE;
  return TSHOOT_OK;
}

/* ===== where each returned article's passage is ===== */

/* The byte offset of the last checkpoint at or before token `start` of
** column `col` (rank_doc.toks' second part, at p), and its token. */
static void checkpoint(const unsigned char *p, const unsigned char *end, const int *colsize,
                       int col, int start, int *from, int *tok0)
{
  uint32_t v, off = 0;
  int k, c, want = start / RANK_CHECKPOINT;
  *from = *tok0 = 0;
  for (c = 0; c < col; c++)
    for (k = (colsize[c] + RANK_CHECKPOINT - 1) / RANK_CHECKPOINT; k > 0; k--)
      if (!(p = rd_varint(p, end, &v))) return;
  for (k = 0; k <= want; k++) {
    if (!(p = rd_varint(p, end, &v)) || v > 0x7fffffff - off) return;
    off += v;
  }
  *from = (int)off;
  *tok0 = want * RANK_CHECKPOINT;
}

sqlite3_int64 search_postings_where(const search_state *s, const void *toks, int len, int tokens,
                                    int *from, int *tok0)
{
  const rquery *q = s->rq;
  int ninst = 0, col, colsize[TS_FTS_NCOLS];
  int ip[SEARCH_HITS_MAX], ic[SEARCH_HITS_MAX], io[SEARCH_HITS_MAX];
  const unsigned char *p = toks, *end = p + (len > 0 ? len : 0);
  sqlite3_int64 where;
  *from = *tok0 = 0;
  if (!q || !p) return -1;
  uint64_t first[16];
  memcpy(first, q->first, sizeof first);
  for (col = 0; col < TS_FTS_NCOLS; col++) {
    uint32_t n, k, t;
    if (!(p = rd_varint(p, end, &n))) return -1;
    colsize[col] = (int)(n > 0x7fffffff ? 0x7fffffff : n);
    if ((size_t)(end - p) / RANK_TOK_BYTES < n) return -1;
    if ((q->head && col >= HEAD_COLS) || ninst >= SEARCH_HITS_MAX) {
      p += (size_t)n * RANK_TOK_BYTES;          /* no instance here: past its ids */
      continue;
    }
    for (k = 0; k < n; k++) {
      int i;
      t = rank_tok_get(p);
      p += RANK_TOK_BYTES;
      if (!(first[(t >> 6) & 15] >> (t & 63) & 1) || ninst >= SEARCH_HITS_MAX) continue;
      for (i = 0; i < q->np && ninst < SEARCH_HITS_MAX; i++)
        if (q->p[i].ntok > 1 ? k + (uint32_t)q->p[i].ntok <= n &&
                                   phrase_at(&q->tok[q->p[i].t0], q->p[i].ntok, t, p, end)
                             : t >= q->p[i].id0 && t <= q->p[i].id1) {
          ip[ninst] = i;
          ic[ninst] = col;
          io[ninst] = (int)k;
          ninst++;
        }
    }
  }
  where = search_pick_window(ip, ic, io, ninst, q->np, tokens, colsize);
  if (where >= 0)
    checkpoint(p, end, colsize, SEARCH_WHERE_COL(where), SEARCH_WHERE_START(where), from, tok0);
  return where;
}

static _Atomic unsigned long ranked;

unsigned long search_postings_ranked(void) { return ranked; }

int search_postings_rank(kb_conn *c, search_state *s, const char *query, int limit,
                         search_hit **hits, size_t *n_out)
{
  search_rank_mem *m;
  rquery *q;
  size_t n = 0;
  int rc;
  *n_out = 0;
  if (!(m = mem_get(c, s))) return s->rank ? RP_NOT_HERE : ts_error_oom();
  if (!s->rq && !(s->rq = ts_malloc(sizeof(rquery)))) return ts_error_oom();
  q = s->rq;
  if (!parse_query(s, q, query)) return RP_NOT_HERE;
  if (ts_grow((void **)&s->hits, &s->hits_cap, (size_t)limit, sizeof *s->hits) < 0)
    return ts_error_oom();
  rc = load_query(c, m, q);
  if (rc == TSHOOT_OK) {             /* the filter of search_postings_where */
    int i;
    memset(q->first, 0, sizeof q->first);
    for (i = 0; i < q->np; i++) {
      const rphrase *ph = &q->p[i];
      uint32_t lo = ph->ntok > 1 ? q->tok[ph->t0].lo : ph->id0;
      uint32_t hi = ph->ntok > 1 ? q->tok[ph->t0].hi : ph->id1, j;
      if (hi < lo) continue;                 /* a phrase no article holds */
      if (hi - lo >= 1023) memset(q->first, 0xff, sizeof q->first);
      else
        for (j = 0; j <= hi - lo; j++)
          q->first[((lo + j) >> 6) & 15] |= (uint64_t)1 << ((lo + j) & 63);
    }
  }
  if (rc == TSHOOT_OK) rc = q->or_form ? rank_or_maxscore(c, m, q, limit, s->hits, &n)
                                       : rank_and(c, m, q, limit, s->hits, &n);
  if (rc != TSHOOT_OK) return rc;
  qsort(s->hits, n, sizeof *s->hits, cmp_hit);
  *hits = s->hits;
  *n_out = n;
  ranked++;
  return TSHOOT_OK;
}
