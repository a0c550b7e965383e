/* fuzz.h: what the libFuzzer targets of tests/fuzz share: failing loudly, the
** KB and the machine they work on, and files read whole. Only the public
** header engine/include/tshoot.h is used, so the targets do not depend on how
** the library is laid out inside. */
#ifndef TSHOOT_FUZZ_H
#define TSHOOT_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tshoot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant broke: say which, and abort so that libFuzzer keeps the input. */
static inline void fuzz_fail(const char *fmt, ...)
  __attribute__((noreturn, format(printf, 1, 2)));
static inline void fuzz_fail(const char *fmt, ...)
{
  va_list ap;
  const tshoot_error *e = tshoot_error_last();
  va_start(ap, fmt);
  fputs("fuzz invariant broken: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nlast tshoot error: %s\n", e && e->message ? e->message : "(none)");
  abort();
}

/* A file read whole and NUL-terminated, or NULL. */
static inline char *fuzz_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) != NULL) {
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    else { buf[n] = '\0'; if (len) *len = (size_t)n; }
  }
  fclose(f);
  return buf;
}

/* The KB the targets search and load sessions against: $TSHOOT_KB, else the
** one this build compiled from kb/ (FUZZ_DEFAULT_KB). Opened once. */
static inline tshoot_kb *fuzz_kb(void)
{
  static tshoot_kb *kb;
  if (!kb) {
    const char *path = getenv("TSHOOT_KB");
    if (!path || !*path) path = FUZZ_DEFAULT_KB;
    if (tshoot_kb_open(&kb, path, NULL) != TSHOOT_OK) fuzz_fail("cannot open the KB %s", path);
  }
  return kb;
}

/* The simulated machine saved as text (tshoot_free), or fail. */
static inline char *fuzz_sim_save(const tshoot_host *h)
{
  char *out = NULL;
  if (tshoot_host_sim_save(&out, h) != TSHOOT_OK || !out) fuzz_fail("tshoot_host_sim_save failed");
  return out;
}

/* A run's limits for fuzzing: small, and counted exactly so that a run does
** not depend on the machine's speed. */
static inline const tshoot_limits *fuzz_limits(void)
{
  static tshoot_limits lim = TSHOOT_LIMITS_INIT;
  lim.memory_kib = 8192;
  lim.instructions = 200000;
  lim.time_ms = 1000;
  lim.flags = TSHOOT_LIMITS_EXACT_COUNT;
  return &lim;
}

/* Runs one script in `mode` on `h` and checks what must hold whatever the
** script does: a plan never changes the machine, and an apply that did not
** verify leaves it exactly as it was (unless the machine's person acted on a
** confirmation: their changes are not the fix's, docs/scripts.md). */
static inline void fuzz_run_checked(tshoot_host *h, const char *name, const char *body, size_t len,
                             tshoot_script_mode mode)
{
  tshoot_run *run = NULL;
  char *before = fuzz_sim_save(h), *after;
  int rc = tshoot_script_run(&run, h, name, body, len, mode, NULL, fuzz_limits());
  if (rc != TSHOOT_OK && rc != TSHOOT_EINVALID && rc != TSHOOT_ENOMEM)
    fuzz_fail("tshoot_script_run returned %d", rc);
  after = fuzz_sim_save(h);
  if (rc == TSHOOT_OK) {
    if (!run || !run->message) fuzz_fail("a run without a message");
    if (mode == TSHOOT_RUN_PLAN && strcmp(before, after) != 0)
      fuzz_fail("the plan of %s changed the machine", name);
    if (mode == TSHOOT_RUN_APPLY && (run->status != TSHOOT_OK || !run->verified)) {
      if (run->n_changes > 0 && !run->rolled_back && !strstr(run->message, "rollback failed"))
        fuzz_fail("a failed apply of %s was not rolled back: %s", name, run->message);
      if (!strstr(before, "\"person\"") && !strstr(run->message, "rollback failed") &&
          strcmp(before, after) != 0)
        fuzz_fail("a failed apply of %s left the machine changed (%s)", name, run->message);
    }
  }
  tshoot_run_free(run);
  tshoot_free(before);
  tshoot_free(after);
}

#endif
