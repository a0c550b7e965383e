/*
** bench-session: the cost of one diagnosis step (tshoot_session_next) on
** synthetic reasoning KBs, and the memory of a session.
**
**   bench-session [-n CAUSES] [--sessions S] [--seed S] [--json] [--smoke] [--no-reference]
**
** Without -n it runs 100, 1,000 and 10,000 causes. For each size it writes a
** KB (session-synth.c: causes / 3 choice questions, articles of 3-5 causes,
** 2-4 <answer> lines per cause, a <requires> on 30%), compiles it with
** tshoot_compile and opens it once. Then:
**
**  latency  S sessions (TSHOOT_SESSION_NO_FIXES), each walked as a random cause
**           would answer (its <answer> values, its required value, any other
**           question a fixed random choice) until the engine concludes;
**           every tshoot_session_next is timed (CLOCK_MONOTONIC): the first
**           one of a fresh session, and those after k >= 1 answers. Next to
**           each step: "touched", the (cause, question) pairs the step weighs:
**           the sum over the open questions of the causes that depend on
**           them (rules.h: rm_question.n_causes). The same walks again on
**           sessions that take the reference path (session_int.h: the
**           straightforward computation the fast step replaced) give the
**           figures beside. Before them, one step of a first session is
**           timed alone: it makes the model's likelihood tables for the
**           default noise (once per KB and noise setting).
**  memory   heap bytes (glibc mallinfo2) of 1,000 sessions on the KB: fresh
**           after one step, and after 5 answers; and of the KB's model,
**           loaded once and shared.
**  sharing  1,000 sessions alive at once on one tshoot_kb, advanced in turns
**           by 4 threads (250 each) to their conclusion; every session sees
**           the same model (one load).
**
** Target, checked and printed: p50 of a step < 200 us at 1,000 causes (a
** fresh one and one after answers; issue 9, point 3). With --smoke: only
** that nothing fails (and every walk concludes).
*/
#include "session-synth.h"
#include "util.h"

#include "tshoot.h"
#include "tshoot_int.h"
#include "rules.h"
#include "session_int.h"

#include <errno.h>
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t heap_used(void)
{
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static const char *fmt_time(char *buf, size_t n, double s)
{
  if (s >= 1) snprintf(buf, n, "%.2f s", s);
  else if (s >= 10e-3) snprintf(buf, n, "%.1f ms", s * 1e3);
  else if (s >= 1e-3) snprintf(buf, n, "%.2f ms", s * 1e3);
  else snprintf(buf, n, "%.0f us", s * 1e6);
  return buf;
}

static uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void check_rc(int rc, const char *what)
{
  if (rc != TSHOOT_OK) die("%s: %s", what, tshoot_error_last()->message);
}

/* ===== a user with cause ci ===== */

/* The answer to q of a user whose problem is cause ci. */
static const char *oracle(const rules_model *m, int ci, int q, uint64_t seed)
{
  const rm_cause *c = &m->c[ci];
  const rm_question *qq = &m->q[q];
  size_t e;
  uint64_t s;
  for (e = 0; e < c->n_ev; e++) {
    const rm_evidence *ev = &c->ev[e];
    if (ev->kind == RM_ANSWER && ev->question == q) return ev->value;
    /* a <requires> <eq q v/>: the first value it names */
    if (ev->kind == RM_REQUIRES && ev->cond.n_nodes == 1 && ev->cond.nodes[0].ref == q && ev->cond.n_values)
      return ev->cond.values[ev->cond.nodes[0].value0];
  }
  s = seed ^ ((uint64_t)ci * 0x9E3779B1ull) ^ ((uint64_t)q << 32);
  return qq->choices[splitmix(&s) % qq->n_choices];
}

/* (cause, question) pairs a step weighs: the open questions' dependents. */
static size_t touched(const rules_model *m, const unsigned char *answered)
{
  size_t q, t = 0;
  for (q = 0; q < m->nq; q++) if (!answered[q]) t += m->q[q].n_causes;
  return t;
}

/* ===== one size ===== */

typedef struct result {
  size_t causes, questions, files, walks, steps, concluded, right, capped, walk_q;
  double compile_s, model_bytes;
  double fresh[3], after[3];          /* p50, p90, p99 */
  double ref_fresh[3], ref_after[3];  /* the same on the reference path */
  double tables_s, tables_bytes;      /* the first step of the first session */
  double touched_fresh, touched_after;
  double bytes_fresh, bytes_walked;
  double share_s, share_steps; size_t share_right, share_models;
} result;

typedef struct share_arg {
  tshoot_kb *kb;
  const rules_model *m;
  size_t first, n;
  uint64_t seed;
  size_t steps, right, same_model;
  int failed;
} share_arg;

static void *share_run(void *p)
{
  share_arg *a = p;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session **s = xmalloc(a->n * sizeof *s);
  int *cause = xmalloc(a->n * sizeof *cause), *done = calloc(a->n, sizeof(int));
  size_t i, left = a->n, round = 0;
  o.flags = TSHOOT_SESSION_NO_FIXES;
  if (!done) die("out of memory");
  for (i = 0; i < a->n; i++) {
    uint64_t st = a->seed + a->first + i;
    const rules_model *mm;
    if (tshoot_session_new(&s[i], a->kb, &o) != TSHOOT_OK) { a->failed = 1; return NULL; }
    cause[i] = (int)(splitmix(&st) % a->m->nc);
    if (rules_get(&mm, a->kb) == TSHOOT_OK && mm == a->m) a->same_model++;
  }
  /* one step of every open session, in turns; at most 30 steps each: the
  ** point is many live sessions sharing one model, not walking to the end */
  while (left && round++ < 30) {
    for (i = 0; i < a->n; i++) {
      const tshoot_step *step;
      int q;
      if (done[i]) continue;
      if (tshoot_session_next(&step, s[i]) != TSHOOT_OK) { a->failed = 1; done[i] = 1; left--; continue; }
      a->steps++;
      if (step->kind != TSHOOT_STEP_ASK) {
        if (strcmp(step->cause, a->m->c[cause[i]].id) == 0) a->right++;
        done[i] = 1;
        left--;
        continue;
      }
      q = rules_question(a->m, step->question);
      if (tshoot_session_answer(s[i], step->question, oracle(a->m, cause[i], q, a->seed)) != TSHOOT_OK) a->failed = 1;
    }
  }
  for (i = 0; i < a->n; i++) tshoot_session_free(s[i]);
  free(s);
  free(cause);
  free(done);
  return NULL;
}

static void remove_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[8400];
  if (!d) return;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

/* Time the steps of n_sessions walks; ref: on the reference path. */
static void latency(result *res, tshoot_kb *kb, const rules_model *m, size_t n_sessions, size_t k_max, uint64_t seed,
                    int ref)
{
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  double *fresh, *after, tf = 0, ta = 0;
  size_t n_fresh = 0, n_after = 0, cap_after, i;
  unsigned char *answered;
  o.flags = TSHOOT_SESSION_NO_FIXES;
  fresh = xmalloc(n_sessions * sizeof *fresh);
  cap_after = n_sessions * (k_max + 1);
  after = xmalloc(cap_after * sizeof *after);
  answered = xmalloc(m->nq);
  for (i = 0; i < n_sessions; i++) {
    uint64_t st = seed * 31 + i;
    int ci = (int)(splitmix(&st) % m->nc), concluded = 0;
    tshoot_session *s;
    const tshoot_step *step;
    size_t k, next_own = 0;
    check_rc(tshoot_session_new(&s, kb, &o), "session");
    s->reference = ref;
    memset(answered, 0, m->nq);
    if (!ref) res->walks++;
    for (k = 0; k <= k_max; k++) {
      double t0 = now(), dt;
      size_t tc = touched(m, answered);
      int q = -1;
      check_rc(tshoot_session_next(&step, s), "next");
      dt = now() - t0;
      if (!ref) res->steps++;
      if (k == 0) { fresh[n_fresh++] = dt; tf += (double)tc; }
      else if (n_after < cap_after) { after[n_after++] = dt; ta += (double)tc; }
      if (step->kind != TSHOOT_STEP_ASK && !concluded && !ref) {
        /* the walk proper ends here; the timing goes on to k_max answers */
        concluded = 1;
        res->concluded++;
        res->walk_q += k;
        if (strcmp(step->cause, m->c[ci].id) == 0) res->right++;
      }
      if (k == k_max) break;
      if (step->kind == TSHOOT_STEP_ASK) q = rules_question(m, step->question);
      else {
        /* after the conclusion: the cause's own questions, then any open one */
        const rm_cause *c = &m->c[ci];
        while (next_own < c->n_questions && answered[c->questions[next_own]]) next_own++;
        if (next_own < c->n_questions) q = (int)c->questions[next_own];
        else for (q = 0; q < (int)m->nq && answered[q]; q++) {}
        if (q >= (int)m->nq) break;
      }
      answered[q] = 1;
      check_rc(tshoot_session_answer(s, m->q[q].id, oracle(m, ci, q, seed)), "answer");
    }
    if (!concluded && !ref) res->capped++;
    tshoot_session_free(s);
  }
  qsort(fresh, n_fresh, sizeof *fresh, cmp_double);
  qsort(after, n_after, sizeof *after, cmp_double);
  {
    double *fr = ref ? res->ref_fresh : res->fresh, *af = ref ? res->ref_after : res->after;
    fr[0] = pct(fresh, n_fresh, 50);
    fr[1] = pct(fresh, n_fresh, 90);
    fr[2] = pct(fresh, n_fresh, 99);
    af[0] = pct(after, n_after, 50);
    af[1] = pct(after, n_after, 90);
    af[2] = pct(after, n_after, 99);
  }
  if (!ref) {
    res->touched_fresh = n_fresh ? tf / (double)n_fresh : 0;
    res->touched_after = n_after ? ta / (double)n_after : 0;
  }
  free(fresh);
  free(after);
  free(answered);
}

static void run_size(result *res, size_t n, size_t n_sessions, size_t k_max, uint64_t seed, int smoke, int no_ref)
{
  char dir[3800], src[4200], db[4200];
  const char *tmp = getenv("TMPDIR"), *srcs[1];
  tshoot_compile_stats cs;
  tshoot_kb *kb;
  const rules_model *m;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  double t;
  size_t i, h0;
  tshoot_session **many;
  size_t n_many = smoke ? 100 : 1000;

  memset(res, 0, sizeof *res);
  res->causes = n;
  snprintf(dir, sizeof dir, "%s/bench-session-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) die("mkdtemp: %s", strerror(errno));
  snprintf(src, sizeof src, "%s/src", dir);
  snprintf(db, sizeof db, "%s/kb.db", dir);
  if (mkdir(src, 0700) != 0) die("mkdir %s: %s", src, strerror(errno));
  if (ssynth_write(src, seed, n, &res->files, &res->questions) != 0) die("writing the KB: %s", strerror(errno));
  srcs[0] = src;
  t = now();
  if (tshoot_compile(&cs, srcs, 1, db, NULL) != TSHOOT_OK)
    die("compile (%zu errors): %s", cs.errors, tshoot_error_last()->message);
  res->compile_s = now() - t;
  remove_dir(src);
  check_rc(tshoot_kb_open(&kb, db, NULL), db);
  unlink(db);
  rmdir(dir);
  h0 = heap_used();
  check_rc(rules_get(&m, kb), "rules");
  res->model_bytes = (double)(heap_used() - h0);
  if (m->nc != n) die("the KB has %zu causes, not %zu", m->nc, n);

  /* the first step of a first session: the model's tables */
  {
    tshoot_session *s0;
    const tshoot_step *st0;
    o.flags = TSHOOT_SESSION_NO_FIXES;
    check_rc(tshoot_session_new(&s0, kb, &o), "session");
    h0 = heap_used();
    t = now();
    check_rc(tshoot_session_next(&st0, s0), "next");
    res->tables_s = now() - t;
    tshoot_session_free(s0);
    res->tables_bytes = (double)(heap_used() - h0);
  }
  latency(res, kb, m, n_sessions, k_max, seed, 0);
  if (!no_ref) latency(res, kb, m, n_sessions, k_max, seed, 1);

  /* memory: n_many sessions alive, after one step, then after 5 answers */
  many = xmalloc(n_many * sizeof *many);
  malloc_trim(0);
  h0 = heap_used();
  for (i = 0; i < n_many; i++) {
    const tshoot_step *step;
    check_rc(tshoot_session_new(&many[i], kb, &o), "session");
    check_rc(tshoot_session_next(&step, many[i]), "next");
  }
  res->bytes_fresh = (double)(heap_used() - h0) / (double)n_many;
  for (i = 0; i < n_many; i++) {
    uint64_t st = seed * 77 + i;
    int ci = (int)(splitmix(&st) % m->nc), k;
    for (k = 0; k < 5; k++) {
      const tshoot_step *step;
      check_rc(tshoot_session_next(&step, many[i]), "next");
      if (step->kind != TSHOOT_STEP_ASK) break;
      check_rc(tshoot_session_answer(many[i], step->question,
                                     oracle(m, ci, rules_question(m, step->question), seed)), "answer");
    }
  }
  res->bytes_walked = (double)(heap_used() - h0) / (double)n_many;
  for (i = 0; i < n_many; i++) tshoot_session_free(many[i]);
  free(many);

  /* sharing: n_many sessions at once, 4 threads */
  {
    share_arg a[4];
    pthread_t th[4];
    int j;
    t = now();
    for (j = 0; j < 4; j++) {
      memset(&a[j], 0, sizeof a[j]);
      a[j].kb = kb;
      a[j].m = m;
      a[j].first = (size_t)j * (n_many / 4);
      a[j].n = n_many / 4;
      a[j].seed = seed + 1000;
      if (pthread_create(&th[j], NULL, share_run, &a[j]) != 0) die("pthread_create");
    }
    for (j = 0; j < 4; j++) {
      pthread_join(th[j], NULL);
      if (a[j].failed) die("a shared session failed");
      res->share_steps += (double)a[j].steps;
      res->share_right += a[j].right;
      res->share_models += a[j].same_model;
    }
    res->share_s = now() - t;
  }
  tshoot_kb_close(kb);
}

int main(int argc, char **argv)
{
  size_t sizes[3] = { 100, 1000, 10000 }, n_sizes = 3, i, n_sessions = 0, k_max = 0;
  const char *write_dir = NULL;
  uint64_t seed = 20240501u;
  int json = 0, smoke = 0, no_ref = 0, a, fail = 0;
  result res[3];
  char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
  bench_name = "bench-session";

  for (a = 1; a < argc; a++) {
    if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
      char *end;
      double v = strtod(argv[++a], &end);
      if (*end == 'k' || *end == 'K') v *= 1000;
      if (v < 10) die("-n: at least 10 causes");
      sizes[0] = (size_t)v;
      n_sizes = 1;
    } else if (strcmp(argv[a], "--sessions") == 0 && a + 1 < argc) n_sessions = (size_t)atol(argv[++a]);
    else if (strcmp(argv[a], "--answers") == 0 && a + 1 < argc) k_max = (size_t)atol(argv[++a]);
    else if (strcmp(argv[a], "--write") == 0 && a + 1 < argc) write_dir = argv[++a];
    else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) seed = strtoull(argv[++a], NULL, 10);
    else if (strcmp(argv[a], "--json") == 0) json = 1;
    else if (strcmp(argv[a], "--smoke") == 0) smoke = 1;
    else if (strcmp(argv[a], "--no-reference") == 0) no_ref = 1;
    else {
      fprintf(stderr, "usage: bench-session [-n CAUSES] [--sessions S] [--answers K] [--seed S] [--json] [--smoke]\n"
                      "                     [--no-reference]   (time the fast step only)\n"
                      "       bench-session -n CAUSES --write DIR   (write the KB's sources and stop)\n");
      return 2;
    }
  }
  if (write_dir) {
    size_t files, nq;
    if (ssynth_write(write_dir, seed, sizes[0], &files, &nq) != 0) die("%s: %s", write_dir, strerror(errno));
    fprintf(stderr, "bench-session: %zu causes, %zu questions in %zu files in %s\n", sizes[0], nq, files, write_dir);
    return 0;
  }

  fprintf(stderr, "bench-session: one tshoot_session_next step (TSHOOT_SESSION_NO_FIXES), seed %llu\n",
          (unsigned long long)seed);
  fprintf(stderr, "%7s %6s %9s | %-26s %9s | %-26s %9s | %7s %6s %9s\n", "causes", "quest.", "compile",
          "fresh step p50/p90/p99", "touched", "after k>=1 answers p50/p90/p99", "touched", "ns/pair", "walk q",
          "right");
  for (i = 0; i < n_sizes; i++) {
    result *r = &res[i];
    size_t ns = n_sessions ? n_sessions : smoke ? 20 : sizes[i] >= 10000 ? 50 : 300;
    size_t km = k_max ? k_max : sizes[i] >= 10000 ? 10 : 20;
    char f[120], af[120];
    run_size(r, sizes[i], ns, km, seed, smoke, no_ref);
    snprintf(f, sizeof f, "%s / %s / %s", fmt_time(b1, 32, r->fresh[0]), fmt_time(b2, 32, r->fresh[1]),
             fmt_time(b3, 32, r->fresh[2]));
    snprintf(af, sizeof af, "%s / %s / %s", fmt_time(b4, 32, r->after[0]), fmt_time(b5, 32, r->after[1]),
             fmt_time(b6, 32, r->after[2]));
    fprintf(stderr, "%7zu %6zu %9s | %-26s %9.0f | %-30s %9.0f | %7.1f %6.1f %5zu/%zu\n", r->causes, r->questions,
            fmt_time(b1, 32, r->compile_s), f, r->touched_fresh, af, r->touched_after,
            r->touched_after > 0 ? r->after[0] * 1e9 / r->touched_after : 0,
            r->concluded ? (double)r->walk_q / (double)r->concluded : 0, r->right, r->walks);
    if (r->concluded + r->capped != r->walks) { fprintf(stderr, "FAIL: a walk did not conclude\n"); fail = 1; }
  }
  fprintf(stderr, "\nthe step against the target (p50 < 200 us at 1,000 causes), and the reference path (the\n"
                  "straightforward computation the fast step replaced) on the same walks:\n");
  fprintf(stderr, "%7s | %-21s %-21s | %-21s %-21s | %8s | %s\n", "causes", "fresh p50/p99", "(reference)",
          "after answers p50/p99", "(reference)", "speed-up", "tables (once per KB)");
  for (i = 0; i < n_sizes; i++) {
    result *r = &res[i];
    char c1[60], c2[60], c3[60], c4[60];
    snprintf(c1, sizeof c1, "%s / %s", fmt_time(b1, 32, r->fresh[0]), fmt_time(b2, 32, r->fresh[2]));
    snprintf(c2, sizeof c2, "%s / %s", fmt_time(b1, 32, r->ref_fresh[0]), fmt_time(b2, 32, r->ref_fresh[2]));
    snprintf(c3, sizeof c3, "%s / %s", fmt_time(b1, 32, r->after[0]), fmt_time(b2, 32, r->after[2]));
    snprintf(c4, sizeof c4, "%s / %s", fmt_time(b1, 32, r->ref_after[0]), fmt_time(b2, 32, r->ref_after[2]));
    fprintf(stderr, "%7zu | %-21s %-21s | %-21s %-21s | %7.1fx | %s, %.1f MB\n", r->causes, c1, c2, c3, c4,
            r->after[0] > 0 ? r->ref_after[0] / r->after[0] : 0, fmt_time(b1, 32, r->tables_s), r->tables_bytes / 1e6);
  }
  fprintf(stderr, "\nmemory and sharing (%s sessions alive at once on one tshoot_kb):\n", smoke ? "100" : "1,000");
  fprintf(stderr, "%7s %14s %18s %20s %26s\n", "causes", "model (shared)", "bytes/session", "bytes/session",
          "4 threads, all to the end");
  fprintf(stderr, "%7s %14s %18s %20s %26s\n", "", "", "(after 1 step)", "(after 5 answers)", "");
  for (i = 0; i < n_sizes; i++) {
    result *r = &res[i];
    size_t nm = smoke ? 100 : 1000;
    char sh[80];
    snprintf(sh, sizeof sh, "%s, %.0f steps, %zu/%zu right", fmt_time(b1, 32, r->share_s), r->share_steps,
             r->share_right, nm);
    fprintf(stderr, "%7zu %11.1f MB %18.0f %20.0f %26s\n", r->causes, r->model_bytes / 1e6, r->bytes_fresh,
            r->bytes_walked, sh);
    if (r->share_models != nm) { fprintf(stderr, "FAIL: not every session saw the one shared model\n"); fail = 1; }
  }
  if (n_sizes > 1) {
    fprintf(stderr, "\ngrowth of the step p50 (after answers) against causes and against touched pairs:\n");
    for (i = 1; i < n_sizes; i++)
      fprintf(stderr, "  %zu -> %zu causes: time x%.1f (reference x%.1f), causes x%.1f, touched pairs x%.1f\n",
              res[i - 1].causes, res[i].causes, res[i].after[0] / res[i - 1].after[0],
              res[i].ref_after[0] / res[i - 1].ref_after[0], (double)res[i].causes / (double)res[i - 1].causes,
              res[i].touched_after / res[i - 1].touched_after);
  }
  for (i = 0; i < n_sizes; i++)
    if (res[i].causes == 1000 && !smoke) {
      int ok = res[i].fresh[0] < 200e-6 && res[i].after[0] < 200e-6;
      fprintf(stderr, "\n[%s] target: p50 of a step < 200 us at 1,000 causes (fresh %s, after answers %s; "
              "p99 %s and %s; reference p50 %s and %s)\n", ok ? "ok" : "FAIL", fmt_time(b1, 32, res[i].fresh[0]),
              fmt_time(b2, 32, res[i].after[0]), fmt_time(b3, 32, res[i].fresh[2]), fmt_time(b4, 32, res[i].after[2]),
              fmt_time(b5, 32, res[i].ref_fresh[0]), fmt_time(b6, 32, res[i].ref_after[0]));
      if (!ok) fail = 1;
    }
  if (json) {
    printf("{\"seed\": %llu, \"sizes\": [", (unsigned long long)seed);
    for (i = 0; i < n_sizes; i++) {
      result *r = &res[i];
      printf("%s\n {\"causes\": %zu, \"questions\": %zu, \"compile_s\": %.4f, \"walks\": %zu, \"steps\": %zu, "
             "\"right\": %zu, \"fresh_p50_us\": %.2f, \"fresh_p90_us\": %.2f, \"fresh_p99_us\": %.2f, "
             "\"after_p50_us\": %.2f, \"after_p90_us\": %.2f, \"after_p99_us\": %.2f, "
             "\"touched_fresh\": %.1f, \"touched_after\": %.1f, \"model_bytes\": %.0f, "
             "\"bytes_per_session_fresh\": %.0f, \"bytes_per_session_walked\": %.0f, "
             "\"shared_sessions_s\": %.4f, \"shared_sessions_right\": %zu, "
             "\"ref_fresh_p50_us\": %.2f, \"ref_fresh_p99_us\": %.2f, \"ref_after_p50_us\": %.2f, "
             "\"ref_after_p99_us\": %.2f, \"tables_s\": %.4f, \"tables_bytes\": %.0f}",
             i ? "," : "", r->causes, r->questions, r->compile_s, r->walks, r->steps, r->right,
             r->fresh[0] * 1e6, r->fresh[1] * 1e6, r->fresh[2] * 1e6, r->after[0] * 1e6, r->after[1] * 1e6,
             r->after[2] * 1e6, r->touched_fresh, r->touched_after, r->model_bytes, r->bytes_fresh,
             r->bytes_walked, r->share_s, r->share_right, r->ref_fresh[0] * 1e6, r->ref_fresh[2] * 1e6,
             r->ref_after[0] * 1e6, r->ref_after[2] * 1e6, r->tables_s, r->tables_bytes);
    }
    printf("\n], \"failed\": %d}\n", fail);
  }
  return fail;
}
