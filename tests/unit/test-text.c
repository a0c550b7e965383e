/*
** test-text.c: text.c, the words every module shares: splitting text into
** words (UTF-8 kept whole, long runs cut at a lead byte), folding, the edit
** distance and its typo budget, the one stop-word list (the n't stems
** included, which search and the symptom matcher both rely on) and the
** closest-name rule and clause of did-you-mean messages.
*/
#include "tshoot_int.h"
#include "text.h"
#include "test.h"

/* The words of s, folded, joined by '|'. */
static const char *words(const char *s, size_t len)
{
  static char out[1024];
  size_t pos = 0, st, wl, n = 0;
  out[0] = '\0';
  while (text_next_word(s, len, &pos, &st, &wl)) {
    if (n) out[n++] = '|';
    if (n + wl + 2 > sizeof out) break;
    text_fold(out + n, s + st, wl);
    n += wl;
  }
  out[n] = '\0';
  return out;
}

static void test_text__next_word_splits(void)
{
  CHECK_STR(words("Outlook won't start", 19), "outlook|won|t|start");
  CHECK_STR(words("KofMsp32.dll, 16.0.1234-beta", 28), "kofmsp32|dll|16|0|1234|beta");
  CHECK_STR(words("  \t\n", 4), "");
  CHECK_STR(words("", 0), "");
  /* NUL bytes separate words; len, not the NUL, ends the text */
  CHECK_STR(words("ab\0cd", 5), "ab|cd");
  /* UTF-8 bytes are word bytes, kept as they are (only ASCII folds) */
  CHECK_STR(words("Caf\xc3\xa9 \xc3\x89T\xc3\x89", 11), "caf\xc3\xa9|\xc3\x89t\xc3\x89");
}

static void test_text__next_word_positions(void)
{
  const char *s = "..a.bc";
  size_t pos = 0, st = 99, wl = 99;
  CHECK(text_next_word(s, 6, &pos, &st, &wl));
  CHECK_INT(st, 2);
  CHECK_INT(wl, 1);
  CHECK_INT(pos, 3);
  CHECK(text_next_word(s, 6, &pos, &st, &wl));
  CHECK_INT(st, 4);
  CHECK_INT(wl, 2);
  CHECK(!text_next_word(s, 6, &pos, &st, &wl));
  CHECK_INT(pos, 6);
}

static void test_text__long_runs_are_cut(void)
{
  char s[200];
  size_t pos = 0, st, wl, n = 0;
  memset(s, 'x', 150);
  while (text_next_word(s, 150, &pos, &st, &wl)) {
    CHECK(wl <= TEXT_MAX_WORD);
    n += wl;
  }
  CHECK_INT(n, 150); /* 64 + 64 + 22 */
  /* a cut never falls inside a UTF-8 sequence: 63 ASCII bytes then e-acute */
  memset(s, 'y', 63);
  s[63] = '\xc3';
  s[64] = '\xa9';
  pos = 0;
  CHECK(text_next_word(s, 65, &pos, &st, &wl));
  CHECK_INT(wl, 63);
  CHECK(text_next_word(s, 65, &pos, &st, &wl));
  CHECK_INT(st, 63);
  CHECK_INT(wl, 2);
}

static void test_text__fold(void)
{
  char out[32];
  CHECK_INT(text_fold(out, "OutLook-2016\xc3\x89", 14), 14);
  CHECK_STR(out, "outlook-2016\xc3\x89");
  CHECK_INT(text_fold(out, "ABC", 0), 0);
  CHECK_STR(out, "");
}

static void test_text__distance(void)
{
  CHECK_INT(text_distance("outlook", 7, "outlook", 7, 2), 0);
  CHECK_INT(text_distance("outlok", 6, "outlook", 7, 2), 1);   /* a deletion */
  CHECK_INT(text_distance("outloko", 7, "outlook", 7, 2), 1);  /* a swap is one edit */
  CHECK_INT(text_distance("otuloko", 7, "outlook", 7, 2), 2);
  CHECK_INT(text_distance("outlkoo", 7, "outlook", 7, 2), 2);  /* a move is two */
  CHECK_INT(text_distance("kitten", 6, "sitting", 7, 3), 3);
  /* past max: max + 1, also when the lengths alone tell */
  CHECK_INT(text_distance("kitten", 6, "sitting", 7, 2), 3);
  CHECK_INT(text_distance("a", 1, "abcd", 4, 1), 2);
  CHECK_INT(text_distance("", 0, "ab", 2, 2), 2);
}

static void test_text__max_typos(void)
{
  CHECK_INT(text_max_typos(0), 0);
  CHECK_INT(text_max_typos(2), 0);
  CHECK_INT(text_max_typos(3), 1);
  CHECK_INT(text_max_typos(5), 1);
  CHECK_INT(text_max_typos(6), 2);
  CHECK_INT(text_max_typos(40), 2);
}

static int stop(const char *w) { return text_is_stopword(w, strlen(w)); }

static void test_text__stop_words(void)
{
  static const char *const nt[] = { "aren", "couldn", "didn", "doesn", "don", "hadn", "hasn",
                                    "haven", "isn", "mustn", "needn", "shouldn", "wasn", "weren",
                                    "won", "wouldn", "t" };
  size_t i;
  CHECK(stop("the"));
  CHECK(stop("something"));
  CHECK(stop("a"));
  CHECK(stop("your"));
  /* the stems "n't" leaves (doesn't -> doesn, t) are in the one list */
  for (i = 0; i < TS_ARRAY_LEN(nt); i++) {
    if (!stop(nt[i])) fprintf(stderr, "not a stop word: %s\n", nt[i]);
    CHECK(stop(nt[i]));
  }
  /* any ASCII case */
  CHECK(stop("The"));
  CHECK(stop("DOESN"));
  /* words that carry meaning in support requests stay */
  CHECK(!stop("not"));
  CHECK(!stop("no"));
  CHECK(!stop("after"));
  CHECK(!stop("update"));
  CHECK(!stop("start"));
  CHECK(!stop("outlook"));
  /* only whole words, by length */
  CHECK(!text_is_stopword("theory", 6));
  CHECK(text_is_stopword("theory", 3));
  CHECK(!stop(""));
  CHECK(!stop("somethingsomethingsomething"));
}

static void test_text__closest(void)
{
  static const char *const ids[] = { "outlook-profile", "outlook-pst", NULL, "vpn-dns" };
  static const char *const ties[] = { "abd", "abe" };
  CHECK_STR(text_closest("outlook-profil", ids, 4), "outlook-profile");
  CHECK_STR(text_closest("vpn-dsn", ids, 4), "vpn-dns");   /* NULL skipped, swap */
  CHECK(text_closest("printer", ids, 4) == NULL);
  CHECK(text_closest("vpn", ids, 0) == NULL);
  CHECK(text_closest(NULL, ids, 4) == NULL);
  CHECK(text_closest("abc", NULL, 2) == NULL);
  /* ties go to the earlier candidate; short words still get one edit */
  CHECK_STR(text_closest("abc", ties, 2), "abd");
  CHECK_STR(text_closest("ab", ties + 1, 1), "abe");
  CHECK(text_closest("xy", ties, 2) == NULL);
}


typedef struct named { int n; const char *id; } named;
static const char *named_id(const void *ctx, size_t i) { return ((const named *)ctx)[i].id; }

static void test_text__did_you_mean(void)
{
  static const char *const ids[] = { "outlook-profile", "vpn-dns" };
  static const named items[] = { { 1, "question-a" }, { 2, NULL }, { 3, "printer-jam" } };
  char buf[64], small[20];
  CHECK_STR(ts_did_you_mean(buf, sizeof buf, "vpn-dsn", ids, 2), " (did you mean 'vpn-dns'?)");
  CHECK_STR(ts_did_you_mean(buf, sizeof buf, "printer", ids, 2), "");
  CHECK_STR(ts_did_you_mean(buf, sizeof buf, NULL, ids, 2), "");
  CHECK_STR(ts_did_you_mean(buf, sizeof buf, "vpn-dsn", NULL, 2), "");
  /* the way messages use it */
  {
    char msg[128];
    snprintf(msg, sizeof msg, "no fix '%s' in this KB%s", "outlok-profile",
             ts_did_you_mean(buf, sizeof buf, "outlok-profile", ids, 2));
    CHECK_STR(msg, "no fix 'outlok-profile' in this KB (did you mean 'outlook-profile'?)");
  }
  /* never half a name: a clause that does not fit is left out */
  CHECK_STR(ts_did_you_mean(small, sizeof small, "outlok-profile", ids, 2), "");
  CHECK_STR(ts_did_you_mean(small, 0, "vpn-dsn", ids, 2), "");
  /* candidates held anywhere, through a callback (NULL names skipped) */
  CHECK_STR(text_closest_fn("printer-jma", 3, named_id, items), "printer-jam");
  CHECK_STR(ts_did_you_mean_fn(buf, sizeof buf, "question-b", 3, named_id, items),
            " (did you mean 'question-a'?)");
  CHECK_STR(ts_did_you_mean_fn(buf, sizeof buf, "zzz", 3, named_id, items), "");
  CHECK_STR(ts_did_you_mean_fn(buf, sizeof buf, "question-b", 3, NULL, items), "");
}

int main(void)
{
  RUN(test_text__next_word_splits);
  RUN(test_text__next_word_positions);
  RUN(test_text__long_runs_are_cut);
  RUN(test_text__fold);
  RUN(test_text__distance);
  RUN(test_text__max_typos);
  RUN(test_text__stop_words);
  RUN(test_text__closest);
  RUN(test_text__did_you_mean);
  TEST_EXIT();
}
