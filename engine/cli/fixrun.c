/*
** fixrun.c: one fix with a script, run on the host through a session, for
** `tshoot fix` and `tshoot diagnose --host`: its plan (worked out on a copy
** of the machine), a confirmation, the apply with its verify (rolled back by
** the library when it fails), printed for a person and recorded as one JSON
** object, the fix result:
**
**   {fix, title, outcome, message, plan, run}
**
**   outcome  planned (a dry run), plan failed, not confirmed, declined,
**            verified, refused (the script found it cannot help here),
**            failed; `tshoot fix` adds manual for a fix without a script
**   message  the apply's message, else the failed plan's, else null
**   plan     the plan run, as `tshoot run --json` prints a run; run: the
**            apply; each absent when it was not made
**
** `tshoot diagnose` adds the step's fields to it (kind, cause, probability,
** worked, source); `tshoot fix --json` lists one a fix in "tries".
*/
#include "cli.h"

#include <string.h>

static const char *const outcome_names[] = {
  [FIX_PLANNED] = "planned", [FIX_PLAN_FAILED] = "plan failed", [FIX_NOT_CONFIRMED] = "not confirmed",
  [FIX_DECLINED] = "declined", [FIX_VERIFIED] = "verified", [FIX_REFUSED] = "refused",
  [FIX_FAILED] = "failed",
};

json_t *cli_run_json(const tshoot_run *r)
{
  json_t *o = json_object(), *notes = json_array();
  size_t i;
  json_object_set_new(o, "status", json_string(r->status == TSHOOT_OK ? "ok" :
                                               r->status == TSHOOT_ELIMIT ? "limit" :
                                               r->status == TSHOOT_EUSER ? "refused" : "error"));
  json_object_set_new(o, "message", cli_jstr(r->message));
  json_object_set_new(o, "verified", json_boolean(r->verified));
  json_object_set_new(o, "rolled_back", json_boolean(r->rolled_back));
  json_object_set_new(o, "changes", cli_changes_json(r->changes, r->n_changes));
  for (i = 0; i < r->n_notes; i++) json_array_append_new(notes, cli_jstr(r->notes[i]));
  json_object_set_new(o, "notes", notes);
  json_object_set_new(o, "elapsed_ms", json_real(r->elapsed_ms));
  json_object_set_new(o, "instructions", json_integer((json_int_t)r->instructions));
  json_object_set_new(o, "memory_peak", json_integer((json_int_t)r->memory_peak));
  return o;
}

static json_t *result_new(const tshoot_fix_info *x, const char *outcome)
{
  json_t *o = json_object();
  json_object_set_new(o, "fix", cli_jstr(x->id));
  json_object_set_new(o, "title", cli_jstr(x->title));
  json_object_set_new(o, "outcome", json_string(outcome));
  json_object_set_new(o, "message", json_null());
  return o;
}

json_t *cli_fix_manual(const tshoot_fix_info *x) { return result_new(x, "manual"); }

static void set_outcome(json_t *o, cli_fix_outcome *out, cli_fix_outcome v)
{
  *out = v;
  json_object_set_new(o, "outcome", json_string(outcome_names[v]));
}

static void print_plan(const tshoot_run *plan, const cli_fix_options *o)
{
  size_t k;
  if (plan->status != TSHOOT_OK) printf("  the plan failed: %s\n", plan->message);
  else if (!plan->n_changes) printf("  plan: no change to the machine\n");
  else { printf("  plan:\n"); cli_print_changes(stdout, plan->changes, plan->n_changes, "    "); }
  for (k = 0; o->detail && k < plan->n_notes; k++) printf("  note: %s\n", plan->notes[k]);
}

/* Whether the plan's notes were printed with `note` among them. */
static int note_shown(const tshoot_run *plan, const cli_fix_options *o, const char *note)
{
  size_t k;
  for (k = 0; o->detail && k < plan->n_notes; k++)
    if (strcmp(plan->notes[k], note) == 0) return 1;
  return 0;
}

/* The apply: its notes, except those the plan already showed (the script
** says them again when it runs for real), then how it went. */
static void print_run(const tshoot_run *run, const tshoot_run *plan, const cli_fix_options *o)
{
  size_t k;
  for (k = 0; k < run->n_notes; k++)
    if (!note_shown(plan, o, run->notes[k])) printf("  note: %s\n", run->notes[k]);
  if (!o->detail) {
    if (run->verified) printf("  applied and verified\n");
    else printf("  did not work: %s%s\n", run->message, run->rolled_back ? " (rolled back)" : "");
  } else if (run->verified) {
    printf("  %sapplied and verified%s\n", cli_sgr(stdout, SGR_GREEN), cli_sgr(stdout, SGR_RESET));
    cli_print_changes(stdout, run->changes, run->n_changes, "    ");
  } else {
    printf("  %sdid not work%s: %s\n", cli_sgr(stdout, SGR_RED), cli_sgr(stdout, SGR_RESET), run->message);
    if (run->rolled_back) printf("  rolled back: the machine is as it was before this fix\n");
  }
}

int cli_fix_run(json_t **result, cli_fix_outcome *outcome, tshoot_session *s, const tshoot_fix_info *x,
                const cli_fix_options *o)
{
  tshoot_run *plan = NULL, *run = NULL;
  json_t *r;
  int rc, plan_ok;

  *result = NULL;
  if (o->show && o->detail && cli_tty_err()) fprintf(stderr, "  planning...\n");
  rc = tshoot_session_run_fix(&plan, s, x->id, 1);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  r = result_new(x, "planned");
  json_object_set_new(r, "plan", cli_run_json(plan));
  plan_ok = plan->status == TSHOOT_OK;
  if (!plan_ok) json_object_set_new(r, "message", cli_jstr(plan->message));
  if (o->show) print_plan(plan, o);
  *result = r;
  if (o->dry_run || (!plan_ok && !o->apply_failed_plan)) {
    set_outcome(r, outcome, o->dry_run && plan_ok ? FIX_PLANNED : FIX_PLAN_FAILED);
    tshoot_run_free(plan);
    return EXIT_OK;
  }
  if (o->confirm) {
    int c = o->confirm(x, plan, o->payload);
    if (c <= 0) {
      set_outcome(r, outcome, c == 0 ? FIX_DECLINED : FIX_NOT_CONFIRMED);
      tshoot_run_free(plan);
      return EXIT_OK;
    }
  }
  if (o->show && o->detail && cli_tty_err()) fprintf(stderr, "  applying and verifying...\n");
  rc = tshoot_session_run_fix(&run, s, x->id, 0);
  if (rc != TSHOOT_OK) {
    tshoot_run_free(plan);
    json_decref(r);
    *result = NULL;
    return cli_lib_error(rc);
  }
  json_object_set_new(r, "run", cli_run_json(run));
  json_object_set_new(r, "message", cli_jstr(run->message));
  set_outcome(r, outcome, run->verified ? FIX_VERIFIED : run->status == TSHOOT_EUSER ? FIX_REFUSED : FIX_FAILED);
  if (o->show) print_run(run, plan, o);
  tshoot_run_free(run);
  tshoot_run_free(plan);
  return EXIT_OK;
}
