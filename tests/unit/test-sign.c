/*
** test-sign.c: signed KBs (kb_sign.c, docs/signing.md): keys, signatures,
** the trust policy of tshoot_kb_open, and the refusal of every script of a
** KB that no trusted key signed. The tamper test flips 200 random bytes of a
** signed KB and 200 of its signature, swaps another signed KB in under its
** name, truncates and appends: every case is refused for scripts (no script
** body leaves the library, no probe runs on a host), and nothing crashes.
*/
#include "tshoot.h"
#include "kb.h"
#include "test.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static char *kb_bytes;          /* the shipped KB, as this build compiled it */
static size_t kb_len;
static char **script_names;     /* its scripts, the shortest first */
static size_t n_scripts;

static const char *tmp(const char *name)
{
  static char buf[8][512];
  static int k;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

/* The first place where needle occurs in hay, or NULL. */
static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
  size_t i;
  for (i = 0; m && i + m <= n; i++)
    if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return hay + i;
  return NULL;
}

static char *slurp(const char *path, size_t *len)
{
  char *buf = NULL;
  if (ts_read_file(&buf, len, path, 64u << 20) != TSHOOT_OK) return NULL;
  return buf;
}

static int spit(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  int ok;
  if (!f) return -1;
  ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* The text of a public key file. */
static char *pub(const char *name)
{
  char path[600];
  size_t n;
  snprintf(path, sizeof path, "%s.pub", tmp(name));
  return slurp(path, &n);
}

/* Options that trust exactly `keys` (key texts) and nothing by default. */
static tshoot_kb_options trusting(const char *const *keys, size_t n)
{
  tshoot_kb_options o = TSHOOT_KB_OPTIONS_INIT;
  o.trusted_keys = keys;
  o.n_trusted_keys = n;
  o.trust_flags = TSHOOT_KB_NO_DEFAULT_TRUST;
  return o;
}

/* How many of the KB's scripts the library hands out from `path` opened
** with `o` (0 when it does not open). Each refusal must say why. */
static size_t scripts_out(const char *path, const tshoot_kb_options *o, int *open_rc)
{
  tshoot_kb *kb = NULL;
  size_t i, out = 0;
  int rc = tshoot_kb_open(&kb, path, o);
  if (open_rc) *open_rc = rc;
  if (rc != TSHOOT_OK) { CHECK(kb == NULL); return 0; }
  for (i = 0; i < n_scripts; i++) {
    char *body = NULL;
    size_t len = 0;
    rc = tshoot_kb_script(&body, &len, kb, script_names[i]);
    if (rc == TSHOOT_OK) out++;
    else CHECK(body == NULL && *tshoot_error_last()->message);
    tshoot_free(body);
  }
  tshoot_kb_close(kb);
  return out;
}

static int setup(void)
{
  const char *kb = getenv("TSHOOT_KB");
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  size_t cap = 0;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-test-sign.XXXXXX");
  if (!kb || !mkdtemp(tmpdir)) return -1;
  kb_bytes = slurp(kb, &kb_len);
  if (!kb_bytes) return -1;
  if (sqlite3_open_v2(kb, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT name FROM script ORDER BY length(body), name", -1, &st, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (ts_grow((void **)&script_names, &cap, n_scripts + 1, sizeof *script_names) < 0) break;
    script_names[n_scripts++] = ts_strdup((const char *)sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (n_scripts == 0) return -1;
  /* three publishers' keys, and the KB signed by A */
  if (tshoot_key_generate(tmp("a"), "Publisher A", 0) != TSHOOT_OK ||
      tshoot_key_generate(tmp("b"), "Publisher B", 0) != TSHOOT_OK ||
      tshoot_key_generate(tmp("c"), "Publisher C", 0) != TSHOOT_OK)
    return -1;
  if (spit(tmp("kb.db"), kb_bytes, kb_len) != 0 || tshoot_kb_sign(tmp("kb.db"), tmp("a.key"), 0) != TSHOOT_OK)
    return -1;
  /* another KB: the car rule base */
  {
    char car[600];
    const char *src[1] = { car };
    snprintf(car, sizeof car, "%s/tests/data/car", getenv("TSHOOT_SOURCE_ROOT") ? getenv("TSHOOT_SOURCE_ROOT") : ".");
    if (tshoot_compile(NULL, src, 1, tmp("car.db"), NULL) != TSHOOT_OK) return -1;
  }
  return 0;
}

static void teardown(void)
{
  size_t i;
  char cmd[600];
  for (i = 0; i < n_scripts; i++) ts_free(script_names[i]);
  ts_free(script_names);
  ts_free(kb_bytes);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* ===== keys ===== */

static void test_sign__keys_are_private_and_never_overwritten(void)
{
  struct stat st;
  char *p = pub("a"), *k = slurp(tmp("a.key"), &(size_t){ 0 });
  CHECK(stat(tmp("a.key"), &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK_CONTAINS(p, "tshoot-ed25519-public-1 ");
  CHECK_CONTAINS(p, " Publisher A\n");
  CHECK_CONTAINS(k, "tshoot-ed25519-secret-1 ");
  CHECK(p && k && !strstr(p, "secret-1"));
  CHECK_INT(tshoot_key_generate(tmp("a"), "Publisher A", 0), TSHOOT_EIO);
  CHECK_CONTAINS(tshoot_error_last()->message, "never overwritten");
  CHECK_INT(tshoot_key_generate(tmp("bad"), "two\nlines", 0), TSHOOT_EINVALID);
  CHECK_INT(tshoot_key_generate(tmp("bad"), "", 0), TSHOOT_EINVALID);
  CHECK_INT(tshoot_key_generate(tmp("bad"), "\x1b[31mred", 0), TSHOOT_EINVALID);
  CHECK(access(tmp("bad.key"), F_OK) != 0);
  ts_free(p);
  ts_free(k);
}

static void test_sign__secret_key_readable_by_others_is_refused(void)
{
  CHECK_INT(tshoot_key_generate(tmp("loose"), "Loose", 0), TSHOOT_OK);
  CHECK(chmod(tmp("loose.key"), 0644) == 0);
  CHECK_INT(spit(tmp("loose.db"), kb_bytes, kb_len), 0);
  CHECK_INT(tshoot_kb_sign(tmp("loose.db"), tmp("loose.key"), 0), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "chmod 600");
  CHECK(access(tmp("loose.db.sig"), F_OK) != 0);
  /* a public key is no secret key, a non-KB is not signed */
  CHECK_INT(tshoot_kb_sign(tmp("loose.db"), tmp("a.pub"), 0), TSHOOT_EINVALID);
  CHECK_INT(tshoot_kb_sign(tmp("a.pub"), tmp("a.key"), 0), TSHOOT_ECORRUPT);
  CHECK_INT(tshoot_kb_sign(tmp("missing.db"), tmp("a.key"), 0), TSHOOT_ENOTFOUND);
}

/* ===== the trust policy ===== */

static void test_sign__signed_kb_runs_scripts_only_for_its_trusters(void)
{
  char *a = pub("a"), *b = pub("b");
  const char *ka[1] = { a }, *kb_[1] = { b };
  tshoot_kb_options oa = trusting(ka, 1), ob = trusting(kb_, 1), none = trusting(NULL, 0);
  tshoot_kb *kb = NULL;
  const tshoot_kb_trust *t;
  CHECK_INT(scripts_out(tmp("kb.db"), &oa, NULL), n_scripts);
  CHECK_INT(tshoot_kb_open(&kb, tmp("kb.db"), &oa), TSHOOT_OK);
  t = tshoot_kb_trust_get(kb);
  CHECK(t && t->status == TSHOOT_TRUST_SIGNED && t->scripts_allowed);
  CHECK(t && t->signer && strcmp(t->signer->name, "Publisher A") == 0 && t->signer->verified == 1);
  CHECK_CONTAINS(t ? t->reason : NULL, "signed by 'Publisher A'");
  tshoot_kb_close(kb);

  /* another key: unknown signer; searched and read, but no script */
  CHECK_INT(scripts_out(tmp("kb.db"), &ob, NULL), 0);
  CHECK_INT(tshoot_error_last()->code, TSHOOT_EUNTRUSTED);
  CHECK_CONTAINS(tshoot_error_last()->message, "unknown signer: signed by 'Publisher A'");
  CHECK_INT(scripts_out(tmp("kb.db"), &none, NULL), 0);
  CHECK_INT(tshoot_kb_open(&kb, tmp("kb.db"), &ob), TSHOOT_OK);
  t = tshoot_kb_trust_get(kb);
  CHECK(t && t->status == TSHOOT_TRUST_UNKNOWN_SIGNER && !t->scripts_allowed && t->n_signatures == 1);
  CHECK(t && t->signatures[0].verified == -1 && !t->signatures[0].trusted);
  {
    tshoot_results *r = NULL;
    CHECK_INT(tshoot_search(&r, kb, "kofmsp.dll", 10, NULL), TSHOOT_OK);
    CHECK(r && tshoot_results_count(r) > 0);
    tshoot_results_free(r);
  }
  tshoot_kb_close(kb);

  /* the developers' switch runs them, and says the KB is still untrusted */
  ob.trust_flags |= TSHOOT_KB_ALLOW_UNSIGNED_SCRIPTS;
  CHECK_INT(scripts_out(tmp("kb.db"), &ob, NULL), n_scripts);
  ts_free(a);
  ts_free(b);
}

static void test_sign__unsigned_kb_says_so(void)
{
  char *a = pub("a");
  const char *ka[1] = { a };
  tshoot_kb_options o = trusting(ka, 1);
  tshoot_kb *kb = NULL;
  CHECK_INT(spit(tmp("plain.db"), kb_bytes, kb_len), 0);
  CHECK_INT(scripts_out(tmp("plain.db"), &o, NULL), 0);
  CHECK_CONTAINS(tshoot_error_last()->message, "unsigned: there is no signature file plain.db.sig");
  CHECK_CONTAINS(tshoot_error_last()->message, "--allow-unsigned-scripts");
  /* an embedder may refuse to open it at all: before SQLite reads it */
  o.trust_flags |= TSHOOT_KB_REQUIRE_SIGNATURE;
  CHECK_INT(tshoot_kb_open(&kb, tmp("plain.db"), &o), TSHOOT_EUNTRUSTED);
  CHECK(kb == NULL);
  CHECK_CONTAINS(tshoot_error_last()->message, "KB refused: unsigned");
  CHECK_STR(tshoot_error_last()->file, tmp("plain.db"));
  CHECK_INT(tshoot_kb_open(&kb, tmp("kb.db"), &o), TSHOOT_OK);
  tshoot_kb_close(kb);
  /* version 1 options are still accepted (defaults: no extra trust) */
  {
    tshoot_kb_options v1 = TSHOOT_KB_OPTIONS_INIT;
    v1.version = 1;
    CHECK_INT(tshoot_kb_open(&kb, tmp("plain.db"), &v1), TSHOOT_OK);
    CHECK(tshoot_kb_trust_get(kb) && tshoot_kb_trust_get(kb)->status == TSHOOT_TRUST_UNSIGNED);
    tshoot_kb_close(kb);
  }
  /* a trusted key that is not a key is the caller's mistake */
  {
    const char *bad[1] = { "tshoot-ed25519-public-1 abcd Someone" };
    tshoot_kb_options ob = trusting(bad, 1);
    CHECK_INT(tshoot_kb_open(&kb, tmp("kb.db"), &ob), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "trusted_keys[0]");
  }
  ts_free(a);
}

/* Trust folders and $TSHOOT_TRUST: *.pub trusted, *.revoked revoked. */
static void test_sign__trust_folders_and_environment(void)
{
  char dir[600], cmd[2000];
  const char *dirs[1];
  tshoot_kb_options o = trusting(NULL, 0);
  tshoot_kb *kb = NULL;
  snprintf(dir, sizeof dir, "%s", tmp("trusted.d"));
  CHECK(mkdir(dir, 0755) == 0);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s/a.pub' && echo garbage > '%s/junk.pub'", tmp("a.pub"), dir, dir);
  CHECK(system(cmd) == 0);
  dirs[0] = dir;
  o.trust_dirs = dirs;
  o.n_trust_dirs = 1;
  CHECK_INT(scripts_out(tmp("kb.db"), &o, NULL), n_scripts);
  /* the environment, for programs that pass no options */
  CHECK(setenv("TSHOOT_TRUST", dir, 1) == 0);
  CHECK_INT(scripts_out(tmp("kb.db"), NULL, NULL), n_scripts);
  CHECK(setenv("TSHOOT_TRUST", tmp("b.pub"), 1) == 0);
  CHECK_INT(scripts_out(tmp("kb.db"), NULL, NULL), 0);
  CHECK(unsetenv("TSHOOT_TRUST") == 0);
  /* a missing folder trusts nothing and is no error */
  dirs[0] = tmp("no-such-folder");
  CHECK_INT(tshoot_kb_open(&kb, tmp("kb.db"), &o), TSHOOT_OK);
  CHECK(tshoot_kb_trust_get(kb)->status == TSHOOT_TRUST_UNKNOWN_SIGNER);
  tshoot_kb_close(kb);
}

/* Key rotation: several trusted keys, several signatures, revoked keys. */
static void test_sign__key_rotation(void)
{
  char *a = pub("a"), *b = pub("b"), *c = pub("c");
  const char *kab[2] = { a, b }, *kb1[1] = { b }, *kc[1] = { c };
  tshoot_kb_options o;
  tshoot_kb *kb = NULL;
  const tshoot_kb_trust *t;
  char dir[600], cmd[2000];
  const char *dirs[1];

  /* signed by A, then B too: both signatures, either key enough */
  CHECK_INT(spit(tmp("rot.db"), kb_bytes, kb_len), 0);
  CHECK_INT(tshoot_kb_sign(tmp("rot.db"), tmp("a.key"), 0), TSHOOT_OK);
  CHECK_INT(tshoot_kb_sign(tmp("rot.db"), tmp("b.key"), 0), TSHOOT_OK);
  CHECK_INT(tshoot_kb_sign(tmp("rot.db"), tmp("b.key"), 0), TSHOOT_OK);  /* replaces B's */
  o = trusting(kb1, 1);
  CHECK_INT(tshoot_kb_open(&kb, tmp("rot.db"), &o), TSHOOT_OK);
  t = tshoot_kb_trust_get(kb);
  CHECK(t && t->status == TSHOOT_TRUST_SIGNED && t->n_signatures == 2);
  CHECK(t && t->signer && strcmp(t->signer->name, "Publisher B") == 0);
  tshoot_kb_close(kb);
  o = trusting(kab, 2);
  CHECK_INT(scripts_out(tmp("rot.db"), &o, NULL), n_scripts);
  /* TSHOOT_SIGN_ONLY keeps no other signature */
  CHECK_INT(spit(tmp("only.db"), kb_bytes, kb_len), 0);
  CHECK_INT(tshoot_kb_sign(tmp("only.db"), tmp("a.key"), 0), TSHOOT_OK);
  CHECK_INT(tshoot_kb_sign(tmp("only.db"), tmp("b.key"), TSHOOT_SIGN_ONLY), TSHOOT_OK);
  CHECK_INT(tshoot_kb_open(&kb, tmp("only.db"), &o), TSHOOT_OK);
  t = tshoot_kb_trust_get(kb);
  CHECK(t && t->n_signatures == 1 && strcmp(t->signatures[0].name, "Publisher B") == 0);
  tshoot_kb_close(kb);

  /* A revoked (in a trust folder): B's signature still carries the KB */
  snprintf(dir, sizeof dir, "%s", tmp("rotation.d"));
  CHECK(mkdir(dir, 0755) == 0);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s/a.pub' && cp '%s' '%s/a.revoked' && cp '%s' '%s/b.pub'",
           tmp("a.pub"), dir, tmp("a.pub"), dir, tmp("b.pub"), dir);
  CHECK(system(cmd) == 0);
  dirs[0] = dir;
  o = trusting(NULL, 0);
  o.trust_dirs = dirs;
  o.n_trust_dirs = 1;
  CHECK_INT(tshoot_kb_open(&kb, tmp("rot.db"), &o), TSHOOT_OK);
  t = tshoot_kb_trust_get(kb);
  CHECK(t && t->status == TSHOOT_TRUST_SIGNED && t->signer && strcmp(t->signer->name, "Publisher B") == 0);
  CHECK(t && t->n_signatures == 2 && t->signatures[0].revoked && !t->signatures[0].trusted);
  tshoot_kb_close(kb);
  /* a KB signed only by the revoked key runs nothing */
  CHECK_INT(scripts_out(tmp("kb.db"), &o, NULL), 0);
  CHECK_CONTAINS(tshoot_error_last()->message, "revoked: signed only by revoked keys ('Publisher A'");
  /* revoked through the options, even where also trusted */
  o = trusting(kab, 2);
  o.revoked_keys = kab;
  o.n_revoked_keys = 1;
  CHECK_INT(scripts_out(tmp("kb.db"), &o, NULL), 0);
  CHECK_INT(scripts_out(tmp("rot.db"), &o, NULL), n_scripts);

  /* recompiled (other bytes): signing with C drops the stale A and B */
  {
    size_t clen;
    char *cb = slurp(tmp("car.db"), &clen);
    CHECK(cb != NULL);
    if (cb) CHECK_INT(spit(tmp("rot.db"), cb, clen), 0);
    ts_free(cb);
  }
  CHECK_INT(tshoot_kb_sign(tmp("rot.db"), tmp("c.key"), 0), TSHOOT_OK);
  o = trusting(kc, 1);
  CHECK_INT(tshoot_kb_open(&kb, tmp("rot.db"), &o), TSHOOT_OK);
  t = tshoot_kb_trust_get(kb);
  CHECK(t && t->status == TSHOOT_TRUST_SIGNED && t->n_signatures == 1);
  tshoot_kb_close(kb);
  ts_free(a);
  ts_free(b);
  ts_free(c);
}

/* ===== tampering ===== */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Every case: the KB's scripts are refused (or it does not open at all). */
static void test_sign__tampering_is_refused(void)
{
  char *a = pub("a"), *sig;
  const char *ka[1] = { a };
  tshoot_kb_options o = trusting(ka, 1);
  size_t sig_len, i, opened = 0, bad_sig = 0;
  char *buf = ts_malloc(kb_len + 4096);
  int rc;

  sig = slurp(tmp("kb.db.sig"), &sig_len);
  CHECK(sig && buf);
  if (!sig || !buf) goto out;
  CHECK_INT(spit(tmp("t.db.sig"), sig, sig_len), 0);
  /* the untouched copy runs its scripts: the cases below are refused for what changed */
  CHECK_INT(spit(tmp("t.db"), kb_bytes, kb_len), 0);
  CHECK_INT(scripts_out(tmp("t.db"), &o, NULL), n_scripts);

  /* 200 flipped bytes of the KB */
  for (i = 0; i < 200; i++) {
    size_t at = (size_t)(next_rand() % kb_len);
    unsigned char x = (unsigned char)(1 + next_rand() % 255);
    memcpy(buf, kb_bytes, kb_len);
    buf[at] = (char)(buf[at] ^ x);
    CHECK_INT(spit(tmp("t.db"), buf, kb_len), 0);
    CHECK_INT(scripts_out(tmp("t.db"), &o, &rc), 0);
    if (rc == TSHOOT_OK) {
      opened++;
      if (strstr(tshoot_error_last()->message, "bad signature")) bad_sig++;
    }
  }
  printf("  KB flips: %zu of 200 opened (searchable), %zu of those said 'bad signature'\n", opened, bad_sig);
  CHECK(opened > 0 && bad_sig == opened);

  /* 200 flipped bytes of the signature file */
  CHECK_INT(spit(tmp("t.db"), kb_bytes, kb_len), 0);
  for (i = 0; i < 200; i++) {
    char *s = ts_malloc(sig_len);
    size_t at = (size_t)(next_rand() % sig_len);
    if (!s) break;
    memcpy(s, sig, sig_len);
    /* within the signature line (the comment line means nothing) */
    at = (size_t)(strchr(sig, '\n') - sig) + 1 + at % (sig_len - (size_t)(strchr(sig, '\n') - sig) - 2);
    s[at] = (char)(s[at] ^ (unsigned char)(1 + next_rand() % 255));
    CHECK_INT(spit(tmp("t.db.sig"), s, sig_len), 0);
    CHECK_INT(scripts_out(tmp("t.db"), &o, &rc), 0);
    CHECK_INT(rc, TSHOOT_OK);
    ts_free(s);
  }
  CHECK_INT(spit(tmp("t.db.sig"), sig, sig_len), 0);

  /* another KB, also signed by A, under the same name: the signature beside
  ** it is the first KB's */
  {
    size_t clen;
    char *cb;
    CHECK_INT(tshoot_kb_sign(tmp("car.db"), tmp("a.key"), 0), TSHOOT_OK);
    cb = slurp(tmp("car.db"), &clen);
    CHECK(cb != NULL);
    if (cb) CHECK_INT(spit(tmp("t.db"), cb, clen), 0);
    ts_free(cb);
    CHECK_INT(scripts_out(tmp("t.db"), &o, &rc), 0);
    CHECK_INT(rc, TSHOOT_OK);
    CHECK_CONTAINS(tshoot_error_last()->message, "bad signature");
  }

  /* truncated, at many lengths, and appended to */
  for (i = 0; i < 20; i++) {
    size_t len = i == 0 ? 0 : i == 1 ? kb_len - 1 : (size_t)(next_rand() % kb_len);
    CHECK_INT(spit(tmp("t.db"), kb_bytes, len), 0);
    CHECK_INT(scripts_out(tmp("t.db"), &o, &rc), 0);
  }
  for (i = 0; i < 4; i++) {
    size_t extra = i == 0 ? 1 : i == 1 ? 4096 : 1 + (size_t)(next_rand() % 4096);
    memcpy(buf, kb_bytes, kb_len);
    memset(buf + kb_len, (int)i, extra);
    CHECK_INT(spit(tmp("t.db"), buf, kb_len + extra), 0);
    CHECK_INT(scripts_out(tmp("t.db"), &o, &rc), 0);
  }
  /* a signature file that is not one, is empty, or is a folder */
  CHECK_INT(spit(tmp("t.db"), kb_bytes, kb_len), 0);
  CHECK_INT(spit(tmp("t.db.sig"), "hello\n", 6), 0);
  CHECK_INT(scripts_out(tmp("t.db"), &o, NULL), 0);
  CHECK_CONTAINS(tshoot_error_last()->message, "t.db.sig:1 is not a 'tshoot-kb-signature-1");
  CHECK_INT(spit(tmp("t.db.sig"), "", 0), 0);
  CHECK_INT(scripts_out(tmp("t.db"), &o, NULL), 0);
  CHECK(unlink(tmp("t.db.sig")) == 0 && mkdir(tmp("t.db.sig"), 0755) == 0);
  CHECK_INT(scripts_out(tmp("t.db"), &o, NULL), 0);
  CHECK_CONTAINS(tshoot_error_last()->message, "bad signature");
  CHECK(rmdir(tmp("t.db.sig")) == 0);
out:
  ts_free(buf);
  ts_free(sig);
  ts_free(a);
}

/* The KB is read through the descriptor that was verified: a KB renamed over
** it afterwards is not what runs, and a change in place runs nothing. */
static void test_sign__verified_bytes_are_the_ones_used(void)
{
  char *a = pub("a"), *sig = NULL, *body = NULL, *want = NULL;
  const char *ka[1] = { a };
  tshoot_kb_options o = trusting(ka, 1);
  tshoot_kb *kb = NULL;
  size_t sig_len, len, wlen;
  const char *name = script_names[0];
  char cmd[1200];

  sig = slurp(tmp("kb.db.sig"), &sig_len);
  CHECK_INT(spit(tmp("v.db"), kb_bytes, kb_len), 0);
  if (sig) CHECK_INT(spit(tmp("v.db.sig"), sig, sig_len), 0);
  CHECK_INT(tshoot_kb_open(&kb, tmp("v.db"), &o), TSHOOT_OK);
  if (!kb) goto out;
  CHECK_INT(tshoot_kb_script(&want, &wlen, kb, name), TSHOOT_OK);

  /* renamed over: the handle still reads (and runs) the verified file */
  snprintf(cmd, sizeof cmd, "cp '%s' '%s' && mv '%s' '%s'", tmp("car.db"), tmp("v2.db"), tmp("v2.db"), tmp("v.db"));
  CHECK(system(cmd) == 0);
  CHECK_INT(tshoot_kb_script(&body, &len, kb, name), TSHOOT_OK);
  CHECK(body && want && len == wlen && memcmp(body, want, len) == 0);
  tshoot_free(body);
  body = NULL;
  tshoot_kb_close(kb);
  kb = NULL;

  /* changed in place after the check: refused */
  CHECK_INT(spit(tmp("v.db"), kb_bytes, kb_len), 0);
  CHECK_INT(tshoot_kb_open(&kb, tmp("v.db"), &o), TSHOOT_OK);
  if (!kb) goto out;
  usleep(20000);   /* past the file system's timestamp tick */
  {
    /* a byte of the script's body, where the file has it */
    FILE *f = fopen(tmp("v.db"), "r+b");
    const char *at = want ? find_bytes(kb_bytes, kb_len, want, wlen) : NULL;
    long off = at ? (long)(at - kb_bytes) : (long)kb_len - 1;
    CHECK(f != NULL && at != NULL);
    if (f) {
      CHECK(fseek(f, off, SEEK_SET) == 0);
      fputc(at ? (kb_bytes[off] == 'x' ? 'y' : 'x') : kb_bytes[off], f);
      fclose(f);
    }
  }
  CHECK_INT(tshoot_kb_script(&body, &len, kb, name), TSHOOT_EUNTRUSTED);
  CHECK_CONTAINS(tshoot_error_last()->message, "changed in place");
  CHECK(body == NULL);
out:
  tshoot_kb_close(kb);
  tshoot_free(want);
  ts_free(sig);
  ts_free(a);
}

/* Probes of a session on an untrusted KB do not run: the person is asked. */
static void test_sign__sessions_probe_only_trusted_kbs(void)
{
  char *a = pub("a"), *b = pub("b"), machine[600];
  const char *ka[1] = { a }, *kb1[1] = { b };
  int round;
  snprintf(machine, sizeof machine, "%s/kb/kerio/machines/kofmsp-dll-missing.json",
           getenv("TSHOOT_SOURCE_ROOT") ? getenv("TSHOOT_SOURCE_ROOT") : ".");
  for (round = 0; round < 2; round++) {
    tshoot_kb_options o = trusting(round == 0 ? ka : kb1, 1);
    tshoot_kb *kb = NULL;
    tshoot_host *h = NULL;
    tshoot_session *s = NULL;
    const tshoot_step *st;
    const tshoot_probe_info *p;
    size_t n = 0, i, answered = 0;
    tshoot_run *run = NULL;
    CHECK_INT(tshoot_kb_open(&kb, tmp("kb.db"), &o), TSHOOT_OK);
    CHECK_INT(tshoot_host_sim_open(&h, machine), TSHOOT_OK);
    if (!kb || !h) { tshoot_kb_close(kb); tshoot_host_free(h); continue; }
    CHECK_INT(tshoot_session_new(&s, kb, NULL), TSHOOT_OK);
    CHECK_INT(tshoot_session_set_host(s, h, NULL), TSHOOT_OK);
    CHECK_INT(tshoot_session_describe(s, "outlook does not start, kofmsp.dll", 34), TSHOOT_OK);
    CHECK_INT(tshoot_session_next(&st, s), TSHOOT_OK);
    CHECK_INT(tshoot_session_probes(&p, &n, s), TSHOOT_OK);
    CHECK(n > 0);
    for (i = 0; i < n; i++) {
      if (p[i].answer) answered++;
      if (round == 1) {
        CHECK_INT(p[i].status, TSHOOT_EUNTRUSTED);
        CHECK_CONTAINS(p[i].message, "unknown signer");
      }
    }
    CHECK(round == 0 ? answered > 0 : answered == 0);
    if (round == 1) {
      CHECK_INT(tshoot_session_run_fix(&run, s, "koff.fix.clear-cache", 1), TSHOOT_EUNTRUSTED);
      CHECK(run == NULL);
    }
    tshoot_run_free(run);
    tshoot_session_free(s);
    tshoot_host_free(h);
    tshoot_kb_close(kb);
  }
  ts_free(a);
  ts_free(b);
}

static void test_sign__allocation_failures(void)
{
  char *a = pub("a");
  const char *ka[1] = { a };
  tshoot_kb_options o = trusting(ka, 1);
  long n;
  int ok = 0;
  for (n = 0; n < 400 && !ok; n++) {
    tshoot_kb *kb = NULL;
    int rc;
    ts_alloc_fail_after(n);
    rc = tshoot_kb_open(&kb, tmp("kb.db"), &o);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) {
      ok = 1;
      CHECK(tshoot_kb_trust_get(kb)->status == TSHOOT_TRUST_SIGNED);
    } else {
      CHECK(kb == NULL);
    }
    tshoot_kb_close(kb);
  }
  CHECK(ok);
  for (ok = 0, n = 0; n < 100 && !ok; n++) {
    int rc;
    ts_alloc_fail_after(n);
    rc = tshoot_kb_sign(tmp("kb.db"), tmp("a.key"), 0);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) ok = 1;
    else CHECK_INT(rc, TSHOOT_ENOMEM);
  }
  CHECK(ok);
  CHECK_INT(scripts_out(tmp("kb.db"), &o, NULL), n_scripts);
  ts_free(a);
}

int main(void)
{
  if (setup() < 0) {
    fprintf(stderr, "cannot set up: TSHOOT_KB must name the build's KB\n");
    teardown();
    return 1;
  }
  RUN(test_sign__keys_are_private_and_never_overwritten);
  RUN(test_sign__secret_key_readable_by_others_is_refused);
  RUN(test_sign__signed_kb_runs_scripts_only_for_its_trusters);
  RUN(test_sign__unsigned_kb_says_so);
  RUN(test_sign__trust_folders_and_environment);
  RUN(test_sign__key_rotation);
  RUN(test_sign__tampering_is_refused);
  RUN(test_sign__verified_bytes_are_the_ones_used);
  RUN(test_sign__sessions_probe_only_trusted_kbs);
  RUN(test_sign__allocation_failures);
  teardown();
  TEST_EXIT();
}
