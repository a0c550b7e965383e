/* fuzz-compile: libFuzzer target for the compiler. The input is one XML
** source file. Whatever it holds: a compile that succeeds writes a KB that
** opens and holds what the compile counted, and compiling it again gives the
** same bytes; a compile that fails reports a diagnostic or a status and leaves
** no output file. */
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char dir[64];
static char src[96], out1[96], out2[96];

static void count_diag(const tshoot_diagnostic *d, void *payload)
{
  if (!d->file || !d->code || !d->message) fuzz_fail("a diagnostic without file, code or message");
  if (d->severity == TSHOOT_ERRSEV) ++*(size_t *)payload;
}

/* At exit: the temporary folder goes (its files are removed after each input). */
static void remove_dir(void)
{
  unlink(src);
  unlink(out1);
  unlink(out2);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(dir, sizeof dir, "%s/tshoot-fuzz-XXXXXX", base);
  if (!mkdtemp(dir)) fuzz_fail("cannot make a temporary folder");
  snprintf(src, sizeof src, "%s/src.xml", dir);
  snprintf(out1, sizeof out1, "%s/a.db", dir);
  snprintf(out2, sizeof out2, "%s/b.db", dir);
  atexit(remove_dir);
  return 0;
}

static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const script_dirs[] = { FUZZ_SOURCE_ROOT "/scripts" };
  const char *sources[] = { src };
  tshoot_compile_options opts = TSHOOT_COMPILE_OPTIONS_INIT;
  tshoot_compile_stats stats;
  size_t errors = 0;
  FILE *f = fopen(src, "wb");
  int rc;

  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) fuzz_fail("cannot write %s", src);
  opts.script_dirs = script_dirs;
  opts.n_script_dirs = 1;
  opts.on_diagnostic = count_diag;
  opts.diagnostic_payload = &errors;
  rc = tshoot_compile(&stats, sources, 1, out1, &opts);
  if (rc == TSHOOT_OK) {
    tshoot_kb *kb = NULL;
    tshoot_kb_info info;
    char *a, *b;
    size_t na = 0, nb = 0;
    if (errors || stats.errors) fuzz_fail("a compile with errors succeeded");
    if (tshoot_kb_open(&kb, out1, NULL) != TSHOOT_OK) fuzz_fail("the compiled KB does not open");
    if (tshoot_kb_info_get(&info, kb) != TSHOOT_OK) fuzz_fail("no info on the compiled KB");
    if (info.articles != stats.articles || info.causes != stats.causes || info.fixes != stats.fixes ||
        info.questions != stats.questions)
      fuzz_fail("the KB holds other counts than the compile reported");
    tshoot_kb_close(kb);
    if (tshoot_compile(NULL, sources, 1, out2, &opts) != TSHOOT_OK) fuzz_fail("a second compile failed");
    a = fuzz_read_file(out1, &na);
    b = fuzz_read_file(out2, &nb);
    if (!a || !b || na != nb || memcmp(a, b, na) != 0)
      fuzz_fail("compiling the same source twice gave other bytes");
    free(a);
    free(b);
  } else {
    if (rc == TSHOOT_ESOURCE && errors == 0) fuzz_fail("TSHOOT_ESOURCE without an error diagnostic");
    if (rc != TSHOOT_ESOURCE && rc != TSHOOT_ENOMEM && rc != TSHOOT_EIO)
      fuzz_fail("the compile returned %d", rc);
    if (exists(out1)) fuzz_fail("a failed compile left its output");
  }
  unlink(out1);
  unlink(out2);
  return 0;
}
