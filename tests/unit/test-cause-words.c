/*
** test-cause-words.c: the causes' words (cause_term, kb_cause_words.c) give
** every cause the score FTS5's bm25 gave it over cause_fts, the second FTS5
** index of KB formats up to 5, to the same double.
**
** The reference is built here on its own: each cause's five columns put
** together by SQL from the KB's model tables (the rule kb_write.c's
** cause_texts follows: title; explanation; the article's symptoms that name
** the cause or no cause; its aliases; the prompt of each yes/no question and
** the label of each choice its evidence makes at least even odds), inserted
** into a contentless FTS5 table declared as cause_fts was, whose terms and
** document counts (fts5vocab) must be cause_term's. Then descriptions of 1
** to 5 of the KB's words (distinct stems: cause_fts counted a stem twice when
** two words made it) are scored by search_cause_scores and by bm25 with
** TS_CAUSE_WEIGHTS over the OR of the words, and every cause's score must be
** equal. On the shipped KB and on a synthetic one (bench/synth.c).
**
** Then what changed on purpose: a word with a curly apostrophe counts as its
** first part ("Outlook’s" as "outlook"); and a damaged list is ECORRUPT.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "kb.h"
#include "kb_schema.h"
#include "search.h"
#include "text.h"
#include "synth.h"
#include "test.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* each cause's columns, as cause_texts joins them ("" for none) */
static const char cause_cols_sql[] =
  "SELECT c.id, c.title, c.explanation,"
  " coalesce((SELECT group_concat(s.text, char(10)) FROM k.symptom s WHERE s.article = c.article"
  "   AND (s.causes IS NULL OR instr(' ' || s.causes || ' ', ' ' || c.name || ' ') > 0)), ''),"
  " coalesce((SELECT group_concat(a.text, char(10)) FROM k.cause_alias a WHERE a.cause = c.id), ''),"
  " coalesce((SELECT group_concat(t, char(10)) FROM ("
  "   SELECT q.prompt AS t, e.pos AS p FROM k.evidence e JOIN k.question q ON q.name = e.question"
  "    WHERE e.cause = c.id AND e.kind = 'answer' AND e.p >= 0.5 AND q.type = 'yesno' AND e.value = 'yes'"
  "   UNION ALL"
  "   SELECT ch.label, e.pos FROM k.evidence e JOIN k.question q ON q.name = e.question"
  "    JOIN k.choice ch ON ch.question = q.id AND ch.value = e.value"
  "    WHERE e.cause = c.id AND e.kind = 'answer' AND e.p >= 0.5 AND q.type <> 'yesno')), '')"
  " FROM k.cause c ORDER BY c.id";

typedef struct ref {
  sqlite3 *db;                   /* :memory:, the KB attached as k */
  fts5_tokenizer api;
  Fts5Tokenizer *tok;
  char **words;                  /* the KB's plain words, to make descriptions of */
  size_t nwords;
  size_t causes;
} ref;

typedef struct stem {
  char t[TEXT_MAX_WORD + 1];
  int n;
} stem;

static int stem_cb(void *ctx, int flags, const char *t, int nt, int b0, int b1)
{
  stem *s = ctx;
  (void)flags;
  (void)b0;
  (void)b1;
  if (s->n == 0 && nt > 0 && nt <= TEXT_MAX_WORD) memcpy(s->t, t, (size_t)nt), s->t[nt] = '\0';
  s->n++;
  return SQLITE_OK;
}

/* The reference index over kbp's causes, and the words to ask with. */
static int ref_open(ref *r, const char *kbp)
{
  const char *args[] = { "unicode61", "remove_diacritics", "2" };
  char sql[800];
  sqlite3_stmt *st = NULL, *ins = NULL;
  fts5_api *api = NULL;
  void *ud = NULL;
  size_t cap = 0;
  int i;
  memset(r, 0, sizeof *r);
  CHECK_INT(sqlite3_open(":memory:", &r->db), SQLITE_OK);
  snprintf(sql, sizeof sql, "ATTACH '%s' AS k", kbp);
  CHECK_INT(sqlite3_exec(r->db, sql, NULL, NULL, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_exec(r->db, "CREATE VIRTUAL TABLE ref USING fts5(title, explanation, symptoms, aliases,"
                                " answers, content='', tokenize='" TS_FTS_TOKENIZE "');"
                                " CREATE VIRTUAL TABLE temp.refv USING fts5vocab(main, ref, 'row')",
                         NULL, NULL, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(r->db, cause_cols_sql, -1, &st, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(r->db, "INSERT INTO ref(rowid, title, explanation, symptoms, aliases, answers)"
                                      " VALUES(?, ?, ?, ?, ?, ?)", -1, &ins, NULL), SQLITE_OK);
  while (st && ins && sqlite3_step(st) == SQLITE_ROW) {
    for (i = 0; i < 6; i++) sqlite3_bind_value(ins, i + 1, sqlite3_column_value(st, i));
    CHECK_INT(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
    r->causes++;
  }
  sqlite3_finalize(st);
  sqlite3_finalize(ins);
  CHECK_INT(kb_fts5_api(r->db, &api), SQLITE_OK);
  if (!api) return -1;
  CHECK_INT(api->xFindTokenizer(api, "porter", &ud, &r->api), SQLITE_OK);
  CHECK_INT(r->api.xCreate(ud, args, 3, &r->tok), SQLITE_OK);
  /* words of letters and digits only: one token each, as cause_fts took them */
  CHECK_INT(sqlite3_prepare_v2(r->db, "SELECT word FROM k.vocab ORDER BY n DESC, word", -1, &st, NULL), SQLITE_OK);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const char *w = (const char *)sqlite3_column_text(st, 0);
    size_t n = strlen(w), j;
    for (j = 0; j < n && ((w[j] >= 'a' && w[j] <= 'z') || (w[j] >= '0' && w[j] <= '9')); j++) {}
    if (j < n || n < 2 || n > TEXT_MAX_WORD || text_is_stopword(w, n)) continue;
    if (ts_grow((void **)&r->words, &cap, r->nwords + 1, sizeof *r->words) != 0) break;
    r->words[r->nwords++] = strdup(w);
  }
  sqlite3_finalize(st);
  return r->tok && r->nwords > 0 ? 0 : -1;
}

static void ref_close(ref *r)
{
  size_t i;
  if (r->tok) r->api.xDelete(r->tok);
  sqlite3_close(r->db);
  for (i = 0; i < r->nwords; i++) free(r->words[i]);
  free(r->words);
}

/* cause_term has FTS5's terms, each in as many causes as FTS5 says. */
static void same_terms(ref *r)
{
  sqlite3_stmt *st = NULL;
  int n = 0, rows = -1;
  CHECK_INT(sqlite3_prepare_v2(r->db, "SELECT count(*), sum(v.doc = t.df) FROM temp.refv v"
                                      " JOIN k.cause_term t ON t.term = v.term", -1, &st, NULL), SQLITE_OK);
  if (st && sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 1), rows = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  CHECK_INT(rows, n);
  CHECK_INT(sqlite3_prepare_v2(r->db, "SELECT (SELECT count(*) FROM temp.refv), (SELECT count(*) FROM k.cause_term)",
                               -1, &st, NULL), SQLITE_OK);
  if (st && sqlite3_step(st) == SQLITE_ROW) {
    CHECK_INT(sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
    CHECK_INT(sqlite3_column_int(st, 0), rows);
    CHECK(rows > 20);
  }
  sqlite3_finalize(st);
}

/* FTS5's scores for an OR of quoted words. */
static void ref_scores(ref *r, const char *match, double *score, size_t n)
{
  sqlite3_stmt *st = NULL;
  size_t i;
  for (i = 0; i < n; i++) score[i] = 0;
  CHECK_INT(sqlite3_prepare_v2(r->db, "SELECT rowid, -bm25(ref, " TS_CAUSE_WEIGHTS ") FROM ref WHERE ref MATCH ?",
                               -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    if (id >= 1 && (size_t)id <= n) score[id - 1] = sqlite3_column_double(st, 1);
  }
  sqlite3_finalize(st);
}

/* nq descriptions of 1 to 5 words, each scored both ways. */
static void same_scores(ref *r, tshoot_kb *kb, size_t nq, const char *what)
{
  double *got = calloc(r->causes + 1, sizeof *got), *want = calloc(r->causes + 1, sizeof *want);
  uint64_t x = 88172645463325252ull;
  size_t q, i, diff = 0, hits = 0;
  for (q = 0; got && want && q < nq; q++) {
    char text[512] = "", match[1024] = "";
    stem stems[5];
    int nw = 1 + (int)(q % 5), k, ns = 0;
    for (k = 0; k < nw; k++) {
      const char *w;
      stem s;
      int j, dup = 0;
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      /* the common words more often: the square of a uniform number */
      w = r->words[(size_t)((double)(x % 1000000) / 1e6 * (double)(x % 1000000) / 1e6 * (double)r->nwords)];
      memset(&s, 0, sizeof s);
      r->api.xTokenize(r->tok, &s, FTS5_TOKENIZE_QUERY, w, (int)strlen(w), stem_cb);
      for (j = 0; j < ns; j++) dup |= strcmp(stems[j].t, s.t) == 0;
      if (s.n != 1 || dup || strlen(s.t) < 2) continue;
      stems[ns++] = s;
      snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", ns > 1 ? " " : "", w);
      snprintf(match + strlen(match), sizeof match - strlen(match), "%s\"%s\"", ns > 1 ? " OR " : "", w);
    }
    if (!ns) continue;
    CHECK_INT(search_cause_scores(kb, text, strlen(text), got, r->causes), TSHOOT_OK);
    ref_scores(r, match, want, r->causes);
    for (i = 0; i < r->causes; i++) {
      if (want[i] != 0) hits++;
      if (got[i] != want[i]) {
        if (diff++ < 5)
          fprintf(stderr, "%s: '%s' cause %zu: %.17g, FTS5 %.17g\n", what, text, i + 1, got[i], want[i]);
      }
    }
  }
  printf("%s: %zu descriptions, %zu cause scores compared (%zu not zero), %zu differ\n", what, nq,
         nq * r->causes, hits, diff);
  CHECK_INT(diff, 0);
  CHECK(hits > nq);               /* most descriptions moved causes */
  free(got);
  free(want);
}

static void test_shipped_kb(void)
{
  const char *kbp = getenv("TSHOOT_KB");
  tshoot_kb *kb = NULL;
  ref r;
  if (!kbp) { CHECK(kbp != NULL); return; }
  if (ref_open(&r, kbp) == 0 && tshoot_kb_open(&kb, kbp, NULL) == TSHOOT_OK) {
    static const char curly[] = "Outlook\xE2\x80\x99s", plain[] = "outlook";
    double *a = calloc(r.causes, sizeof *a), *b = calloc(r.causes, sizeof *b);
    size_t i, moved = 0, same = 0;
    tshoot_kb_info info;
    CHECK_INT(tshoot_kb_info_get(&info, kb), TSHOOT_OK);
    CHECK_INT(r.causes, info.causes);
    same_terms(&r);
    same_scores(&r, kb, 300, "shipped KB");
    /* "Outlook’s" (U+2019, inside the word for text_next_word) counts as "outlook" */
    CHECK_INT(search_cause_scores(kb, curly, strlen(curly), a, r.causes), TSHOOT_OK);
    CHECK_INT(search_cause_scores(kb, plain, strlen(plain), b, r.causes), TSHOOT_OK);
    for (i = 0; a && b && i < r.causes; i++) {
      moved += a[i] > 0;
      same += a[i] == b[i];
    }
    CHECK(moved > 0);
    CHECK_INT(same, r.causes);
    free(a);
    free(b);
  }
  tshoot_kb_close(kb);
  ref_close(&r);
}

static void test_synthetic_kb(void)
{
  char dir[] = "/tmp/test-cause-words-XXXXXX", src[600], kbp[700], bad[700];
  const char *srcs[1];
  synth *sy = synth_new();
  tshoot_kb *kb = NULL;
  ref r;
  if (!sy || !mkdtemp(dir)) { CHECK(0); synth_free(sy); return; }
  snprintf(src, sizeof src, "%s/src", dir);
  CHECK(mkdir(src, 0700) == 0);
  CHECK(synth_write_corpus(sy, src, SYNTH_DEFAULT_SEED, 300, 100, NULL, NULL) == 0);
  snprintf(kbp, sizeof kbp, "%s/kb.db", dir);
  srcs[0] = src;
  CHECK_INT(tshoot_compile(NULL, srcs, 1, kbp, NULL), TSHOOT_OK);
  if (ref_open(&r, kbp) == 0 && tshoot_kb_open(&kb, kbp, NULL) == TSHOOT_OK) {
    same_terms(&r);
    same_scores(&r, kb, 300, "synthetic KB");
  }
  tshoot_kb_close(kb);
  kb = NULL;
  /* a damaged list: the KB is said to be damaged, nothing is read past it */
  if (r.db && r.nwords) {
    char sql[800];
    stem s;
    double *score = calloc(r.causes, sizeof *score);
    sqlite3 *db = NULL;
    memset(&s, 0, sizeof s);
    r.api.xTokenize(r.tok, &s, FTS5_TOKENIZE_QUERY, r.words[0], (int)strlen(r.words[0]), stem_cb);
    snprintf(bad, sizeof bad, "%s/bad.db", dir);
    snprintf(sql, sizeof sql, "VACUUM k INTO '%s'", bad);
    CHECK_INT(sqlite3_exec(r.db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_open(bad, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE cause_term SET post = x'ffffffff' WHERE term = '%s'", s.t);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_changes(db), 1);
    sqlite3_close(db);
    CHECK_INT(tshoot_kb_open(&kb, bad, NULL), TSHOOT_OK);
    if (kb && score) {
      CHECK_INT(search_cause_scores(kb, r.words[0], strlen(r.words[0]), score, r.causes), TSHOOT_ECORRUPT);
      CHECK_CONTAINS(tshoot_error_last()->message, "recompile");
    }
    tshoot_kb_close(kb);
    free(score);
    unlink(bad);
  }
  ref_close(&r);
  test_remove_dir(src);
  test_remove_dir(dir);
  synth_free(sy);
}

int main(void)
{
  RUN(test_shipped_kb);
  RUN(test_synthetic_kb);
  TEST_EXIT();
}
