/* fuzz-script: libFuzzer target for Lua scripts in the sandbox, as
** `tshoot run` runs them, on the simulated healthy Kerio machine
** (kb/kerio/machines/healthy.json). The input is the script. It runs as a
** probe, as a plan and as an apply, within small limits; none may crash or
** leak, a plan never changes the machine, and an apply that does not verify
** (an error, a broken limit, a verify that says no) leaves the machine exactly
** as it was. */
#include "fuzz.h"

static char *machine;
static size_t machine_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  const char *path = FUZZ_SOURCE_ROOT "/kb/kerio/machines/healthy.json";
  if (!(machine = fuzz_read_file(path, &machine_len))) fuzz_fail("cannot read %s", path);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const tshoot_script_mode modes[] = { TSHOOT_RUN_PROBE, TSHOOT_RUN_PLAN, TSHOOT_RUN_APPLY };
  size_t i;
  for (i = 0; i < sizeof modes / sizeof *modes; i++) {
    tshoot_host *h = NULL;
    if (tshoot_host_sim_load(&h, machine, machine_len, "healthy.json") != TSHOOT_OK)
      fuzz_fail("the healthy machine does not load");
    fuzz_run_checked(h, "fuzz.lua", (const char *)data, size, modes[i]);
    tshoot_host_free(h);
  }
  return 0;
}
