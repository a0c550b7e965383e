/*
** cmd_complete.c: `tshoot complete CWORD WORD...`, hidden: what the shell's
** completion (tshoot.bash) offers for word CWORD of the command line WORD...
** (WORD 0 is tshoot itself, as bash's COMP_WORDS and COMP_CWORD have them).
**
** Prints the candidates that start with the word being completed, one a
** line: command names, a command's options (read from its help text in
** help.c, so that a new option is completed without a change here), and the
** ids that show (articles), fix (causes) and test (tests) take, from the KB
** that the line's --kb names or the default one. A first line "@files" asks
** the shell for file names instead. Prints nothing when it cannot help (an
** unknown command, no KB), and never an error: the shell shows none.
*/
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OPTIONS 64

static int starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void offer(const char *cand, size_t len, const char *cur)
{
  size_t n = strlen(cur);
  if (len >= n && strncmp(cand, cur, n) == 0) printf("%.*s\n", (int)len, cand);
}

/* Does the argument of an option name a file ("FILE", "sim:FILE", "DIR",
** "KB", "SCRIPT")? */
static int file_arg(const char *arg, size_t len)
{
  size_t i;
  if ((len == 2 && memcmp(arg, "KB", 2) == 0) || (len == 6 && memcmp(arg, "SCRIPT", 6) == 0))
    return 1;
  for (i = 0; i < len; i++)
    if ((len - i >= 4 && memcmp(arg + i, "FILE", 4) == 0) ||
        (len - i >= 3 && memcmp(arg + i, "DIR", 3) == 0))
      return 1;
  return 0;
}

/* The option `word` of c (exact, or "--long=..."), or NULL. */
static const cli_help_option *find_option(const cli_help_option *o, size_t n, const char *word)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (strncmp(word, o[i].name, o[i].len) == 0 && (word[o[i].len] == '\0' || word[o[i].len] == '='))
      return &o[i];
  return NULL;
}

/* The ids a command's words take, from the KB. */
static void offer_ids(const char *cmd, const char *kb_path, const char *cur)
{
  tshoot_kb *kb = NULL;
  if (tshoot_kb_open(&kb, kb_path, NULL) != TSHOOT_OK) return;
  if (strcmp(cmd, "test") == 0) {
    tshoot_tests *t = NULL;
    size_t i;
    if (tshoot_kb_tests(&t, kb) == TSHOOT_OK)
      for (i = 0; i < tshoot_tests_count(t); i++) {
        const char *id = tshoot_tests_get(t, i)->id;
        offer(id, strlen(id), cur);
      }
    tshoot_tests_free(t);
  } else {
    /* a new session ranks every cause of the KB, each with its article */
    tshoot_session *s = NULL;
    const tshoot_cause_rank *r;
    size_t n = 0, i, j;
    int articles = strcmp(cmd, "show") == 0;
    if (tshoot_session_new(&s, kb, NULL) == TSHOOT_OK && tshoot_session_causes(&r, &n, s) == TSHOOT_OK)
      for (i = 0; i < n; i++) {
        const char *id = articles ? r[i].article : r[i].cause;
        if (!id || strcmp(r[i].cause, "none") == 0) continue;
        for (j = 0; j < i; j++)    /* an article with several causes, once */
          if (articles && r[j].article && strcmp(r[j].article, id) == 0) break;
        if (j == i) offer(id, strlen(id), cur);
      }
    tshoot_session_free(s);
  }
  tshoot_kb_close(kb);
}

int cmd_complete(int argc, char **argv)
{
  cli_help_option opts[MAX_OPTIONS];
  const cli_help *h;
  const cli_help_option *prev;
  const char *cur, *cmd, *kb_path = NULL;
  char **words = argv + 2;
  int nw = argc - 2, cword, i, positionals = 0;
  size_t n_opts, k;

  /* CWORD may name the word after the last one (a new, empty word), no further */
  if (argc < 3 || cli_parse_int(argv[1], 1, 4096, &cword) != 0 || cword > nw) return EXIT_OK;
  cur = cword < nw ? words[cword] : "";
  if (cword == 1 || (nw >= 2 && cword == 2 && strcmp(words[1], "help") == 0)) {
    if (cur[0] == '-') {
      offer("--help", 6, cur);
      if (cword == 1) offer("--version", 9, cur);
    } else {
      for (k = 0; k < cli_help_n_commands; k++)
        offer(cli_help_commands[k].name, strlen(cli_help_commands[k].name), cur);
    }
    return EXIT_OK;
  }
  if (nw < 2 || !(h = cli_help_find(cmd = words[1]))) return EXIT_OK;
  n_opts = cli_help_options(h, opts, MAX_OPTIONS);
  if (n_opts > MAX_OPTIONS) n_opts = MAX_OPTIONS;

  /* the words before this one: --kb, and how many are not options */
  for (i = 2; i < cword && i < nw; i++) {
    const cli_help_option *o = find_option(opts, n_opts, words[i]);
    if (o && o->arg && !strchr(words[i], '=')) {
      if (strcmp(words[i], "--kb") == 0 && i + 1 < nw) kb_path = words[i + 1];
      i++;   /* its argument */
    } else if (starts_with(words[i], "--kb=")) {
      kb_path = words[i] + 5;
    } else if (words[i][0] != '-' || strcmp(words[i], "-") == 0) {
      positionals++;
    }
  }
  for (i = cword + 1; i + 1 < nw; i++)   /* --kb after the word */
    if (strcmp(words[i], "--kb") == 0) kb_path = words[i + 1];

  prev = find_option(opts, n_opts, words[cword - 1]);
  if (prev && prev->arg && !strchr(words[cword - 1], '=')) {
    if (file_arg(prev->arg, prev->arg_len)) printf("@files\n");
    return EXIT_OK;
  }
  if (cur[0] == '-') {
    for (k = 0; k < n_opts; k++)
      if (opts[k].len > 2) offer(opts[k].name, opts[k].len, cur);   /* long ones */
    offer("--help", 6, cur);
    return EXIT_OK;
  }
  if (strcmp(cmd, "test") == 0 || (positionals == 0 && (strcmp(cmd, "show") == 0 ||
                                                         strcmp(cmd, "fix") == 0)))
    offer_ids(cmd, kb_path, cur);
  else if (strcmp(cmd, "compile") == 0 || strcmp(cmd, "lint") == 0 ||
           (positionals == 0 && strcmp(cmd, "run") == 0))
    printf("@files\n");
  return EXIT_OK;
}
