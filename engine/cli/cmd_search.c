/*
** cmd_search.c: `tshoot search TEXT...`: numbered results with snippets, a
** did-you-mean line, --json, and --show (the best article in full).
*/
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void print_result(FILE *f, size_t i, const tshoot_result *r, int width)
{
  char label[32];
  int lw;
  snprintf(label, sizeof label, "%zu. ", i + 1);
  lw = (int)strlen(label);
  fprintf(f, "%s%s", label, cli_sgr(f, SGR_BOLD));
  cli_wrap(f, r->title ? r->title : "", lw, lw, width);
  fprintf(f, "%s%*s%s%s  (score %.3g)%s\n", cli_sgr(f, SGR_RESET), lw, "", cli_sgr(f, SGR_DIM),
          r->article, r->score, cli_sgr(f, SGR_RESET));
  if (r->snippet && *r->snippet) {
    /* a snippet may span several texts of a column (one a line): one paragraph */
    size_t n = strlen(r->snippet), j, k = 0;
    char *s = malloc(3 * n + 1);
    if (s) {
      for (j = 0; j < n; j++) {
        char ch = r->snippet[j];
        if (ch == '\n') { memcpy(s + k, " | ", 3); k += 3; }
        else s[k++] = ch == '\r' || ch == '\t' ? ' ' : ch;
      }
      s[k] = '\0';
      fprintf(f, "%*s", lw, "");
      cli_wrap(f, s, lw, lw, width);
      free(s);
    }
  }
  if (r->file)
    fprintf(f, "%*s%s%s:%d%s\n", lw, "", cli_sgr(f, SGR_DIM), r->file, r->line,
            cli_sgr(f, SGR_RESET));
}

int cmd_search(int argc, char **argv)
{
  static const struct option longs[] = {
    { "limit", required_argument, NULL, 'n' },
    { "show", no_argument, NULL, 's' },
    { "open", no_argument, NULL, 's' },
    { "json", no_argument, NULL, 'j' },
    { "kb", required_argument, NULL, 'k' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  tshoot_search_options so = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_kb *kb = NULL;
  tshoot_results *res = NULL;
  tshoot_article *art = NULL;
  const char *kb_opt = NULL;
  char *text = NULL;
  int c, rc, limit = 10, show = 0, json = 0, status = EXIT_OK;
  size_t i, n;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":n:sh", longs, NULL)) != -1) {
    switch (c) {
    case 'n':
      if (cli_parse_int(optarg, 1, 1000, &limit) != 0)
        return cli_usage_error("search", "--limit wants a number from 1 to 1000, not '%s'", optarg);
      break;
    case 's': show = 1; break;
    case 'j': json = 1; break;
    case 'k': kb_opt = optarg; break;
    case 'h': cli_print_command_help(stdout, "search"); return EXIT_OK;
    default: return cli_getopt_error("search", c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("search", "no search text: say what goes wrong, e.g. "
                                     "'tshoot search outlook does not start'");
  text = cli_join_words(argc - optind, argv + optind);
  if (!text) return cli_error("out of memory");

  if (cli_open_kb(&kb, kb_opt, NULL) != EXIT_OK) {
    free(text);
    return EXIT_FAIL;
  }
  so.limit = limit;
  if (!json && cli_color_out()) {
    so.mark_open = "\033[1m";
    so.mark_close = "\033[22m";
  }
  rc = tshoot_search(&res, kb, text, strlen(text), &so);
  if (rc != TSHOOT_OK) {
    status = cli_lib_error(rc);
    goto done;
  }
  n = tshoot_results_count(res);
  if (show && n > 0) {
    const tshoot_result *top = tshoot_results_get(res, 0);
    rc = tshoot_article_load(&art, kb, top->article);
    if (rc != TSHOOT_OK) {
      status = cli_lib_error(rc);
      goto done;
    }
  }

  if (json) {
    json_t *j = json_object(), *arr = json_array();
    json_object_set_new(j, "query", cli_jstr(text));
    json_object_set_new(j, "fts", cli_jstr(tshoot_results_query(res)));
    json_object_set_new(j, "suggestion", cli_jstr(tshoot_results_suggestion(res)));
    json_object_set_new(j, "truncated", json_boolean(tshoot_results_truncated(res)));
    for (i = 0; i < n; i++) {
      const tshoot_result *r = tshoot_results_get(res, i);
      json_t *o = json_object();
      json_object_set_new(o, "article", cli_jstr(r->article));
      json_object_set_new(o, "title", cli_jstr(r->title));
      json_object_set_new(o, "score", json_real(r->score));
      json_object_set_new(o, "snippet", cli_jstr(r->snippet));
      json_object_set_new(o, "file", cli_jstr(r->file));
      json_object_set_new(o, "line", json_integer(r->line));
      json_array_append_new(arr, o);
    }
    json_object_set_new(j, "results", arr);
    if (show) json_object_set_new(j, "article", art ? cli_article_json(art) : json_null());
    status = cli_json_print(j);
    goto done;
  }

  {
    const char *sugg = tshoot_results_suggestion(res);
    int width = cli_width();
    if (sugg) printf("did you mean: %s%s%s?\n", cli_sgr(stdout, SGR_BOLD), sugg,
                     cli_sgr(stdout, SGR_RESET));
    if (tshoot_results_truncated(res))
      cli_note("the search ran out of its time budget; results may be missing");
    if (n == 0) {
      fflush(stdout);
      fprintf(stderr, "no articles match '%s'\n", text);
      goto done;
    }
    for (i = 0; i < n; i++) {
      if (i) putchar('\n');
      print_result(stdout, i, tshoot_results_get(res, i), width);
    }
    if (art) {
      int k;
      putchar('\n');
      for (k = 0; k < width; k++) putchar('-');
      putchar('\n');
      cli_print_article(stdout, art);
    }
  }

done:
  tshoot_article_free(art);
  tshoot_results_free(res);
  tshoot_kb_close(kb);
  free(text);
  return status;
}
