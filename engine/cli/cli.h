/*
** cli.h: the inside of the tshoot command, shared by its files.
**
** The command is a thin client: it uses only the public API (tshoot.h) and
** jansson. main.c dispatches; each cmd_*.c holds one or two commands
** (diagnose also answers.c and prompt.c, see diagnose.h); fixrun.c runs a
** fix on a host for fix and diagnose; output.c has the rest they share:
** where the KB is, colours and terminals, error printing, text wrapping,
** JSON output and writing files.
**
** Exit status, for every command: 0 success, 1 failure (a library error,
** errors in KB sources), 2 usage error (bad option or argument).
*/
#ifndef TSHOOT_CLI_H
#define TSHOOT_CLI_H

#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>
#include "tshoot.h"
#include "help.h"

#if defined(__GNUC__)
# define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
# define CLI_PRINTF(f, a)
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ===== commands (cmd_*.c; their help text is in help.c) ===== */
int cmd_compile(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);   /* also exits 3, 4, 5: see its help */
int cmd_test(int argc, char **argv);
int cmd_fix(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_complete(int argc, char **argv);   /* hidden: tshoot.bash asks it */

/* ===== terminals and colour (output.c) ===== */
/* Call once at start: looks at isatty, NO_COLOR, TERM. */
void cli_init(void);
/* Colour on stdout / stderr? (a TTY, NO_COLOR unset, TERM not "dumb") */
int cli_color_out(void);
int cli_color_err(void);
int cli_tty_err(void);
/* Width of the terminal on stdout ($COLUMNS, else the TTY's, else 80), kept
** within [40, 120] for reading. */
int cli_width(void);

/* SGR sequences, or "" when colour is off for that stream. */
typedef enum { SGR_RESET, SGR_BOLD, SGR_DIM, SGR_RED, SGR_MAGENTA, SGR_CYAN,
               SGR_GREEN, SGR_BOLD_OFF } cli_sgr_kind;
const char *cli_sgr(FILE *f, cli_sgr_kind k);

/* ===== errors (output.c) ===== */
/* "tshoot: <cmd>: message\ntry 'tshoot <cmd> --help'" on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* "tshoot: error: [file:line:col: ]message" from tshoot_error_last(); returns EXIT_FAIL. */
int cli_lib_error(int rc);
/* "tshoot: error: message"; returns EXIT_FAIL. */
int cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "tshoot: note: message". */
void cli_note(const char *fmt, ...) CLI_PRINTF(1, 2);
/* The error of tshoot_error_last() as {"code","status","message","file","line","column"}. */
json_t *cli_error_json(int rc);

/* ===== the KB (output.c) ===== */
/* Open the KB named by --kb (opt, may be NULL), else $TSHOOT_KB, else the KB
** this build compiled (TSHOOT_DEFAULT_KB) if it exists, else the installed
** one. Prints the error and returns EXIT_FAIL on failure; *path_out (may be
** NULL) gets the path used (static or argv storage). */
int cli_open_kb(tshoot_kb **out, const char *opt, const char **path_out);

/* ===== hosts and scripts (output.c) ===== */
/* Open the host named by --host SPEC ("sim:FILE"). Prints the error. */
int cli_open_host(tshoot_host **out, const char *spec);
/* --memory KIB ('M'), --instructions N ('I'), --time MS ('T') of command
** `cmd`: EXIT_OK, or EXIT_USAGE with the usage error printed. */
int cli_limits_option(const char *cmd, tshoot_limits *lim, int opt, const char *arg);
/* Read a whole file (malloc'd, NUL-terminated, at most about `max` bytes).
** 0, or -1 with errno set (EFBIG: too large); prints nothing. */
int cli_read_file(const char *path, size_t max, char **out, size_t *len);
/* Changes as a JSON array [{op, target, before, after, undone}]. */
json_t *cli_changes_json(const tshoot_change *c, size_t n);
/* One line a change: "registry.set KEY : NAME: before -> after". */
void cli_print_changes(FILE *f, const tshoot_change *c, size_t n, const char *indent);
/* Write text (and a newline) to path, as every file the command writes: into
** a temporary file in the same folder (".NAME.tmp-XXXXXX"), flushed to disk,
** then renamed over path (over the target of a symbolic link), so that path
** holds the old text or the new, never a part. The file keeps its mode.
** EXIT_OK, or EXIT_FAIL with "cannot VERB PATH: why" printed (verb NULL:
** "write") and path unchanged. */
int cli_write_file(const char *path, const char *text, int newline, const char *verb);

/* ===== a fix with a script, on a host (fixrun.c) ===== */
typedef enum {
  FIX_PLANNED, FIX_PLAN_FAILED, FIX_NOT_CONFIRMED, FIX_DECLINED, FIX_VERIFIED, FIX_REFUSED, FIX_FAILED
} cli_fix_outcome;

typedef struct cli_fix_options {
  int show;               /* print for a person on stdout */
  int detail;             /* tshoot fix: plan notes, colour, the changes made,
                          ** a line on rollback, progress on a terminal */
  int dry_run;            /* the plan only */
  int apply_failed_plan;  /* still offer a fix whose plan failed (diagnose) */
  /* Whether to apply (after the plan was shown): 1 yes, 0 declined, -1 not
  ** confirmed (the caller stops); NULL: apply without asking (--yes). */
  int (*confirm)(const tshoot_fix_info *x, const tshoot_run *plan, void *payload);
  void *payload;
} cli_fix_options;

/* Run fix x (it has a script) through session s, which has a host. *result
** gets the fix result (see fixrun.c; json_decref it), *outcome what became of
** the fix. EXIT_OK, or EXIT_FAIL with the library's error printed. */
int cli_fix_run(json_t **result, cli_fix_outcome *outcome, tshoot_session *s, const tshoot_fix_info *x,
                const cli_fix_options *o);
/* The fix result of a fix without a script: outcome "manual". */
json_t *cli_fix_manual(const tshoot_fix_info *x);
/* A run as JSON: {status: ok|error|limit|refused, message, verified,
** rolled_back, changes, notes, elapsed_ms, instructions, memory_peak}. */
json_t *cli_run_json(const tshoot_run *r);

/* ===== output (output.c) ===== */
/* The version of every --json output's layout: its top-level "version"
** ("tshoot --help"). Raised when a field changes meaning or goes away; new
** fields do not raise it. */
#define CLI_JSON_VERSION 1
/* Print j on stdout (indented on a TTY, else compact), then a newline, then
** json_decref(j). An object without "version" gets "version":
** CLI_JSON_VERSION as its first member. Returns EXIT_FAIL if it could not be
** written. */
int cli_json_print(json_t *j);
/* json_string() that accepts NULL (-> null) and invalid UTF-8 (-> replaced). */
json_t *cli_jstr(const char *s);

/* Write `text` to f wrapped at `width` columns. Every line starts with
** `indent` spaces, except the first, which is assumed to be already at column
** `first_col` (so a caller can print a label first). ANSI sequences count as
** zero width; a UTF-8 character counts as one. Ends with a newline. */
void cli_wrap(FILE *f, const char *text, int indent, int first_col, int width);
/* The display width of s (ANSI sequences skipped, UTF-8 characters as one). */
int cli_display_width(const char *s);

/* Print an article for a person (show, search --show). */
void cli_print_article(FILE *f, const tshoot_article *a);
/* An article as JSON (show --json, search --show --json). */
json_t *cli_article_json(const tshoot_article *a);

/* Report a getopt_long failure (c is '?' or ':', the optstring starting
** with ':'); returns EXIT_USAGE. */
int cli_getopt_error(const char *cmd, int c, char **argv);

/* argv words joined by single spaces (malloc'd; NULL when out of memory). */
char *cli_join_words(int argc, char **argv);

/* s without leading and trailing white space (cut in place). */
char *cli_trim(char *s);

/* Parse a positive decimal int in [lo, hi]; 0 on success. */
int cli_parse_int(const char *s, int lo, int hi, int *out);

/* ===== help and did-you-mean (main.c) ===== */
/* The candidate closest to word (at most 1 edit for words shorter than 4
** characters, else 2; ids of 32 characters or more never match), or NULL. For
** ids the CLI knows itself: the library's errors carry their own. */
const char *cli_closest(const char *word, const char *const *cands, size_t n);
/* Print the help of command `name` to f; returns 0, or -1 if unknown. */
int cli_print_command_help(FILE *f, const char *name);

#endif /* TSHOOT_CLI_H */
