/*
** gen-kb: write a deterministic synthetic KB (see synth.h), or its queries.
**
**   gen-kb -n 10000 -o DIR [--seed S] [--per-file K]
**   gen-kb --queries 1000 -o FILE [--seed S]
**
** Query files hold one query per line; a query whose last word is a prefix
** ends in '*' ("kofa trem bal*").
*/
#include "synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
  fprintf(f,
    "usage: gen-kb -n N -o DIR [--seed S] [--per-file K]\n"
    "       gen-kb --queries N -o FILE [--seed S]\n"
    "  -n N          articles to write (KB source files into DIR, created if needed)\n"
    "  --per-file K  articles per file (default 100)\n"
    "  --queries N   write N queries, one per line, to FILE ('-' for stdout)\n"
    "  --seed S      seed (default %u); the vocabulary is the same for every seed\n",
    SYNTH_DEFAULT_SEED);
}

static int parse_size(const char *s, size_t *out)
{
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || end == s) return -1;
  if (*end == 'k' || *end == 'K') { v *= 1000; end++; }
  if (*end) return -1;
  *out = (size_t)v;
  return 0;
}

int main(int argc, char **argv)
{
  size_t n = 0, per_file = 100, nq = 0, seed = SYNTH_DEFAULT_SEED;
  const char *out = NULL;
  int i, queries = 0;
  synth *sy;

  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
    if (!v) { usage(stderr); return 2; }
    if (!strcmp(a, "-n")) { if (parse_size(v, &n)) goto bad; }
    else if (!strcmp(a, "--per-file")) { if (parse_size(v, &per_file) || !per_file) goto bad; }
    else if (!strcmp(a, "--queries")) { if (parse_size(v, &nq)) goto bad; queries = 1; }
    else if (!strcmp(a, "--seed")) { if (parse_size(v, &seed)) goto bad; }
    else if (!strcmp(a, "-o")) out = v;
    else { usage(stderr); return 2; }
    i++;
    continue;
  bad:
    fprintf(stderr, "gen-kb: bad value for %s: %s\n", a, v);
    return 2;
  }
  if (!out || (!queries && n == 0)) { usage(stderr); return 2; }

  sy = synth_new();
  if (!sy) { fprintf(stderr, "gen-kb: out of memory\n"); return 1; }

  if (queries) {
    synth_query *q = synth_queries(sy, seed, nq);
    FILE *f = strcmp(out, "-") ? fopen(out, "w") : stdout;
    size_t k;
    if (!q || !f) { perror(out); return 1; }
    for (k = 0; k < nq; k++) fprintf(f, "%s%s\n", q[k].text, q[k].prefix ? "*" : "");
    if (f != stdout && fclose(f) != 0) { perror(out); return 1; }
    synth_queries_free(q, nq);
  } else {
    size_t files, bytes;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) { perror(out); return 1; }
    if (synth_write_corpus(sy, out, seed, n, per_file, &files, &bytes) != 0) {
      perror(out);
      return 1;
    }
    fprintf(stderr, "gen-kb: %zu articles in %zu files, %.1f MB, in %s\n", n, files,
            bytes / 1e6, out);
  }
  synth_free(sy);
  return 0;
}
