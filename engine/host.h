/*
** host.h: hosts, replies and the journal (host.c, host_sim.c). Internal.
*/
#ifndef TS_HOST_H
#define TS_HOST_H

#include "tshoot_int.h"

/* What a host callback answered. */
typedef enum ts_reply_kind {
  TS_REPLY_NIL = 0, TS_REPLY_BOOL, TS_REPLY_INT, TS_REPLY_NUMBER,
  TS_REPLY_STRING, TS_REPLY_JSON
} ts_reply_kind;

struct tshoot_reply {
  ts_reply_kind kind;
  int b;
  long long i;
  double d;
  char *s;              /* STRING (len bytes, NUL-terminated) or JSON text */
  size_t len;
  char *error;          /* tshoot_reply_error's message, or NULL */
  int oom;
};

void ts_reply_init(tshoot_reply *r);
void ts_reply_clear(tshoot_reply *r);   /* frees, back to NIL */

/* Compare dotted versions numerically ("9.2.10" > "9.2.9"): -1, 0, 1. */
int ts_vercmp(const char *a, const char *b);

/* ===== the simulated host (host_sim.c) ===== */
typedef struct ts_sim ts_sim;

/* Parse a machine description (JSON, docs/scripts.md). `name` is used in
** error messages ("name:line:col: ..."). TSHOOT_OK; TSHOOT_EINVALID. */
int ts_sim_new(ts_sim **out, const char *json, size_t len, const char *name);
/* Fill `ops` with callbacks that answer from (and change) `sim`. */
void ts_sim_ops(ts_sim *sim, tshoot_host_ops *ops);
/* The machine as it is now, as JSON in the same format (ts_free). */
int ts_sim_save(char **out, const ts_sim *sim);
/* Answer every ui.confirm with `yes`. */
void ts_sim_set_confirm(ts_sim *sim, int yes);
void ts_sim_free(ts_sim *sim);

#endif
