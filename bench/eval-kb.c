/*
** eval-kb: how well, and with how few questions, the diagnosis engine finds
** the right cause on a KB.
**
**   eval-kb KB.db|SOURCES... [--noise 0.1] [--seed S] [--seeds N] [--json]
**           [--no-check] [--verbose] [--best-max-q Q] [--best-budget N]
**
** Given XML sources (files or folders) it compiles them with tshoot_compile()
** into a temporary file first. Then it walks two sets of simulated users
** through pure-diagnosis sessions (TSHOOT_SESSION_NO_FIXES):
**
**   tests   every <test> with an expect-cause: its <text> is described, its
**           <given> answers are what the user answers; any other question is
**           answered "don't know".
**   causes  for every cause, a user "answering as that cause would": the
**           answers to the questions the cause depends on are the most likely
**           joint answer under the cause (the assignment that maximises the
**           cause's likelihood: its <answer> lines, <requires> and <expect>
**           conditions, computed as the engine does, searched exhaustively
**           over the questions its conditions read), the questions it does
**           not depend on are answered as the cause's first <test> does, and
**           any other question is "don't know".
**
** under three policies: the engine (questions by information gain per cost),
** the written order (TSHOOT_SESSION_WRITTEN_ORDER) and the best possible order
** (see BENCHMARKS.md, "Diagnosis"): the adaptive policy, found by memoised
** exhaustive search over the sets of (question, answer) pairs, that minimises
** questions + (Q+1) x wrong conclusions summed over the walks, where a walk
** stops exactly when the engine, given the same answers, concludes. For a KB
** with more than --best-max-q questions (default 16) it prints instead a
** lower bound: per walk, the fewest of its own answers after which the
** engine concludes the right cause.
**
** Then the same walks again with a share (--noise) of the answers replaced by
** another value of the question, for --seeds seeds.
**
** Checks (exit 1 when one fails, unless --no-check), per walk set:
** correct >= 98% without noise; engine mean < written-order mean; engine mean
** <= 1.10 x best mean where the best was computed.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "expr.h"
#include "rules.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_VALUES 250              /* per question, for the search's state codes */

static void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "eval-kb: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static void *xcalloc(size_t n, size_t k)
{
  void *p = calloc(n ? n : 1, k ? k : 1);
  if (!p) die("out of memory");
  return p;
}

static void *xrealloc(void *p, size_t n)
{
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static char *xstrdup(const char *s)
{
  char *r = xmalloc(strlen(s) + 1);
  strcpy(r, s);
  return r;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* ===== the KB ===== */

static tshoot_kb *kb;
static const rules_model *M;
static const char *kb_label;

/* Per question, the answer values seen (interned), so that a state of the
** search is a small code per question: 0 open, 1 "don't know", 2+k value k. */
typedef struct qvals { const char **v; size_t n, cap; } qvals;
static qvals *vals;

static const char *intern(int q, const char *v)
{
  qvals *t = &vals[q];
  size_t i;
  if (!v) return NULL;
  for (i = 0; i < t->n; i++) if (strcmp(t->v[i], v) == 0) return t->v[i];
  if (t->n == MAX_VALUES) die("question '%s' has more than %d distinct answers", M->q[q].id, MAX_VALUES);
  if (t->n == t->cap) { t->cap = t->cap ? 2 * t->cap : 8; t->v = xrealloc(t->v, t->cap * sizeof *t->v); }
  t->v[t->n] = xstrdup(v);
  return t->v[t->n++];
}

static uint8_t code_of(int q, const char *v)
{
  size_t i;
  if (!v) return 1;
  for (i = 0; i < vals[q].n; i++) if (vals[q].v[i] == v) return (uint8_t)(i + 2);
  die("internal: value not interned");
  return 0;
}

/* The values a question can take: its choices, or the representative values
** of an open question (rules.c: the thresholds the KB mentions, and one below
** and one above them). */
static char *const *qvalues(int q, size_t *n)
{
  const rm_question *qq = &M->q[q];
  if (qq->type == RM_YESNO || qq->type == RM_CHOICE) { *n = qq->n_choices; return qq->choices; }
  *n = qq->n_reps;
  return qq->reps;
}

/* ===== walks ===== */

typedef struct walk {
  char *name;                  /* test id, or the cause id */
  char *expect;                /* the cause that should be concluded */
  char *text;                  /* described first, or NULL */
  const char **ans;            /* per question: interned value, or NULL: "don't know" */
} walk;

typedef struct walkset {
  const char *name;            /* "tests", "causes" */
  walk *w;
  size_t n, cap;
} walkset;

static walk *push_walk(walkset *ws)
{
  walk *w;
  if (ws->n == ws->cap) { ws->cap = ws->cap ? 2 * ws->cap : 16; ws->w = xrealloc(ws->w, ws->cap * sizeof *ws->w); }
  w = &ws->w[ws->n++];
  memset(w, 0, sizeof *w);
  w->ans = xcalloc(M->nq, sizeof *w->ans);
  return w;
}

/* The KB's tests, read from the compiled file. */
typedef struct ktest { char *id, *text, *cause; char **q, **v; size_t n; } ktest;
static ktest *tests;
static size_t n_tests, n_tests_skipped;

static void read_tests(const char *db_path)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  size_t cap = 0;
  if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("%s: cannot open", db_path);
  if (sqlite3_prepare_v2(db, "SELECT id, name, text, expect_cause FROM test ORDER BY id", -1, &st, NULL) != SQLITE_OK)
    die("%s: %s", db_path, sqlite3_errmsg(db));
  while (sqlite3_step(st) == SQLITE_ROW) {
    ktest *t;
    sqlite3_stmt *g;
    size_t gcap = 0;
    if (!sqlite3_column_text(st, 3)) { n_tests_skipped++; continue; }   /* expect-fix only */
    if (n_tests == cap) { cap = cap ? 2 * cap : 16; tests = xrealloc(tests, cap * sizeof *tests); }
    t = &tests[n_tests++];
    memset(t, 0, sizeof *t);
    t->id = xstrdup((const char *)sqlite3_column_text(st, 1));
    t->text = sqlite3_column_text(st, 2) ? xstrdup((const char *)sqlite3_column_text(st, 2)) : NULL;
    t->cause = xstrdup((const char *)sqlite3_column_text(st, 3));
    if (sqlite3_prepare_v2(db, "SELECT question, value FROM test_given WHERE test = ? ORDER BY pos", -1, &g, NULL) != SQLITE_OK)
      die("%s: %s", db_path, sqlite3_errmsg(db));
    sqlite3_bind_int64(g, 1, sqlite3_column_int64(st, 0));
    while (sqlite3_step(g) == SQLITE_ROW) {
      if (t->n == gcap) {
        gcap = gcap ? 2 * gcap : 8;
        t->q = xrealloc(t->q, gcap * sizeof *t->q);
        t->v = xrealloc(t->v, gcap * sizeof *t->v);
      }
      t->q[t->n] = xstrdup((const char *)sqlite3_column_text(g, 0));
      t->v[t->n++] = xstrdup((const char *)sqlite3_column_text(g, 1));
    }
    sqlite3_finalize(g);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void test_walks(walkset *ws)
{
  size_t i, k;
  ws->name = "tests";
  for (i = 0; i < n_tests; i++) {
    walk *w = push_walk(ws);
    w->name = tests[i].id;
    w->expect = tests[i].cause;
    w->text = tests[i].text;
    for (k = 0; k < tests[i].n; k++) {
      int q = rules_question(M, tests[i].q[k]);
      if (q < 0) die("test '%s' names unknown question '%s'", tests[i].id, tests[i].q[k]);
      w->ans[q] = intern(q, tests[i].v[k]);
    }
  }
}

/* --- "answering as the cause would" --- */

typedef struct world {
  const char **cur;            /* per question: the answer, or NULL */
  tri *fval;
  unsigned *fgen, gen;
} world;

static tri w_fact(void *ctx, int f);

static const char *w_answer(void *ctx, int q) { return ((world *)ctx)->cur[q]; }
static int w_known(void *ctx, int q) { return ((world *)ctx)->cur[q] ? 1 : -1; }
static int w_is_version(void *ctx, int q) { return M->q[q].type == RM_VERSION; }

static tri w_eval(world *w, const expr *e)
{
  expr_env env;
  env.answer = w_answer;
  env.known = w_known;
  env.fact = w_fact;
  env.is_version = w_is_version;
  env.ctx = w;
  return expr_eval(e, &env);
}

static tri w_fact(void *ctx, int f)
{
  world *w = ctx;
  if (w->fgen[f] == w->gen) return w->fval[f];
  w->fgen[f] = w->gen;
  w->fval[f] = TRI_UNKNOWN;
  w->fval[f] = w_eval(w, &M->f[f].cond);
  return w->fval[f];
}

#define EV_NOISE 0.01              /* the engine's default noise */

static double clampp(double p) { return p < EV_NOISE ? EV_NOISE : p > 1 - EV_NOISE ? 1 - EV_NOISE : p; }

static size_t outcomes(const rm_question *q)
{
  if (q->type == RM_YESNO || q->type == RM_CHOICE) return q->n_choices ? q->n_choices : 2;
  return q->n_reps > 1 ? q->n_reps : 2;
}

/* log P(q = v | c) from the cause's <answer> lines, as session.c computes it;
** 0 when the cause lists none for q. */
static double answer_log(const rm_cause *c, int q, const char *v)
{
  double listed = 0, hit = -1;
  size_t n_listed = 0, e, n;
  for (e = 0; e < c->n_ev; e++) {
    const rm_evidence *ev = &c->ev[e];
    if (ev->kind != RM_ANSWER || ev->question != q) continue;
    listed += ev->p;
    n_listed++;
    if (strcmp(ev->value, v) == 0) hit = ev->p;
  }
  if (!n_listed) return 0;
  if (hit >= 0) return log(clampp(hit));
  n = outcomes(&M->q[q]);
  if (n > n_listed) return log(clampp((1 - listed) / (double)(n - n_listed)));
  return log(EV_NOISE);
}

/* The cause's log likelihood of the world's answers to the questions in qs
** (<answer> lines) plus all its conditions (undecided ones count 0). */
static double cause_log(world *w, const rm_cause *c, const int *qs, size_t nqs)
{
  double lw = 0;
  size_t k, e;
  w->gen++;
  for (k = 0; k < nqs; k++) if (w->cur[qs[k]]) lw += answer_log(c, qs[k], w->cur[qs[k]]);
  for (e = 0; e < c->n_ev; e++) {
    const rm_evidence *ev = &c->ev[e];
    tri t;
    if (ev->kind == RM_ANSWER) continue;
    t = w_eval(w, &ev->cond);
    if (t == TRI_UNKNOWN) continue;
    if (ev->kind == RM_REQUIRES) lw += log(t == TRI_TRUE ? 1 - EV_NOISE : EV_NOISE);
    else lw += log(clampp(t == TRI_TRUE ? ev->p : 1 - ev->p));
  }
  return lw;
}

typedef struct qset { int *q; size_t n; char *in; } qset;

static void qs_add(void *ctx, int q)
{
  qset *s = ctx;
  if (q < 0 || s->in[q]) return;
  s->in[q] = 1;
  s->q[s->n++] = q;
}

static void qs_add_fact(void *ctx, int f)
{
  size_t k;
  if (f < 0) return;
  for (k = 0; k < M->f[f].n_questions; k++) qs_add(ctx, (int)M->f[f].questions[k]);
}

/* Fill ans with the answers of a user whose problem is cause ci. */
static void derive_oracle(int ci, const char **ans, world *w)
{
  const rm_cause *c = &M->c[ci];
  qset cx = { xcalloc(M->nq, sizeof(int)), 0, xcalloc(M->nq, 1) };
  int *qa = xcalloc(M->nq, sizeof(int));
  size_t nqa = 0, k, e, i;
  size_t *idx, combos = 1;
  double best = -INFINITY;
  const char **best_cur = xcalloc(M->nq, sizeof *best_cur);

  memset(w->cur, 0, M->nq * sizeof *w->cur);
  /* questions the conditions read (through facts too): searched jointly */
  for (e = 0; e < c->n_ev; e++)
    if (c->ev[e].kind != RM_ANSWER) {
      expr_questions(&c->ev[e].cond, qs_add, &cx);
      expr_facts(&c->ev[e].cond, qs_add_fact, &cx);
    }
  /* the others: each on its own, the most likely answer */
  for (k = 0; k < c->n_questions; k++) {
    int q = (int)c->questions[k];
    size_t nv, v;
    char *const *vs;
    double bl = -INFINITY;
    if (cx.in[q]) continue;
    qa[nqa++] = q;
    vs = qvalues(q, &nv);
    for (v = 0; v < nv; v++) {
      double l = answer_log(c, q, vs[v]);
      if (l > bl + 1e-12) { bl = l; w->cur[q] = vs[v]; }
    }
  }
  /* joint: every combination, or coordinate ascent when there are too many */
  idx = xcalloc(cx.n + 1, sizeof *idx);
  for (k = 0; k < cx.n; k++) {
    size_t nv;
    qvalues(cx.q[k], &nv);
    if (nv == 0) { cx.in[cx.q[k]] = 0; cx.q[k--] = cx.q[--cx.n]; continue; }
    combos = combos > 1000000 / nv ? 1000001 : combos * nv;
  }
  if (combos <= 1000000) {
    for (;;) {
      double l;
      for (k = 0; k < cx.n; k++) w->cur[cx.q[k]] = qvalues(cx.q[k], &i)[idx[k]];
      l = cause_log(w, c, cx.q, cx.n);
      if (l > best + 1e-12) { best = l; memcpy(best_cur, w->cur, M->nq * sizeof *w->cur); }
      for (k = 0; k < cx.n; k++) {
        size_t nv;
        qvalues(cx.q[k], &nv);
        if (++idx[k] < nv) break;
        idx[k] = 0;
      }
      if (k == cx.n) break;
    }
  } else {
    int improved = 1, round = 0;
    for (k = 0; k < cx.n; k++) w->cur[cx.q[k]] = qvalues(cx.q[k], &i)[0];
    best = cause_log(w, c, cx.q, cx.n);
    while (improved && round++ < 20) {
      improved = 0;
      for (k = 0; k < cx.n; k++) {
        size_t nv, v;
        char *const *vs = qvalues(cx.q[k], &nv);
        const char *keep = w->cur[cx.q[k]];
        for (v = 0; v < nv; v++) {
          double l;
          w->cur[cx.q[k]] = vs[v];
          l = cause_log(w, c, cx.q, cx.n);
          if (l > best + 1e-12) { best = l; keep = vs[v]; improved = 1; }
        }
        w->cur[cx.q[k]] = keep;
      }
    }
    memcpy(best_cur, w->cur, M->nq * sizeof *w->cur);
  }
  for (k = 0; k < nqa; k++) best_cur[qa[k]] = w->cur[qa[k]];
  for (i = 0; i < M->nq; i++) ans[i] = intern((int)i, best_cur[i]);
  /* what the cause's first test says about the rest */
  for (i = 0; i < n_tests; i++) {
    if (strcmp(tests[i].cause, c->id) != 0) continue;
    for (k = 0; k < tests[i].n; k++) {
      int q = rules_question(M, tests[i].q[k]);
      if (q >= 0 && !ans[q]) ans[q] = intern(q, tests[i].v[k]);
    }
    break;
  }
  free(idx);
  free(best_cur);
  free(qa);
  free(cx.q);
  free(cx.in);
}

static void cause_walks(walkset *ws)
{
  world w;
  size_t ci;
  ws->name = "causes";
  w.cur = xcalloc(M->nq, sizeof *w.cur);
  w.fval = xcalloc(M->nf + 1, sizeof *w.fval);
  w.fgen = xcalloc(M->nf + 1, sizeof *w.fgen);
  w.gen = 0;
  for (ci = 0; ci < M->nc; ci++) {
    walk *wk = push_walk(ws);
    wk->name = M->c[ci].id;
    wk->expect = M->c[ci].id;
    derive_oracle((int)ci, wk->ans, &w);
  }
  free(w.cur);
  free(w.fval);
  free(w.fgen);
}

/* The same walk with about `rate` of its answers replaced by another value of
** the question; deterministic in (seed, walk, question). */
static void noisy_copy(walk *dst, const walk *src, size_t wi, double rate, uint64_t seed)
{
  size_t q;
  *dst = *src;
  dst->ans = xcalloc(M->nq, sizeof *dst->ans);
  for (q = 0; q < M->nq; q++) {
    uint64_t st = seed * 0x100000001B3ull ^ (wi + 1) * 0x9E3779B1ull ^ (q + 1) * 0x85EBCA77ull;
    size_t nv, k, pick, others = 0;
    char *const *vs;
    dst->ans[q] = src->ans[q];
    if (!src->ans[q]) continue;
    splitmix(&st);
    if ((double)(splitmix(&st) >> 11) / 9007199254740992.0 >= rate) continue;
    vs = qvalues((int)q, &nv);
    for (k = 0; k < nv; k++) if (strcmp(vs[k], src->ans[q]) != 0) others++;
    if (!others) continue;
    pick = (size_t)(splitmix(&st) % others);
    for (k = 0; k < nv; k++)
      if (strcmp(vs[k], src->ans[q]) != 0 && pick-- == 0) { dst->ans[q] = intern((int)q, vs[k]); break; }
  }
}

/* ===== running a policy ===== */

typedef struct outcome {
  int correct;
  int asked;                   /* ASK steps: answers and "don't know"s */
  const char *got;             /* interned by the model (or "none") */
} outcome;

static int verbose;

static void check_rc(int rc, const char *what)
{
  if (rc != TSHOOT_OK) die("%s: %s", what, tshoot_error_last()->message);
}

static void print_ranking(tshoot_session *s, FILE *f)
{
  const tshoot_cause_rank *r;
  size_t n, i;
  check_rc(tshoot_session_causes(&r, &n, s), "causes");
  fprintf(f, "      ranking:");
  for (i = 0; i < n && i < 5; i++) fprintf(f, " %s %.3f%s", r[i].cause, r[i].probability, i + 1 < n && i < 4 ? "," : "");
  fprintf(f, "\n");
}

static outcome run_walk(const walk *w, unsigned flags, FILE *log)
{
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *s;
  const tshoot_step *st;
  outcome r = { 0, 0, "?" };
  size_t guard = 0;
  o.flags = TSHOOT_SESSION_NO_FIXES | flags;
  check_rc(tshoot_session_new(&s, kb, &o), "session");
  if (w->text) check_rc(tshoot_session_describe(s, w->text, strlen(w->text)), "describe");
  if (log) fprintf(log, "      asked:");
  for (;;) {
    int q;
    check_rc(tshoot_session_next(&st, s), "next");
    /* an inconclusive end names its best candidate: scored like a conclusion
    ** (the walk reached it; the person would be told to escalate) */
    if (st->kind == TSHOOT_STEP_CONCLUDE || st->kind == TSHOOT_STEP_INCONCLUSIVE) {
      int ci = rules_cause(M, st->cause);
      r.got = ci >= 0 ? M->c[ci].id : "none";
      r.correct = strcmp(st->cause, w->expect) == 0;
      if (log) fprintf(log, "%s -> %s (p %.3f)\n", r.asked ? "" : " (nothing)", st->cause, st->probability);
      break;
    }
    if (st->kind != TSHOOT_STEP_ASK) die("a fix was proposed under TSHOOT_SESSION_NO_FIXES");
    if (++guard > M->nq + 1) die("walk '%s' asks more questions than the KB has", w->name);
    q = rules_question(M, st->question);
    r.asked++;
    if (log) fprintf(log, " %s=%s", st->question, w->ans[q] ? w->ans[q] : "?");
    if (w->ans[q]) {
      if (tshoot_session_answer(s, st->question, w->ans[q]) != TSHOOT_OK)
        die("walk '%s': %s", w->name, tshoot_error_last()->message);
    } else {
      check_rc(tshoot_session_unknown(s, st->question), "unknown");
    }
  }
  if (log) print_ranking(s, log);
  tshoot_session_free(s);
  return r;
}

/* ===== the best possible order ===== */

#define PENALTY ((double)M->nq + 1)

typedef struct bres { long q, wrong; } bres;

typedef struct ment { uint8_t *key; bres r; } ment;

typedef struct bctx {
  const walk *w;               /* the walk set (one text group) */
  uint8_t *state;              /* per question: 0 open, 1 don't know, 2+k value */
  tshoot_session *s;           /* holds exactly the state's answers */
  ment *tab; size_t cap, used;
  long evals, budget;
  double deadline;
  int aborted;
} bctx;

static uint64_t hash_key(const uint8_t *k, size_t n)
{
  uint64_t h = 1469598103934665603ull;
  size_t i;
  for (i = 0; i < n; i++) { h ^= k[i]; h *= 1099511628211ull; }
  return h;
}

static ment *memo_find(bctx *b, const uint8_t *key, int *found)
{
  size_t i;
  if ((b->used + 1) * 2 > b->cap) {
    size_t oc = b->cap, j;
    ment *old = b->tab;
    b->cap = oc ? 2 * oc : 4096;
    b->tab = xcalloc(b->cap, sizeof *b->tab);
    for (j = 0; j < oc; j++)
      if (old[j].key) {
        i = hash_key(old[j].key, M->nq) & (b->cap - 1);
        while (b->tab[i].key) i = (i + 1) & (b->cap - 1);
        b->tab[i] = old[j];
      }
    free(old);
  }
  i = hash_key(key, M->nq) & (b->cap - 1);
  while (b->tab[i].key) {
    if (memcmp(b->tab[i].key, key, M->nq) == 0) { *found = 1; return &b->tab[i]; }
    i = (i + 1) & (b->cap - 1);
  }
  *found = 0;
  return &b->tab[i];
}

static double bcost(bres r) { return (double)r.q + PENALTY * (double)r.wrong; }

static int set_answer(tshoot_session *s, int q, const char *v)
{
  return v ? tshoot_session_answer(s, M->q[q].id, v) : tshoot_session_unknown(s, M->q[q].id);
}

static const walk *sort_walks;
static int sort_q;
static int cmp_by_answer(const void *a, const void *b)
{
  uint8_t x = code_of(sort_q, sort_walks[*(const size_t *)a].ans[sort_q]);
  uint8_t y = code_of(sort_q, sort_walks[*(const size_t *)b].ans[sort_q]);
  return (int)x - (int)y;
}

/* The least total cost of finishing the walks idx[0..n) (all consistent with
** b->state) from the state on. */
static bres search(bctx *b, const size_t *idx, size_t n)
{
  const tshoot_step *st;
  bres best = { 0, 0 }, none = { 0, 0 };
  double bestc = INFINITY;
  int found, first_q = -1;
  size_t qi, k;
  ment *e = memo_find(b, b->state, &found);
  if (found) return e->r;
  if (b->aborted) return none;
  if (++b->evals > b->budget || ((b->evals & 1023) == 0 && now() > b->deadline)) { b->aborted = 1; return none; }
  check_rc(tshoot_session_next(&st, b->s), "next");
  if (st->kind == TSHOOT_STEP_CONCLUDE || st->kind == TSHOOT_STEP_INCONCLUSIVE) {
    for (k = 0; k < n; k++) if (strcmp(st->cause, b->w[idx[k]].expect) != 0) best.wrong++;
  } else {
    size_t *part = xmalloc(n * sizeof *part);
    first_q = rules_question(M, st->question);
    for (qi = 0; qi <= M->nq && !b->aborted; qi++) {
      /* the engine's choice first: a good bound early */
      int q = qi == 0 ? first_q : (int)qi - 1;
      bres tot;
      size_t lo, hi;
      if (qi > 0 && q == first_q) continue;
      if (q < 0 || b->state[q] || M->q[q].n_causes == 0) continue;
      memcpy(part, idx, n * sizeof *part);
      sort_walks = b->w;
      sort_q = q;
      qsort(part, n, sizeof *part, cmp_by_answer);
      tot.q = (long)n;
      tot.wrong = 0;
      for (lo = 0; lo < n && bcost(tot) < bestc; lo = hi) {
        const char *v = b->w[part[lo]].ans[q];
        bres sub;
        for (hi = lo + 1; hi < n && b->w[part[hi]].ans[q] == v; hi++) {}
        b->state[q] = code_of(q, v);
        check_rc(set_answer(b->s, q, v), "answer");
        sub = search(b, part + lo, hi - lo);
        check_rc(tshoot_session_retract(b->s, M->q[q].id), "retract");
        b->state[q] = 0;
        tot.q += sub.q;
        tot.wrong += sub.wrong;
      }
      if (lo >= n && bcost(tot) < bestc) { bestc = bcost(tot); best = tot; }
    }
    free(part);
    if (b->aborted) return none;
  }
  e = memo_find(b, b->state, &found);      /* the table may have grown */
  e->key = xmalloc(M->nq);
  memcpy(e->key, b->state, M->nq);
  e->r = best;
  b->used++;
  return best;
}

static void memo_clear(bctx *b)
{
  size_t i;
  for (i = 0; i < b->cap; i++) free(b->tab[i].key);
  free(b->tab);
  b->tab = NULL;
  b->cap = b->used = 0;
}

/* The best policy over a walk set, one text group at a time (a walk's text
** is known before the first question). 0 if computed, -1 if over budget. */
static int best_policy(const walk *w, size_t n, long budget, double seconds, bres *out, long *states)
{
  bctx b;
  char *done = xcalloc(n, 1);
  size_t *idx = xmalloc(n * sizeof *idx);
  size_t i, j, m;
  memset(&b, 0, sizeof b);
  b.w = w;
  b.state = xcalloc(M->nq, 1);
  b.budget = budget;
  b.deadline = now() + seconds;
  out->q = out->wrong = 0;
  for (i = 0; i < n && !b.aborted; i++) {
    tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
    bres r;
    if (done[i]) continue;
    for (m = 0, j = i; j < n; j++)
      if (!done[j] && ((!w[i].text && !w[j].text) || (w[i].text && w[j].text && strcmp(w[i].text, w[j].text) == 0))) {
        done[j] = 1;
        idx[m++] = j;
      }
    o.flags = TSHOOT_SESSION_NO_FIXES;
    check_rc(tshoot_session_new(&b.s, kb, &o), "session");
    if (w[i].text) check_rc(tshoot_session_describe(b.s, w[i].text, strlen(w[i].text)), "describe");
    r = search(&b, idx, m);
    tshoot_session_free(b.s);
    memo_clear(&b);
    out->q += r.q;
    out->wrong += r.wrong;
  }
  *states = b.evals;
  free(b.state);
  free(done);
  free(idx);
  return b.aborted ? -1 : 0;
}

/* Lower bound for one walk: the fewest of its own answers after which the
** engine concludes the right cause; -1 if no set of them does (or too many
** to try). */
static int lower_bound(const walk *w, long *evals)
{
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *s;
  int known[64], nk = 0, k, pick[64], res = -1;
  size_t q;
  long tried = 0;
  for (q = 0; q < M->nq && nk < 64; q++) if (w->ans[q] && M->q[q].n_causes) known[nk++] = (int)q;
  o.flags = TSHOOT_SESSION_NO_FIXES;
  check_rc(tshoot_session_new(&s, kb, &o), "session");
  if (w->text) check_rc(tshoot_session_describe(s, w->text, strlen(w->text)), "describe");
  for (k = 0; k <= nk && res < 0 && tried < 200000; k++) {
    int i;
    for (i = 0; i < k; i++) pick[i] = i;
    for (;;) {
      const tshoot_step *st;
      for (i = 0; i < k; i++) check_rc(set_answer(s, known[pick[i]], w->ans[known[pick[i]]]), "answer");
      check_rc(tshoot_session_next(&st, s), "next");
      tried++;
      if ((st->kind == TSHOOT_STEP_CONCLUDE || st->kind == TSHOOT_STEP_INCONCLUSIVE) &&
          strcmp(st->cause, w->expect) == 0)
        res = k;
      for (i = 0; i < k; i++) check_rc(tshoot_session_retract(s, M->q[known[pick[i]]].id), "retract");
      if (res >= 0) break;
      /* next combination */
      for (i = k - 1; i >= 0 && pick[i] == nk - k + i; i--) {}
      if (i < 0) break;
      pick[i]++;
      for (i++; i < k; i++) pick[i] = pick[i - 1] + 1;
    }
  }
  *evals += tried;
  tshoot_session_free(s);
  return res;
}

/* ===== reporting ===== */

typedef struct pstat {
  const char *policy;
  int computed;                /* 0: not computed */
  const char *note;
  size_t walks, correct;
  double mean_q;
  long max_q;
} pstat;

static pstat run_policy(const char *name, const walk *w, size_t n, unsigned flags, FILE *log_failures)
{
  pstat p;
  size_t i;
  long total = 0;
  memset(&p, 0, sizeof p);
  p.policy = name;
  p.computed = 1;
  p.walks = n;
  for (i = 0; i < n; i++) {
    outcome r = run_walk(&w[i], flags, NULL);
    total += r.asked;
    if (r.asked > p.max_q) p.max_q = r.asked;
    if (r.correct) p.correct++;
    else if (log_failures) {
      fprintf(log_failures, "    FAILED %s walk '%s': expected %s, concluded %s after %d questions\n",
              name, w[i].name, w[i].expect, r.got, r.asked);
      run_walk(&w[i], flags, log_failures);
    }
  }
  p.mean_q = n ? (double)total / (double)n : 0;
  return p;
}

static void print_row(const char *label, const pstat *p)
{
  if (!p->computed) {
    fprintf(stderr, "  %-26s %-20s %s\n", label, p->policy, p->note ? p->note : "not computed");
    return;
  }
  fprintf(stderr, "  %-26s %-20s %6zu  %6.1f%%  %7.2f  %5ld%s%s\n", label, p->policy, p->walks,
          p->walks ? 100.0 * (double)p->correct / (double)p->walks : 0, p->mean_q, p->max_q,
          p->note ? "  " : "", p->note ? p->note : "");
}

static json_t *pjson(const pstat *p)
{
  json_t *o = json_object();
  json_object_set_new(o, "policy", json_string(p->policy));
  json_object_set_new(o, "computed", json_boolean(p->computed));
  if (p->note) json_object_set_new(o, "note", json_string(p->note));
  if (p->computed) {
    json_object_set_new(o, "walks", json_integer((json_int_t)p->walks));
    json_object_set_new(o, "correct", json_integer((json_int_t)p->correct));
    json_object_set_new(o, "correct_pct", json_real(p->walks ? 100.0 * (double)p->correct / (double)p->walks : 0));
    json_object_set_new(o, "mean_questions", json_real(p->mean_q));
    json_object_set_new(o, "max_questions", json_integer(p->max_q));
  }
  return o;
}

static int n_fail;
static json_t *jchecks;

static void check(int ok, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  json_t *c = json_object();
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fprintf(stderr, "  [%s] %s\n", ok ? "ok" : "FAIL", buf);
  if (!ok) n_fail++;
  json_object_set_new(c, "ok", json_boolean(ok));
  json_object_set_new(c, "check", json_string(buf));
  json_array_append_new(jchecks, c);
}

/* ===== main ===== */

static void usage(void)
{
  fprintf(stderr,
          "usage: eval-kb KB.db|SOURCES... [--noise 0.1] [--seed S] [--seeds N] [--json]\n"
          "               [--no-check] [--verbose] [--best-max-q Q] [--best-budget N]\n"
          "               [--best-seconds S] [--scripts DIR]\n");
  exit(2);
}

static void diag_cb(const tshoot_diagnostic *d, void *payload)
{
  if (d->severity == TSHOOT_ERRSEV)
    fprintf(stderr, "%s:%d:%d: error: %s\n", d->file, d->line, d->column, d->message);
}

int main(int argc, char **argv)
{
  const char **srcs = xcalloc((size_t)argc, sizeof *srcs);
  const char *scripts[8];
  size_t n_srcs = 0, n_scripts = 0, si, i;
  double noise = 0.1;
  uint64_t seed = 1;
  int seeds = 5, json = 0, do_check = 1, best_max_q = 16, a;
  long best_budget = 3000000;
  double best_seconds = 20;
  char tmp_path[4096] = "", tmp_dir[4096] = "";
  const char *db_path;
  walkset sets[2];
  json_t *jroot = json_object(), *jsets = json_array();
  double t0 = now();

  for (a = 1; a < argc; a++) {
    if (strcmp(argv[a], "--noise") == 0 && a + 1 < argc) noise = atof(argv[++a]);
    else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) seed = strtoull(argv[++a], NULL, 10);
    else if (strcmp(argv[a], "--seeds") == 0 && a + 1 < argc) seeds = atoi(argv[++a]);
    else if (strcmp(argv[a], "--json") == 0) json = 1;
    else if (strcmp(argv[a], "--no-check") == 0) do_check = 0;
    else if (strcmp(argv[a], "--verbose") == 0 || strcmp(argv[a], "-v") == 0) verbose = 1;
    else if (strcmp(argv[a], "--best-max-q") == 0 && a + 1 < argc) best_max_q = atoi(argv[++a]);
    else if (strcmp(argv[a], "--best-budget") == 0 && a + 1 < argc) best_budget = atol(argv[++a]);
    else if (strcmp(argv[a], "--best-seconds") == 0 && a + 1 < argc) best_seconds = atof(argv[++a]);
    else if (strcmp(argv[a], "--scripts") == 0 && a + 1 < argc && n_scripts < 8) scripts[n_scripts++] = argv[++a];
    else if (argv[a][0] == '-' && argv[a][1]) usage();
    else srcs[n_srcs++] = argv[a];
  }
  if (!n_srcs || noise < 0 || noise > 1 || seeds < 0) usage();

  kb_label = srcs[0];
  db_path = srcs[0];
  if (!(n_srcs == 1 && strlen(srcs[0]) > 3 && strcmp(srcs[0] + strlen(srcs[0]) - 3, ".db") == 0)) {
    tshoot_compile_options co = TSHOOT_COMPILE_OPTIONS_INIT;
    tshoot_compile_stats cs;
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/eval-kb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmp_dir)) die("mkdtemp: cannot create %s", tmp_dir);
    snprintf(tmp_path, sizeof tmp_path, "%s/kb.db", tmp_dir);
    co.on_diagnostic = diag_cb;
#ifdef TSHOOT_SCRIPTS_DIR
    if (!n_scripts) scripts[n_scripts++] = TSHOOT_SCRIPTS_DIR;   /* the project's scripts/ */
#endif
    co.script_dirs = n_scripts ? scripts : NULL;
    co.n_script_dirs = n_scripts;
    if (tshoot_compile(&cs, srcs, n_srcs, tmp_path, &co) != TSHOOT_OK)
      die("compile failed: %s", tshoot_error_last()->message);
    db_path = tmp_path;
  }
  check_rc(tshoot_kb_open(&kb, db_path, NULL), db_path);
  check_rc(rules_get(&M, kb), "rules");
  vals = xcalloc(M->nq, sizeof *vals);
  read_tests(db_path);
  if (tmp_path[0]) { unlink(tmp_path); rmdir(tmp_dir); }     /* the open handle keeps it */

  memset(sets, 0, sizeof sets);
  test_walks(&sets[0]);
  cause_walks(&sets[1]);

  fprintf(stderr, "eval-kb %s: %zu causes, %zu questions, %zu tests with expect-cause (%zu without, skipped)\n",
          kb_label, M->nc, M->nq, n_tests, n_tests_skipped);
  fprintf(stderr, "  %-26s %-20s %6s  %7s  %7s  %5s\n", "walks", "policy", "walks", "correct", "mean q", "max q");
  jchecks = json_array();

  for (si = 0; si < 2; si++) {
    walkset *ws = &sets[si];
    pstat eng, wri, best, neng, nwri;
    json_t *js = json_object(), *jnf = json_array(), *jn = json_array();
    char label[64], note[160];
    int s;

    if (!ws->n) {
      fprintf(stderr, "  %-26s (none)\n", ws->name);
      json_decref(js); json_decref(jnf); json_decref(jn);
      continue;
    }
    if (verbose && si == 1) {
      size_t k, q;
      fprintf(stderr, "  derived users (answers as each cause would; others: don't know):\n");
      for (k = 0; k < ws->n; k++) {
        fprintf(stderr, "    %s:", ws->w[k].name);
        for (q = 0; q < M->nq; q++) if (ws->w[k].ans[q]) fprintf(stderr, " %s=%s", M->q[q].id, ws->w[k].ans[q]);
        fprintf(stderr, "\n");
      }
    }
    eng = run_policy("engine", ws->w, ws->n, 0, verbose ? stderr : NULL);
    wri = run_policy("written order", ws->w, ws->n, TSHOOT_SESSION_WRITTEN_ORDER, verbose ? stderr : NULL);
    memset(&best, 0, sizeof best);
    if ((int)M->nq <= best_max_q) {
      bres r;
      long states = 0;
      double tb = now();
      best.policy = "best (exhaustive)";
      if (best_policy(ws->w, ws->n, best_budget, best_seconds, &r, &states) == 0) {
        best.computed = 1;
        best.walks = ws->n;
        best.correct = ws->n - (size_t)r.wrong;
        best.mean_q = (double)r.q / (double)ws->n;
        best.max_q = -1;
        snprintf(note, sizeof note, "(%ld states, %.2f s)", states, now() - tb);
        best.note = xstrdup(note);
      } else {
        snprintf(note, sizeof note, "not computed (over budget: %ld states or %.0f s)", best_budget, best_seconds);
        best.note = xstrdup(note);
      }
    } else {
      /* lower bound per walk */
      long evals = 0, total = 0, mx = 0;
      size_t k, got = 0;
      double tb = now();
      for (k = 0; k < ws->n; k++) {
        int lb = lower_bound(&ws->w[k], &evals);
        if (lb < 0) continue;
        got++;
        total += lb;
        if (lb > mx) mx = lb;
      }
      best.policy = "oracle lower bound";
      best.computed = 1;
      best.walks = got;
      best.correct = got;
      best.mean_q = got ? (double)total / (double)got : 0;
      best.max_q = mx;
      snprintf(note, sizeof note, "exhaustive search not computed (%zu questions); %zu/%zu walks reachable, %.2f s",
               M->nq, got, ws->n, now() - tb);
      best.note = xstrdup(note);
    }
    snprintf(label, sizeof label, "%s, noise-free", ws->name);
    print_row(label, &eng);
    print_row("", &wri);
    if (best.computed && best.max_q < 0) {
      fprintf(stderr, "  %-26s %-20s %6zu  %6.1f%%  %7.2f  %5s  %s\n", "", best.policy, best.walks,
              100.0 * (double)best.correct / (double)best.walks, best.mean_q, "-", best.note);
    } else {
      print_row("", &best);
    }
    json_array_append_new(jnf, pjson(&eng));
    json_array_append_new(jnf, pjson(&wri));
    json_array_append_new(jnf, pjson(&best));

    /* noise */
    if (seeds > 0 && noise > 0) {
      walk *nw = xcalloc(ws->n * (size_t)seeds, sizeof *nw);
      size_t k, nn = ws->n * (size_t)seeds;
      for (s = 0; s < seeds; s++)
        for (k = 0; k < ws->n; k++) noisy_copy(&nw[(size_t)s * ws->n + k], &ws->w[k], k, noise, seed + (uint64_t)s);
      neng = run_policy("engine", nw, nn, 0, NULL);
      nwri = run_policy("written order", nw, nn, TSHOOT_SESSION_WRITTEN_ORDER, NULL);
      snprintf(label, sizeof label, "%s, %.0f%% wrong (%d seeds)", ws->name, 100 * noise, seeds);
      print_row(label, &neng);
      print_row("", &nwri);
      json_array_append_new(jn, pjson(&neng));
      json_array_append_new(jn, pjson(&nwri));
      for (k = 0; k < nn; k++) free(nw[k].ans);
      free(nw);
    }
    json_object_set_new(js, "walks", json_string(ws->name));
    json_object_set_new(js, "noise_free", jnf);
    json_object_set_new(js, "noisy", jn);
    json_object_set_new(js, "noise", json_real(noise));
    json_object_set_new(js, "seeds", json_integer(seeds));
    json_array_append_new(jsets, js);

    /* the checks */
    check(eng.correct * 100 >= eng.walks * 98, "%s: engine correct %.1f%% >= 98%% (noise-free, %zu walks)",
          ws->name, 100.0 * (double)eng.correct / (double)eng.walks, eng.walks);
    if (eng.mean_q >= wri.mean_q && best.computed && best.max_q < 0 && eng.mean_q <= best.mean_q + 1e-9)
      /* nothing can ask fewer than the best order: a tie with it passes */
      check(1, "%s: engine mean %.2f = written-order mean %.2f, both optimal (best %.2f): cannot be fewer",
            ws->name, eng.mean_q, wri.mean_q, best.mean_q);
    else
      check(eng.mean_q < wri.mean_q, "%s: engine mean %.2f < written-order mean %.2f", ws->name, eng.mean_q,
            wri.mean_q);
    if (best.computed && best.max_q < 0)
      check(eng.mean_q <= 1.10 * best.mean_q + 1e-9, "%s: engine mean %.2f <= 1.10 x best %.2f (%.2fx)", ws->name,
            eng.mean_q, best.mean_q, best.mean_q > 0 ? eng.mean_q / best.mean_q : 0);
    else if (best.computed)
      fprintf(stderr, "  [--] %s: best order not computed; engine mean %.2f is %.2fx the oracle lower bound %.2f\n",
              ws->name, eng.mean_q, best.mean_q > 0 ? eng.mean_q / best.mean_q : 0, best.mean_q);
    free((char *)best.note);
  }
  fprintf(stderr, "  %.2f s\n", now() - t0);

  if (json) {
    char *dump;
    json_object_set_new(jroot, "kb", json_string(kb_label));
    json_object_set_new(jroot, "causes", json_integer((json_int_t)M->nc));
    json_object_set_new(jroot, "questions", json_integer((json_int_t)M->nq));
    json_object_set_new(jroot, "tests", json_integer((json_int_t)n_tests));
    json_object_set_new(jroot, "sets", jsets);
    json_object_set_new(jroot, "checks", jchecks);
    json_object_set_new(jroot, "failed_checks", json_integer(n_fail));
    dump = json_dumps(jroot, JSON_INDENT(1));
    if (dump) { puts(dump); free(dump); }
  } else {
    json_decref(jsets);
    json_decref(jchecks);
  }
  json_decref(jroot);
  /* free everything, so that a sanitizer run shows only the engine's leaks */
  for (si = 0; si < 2; si++) {
    for (i = 0; i < sets[si].n; i++) free(sets[si].w[i].ans);
    free(sets[si].w);
  }
  for (i = 0; i < n_tests; i++) {
    size_t k;
    for (k = 0; k < tests[i].n; k++) { free(tests[i].q[k]); free(tests[i].v[k]); }
    free(tests[i].q); free(tests[i].v); free(tests[i].id); free(tests[i].text); free(tests[i].cause);
  }
  free(tests);
  for (i = 0; i < M->nq; i++) {
    size_t k;
    for (k = 0; k < vals[i].n; k++) free((char *)vals[i].v[k]);
    free(vals[i].v);
  }
  free(vals);
  free(srcs);
  tshoot_kb_close(kb);
  return do_check && n_fail ? 1 : 0;
}
