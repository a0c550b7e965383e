/*
** test-article.c: tshoot_article_load / tshoot_article_free over a KB
** compiled from tests/data/cli/good: every field in its order, unknown ids
** with did-you-mean, bad arguments, and allocation failures (no leak, a
** clean error, each time).
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char kb_path[512];
static tshoot_kb *kb;

static int setup(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char src[1024], dir[] = "/tmp/tshoot-article.XXXXXX";
  const char *srcs[1];
  tshoot_compile_stats st;
  int rc;
  if (!root || !mkdtemp(dir)) return -1;
  snprintf(src, sizeof src, "%s/tests/data/cli/good", root);
  snprintf(kb_path, sizeof kb_path, "%s/kb.db", dir);
  srcs[0] = src;
  rc = tshoot_compile(&st, srcs, 1, kb_path, NULL);
  if (rc != TSHOOT_OK) {
    fprintf(stderr, "compile failed: %s\n", tshoot_error_last()->message);
    return -1;
  }
  rc = tshoot_kb_open(&kb, kb_path, NULL);
  if (rc != TSHOOT_OK) {
    fprintf(stderr, "open failed: %s\n", tshoot_error_last()->message);
    return -1;
  }
  return 0;
}

static void teardown(void)
{
  char dir[512];
  tshoot_kb_close(kb);
  unlink(kb_path);
  snprintf(dir, sizeof dir, "%s", kb_path);
  *strrchr(dir, '/') = '\0';
  rmdir(dir);
}

static void test_article__loads_every_field(void)
{
  tshoot_article *a = NULL;
  const tshoot_cause_info *c;
  const tshoot_fix_info *f;
  CHECK_INT(tshoot_article_load(&a, kb, "printer-offline"), TSHOOT_OK);
  if (!a) return;
  CHECK_STR(a->id, "printer-offline");
  CHECK_STR(a->title, "Printer shows as offline");
  CHECK_CONTAINS(a->summary, "print jobs wait");
  CHECK_CONTAINS(a->file, "printer.xml");
  CHECK(a->line > 0);
  CHECK_INT(a->n_symptoms, 2);
  if (a->n_symptoms == 2) {
    CHECK_STR(a->symptoms[0].id, "queue-stuck");
    CHECK_STR(a->symptoms[0].kind, "symptom");
    CHECK(a->symptoms[0].code == NULL);
    CHECK_STR(a->symptoms[0].text, "Print jobs stay in the queue");
    CHECK_STR(a->symptoms[1].kind, "error");
    CHECK_STR(a->symptoms[1].code, "0x00000709");
  }
  CHECK_INT(a->n_aliases, 1);
  if (a->n_aliases == 1) CHECK_STR(a->aliases[0], "printer not responding");
  CHECK_INT(a->n_causes, 2);
  if (a->n_causes == 2) {
    c = &a->causes[0];
    CHECK_STR(c->id, "printer-unpowered");
    CHECK_STR(c->title, "The printer has no power");
    CHECK(c->prior > 0.39 && c->prior < 0.41);
    CHECK_INT(c->n_fixes, 1);
    f = &c->fixes[0];
    CHECK_STR(f->id, "power-on");
    CHECK_INT(f->n_steps, 2);
    if (f->n_steps == 2) {
      CHECK_STR(f->steps[0], "Check that the power cable is plugged in at both ends.");
      CHECK_STR(f->steps[1], "Press the power button and wait for the light.");
    }
    CHECK_CONTAINS(f->verify, "power light is on");
    CHECK(f->script == NULL);
    CHECK_STR(f->risk, "low");
    CHECK_INT(f->needs_admin, 0);
    CHECK_INT(f->reversible, 1);
    CHECK(f->cost > 0.99 && f->cost < 1.01);
    c = &a->causes[1];
    CHECK_STR(c->id, "spooler-stuck");
    CHECK_INT(c->n_fixes, 1);
    CHECK_INT(c->fixes[0].needs_admin, 1);
    CHECK_STR(c->fixes[0].steps[1], "Restart the Print Spooler service.");
  }
  tshoot_article_free(a);
}

static void test_article__defaults_and_empty_parts(void)
{
  tshoot_article *a = NULL;
  CHECK_INT(tshoot_article_load(&a, kb, "paper-jam"), TSHOOT_OK);
  if (!a) return;
  CHECK(a->summary == NULL);
  CHECK_INT(a->n_aliases, 0);
  CHECK_INT(a->n_symptoms, 1);
  if (a->n_symptoms == 1) CHECK(a->symptoms[0].id && *a->symptoms[0].id);
  CHECK_INT(a->n_causes, 1);
  if (a->n_causes == 1) {
    CHECK(a->causes[0].prior > 0 && a->causes[0].prior <= 1);
    CHECK_INT(a->causes[0].n_fixes, 1);
    CHECK(a->causes[0].fixes[0].verify == NULL);
    CHECK(a->causes[0].fixes[0].cost > 0);
  }
  tshoot_article_free(a);
}

static void test_article__unknown_id_suggests(void)
{
  tshoot_article *a = (tshoot_article *)1;
  CHECK_INT(tshoot_article_load(&a, kb, "printer-ofline"), TSHOOT_ENOTFOUND);
  CHECK(a == NULL);
  CHECK_INT(tshoot_error_last()->code, TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "no article 'printer-ofline' in this KB");
  CHECK_CONTAINS(tshoot_error_last()->message, "did you mean 'printer-offline'?");
  CHECK_INT(tshoot_article_load(&a, kb, "PAPER-JAM"), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "did you mean 'paper-jam'?");
  CHECK_INT(tshoot_article_load(&a, kb, "zzzzzzzzzz"), TSHOOT_ENOTFOUND);
  CHECK(strstr(tshoot_error_last()->message, "did you mean") == NULL);
  CHECK_INT(tshoot_article_load(&a, kb, ""), TSHOOT_ENOTFOUND);
}

static void test_article__bad_arguments(void)
{
  tshoot_article *a = NULL;
  CHECK_INT(tshoot_article_load(NULL, kb, "paper-jam"), TSHOOT_EINVALID);
  CHECK_INT(tshoot_article_load(&a, NULL, "paper-jam"), TSHOOT_EINVALID);
  CHECK_INT(tshoot_article_load(&a, kb, NULL), TSHOOT_EINVALID);
  CHECK(a == NULL);
  tshoot_article_free(NULL);
}

static void test_article__allocation_failures(void)
{
  long n;
  int ok = 0;
  for (n = 0; n < 200 && !ok; n++) {
    tshoot_article *a = NULL;
    int rc;
    ts_alloc_fail_after(n);
    rc = tshoot_article_load(&a, kb, "printer-offline");
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) {
      CHECK(a != NULL);
      ok = 1;
    } else {
      CHECK(a == NULL);
      CHECK(rc == TSHOOT_ENOMEM || rc == TSHOOT_ERROR);
    }
    tshoot_article_free(a);
  }
  CHECK(ok);
}

static void test_article__many_loads_share_connections(void)
{
  int i;
  for (i = 0; i < 50; i++) {
    tshoot_article *a = NULL;
    CHECK_INT(tshoot_article_load(&a, kb, i % 2 ? "paper-jam" : "printer-offline"), TSHOOT_OK);
    tshoot_article_free(a);
  }
}

int main(void)
{
  if (setup() != 0) {
    fprintf(stderr, "setup failed\n");
    return 99;
  }
  RUN(test_article__loads_every_field);
  RUN(test_article__defaults_and_empty_parts);
  RUN(test_article__unknown_id_suggests);
  RUN(test_article__bad_arguments);
  RUN(test_article__allocation_failures);
  RUN(test_article__many_loads_share_connections);
  teardown();
  TEST_EXIT();
}
