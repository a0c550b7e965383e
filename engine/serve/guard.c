/*
** guard.c: requests per second per client.
**
** A token bucket per client address: it holds up to 2 seconds' worth of
** requests (--rate N: a burst of 2N), refilled at N a second; a request
** takes one token, and one that finds none is answered 429 with the
** seconds to wait. Buckets live in a fixed table of GUARD_SLOTS slots
** (open addressing over 8 neighbours); a slot idle for a minute is reused,
** and when all 8 are busy the client shares the least recently used one
** (stricter, never looser). Memory is fixed whatever the clients send.
*/
#include "serve.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define GUARD_SLOTS 4096
#define GUARD_PROBE 8

typedef struct guard_slot {
  char client[48];
  double tokens;
  double last;                  /* monotonic seconds of the last refill */
} guard_slot;

static guard_slot guard_slots[GUARD_SLOTS];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t guard_hash(const char *s)
{
  uint32_t h = 2166136261u;   /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

int guard_allow(const char *client, int *retry_after)
{
  double now, burst;
  guard_slot *slot = NULL, *lru = NULL;
  uint32_t h;
  int i, ok;
  if (serve_cfg.rate <= 0) return 1;
  now = serve_mono();
  burst = serve_cfg.rate * 2 < 1 ? 1 : serve_cfg.rate * 2;
  h = guard_hash(client);
  pthread_mutex_lock(&guard_lock);
  for (i = 0; i < GUARD_PROBE; i++) {
    guard_slot *g = &guard_slots[(h + (uint32_t)i) % GUARD_SLOTS];
    if (strcmp(g->client, client) == 0) { slot = g; break; }
    if (!g->client[0] || now - g->last > 60) {
      if (!slot || slot->client[0]) slot = g;     /* first free one, keep looking for ours */
      continue;
    }
    if (!lru || g->last < lru->last) lru = g;
  }
  if (slot && strcmp(slot->client, client) != 0) {
    snprintf(slot->client, sizeof slot->client, "%s", client);
    slot->tokens = burst;
    slot->last = now;
  } else if (!slot) {
    slot = lru;                 /* all busy: share */
  }
  slot->tokens += (now - slot->last) * serve_cfg.rate;
  if (slot->tokens > burst) slot->tokens = burst;
  slot->last = now;
  ok = slot->tokens >= 1;
  if (ok) slot->tokens -= 1;
  else *retry_after = (int)ceil((1 - slot->tokens) / serve_cfg.rate);
  pthread_mutex_unlock(&guard_lock);
  if (!ok && *retry_after < 1) *retry_after = 1;
  return ok;
}
