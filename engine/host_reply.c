/*
** host_reply.c: replies, what a host callback fills in to answer a script
** (tshoot_reply_* and tshoot_host_error in tshoot.h; struct tshoot_reply in
** host.h).
*/
#include "tshoot_int.h"
#include "host.h"
#include "tsjson.h"

#define REPLY_MAX_DEPTH 64

#include <jansson.h>
#include <string.h>

void ts_reply_init(tshoot_reply *r)
{
  memset(r, 0, sizeof *r);
}

void ts_reply_clear(tshoot_reply *r)
{
  ts_free(r->s);
  ts_free(r->error);
  ts_reply_init(r);
}

static void reply_reset_value(tshoot_reply *r)
{
  ts_free(r->s);
  r->s = NULL;
  r->len = 0;
  r->kind = TS_REPLY_NIL;
}

int tshoot_reply_bool(tshoot_reply *r, int value)
{
  TS_CHECK_ARG(r);
  reply_reset_value(r);
  r->kind = TS_REPLY_BOOL;
  r->b = value != 0;
  return TSHOOT_OK;
}

int tshoot_reply_int(tshoot_reply *r, long long value)
{
  TS_CHECK_ARG(r);
  reply_reset_value(r);
  r->kind = TS_REPLY_INT;
  r->i = value;
  return TSHOOT_OK;
}

int tshoot_reply_number(tshoot_reply *r, double value)
{
  TS_CHECK_ARG(r);
  reply_reset_value(r);
  r->kind = TS_REPLY_NUMBER;
  r->d = value;
  return TSHOOT_OK;
}

int tshoot_reply_string(tshoot_reply *r, const char *s, size_t len)
{
  char *copy;
  TS_CHECK_ARG(r && (s || !len));
  copy = ts_malloc(len + 1);
  if (!copy) { r->oom = 1; return ts_error_oom(); }
  if (len) memcpy(copy, s, len);
  copy[len] = '\0';
  reply_reset_value(r);
  r->kind = TS_REPLY_STRING;
  r->s = copy;
  r->len = len;
  return TSHOOT_OK;
}

int tshoot_reply_json(tshoot_reply *r, const char *json, size_t len)
{
  json_error_t jerr;
  json_t *v;
  int rc;
  TS_CHECK_ARG(r && json);
  /* a script reads the reply as Lua tables: as deep as a script may nest */
  if (ts_json_too_deep(json, len, REPLY_MAX_DEPTH))
    return ts_error(TSHOOT_EINVALID, "tshoot_reply_json: nested deeper than %d", REPLY_MAX_DEPTH);
  v = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!v) return ts_error(TSHOOT_EINVALID, "tshoot_reply_json: %s at column %d", jerr.text, jerr.column);
  json_decref(v);
  rc = tshoot_reply_string(r, json, len);
  if (rc == TSHOOT_OK) r->kind = TS_REPLY_JSON;
  return rc;
}

int tshoot_host_error(int code, const char *message)
{
  if (code >= 0) code = TSHOOT_EUSER;
  return ts_error(code, "%s", message && *message ? message : "host error");
}

int tshoot_reply_error(tshoot_reply *r, const char *message)
{
  char *copy;
  TS_CHECK_ARG(r);
  copy = ts_strdup(message ? message : "host error");
  if (!copy) { r->oom = 1; return ts_error_oom(); }
  ts_free(r->error);
  r->error = copy;
  return TSHOOT_OK;
}
