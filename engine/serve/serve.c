/*
** serve.c: what every file of the server shares: the configuration, the
** store in use, clocks, random bytes, the log, problems (RFC 9457) and JSON
** strings from bytes that may not be UTF-8, and the routes' names.
*/
#include "serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

serve_store serve_sessions;

const char *const serve_route_names[ROUTE_COUNT] = {
  "other", "static", "healthz", "metrics", "search", "article", "session_create",
  "session_get", "session_delete", "answer", "back", "fix", "why", "how",
};

serve_config serve_cfg;

long long serve_now(void)
{
  return (long long)time(NULL);
}

double serve_mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int serve_random(void *buf, size_t n)
{
  unsigned char *b = buf;
  while (n) {
    ssize_t got = getrandom(b, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    b += got;
    n -= (size_t)got;
  }
  return 0;
}

void serve_log(const char *fmt, ...)
{
  char line[1024];
  char stamp[32];
  struct timespec ts;
  struct tm tm;
  va_list ap;
  size_t n;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  n = (size_t)snprintf(line, sizeof line, "%s.%03ldZ tshoot-serve: ", stamp, ts.tv_nsec / 1000000);
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  n = strlen(line);
  line[n++] = '\n';
  /* one write: lines of several threads never interleave */
  if (write(STDERR_FILENO, line, n) < 0) { /* nowhere to say it */ }
}

/* ===== problems and JSON strings ===== */

static const char *serve_status_title(int status)
{
  switch (status) {
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 429: return "Too Many Requests";
  case 503: return "Service Unavailable";
  default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

static const char *serve_status_type(int status)
{
  switch (status) {
  case 400: return "bad-request";
  case 404: return "not-found";
  case 405: return "method-not-allowed";
  case 409: return "conflict";
  case 410: return "gone";
  case 413: return "too-large";
  case 414: return "uri-too-long";
  case 415: return "unsupported-media-type";
  case 429: return "too-many-requests";
  case 503: return "unavailable";
  default: return "internal";
  }
}

int serve_fail(serve_problem *p, int status, const char *field, const char *fmt, ...)
{
  va_list ap;
  p->status = status;
  p->type = serve_status_type(status);
  snprintf(p->title, sizeof p->title, "%s", serve_status_title(status));
  snprintf(p->field, sizeof p->field, "%s", field ? field : "");
  va_start(ap, fmt);
  vsnprintf(p->detail, sizeof p->detail, fmt, ap);
  va_end(ap);
  p->revision = -1;
  return -1;
}

int serve_fail_lib(serve_problem *p, int rc, const char *field)
{
  const char *msg = tshoot_error_last()->message;
  if (!msg || !*msg) msg = tshoot_strerror(rc);
  if (rc == TSHOOT_EINVALID) return serve_fail(p, 400, field, "%s", msg);
  if (rc == TSHOOT_ENOTFOUND) return serve_fail(p, 404, field, "%s", msg);
  serve_log("library error: %s", msg);
  return serve_fail(p, 500, field, "%s", msg);
}

json_t *serve_jstr(const char *s)
{
  json_t *j;
  char *fixed;
  size_t n, i, o = 0;
  if (!s) s = "";
  j = json_string(s);
  if (j) return j;
  /* not UTF-8 (or out of memory): replace every byte that does not start a
  ** valid sequence by U+FFFD, keeping the valid ones */
  n = strlen(s);
  fixed = malloc(n * 3 + 1);
  if (!fixed) return NULL;
  for (i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    int ok = len > 0 && i + len <= n;
    size_t k;
    for (k = 1; ok && k < len; k++) ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
    if (ok && len > 1) {
      char tmp[5];
      memcpy(tmp, s + i, len);
      tmp[len] = '\0';
      json_t *t = json_string(tmp);   /* rejects overlongs and surrogates */
      ok = t != NULL;
      json_decref(t);
    }
    if (ok) {
      memcpy(fixed + o, s + i, len);
      o += len;
      i += len;
    } else {
      memcpy(fixed + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    }
  }
  fixed[o] = '\0';
  j = json_string(fixed);
  free(fixed);
  return j;
}
