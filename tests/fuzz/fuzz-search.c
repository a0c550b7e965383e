/* fuzz-search: libFuzzer target for search. The first byte of the input
** picks the options (flags, limit), the rest is the text, any bytes. Every
** text is accepted, and the results keep their promises: at most `limit`,
** every field set, and nothing past the count. */
#include <math.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  fuzz_kb();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  tshoot_search_options opts = TSHOOT_SEARCH_OPTIONS_INIT;
  tshoot_results *r = NULL;
  size_t i, n, limit;
  int rc;

  if (size == 0) return 0;
  opts.flags = data[0] & 7u;
  opts.limit = data[0] >> 3;            /* 0..31; 0: the default, 10 */
  limit = opts.limit ? (size_t)opts.limit : 10;
  rc = tshoot_search(&r, fuzz_kb(), (const char *)data + 1, size - 1, &opts);
  if (rc != TSHOOT_OK) fuzz_fail("search returned %d", rc);
  if (!r || !tshoot_results_query(r)) fuzz_fail("search without results or query");
  n = tshoot_results_count(r);
  if (n > limit) fuzz_fail("%zu results over the limit %zu", n, limit);
  for (i = 0; i < n; i++) {
    const tshoot_result *x = tshoot_results_get(r, i);
    if (!x || !x->article || !x->title || !x->snippet || !x->file || !isfinite(x->score))
      fuzz_fail("result %zu lacks a field", i);
  }
  if (tshoot_results_get(r, n) != NULL) fuzz_fail("a result past the count");
  tshoot_results_free(r);
  return 0;
}
