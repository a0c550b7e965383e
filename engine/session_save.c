/*
** session_save.c: a session's evidence to JSON and back. Saved sessions may
** come from untrusted clients, so loading checks every key, type, id and
** value and refuses the whole file on the first fault. A session with a key
** is signed (HMAC-SHA-256 over the saved bytes, the "mac" member last), and
** a load with the key reads only sessions whose MAC matches.
**
** A session names what it used with their digests (rules.c): the answered
** questions, the symptoms, the fixes reported and the causes in play. It
** loads into a rebuilt KB when each of those is there unchanged, and is
** refused with the list of what changed when not: a KB deploy that only
** adds a comment, an article or a question keeps every live dialogue.
*/
#include "session_int.h"
#include "tsjson.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_FORMAT 2
#define IN_PLAY 1e-3                /* causes saved with their digests: P above this */
#define MAX_SAVED_JSON (1024 * 1024)
#define MAX_JSON_DEPTH 16
#define MAC_KEY "\"mac\":\""      /* the signature member, always last: ,"mac":"<64 hex>"} */
#define MAC_HEX 64

/* ===== signing: HMAC-SHA-256 (RFC 2104) ===== */

void session_hmac_sha256(const unsigned char *key, size_t key_len, const void *a, size_t na, const void *b,
                        size_t nb, unsigned char out[32])
{
  unsigned char k[64], pad[64], inner[32];
  ts_sha256 c;
  size_t i;
  memset(k, 0, sizeof k);
  if (key_len > sizeof k) {   /* a long key is hashed first */
    ts_sha256_init(&c);
    ts_sha256_update(&c, key, key_len);
    ts_sha256_final(&c, k);
  } else {
    memcpy(k, key, key_len);
  }
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  ts_sha256_init(&c);
  ts_sha256_update(&c, pad, 64);
  ts_sha256_update(&c, a, na);
  ts_sha256_update(&c, b, nb);
  ts_sha256_final(&c, inner);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  ts_sha256_init(&c);
  ts_sha256_update(&c, pad, 64);
  ts_sha256_update(&c, inner, 32);
  ts_sha256_final(&c, out);
  memset(k, 0, sizeof k);
  memset(pad, 0, sizeof pad);
}

/* Check the MAC of a signed session: json must end with ,"mac":"<hex>"}
** (trailing white space aside), and the MAC is over the bytes before the
** comma followed by the closing brace, that is, the session saved unsigned. */
static int verify_mac(const tshoot_session_options *opts, const char *json, size_t len)
{
  static const char tail[] = "," MAC_KEY;
  const size_t nt = sizeof tail - 1;
  unsigned char want[32];
  char hex[2 * 32 + 1];
  size_t i, start;
  unsigned diff = 0;
  while (len > 0 && (json[len - 1] == ' ' || json[len - 1] == '\n' || json[len - 1] == '\r' || json[len - 1] == '\t'))
    len--;
  if (len < nt + MAC_HEX + 2 || memcmp(json + len - 2, "\"}", 2) != 0 ||
      memcmp(json + len - 2 - MAC_HEX - nt, tail, nt) != 0)
    return ts_error(TSHOOT_EINVALID, "saved session refused: it is not signed (no \"mac\" at its end), and "
                    "this session key accepts only signed sessions");
  start = len - 2 - MAC_HEX;
  session_hmac_sha256(opts->key, opts->key_len, json, start - nt, "}", 1, want);
  ts_hex(want, 32, hex);
  for (i = 0; i < MAC_HEX; i++) diff |= (unsigned)(hex[i] ^ json[start + i]);   /* constant time */
  if (diff)
    return ts_error(TSHOOT_EINVALID, "saved session refused: its MAC does not match (the session was changed, "
                    "or signed with another key)");
  return TSHOOT_OK;
}

/* The session as a JSON object, or NULL when out of memory. Every set and
** append is checked: a key dropped for want of memory must not make a
** smaller, valid-looking save. */
static const char *const outcome_names[] = { "did_not_work", "worked", "could_not_try", "skipped" };
static const char *const source_names[] = { "user", "probe", "text" };

static json_t *session_json(const tshoot_session *s)
{
  json_t *root = json_object(), *arr;
  size_t k;
  int bad = root ? 0 : -1;
  bad |= json_object_set_new(root, "tshoot_session", json_integer(SESSION_FORMAT));
  bad |= json_object_set_new(root, "kb", json_string(s->m->digest));
  bad |= json_object_set_new(root, "conclude_at", json_real(s->conclude_at));
  bad |= json_object_set_new(root, "noise", json_real(s->noise));
  bad |= json_object_set_new(root, "flags", json_integer((json_int_t)s->flags));
  bad |= json_object_set_new(root, "text", s->text ? json_string(s->text) : json_null());
  arr = json_array();
  for (k = 0; k < s->n_symptoms && arr; k++) {
    json_t *a = json_object();
    bad |= json_object_set_new(a, "symptom", json_string(s->m->s[s->symptoms[k]].id));
    bad |= json_object_set_new(a, "digest", json_string(s->m->s[s->symptoms[k]].digest));
    bad |= json_array_append_new(arr, a);
  }
  bad |= json_object_set_new(root, "symptoms", arr);
  arr = json_array();
  for (k = 0; k < s->n_answers && arr; k++) {
    json_t *a = json_object();
    bad |= json_object_set_new(a, "question", json_string(s->m->q[s->answers[k].q].id));
    bad |= json_object_set_new(a, "digest", json_string(s->m->q[s->answers[k].q].digest));
    bad |= json_object_set_new(a, "answer", s->answers[k].value ? json_string(s->answers[k].value) : json_null());
    if (s->answers[k].source != SRC_USER)
      bad |= json_object_set_new(a, "source", json_string(source_names[s->answers[k].source]));
    bad |= json_array_append_new(arr, a);
  }
  bad |= json_object_set_new(root, "answers", arr);
  arr = json_array();
  for (k = 0; k < s->n_fixes && arr; k++) {
    json_t *a = json_object();
    bad |= json_object_set_new(a, "fix", json_string(s->m->x[s->fixes[k].fix].id));
    bad |= json_object_set_new(a, "digest", json_string(s->m->x[s->fixes[k].fix].digest));
    bad |= json_object_set_new(a, "outcome", json_string(outcome_names[s->fixes[k].outcome]));
    bad |= json_array_append_new(arr, a);
  }
  bad |= json_object_set_new(root, "fixes", arr);
  arr = json_array();
  for (k = 0; k < s->n_cand && arr; k++) {
    json_t *a;
    const rm_cause *c = &s->m->c[s->cand[k]];
    if (s->post[k] < IN_PLAY) continue;
    a = json_object();
    bad |= json_object_set_new(a, "cause", json_string(c->id));
    bad |= json_object_set_new(a, "digest", json_string(c->digest));
    bad |= json_array_append_new(arr, a);
  }
  bad |= json_object_set_new(root, "causes", arr);
  if (bad) {
    json_decref(root);
    return NULL;
  }
  return root;
}

TSHOOT_API int tshoot_session_save(char **out, const tshoot_session *s)
{
  json_t *root;
  size_t n;
  char *text;
  const size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII;
  TS_CHECK_ARG(out && s);
  *out = NULL;
  session_update((tshoot_session *)s);   /* the causes in play are saved: bring them up to date */
  if (!(root = session_json(s))) return ts_error_oom();
  /* dumped into our own buffer: nothing the caller frees comes from jansson */
  n = json_dumpb(root, NULL, 0, flags);
  text = n ? ts_malloc(n + 1) : NULL;
  if (!text || json_dumpb(root, text, n, flags) != n) {
    json_decref(root);
    ts_free(text);
    return ts_error_oom();
  }
  json_decref(root);
  text[n] = '\0';
  if (s->key) {
    /* sign: ...} becomes ...,"mac":"<hex>"} */
    unsigned char mac[32];
    char *signed_text = ts_realloc(text, n + 1 + sizeof MAC_KEY - 1 + MAC_HEX + 3);
    if (!signed_text) {
      ts_free(text);
      return ts_error_oom();
    }
    text = signed_text;
    session_hmac_sha256(s->key, s->key_len, text, n, "", 0, mac);
    n--;   /* over the closing brace */
    memcpy(text + n, "," MAC_KEY, sizeof MAC_KEY);
    n += sizeof MAC_KEY;
    ts_hex(mac, 32, text + n);
    n += MAC_HEX;
    memcpy(text + n, "\"}", 3);
  }
  *out = text;
  return TSHOOT_OK;
}

/* Refuse a saved session: fmt has one %s for detail. */
static int bad_json(const char *fmt, const char *detail)
{
  char msg[900];
  const char *pct = strstr(fmt, "%s");
  size_t pre = pct ? (size_t)(pct - fmt) : strlen(fmt);
  snprintf(msg, sizeof msg, "%.*s%s%s", (int)pre, fmt, pct ? detail : "", pct ? pct + 2 : "");
  return ts_error(TSHOOT_EINVALID, "%s", msg);
}

/* Refuse keys not in allowed (NULL-terminated), naming the first. */
static int check_keys(json_t *obj, const char *const *allowed, const char *where)
{
  const char *key = ts_json_unknown_key(obj, allowed);
  if (key) {
    char msg[300];
    snprintf(msg, sizeof msg, "%.100s has an unknown key '%.100s'", where, key);
    return bad_json("saved session refused: %s", msg);
  }
  return TSHOOT_OK;
}

#define REFUSE(what) bad_json("saved session refused: %s", what)

/* What a load found changed in a rebuilt KB (refused at the end, all named). */
typedef struct changes {
  ts_buf b;
  int n;
  int same_build;                  /* saved against this very KB: ids are checked, digests need not be */
} changes;

static void changed(changes *c, const char *kind, const char *id, const char *how)
{
  if (c->n < 8) ts_buf_addf(&c->b, "%s%s '%.100s' %s", c->n ? "; " : "", kind, id, how);
  else if (c->n == 8) ts_buf_adds(&c->b, "; and more");
  c->n++;
}

/* Whether saved item `id` of kind (its index idx in the KB, or -1) may be
** used: against the same build, an unknown id refuses the session (it was
** forged); against a rebuilt KB the item needs its digest, and a missing or
** different item is noted in ch (all are named at the end). Returns 1 (use
** it), 0 (skip it: noted) or a TSHOOT_E* status. */
static int check_item(changes *ch, const char *kind, const char *id, int idx, const char *now, json_t *v)
{
  json_t *dv = json_object_get(v, "digest");
  const char *saved = ts_json_string(dv, NULL);
  if (dv && !saved) return bad_json("saved session refused: the digest of '%s' must be a string", id);
  if (ch->same_build) {
    char msg[300];
    if (idx >= 0) return 1;
    snprintf(msg, sizeof msg, "saved session refused: unknown %s '%.100s'", kind, id);
    return ts_error(TSHOOT_EINVALID, "%s", msg);
  }
  if (!saved) return bad_json("saved session refused: '%s' has no digest, and the KB was rebuilt", id);
  if (idx < 0) changed(ch, kind, id, "is gone");
  else if (strcmp(saved, now) != 0) changed(ch, kind, id, "has changed");
  else return 1;
  return 0;
}

/* The format and the KB build the session was saved against. */
static int load_header(json_t *root, tshoot_kb *kb, const rules_model **m)
{
  json_t *v = json_object_get(root, "tshoot_session");
  const char *digest;
  int rc;
  if (!json_is_integer(v)) return REFUSE("'tshoot_session' (the format) is missing");
  if (json_integer_value(v) != SESSION_FORMAT)
    return ts_error(TSHOOT_EVERSION, "saved session has format %lld; this tshoot reads %d: start a new session",
                    (long long)json_integer_value(v), SESSION_FORMAT);
  if ((rc = rules_get(m, kb)) != TSHOOT_OK) return rc;
  /* another build of the KB is fine where what the session used is unchanged (the items' digests) */
  if (!(digest = ts_json_string(json_object_get(root, "kb"), NULL))) return REFUSE("'kb' must be a string");
  v = json_object_get(root, "mac");
  if (v && !json_is_string(v)) return REFUSE("'mac' must be a string");
  return TSHOOT_OK;
}

/* The saved options, each within its bounds; then a nonzero field of opts
** replaces its value. */
static int load_options(json_t *root, const tshoot_session_options *opts, tshoot_session_options *o)
{
  json_t *v = json_object_get(root, "conclude_at");
  if (v) {
    if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1)
      return REFUSE("'conclude_at' must be a number in (0, 1]");
    o->conclude_at = json_number_value(v);
  }
  v = json_object_get(root, "noise");
  if (v) {
    if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) >= 0.5)
      return REFUSE("'noise' must be a number in (0, 0.5)");
    o->noise = json_number_value(v);
  }
  v = json_object_get(root, "flags");
  if (v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 3)
      return REFUSE("'flags' must be 0 to 3");
    o->flags = (unsigned)json_integer_value(v);
  }
  if (opts) {
    if (opts->conclude_at != 0) o->conclude_at = opts->conclude_at;
    if (opts->noise != 0) o->noise = opts->noise;
    if (opts->version >= 2) {
      o->flags &= ~opts->flags_off;
      o->key = opts->key;          /* the loaded session signs its saves too */
      o->key_len = opts->key_len;
    }
    o->flags |= opts->flags;
  }
  return TSHOOT_OK;
}

/* seen: scratch of m->ns bytes */
static int load_symptoms(tshoot_session *s, json_t *arr, unsigned char *seen, changes *ch)
{
  static const char *const keys[] = { "symptom", "digest", NULL };
  json_t *v;
  size_t k;
  int rc;
  if (!arr) return TSHOOT_OK;
  if (!json_is_array(arr)) return REFUSE("'symptoms' must be an array");
  if (json_array_size(arr) > s->m->ns) return REFUSE("more symptoms than the KB has");
  memset(seen, 0, s->m->ns);
  json_array_foreach(arr, k, v) {
    const char *id;
    int si;
    if (!json_is_object(v)) return REFUSE("a symptom must be an object");
    if ((rc = check_keys(v, keys, "a symptom")) != TSHOOT_OK) return rc;
    if (!(id = ts_json_string(json_object_get(v, "symptom"), NULL))) return REFUSE("a symptom needs a 'symptom' string");
    si = rules_symptom(s->m, id);
    rc = check_item(ch, "symptom", id, si, si >= 0 ? s->m->s[si].digest : "", v);
    if (rc < 0) return rc;
    if (rc == 0) continue;
    if (seen[si]++) return bad_json("saved session refused: symptom '%s' is given twice", id);
    if ((rc = tshoot_session_symptom(s, id)) != TSHOOT_OK) return rc;
  }
  return TSHOOT_OK;
}

/* trusted: the session is signed, so a "probe" source is the library's word */
static int load_answers(tshoot_session *s, json_t *arr, int trusted, changes *ch)
{
  static const char *const answer_keys[] = { "question", "digest", "answer", "source", NULL };
  json_t *v;
  size_t k;
  int rc;
  if (!arr) return TSHOOT_OK;
  if (!json_is_array(arr)) return REFUSE("'answers' must be an array");
  if (json_array_size(arr) > s->m->nq) return REFUSE("more answers than questions");
  json_array_foreach(arr, k, v) {
    const char *q, *a = NULL;
    json_t *av, *src;
    int qi;
    if (!json_is_object(v)) return REFUSE("an answer must be an object");
    if ((rc = check_keys(v, answer_keys, "an answer")) != TSHOOT_OK) return rc;
    q = ts_json_string(json_object_get(v, "question"), NULL);
    av = json_object_get(v, "answer");
    if (!q) return REFUSE("an answer needs a 'question' string");
    qi = rules_question(s->m, q);
    rc = check_item(ch, "question", q, qi, qi >= 0 ? s->m->q[qi].digest : "", v);
    if (rc < 0) return rc;
    if (rc == 0) continue;
    src = json_object_get(v, "source");
    if (src && (!ts_json_string(src, NULL) || (strcmp(json_string_value(src), "probe") != 0 &&
                                         strcmp(json_string_value(src), "user") != 0 &&
                                         strcmp(json_string_value(src), "text") != 0)))
      return bad_json("saved session refused: the source of the answer to '%s' must be \"user\", \"probe\" "
                      "or \"text\"", q);
    /* answers from the text come back with the text (load_evidence described it again) */
    if (src && strcmp(json_string_value(src), "text") == 0) continue;
    if (s->ans_of_q[qi] >= 0 && s->answers[s->ans_of_q[qi]].source != SRC_TEXT)
      return bad_json("saved session refused: question '%s' is answered twice", q);
    if (!av || (!json_is_null(av) && !ts_json_string(av, NULL)))
      return bad_json("saved session refused: the answer to '%s' must be a string or null", q);
    if (!json_is_null(av)) a = json_string_value(av);
    rc = a ? tshoot_session_answer(s, q, a) : tshoot_session_unknown(s, q);
    if (rc == TSHOOT_ENOMEM) return rc;
    if (rc != TSHOOT_OK) {
      char msg[700];
      snprintf(msg, sizeof msg, "%.600s", tshoot_error_last()->message);
      return REFUSE(msg);
    }
    /* only the library says that a probe answered: believed when signed */
    if (trusted && src && strcmp(json_string_value(src), "probe") == 0) s->answers[s->ans_of_q[qi]].source = SRC_PROBE;
  }
  return TSHOOT_OK;
}

/* seen: scratch of m->nx bytes */
static int load_fixes(tshoot_session *s, json_t *arr, unsigned char *seen, changes *ch)
{
  static const char *const fix_keys[] = { "fix", "digest", "outcome", NULL };
  json_t *v;
  size_t k;
  int rc;
  if (!arr) return TSHOOT_OK;
  if (!json_is_array(arr)) return REFUSE("'fixes' must be an array");
  if (json_array_size(arr) > s->m->nx) return REFUSE("more fix reports than fixes");
  memset(seen, 0, s->m->nx);
  json_array_foreach(arr, k, v) {
    const char *x, *o;
    int xi, oc;
    if (!json_is_object(v)) return REFUSE("a fix report must be an object");
    if ((rc = check_keys(v, fix_keys, "a fix report")) != TSHOOT_OK) return rc;
    x = ts_json_string(json_object_get(v, "fix"), NULL);
    o = ts_json_string(json_object_get(v, "outcome"), NULL);
    if (!x || !o) return REFUSE("a fix report needs 'fix' and 'outcome' strings");
    for (oc = 0; oc < 4 && strcmp(o, outcome_names[oc]) != 0; oc++) {}
    if (oc == 4)
      return bad_json("saved session refused: a fix outcome must be worked, did_not_work, could_not_try or "
                      "skipped, not '%s'", o);
    xi = rules_fix(s->m, x);
    rc = check_item(ch, "fix", x, xi, xi >= 0 ? s->m->x[xi].digest : "", v);
    if (rc < 0) return rc;
    if (rc == 0) continue;
    if (seen[xi]++) return bad_json("saved session refused: fix '%s' is reported twice", x);
    if ((rc = tshoot_session_fix_result(s, x, (tshoot_fix_outcome)oc)) != TSHOOT_OK) return rc;
  }
  return TSHOOT_OK;
}

/* The causes the session had in play must be there unchanged. */
static int load_causes(tshoot_session *s, json_t *arr, changes *ch)
{
  static const char *const keys[] = { "cause", "digest", NULL };
  json_t *v;
  size_t k;
  int rc;
  if (!arr) return TSHOOT_OK;
  if (!json_is_array(arr)) return REFUSE("'causes' must be an array");
  if (json_array_size(arr) > s->m->nc + 1) return REFUSE("more causes than the KB has");
  json_array_foreach(arr, k, v) {
    const char *id;
    int ci;
    if (!json_is_object(v)) return REFUSE("a cause must be an object");
    if ((rc = check_keys(v, keys, "a cause")) != TSHOOT_OK) return rc;
    if (!(id = ts_json_string(json_object_get(v, "cause"), NULL))) return REFUSE("a cause needs a 'cause' string");
    ci = rules_cause(s->m, id);
    rc = check_item(ch, "cause", id, ci, ci >= 0 ? s->m->c[ci].digest : "", v);
    if (rc < 0) return rc;
  }
  return TSHOOT_OK;
}

/* The evidence, in the order it was given: text, symptoms, answers, fixes. */
static int load_evidence(tshoot_session *s, json_t *root, int trusted, int same_build)
{
  json_t *v = json_object_get(root, "text");
  unsigned char *seen;
  changes ch;
  int rc = TSHOOT_OK;
  memset(&ch, 0, sizeof ch);
  ch.same_build = same_build;
  if (v && !json_is_null(v)) {
    const char *t = ts_json_string(v, NULL);
    if (!t) return REFUSE("'text' must be a string without NUL");
    if ((rc = tshoot_session_describe(s, t, strlen(t))) != TSHOOT_OK) return rc;
  }
  seen = ts_malloc(s->m->ns + s->m->nx + 1);   /* per symptom or fix: given already */
  if (!seen) return ts_error_oom();
  if (rc == TSHOOT_OK) rc = load_symptoms(s, json_object_get(root, "symptoms"), seen, &ch);
  if (rc == TSHOOT_OK) rc = load_answers(s, json_object_get(root, "answers"), trusted, &ch);
  if (rc == TSHOOT_OK) rc = load_fixes(s, json_object_get(root, "fixes"), seen, &ch);
  if (rc == TSHOOT_OK) rc = load_causes(s, json_object_get(root, "causes"), &ch);
  ts_free(seen);
  if (rc == TSHOOT_OK && ch.b.oom) rc = ts_error_oom();
  if (rc == TSHOOT_OK && ch.n)
    rc = ts_error(TSHOOT_EVERSION, "the KB was rebuilt and changed what this session used: %s; start a new "
                  "session", ts_buf_cstr(&ch.b));
  ts_buf_free(&ch.b);
  return rc;
}

TSHOOT_API int tshoot_session_load(tshoot_session **out, tshoot_kb *kb, const char *json, size_t len,
                                   const tshoot_session_options *opts)
{
  static const char *const top_keys[] = { "tshoot_session", "kb", "conclude_at", "noise", "flags",
                                          "text", "symptoms", "answers", "fixes", "causes", "mac", NULL };
  json_error_t jerr;
  json_t *root;
  tshoot_session *s = NULL;
  tshoot_session_options o = TSHOOT_SESSION_OPTIONS_INIT;
  const rules_model *m;
  int rc, trusted = 0;

  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_ARG(kb && json);
  TS_CHECK_OPTIONS(opts, TSHOOT_SESSION_OPTIONS_VERSION);
  if (len > MAX_SAVED_JSON) return REFUSE("larger than 1 MiB");
  if (opts && opts->version >= 2 && opts->key) {
    /* signed sessions only: nothing of an unsigned one is read */
    if (!opts->key_len) return ts_error(TSHOOT_EINVALID, "a session key needs both key and key_len (key_len is 0)");
    if ((rc = verify_mac(opts, json, len)) != TSHOOT_OK) return rc;
    trusted = 1;
  }
  if (ts_json_too_deep(json, len, MAX_JSON_DEPTH)) return REFUSE("nested deeper than 16");
  root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root && json_error_code(&jerr) == json_error_out_of_memory) return ts_error_oom();
  if (!root) {
    char msg[300];
    snprintf(msg, sizeof msg, "not valid JSON at line %d column %d: %.150s", jerr.line, jerr.column, jerr.text);
    return REFUSE(msg);
  }
  if (!json_is_object(root)) rc = REFUSE("not a JSON object");
  else rc = check_keys(root, top_keys, "the session");
  if (rc == TSHOOT_OK) rc = load_header(root, kb, &m);
  if (rc == TSHOOT_OK) rc = load_options(root, opts, &o);
  if (rc == TSHOOT_OK) rc = tshoot_session_new(&s, kb, &o);
  if (rc == TSHOOT_OK)
    rc = load_evidence(s, root, trusted, strcmp(json_string_value(json_object_get(root, "kb")), m->digest) == 0);
  json_decref(root);
  if (rc != TSHOOT_OK) {
    tshoot_session_free(s);
    return rc;
  }
  *out = s;
  return TSHOOT_OK;
}
