/*
** synth.c: the synthetic knowledge base of the benchmarks (see synth.h).
*/
#include "synth.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===== PRNG ===== */

uint64_t synth_next(synth_rng *r)
{
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void synth_seed(synth_rng *r, uint64_t a, uint64_t b)
{
  synth_rng t = { a * 0xD1B54A32D192ED03ull + b };
  r->s = synth_next(&t) ^ (b * 0x9E3779B97F4A7C15ull);
  (void)synth_next(r);
}

double synth_unit(synth_rng *r)
{
  return (double)(synth_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

unsigned synth_range(synth_rng *r, unsigned lo, unsigned hi)
{
  return lo + (unsigned)(synth_next(r) % (uint64_t)(hi - lo + 1));
}

/* ===== growable buffer ===== */

typedef struct sbuf { char *p; size_t len, cap; int oom; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + n + 1) cap *= 2;
    p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_adds(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_addf(sbuf *b, const char *fmt, ...)
{
  char tmp[512];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) { b->oom = 1; return; }
  if ((size_t)n >= sizeof tmp) n = (int)sizeof tmp - 1;
  sb_add(b, tmp, (size_t)n);
}

/* ===== vocabulary ===== */

#define N_DLLS     2000
#define N_CODES    2000
#define N_VERSIONS 1000
/* share of running words that are DLL names, error codes, versions */
#define P_DLL      0.012
#define P_CODE     0.008
#define P_VERSION  0.005

struct synth {
  char *words[SYNTH_NWORDS];
  double cdf[SYNTH_NWORDS];          /* Zipf s=1 over words */
  char *dlls[N_DLLS];
  char *codes[N_CODES];
  char *versions[N_VERSIONS];
  double cdf_special[N_DLLS];        /* Zipf s=1, shared by the three lists */
  char **set;                         /* open-addressing set for uniqueness */
  size_t set_cap;
};

/* The search stop words (engine/text.c) and a few more short English words:
** a pseudo-word must never be one of them. */
static const char *const reserved[] = {
  "a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
  "been", "but", "by", "can", "cannot", "could", "d", "did", "do", "does", "doing",
  "don", "even", "for", "from", "get", "gets", "getting", "got", "had", "has", "have",
  "having", "he", "her", "here", "hi", "his", "how", "i", "if", "im", "in", "into",
  "is", "isn", "it", "its", "just", "keeps", "kind", "ll", "m", "me", "my", "of",
  "on", "or", "our", "please", "re", "s", "she", "so", "some", "something", "still",
  "t", "than", "that", "the", "their", "them", "then", "there", "these", "they",
  "this", "those", "to", "too", "us", "ve", "very", "was", "we", "were", "what",
  "when", "where", "which", "while", "who", "why", "will", "with", "won", "would",
  "you", "your", "not", "no", "yes", "dll", "and", "near", "or", "nor"
};

static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  while (*s) { h ^= (unsigned char)*s++; h *= 1099511628211ull; }
  return h;
}

/* Insert s into the set; 1 if new, 0 if already there. */
static int set_add(synth *sy, char *s)
{
  size_t i = (size_t)hash_str(s) & (sy->set_cap - 1);
  while (sy->set[i]) {
    if (strcmp(sy->set[i], s) == 0) return 0;
    i = (i + 1) & (sy->set_cap - 1);
  }
  sy->set[i] = s;
  return 1;
}

static int is_reserved(const char *w)
{
  size_t i;
  for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strcmp(reserved[i], w) == 0) return 1;
  return 0;
}

static const char *const onsets[] = {
  "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v",
  "w", "z", "br", "bl", "cl", "cr", "dr", "fl", "fr", "gr", "gl", "pl", "pr", "st",
  "tr", "sk", "sn", "sp", "ch", "sh", "th", "kr", "qu", ""
};
static const char *const vowels[] = {
  "a", "e", "i", "o", "u", "a", "e", "o", "i", "ai", "ou", "ea", "io", "y"
};
static const char *const codas[] = {
  "", "", "", "", "n", "r", "s", "l", "t", "m", "k", "x", "nd", "st", "rk", "ng"
};

#define PICK(r, arr) (arr[synth_next(r) % (sizeof arr / sizeof arr[0])])

static char *make_pseudo(synth_rng *r, size_t rank)
{
  char w[64];
  unsigned nsyl, i;
  /* short words are the frequent ones (Zipf's law of abbreviation) */
  if (rank < 200) nsyl = synth_range(r, 1, 2);
  else if (rank < 4000) nsyl = 2;
  else if (rank < 20000) nsyl = synth_range(r, 2, 3);
  else nsyl = synth_range(r, 3, 4);
  w[0] = '\0';
  for (i = 0; i < nsyl; i++) {
    strcat(w, PICK(r, onsets));
    strcat(w, PICK(r, vowels));
    if (i + 1 == nsyl || synth_unit(r) < 0.3) strcat(w, PICK(r, codas));
  }
  return strdup(w);
}

static char *make_dll(synth_rng *r)
{
  static const char cons[] = "bcdfghklmnprstvwxz";
  static const char vow[] = "aeiou";
  char w[32];
  unsigned n = synth_range(r, 4, 8), i, k = 0;
  for (i = 0; i < n; i++)
    w[k++] = (i % 3 == 1) ? vow[synth_next(r) % 5] : cons[synth_next(r) % 18];
  if (synth_unit(r) < 0.3) { w[k++] = '3'; w[k++] = '2'; }
  else if (synth_unit(r) < 0.1) { w[k++] = '6'; w[k++] = '4'; }
  memcpy(w + k, ".dll", 5);
  return strdup(w);
}

static void build_cdf(double *cdf, size_t n)
{
  double s = 0;
  size_t i;
  for (i = 0; i < n; i++) { s += 1.0 / (double)(i + 1); cdf[i] = s; }
  for (i = 0; i < n; i++) cdf[i] /= s;
}

static size_t zipf(const double *cdf, size_t n, synth_rng *r)
{
  double u = synth_unit(r);
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cdf[mid] < u) lo = mid + 1; else hi = mid;
  }
  return lo;
}

void synth_free(synth *sy)
{
  size_t i;
  if (!sy) return;
  for (i = 0; i < SYNTH_NWORDS; i++) free(sy->words[i]);
  for (i = 0; i < N_DLLS; i++) free(sy->dlls[i]);
  for (i = 0; i < N_CODES; i++) free(sy->codes[i]);
  for (i = 0; i < N_VERSIONS; i++) free(sy->versions[i]);
  free(sy->set);
  free(sy);
}

synth *synth_new(void)
{
  synth *sy = calloc(1, sizeof *sy);
  synth_rng r;
  size_t i;
  char tmp[32];
  if (!sy) return NULL;
  sy->set_cap = 1u << 16;
  sy->set = calloc(sy->set_cap, sizeof *sy->set);
  if (!sy->set) { synth_free(sy); return NULL; }
  synth_seed(&r, 0x7573686F6F74ull, 1);   /* fixed: the vocabulary never changes */
  for (i = 0; i < SYNTH_NWORDS; ) {
    char *w = make_pseudo(&r, i);
    if (!w) { synth_free(sy); return NULL; }
    if (strlen(w) < 3 || is_reserved(w) || !set_add(sy, w)) { free(w); continue; }
    sy->words[i++] = w;
  }
  for (i = 0; i < N_DLLS; ) {
    char *w = make_dll(&r);
    if (!w) { synth_free(sy); return NULL; }
    if (!set_add(sy, w)) { free(w); continue; }
    sy->dlls[i++] = w;
  }
  for (i = 0; i < N_CODES; ) {
    char *w;
    snprintf(tmp, sizeof tmp, "0x8004%04X", (unsigned)(synth_next(&r) & 0xFFFF));
    if (!(w = strdup(tmp))) { synth_free(sy); return NULL; }
    if (!set_add(sy, w)) { free(w); continue; }
    sy->codes[i++] = w;
  }
  for (i = 0; i < N_VERSIONS; ) {
    char *w;
    snprintf(tmp, sizeof tmp, "%u.0.%u", synth_range(&r, 14, 16), synth_range(&r, 1000, 19999));
    if (!(w = strdup(tmp))) { synth_free(sy); return NULL; }
    if (!set_add(sy, w)) { free(w); continue; }
    sy->versions[i++] = w;
  }
  build_cdf(sy->cdf, SYNTH_NWORDS);
  build_cdf(sy->cdf_special, N_DLLS);
  return sy;
}

static const char *pseudo_word(synth *sy, synth_rng *r)
{
  return sy->words[zipf(sy->cdf, SYNTH_NWORDS, r)];
}

static const char *error_code(synth *sy, synth_rng *r)
{
  return sy->codes[zipf(sy->cdf_special, N_CODES, r)];
}

const char *synth_word(synth *sy, synth_rng *r)
{
  double u = synth_unit(r);
  if (u < P_DLL) return sy->dlls[zipf(sy->cdf_special, N_DLLS, r)];
  if (u < P_DLL + P_CODE) return error_code(sy, r);
  if (u < P_DLL + P_CODE + P_VERSION)
    return sy->versions[zipf(sy->cdf_special, N_VERSIONS, r)];
  return pseudo_word(sy, r);
}

/* ===== articles ===== */

/* about `target` words: uniform in [0.7, 1.3] x target, at least 1 */
static unsigned jitter(synth_rng *r, unsigned target)
{
  unsigned n = (unsigned)(target * (0.7 + 0.6 * synth_unit(r)) + 0.5);
  return n ? n : 1;
}

/* n words as sentences: capitalised, a full stop every 6-14 words. */
static void add_text(sbuf *b, synth *sy, synth_rng *r, unsigned n, int sentences)
{
  unsigned i, until = synth_range(r, 6, 14);
  int cap = sentences;
  for (i = 0; i < n; i++) {
    const char *w = synth_word(sy, r);
    if (i) sb_add(b, " ", 1);
    if (cap && w[0] >= 'a' && w[0] <= 'z') {
      char c = (char)(w[0] - 32);
      sb_add(b, &c, 1);
      sb_adds(b, w + 1);
    } else {
      sb_adds(b, w);
    }
    cap = 0;
    if (sentences && (--until == 0 || i + 1 == n)) {
      sb_add(b, ".", 1);
      cap = 1;
      until = synth_range(r, 6, 14);
    }
  }
}

static void add_elem(sbuf *b, const char *indent, const char *tag, synth *sy, synth_rng *r,
                     unsigned n, int sentences)
{
  sb_addf(b, "%s<%s>", indent, tag);
  add_text(b, sy, r, n, sentences);
  sb_addf(b, "</%s>\n", tag);
}

typedef struct question { unsigned nchoices; } question;

static void write_file(sbuf *b, synth *sy, uint64_t seed, size_t fileno, size_t count)
{
  synth_rng rr, *r = &rr;
  question qs[4];
  unsigned nq, q, c, evcount = 0;
  size_t a;
  char fid[32];

  synth_seed(r, seed, fileno);
  snprintf(fid, sizeof fid, "f%06zu", fileno);
  b->len = 0;
  sb_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  sb_addf(b, "<kb xmlns=\"urn:tshoot:kb:1\" id=\"synth\" title=\"Synthetic benchmark KB, file %zu\">\n",
          fileno);

  nq = synth_range(r, 2, 4);
  /* every question must be used by some evidence (the compiler warns about
  ** unused ones), and each article has at least one answer: a file of fewer
  ** than 4 articles gets fewer questions. */
  if (nq > count) nq = (unsigned)count;
  for (q = 0; q < nq; q++) {
    qs[q].nchoices = synth_range(r, 2, 4);
    sb_addf(b, "  <question id=\"%s.q%u\" type=\"choice\" cost=\"%u.%u\">\n", fid, q + 1,
            synth_range(r, 1, 4), synth_range(r, 0, 9));
    sb_adds(b, "    <prompt>");
    add_text(b, sy, r, jitter(r, 7), 0);
    sb_adds(b, "?</prompt>\n");
    if (synth_unit(r) < 0.5) add_elem(b, "    ", "why", sy, r, jitter(r, 10), 1);
    for (c = 0; c < qs[q].nchoices; c++) {
      sb_addf(b, "    <choice value=\"o%u\">", c + 1);
      add_text(b, sy, r, synth_range(r, 1, 4), 0);
      sb_adds(b, "</choice>\n");
    }
    sb_adds(b, "  </question>\n");
  }

  for (a = 0; a < count; a++) {
    unsigned nsym = synth_range(r, 2, 4), s, sympos, symwords = jitter(r, 60);
    unsigned ncause = synth_unit(r) < 0.7 ? 1 : 2;
    unsigned explwords = jitter(r, 80), stepwords = jitter(r, 120);
    char aid[80];
    snprintf(aid, sizeof aid, "%s.a%04zu", fid, a + 1);

    sb_addf(b, "  <article id=\"%s\">\n", aid);
    add_elem(b, "    ", "title", sy, r, jitter(r, 8), 0);
    sb_adds(b, "    <symptoms>\n");
    sympos = synth_range(r, 0, nsym - 1);     /* where the <error> goes */
    for (s = 0; s < nsym; s++) {
      unsigned n = symwords / nsym;
      if (s == sympos) {
        const char *code = error_code(sy, r);
        sb_addf(b, "      <error code=\"%s\">Error %s: ", code, code);
        add_text(b, sy, r, n > 2 ? n - 2 : 1, 1);
        sb_adds(b, "</error>\n");
      } else {
        add_elem(b, "      ", "symptom", sy, r, n, 1);
      }
    }
    sb_adds(b, "    </symptoms>\n");
    if (synth_unit(r) < 0.5) {
      if (synth_unit(r) < 0.5) sb_addf(b, "    <alias>%s</alias>\n", sy->dlls[zipf(sy->cdf_special, N_DLLS, r)]);
      else add_elem(b, "    ", "alias", sy, r, synth_range(r, 2, 3), 0);
    }

    for (c = 0; c < ncause; c++) {
      unsigned nans = synth_range(r, 1, 2), i, nstep = synth_range(r, 2, 5);
      unsigned qprev = 99;
      sb_addf(b, "    <cause id=\"%s.c%u\" prior=\"0.%02u\">\n", aid, c + 1, synth_range(r, 10, 49));
      add_elem(b, "      ", "title", sy, r, jitter(r, 5), 0);
      add_elem(b, "      ", "explanation", sy, r, explwords / ncause, 1);
      sb_adds(b, "      <evidence>\n");
      for (i = 0; i < nans; i++) {
        /* round robin over the file's questions, so that every question is
        ** used; never the same question twice in one cause (sum of p <= 1) */
        unsigned qi = evcount++ % nq;
        if (qi == qprev) continue;
        qprev = qi;
        sb_addf(b, "        <answer question=\"%s.q%u\" value=\"o%u\" p=\"0.%02u\"/>\n", fid,
                qi + 1, synth_range(r, 1, qs[qi].nchoices), synth_range(r, 5, 95));
      }
      sb_adds(b, "      </evidence>\n");
      {
        static const char *const risks[] = { "low", "low", "medium", "high" };
        sb_addf(b, "      <fix id=\"%s.c%u.x1\" cost=\"%u.%u\" risk=\"%s\" admin=\"%s\" reversible=\"%s\">\n",
                aid, c + 1, synth_range(r, 1, 9), synth_range(r, 0, 9), PICK(r, risks),
                synth_unit(r) < 0.4 ? "yes" : "no", synth_unit(r) < 0.8 ? "yes" : "no");
        add_elem(b, "        ", "title", sy, r, jitter(r, 5), 0);
        for (i = 0; i < nstep; i++)
          add_elem(b, "        ", "step", sy, r, jitter(r, stepwords / ncause / nstep), 1);
        if (synth_unit(r) < 0.5) add_elem(b, "        ", "verify", sy, r, jitter(r, 8), 1);
        sb_adds(b, "      </fix>\n");
      }
      sb_adds(b, "    </cause>\n");
    }
    sb_adds(b, "  </article>\n");
  }
  sb_adds(b, "</kb>\n");
}

int synth_write_corpus(synth *sy, const char *dir, uint64_t seed, size_t n,
                       size_t per_file, size_t *files_out, size_t *bytes_out)
{
  sbuf b = { 0 };
  size_t done = 0, fileno = 0, bytes = 0;
  char path[4096];
  if (per_file == 0) per_file = 100;
  while (done < n) {
    size_t count = n - done < per_file ? n - done : per_file;
    FILE *f;
    fileno++;
    write_file(&b, sy, seed, fileno, count);
    if (b.oom) { free(b.p); errno = ENOMEM; return -1; }
    snprintf(path, sizeof path, "%s/kb-%06zu.xml", dir, fileno);
    f = fopen(path, "wb");
    if (!f) { free(b.p); return -1; }
    if (fwrite(b.p, 1, b.len, f) != b.len) { fclose(f); free(b.p); return -1; }
    if (fclose(f) != 0) { free(b.p); return -1; }
    bytes += b.len;
    done += count;
  }
  free(b.p);
  if (files_out) *files_out = fileno;
  if (bytes_out) *bytes_out = bytes;
  return 0;
}

/* ===== queries ===== */

static int is_plain(const char *w)
{
  for (; *w; w++) if (*w < 'a' || *w > 'z') return 0;
  return 1;
}

synth_query *synth_queries(synth *sy, uint64_t seed, size_t n)
{
  synth_query *qs = calloc(n ? n : 1, sizeof *qs);
  synth_rng rr, *r = &rr;
  size_t i;
  if (!qs) return NULL;
  synth_seed(r, seed, 0x717565727973ull);  /* "querys" */
  for (i = 0; i < n; i++) {
    const char *terms[4];
    unsigned nt = synth_range(r, 2, 4), k, j;
    int prefix = synth_unit(r) < 0.2;
    sbuf b = { 0 };
    for (k = 0; k < nt; ) {
      const char *w = synth_word(sy, r);
      int dup = 0;
      for (j = 0; j < k; j++) if (terms[j] == w) dup = 1;
      if (dup) continue;
      /* the prefix term: a pseudo-word long enough to be cut */
      if (prefix && k + 1 == nt && (!is_plain(w) || strlen(w) < 4)) continue;
      terms[k++] = w;
    }
    for (k = 0; k < nt; k++) {
      if (k) sb_add(&b, " ", 1);
      if (prefix && k + 1 == nt) {
        size_t len = strlen(terms[k]), plen = synth_range(r, 3, 5);
        if (plen >= len) plen = len - 1;
        sb_add(&b, terms[k], plen);
      } else {
        sb_adds(&b, terms[k]);
      }
    }
    if (b.oom) { free(b.p); synth_queries_free(qs, i); return NULL; }
    qs[i].text = b.p;
    qs[i].prefix = prefix;
    qs[i].nterms = (int)nt;
  }
  return qs;
}

void synth_queries_free(synth_query *q, size_t n)
{
  size_t i;
  if (!q) return;
  for (i = 0; i < n; i++) free(q[i].text);
  free(q);
}
