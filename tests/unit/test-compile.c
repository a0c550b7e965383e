/*
** test-compile.c: tshoot_compile: diagnostics at their exact place, atomic
** and deterministic output, cancellation, a killed compile, allocation
** failures.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "kb_schema.h"
#include "test.h"

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];
static char srcroot[1024];

static const char *data(const char *rel)
{
  static char buf[4][2048];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/tests/data/%s", srcroot, rel);
  return buf[k];
}

static const char *tmp(const char *name)
{
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

/* ===== collecting diagnostics ===== */

typedef struct diag { int sev, line, col; char code[16]; char file[512]; char msg[512]; } diag;
typedef struct diags { diag d[256]; int n; } diags;

static void collect(const tshoot_diagnostic *d, void *p)
{
  diags *ds = p;
  diag *x;
  if (ds->n >= 256) return;
  x = &ds->d[ds->n++];
  x->sev = d->severity;
  x->line = d->line;
  x->col = d->column;
  snprintf(x->code, sizeof x->code, "%s", d->code);
  snprintf(x->file, sizeof x->file, "%s", d->file);
  snprintf(x->msg, sizeof x->msg, "%s", d->message);
}

static int lint(diags *ds, const char *path, const char *out)
{
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  o.on_diagnostic = collect;
  o.diagnostic_payload = ds;
  memset(ds, 0, sizeof *ds);
  return tshoot_compile(NULL, &path, 1, out, &o);
}

static char *slurp(const char *path, size_t *len)
{
  char *buf = NULL;
  if (ts_read_file(&buf, len, path, 64u << 20) != TSHOOT_OK) return NULL;
  return buf;
}

/* Expectations "<!-- expect CODE @X -->" at the end of a line (one or more):
** CODE at that line, at the column of attribute X= (or element <X), or any
** column. */
static void check_expectations(const char *path, const diags *ds)
{
  size_t len;
  char *text = slurp(path, &len), *line = text;
  int lineno = 1, matched[256] = { 0 }, i, nexp = 0;
  CHECK(text != NULL);
  if (!text) return;
  while (line && *line) {
    char *end = strchr(line, '\n'), *e;
    if (end) *end = '\0';
    /* one line may carry several expectations */
    for (e = strstr(line, "<!-- expect "); e; e = strstr(e + 1, "<!-- expect ")) {
      char code[16] = "", at[64] = "";
      int col = 0, found = 0;
      sscanf(e, "<!-- expect %15s @%63[^ ]", code, at);
      if (at[0]) {
        char pat[80];
        char *hit;
        /* @<element, @attribute, or @"text (the column of that text) */
        if (at[0] == '<') snprintf(pat, sizeof pat, "%s", at);
        else if (at[0] == '"') snprintf(pat, sizeof pat, "%s", at + 1);
        else snprintf(pat, sizeof pat, " %s=", at);
        hit = strstr(line, pat);
        CHECK(hit != NULL);
        if (hit) col = (int)(hit - line) + (at[0] == '<' || at[0] == '"' ? 1 : 2);
      }
      nexp++;
      for (i = 0; i < ds->n; i++)
        if (ds->d[i].line == lineno && strcmp(ds->d[i].code, code) == 0 &&
            (col == 0 || ds->d[i].col == col)) {
          matched[i] = 1;
          found = 1;
        }
      if (!found) {
        fprintf(stderr, "  expected %s at %s:%d:%d, got:\n", code, path, lineno, col);
        for (i = 0; i < ds->n; i++)
          fprintf(stderr, "    %d:%d %s %s\n", ds->d[i].line, ds->d[i].col, ds->d[i].code, ds->d[i].msg);
      }
      CHECK(found);
    }
    line = end ? end + 1 : NULL;
    lineno++;
  }
  /* no error or warning that was not expected (notes are context) */
  for (i = 0; i < ds->n; i++)
    if (!matched[i] && ds->d[i].sev != TSHOOT_NOTE) {
      int same_code_expected = 0, j;
      for (j = 0; j < ds->n; j++) if (matched[j] && strcmp(ds->d[j].code, ds->d[i].code) == 0 &&
                                        strcmp(ds->d[i].code, "TSH-E001") == 0) same_code_expected = 1;
      if (!same_code_expected) {
        fprintf(stderr, "  unexpected: %s:%d:%d: %s %s\n", ds->d[i].file, ds->d[i].line, ds->d[i].col,
                ds->d[i].code, ds->d[i].msg);
        CHECK(0);
      }
    }
  CHECK(nexp > 0);
  ts_free(text);
}

static void test_compile__mistakes_reported_at_their_place(void)
{
  diags ds;
  int rc = lint(&ds, data("lint/mistakes.xml"), NULL);
  CHECK_INT(rc, TSHOOT_ESOURCE);
  check_expectations(data("lint/mistakes.xml"), &ds);
}

/* Numbers and enumerated values are checked by the compiler at their
** attribute (TSH-E004, TSH-E006), and a bad one no longer leads the schema
** validator to report other lines. */
static void test_compile__bad_values_at_their_attribute(void)
{
  diags ds;
  int i, range = 0, listed = 0;
  CHECK_INT(lint(&ds, data("lint/values.xml"), NULL), TSHOOT_ESOURCE);
  check_expectations(data("lint/values.xml"), &ds);
  for (i = 0; i < ds.n; i++) {
    if (strcmp(ds.d[i].msg, "p is 1.7: a probability is a decimal number from 0 to 1") == 0) range = 1;
    if (strcmp(ds.d[i].msg, "type is 'bool': use yesno, choice, version, number or text") == 0) listed = 1;
  }
  CHECK(range);
  CHECK(listed);
}

/* Schema errors in some items do not switch off the checks of the others:
** one run reports every broken item and every reference error, and nothing
** that only echoes a broken element (its ids are not "unknown", its cause
** not "unreachable", its test not "empty"). */
static void test_compile__checks_run_after_schema_errors(void)
{
  diags ds;
  CHECK_INT(lint(&ds, data("lint/after-schema.xml"), NULL), TSHOOT_ESOURCE);
  check_expectations(data("lint/after-schema.xml"), &ds);
}

/* Children may come in any order where order means nothing (RELAX NG
** interleave); the repeated ones keep theirs. */
static void test_compile__children_in_any_order(void)
{
  diags ds;
  CHECK_INT(lint(&ds, data("lint/any-order.xml"), NULL), TSHOOT_OK);
  CHECK_INT(ds.n, 0);
}

/* Each kind of structure error (missing attribute, unknown attribute,
** unknown element, bad id, missing id) at its element or attribute, all in
** one run, none echoed onto other lines. */
static void test_compile__structure_errors_at_their_place(void)
{
  diags ds;
  CHECK_INT(lint(&ds, data("lint/structure.xml"), NULL), TSHOOT_ESOURCE);
  check_expectations(data("lint/structure.xml"), &ds);
}

static void test_compile__did_you_mean(void)
{
  diags ds;
  int i, seen_q = 0, seen_c = 0, seen_note = 0;
  lint(&ds, data("lint/mistakes.xml"), NULL);
  for (i = 0; i < ds.n; i++) {
    if (strstr(ds.d[i].msg, "unknown question 'office.versoin' (did you mean 'office.version'?)")) seen_q = 1;
    if (strstr(ds.d[i].msg, "unknown cause 'registri' (did you mean 'registry'?)")) seen_c = 1;
    if (ds.d[i].sev == TSHOOT_NOTE && strstr(ds.d[i].msg, "first defined here")) seen_note = 1;
  }
  CHECK(seen_q);
  CHECK(seen_c);
  CHECK(seen_note);
}

static void test_compile__schema_errors(void)
{
  diags ds;
  CHECK_INT(lint(&ds, data("lint/schema-error.xml"), NULL), TSHOOT_ESOURCE);
  check_expectations(data("lint/schema-error.xml"), &ds);
  CHECK_INT(lint(&ds, data("lint/not-well-formed.xml"), NULL), TSHOOT_ESOURCE);
  check_expectations(data("lint/not-well-formed.xml"), &ds);
}

static void test_compile__good_kb_compiles_and_opens(void)
{
  diags ds;
  tshoot_kb *kb = NULL;
  tshoot_kb_info info;
  int rc = lint(&ds, data("compile/good.xml"), tmp("good.db"));
  CHECK_INT(rc, TSHOOT_OK);
  CHECK_INT(ds.n, 0);
  CHECK_INT(tshoot_kb_open(&kb, tmp("good.db"), NULL), TSHOOT_OK);
  if (!kb) return;
  CHECK_INT(tshoot_kb_info_get(&info, kb), TSHOOT_OK);
  CHECK_INT(info.articles, 1);
  CHECK_INT(info.questions, 3);
  CHECK_INT(info.facts, 1);
  CHECK_INT(info.causes, 2);
  CHECK_INT(info.fixes, 2);
  CHECK_INT(info.tests, 2);
  CHECK_INT(strlen(info.digest), 64);
  CHECK_STR(info.tshoot_version, TSHOOT_VERSION);
  tshoot_kb_close(kb);
}

static int same_file(const char *a, const char *b)
{
  size_t la, lb;
  char *x = slurp(a, &la), *y = slurp(b, &lb);
  int same = x && y && la == lb && memcmp(x, y, la) == 0;
  ts_free(x);
  ts_free(y);
  return same;
}

static int stray_temp_files(void)
{
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".tmp-")) n++;
  closedir(d);
  return n;
}

static void test_compile__same_sources_same_bytes(void)
{
  diags ds;
  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("a.db")), TSHOOT_OK);
  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("b.db")), TSHOOT_OK);
  CHECK(same_file(tmp("a.db"), tmp("b.db")));
}

/* article_fts keeps no text of its own: its content is rank_doc's text
** columns (KB format 5; format 4 had a table of its own for them,
** article_text), which must be exactly the text that was indexed
** (FTS5's integrity-check with rank 1 compares the index with that content;
** a changed fix text then breaks it) and exactly the model's fields joined
** as the compiler joins them (format 3 read them through this very query, a
** view). */
static int fts_integrity(const char *path)
{
  sqlite3 *db = NULL;
  int rc;
  if (sqlite3_open(path, &db) != SQLITE_OK) { sqlite3_close(db); return -1; }
  rc = sqlite3_exec(db, "INSERT INTO article_fts(article_fts, rank) VALUES('integrity-check', 1)", NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static const char sql_model_text[] =
  "SELECT a.id, a.title,"
  " (SELECT group_concat(t, char(10)) FROM (SELECT CASE WHEN s.code IS NULL THEN s.text ELSE s.text || char(10) || s.code END AS t"
  "  FROM symptom AS s WHERE s.article = a.id ORDER BY s.id)) AS symptoms,"
  " a.name || coalesce(char(10) || (SELECT group_concat(t, char(10)) FROM (SELECT al.text AS t FROM alias AS al WHERE al.article = a.id ORDER BY al.pos)), '')"
  "  || coalesce(char(10) || (SELECT group_concat(t, char(10)) FROM (SELECT ca.text AS t FROM cause AS c JOIN cause_alias AS ca ON ca.cause = c.id"
  "  WHERE c.article = a.id ORDER BY c.id, ca.pos)), '') AS aliases,"
  " (SELECT CASE WHEN a.summary IS NULL THEN g WHEN g IS NULL THEN a.summary ELSE a.summary || char(10) || g END"
  "  FROM (SELECT group_concat(t, char(10)) AS g FROM (SELECT c.title || char(10) || c.explanation AS t FROM cause AS c WHERE c.article = a.id ORDER BY c.id))) AS causes,"
  " (SELECT group_concat(t, char(10)) FROM (SELECT f.title"
  "  || coalesce(char(10) || (SELECT group_concat(t, char(10)) FROM (SELECT fs.text AS t FROM fix_step AS fs WHERE fs.fix = f.id ORDER BY fs.pos)), '')"
  "  || coalesce(char(10) || f.verify, '') AS t FROM cause AS c JOIN fix AS f ON f.cause = c.id WHERE c.article = a.id ORDER BY f.id)) AS fixes"
  " FROM article AS a";

/* Articles whose text in rank_doc differs from the model's, and articles. */
static void text_vs_model(const char *path, int *differ, int *articles)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char sql[4096];
  *differ = *articles = -1;
  snprintf(sql, sizeof sql,
           "SELECT sum(r.id IS NULL OR r.title IS NOT m.title OR r.symptoms IS NOT m.symptoms"
           " OR r.aliases IS NOT m.aliases OR r.causes IS NOT m.causes OR r.fixes IS NOT m.fixes),"
           " count(*) FROM (%s) AS m LEFT JOIN rank_doc AS r ON r.id = m.id", sql_model_text);
  CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) {
    *differ = sqlite3_column_int(st, 0);
    *articles = sqlite3_column_int(st, 1);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void test_compile__fts_content_is_the_model_text(void)
{
  diags ds;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int differ, articles;
  const char *shipped = getenv("TSHOOT_KB");
  if (shipped) {                      /* the shipped KB, on a copy */
    size_t len;
    char *bytes = slurp(shipped, &len);
    FILE *f = fopen(tmp("kerio.db"), "wb");
    CHECK(bytes != NULL && f != NULL);
    if (bytes && f) CHECK_INT(fwrite(bytes, 1, len, f), len);
    if (f) fclose(f);
    ts_free(bytes);
    CHECK_INT(fts_integrity(tmp("kerio.db")), SQLITE_OK);
    text_vs_model(tmp("kerio.db"), &differ, &articles);
    CHECK_INT(differ, 0);
    CHECK(articles > 1);
  }
  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("content.db")), TSHOOT_OK);
  CHECK_INT(fts_integrity(tmp("content.db")), SQLITE_OK);
  text_vs_model(tmp("content.db"), &differ, &articles);
  CHECK_INT(differ, 0);
  CHECK(articles >= 1);
  CHECK_INT(sqlite3_open(tmp("content.db"), &db), SQLITE_OK);
  /* no other copy of the text */
  CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'article_fts_content'", -1,
                               &st, NULL), SQLITE_OK);
  CHECK_INT(sqlite3_step(st), SQLITE_ROW);
  CHECK_INT(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  CHECK_INT(sqlite3_exec(db, "UPDATE rank_doc SET fixes = 'zebra' WHERE id = 1", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  CHECK_INT(fts_integrity(tmp("content.db")) & 0xff, SQLITE_CORRUPT);
}

static void test_compile__failed_compile_keeps_old_kb(void)
{
  diags ds;
  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("keep.db")), TSHOOT_OK);
  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("keep-copy.db")), TSHOOT_OK);
  CHECK_INT(lint(&ds, data("lint/mistakes.xml"), tmp("keep.db")), TSHOOT_ESOURCE);
  CHECK(same_file(tmp("keep.db"), tmp("keep-copy.db")));
  CHECK_INT(stray_temp_files(), 0);
}

static int cancel_at_write(const char *phase, size_t done, size_t total, void *p)
{
  (void)done; (void)total;
  ++*(int *)p;
  return strcmp(phase, "write") == 0;
}

/* Cancelled while the sources are read: article_fts's thread (kb_write.c)
** is already running then, and must stop, free everything and leave nothing
** behind (ASan and TSan run this test). */
static int cancel_at_read(const char *phase, size_t done, size_t total, void *p)
{
  (void)done;
  (void)total;
  ++*(int *)p;
  return strcmp(phase, "read") == 0;
}

static void test_compile__cancel_while_reading(void)
{
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  const char *src = data("compile/good.xml");
  int calls = 0;
  o.on_progress = cancel_at_read;
  o.progress_payload = &calls;
  CHECK_INT(tshoot_compile(NULL, &src, 1, tmp("cancel-read.db"), &o), TSHOOT_EUSER);
  CHECK_INT(calls, 1);
  CHECK(access(tmp("cancel-read.db"), F_OK) != 0);
  CHECK_INT(stray_temp_files(), 0);
}

static void test_compile__cancel_keeps_old_kb(void)
{
  diags ds;
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  const char *src = data("compile/good.xml");
  int calls = 0;
  CHECK_INT(lint(&ds, src, tmp("cancel.db")), TSHOOT_OK);
  CHECK_INT(lint(&ds, src, tmp("cancel-copy.db")), TSHOOT_OK);
  o.on_progress = cancel_at_write;
  o.progress_payload = &calls;
  CHECK_INT(tshoot_compile(NULL, &src, 1, tmp("cancel.db"), &o), TSHOOT_EUSER);
  CHECK(calls > 0);
  CHECK(same_file(tmp("cancel.db"), tmp("cancel-copy.db")));
  CHECK_INT(stray_temp_files(), 0);
}

static void test_compile__missing_and_empty_sources(void)
{
  const char *nosuch = "/nonexistent/kb-folder";
  const char *empty = tmp("empty-dir");
  mkdir(empty, 0755);
  CHECK_INT(tshoot_compile(NULL, &nosuch, 1, NULL, NULL), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "no such file or folder");
  CHECK_INT(tshoot_compile(NULL, &empty, 1, NULL, NULL), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "no .xml files");
  CHECK_INT(tshoot_compile(NULL, NULL, 0, NULL, NULL), TSHOOT_EINVALID);
}

static void test_compile__file_size_cap(void)
{
  diags ds;
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  const char *src = data("compile/good.xml");
  int i;
  o.on_diagnostic = collect;
  o.diagnostic_payload = &ds;
  o.max_file_size = 100;
  memset(&ds, 0, sizeof ds);
  CHECK_INT(tshoot_compile(NULL, &src, 1, NULL, &o), TSHOOT_ESOURCE);
  for (i = 0; i < ds.n; i++) if (strcmp(ds.d[i].code, "TSH-E031") == 0) break;
  CHECK(i < ds.n);
  if (i < ds.n) CHECK_CONTAINS(ds.d[i].msg, "split it");
}

/* Many articles, so that the write phase lasts long enough to be killed. */
static void write_big_source(const char *dir, int articles)
{
  char path[700];
  FILE *f;
  int i, j;
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/big.xml", dir);
  f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kb xmlns=\"urn:tshoot:kb:1\" id=\"big\">\n");
  for (i = 0; i < articles; i++) {
    fprintf(f, "<article id=\"a%d\"><title>Article %d about widget%d failure</title><symptoms>", i, i, i % 97);
    for (j = 0; j < 8; j++) fprintf(f, "<symptom>symptom word%d word%d word%d gadget%d</symptom>", (i * 7 + j) % 3001, (i + j) % 101, j, i % 13);
    fprintf(f, "</symptoms><cause id=\"c%d\"><title>Cause %d</title><explanation>", i, i);
    for (j = 0; j < 40; j++) fprintf(f, "term%d ", (i * 31 + j * 17) % 5003);
    fprintf(f, "</explanation><fix id=\"f%d\"><title>Fix %d</title><step>", i, i);
    for (j = 0; j < 60; j++) fprintf(f, "step%d ", (i * 13 + j * 11) % 4001);
    fprintf(f, "</step></fix></cause></article>\n");
  }
  fprintf(f, "</kb>\n");
  fclose(f);
}

/* One source of many articles: they are written as it is walked, and the
** progress callback is called every 256 of them, so a cancel takes effect in
** the middle of the file. */
typedef struct read_calls { int n; size_t done; } read_calls;

static int cancel_at_second_read(const char *phase, size_t done, size_t total, void *p)
{
  read_calls *rc = p;
  (void)total;
  if (strcmp(phase, "read") != 0) return 0;
  rc->done = done;
  return ++rc->n == 2;
}

static void test_compile__cancel_inside_a_large_source(void)
{
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  char dir[600];
  const char *src = dir;
  read_calls calls = { 0, 99 };
  snprintf(dir, sizeof dir, "%s/big-cancel", tmpdir);
  write_big_source(dir, 1000);
  o.on_progress = cancel_at_second_read;
  o.progress_payload = &calls;
  CHECK_INT(tshoot_compile(NULL, &src, 1, tmp("cancel-big.db"), &o), TSHOOT_EUSER);
  CHECK_INT(calls.n, 2);
  CHECK_INT(calls.done, 0);             /* inside the file, not after it */
  CHECK(access(tmp("cancel-big.db"), F_OK) != 0);
  CHECK_INT(stray_temp_files(), 0);
}

static void test_compile__killed_compile_leaves_old_kb(void)
{
  diags ds;
  char bigdir[600];
  const char *src;
  pid_t pid;
  int status, caught = 0, attempt;
  struct timespec ts = { 0, 200000 };
  tshoot_kb *kb = NULL;

  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("killed.db")), TSHOOT_OK);
  CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("killed-copy.db")), TSHOOT_OK);
  snprintf(bigdir, sizeof bigdir, "%s/big", tmpdir);
  write_big_source(bigdir, 6000);
  src = bigdir;
  for (attempt = 0; attempt < 3 && !caught; attempt++) {
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
      int rc = tshoot_compile(NULL, &src, 1, tmp("killed.db"), NULL);
      _exit(rc == TSHOOT_OK ? 0 : 3);
    }
    /* wait until the temporary KB is being written, then kill -9 */
    for (;;) {
      DIR *d = opendir(tmpdir);
      struct dirent *e;
      int found = 0;
      if (d) {
        while ((e = readdir(d)) != NULL)
          if (strstr(e->d_name, ".killed.db.tmp-")) {
            struct stat st;
            char p[800];
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            if (stat(p, &st) == 0 && st.st_size > 0) found = 1;
          }
        closedir(d);
      }
      if (found) { kill(pid, SIGKILL); caught = 1; break; }
      if (waitpid(pid, &status, WNOHANG) == pid) { pid = 0; break; }
      nanosleep(&ts, NULL);
    }
    if (pid) waitpid(pid, &status, 0);
    if (!caught) /* it finished first: put the old KB back and try again */
      CHECK_INT(lint(&ds, data("compile/good.xml"), tmp("killed.db")), TSHOOT_OK);
  }
  CHECK(caught);
  CHECK(same_file(tmp("killed.db"), tmp("killed-copy.db")));
  CHECK_INT(tshoot_kb_open(&kb, tmp("killed.db"), NULL), TSHOOT_OK);
  tshoot_kb_close(kb);
}

static void test_compile__allocation_failures_fail_cleanly(void)
{
  diags ds;
  long n;
  int ok = 0;
  for (n = 0; n < 5000 && !ok; n += (n < 200 ? 1 : 37)) {
    int rc;
    ts_alloc_fail_after(n);
    rc = lint(&ds, data("compile/good.xml"), tmp("oom.db"));
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) ok = 1;
    else if (rc != TSHOOT_ENOMEM && rc != TSHOOT_ERROR && rc != TSHOOT_EIO && rc != TSHOOT_ESOURCE) {
      fprintf(stderr, "  allocation %ld failed gave %d: %s\n", n, rc, tshoot_error_last()->message);
      CHECK(0);
      break;
    }
  }
  CHECK(ok);
}

/* The articles are written as their source is read (kb_write_articles);
** a cause whose evidence answers a question of a later source gets that
** question's words in cause_term all the same, in whichever order the files
** come, and the KB is the same file every time for the same order. */
static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* A term's row in cause_term (kb_cause_words.c): how many causes use it, and
** for the first, its weighted count in halves and its length in tokens; -1
** for no row. */
static int cause_words(const char *kb, const char *term, int *halves, int *dl)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int df = -1;
  *halves = *dl = -1;
  if (sqlite3_open_v2(kb, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT df, post FROM cause_term WHERE term = ?", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char *p = sqlite3_column_blob(st, 1);
      size_t n = (size_t)sqlite3_column_bytes(st, 1), k;
      uint64_t v[3];
      int i;
      df = sqlite3_column_int(st, 0);
      for (i = 0; i < 3 && p; i++, p += k, n -= k)
        if (!(k = ts_varint_get(p, n, &v[i]))) break;
      if (i == 3) {
        *halves = (int)v[1];
        *dl = (int)v[2];
      }
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return df;
}

static int meta_int(const char *kb, const char *key)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int v = -1;
  if (sqlite3_open_v2(kb, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) v = atoi((const char *)sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static void test_compile__answers_of_a_later_source(void)
{
  tshoot_compile_options o = TSHOOT_COMPILE_OPTIONS_INIT;
  diags ds;
  const char *ab[2], *ba[2];
  char a[600], b[600];
  snprintf(a, sizeof a, "%s", tmp("later-a.xml"));
  snprintf(b, sizeof b, "%s", tmp("later-b.xml"));
  write_file(a, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<kb xmlns=\"urn:tshoot:kb:1\" id=\"later\">\n"
             "  <article id=\"art\">\n"
             "    <title>Widget stalls</title>\n"
             "    <symptoms><symptom>The widget stalls at start</symptom></symptoms>\n"
             "    <cause id=\"worn\" prior=\"0.5\">\n"
             "      <title>A worn belt</title>\n"
             "      <explanation>The belt slips when it is worn.</explanation>\n"
             "      <evidence><answer question=\"belt.squeaks\" value=\"yes\" p=\"0.9\"/></evidence>\n"
             "    </cause>\n"
             "  </article>\n"
             "</kb>\n");
  write_file(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<kb xmlns=\"urn:tshoot:kb:1\" id=\"later\">\n"
             "  <question id=\"belt.squeaks\" type=\"yesno\"><prompt>Does the zanzibar belt squeak?</prompt></question>\n"
             "</kb>\n");
  ab[0] = a; ab[1] = b;
  ba[0] = b; ba[1] = a;
  o.on_diagnostic = collect;
  o.diagnostic_payload = &ds;
  memset(&ds, 0, sizeof ds);
  CHECK_INT(tshoot_compile(NULL, ab, 2, tmp("later-ab.db"), &o), TSHOOT_OK);
  CHECK_INT(ds.n, 0);
  CHECK_INT(tshoot_compile(NULL, ab, 2, tmp("later-ab2.db"), &o), TSHOOT_OK);
  CHECK_INT(tshoot_compile(NULL, ba, 2, tmp("later-ba.db"), &o), TSHOOT_OK);
  /* halves: title and explanation 2 a word, symptoms 2, answers 1; the
  ** cause's tokens: 3 + 7 + 5 + 5 */
  {
    const char *kbs[2] = { tmp("later-ab.db"), tmp("later-ba.db") };
    int i, halves, dl;
    for (i = 0; i < 2; i++) {
      CHECK_INT(cause_words(kbs[i], "zanzibar", &halves, &dl), 1);
      CHECK_INT(halves, 1);
      CHECK_INT(dl, 20);
      CHECK_INT(cause_words(kbs[i], "belt", &halves, &dl), 1);
      CHECK_INT(halves, 2 + 2 + 1);
      CHECK_INT(cause_words(kbs[i], "stall", &halves, &dl), 1);   /* porter's stem */
      CHECK_INT(halves, 2);
      CHECK_INT(cause_words(kbs[i], "stalls", &halves, &dl), -1);
      CHECK_INT(meta_int(kbs[i], TS_META_CAUSE_TOKENS), 20);
    }
  }
  CHECK_INT(fts_integrity(tmp("later-ab.db")), SQLITE_OK);
  CHECK(same_file(tmp("later-ab.db"), tmp("later-ab2.db")));
}

int main(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  snprintf(srcroot, sizeof srcroot, "%s", root ? root : "..");
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-test-compile-XXXXXX");
  if (!mkdtemp(tmpdir)) return 99;
  RUN(test_compile__mistakes_reported_at_their_place);
  RUN(test_compile__bad_values_at_their_attribute);
  RUN(test_compile__checks_run_after_schema_errors);
  RUN(test_compile__children_in_any_order);
  RUN(test_compile__structure_errors_at_their_place);
  RUN(test_compile__did_you_mean);
  RUN(test_compile__schema_errors);
  RUN(test_compile__good_kb_compiles_and_opens);
  RUN(test_compile__same_sources_same_bytes);
  RUN(test_compile__fts_content_is_the_model_text);
  RUN(test_compile__answers_of_a_later_source);
  RUN(test_compile__failed_compile_keeps_old_kb);
  RUN(test_compile__cancel_keeps_old_kb);
  RUN(test_compile__cancel_while_reading);
  RUN(test_compile__cancel_inside_a_large_source);
  RUN(test_compile__missing_and_empty_sources);
  RUN(test_compile__file_size_cap);
  RUN(test_compile__killed_compile_leaves_old_kb);
  RUN(test_compile__allocation_failures_fail_cleanly);
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  TEST_EXIT();
}
