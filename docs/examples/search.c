/*
** search.c: the API guide's example (docs/api.md). Opens a compiled KB,
** searches it for what the user typed, and prints the best article's causes
** with their fixes.
**
**   cc search.c $(pkg-config --cflags --libs tshoot) -o search
**   ./search build/kb/tshoot.db "outlook won't start, kofmsp.dll"
*/
#include <stdio.h>
#include <string.h>
#include <tshoot.h>

static int fail(const char *what)
{
  const tshoot_error *e = tshoot_error_last();
  if (e->file)
    fprintf(stderr, "%s: %s:%d:%d: %s\n", what, e->file, e->line, e->column, e->message);
  else
    fprintf(stderr, "%s: %s\n", what, e->message);
  return 1;
}

int main(int argc, char **argv)
{
  tshoot_kb *kb = NULL;
  tshoot_results *results = NULL;
  tshoot_article *article = NULL;
  tshoot_search_options opts = TSHOOT_SEARCH_OPTIONS_INIT;
  const tshoot_result *top;
  size_t i, j, k;
  int status = 1;

  if (argc != 3) {
    fprintf(stderr, "usage: %s KB \"what went wrong\"\n", argv[0]);
    return 2;
  }
  if (tshoot_kb_open(&kb, argv[1], NULL) != TSHOOT_OK)
    return fail("open");

  opts.limit = 3;
  if (tshoot_search(&results, kb, argv[2], strlen(argv[2]), &opts) != TSHOOT_OK) {
    fail("search");
    goto done;
  }
  if (tshoot_results_suggestion(results))
    printf("did you mean: %s\n", tshoot_results_suggestion(results));
  for (i = 0; i < tshoot_results_count(results); i++) {
    const tshoot_result *r = tshoot_results_get(results, i);
    printf("%zu. %s (%s, score %.2f)\n   %s\n", i + 1, r->title, r->article, r->score, r->snippet);
  }
  top = tshoot_results_get(results, 0);
  if (!top) {
    printf("no article matches\n");
    status = 0;
    goto done;
  }

  if (tshoot_article_load(&article, kb, top->article) != TSHOOT_OK) {
    fail("article");
    goto done;
  }
  printf("\n%s\n", article->title);
  for (i = 0; i < article->n_causes; i++) {
    const tshoot_cause_info *c = &article->causes[i];
    printf("\n* %s\n", c->title);
    for (j = 0; j < c->n_fixes; j++) {
      const tshoot_fix_info *f = &c->fixes[j];
      printf("  fix: %s%s\n", f->title, f->needs_admin ? " (needs admin rights)" : "");
      for (k = 0; k < f->n_steps; k++) printf("    %zu. %s\n", k + 1, f->steps[k]);
    }
  }
  status = 0;

done:
  tshoot_article_free(article);   /* each _free accepts NULL */
  tshoot_results_free(results);
  tshoot_kb_close(kb);
  return status;
}
