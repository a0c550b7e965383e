/*
** http.c: the libmicrohttpd side of the server.
**
** libmicrohttpd runs a pool of threads, each with its own epoll loop; every
** request goes through http_access in one of them: the first call (headers
** read) checks the rate and the announced size, the next ones collect the
** body up to --max-body, the last one routes and answers. Every response
** carries the security headers; errors are RFC 9457 problem+json. When the
** request is done (sent, or the client went away) http_done writes its log
** line (method, path without query, status, time) and counts it.
**
** Limits enforced here (main.c --help lists them): body size (413 before the
** body is read when Content-Length says so), header size (libmicrohttpd
** answers 431 past its per-connection memory), requests per second per
** client (429), connections in total and per client, and a timeout on idle or
** slow connections (closed).
*/
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

static struct MHD_Daemon *http_daemon;

typedef struct http_req {
  double t0;
  serve_route route;
  int status;
  char method[12];
  char logpath[160];
  char client[48];
  char *body;
  size_t len, cap;
  int too_big;
} http_req;

/* ===== responses ===== */

static void http_headers(struct MHD_Response *r, struct MHD_Connection *c, int api)
{
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
  MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
  MHD_add_response_header(r, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  MHD_add_response_header(r, "Cache-Control", api ? "no-store" : "no-cache");
  if (serve_cfg.allow_origin) {
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin && (strcmp(serve_cfg.allow_origin, "*") == 0 ||
                   strcmp(origin, serve_cfg.allow_origin) == 0)) {
      MHD_add_response_header(r, "Access-Control-Allow-Origin", serve_cfg.allow_origin);
      MHD_add_response_header(r, "Vary", "Origin");
    }
  }
}

static enum MHD_Result http_send(struct MHD_Connection *c, http_req *rq, int status,
                                 char *body, size_t len, const char *ctype, int api,
                                 const char *const *extra)
{
  struct MHD_Response *r;
  enum MHD_Result ok;
  r = MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                      body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
  http_headers(r, c, api);
  for (; extra && extra[0]; extra += 2) MHD_add_response_header(r, extra[0], extra[1]);
  ok = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  rq->status = status;
  return ok;
}

static enum MHD_Result http_send_json(struct MHD_Connection *c, http_req *rq, int status,
                                      json_t *j, const char *ctype, const char *const *extra)
{
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
  json_decref(j);
  if (!s) return http_send(c, rq, 500, NULL, 0, NULL, 1, NULL);
  return http_send(c, rq, status, s, strlen(s), ctype, 1, extra);
}

static enum MHD_Result http_send_problem(struct MHD_Connection *c, http_req *rq,
                                         const serve_problem *p, const char *const *extra)
{
  json_t *j = json_pack("{s:s,s:s,s:i,s:o}", "type", "about:blank", "title", p->title,
                        "status", p->status, "detail", serve_jstr(p->detail));
  char type[64];
  if (!j) return http_send(c, rq, p->status, NULL, 0, NULL, 1, extra);
  snprintf(type, sizeof type, "urn:tshoot:problem:%s", p->type ? p->type : "error");
  json_object_set_new(j, "type", json_string(type));
  if (p->field[0]) json_object_set_new(j, "field", serve_jstr(p->field));
  if (p->revision >= 0) json_object_set_new(j, "revision", json_integer(p->revision));
  return http_send_json(c, rq, p->status, j, "application/problem+json", extra);
}

static enum MHD_Result http_problem(struct MHD_Connection *c, http_req *rq, int status,
                                    const char *field, const char *const *extra,
                                    const char *detail)
{
  serve_problem p;
  serve_fail(&p, status, field, "%s", detail);
  return http_send_problem(c, rq, &p, extra);
}

/* ===== static files (the web page) ===== */

static const char *http_static_type(const char *name)
{
  static const char *const types[][2] = {
    { ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" }, { ".svg", "image/svg+xml" },
    { ".png", "image/png" }, { ".ico", "image/x-icon" }, { ".json", "application/json" },
    { ".txt", "text/plain; charset=utf-8" }, { ".woff2", "font/woff2" },
  };
  const char *dot = strrchr(name, '.');
  size_t i;
  for (i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i][0]) == 0) return types[i][1];
  return NULL;
}

/* A file name of the web folder: letters, digits, '-', '_' and one '.'
** before a known extension; nothing else (no '/', no "..", no hidden files). */
static int http_static_name(const char *name)
{
  const char *s;
  int dots = 0;
  if (!*name || *name == '.' || strlen(name) > 64) return 0;
  for (s = name; *s; s++) {
    if (*s == '.') dots++;
    else if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
               (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
      return 0;
  }
  return dots == 1 && http_static_type(name) != NULL;
}

static enum MHD_Result http_static(struct MHD_Connection *c, http_req *rq, const char *name)
{
  char path[4096];
  struct stat st;
  char *buf;
  int fd;
  ssize_t got;
  if (!serve_cfg.web_dir || !http_static_name(name))
    return http_problem(c, rq, 404, NULL, NULL, "no such page");
  snprintf(path, sizeof path, "%s/%s", serve_cfg.web_dir, name);
  fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return http_problem(c, rq, 404, NULL, NULL, "no such page");
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4 << 20 ||
      !(buf = malloc((size_t)st.st_size + 1))) {
    close(fd);
    return http_problem(c, rq, 404, NULL, NULL, "no such page");
  }
  got = read(fd, buf, (size_t)st.st_size);
  close(fd);
  if (got != st.st_size) {
    free(buf);
    return http_problem(c, rq, 404, NULL, NULL, "no such page");
  }
  return http_send(c, rq, 200, buf, (size_t)got, http_static_type(name), 0, NULL);
}

/* ===== routing ===== */

/* Split the path into at most 6 segments; -1 when it has more, or empty ones. */
static int http_split(char *path, char **seg)
{
  int n = 0;
  char *s = path + 1, *slash;
  if (*path != '/') return -1;
  if (!*s) return 0;
  for (;;) {
    if (n == 6) return -1;
    slash = strchr(s, '/');
    seg[n++] = s;
    if (!slash) break;
    *slash = '\0';
    s = slash + 1;
  }
  for (int i = 0; i < n; i++)
    if (!*seg[i]) return -1;
  return n;
}

/* The route of (method, path): *route set, params filled, and 0; or 404/405
** (*allow lists the methods of a known path). */
static int http_route(const char *method, char *path, serve_route *route, char **params,
                      const char **allow)
{
  char *seg[6];
  int n = http_split(path, seg);
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  int post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
  *allow = "GET, HEAD";
  if (n < 0) return 404;
  if (n == 0) { *route = ROUTE_STATIC; params[0] = "index.html"; return get ? 0 : 405; }
  if (n == 1 && strcmp(seg[0], "healthz") == 0) { *route = ROUTE_HEALTHZ; return get ? 0 : 405; }
  if (n == 1 && strcmp(seg[0], "metrics") == 0) { *route = ROUTE_METRICS; return get ? 0 : 405; }
  if (n == 1) { *route = ROUTE_STATIC; params[0] = seg[0]; return get ? 0 : 405; }
  if (strcmp(seg[0], "v1") != 0) return 404;
  *allow = "GET";
  get = strcmp(method, "GET") == 0;
  if (n == 2 && strcmp(seg[1], "search") == 0) { *route = ROUTE_SEARCH; return get ? 0 : 405; }
  if (n == 3 && strcmp(seg[1], "articles") == 0) {
    *route = ROUTE_ARTICLE;
    params[0] = seg[2];
    return get ? 0 : 405;
  }
  if (strcmp(seg[1], "sessions") != 0) return 404;
  if (n == 2) { *allow = "POST"; *route = ROUTE_SESSION_NEW; return post ? 0 : 405; }
  params[0] = seg[2];
  if (n == 3) {
    *allow = "GET, DELETE";
    *route = del ? ROUTE_SESSION_DELETE : ROUTE_SESSION_GET;
    return get || del ? 0 : 405;
  }
  if (n == 4 && strcmp(seg[3], "answers") == 0) { *allow = "POST"; *route = ROUTE_ANSWER; return post ? 0 : 405; }
  if (n == 4 && strcmp(seg[3], "back") == 0) { *allow = "POST"; *route = ROUTE_BACK; return post ? 0 : 405; }
  if (n == 4 && strcmp(seg[3], "why") == 0) { *route = ROUTE_WHY; return get ? 0 : 405; }
  if (n == 4 && strcmp(seg[3], "how") == 0) { *route = ROUTE_HOW; return get ? 0 : 405; }
  if (n == 5 && strcmp(seg[3], "fixes") == 0) {
    *allow = "POST";
    *route = ROUTE_FIX;
    params[1] = seg[4];
    return post ? 0 : 405;
  }
  return 404;
}

static const char *http_arg(void *conn, const char *name, size_t *len)
{
  const char *v = NULL;
  size_t n = 0;
  if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, &n)
      != MHD_YES)
    return NULL;
  if (len) *len = n;
  return v ? v : "";
}

static enum MHD_Result http_dispatch(struct MHD_Connection *c, http_req *rq, const char *url)
{
  char path[2048], *params[2] = { NULL, NULL };
  const char *allow = NULL;
  serve_problem p;
  serve_reply reply;
  serve_request sr;
  int rc;
  if (strlen(url) >= sizeof path)
    return http_problem(c, rq, 414, NULL, NULL, "the path is too long");
  memcpy(path, url, strlen(url) + 1);
  if (serve_cfg.allow_origin && strcmp(rq->method, "OPTIONS") == 0 && strncmp(url, "/v1/", 4) == 0) {
    static const char *const pre[] = {
      "Access-Control-Allow-Methods", "GET, POST, DELETE",
      "Access-Control-Allow-Headers", "Content-Type", "Access-Control-Max-Age", "600", NULL };
    return http_send(c, rq, 204, NULL, 0, NULL, 1, pre);
  }
  rc = http_route(rq->method, path, &rq->route, params, &allow);
  if (rc == 404) return http_problem(c, rq, 404, NULL, NULL, "no such resource");
  if (rc == 405) {
    const char *extra[] = { "Allow", allow, NULL };
    char msg[96];
    snprintf(msg, sizeof msg, "this resource answers %s only", allow);
    return http_problem(c, rq, 405, NULL, extra, msg);
  }
  if (rq->too_big) {
    char msg[96];
    snprintf(msg, sizeof msg, "the body is larger than %zu bytes", serve_cfg.max_body);
    return http_problem(c, rq, 413, NULL, NULL, msg);
  }
  switch (rq->route) {
  case ROUTE_STATIC:
    return http_static(c, rq, params[0]);
  case ROUTE_HEALTHZ: {
    serve_kb *k = kbset_current();
    json_t *j = json_pack("{s:s,s:s}", "status", "ok", "kb", k ? k->digest : "");
    kbset_release(k);
    return http_send_json(c, rq, 200, j, "application/json", NULL);
  }
  case ROUTE_METRICS: {
    size_t len = 0;
    char *text = metrics_text(&len);
    return http_send(c, rq, text ? 200 : 500, text, len,
                     "text/plain; version=0.0.4; charset=utf-8", 1, NULL);
  }
  default:
    break;
  }
  memset(&sr, 0, sizeof sr);
  memset(&reply, 0, sizeof reply);
  memset(&p, 0, sizeof p);
  sr.method = rq->method;
  sr.path = url;
  sr.client = rq->client;
  sr.body = rq->body;
  sr.body_len = rq->len;
  sr.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
  sr.arg = http_arg;
  sr.conn = c;
  if (api_handle(rq->route, &sr, params, &reply, &p) != 0) {
    char retry[16];
    const char *extra[] = { "Retry-After", retry, NULL };
    snprintf(retry, sizeof retry, "%d", p.status == 429 ? 60 : 0);
    json_decref(reply.json);
    return http_send_problem(c, rq, &p, p.status == 429 ? extra : NULL);
  }
  if (reply.location[0]) {
    const char *extra[] = { "Location", reply.location, NULL };
    return http_send_json(c, rq, reply.status, reply.json, "application/json", extra);
  }
  if (!reply.json) return http_send(c, rq, reply.status, NULL, 0, NULL, 1, NULL);
  return http_send_json(c, rq, reply.status, reply.json, "application/json", NULL);
}

/* ===== the request's life ===== */

/* The path as logged: query-less (libmicrohttpd gives it so), bytes outside
** printable ASCII as %XX, a session id cut to its first 8 characters (the id
** is the only key to a session: logs must not hold it), at most ~150 bytes. */
static void http_logpath(char *out, size_t size, const char *url)
{
  static const char sessions[] = "/v1/sessions/";
  size_t o = 0, i, skip_from = (size_t)-1, skip_to = 0;
  if (strncmp(url, sessions, sizeof sessions - 1) == 0) {
    const char *id = url + sizeof sessions - 1, *end = strchr(id, '/');
    size_t idlen = end ? (size_t)(end - id) : strlen(id);
    if (idlen > 8) {
      skip_from = sizeof sessions - 1 + 8;
      skip_to = sizeof sessions - 1 + idlen;
    }
  }
  for (i = 0; url[i] && o + 8 < size; i++) {
    unsigned char ch = (unsigned char)url[i];
    if (i == skip_from) {
      memcpy(out + o, "...", 3);
      o += 3;
      i = skip_to - 1;
      continue;
    }
    if (ch > 0x20 && ch < 0x7f && ch != '%') out[o++] = (char)ch;
    else o += (size_t)snprintf(out + o, size - o, "%%%02X", ch);
  }
  if (url[i]) memcpy(out + o, "...", 3), o += 3;
  out[o] = '\0';
}

static void http_client(struct MHD_Connection *c, char *out, size_t size)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  const struct sockaddr *sa = ci ? ci->client_addr : NULL;
  snprintf(out, size, "unknown");
  if (sa && sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)size);
  else if (sa && sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)size);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **state)
{
  http_req *rq = *state;
  if (!rq) {
    const char *cl;
    int retry;
    rq = calloc(1, sizeof *rq);
    if (!rq) return MHD_NO;
    *state = rq;
    rq->t0 = serve_mono();
    rq->status = 0;
    snprintf(rq->method, sizeof rq->method, "%s", method);
    http_logpath(rq->logpath, sizeof rq->logpath, url);
    http_client(c, rq->client, sizeof rq->client);
    if (!guard_allow(rq->client, &retry)) {
      char ra[16];
      const char *extra[] = { "Retry-After", ra, NULL };
      snprintf(ra, sizeof ra, "%d", retry);
      return http_problem(c, rq, 429, NULL, extra, "too many requests from this address; "
                          "wait and try again");
    }
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
      char *end;
      unsigned long long n;
      errno = 0;
      n = strtoull(cl, &end, 10);
      if (errno || *end || n > serve_cfg.max_body) {
        char msg[96];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes", serve_cfg.max_body);
        return http_problem(c, rq, 413, NULL, NULL, msg);
      }
    }
    return MHD_YES;
  }
  if (rq->status) {                         /* answered early; the rest is discarded */
    *upload_size = 0;
    return MHD_YES;
  }
  if (*upload_size) {
    size_t n = *upload_size;
    *upload_size = 0;
    /* a body that trickles in: --timeout closes a connection that stalls, this
    ** one that sends a byte now and then */
    if (serve_mono() - rq->t0 > 3.0 * serve_cfg.timeout_s) return MHD_NO;
    if (rq->too_big || rq->len + n > serve_cfg.max_body) {
      rq->too_big = 1;
      return MHD_YES;
    }
    if (rq->len + n + 1 > rq->cap) {
      size_t cap = rq->cap ? rq->cap : 1024;
      char *b;
      while (cap < rq->len + n + 1) cap *= 2;
      b = realloc(rq->body, cap);
      if (!b) return MHD_NO;
      rq->body = b;
      rq->cap = cap;
    }
    memcpy(rq->body + rq->len, upload, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
  }
  return http_dispatch(c, rq, url);
}

static void http_done(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode toe)
{
  http_req *rq = *state;
  double dt;
  if (!rq) return;
  dt = serve_mono() - rq->t0;
  metrics_request(rq->route, rq->status ? rq->status : 499, dt);
  if (!serve_cfg.quiet) {
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || rq->status)
      serve_log("%s %s %d %.2fms", rq->method, rq->logpath, rq->status, dt * 1000);
    else
      serve_log("%s %s - %.2fms (connection closed: %s)", rq->method, rq->logpath, dt * 1000,
                toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout" : "client or error");
  }
  free(rq->body);
  free(rq);
  *state = NULL;
}

static int http_hex(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode %HH escapes in the path and the query, except %00: a NUL would cut
** the path short (libmicrohttpd hands it over NUL-terminated), so that
** "/index.html%00.css" would read as "/index.html". Left as it is, it makes
** the path match nothing. */
static size_t http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
  char *r = s, *w = s;
  while (*r) {
    int hi, lo;
    if (r[0] == '%' && r[1] && r[2] &&
        (hi = http_hex(r[1])) >= 0 && (lo = http_hex(r[2])) >= 0 && (hi | lo) != 0) {
      *w++ = (char)(hi << 4 | lo);
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  return (size_t)(w - s);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
  char line[512];
  size_t n;
  vsnprintf(line, sizeof line, fmt, ap);
  n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  if (!serve_cfg.quiet) serve_log("http: %s", line);
}

/* "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (127.0.0.1) into a socket address. */
static int http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
  char host[256];
  const char *colon;
  char *end;
  long port;
  memset(ss, 0, sizeof *ss);
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host) return -1;
    memcpy(host, s + 1, (size_t)(close - s - 1));
    host[close - s - 1] = '\0';
    colon = close + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (!host[0]) snprintf(host, sizeof host, "127.0.0.1");
  }
  errno = 0;
  port = strtol(colon + 1, &end, 10);
  if (errno || *end || end == colon + 1 || port < 0 || port > 65535) return -1;
  if (strchr(host, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return -1;
    *len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return -1;
    *len = sizeof *a;
  }
  return 0;
}

int http_listen_ok(const char *addr)
{
  struct sockaddr_storage ss;
  socklen_t len;
  return http_parse_listen(addr, &ss, &len) == 0;
}

int http_start(void)
{
  struct sockaddr_storage ss;
  socklen_t len;
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
  const union MHD_DaemonInfo *di;
  char addr[64];
  if (http_parse_listen(serve_cfg.listen, &ss, &len) != 0) {
    serve_log("--listen %s: expected ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080",
              serve_cfg.listen);
    return -1;
  }
  if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  http_daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_access, NULL,
    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)serve_cfg.threads,
    MHD_OPTION_CONNECTION_MEMORY_LIMIT, serve_cfg.max_header + 4096,
    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)serve_cfg.timeout_s,
    MHD_OPTION_CONNECTION_LIMIT, (unsigned)serve_cfg.max_connections,
    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)serve_cfg.max_conn_client,
    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)511,
    MHD_OPTION_NOTIFY_COMPLETED, http_done, NULL,
    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
    MHD_OPTION_END);
  if (!http_daemon) {
    serve_log("cannot listen on %s: %s", serve_cfg.listen, strerror(errno));
    return -1;
  }
  di = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
  else
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
  serve_log("listening on http://%s%s%s:%u/", ss.ss_family == AF_INET6 ? "[" : "", addr,
            ss.ss_family == AF_INET6 ? "]" : "", di ? (unsigned)di->port : 0u);
  return 0;
}

/* Stop: no new connections; the requests in flight (and connections kept
** alive) get up to 5 seconds to finish; then every thread stops. */
void http_stop(void)
{
  MHD_socket fd;
  double end = serve_mono() + 5;
  if (!http_daemon) return;
  fd = MHD_quiesce_daemon(http_daemon);
  while (serve_mono() < end) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(http_daemon,
                                                         MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    if (!di || di->num_connections == 0) break;
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(http_daemon);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  http_daemon = NULL;
}
