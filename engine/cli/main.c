/*
** main.c: the tshoot command: global options, dispatch to a command, help.
**
**   tshoot COMMAND [ARGS...]        run a command (see `commands` below)
**   tshoot --help | help [COMMAND]  help, on stdout, exit 0
**   tshoot --version                library version and KB format
**
** Each command parses its own options (getopt_long, GNU order: options may
** come after the words). Exit status: 0 ok, 1 failure, 2 usage error.
*/
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#ifndef TSHOOT_DEFAULT_KB
# define TSHOOT_DEFAULT_KB ""
#endif
#ifndef TSHOOT_INSTALLED_KB
# define TSHOOT_INSTALLED_KB ""
#endif

static int cmd_help(int argc, char **argv);

static const cli_command commands[] = {
  { "search", "find the articles that match what you type",
    "tshoot search TEXT... [--limit N] [--show] [--json] [--kb FILE]",
    "Search the KB for TEXT: words of a symptom, an error message or code, a\n"
    "file name. The words need no quotes; they are joined by single spaces.\n"
    "Spelling slips are corrected (the output then says 'did you mean'), and\n"
    "the last word also matches as a prefix.\n"
    "\n"
    "Results are numbered, best first: title, article id, score, the passage\n"
    "that matched (matches in bold on a terminal, else in [brackets]) and the\n"
    "source file:line. When nothing matches, a line on stderr says so and the\n"
    "exit status is still 0 (the JSON then has an empty \"results\" list).\n"
    "\n"
    "options:\n"
    "  -n, --limit N   at most N results (1-1000, default 10)\n"
    "  -s, --show      also print the best article in full, as 'tshoot show' does\n"
    "      --open      the same as --show\n"
    "      --json      one JSON object: {query, fts, suggestion, truncated,\n"
    "                  results: [{article, title, score, snippet, file, line}]}\n"
    "                  (+ \"article\" with --show)\n"
    "      --kb FILE   the KB to search (see 'tshoot --help' for the default)\n",
    "  tshoot search kofmsp.dll error\n"
    "  tshoot search --show outlook does not start after an update\n"
    "  tshoot search --limit 3 --json mapi\n",
    cmd_search },
  { "show", "print one article: symptoms, causes, and fixes step by step",
    "tshoot show ARTICLE [--json] [--kb FILE]",
    "Print article ARTICLE (an id from 'tshoot search') for a person: its title,\n"
    "summary, symptoms and exact error messages, other names, then each possible\n"
    "cause with its explanation and its fixes in the order to try them: whether\n"
    "a fix needs admin rights, can be undone, its risk, its numbered steps and\n"
    "how to check that it worked. Text is wrapped to the terminal.\n"
    "\n"
    "options:\n"
    "      --json      the whole article as one JSON object\n"
    "      --kb FILE   the KB to read (see 'tshoot --help' for the default)\n",
    "  tshoot show kofmsp\n"
    "  tshoot show --json kofmsp\n",
    cmd_show },
  { "info", "describe a compiled KB: path, format, digest, counts",
    "tshoot info [--json] [--kb FILE]",
    "Print what a compiled KB holds: its path, format version, the digest of\n"
    "its sources (it identifies a build), the tshoot version that compiled it,\n"
    "and how many articles, questions, facts, causes, fixes, tests, scripts\n"
    "and source files it has.\n"
    "\n"
    "options:\n"
    "      --json      one JSON object\n"
    "      --kb FILE   the KB to describe (see 'tshoot --help' for the default)\n",
    "  tshoot info\n"
    "  tshoot info --json\n",
    cmd_info },
  { "compile", "compile XML articles into a KB file",
    "tshoot compile DIR|FILE... -o KB [--scripts DIR]... [--quiet] [--json] [--Werror]",
    "Compile the XML articles in the given files and folders (searched for\n"
    "*.xml) into one KB file. Every problem is reported like a compiler's,\n"
    "file:line:col: error: message [code], all of them in one run. The KB is\n"
    "written to a temporary file and renamed into place: when there are\n"
    "errors, or the compile is interrupted, an existing KB is left untouched.\n"
    "\n"
    "options:\n"
    "  -o, --output KB    the KB file to write (required)\n"
    "      --scripts DIR  a folder where Lua scripts that articles name are\n"
    "                     looked up, after the source file's own folder;\n"
    "                     repeatable (default: none)\n"
    "  -q, --quiet        no progress and no summary when all went well\n"
    "      --json         one JSON object: {ok, diagnostics: [{severity, file,\n"
    "                     line, column, code, message}], stats: {...}}\n"
    "      --Werror       treat warnings as errors\n"
    "\n"
    "exit status: 0 compiled, 1 errors in the sources (or the KB could not be\n"
    "written), 2 usage error.\n",
    "  tshoot compile kb/kerio -o /tmp/kerio.db --scripts scripts\n"
    "  tshoot info --kb /tmp/kerio.db\n",
    cmd_compile },
  { "lint", "check XML articles without writing a KB",
    "tshoot lint DIR|FILE... [--scripts DIR]... [--json] [--Werror]",
    "Check the given XML articles as 'tshoot compile' does, print every\n"
    "problem as file:line:col: severity: message [code], and write nothing.\n"
    "\n"
    "options:\n"
    "      --scripts DIR  where Lua scripts are looked up (repeatable)\n"
    "      --json         one JSON object: {ok, diagnostics, stats}\n"
    "      --Werror       treat warnings as errors\n"
    "\n"
    "exit status: 0 no errors, 1 errors, 2 usage error.\n",
    "  tshoot lint kb/kerio --scripts scripts\n",
    cmd_lint },
  { "help", "show the help of a command",
    "tshoot help [COMMAND]",
    "Print the help of COMMAND, or the overview without one. The same as\n"
    "'tshoot COMMAND --help'.\n",
    "  tshoot help search\n",
    cmd_help },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const cli_command *find_command(const char *name)
{
  size_t i;
  for (i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

/* Optimal-string-alignment distance, small strings only. */
static int distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), i, j;
  int d[33][33];
  if (la > 32 || lb > 32) return 99;
  for (i = 0; i <= la; i++) d[i][0] = (int)i;
  for (j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (i = 1; i <= la; i++)
    for (j = 1; j <= lb; j++) {
      int cost = a[i - 1] != b[j - 1], v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[la][lb];
}

static const char *closest_command(const char *name)
{
  size_t i, n = strlen(name);
  int best = n < 4 ? 1 : 2;
  const char *found = NULL;
  for (i = 0; i < N_COMMANDS; i++) {
    int d = distance(name, commands[i].name);
    if (d <= best && (!found || d < best)) { best = d; found = commands[i].name; }
  }
  if (!found && n >= 2)   /* a prefix: "comp", "sea" */
    for (i = 0; i < N_COMMANDS; i++)
      if (strncmp(commands[i].name, name, n) == 0) return commands[i].name;
  return found;
}

static void print_overview(FILE *f)
{
  size_t i;
  fprintf(f,
          "tshoot: find and fix known problems from a knowledge base (KB) of\n"
          "troubleshooting articles.\n"
          "\n"
          "usage: tshoot COMMAND [ARGS...]\n"
          "       tshoot COMMAND --help\n"
          "       tshoot --version\n"
          "\n"
          "commands:\n");
  for (i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\n"
          "examples (against the shipped KB; compile and lint from the source tree):\n"
          "  tshoot search kofmsp.dll error                 # words need no quotes\n"
          "  tshoot search --show outlook does not start    # the best article in full\n"
          "  tshoot show kofmsp                   # one article by its id\n"
          "  tshoot info                                    # which KB, how big\n"
          "  tshoot lint kb/kerio --scripts scripts         # check articles as you write\n"
          "\n"
          "the KB: commands read --kb FILE, else $TSHOOT_KB, else the KB this build\n"
          "compiled (%s) if it exists,\n"
          "else the installed one (%s).\n"
          "\n"
          "output: colour only on a terminal and without $NO_COLOR; --json for programs.\n"
          "exit status: 0 ok, 1 failure (library error, errors in KB sources), 2 usage error.\n"
          "Run 'tshoot help COMMAND' for a command's options.\n",
          *TSHOOT_DEFAULT_KB ? TSHOOT_DEFAULT_KB : "none", TSHOOT_INSTALLED_KB);
}

int cli_print_command_help(FILE *f, const char *name)
{
  const cli_command *c = find_command(name);
  if (!c) return -1;
  fprintf(f, "tshoot %s: %s\n\nusage: %s\n\n%s", c->name, c->summary, c->usage, c->help);
  if (c->examples && *c->examples) fprintf(f, "\nexamples:\n%s", c->examples);
  return 0;
}

static int unknown_command(const char *name)
{
  const char *s = closest_command(name);
  fprintf(stderr, "tshoot: '%s' is not a tshoot command", name);
  if (s) fprintf(stderr, " (did you mean '%s'?)", s);
  fprintf(stderr, "\ntry 'tshoot --help'\n");
  return EXIT_USAGE;
}

static int cmd_help(int argc, char **argv)
{
  if (argc < 2) {
    print_overview(stdout);
    return EXIT_OK;
  }
  if (argc > 2) return cli_usage_error("help", "expected one command name, got %d", argc - 1);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return cli_print_command_help(stdout, "help"), EXIT_OK;
  if (cli_print_command_help(stdout, argv[1]) != 0) return unknown_command(argv[1]);
  return EXIT_OK;
}

static int print_version(void)
{
  printf("tshoot %s (libtshoot %s, KB format %d)\n", TSHOOT_VERSION, tshoot_libversion(),
         TSHOOT_KB_FORMAT);
  if (strcmp(TSHOOT_VERSION, tshoot_libversion()) != 0)
    cli_note("this tshoot was built against libtshoot %s but runs with %s", TSHOOT_VERSION,
             tshoot_libversion());
  return EXIT_OK;
}

int main(int argc, char **argv)
{
  const cli_command *c;
  int rc;

  cli_init();
  if (argc < 2) {
    fprintf(stderr, "tshoot: no command given\n\n");
    print_overview(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    print_overview(stdout);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
    return print_version();
  if (argv[1][0] == '-') return cli_usage_error(NULL, "unknown option '%s'", argv[1]);
  c = find_command(argv[1]);
  if (!c) return unknown_command(argv[1]);
  rc = c->run(argc - 1, argv + 1);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    /* e.g. a full disk; a closed pipe (tshoot ... | head) is not worth a message */
    if (rc == EXIT_OK) rc = EXIT_FAIL;
  }
  return rc;
}
