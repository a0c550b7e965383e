/*
** session_int.h: what the session files share (session.c, session_explain.c,
** session_save.c): the session struct and the reasoning helpers that
** explanations reuse. Not API: nothing outside engine/session*.c includes it.
*/
#ifndef TSHOOT_SESSION_INT_H
#define TSHOOT_SESSION_INT_H

#include "tshoot_int.h"
#include "expr.h"
#include "rules.h"

#define FIX_SUCCESS 0.9            /* P(a fix works | its cause) */

enum { SRC_USER = 0, SRC_PROBE = 1, SRC_TEXT = 2 };

typedef struct answer {
  int q;
  char *value;                     /* NULL: "don't know" */
  int source;                      /* SRC_*: the person, a probe on the host, their text */
  unsigned seq;                    /* order of all answers and fix reports (undo) */
} answer;

typedef struct probe_rec {
  int q;
  int status;
  char *answer, *message;
} probe_rec;

typedef struct fix_report {
  int fix;
  int outcome;                     /* tshoot_fix_outcome */
  unsigned seq;
} fix_report;

struct tshoot_session {
  tshoot_kb *kb;
  const rules_model *m;
  double conclude_at, noise;
  unsigned int flags;
  unsigned char *key;              /* signs saved sessions (a copy), or NULL */
  size_t key_len;

  /* evidence: this is what is saved */
  unsigned seq;                    /* the last seq given */
  char *text;
  int *symptoms; size_t n_symptoms, cap_symptoms;
  answer *answers; size_t n_answers, cap_answers;
  fix_report *fixes; size_t n_fixes, cap_fixes;
  int *refused; size_t n_refused, cap_refused;   /* fixes the host refused to confirm:
                                                 ** no evidence, not proposed again here */

  /* derived from the evidence */
  int *ans_of_q;                   /* per question: index into answers, or -1 */
  uint32_t *cand;                  /* candidate causes */
  size_t n_cand;
  int *cand_pos;                   /* per cause: index in cand, or -1 */
  double *text_lik;                /* per candidate: its article's match */
  double *word_lik;                /* per candidate: the words of the cause itself */
  double *post;                    /* per candidate */
  double none_post, none_loglik, uniform_log;
  int dirty;                       /* everything is recomputed at the next update */

  /* the fast step (session.c, "the step's tables"): the same numbers as the
  ** straightforward computation, kept incrementally */
  int reference;                   /* 1: use the straightforward computation
                                   ** (today's code, kept for the tests that
                                   ** compare the two; set after _new) */
  const struct step_tab *tab;      /* P(v | c) per (cause, question, outcome):
                                   ** shared by the model for this noise */
  struct step_tab *own_tab;        /* or the session's own (too many noises) */
  struct step_work *wk;            /* scratch of one step */
  double *lw;                      /* per candidate: its log weight without the
                                   ** uniform term every candidate shares */
  double none_lw, lz;              /* the same for "none"; log of the sum of
                                   ** exp(lw), so log P = lw - lz */
  int lw_ok;                       /* lw holds the last update's weights */
  int chg_q[8];                    /* questions whose answer changed since */
  size_t n_chg;

  /* fact memo: valid when fact_gen[f] == gen */
  tri *fact_val;
  unsigned *fact_gen;
  unsigned gen;
  int hyp_q;                       /* a hypothetical answer being weighed, or -1 */
  const char *hyp_value;

  /* the host that probes and fixes run on (borrowed), and what probes did */
  tshoot_host *host;
  tshoot_limits limits;
  unsigned char *probe_tried;      /* per question */
  probe_rec *probes; size_t n_probes, cap_probes;
  tshoot_probe_info *probe_info;

  /* scratch and borrowed outputs */
  tshoot_step step;
  int have_step;                   /* step is the current one (tshoot_session_read) */
  char *input_value;               /* tshoot_input.value */
  tshoot_cause_rank *ranks;
  tshoot_answer_info *ans_info;
  tshoot_fix_report *fix_info;
};

/* ===== reasoning helpers (session.c) ===== */

typedef struct weigh {
  double gain;                     /* expected information gain, bits */
  int decisive;                    /* some answer concludes the leader or unseats it */
  double p_out[64];                /* P(outcome) */
  size_t n_out;
  /* when kept: the touched candidates (positions in cand) and P(v | c) */
  int *pos;
  double *pvc;
  size_t nt;
} weigh;

typedef struct leader_info {
  int top_pos;                     /* position in cand, -1: "none" leads, -2: no leader */
  double p_top;
  int rival_pos[3];                /* the next most likely candidates (-1: "none") */
  double rival_p[3];
  int n_rivals;
  double conclude_at;
} leader_info;

/* Evaluate a condition in the session's world (answers, facts). */
tri session_eval(tshoot_session *s, const expr *e);
/* Start a new fact-evaluation round (the memo is forgotten). */
void session_new_generation(tshoot_session *s);
/* p clamped to [noise, 1 - noise]. */
double session_clamp(const tshoot_session *s, double p);
/* How many outcomes question q has (choices, or representative values). */
size_t session_outcomes(const rm_question *q);
/* P(q = value | c) from the cause's <answer> evidence, or -1 if it gives none. */
double session_answer_lik(const tshoot_session *s, const rm_cause *c, int q, const char *value);
int session_cause_has_answer_ev(const rm_cause *c, int q);
/* The answer to q (real or hypothetical), or NULL. */
const char *session_answered(const tshoot_session *s, int q);
/* Entropy in bits of p[0..n) plus one more probability `extra`. */
double session_entropy(const double *p, size_t n, double extra);
/* Recompute facts and the posterior from the evidence (when dirty). */
void session_update(tshoot_session *s);
/* Expected information gain of asking q (see session.c); li may be NULL. */
void session_weigh_question(tshoot_session *s, int q, weigh *w, double h_now, double s_all, int keep,
                            const leader_info *li);
/* The most likely candidate's position ((size_t)-1: "none") and its probability. */
size_t session_best_candidate(const tshoot_session *s, double *p);
/* The one value of question qq that the <phrase>s found in text[0..len)
** name, or NULL (none found, or phrases of two values): the rule for the
** description and for a reply alike. */
const char *session_phrase_value(const rm_question *qq, const char *text, size_t len);
/* Whether question q may be asked now: its <ask-when> is not false. */
int session_may_ask(tshoot_session *s, int q);
/* The label a person reads for answer `value` to q ("I don't know" for NULL). */
const char *session_value_label(const rules_model *m, int q, const char *value);
/* Whether the evidence raised cause position pos ((size_t)-1: "none") above
** what its prior alone gives: a conclusion needs it. */
int session_evidence_moved(const tshoot_session *s, size_t pos, double p);
/* Question index of id, or TSHOOT_ENOTFOUND with a did-you-mean (error set). */
int session_find_question(tshoot_session *s, const char *id);
/* qsort order of tshoot_cause_rank: most likely first, then by id. */
int session_cmp_rank(const void *a, const void *b);
/* TSHOOT_OK, or TSHOOT_EINVALID naming the option out of its bounds (the one
** rule for options given and options loaded). */
int session_check_bounds(const tshoot_session_options *o);

/* ===== signing (session_save.c) ===== */

/* HMAC-SHA-256 (RFC 2104) under key of the concatenation of a and b. */
void session_hmac_sha256(const unsigned char *key, size_t key_len, const void *a, size_t na, const void *b,
                         size_t nb, unsigned char out[32]);

#endif /* TSHOOT_SESSION_INT_H */
