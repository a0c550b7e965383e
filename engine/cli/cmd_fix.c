/*
** cmd_fix.c: `tshoot fix` (try a cause's fixes on a host until one verifies)
** and `tshoot run` (run one script in the sandbox, for authors).
*/
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Save the machine and the journal when asked to. */
static int finish_host(tshoot_host *h, const char *save, const char *log)
{
  int status = EXIT_OK;
  char *text = NULL;
  if (save) {
    int rc = tshoot_host_sim_save(&text, h);
    if (rc != TSHOOT_OK) status = cli_lib_error(rc);
    else status = cli_write_file(save, text, 0, NULL);
    tshoot_free(text);
    text = NULL;
  }
  if (log && status == EXIT_OK) {
    int rc = tshoot_host_journal_json(&text, h);
    if (rc != TSHOOT_OK) status = cli_lib_error(rc);
    else status = cli_write_file(log, text, 0, NULL);
    tshoot_free(text);
  }
  return status;
}

/* ===== tshoot fix ===== */

/* The article of cause `cause`: every cause is a candidate of a fresh session
** (one without a description). */
static int cause_article(tshoot_session *s, const char *cause, char **article)
{
  const tshoot_cause_rank *r;
  size_t n, i;
  int rc = tshoot_session_causes(&r, &n, s);
  *article = NULL;
  if (rc != TSHOOT_OK) return rc;
  for (i = 0; i < n; i++)
    if (r[i].article && strcmp(r[i].cause, cause) == 0) {
      *article = strdup(r[i].article);
      return *article ? TSHOOT_OK : TSHOOT_ENOMEM;
    }
  return TSHOOT_ENOTFOUND;
}

static int confirm_at_terminal(const char *question)
{
  char line[64];
  fprintf(stderr, "%s [y/N] ", question);
  fflush(stderr);
  if (!fgets(line, sizeof line, stdin)) return 0;
  return line[0] == 'y' || line[0] == 'Y';
}

/* Without --yes: ask at a terminal; elsewhere nobody can confirm, so stop. */
static int confirm_fix(const tshoot_fix_info *x, const tshoot_run *plan, void *payload)
{
  int json = *(const int *)payload;
  if (!isatty(STDIN_FILENO) || json) {
    /* the message must agree with the plan just shown */
    if (plan->status == TSHOOT_OK && !plan->n_changes)
      cli_error("fix %s runs only when confirmed, even though its plan changes nothing "
                "(it may ask a person to act: see its notes): confirm with --yes", x->id);
    else
      cli_error("fix %s changes the machine: confirm with --yes (or see the plan with --dry-run)", x->id);
    return -1;
  }
  if (!confirm_at_terminal("  Apply it?")) {
    printf("  not applied\n");
    return 0;
  }
  return 1;
}

typedef struct fix_cmd {
  const char *cause, *host_spec, *save, *log, *kb_opt;
  int dry, yes, json;
  tshoot_limits lim;
  tshoot_kb *kb;
  tshoot_host *host;
  tshoot_session *s;
  tshoot_article *art;
  const tshoot_cause_info *ci;
  char *article;
  json_t *tries;               /* a fix result (fixrun.c) for each fix tried */
  const char *worked;          /* the fix that verified */
} fix_cmd;

/* The KB, the host, a session on them, and the cause's article. */
static int fix_open(fix_cmd *f)
{
  size_t i;
  int rc;
  if (cli_open_kb(&f->kb, f->kb_opt, NULL) != EXIT_OK) return EXIT_FAIL;
  cli_scripts_note(f->kb);
  if ((rc = cli_open_host(&f->host, f->host_spec)) != EXIT_OK) return rc;
  rc = tshoot_session_new(&f->s, f->kb, NULL);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  rc = cause_article(f->s, f->cause, &f->article);
  if (rc == TSHOOT_ENOTFOUND) {
    /* the library's message, with its did-you-mean */
    tshoot_explanation *e = NULL;
    rc = tshoot_session_how(&e, f->s, f->cause);
    tshoot_explanation_free(e);
    if (rc == TSHOOT_OK) return cli_error("no cause '%s' in this KB", f->cause);
    rc = cli_lib_error(rc);
    if (!strstr(tshoot_error_last()->message, "did you mean"))
      cli_note("cause ids are in the output of 'tshoot diagnose' and 'tshoot show ARTICLE'");
    return rc;
  }
  if (rc == TSHOOT_ENOMEM) return cli_error("out of memory");
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  rc = tshoot_article_load(&f->art, f->kb, f->article);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  for (i = 0; i < f->art->n_causes; i++)
    if (strcmp(f->art->causes[i].id, f->cause) == 0) f->ci = &f->art->causes[i];
  if (!f->ci) return cli_error("cause '%s' is not in article '%s'", f->cause, f->article);
  rc = tshoot_session_set_host(f->s, f->host, &f->lim);
  return rc == TSHOOT_OK ? EXIT_OK : cli_lib_error(rc);
}

/* Try the cause's fixes in order until one verifies. EXIT_OK when all were
** tried (f->worked says whether one verified), else EXIT_FAIL. */
static int fix_try_all(fix_cmd *f)
{
  const tshoot_cause_info *ci = f->ci;
  cli_fix_options o;
  size_t i, scripted = 0;

  memset(&o, 0, sizeof o);
  o.show = !f->json;
  o.detail = 1;
  o.dry_run = f->dry;
  o.confirm = f->yes ? NULL : confirm_fix;
  o.payload = &f->json;
  if (!f->json) printf("%s%s%s (%s): %zu fix%s to try in order%s\n", cli_sgr(stdout, SGR_BOLD), ci->title,
                       cli_sgr(stdout, SGR_RESET), ci->id, ci->n_fixes, ci->n_fixes == 1 ? "" : "es",
                       f->dry ? " (dry run: nothing changes)" : "");
  for (i = 0; i < ci->n_fixes && !f->worked; i++) {
    const tshoot_fix_info *x = &ci->fixes[i];
    cli_fix_outcome outcome;
    json_t *t;
    if (!x->script) {
      json_array_append_new(f->tries, cli_fix_manual(x));
      if (!f->json) printf("\n[%zu/%zu] %s (%s): no script, a person does this one (tshoot show %s)\n",
                           i + 1, ci->n_fixes, x->title, x->id, f->article);
      continue;
    }
    scripted++;
    if (!f->json)
      printf("\n[%zu/%zu] %s (%s)%s%s\n", i + 1, ci->n_fixes, x->title, x->id,
             x->needs_admin ? ", needs admin rights" : "", x->reversible ? "" : ", cannot be undone");
    if (cli_fix_run(&t, &outcome, f->s, x, &o) != EXIT_OK) return EXIT_FAIL;
    json_array_append_new(f->tries, t);
    if (outcome == FIX_NOT_CONFIRMED) return EXIT_FAIL;
    if (outcome == FIX_VERIFIED) f->worked = x->id;
  }
  if (!scripted && !f->json)
    printf("\nNo fix of this cause has a script: follow the steps of 'tshoot show %s'.\n", f->article);
  return EXIT_OK;
}

int cmd_fix(int argc, char **argv)
{
  static const struct option longs[] = {
    { "kb", required_argument, NULL, 'k' },
    { "host", required_argument, NULL, 'H' },
    { "dry-run", no_argument, NULL, 'n' },
    { "yes", no_argument, NULL, 'y' },
    { "save", required_argument, NULL, 'S' },
    { "log", required_argument, NULL, 'L' },
    { "json", no_argument, NULL, 'j' },
    { "memory", required_argument, NULL, 'M' },
    { "instructions", required_argument, NULL, 'I' },
    { "time", required_argument, NULL, 'T' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  fix_cmd f;
  tshoot_limits lim = TSHOOT_LIMITS_INIT;
  int c, status;

  memset(&f, 0, sizeof f);
  f.lim = lim;
  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":nyh", longs, NULL)) != -1) {
    switch (c) {
    case 'k': f.kb_opt = optarg; break;
    case 'H': f.host_spec = optarg; break;
    case 'n': f.dry = 1; break;
    case 'y': f.yes = 1; break;
    case 'S': f.save = optarg; break;
    case 'L': f.log = optarg; break;
    case 'j': f.json = 1; break;
    case 'M': case 'I': case 'T':
      if (cli_limits_option("fix", &f.lim, c, optarg) != EXIT_OK) return EXIT_USAGE;
      break;
    case 'h': cli_print_command_help(stdout, "fix"); return EXIT_OK;
    default: return cli_getopt_error("fix", c, argv);
    }
  }
  if (optind != argc - 1) return cli_usage_error("fix", "give one cause id (from 'tshoot diagnose' or 'tshoot show')");
  if (!f.host_spec) return cli_usage_error("fix", "a fix runs on a host: give --host sim:FILE");
  f.cause = argv[optind];
  f.tries = json_array();

  if ((status = fix_open(&f)) == EXIT_OK && (status = fix_try_all(&f)) == EXIT_OK) {
    status = f.dry ? EXIT_OK : f.worked ? EXIT_OK : EXIT_FAIL;
    if (!f.json && !f.dry) printf("\n%s\n", f.worked ? "Fixed." : "No fix verified; nothing was left changed.");
    if (finish_host(f.host, f.save, f.log) != EXIT_OK) status = EXIT_FAIL;
    if (f.json) {
      json_t *out = json_object();
      json_object_set_new(out, "cause", cli_jstr(f.cause));
      json_object_set_new(out, "article", cli_jstr(f.article));
      json_object_set_new(out, "dry_run", json_boolean(f.dry));
      json_object_set(out, "tries", f.tries);
      json_object_set_new(out, "fixed_by", cli_jstr(f.worked));
      if (cli_json_print(out) != EXIT_OK) status = EXIT_FAIL;
    }
  }
  json_decref(f.tries);
  tshoot_session_free(f.s);
  tshoot_article_free(f.art);
  free(f.article);
  tshoot_host_free(f.host);
  tshoot_kb_close(f.kb);
  return status;
}

/* ===== tshoot run ===== */

/* A file next to where `name` points that is named almost like it (a
** slip in a path), or NULL; *out gets the path. */
static const char *closest_file(const char *name, char *out, size_t cap)
{
  const char *slash = strrchr(name, '/'), *found;
  char dir[4096];
  const char **names = NULL;
  size_t n = 0, ncap = 0;
  struct dirent *e;
  DIR *dp;
  if (!slash || (size_t)(slash - name) >= sizeof dir) return NULL;
  memcpy(dir, name, (size_t)(slash - name));
  dir[slash - name] = '\0';
  if (!(dp = opendir(slash == name ? "/" : dir))) return NULL;
  while ((e = readdir(dp)) != NULL) {
    char *copy;
    if (e->d_name[0] == '.') continue;
    if (n == ncap) {
      const char **nv = realloc(names, (ncap = ncap ? 2 * ncap : 32) * sizeof *nv);
      if (!nv) break;
      names = nv;
    }
    if (!(copy = strdup(e->d_name))) break;
    names[n++] = copy;
  }
  closedir(dp);
  found = cli_closest(slash + 1, names, n);
  if (found) snprintf(out, cap, "%s/%s", dir, found);
  while (n) free((char *)names[--n]);
  free(names);
  return found ? out : NULL;
}

/* The script `name`: a file, else a script stored in the KB. */
static int load_script(const char *name, const char *kb_opt, char **body, size_t *len)
{
  tshoot_kb *kb = NULL;
  int err, rc;
  if (cli_read_file(name, 16u << 20, body, len) == 0) return EXIT_OK;
  err = errno;
  if (strchr(name, '/') && access(name, F_OK) == 0) return cli_error("cannot read %s: %s", name, strerror(err));
  /* not a file: a script stored in the KB */
  if (cli_open_kb(&kb, kb_opt, NULL) != EXIT_OK) return EXIT_FAIL;
  cli_scripts_note(kb);
  rc = tshoot_kb_script(body, len, kb, name);
  tshoot_kb_close(kb);
  if (rc != TSHOOT_OK) {
    char path[4200];
    const char *s = rc == TSHOOT_ENOTFOUND ? closest_file(name, path, sizeof path) : NULL;
    cli_lib_error(rc);
    if (s) cli_note("'%s' is neither a file nor a script in the KB (did you mean the file '%s'?)", name, s);
    else cli_note("'%s' is neither a file nor a script in the KB", name);
    return EXIT_FAIL;
  }
  return EXIT_OK;
}

/* What the run did, for a person or as JSON. EXIT_FAIL: the JSON could not be written. */
static int report_run(const tshoot_run *run, const char *name, tshoot_script_mode mode, int json)
{
  size_t k;
  if (json) {
    json_t *o = cli_run_json(run);
    json_object_set_new(o, "script", cli_jstr(name));
    json_object_set_new(o, "kind", json_string(mode == TSHOOT_RUN_PROBE ? "probe" : "fix"));
    json_object_set_new(o, "mode", json_string(mode == TSHOOT_RUN_PROBE ? "probe" : mode == TSHOOT_RUN_PLAN ? "plan" :
                                               mode == TSHOOT_RUN_APPLY ? "apply" : "verify"));
    if (mode == TSHOOT_RUN_PROBE) json_object_set_new(o, "answer", cli_jstr(run->answer));
    return cli_json_print(o);
  } else {
    for (k = 0; k < run->n_notes; k++) printf("note: %s\n", run->notes[k]);
    if (run->status != TSHOOT_OK) {
      cli_error("%s", run->message);
      if (run->rolled_back) cli_note("every change was rolled back");
    } else if (mode == TSHOOT_RUN_PROBE) {
      printf("%s\n", run->answer ? run->answer : "(no answer: the probe cannot tell)");
    } else if (mode == TSHOOT_RUN_PLAN) {
      if (!run->n_changes) printf("plan: no change to the machine\n");
      else { printf("plan (nothing was changed; --apply makes these changes):\n"); cli_print_changes(stdout, run->changes, run->n_changes, "  "); }
    } else {
      printf("%s\n", run->verified ? "verified" : "not verified");
      cli_print_changes(stdout, run->changes, run->n_changes, "  ");
    }
    if (isatty(STDERR_FILENO))
      fprintf(stderr, "(%.2f ms, %llu instructions, %zu KiB peak)\n", run->elapsed_ms, run->instructions,
              run->memory_peak / 1024);
  }
  return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
  static const struct option longs[] = {
    { "kb", required_argument, NULL, 'k' },
    { "host", required_argument, NULL, 'H' },
    { "apply", no_argument, NULL, 'a' },
    { "verify", no_argument, NULL, 'v' },
    { "yes", no_argument, NULL, 'y' },
    { "save", required_argument, NULL, 'S' },
    { "log", required_argument, NULL, 'L' },
    { "json", no_argument, NULL, 'j' },
    { "memory", required_argument, NULL, 'M' },
    { "instructions", required_argument, NULL, 'I' },
    { "time", required_argument, NULL, 'T' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  const char *kb_opt = NULL, *host_spec = NULL, *save = NULL, *log = NULL, *name;
  tshoot_limits lim = TSHOOT_LIMITS_INIT;
  tshoot_host *host = NULL;
  tshoot_run *run = NULL;
  tshoot_fix_info confirm_all;
  char *body = NULL;
  size_t len = 0;
  int c, rc, apply = 0, verify = 0, yes = 0, json = 0, status = EXIT_FAIL;
  tshoot_script_mode mode;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
    switch (c) {
    case 'k': kb_opt = optarg; break;
    case 'H': host_spec = optarg; break;
    case 'a': apply = 1; break;
    case 'v': verify = 1; break;
    case 'y': yes = 1; break;
    case 'S': save = optarg; break;
    case 'L': log = optarg; break;
    case 'j': json = 1; break;
    case 'M': case 'I': case 'T':
      if (cli_limits_option("run", &lim, c, optarg) != EXIT_OK) return EXIT_USAGE;
      break;
    case 'h': cli_print_command_help(stdout, "run"); return EXIT_OK;
    default: return cli_getopt_error("run", c, argv);
    }
  }
  if (optind != argc - 1) return cli_usage_error("run", "give one script: a file, or a name stored in the KB");
  if (apply && verify) return cli_usage_error("run", "--apply already verifies; give one of --apply and --verify");
  if (save && !host_spec) return cli_usage_error("run", "--save writes the simulated machine: give --host sim:FILE");
  name = argv[optind];
  if (load_script(name, kb_opt, &body, &len) != EXIT_OK) return EXIT_FAIL;
  if (host_spec && (status = cli_open_host(&host, host_spec)) != EXIT_OK) goto done;
  if (yes && host) tshoot_host_sim_confirm(host, 1);

  /* A fix when asked to apply or verify it; else first as a probe, and as a
  ** fix (its plan) if it turns out to return a table. */
  mode = apply ? TSHOOT_RUN_APPLY : verify ? TSHOOT_RUN_VERIFY : TSHOOT_RUN_PROBE;
  memset(&confirm_all, 0, sizeof confirm_all);
  confirm_all.id = name;
  confirm_all.title = name;
  confirm_all.reversible = 1;
  rc = tshoot_script_run(&run, host, name, body, len, mode, apply ? &confirm_all : NULL, &lim);
  if (rc == TSHOOT_OK && mode == TSHOOT_RUN_PROBE && run->status == TSHOOT_ERROR &&
      strstr(run->message, "not a table")) {
    tshoot_run_free(run);
    run = NULL;
    mode = TSHOOT_RUN_PLAN;
    rc = tshoot_script_run(&run, host, name, body, len, mode, NULL, &lim);
  }
  if (rc != TSHOOT_OK) { status = cli_lib_error(rc); goto done; }

  status = run->status == TSHOOT_OK ? EXIT_OK : EXIT_FAIL;
  if (report_run(run, name, mode, json) != EXIT_OK) status = EXIT_FAIL;
  if (host && finish_host(host, save, log) != EXIT_OK) status = EXIT_FAIL;

done:
  tshoot_run_free(run);
  tshoot_host_free(host);
  free(body);
  return status;
}
