/*
** host.c: diagnose a simulated machine, then repair it.
**
**   host-example KB MACHINE "what the user says"
**
** Probes answer what they can on the machine; every other question is
** answered "don't know" here (a real program asks its user). Then the fixes of
** the concluded cause that have scripts are tried in order: a plan first
** (nothing changes), then apply + verify, rolled back if it does not verify.
*/
#include <stdio.h>
#include <string.h>
#include <tshoot.h>

static int fail(const char *what)
{
  fprintf(stderr, "%s: %s\n", what, tshoot_error_last()->message);
  return 1;
}

int main(int argc, char **argv)
{
  tshoot_kb *kb = NULL;
  tshoot_host *host = NULL;
  tshoot_session *s = NULL;
  tshoot_article *art = NULL;
  tshoot_session_options so = TSHOOT_SESSION_OPTIONS_INIT;
  const tshoot_step *step;
  const tshoot_answer_info *ans;
  size_t n, i, c;
  int status = 1;

  if (argc != 4) { fprintf(stderr, "usage: %s KB MACHINE TEXT\n", argv[0]); return 2; }
  if (tshoot_kb_open(&kb, argv[1], NULL) != TSHOOT_OK) return fail("open KB");
  if (tshoot_host_sim_open(&host, argv[2]) != TSHOOT_OK) { fail("open machine"); goto out; }
  so.flags = TSHOOT_SESSION_NO_FIXES;     /* fixes come after the conclusion here */
  if (tshoot_session_new(&s, kb, &so) != TSHOOT_OK ||
      tshoot_session_set_host(s, host, NULL) != TSHOOT_OK ||      /* probes run on it */
      tshoot_session_describe(s, argv[3], strlen(argv[3])) != TSHOOT_OK) { fail("session"); goto out; }

  for (;;) {
    if (tshoot_session_next(&step, s) != TSHOOT_OK) { fail("next"); goto out; }
    if (step->kind == TSHOOT_STEP_CONCLUDE || step->kind == TSHOOT_STEP_INCONCLUSIVE) break;
    tshoot_session_unknown(s, step->question);        /* ask your user here */
  }
  tshoot_session_answers(&ans, &n, s);
  for (i = 0; i < n; i++)
    if (strcmp(ans[i].source, "probe") == 0) printf("probe: %s = %s\n", ans[i].question, ans[i].value);
  printf("cause: %s (%.0f%%)\n", step->cause, 100 * step->probability);
  if (!step->article) { status = 0; goto out; }

  /* the cause's fixes, in the order to try them */
  if (tshoot_article_load(&art, kb, step->article) != TSHOOT_OK) { fail("article"); goto out; }
  for (c = 0; c < art->n_causes; c++) {
    const tshoot_cause_info *ci = &art->causes[c];
    if (strcmp(ci->id, step->cause) != 0) continue;
    for (i = 0; i < ci->n_fixes; i++) {
      tshoot_run *run = NULL;
      if (!ci->fixes[i].script) continue;
      if (tshoot_session_run_fix(&run, s, ci->fixes[i].id, 1) != TSHOOT_OK) { fail("plan"); goto out; }
      printf("plan of %s: %zu change(s)\n", ci->fixes[i].id, run->n_changes);
      tshoot_run_free(run);
      if (tshoot_session_run_fix(&run, s, ci->fixes[i].id, 0) != TSHOOT_OK) { fail("apply"); goto out; }
      printf("%s: %s%s\n", ci->fixes[i].id, run->verified ? "verified" : run->message,
             run->rolled_back ? " (rolled back)" : "");
      if (run->verified) { tshoot_run_free(run); status = 0; goto out; }
      tshoot_run_free(run);
    }
  }
  printf("no fix with a script verified\n");
  status = 0;
out:
  tshoot_article_free(art);
  tshoot_session_free(s);
  tshoot_host_free(host);
  tshoot_kb_close(kb);
  return status;
}
