/*
** expr.h: conditions at run time (expr.c). The compiler stores each condition
** as an S-expression (kb_schema.h); expr_parse turns one into a flat array of
** nodes in prefix order with question and fact ids resolved to indexes, and
** expr_eval evaluates it in three-valued logic: a condition on a question
** nobody has answered yet is neither true nor false but unknown.
*/
#ifndef TSHOOT_EXPR_H
#define TSHOOT_EXPR_H

#include "tshoot_int.h"

typedef enum expr_op {
  X_AND, X_OR, X_NOT, X_EQ, X_NE, X_LT, X_LE, X_GT, X_GE, X_IN, X_HOLDS, X_KNOWN
} expr_op;

typedef enum tri { TRI_FALSE = 0, TRI_TRUE = 1, TRI_UNKNOWN = 2 } tri;

typedef struct expr_node {
  uint8_t op;          /* expr_op */
  uint32_t size;       /* nodes in this subtree, itself included */
  int32_t ref;         /* question or fact index; -1 if unresolved */
  uint32_t value0;     /* first value in expr.values */
  uint32_t n_values;
} expr_node;

typedef struct expr {
  expr_node *nodes;    /* nodes[0] is the root; NULL when empty */
  size_t n_nodes;
  char **values;       /* literal values, NUL-terminated */
  size_t n_values;
} expr;

/* Resolve an id to an index (or -1). */
typedef int (*expr_resolve_fn)(void *ctx, int is_fact, const char *id);

/* Parse S-expression text into e. Returns TSHOOT_OK, TSHOOT_ECORRUPT (bad
** syntax or an id that does not resolve: the KB file is damaged), or
** TSHOOT_ENOMEM. Nesting deeper than 64 is refused. */
int expr_parse(expr *e, const char *text, expr_resolve_fn resolve, void *ctx);
void expr_free(expr *e);

/* What the evaluator needs to know about the world. `answer` returns the
** answer to question q or NULL if there is none; `known` says whether q has
** an answer (1), was answered "don't know" (0) or is still open (-1);
** `fact` gives a fact's truth value. */
typedef struct expr_env {
  const char *(*answer)(void *ctx, int q);
  int (*known)(void *ctx, int q);
  tri (*fact)(void *ctx, int f);
  int (*is_version)(void *ctx, int q);   /* compare q's answers as versions */
  void *ctx;
} expr_env;

tri expr_eval(const expr *e, const expr_env *env);

/* Call fn for every question index the condition mentions directly. */
void expr_questions(const expr *e, void (*fn)(void *ctx, int q), void *ctx);
/* Call fn for every fact index the condition mentions. */
void expr_facts(const expr *e, void (*fn)(void *ctx, int f), void *ctx);

/* Version order, the one rule for KB conditions and tshoot.vercmp in scripts
** (docs/format.md and docs/scripts.md say the same). A version is read as
** runs of digits and runs of letters; anything else separates them. Runs
** are compared in turn:
**   numbers as numbers ("9.2.10" > "9.2.9", "07" = "7"); a missing number is
**   0 ("16.0" = "16.0.0");
**   letters as text, ignoring ASCII case ("9.2a" < "9.2b");
**   letters right after '-' or '~' are a pre-release: they come before any
**   number and before the end ("9.2.4-beta" < "9.2.4" = "9.2.4.0");
**   other letters come after any number and after the end ("9.2" < "9.2.1" <
**   "9.2a": a letter suffix is a later release).
** Returns -1, 0 or 1. */
int expr_version_cmp(const char *a, const char *b);

/* Compare decimal numbers given as text; non-numbers compare as 0. */
int expr_number_cmp(const char *a, const char *b);

/* A textual rendering ("office.version = 2016 and not after.update = yes")
** for explanations; names come from the callback. Caller frees. */
char *expr_render(const expr *e, const char *(*name)(void *ctx, int is_fact, int idx), void *ctx);

/* The same for people: names are prompts and fact descriptions (from the
** callback), values are the answers' labels ('the answer to "Is the light
** on?" is "No"'). Caller frees. */
char *expr_render_people(const expr *e, const char *(*name)(void *ctx, int is_fact, int idx),
                         const char *(*label)(void *ctx, int q, const char *value), void *ctx);

#endif /* TSHOOT_EXPR_H */
