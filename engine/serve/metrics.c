/*
** metrics.c: counters and latency histograms, as Prometheus text.
**
** Requests are counted by route and status class, and timed into a
** histogram per route (buckets from 0.5 ms to 1 s); plus the live sessions
** (asked of the store at each scrape), searches that found nothing, and
** KB reloads. Counting is lock-free (atomic adds), so it costs a request
** nothing it would notice.
*/
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double metrics_bounds[] = {
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};
#define METRICS_NB (sizeof metrics_bounds / sizeof metrics_bounds[0])

static const char *const metrics_classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

static unsigned long long metrics_count[ROUTE_COUNT][5];
static unsigned long long metrics_bucket[ROUTE_COUNT][METRICS_NB + 1];
static unsigned long long metrics_sum_us[ROUTE_COUNT];
static unsigned long long metrics_empty;

#define METRICS_ADD(var, n) __atomic_add_fetch(&(var), (n), __ATOMIC_RELAXED)
#define METRICS_GET(var) __atomic_load_n(&(var), __ATOMIC_RELAXED)

void metrics_request(serve_route route, int status, double seconds)
{
  size_t b = 0;
  int cls = status / 100 - 1;
  if ((unsigned)route >= ROUTE_COUNT) route = ROUTE_OTHER;
  if (cls < 0 || cls > 4) cls = 4;
  METRICS_ADD(metrics_count[route][cls], 1);
  while (b < METRICS_NB && seconds > metrics_bounds[b]) b++;
  METRICS_ADD(metrics_bucket[route][b], 1);
  METRICS_ADD(metrics_sum_us[route], (unsigned long long)(seconds * 1e6));
}

void metrics_search_empty(void)
{
  METRICS_ADD(metrics_empty, 1);
}

char *metrics_text(size_t *len)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  long long live;
  int r, c;
  size_t b;
  if (!f) return NULL;
  fputs("# HELP tshoot_http_requests_total HTTP requests answered, by route and status class.\n"
        "# TYPE tshoot_http_requests_total counter\n", f);
  for (r = 0; r < ROUTE_COUNT; r++)
    for (c = 0; c < 5; c++) {
      unsigned long long n = METRICS_GET(metrics_count[r][c]);
      if (n) fprintf(f, "tshoot_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                     serve_route_names[r], metrics_classes[c], n);
    }
  fputs("# HELP tshoot_http_request_duration_seconds Time to answer a request, by route.\n"
        "# TYPE tshoot_http_request_duration_seconds histogram\n", f);
  for (r = 0; r < ROUTE_COUNT; r++) {
    unsigned long long cum = 0;
    for (b = 0; b <= METRICS_NB; b++) cum += METRICS_GET(metrics_bucket[r][b]);
    if (!cum) continue;
    cum = 0;
    for (b = 0; b < METRICS_NB; b++) {
      cum += METRICS_GET(metrics_bucket[r][b]);
      fprintf(f, "tshoot_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
              serve_route_names[r], metrics_bounds[b], cum);
    }
    cum += METRICS_GET(metrics_bucket[r][METRICS_NB]);
    fprintf(f, "tshoot_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
            serve_route_names[r], cum);
    fprintf(f, "tshoot_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
            serve_route_names[r], (double)METRICS_GET(metrics_sum_us[r]) / 1e6);
    fprintf(f, "tshoot_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
            serve_route_names[r], cum);
  }
  live = serve_sessions.ops->count(serve_sessions.self, NULL, serve_now() - serve_cfg.idle_s);
  fprintf(f, "# HELP tshoot_sessions_live Sessions used within the idle timeout.\n"
          "# TYPE tshoot_sessions_live gauge\ntshoot_sessions_live %lld\n", live < 0 ? 0 : live);
  fprintf(f, "# HELP tshoot_search_empty_total Searches that found nothing.\n"
          "# TYPE tshoot_search_empty_total counter\ntshoot_search_empty_total %llu\n",
          METRICS_GET(metrics_empty));
  fprintf(f, "# HELP tshoot_kb_reloads_total Times a new KB build was put in service.\n"
          "# TYPE tshoot_kb_reloads_total counter\ntshoot_kb_reloads_total %u\n",
          kbset_generation());
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  *len = size;
  return buf;
}
