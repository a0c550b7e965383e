/*
** util.c: allocation wrappers, growable buffers and whole-file reads.
*/
#include "tshoot_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* ===== allocation ===== */

/* Free what the library handed out as a plain pointer (tshoot.h). */
TSHOOT_API void tshoot_free(void *p) { ts_free(p); }

static atomic_long fail_after = -1, fail_once = -1;

static int should_fail(void)
{
  long n = atomic_load(&fail_once);
  if (n >= 0 && atomic_fetch_sub(&fail_once, 1) == 0) return 1;
  n = atomic_load(&fail_after);
  if (n < 0) return 0;
  if (n == 0) return 1;
  atomic_fetch_sub(&fail_after, 1);
  return 0;
}

void ts_alloc_fail_after(long n) { atomic_store(&fail_after, n); }

long ts_alloc_fail_once(long n)
{
  long left = atomic_exchange(&fail_once, n);
  return left < 0 ? -1 : left;
}

void *ts_malloc(size_t n)
{
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *ts_calloc(size_t count, size_t size)
{
  if (should_fail()) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *ts_realloc(void *p, size_t n)
{
  if (should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

void ts_free(void *p) { free(p); }

char *ts_strndup(const char *s, size_t n)
{
  char *r = ts_malloc(n + 1);
  if (!r) return NULL;
  memcpy(r, s, n);
  r[n] = '\0';
  return r;
}

char *ts_strdup(const char *s) { return s ? ts_strndup(s, strlen(s)) : NULL; }

int ts_grow(void **arr, size_t *cap, size_t need, size_t size)
{
  size_t ncap;
  void *p;
  if (need <= *cap) return 0;
  ncap = *cap ? *cap : 8;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2) return -1;
    ncap *= 2;
  }
  if (size && ncap > SIZE_MAX / size) return -1;
  p = ts_realloc(*arr, ncap * size);
  if (!p) return -1;
  *arr = p;
  *cap = ncap;
  return 0;
}

/* ===== a bounded queue between threads ===== */

int ts_queue_init(ts_queue *q, size_t cap)
{
  memset(q, 0, sizeof *q);
  q->cap = cap < 1 ? 1 : cap > TS_QUEUE_MAX ? TS_QUEUE_MAX : cap;
  if (pthread_mutex_init(&q->mu, NULL) != 0) return -1;
  if (pthread_cond_init(&q->more, NULL) != 0) {
    pthread_mutex_destroy(&q->mu);
    return -1;
  }
  if (pthread_cond_init(&q->room, NULL) != 0) {
    pthread_cond_destroy(&q->more);
    pthread_mutex_destroy(&q->mu);
    return -1;
  }
  return 0;
}

int ts_queue_push(ts_queue *q, void *item)
{
  int ok;
  pthread_mutex_lock(&q->mu);
  while (q->n == q->cap && !q->stopped) pthread_cond_wait(&q->room, &q->mu);
  ok = !q->stopped;
  if (ok) {
    q->ring[(q->head + q->n) % TS_QUEUE_MAX] = item;
    q->n++;
    pthread_cond_signal(&q->more);
  }
  pthread_mutex_unlock(&q->mu);
  return ok ? 0 : -1;
}

void *ts_queue_pop(ts_queue *q)
{
  void *item = NULL;
  pthread_mutex_lock(&q->mu);
  while (!q->n && !q->closed && !q->stopped) pthread_cond_wait(&q->more, &q->mu);
  if (q->n && !q->stopped) {
    item = q->ring[q->head];
    q->head = (q->head + 1) % TS_QUEUE_MAX;
    q->n--;
    pthread_cond_signal(&q->room);
  }
  pthread_mutex_unlock(&q->mu);
  return item;
}

void ts_queue_close(ts_queue *q)
{
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  pthread_cond_broadcast(&q->more);
  pthread_mutex_unlock(&q->mu);
}

void ts_queue_stop(ts_queue *q)
{
  pthread_mutex_lock(&q->mu);
  q->stopped = 1;
  pthread_cond_broadcast(&q->more);
  pthread_cond_broadcast(&q->room);
  pthread_mutex_unlock(&q->mu);
}

void ts_queue_destroy(ts_queue *q, void (*drop)(void *))
{
  for (; q->n; q->n--, q->head = (q->head + 1) % TS_QUEUE_MAX)
    if (drop) drop(q->ring[q->head]);
  pthread_cond_destroy(&q->room);
  pthread_cond_destroy(&q->more);
  pthread_mutex_destroy(&q->mu);
}

/* ===== buffers ===== */

int ts_buf_reserve(ts_buf *b, size_t extra)
{
  size_t need;
  if (b->oom) return -1;
  if (extra > SIZE_MAX - b->len - 1) { b->oom = 1; return -1; }
  need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  if (ts_grow((void **)&b->p, &b->cap, need, 1) < 0) { b->oom = 1; return -1; }
  return 0;
}

void ts_buf_add(ts_buf *b, const char *s, size_t n)
{
  if (ts_buf_reserve(b, n) < 0) return;
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void ts_buf_adds(ts_buf *b, const char *s) { ts_buf_add(b, s, strlen(s)); }
void ts_buf_addc(ts_buf *b, char c) { ts_buf_add(b, &c, 1); }

void ts_buf_vaddf(ts_buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n;
  if (b->oom) return;
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) { b->oom = 1; return; }
  if (ts_buf_reserve(b, (size_t)n) < 0) return;
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void ts_buf_addf(ts_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  ts_buf_vaddf(b, fmt, ap);
  va_end(ap);
}

const char *ts_buf_cstr(ts_buf *b)
{
  if (b->oom) return NULL;
  if (!b->p) return "";
  return b->p;
}

char *ts_buf_detach(ts_buf *b)
{
  char *p;
  if (b->oom) { ts_buf_free(b); return NULL; }
  if (!b->p) return ts_strdup("");
  p = b->p;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void ts_buf_reset(ts_buf *b) { b->len = 0; if (b->p) b->p[0] = '\0'; }

void ts_buf_free(ts_buf *b)
{
  ts_free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

/* ===== ts_arena ===== */

struct ts_arena_chunk {
  ts_arena_chunk *next;
  size_t used, cap;
  max_align_t data[];
};

void *ts_arena_alloc(ts_arena *a, size_t n)
{
  ts_arena_chunk *c = a->head;
  size_t align = sizeof(max_align_t), need = (n + align - 1) / align * align;
  void *p;
  if (a->oom) return NULL;
  if (!c || c->cap - c->used < need) {
    size_t cap = need > 65536 ? need : 65536;
    c = ts_malloc(sizeof *c + cap);
    if (!c) { a->oom = 1; return NULL; }
    c->next = a->head;
    c->used = 0;
    c->cap = cap;
    a->head = c;
  }
  p = (char *)c->data + c->used;
  c->used += need;
  memset(p, 0, n);
  return p;
}

char *ts_arena_strdup(ts_arena *a, const char *s)
{
  size_t n;
  char *p;
  if (!s) return NULL;
  n = strlen(s);
  p = ts_arena_alloc(a, n + 1);
  if (p) memcpy(p, s, n + 1);
  return p;
}

void ts_arena_free(ts_arena *a)
{
  ts_arena_chunk *c = a->head, *next;
  while (c) {
    next = c->next;
    ts_free(c);
    c = next;
  }
  a->head = NULL;
}

/* ===== files ===== */

int ts_read_file(char **out, size_t *len_out, const char *path, size_t max_size)
{
  struct stat st;
  char *buf = NULL;
  size_t len = 0;
  int fd;

  *out = NULL;
  *len_out = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return ts_error_at(e == ENOENT ? TSHOOT_ENOTFOUND : TSHOOT_EIO, path, 0, 0,
                       "cannot open: %s", strerror(e));
  }
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "cannot stat: %s", strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "not a regular file");
  }
  if ((unsigned long long)st.st_size > max_size) {
    close(fd);
    return ts_error_at(TSHOOT_ELIMIT, path, 0, 0,
                       "file is %lld bytes, more than the limit of %zu",
                       (long long)st.st_size, max_size);
  }
  buf = ts_malloc((size_t)st.st_size + 1);
  if (!buf) { close(fd); return ts_error_oom(); }
  for (;;) {
    ssize_t n;
    if (len == (size_t)st.st_size) {
      /* the file may have grown since fstat: refuse rather than truncate */
      char extra;
      n = read(fd, &extra, 1);
      if (n > 0) {
        close(fd);
        ts_free(buf);
        return ts_error_at(TSHOOT_EIO, path, 0, 0, "file changed while being read");
      }
      break;
    }
    n = read(fd, buf + len, (size_t)st.st_size - len);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      close(fd);
      ts_free(buf);
      return ts_error_at(TSHOOT_EIO, path, 0, 0, "cannot read: %s", strerror(e));
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  *out = buf;
  *len_out = len;
  return TSHOOT_OK;
}

/* ===== SHA-256 and hex =====
** The digests of sources, scripts, KBs and signed KBs (kb_sign.c), all from
** Nettle (GnuTLS's cryptographic library): one implementation of SHA-256 in
** the process. Nettle picks the CPU's SHA instructions where there are some:
** 30 MB in 21.6 ms, where libsodium's portable code took 81 ms (a 10k-article
** compile hashes its 29.6 MB of sources; measured 2026-12-07 on the 2-core
** build machine, which has them). */

#include <nettle/sha2.h>

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(ts_sha256),
               "ts_sha256 must hold Nettle's SHA-256 state");
_Static_assert(_Alignof(struct sha256_ctx) <= 16, "ts_sha256 alignment");

void ts_sha256_init(ts_sha256 *c)
{
  sha256_init((struct sha256_ctx *)(void *)c->opaque);
}

void ts_sha256_update(ts_sha256 *c, const void *data, size_t n)
{
  sha256_update((struct sha256_ctx *)(void *)c->opaque, n, data);
}

void ts_sha256_final(ts_sha256 *c, unsigned char out[32])
{
  sha256_digest((struct sha256_ctx *)(void *)c->opaque, SHA256_DIGEST_SIZE, out);
}

void ts_sha256_hex(const void *data, size_t n, char out[65])
{
  ts_sha256 c;
  unsigned char d[SHA256_DIGEST_SIZE];
  ts_sha256_init(&c);
  ts_sha256_update(&c, data, n);
  ts_sha256_final(&c, d);
  ts_hex(d, sizeof d, out);
}

void ts_hex(const unsigned char *in, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

size_t ts_varint_get(const unsigned char *p, size_t n, uint64_t *v)
{
  uint64_t x = 0;
  size_t i;
  for (i = 0; i < n && i < 9; i++) {
    if (i == 8) { *v = (x << 8) | p[i]; return 9; }
    x = (x << 7) | (p[i] & 0x7f);
    if (!(p[i] & 0x80)) { *v = x; return i + 1; }
  }
  return 0;
}

uint32_t ts_fnv1a(const void *p, size_t n)
{
  const unsigned char *b = p;
  uint32_t h = TS_FNV1A_SEED;
  size_t i;
  for (i = 0; i < n; i++) h = TS_FNV1A_STEP(h, b[i]);
  return h;
}
