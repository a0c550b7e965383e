/* fuzz-session: libFuzzer target for loading saved sessions, which may come
** from untrusted clients. The input is the session JSON. It is refused with
** TSHOOT_EINVALID or TSHOOT_EVERSION, or it loads, and then: the session
** takes a step, and what it saves loads again and saves to the same bytes. */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  fuzz_kb();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  tshoot_session *s = NULL, *again = NULL;
  const tshoot_step *step = NULL;
  char *a = NULL, *b = NULL;
  int rc = tshoot_session_load(&s, fuzz_kb(), (const char *)data, size, NULL);

  if (rc != TSHOOT_OK) {
    if (rc != TSHOOT_EINVALID && rc != TSHOOT_EVERSION && rc != TSHOOT_ENOMEM)
      fuzz_fail("session load returned %d", rc);
    if (s) fuzz_fail("a refused session was handed out");
    return 0;
  }
  if (tshoot_session_save(&a, s) != TSHOOT_OK) fuzz_fail("a loaded session does not save");
  if (tshoot_session_load(&again, fuzz_kb(), a, strlen(a), NULL) != TSHOOT_OK)
    fuzz_fail("a saved session does not load: %s", a);
  if (tshoot_session_save(&b, again) != TSHOOT_OK) fuzz_fail("a reloaded session does not save");
  if (strcmp(a, b) != 0) fuzz_fail("a loaded session saves to other bytes:\n%s\n%s", a, b);
  if (tshoot_session_next(&step, s) != TSHOOT_OK || !step) fuzz_fail("a loaded session takes no step");
  tshoot_free(a);
  tshoot_free(b);
  tshoot_session_free(again);
  tshoot_session_free(s);
  return 0;
}
