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

static const cli_command commands[] = {
  { "diagnose", "find the cause of a problem by answering questions, then fix it",
    "tshoot diagnose [TEXT...] [--answer Q=V]... [--answers FILE] [--json]\n"
    "                       [--save FILE] [--resume FILE] [--threshold P] [--no-fixes]\n"
    "                       [--interactive] [--strict] [--quiet] [--verbose] [--host sim:FILE]\n"
    "                       [--yes] [--log FILE] [--kb FILE]",
    "Diagnose a problem: describe it in your own words (TEXT, optional), then\n"
    "answer the questions tshoot asks, the most useful first. When trying a fix\n"
    "is cheaper than asking more, tshoot shows it and asks whether it worked.\n"
    "It ends with the most likely cause, its probability, the evidence for it,\n"
    "and its fixes step by step, or says that no known cause fits.\n"
    "\n"
    "TEXT '-' alone: the description is all of stdin, to its end (a pasted log,\n"
    "up to 16 MiB; at a terminal end it with Ctrl-D, the questions follow).\n"
    "Without '-', stdin is never read as the description: it holds the answers\n"
    "with --interactive.\n"
    "\n"
    "At a terminal each question is asked: answer with its number, its value or\n"
    "its label (y/n for yes/no questions), or type\n"
    "  ? or why   why this question is asked, and which causes it tells apart\n"
    "  back       take back the last answer and change it\n"
    "  skip       don't know (also 'dunno', or an empty line, confirmed)\n"
    "  causes     the causes still considered, most likely first\n"
    "  how        why the leading cause leads\n"
    "  quit       stop (with --save, the session is saved first)\n"
    "\n"
    "Unattended (stdin not a terminal, or --json), a question that no --answer or\n"
    "answer file covers counts as \"don't know\", so the run always ends (--strict\n"
    "stops at the first such question instead). Nobody can try a fix then, so no\n"
    "fixes are proposed, unless a fix:FIX answer is given: then fixes are, and\n"
    "one without an answer counts as \"did not work\".\n"
    "\n"
    "With --host, the machine is looked at first: a question that a probe can\n"
    "answer (the Office version, whether a file exists...) is answered by running\n"
    "the probe on the machine, and only the rest are asked (the transcript marks\n"
    "each answer's source, 'P:' lines at a terminal). A fix with a script is\n"
    "planned, confirmed, applied, verified, and rolled back when it fails. At\n"
    "the prompt, a fix that verified is followed by 'Is the problem gone now?':\n"
    "its check proves that its change took effect, only you can see the problem.\n"
    "\n"
    "options:\n"
    "  -a, --answer Q=V    answer question Q with V without asking (V '?': don't\n"
    "                      know); fix:FIX=yes|no reports a fix; repeatable, and\n"
    "                      wins over --answers\n"
    "      --answers FILE  answers, one 'question.id = value' a line, # comments\n"
    "      --json          never ask; print one JSON object at the end: {text,\n"
    "                      steps: [{kind: ask|fix|back, question, prompt, answer,\n"
    "                      source: answers|user|unknown|saved|probe, ...; a fix:\n"
    "                      fix, title, cause, probability, worked, source:\n"
    "                      answers|user|unattended|host|host+user|declined, and\n"
    "                      run on the host also its fix result: outcome,\n"
    "                      message, plan, run, as 'tshoot fix --json' gives it}],\n"
    "                      conclusion: {cause, title, probability, article,\n"
    "                      fixes}, causes, questions_asked, unused_answers};\n"
    "                      --strict stopping (exit 3): conclusion null and\n"
    "                      pending: {question, prompt, type, unit, choices:\n"
    "                      [{value, label}]}, the question to answer\n"
    "      --save FILE     save the session to FILE after every step\n"
    "      --resume FILE   continue a saved session (the same KB build only; its\n"
    "                      threshold is kept unless --threshold is given)\n"
    "      --threshold P   conclude when a cause is this likely (default 0.9)\n"
    "      --no-fixes      do not propose fixes before the conclusion\n"
    "  -i, --interactive   ask even when stdin is not a terminal (input is echoed)\n"
    "      --strict        unattended: a question without an answer is an error\n"
    "  -q, --quiet         print only the conclusion\n"
    "  -v, --verbose       show the ids of causes, fixes and articles beside their words\n"
    "      --host sim:FILE the machine to look at and fix: a machine description\n"
    "                      (docs/scripts.md; examples in kb/kerio/machines/)\n"
    "  -y, --yes           apply fixes with scripts without asking (also unattended)\n"
    "      --log FILE      write the journal of changes made on the host (JSON lines)\n"
    "      --kb FILE       the KB to use (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 a cause was found, 4 no known cause fits, 6 inconclusive (no\n"
    "cause has the evidence to be named: the best candidates and what to do now\n"
    "are shown), 3 --strict and a question without an answer, 5 stopped before\n"
    "the end (quit, Ctrl-C, end of input: the session is saved, to\n"
    "$XDG_STATE_HOME/tshoot/last-session.json without --save, and the command\n"
    "to resume it shown), 1 failure (also a bad answer file or saved session),\n"
    "2 usage error (also an --answer the KB does not know).\n",
    "  tshoot diagnose outlook kofmsp.dll error --answer dll.exists=no --answer scope.affected=pc\n"
    "  tshoot diagnose --json outlook stuck on loading profile --answer koff.tray-error=yes\n"
    "  tshoot diagnose --json - --answer koff.tray-error=yes < outlook.log\n"
    "  tshoot diagnose --save /tmp/session.json outlook does not start\n"
    "  tshoot diagnose --resume /tmp/session.json --answer dll.exists=no\n",
    cmd_diagnose },
  { "fix", "try a cause's fixes on a machine until one works, or show what they would do",
    "tshoot fix CAUSE --host sim:FILE [--dry-run] [--yes] [--save FILE] [--log FILE]\n"
    "                       [--json] [--memory KIB] [--instructions N] [--time MS] [--kb FILE]",
    "Repair CAUSE (a cause id, as 'tshoot diagnose' names it) on a machine: its\n"
    "fixes are tried in the order the KB gives them, until one verifies. For each\n"
    "fix that has a script: its plan is shown (the changes it would make, worked\n"
    "out on a copy of the machine), then, once confirmed, it is applied with\n"
    "every change journaled, and its verify step checks that it worked. A fix\n"
    "that fails, breaks a limit or does not verify is rolled back exactly, and\n"
    "the next one is tried. Fixes without a script are for a person: see\n"
    "'tshoot show ARTICLE'.\n"
    "\n"
    "options:\n"
    "      --host sim:FILE     the machine: a machine description (docs/scripts.md)\n"
    "  -n, --dry-run           show every fix's plan; change nothing\n"
    "  -y, --yes               apply without asking (needed when stdin is not a\n"
    "                          terminal); a simulated machine confirms as its\n"
    "                          description says\n"
    "      --save FILE         write the simulated machine, as it is afterwards\n"
    "      --log FILE          write the journal of changes, one JSON object a line\n"
    "      --json              one JSON object: {cause, article, dry_run, fixed_by,\n"
    "                          tries}; each try is a fix result: {fix, title,\n"
    "                          outcome: manual|planned|plan failed|not confirmed|\n"
    "                          declined|verified|refused|failed, message (the\n"
    "                          apply's, else the failed plan's, else null), plan,\n"
    "                          run (each as 'tshoot run --json' prints a run, and\n"
    "                          absent when not made)}\n"
    "      --memory KIB, --instructions N, --time MS\n"
    "                          the scripts' limits (16384 KiB, 10000000, 2000 ms)\n"
    "      --kb FILE           the KB to use (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 a fix verified (or --dry-run), 1 none did (nothing is left\n"
    "changed), 2 usage error.\n",
    "  tshoot fix kofmsp.registry-overwrite --host sim:kb/kerio/machines/kofmsp-registry-overwrite.json --dry-run\n"
    "  tshoot fix kofmsp.registry-overwrite --host sim:kb/kerio/machines/kofmsp-registry-overwrite.json --yes --save /tmp/after.json\n",
    cmd_fix },
  { "run", "run one probe or fix script in the sandbox (for KB authors)",
    "tshoot run SCRIPT [--host sim:FILE] [--apply | --verify] [--yes] [--save FILE]\n"
    "                       [--log FILE] [--json] [--memory KIB] [--instructions N]\n"
    "                       [--time MS] [--kb FILE]",
    "Run SCRIPT (a Lua file, or a script's name in the KB such as\n"
    "kerio/os-version.lua) in the same sandbox, with the same limits and errors,\n"
    "as inside a diagnosis. A probe prints its answer (or says it cannot tell).\n"
    "A fix prints its plan, the changes it would make, worked out on a copy of\n"
    "the machine; with --apply it is applied, verified and rolled back if it\n"
    "does not verify. Without --host the script sees a host that can do nothing.\n"
    "\n"
    "options:\n"
    "      --host sim:FILE   the machine: a machine description (docs/scripts.md)\n"
    "      --apply           apply a fix, then verify it\n"
    "      --verify          only run a fix's verify\n"
    "  -y, --yes             confirm for the person\n"
    "      --save FILE       write the simulated machine as it is afterwards\n"
    "      --log FILE        write the journal of changes as JSON lines\n"
    "      --json            one JSON object: {script, kind, mode, status: ok|error|\n"
    "                        limit|refused, message, answer, verified, rolled_back,\n"
    "                        changes, notes, elapsed_ms, instructions, memory_peak}\n"
    "      --memory KIB, --instructions N, --time MS\n"
    "                        limits (16384 KiB, 10000000 instructions, 2000 ms)\n"
    "      --kb FILE         where to look up a script that is not a file\n"
    "\n"
    "exit status: 0 the script ran (and a fix verified), 1 it failed or broke a\n"
    "limit, 2 usage error.\n",
    "  tshoot run scripts/kerio/os-version.lua --host sim:kb/kerio/machines/kofmsp-os-unsupported.json\n"
    "  tshoot run --json --time 500 kerio/office-version.lua --host sim:kb/kerio/machines/healthy.json\n"
    "  tshoot run scripts/kerio/fix-new-profile.lua --host sim:kb/kerio/machines/kofmsp-profile-corrupt.json\n",
    cmd_run },
  { "search", "find the articles that match what you type",
    "tshoot search TEXT...|- [--limit N] [--show] [--json] [--mark OPEN,CLOSE] [--kb FILE]",
    "Search the KB for TEXT: words of a symptom, an error message or code, a\n"
    "file name. The words need no quotes; they are joined by single spaces.\n"
    "With '-' (or no TEXT and a pipe or file on standard input) the text is\n"
    "read from standard input, e.g. a pasted log of any length. Bytes that\n"
    "are not UTF-8 are shown as U+FFFD; the words around them are searched.\n"
    "Spelling slips are corrected (the output then says 'did you mean'), and\n"
    "the last word also matches as a prefix.\n"
    "\n"
    "Results are numbered, best first: title, article id, score, the passage\n"
    "that matched (matches in bold on a terminal, else between [ and ], or\n"
    "between the --mark strings) and the source file:line. The score is\n"
    "bm25 relevance with title and symptom words weighted above fix text:\n"
    "higher is better, always above 0, and comparable only between the results\n"
    "of one search (not across searches or KBs).\n"
    "\n"
    "options:\n"
    "  -n, --limit N   at most N results (1-1000, default 10)\n"
    "  -s, --show      also print the best article in full, as 'tshoot show' does\n"
    "      --open      the same as --show\n"
    "      --mark OPEN,CLOSE  put OPEN before and CLOSE after each match (split\n"
    "                  at the first comma; ',' marks nothing)\n"
    "      --json      one JSON object: {version: 1, query, fts, suggestion,\n"
    "                  truncated, results: [{article, title, score, snippet,\n"
    "                  marks, file, line}]}; snippet is plain text and marks the\n"
    "                  byte ranges [start, end) of its matches (+ \"article\"\n"
    "                  with --show)\n"
    "      --kb FILE   the KB to search (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 something matched, 1 nothing matched (as grep; a line on\n"
    "stderr says so, the JSON has an empty \"results\" list) or an error,\n"
    "2 usage error.\n",
    "  tshoot search kofmsp.dll error\n"
    "  tshoot search --show outlook does not start after an update\n"
    "  tshoot search --limit 3 --json mapi\n"
    "  tshoot search --mark '<<,>>' kofmsp.dll\n",
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
  { "test", "run the test cases written in the KB",
    "tshoot test [ID...] [--verbose] [--json] [--kb FILE]",
    "Run every test case of the KB (<test> in the articles), or those whose id\n"
    "matches one of the IDs (shell patterns such as 'kofmsp.*'). Each runs a\n"
    "diagnosis with the test's text and given answers; any other question is\n"
    "answered \"don't know\". A test without expect-fix runs without fixes (the\n"
    "answers alone must lead to the cause); with one, fixes are proposed and only\n"
    "that fix works. A test passes when the diagnosis concludes its expect-cause\n"
    "and, with expect-fix, proposed that fix or concluded a cause it belongs to.\n"
    "\n"
    "Prints 'ok   ID' or 'FAIL ID: what went wrong; file:line: <test>' with the\n"
    "top causes, then 'N passed, N failed'.\n"
    "\n"
    "options:\n"
    "  -v, --verbose   also show, for passing tests, the conclusion and the steps\n"
    "      --json      one JSON object: {kb, tests: [{id, ok, message, file, line,\n"
    "                  expect_cause, expect_fix, concluded, probability,\n"
    "                  questions_asked, asked, fixes_proposed, causes}], passed, failed}\n"
    "      --kb FILE   the KB whose tests to run (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 all passed, 1 a test failed (or an error), 2 usage error.\n",
    "  tshoot test\n"
    "  tshoot test --verbose 'kofmsp.*'\n",
    cmd_test },
  { "compile", "compile XML articles into a KB file",
    "tshoot compile DIR|FILE... -o KB [--force] [--scripts DIR]... [--quiet] [--json]\n"
    "                       [--Werror]",
    "Compile the XML articles in the given files and folders (searched for\n"
    "*.xml) into one KB file. Every problem is reported like a compiler's,\n"
    "file:line:col: error: message [code], all of them in one run. The KB is\n"
    "written to a temporary file and renamed into place: when there are\n"
    "errors, or the compile is interrupted, an existing KB is left untouched.\n"
    "The output is never one of the sources, and an existing file that is not a\n"
    "tshoot KB is replaced only with --force. Temporary files that a killed\n"
    "compile left next to the output are removed by the next compile of it.\n"
    "\n"
    "options:\n"
    "  -o, --output KB    the KB file to write (required)\n"
    "  -f, --force        replace KB even if it exists and is not a tshoot KB\n"
    "      --scripts DIR  a folder where Lua scripts that articles name are\n"
    "                     looked up, after the source file's own folder;\n"
    "                     repeatable (default: the nearest folder named\n"
    "                     'scripts' above each source, as kb/ and scripts/ sit\n"
    "                     side by side in this project)\n"
    "  -q, --quiet        no progress and no summary when all went well\n"
    "      --json         one JSON object: {ok, diagnostics: [{severity, file,\n"
    "                     line, column, code, message}], stats: {...}}\n"
    "      --Werror       treat warnings as errors\n"
    "\n"
    "exit status: 0 compiled, 1 errors in the sources (or the KB could not be\n"
    "written, or -o names a source or a file that is not a KB), 2 usage error.\n",
    "  tshoot compile kb/kerio -o /tmp/kerio.db\n"
    "  tshoot info --kb /tmp/kerio.db\n",
    cmd_compile },
  { "lint", "check XML articles without writing a KB",
    "tshoot lint DIR|FILE... [--scripts DIR]... [--json] [--Werror]",
    "Check the given XML articles as 'tshoot compile' does, print every\n"
    "problem as file:line:col: severity: message [code], and write nothing.\n"
    "\n"
    "options:\n"
    "      --scripts DIR  where Lua scripts are looked up (repeatable; default as\n"
    "                     for compile: the nearest 'scripts' folder above a source)\n"
    "      --json         one JSON object: {ok, diagnostics, stats}\n"
    "      --Werror       treat warnings as errors\n"
    "\n"
    "exit status: 0 no errors, 1 errors, 2 usage error.\n",
    "  tshoot lint kb/kerio\n",
    cmd_lint },
  { "serve", "serve the KB over HTTP: a JSON API and a web page",
    "tshoot serve [--kb FILE] [--listen ADDR:PORT] [--sessions FILE] [OPTIONS]",
    "Run the HTTP server, tshoot-serve (a program of its own, so that the tshoot\n"
    "command needs no HTTP library): search, articles and diagnosis sessions as\n"
    "JSON under /v1/, the web page at /. 'tshoot serve --help' lists its options;\n"
    "docs/http.md describes the API.\n",
    "",
    cmd_serve },
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
  const char *names[N_COMMANDS], *found;
  size_t i, n = strlen(name);
  for (i = 0; i < N_COMMANDS; i++) names[i] = commands[i].name;
  found = cli_closest(name, names, N_COMMANDS);
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
          "  tshoot diagnose outlook does not start, kofmsp.dll error   # answer questions\n"
          "  tshoot search kofmsp.dll error                 # words need no quotes\n"
          "  tshoot search --show outlook does not start    # the best article in full\n"
          "  tshoot show kofmsp                   # one article by its id\n"
          "  tshoot info                                    # which KB, how big\n"
          "  tshoot test                                    # run the KB's test cases\n"
          "  tshoot lint kb/kerio --scripts scripts         # check articles as you write\n"
          "\n"
          "the KB: commands read --kb FILE, else $TSHOOT_KB, else the KB this build\n"
          "compiled (%s) if it exists,\n"
          "else the installed one (%s).\n"
          "\n"
          "output: colour only on a terminal and without $NO_COLOR; --json for programs:\n"
          "one JSON object whose first member, \"version\": 1, is raised only when a field\n"
          "changes meaning or goes away.\n"
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

/* `tshoot serve ARGS`: run tshoot-serve in this process (same pid, so a
** service manager's signals reach the server): the build's copy, else the
** installed one. */
static int cmd_serve(int argc, char **argv)
{
  static const char *const bins[] = { TSHOOT_SERVE_BIN, TSHOOT_INSTALLED_SERVE_BIN };
  size_t i;
  (void)argc;
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
