/*
** help.h: the help text of the tshoot command (help.c), shared by the
** command and by tools/mkman.c, which makes the man page tshoot.1 from it.
** Plain C with no other header of the project, so that the generator needs
** nothing else.
*/
#ifndef TSHOOT_CLI_HELP_H
#define TSHOOT_CLI_HELP_H

#include <stddef.h>

typedef struct cli_help {
  const char *name;
  const char *summary;   /* one line, for `tshoot --help` */
  const char *usage;     /* "tshoot search TEXT... [--limit N] ..." */
  const char *help;      /* description, "options:" and "exit status:" */
  const char *examples;  /* lines that run against the shipped KB */
} cli_help;

/* Every command, in the order `tshoot --help` lists them. */
extern const cli_help cli_help_commands[];
extern const size_t cli_help_n_commands;

/* The overview (`tshoot --help`), in parts. */
extern const char cli_help_about[];     /* what tshoot is: "find and fix ..." */
extern const char cli_help_synopsis[];  /* the usage lines, without "usage: " */
extern const char cli_help_examples[];  /* example lines, without indent */
extern const char cli_help_kb[];        /* which KB: a format with two %s, the
                                        ** build's KB and the installed one */
extern const char cli_help_output[];    /* colour, --json, exit status */

/* An option that a command's help lists ("  -o, --output KB  ..." gives
** "-o" and "--output", each with the argument "KB"); not NUL-terminated:
** pointers into the help text. */
typedef struct cli_help_option {
  const char *name;      /* "-o", "--output" */
  size_t len;
  const char *arg;       /* "KB", "sim:FILE", or NULL: the option takes none */
  size_t arg_len;
} cli_help_option;

/* The options in c's "options:" list, in order: fills out[0..max) and
** returns how many there are (possibly more than max). */
size_t cli_help_options(const cli_help *c, cli_help_option *out, size_t max);

/* The help of command `name`, or NULL. */
const cli_help *cli_help_find(const char *name);

#endif /* TSHOOT_CLI_HELP_H */
