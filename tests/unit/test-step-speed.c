/*
** test-step-speed.c: the fast diagnosis step (engine/session.c, "the step's
** tables") against the straightforward computation it replaces, kept as the
** reference path (tshoot_session.reference). Two sessions take the same
** calls; after every tshoot_session_next both must give the same step (kind,
** question, cause, fix, and expected gain and probability to 1e-9) and the
** same posterior for every candidate and "none" to 1e-9. The replies are
** random (seeded): mostly what a person with a hidden cause would answer,
** else another outcome, "don't know", a withdrawn or changed earlier answer,
** "back", and any fix outcome; on synthetic KBs of 100 to 1,000 causes
** (bench/session-synth.c, as bench-session makes them), on the shipped Kerio
** KB (with the phrasings of tests/data/words/kerio.tsv as descriptions, so
** its phrases, facts, conditions and ask-when all take part), and on the car,
** web and dialogue KBs of tests/data, with more noise settings than the model
** shares tables for; and four threads that start sessions at once on a fresh
** KB share one set of tables (run it under TSan too). STEP_DEBUG=1 prints every posterior of a mismatch.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "session_int.h"
#include "session-synth.h"
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOL 1e-9

static char tmpdir[256];

typedef struct tally {
  size_t walks, steps, asks, fixes, ends, own_tabs;
  int failed;
} tally;

static uint64_t rnd(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int close_to(double a, double b) { return fabs(a - b) <= TOL * (fabs(b) > 1 ? fabs(b) : 1); }

static const char *nz(const char *s) { return s ? s : "(null)"; }

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* The two steps and posteriors agree; what differs is printed. */
static int agree(tshoot_session *f, tshoot_session *r, const tshoot_step *a, const tshoot_step *b, const char *where,
                 size_t step)
{
  size_t i;
  if (a->kind != b->kind || !same_str(a->question, b->question) || !same_str(a->cause, b->cause) ||
      !same_str(a->fix, b->fix) || !close_to(a->expected_gain, b->expected_gain) ||
      !close_to(a->probability, b->probability)) {
    fprintf(stderr, "%s, step %zu: fast: kind %d question %s cause %s fix %s gain %.17g p %.17g\n"
                    "%*s reference: kind %d question %s cause %s fix %s gain %.17g p %.17g\n",
            where, step, (int)a->kind, nz(a->question), nz(a->cause), nz(a->fix), a->expected_gain, a->probability,
            (int)strlen(where), "", (int)b->kind, nz(b->question), nz(b->cause), nz(b->fix), b->expected_gain,
            b->probability);
    if (getenv("STEP_DEBUG")) {
      for (i = 0; i < f->n_cand; i++) fprintf(stderr, "  %s %.17g %.17g\n", f->m->c[f->cand[i]].id, f->post[i], r->post[i]);
      fprintf(stderr, "  none %.17g %.17g\n", f->none_post, r->none_post);
    }
    return 0;
  }
  if (f->n_cand != r->n_cand) {
    fprintf(stderr, "%s, step %zu: %zu candidates, reference %zu\n", where, step, f->n_cand, r->n_cand);
    return 0;
  }
  for (i = 0; i < f->n_cand; i++)
    if (f->cand[i] != r->cand[i] || fabs(f->post[i] - r->post[i]) > TOL) {
      fprintf(stderr, "%s, step %zu: P(%s) %.17g, reference %.17g\n", where, step, f->m->c[f->cand[i]].id,
              f->post[i], r->post[i]);
      return 0;
    }
  if (fabs(f->none_post - r->none_post) > TOL) {
    fprintf(stderr, "%s, step %zu: P(none) %.17g, reference %.17g\n", where, step, f->none_post, r->none_post);
    return 0;
  }
  return 1;
}

/* What a person whose problem is cause ci answers to q: the value of the
** cause's <answer> for it, else an outcome picked by the seed. */
static const char *oracle(const rules_model *m, int ci, int q, uint64_t *seed)
{
  const rm_cause *c = &m->c[ci];
  const rm_question *qq = &m->q[q];
  size_t e;
  for (e = 0; e < c->n_ev; e++)
    if (c->ev[e].kind == RM_ANSWER && c->ev[e].question == q) return c->ev[e].value;
  if (qq->n_reps) return qq->reps[rnd(seed) % qq->n_reps];
  return qq->n_choices ? qq->choices[rnd(seed) % qq->n_choices] : "1";
}

static const char *any_value(const rules_model *m, int q, uint64_t *seed)
{
  const rm_question *qq = &m->q[q];
  if (qq->n_reps) return qq->reps[rnd(seed) % qq->n_reps];
  return qq->n_choices ? qq->choices[rnd(seed) % qq->n_choices] : "1";
}

#define BOTH(call_f, call_r) do { \
    int rf_ = (call_f), rr_ = (call_r); \
    if (rf_ != rr_) { fprintf(stderr, "%s, step %zu: %s gives %d, reference %d\n", where, k, #call_f, rf_, rr_); \
                      ok = 0; goto out; } \
  } while (0)

/* One walk: the same calls on a fast and a reference session. */
static void walk(tally *t, tshoot_kb *kb, const char *name, uint64_t seed, unsigned flags, double noise,
                 const char *text, size_t max_steps, double conclude_at)
{
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  tshoot_session *f = NULL, *r = NULL;
  const rules_model *m;
  char where[200];
  size_t k = 0;
  int ci, ok = 1;

  snprintf(where, sizeof where, "%s (seed %llu, flags %u, noise %g, conclude_at %g)", name, (unsigned long long)seed,
           flags, noise, conclude_at);
  o.flags = flags;
  o.noise = noise;
  o.conclude_at = conclude_at;
  if (rules_get(&m, kb) != TSHOOT_OK || tshoot_session_new(&f, kb, &o) != TSHOOT_OK ||
      tshoot_session_new(&r, kb, &o) != TSHOOT_OK) {
    fprintf(stderr, "%s: no session: %s\n", where, tshoot_error_last()->message);
    ok = 0;
    goto out;
  }
  r->reference = 1;
  ci = (int)(rnd(&seed) % m->nc);
  if (text) BOTH(tshoot_session_describe(f, text, strlen(text)), tshoot_session_describe(r, text, strlen(text)));
  if (m->ns && rnd(&seed) % 4 == 0) {
    const char *sy = m->s[rnd(&seed) % m->ns].id;
    BOTH(tshoot_session_symptom(f, sy), tshoot_session_symptom(r, sy));
  }
  t->walks++;
  for (k = 0; k < max_steps; k++) {
    const tshoot_step *a, *b;
    unsigned dice;
    BOTH(tshoot_session_next(&a, f), tshoot_session_next(&b, r));
    t->steps++;
    if (!f->tab || !f->lw_ok || f->reference) {
      fprintf(stderr, "%s, step %zu: the fast session did not take the fast path\n", where, k);
      ok = 0;
      goto out;
    }
    if (f->own_tab && k == 0) t->own_tabs++;
    if (!agree(f, r, a, b, where, k)) { ok = 0; goto out; }
    if (a->kind == TSHOOT_STEP_FIX) {
      tshoot_fix_outcome out = (tshoot_fix_outcome)(TSHOOT_FIX_DID_NOT_WORK + (int)(rnd(&seed) % 4));
      char fix[256];
      t->fixes++;
      snprintf(fix, sizeof fix, "%s", a->fix);
      BOTH(tshoot_session_fix_result(f, fix, out), tshoot_session_fix_result(r, fix, out));
      continue;
    }
    if (a->kind != TSHOOT_STEP_ASK) { t->ends++; break; }
    t->asks++;
    if (k % 4 == 3) {
      /* why this question: weighed again, through the explanation */
      tshoot_explanation *ef = NULL, *er = NULL;
      BOTH(tshoot_session_why(&ef, f, NULL), tshoot_session_why(&er, r, NULL));
      if (!close_to(ef->expected_gain, er->expected_gain) || ef->n_causes != er->n_causes) {
        fprintf(stderr, "%s, step %zu: why: gain %.17g (%zu causes), reference %.17g (%zu)\n", where, k,
                ef->expected_gain, ef->n_causes, er->expected_gain, er->n_causes);
        ok = 0;
      }
      tshoot_explanation_free(ef);
      tshoot_explanation_free(er);
      if (!ok) goto out;
    }
    dice = (unsigned)(rnd(&seed) % 100);
    if (dice < 8) {
      char q[256];
      snprintf(q, sizeof q, "%s", a->question);
      BOTH(tshoot_session_unknown(f, q), tshoot_session_unknown(r, q));
    } else if (dice < 14 && f->n_answers) {
      char q[256];
      snprintf(q, sizeof q, "%s", m->q[f->answers[rnd(&seed) % f->n_answers].q].id);
      BOTH(tshoot_session_retract(f, q), tshoot_session_retract(r, q));
    } else if (dice < 19) {
      BOTH(tshoot_session_undo(f), tshoot_session_undo(r));
    } else if (dice < 25 && f->n_answers) {
      /* change an earlier answer, then answer this one too */
      int q = f->answers[rnd(&seed) % f->n_answers].q, aq = rules_question(m, a->question);
      const char *v = any_value(m, q, &seed);
      BOTH(tshoot_session_answer(f, m->q[q].id, v), tshoot_session_answer(r, m->q[q].id, v));
      v = oracle(m, ci, aq, &seed);
      BOTH(tshoot_session_answer(f, m->q[aq].id, v), tshoot_session_answer(r, m->q[aq].id, v));
    } else {
      int q = rules_question(m, a->question);
      const char *v = dice < 75 ? oracle(m, ci, q, &seed) : any_value(m, q, &seed);
      BOTH(tshoot_session_answer(f, m->q[q].id, v), tshoot_session_answer(r, m->q[q].id, v));
    }
  }
out:
  if (!ok) t->failed++;
  tshoot_session_free(f);
  tshoot_session_free(r);
}

/* Compile source (a file or a folder) into tmpdir/name.db and open it. */
static tshoot_kb *compile_open(const char *source, const char *name)
{
  char db[512];
  tshoot_kb *kb = NULL;
  const char *src[1];
  src[0] = source;
  snprintf(db, sizeof db, "%s/%s.db", tmpdir, name);
  if (tshoot_compile(NULL, src, 1, db, NULL) != TSHOOT_OK || tshoot_kb_open(&kb, db, NULL) != TSHOOT_OK) {
    fprintf(stderr, "%s: %s\n", source, tshoot_error_last()->message);
    return NULL;
  }
  unlink(db);
  return kb;
}

static void test_step__synthetic_kbs_same_as_reference(void)
{
  static const size_t sizes[] = { 100, 300, 1000 }, walks[] = { 60, 30, 12 };
  tally t;
  size_t i, w;
  memset(&t, 0, sizeof t);
  for (i = 0; i < 3; i++) {
    char src[512], name[64];
    tshoot_kb *kb;
    size_t files, nq;
    snprintf(src, sizeof src, "%s/synth-%zu", tmpdir, sizes[i]);
    snprintf(name, sizeof name, "synth-%zu", sizes[i]);
    CHECK(mkdir(src, 0700) == 0);
    CHECK(ssynth_write(src, 20240501u + i, sizes[i], &files, &nq) == 0);
    kb = compile_open(src, name);
    test_remove_dir(src);
    CHECK(kb != NULL);
    if (!kb) continue;
    for (w = 0; w < walks[i]; w++)
      walk(&t, kb, name, 1000 * i + w, w % 2 ? TSHOOT_SESSION_NO_FIXES : 0, w % 3 == 2 ? 0.05 : 0, NULL, 30, 0);
    tshoot_kb_close(kb);
  }
  printf("  synthetic: %zu walks, %zu steps (%zu questions, %zu fixes, %zu ends) the same\n", t.walks, t.steps,
         t.asks, t.fixes, t.ends);
  CHECK_INT(t.failed, 0);
  CHECK(t.walks == 102);
  CHECK(t.asks >= 1000);
  CHECK(t.fixes >= 5);
}

/* (cause, question) pairs whose likelihood depends on more than the answer to
** the question (a condition that reads it and another question): the ones
** the fast step computes the reference's way. */
static size_t mixed_pairs(const rules_model *m)
{
  size_t q, k, e, n = 0;
  for (q = 0; q < m->nq; q++)
    for (k = 0; k < m->q[q].n_causes; k++) {
      const rm_cause *c = &m->c[m->q[q].causes[k]];
      int mixed = 0;
      for (e = 0; e < c->n_ev; e++) {
        const rm_evidence *ev = &c->ev[e];
        size_t j;
        if (ev->kind == RM_ANSWER || ev->n_questions < 2) continue;
        for (j = 0; j < ev->n_questions; j++) if (ev->questions[j] == (uint32_t)q) mixed = 1;
      }
      n += (size_t)mixed;
    }
  return n;
}

static void test_step__kerio_same_as_reference(void)
{
  const char *kbp = getenv("TSHOOT_KB"), *root = getenv("TSHOOT_SOURCE_ROOT");
  char path[1024], line[1024];
  tshoot_kb *kb = NULL;
  FILE *fp;
  tally t;
  size_t n = 0;
  memset(&t, 0, sizeof t);
  CHECK(kbp && root);
  if (!kbp || !root) return;
  CHECK_INT(tshoot_kb_open(&kb, kbp, NULL), TSHOOT_OK);
  if (!kb) return;
  {
    const rules_model *m;
    CHECK_INT(rules_get(&m, kb), TSHOOT_OK);
    printf("  kerio: %zu of its (cause, question) pairs are computed the reference's way\n", mixed_pairs(m));
    CHECK(mixed_pairs(m) > 0);
  }
  snprintf(path, sizeof path, "%s/tests/data/words/kerio.tsv", root);
  fp = fopen(path, "r");
  CHECK(fp != NULL);
  /* every phrasing once, walked with and without fixes, some with more noise */
  while (fp && fgets(line, sizeof line, fp)) {
    char *tab = strchr(line, '\t');
    if (line[0] == '#' || !tab) continue;
    tab[strcspn(tab, "\r\n")] = 0;
    walk(&t, kb, "kerio", n, n % 2 ? TSHOOT_SESSION_NO_FIXES : 0, n % 5 == 4 ? 0.1 : 0, tab + 1, 30, 0);
    n++;
  }
  if (fp) fclose(fp);
  /* and without a description, some with conclude_at 0.6 or 1 (out of reach) */
  for (n = 0; n < 20; n++)
    walk(&t, kb, "kerio, no text", 500 + n, n % 2 ? TSHOOT_SESSION_NO_FIXES : 0, 0, NULL, 30,
         n % 4 == 3 ? 1 : n % 4 == 2 ? 0.6 : 0);
  printf("  kerio: %zu walks, %zu steps (%zu questions, %zu fixes, %zu ends) the same\n", t.walks, t.steps, t.asks,
         t.fixes, t.ends);
  CHECK_INT(t.failed, 0);
  CHECK(t.walks >= 100);
  CHECK(t.asks >= 100);
  CHECK(t.fixes >= 20);
  CHECK(t.ends >= 50);
  tshoot_kb_close(kb);
}

static void test_step__small_kbs_and_many_noises(void)
{
  static const char *const kbs[] = { "car/car.xml", "session/web.xml", "session/dialogue.xml" };
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  tally t;
  size_t i, n;
  memset(&t, 0, sizeof t);
  CHECK(root != NULL);
  if (!root) return;
  for (i = 0; i < 3; i++) {
    char src[1024], name[32];
    tshoot_kb *kb;
    snprintf(src, sizeof src, "%s/tests/data/%s", root, kbs[i]);
    snprintf(name, sizeof name, "small-%zu", i);
    kb = compile_open(src, name);
    CHECK(kb != NULL);
    if (!kb) continue;
    /* 12 noises: past RULES_MAX_DERIVED, sessions make their own tables */
    for (n = 0; n < 24; n++)
      walk(&t, kb, kbs[i], 100 * i + n, n % 2 ? TSHOOT_SESSION_NO_FIXES : 0, 0.01 + 0.02 * (double)(n % 12), NULL,
           30, n % 3 == 1 ? 1 : n % 3 == 2 ? 0.75 : 0);
    tshoot_kb_close(kb);
  }
  printf("  car, web, dialogue: %zu walks, %zu steps (%zu questions, %zu fixes, %zu ends) the same; %zu walks "
         "on a session's own tables\n", t.walks, t.steps, t.asks, t.fixes, t.ends, t.own_tabs);
  CHECK_INT(t.failed, 0);
  CHECK(t.asks >= 50);
  CHECK(t.own_tabs >= 3);
}

typedef struct tab_arg { tshoot_kb *kb; const void *tab; int rc; } tab_arg;

static void *tab_thread(void *p)
{
  tab_arg *a = p;
  tshoot_session *s = NULL;
  const tshoot_step *st;
  a->rc = tshoot_session_new(&s, a->kb, NULL);
  if (a->rc == TSHOOT_OK) a->rc = tshoot_session_next(&st, s);
  if (a->rc == TSHOOT_OK) a->tab = s->tab;
  tshoot_session_free(s);
  return NULL;
}

static void test_step__tables_made_once_for_threads(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char src[1024];
  tshoot_kb *kb;
  pthread_t th[4];
  tab_arg a[4];
  int i;
  CHECK(root != NULL);
  if (!root) return;
  snprintf(src, sizeof src, "%s/tests/data/car/car.xml", root);
  kb = compile_open(src, "threads");
  CHECK(kb != NULL);
  if (!kb) return;
  /* four first sessions at once on a fresh KB: one set of tables, shared */
  memset(a, 0, sizeof a);
  for (i = 0; i < 4; i++) {
    a[i].kb = kb;
    CHECK(pthread_create(&th[i], NULL, tab_thread, &a[i]) == 0);
  }
  for (i = 0; i < 4; i++) pthread_join(th[i], NULL);
  for (i = 0; i < 4; i++) {
    CHECK_INT(a[i].rc, TSHOOT_OK);
    CHECK(a[i].tab != NULL && a[i].tab == a[0].tab);
  }
  tshoot_kb_close(kb);
}

int main(void)
{
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-step-XXXXXX");
  if (!mkdtemp(tmpdir)) return 99;
  RUN(test_step__synthetic_kbs_same_as_reference);
  RUN(test_step__kerio_same_as_reference);
  RUN(test_step__small_kbs_and_many_noises);
  RUN(test_step__tables_made_once_for_threads);
  test_remove_dir(tmpdir);
  TEST_EXIT();
}
