/* scripts.h: the Kerio scripts (the .lua files of scripts/kerio) read once, for the
** targets that run scripts on machines: probes, and fixes (fix-*.lua). */
#ifndef TSHOOT_FUZZ_SCRIPTS_H
#define TSHOOT_FUZZ_SCRIPTS_H

#include <dirent.h>

#include "fuzz.h"

typedef struct fuzz_script {
  char name[128];   /* "kerio/os-version.lua" */
  char *body;
  size_t len;
} fuzz_script;

static fuzz_script fuzz_probes[64], fuzz_fixes[64];
static size_t fuzz_n_probes, fuzz_n_fixes;

static int fuzz_by_name(const void *a, const void *b)
{
  return strcmp(((const fuzz_script *)a)->name, ((const fuzz_script *)b)->name);
}

/* Read the scripts, in name order (so that a hash picks the same one on every
** machine). */
static void fuzz_scripts_load(void)
{
  const char *folder = FUZZ_SOURCE_ROOT "/scripts/kerio";
  DIR *d = opendir(folder);
  struct dirent *e;
  if (!d) fuzz_fail("cannot list %s", folder);
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    int fix = strncmp(e->d_name, "fix-", 4) == 0;
    fuzz_script *s;
    char path[512];
    if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0) continue;
    if ((fix ? fuzz_n_fixes : fuzz_n_probes) == 64) fuzz_fail("over 64 scripts in %s", folder);
    s = fix ? &fuzz_fixes[fuzz_n_fixes++] : &fuzz_probes[fuzz_n_probes++];
    snprintf(s->name, sizeof s->name, "kerio/%s", e->d_name);
    snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
    if (!(s->body = fuzz_read_file(path, &s->len))) fuzz_fail("cannot read %s", path);
  }
  closedir(d);
  if (!fuzz_n_probes || !fuzz_n_fixes) fuzz_fail("no probes or fixes in %s", folder);
  qsort(fuzz_probes, fuzz_n_probes, sizeof *fuzz_probes, fuzz_by_name);
  qsort(fuzz_fixes, fuzz_n_fixes, sizeof *fuzz_fixes, fuzz_by_name);
}

/* FNV-1a over the input: picks scripts so that an input always runs the same. */
static uint32_t fuzz_hash(const uint8_t *data, size_t size)
{
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < size; i++) h = (h ^ data[i]) * 16777619u;
  return h;
}

#endif
