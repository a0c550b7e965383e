/*
** test-search.c: search.c. The FTS5 query built for many inputs (exact
** strings); hostile text never reaching FTS5 as syntax; then tshoot_search on
** a fixture KB compiled from tests/data/search at start: prefix, whole-token
** exactness, synonyms, spelling and suggestions, ranking, snippets, the OR
** fallback, the time budget, bad arguments, and 8 threads sharing one KB.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "search_int.h"
#include "test.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char kb_path[512], big_path[512], big_src[512];
static tshoot_kb *kb;

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A KB of `n` near-identical articles, so that a query matching all of them
** is expensive but legal. */
static int write_big_source(const char *path, int n)
{
  FILE *f = fopen(path, "w");
  int i;
  if (!f) return -1;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<kb xmlns=\"urn:tshoot:kb:1\" id=\"big\">\n");
  for (i = 0; i < n; i++)
    fprintf(f,
            "<article id=\"big-%d\"><title>Alpha bravo charlie delta %d</title>\n"
            "<symptoms><symptom>alpha bravo charlie delta echo foxtrot golf hotel india juliet "
            "alpha bravo charlie delta echo foxtrot golf hotel india juliet w%d</symptom></symptoms>\n"
            "<cause id=\"big-c%d\"><title>Echo foxtrot golf</title><explanation>hotel india juliet "
            "alpha bravo charlie delta echo foxtrot golf hotel kilo lima mike</explanation>"
            "</cause></article>\n",
            i, i, i % 97, i);
  fprintf(f, "</kb>\n");
  return fclose(f) == 0 ? 0 : -1;
}

static int compile_one(const char *src, const char *out)
{
  const char *srcs[1];
  tshoot_compile_stats st;
  srcs[0] = src;
  if (tshoot_compile(&st, srcs, 1, out, NULL) != TSHOOT_OK) {
    fprintf(stderr, "compile %s failed: %s\n", src, tshoot_error_last()->message);
    return -1;
  }
  return 0;
}

static int setup(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char src[1024];
  snprintf(dir, sizeof dir, "/tmp/tshoot-search.XXXXXX");
  if (!root || !mkdtemp(dir)) return -1;
  snprintf(src, sizeof src, "%s/tests/data/search", root);
  snprintf(kb_path, sizeof kb_path, "%s/search.db", dir);
  snprintf(big_path, sizeof big_path, "%s/big.db", dir);
  snprintf(big_src, sizeof big_src, "%s/big.xml", dir);
  if (compile_one(src, kb_path) < 0) return -1;
  if (tshoot_kb_open(&kb, kb_path, NULL) != TSHOOT_OK) {
    fprintf(stderr, "open failed: %s\n", tshoot_error_last()->message);
    return -1;
  }
  return 0;
}

static void teardown(void)
{
  tshoot_kb_close(kb);
  unlink(kb_path);
  unlink(big_path);
  unlink(big_src);
  rmdir(dir);
}

/* ===== query building, no KB ===== */

static void check_query(const char *text, size_t len, unsigned flags, const char *want, int line)
{
  char *q = search_build_query(text, len, flags);
  if (!q || strcmp(q, want) != 0) {
    fprintf(stderr, "%s:%d: query for \"%.60s\": got '%s', want '%s'\n", __FILE__, line, text,
            q ? q : "(null)", want);
    test_cur_failed = 1;
  }
  ts_free(q);
}
#define QUERY(text, want) check_query(text, strlen(text), 0, want, __LINE__)
#define QUERY_F(text, flags, want) check_query(text, strlen(text), flags, want, __LINE__)

static void test_search__query_words_and_stop_words(void)
{
  QUERY("", "");
  QUERY("   ", "");
  QUERY("the a of to", "");
  QUERY("outlook ", "\"outlook\"");
  QUERY("Outlook Crashes ", "\"outlook\" \"crashes\"");
  QUERY("outlook won't start after the update ", "\"outlook\" \"start\" \"after\" \"update\"");
  QUERY("can't start ", "\"start\"");
  QUERY("Outlook doesn't start, didn't open ", "\"outlook\" \"start\" \"open\"");
  QUERY("x y z outlook ", "\"outlook\"");
  QUERY("C++ ", "");
  QUERY("a OR b AND c NOT d ", "\"not\"");
  QUERY("error: denied ", "\"error\" \"denied\"");
  QUERY("title:foo ", "\"title\" \"foo\"");
  QUERY("NEAR(\"a\" \"b\") ", "\"near\"");
  QUERY("\"unbalanced quote ", "\"unbalanced\" \"quote\"");
  QUERY("outlook crash?", "\"outlook\" \"crash\"");
  QUERY("Ärger é ", "\"Ärger\" \"é\"");
}

static void test_search__query_phrases(void)
{
  QUERY("kofmsp.dll ", "\"kofmsp dll\"");
  QUERY("KofMsp32.dll ", "\"kofmsp32 dll\"");
  QUERY("16.0.1234 ", "\"16 0 1234\"");
  QUERY("Outlook-2016 crash ", "\"outlook 2016\" \"crash\"");
  QUERY("path/to/file_name.txt ", "\"path to file name txt\"");
  QUERY("a\\b ", "\"a b\"");
  QUERY("e.g. outlook ", "\"e g\" \"outlook\"");
  QUERY("kofmsp . dll ", "\"kofmsp\" \"dll\"");
  QUERY("kofmsp..dll ", "\"kofmsp dll\"");
  QUERY("C:\\Program Files\\Outlook ", "\"program\" \"files outlook\"");
  QUERY("the.end ", "\"the end\"");
  /* a run longer than TEXT_MAX_WORD is glued back into one token */
  {
    char text[104], want[104];
    memset(text, 'x', 100);
    text[100] = ' ';
    text[101] = '\0';
    want[0] = '"';
    memset(want + 1, 'x', 100);
    want[101] = '"';
    want[102] = '\0';
    QUERY(text, want);
  }
}

static void test_search__query_prefix(void)
{
  QUERY("outlook", "\"outlook\"*");
  QUERY("kofm", "\"kofm\"*");
  QUERY("ab", "\"ab\"");
  QUERY("abc", "\"abc\"*");
  QUERY("outlook kofm", "\"outlook\" \"kofm\"*");
  QUERY("kofmsp.dll", "\"kofmsp dll\"*");
  QUERY("kofmsp.dl", "\"kofmsp dl\"*");
  QUERY("kofmsp.d", "\"kofmsp d\"");
  QUERY("outlook the", "\"outlook\"");
  QUERY("outlook.", "\"outlook\"");
  QUERY("outlook\t", "\"outlook\"");
  QUERY("outlook\n", "\"outlook\"");
  QUERY_F("outlook", TSHOOT_SEARCH_NO_PREFIX, "\"outlook\"");
  QUERY_F("kofmsp.dl", TSHOOT_SEARCH_NO_PREFIX, "\"kofmsp dl\"");
}

static void test_search__query_limits(void)
{
  /* at most 16 terms */
  QUERY("w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16 w17 w18 ",
        "\"w01\" \"w02\" \"w03\" \"w04\" \"w05\" \"w06\" \"w07\" \"w08\" \"w09\" \"w10\" "
        "\"w11\" \"w12\" \"w13\" \"w14\" \"w15\" \"w16\"");
  /* the prefix only when the last word typed is used */
  QUERY("w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16 w17 w18",
        "\"w01\" \"w02\" \"w03\" \"w04\" \"w05\" \"w06\" \"w07\" \"w08\" \"w09\" \"w10\" "
        "\"w11\" \"w12\" \"w13\" \"w14\" \"w15\" \"w16\"");
  /* NUL bytes are separators, not an end */
  check_query("a\0outlook\0crash ", 16, 0, "\"outlook\" \"crash\"", __LINE__);
  check_query("kofmsp\0dll ", 11, 0, "\"kofmsp\" \"dll\"", __LINE__);
  check_query(NULL, 0, 0, "", __LINE__);
  /* 10,000 x "a OR " */
  {
    size_t n = 10000 * 5, i;
    char *t = malloc(n + 1);
    for (i = 0; i < 10000; i++) memcpy(t + 5 * i, "a OR ", 5);
    t[n] = '\0';
    check_query(t, n, 0, "", __LINE__);
    free(t);
  }
}

/* ===== hostile text ===== */

static const char *const hostile[] = {
  "\"", "\"\"", "\"\"\"", "\"outlook", "outlook\"", "out\"look", "'", "''", "'outlook",
  "NEAR(", "NEAR(outlook", "NEAR(a b, 5)", "NEAR(\"a\" \"b\", -1)", "AND", "OR", "NOT",
  "outlook AND", "AND outlook", "outlook OR", "outlook NOT", "NOT outlook", "outlook NOT crash",
  "AND OR NOT", "C++", "c#", "can't", "won't start", "-", ".", "--", "..", "- outlook",
  "outlook -crash", "error: denied", "title:foo", "title : foo", "{title symptoms}: foo",
  "-title:foo", "*", "**", "outlook*", "*outlook", "^", "^outlook", "outlook^", "+", "a + b",
  "(", ")", "((outlook)", "outlook)", "()", "[", "]", "{", "}", ":", ";", ",", "\\", "/",
  "kofmsp.dll\"*", "\"kofmsp dll\"*", "\xff\xfe", "outlook \xc3", "\xc3\x28 outlook",
  "\xed\xa0\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80 outlook \xf0\x9f\x92\xa5",
  "outlook\xe2\x80\x99s profile", "\xe2\x80\x9coutlook\xe2\x80\x9d", "%s%n%x", "'; DROP TABLE vocab; --",
  "rowid=1", "article_fts MATCH 'x'", "x' OR '1'='1", "\t\r\n\v\f", "\x01\x02\x03", "0x8004010F",
  "16.0.1234", "Outlook-2016", "KofMsp32.dll", "kofmsp.dll kofmsp.dll kofmsp.dll",
};

/* Every built query is valid FTS5 syntax. */
static void test_search__hostile_queries_parse(void)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  size_t i;
  CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
  CHECK_INT(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize='porter unicode61 "
                             "remove_diacritics 2'); INSERT INTO t VALUES('outlook kofmsp.dll', 'x')",
                         NULL, NULL, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1", -1, &st, NULL), SQLITE_OK);
  for (i = 0; i < TS_ARRAY_LEN(hostile); i++) {
    unsigned f;
    for (f = 0; f < 2; f++) {
      char *q = search_build_query(hostile[i], strlen(hostile[i]), f ? TSHOOT_SEARCH_NO_PREFIX : 0);
      int rc;
      CHECK(q != NULL);
      if (!q || !*q) { ts_free(q); continue; }
      sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
      if (rc != SQLITE_DONE) {
        fprintf(stderr, "hostile \"%s\" -> '%s': %s\n", hostile[i], q, sqlite3_errmsg(db));
        test_cur_failed = 1;
      }
      sqlite3_reset(st);
      ts_free(q);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void test_search__hostile_text_is_ok(void)
{
  size_t i;
  CHECK(TS_ARRAY_LEN(hostile) >= 50);
  for (i = 0; i < TS_ARRAY_LEN(hostile); i++) {
    unsigned f;
    for (f = 0; f < 4; f++) {
      tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
      tshoot_results *r = NULL;
      int rc;
      o.flags = f;
      rc = tshoot_search(&r, kb, hostile[i], strlen(hostile[i]), &o);
      if (rc != TSHOOT_OK) {
        fprintf(stderr, "hostile \"%s\" (flags %u): %d %s\n", hostile[i], f, rc,
                tshoot_error_last()->message);
        test_cur_failed = 1;
      }
      CHECK(r != NULL);
      CHECK(!tshoot_results_truncated(r));
      tshoot_results_free(r);
    }
  }
  /* NUL bytes inside */
  {
    tshoot_results *r = NULL;
    CHECK_INT(tshoot_search(&r, kb, "\0\"\0kofmsp\0NEAR(\0", 16, NULL), TSHOOT_OK);
    /* "kofmsp" AND "near" finds nothing: the OR fallback */
    CHECK_STR(tshoot_results_query(r), "{title symptoms aliases} : (\"kofmsp\" OR \"near\")");
    CHECK(tshoot_results_count(r) >= 1);
    tshoot_results_free(r);
  }
}

static void test_search__huge_text_within_budget(void)
{
  size_t n = 100 * 1024, i;
  char *t = malloc(n);
  tshoot_results *r = NULL;
  double t0, ms;
  /* 100 KB of words, phrases and syntax */
  for (i = 0; i < n; i++) t[i] = "outlook kofmsp.dll NEAR( \"a OR b* ^:-\0\xff"[i % 38];
  t0 = now_ms();
  CHECK_INT(tshoot_search(&r, kb, t, n, NULL), TSHOOT_OK);
  ms = now_ms() - t0;
  CHECK(ms < 250);
  tshoot_results_free(r);
  /* 10,000 x "a OR " */
  for (i = 0; i < 10000; i++) memcpy(t + 5 * i, "a OR ", 5);
  t0 = now_ms();
  CHECK_INT(tshoot_search(&r, kb, t, 50000, NULL), TSHOOT_OK);
  ms = now_ms() - t0;
  CHECK(ms < 250);
  CHECK_STR(tshoot_results_query(r), "");
  CHECK_INT(tshoot_results_count(r), 0);
  tshoot_results_free(r);
  /* one 100 KB word */
  memset(t, 'k', n);
  CHECK_INT(tshoot_search(&r, kb, t, n, NULL), TSHOOT_OK);
  CHECK(!tshoot_results_truncated(r));
  tshoot_results_free(r);
  free(t);
}

/* ===== searching the fixture ===== */

static tshoot_results *search_f(const char *text, unsigned flags)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *r = NULL;
  int rc;
  o.flags = flags;
  rc = tshoot_search(&r, kb, text, strlen(text), &o);
  if (rc != TSHOOT_OK)
    fprintf(stderr, "search \"%s\": %d %s\n", text, rc, tshoot_error_last()->message);
  return r;
}

static tshoot_results *search(const char *text) { return search_f(text, 0); }

static const char *id_at(const tshoot_results *r, size_t i)
{
  const tshoot_result *x = tshoot_results_get(r, i);
  return x ? x->article : "(none)";
}

static int has_id(const tshoot_results *r, const char *id)
{
  size_t i;
  for (i = 0; i < tshoot_results_count(r); i++)
    if (strcmp(id_at(r, i), id) == 0) return 1;
  return 0;
}

static void test_search__prefix_finds_partial_words(void)
{
  tshoot_results *r = search("kofm");
  CHECK_STR(tshoot_results_query(r), "\"kofm\"*");
  CHECK(has_id(r, "kofmsp-dll-error"));
  CHECK(has_id(r, "kofmsp32-crash"));
  CHECK(tshoot_results_suggestion(r) == NULL);
  tshoot_results_free(r);
  /* a trailing space: a whole word, which the KB does not have: the closest
  ** KB word is the synonym koff */
  r = search("kofm ");
  CHECK_STR(tshoot_results_suggestion(r), "koff");
  tshoot_results_free(r);
  r = search_f("kofm", TSHOOT_SEARCH_NO_PREFIX | TSHOOT_SEARCH_NO_SPELLING);
  CHECK_STR(tshoot_results_query(r), "\"kofm\"");
  CHECK_INT(tshoot_results_count(r), 0);
  tshoot_results_free(r);
  /* the phrase's last word as a prefix */
  r = search("kofmsp.dl");
  CHECK_STR(tshoot_results_query(r), "\"kofmsp dl\"*");
  CHECK_STR(id_at(r, 0), "kofmsp-dll-error");
  CHECK_INT(tshoot_results_count(r), 1);
  tshoot_results_free(r);
  /* a complete word at the end is still a prefix */
  r = search("synchronisation");
  CHECK_STR(tshoot_results_query(r), "\"synchronisation\"*");
  CHECK_STR(id_at(r, 0), "slow-sync");
  tshoot_results_free(r);
}

static void test_search__whole_tokens(void)
{
  tshoot_results *r = search("kofmsp.dll ");
  CHECK_STR(tshoot_results_query(r), "\"kofmsp dll\"");
  CHECK_INT(tshoot_results_count(r), 1);
  CHECK_STR(id_at(r, 0), "kofmsp-dll-error");
  tshoot_results_free(r);
  r = search("KofMsp32.dll ");
  CHECK_INT(tshoot_results_count(r), 1);
  CHECK_STR(id_at(r, 0), "kofmsp32-crash");
  tshoot_results_free(r);
  r = search("KOFMSP.DLL");
  CHECK_INT(tshoot_results_count(r), 1);
  CHECK_STR(id_at(r, 0), "kofmsp-dll-error");
  tshoot_results_free(r);
  r = search("16.0.1234 ");
  CHECK_INT(tshoot_results_count(r), 1);
  CHECK_STR(id_at(r, 0), "kofmsp32-crash");
  tshoot_results_free(r);
  /* the same digits in another order are another version */
  r = search("16.1234 ");
  CHECK_INT(tshoot_results_count(r), 0);
  CHECK(tshoot_results_suggestion(r) == NULL);
  tshoot_results_free(r);
}

static void test_search__synonyms(void)
{
  tshoot_results *r = search("koff ");
  CHECK_STR(tshoot_results_query(r), "(\"koff\" OR \"kerio outlook connector\")");
  CHECK(has_id(r, "version-mismatch"));
  CHECK(has_id(r, "kofmsp-dll-error"));
  CHECK(tshoot_results_suggestion(r) == NULL);
  tshoot_results_free(r);
  /* a multi-word term typed out, and the group ANDed with other words */
  r = search("Kerio Outlook Connector version mismatch ");
  CHECK_STR(tshoot_results_query(r),
            "(\"kerio outlook connector\" OR \"koff\") AND \"version\" AND \"mismatch\"");
  CHECK_STR(id_at(r, 0), "version-mismatch");
  tshoot_results_free(r);
  r = search("KOFF version mismatch after server upgrade");
  CHECK_STR(id_at(r, 0), "version-mismatch");
  tshoot_results_free(r);
  r = search("slow mail store ");
  CHECK_STR(tshoot_results_query(r), "\"slow\" AND (\"mail store\" OR \"mailbox\")");
  CHECK_STR(id_at(r, 0), "slow-sync");
  tshoot_results_free(r);
}

static void test_search__spelling(void)
{
  tshoot_results *r = search("outlok ");
  CHECK_STR(tshoot_results_suggestion(r), "outlook");
  CHECK_STR(tshoot_results_query(r), "\"outlook\"");
  CHECK(tshoot_results_count(r) >= 3);
  tshoot_results_free(r);
  /* in prefix mode too, as no KB word starts with it; case kept */
  r = search("Outlok");
  CHECK_STR(tshoot_results_suggestion(r), "Outlook");
  CHECK_STR(tshoot_results_query(r), "\"outlook\"");
  tshoot_results_free(r);
  r = search("curupt profile ");
  CHECK_STR(tshoot_results_suggestion(r), "corrupt profile");
  CHECK_STR(tshoot_results_query(r), "\"corrupt\" \"profile\"");
  CHECK_STR(id_at(r, 0), "corrupt-profile");
  tshoot_results_free(r);
  r = search("  OUTLOK   kofmsp.dl\n");
  CHECK_STR(tshoot_results_suggestion(r), "OUTLOOK   kofmsp.dll");
  CHECK_STR(tshoot_results_query(r), "\"outlook\" \"kofmsp dll\"");
  CHECK_STR(id_at(r, 0), "kofmsp-dll-error");
  tshoot_results_free(r);
  /* a misspelt synonym expands to the group */
  r = search("kof ");
  CHECK_STR(tshoot_results_suggestion(r), "koff");
  CHECK_STR(tshoot_results_query(r), "(\"koff\" OR \"kerio outlook connector\")");
  tshoot_results_free(r);
  r = search_f("outlok ", TSHOOT_SEARCH_NO_SPELLING);
  CHECK(tshoot_results_suggestion(r) == NULL);
  CHECK_STR(tshoot_results_query(r), "\"outlok\"");
  CHECK_INT(tshoot_results_count(r), 0);
  tshoot_results_free(r);
}

static void test_search__build_query_kb(void)
{
  kb_conn *c = NULL;
  char *q = NULL, *o = NULL, *sug = NULL;
  CHECK_INT(kb_conn_acquire(kb, &c), TSHOOT_OK);
  if (!c) return;
  kb_conn_arm(c, kb, 0);
  CHECK_INT(search_build_query_kb(c, "Curupt koff profile", 19, 0, &q, &o, &sug), TSHOOT_OK);
  CHECK_STR(q, "\"corrupt\" AND (\"koff\" OR \"kerio outlook connector\") AND \"profile\"*");
  CHECK_STR(o, "\"corrupt\" OR \"koff\" OR \"kerio outlook connector\" OR \"profile\"*");
  CHECK_STR(sug, "Corrupt koff profile");
  ts_free(q);
  ts_free(o);
  ts_free(sug);
  CHECK_INT(search_build_query_kb(c, "the", 3, 0, &q, &o, &sug), TSHOOT_OK);
  CHECK_STR(q, "");
  CHECK(o == NULL && sug == NULL);
  ts_free(q);
  kb_conn_release(kb, c);
}

static void test_search__no_suggestion_for_inflections(void)
{
  static const char *const words[] = { "profiles ", "profiles", "crashing outlook ", "loads ",
                                       "upgrading ", "blocked connectors " };
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(words); i++) {
    tshoot_results *r = search(words[i]);
    if (tshoot_results_suggestion(r)) {
      fprintf(stderr, "\"%s\": spurious suggestion \"%s\"\n", words[i], tshoot_results_suggestion(r));
      test_cur_failed = 1;
    }
    CHECK(tshoot_results_count(r) >= 1);
    tshoot_results_free(r);
  }
  {
    tshoot_results *r = search("profiles ");
    CHECK_STR(id_at(r, 0), "corrupt-profile");
    tshoot_results_free(r);
  }
}

static void test_search__ranking(void)
{
  tshoot_results *r = search("antivirus ");
  const tshoot_result *a, *b;
  CHECK_INT(tshoot_results_count(r), 2);
  a = tshoot_results_get(r, 0);
  b = tshoot_results_get(r, 1);
  CHECK(a && b);
  if (a && b) {
    CHECK_STR(a->article, "av-blocks-connector");
    CHECK_STR(b->article, "slow-sync");
    CHECK(a->score > b->score);
    CHECK(b->score > 0);
    CHECK_STR(a->title, "Antivirus blocks the connector");
    CHECK_CONTAINS(a->file, "tests/data/search/search.xml");
    CHECK(a->line > 1);
  }
  CHECK(tshoot_results_get(r, 2) == NULL);
  CHECK(tshoot_results_get(r, (size_t)-1) == NULL);
  tshoot_results_free(r);
}

/* The score is FTS5's own -bm25 with TS_FTS_WEIGHTS, to the bit, though
** tshoot reads the articles' lengths from its own copy of FTS5's docsize
** table; also for the OR fallback ("antivirus printer offline"). */
static void test_search__score_is_bm25(void)
{
  static const char *const texts[] = { "antivirus ", "outlook ", "koff ", "kofm", "curupt profile ",
                                       "server upgrade version ", "antivirus printer offline " };
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  size_t i;
  CHECK_INT(sqlite3_open_v2(kb_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT -bm25(article_fts, 10.0, 8.0, 6.0, 2.0, 1.0) FROM "
                                   "article_fts WHERE article_fts MATCH ?1 AND rowid = "
                                   "(SELECT id FROM article WHERE name = ?2)", -1, &st, NULL),
            SQLITE_OK);
  for (i = 0; st && i < TS_ARRAY_LEN(texts); i++) {
    tshoot_results *r = search(texts[i]);
    size_t k;
    CHECK(tshoot_results_count(r) > 0);
    for (k = 0; k < tshoot_results_count(r); k++) {
      const tshoot_result *x = tshoot_results_get(r, k);
      sqlite3_bind_text(st, 1, tshoot_results_query(r), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, x->article, -1, SQLITE_STATIC);
      CHECK_INT(sqlite3_step(st), SQLITE_ROW);
      if (sqlite3_column_double(st, 0) != x->score) {
        fprintf(stderr, "\"%s\" %s: score %.17g, bm25 %.17g\n", texts[i], x->article, x->score,
                sqlite3_column_double(st, 0));
        test_cur_failed = 1;
      }
      if (k > 0) CHECK(tshoot_results_get(r, k - 1)->score >= x->score);
      sqlite3_reset(st);
    }
    tshoot_results_free(r);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void test_search__snippets(void)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *r = search("antivirus ");
  const tshoot_result *x = tshoot_results_get(r, 0);
  CHECK(x != NULL);
  if (x) CHECK_CONTAINS(x->snippet, "[Antivirus]");
  x = tshoot_results_get(r, 1);
  if (x) {
    CHECK_CONTAINS(x->snippet, "[antivirus]");
    CHECK(strchr(x->snippet, '\n') == NULL);
  }
  tshoot_results_free(r);
  o.mark_open = "<b>";
  o.mark_close = "</b>";
  o.snippet_tokens = 3;
  r = NULL;
  CHECK_INT(tshoot_search(&r, kb, "kofmsp.dll", 10, &o), TSHOOT_OK);
  x = tshoot_results_get(r, 0);
  CHECK(x != NULL);
  if (x) CHECK_CONTAINS(x->snippet, "<b>KOFMSP.DLL</b>");
  tshoot_results_free(r);
}

/* Passages keep the text's punctuation, and come plain with byte ranges of
** the matches, which cannot clash with brackets of the text (issue 11). */
static void test_search__passages_keep_punctuation(void)
{
  char src[600], db[600];
  FILE *f;
  tshoot_kb *k = NULL;
  tshoot_results *r = NULL;
  const tshoot_result *x;
  snprintf(src, sizeof src, "%s/punct.xml", dir);
  snprintf(db, sizeof db, "%s/punct.db", dir);
  f = fopen(src, "w");
  CHECK(f != NULL);
  if (!f) return;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<kb xmlns=\"urn:tshoot:kb:1\" id=\"p\">\n"
             "<article id=\"spool\"><title>[ERROR] spooler: access denied [code 5]</title>\n"
             "<symptoms><symptom>printing stops</symptom></symptoms>\n"
             "<cause id=\"spool-c\"><title>Rights</title><explanation>rights</explanation>"
             "</cause></article>\n"
             "<article id=\"tabs\"><title>Queue</title>\n"
             "<symptoms><symptom>the queue\tis stuck&#127;again</symptom>\n"
             "<symptom>printer offline, jobs wait</symptom></symptoms>\n"
             "<cause id=\"tabs-c\"><title>Queue</title><explanation>queue</explanation>"
             "</cause></article>\n</kb>\n");
  CHECK(fclose(f) == 0);
  CHECK(compile_one(src, db) == 0);
  CHECK_INT(tshoot_kb_open(&k, db, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_search(&r, k, "spooler access denied", 21, NULL), TSHOOT_OK);
  x = tshoot_results_get(r, 0);
  CHECK(x != NULL);
  if (x) {
    CHECK_STR(x->passage, "[ERROR] spooler: access denied [code 5]");
    CHECK_STR(x->snippet, "[ERROR] [spooler]: [access] [denied] [code 5]");
    CHECK_INT((int)x->n_marks, 3);
    if (x->n_marks == 3) {
      CHECK_INT((int)x->marks[0].start, 8);
      CHECK_INT((int)x->marks[0].end, 15);
      CHECK_INT((int)x->marks[2].start, 24);
      CHECK_INT((int)x->marks[2].end, 30);
    }
    CHECK(x->score > 0);
  }
  tshoot_results_free(r);
  r = NULL;
  /* control bytes (a tab, DEL, the newline between two symptoms) become
  ** spaces: a passage is one line */
  CHECK_INT(tshoot_search(&r, k, "stuck jobs", 10, NULL), TSHOOT_OK);
  x = tshoot_results_get(r, 0);
  CHECK(x != NULL);
  if (x) {
    CHECK_STR(x->passage, "the queue is stuck again printer offline, jobs wait");
    CHECK_STR(x->snippet, "the queue is [stuck] again printer offline, [jobs] wait");
  }
  tshoot_results_free(r);
  r = NULL;
  CHECK_INT(tshoot_search(&r, k, "error ", 6, NULL), TSHOOT_OK);
  x = tshoot_results_get(r, 0);
  CHECK(x != NULL);
  if (x) {
    CHECK_STR(x->passage, "[ERROR] spooler: access denied [code 5]");
    CHECK_INT((int)x->n_marks, 1);
    if (x->n_marks == 1) {
      CHECK_INT((int)x->marks[0].start, 1);
      CHECK_INT((int)x->marks[0].end, 6);
    }
  }
  tshoot_results_free(r);
  tshoot_kb_close(k);
  unlink(db);
  unlink(src);
}

/* The text searched, reported as valid UTF-8: what front-ends show. */
static void test_search__text_reported_as_utf8(void)
{
  static const char in[] = "caf\xc3\xa9 \xff bad \xe2\x82x\0z \xed\xa0\x80";
  tshoot_results *r = NULL;
  CHECK_INT(tshoot_search(&r, kb, in, sizeof in - 1, NULL), TSHOOT_OK);
  CHECK_STR(tshoot_results_text(r),
            "caf\xc3\xa9 \xef\xbf\xbd bad \xef\xbf\xbdx\xef\xbf\xbdz "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK_CONTAINS(tshoot_results_query(r), "caf\xc3\xa9");
  tshoot_results_free(r);
  CHECK_STR(tshoot_results_text(NULL), "");
}

static void test_search__or_fallback(void)
{
  tshoot_results *r = search("my antivirus is a zebra ");
  CHECK_STR(tshoot_results_query(r), "{title symptoms aliases} : (\"antivirus\" OR \"zebra\")");
  CHECK_STR(id_at(r, 0), "av-blocks-connector");
  tshoot_results_free(r);
  r = search("outlook won't start after the update, something about kofmsp.dll");
  CHECK_STR(id_at(r, 0), "kofmsp-dll-error");
  tshoot_results_free(r);
  /* a word in more than half the articles adds nothing to an OR */
  r = search("outlook antivirus zebra ");
  CHECK_STR(tshoot_results_query(r), "{title symptoms aliases} : (\"antivirus\" OR \"zebra\")");
  CHECK_STR(id_at(r, 0), "av-blocks-connector");
  tshoot_results_free(r);
  /* one term: no fallback */
  r = search("zebra ");
  CHECK_STR(tshoot_results_query(r), "\"zebra\"");
  CHECK_INT(tshoot_results_count(r), 0);
  tshoot_results_free(r);
}

static void test_search__options_and_arguments(void)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *r = (tshoot_results *)&o;
  CHECK_INT(tshoot_search(NULL, kb, "x", 1, NULL), TSHOOT_EINVALID);
  CHECK_INT(tshoot_search(&r, NULL, "x", 1, NULL), TSHOOT_EINVALID);
  CHECK(r == NULL);
  CHECK_INT(tshoot_search(&r, kb, NULL, 3, NULL), TSHOOT_EINVALID);
  o.version = 0;
  CHECK_INT(tshoot_search(&r, kb, "x", 1, &o), TSHOOT_EINVALID);
  o.version = TSHOOT_SEARCH_OPTIONS_VERSION + 1;
  CHECK_INT(tshoot_search(&r, kb, "x", 1, &o), TSHOOT_EINVALID);
  CHECK(r == NULL);
  /* empty text is fine */
  CHECK_INT(tshoot_search(&r, kb, NULL, 0, NULL), TSHOOT_OK);
  CHECK_INT(tshoot_results_count(r), 0);
  CHECK_STR(tshoot_results_query(r), "");
  CHECK(tshoot_results_get(r, 0) == NULL);
  tshoot_results_free(r);
  /* limits are clamped */
  o.version = TSHOOT_SEARCH_OPTIONS_VERSION;
  o.limit = 1;
  CHECK_INT(tshoot_search(&r, kb, "outlook ", 8, &o), TSHOOT_OK);
  CHECK_INT(tshoot_results_count(r), 1);
  tshoot_results_free(r);
  o.limit = -5;
  CHECK_INT(tshoot_search(&r, kb, "outlook ", 8, &o), TSHOOT_OK);
  CHECK_INT(tshoot_results_count(r), 1);
  tshoot_results_free(r);
  o.limit = 1 << 30;
  o.snippet_tokens = 1 << 30;
  CHECK_INT(tshoot_search(&r, kb, "outlook ", 8, &o), TSHOOT_OK);
  CHECK(tshoot_results_count(r) >= 3);
  tshoot_results_free(r);
  o.limit = 0;
  o.snippet_tokens = -1;
  CHECK_INT(tshoot_search(&r, kb, "outlook ", 8, &o), TSHOOT_OK);
  tshoot_results_free(r);
  /* NULL results */
  tshoot_results_free(NULL);
  CHECK_INT(tshoot_results_count(NULL), 0);
  CHECK(tshoot_results_get(NULL, 0) == NULL);
  CHECK(tshoot_results_suggestion(NULL) == NULL);
  CHECK_INT(tshoot_results_truncated(NULL), 0);
}

static void test_search__budget_truncates(void)
{
  tshoot_kb_options ko = TSHOOT_KB_OPTIONS_INIT;
  tshoot_kb *big = NULL, *big1 = NULL;
  tshoot_results *r = NULL;
  const char *q = "alpha bravo charlie delta echo foxtrot golf hotel india juliet ";
  int i, truncated = 0;
  if (write_big_source(big_src, 3000) < 0 || compile_one(big_src, big_path) < 0) {
    CHECK(!"cannot make the big fixture");
    return;
  }
  CHECK_INT(tshoot_kb_open(&big, big_path, NULL), TSHOOT_OK);
  ko.query_budget_ms = 1;
  CHECK_INT(tshoot_kb_open(&big1, big_path, &ko), TSHOOT_OK);
  if (!big || !big1) goto done;
  /* with the default budget the query answers */
  CHECK_INT(tshoot_search(&r, big, q, strlen(q), NULL), TSHOOT_OK);
  CHECK_INT(tshoot_results_count(r), 10);
  CHECK(!tshoot_results_truncated(r));
  tshoot_results_free(r);
  /* with 1 ms it runs out: OK, empty, truncated. Ranked over the postings
  ** this query takes well under 1 ms; FTS5's ranking (the path a phrase
  ** query takes) scores all 3000 articles and must be cut. */
  for (i = 0; i < 5; i++) {
    tshoot_search_options fo = TSHOOT_SEARCH_OPTIONS_INIT;
    fo.flags = SEARCH_FLAG_FTS5_RANK;
    r = NULL;
    CHECK_INT(tshoot_search(&r, big1, q, strlen(q), &fo), TSHOOT_OK);
    CHECK(r != NULL);
    if (tshoot_results_truncated(r)) {
      truncated++;
      CHECK_INT(tshoot_results_count(r), 0);
    }
    tshoot_results_free(r);
  }
  CHECK(truncated >= 4);
done:
  tshoot_kb_close(big);
  tshoot_kb_close(big1);
}

/* ===== threads ===== */

#define NTHREADS 8
#define NSEARCH 200
static const char *const thread_queries[] = {
  "kofm", "kofmsp.dll ", "KofMsp32.dll", "outlok", "curupt profile ", "koff ", "antivirus ",
  "profiles", "outlook won't start after the update", "slow mail store", "\"NEAR(", "zebra x",
};
static char *expected[TS_ARRAY_LEN(thread_queries)];

static char *describe(const tshoot_results *r)
{
  ts_buf b = TS_BUF_INIT;
  size_t i;
  ts_buf_addf(&b, "%s|%s|%d", tshoot_results_query(r),
              tshoot_results_suggestion(r) ? tshoot_results_suggestion(r) : "-",
              tshoot_results_truncated(r));
  for (i = 0; i < tshoot_results_count(r); i++) {
    const tshoot_result *x = tshoot_results_get(r, i);
    ts_buf_addf(&b, "|%s %.6f %s %s:%d %s", x->article, x->score, x->title, x->file, x->line,
                x->snippet);
  }
  return ts_buf_detach(&b);
}

/* The handle the threads share: the fixture KB with a budget no loaded
** machine runs out of (under ASan on two busy cores a 250 ms budget did, and
** a truncated result is not what this test is about). */
static tshoot_kb *shared_kb;

static void *thread_main(void *arg)
{
  long t = (long)(intptr_t)arg, bad = 0;
  int i;
  for (i = 0; i < NSEARCH; i++) {
    size_t k = (size_t)(i + t) % TS_ARRAY_LEN(thread_queries);
    tshoot_results *r = NULL;
    char *d;
    if (tshoot_search(&r, shared_kb, thread_queries[k], strlen(thread_queries[k]), NULL) !=
        TSHOOT_OK) {
      bad++;
      continue;
    }
    d = describe(r);
    if (!d || strcmp(d, expected[k]) != 0) bad++;
    ts_free(d);
    tshoot_results_free(r);
  }
  return (void *)(intptr_t)bad;
}

static void test_search__threads_share_one_kb(void)
{
  pthread_t th[NTHREADS];
  tshoot_kb_options ko = TSHOOT_KB_OPTIONS_INIT;
  size_t k;
  long i, bad = 0;
  ko.query_budget_ms = 60000;
  CHECK_INT(tshoot_kb_open(&shared_kb, kb_path, &ko), TSHOOT_OK);
  if (!shared_kb) return;
  for (k = 0; k < TS_ARRAY_LEN(thread_queries); k++) {
    tshoot_results *r = NULL;
    CHECK_INT(tshoot_search(&r, shared_kb, thread_queries[k], strlen(thread_queries[k]), NULL),
              TSHOOT_OK);
    CHECK(r && !tshoot_results_truncated(r));
    expected[k] = describe(r);
    tshoot_results_free(r);
  }
  for (i = 0; i < NTHREADS; i++)
    CHECK_INT(pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)i), 0);
  for (i = 0; i < NTHREADS; i++) {
    void *ret;
    pthread_join(th[i], &ret);
    bad += (long)(intptr_t)ret;
  }
  CHECK_INT(bad, 0);
  for (k = 0; k < TS_ARRAY_LEN(thread_queries); k++) ts_free(expected[k]);
  tshoot_kb_close(shared_kb);
  shared_kb = NULL;
}

/* ===== allocation failures ===== */

static void test_search__allocation_failures(void)
{
  long n;
  int ok = 0;
  for (n = 0; n < 200 && !ok; n++) {
    tshoot_results *r = NULL;
    int rc;
    ts_alloc_fail_after(n);
    rc = tshoot_search(&r, kb, "curupt koff profile", 19, NULL);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) {
      ok = 1;
      CHECK(r != NULL);
    } else {
      CHECK(rc == TSHOOT_ENOMEM);
      CHECK(r == NULL);
    }
    tshoot_results_free(r);
  }
  CHECK(ok);
}

int main(void)
{
  RUN(test_search__query_words_and_stop_words);
  RUN(test_search__query_phrases);
  RUN(test_search__query_prefix);
  RUN(test_search__query_limits);
  RUN(test_search__hostile_queries_parse);
  if (setup() < 0) {
    fprintf(stderr, "cannot build the fixture KB\n");
    return 1;
  }
  RUN(test_search__hostile_text_is_ok);
  RUN(test_search__huge_text_within_budget);
  RUN(test_search__prefix_finds_partial_words);
  RUN(test_search__whole_tokens);
  RUN(test_search__synonyms);
  RUN(test_search__spelling);
  RUN(test_search__build_query_kb);
  RUN(test_search__no_suggestion_for_inflections);
  RUN(test_search__ranking);
  RUN(test_search__score_is_bm25);
  RUN(test_search__snippets);
  RUN(test_search__passages_keep_punctuation);
  RUN(test_search__text_reported_as_utf8);
  RUN(test_search__or_fallback);
  RUN(test_search__options_and_arguments);
  RUN(test_search__budget_truncates);
  RUN(test_search__threads_share_one_kb);
  RUN(test_search__allocation_failures);
  teardown();
  TEST_EXIT();
}
