/*
** mkman.c: writes the man page tshoot.1 (roff, man macros) on stdout, from
** the same text as `tshoot --help` (engine/cli/help.c), at build time.
**
**   mkman VERSION INSTALLED_KB > tshoot.1
**
** A command's help is read in the shape help.c describes: paragraphs; lines
** indented by two spaces or more, kept as they are; "options:" and then one
** option a line, its name first and its description after two spaces (or on
** the lines below it, indented further). Nothing here knows a command or an
** option by name: a new one in help.c reaches the man page by itself.
*/
#include "help.h"

#include <stdio.h>
#include <string.h>

/* Text for roff: backslashes doubled as \e, every '-' as \- (so that options
** can be copied and searched for), a leading '.' or '\'' made inert. */
static void put_text(const char *s, size_t n, int line_start)
{
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (line_start && (c == '.' || c == '\'')) fputs("\\&", stdout);
    line_start = 0;
    if (c == '\\') fputs("\\e", stdout);
    else if (c == '-') fputs("\\-", stdout);
    else putchar(c);
  }
}

static void put_line(const char *s, size_t n)
{
  put_text(s, n, 1);
  putchar('\n');
}

/* One option's name part ("-a, --answer Q=V"): option words bold, the
** rest (arguments) italic. */
static void put_term(const char *s, size_t n)
{
  size_t i = 0;
  fputs(".TP\n", stdout);
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != ' ' && s[j] != ',') j++;
    if (j > i) {
      fputs(s[i] == '-' ? "\\fB" : "\\fI", stdout);
      put_text(s + i, j - i, i == 0);
      fputs("\\fR", stdout);
    }
    while (j < n && (s[j] == ' ' || s[j] == ',')) putchar(s[j++]);
    i = j;
  }
  putchar('\n');
}

static size_t indent_of(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && s[i] == ' ') i++;
  return i;
}

/* Is this line of an options list the start of an option? */
static int option_start(const char *s, size_t n)
{
  size_t i = indent_of(s, n);
  return i >= 2 && i <= 6 && i + 1 < n && s[i] == '-';
}

/* The offset of the first run of two spaces after `from`, or n. */
static size_t gap(const char *s, size_t n, size_t from)
{
  size_t i;
  for (i = from; i + 1 < n; i++)
    if (s[i] == ' ' && s[i + 1] == ' ') return i;
  return n;
}

/* A command's help (help.c's shape) as roff. */
static void put_help(const char *text)
{
  const char *line = text, *nl;
  int in_options = 0, in_para = 0, in_pre = 0;
  size_t opt_indent = 0;

  for (; *line; line = nl + 1) {
    size_t n, ind;
    nl = strchr(line, '\n');
    if (!nl) nl = line + strlen(line);
    n = (size_t)(nl - line);
    ind = indent_of(line, n);
    if (n == 0) {                                 /* a blank line ends anything */
      if (in_pre) fputs(".fi\n", stdout);
      in_options = in_para = in_pre = 0;
      if (!*nl) break;
      continue;
    }
    if (!in_options && ind == 0 && n >= 8 && strncmp(line, "options:", 8) == 0 && n == 8) {
      fputs(".PP\n\\fBoptions:\\fR\n", stdout);
      in_options = 1;
    } else if (in_options && option_start(line, n)) {
      size_t g = gap(line, n, ind), d, col;
      opt_indent = ind;
      /* a description one space after a long name ("--host sim:FILE the
      ** machine..."): it starts at the column of the line below */
      col = *nl ? indent_of(nl + 1, strcspn(nl + 1, "\n")) : 0;
      if (g == n && col > ind && col < n && line[col - 1] == ' ' && line[col] != '-')
        g = col - 1;
      d = g;
      put_term(line + ind, g - ind);
      while (d < n && line[d] == ' ') d++;
      if (d < n) put_line(line + d, n - d);
    } else if (in_options && ind > opt_indent) {   /* an option's description, continued */
      put_line(line + ind, n - ind);
    } else if (ind >= 2) {                        /* a list or an example: as it is */
      if (!in_pre) fputs(".PP\n.nf\n", stdout);
      in_pre = 1;
      put_line(line, n);
    } else {                                      /* a paragraph */
      if (in_pre) fputs(".fi\n", stdout);
      in_pre = 0;
      if (!in_para) fputs(".PP\n", stdout);
      in_para = 1;
      put_line(line, n);
    }
    if (!*nl) break;
  }
  if (in_pre) fputs(".fi\n", stdout);
}

/* Lines of `text`, each as its own line in a no-fill block, indented. */
static void put_block(const char *text)
{
  const char *line, *nl;
  fputs(".PP\n.RS 4\n.nf\n", stdout);
  for (line = text; (nl = strchr(line, '\n')); line = nl + 1) put_line(line, (size_t)(nl - line));
  fputs(".fi\n.RE\n", stdout);
}

/* cli_help_kb with its two %s filled in. */
static void put_kb(const char *installed)
{
  const char *a = strstr(cli_help_kb, "%s"), *b = a ? strstr(a + 2, "%s") : NULL;
  if (!a || !b) {
    fputs(".PP\n", stdout);
    put_text(cli_help_kb, strlen(cli_help_kb), 1);
    return;
  }
  fputs(".PP\n", stdout);
  put_text(cli_help_kb, (size_t)(a - cli_help_kb), 1);
  put_text("the build tree's kb/tshoot.db", 29, 0);
  put_text(a + 2, (size_t)(b - a - 2), 0);
  put_text(installed, strlen(installed), 0);
  put_text(b + 2, strlen(b + 2), 0);
}

int main(int argc, char **argv)
{
  size_t i;
  const char *about = cli_help_about, *line, *nl;
  if (argc != 3) {
    fprintf(stderr, "usage: mkman VERSION INSTALLED_KB > tshoot.1\n");
    return 2;
  }
  printf(".\\\" tshoot.1: made by tools/mkman.c from engine/cli/help.c; edit that, not this.\n");
  printf(".TH TSHOOT 1 \"\" \"tshoot %s\" \"User Commands\"\n", argv[1]);
  fputs(".nh\n.ad l\n", stdout);   /* no hyphenation: every option stays whole */
  fputs(".SH NAME\ntshoot \\- ", stdout);
  for (; *about; about++) putchar(*about == '\n' ? ' ' : *about);
  fputs("\n.SH SYNOPSIS\n.nf\n", stdout);
  for (line = cli_help_synopsis; (nl = strchr(line, '\n')); line = nl + 1)
    put_line(line, (size_t)(nl - line));
  for (i = 0; i < cli_help_n_commands; i++) {
    fputs("\\fBtshoot ", stdout);
    put_text(cli_help_commands[i].name, strlen(cli_help_commands[i].name), 0);
    fputs("\\fR \\- ", stdout);
    put_text(cli_help_commands[i].summary, strlen(cli_help_commands[i].summary), 0);
    putchar('\n');
  }
  fputs(".fi\n.SH DESCRIPTION\n", stdout);
  fputs("\\fBtshoot\\fR: ", stdout);
  put_text(cli_help_about, strlen(cli_help_about), 0);
  fputs("Each command takes its own options; \\fBtshoot help\\fR \\fICOMMAND\\fR prints them, "
        "as this page does below.\n", stdout);
  put_help(cli_help_output);
  fputs(".SH COMMANDS\n", stdout);
  for (i = 0; i < cli_help_n_commands; i++) {
    const cli_help *c = &cli_help_commands[i];
    fputs(".SS \"", stdout);
    put_text(c->name, strlen(c->name), 0);
    fputs("\"\n", stdout);
    put_line(c->summary, strlen(c->summary));
    fputs(".PP\n.nf\n", stdout);
    /* the usage's lines below the first are aligned for "usage: " in --help */
    for (line = c->usage; *line; line = *nl ? nl + 1 : nl) {
      size_t n;
      nl = line + strcspn(line, "\n");
      n = (size_t)(nl - line);
      if (line != c->usage) {
        size_t ind = indent_of(line, n);
        fputs("    ", stdout);
        line += ind, n -= ind;
      }
      put_line(line, n);
    }
    fputs(".fi\n", stdout);
    put_help(c->help);
    if (c->examples && *c->examples) {
      fputs(".PP\n\\fBexamples:\\fR\n", stdout);
      put_block(c->examples);
    }
  }
  fputs(".SH EXAMPLES\n", stdout);
  put_block(cli_help_examples);
  fputs(".SH FILES\n", stdout);
  put_kb(argv[2]);
  fputs(".SH SEE ALSO\n"
        "The project's docs/ folder: format.md (writing articles), messages.md (the codes of\n"
        "\\fBtshoot lint\\fR), scripts.md (probes and fixes), schemas/ (the JSON Schema of\n"
        "every \\-\\-json output), api.md (the C library).\n", stdout);
  return ferror(stdout) ? 1 : 0;
}
