/* fuzz-sig: libFuzzer target for a KB's signature file (KB.sig,
** docs/signing.md), which travels with a KB from anywhere. The first byte
** picks how the rest makes the file: '0' (mod 3) the file is the rest; '1' a
** genuine signature line by a trusted key, then the rest; '2' that genuine
** file with the rest XORed into it, as (position, byte) pairs. Invariants: the
** KB always opens (no signature is required), the verdict is consistent
** (scripts are handed out exactly when it is "signed", by the trusted key,
** verified), and a genuine first line always carries the KB. */
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char dir[256], kb_path[300], sig_path[300], key_base[300];
static char *pub_text, key_hex[65], *genuine;
static size_t genuine_len;

static void cleanup(void)
{
  char p[320];
  unlink(kb_path);
  unlink(sig_path);
  snprintf(p, sizeof p, "%s.key", key_base);
  unlink(p);
  snprintf(p, sizeof p, "%s.pub", key_base);
  unlink(p);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  const char *src = getenv("TSHOOT_KB");
  char *bytes, p[320], *at;
  size_t len;
  FILE *f;
  if (!src || !*src) src = FUZZ_DEFAULT_KB;
  snprintf(dir, sizeof dir, "%s/tshoot-fuzz-sig.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) fuzz_fail("cannot make a folder");
  snprintf(kb_path, sizeof kb_path, "%s/kb.db", dir);
  snprintf(sig_path, sizeof sig_path, "%s/kb.db.sig", dir);
  snprintf(key_base, sizeof key_base, "%s/k", dir);
  atexit(cleanup);
  bytes = fuzz_read_file(src, &len);
  if (!bytes || !(f = fopen(kb_path, "wb")) || fwrite(bytes, 1, len, f) != len || fclose(f) != 0)
    fuzz_fail("cannot copy the KB %s", src);
  free(bytes);
  if (tshoot_key_generate(key_base, "Fuzz publisher", 0) != TSHOOT_OK ||
      tshoot_kb_sign(kb_path, strcat(strcpy(p, key_base), ".key"), 0) != TSHOOT_OK)
    fuzz_fail("cannot sign the KB");
  pub_text = fuzz_read_file(strcat(strcpy(p, key_base), ".pub"), NULL);
  genuine = fuzz_read_file(sig_path, &genuine_len);
  at = pub_text ? strstr(pub_text, "tshoot-ed25519-public-1 ") : NULL;
  if (!genuine || !at) fuzz_fail("no key or signature");
  memcpy(key_hex, at + 24, 64);
  key_hex[64] = '\0';
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  tshoot_kb_options o = TSHOOT_KB_OPTIONS_INIT;
  const char *keys[1] = { pub_text };
  const tshoot_kb_trust *t;
  tshoot_kb *kb = NULL;
  unsigned char *sig;
  size_t len = 0, i;
  int mode, rc, must_sign = 0;
  char *body = NULL;
  FILE *f;

  if (size == 0) return 0;
  mode = data[0] % 3;
  sig = malloc(genuine_len + size);
  if (!sig) return 0;
  if (mode == 0) {
    memcpy(sig, data + 1, size - 1);
    len = size - 1;
  } else if (mode == 1) {
    memcpy(sig, genuine, genuine_len);
    memcpy(sig + genuine_len, data + 1, size - 1);
    len = genuine_len + size - 1;
    must_sign = len <= 65536;
  } else {
    memcpy(sig, genuine, genuine_len);
    len = genuine_len;
    for (i = 1; i + 1 < size; i += 2) sig[data[i] * 7u % len] ^= data[i + 1];
  }
  f = fopen(sig_path, "wb");
  if (!f || fwrite(sig, 1, len, f) != len || fclose(f) != 0) fuzz_fail("cannot write the signature file");
  free(sig);

  o.trusted_keys = keys;
  o.n_trusted_keys = 1;
  o.trust_flags = TSHOOT_KB_NO_DEFAULT_TRUST;
  rc = tshoot_kb_open(&kb, kb_path, &o);
  if (rc != TSHOOT_OK) fuzz_fail("a signature file made the KB fail to open (%d)", rc);
  t = tshoot_kb_trust_get(kb);
  if (!t || !t->reason || !*t->reason || t->n_signatures > 16) fuzz_fail("a verdict without reason");
  for (i = 0; i < t->n_signatures; i++)
    if (!t->signatures[i].name || !t->signatures[i].key || strlen(t->signatures[i].key) != 64)
      fuzz_fail("signature %zu lacks a field", i);
  if (t->scripts_allowed != (t->status == TSHOOT_TRUST_SIGNED)) fuzz_fail("scripts allowed but not signed");
  if (must_sign && t->status != TSHOOT_TRUST_SIGNED) fuzz_fail("a genuine first line did not carry the KB");
  rc = tshoot_kb_script(&body, &len, kb, "kerio/os-version.lua");
  if (t->status == TSHOOT_TRUST_SIGNED) {
    if (!t->signer || strcmp(t->signer->key, key_hex) != 0 || t->signer->verified != 1)
      fuzz_fail("signed, but not by the trusted key");
    if (rc != TSHOOT_OK) fuzz_fail("a signed KB refused its script");
  } else if (rc != TSHOOT_EUNTRUSTED || body) {
    fuzz_fail("an untrusted KB handed out its script (%d)", rc);
  }
  tshoot_free(body);
  tshoot_kb_close(kb);
  return 0;
}
