/*
** cmd_compile.c: `tshoot compile` and `tshoot lint` (tshoot_compile with no
** output): diagnostics like a compiler's, a progress line on a terminal, a
** summary, --json, and cancellation on SIGINT/SIGTERM. Before compiling, the
** output is checked: never a source, and an existing file that is not a
** tshoot KB only with --force.
*/
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set by the signal handler; the progress callback then asks the library to
** cancel, which removes its temporary file and keeps the old KB. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

typedef struct compile_ctx {
  int json, quiet, show_progress;
  json_t *diags;            /* --json: the diagnostics */
  /* progress line */
  long long last_ns;
  int drawn;                /* columns on the progress line now */
  char last_phase[32];       /* copied: the phase name is only borrowed */
} compile_ctx;

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void progress_clear(compile_ctx *c)
{
  if (c->drawn) {
    fprintf(stderr, "\r%*s\r", c->drawn, "");
    fflush(stderr);
    c->drawn = 0;
  }
}

static int on_progress(const char *phase, size_t done, size_t total, void *payload)
{
  compile_ctx *c = payload;
  long long t;
  char line[128];
  int n;

  if (got_signal) return 1;
  if (!c->show_progress) return 0;
  t = now_ns();
  /* redraw at most every 100 ms, and on a new phase */
  if (!phase) phase = "compile";
  if (strcmp(phase, c->last_phase) == 0 && t - c->last_ns < 100000000LL && done != total)
    return 0;
  c->last_ns = t;
  snprintf(c->last_phase, sizeof c->last_phase, "%s", phase);
  if (total)
    n = snprintf(line, sizeof line, "%s: %zu/%zu (%d%%)", phase, done, total,
                 (int)(done * 100 / total));
  else
    n = snprintf(line, sizeof line, "%s: %zu", phase, done);
  if (n < 0) return 0;
  if (n >= (int)sizeof line) n = (int)sizeof line - 1;
  fprintf(stderr, "\r%s", line);
  if (c->drawn > n) fprintf(stderr, "%*s", c->drawn - n, "");
  if (c->drawn > n) fprintf(stderr, "\r%s", line);
  c->drawn = n;
  fflush(stderr);
  return 0;
}

static const char *sev_name(tshoot_severity s)
{
  return s == TSHOOT_ERRSEV ? "error" : s == TSHOOT_WARNING ? "warning" : "note";
}

static void on_diagnostic(const tshoot_diagnostic *d, void *payload)
{
  compile_ctx *c = payload;
  FILE *f = stderr;
  cli_sgr_kind k = d->severity == TSHOOT_ERRSEV ? SGR_RED
                 : d->severity == TSHOOT_WARNING ? SGR_MAGENTA : SGR_CYAN;

  if (c->json) {
    json_t *o = json_object();
    json_object_set_new(o, "severity", json_string(sev_name(d->severity)));
    json_object_set_new(o, "file", cli_jstr(d->file));
    json_object_set_new(o, "line", json_integer(d->line));
    json_object_set_new(o, "column", json_integer(d->column));
    json_object_set_new(o, "code", cli_jstr(d->code && *d->code ? d->code : NULL));
    json_object_set_new(o, "message", cli_jstr(d->message));
    json_array_append_new(c->diags, o);
    return;
  }
  progress_clear(c);
  fflush(stdout);
  fprintf(f, "%s%s", cli_sgr(f, SGR_BOLD), d->file && *d->file ? d->file : "tshoot");
  if (d->line > 0) fprintf(f, ":%d", d->line);
  if (d->line > 0 && d->column > 0) fprintf(f, ":%d", d->column);
  fprintf(f, ":%s %s%s:%s %s", cli_sgr(f, SGR_RESET), cli_sgr(f, k), sev_name(d->severity),
          cli_sgr(f, SGR_RESET), d->message ? d->message : "");
  if (d->code && *d->code) fprintf(f, " [%s]", d->code);
  fputc('\n', f);
}

static json_t *stats_json(const tshoot_compile_stats *s)
{
  json_t *o = json_object();
  json_object_set_new(o, "files", json_integer((json_int_t)s->files));
  json_object_set_new(o, "articles", json_integer((json_int_t)s->articles));
  json_object_set_new(o, "questions", json_integer((json_int_t)s->questions));
  json_object_set_new(o, "facts", json_integer((json_int_t)s->facts));
  json_object_set_new(o, "causes", json_integer((json_int_t)s->causes));
  json_object_set_new(o, "fixes", json_integer((json_int_t)s->fixes));
  json_object_set_new(o, "tests", json_integer((json_int_t)s->tests));
  json_object_set_new(o, "scripts", json_integer((json_int_t)s->scripts));
  json_object_set_new(o, "errors", json_integer((json_int_t)s->errors));
  json_object_set_new(o, "warnings", json_integer((json_int_t)s->warnings));
  return o;
}

static const char *plural(size_t n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

static void print_counts(FILE *f, const tshoot_compile_stats *s)
{
  fprintf(f, "%zu %s, %zu %s, %zu %s, %zu %s, %zu %s, %zu %s, %zu %s from %zu %s",
          s->articles, plural(s->articles, "article", "articles"),
          s->questions, plural(s->questions, "question", "questions"),
          s->facts, plural(s->facts, "fact", "facts"),
          s->causes, plural(s->causes, "cause", "causes"),
          s->fixes, plural(s->fixes, "fix", "fixes"),
          s->tests, plural(s->tests, "test", "tests"),
          s->scripts, plural(s->scripts, "script", "scripts"),
          s->files, plural(s->files, "file", "files"));
}

static void print_problem_counts(FILE *f, const tshoot_compile_stats *s)
{
  fprintf(f, "%zu %s, %zu %s", s->errors, plural(s->errors, "error", "errors"), s->warnings,
          plural(s->warnings, "warning", "warnings"));
}


/* Without --scripts: the nearest folder named "scripts" above each source
** (a KB project keeps kb/ and scripts/ side by side), each named once. The
** names live in a static buffer; at most `cap` of them. */
static size_t default_script_dirs(const char **dirs, size_t cap, char **sources, size_t n)
{
  static char found[8][PATH_MAX];
  size_t n_found = 0, i, k;
  for (i = 0; i < n && n_found < 8 && n_found < cap; i++) {
    char dir[PATH_MAX];
    struct stat st;
    if (!realpath(sources[i], dir)) continue;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
      char *slash = strrchr(dir, '/');
      if (slash) *slash = '\0';
    }
    for (;;) {
      char cand[PATH_MAX + 9];
      char *slash;
      snprintf(cand, sizeof cand, "%s/scripts", *dir ? dir : "");
      if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode) && strlen(cand) < PATH_MAX) {
        for (k = 0; k < n_found && strcmp(found[k], cand) != 0; k++) {}
        if (k == n_found) { snprintf(found[n_found], PATH_MAX, "%s", cand); dirs[n_found] = found[n_found]; n_found++; }
        break;
      }
      slash = strrchr(dir, '/');
      if (!slash || slash == dir) break;
      *slash = '\0';
    }
  }
  return n_found;
}

/* ===== the output file ===== */

/* A tshoot KB is an SQLite database whose header carries the application id
** "TSKB" (bytes 68-71): enough to tell a KB that may be replaced from any
** other file, even a KB of another format version or a damaged one. */
static int is_tshoot_kb(const char *path)
{
  unsigned char h[100];
  size_t n;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  n = fread(h, 1, sizeof h, f);
  fclose(f);
  return n == sizeof h && memcmp(h, "SQLite format 3", 16) == 0 && memcmp(h + 68, "TSKB", 4) == 0;
}

/* Is `out` (which exists, as `ost`) one of the sources: a file named, or an
** .xml file inside a folder named? */
static int is_source(const char *out, const struct stat *ost, char **sources, size_t n)
{
  char real_out[PATH_MAX];
  size_t i, len = strlen(out);
  int have_real = realpath(out, real_out) != NULL;
  for (i = 0; i < n; i++) {
    struct stat st;
    char dir[PATH_MAX];
    size_t k;
    if (stat(sources[i], &st) != 0) continue;
    if (st.st_dev == ost->st_dev && st.st_ino == ost->st_ino) return 1;
    if (!S_ISDIR(st.st_mode) || !have_real || len < 4 || strcmp(out + len - 4, ".xml") != 0) continue;
    if (!realpath(sources[i], dir)) continue;
    k = strlen(dir);
    if (strncmp(real_out, dir, k) == 0 && (real_out[k] == '/' || (k == 1 && dir[0] == '/'))) return 1;
  }
  return 0;
}

/* Before compiling: never write over a source, something that is not a
** regular file, or (unless --force) an existing file that is not a tshoot KB.
** EXIT_OK, or EXIT_FAIL with the error printed. */
static int check_output(const char *out, char **sources, size_t n, int force)
{
  struct stat st;
  if (stat(out, &st) != 0) return EXIT_OK;   /* a new file (or the library says why not) */
  if (is_source(out, &st, sources, n))
    return cli_error("-o %s is one of the sources: compiling would replace it with the KB; "
                     "name another output file, such as %s.db", out, out);
  if (!S_ISREG(st.st_mode))
    return cli_error("-o %s exists and is not a regular file; name another output file", out);
  if (!force && !is_tshoot_kb(out))
    return cli_error("-o %s exists and is not a tshoot KB: compiling would replace it; "
                     "name another output file, or give --force to replace it", out);
  return EXIT_OK;
}

/* ===== the command ===== */

typedef struct compile_args {
  const char *out;
  const char **scripts;      /* --scripts, then the defaults */
  size_t n_scripts;
  char **sources;
  size_t n_sources;
  int werror, force, help;
} compile_args;

/* EXIT_OK (args->help: the help was printed), or the usage error printed. */
static int parse_args(compile_args *a, compile_ctx *ctx, int argc, char **argv, int lint)
{
  static const struct option longs[] = {
    { "output", required_argument, NULL, 'o' },
    { "scripts", required_argument, NULL, 'S' },
    { "quiet", no_argument, NULL, 'q' },
    { "json", no_argument, NULL, 'j' },
    { "Werror", no_argument, NULL, 'W' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  const char *cmd = lint ? "lint" : "compile";
  int c;

  a->scripts = calloc((size_t)argc, sizeof *a->scripts);
  if (!a->scripts) return cli_error("out of memory");
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, lint ? ":qhW" : ":o:qhWf", longs, NULL)) != -1) {
    switch (c) {
    case 'o':
      if (lint) return cli_usage_error(cmd, "lint writes no KB; use 'tshoot compile' for -o");
      a->out = optarg;
      break;
    case 'f':
      if (lint) return cli_usage_error(cmd, "lint writes no KB; --force is for 'tshoot compile'");
      a->force = 1;
      break;
    case 'S': a->scripts[a->n_scripts++] = optarg; break;
    case 'q': ctx->quiet = 1; break;
    case 'j': ctx->json = 1; break;
    case 'W': a->werror = 1; break;
    case 'h': a->help = 1; cli_print_command_help(stdout, cmd); return EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (optind >= argc) return cli_usage_error(cmd, "no sources given: name XML files or folders of them");
  if (!lint && !a->out) return cli_usage_error(cmd, "no output given: add -o KB (the KB file to write)");
  if (!lint && !*a->out) return cli_usage_error(cmd, "the output file name is empty");
  a->sources = argv + optind;
  a->n_sources = (size_t)(argc - optind);
  if (!a->n_scripts) a->n_scripts = default_script_dirs(a->scripts, (size_t)argc, a->sources, a->n_sources);
  return EXIT_OK;
}

/* tshoot_compile, cancelled on SIGINT/SIGTERM. */
static int compile_now(const compile_args *a, compile_ctx *ctx, tshoot_compile_stats *stats, int lint)
{
  tshoot_compile_options opts = TSHOOT_COMPILE_OPTIONS_INIT;
  struct sigaction sa, old_int, old_term;
  int rc;

  opts.script_dirs = a->n_scripts ? a->scripts : NULL;
  opts.n_script_dirs = a->n_scripts;
  opts.on_diagnostic = on_diagnostic;
  opts.diagnostic_payload = ctx;
  opts.on_progress = on_progress;
  opts.progress_payload = ctx;
  opts.warnings_are_errors = a->werror;
  ctx->show_progress = cli_tty_err() && !ctx->quiet && !ctx->json;
  if (ctx->json) ctx->diags = json_array();

  got_signal = 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  rc = tshoot_compile(stats, (const char *const *)a->sources, a->n_sources, lint ? NULL : a->out, &opts);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  progress_clear(ctx);
  return rc;
}

/* The summary (or --json's object) for the compile's result rc. */
static int report(const compile_args *a, compile_ctx *ctx, const tshoot_compile_stats *stats, int rc, int lint)
{
  const char *out = a->out;
  int status = rc == TSHOOT_OK ? EXIT_OK : EXIT_FAIL;
  if (ctx->json) {
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_boolean(rc == TSHOOT_OK));
    json_object_set_new(j, "diagnostics", ctx->diags);
    json_object_set_new(j, "stats", stats_json(stats));
    if (!lint) json_object_set_new(j, "output", cli_jstr(out));
    if (rc != TSHOOT_OK && rc != TSHOOT_ESOURCE) {
      json_object_set_new(j, "error", cli_error_json(rc));
      if (rc != TSHOOT_EUSER || !got_signal) cli_lib_error(rc);
    }
    if (cli_json_print(j) != EXIT_OK) status = EXIT_FAIL;
  } else if (rc == TSHOOT_OK) {
    if (!ctx->quiet || stats->warnings) {
      fflush(stdout);
      fprintf(stderr, lint ? "checked " : "compiled ");
      print_counts(stderr, stats);
      if (lint) {
        if (stats->warnings) fprintf(stderr, ": %zu %s\n", stats->warnings,
                                     plural(stats->warnings, "warning", "warnings"));
        else fprintf(stderr, ": no problems\n");
      } else {
        fprintf(stderr, " into %s", out);
        if (stats->warnings) fprintf(stderr, " (%zu %s)", stats->warnings,
                                     plural(stats->warnings, "warning", "warnings"));
        fputc('\n', stderr);
      }
    }
  } else if (rc == TSHOOT_ESOURCE) {
    fflush(stdout);
    print_problem_counts(stderr, stats);
    if (a->werror && stats->errors == 0 && stats->warnings) fprintf(stderr, " (--Werror)");
    if (!lint) fprintf(stderr, "; %s left unchanged", out);
    fputc('\n', stderr);
  } else if (rc == TSHOOT_EUSER && got_signal) {
    fprintf(stderr, "tshoot: interrupted%s%s%s\n", lint ? "" : "; ", lint ? "" : out,
            lint ? "" : " left unchanged");
  } else {
    cli_lib_error(rc);
    if (!lint) fprintf(stderr, "%s left unchanged\n", out);
  }
  return status;
}

static int run(int argc, char **argv, int lint)
{
  compile_args a;
  compile_ctx ctx;
  tshoot_compile_stats stats;
  int rc, status;

  memset(&a, 0, sizeof a);
  memset(&ctx, 0, sizeof ctx);
  memset(&stats, 0, sizeof stats);
  status = parse_args(&a, &ctx, argc, argv, lint);
  if (status != EXIT_OK || a.help) { free(a.scripts); return status; }
  if (!lint && (status = check_output(a.out, a.sources, a.n_sources, a.force)) != EXIT_OK) {
    free(a.scripts);
    return status;
  }
  rc = compile_now(&a, &ctx, &stats, lint);
  status = report(&a, &ctx, &stats, rc, lint);
  free(a.scripts);
  if (rc == TSHOOT_EUSER && got_signal) {
    /* die of the signal, as a shell expects (exit status 128 + n) */
    int sig = (int)got_signal;
    fflush(stdout);
    signal(sig, SIG_DFL);
    raise(sig);
    return 128 + sig;
  }
  return status;
}

int cmd_compile(int argc, char **argv) { return run(argc, argv, 0); }
int cmd_lint(int argc, char **argv) { return run(argc, argv, 1); }
