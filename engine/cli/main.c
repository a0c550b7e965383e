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

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TSHOOT_DEFAULT_KB
# define TSHOOT_DEFAULT_KB ""
#endif
#ifndef TSHOOT_INSTALLED_KB
# define TSHOOT_INSTALLED_KB ""
#endif
#ifndef TSHOOT_SERVE_BIN
# define TSHOOT_SERVE_BIN ""
#endif
#ifndef TSHOOT_INSTALLED_SERVE_BIN
# define TSHOOT_INSTALLED_SERVE_BIN ""
#endif

static int cmd_help(int argc, char **argv);
static int cmd_serve(int argc, char **argv);

/* The commands; their help text is in help.c (cli_help_commands, in the
** order of `tshoot --help`), which the man page is made from too. */
static const struct command { const char *name; int (*run)(int argc, char **argv); } commands[] = {
  { "diagnose", cmd_diagnose },
  { "fix", cmd_fix },
  { "run", cmd_run },
  { "search", cmd_search },
  { "show", cmd_show },
  { "info", cmd_info },
  { "test", cmd_test },
  { "compile", cmd_compile },
  { "lint", cmd_lint },
  { "keygen", cmd_keygen },
  { "sign", cmd_sign },
  { "verify", cmd_verify },
  { "serve", cmd_serve },
  { "help", cmd_help },
  { "complete", cmd_complete },   /* hidden: for the shell's completion (tshoot.bash) */
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
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

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
  size_t i;
  int best = strlen(word) < 4 ? 1 : 2;
  const char *found = NULL;
  for (i = 0; i < n; i++) {
    int d = distance(word, cands[i]);
    if (d <= best && (!found || d < best)) { best = d; found = cands[i]; }
  }
  return found;
}

static const char *closest_command(const char *name)
{
  /* the commands of the help: not the hidden ones */
  const char *names[N_COMMANDS] = { NULL }, *found;
  size_t i, n = strlen(name);
  for (i = 0; i < cli_help_n_commands && i < N_COMMANDS; i++) names[i] = cli_help_commands[i].name;
  found = cli_closest(name, names, i);
  if (!found && n >= 2)   /* a prefix: "comp", "sea" */
    for (i = 0; i < cli_help_n_commands; i++)
      if (strncmp(cli_help_commands[i].name, name, n) == 0) return cli_help_commands[i].name;
  return found;
}

static void print_overview(FILE *f)
{
  size_t i;
  const char *line, *nl;
  fprintf(f, "tshoot: %s\nusage: ", cli_help_about);
  for (line = cli_help_synopsis; (nl = strchr(line, '\n')); line = nl + 1)
    fprintf(f, "%s%.*s\n", line == cli_help_synopsis ? "" : "       ", (int)(nl - line), line);
  fprintf(f, "\ncommands:\n");
  for (i = 0; i < cli_help_n_commands; i++)
    fprintf(f, "  %-9s %s\n", cli_help_commands[i].name, cli_help_commands[i].summary);
  fprintf(f, "\nexamples (against the shipped KB; compile and lint from the source tree):\n");
  for (line = cli_help_examples; (nl = strchr(line, '\n')); line = nl + 1)
    fprintf(f, "  %.*s\n", (int)(nl - line), line);
  fputc('\n', f);
  /* cli_help_kb with its two %s filled in (not a printf format: help.c is text) */
  line = cli_help_kb;
  nl = strstr(line, "%s");
  fprintf(f, "%.*s%s", (int)(nl - line), line, *TSHOOT_DEFAULT_KB ? TSHOOT_DEFAULT_KB : "none");
  line = nl + 2;
  nl = strstr(line, "%s");
  fprintf(f, "%.*s%s%s", (int)(nl - line), line, TSHOOT_INSTALLED_KB, nl + 2);
  fprintf(f, "\n%sRun 'tshoot help COMMAND' for a command's options.\n", cli_help_output);
}

int cli_print_command_help(FILE *f, const char *name)
{
  const cli_help *c = cli_help_find(name);
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

/* `tshoot serve ARGS`: run tshoot-serve, the HTTP server (engine/serve/), in
** this process (same pid, so a service manager's signals reach the server):
** the build's copy, else the installed one. It is a program of its own so that
** this command needs no HTTP library. Its help is help.c's, like every
** command's (tshoot-serve --help prints the same options). */
static int cmd_serve(int argc, char **argv)
{
  static const char *const bins[] = { TSHOOT_SERVE_BIN, TSHOOT_INSTALLED_SERVE_BIN };
  size_t i;
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
    return cli_print_command_help(stdout, "serve"), EXIT_OK;
  fflush(stdout);
  for (i = 0; i < sizeof bins / sizeof bins[0]; i++)
    if (*bins[i] && access(bins[i], X_OK) == 0) {
      argv[0] = (char *)"tshoot-serve";
      execv(bins[i], argv);
      return cli_error("cannot run %s: %s", bins[i], strerror(errno));
    }
  return cli_error("tshoot serve is not installed (looked for %s and %s); it needs "
                   "libmicrohttpd when tshoot is built", *TSHOOT_SERVE_BIN ? TSHOOT_SERVE_BIN : "-",
                   TSHOOT_INSTALLED_SERVE_BIN);
}

int main(int argc, char **argv)
{
  const struct command *c;
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
  /* --trust FILE and --allow-unsigned-scripts, for every command (docs/signing.md) */
  if (cli_trust_args(&argc, argv) != EXIT_OK) return EXIT_USAGE;
  rc = c->run(argc - 1, argv + 1);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    /* e.g. a full disk; a closed pipe (tshoot ... | head) is not worth a message */
    if (rc == EXIT_OK) rc = EXIT_FAIL;
  }
  return rc;
}
