/*
** diagnose.h: the inside of `tshoot diagnose`, shared by its three files:
**
**   cmd_diagnose.c  the command: options, a new or resumed session, the loop
**                   over steps, the session file, the transcript, the report
**   answers.c       answers given in advance (--answer, --answers FILE)
**   prompt.c        the dialogue at a terminal, and what it shows a person
**
** A fix with a script runs through fixrun.c (cli.h), shared with `tshoot fix`.
*/
#ifndef TSHOOT_CLI_DIAGNOSE_H
#define TSHOOT_CLI_DIAGNOSE_H

#include "cli.h"

#include <stddef.h>

enum { EXIT_STRICT = 3, EXIT_NONE = 4, EXIT_STOPPED = 5, EXIT_INCONCLUSIVE = 6 };

/* How many causes `causes` shows, and "none" lists. */
#define TOP_CAUSES 8
#define TOP_NONE 3

/* ===== answers given in advance (answers.c) ===== */

/* An answer given in advance: question = value, or fix:ID = an outcome. */
typedef struct given {
  char *key;          /* question id, or fix id (is_fix) */
  char *value;        /* NULL: "don't know" (questions only) */
  int is_fix;
  int outcome;        /* fixes: a tshoot_fix_outcome */
  int disabled;       /* taken back at the prompt: ask the person instead */
  int used;
  const char *file;   /* the answer file, or NULL for --answer */
  int line;
} given;

typedef struct answers {
  given *v;
  size_t n, cap;
  size_t n_fix;       /* how many fix:ID answers */
} answers;

/* Parse "key = value" into a new entry; 0, or -1 with *why set. */
int answers_add(answers *a, const char *spec, const char *file, int line, const char **why);
/* Read an answer file: `question.id = value` a line, # comments, blank lines.
** EXIT_OK, or EXIT_FAIL with the error printed. */
int answers_read_file(answers *a, const char *path);
/* Check every answer against the KB (unknown ids with did-you-mean, values the
** question does not allow) before any question is asked. EXIT_OK, or the
** error printed: EXIT_USAGE for --answer, EXIT_FAIL for an answer file. */
int answers_check(const answers *a, tshoot_kb *kb);
/* The answer for question (or fix) `key`, or NULL; the last given wins. */
given *answers_find(answers *a, const char *key, int is_fix);
/* The question was taken back at the prompt: ask the person from now on. */
void answers_disable(answers *a, const char *question);
/* How many answers were neither used nor taken back. */
size_t answers_unused(const answers *a);
void answers_free(answers *a);
/* yes/y/true/1/worked or no/n/false/0/failed, any case: 0 and *out; else -1. */
int answers_parse_bool(const char *v, int *out);
/* A fix's outcome as an answer file writes it: yes/worked, no/did-not-work,
** could-not-try, skipped (any case, - or _): 0 and *out; else -1. */
int answers_parse_outcome(const char *v, int *out);
/* The outcome's name in --json and transcripts. */
const char *answers_outcome_name(int outcome);

/* ===== the diagnosis ===== */

typedef struct diagnosis {
  tshoot_kb *kb;
  tshoot_session *s;
  answers given;
  int json, quiet, prompt, strict, echo;
  int verbose;        /* --verbose: ids beside the words (causes, fixes, articles) */
  const char *save_path;
  json_t *steps;              /* the transcript (always kept; printed with --json) */
  char *text;                 /* the description, or NULL */
  tshoot_article *art;        /* cache for fix and cause details */
  char *line;                 /* the last line read */
  size_t line_cap;
  int hint_shown;
  tshoot_host *host;          /* --host: probes answer, fixes with scripts run */
  int yes;                    /* --yes: apply fixes without asking */
  size_t probes_seen;
  json_t *pending;            /* --strict: the question it stopped at */
} diagnosis;

/* What became of a step: answered, taken back, quit, failed, or nothing
** changed (ask again). */
typedef enum { ACT_DONE, ACT_BACK, ACT_QUIT, ACT_FAIL, ACT_AGAIN } act;

/* cmd_diagnose.c: the transcript */
void diagnosis_record_ask(diagnosis *d, const char *prompt, const char *question, const char *answer,
                          const char *source);
void diagnosis_record_back(diagnosis *d, const char *question);

/* ===== the dialogue (prompt.c) ===== */

/* A probability as a whole percentage, 0 to 100. */
int prompt_pct(double p);
/* Ask question `st` until it is answered or the person goes back or quits. */
act prompt_question(diagnosis *d, const tshoot_step *st);
/* Ask whether the fix of step `st` (shown before) worked: ACT_DONE with
** *worked set, or ACT_BACK, ACT_QUIT, ACT_FAIL. */
act prompt_fix_result(diagnosis *d, const tshoot_step *st, int *outcome);
/* Ask `prompt` until the answer is yes or no (into *out): 0; -1 when the
** person quits or input ends. `help` is shown after anything else. */
int prompt_yes_no(diagnosis *d, const char *prompt, const char *help, int *out);

/* What the person is shown (also in the conclusion) */
void prompt_print_causes(diagnosis *d, size_t limit, const char *skip);
/* The evidence behind cause `cause` (NULL: the most likely), briefly. */
void prompt_print_how(diagnosis *d, const char *cause, int with_text);
void prompt_print_fix(const tshoot_fix_info *x, const char *label, int indent, int tried, int outcome,
                      int show_id);

#endif /* TSHOOT_CLI_DIAGNOSE_H */
