/* fuzz-machine: libFuzzer target for machine descriptions, the simulated
** host's JSON (tshoot_host_sim_load). The input is the JSON. It is refused
** with TSHOOT_EINVALID, or it loads, and then: what it saves loads again and
** saves to the same bytes; a probe and a fix (chosen by the input's hash from
** scripts/kerio) run on it, and the fix's plan changes nothing, and its apply,
** when it does not verify, leaves the machine exactly as it was. */
#include "scripts.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  fuzz_scripts_load();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  tshoot_host *h = NULL, *again = NULL;
  char *a, *b;
  uint32_t pick;
  const fuzz_script *probe, *fix;
  int rc = tshoot_host_sim_load(&h, (const char *)data, size, "fuzz.json");

  if (rc != TSHOOT_OK) {
    if (rc != TSHOOT_EINVALID && rc != TSHOOT_ENOMEM) fuzz_fail("machine load returned %d", rc);
    if (h) fuzz_fail("a refused machine was handed out");
    return 0;
  }
  a = fuzz_sim_save(h);
  if (tshoot_host_sim_load(&again, a, strlen(a), "saved.json") != TSHOOT_OK)
    fuzz_fail("a saved machine does not load:\n%s", a);
  b = fuzz_sim_save(again);
  if (strcmp(a, b) != 0) fuzz_fail("a loaded machine saves to other bytes:\n%s\n%s", a, b);
  tshoot_free(a);
  tshoot_free(b);
  tshoot_host_free(again);

  pick = fuzz_hash(data, size);
  probe = &fuzz_probes[pick % fuzz_n_probes];
  fix = &fuzz_fixes[(pick >> 16) % fuzz_n_fixes];
  fuzz_run_checked(h, probe->name, probe->body, probe->len, TSHOOT_RUN_PROBE);
  fuzz_run_checked(h, fix->name, fix->body, fix->len, TSHOOT_RUN_PLAN);
  fuzz_run_checked(h, fix->name, fix->body, fix->len, TSHOOT_RUN_APPLY);
  tshoot_host_free(h);
  return 0;
}
