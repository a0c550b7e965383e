/*
** session_explain.c: explanations of a session's reasoning for a person:
** why a question is worth asking (the causes it separates, its expected gain)
** and how a cause got its rank (its evidence, item by item, and what ruled
** the others out).
*/
#include "session_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct expl_build {
  ts_arena ar;
  tshoot_explanation e;
  tshoot_explain_item *items;
  size_t n, cap;
  int oom;
} expl_build;

struct expl_block { expl_build b; };

static void add_item(expl_build *b, const char *kind, const char *subject, const char *detail, double factor)
{
  tshoot_explain_item *it;
  if (b->oom) return;
  if (ts_grow((void **)&b->items, &b->cap, b->n + 1, sizeof *b->items) < 0) { b->oom = 1; return; }
  it = &b->items[b->n++];
  it->kind = kind;
  it->subject = subject ? ts_arena_strdup(&b->ar, subject) : NULL;
  it->detail = ts_arena_strdup(&b->ar, detail ? detail : "");
  it->factor = factor;
  if ((subject && !it->subject) || !it->detail) b->oom = 1;
}

/* Names in conditions, for people: a fact's description, a question's
** prompt (ids only where the author wrote no text). */
static const char *render_name(void *ctx, int is_fact, int idx)
{
  const rules_model *m = ctx;
  if (idx < 0) return "?";
  if (is_fact) return m->f[idx].description ? m->f[idx].description : m->f[idx].id;
  return m->q[idx].prompt ? m->q[idx].prompt : m->q[idx].id;
}

static const char *render_label(void *ctx, int q, const char *value)
{
  return session_value_label(ctx, q, value);
}

/* "makes it 4 times as likely", "makes it 3 times less likely", "changes
** little": a likelihood ratio in words. */
static void factor_words(char *buf, size_t n, double f)
{
  if (f >= 1.5) snprintf(buf, n, "makes it %.0f times as likely", f);
  else if (f > 1.05) snprintf(buf, n, "makes it a little more likely");
  else if (f > 0 && f <= 1 / 1.5) snprintf(buf, n, "makes it %.0f times less likely", 1 / f);
  else if (f < 0.95) snprintf(buf, n, "makes it a little less likely");
  else snprintf(buf, n, "changes little");
}

static int finish_expl(tshoot_explanation **out, expl_build *b, const char *subject, const char *text)
{
  expl_build *heap;
  b->e.subject = ts_arena_strdup(&b->ar, subject);
  b->e.text = ts_arena_strdup(&b->ar, text ? text : "");
  if (b->oom || b->ar.oom || !b->e.subject || !b->e.text) {
    ts_arena_free(&b->ar);
    ts_free(b->items);
    return ts_error_oom();
  }
  heap = ts_malloc(sizeof *heap);
  if (!heap) {
    ts_arena_free(&b->ar);
    ts_free(b->items);
    return ts_error_oom();
  }
  *heap = *b;
  heap->e.items = heap->items;
  heap->e.n_items = heap->n;
  *out = &heap->e;
  return TSHOOT_OK;
}

TSHOOT_API void tshoot_explanation_free(tshoot_explanation *e)
{
  expl_build *b;
  if (!e) return;
  b = (expl_build *)((char *)e - offsetof(expl_build, e));
  ts_arena_free(&b->ar);
  ts_free(b->items);
  ts_free((void *)b->e.causes);
  ts_free(b);
}

TSHOOT_API int tshoot_session_why(tshoot_explanation **out, tshoot_session *s, const char *question)
{
  expl_build b;
  int q;
  weigh w;
  double h_now, s_all = 0;
  size_t i, k, nc = 0;
  tshoot_cause_rank *cr;
  ts_buf text = TS_BUF_INIT;
  int rc;

  TS_CHECK_ARG(out && s);
  *out = NULL;
  if (!question) {
    const tshoot_step *st;
    rc = tshoot_session_next(&st, s);
    if (rc != TSHOOT_OK) return rc;
    if (st->kind != TSHOOT_STEP_ASK) return ts_error(TSHOOT_ENOTFOUND, "no question is being asked now");
    question = st->question;
  }
  q = session_find_question(s, question);
  if (q < 0) return q;
  session_update(s);
  h_now = session_entropy(s->post, s->n_cand, s->none_post);
  for (i = 0; i < s->n_cand; i++) if (s->post[i] > 0) s_all += s->post[i] * log(s->post[i]);
  if (s->none_post > 0) s_all += s->none_post * log(s->none_post);
  session_weigh_question(s, q, &w, h_now, s_all, 0, NULL);
  memset(&b, 0, sizeof b);
  cr = ts_calloc(s->m->q[q].n_causes + 1, sizeof *cr);
  if (!cr) return ts_error_oom();
  for (k = 0; k < s->m->q[q].n_causes; k++) {
    int ci = (int)s->m->q[q].causes[k], pos = s->cand_pos[ci];
    if (pos < 0 || s->post[pos] < 0.001) continue;
    cr[nc].cause = s->m->c[ci].id;
    cr[nc].title = s->m->c[ci].title;
    cr[nc].article = s->m->a[s->m->c[ci].article].id;
    cr[nc].probability = s->post[pos];
    nc++;
  }
  qsort(cr, nc, sizeof *cr, session_cmp_rank);
  b.e.causes = cr;
  b.e.n_causes = nc;
  b.e.expected_gain = w.gain;
  b.e.cost = s->m->q[q].cost;
  if (s->m->q[q].why) ts_buf_addf(&text, "%s ", s->m->q[q].why);
  if (!session_may_ask(s, q)) {
    char *r = expr_render_people(&s->m->q[q].ask_when, render_name, render_label, (void *)s->m);
    ts_buf_addf(&text, "This question is not asked now: it makes sense only when %s.", r ? r : "?");
    ts_free(r);
  } else if (s->ans_of_q[q] >= 0) {
    ts_buf_addf(&text, "It was answered: %s.", session_value_label(s->m, q, s->answers[s->ans_of_q[q]].value));
  } else if (nc) {
    ts_buf_adds(&text, "The answer tells apart ");
    for (k = 0; k < nc && k < 4; k++)
      ts_buf_addf(&text, "%s%s (%.0f%%)", k ? (k + 1 == nc || k == 3 ? " and " : ", ") : "", cr[k].title,
                  100 * cr[k].probability);
    if (nc > 4) ts_buf_addf(&text, " and %zu more", nc - 4);
    ts_buf_addf(&text, "; its answer is expected to %s.",
                h_now > 0 && w.gain >= 0.6 * h_now ? "settle which of them it is"
                : w.gain >= 0.2 ? "narrow them down" : "narrow them down a little");
  } else {
    ts_buf_adds(&text, "None of the causes still considered depends on this answer.");
  }
  rc = finish_expl(out, &b, s->m->q[q].id, ts_buf_cstr(&text));
  if (rc != TSHOOT_OK) ts_free(cr);
  ts_buf_free(&text);
  return rc;
}

TSHOOT_API int tshoot_session_how(tshoot_explanation **out, tshoot_session *s, const char *cause)
{
  expl_build b;
  const rules_model *m;
  ts_buf text = TS_BUF_INIT, d = TS_BUF_INIT;
  int ci, pos;
  size_t k, e;
  char buf[768], fw[64];
  int rc;

  TS_CHECK_ARG(out && s);
  *out = NULL;
  m = s->m;
  session_update(s);
  if (!cause) {
    double p;
    size_t best = session_best_candidate(s, &p);
    cause = best == (size_t)-1 ? "none" : m->c[s->cand[best]].id;
  }
  memset(&b, 0, sizeof b);
  if (strcmp(cause, "none") == 0) {
    ts_buf_addf(&text, "\"None of the known causes\" is %.0f%% likely: it stands for a problem this KB "
                "does not describe, and gains weight when the answers fit no cause well.",
                100 * s->none_post);
    rc = finish_expl(out, &b, "none", ts_buf_cstr(&text));
    ts_buf_free(&text);
    return rc;
  }
  ci = rules_cause(m, cause);
  if (ci < 0) {
    char sug[200];
    return ts_error(TSHOOT_ENOTFOUND, "no cause '%s' in this KB%s", cause,
                    rules_did_you_mean(sug, sizeof sug, m, 'c', cause));
  }
  pos = s->cand_pos[ci];
  snprintf(buf, sizeof buf, "before any answer: how often this is the cause (weight %g)", m->c[ci].prior);
  add_item(&b, "prior", NULL, buf, 1);
  if (pos < 0) {
    ts_buf_addf(&text, "%s is not considered: the description matched other articles.", m->c[ci].title);
    rc = finish_expl(out, &b, m->c[ci].id, ts_buf_cstr(&text));
    ts_buf_free(&text);
    return rc;
  }
  if (s->text) {
    snprintf(buf, sizeof buf, "what you wrote matches the article \"%s\"", m->a[m->c[ci].article].title);
    add_item(&b, "text", NULL, buf, s->text_lik[pos]);
    if (s->word_lik[pos] != 1) {
      factor_words(fw, sizeof fw, s->word_lik[pos]);
      snprintf(buf, sizeof buf, "your words fit this cause's own description: that %s", fw);
      add_item(&b, "text", NULL, buf, s->word_lik[pos]);
    }
  }
  for (k = 0; k < s->n_symptoms; k++) {
    const rm_symptom *sy = &m->s[s->symptoms[k]];
    int hit = 0;
    size_t j;
    if (sy->causes) { for (j = 0; j < sy->n_causes; j++) if (sy->causes[j] == ci) hit = 1; }
    else hit = m->c[ci].article == sy->article;
    factor_words(fw, sizeof fw, hit ? 0.8 / 0.1 : 1);
    snprintf(buf, sizeof buf, "\"%s\": %s", sy->text, fw);
    add_item(&b, "symptom", sy->id, buf, hit ? 0.8 / 0.1 : 1);
  }
  for (k = 0; k < s->n_answers; k++) {
    int q = s->answers[k].q;
    const char *v = s->answers[k].value;
    double lik;
    if (!v || !session_cause_has_answer_ev(&m->c[ci], q)) continue;
    lik = session_answer_lik(s, &m->c[ci], q, v);
    factor_words(fw, sizeof fw, lik * (double)session_outcomes(&m->q[q]));
    snprintf(buf, sizeof buf, "%s \"%s\" to \"%s\": this answer %s",
             s->answers[k].source == SRC_TEXT ? "your description answered" : "you answered",
             session_value_label(m, q, v), m->q[q].prompt, fw);
    add_item(&b, "answer", m->q[q].id, buf, lik * (double)session_outcomes(&m->q[q]));
  }
  session_new_generation(s);
  s->hyp_q = -1;
  for (e = 0; e < m->c[ci].n_ev; e++) {
    const rm_evidence *ev = &m->c[ci].ev[e];
    tri t;
    char *r;
    double f;
    if (ev->kind == RM_ANSWER) continue;
    t = session_eval(s, &ev->cond);
    r = expr_render_people(&ev->cond, render_name, render_label, (void *)m);
    ts_buf_reset(&d);
    {
      double pc = ev->kind == RM_REQUIRES ? 1 - s->noise : session_clamp(s, ev->p);
      f = t == TRI_UNKNOWN ? 1 : t == TRI_TRUE ? pc / ev->pu_true : (1 - pc) / (1 - ev->pu_true);
    }
    factor_words(fw, sizeof fw, f);
    ts_buf_addf(&d, "this cause %s %s: %s", ev->kind == RM_REQUIRES ? "needs that" : "usually comes with: ",
                r ? r : "?", t == TRI_TRUE ? "that is so, which " : t == TRI_FALSE ? "that is not so, which "
                : "not known yet");
    if (t != TRI_UNKNOWN) ts_buf_adds(&d, fw);
    ts_free(r);
    add_item(&b, "condition", NULL, ts_buf_cstr(&d), f);
  }
  for (k = 0; k < s->n_fixes; k++) {
    const rm_fix *x = &m->x[s->fixes[k].fix];
    int o = s->fixes[k].outcome;
    double f;
    if (o == TSHOOT_FIX_COULD_NOT_TRY || o == TSHOOT_FIX_SKIPPED) continue;   /* no evidence */
    if (x->cause != ci && o != TSHOOT_FIX_WORKED) continue;
    /* against the causes it does not repair (each of which gets noise), a fix
    ** that worked makes its own cause FIX_SUCCESS / noise times as likely */
    f = o == TSHOOT_FIX_WORKED ? (x->cause == ci ? FIX_SUCCESS / s->noise : s->noise / FIX_SUCCESS) : 1 - FIX_SUCCESS;
    factor_words(fw, sizeof fw, f);
    snprintf(buf, sizeof buf, "\"%s\" %s: that %s", x->title, o == TSHOOT_FIX_WORKED ? "worked" : "did not work",
             fw);
    add_item(&b, "fix", x->id, buf, f);
  }
  ts_buf_addf(&text, "%s is %.0f%% likely.", m->c[ci].title, 100 * s->post[pos]);
  {
    /* what ruled the other causes out: the strongest evidence against each */
    size_t shown = 0, i;
    for (i = 0; i < s->n_cand && shown < 3; i++) {
      int cj = (int)s->cand[i];
      if (cj == ci || s->post[i] >= 0.01) continue;
      for (e = 0; e < m->c[cj].n_ev; e++) {
        const rm_evidence *ev = &m->c[cj].ev[e];
        if (ev->kind == RM_REQUIRES && session_eval(s, &ev->cond) == TRI_FALSE) {
          char *r = expr_render_people(&ev->cond, render_name, render_label, (void *)m);
          ts_buf_addf(&text, "%s %s is ruled out: it needs %s.", shown ? "" : " Others:", m->c[cj].title,
                      r ? r : "?");
          ts_free(r);
          shown++;
          break;
        }
        if (ev->kind == RM_ANSWER) {
          const char *v = session_answered(s, ev->question);
          if (v && session_answer_lik(s, &m->c[cj], ev->question, v) <= 0.05) {
            ts_buf_addf(&text, "%s %s is unlikely: the answer \"%s\" to \"%s\" rarely goes with it.",
                        shown ? "" : " Others:", m->c[cj].title, session_value_label(m, ev->question, v),
                        m->q[ev->question].prompt);
            shown++;
            break;
          }
        }
      }
    }
  }
  rc = finish_expl(out, &b, m->c[ci].id, ts_buf_cstr(&text));
  ts_buf_free(&text);
  ts_buf_free(&d);
  return rc;
}
