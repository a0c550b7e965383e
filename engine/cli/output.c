/*
** output.c: what the commands share: terminals and colour, error printing,
** finding and opening the KB, text wrapping, JSON, and printing an article.
*/
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ===== terminals and colour ===== */

static int tty_out, tty_err, color_out, color_err;

void cli_init(void)
{
  const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
  int color_ok = !(nc && *nc) && !(term && strcmp(term, "dumb") == 0);
  tty_out = isatty(STDOUT_FILENO);
  tty_err = isatty(STDERR_FILENO);
  color_out = tty_out && color_ok;
  color_err = tty_err && color_ok;
}

int cli_color_out(void) { return color_out; }
int cli_color_err(void) { return color_err; }
int cli_tty_err(void) { return tty_err; }

int cli_width(void)
{
  const char *c = getenv("COLUMNS");
  int w = 0;
  if (c && cli_parse_int(c, 1, 10000, &w) == 0) {
    /* use it */
  } else if (tty_out) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) w = ws.ws_col;
  }
  if (w <= 0) w = 80;
  if (w < 40) w = 40;
  if (w > 120) w = 120;
  return w;
}

const char *cli_sgr(FILE *f, cli_sgr_kind k)
{
  static const char *const codes[] = {
    [SGR_RESET] = "\033[0m", [SGR_BOLD] = "\033[1m", [SGR_DIM] = "\033[2m",
    [SGR_RED] = "\033[1;31m", [SGR_MAGENTA] = "\033[1;35m", [SGR_CYAN] = "\033[1;36m",
    [SGR_GREEN] = "\033[1;32m", [SGR_BOLD_OFF] = "\033[22m",
  };
  int on = f == stdout ? color_out : f == stderr ? color_err : 0;
  return on ? codes[k] : "";
}

/* ===== errors ===== */

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "tshoot: %s%s", cmd ? cmd : "", cmd ? ": " : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (cmd) fprintf(stderr, "\ntry 'tshoot %s --help'\n", cmd);
  else fprintf(stderr, "\ntry 'tshoot --help'\n");
  return EXIT_USAGE;
}

static void error_head(void)
{
  fflush(stdout);
  fprintf(stderr, "tshoot: %serror:%s ", cli_sgr(stderr, SGR_RED), cli_sgr(stderr, SGR_RESET));
}

int cli_error(const char *fmt, ...)
{
  va_list ap;
  error_head();
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return EXIT_FAIL;
}

void cli_note(const char *fmt, ...)
{
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "tshoot: %snote:%s ", cli_sgr(stderr, SGR_CYAN), cli_sgr(stderr, SGR_RESET));
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_lib_error(int rc)
{
  const tshoot_error *e = tshoot_error_last();
  const char *msg = e->message && *e->message ? e->message : tshoot_strerror(rc);
  error_head();
  if (e->file) {
    fprintf(stderr, "%s", e->file);
    if (e->line > 0) fprintf(stderr, ":%d", e->line);
    if (e->line > 0 && e->column > 0) fprintf(stderr, ":%d", e->column);
    fputs(": ", stderr);
  }
  fprintf(stderr, "%s\n", msg);
  return EXIT_FAIL;
}

static const char *status_name(int rc)
{
  switch (rc) {
  case TSHOOT_OK: return "ok";
  case TSHOOT_ENOMEM: return "nomem";
  case TSHOOT_EINVALID: return "invalid";
  case TSHOOT_ENOTFOUND: return "notfound";
  case TSHOOT_ESOURCE: return "source";
  case TSHOOT_ECORRUPT: return "corrupt";
  case TSHOOT_EVERSION: return "version";
  case TSHOOT_EIO: return "io";
  case TSHOOT_ETIMEOUT: return "timeout";
  case TSHOOT_ELIMIT: return "limit";
  case TSHOOT_EUSER: return "user";
  default: return "error";
  }
}

json_t *cli_error_json(int rc)
{
  const tshoot_error *e = tshoot_error_last();
  json_t *j = json_object();
  json_object_set_new(j, "code", json_integer(rc));
  json_object_set_new(j, "status", json_string(status_name(rc)));
  json_object_set_new(j, "message", cli_jstr(e->message && *e->message ? e->message
                                                                      : tshoot_strerror(rc)));
  json_object_set_new(j, "file", cli_jstr(e->file));
  json_object_set_new(j, "line", json_integer(e->line));
  json_object_set_new(j, "column", json_integer(e->column));
  return j;
}

/* ===== the KB ===== */

/* Trust (docs/signing.md): the global switches that main.c takes out of any
** command's arguments (cli_trust_args), and the user's trust folder. */
#define MAX_TRUST_ARGS 32
static const char *trust_files[MAX_TRUST_ARGS];
static size_t n_trust_files;
static int allow_unsigned;

int cli_trust_args(int *argc, char **argv)
{
  int i, j = 1, rest = 0;
  for (i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (!rest && strcmp(a, "--") == 0) rest = 1;
    if (!rest && strcmp(a, "--allow-unsigned-scripts") == 0) {
      allow_unsigned = 1;
      continue;
    }
    if (!rest && (strcmp(a, "--trust") == 0 || strncmp(a, "--trust=", 8) == 0)) {
      const char *v = a[7] == '=' ? a + 8 : (i + 1 < *argc ? argv[++i] : NULL);
      if (!v || !*v) return cli_usage_error(argv[1], "--trust needs a public key file (NAME.pub)");
      if (n_trust_files == MAX_TRUST_ARGS) return cli_usage_error(argv[1], "at most %d --trust", MAX_TRUST_ARGS);
      trust_files[n_trust_files++] = v;
      continue;
    }
    argv[j++] = argv[i];
  }
  argv[j] = NULL;
  *argc = j;
  return EXIT_OK;
}

/* --kb, else the library's default ($TSHOOT_KB, the build's KB, the installed
** one: tshoot_kb_open with a NULL path), which says where it looked; trusting
** the --trust keys and the user's trust folder besides the machine's. */
int cli_open_kb(tshoot_kb **out, const char *opt, const char **path_out)
{
  tshoot_kb_options o = TSHOOT_KB_OPTIONS_INIT;
  char *keys[MAX_TRUST_ARGS] = { NULL }, user_dir[4096];
  const char *trusted[MAX_TRUST_ARGS], *revoked[MAX_TRUST_ARGS];
  const char *trusted_file[MAX_TRUST_ARGS];
  size_t n_trusted = 0, n_revoked = 0;
  const char *dirs[1], *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  size_t i, len;
  int rc;

  for (i = 0; i < n_trust_files; i++) {
    if (cli_read_file(trust_files[i], 4096, &keys[i], &len) != 0) {
      int e = errno;
      for (i = 0; i < n_trust_files; i++) free(keys[i]);
      return cli_error("--trust %s: %s", trust_files[i], e == EFBIG ? "too large for a public key" : strerror(e));
    }
  }
  /* a .revoked file revokes, as in a trust folder */
  for (i = 0; i < n_trust_files; i++) {
    size_t l = strlen(trust_files[i]);
    if (l > 8 && strcmp(trust_files[i] + l - 8, ".revoked") == 0) revoked[n_revoked++] = keys[i];
    else { trusted_file[n_trusted] = trust_files[i]; trusted[n_trusted++] = keys[i]; }
  }
  o.trusted_keys = trusted;
  o.n_trusted_keys = n_trusted;
  o.revoked_keys = revoked;
  o.n_revoked_keys = n_revoked;
  if (xdg && *xdg == '/') snprintf(user_dir, sizeof user_dir, "%s/tshoot/trusted.d", xdg);
  else if (home && *home == '/') snprintf(user_dir, sizeof user_dir, "%s/.config/tshoot/trusted.d", home);
  else user_dir[0] = '\0';
  dirs[0] = user_dir;
  o.trust_dirs = dirs;
  o.n_trust_dirs = *user_dir ? 1 : 0;
  o.trust_flags = allow_unsigned ? TSHOOT_KB_ALLOW_UNSIGNED_SCRIPTS : 0;
  rc = tshoot_kb_open(out, opt, &o);
  for (i = 0; i < n_trust_files; i++) free(keys[i]);
  if (rc == TSHOOT_EINVALID && (strstr(tshoot_error_last()->message, "trusted_keys[") ||
                                 strstr(tshoot_error_last()->message, "revoked_keys["))) {
    const char *m = strchr(tshoot_error_last()->message, '[') + 1;
    size_t k = (size_t)strtoul(m, NULL, 10), j, seen = 0;
    const char *file = "?";
    int rev = strstr(tshoot_error_last()->message, "revoked_keys[") != NULL;
    if (!rev && k < n_trusted) file = trusted_file[k];
    for (j = 0; rev && j < n_trust_files; j++) {
      size_t l = strlen(trust_files[j]);
      if (l > 8 && strcmp(trust_files[j] + l - 8, ".revoked") == 0 && seen++ == k) file = trust_files[j];
    }
    return cli_error("--trust %s: not a tshoot public key (a line 'tshoot-ed25519-public-1 <64 hex "
                     "digits> <name>', as in the NAME.pub that 'tshoot keygen' writes)", file);
  }
  if (rc != TSHOOT_OK) {
    cli_lib_error(rc);
    if (!opt && rc == TSHOOT_ENOTFOUND && !tshoot_error_last()->file)
      fprintf(stderr,
              "  to get one: build the project ('meson compile -C BUILDDIR' compiles kb/ into the build's KB),\n"
              "              or compile your own: 'tshoot compile DIR -o my.db', then pass --kb my.db\n"
              "              or set TSHOOT_KB=my.db\n");
    return EXIT_FAIL;
  }
  if (path_out) *path_out = tshoot_kb_path(*out);
  return EXIT_OK;
}

void cli_scripts_note(const tshoot_kb *kb)
{
  const tshoot_kb_trust *t = tshoot_kb_trust_get(kb);
  if (!t || t->status == TSHOOT_TRUST_SIGNED) return;
  if (t->scripts_allowed)
    fprintf(stderr, "tshoot: warning: running the scripts of a KB that is not trusted (%s), "
            "because of --allow-unsigned-scripts\n", t->reason);
  else
    cli_note("the KB's probes and fixes will not run: %s (docs/signing.md)", t->reason);
}

/* ===== JSON ===== */

int cli_json_print(json_t *j)
{
  size_t flags = (isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT);
  int rc;
  if (!j) {
    fprintf(stderr, "tshoot: error: out of memory building JSON\n");
    return EXIT_FAIL;
  }
  if (json_is_object(j) && !json_object_get(j, "version")) {
    /* "version" first, so that a reader sees it before the rest */
    json_t *v = json_object();
    if (!v || json_object_set_new(v, "version", json_integer(CLI_JSON_VERSION)) != 0 ||
        json_object_update(v, j) != 0) {
      json_decref(v);
      json_decref(j);
      fprintf(stderr, "tshoot: error: out of memory building JSON\n");
      return EXIT_FAIL;
    }
    json_decref(j);
    j = v;
  }
  rc = json_dumpf(j, stdout, flags);
  json_decref(j);
  if (rc != 0 || fputc('\n', stdout) == EOF) return EXIT_FAIL;
  return EXIT_OK;
}

json_t *cli_jstr(const char *s)
{
  json_t *j;
  char *copy, *p;
  if (!s) return json_null();
  j = json_string(s);
  if (j) return j;
  /* invalid UTF-8 (KB text is checked by the compiler, but be safe) */
  copy = strdup(s);
  if (!copy) return json_null();
  for (p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80) *p = '?';
  j = json_string(copy);
  free(copy);
  return j ? j : json_null();
}

/* ===== wrapping ===== */

/* Bytes of the escape sequence at s (ESC [ ... final byte), or 0. */
static size_t ansi_len(const char *s)
{
  size_t i;
  if (s[0] != '\033' || s[1] != '[') return 0;
  for (i = 2; s[i]; i++)
    if ((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e) return i + 1;
  return i;
}

static int width_of(const char *s, size_t n)
{
  int w = 0;
  size_t i = 0;
  while (i < n) {
    size_t a = ansi_len(s + i);
    if (a) { i += a; continue; }
    if (((unsigned char)s[i] & 0xc0) != 0x80) w++;
    i++;
  }
  return w;
}

int cli_display_width(const char *s) { return width_of(s, strlen(s)); }

void cli_wrap(FILE *f, const char *text, int indent, int first_col, int width)
{
  int col = first_col, line_empty = 1;
  const char *p = text ? text : "";
  if (width - indent < 20) width = indent + 20;
  while (*p) {
    const char *w;
    size_t n;
    int ww;
    if (*p == '\n') {
      /* keep the author's paragraph breaks: a blank line stays blank */
      int nl = 0;
      while (*p == '\n' || *p == ' ' || *p == '\t' || *p == '\r') { if (*p == '\n') nl++; p++; }
      if (!*p) break;
      fputc('\n', f);
      if (nl > 1) fputc('\n', f);
      fprintf(f, "%*s", indent, "");
      col = indent;
      line_empty = 1;
      continue;
    }
    if (*p == ' ' || *p == '\t' || *p == '\r') { p++; continue; }
    w = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      size_t a = ansi_len(p);
      p += a ? a : 1;
    }
    n = (size_t)(p - w);
    ww = width_of(w, n);
    if (!line_empty && col + 1 + ww > width) {
      fprintf(f, "\n%*s", indent, "");
      col = indent;
      line_empty = 1;
    }
    if (!line_empty) { fputc(' ', f); col++; }
    fwrite(w, 1, n, f);
    col += ww;
    line_empty = 0;
  }
  fputc('\n', f);
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
  extern int optind, optopt;
  const char *tok = optind > 0 ? argv[optind - 1] : "?";
  if (c == ':') {
    if (tok[0] == '-' && tok[1] == '-') return cli_usage_error(cmd, "option '%s' needs a value", tok);
    return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
  }
  if (optopt && !(tok[0] == '-' && tok[1] == '-'))
    return cli_usage_error(cmd, "unknown option '-%c'", optopt);
  return cli_usage_error(cmd, "unknown option '%s'", tok);
}

char *cli_join_words(int argc, char **argv)
{
  size_t n = 1, i;
  char *s, *p;
  for (i = 0; i < (size_t)argc; i++) n += strlen(argv[i]) + 1;
  s = p = malloc(n);
  if (!s) return NULL;
  for (i = 0; i < (size_t)argc; i++) {
    size_t l = strlen(argv[i]);
    if (i) *p++ = ' ';
    memcpy(p, argv[i], l);
    p += l;
  }
  *p = '\0';
  return s;
}

char *cli_trim(char *s)
{
  char *e;
  while (*s && isspace((unsigned char)*s)) s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

int cli_parse_int(const char *s, int lo, int hi, int *out)
{
  char *end;
  long v;
  if (!s || !*s) return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* ===== articles ===== */

static void heading(FILE *f, const char *text)
{
  fprintf(f, "\n%s%s%s\n", cli_sgr(f, SGR_BOLD), text, cli_sgr(f, SGR_RESET));
}

void cli_print_article(FILE *f, const tshoot_article *a)
{
  int width = cli_width();
  size_t i, j, k;
  char label[64];

  fprintf(f, "%s", cli_sgr(f, SGR_BOLD));
  cli_wrap(f, a->title, 0, 0, width);
  {
    char meta[1200];
    snprintf(meta, sizeof meta, "%s%s  %.1000s:%d%s", cli_sgr(f, SGR_DIM), a->id,
             a->file ? a->file : "?", a->line, cli_sgr(f, SGR_RESET));
    fputs(cli_sgr(f, SGR_RESET), f);
    cli_wrap(f, meta, 0, 0, width);
  }
  if (a->summary) {
    fputc('\n', f);
    cli_wrap(f, a->summary, 0, 0, width);
  }
  if (a->n_symptoms) {
    heading(f, "Symptoms");
    for (i = 0; i < a->n_symptoms; i++) {
      const tshoot_symptom_info *s = &a->symptoms[i];
      fputs("  - ", f);
      if (s->kind && strcmp(s->kind, "error") == 0) {
        char *q;
        size_t n = strlen(s->text) + (s->code ? strlen(s->code) : 0) + 32;
        q = malloc(n);
        if (!q) continue;
        if (s->code) snprintf(q, n, "error %s: \"%s\"", s->code, s->text);
        else snprintf(q, n, "error: \"%s\"", s->text);
        cli_wrap(f, q, 4, 4, width);
        free(q);
      } else {
        cli_wrap(f, s->text, 4, 4, width);
      }
    }
  }
  if (a->n_aliases) {
    heading(f, "Also known as");
    for (i = 0; i < a->n_aliases; i++) {
      fputs("  - ", f);
      cli_wrap(f, a->aliases[i], 4, 4, width);
    }
  }
  if (a->n_causes) heading(f, a->n_causes == 1 ? "Cause" : "Possible causes");
  for (i = 0; i < a->n_causes; i++) {
    const tshoot_cause_info *c = &a->causes[i];
    snprintf(label, sizeof label, "%zu. ", i + 1);
    fprintf(f, "\n%s%s", label, cli_sgr(f, SGR_BOLD));
    cli_wrap(f, c->title, 3, (int)strlen(label), width);
    {
      char meta[256];
      snprintf(meta, sizeof meta, "%s%s (prior %.2f)%s", cli_sgr(f, SGR_DIM), c->id, c->prior,
               cli_sgr(f, SGR_RESET));
      fprintf(f, "%s   ", cli_sgr(f, SGR_RESET));
      cli_wrap(f, meta, 3, 3, width);
    }
    fputs("   ", f);
    cli_wrap(f, c->explanation, 3, 3, width);
    for (j = 0; j < c->n_fixes; j++) {
      const tshoot_fix_info *x = &c->fixes[j];
      snprintf(label, sizeof label, "   Fix %zu.%zu: ", i + 1, j + 1);
      fprintf(f, "\n%s%s", label, cli_sgr(f, SGR_BOLD));
      cli_wrap(f, x->title, 5, (int)strlen(label), width);
      {
        char meta[512];
        snprintf(meta, sizeof meta, "%s%s: %s, %s, risk %s%s%s%s", cli_sgr(f, SGR_DIM), x->id,
                 x->needs_admin ? "needs admin" : "no admin needed",
                 x->reversible ? "reversible" : "not reversible", x->risk ? x->risk : "?",
                 x->script ? ", script " : "", x->script ? x->script : "",
                 cli_sgr(f, SGR_RESET));
        fprintf(f, "%s     ", cli_sgr(f, SGR_RESET));
        cli_wrap(f, meta, 7, 5, width);
      }
      for (k = 0; k < x->n_steps; k++) {
        snprintf(label, sizeof label, "     %zu. ", k + 1);
        fputs(label, f);
        cli_wrap(f, x->steps[k], (int)strlen(label), (int)strlen(label), width);
      }
      if (x->verify) {
        fprintf(f, "     %sCheck:%s ", cli_sgr(f, SGR_BOLD), cli_sgr(f, SGR_RESET));
        cli_wrap(f, x->verify, 12, 12, width);
      }
    }
  }
}

json_t *cli_article_json(const tshoot_article *a)
{
  json_t *j = json_object(), *arr, *o;
  size_t i, k, m;

  json_object_set_new(j, "id", cli_jstr(a->id));
  json_object_set_new(j, "title", cli_jstr(a->title));
  json_object_set_new(j, "summary", cli_jstr(a->summary));
  json_object_set_new(j, "file", cli_jstr(a->file));
  json_object_set_new(j, "line", json_integer(a->line));
  arr = json_array();
  for (i = 0; i < a->n_symptoms; i++) {
    const tshoot_symptom_info *s = &a->symptoms[i];
    o = json_object();
    json_object_set_new(o, "id", cli_jstr(s->id));
    json_object_set_new(o, "kind", cli_jstr(s->kind));
    json_object_set_new(o, "code", cli_jstr(s->code));
    json_object_set_new(o, "text", cli_jstr(s->text));
    json_array_append_new(arr, o);
  }
  json_object_set_new(j, "symptoms", arr);
  arr = json_array();
  for (i = 0; i < a->n_aliases; i++) json_array_append_new(arr, cli_jstr(a->aliases[i]));
  json_object_set_new(j, "aliases", arr);
  arr = json_array();
  for (i = 0; i < a->n_causes; i++) {
    const tshoot_cause_info *c = &a->causes[i];
    json_t *fixes = json_array();
    o = json_object();
    json_object_set_new(o, "id", cli_jstr(c->id));
    json_object_set_new(o, "title", cli_jstr(c->title));
    json_object_set_new(o, "explanation", cli_jstr(c->explanation));
    json_object_set_new(o, "prior", json_real(c->prior));
    for (k = 0; k < c->n_fixes; k++) {
      const tshoot_fix_info *x = &c->fixes[k];
      json_t *fx = json_object(), *steps = json_array();
      json_object_set_new(fx, "id", cli_jstr(x->id));
      json_object_set_new(fx, "title", cli_jstr(x->title));
      for (m = 0; m < x->n_steps; m++) json_array_append_new(steps, cli_jstr(x->steps[m]));
      json_object_set_new(fx, "steps", steps);
      json_object_set_new(fx, "verify", cli_jstr(x->verify));
      json_object_set_new(fx, "script", cli_jstr(x->script));
      json_object_set_new(fx, "cost", json_real(x->cost));
      json_object_set_new(fx, "risk", cli_jstr(x->risk));
      json_object_set_new(fx, "needs_admin", json_boolean(x->needs_admin));
      json_object_set_new(fx, "reversible", json_boolean(x->reversible));
      json_array_append_new(fixes, fx);
    }
    json_object_set_new(o, "fixes", fixes);
    json_array_append_new(arr, o);
  }
  json_object_set_new(j, "causes", arr);
  return j;
}

/* ===== hosts ===== */

int cli_open_host(tshoot_host **out, const char *spec)
{
  int rc;
  *out = NULL;
  if (strncmp(spec, "sim:", 4) != 0 || !spec[4])
    return cli_usage_error(NULL, "--host '%s': a host is sim:FILE, a machine description "
                                 "(see docs/scripts.md; kb/kerio/machines/ has examples)", spec);
  rc = tshoot_host_sim_open(out, spec + 4);
  if (rc != TSHOOT_OK) {
    cli_lib_error(rc);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

int cli_limits_option(const char *cmd, tshoot_limits *lim, int opt, const char *arg)
{
  const char *name = opt == 'M' ? "memory" : opt == 'I' ? "instructions" : "time";
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(arg, &end, 10);
  if (errno || end == arg || *end || v == 0 ||
      (opt == 'M' && v > 4ULL * 1024 * 1024) || (opt == 'T' && v > 600000))
    return cli_usage_error(cmd, "--%s wants a positive number, not '%s'", name, arg);
  switch (opt) {
  case 'M': lim->memory_kib = (size_t)v; break;
  case 'I': lim->instructions = v; break;
  default: lim->time_ms = (int)v; break;
  }
  return EXIT_OK;
}

int cli_read_file(const char *path, size_t max, char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;
  if (!f) return -1;
  for (;;) {
    size_t got;
    if (cap - n < 4096) {
      char *nb;
      if (cap > max) { free(buf); fclose(f); errno = EFBIG; return -1; }
      nb = realloc(buf, cap ? 2 * cap : 8192);
      if (!nb) { free(buf); fclose(f); errno = ENOMEM; return -1; }
      buf = nb;
      cap = cap ? 2 * cap : 8192;
    }
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) { free(buf); fclose(f); errno = EIO; return -1; }
  fclose(f);
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

json_t *cli_changes_json(const tshoot_change *c, size_t n)
{
  json_t *arr = json_array();
  size_t i;
  for (i = 0; i < n; i++) {
    json_t *o = json_object();
    json_t *b = json_loads(c[i].before, JSON_DECODE_ANY, NULL);
    json_t *a = json_loads(c[i].after, JSON_DECODE_ANY, NULL);
    json_object_set_new(o, "op", cli_jstr(c[i].op));
    json_object_set_new(o, "target", cli_jstr(c[i].target));
    json_object_set_new(o, "before", b ? b : json_null());
    json_object_set_new(o, "after", a ? a : json_null());
    json_object_set_new(o, "undone", json_boolean(c[i].undone));
    json_array_append_new(arr, o);
  }
  return arr;
}

void cli_print_changes(FILE *f, const tshoot_change *c, size_t n, const char *indent)
{
  size_t i;
  for (i = 0; i < n; i++)
    fprintf(f, "%s%s %s: %s -> %s%s\n", indent, c[i].op, c[i].target, c[i].before, c[i].after,
            c[i].undone ? " (undone)" : "");
}

/* The file a write to `path` must replace: the target of a symbolic link
** (malloc'd), so that the link stays a link; NULL: path itself. */
static char *write_target(const char *path)
{
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) return realpath(path, NULL);
  return NULL;
}

int cli_write_file(const char *path, const char *text, int newline, const char *verb)
{
  char *real = write_target(path), *tmp = NULL;
  const char *target = real ? real : path, *slash = strrchr(target, '/');
  size_t len = strlen(text), n = strlen(target) + 32;
  struct stat st;
  mode_t mode, mask;
  FILE *f = NULL;
  int fd = -1, e = 0;

  tmp = malloc(n);
  if (!tmp) { free(real); return cli_error("out of memory"); }
  /* ".NAME.tmp-XXXXXX" next to the target, so that rename() is atomic */
  snprintf(tmp, n, "%.*s.%s.tmp-XXXXXX", slash ? (int)(slash - target + 1) : 0, target,
           slash ? slash + 1 : target);
  mask = umask(0);
  umask(mask);
  mode = stat(target, &st) == 0 ? st.st_mode & 07777 : 0666 & ~mask;
  if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, mode) != 0 || !(f = fdopen(fd, "w")) ||
      fwrite(text, 1, len, f) != len || (newline && fputc('\n', f) == EOF) || fflush(f) != 0 ||
      fsync(fileno(f)) != 0)
    e = errno;
  if (f) { if (fclose(f) != 0 && !e) e = errno; }
  else if (fd >= 0) close(fd);
  if (!e && rename(tmp, target) != 0) e = errno;
  if (e && fd >= 0) unlink(tmp);
  free(tmp);
  free(real);
  if (e) return cli_error("cannot %s %s: %s", verb ? verb : "write", path, strerror(e));
  return EXIT_OK;
}
