/*
** cmd_search.c: `tshoot search TEXT...` (or `-`: the text from standard
** input): numbered results with passages (matches in bold, or between the
** --mark strings), a did-you-mean line, --json, and --show (the best
** article in full). Exit 1 when nothing matches, as grep.
*/
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The passage with each mark between mo and mc (one line). NULL on oom. */
static char *marked_passage(const tshoot_result *r, const char *mo, const char *mc)
{
  size_t n = strlen(r->passage), lo = strlen(mo), lc = strlen(mc), at = 0, k = 0, m;
  char *s = malloc(n + r->n_marks * (lo + lc) + 1);
  if (!s) return NULL;
  for (m = 0; m < r->n_marks; m++) {
    size_t a = r->marks[m].start, b = r->marks[m].end;
    if (a < at || b < a || b > n) break;       /* the library keeps them in order */
    memcpy(s + k, r->passage + at, a - at); k += a - at;
    memcpy(s + k, mo, lo); k += lo;
    memcpy(s + k, r->passage + a, b - a); k += b - a;
    memcpy(s + k, mc, lc); k += lc;
    at = b;
  }
  memcpy(s + k, r->passage + at, n - at);
  s[k + n - at] = '\0';
  return s;
}

static void print_result(FILE *f, size_t i, const tshoot_result *r, int width, const char *mo,
                         const char *mc)
{
  char label[32];
  int lw;
  snprintf(label, sizeof label, "%zu. ", i + 1);
  lw = (int)strlen(label);
  fprintf(f, "%s%s", label, cli_sgr(f, SGR_BOLD));
  cli_wrap(f, r->title ? r->title : "", lw, lw, width);
  fprintf(f, "%s%*s%s%s  (score %.3g)%s\n", cli_sgr(f, SGR_RESET), lw, "", cli_sgr(f, SGR_DIM),
          r->article, r->score, cli_sgr(f, SGR_RESET));
  if (r->passage && *r->passage) {
    char *s = marked_passage(r, mo, mc);
    if (s) {
      fprintf(f, "%*s", lw, "");
      cli_wrap(f, s, lw, lw, width);
      free(s);
    }
  }
  if (r->file)
    fprintf(f, "%*s%s%s:%d%s\n", lw, "", cli_sgr(f, SGR_DIM), r->file, r->line,
            cli_sgr(f, SGR_RESET));
}

/* The search text: the words of argv joined by spaces, or standard input for
** "-" (or for no words when stdin is a pipe or a file). EXIT_OK or an exit
** status with the error printed. */
static int search_text(int argc, char **argv, char **text, size_t *len)
{
  int from_stdin = argc == 1 && strcmp(argv[0], "-") == 0;
  struct stat st;
  if (argc == 0 && fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode)))
    from_stdin = 1;             /* piped or redirected: not a terminal, not /dev/null */
  if (from_stdin) {
    if (cli_read_file("/dev/stdin", (size_t)64 << 20, text, len) != 0)
      return cli_error("cannot read the search text from standard input: %s", strerror(errno));
  } else if (argc > 0) {
    *text = cli_join_words(argc, argv);
    if (!*text) return cli_error("out of memory");
    *len = strlen(*text);
  }
  if (!*text || *len == 0) {
    free(*text);
    *text = NULL;
    return cli_usage_error("search", "no search text: say what goes wrong, e.g. "
                                     "'tshoot search outlook does not start'");
  }
  return EXIT_OK;
}

int cmd_search(int argc, char **argv)
{
  static const struct option longs[] = {
    { "limit", required_argument, NULL, 'n' },
    { "show", no_argument, NULL, 's' },
    { "open", no_argument, NULL, 's' },
    { "json", no_argument, NULL, 'j' },
    { "kb", required_argument, NULL, 'k' },
    { "mark", required_argument, NULL, 'm' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  tshoot_search_options so = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_kb *kb = NULL;
  tshoot_results *res = NULL;
  tshoot_article *art = NULL;
  const char *kb_opt = NULL;
  char *text = NULL, *mark = NULL;
  const char *mo = "[", *mc = "]";
  int c, rc, limit = 10, show = 0, json = 0, status = EXIT_OK;
  size_t i, n, len = 0;

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
    case 'm':
      if (!strchr(optarg, ','))
        return cli_usage_error("search", "--mark wants OPEN,CLOSE (e.g. '<<,>>'), not '%s'",
                               optarg);
      free(mark);
      mark = strdup(optarg);
      if (!mark) return cli_error("out of memory");
      break;
    case 'h': cli_print_command_help(stdout, "search"); return EXIT_OK;
    default: return cli_getopt_error("search", c, argv);
    }
  }
  if (mark) {
    char *comma = strchr(mark, ',');
    *comma = '\0';
    mo = mark;
    mc = comma + 1;
  } else if (!json && cli_color_out()) {
    mo = "\033[1m";
    mc = "\033[22m";
  }
  status = search_text(argc - optind, argv + optind, &text, &len);
  if (status != EXIT_OK) {
    free(mark);
    return status;
  }

  if (cli_open_kb(&kb, kb_opt, NULL) != EXIT_OK) {
    free(text);
    free(mark);
    return EXIT_FAIL;
  }
  so.limit = limit;
  rc = tshoot_search(&res, kb, text, len, &so);
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
    json_object_set_new(j, "version", json_integer(1));
    json_object_set_new(j, "query", cli_jstr(tshoot_results_text(res)));
    json_object_set_new(j, "fts", cli_jstr(tshoot_results_query(res)));
    json_object_set_new(j, "suggestion", cli_jstr(tshoot_results_suggestion(res)));
    json_object_set_new(j, "truncated", json_boolean(tshoot_results_truncated(res)));
    for (i = 0; i < n; i++) {
      const tshoot_result *r = tshoot_results_get(res, i);
      json_t *o = json_object();
      json_object_set_new(o, "article", cli_jstr(r->article));
      json_object_set_new(o, "title", cli_jstr(r->title));
      json_object_set_new(o, "score", json_real(r->score));
      json_t *marks = json_array();
      size_t m;
      json_object_set_new(o, "snippet", cli_jstr(r->passage));
      for (m = 0; m < r->n_marks; m++)
        json_array_append_new(marks, json_pack("[II]", (json_int_t)r->marks[m].start,
                                               (json_int_t)r->marks[m].end));
      json_object_set_new(o, "marks", marks);
      json_object_set_new(o, "file", cli_jstr(r->file));
      json_object_set_new(o, "line", json_integer(r->line));
      json_array_append_new(arr, o);
    }
    json_object_set_new(j, "results", arr);
    if (show) json_object_set_new(j, "article", art ? cli_article_json(art) : json_null());
    status = cli_json_print(j);
    if (status == EXIT_OK && n == 0) status = EXIT_FAIL;   /* as grep: nothing found */
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
      const char *t = tshoot_results_text(res);
      int cut = (int)strlen(t);
      if (strcspn(t, "\r\n") < (size_t)cut) cut = (int)strcspn(t, "\r\n");
      if (cut > 200) {          /* a pasted log: its beginning, on a character boundary */
        cut = 200;
        while (cut > 0 && ((unsigned char)t[cut] & 0xc0) == 0x80) cut--;
      }
      fflush(stdout);
      fprintf(stderr, "no articles match '%.*s%s'\n", cut, t, t[cut] ? "..." : "");
      status = EXIT_FAIL;       /* as grep: nothing found */
      goto done;
    }
    for (i = 0; i < n; i++) {
      if (i) putchar('\n');
      print_result(stdout, i, tshoot_results_get(res, i), width, mo, mc);
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
  free(mark);
  return status;
}
