/*
** serve.h: the inside of tshoot-serve, the HTTP server, shared by its files.
**
** A thin client of the public header (tshoot.h), like cli/: it uses no engine
** internals. One job per file, each function prefixed by its file's name:
**
**   main.c     options, --help, start-up, the signal loop (SIGHUP reloads),
**              shutdown
**   serve.c    what all files share: configuration, clocks, random bytes, the
**              log, problems (RFC 9457), JSON strings from any bytes
**   http.c     libmicrohttpd glue: one request's state, limits (body size,
**              rate), routing, responses with their security headers, the
**              log line, problem+json errors
**   api.c      the handlers of /v1: search, articles, sessions
**   steps.c    the one place that maps request bodies to session calls and
**              sessions to response bodies (so that a change of the session
**              API is a change here)
**   store.c    the session store: a struct of functions (store_ops) and its
**              SQLite backend (WAL, expiry)
**   kbset.c    the KBs in service: the current one, and older builds kept
**              while their sessions live; reloading
**   guard.c    requests per second per client (token buckets)
**   metrics.c  counters and latency histograms, in Prometheus text format
*/
#ifndef TSHOOT_SERVE_H
#define TSHOOT_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include "tshoot.h"

#if defined(__GNUC__)
# define SERVE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
# define SERVE_PRINTF(f, a)
#endif

/* ===== configuration (main.c fills it, everything reads it) ===== */
typedef struct serve_config {
  const char *kb_path;          /* --kb, or NULL: the default KB */
  const char *listen;           /* --listen ADDR:PORT */
  const char *sessions_path;    /* --sessions FILE (":memory:": not kept) */
  const char *key_path;         /* --key FILE; NULL: SESSIONS.key */
  const char *web_dir;          /* --web DIR, or NULL: none */
  const char *allow_origin;     /* --allow-origin ORIGIN, or NULL: CORS off */
  unsigned threads;             /* --threads */
  long long idle_s;             /* --idle: seconds before an idle session expires */
  size_t max_body;              /* --max-body bytes */
  size_t max_header;            /* --max-header bytes (request line + headers) */
  size_t max_query;             /* --max-query bytes of q */
  unsigned max_sessions_client; /* --max-sessions live sessions per client; 0: no limit */
  double rate;                  /* --rate requests/s per client; 0: no limit */
  unsigned timeout_s;           /* --timeout: an idle or slow connection is closed */
  unsigned max_connections;     /* --max-connections */
  unsigned max_conn_client;     /* --max-connections-per-client */
  int quiet;                    /* --quiet: no request log */
  unsigned char key[32];        /* the server's session key (signs saved sessions) */
} serve_config;

extern serve_config serve_cfg;

/* Seconds since the epoch / a monotonic clock in seconds. */
long long serve_now(void);
double serve_mono(void);
/* n random bytes from the kernel; 0 on success. */
int serve_random(void *buf, size_t n);
/* A log line "tshoot-serve: ..." on stderr, written in one call. */
void serve_log(const char *fmt, ...) SERVE_PRINTF(1, 2);

/* ===== a problem (RFC 9457) or a response body (serve.c) ===== */
typedef struct serve_problem {
  int status;                   /* 400, 404, ... */
  const char *type;             /* short name: "bad-request", "not-found", ... */
  char title[96];
  char detail[512];
  char field[96];               /* the member or parameter at fault, or "" */
  long long revision;           /* 409: the session's current revision, else -1 */
} serve_problem;

/* Fill p and return -1 (so that handlers can `return serve_fail(...)`). */
int serve_fail(serve_problem *p, int status, const char *field, const char *fmt, ...)
  SERVE_PRINTF(4, 5);
/* A library failure as a problem: EINVALID 400, ENOTFOUND 404, else 500 (the
** message of tshoot_error_last() is the detail). */
int serve_fail_lib(serve_problem *p, int rc, const char *field);

typedef struct serve_reply {
  int status;
  json_t *json;                 /* the body (owned), or NULL: no body */
  char location[160];           /* a Location header, or "" */
} serve_reply;

/* A JSON string from bytes that may not be UTF-8 (bad bytes become U+FFFD). */
json_t *serve_jstr(const char *s);

/* ===== routes (names in serve.c, handlers in api.c) ===== */
typedef enum serve_route {
  ROUTE_OTHER = 0, ROUTE_STATIC, ROUTE_HEALTHZ, ROUTE_METRICS, ROUTE_SEARCH, ROUTE_ARTICLE,
  ROUTE_SESSION_NEW, ROUTE_SESSION_GET, ROUTE_SESSION_DELETE, ROUTE_ANSWER, ROUTE_BACK,
  ROUTE_FIX, ROUTE_WHY, ROUTE_HOW, ROUTE_COUNT
} serve_route;

extern const char *const serve_route_names[ROUTE_COUNT];

/* What a handler sees of a request. */
typedef struct serve_request {
  const char *method;
  const char *path;             /* decoded, without the query */
  const char *client;           /* the peer's address, as text */
  const char *body;             /* NUL-terminated; NULL when none */
  size_t body_len;
  const char *content_type;     /* NULL when none */
  /* query parameters: the value and its length, or NULL when absent */
  const char *(*arg)(void *conn, const char *name, size_t *len);
  void *conn;
} serve_request;

/* Handle one /v1 request: fill `reply` (status and body), or `p` and return -1. */
int api_handle(serve_route route, const serve_request *rq, char **params,
               serve_reply *reply, serve_problem *p);

/* ===== KBs in service (kbset.c) ===== */
typedef struct serve_kb {
  tshoot_kb *kb;
  char digest[72];
  int refs;                     /* under the set's lock */
  struct serve_kb *next;
} serve_kb;

int kbset_init(const char *path);          /* open the KB; 0 or -1 (logged) */
serve_kb *kbset_current(void);             /* referenced: kbset_release it */
serve_kb *kbset_find(const char *digest);  /* referenced, or NULL */
void kbset_release(serve_kb *k);
int kbset_reload(const char *why);         /* 1 swapped, 0 same build, -1 failed (kept) */
void kbset_check_file(void);               /* reload when the file was replaced */
void kbset_prune(void);                    /* close older builds no session uses */
void kbset_close(void);
unsigned kbset_generation(void);           /* how many swaps so far */

/* ===== the session store (store.c) ===== */
typedef struct store_row {
  char *data;                   /* the saved session (tshoot_session_save) */
  char *kb;                     /* the digest of its KB */
  char *client;
  char *notes;                  /* reserved for the server's own notes: "[]" */
  long long revision, created, touched;
} store_row;

/* A store: a struct of functions, so that another backend (a database server)
** can take the SQLite file's place. Every function is safe from any thread.
** Return values: 0 done, 1 not found (get, update: or the revision moved),
** -1 failure (logged). */
typedef struct store_ops {
  int (*create)(void *self, const char *id, const store_row *row);
  int (*get)(void *self, const char *id, long long live_since, store_row *out);
  int (*update)(void *self, const char *id, long long expect_revision, const store_row *row);
  int (*remove)(void *self, const char *id);
  /* live sessions (touched at or after live_since), of `client` or of all (NULL) */
  long long (*count)(void *self, const char *client, long long live_since);
  /* sessions whose KB is `digest` */
  long long (*count_kb)(void *self, const char *digest);
  /* delete sessions touched before `before`: how many */
  long long (*expire)(void *self, long long before);
  /* housekeeping, called every second from the main thread (the SQLite
  ** backend moves its WAL into the file there, not in a request) */
  void (*tick)(void *self);
  void (*close)(void *self);
} store_ops;

typedef struct serve_store {
  const store_ops *ops;
  void *self;
} serve_store;

extern serve_store serve_sessions;
int store_sqlite_open(serve_store *out, const char *path);
void store_row_clear(store_row *r);

/* ===== the mapping between HTTP bodies and session calls (steps.c) ===== */
/* Build a new session from a POST /v1/sessions body. */
int steps_create(tshoot_session **out, tshoot_kb *kb, json_t *body, serve_problem *p);
/* POST .../answers: *reply is set (owned) for a reply in words (what the
** library read); *changed is 0 when nothing changed ("why", "how"). */
int steps_answer(tshoot_session *s, json_t *body, json_t **reply, int *changed, serve_problem *p);
/* POST .../back */
int steps_back(tshoot_session *s, serve_problem *p);
/* POST .../fixes/{fix} */
int steps_fix(tshoot_session *s, const char *fix, json_t *body, serve_problem *p);
/* The session as the API shows it. */
json_t *steps_session_json(tshoot_session *s, tshoot_kb *kb, const char *id,
                           long long revision, long long expires, serve_problem *p);
json_t *steps_explanation_json(const tshoot_explanation *e);
/* Options to load a session with (the server's key). */
void steps_session_options(tshoot_session_options *o);
/* Check `body`'s optional "revision" against `revision`: 0, or -1 with a 409. */
int steps_check_revision(json_t *body, long long revision, serve_problem *p);

/* ===== requests per second per client (guard.c) ===== */
/* 1: allowed; 0: over the rate (*retry_after set, in seconds). */
int guard_allow(const char *client, int *retry_after);

/* ===== metrics (metrics.c) ===== */
void metrics_request(serve_route route, int status, double seconds);
void metrics_search_empty(void);
/* The Prometheus text exposition (owned: free()). */
char *metrics_text(size_t *len);

/* ===== http (http.c) ===== */
int http_start(void);           /* 0, or -1 (logged) */
int http_listen_ok(const char *addr);   /* --listen ADDR:PORT parses */
void http_stop(void);

#endif /* TSHOOT_SERVE_H */
