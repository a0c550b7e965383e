/*
** kb_sign.c: Ed25519 keys, KB signatures and the trust of an open KB
** (docs/signing.md), with libsodium.
**
** Files, each text with one item a line ('#' lines are comments):
**   NAME.pub   "tshoot-ed25519-public-1 <64 hex: key> <signer name>"
**   NAME.key   "tshoot-ed25519-secret-1 <128 hex: libsodium's secret key> <signer name>"
**   KB.sig     "tshoot-kb-signature-1 <64 hex: key> <128 hex: signature> <signer name>",
**              one line per signature (a KB may carry several: key rotation)
**
** The signature is detached so that signing never changes the KB's bytes: its
** digest, its SQLite layout and its format version stay the compiler's. What
** is signed (pure Ed25519, crypto_sign_detached) is
**   "tshoot KB signature" NUL, be32 1 (this scheme), be32 the KB's format
**   (its header's user_version), be64 its size, its SHA-256 (32 bytes),
**   be16 the name's length, the name
** so a signature cannot be taken for anything else, nor for a KB of another
** format, and the signer's name cannot be changed.
**
** At open (kb_sign_check) the file is hashed through the descriptor the KB
** is then read through (kb_vfs.c), before SQLite reads it, and only when a
** trusted key signed it (an unsigned KB costs nothing). While the KB is open,
** every script body handed out is checked against the digest the verified
** file records for it (kb_sign_script), so a file changed in place after the
** check runs nothing either.
*/
#include "kb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TS_TRUST_DIR
# define TS_TRUST_DIR ""
#endif

#define PUB_TAG "tshoot-ed25519-public-1"
#define SEC_TAG "tshoot-ed25519-secret-1"
#define SIG_TAG "tshoot-kb-signature-1"
#define SIG_DOMAIN "tshoot KB signature"   /* and its NUL */
#define SIG_SCHEME 1
#define MAX_NAME 100
#define MAX_KEY_FILE 4096
#define MAX_SIG_FILE 65536
#define MAX_SIGS 16
#define MAX_TRUST_FILES 1024

typedef struct sig_line {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sig[crypto_sign_BYTES];
  char name[MAX_NAME + 1];
} sig_line;

typedef struct key_set {
  unsigned char (*keys)[crypto_sign_PUBLICKEYBYTES];
  size_t n, cap;
} key_set;

struct kb_trust {
  tshoot_kb_trust pub;
  tshoot_signer sigs[MAX_SIGS];
  char names[MAX_SIGS][MAX_NAME + 1];
  char keys[MAX_SIGS][2 * crypto_sign_PUBLICKEYBYTES + 1];
  char reason[600];
  /* the file as verified: a script is refused if it changed since */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  /* SIGNED: every script's name and SHA-256 (hex) as the verified file has them */
  char **script_names;
  char (*script_digests)[65];
  size_t n_scripts;
};

/* ===== small helpers ===== */

static void put_be(unsigned char *p, uint64_t v, int n)
{
  int i;
  for (i = n - 1; i >= 0; i--) { p[i] = (unsigned char)v; v >>= 8; }
}

/* A signer's name: 1 to MAX_NAME bytes, no control characters (C0, DEL, and
** C1 as UTF-8), so that it prints safely on a terminal. */
static int name_ok(const char *s, size_t n)
{
  size_t i;
  if (n == 0 || n > MAX_NAME || s[0] == ' ') return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f) return 0;
    if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
      return 0;
  }
  return 1;
}

/* Exactly 2*n hex digits at s -> out. */
static int hex_in(unsigned char *out, size_t n, const char *s, size_t len)
{
  size_t got = 0;
  if (len != 2 * n) return 0;
  return sodium_hex2bin(out, n, s, len, NULL, &got, NULL) == 0 && got == n;
}

/* Read a small regular file (no FIFO waits: O_NONBLOCK). TSHOOT_OK,
** TSHOOT_ENOTFOUND (errno ENOENT), TSHOOT_EIO or TSHOOT_ELIMIT, error set. */
static int read_small(char **out, size_t *len, struct stat *st_out, const char *path, size_t max)
{
  struct stat st;
  char *buf;
  size_t got = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  *out = NULL;
  *len = 0;
  if (fd < 0) {
    int e = errno;
    return ts_error_at(e == ENOENT ? TSHOOT_ENOTFOUND : TSHOOT_EIO, path, 0, 0, "cannot open: %s", strerror(e));
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "not a regular file");
  }
  if ((unsigned long long)st.st_size > max) {
    close(fd);
    return ts_error_at(TSHOOT_ELIMIT, path, 0, 0, "%lld bytes, more than the %zu this file may have",
                       (long long)st.st_size, max);
  }
  buf = ts_malloc(max + 1);
  if (!buf) { close(fd); return ts_error_oom(); }
  for (;;) {
    ssize_t n = read(fd, buf + got, max + 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      sodium_memzero(buf, max + 1);
      ts_free(buf);
      return ts_error_at(TSHOOT_EIO, path, 0, 0, "cannot read: %s", strerror(e));
    }
    if (n == 0) break;
    got += (size_t)n;
    if (got > max) {
      close(fd);
      sodium_memzero(buf, max + 1);
      ts_free(buf);
      return ts_error_at(TSHOOT_ELIMIT, path, 0, 0, "more than the %zu bytes this file may have", max);
    }
  }
  close(fd);
  buf[got] = '\0';
  if (st_out) *st_out = st;
  *out = buf;
  *len = got;
  return TSHOOT_OK;
}

/* The next line of text[*pos, len): its start and length (no '\n', no '\r'). */
static int next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
  size_t s = *pos, e;
  if (s >= len) return 0;
  for (e = s; e < len && text[e] != '\n'; e++) {}
  *pos = e < len ? e + 1 : e;
  *line = text + s;
  *n = e - s;
  if (*n && text[s + *n - 1] == '\r') (*n)--;
  return 1;
}

/* Split "TAG F1 F2 ... REST": nf fields after the tag, then the rest of the
** line (the name). 1 if it has that shape. */
static int split_line(const char *line, size_t n, const char *tag, int nf, const char **f, size_t *fl,
                      const char **rest, size_t *rl)
{
  size_t tl = strlen(tag), i = tl;
  int k;
  if (n <= tl || memcmp(line, tag, tl) != 0 || line[tl] != ' ') return 0;
  for (k = 0; k < nf; k++) {
    size_t s;
    if (i >= n || line[i] != ' ') return 0;
    i++;
    s = i;
    while (i < n && line[i] != ' ') i++;
    f[k] = line + s;
    fl[k] = i - s;
  }
  if (i >= n || line[i] != ' ') return 0;
  *rest = line + i + 1;
  *rl = n - i - 1;
  return 1;
}

static int blank_or_comment(const char *line, size_t n)
{
  size_t i;
  for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++) {}
  return i == n || line[i] == '#';
}

/* Parse a public key file's text: its one key line. 1 if well-formed. */
static int parse_public(unsigned char pk[crypto_sign_PUBLICKEYBYTES], char name[MAX_NAME + 1],
                        const char *text, size_t len)
{
  const char *line, *f[1], *rest;
  size_t n, fl[1], rl, pos = 0;
  int found = 0;
  while (next_line(text, len, &pos, &line, &n)) {
    if (blank_or_comment(line, n)) continue;
    if (found || !split_line(line, n, PUB_TAG, 1, f, fl, &rest, &rl) ||
        !hex_in(pk, crypto_sign_PUBLICKEYBYTES, f[0], fl[0]) || !name_ok(rest, rl))
      return 0;
    if (name) { memcpy(name, rest, rl); name[rl] = '\0'; }
    found = 1;
  }
  return found;
}

/* ===== key sets ===== */

static int set_has(const key_set *s, const unsigned char *pk)
{
  size_t i;
  for (i = 0; i < s->n; i++)
    if (memcmp(s->keys[i], pk, crypto_sign_PUBLICKEYBYTES) == 0) return 1;
  return 0;
}

static int set_add(key_set *s, const unsigned char *pk)
{
  if (set_has(s, pk)) return TSHOOT_OK;
  if (ts_grow((void **)&s->keys, &s->cap, s->n + 1, sizeof *s->keys) < 0) return ts_error_oom();
  memcpy(s->keys[s->n++], pk, crypto_sign_PUBLICKEYBYTES);
  return TSHOOT_OK;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a > b && strcmp(s + a - b, suffix) == 0;
}

/* One trust file: a .pub trusts its key, a .revoked revokes it. A file that
** cannot be read or is not a key trusts nothing. Only oom is an error. */
static int add_file(key_set *trusted, key_set *revoked, const char *path, int revoke)
{
  char *text = NULL;
  size_t len;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  int rc = read_small(&text, &len, NULL, path, MAX_KEY_FILE);
  if (rc == TSHOOT_ENOMEM) return rc;
  if (rc != TSHOOT_OK) { tshoot_error_clear(); return TSHOOT_OK; }
  if (parse_public(pk, NULL, text, len)) rc = set_add(revoke ? revoked : trusted, pk);
  ts_free(text);
  return rc;
}

/* Every *.pub and *.revoked of a folder (a missing folder trusts nothing). */
static int add_dir(key_set *trusted, key_set *revoked, const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t seen = 0;
  int rc = TSHOOT_OK;
  if (!d) return TSHOOT_OK;
  while (rc == TSHOOT_OK && (e = readdir(d)) != NULL && seen < MAX_TRUST_FILES) {
    int pub = ends_with(e->d_name, ".pub"), rev = ends_with(e->d_name, ".revoked");
    char *p;
    size_t n;
    if (e->d_name[0] == '.' || (!pub && !rev)) continue;
    seen++;
    n = strlen(dir) + strlen(e->d_name) + 2;
    p = ts_malloc(n);
    if (!p) { rc = ts_error_oom(); break; }
    snprintf(p, n, "%s/%s", dir, e->d_name);
    rc = add_file(trusted, revoked, p, rev);
    ts_free(p);
  }
  closedir(d);
  return rc;
}

/* $TSHOOT_TRUST: ':'-separated .pub/.revoked files and folders. Not in a
** set-uid or set-gid program, whose environment is its caller's. */
static int add_env(key_set *trusted, key_set *revoked)
{
  const char *env = getenv("TSHOOT_TRUST");
  char *copy, *p, *next;
  int rc = TSHOOT_OK;
  if (!env || !*env || getuid() != geteuid() || getgid() != getegid()) return TSHOOT_OK;
  copy = ts_strdup(env);
  if (!copy) return ts_error_oom();
  for (p = copy; p && rc == TSHOOT_OK; p = next) {
    struct stat st;
    next = strchr(p, ':');
    if (next) *next++ = '\0';
    if (!*p || stat(p, &st) != 0) continue;
    rc = S_ISDIR(st.st_mode) ? add_dir(trusted, revoked, p) : add_file(trusted, revoked, p, ends_with(p, ".revoked"));
  }
  ts_free(copy);
  return rc;
}

static int collect_keys(key_set *trusted, key_set *revoked, const tshoot_kb_options *opts)
{
  int v2 = opts && opts->version >= 2, rc = TSHOOT_OK;
  size_t i;
  if (v2) {
    for (i = 0; i < opts->n_trusted_keys && rc == TSHOOT_OK; i++) {
      unsigned char pk[crypto_sign_PUBLICKEYBYTES];
      const char *t = opts->trusted_keys ? opts->trusted_keys[i] : NULL;
      if (!t || !parse_public(pk, NULL, t, strlen(t)))
        return ts_error(TSHOOT_EINVALID, "tshoot_kb_open: trusted_keys[%zu] is not a public key (a line '"
                        PUB_TAG " <64 hex digits> <name>', as in a .pub file)", i);
      rc = set_add(trusted, pk);
    }
    for (i = 0; i < opts->n_revoked_keys && rc == TSHOOT_OK; i++) {
      unsigned char pk[crypto_sign_PUBLICKEYBYTES];
      const char *t = opts->revoked_keys ? opts->revoked_keys[i] : NULL;
      if (!t || !parse_public(pk, NULL, t, strlen(t)))
        return ts_error(TSHOOT_EINVALID, "tshoot_kb_open: revoked_keys[%zu] is not a public key", i);
      rc = set_add(revoked, pk);
    }
    for (i = 0; i < opts->n_trust_dirs && rc == TSHOOT_OK; i++)
      if (opts->trust_dirs && opts->trust_dirs[i]) rc = add_dir(trusted, revoked, opts->trust_dirs[i]);
  }
  if (rc == TSHOOT_OK && !(v2 && (opts->trust_flags & TSHOOT_KB_NO_DEFAULT_TRUST))) {
    /* the machine's: /etc's always, and the install prefix's when it differs */
    rc = add_dir(trusted, revoked, "/etc/tshoot/trusted.d");
    if (rc == TSHOOT_OK && *TS_TRUST_DIR && strcmp(TS_TRUST_DIR, "/etc/tshoot/trusted.d") != 0)
      rc = add_dir(trusted, revoked, TS_TRUST_DIR);
    if (rc == TSHOOT_OK) rc = add_env(trusted, revoked);
  }
  return rc;
}

/* ===== hashing a KB and the signed message ===== */

typedef struct kb_digest {
  unsigned char sha[crypto_hash_sha256_BYTES];
  uint32_t format;
  uint64_t size;
  struct stat st;
} kb_digest;

/* Hash the whole file open on fd with pread (no file offset: kb_vfs.c reads
** the same descriptor), and check that it did not change meanwhile. */
static int digest_fd(kb_digest *d, int fd, const char *path)
{
  crypto_hash_sha256_state h;
  unsigned char *buf;
  struct stat after;
  uint64_t off = 0;
  const size_t chunk = 1 << 16;

  memset(d, 0, sizeof *d);
  if (fstat(fd, &d->st) < 0 || !S_ISREG(d->st.st_mode))
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "not a regular file");
  buf = ts_malloc(chunk);
  if (!buf) return ts_error_oom();
  crypto_hash_sha256_init(&h);
  while (off < (uint64_t)d->st.st_size) {
    size_t want = (uint64_t)d->st.st_size - off < chunk ? (size_t)((uint64_t)d->st.st_size - off) : chunk;
    ssize_t n = pread(fd, buf, want, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ts_free(buf);
      return ts_error_at(TSHOOT_EIO, path, 0, 0, "cannot read the KB to check its signature: %s",
                         n == 0 ? "it got shorter" : strerror(e));
    }
    if (off <= 60 && off + (uint64_t)n >= 64) {   /* the header's user_version */
      const unsigned char *p = buf + (60 - off);
      d->format = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    crypto_hash_sha256_update(&h, buf, (size_t)n);
    off += (uint64_t)n;
  }
  ts_free(buf);
  crypto_hash_sha256_final(&h, d->sha);
  d->size = off;
  if (fstat(fd, &after) < 0 || after.st_size != d->st.st_size ||
      after.st_mtim.tv_sec != d->st.st_mtim.tv_sec || after.st_mtim.tv_nsec != d->st.st_mtim.tv_nsec)
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "the KB file changed while its signature was checked");
  return TSHOOT_OK;
}

/* The bytes a signature covers (the file comment says which). */
static size_t signed_message(unsigned char *m, const kb_digest *d, const char *name)
{
  size_t nl = strlen(name), k = sizeof SIG_DOMAIN;   /* with its NUL */
  memcpy(m, SIG_DOMAIN, k);
  put_be(m + k, SIG_SCHEME, 4); k += 4;
  put_be(m + k, d->format, 4); k += 4;
  put_be(m + k, d->size, 8); k += 8;
  memcpy(m + k, d->sha, sizeof d->sha); k += sizeof d->sha;
  put_be(m + k, nl, 2); k += 2;
  memcpy(m + k, name, nl);
  return k + nl;
}
#define MSG_MAX (sizeof SIG_DOMAIN + 4 + 4 + 8 + crypto_hash_sha256_BYTES + 2 + MAX_NAME)

static int sig_verifies(const sig_line *s, const kb_digest *d)
{
  unsigned char m[MSG_MAX];
  size_t n = signed_message(m, d, s->name);
  return crypto_sign_verify_detached(s->sig, m, n, s->pk) == 0;
}

/* ===== signature files ===== */

/* Parse a signature file: its well-formed lines into sigs (at most MAX_SIGS),
** and the line number of the first malformed one into *bad_line (0: none). */
static size_t parse_sigs(sig_line *sigs, int *bad_line, const char *text, size_t len)
{
  const char *line, *f[2], *rest;
  size_t n, fl[2], rl, pos = 0, count = 0;
  int no = 0;
  *bad_line = 0;
  while (next_line(text, len, &pos, &line, &n)) {
    sig_line *s = &sigs[count];
    no++;
    if (blank_or_comment(line, n)) continue;
    if (count == MAX_SIGS || !split_line(line, n, SIG_TAG, 2, f, fl, &rest, &rl) ||
        !hex_in(s->pk, sizeof s->pk, f[0], fl[0]) || !hex_in(s->sig, sizeof s->sig, f[1], fl[1]) ||
        !name_ok(rest, rl)) {
      if (!*bad_line) *bad_line = no;
      continue;
    }
    memcpy(s->name, rest, rl);
    s->name[rl] = '\0';
    count++;
  }
  return count;
}

static void key_hex(char out[2 * crypto_sign_PUBLICKEYBYTES + 1], const unsigned char *pk)
{
  ts_hex(pk, crypto_sign_PUBLICKEYBYTES, out);
}

static const char *base_name(const char *p)
{
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* ===== the trust of an open KB ===== */

static int sodium_ready(void)
{
  if (sodium_init() < 0) return ts_error(TSHOOT_ERROR, "libsodium could not be initialised");
  return TSHOOT_OK;
}

static void set_reason(kb_trust *t, tshoot_trust_status st, const char *fmt, ...) TS_PRINTF(3, 4);
static void set_reason(kb_trust *t, tshoot_trust_status st, const char *fmt, ...)
{
  va_list ap;
  t->pub.status = st;
  va_start(ap, fmt);
  vsnprintf(t->reason, sizeof t->reason, fmt, ap);
  va_end(ap);
}

int kb_sign_check(kb_trust **out, int fd, const char *path, const tshoot_kb_options *opts)
{
  kb_trust *t;
  key_set trusted = { 0 }, revoked = { 0 };
  sig_line sigs[MAX_SIGS];
  char *sig_path = NULL, *text = NULL;
  size_t len = 0, n = 0, i, plen;
  int rc, bad_line = 0, any_trusted = 0, all_revoked = 1;
  const sig_line *signer = NULL;
  unsigned flags = opts && opts->version >= 2 ? opts->trust_flags : 0;

  *out = NULL;
  if ((rc = sodium_ready()) != TSHOOT_OK) return rc;
  t = ts_calloc(1, sizeof *t);
  if (!t) return ts_error_oom();
  t->pub.reason = t->reason;
  t->pub.signatures = t->sigs;
  rc = collect_keys(&trusted, &revoked, opts);
  if (rc != TSHOOT_OK) goto done;

  plen = strlen(path) + 5;
  sig_path = ts_malloc(plen);
  if (!sig_path) { rc = ts_error_oom(); goto done; }
  snprintf(sig_path, plen, "%s.sig", path);
  rc = read_small(&text, &len, NULL, sig_path, MAX_SIG_FILE);
  if (rc == TSHOOT_ENOMEM) goto done;
  if (rc == TSHOOT_ENOTFOUND) {
    set_reason(t, TSHOOT_TRUST_UNSIGNED, "unsigned: there is no signature file %s beside the KB",
               base_name(sig_path));
    tshoot_error_clear();
    rc = TSHOOT_OK;
    goto decided;
  }
  if (rc != TSHOOT_OK) {
    set_reason(t, TSHOOT_TRUST_BAD_SIGNATURE, "bad signature: %s", tshoot_error_last()->message);
    tshoot_error_clear();
    rc = TSHOOT_OK;
    goto decided;
  }
  n = parse_sigs(sigs, &bad_line, text, len);
  for (i = 0; i < n; i++) {
    tshoot_signer *s = &t->sigs[i];
    memcpy(t->names[i], sigs[i].name, sizeof t->names[i]);
    key_hex(t->keys[i], sigs[i].pk);
    s->name = t->names[i];
    s->key = t->keys[i];
    s->revoked = set_has(&revoked, sigs[i].pk);
    s->trusted = !s->revoked && set_has(&trusted, sigs[i].pk);
    s->verified = -1;
    any_trusted |= s->trusted;
    all_revoked &= s->revoked;
  }
  t->pub.n_signatures = n;
  if (any_trusted) {
    kb_digest d;
    rc = digest_fd(&d, fd, path);
    if (rc == TSHOOT_ENOMEM) goto done;
    if (rc != TSHOOT_OK) {
      set_reason(t, TSHOOT_TRUST_BAD_SIGNATURE, "bad signature: %s", tshoot_error_last()->message);
      tshoot_error_clear();
      rc = TSHOOT_OK;
      goto decided;
    }
    for (i = 0; i < n; i++) {
      if (!t->sigs[i].trusted) continue;
      t->sigs[i].verified = sig_verifies(&sigs[i], &d);
      if (t->sigs[i].verified && !signer) {
        signer = &sigs[i];
        t->pub.signer = &t->sigs[i];
      }
    }
    t->dev = d.st.st_dev;
    t->ino = d.st.st_ino;
    t->size = d.st.st_size;
    t->mtime = d.st.st_mtim;
  }
  if (signer) {
    set_reason(t, TSHOOT_TRUST_SIGNED, "signed by '%s' (key %.16s...), a trusted key", signer->name,
               t->pub.signer->key);
  } else if (any_trusted) {
    for (i = 0; i < n && !t->sigs[i].trusted; i++) {}
    set_reason(t, TSHOOT_TRUST_BAD_SIGNATURE,
               "bad signature: the signature of '%s' (key %.16s...) does not match the KB's bytes "
               "(the KB or %s was changed after signing)", t->sigs[i].name, t->sigs[i].key,
               base_name(sig_path));
  } else if (n == 0) {
    if (bad_line)
      set_reason(t, TSHOOT_TRUST_BAD_SIGNATURE, "bad signature: %s:%d is not a '" SIG_TAG
                 " KEY SIGNATURE NAME' line", base_name(sig_path), bad_line);
    else
      set_reason(t, TSHOOT_TRUST_BAD_SIGNATURE, "bad signature: %s holds no signature", base_name(sig_path));
  } else if (all_revoked) {
    set_reason(t, TSHOOT_TRUST_REVOKED, "revoked: signed only by revoked keys ('%s', key %.16s...%s)",
               t->sigs[0].name, t->sigs[0].key, n > 1 ? ", ..." : "");
  } else {
    for (i = 0; i < n && t->sigs[i].revoked; i++) {}
    set_reason(t, TSHOOT_TRUST_UNKNOWN_SIGNER,
               "unknown signer: signed by '%s' (key %.16s...), a key this machine does not trust",
               t->sigs[i].name, t->sigs[i].key);
  }
decided:
  t->pub.scripts_allowed = t->pub.status == TSHOOT_TRUST_SIGNED || (flags & TSHOOT_KB_ALLOW_UNSIGNED_SCRIPTS);
  if (t->pub.status != TSHOOT_TRUST_SIGNED && (flags & TSHOOT_KB_REQUIRE_SIGNATURE)) {
    rc = ts_error_at(TSHOOT_EUNTRUSTED, path, 0, 0, "KB refused: %s", t->reason);
    goto done;
  }
  *out = t;
  t = NULL;
done:
  ts_free(text);
  ts_free(sig_path);
  ts_free(trusted.keys);
  ts_free(revoked.keys);
  kb_sign_free(t);
  return rc;
}

const tshoot_kb_trust *kb_sign_public(const kb_trust *t) { return t ? &t->pub : NULL; }

void kb_sign_free(kb_trust *t)
{
  size_t i;
  if (!t) return;
  for (i = 0; i < t->n_scripts; i++) ts_free(t->script_names[i]);
  ts_free(t->script_names);
  ts_free(t->script_digests);
  ts_free(t);
}

int kb_sign_load_scripts(kb_trust *t, sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  size_t cap_n = 0, cap_d = 0;
  int rc;
  if (!t || t->pub.status != TSHOOT_TRUST_SIGNED) return TSHOOT_OK;
  rc = sqlite3_prepare_v2(db, "SELECT name, sha256 FROM script", -1, &st, NULL);
  if (rc != SQLITE_OK) return kb_sqlite_error(db, rc, "reading the KB's script digests");
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *sha = (const char *)sqlite3_column_text(st, 1);
    char *copy;
    if (!name || !sha || strlen(sha) != 64) continue;  /* such a script is refused */
    if (ts_grow((void **)&t->script_names, &cap_n, t->n_scripts + 1, sizeof *t->script_names) < 0 ||
        ts_grow((void **)&t->script_digests, &cap_d, t->n_scripts + 1, sizeof *t->script_digests) < 0 ||
        !(copy = ts_strdup(name))) {
      sqlite3_finalize(st);
      return ts_error_oom();
    }
    t->script_names[t->n_scripts] = copy;
    memcpy(t->script_digests[t->n_scripts], sha, 65);
    t->n_scripts++;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return kb_sqlite_error(db, rc, "reading the KB's script digests");
  return TSHOOT_OK;
}

int kb_sign_script(const tshoot_kb *kb, const char *name, const char *body, size_t len)
{
  const kb_trust *t = kb->trust;
  struct stat st;
  char hex[65];
  size_t i;
  if (!t) return ts_error(TSHOOT_EUNTRUSTED, "script '%s' refused: the KB's trust is unknown", name);
  if (!t->pub.scripts_allowed)
    return ts_error_at(TSHOOT_EUNTRUSTED, kb->path, 0, 0,
                       "script '%s' refused: the KB is not trusted: %s (docs/signing.md; developers: "
                       "--allow-unsigned-scripts)", name, t->reason);
  if (t->pub.status != TSHOOT_TRUST_SIGNED || !body) return TSHOOT_OK;  /* developer's choice */
  /* not ctime: renaming another KB over this one (as a compile does) changes
  ** it, and the handle goes on reading this file */
  if (fstat(kb->fd, &st) != 0 || st.st_dev != t->dev || st.st_ino != t->ino || st.st_size != t->size ||
      st.st_mtim.tv_sec != t->mtime.tv_sec || st.st_mtim.tv_nsec != t->mtime.tv_nsec)
    return ts_error_at(TSHOOT_EUNTRUSTED, kb->path, 0, 0,
                       "script '%s' refused: the KB file was changed in place since its signature "
                       "was checked; reopen it", name);
  ts_sha256_hex(body, len, hex);
  for (i = 0; i < t->n_scripts; i++)
    if (strcmp(t->script_names[i], name) == 0) break;
  if (i == t->n_scripts || strcmp(t->script_digests[i], hex) != 0)
    return ts_error_at(TSHOOT_EUNTRUSTED, kb->path, 0, 0,
                       "script '%s' refused: its bytes differ from those the signature covered", name);
  return TSHOOT_OK;
}

TSHOOT_API const tshoot_kb_trust *tshoot_kb_trust_get(const tshoot_kb *kb)
{
  return kb ? kb_sign_public(kb->trust) : NULL;
}

/* ===== keys ===== */

/* Write `text` to a new file `path` with `mode` (refusing to follow a
** symbolic link or, unless overwrite, to replace a file). */
static int write_new(const char *path, const char *text, mode_t mode, int overwrite)
{
  size_t len = strlen(text), done = 0;
  int fd;
  if (overwrite && unlink(path) != 0 && errno != ENOENT)
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "cannot replace: %s", strerror(errno));
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    int e = errno;
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "%s", e == EEXIST ? "the file exists; keys are never "
                       "overwritten (remove it first, if you mean to)" : strerror(e));
  }
  if (fchmod(fd, mode) != 0) goto fail;
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto fail;
    done += (size_t)n;
  }
  if (fsync(fd) != 0) goto fail;
  if (close(fd) != 0) { fd = -1; goto fail; }
  return TSHOOT_OK;
fail:
  {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(path);
    return ts_error_at(TSHOOT_EIO, path, 0, 0, "cannot write: %s", strerror(e));
  }
}

TSHOOT_API int tshoot_key_generate(const char *base, const char *name, int overwrite)
{
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  char pkh[2 * sizeof pk + 1], skh[2 * sizeof sk + 1];
  char *text = NULL, *p_key = NULL, *p_pub = NULL;
  size_t n;
  int rc;

  TS_CHECK_ARG(base && name);
  if (!*base) return ts_error(TSHOOT_EINVALID, "tshoot_key_generate: the file name is empty");
  if (!name_ok(name, strlen(name)))
    return ts_error(TSHOOT_EINVALID, "signer name '%s': use 1 to %d printable characters, no line "
                    "breaks, not starting with a space", name, MAX_NAME);
  if ((rc = sodium_ready()) != TSHOOT_OK) return rc;
  n = strlen(base) + 8;
  p_key = ts_malloc(n);
  p_pub = ts_malloc(n);
  text = ts_malloc(2 * sizeof sk + 2 * MAX_NAME + 256);
  if (!p_key || !p_pub || !text) { rc = ts_error_oom(); goto done; }
  snprintf(p_key, n, "%s.key", base);
  snprintf(p_pub, n, "%s.pub", base);
  crypto_sign_keypair(pk, sk);
  ts_hex(pk, sizeof pk, pkh);
  ts_hex(sk, sizeof sk, skh);
  snprintf(text, 2 * sizeof sk + 2 * MAX_NAME + 256,
           "# tshoot secret key of %s: it signs KBs; keep it private (docs/signing.md)\n"
           SEC_TAG " %s %s\n", name, skh, name);
  rc = write_new(p_key, text, 0600, overwrite);
  if (rc == TSHOOT_OK) {
    snprintf(text, 2 * sizeof sk + 2 * MAX_NAME + 256,
             "# tshoot public key of %s: to trust the KBs it signs, copy this file into\n"
             "# /etc/tshoot/trusted.d/ (docs/signing.md)\n"
             PUB_TAG " %s %s\n", name, pkh, name);
    rc = write_new(p_pub, text, 0644, overwrite);
    if (rc != TSHOOT_OK) unlink(p_key);
  }
done:
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(skh, sizeof skh);
  if (text) sodium_memzero(text, 2 * sizeof sk + 2 * MAX_NAME + 256);
  ts_free(text);
  ts_free(p_key);
  ts_free(p_pub);
  return rc;
}

/* Load a secret key file: sk and the signer's name. */
static int load_secret(unsigned char sk[crypto_sign_SECRETKEYBYTES], char name[MAX_NAME + 1], const char *path)
{
  char *text = NULL;
  size_t len, n, fl[1], rl, pos = 0;
  const char *line, *f[1], *rest;
  struct stat st;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
  int rc = read_small(&text, &len, &st, path, MAX_KEY_FILE), found = 0;
  if (rc != TSHOOT_OK) return rc;
  if (st.st_mode & 077) {
    rc = ts_error_at(TSHOOT_EINVALID, path, 0, 0, "the secret key can be read by others (mode %04o); "
                     "chmod 600 it, and consider it exposed", (unsigned)(st.st_mode & 07777));
    goto done;
  }
  while (next_line(text, len, &pos, &line, &n)) {
    if (blank_or_comment(line, n)) continue;
    if (found || !split_line(line, n, SEC_TAG, 1, f, fl, &rest, &rl) ||
        !hex_in(sk, crypto_sign_SECRETKEYBYTES, f[0], fl[0]) || !name_ok(rest, rl)) {
      found = 0;
      break;
    }
    memcpy(name, rest, rl);
    name[rl] = '\0';
    found = 1;
  }
  /* the public half must be the one the seed gives */
  if (found) {
    crypto_sign_seed_keypair(pk, sk2, sk);
    found = memcmp(sk2, sk, sizeof sk2) == 0;
  }
  if (!found)
    rc = ts_error_at(TSHOOT_EINVALID, path, 0, 0, "not a tshoot secret key (one line '" SEC_TAG
                     " <128 hex digits> <name>', as 'tshoot keygen' writes)");
done:
  sodium_memzero(sk2, sizeof sk2);
  sodium_memzero(text, len);
  ts_free(text);
  if (rc != TSHOOT_OK) sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
  return rc;
}

TSHOOT_API int tshoot_kb_sign(const char *kb_path, const char *key_path, unsigned int flags)
{
  unsigned char sk[crypto_sign_SECRETKEYBYTES], m[MSG_MAX];
  sig_line sigs[MAX_SIGS], mine;
  char name[MAX_NAME + 1], *sig_path = NULL, *tmp = NULL, *old = NULL, *out = NULL;
  size_t n_old = 0, len = 0, i, cap, used = 0, kept = 0;
  kb_digest d;
  int fd = -1, rc, bad_line, tfd = -1;

  TS_CHECK_ARG(kb_path && key_path);
  if ((rc = sodium_ready()) != TSHOOT_OK) return rc;
  fd = open(kb_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    return ts_error_at(e == ENOENT ? TSHOOT_ENOTFOUND : TSHOOT_EIO, kb_path, 0, 0, "cannot open: %s", strerror(e));
  }
  rc = kb_open_check_header(fd, kb_path);
  if (rc == TSHOOT_OK) rc = digest_fd(&d, fd, kb_path);
  close(fd);
  if (rc != TSHOOT_OK) return rc;
  rc = load_secret(sk, name, key_path);
  if (rc != TSHOOT_OK) return rc;
  n_old = strlen(kb_path) + 5;
  sig_path = ts_malloc(n_old);
  tmp = ts_malloc(n_old + 16);
  if (!sig_path || !tmp) { rc = ts_error_oom(); goto done; }
  snprintf(sig_path, n_old, "%s.sig", kb_path);
  snprintf(tmp, n_old + 16, "%s.tmp-XXXXXX", sig_path);

  memcpy(mine.name, name, sizeof name);
  crypto_sign_ed25519_sk_to_pk(mine.pk, sk);
  crypto_sign_detached(mine.sig, NULL, m, signed_message(m, &d, name), sk);

  /* the signatures already there that still hold, by other keys */
  n_old = 0;
  rc = read_small(&old, &len, NULL, sig_path, MAX_SIG_FILE);
  if (rc == TSHOOT_ENOMEM) goto done;
  if (rc == TSHOOT_OK && !(flags & TSHOOT_SIGN_ONLY)) n_old = parse_sigs(sigs, &bad_line, old, len);
  tshoot_error_clear();
  cap = 128 + (MAX_SIGS + 1) * (sizeof SIG_TAG + 2 * (32 + 64) + MAX_NAME + 8);
  out = ts_malloc(cap);
  if (!out) { rc = ts_error_oom(); goto done; }
  used = (size_t)snprintf(out, cap, "# tshoot KB signatures of %s (docs/signing.md)\n", base_name(kb_path));
  for (i = 0; i <= n_old; i++) {
    const sig_line *s = i < n_old ? &sigs[i] : &mine;
    char kh[65], sh[129];
    if (i < n_old && (memcmp(s->pk, mine.pk, sizeof mine.pk) == 0 || !sig_verifies(s, &d) || kept == MAX_SIGS - 1))
      continue;
    if (i < n_old) kept++;
    ts_hex(s->pk, sizeof s->pk, kh);
    ts_hex(s->sig, sizeof s->sig, sh);
    used += (size_t)snprintf(out + used, cap - used, SIG_TAG " %s %s %s\n", kh, sh, s->name);
  }
  tfd = mkstemp(tmp);
  if (tfd < 0) { rc = ts_error_at(TSHOOT_EIO, sig_path, 0, 0, "cannot write: %s", strerror(errno)); goto done; }
  {
    size_t w = 0;
    int ok = fchmod(tfd, 0644) == 0;
    while (ok && w < used) {
      ssize_t k = write(tfd, out + w, used - w);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) ok = 0;
      else w += (size_t)k;
    }
    ok = ok && fsync(tfd) == 0;
    ok = close(tfd) == 0 && ok;
    tfd = -1;
    if (!ok || rename(tmp, sig_path) != 0) {
      rc = ts_error_at(TSHOOT_EIO, sig_path, 0, 0, "cannot write: %s", strerror(errno));
      unlink(tmp);
      goto done;
    }
  }
  rc = TSHOOT_OK;
done:
  sodium_memzero(sk, sizeof sk);
  ts_free(old);
  ts_free(out);
  ts_free(tmp);
  ts_free(sig_path);
  return rc;
}
