/*
** bench-serve: tshoot serve under load, against its targets (BENCHMARKS.md,
** "tshoot serve"). Our own small load generator: keep-alive connections, one
** thread each, plain blocking sockets; public API only (tshoot.h) for the
** in-process reference.
**
**   bench-serve --serve BIN --search-kb KB --queries FILE --kerio-kb KB
**               [--seconds S] [--conns N] [--dialogues N] [--rate R] [--work DIR]
**               [--threads N]   (in-process threads and server threads; default: the CPUs)
**
** 1. Search: tshoot_search in this process on the queries, one thread per CPU,
**    for S seconds: searches per second. Then the same queries as
**    GET /v1/search over --conns (64) connections for S seconds: requests per
**    second (target: >= 70% of in-process), p50 and p99 latency (p99 < 20 ms).
** 2. Dialogues on the Kerio KB: --dialogues (1,000) sessions, then 5 steps
**    each (answer the question with its first choice, or report a proposed fix
**    as not working), offered at --rate (200) steps a second on a schedule
**    (open loop: latency counts from the time a step was due, so a slow server
**    cannot hide its queue): p50 and p99 per step (target p99 < 30 ms).
** 3. Memory per live session on both KBs: the server's resident memory and
**    its store (file + WAL) before and after the sessions, per session
**    (target < 20 KB on Kerio).
**
** Queries: one a line; a trailing '*' marks a prefix query (gen-kb --queries):
** it is searched without the '*', and other queries with a trailing space (no
** prefix), as bench-kb does.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include "tshoot.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
  fprintf(stderr, "bench-serve: %s\n", what);
  exit(1);
}

/* ===== queries ===== */
static char **queries;
static size_t n_queries;

static void load_queries(const char *path)
{
  FILE *f = fopen(path, "r");
  char line[1024];
  if (!f) die("cannot read the queries");
  while (fgets(line, sizeof line, f)) {
    size_t n = strcspn(line, "\r\n");
    line[n] = '\0';
    if (!n) continue;
    if (line[n - 1] == '*') line[n - 1] = '\0';
    else { line[n] = ' '; line[n + 1] = '\0'; }
    queries = realloc(queries, (n_queries + 1) * sizeof *queries);
    queries[n_queries++] = strdup(line);
  }
  fclose(f);
  if (!n_queries) die("no queries");
}

static char *urlencode(const char *s)
{
  char *out = malloc(strlen(s) * 3 + 1), *o = out;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.')
      *o++ = (char)c;
    else o += sprintf(o, "%%%02X", c);
  }
  *o = '\0';
  return out;
}

/* ===== latencies ===== */
static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
  size_t i;
  if (!n) return 0;
  i = (size_t)ceil(p * (double)n) - 1;
  if (i >= n) i = n - 1;
  return v[i];
}

/* ===== the in-process reference ===== */
static tshoot_kb *ref_kb;
static double ref_until;

static void *ref_worker(void *arg)
{
  size_t i = (size_t)arg * 7919, *count = calloc(1, sizeof *count);
  tshoot_search_options o = TSHOOT_SEARCH_OPTIONS_INIT;
  o.limit = 10;
  while (now() < ref_until) {
    tshoot_results *r = NULL;
    const char *q = queries[i++ % n_queries];
    if (tshoot_search(&r, ref_kb, q, strlen(q), &o) != TSHOOT_OK) die("tshoot_search failed");
    tshoot_results_free(r);
    (*count)++;
  }
  return count;
}

static double self_cpu(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double ref_cpu_per_op;   /* CPU seconds per search, of the last inprocess_rate */

static double inprocess_rate(const char *kb, int threads, double seconds)
{
  double cpu0;
  pthread_t t[64];
  size_t total = 0;
  double t0;
  int i;
  if (tshoot_kb_open(&ref_kb, kb, NULL) != TSHOOT_OK) die(tshoot_error_last()->message);
  t0 = now();
  cpu0 = self_cpu();
  ref_until = t0 + seconds;
  for (i = 0; i < threads; i++) pthread_create(&t[i], NULL, ref_worker, (void *)(size_t)i);
  for (i = 0; i < threads; i++) {
    void *c;
    pthread_join(t[i], &c);
    total += *(size_t *)c;
    free(c);
  }
  t0 = now() - t0;
  ref_cpu_per_op = (self_cpu() - cpu0) / (double)total;
  tshoot_kb_close(ref_kb);
  return (double)total / t0;
}

/* ===== the server ===== */
typedef struct server {
  pid_t pid;
  int port;
} server;

static server start_server(const char *bin, const char *kb, const char *sessions, int threads)
{
  int fds[2];
  server s;
  char line[512], th[16];
  FILE *f;
  snprintf(th, sizeof th, "%d", threads);
  if (pipe(fds) != 0) die("pipe");
  s.pid = fork();
  if (s.pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execl(bin, bin, "--listen", "127.0.0.1:0", "--kb", kb, "--sessions", sessions, "--rate", "0",
          "--max-sessions", "0", "--quiet", "--threads", th, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  f = fdopen(fds[0], "r");
  s.port = 0;
  while (fgets(line, sizeof line, f)) {
    char *p = strstr(line, "listening on http://127.0.0.1:");
    if (p) s.port = atoi(p + strlen("listening on http://127.0.0.1:"));
    if (strstr(line, "serving KB")) break;
    fputs(line, stderr);
  }
  if (!s.port) die("the server did not start");
  /* keep reading its stderr (nothing, with --quiet) so it never blocks */
  if (fork() == 0) {
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    _exit(0);
  }
  fclose(f);
  return s;
}

static void stop_server(server s)
{
  int st;
  kill(s.pid, SIGTERM);
  waitpid(s.pid, &st, 0);
  while (waitpid(-1, &st, WNOHANG) > 0) {}
}

static long rss_kib(pid_t pid)
{
  char path[64], line[256];
  long kib = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
  fclose(f);
  return kib;
}

/* CPU seconds (user + system) a process has used so far. */
static double proc_cpu(pid_t pid)
{
  char path[64], buf[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (!f) return 0;
  if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
  fclose(f);
  p = strrchr(buf, ')');        /* fields after the command name: state is field 3 */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long long file_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ===== a keep-alive HTTP client ===== */
typedef struct conn {
  int fd, port;
  char *buf;
  size_t cap;
} conn;

static void conn_open(conn *c)
{
  struct sockaddr_in a;
  int one = 1;
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)c->port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* One request; the status, and the body in c->buf (NUL-terminated). */
static int http(conn *c, const char *method, const char *path, const char *body)
{
  char req[4096];
  size_t len = 0, have = 0, need = 0;
  int n, status = 0, tries;
  for (tries = 0; tries < 2; tries++) {
    n = body ? snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body), body)
             : snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: b\r\n\r\n", method, path);
    if (c->fd < 0) conn_open(c);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) == n) break;
    close(c->fd);
    c->fd = -1;
  }
  if (!c->buf) c->buf = malloc(c->cap = 1 << 16);
  have = 0;
  for (;;) {
    ssize_t got;
    char *end;
    if (have + 1 >= c->cap) c->buf = realloc(c->buf, c->cap *= 2);
    got = recv(c->fd, c->buf + have, c->cap - have - 1, 0);
    if (got <= 0) die("the server closed the connection");
    have += (size_t)got;
    c->buf[have] = '\0';
    if (!need && (end = strstr(c->buf, "\r\n\r\n"))) {
      char *cl = strstr(c->buf, "\r\nContent-Length:");
      status = atoi(c->buf + 9);
      len = cl && cl < end ? (size_t)atol(cl + 17) : 0;
      need = (size_t)(end + 4 - c->buf) + len;
    }
    if (need && have >= need) {
      size_t hl = need - len;
      memmove(c->buf, c->buf + hl, len);
      c->buf[len] = '\0';
      return status;
    }
  }
}

/* ===== search load ===== */
typedef struct loadw {
  int port, id;
  double until;
  double *lat;
  size_t n, cap, errors;
} loadw;

static char **paths;

static void *search_worker(void *arg)
{
  loadw *w = arg;
  conn c = { -1, w->port, NULL, 0 };
  size_t i = (size_t)w->id * 7919;
  while (now() < w->until) {
    double t0 = now();
    int st = http(&c, "GET", paths[i++ % n_queries], NULL);
    if (st != 200) w->errors++;
    if (w->n == w->cap) w->lat = realloc(w->lat, (w->cap = w->cap ? w->cap * 2 : 4096) * sizeof *w->lat);
    w->lat[w->n++] = now() - t0;
  }
  if (c.fd >= 0) close(c.fd);
  free(c.buf);
  return NULL;
}

static void search_load(int port, int conns, double seconds, double *rps, double *p50, double *p99,
                        size_t *errors)
{
  pthread_t *t = calloc((size_t)conns, sizeof *t);
  loadw *w = calloc((size_t)conns, sizeof *w);
  double *all, t0 = now();
  size_t total = 0, k = 0;
  int i;
  for (i = 0; i < conns; i++) {
    w[i].port = port;
    w[i].id = i;
    w[i].until = t0 + seconds;
    pthread_create(&t[i], NULL, search_worker, &w[i]);
  }
  for (i = 0; i < conns; i++) {
    pthread_join(t[i], NULL);
    total += w[i].n;
  }
  t0 = now() - t0;
  all = malloc(total * sizeof *all);
  *errors = 0;
  for (i = 0; i < conns; i++) {
    memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
    k += w[i].n;
    *errors += w[i].errors;
    free(w[i].lat);
  }
  qsort(all, total, sizeof *all, cmp_double);
  *rps = (double)total / t0;
  *p50 = pct(all, total, 0.5) * 1000;
  *p99 = pct(all, total, 0.99) * 1000;
  free(all);
  free(w);
  free(t);
}

/* Open loop: GET /v1/search offered at `rate` a second by 16 threads on a
** schedule; latency counts from when a request was due. */
typedef struct openw {
  int port, id, nthreads;
  double start, rate;
  size_t total;
  double *lat;
  size_t n, errors;
} openw;

static void *open_worker(void *arg)
{
  openw *w = arg;
  conn c = { -1, w->port, NULL, 0 };
  size_t slot;
  for (slot = (size_t)w->id; slot < w->total; slot += (size_t)w->nthreads) {
    double due = w->start + (double)slot / w->rate, t;
    while ((t = now()) < due) {
      struct timespec ts = { 0, (long)((due - t) * 1e9) };
      nanosleep(&ts, NULL);
    }
    if (http(&c, "GET", paths[slot % n_queries], NULL) != 200) w->errors++;
    w->lat[w->n++] = now() - due;
  }
  if (c.fd >= 0) close(c.fd);
  free(c.buf);
  return NULL;
}

static void search_open(int port, double rate, double seconds, double *p50, double *p99, size_t *errors)
{
  enum { NT = 16 };
  pthread_t t[NT];
  openw w[NT];
  size_t total = (size_t)(rate * seconds), all_n = 0, k = 0;
  double *all, t0 = now() + 0.1;
  int i;
  for (i = 0; i < NT; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].port = port;
    w[i].id = i;
    w[i].nthreads = NT;
    w[i].start = t0;
    w[i].rate = rate;
    w[i].total = total;
    w[i].lat = calloc(total / NT + 1, sizeof *w[i].lat);
    pthread_create(&t[i], NULL, open_worker, &w[i]);
  }
  *errors = 0;
  for (i = 0; i < NT; i++) {
    pthread_join(t[i], NULL);
    all_n += w[i].n;
    *errors += w[i].errors;
  }
  all = malloc((all_n + 1) * sizeof *all);
  for (i = 0; i < NT; i++) {
    memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
    k += w[i].n;
    free(w[i].lat);
  }
  qsort(all, all_n, sizeof *all, cmp_double);
  *p50 = pct(all, all_n, 0.5) * 1000;
  *p99 = pct(all, all_n, 0.99) * 1000;
  free(all);
}

/* What the store holds per session: checkpointed file size and row bytes. */
static void store_per_session(const char *db, double *file_kb, double *row_kb, long long *rows)
{
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  *file_kb = *row_kb = 0;
  *rows = 0;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) { sqlite3_close(h); return; }
  sqlite3_busy_timeout(h, 5000);
  sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  if (sqlite3_prepare_v2(h, "SELECT count(*), sum(length(id) + length(client) + length(kb) + "
                         "length(data) + length(notes) + 24) FROM sessions", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW && (*rows = sqlite3_column_int64(q, 0)) > 0)
    *row_kb = sqlite3_column_double(q, 1) / 1000.0 / (double)*rows;
  sqlite3_finalize(q);
  sqlite3_close(h);
  if (*rows) *file_kb = (double)file_size(db) / 1000.0 / (double)*rows;
}

/* The server's own view, from its /metrics histograms: the bucket bound (ms)
** below which fraction p of the requests of the named routes were answered
** (time from the request's headers to its last byte sent). */
static double server_pct(int port, const char *const *routes, double p)
{
  conn c = { -1, port, NULL, 0 };
  double bounds[32], counts[32], total = 0, res = -1;
  int nb = 0, i;
  char *line;
  if (http(&c, "GET", "/metrics", NULL) != 200) die("/metrics failed");
  for (line = strtok(c.buf, "\n"); line; line = strtok(NULL, "\n")) {
    const char *const *r;
    char want[96], *le;
    for (r = routes; *r; r++) {
      snprintf(want, sizeof want, "tshoot_http_request_duration_seconds_bucket{route=\"%s\",le=\"", *r);
      if (strncmp(line, want, strlen(want)) == 0) break;
    }
    if (!*r) continue;
    le = line + strlen(want);
    double b = strncmp(le, "+Inf", 4) == 0 ? INFINITY : atof(le);
    double n = atof(strrchr(line, ' ') + 1);
    for (i = 0; i < nb && bounds[i] != b; i++) {}
    if (i == nb && nb < 32) { bounds[nb] = b; counts[nb++] = 0; }
    if (i < 32) counts[i] += n;
  }
  for (i = 0; i < nb; i++) if (isinf(bounds[i])) total = counts[i];
  for (i = 0; i < nb; i++)   /* buckets are cumulative and come in order */
    if (counts[i] >= p * total) { res = bounds[i] * 1000; break; }
  close(c.fd);
  free(c.buf);
  return res;
}

/* ===== dialogues ===== */
static const char *const texts[] = {
  "Outlook won't start after the update, something about kofmsp.dll",
  "outlook stuck on loading profile with the kerio connector",
  "MAPI was unable to load the information service kofmsp.dll",
  "cannot open your default e-mail folders, kerio profile",
  "Outlook crashes at start since the Kerio connector was upgraded",
  "kerio outlook connector is slow and the cache is huge",
};

typedef struct dialog {
  char id[40];
  int steps;
} dialog;

typedef struct dwork {
  int port, id, nthreads;
  dialog *d;
  size_t n_dialogs;
  double start, rate;
  int steps;
  double *lat;
  size_t n, errors;
} dwork;

/* the body that answers the session's current step; 0 when it has concluded */
static int next_body(const char *json, char *path, size_t psize, char *body, size_t bsize, const char *id)
{
  json_t *j = json_loads(json, 0, NULL), *step = json_object_get(j, "step");
  const char *kind = json_string_value(json_object_get(step, "kind"));
  int rc = 1;
  if (!kind || strcmp(kind, "conclude") == 0) {
    snprintf(path, psize, "/v1/sessions/%s", id);
    body[0] = '\0';
    rc = 0;
  } else if (strcmp(kind, "ask") == 0) {
    json_t *choices = json_object_get(json_object_get(step, "question"), "choices");
    const char *v = json_string_value(json_object_get(json_array_get(choices, 0), "value"));
    snprintf(path, psize, "/v1/sessions/%s/answers", id);
    if (v) snprintf(body, bsize, "{\"value\":\"%s\"}", v);
    else snprintf(body, bsize, "{\"unknown\":true}");
  } else {
    const char *fix = json_string_value(json_object_get(json_object_get(step, "fix"), "id"));
    snprintf(path, psize, "/v1/sessions/%s/fixes/%s", id, fix ? fix : "x");
    snprintf(body, bsize, "{\"outcome\":\"did_not_work\"}");
  }
  json_decref(j);
  return rc;
}

static void *dialog_worker(void *arg)
{
  dwork *w = arg;
  conn c = { -1, w->port, NULL, 0 };
  size_t mine = (w->n_dialogs + (size_t)w->nthreads - 1) / (size_t)w->nthreads;
  char (*last)[16384] = calloc(mine, sizeof *last);
  size_t k, d;
  int round;
  /* step `round` of dialog d is due at start + (round * n + d) / rate; this
  ** thread has the dialogs d = id, id + nthreads, ... and takes them in order */
  for (round = 0; round <= w->steps; round++)
    for (d = (size_t)w->id; d < w->n_dialogs; d += (size_t)w->nthreads) {
      double due = w->start + ((double)round * (double)w->n_dialogs + (double)d) / w->rate, t;
      char path[256], body[256];
      char *mylast = last[d / (size_t)w->nthreads];
      int st;
      while ((t = now()) < due) {
        struct timespec ts = { 0, (long)((due - t) * 1e9) };
        nanosleep(&ts, NULL);
      }
      if (round == 0) {
        json_t *j;
        snprintf(body, sizeof body, "{\"text\":\"%s\"}", texts[d % (sizeof texts / sizeof texts[0])]);
        st = http(&c, "POST", "/v1/sessions", body);
        if (st != 201) { w->errors++; continue; }
        j = json_loads(c.buf, 0, NULL);
        snprintf(w->d[d].id, sizeof w->d[d].id, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
      } else {
        if (next_body(mylast, path, sizeof path, body, sizeof body, w->d[d].id))
          st = http(&c, "POST", path, body);
        else
          st = http(&c, "GET", path, NULL);
        if (st != 200) w->errors++;
        w->lat[w->n++] = now() - due;
      }
      k = strlen(c.buf);
      if (k >= sizeof last[0]) k = sizeof last[0] - 1;
      memcpy(mylast, c.buf, k);
      mylast[k] = '\0';
    }
  if (c.fd >= 0) close(c.fd);
  free(c.buf);
  free(last);
  return NULL;
}

static void dialogues(int port, size_t n, int steps, double rate, double *p50, double *p99,
                      size_t *errors, double *achieved)
{
  int nthreads = 32, i;
  pthread_t t[32];
  dwork w[32];
  dialog *d = calloc(n, sizeof *d);
  double *all, t0;
  size_t total = 0, k = 0;
  t0 = now() + 0.2;
  for (i = 0; i < nthreads; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].port = port;
    w[i].id = i;
    w[i].nthreads = nthreads;
    w[i].d = d;
    w[i].n_dialogs = n;
    w[i].start = t0;
    w[i].rate = rate;
    w[i].steps = steps;
    w[i].lat = calloc((n / (size_t)nthreads + 1) * (size_t)steps, sizeof *w[i].lat);
    pthread_create(&t[i], NULL, dialog_worker, &w[i]);
  }
  *errors = 0;
  for (i = 0; i < nthreads; i++) {
    pthread_join(t[i], NULL);
    total += w[i].n;
    *errors += w[i].errors;
  }
  *achieved = (double)(n * (size_t)(steps + 1)) / (now() - t0);
  all = malloc(total * sizeof *all);
  for (i = 0; i < nthreads; i++) {
    memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
    k += w[i].n;
    free(w[i].lat);
  }
  qsort(all, total, sizeof *all, cmp_double);
  *p50 = pct(all, total, 0.5) * 1000;
  *p99 = pct(all, total, 0.99) * 1000;
  free(all);
  free(d);
}

/* Sessions only (for memory): n sessions made as fast as one connection goes. */
static void make_sessions(int port, size_t n)
{
  conn c = { -1, port, NULL, 0 };
  size_t i;
  for (i = 0; i < n; i++) {
    char body[256];
    snprintf(body, sizeof body, "{\"text\":\"%s\"}", i % 2 ? queries[i % n_queries] : texts[i % 6]);
    if (http(&c, "POST", "/v1/sessions", body) != 201) die("a session was refused");
  }
  close(c.fd);
  free(c.buf);
}

int main(int argc, char **argv)
{
  const char *serve = NULL, *search_kb = NULL, *qfile = NULL, *kerio = NULL, *work = "/tmp";
  double seconds = 10, rate = 200, ref, rps, p50, p99, dp50, dp99, achieved, sp50, sp99, ref_cpu, srv_cpu, cpu0;
  int conns = 64, i, cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
  size_t dlg = 1000, errors, derrors;
  char db[4096], wal[4200];
  server s;
  long rss0, rss1;
  for (i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--serve")) serve = argv[i + 1];
    else if (!strcmp(argv[i], "--search-kb")) search_kb = argv[i + 1];
    else if (!strcmp(argv[i], "--queries")) qfile = argv[i + 1];
    else if (!strcmp(argv[i], "--kerio-kb")) kerio = argv[i + 1];
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--conns")) conns = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--dialogues")) dlg = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--work")) work = argv[i + 1];
    else if (!strcmp(argv[i], "--threads")) cpus = atoi(argv[i + 1]);
    else break;
  }
  if (i < argc || !serve || !search_kb || !qfile || !kerio || conns < 1 || conns > 1024) {
    fprintf(stderr, "usage: bench-serve --serve BIN --search-kb KB --queries FILE --kerio-kb KB\n"
            "                   [--seconds S] [--conns N] [--dialogues N] [--rate R] [--work DIR]\n"
            "                   [--threads N]\n");
    return 2;
  }
  if (cpus < 1) cpus = 1;
  if (cpus > 64) cpus = 64;
  signal(SIGPIPE, SIG_IGN);
  load_queries(qfile);
  paths = calloc(n_queries, sizeof *paths);
  for (size_t q = 0; q < n_queries; q++) {
    char *e = urlencode(queries[q]);
    paths[q] = malloc(strlen(e) + 32);
    sprintf(paths[q], "/v1/search?q=%s&limit=10", e);
    free(e);
  }

  printf("tshoot serve under load (%d CPUs, shared with the load generator; build of %s)\n\n",
         cpus, tshoot_libversion());
  inprocess_rate(search_kb, cpus, seconds / 3);      /* warm the page cache */
  ref = inprocess_rate(search_kb, cpus, seconds);
  ref_cpu = ref_cpu_per_op;
  printf("search, %zu queries, limit 10, synthetic 10k-article KB:\n", n_queries);
  printf("  in-process tshoot_search, %d threads:  %8.0f searches/s, %.3f ms of CPU each\n", cpus,
         ref, ref_cpu * 1000);
  {
    /* the same concurrency as the HTTP clients: on a shared machine more
    ** threads can get more of the CPUs; the better of the two is the reference */
    double ref64 = inprocess_rate(search_kb, conns > 64 ? 64 : conns, seconds);
    printf("  in-process tshoot_search, %d threads: %8.0f searches/s\n", conns > 64 ? 64 : conns, ref64);
    if (ref64 > ref) ref = ref64;
  }

  snprintf(db, sizeof db, "%s/bench-serve-search.db", work);
  snprintf(wal, sizeof wal, "%s-wal", db);
  unlink(db);
  s = start_server(serve, search_kb, db, cpus);
  search_load(s.port, conns, seconds / 3, &rps, &p50, &p99, &errors);   /* warm-up */
  cpu0 = proc_cpu(s.pid);
  search_load(s.port, conns, seconds, &rps, &p50, &p99, &errors);
  srv_cpu = (proc_cpu(s.pid) - cpu0) / (rps * seconds);
  printf("  GET /v1/search, %d connections:       %8.0f requests/s = %.0f%% of the better "
         "in-process figure (target >= 70%%)\n", conns, rps, 100 * rps / ref);
  printf("    the server's CPU per request %.3f ms: in-process CPU per search / server CPU per "
         "request = %.0f%%\n      (what the throughput ratio is on a machine of its own)\n",
         srv_cpu * 1000, 100 * ref_cpu / srv_cpu);
  printf("    latency at %d connections (closed loop): p50 %.2f ms, p99 %.2f ms; %zu errors\n",
         conns, p50, p99, errors);
  {
    double op50, op99, orate = rps / 2;
    size_t oerr;
    static const char *const search_routes[] = { "search", NULL };
    search_open(s.port, orate, seconds, &op50, &op99, &oerr);
    printf("    latency offered %.0f requests/s (half of that; open loop): p50 %.2f ms, p99 %.2f ms "
           "(target p99 < 20 ms); %zu errors\n", orate, op50, op99, oerr);
    printf("    the server's own time over all searches (its /metrics): p50 <= %g ms, p99 <= %g ms\n\n",
           server_pct(s.port, search_routes, 0.5), server_pct(s.port, search_routes, 0.99));
    errors += oerr;
  }
  make_sessions(s.port, 100);                           /* warm the caches sessions use */
  rss0 = rss_kib(s.pid);
  make_sessions(s.port, dlg);
  rss1 = rss_kib(s.pid);
  {
    double fkb, rkb;
    long long rows;
    store_per_session(db, &fkb, &rkb, &rows);
    printf("memory per live session, synthetic 10k KB (%zu more sessions after 100): server RSS "
           "%+.2f KB; store %.2f KB of file (%.2f KB of row) per session\n", dlg,
           (double)(rss1 - rss0) * 1.024 / (double)dlg, fkb, rkb);
  }
  stop_server(s);
  unlink(db);
  unlink(wal);

  snprintf(db, sizeof db, "%s/bench-serve-kerio.db", work);
  snprintf(wal, sizeof wal, "%s-wal", db);
  unlink(db);
  s = start_server(serve, kerio, db, cpus);
  make_sessions(s.port, 100);
  rss0 = rss_kib(s.pid);
  dialogues(s.port, dlg, 5, rate, &dp50, &dp99, &derrors, &achieved);
  rss1 = rss_kib(s.pid);
  {
    static const char *const steps_routes[] = { "session_create", "answer", "fix", "session_get", NULL };
    sp50 = server_pct(s.port, steps_routes, 0.5);
    sp99 = server_pct(s.port, steps_routes, 0.99);
  }
  printf("Kerio KB: %zu dialogues of 5 steps (1 start + 5 answers or fix reports), offered at %.0f "
         "requests/s (%.0f achieved):\n", dlg, rate, achieved);
  printf("  per step p50 %.2f ms, p99 %.2f ms (target p99 < 30 ms); %zu errors\n", dp50, dp99, derrors);
  printf("  the server's own time (its /metrics histogram): p50 <= %g ms, p99 <= %g ms\n", sp50, sp99);
  {
    double fkb, rkb;
    long long rows;
    store_per_session(db, &fkb, &rkb, &rows);
    printf("memory per live session, Kerio KB (%zu sessions after 100): server RSS %+.2f KB; store "
           "%.2f KB of file (%.2f KB of row) per session (target < 20 KB)\n", dlg,
           (double)(rss1 - rss0) * 1.024 / (double)dlg, fkb, rkb);
  }
  stop_server(s);
  unlink(db);
  unlink(wal);
  return errors || derrors ? 1 : 0;
}
