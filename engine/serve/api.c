/*
** api.c: the handlers of the JSON API, v1 (docs/http.md).
**
** Search and articles read the current KB. A session request loads the
** session's row from the store, the session from its saved JSON (signed with
** the server's key: a row changed behind the server's back does not load),
** against the KB build it was started on; applies the change (steps.c);
** saves it back under the row's revision (a concurrent change to the same
** session makes the later one a 409, never a lost update); and answers with
** the session. Nothing of a session stays in memory between requests: the
** store is the session, which is why a killed server loses none.
*/
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ===== bodies and parameters ===== */

static int api_body(const serve_request *rq, int required, json_t **out, serve_problem *p)
{
  json_error_t err;
  const char *ct = rq->content_type;
  *out = NULL;
  if (!rq->body || rq->body_len == 0) {
    if (required) return serve_fail(p, 400, "", "a JSON body is required");
    *out = json_object();
    return 0;
  }
  if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';' && ct[16] != ' '))
    return serve_fail(p, 415, "", "the body must be JSON, sent as Content-Type: application/json");
  *out = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
  if (!*out)
    return serve_fail(p, 400, "", "the body is not valid JSON: %s (line %d, column %d)", err.text,
                      err.line, err.column);
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return serve_fail(p, 400, "", "the body must be a JSON object");
  }
  return 0;
}

/* A UTF-8 byte offset in s as a UTF-16 offset (what JavaScript strings count). */
static size_t api_utf16(const char *s, size_t bytes)
{
  size_t i, n = 0;
  for (i = 0; i < bytes && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

/* ===== search and articles ===== */

static int api_search(const serve_request *rq, serve_reply *reply, serve_problem *p)
{
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *res = NULL;
  serve_kb *k;
  size_t qlen = 0, i, n;
  const char *q = rq->arg(rq->conn, "q", &qlen), *limit = rq->arg(rq->conn, "limit", NULL);
  json_t *arr, *j;
  int rc;
  if (!q) return serve_fail(p, 400, "q", "the parameter q (what to search for) is missing");
  if (qlen > serve_cfg.max_query)
    return serve_fail(p, 400, "q", "q is %zu bytes long; at most %zu are searched", qlen,
                      serve_cfg.max_query);
  o.limit = 10;
  if (limit) {
    char *end;
    long v = strtol(limit, &end, 10);
    if (!*limit || *end || v < 1 || v > 50)
      return serve_fail(p, 400, "limit", "limit must be a whole number from 1 to 50");
    o.limit = (int)v;
  }
  k = kbset_current();
  rc = tshoot_search(&res, k->kb, q, qlen, &o);
  kbset_release(k);
  if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "q");
  n = tshoot_results_count(res);
  if (n == 0) metrics_search_empty();
  arr = json_array();
  for (i = 0; i < n; i++) {
    const tshoot_result *r = tshoot_results_get(res, i);
    json_t *marks = json_array(), *marks16 = json_array();
    size_t m;
    for (m = 0; m < r->n_marks; m++) {
      json_array_append_new(marks, json_pack("[II]", (json_int_t)r->marks[m].start,
                                             (json_int_t)r->marks[m].end));
      json_array_append_new(marks16, json_pack("[II]",
                                               (json_int_t)api_utf16(r->passage, r->marks[m].start),
                                               (json_int_t)api_utf16(r->passage, r->marks[m].end)));
    }
    json_array_append_new(arr, json_pack("{s:o,s:o,s:f,s:o,s:o,s:o}", "article",
                                         serve_jstr(r->article), "title", serve_jstr(r->title),
                                         "score", r->score, "snippet", serve_jstr(r->passage),
                                         "marks", marks, "marks_utf16", marks16));
  }
  j = json_pack("{s:i,s:o,s:o,s:b,s:o}", "version", 1, "query", serve_jstr(tshoot_results_text(res)),
                "suggestion", tshoot_results_suggestion(res) ?
                  serve_jstr(tshoot_results_suggestion(res)) : json_null(),
                "truncated", tshoot_results_truncated(res), "results", arr);
  tshoot_results_free(res);
  reply->status = 200;
  reply->json = j;
  return 0;
}

static int api_article(const char *id, serve_reply *reply, serve_problem *p)
{
  tshoot_article *a = NULL;
  serve_kb *k;
  json_t *symptoms, *causes, *aliases;
  size_t i, f;
  int rc;
  if (strlen(id) > 200) return serve_fail(p, 404, "id", "no such article");
  k = kbset_current();
  rc = tshoot_article_load(&a, k->kb, id);
  kbset_release(k);
  if (rc == TSHOOT_ENOTFOUND || rc == TSHOOT_EINVALID)
    return serve_fail(p, 404, "id", "%s", tshoot_error_last()->message);
  if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "id");
  symptoms = json_array();
  for (i = 0; i < a->n_symptoms; i++)
    json_array_append_new(symptoms, json_pack("{s:o,s:o,s:o,s:o}", "id", serve_jstr(a->symptoms[i].id),
                                              "kind", serve_jstr(a->symptoms[i].kind),
                                              "code", a->symptoms[i].code ?
                                                serve_jstr(a->symptoms[i].code) : json_null(),
                                              "text", serve_jstr(a->symptoms[i].text)));
  aliases = json_array();
  for (i = 0; i < a->n_aliases; i++) json_array_append_new(aliases, serve_jstr(a->aliases[i]));
  causes = json_array();
  for (i = 0; i < a->n_causes; i++) {
    const tshoot_cause_info *c = &a->causes[i];
    json_t *fixes = json_array();
    for (f = 0; f < c->n_fixes; f++) {
      const tshoot_fix_info *x = &c->fixes[f];
      json_t *steps = json_array();
      size_t s;
      for (s = 0; s < x->n_steps; s++) json_array_append_new(steps, serve_jstr(x->steps[s]));
      json_array_append_new(fixes, json_pack("{s:o,s:o,s:o,s:o,s:s,s:b,s:b}", "id", serve_jstr(x->id),
                                             "title", serve_jstr(x->title), "steps", steps,
                                             "verify", x->verify ? serve_jstr(x->verify) : json_null(),
                                             "risk", x->risk ? x->risk : "low",
                                             "needs_admin", x->needs_admin,
                                             "reversible", x->reversible));
    }
    json_array_append_new(causes, json_pack("{s:o,s:o,s:o,s:o}", "id", serve_jstr(c->id),
                                            "title", serve_jstr(c->title),
                                            "explanation", c->explanation ?
                                              serve_jstr(c->explanation) : json_null(),
                                            "fixes", fixes));
  }
  reply->json = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "id", serve_jstr(a->id),
                          "title", serve_jstr(a->title),
                          "summary", a->summary ? serve_jstr(a->summary) : json_null(),
                          "symptoms", symptoms, "aliases", aliases, "causes", causes);
  tshoot_article_free(a);
  reply->status = 200;
  return reply->json ? 0 : serve_fail(p, 500, "", "out of memory");
}

/* ===== sessions ===== */

/* 128 random bits as 32 hex digits. */
static int api_new_id(char *out)
{
  unsigned char b[16];
  size_t i;
  if (serve_random(b, sizeof b) != 0) return -1;
  for (i = 0; i < sizeof b; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
  return 0;
}

static int api_id_ok(const char *id)
{
  size_t i;
  for (i = 0; i < 32; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
  return id[32] == '\0';
}

/* Save s as the row's new data; 0, or -1 with a problem. */
static int api_save(tshoot_session *s, store_row *row, serve_problem *p)
{
  char *saved = NULL, *n;
  int rc = tshoot_session_save(&saved, s);
  if (rc != TSHOOT_OK) return serve_fail_lib(p, rc, "");
  n = strdup("[]");
  if (!n) {
    tshoot_free(saved);
    return serve_fail(p, 500, "", "out of memory");
  }
  free(row->data);
  free(row->notes);
  row->data = strdup(saved);
  row->notes = n;
  tshoot_free(saved);
  return row->data ? 0 : serve_fail(p, 500, "", "out of memory");
}

static int api_session_new(const serve_request *rq, serve_reply *reply, serve_problem *p)
{
  json_t *body = NULL;
  tshoot_session *s = NULL;
  serve_kb *k = NULL;
  store_row row;
  char id[33];
  int rc = -1;
  memset(&row, 0, sizeof row);
  if (api_body(rq, 0, &body, p)) return -1;
  if (serve_cfg.max_sessions_client) {
    long long live = serve_sessions.ops->count(serve_sessions.self, rq->client,
                                               serve_now() - serve_cfg.idle_s);
    if (live >= (long long)serve_cfg.max_sessions_client) {
      serve_fail(p, 429, "", "this address has %lld live sessions, the most a client may have; "
                 "end some (DELETE) or wait for them to expire", live);
      goto done;
    }
  }
  k = kbset_current();
  if (steps_create(&s, k->kb, body, p)) goto done;
  if (api_new_id(id) != 0) {
    serve_fail(p, 503, "", "no random numbers for a session id");
    goto done;
  }
  row.client = strdup(rq->client);
  row.kb = strdup(k->digest);
  row.created = row.touched = serve_now();
  row.revision = 1;
  if (!row.client || !row.kb || api_save(s, &row, p)) goto done;
  if (serve_sessions.ops->create(serve_sessions.self, id, &row) != 0) {
    serve_fail(p, 503, "", "the session store is not available");
    goto done;
  }
  reply->json = steps_session_json(s, k->kb, id, row.revision, row.touched + serve_cfg.idle_s, p);
  if (!reply->json) goto done;
  reply->status = 201;
  snprintf(reply->location, sizeof reply->location, "/v1/sessions/%s", id);
  rc = 0;
done:
  tshoot_session_free(s);
  kbset_release(k);
  store_row_clear(&row);
  json_decref(body);
  return rc;
}

static int api_session(serve_route route, const serve_request *rq, char **params,
                       serve_reply *reply, serve_problem *p)
{
  const char *id = params[0];
  json_t *body = NULL, *reply_read = NULL;
  tshoot_session *s = NULL;
  tshoot_session_options o;
  serve_kb *k = NULL;
  store_row row;
  int rc = -1, changes = route == ROUTE_ANSWER || route == ROUTE_BACK || route == ROUTE_FIX;
  memset(&row, 0, sizeof row);
  if (!api_id_ok(id)) return serve_fail(p, 404, "id", "no such session");
  if (changes && api_body(rq, route != ROUTE_BACK, &body, p)) return -1;
  switch (serve_sessions.ops->get(serve_sessions.self, id, serve_now() - serve_cfg.idle_s, &row)) {
  case 0: break;
  case 1:
    serve_fail(p, 404, "id", "no such session (it may have expired or been deleted)");
    goto done;
  default:
    serve_fail(p, 503, "", "the session store is not available");
    goto done;
  }
  if (route == ROUTE_SESSION_DELETE) {
    if (serve_sessions.ops->remove(serve_sessions.self, id) < 0) {
      serve_fail(p, 503, "", "the session store is not available");
      goto done;
    }
    reply->status = 204;
    rc = 0;
    goto done;
  }
  k = kbset_find(row.kb);
  if (!k) {
    serve_fail(p, 410, "id", "this session was started on a KB build this server no longer "
               "has; start a new session");
    goto done;
  }
  steps_session_options(&o);
  if (tshoot_session_load(&s, k->kb, row.data, strlen(row.data), &o) != TSHOOT_OK) {
    serve_log("session %.8s...: stored session refused: %s", id, tshoot_error_last()->message);
    serve_fail(p, 500, "", "the stored session could not be loaded");
    goto done;
  }
  if (changes && steps_check_revision(body, row.revision, p)) goto done;
  switch (route) {
  case ROUTE_ANSWER: if (steps_answer(s, body, &reply_read, &changes, p)) goto done; break;
  case ROUTE_BACK: if (steps_back(s, p)) goto done; break;
  case ROUTE_FIX: if (steps_fix(s, params[1], body, p)) goto done; break;
  case ROUTE_WHY:
  case ROUTE_HOW: {
    tshoot_explanation *e = NULL;
    const char *what = route == ROUTE_WHY ? "question" : "cause";
    const char *arg = rq->arg(rq->conn, what, NULL);
    int lrc = route == ROUTE_WHY ? tshoot_session_why(&e, s, arg) : tshoot_session_how(&e, s, arg);
    if (lrc == TSHOOT_ENOTFOUND && !arg) {
      serve_fail(p, 409, what, "%s", tshoot_error_last()->message);   /* no question now */
      goto done;
    }
    if (lrc == TSHOOT_ENOTFOUND) {
      serve_fail(p, 404, what, "%s", tshoot_error_last()->message);
      goto done;
    }
    if (lrc == TSHOOT_EINVALID) {
      serve_fail(p, arg ? 400 : 409, what, "%s", tshoot_error_last()->message);
      goto done;
    }
    if (lrc != TSHOOT_OK) {
      serve_fail_lib(p, lrc, what);
      goto done;
    }
    reply->json = steps_explanation_json(e);
    tshoot_explanation_free(e);
    reply->status = reply->json ? 200 : 500;
    rc = reply->json ? 0 : serve_fail(p, 500, "", "out of memory");
    goto done;
  }
  default: break;
  }
  if (changes) {
    long long expect = row.revision;
    if (api_save(s, &row, p)) goto done;
    row.revision++;
    row.touched = serve_now();
    switch (serve_sessions.ops->update(serve_sessions.self, id, expect, &row)) {
    case 0: break;
    case 1:
      serve_fail(p, 409, "revision", "the session changed while this request was being "
                 "answered; get it and try again");
      goto done;
    default:
      serve_fail(p, 503, "", "the session store is not available");
      goto done;
    }
  }
  reply->json = steps_session_json(s, k->kb, id, row.revision, row.touched + serve_cfg.idle_s, p);
  if (!reply->json) goto done;
  if (reply_read) json_object_set(reply->json, "reply", reply_read);
  reply->status = 200;
  rc = 0;
done:
  tshoot_session_free(s);
  kbset_release(k);
  store_row_clear(&row);
  json_decref(body);
  json_decref(reply_read);
  return rc;
}

int api_handle(serve_route route, const serve_request *rq, char **params,
               serve_reply *reply, serve_problem *p)
{
  switch (route) {
  case ROUTE_SEARCH: return api_search(rq, reply, p);
  case ROUTE_ARTICLE: return api_article(params[0], reply, p);
  case ROUTE_SESSION_NEW: return api_session_new(rq, reply, p);
  case ROUTE_SESSION_GET: case ROUTE_SESSION_DELETE: case ROUTE_ANSWER: case ROUTE_BACK:
  case ROUTE_FIX: case ROUTE_WHY: case ROUTE_HOW:
    return api_session(route, rq, params, reply, p);
  default:
    return serve_fail(p, 404, "", "no such resource");
  }
}
