/*
** session.c: diagnosis sessions. Evidence in, posterior over causes out, and
** the next step chosen by value of information.
**
** The model (single fault, see docs/reasoning.md):
**   weight(c) = prior(c) * text(c) * symptoms(c) * Π answers * Π conditions * Π fixes
** for every candidate cause c, and for "none of the known causes", whose
** answers are uniform over each question's outcomes. A question a cause says
** nothing about is uniform for it too, so only the causes that depend on a
** question (rm_question.causes) are touched when it is answered or weighed:
**   - <answer q v p>: P(q = v | c) = p; the rest spread evenly over the other
**     outcomes; clamped to [noise, 1 - noise];
**   - <expect p>COND: p when COND is true, 1 - p when false;
**   - <requires>COND: 1 - noise when true, noise when false;
**   - a condition not yet decided contributes nothing, and the questions it
**     reads stop counting as uniform for that cause (the condition speaks
**     for them);
**   - a fix that did not work: 1 - r (r = 0.9); one that worked: r, others noise.
** Facts are derived by evaluating their conditions (three-valued, memoised
** per evaluation round, so a hypothetical answer re-derives them lazily).
**
** Next step: the question with the highest expected information gain per
** unit of cost; compared, by expected cost of repair (Heckerman, Breese and
** Rommelse 1995), with trying the most efficient fix now; conclude when a
** cause reaches conclude_at, or when nothing left is worth asking.
**
** Nothing here is global: all state is in the session; the model is shared
** read-only. The session struct and the helpers the other session files use
** are in session_int.h; explanations are in session_explain.c, saving and
** loading in session_save.c.
**
** A step is computed twice over in this file: the straightforward way
** (update_reference, weigh_reference) and the fast way that sessions use
** ("the step's tables": the same numbers from per-(cause, question, outcome)
** tables and incremental weights). The file is past 1,500 lines because the
** two stay side by side, so that a change to one is made next to the other;
** tests/unit/test-step-speed.c holds them to the same steps.
*/
#include "session_int.h"
#include "kb.h"
#include "text.h"
#include "search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONCLUDE 0.9
#define DEFAULT_NOISE 0.01
#define ESCALATION_COST 20.0       /* cost when every fix failed (call support) */
#define NONE_TEXT_LIK 0.15         /* how well "none" explains a matched text */
#define NONE_PRIOR_SHARE 0.02      /* "none" gets this share of the prior mass */
#define LEADER 0.5                 /* above this, only decision-relevant questions */
#define MIN_GAIN 1e-4              /* bits: less than this is not worth asking */
#define PROBE_COST 0.01            /* a question a probe may answer bothers nobody */
/* The words of a cause (search_cause_scores: bm25 over its own texts) as a
** likelihood ratio, relative to the best-matching cause of the description:
** WORD_LR^(score / best), so the cause whose own words the person used most
** is WORD_LR times as likely as one none of whose words were used, and the
** others in between. A description whose best score is under WORD_MIN (only
** words that every cause shares: bm25 gives them an IDF near 0) says nothing
** about the causes. Calibrated on tests/data/words/kerio.tsv (BENCHMARKS.md,
** "words"): enough to rank, small enough that two answers outweigh it. */
#define WORD_LR 30.0
#define WORD_MIN 0.5

/* Decisions on computed probabilities and costs take values within TIE of
** each other (relatively; TIE_GAIN for a question's gain per cost, the
** difference of two entropies) as equal, so that a tie the model makes
** exactly (priors 0.3 and 0.1 with the same evidence: "3 times as likely")
** is decided by the rule (>=, or the first in order), not by the last bits
** of the arithmetic, which differ between the fast step and the reference.
** A threshold of 1 stays out of reach (reaches). */
#define TIE 1e-12
#define TIE_GAIN 1e-9
static int at_least(double a, double b) { return a >= b - TIE * fabs(b); }
static int above(double a, double b) { return a > b + TIE * fabs(b); }
static int reaches(double p, double threshold) { return threshold < 1 ? at_least(p, threshold) : p >= threshold; }


/* ===== the world as conditions see it ===== */

static const char *world_answer(void *ctx, int q)
{
  tshoot_session *s = ctx;
  int a;
  if (q == s->hyp_q) return s->hyp_value;
  a = s->ans_of_q[q];
  return a >= 0 ? s->answers[a].value : NULL;
}

static int world_known(void *ctx, int q)
{
  tshoot_session *s = ctx;
  int a;
  if (q == s->hyp_q) return 1;
  a = s->ans_of_q[q];
  if (a < 0) return -1;
  return s->answers[a].value ? 1 : 0;
}

static tri world_fact(void *ctx, int f);

static int world_is_version(void *ctx, int q)
{
  tshoot_session *s = ctx;
  return s->m->q[q].type == RM_VERSION;
}

tri session_eval(tshoot_session *s, const expr *e)
{
  expr_env env;
  env.answer = world_answer;
  env.known = world_known;
  env.fact = world_fact;
  env.is_version = world_is_version;
  env.ctx = s;
  return expr_eval(e, &env);
}

static tri world_fact(void *ctx, int f)
{
  tshoot_session *s = ctx;
  tri v;
  if (s->fact_gen[f] == s->gen) return s->fact_val[f];
  /* mark in progress as unknown: a cycle (refused by the compiler) ends here */
  s->fact_gen[f] = s->gen;
  s->fact_val[f] = TRI_UNKNOWN;
  v = session_eval(s, &s->m->f[f].cond);
  s->fact_val[f] = v;
  return v;
}

void session_new_generation(tshoot_session *s)
{
  if (++s->gen == 0) {
    memset(s->fact_gen, 0, s->m->nf * sizeof *s->fact_gen);
    s->gen = 1;
  }
}

/* ===== likelihoods ===== */

double session_clamp(const tshoot_session *s, double p)
{
  if (p < s->noise) return s->noise;
  if (p > 1 - s->noise) return 1 - s->noise;
  return p;
}

size_t session_outcomes(const rm_question *q)
{
  if (q->type == RM_YESNO || q->type == RM_CHOICE) return q->n_choices ? q->n_choices : 2;
  return q->n_reps > 1 ? q->n_reps : 2;
}

/* P(q = value | c) from the cause's <answer> evidence, or -1 if it gives none. */
double session_answer_lik(const tshoot_session *s, const rm_cause *c, int q, const char *value)
{
  double listed = 0, hit = -1;
  size_t n_listed = 0, e, n;
  for (e = 0; e < c->n_ev; e++) {
    const rm_evidence *ev = &c->ev[e];
    if (ev->kind != RM_ANSWER || ev->question != q) continue;
    listed += ev->p;
    n_listed++;
    if (strcmp(ev->value, value) == 0) hit = ev->p;
  }
  if (!n_listed) return -1;
  if (hit >= 0) return session_clamp(s, hit);
  n = session_outcomes(&s->m->q[q]);
  /* the mass the author left over, spread on the outcomes not listed; its
  ** floor is the noise shared among the other outcomes, so that a question
  ** with 200 choices can still settle a cause (a floor of `noise` for each
  ** would give the 199 other answers 2 chances in 1 together) */
  {
    double floor = s->noise / (double)(n > 2 ? n - 1 : 1), v;
    if (n <= n_listed) return floor;
    v = (1 - listed) / (double)(n - n_listed);
    return v < floor ? floor : v > 1 - s->noise ? 1 - s->noise : v;
  }
}

int session_cause_has_answer_ev(const rm_cause *c, int q)
{
  size_t e;
  for (e = 0; e < c->n_ev; e++) if (c->ev[e].kind == RM_ANSWER && c->ev[e].question == q) return 1;
  return 0;
}

/* Whether question q has an answer (real or hypothetical), and its value. */
const char *session_answered(const tshoot_session *s, int q)
{
  return world_answer((void *)s, q);
}

/* Whether fixes x and y do the same thing: one script, or declared same-as. */
static int fix_same(const rules_model *m, int x, int y)
{
  size_t k;
  if (m->x[x].script && m->x[y].script && strcmp(m->x[x].script, m->x[y].script) == 0) return 1;
  for (k = 0; k < m->x[x].n_same; k++) if (m->x[x].same[k] == (uint32_t)y) return 1;
  return 0;
}

/* Whether fix x repairs cause ci: it is one of ci's fixes, or does the same
** thing as one of them (the same script, or same-as): a fix that worked is
** evidence for every cause it repairs, one that did not work against each. */
static int fix_repairs(const rules_model *m, int x, int ci)
{
  uint32_t k;
  if (m->x[x].cause == ci) return 1;
  for (k = 0; k < m->c[ci].n_fixes; k++)
    if (fix_same(m, x, (int)(m->c[ci].first_fix + k))) return 1;
  return 0;
}

/* log weight of cause c from its answers, conditions and fix reports (not the
** prior, text or symptoms), relative to the uniform term shared by all. */
static double cause_evidence_log(tshoot_session *s, int ci)
{
  const rm_cause *c = &s->m->c[ci];
  double lw = 0;
  size_t k, e;
  /* a question the cause gives <answer> likelihoods for: P(v | c) replaces
  ** the uniform term every cause has */
  for (k = 0; k < c->n_questions; k++) {
    int q = (int)c->questions[k];
    const char *v;
    if (!session_cause_has_answer_ev(c, q) || !(v = session_answered(s, q))) continue;
    lw += log((double)session_outcomes(&s->m->q[q])) + log(session_answer_lik(s, c, q, v));
  }
  /* a decided condition: P(result | c) over P(result by chance); its
  ** questions keep their uniform terms */
  for (e = 0; e < c->n_ev; e++) {
    const rm_evidence *ev = &c->ev[e];
    double pc, pu;
    tri t;
    if (ev->kind == RM_ANSWER) continue;
    t = session_eval(s, &ev->cond);
    if (t == TRI_UNKNOWN) continue;
    pc = ev->kind == RM_REQUIRES ? 1 - s->noise : session_clamp(s, ev->p);
    pu = ev->pu_true;
    lw += t == TRI_TRUE ? log(pc / pu) : log((1 - pc) / (1 - pu));
  }
  for (k = 0; k < s->n_fixes; k++) {
    int rep = fix_repairs(s->m, s->fixes[k].fix, ci);
    if (s->fixes[k].outcome == TSHOOT_FIX_WORKED) lw += log(rep ? FIX_SUCCESS : s->noise);
    else if (s->fixes[k].outcome == TSHOOT_FIX_DID_NOT_WORK && rep) lw += log(1 - FIX_SUCCESS);
  }
  return lw;
}

static int reads(const rm_evidence *ev, int q)
{
  size_t lo = 0, hi = ev->n_questions;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ev->questions[mid] == (uint32_t)q) return 1;
    if (ev->questions[mid] < (uint32_t)q) lo = mid + 1; else hi = mid;
  }
  return 0;
}

/* The part of cause_evidence_log that question q can change: its <answer>
** term and the conditions that read it. Weighing q needs only this. */
static double cause_q_log(tshoot_session *s, int ci, int q)
{
  const rm_cause *c = &s->m->c[ci];
  double lw = 0;
  const char *v;
  size_t e;
  if (session_cause_has_answer_ev(c, q) && (v = session_answered(s, q)) != NULL)
    lw += log((double)session_outcomes(&s->m->q[q])) + log(session_answer_lik(s, c, q, v));
  for (e = 0; e < c->n_ev; e++) {
    const rm_evidence *ev = &c->ev[e];
    double pc, pu;
    tri t;
    if (ev->kind == RM_ANSWER || !reads(ev, q)) continue;
    t = session_eval(s, &ev->cond);
    if (t == TRI_UNKNOWN) continue;
    pc = ev->kind == RM_REQUIRES ? 1 - s->noise : session_clamp(s, ev->p);
    pu = ev->pu_true;
    lw += t == TRI_TRUE ? log(pc / pu) : log((1 - pc) / (1 - pu));
  }
  return lw;
}

static double symptom_log(const tshoot_session *s, int ci)
{
  double lw = 0;
  size_t k, j;
  for (k = 0; k < s->n_symptoms; k++) {
    const rm_symptom *sy = &s->m->s[s->symptoms[k]];
    int hit = 0;
    if (sy->causes) {
      for (j = 0; j < sy->n_causes; j++) if (sy->causes[j] == ci) hit = 1;
    } else {
      hit = s->m->c[ci].article == sy->article;
    }
    lw += log(hit ? 0.8 : 0.1);
  }
  return lw;
}

static double none_log(const tshoot_session *s)
{
  size_t k;
  double lw = 0;
  for (k = 0; k < s->n_symptoms; k++) lw += log(0.1);
  for (k = 0; k < s->n_fixes; k++) if (s->fixes[k].outcome == TSHOOT_FIX_WORKED) lw += log(s->noise);
  return lw;
}

double session_entropy(const double *p, size_t n, double extra)
{
  double h = 0;
  size_t i;
  for (i = 0; i < n; i++) if (p[i] > 0) h -= p[i] * log2(p[i]);
  if (extra > 0) h -= extra * log2(extra);
  return h;
}

/* Recompute facts and the posterior from the evidence: the straightforward
** computation, every candidate from scratch (s->reference; and the numbers
** the fast update below must give). */
static void update_reference(tshoot_session *s)
{
  const rules_model *m = s->m;
  double mean_prior = 0, none_prior, max, sum = 0;
  size_t i, k;

  if (!s->dirty) return;
  session_new_generation(s);
  s->hyp_q = -1;
  s->uniform_log = 0;
  for (k = 0; k < s->n_answers; k++)
    if (s->answers[k].value && s->ans_of_q[s->answers[k].q] == (int)k)
      s->uniform_log -= log((double)session_outcomes(&m->q[s->answers[k].q]));
  for (i = 0; i < s->n_cand; i++) mean_prior += m->c[s->cand[i]].prior;
  mean_prior = s->n_cand ? mean_prior / (double)s->n_cand : 1;
  none_prior = NONE_PRIOR_SHARE * mean_prior * (double)(s->n_cand ? s->n_cand : 1);
  max = -INFINITY;
  for (i = 0; i < s->n_cand; i++) {
    int ci = (int)s->cand[i];
    double prior = m->c[ci].prior > 0 ? m->c[ci].prior : 1e-6;
    /* the log weight, kept in post until normalised below */
    s->post[i] = log(prior) + log(s->text_lik[i]) + log(s->word_lik[i]) + symptom_log(s, ci) +
                 s->uniform_log + cause_evidence_log(s, ci);
    if (s->post[i] > max) max = s->post[i];
  }
  s->none_loglik = log(none_prior) + log(s->text ? NONE_TEXT_LIK : 1) + none_log(s) + s->uniform_log;
  if (s->none_loglik > max) max = s->none_loglik;
  for (i = 0; i < s->n_cand; i++) sum += s->post[i] = exp(s->post[i] - max);
  sum += s->none_post = exp(s->none_loglik - max);
  if (!(sum > 0) || !isfinite(sum)) {
    /* cannot happen with clamped likelihoods; stay defined anyway */
    for (i = 0; i < s->n_cand; i++) s->post[i] = 1.0 / (double)(s->n_cand + 1);
    s->none_post = 1.0 / (double)(s->n_cand + 1);
  } else {
    for (i = 0; i < s->n_cand; i++) s->post[i] /= sum;
    s->none_post /= sum;
  }
  s->dirty = 0;
}

/* ===== weighing a question ===== */

static void weigh_free(weigh *w)
{
  ts_free(w->pos);
  ts_free(w->pvc);
  w->pos = NULL;
  w->pvc = NULL;
}

/* P(v | c) for q's first nv outcomes, normalised, in s's world with q open:
** the reference's computation, which the tables are made of. */
static void row_of(tshoot_session *s, int ci, int q, size_t nv, double *row)
{
  const rm_question *qq = &s->m->q[q];
  double base, tot = 0;
  size_t v;
  s->hyp_q = -1;
  session_new_generation(s);
  base = cause_q_log(s, ci, q);
  for (v = 0; v < nv; v++) {
    s->hyp_q = q;
    s->hyp_value = qq->reps[v];
    session_new_generation(s);
    row[v] = exp(cause_q_log(s, ci, q) - base);
    tot += row[v];
  }
  for (v = 0; v < nv; v++) row[v] = tot > 0 ? row[v] / tot : 1.0 / (double)nv;
  s->hyp_q = -1;
  session_new_generation(s);
}

/* Expected information gain of asking q; fills w. Touches only the causes
** that depend on q: the others keep their relative weights whatever the
** answer, so they enter the entropy in aggregate. */
static void weigh_reference(tshoot_session *s, int q, weigh *w, double h_now, double s_all, int keep,
                            const leader_info *li)
{
  const rm_question *qq = &s->m->q[q];
  size_t nv = qq->n_reps, v, k, nt = 0;
  double touched_mass = 0, s_touched = 0, exp_h = 0, u;
  double *pvc;          /* P(v | c) for each touched cause, nv per cause */
  double *pc;           /* P(c) for each touched cause */
  int *tpos;            /* position in cand of each touched cause */

  memset(w, 0, sizeof *w);
  if (nv == 0 || qq->n_causes == 0) return;
  if (nv > 64) nv = 64;
  w->n_out = nv;
  u = 1.0 / (double)nv;
  pvc = ts_malloc(qq->n_causes * nv * sizeof *pvc);
  pc = ts_malloc(qq->n_causes * sizeof *pc);
  tpos = ts_malloc(qq->n_causes * sizeof *tpos);
  if (!pvc || !pc || !tpos) { ts_free(pvc); ts_free(pc); ts_free(tpos); return; }
  for (k = 0; k < qq->n_causes; k++) {
    int ci = (int)qq->causes[k], pos = s->cand_pos[ci];
    double p = pos >= 0 ? s->post[pos] : 0;
    double *row = pvc + nt * nv;
    if (p <= 1e-12) continue;
    row_of(s, ci, q, nv, row);
    tpos[nt] = pos;
    pc[nt++] = p;
    touched_mass += p;
    s_touched += p * log(p);
  }
  s->hyp_q = -1;
  session_new_generation(s);
  if (touched_mass > 1) touched_mass = 1;
  for (v = 0; v < nv; v++) {
    double pv = (1 - touched_mass) * u, h = 0;
    for (k = 0; k < nt; k++) pv += pc[k] * pvc[k * nv + v];
    w->p_out[v] = pv;
    if (pv <= 1e-15) continue;
    if (li && li->top_pos > -2 && !w->decisive) {
      /* after this answer: does the leader reach the threshold, or lose the lead? */
      double top_after = li->p_top * u, rival = 0;
      size_t r;
      for (k = 0; k < nt; k++) {
        double after = pc[k] * pvc[k * nv + v];
        if (tpos[k] == li->top_pos) top_after = after;
        else if (after > rival) rival = after;
      }
      for (r = 0; r < (size_t)li->n_rivals; r++) {
        int touched = 0;
        for (k = 0; k < nt; k++) if (tpos[k] == li->rival_pos[r]) touched = 1;
        if (!touched && li->rival_p[r] * u > rival) rival = li->rival_p[r] * u;
      }
      if (reaches(top_after / pv, li->conclude_at) || above(rival, top_after)) w->decisive = 1;
    }
    for (k = 0; k < nt; k++) {
      double post = pc[k] * pvc[k * nv + v] / pv;
      if (post > 0) h -= post * log2(post);
    }
    if (1 - touched_mass > 1e-15) {
      double a = u / pv;                       /* each untouched p scales by a */
      /* -sum a p log2(a p) = -(a / ln 2) (sum p ln p + mass ln a) */
      h -= a / log(2) * ((s_all - s_touched) + (1 - touched_mass) * log(a));
    }
    exp_h += pv * h;
  }
  w->gain = h_now - exp_h;
  if (w->gain < 0) w->gain = 0;
  ts_free(pc);
  if (keep) {
    w->pos = tpos;
    w->pvc = pvc;
    w->nt = nt;
  } else {
    ts_free(tpos);
    ts_free(pvc);
  }
}

/* ===== the step's tables =====
** The fast step: the numbers of update_reference and weigh_reference (to
** rounding; tests/unit/test-step-speed.c compares the two on every step) for
** work proportional to what can change:
**  - P(v | c) for each (cause, question, outcome), normalised over the
**    outcomes as weigh_reference does, and its log2, computed once per model
**    and noise (step_tab, shared through rules_derived) by cause_q_log itself
**    in an empty world. Weighing a question reads them: no string compare,
**    log or exp per (cause, outcome). A pair whose row depends on more than
**    the answer (a condition that reads q and another question, through
**    facts too), or a question already answered "don't know", is computed
**    as weigh_reference does, for that pair or question only;
**  - each candidate's log weight is kept (lw): an answer given, changed or
**    withdrawn recomputes only the causes that depend on its question
**    (rm_question.causes), then one pass normalises; anything else (text,
**    symptoms, fixes, a host) recomputes every candidate;
**  - log P(c) is lw - lz, so the entropies need no log per candidate.
*/

#define LN2 0.69314718055994530942
#define INV_LN2 1.44269504088896340736   /* 1 / ln 2: log2 x = ln x * INV_LN2 */

typedef struct step_tab {
  size_t *off;             /* per question: its first value in lik / l2 */
  size_t *pair;            /* per question: its first (cause, question) pair */
  unsigned char *pure;     /* per pair: its row depends on q's answer alone */
  double *lik, *l2;        /* per pair, nv values: P(v | c) and its log2 (pure pairs) */
  double *log_prior;       /* per cause: update_reference's log(prior) */
  size_t max_nc;           /* the most causes of one question */
  size_t max_imp;          /* the most values of one question's impure rows */
} step_tab;

typedef struct step_work {
  double *pc, *lp;         /* per touched cause: P(c), log2 P(c) */
  int *pos;                /* its position in cand */
  const double **row, **lrow;
  double *imp, *limp;      /* rows of impure pairs, computed for this question */
} step_work;

/* The outcomes a question is weighed over (0: it is not weighed). */
static size_t tab_nv(const rm_question *qq)
{
  if (qq->n_reps == 0 || qq->n_causes == 0) return 0;
  return qq->n_reps > 64 ? 64 : qq->n_reps;
}

/* Whether cause c's row for question q depends on q's answer alone: each of
** its conditions that reads q reads nothing else. */
static int tab_pure(const rm_cause *c, int q)
{
  size_t e;
  for (e = 0; e < c->n_ev; e++)
    if (c->ev[e].kind != RM_ANSWER && c->ev[e].n_questions != 1 && reads(&c->ev[e], q)) return 0;
  return 1;
}

static double log2_or_0(double x) { return x > 0 ? log2(x) : 0; }

static void tab_free(void *p)
{
  step_tab *t = p;
  if (!t) return;
  ts_free(t->off);
  ts_free(t->pair);
  ts_free(t->pure);
  ts_free(t->lik);
  ts_free(t->l2);
  ts_free(t->log_prior);
  ts_free(t);
}

/* rules_derived's maker: the tables of model m for noise `noise`. */
static int tab_make(const rules_model *m, double noise, void **obj)
{
  step_tab *t = ts_calloc(1, sizeof *t);
  tshoot_session *w = ts_calloc(1, sizeof *w);   /* an empty world: no answer, no fact known */
  size_t q, k, v, n_pairs = 0, n_vals = 0;
  int rc = TSHOOT_OK;

  *obj = NULL;
  if (!t || !w) goto oom;
  t->off = ts_malloc((m->nq + 1) * sizeof *t->off);
  t->pair = ts_malloc((m->nq + 1) * sizeof *t->pair);
  if (!t->off || !t->pair) goto oom;
  for (q = 0; q < m->nq; q++) {
    const rm_question *qq = &m->q[q];
    size_t nv = tab_nv(qq), imp = 0;
    t->off[q] = n_vals;
    t->pair[q] = n_pairs;
    n_pairs += qq->n_causes;
    n_vals += qq->n_causes * nv;
    if (qq->n_causes > t->max_nc) t->max_nc = qq->n_causes;
    for (k = 0; k < qq->n_causes; k++) if (!tab_pure(&m->c[qq->causes[k]], (int)q)) imp += nv;
    if (imp > t->max_imp) t->max_imp = imp;
  }
  t->off[m->nq] = n_vals;
  t->pair[m->nq] = n_pairs;
  t->pure = ts_malloc(n_pairs + 1);
  t->lik = ts_calloc(n_vals + 1, sizeof *t->lik);
  t->l2 = ts_calloc(n_vals + 1, sizeof *t->l2);
  t->log_prior = ts_malloc((m->nc + 1) * sizeof *t->log_prior);
  w->m = m;
  w->noise = noise;
  w->hyp_q = -1;
  w->gen = 1;
  w->ans_of_q = ts_malloc((m->nq + 1) * sizeof *w->ans_of_q);
  w->fact_val = ts_malloc((m->nf + 1) * sizeof *w->fact_val);
  w->fact_gen = ts_calloc(m->nf + 1, sizeof *w->fact_gen);
  if (!t->pure || !t->lik || !t->l2 || !t->log_prior || !w->ans_of_q || !w->fact_val || !w->fact_gen) goto oom;
  for (q = 0; q < m->nq; q++) w->ans_of_q[q] = -1;
  for (k = 0; k < m->nc; k++) t->log_prior[k] = log(m->c[k].prior > 0 ? m->c[k].prior : 1e-6);
  for (q = 0; q < m->nq; q++) {
    const rm_question *qq = &m->q[q];
    size_t nv = tab_nv(qq);
    for (k = 0; k < qq->n_causes; k++) {
      double *row = t->lik + t->off[q] + k * nv, *l2 = t->l2 + t->off[q] + k * nv;
      int ci = (int)qq->causes[k];
      t->pure[t->pair[q] + k] = (unsigned char)tab_pure(&m->c[ci], (int)q);
      if (!nv || !t->pure[t->pair[q] + k]) continue;
      row_of(w, ci, (int)q, nv, row);
      for (v = 0; v < nv; v++) l2[v] = log2_or_0(row[v]);
    }
  }
  goto done;
oom:
  rc = ts_error_oom();
  tab_free(t);
  t = NULL;
done:
  if (w) {
    ts_free(w->ans_of_q);
    ts_free(w->fact_val);
    ts_free(w->fact_gen);
    ts_free(w);
  }
  *obj = t;
  return rc;
}

/* s->tab for s's noise: the model's, or the session's own when the model
** holds tables for RULES_MAX_DERIVED other noises already. */
static int tab_get(tshoot_session *s)
{
  void *t;
  int rc;
  if (s->tab) return TSHOOT_OK;
  rc = rules_derived(s->m, s->noise, tab_make, tab_free, &t);
  if (rc != TSHOOT_OK) return rc;
  if (!t) {
    rc = tab_make(s->m, s->noise, &t);
    if (rc != TSHOOT_OK) return rc;
    s->own_tab = t;
  }
  s->tab = t;
  return TSHOOT_OK;
}

static void work_free(step_work *wk)
{
  if (!wk) return;
  ts_free(wk->pc);
  ts_free(wk->lp);
  ts_free(wk->pos);
  ts_free((void *)wk->row);
  ts_free((void *)wk->lrow);
  ts_free(wk->imp);
  ts_free(wk->limp);
  ts_free(wk);
}

static step_work *work_new(const step_tab *t)
{
  size_t n = t->max_nc + 1, ni = t->max_imp + 1;
  step_work *wk = ts_calloc(1, sizeof *wk);
  if (!wk) return NULL;
  wk->pc = ts_malloc(n * sizeof *wk->pc);
  wk->lp = ts_malloc(n * sizeof *wk->lp);
  wk->pos = ts_malloc(n * sizeof *wk->pos);
  wk->row = ts_malloc(n * sizeof *wk->row);
  wk->lrow = ts_malloc(n * sizeof *wk->lrow);
  wk->imp = ts_malloc(ni * sizeof *wk->imp);
  wk->limp = ts_malloc(ni * sizeof *wk->limp);
  if (!wk->pc || !wk->lp || !wk->pos || !wk->row || !wk->lrow || !wk->imp || !wk->limp) {
    work_free(wk);
    return NULL;
  }
  return wk;
}

/* weigh_reference's result from the tables (see the banner). */
static void weigh_fast(tshoot_session *s, step_work *wk, int q, weigh *w, double h_now, double s_all, int keep,
                       const leader_info *li)
{
  const step_tab *t = s->tab;
  const rm_question *qq = &s->m->q[q];
  size_t nv = tab_nv(qq), v, k, nt = 0, ni = 0;
  const double *lik = t->lik + t->off[q], *l2 = t->l2 + t->off[q];
  const unsigned char *pure = t->pure + t->pair[q];
  double touched_mass = 0, s_touched = 0, exp_h = 0, u, ln_u, rest;

  /* not memset: p_out is most of w, and only nv of it is read */
  w->gain = 0;
  w->decisive = 0;
  w->n_out = 0;
  w->pos = NULL;
  w->pvc = NULL;
  w->nt = 0;
  if (nv == 0) return;
  w->n_out = nv;
  u = 1.0 / (double)nv;
  ln_u = log(u);
  for (k = 0; k < qq->n_causes; k++) {
    int ci = (int)qq->causes[k], pos = s->cand_pos[ci];
    double p = pos >= 0 ? s->post[pos] : 0, lnp;
    if (p <= 1e-12) continue;
    if (pure[k]) {
      wk->row[nt] = lik + k * nv;
      wk->lrow[nt] = l2 + k * nv;
    } else {
      double *row = wk->imp + ni, *lrow = wk->limp + ni;
      row_of(s, ci, q, nv, row);
      for (v = 0; v < nv; v++) lrow[v] = log2_or_0(row[v]);
      ni += nv;
      wk->row[nt] = row;
      wk->lrow[nt] = lrow;
    }
    lnp = s->lw[pos] - s->lz;
    wk->pos[nt] = pos;
    wk->pc[nt] = p;
    wk->lp[nt] = lnp * INV_LN2;
    nt++;
    touched_mass += p;
    s_touched += p * lnp;
  }
  if (touched_mass > 1) touched_mass = 1;
  rest = 1 - touched_mass;
  for (v = 0; v < nv; v++) {
    double pv = rest * u, ln_pv, mass = 0, sl = 0;
    for (k = 0; k < nt; k++) {
      double a = wk->pc[k] * wk->row[k][v];
      pv += a;
      mass += a;
      sl += a * (wk->lp[k] + wk->lrow[k][v]);
    }
    w->p_out[v] = pv;
    if (pv <= 1e-15) continue;
    if (li && li->top_pos > -2 && !w->decisive) {
      /* after this answer: does the leader reach the threshold, or lose the lead? */
      double top_after = li->p_top * u, rival = 0;
      size_t r;
      for (k = 0; k < nt; k++) {
        double after = wk->pc[k] * wk->row[k][v];
        if (wk->pos[k] == li->top_pos) top_after = after;
        else if (after > rival) rival = after;
      }
      for (r = 0; r < (size_t)li->n_rivals; r++) {
        int touched = 0;
        for (k = 0; k < nt; k++) if (wk->pos[k] == li->rival_pos[r]) touched = 1;
        if (!touched && li->rival_p[r] * u > rival) rival = li->rival_p[r] * u;
      }
      if (reaches(top_after / pv, li->conclude_at) || above(rival, top_after)) w->decisive = 1;
    }
    /* pv times the entropy after answer v (weigh_reference's h), with no
    ** division: the touched causes' -sum post log2 post, post = a / pv and
    ** log2 a = log2 P(c) + log2 P(v | c), times pv: -(sl - mass log2 pv);
    ** the untouched ones, each p scaled by u / pv, times pv:
    ** -(u / ln 2) ((s_all - s_touched) + rest (ln u - ln pv)) */
    ln_pv = log(pv);
    exp_h += mass * ln_pv * INV_LN2 - sl;
    if (rest > 1e-15) exp_h -= u * INV_LN2 * ((s_all - s_touched) + rest * (ln_u - ln_pv));
  }
  w->gain = h_now - exp_h;
  if (w->gain < 0) w->gain = 0;
  if (keep) {
    w->pos = ts_malloc((nt + 1) * sizeof *w->pos);
    w->pvc = ts_malloc((nt * nv + 1) * sizeof *w->pvc);
    if (!w->pos || !w->pvc) {
      weigh_free(w);
      return;
    }
    for (k = 0; k < nt; k++) {
      w->pos[k] = wk->pos[k];
      memcpy(w->pvc + k * nv, wk->row[k], nv * sizeof *w->pvc);
    }
    w->nt = nt;
  }
}

/* Whether the fast path's state is the current one. */
static int fast_ready(const tshoot_session *s)
{
  return !s->reference && s->tab && s->lw_ok && !s->dirty && !s->n_chg;
}

/* Expected information gain of asking q; fills w. Touches only the causes
** that depend on q (see weigh_reference). */
void session_weigh_question(tshoot_session *s, int q, weigh *w, double h_now, double s_all, int keep,
                            const leader_info *li)
{
  step_work *wk = s->wk;
  if (!s->reference && !s->tab) (void)tab_get(s);   /* without it: the reference */
  if (!fast_ready(s) || s->ans_of_q[q] >= 0 || (!wk && !(wk = work_new(s->tab)))) {
    weigh_reference(s, q, w, h_now, s_all, keep, li);
    return;
  }
  weigh_fast(s, wk, q, w, h_now, s_all, keep, li);
  if (wk != s->wk) work_free(wk);
}

/* The entropy of the posterior in bits (h_now) and sum p ln p (s_all), as
** next_step and weigh_reference use them. */
static void post_entropy(const tshoot_session *s, double *h_now, double *s_all)
{
  size_t i;
  double sa = 0;
  if (!fast_ready(s)) {
    *h_now = session_entropy(s->post, s->n_cand, s->none_post);
    for (i = 0; i < s->n_cand; i++) if (s->post[i] > 0) sa += s->post[i] * log(s->post[i]);
    if (s->none_post > 0) sa += s->none_post * log(s->none_post);
    *s_all = sa;
    return;
  }
  for (i = 0; i < s->n_cand; i++) if (s->post[i] > 0) sa += s->post[i] * (s->lw[i] - s->lz);
  if (s->none_post > 0) sa += s->none_post * (s->none_lw - s->lz);
  *s_all = sa;
  *h_now = -sa / LN2;
}

/* Candidate i's log weight, without the uniform term (update_reference's
** sum, term for term; a log of 1 is 0 and is not taken). */
static double cand_log_weight(tshoot_session *s, size_t i)
{
  int ci = (int)s->cand[i];
  double lw;
  if (s->tab) lw = s->tab->log_prior[ci];
  else lw = log(s->m->c[ci].prior > 0 ? s->m->c[ci].prior : 1e-6);
  if (s->text_lik[i] != 1) lw += log(s->text_lik[i]);
  if (s->word_lik[i] != 1) lw += log(s->word_lik[i]);
  if (s->n_symptoms) lw += symptom_log(s, ci);
  return lw + cause_evidence_log(s, ci);
}

/* post from lw, and lz. */
static void update_normalise(tshoot_session *s)
{
  double max = s->none_lw, sum = 0;
  size_t i;
  for (i = 0; i < s->n_cand; i++) if (s->lw[i] > max) max = s->lw[i];
  for (i = 0; i < s->n_cand; i++) sum += s->post[i] = exp(s->lw[i] - max);
  sum += s->none_post = exp(s->none_lw - max);
  if (!(sum > 0) || !isfinite(sum)) {
    /* cannot happen with clamped likelihoods; stay defined anyway */
    for (i = 0; i < s->n_cand; i++) s->post[i] = 1.0 / (double)(s->n_cand + 1);
    s->none_post = 1.0 / (double)(s->n_cand + 1);
    s->lw_ok = 0;                  /* lw does not give post: the next update starts over */
    return;
  }
  for (i = 0; i < s->n_cand; i++) s->post[i] /= sum;
  s->none_post /= sum;
  s->lz = max + log(sum);
}

/* Recompute facts and the posterior from the evidence: every candidate when
** more than answers changed, else the causes that depend on the questions
** whose answers did. */
void session_update(tshoot_session *s)
{
  const rules_model *m = s->m;
  size_t i, k;

  if (s->reference) {
    update_reference(s);
    s->n_chg = 0;
    s->lw_ok = 0;
    return;
  }
  if (!s->dirty && !s->n_chg) return;
  session_new_generation(s);
  s->hyp_q = -1;
  s->uniform_log = 0;
  for (k = 0; k < s->n_answers; k++)
    if (s->answers[k].value && s->ans_of_q[s->answers[k].q] == (int)k)
      s->uniform_log -= log((double)session_outcomes(&m->q[s->answers[k].q]));
  if (s->dirty || !s->lw_ok) {
    double mean_prior = 0, none_prior;
    for (i = 0; i < s->n_cand; i++) mean_prior += m->c[s->cand[i]].prior;
    mean_prior = s->n_cand ? mean_prior / (double)s->n_cand : 1;
    none_prior = NONE_PRIOR_SHARE * mean_prior * (double)(s->n_cand ? s->n_cand : 1);
    for (i = 0; i < s->n_cand; i++) s->lw[i] = cand_log_weight(s, i);
    s->none_lw = log(none_prior) + log(s->text ? NONE_TEXT_LIK : 1) + none_log(s);
  } else {
    for (k = 0; k < s->n_chg; k++) {
      const rm_question *qq = &m->q[s->chg_q[k]];
      for (i = 0; i < qq->n_causes; i++) {
        int pos = s->cand_pos[qq->causes[i]];
        if (pos >= 0) s->lw[pos] = cand_log_weight(s, (size_t)pos);
      }
    }
  }
  s->none_loglik = s->none_lw + s->uniform_log;
  s->lw_ok = 1;
  update_normalise(s);
  s->dirty = 0;
  s->n_chg = 0;
}

/* An answer to q was given, changed or withdrawn: the next update
** recomputes the causes that depend on q (all, when more has changed). */
static void mark_answer(tshoot_session *s, int q)
{
  size_t k;
  if (s->reference || s->dirty || !s->lw_ok) {
    s->dirty = 1;
    return;
  }
  for (k = 0; k < s->n_chg; k++) if (s->chg_q[k] == q) return;
  if (s->n_chg == sizeof s->chg_q / sizeof *s->chg_q) {
    s->dirty = 1;
    return;
  }
  s->chg_q[s->n_chg++] = q;
}

/* ===== fixes: expected cost of repair ===== */

typedef struct fix_opt { int fix; double p, cost, eff; } fix_opt;

static int cmp_eff(const void *a, const void *b)
{
  double x = ((const fix_opt *)a)->eff, y = ((const fix_opt *)b)->eff;
  return x > y ? -1 : x < y ? 1 : ((const fix_opt *)a)->fix - ((const fix_opt *)b)->fix;
}

/* Not proposed (again): reported with any outcome, refused by the host, or
** the same as a fix that did not work. */
static int fix_tried(const tshoot_session *s, int x)
{
  size_t k;
  for (k = 0; k < s->n_fixes; k++) {
    if (s->fixes[k].fix == x) return 1;
    if (s->fixes[k].outcome == TSHOOT_FIX_DID_NOT_WORK && fix_same(s->m, s->fixes[k].fix, x)) return 1;
  }
  for (k = 0; k < s->n_refused; k++) if (s->refused[k] == x) return 1;
  return 0;
}

#define FIX_MIN_P 0.05   /* fixes of causes less likely than this are not proposed */

/* Expected cost of repair for the posterior `post` (per candidate, with
** "none" implied): fixes are tried in order of P(it works) / cost, each
** cause's fixes in the author's order; what no fix repairs costs
** ESCALATION_COST. *first = the first fix to try, or -1. */
static double ecr_of(const tshoot_session *s, const double *post, int *first)
{
  fix_opt opts[64];
  size_t n = 0, i, j;
  double ecr = 0, done = 0;
  *first = -1;
  for (i = 0; i < s->n_cand && n < 64; i++) {
    const rm_cause *c = &s->m->c[s->cand[i]];
    double left = 1;
    if (!at_least(post[i], FIX_MIN_P)) continue;
    for (j = 0; j < c->n_fixes && n < 64; j++) {
      int x = (int)(c->first_fix + j);
      if (fix_tried(s, x)) continue;
      opts[n].fix = x;
      opts[n].p = post[i] * FIX_SUCCESS * left;
      opts[n].cost = s->m->x[x].cost;
      opts[n].eff = opts[n].p / opts[n].cost;
      left *= 1 - FIX_SUCCESS;
      n++;
    }
  }
  if (!n) return ESCALATION_COST;
  qsort(opts, n, sizeof *opts, cmp_eff);
  /* equal efficiencies (within TIE): by fix, as cmp_eff orders exact ones */
  for (i = 0; i < n; i = j) {
    for (j = i + 1; j < n && !above(opts[i].eff, opts[j].eff); j++) {}
    if (j - i > 1) {
      size_t a, b;
      for (a = i + 1; a < j; a++)
        for (b = a; b > i && opts[b].fix < opts[b - 1].fix; b--) {
          fix_opt tmp = opts[b];
          opts[b] = opts[b - 1];
          opts[b - 1] = tmp;
        }
    }
  }
  *first = opts[0].fix;
  for (i = 0; i < n; i++) {
    ecr += opts[i].cost * (1 - done);
    done += opts[i].p;
  }
  return ecr + ESCALATION_COST * (1 - done > 0 ? 1 - done : 0);
}

/* Expected cost of asking the weighed question first, then repairing. */
static double eco_of(tshoot_session *s, const weigh *w, double cost, double *buf)
{
  size_t v, k, i;
  double eco = cost;
  for (v = 0; v < w->n_out; v++) {
    double pv = w->p_out[v], u = 1.0 / (double)w->n_out;
    int dummy;
    if (pv <= 1e-12) continue;
    for (i = 0; i < s->n_cand; i++) buf[i] = s->post[i] * u / pv;
    for (k = 0; k < w->nt; k++) buf[w->pos[k]] = s->post[w->pos[k]] * w->pvc[k * w->n_out + v] / pv;
    eco += pv * ecr_of(s, buf, &dummy);
  }
  return eco;
}

/* ===== the next step ===== */

static int question_open(const tshoot_session *s, int q)
{
  return s->ans_of_q[q] < 0;
}

int session_may_ask(tshoot_session *s, int q)
{
  const rm_question *qq = &s->m->q[q];
  if (!qq->has_ask_when) return 1;
  s->hyp_q = -1;
  session_new_generation(s);
  return session_eval(s, &qq->ask_when) != TRI_FALSE;
}

/* The prior-only probability of candidate pos ((size_t)-1: "none"), as
** session_update would give it with no evidence at all. */
static double prior_only(const tshoot_session *s, size_t pos)
{
  const rules_model *m = s->m;
  double sum = 0, mean = 0, none;
  size_t i;
  for (i = 0; i < s->n_cand; i++) {
    double p = m->c[s->cand[i]].prior;
    sum += p > 0 ? p : 1e-6;
    mean += m->c[s->cand[i]].prior;
  }
  mean = s->n_cand ? mean / (double)s->n_cand : 1;
  none = NONE_PRIOR_SHARE * mean * (double)(s->n_cand ? s->n_cand : 1);
  if (pos == (size_t)-1) return none / (sum + none);
  {
    double p = m->c[s->cand[pos]].prior;
    return (p > 0 ? p : 1e-6) / (sum + none);
  }
}

/* Whether something beyond the person's free text speaks: an answer (by the
** person or a probe; not one the text filled in), a symptom, or a fix
** report that is evidence. Words alone rank causes; they never conclude. */
static int has_asked_evidence(const tshoot_session *s)
{
  size_t k;
  for (k = 0; k < s->n_answers; k++) if (s->answers[k].value && s->answers[k].source != SRC_TEXT) return 1;
  for (k = 0; k < s->n_fixes; k++)
    if (s->fixes[k].outcome == TSHOOT_FIX_WORKED || s->fixes[k].outcome == TSHOOT_FIX_DID_NOT_WORK) return 1;
  return s->n_symptoms > 0 && !s->text;
}

int session_evidence_moved(const tshoot_session *s, size_t pos, double p)
{
  /* by more than rounding: at least a tenth above the prior alone */
  return p > prior_only(s, pos) * 1.1 + 1e-9 && has_asked_evidence(s);
}

/* Whether a probe could still answer q on the session's host. */
static int probe_pending(const tshoot_session *s, int q)
{
  return s->host && s->m->q[q].probe && !s->probe_tried[q];
}

/* What asking q costs now: next to nothing while a probe may answer it. */
static double q_cost(const tshoot_session *s, int q)
{
  return probe_pending(s, q) ? PROBE_COST : s->m->q[q].cost;
}

/* Fill s->step for asking q. */
static void step_ask(tshoot_session *s, int q, double gain)
{
  const rm_question *qq = &s->m->q[q];
  memset(&s->step, 0, sizeof s->step);
  s->step.kind = TSHOOT_STEP_ASK;
  s->step.question = qq->id;
  s->step.prompt = qq->prompt;
  s->step.why = qq->why;
  s->step.type = qq->type_name;
  s->step.unit = qq->unit;
  if (qq->type == RM_YESNO || qq->type == RM_CHOICE) {
    s->step.choices = (const char *const *)qq->choices;
    s->step.labels = (const char *const *)qq->labels;
    s->step.n_choices = qq->n_choices;
  }
  s->step.expected_gain = gain;
  s->step.cost = q_cost(s, q);
}

#define GENERIC_ESCALATION "The diagnosis found no cause it can name with confidence. Contact your " \
  "help desk or the product's support, and give them the answers above."

static const char *escalation_of(const tshoot_session *s, size_t pos)
{
  if (pos != (size_t)-1) {
    const char *e = s->m->a[s->m->c[s->cand[pos]].article].escalation;
    if (e) return e;
  }
  return s->m->escalation ? s->m->escalation : GENERIC_ESCALATION;
}

size_t session_best_candidate(const tshoot_session *s, double *p)
{
  size_t i, best = (size_t)-1;
  double bp = s->none_post;
  for (i = 0; i < s->n_cand; i++)
    if (above(s->post[i], bp)) {
      bp = s->post[i];
      best = i;
    }
  *p = bp;
  return best;
}

static void step_cause(tshoot_session *s, tshoot_step_kind kind, size_t pos, double p, int fix)
{
  memset(&s->step, 0, sizeof s->step);
  s->step.kind = kind;
  if (pos == (size_t)-1) {
    s->step.cause = "none";
    s->step.cause_title = "None of the known causes";
  } else {
    const rm_cause *c = &s->m->c[s->cand[pos]];
    s->step.cause = c->id;
    s->step.cause_title = c->title;
    s->step.article = s->m->a[c->article].id;
  }
  s->step.probability = p;
  s->step.fix = fix >= 0 ? s->m->x[fix].id : NULL;
  s->step.fix_title = fix >= 0 ? s->m->x[fix].title : NULL;
  if (kind == TSHOOT_STEP_INCONCLUSIVE) s->step.escalation = escalation_of(s, pos);
}

/* The end of a dialogue with nothing left to ask or try. The best candidate
** is concluded when evidence moved it and it leads clearly: it reached the
** threshold, or it holds at least half the probability and END_LEAD times
** the next candidate's. Otherwise the outcome is inconclusive: nothing known
** (every answer "don't know") never names a cause. */
#define END_LEAD 3.0
static void step_end(tshoot_session *s, size_t pos, double p)
{
  double second = 0;
  size_t i;
  int ok;
  for (i = 0; i < s->n_cand; i++) if (i != pos && s->post[i] > second) second = s->post[i];
  if (pos != (size_t)-1 && s->none_post > second) second = s->none_post;
  ok = session_evidence_moved(s, pos, p) &&
       (reaches(p, s->conclude_at) || (at_least(p, LEADER) && at_least(p, END_LEAD * second)));
  step_cause(s, ok ? TSHOOT_STEP_CONCLUDE : TSHOOT_STEP_INCONCLUSIVE, pos, p, -1);
}

static int worked_fix(const tshoot_session *s)
{
  size_t k;
  for (k = 0; k < s->n_fixes; k++) if (s->fixes[k].outcome == TSHOOT_FIX_WORKED) return s->fixes[k].fix;
  return -1;
}

/* Who leads (over LEADER) and the three most likely others. */
static void leader_of(const tshoot_session *s, leader_info *li, size_t bestpos, double pbest)
{
  size_t i;
  int r;
  memset(li, 0, sizeof *li);
  li->conclude_at = s->conclude_at;
  li->top_pos = !at_least(pbest, LEADER) ? -2 : bestpos == (size_t)-1 ? -1 : (int)bestpos;
  li->p_top = pbest;
  if (li->top_pos == -2) return;
  for (r = 0; r < 3; r++) { li->rival_pos[r] = -3; li->rival_p[r] = 0; }
  /* "none" is a rival too, and never touched by a question */
  if (li->top_pos != -1) { li->rival_pos[0] = -1; li->rival_p[0] = s->none_post; }
  for (i = 0; i < s->n_cand; i++) {
    double p = s->post[i];
    if ((int)i == li->top_pos) continue;
    for (r = 0; r < 3; r++)
      if (above(p, li->rival_p[r])) {
        int k;
        for (k = 2; k > r; k--) { li->rival_p[k] = li->rival_p[k - 1]; li->rival_pos[k] = li->rival_pos[k - 1]; }
        li->rival_p[r] = p;
        li->rival_pos[r] = (int)i;
        break;
      }
  }
  for (r = 0; r < 3 && li->rival_pos[r] != -3; r++) li->n_rivals = r + 1;
}

static int next_step_body(const tshoot_step **out, tshoot_session *s)
{
  const rules_model *m;
  size_t i, bestpos;
  double pbest, h_now, s_all = 0, best_score = 0, best_gain = 0;
  int best_q = -1, wf;
  leader_info li;

  m = s->m;
  session_update(s);
  bestpos = session_best_candidate(s, &pbest);
  wf = worked_fix(s);
  if (wf >= 0) {
    /* the cause it repaired: its own, or the likeliest other cause that
    ** the same action repairs */
    int pos = s->cand_pos[m->x[wf].cause];
    for (i = 0; i < s->n_cand; i++)
      if (fix_repairs(m, wf, (int)s->cand[i]) && (pos < 0 || above(s->post[i], s->post[pos]))) pos = (int)i;
    step_cause(s, TSHOOT_STEP_CONCLUDE, pos >= 0 ? (size_t)pos : (size_t)-1,
               pos >= 0 ? s->post[pos] : 0, wf);
    goto done;
  }
  if (reaches(pbest, s->conclude_at) && session_evidence_moved(s, bestpos, pbest)) {
    step_cause(s, TSHOOT_STEP_CONCLUDE, bestpos, pbest, -1);
    goto done;
  }
  post_entropy(s, &h_now, &s_all);
  leader_of(s, &li, bestpos, pbest);
  /* a leader made by the person's words (or the priors) alone is no
  ** conclusion: every question that tells something is still worth asking */
  if (!has_asked_evidence(s)) li.top_pos = -2;

  for (i = 0; i < m->nq; i++) {
    weigh w;
    double score;
    int q = (int)i;
    if (!question_open(s, q) || m->q[q].n_causes == 0 || !session_may_ask(s, q)) continue;
    session_weigh_question(s, q, &w, h_now, s_all, 0, &li);
    if (w.gain < MIN_GAIN) continue;
    if (li.top_pos > -2 && !w.decisive) continue;   /* no answer would change the conclusion */
    if (s->flags & TSHOOT_SESSION_WRITTEN_ORDER) {
      /* baseline: the first open question, in written order, that could matter */
      best_q = q;
      best_gain = w.gain;
      break;
    }
    score = w.gain / q_cost(s, q);
    if (score > best_score + TIE_GAIN * best_score) {
      best_score = score;
      best_gain = w.gain;
      best_q = q;
    }
  }

  if (!(s->flags & TSHOOT_SESSION_NO_FIXES)) {
    int first_fix;
    double now = ecr_of(s, s->post, &first_fix);
    if (first_fix >= 0) {
      double ask = INFINITY;
      if (best_q >= 0) {
        weigh w;
        double *buf = ts_malloc((s->n_cand + 1) * sizeof *buf);
        if (!buf) return ts_error_oom();
        session_weigh_question(s, best_q, &w, h_now, s_all, 1, NULL);
        if (w.pvc || w.nt == 0) ask = eco_of(s, &w, q_cost(s, best_q), buf);
        weigh_free(&w);
        ts_free(buf);
      }
      if (at_least(ask, now)) {
        int pos = s->cand_pos[m->x[first_fix].cause];
        step_cause(s, TSHOOT_STEP_FIX, (size_t)pos, s->post[pos], first_fix);
        goto done;
      }
    }
  }
  if (best_q >= 0) step_ask(s, best_q, best_gain);
  else step_end(s, bestpos, pbest);
done:
  s->step.questions_asked = s->n_answers;
  s->have_step = 1;
  *out = &s->step;
  return TSHOOT_OK;
}

/* The next step, with the fast path's tables and scratch at hand. */
static int next_step(const tshoot_step **out, tshoot_session *s)
{
  int rc;
  if (!s->reference) {
    if ((rc = tab_get(s)) != TSHOOT_OK) return rc;
    if (!s->wk && !(s->wk = work_new(s->tab))) return ts_error_oom();
  }
  rc = next_step_body(out, s);
  work_free(s->wk);
  s->wk = NULL;
  return rc;
}

static int set_answer(tshoot_session *s, const char *question, const char *value);
static int find_fix(tshoot_session *s, const char *id);
static void drop_answer(tshoot_session *s, size_t k);

/* Run q's probe on the host and take its answer, if it gives one the question
** allows. Whatever happens is kept in the probe log; only running out of
** memory is an error. */
static int run_probe(tshoot_session *s, int q)
{
  const rm_question *qq = &s->m->q[q];
  char *body = NULL;
  size_t len = 0;
  tshoot_run *run = NULL;
  probe_rec pr;
  int rc;

  s->probe_tried[q] = 1;
  memset(&pr, 0, sizeof pr);
  pr.q = q;
  rc = tshoot_kb_script(&body, &len, s->kb, qq->probe);
  if (rc == TSHOOT_OK) rc = tshoot_script_run(&run, s->host, qq->probe, body, len, TSHOOT_RUN_PROBE, NULL, &s->limits);
  ts_free(body);
  if (rc == TSHOOT_ENOMEM) return rc;
  if (rc != TSHOOT_OK) {
    pr.status = rc;
    pr.message = ts_strdup(tshoot_error_last()->message);
  } else {
    pr.status = run->status;
    pr.message = ts_strdup(run->message);
    if (run->status == TSHOOT_OK && run->answer) {
      pr.answer = ts_strdup(run->answer);
      if (set_answer(s, qq->id, run->answer) == TSHOOT_OK) {
        s->answers[s->ans_of_q[q]].source = SRC_PROBE;
      } else {
        char why[600];
        snprintf(why, sizeof why, "the probe's answer is not allowed: %s", tshoot_error_last()->message);
        pr.status = TSHOOT_EINVALID;
        ts_free(pr.message);
        pr.message = ts_strdup(why);
      }
    }
    tshoot_run_free(run);
  }
  if (!pr.message || ts_grow((void **)&s->probes, &s->cap_probes, s->n_probes + 1, sizeof *s->probes) < 0) {
    ts_free(pr.message);
    ts_free(pr.answer);
    return ts_error_oom();
  }
  s->probes[s->n_probes++] = pr;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_next(const tshoot_step **out, tshoot_session *s)
{
  int rc;
  TS_CHECK_ARG(out && s);
  for (;;) {
    int q;
    rc = next_step(out, s);
    if (rc != TSHOOT_OK || (*out)->kind != TSHOOT_STEP_ASK) return rc;
    q = rules_question(s->m, (*out)->question);
    if (q < 0 || !probe_pending(s, q)) return rc;
    /* each probe runs at most once, so this loop ends */
    rc = run_probe(s, q);
    if (rc != TSHOOT_OK) return rc;
  }
}

TSHOOT_API int tshoot_session_set_host(tshoot_session *s, tshoot_host *host, const tshoot_limits *limits)
{
  tshoot_limits def = TSHOOT_LIMITS_INIT;
  TS_CHECK_ARG(s);
  TS_CHECK_OPTIONS(limits, TSHOOT_LIMITS_VERSION);
  if (host && !s->probe_tried) {
    s->probe_tried = ts_calloc(s->m->nq + 1, 1);
    if (!s->probe_tried) return ts_error_oom();
  }
  s->host = host;
  s->limits = limits ? *limits : def;
  s->dirty = 1;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_probes(const tshoot_probe_info **out, size_t *n, tshoot_session *s)
{
  tshoot_probe_info *p;
  size_t i;
  TS_CHECK_ARG(out && n && s);
  p = ts_realloc(s->probe_info, (s->n_probes + 1) * sizeof *p);
  if (!p) return ts_error_oom();
  s->probe_info = p;
  for (i = 0; i < s->n_probes; i++) {
    const probe_rec *r = &s->probes[i];
    p[i].question = s->m->q[r->q].id;
    p[i].script = s->m->q[r->q].probe;
    p[i].answer = r->answer;
    p[i].status = r->status;
    p[i].message = r->message;
  }
  *out = p;
  *n = s->n_probes;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_run_fix(tshoot_run **out, tshoot_session *s, const char *fix, int dry_run)
{
  const rm_fix *x;
  tshoot_fix_info info;
  char *body = NULL;
  size_t len = 0;
  int xi, rc;
  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(s && fix);
  xi = find_fix(s, fix);
  if (xi < 0) return xi;
  x = &s->m->x[xi];
  if (!x->script)
    return ts_error(TSHOOT_EINVALID, "fix '%s' has no script: a person follows its steps, then reports with tshoot_session_fix_result", fix);
  if (!s->host) return ts_error(TSHOOT_EINVALID, "the session has no host to run fix '%s' on (tshoot_session_set_host)", fix);
  memset(&info, 0, sizeof info);
  info.id = x->id;
  info.title = x->title;
  info.script = x->script;
  info.cost = x->cost;
  info.risk = x->risk;
  info.needs_admin = x->admin;
  info.reversible = x->reversible;
  rc = tshoot_kb_script(&body, &len, s->kb, x->script);
  if (rc != TSHOOT_OK) return rc;
  rc = tshoot_script_run(out, s->host, x->script, body, len, dry_run ? TSHOOT_RUN_PLAN : TSHOOT_RUN_APPLY,
                         &info, &s->limits);
  ts_free(body);
  if (rc != TSHOOT_OK || dry_run) return rc;
  /* a fix refused by the person is no evidence either way; it is not proposed
  ** again in this session (it would be refused again) */
  if ((*out)->status == TSHOOT_EUSER) {
    if (ts_grow((void **)&s->refused, &s->cap_refused, s->n_refused + 1, sizeof *s->refused) < 0) {
      tshoot_run_free(*out);
      *out = NULL;
      return ts_error_oom();
    }
    s->refused[s->n_refused++] = xi;
    s->dirty = 1;
    return TSHOOT_OK;
  }
  return tshoot_session_fix_result(s, fix, (*out)->verified ? TSHOOT_FIX_WORKED : TSHOOT_FIX_DID_NOT_WORK);
}

/* ===== evidence ===== */

static int set_candidates_all(tshoot_session *s)
{
  size_t i;
  s->n_cand = s->m->nc;
  for (i = 0; i < s->m->nc; i++) {
    s->cand[i] = (uint32_t)i;
    s->cand_pos[i] = (int)i;
    s->text_lik[i] = 1;
    s->word_lik[i] = 1;
  }
  return TSHOOT_OK;
}

/* The bounds of the options, decided here for every front-end (written so
** that NaN fails them too). */
int session_check_bounds(const tshoot_session_options *o)
{
  if (!o) return TSHOOT_OK;
  if (!(o->conclude_at >= 0 && o->conclude_at <= 1))
    return ts_error(TSHOOT_EINVALID, "conclude_at is %g: it must be in (0, 1], or 0 for the default (%g)",
                    o->conclude_at, DEFAULT_CONCLUDE);
  if (!(o->noise >= 0 && o->noise < 0.5))
    return ts_error(TSHOOT_EINVALID, "noise is %g: it must be in [0, 0.5), 0 meaning the default (%g)",
                    o->noise, DEFAULT_NOISE);
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_new(tshoot_session **out, tshoot_kb *kb, const tshoot_session_options *opts)
{
  tshoot_session *s;
  const rules_model *m;
  size_t i;
  int rc;

  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(kb);
  TS_CHECK_OPTIONS(opts, TSHOOT_SESSION_OPTIONS_VERSION);
  if ((rc = session_check_bounds(opts)) != TSHOOT_OK) return rc;
  if (opts && opts->version >= 2 && (!opts->key != !opts->key_len))
    return ts_error(TSHOOT_EINVALID, "a session key needs both key and key_len (key_len is %zu)", opts->key_len);
  rc = rules_get(&m, kb);
  if (rc != TSHOOT_OK) return rc;
  s = ts_calloc(1, sizeof *s);
  if (!s) return ts_error_oom();
  s->kb = kb;
  s->m = m;
  kb_ref(kb);                      /* before anything can fail: the free unrefs */
  s->conclude_at = opts && opts->conclude_at > 0 ? opts->conclude_at : DEFAULT_CONCLUDE;
  s->noise = opts && opts->noise > 0 ? opts->noise : DEFAULT_NOISE;
  s->flags = opts ? opts->flags : 0;
  if (opts && opts->version >= 2 && opts->key) {
    s->key = ts_malloc(opts->key_len);
    if (!s->key) {
      tshoot_session_free(s);
      return ts_error_oom();
    }
    memcpy(s->key, opts->key, opts->key_len);
    s->key_len = opts->key_len;
  }
  s->hyp_q = -1;
  s->gen = 1;
  s->ans_of_q = ts_malloc((m->nq + 1) * sizeof *s->ans_of_q);
  s->cand = ts_malloc((m->nc + 1) * sizeof *s->cand);
  s->cand_pos = ts_malloc((m->nc + 1) * sizeof *s->cand_pos);
  s->text_lik = ts_malloc((m->nc + 1) * sizeof *s->text_lik);
  s->word_lik = ts_malloc((m->nc + 1) * sizeof *s->word_lik);
  s->post = ts_malloc((m->nc + 1) * sizeof *s->post);
  s->lw = ts_malloc((m->nc + 1) * sizeof *s->lw);
  s->fact_val = ts_malloc((m->nf + 1) * sizeof *s->fact_val);
  s->fact_gen = ts_calloc(m->nf + 1, sizeof *s->fact_gen);
  if (!s->ans_of_q || !s->cand || !s->cand_pos || !s->text_lik || !s->word_lik || !s->post || !s->lw ||
      !s->fact_val || !s->fact_gen) {
    tshoot_session_free(s);
    return ts_error_oom();
  }
  for (i = 0; i < m->nq; i++) s->ans_of_q[i] = -1;
  set_candidates_all(s);
  s->dirty = 1;
  *out = s;
  return TSHOOT_OK;
}

TSHOOT_API void tshoot_session_free(tshoot_session *s)
{
  size_t i;
  if (!s) return;
  for (i = 0; i < s->n_answers; i++) ts_free(s->answers[i].value);
  ts_free(s->answers);
  ts_free(s->symptoms);
  ts_free(s->fixes);
  ts_free(s->refused);
  ts_free(s->text);
  ts_free(s->ans_of_q);
  ts_free(s->cand);
  ts_free(s->cand_pos);
  ts_free(s->text_lik);
  ts_free(s->word_lik);
  ts_free(s->input_value);
  ts_free(s->post);
  ts_free(s->lw);
  tab_free(s->own_tab);
  work_free(s->wk);
  ts_free(s->fact_val);
  ts_free(s->fact_gen);
  ts_free(s->ranks);
  ts_free(s->ans_info);
  ts_free(s->fix_info);
  for (i = 0; i < s->n_probes; i++) { ts_free(s->probes[i].answer); ts_free(s->probes[i].message); }
  ts_free(s->probes);
  ts_free(s->probe_info);
  ts_free(s->probe_tried);
  if (s->m) kb_unref(s->kb);
  if (s->key) memset(s->key, 0, s->key_len);
  ts_free(s->key);
  ts_free(s);
}

/* ===== matching a description's words against symptoms =====
** A symptom with a cause list is evidence when at least 60% of its words
** (stop words and words under 3 bytes aside) occur in the description. The
** words of the symptoms in question go into a small hash table, and the
** description is read once: linear in its length, however long it is. */

typedef struct sym_word {
  char w[TEXT_MAX_WORD + 1];       /* folded */
  size_t len;
  int seen;                        /* the description uses it */
} sym_word;

typedef struct sym_words {
  sym_word *words; size_t n;
  int *slot; size_t n_slots;       /* open addressing: index into words, or -1 */
} sym_words;

/* The word's index, or -1. */
static int sym_find(const sym_words *t, const char *w, size_t len)
{
  size_t i;
  if (!t->n_slots) return -1;
  for (i = ts_fnv1a(w, len) & (t->n_slots - 1); t->slot[i] >= 0; i = (i + 1) & (t->n_slots - 1)) {
    const sym_word *x = &t->words[t->slot[i]];
    if (x->len == len && memcmp(x->w, w, len) == 0) return t->slot[i];
  }
  return -1;
}

/* The next word of symptom text st that counts, folded into w (*wl bytes);
** 0 at the end. *pos starts at 0. */
static int next_symptom_word(const char *st, size_t *pos, char *w, size_t *wl)
{
  size_t start, n = strlen(st);
  while (text_next_word(st, n, pos, &start, wl)) {
    if (*wl < 3 || text_is_stopword(st + start, *wl)) continue;
    text_fold(w, st + start, *wl);
    return 1;
  }
  return 0;
}

/* Add the words of the n symptoms sym[] to t. 0, or -1 when out of memory. */
static int sym_build(sym_words *t, const rules_model *m, const int *sym, size_t n)
{
  size_t k, i, total = 0, wl, pos;
  char w[TEXT_MAX_WORD + 1];
  for (k = 0; k < n; k++)
    for (pos = 0; next_symptom_word(m->s[sym[k]].text, &pos, w, &wl);) total++;
  if (!total) return 0;
  for (t->n_slots = 16; t->n_slots < 2 * total; t->n_slots *= 2) {}
  t->slot = ts_malloc(t->n_slots * sizeof *t->slot);
  t->words = ts_malloc(total * sizeof *t->words);
  if (!t->slot || !t->words) return -1;
  for (i = 0; i < t->n_slots; i++) t->slot[i] = -1;
  for (k = 0; k < n; k++)
    for (pos = 0; next_symptom_word(m->s[sym[k]].text, &pos, w, &wl);) {
      size_t h;
      if (sym_find(t, w, wl) >= 0) continue;
      for (h = ts_fnv1a(w, wl) & (t->n_slots - 1); t->slot[h] >= 0; h = (h + 1) & (t->n_slots - 1)) {}
      memcpy(t->words[t->n].w, w, wl + 1);
      t->words[t->n].len = wl;
      t->words[t->n].seen = 0;
      t->slot[h] = (int)t->n++;
    }
  return 0;
}

/* Mark the table's words that `user` uses: one pass over it. */
static void sym_mark(sym_words *t, const char *user)
{
  size_t pos = 0, st, len, n = strlen(user);
  char u[TEXT_MAX_WORD + 1];
  if (!t->n) return;
  while (text_next_word(user, n, &pos, &st, &len)) {
    int i;
    if (len < 3) continue;
    text_fold(u, user + st, len);
    if ((i = sym_find(t, u, len)) >= 0) t->words[i].seen = 1;
  }
}

static int sym_matches(const sym_words *t, const char *symptom)
{
  size_t total = 0, hit = 0, wl, pos = 0;
  char w[TEXT_MAX_WORD + 1];
  while (next_symptom_word(symptom, &pos, w, &wl)) {
    int i = sym_find(t, w, wl);
    total++;
    if (i >= 0 && t->words[i].seen) hit++;
  }
  return total > 0 && hit * 10 >= total * 6;
}

static void sym_free(sym_words *t)
{
  ts_free(t->words);
  ts_free(t->slot);
}

/* ===== describing the problem ===== */

/* Candidates from the articles the search found, and the symptoms of theirs
** that the text matches. *sym (n_sym of cap_sym) is scratch. */
static int describe_results(tshoot_session *s, tshoot_results *r, int **sym, size_t *n_sym, size_t *cap_sym)
{
  size_t i, k, j, n = tshoot_results_count(r);
  double top = tshoot_results_get(r, 0)->score;
  sym_words t;
  int rc = TSHOOT_OK;
  for (i = 0; i < s->m->nc; i++) s->cand_pos[i] = -1;
  s->n_cand = 0;
  for (k = 0; k < n; k++) {
    const tshoot_result *res = tshoot_results_get(r, k);
    int a = rules_article(s->m, res->article);
    double lik;
    if (a < 0) continue;
    /* the article's match: 1 to 2 times as likely (the best article); the
    ** causes' own words (describe_words) do the finer ranking */
    lik = 1.0 + (top > 0 ? res->score / top : 1);
    for (j = 0; j < s->m->a[a].n_causes; j++) {
      int ci = (int)(s->m->a[a].first_cause + j);
      if (s->cand_pos[ci] >= 0) continue;
      s->cand_pos[ci] = (int)s->n_cand;
      s->cand[s->n_cand] = (uint32_t)ci;
      s->text_lik[s->n_cand] = lik;
      s->n_cand++;
    }
    /* symptoms with a cause list whose words the user used are evidence too */
    for (j = 0; j < s->m->a[a].n_symptoms; j++) {
      int si = (int)(s->m->a[a].first_symptom + j);
      if (!s->m->s[si].causes) continue;
      if (ts_grow((void **)sym, cap_sym, *n_sym + 1, sizeof **sym) < 0) return ts_error_oom();
      (*sym)[(*n_sym)++] = si;
    }
  }
  memset(&t, 0, sizeof t);
  if (sym_build(&t, s->m, *sym, *n_sym) < 0) { sym_free(&t); return ts_error_oom(); }
  sym_mark(&t, s->text);
  for (k = 0; k < *n_sym && rc == TSHOOT_OK; k++) {
    int si = (*sym)[k];
    size_t x;
    if (!sym_matches(&t, s->m->s[si].text)) continue;
    for (x = 0; x < s->n_symptoms; x++) if (s->symptoms[x] == si) break;
    if (x < s->n_symptoms) continue;
    if (ts_grow((void **)&s->symptoms, &s->cap_symptoms, s->n_symptoms + 1, sizeof *s->symptoms) < 0)
      rc = ts_error_oom();
    else
      s->symptoms[s->n_symptoms++] = si;
  }
  sym_free(&t);
  return rc;
}

/* Whether `text` holds the words of `phrase` in a row (folded; any
** punctuation between them). */
static int has_phrase(const char *text, size_t tlen, const char *phrase)
{
  size_t plen = strlen(phrase), tp = 0, st, wl;
  char pw[16][TEXT_MAX_WORD + 1];
  size_t pl[16], np = 0, pp = 0;
  char w[TEXT_MAX_WORD + 1];
  size_t run = 0;                  /* words of the phrase matched so far */
  while (np < 16 && text_next_word(phrase, plen, &pp, &st, &wl)) pl[np] = text_fold(pw[np], phrase + st, wl), np++;
  if (!np) return 0;
  while (text_next_word(text, tlen, &tp, &st, &wl)) {
    size_t n = text_fold(w, text + st, wl);
    if (n == pl[run] && memcmp(w, pw[run], n) == 0) {
      if (++run == np) return 1;
    } else {
      /* restart; the word may begin the phrase (phrases are short: no KMP) */
      run = (n == pl[0] && memcmp(w, pw[0], n) == 0) ? 1 : 0;
      if (run == np) return 1;
    }
  }
  return 0;
}

/* Questions whose <phrase>s the text holds are answered from it (source
** "text"), unless the person or a probe answered them; a text that holds
** phrases of two different values answers nothing. Earlier answers from a
** text go first. */
const char *session_phrase_value(const rm_question *qq, const char *text, size_t len)
{
  const char *val = NULL;
  size_t i;
  for (i = 0; i < qq->n_phrases; i++)
    if (has_phrase(text, len, qq->phrase_texts[i])) {
      if (val && strcmp(val, qq->phrase_values[i]) != 0) return NULL;
      val = qq->phrase_values[i];
    }
  return val;
}

static int answer_from_text(tshoot_session *s)
{
  const rules_model *m = s->m;
  size_t k, q, tlen;
  for (k = s->n_answers; k-- > 0;)
    if (s->answers[k].source == SRC_TEXT) drop_answer(s, k);
  if (!s->text) return TSHOOT_OK;
  tlen = strlen(s->text);
  for (q = 0; q < m->nq; q++) {
    const rm_question *qq = &m->q[q];
    const char *val;
    int rc;
    if (!qq->n_phrases || s->ans_of_q[q] >= 0) continue;
    if (!(val = session_phrase_value(qq, s->text, tlen))) continue;
    rc = set_answer(s, qq->id, val);
    if (rc == TSHOOT_ENOMEM) return rc;
    if (rc == TSHOOT_OK) s->answers[s->ans_of_q[q]].source = SRC_TEXT;
  }
  return TSHOOT_OK;
}

/* The words of each candidate cause: s->word_lik. A search that ran out of
** time leaves them neutral. */
static int describe_words(tshoot_session *s)
{
  double *sc;
  size_t i;
  int rc;
  for (i = 0; i < s->n_cand; i++) s->word_lik[i] = 1;
  if (!s->text) return TSHOOT_OK;
  sc = ts_malloc((s->m->nc + 1) * sizeof *sc);
  if (!sc) return ts_error_oom();
  rc = search_cause_scores(s->kb, s->text, strlen(s->text), sc, s->m->nc);
  if (rc == TSHOOT_OK) {
    double best = 0;
    for (i = 0; i < s->n_cand; i++) if (sc[s->cand[i]] > best) best = sc[s->cand[i]];
    if (best >= WORD_MIN)
      for (i = 0; i < s->n_cand; i++) s->word_lik[i] = pow(WORD_LR, sc[s->cand[i]] / best);
  }
  ts_free(sc);
  return rc == TSHOOT_ETIMEOUT ? TSHOOT_OK : rc;
}

TSHOOT_API int tshoot_session_describe(tshoot_session *s, const char *text, size_t len)
{
  tshoot_results *r = NULL;
  tshoot_search_options so = TSHOOT_SEARCH_OPTIONS_INIT;
  int *sym = NULL;
  size_t n_sym = 0, cap_sym = 0, n_symptoms;
  int rc;

  TS_CHECK_ARG(s && (text || !len));
  ts_free(s->text);
  s->text = NULL;
  set_candidates_all(s);
  s->dirty = 1;
  if (!text || !len) return answer_from_text(s);
  n_symptoms = s->n_symptoms;
  s->text = ts_strndup(text, len);
  if (!s->text) return ts_error_oom();
  so.limit = 10;
  so.flags = TSHOOT_SEARCH_ANY_WORD;   /* a description touches several articles */
  rc = tshoot_search(&r, s->kb, text, len, &so);
  if (rc == TSHOOT_OK && tshoot_results_count(r) > 0) {
    rc = describe_results(s, r, &sym, &n_sym, &cap_sym);
    if (rc == TSHOOT_OK) rc = describe_words(s);
  } else if (rc == TSHOOT_OK) {
    /* nothing matched: the text says nothing, every cause stays */
    ts_free(s->text);
    s->text = NULL;
  }
  tshoot_results_free(r);
  ts_free(sym);
  if (rc != TSHOOT_OK) {
    /* a failed describe leaves no description, and no symptom from it */
    ts_free(s->text);
    s->text = NULL;
    s->n_symptoms = n_symptoms;
    set_candidates_all(s);
    answer_from_text(s);
    return rc;
  }
  if (s->n_cand == 0) set_candidates_all(s);
  return answer_from_text(s);
}

TSHOOT_API int tshoot_session_add_text(tshoot_session *s, const char *text, size_t len)
{
  ts_buf b = TS_BUF_INIT;
  int rc;
  TS_CHECK_ARG(s && (text || !len));
  if (!len) return TSHOOT_OK;
  if (s->text) {
    ts_buf_adds(&b, s->text);
    ts_buf_adds(&b, "\n");
  }
  ts_buf_add(&b, text, len);
  if (b.oom) { ts_buf_free(&b); return ts_error_oom(); }
  rc = tshoot_session_describe(s, b.p, b.len);
  ts_buf_free(&b);
  return rc;
}

TSHOOT_API int tshoot_session_symptom(tshoot_session *s, const char *id)
{
  int si;
  size_t k;
  TS_CHECK_ARG(s && id);
  si = rules_symptom(s->m, id);
  if (si < 0) {
    char sug[200];
    return ts_error(TSHOOT_ENOTFOUND, "no symptom '%s' in this KB%s", id,
                    rules_did_you_mean(sug, sizeof sug, s->m, 's', id));
  }
  for (k = 0; k < s->n_symptoms; k++) if (s->symptoms[k] == si) return TSHOOT_OK;
  if (ts_grow((void **)&s->symptoms, &s->cap_symptoms, s->n_symptoms + 1, sizeof *s->symptoms) < 0)
    return ts_error_oom();
  s->symptoms[s->n_symptoms++] = si;
  s->dirty = 1;
  return TSHOOT_OK;
}

int session_find_question(tshoot_session *s, const char *id)
{
  int q = rules_question(s->m, id);
  if (q < 0) {
    char sug[200];
    return ts_error(TSHOOT_ENOTFOUND, "no question '%s' in this KB%s", id ? id : "",
                    rules_did_you_mean(sug, sizeof sug, s->m, 'q', id));
  }
  return q;
}

static int find_fix(tshoot_session *s, const char *id)
{
  int x = rules_fix(s->m, id);
  if (x < 0) {
    char sug[200];
    return ts_error(TSHOOT_ENOTFOUND, "no fix '%s' in this KB%s", id,
                    rules_did_you_mean(sug, sizeof sug, s->m, 'x', id));
  }
  return x;
}

/* Drop the answer at index k and re-index. */
static void drop_answer(tshoot_session *s, size_t k)
{
  size_t i;
  int q = s->answers[k].q;
  ts_free(s->answers[k].value);
  memmove(&s->answers[k], &s->answers[k + 1], (s->n_answers - k - 1) * sizeof *s->answers);
  s->n_answers--;
  for (i = 0; i < s->m->nq; i++) s->ans_of_q[i] = -1;
  for (i = 0; i < s->n_answers; i++) s->ans_of_q[s->answers[i].q] = (int)i;
  mark_answer(s, q);
}

/* The choice of question qq that `value` names, or NULL. The one rule of
** what counts as an answer to a choice, for every front-end (they pass the
** person's text through): a choice's value, then its label, in any case;
** for a yes/no question also y/n and true/false. */
static const char *choice_of(const rm_question *qq, const char *value)
{
  static const char *const yes[] = { "y", "true" }, *const no[] = { "n", "false" };
  const char *want = NULL;
  size_t i;
  for (i = 0; i < qq->n_choices; i++) if (strcmp(qq->choices[i], value) == 0) return qq->choices[i];
  for (i = 0; i < qq->n_choices; i++) if (strcasecmp(qq->choices[i], value) == 0) return qq->choices[i];
  for (i = 0; qq->labels && i < qq->n_choices; i++)
    if (qq->labels[i] && strcasecmp(qq->labels[i], value) == 0) return qq->choices[i];
  if (qq->type != RM_YESNO) return NULL;
  for (i = 0; i < 2 && !want; i++) {
    if (strcasecmp(value, yes[i]) == 0) want = "yes";
    else if (strcasecmp(value, no[i]) == 0) want = "no";
  }
  for (i = 0; want && i < qq->n_choices; i++) if (strcmp(qq->choices[i], want) == 0) return qq->choices[i];
  return NULL;
}

static int set_answer(tshoot_session *s, const char *question, const char *value)
{
  int q;
  char *v = NULL;
  char why[512];
  q = session_find_question(s, question);
  if (q < 0) return q;
  if (value) {
    const rm_question *qq = &s->m->q[q];
    if (qq->type == RM_YESNO || qq->type == RM_CHOICE) {
      const char *c = choice_of(qq, value);
      if (c) value = c;
    }
    if (!rules_answer_ok(s->m, q, value, why, sizeof why))
      return ts_error(TSHOOT_EINVALID, "%s", why);
    v = ts_strdup(value);
    if (!v) return ts_error_oom();
  }
  if (s->ans_of_q[q] >= 0) drop_answer(s, (size_t)s->ans_of_q[q]);   /* a change */
  if (ts_grow((void **)&s->answers, &s->cap_answers, s->n_answers + 1, sizeof *s->answers) < 0) {
    ts_free(v);
    return ts_error_oom();
  }
  s->answers[s->n_answers].q = q;
  s->answers[s->n_answers].value = v;
  s->answers[s->n_answers].source = SRC_USER;
  s->answers[s->n_answers].seq = ++s->seq;
  s->ans_of_q[q] = (int)s->n_answers;
  s->n_answers++;
  mark_answer(s, q);
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_answer(tshoot_session *s, const char *question, const char *value)
{
  TS_CHECK_ARG(s && question);
  if (!value) return ts_error(TSHOOT_EINVALID, "tshoot_session_answer: no value (use tshoot_session_unknown)");
  return set_answer(s, question, value);
}

TSHOOT_API int tshoot_session_unknown(tshoot_session *s, const char *question)
{
  TS_CHECK_ARG(s && question);
  return set_answer(s, question, NULL);
}

TSHOOT_API int tshoot_session_retract(tshoot_session *s, const char *question)
{
  int q;
  TS_CHECK_ARG(s && question);
  q = session_find_question(s, question);
  if (q < 0) return q;
  if (s->ans_of_q[q] < 0) return ts_error(TSHOOT_ENOTFOUND, "question '%s' has no answer to withdraw", question);
  drop_answer(s, (size_t)s->ans_of_q[q]);
  return TSHOOT_OK;
}

/* The most recent of the answers and fix reports goes ("back"). Answers
** the person's text gave are not taken back one by one: they go with the
** text (tshoot_session_describe). */
TSHOOT_API int tshoot_session_undo(tshoot_session *s)
{
  size_t k, a = (size_t)-1, f = (size_t)-1;
  unsigned best = 0;
  TS_CHECK_ARG(s);
  for (k = 0; k < s->n_answers; k++)
    if (s->answers[k].source != SRC_TEXT && s->answers[k].seq >= best) { best = s->answers[k].seq; a = k; }
  for (k = 0; k < s->n_fixes; k++)
    if (s->fixes[k].seq >= best) { best = s->fixes[k].seq; f = k; a = (size_t)-1; }
  if (f != (size_t)-1) {
    memmove(&s->fixes[f], &s->fixes[f + 1], (s->n_fixes - f - 1) * sizeof *s->fixes);
    s->n_fixes--;
    s->dirty = 1;
    return TSHOOT_OK;
  }
  if (a == (size_t)-1) return ts_error(TSHOOT_ENOTFOUND, "there is no earlier answer to take back");
  drop_answer(s, a);
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_fix_result(tshoot_session *s, const char *fix, tshoot_fix_outcome outcome)
{
  int x;
  size_t k;
  TS_CHECK_ARG(s && fix);
  if ((int)outcome < TSHOOT_FIX_DID_NOT_WORK || (int)outcome > TSHOOT_FIX_SKIPPED)
    return ts_error(TSHOOT_EINVALID, "fix outcome %d: use TSHOOT_FIX_WORKED, _DID_NOT_WORK, _COULD_NOT_TRY "
                    "or _SKIPPED", (int)outcome);
  x = find_fix(s, fix);
  if (x < 0) return x;
  for (k = 0; k < s->n_fixes; k++)
    if (s->fixes[k].fix == x) {
      s->fixes[k].outcome = (int)outcome;
      s->fixes[k].seq = ++s->seq;
      s->dirty = 1;
      return TSHOOT_OK;
    }
  if (ts_grow((void **)&s->fixes, &s->cap_fixes, s->n_fixes + 1, sizeof *s->fixes) < 0) return ts_error_oom();
  s->fixes[s->n_fixes].fix = x;
  s->fixes[s->n_fixes].outcome = (int)outcome;
  s->fixes[s->n_fixes].seq = ++s->seq;
  s->n_fixes++;
  s->dirty = 1;
  return TSHOOT_OK;
}

const char *session_value_label(const rules_model *m, int q, const char *value)
{
  const rm_question *qq = &m->q[q];
  size_t i;
  if (!value) return "I don't know";
  for (i = 0; i < qq->n_choices; i++)
    if (strcmp(qq->choices[i], value) == 0) return qq->labels && qq->labels[i] ? qq->labels[i] : value;
  return value;
}

/* ===== reading the state ===== */

int session_cmp_rank(const void *a, const void *b)
{
  const tshoot_cause_rank *x = a, *y = b;
  if (x->probability != y->probability) return x->probability > y->probability ? -1 : 1;
  return strcmp(x->cause, y->cause);
}

TSHOOT_API int tshoot_session_causes(const tshoot_cause_rank **out, size_t *n, tshoot_session *s)
{
  size_t i;
  TS_CHECK_ARG(out && n && s);
  if (!s->ranks) {   /* only sessions that are asked for a ranking pay for one */
    s->ranks = ts_malloc((s->m->nc + 1) * sizeof *s->ranks);
    if (!s->ranks) return ts_error_oom();
  }
  session_update(s);
  for (i = 0; i < s->n_cand; i++) {
    const rm_cause *c = &s->m->c[s->cand[i]];
    s->ranks[i].cause = c->id;
    s->ranks[i].title = c->title;
    s->ranks[i].article = s->m->a[c->article].id;
    s->ranks[i].probability = s->post[i];
  }
  s->ranks[i].cause = "none";
  s->ranks[i].title = "None of the known causes";
  s->ranks[i].article = NULL;
  s->ranks[i].probability = s->none_post;
  qsort(s->ranks, s->n_cand + 1, sizeof *s->ranks, session_cmp_rank);
  *out = s->ranks;
  *n = s->n_cand + 1;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_answers(const tshoot_answer_info **out, size_t *n, tshoot_session *s)
{
  size_t i;
  tshoot_answer_info *a;
  TS_CHECK_ARG(out && n && s);
  a = ts_realloc(s->ans_info, (s->n_answers + 1) * sizeof *a);
  if (!a) return ts_error_oom();
  s->ans_info = a;
  for (i = 0; i < s->n_answers; i++) {
    static const char *const sources[] = { "user", "probe", "text" };
    int q = s->answers[i].q;
    a[i].question = s->m->q[q].id;
    a[i].value = s->answers[i].value;
    a[i].source = sources[s->answers[i].source];
    a[i].prompt = s->m->q[q].prompt;
    a[i].label = session_value_label(s->m, q, s->answers[i].value);
  }
  *out = a;
  *n = s->n_answers;
  return TSHOOT_OK;
}

TSHOOT_API int tshoot_session_fixes(const tshoot_fix_report **out, size_t *n, tshoot_session *s)
{
  size_t i;
  tshoot_fix_report *f;
  TS_CHECK_ARG(out && n && s);
  f = ts_realloc(s->fix_info, (s->n_fixes + 1) * sizeof *f);
  if (!f) return ts_error_oom();
  s->fix_info = f;
  for (i = 0; i < s->n_fixes; i++) {
    const rm_fix *x = &s->m->x[s->fixes[i].fix];
    f[i].fix = x->id;
    f[i].cause = s->m->c[x->cause].id;
    f[i].outcome = (tshoot_fix_outcome)s->fixes[i].outcome;
    f[i].worked = s->fixes[i].outcome == TSHOOT_FIX_WORKED;
    f[i].title = x->title;
  }
  *out = f;
  *n = s->n_fixes;
  return TSHOOT_OK;
}

TSHOOT_API const char *tshoot_session_text(const tshoot_session *s)
{
  return s ? s->text : NULL;
}
