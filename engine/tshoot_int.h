/*
** tshoot_int.h: the internal umbrella header, included first by every engine
** source file. It holds what all modules share: allocation, growable buffers,
** error setting and small utilities. Nothing here is API (see tshoot.h).
*/
#ifndef TSHOOT_INT_H
#define TSHOOT_INT_H

#define TSHOOT_BUILDING 1
#include "tshoot.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
# define TS_PRINTF(f, a) __attribute__((format(printf, f, a)))
# define TS_INTERNAL __attribute__((visibility("hidden")))
#else
# define TS_PRINTF(f, a)
# define TS_INTERNAL
#endif

#define TS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ===== allocation (util.c) =====
** All engine allocation goes through these, so that tests can make the n-th
** allocation fail (ts_alloc_fail_after) and check every error path. */
void *ts_malloc(size_t n);
void *ts_calloc(size_t count, size_t size);
void *ts_realloc(void *p, size_t n);
void  ts_free(void *p);
char *ts_strdup(const char *s);
char *ts_strndup(const char *s, size_t n);

/* A SQLite varint (7 bits a byte, high bit on all but the last; a ninth byte
** holds 8 bits) from p[0, n): the bytes it took, 0 when it runs past n. */
size_t ts_varint_get(const unsigned char *p, size_t n, uint64_t *v);
/* FNV-1a of n bytes: the hash of the library's hash tables of words; a byte
** at a time for a loop that hashes what it copies. */
uint32_t ts_fnv1a(const void *p, size_t n);
#define TS_FNV1A_SEED 2166136261u
#define TS_FNV1A_STEP(h, byte) (((h) ^ (unsigned char)(byte)) * 16777619u)
/* Test hook: fail every allocation after `n` more succeed; -1 turns it off. */
void  ts_alloc_fail_after(long n);
/* Test hook: fail only the allocation after `n` more succeed (the ones after
** it succeed, so that an error path that needs memory can be checked); -1
** turns it off. Returns how many were still to succeed before the call, or
** -1 when the failure has happened (or was off). */
long  ts_alloc_fail_once(long n);

/* Grow *arr (of *cap elements of `size` bytes) to hold at least `need`.
** Returns 0, or -1 on overflow or out of memory (arr untouched). */
int ts_grow(void **arr, size_t *cap, size_t need, size_t size);

/* ===== a bounded queue between threads (util.c) =====
** Producers push (waiting while it holds cap items), a consumer pops
** (waiting while it is empty). Close: no more will come; pop returns NULL
** once the rest is taken. Stop: the consumer gave up, or the work is
** cancelled; push refuses (the item stays the caller's) and pop returns NULL
** at once, leaving what is queued for destroy. The compiler's index blocks
** (kb_write.c) and ranking rows (kb_rank_write.c) go through one. */
#define TS_QUEUE_MAX 32
typedef struct ts_queue {
  pthread_mutex_t mu;
  pthread_cond_t more, room;
  void *ring[TS_QUEUE_MAX];       /* under mu, from ring[head] */
  size_t cap, head, n;            /* under mu */
  int closed, stopped;            /* under mu */
} ts_queue;

int ts_queue_init(ts_queue *q, size_t cap);     /* cap <= TS_QUEUE_MAX; 0 or -1 */
int ts_queue_push(ts_queue *q, void *item);     /* 0, or -1 when stopped */
void *ts_queue_pop(ts_queue *q);
void ts_queue_close(ts_queue *q);
void ts_queue_stop(ts_queue *q);
/* Drop what is still queued (with drop, if not NULL) and free the lock. */
void ts_queue_destroy(ts_queue *q, void (*drop)(void *));

/* ===== growable string buffer (util.c) =====
** Appends never fail loudly: an allocation failure sets `oom` and later
** appends do nothing, so a run of appends is checked once (FTS5's pRc idea). */
typedef struct ts_buf {
  char *p;       /* NUL-terminated when len > 0 or after ts_buf_cstr */
  size_t len, cap;
  int oom;
} ts_buf;

#define TS_BUF_INIT { NULL, 0, 0, 0 }
void ts_buf_add(ts_buf *b, const char *s, size_t n);
/* Room for `extra` more bytes (and the NUL) without moving: 0, or -1 (oom
** set). Bytes of b itself may then be added to it. */
int ts_buf_reserve(ts_buf *b, size_t extra);
void ts_buf_adds(ts_buf *b, const char *s);
void ts_buf_addc(ts_buf *b, char c);
void ts_buf_addf(ts_buf *b, const char *fmt, ...) TS_PRINTF(2, 3);
void ts_buf_vaddf(ts_buf *b, const char *fmt, va_list ap);
const char *ts_buf_cstr(ts_buf *b);     /* "" when empty; NULL only on oom */
char *ts_buf_detach(ts_buf *b);         /* caller frees; NULL on oom */
void ts_buf_reset(ts_buf *b);           /* len = 0, keeps memory */
void ts_buf_free(ts_buf *b);

/* Append v as a SQLite varint (what ts_varint_get reads): the posting lists
** the compiler writes, millions of them, so the one-byte case and the case
** with room make no call. */
static inline void ts_buf_varint(ts_buf *b, uint64_t v)
{
  char out[10];
  int n = 1, i;
  uint64_t x;
  if (v < 0x80 && b->p && !b->oom && b->cap - b->len > 1) {   /* most of them: one byte */
    b->p[b->len++] = (char)v;
    b->p[b->len] = '\0';
    return;
  }
  if (v > 0x00ffffffffffffffULL) v = 0x00ffffffffffffffULL; /* never: ids and counts are small */
  for (x = v >> 7; x; x >>= 7) n++;          /* 7 bits a byte, the high bit: more */
  for (i = n - 1; i >= 0; i--, v >>= 7) out[i] = (char)((v & 0x7f) | (i < n - 1 ? 0x80 : 0));
  if (!b->oom && b->p && b->cap - b->len > (size_t)n) {  /* room: no call (millions of these) */
    for (i = 0; i < n; i++) b->p[b->len + (size_t)i] = out[i];
    b->len += (size_t)n;
    b->p[b->len] = '\0';
  } else {
    ts_buf_add(b, out, (size_t)n);
  }
}

/* ===== errors (error.c) =====
** Set the thread's last error and return `code`, so that a failure reads
**   return ts_error(TSHOOT_ENOTFOUND, "no article '%s'", id);           */
int ts_error(int code, const char *fmt, ...) TS_PRINTF(2, 3);
int ts_error_at(int code, const char *file, int line, int column,
                const char *fmt, ...) TS_PRINTF(5, 6);
int ts_error_oom(void);

/* Argument and options checks at the top of a public function, so that every
** entry point fails the same way (libgit2's GIT_ASSERT_ARG):
**   TS_CHECK_ARG(out && kb);    -> TSHOOT_EINVALID "tshoot_search: NULL argument"
**   TS_CHECK_OPTIONS(opts, TSHOOT_SEARCH_OPTIONS_VERSION);
** An options struct may be NULL (defaults) or carry any version from 1 to the
** one this library was built with: a caller built against an older header keeps
** working when a version is added. */
#define TS_CHECK_ARG(cond) \
  do { if (!(cond)) return ts_error(TSHOOT_EINVALID, "%s: NULL argument", __func__); } while (0)
#define TS_CHECK_OPTIONS(o, current) \
  do { \
    if ((o) && ((o)->version < 1 || (o)->version > (current))) \
      return ts_error(TSHOOT_EINVALID, "%s: %s->version is %d; this library accepts 1 to %d", \
                      __func__, #o, (int)(o)->version, (int)(current)); \
  } while (0)

/* ===== ts_arena (util.c) =====
** Many small allocations freed at once: the compiler's model, a KB's rules. */
typedef struct ts_arena_chunk ts_arena_chunk;
typedef struct ts_arena {
  ts_arena_chunk *head;
  int oom;          /* sticky: an allocation failed */
} ts_arena;

void *ts_arena_alloc(ts_arena *a, size_t n);          /* zeroed; NULL on oom */
char *ts_arena_strdup(ts_arena *a, const char *s);    /* NULL in -> NULL out */
void ts_arena_free(ts_arena *a);

/* ===== files (util.c) ===== */
/* Read a whole file. Returns TSHOOT_OK, TSHOOT_ENOTFOUND, TSHOOT_EIO, or
** TSHOOT_ELIMIT if it is larger than max_size bytes (error set in all cases). */
int ts_read_file(char **out, size_t *len_out, const char *path, size_t max_size);

/* ===== SHA-256 (util.c, Nettle's sha256) =====
** The state is Nettle's, kept opaque here so that only util.c includes
** nettle/sha2.h (util.c checks that it fits). */
typedef struct ts_sha256 {
  _Alignas(16) unsigned char opaque[128];
} ts_sha256;
void ts_sha256_init(ts_sha256 *c);
void ts_sha256_update(ts_sha256 *c, const void *data, size_t n);
void ts_sha256_final(ts_sha256 *c, unsigned char out[32]);
void ts_sha256_hex(const void *data, size_t n, char out[65]);
void ts_hex(const unsigned char *in, size_t n, char *out); /* out: 2n+1 bytes */

#endif /* TSHOOT_INT_H */
