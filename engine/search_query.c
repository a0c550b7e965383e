/*
** search_query.c: what a person types -> a safe FTS5 query (the plan).
** Ranking and passages are in search_rank.c; tshoot_search() in search.c
** runs the steps below in turn.
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
**  3. Dropping. A one-word term that is a stop word (text_is_stopword: the
**     one list, with the doesn, didn, wasn... that n't contractions leave) or
**     a single byte is dropped; inside a phrase every word is kept. At most
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
*/
#include "search_int.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

static const char sql_vocab[] = "SELECT word, n FROM vocab WHERE word >= ?1 ORDER BY word LIMIT 2";
static const char sql_stem[] = "SELECT rowid FROM article_fts WHERE article_fts MATCH ?1 LIMIT 1";
static const char sql_cands[] = "SELECT word, n FROM vocab WHERE word >= ?1 AND word < ?2";
static const char sql_syn[] = "SELECT term, grp FROM synonym ORDER BY term, grp LIMIT 65536";

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

int search_syn_load(kb_conn *c, search_state *s)
{
  sqlite3_stmt *st;
  ts_buf arena = TS_BUF_INIT;
  size_t n = 0, cap = 0, i;
  syn_entry *e = NULL;
  int rc = search_stmt_get(c, ST_SYN, sql_syn, &st);
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
    return search_step_error(c, rc, "reading the KB's synonyms");
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

static int is_joiner(unsigned char ch)
{
  return ch == '.' || ch == '-' || ch == '_' || ch == '/' || ch == '\\';
}

void search_plan_words(splan *p, const char *text, size_t len)
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
void search_plan_terms(splan *p, const search_state *s)
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
            (p->w[w0].len == 1 || text_is_stopword(p->w[w0].fold, p->w[w0].len)))
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
    if (w1 - w0 == 1 && (p->w[w0].len == 1 || text_is_stopword(p->w[w0].fold, p->w[w0].len)))
      continue;
    t->w0 = w0;
    t->w1 = w1;
    p->nt++;
  }
}

/* Should the last term be a prefix, judging by length only? */
void search_plan_prefix(splan *p, unsigned int flags)
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
  int rc = search_stmt_get(c, ST_VOCAB, sql_vocab, &st);
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
  return rc == SQLITE_DONE ? TSHOOT_OK : search_step_error(c, rc, "searching the KB vocabulary");
}

/* Is folded word w in the index after stemming (an inflection of a KB word)? */
static int stem_indexed(kb_conn *c, const char *w, int *found)
{
  sqlite3_stmt *st;
  char q[TEXT_MAX_WORD + 3];
  size_t wl = strlen(w);
  int rc = search_stmt_get(c, ST_STEM, sql_stem, &st);
  *found = 0;
  if (rc != TSHOOT_OK) return rc;
  q[0] = '"';
  memcpy(q + 1, w, wl); /* words hold no '"' */
  q[wl + 1] = '"';
  sqlite3_bind_text(st, 1, q, (int)wl + 2, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) { *found = 1; rc = SQLITE_DONE; }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TSHOOT_OK : search_step_error(c, rc, "searching the KB index");
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
  rc = search_stmt_get(c, ST_CANDS, sql_cands, &st);
  if (rc != TSHOOT_OK) return rc;
  sqlite3_bind_text(st, 1, lo_s, 1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, hi_s, 1, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    size_t vl = (size_t)sqlite3_column_bytes(st, 0);
    sqlite3_int64 n = sqlite3_column_int64(st, 1);
    int d, comp;
    if (!v || vl < 2 || vl > TEXT_MAX_WORD || (vl > wl ? vl - wl : wl - vl) > 2) continue;
    if (text_is_stopword(v, vl) || memchr(v, '"', vl) || strlen(v) != vl) continue;
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
  if (rc != SQLITE_DONE) { out[0] = '\0'; return search_step_error(c, rc, "correcting spelling"); }
  return TSHOOT_OK;
}

/* Vocabulary, spelling and the prefix rule for every word of every term. */
int search_plan_spell(splan *p, kb_conn *c, const search_state *s, unsigned int flags)
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
      if (w->len == 1 || text_is_stopword(w->fold, w->len) || w->digit) continue;
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

char *search_write_query(const splan *p, int or_form)
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

char *search_write_suggestion(const splan *p, const char *text, size_t len)
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
  search_plan_words(p, text ? text : "", len);
  search_plan_terms(p, NULL);
  search_plan_prefix(p, flags);
  q = search_write_query(p, 0);
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
  s = search_state_get(c);
  if (!s) return ts_error_oom();
  if (!s->syn_loaded) {
    rc = search_syn_load(c, s);
    if (rc != TSHOOT_OK) return rc;
  }
  p = ts_malloc(sizeof *p);
  if (!p) return ts_error_oom();
  p->any_fix = 0;
  p->articles = 0;
  search_plan_words(p, text ? text : "", len);
  search_plan_terms(p, s);
  search_plan_prefix(p, flags);
  rc = search_plan_spell(p, c, s, flags);
  if (rc == TSHOOT_OK) {
    *query = search_write_query(p, 0);
    if (p->nt >= 2) *or_query = search_write_query(p, 1);
    if (p->any_fix) *suggestion = search_write_suggestion(p, text ? text : "", len);
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
