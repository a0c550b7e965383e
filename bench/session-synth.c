/*
** session-synth.c: deterministic synthetic reasoning KBs (session-synth.h).
*/
#include "session-synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng { uint64_t s; } rng;

static uint64_t next(rng *r)
{
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static unsigned range(rng *r, unsigned lo, unsigned hi) { return lo + (unsigned)(next(r) % (hi - lo + 1)); }
static double unit(rng *r) { return (double)(next(r) >> 11) / 9007199254740992.0; }

/* The number of choices of question q (3 or 4), a function of (seed, q). */
static unsigned n_choices(uint64_t seed, size_t q)
{
  rng r = { seed ^ (q * 0xD1B54A32D192ED03ull) };
  return range(&r, 3, 4);
}

int ssynth_write(const char *dir, uint64_t seed, size_t n_causes, size_t *files_out, size_t *questions_out)
{
  size_t nq = n_causes / 3 < 4 ? 4 : n_causes / 3, n_art, a, q, c = 0, file = 0, k;
  size_t *art_size;
  rng r = { seed };
  FILE *f = NULL;
  char path[4096];

  /* articles of 3-5 causes, the last one taking the rest */
  art_size = malloc((n_causes / 3 + 2) * sizeof *art_size);
  if (!art_size) return -1;
  for (n_art = 0; c < n_causes; n_art++) {
    size_t s = range(&r, 3, 5);
    if (c + s > n_causes || n_causes - (c + s) < 3) s = n_causes - c;
    art_size[n_art] = s;
    c += s;
  }
  c = 0;
  for (a = 0; a <= n_art; a++) {
    size_t base, w[SSYNTH_WINDOW];
    if (a % SSYNTH_PER_FILE == 0 || a == n_art) {
      if (f) {
        fprintf(f, "</kb>\n");
        if (fclose(f) != 0) { free(art_size); return -1; }
        f = NULL;
      }
      if (a == n_art) break;
      snprintf(path, sizeof path, "%s/rkb-%05zu.xml", dir, ++file);
      f = fopen(path, "w");
      if (!f) { free(art_size); return -1; }
      fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kb xmlns=\"urn:tshoot:kb:1\" id=\"synth\">\n");
      if (file == 1)
        for (q = 0; q < nq; q++) {
          unsigned nc = n_choices(seed, q), v;
          rng rq = { seed + q };
          static const char *const costs[] = { "0.5", "1", "1", "1", "3" };
          fprintf(f, "  <question id=\"q%05zu\" type=\"choice\" cost=\"%s\">\n    <prompt>Question %zu?</prompt>\n",
                  q, costs[range(&rq, 0, 4)], q);
          for (v = 0; v < nc; v++) fprintf(f, "    <choice value=\"v%u\">Value %u</choice>\n", v, v);
          fprintf(f, "  </question>\n");
        }
    }
    /* the article's question window */
    base = n_art > 1 ? a * (nq - 1) / (n_art - 1) : 0;
    for (k = 0; k < SSYNTH_WINDOW; k++) w[k] = (base + k + nq - SSYNTH_WINDOW / 2) % nq;
    fprintf(f, "  <article id=\"a%05zu\">\n    <title>Article %zu</title>\n", a, a);
    fprintf(f, "    <symptoms><symptom>Symptom of article %zu</symptom></symptoms>\n", a);
    for (k = 0; k < art_size[a]; k++, c++) {
      unsigned nl = range(&r, 2, 4), l, used = 0;
      size_t picked[5];
      fprintf(f, "    <cause id=\"c%05zu\" prior=\"%.2f\">\n", c, 0.05 + 0.45 * unit(&r));
      fprintf(f, "      <title>Cause %zu</title>\n      <explanation>Why cause %zu happens.</explanation>\n", c, c);
      fprintf(f, "      <evidence>\n");
      for (l = 0; l < nl + 1; l++) {
        size_t qq;
        unsigned j, again = 1, v;
        if (l == nl && unit(&r) >= 0.3) break;           /* 30%: one <requires> */
        while (again) {
          qq = w[range(&r, 0, SSYNTH_WINDOW - 1)];
          again = 0;
          for (j = 0; j < used; j++) if (picked[j] == qq) again = 1;
        }
        picked[used++] = qq;
        v = range(&r, 0, n_choices(seed, qq) - 1);
        if (l < nl)
          fprintf(f, "        <answer question=\"q%05zu\" value=\"v%u\" p=\"%.2f\"/>\n", qq, v, 0.6 + 0.35 * unit(&r));
        else
          fprintf(f, "        <requires><eq question=\"q%05zu\" value=\"v%u\"/></requires>\n", qq, v);
      }
      fprintf(f, "      </evidence>\n");
      fprintf(f, "      <fix id=\"c%05zu.fix\" cost=\"%u\"><title>Fix cause %zu</title><step>Do it.</step></fix>\n", c,
              range(&r, 1, 4), c);
      fprintf(f, "    </cause>\n");
    }
    fprintf(f, "  </article>\n");
  }
  free(art_size);
  if (files_out) *files_out = file;
  if (questions_out) *questions_out = nq;
  return 0;
}
