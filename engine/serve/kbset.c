/*
** kbset.c: the KBs in service.
**
** New sessions, searches and articles use the current KB. A reload (SIGHUP,
** or the file at the KB's path replaced by a compile's rename) opens the file
** again; when its build (digest) differs, it becomes the current KB, and the
** old one stays open for the sessions saved against it (a saved session names
** its KB's digest and loads only against that build), until none is left.
** Requests hold a reference to the KB they use, so a swap never pulls a KB
** from under a request: nothing is dropped. A file that fails to open (a
** half-written copy, a damaged file) leaves the current KB in service.
*/
#include "serve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static pthread_mutex_t kbset_lock = PTHREAD_MUTEX_INITIALIZER;
static serve_kb *kbset_list;          /* the current KB first, then older builds */
static char *kbset_path;              /* as given (NULL: the default KB) */
static struct stat kbset_seen;        /* the file the current KB came from */
static unsigned kbset_swaps;

static serve_kb *kbset_open(void)
{
  serve_kb *k = calloc(1, sizeof *k);
  tshoot_kb_info info;
  int rc;
  if (!k) return NULL;
  rc = tshoot_kb_open(&k->kb, kbset_path, NULL);
  if (rc == TSHOOT_OK) rc = tshoot_kb_info_get(&info, k->kb);
  if (rc != TSHOOT_OK) {
    serve_log("KB %s: %s", kbset_path ? kbset_path : "(default)", tshoot_error_last()->message);
    tshoot_kb_close(k->kb);
    free(k);
    return NULL;
  }
  snprintf(k->digest, sizeof k->digest, "%s", info.digest);
  return k;
}

int kbset_init(const char *path)
{
  serve_kb *k;
  kbset_path = path ? strdup(path) : NULL;
  k = kbset_open();
  if (!k) {
    free(kbset_path);
    kbset_path = NULL;
    return -1;
  }
  if (stat(tshoot_kb_path(k->kb), &kbset_seen) != 0) memset(&kbset_seen, 0, sizeof kbset_seen);
  kbset_list = k;
  return 0;
}

serve_kb *kbset_current(void)
{
  serve_kb *k;
  pthread_mutex_lock(&kbset_lock);
  k = kbset_list;
  if (k) k->refs++;
  pthread_mutex_unlock(&kbset_lock);
  return k;
}

serve_kb *kbset_find(const char *digest)
{
  serve_kb *k;
  pthread_mutex_lock(&kbset_lock);
  for (k = kbset_list; k; k = k->next)
    if (strcmp(k->digest, digest) == 0) break;
  if (k) k->refs++;
  pthread_mutex_unlock(&kbset_lock);
  return k;
}

void kbset_release(serve_kb *k)
{
  if (!k) return;
  pthread_mutex_lock(&kbset_lock);
  k->refs--;
  pthread_mutex_unlock(&kbset_lock);
}

unsigned kbset_generation(void)
{
  unsigned n;
  pthread_mutex_lock(&kbset_lock);
  n = kbset_swaps;
  pthread_mutex_unlock(&kbset_lock);
  return n;
}

/* Called from the main thread only (the signal loop): no two reloads at once. */
int kbset_reload(const char *why)
{
  struct stat st;
  serve_kb *k, *cur;
  int same;
  if (stat(kbset_list ? tshoot_kb_path(kbset_list->kb) : "", &st) != 0)
    memset(&st, 0, sizeof st);
  k = kbset_open();
  if (!k) {
    serve_log("reload (%s) failed: the KB in service stays", why);
    kbset_seen = st;    /* do not retry the same file every second */
    return -1;
  }
  pthread_mutex_lock(&kbset_lock);
  cur = kbset_list;
  same = cur && strcmp(cur->digest, k->digest) == 0;
  if (!same) {
    serve_kb **pp;
    /* an older build coming back takes its old entry's place */
    for (pp = &kbset_list; *pp; pp = &(*pp)->next)
      if (strcmp((*pp)->digest, k->digest) == 0) break;
    if (*pp) {
      serve_kb *old = *pp;
      *pp = old->next;
      old->next = kbset_list;
      kbset_list = old;
    } else {
      k->next = kbset_list;
      kbset_list = k;
      k = NULL;
    }
    kbset_swaps++;
  }
  kbset_seen = st;
  pthread_mutex_unlock(&kbset_lock);
  if (k) {
    tshoot_kb_close(k->kb);
    free(k);
  }
  serve_log("reload (%s): %s", why, same ? "the same KB build, nothing changed" :
            "new sessions use the new KB build; live sessions keep theirs");
  return same ? 0 : 1;
}

void kbset_check_file(void)
{
  struct stat st;
  const char *path;
  if (!kbset_list) return;
  path = tshoot_kb_path(kbset_list->kb);
  if (!path || stat(path, &st) != 0) return;   /* gone: wait for the new file */
  if (st.st_ino != kbset_seen.st_ino || st.st_dev != kbset_seen.st_dev ||
      st.st_size != kbset_seen.st_size || st.st_mtim.tv_sec != kbset_seen.st_mtim.tv_sec ||
      st.st_mtim.tv_nsec != kbset_seen.st_mtim.tv_nsec)
    kbset_reload("the KB file changed");
}

void kbset_prune(void)
{
  char digests[16][72];
  size_t n = 0, i;
  serve_kb *k, **pp;
  /* the older builds nobody holds now; ask the store without the lock */
  pthread_mutex_lock(&kbset_lock);
  for (k = kbset_list ? kbset_list->next : NULL; k && n < 16; k = k->next)
    if (k->refs == 0) snprintf(digests[n++], sizeof digests[0], "%s", k->digest);
  pthread_mutex_unlock(&kbset_lock);
  for (i = 0; i < n; i++) {
    serve_kb *dead = NULL;
    if (serve_sessions.ops->count_kb(serve_sessions.self, digests[i]) != 0) continue;
    pthread_mutex_lock(&kbset_lock);
    for (pp = kbset_list ? &kbset_list->next : NULL; pp && *pp; pp = &(*pp)->next)
      if ((*pp)->refs == 0 && strcmp((*pp)->digest, digests[i]) == 0) {
        dead = *pp;
        *pp = dead->next;
        break;
      }
    pthread_mutex_unlock(&kbset_lock);
    if (!dead) continue;
    tshoot_kb_close(dead->kb);
    free(dead);
    serve_log("KB build %.12s closed: no session uses it any more", digests[i]);
  }
}

void kbset_close(void)
{
  while (kbset_list) {
    serve_kb *k = kbset_list;
    kbset_list = k->next;
    tshoot_kb_close(k->kb);
    free(k);
  }
  free(kbset_path);
  kbset_path = NULL;
}
