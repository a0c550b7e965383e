/*
** bench-lua: what the script sandbox (engine/sandbox.c) costs against bare Lua 5.4.
**
**   bench-lua [--runs N] [--rounds R] [--smoke]
**
**  probe  a 20-line probe (reads a table, matches a pattern, returns a string)
**         run in a fresh sandbox: ts_sandbox_new + load + pcall + reading the
**         answer + free, in microseconds per run (median of N runs, 2,000 by
**         default); against the floor, a bare state: luaL_newstate +
**         luaL_openlibs + luaL_loadbuffer + lua_pcall + lua_close. Also with
**         TSHOOT_LIMITS_ESTIMATE. Target: under 100 us.
**  loop   `for i = 1, 5000000 do x = x + i end`: 10,000,000 VM instructions (ADD
**         and FORLOOP; the exact mode's count is printed to show it), only the
**         call timed, median of R rounds (11 by default), configurations
**         interleaved within each round: a bare state without hooks; the
**         sandbox with its default limits (the instruction limit raised so as
**         not to trip: counted exactly by a count hook every 1,000
**         instructions, the same on every machine); the sandbox with
**         TSHOOT_LIMITS_ESTIMATE (the watchdog estimates from CPU time, no
**         hook); a bare state with a do-nothing count hook every 1,000
**         instructions, for reference: the floor of any counting. Target for
**         the default: within 10% of that floor (Lua 5.4 sends every
**         instruction through its trace path once any count hook is set).
**
** --smoke: 50 probe runs and a 1,000,000-instruction loop, once; checks that
** every run answers as it should (exit 1 if not), not the timing targets.
** See BENCHMARKS.md, "Lua sandbox".
*/
#include "tshoot_int.h"
#include "sandbox.h"
#include "sandbox_match.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char probe_src[] =
  "local machine = {\n"
  "  os = { name = \"Windows\", version = \"10.0\", build = 19045 },\n"
  "  office = { version = \"16.0.17928.20114\", platform = \"x64\" },\n"
  "  modules = { \"C:\\\\Kerio\\\\kofmsp.dll\", \"C:\\\\Office\\\\OUTLOOK.EXE\", \"mapi32.dll\" },\n"
  "}\n"
  "local function major(v)\n"
  "  return tonumber(v:match(\"^(%d+)\"))\n"
  "end\n"
  "local found = false\n"
  "for _, m in ipairs(machine.modules) do\n"
  "  if m:lower():find(\"kofmsp.dll\", 1, true) then found = true end\n"
  "end\n"
  "if not found then return nil end\n"
  "local v = machine.office.version\n"
  "if major(v) < 16 then return \"old\" end\n"
  "if machine.os.build >= 19041 then\n"
  "  return \"win10-\" .. machine.office.platform .. \"-\" .. major(v)\n"
  "end\n"
  "return \"other\"\n";
static const char probe_answer[] = "win10-x64-16";

static const char loop_fmt[] = "local x = 0 for i = 1, %d do x = x + i end return x";

static int failures;

static double now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "bench-lua: %s: %s\n", what, detail);
  failures++;
}

/* One probe in a fresh sandbox, the way tshoot_script_run does it. */
static void probe_sandbox(const tshoot_limits *lim)
{
  ts_sandbox *sb;
  char *answer = NULL;
  if (ts_sandbox_new(&sb, lim) != TSHOOT_OK) { fail("probe", tshoot_error_last()->message); return; }
  if (ts_sandbox_load(sb, "probe.lua", probe_src, sizeof probe_src - 1) != TSHOOT_OK ||
      ts_sandbox_pcall(sb, 0, 1) != TSHOOT_OK) {
    fail("probe", tshoot_error_last()->message);
  } else if (ts_sandbox_tostring(sb, -1, &answer) != TSHOOT_OK || strcmp(answer, probe_answer) != 0) {
    fail("probe", answer ? answer : "no answer");
  }
  ts_free(answer);
  ts_sandbox_free(sb);
}

/* The same in a bare state: the floor, with every library (luaL_openlibs) or
** with the sandbox's five. */
static void probe_bare(int same_libs)
{
  lua_State *L = luaL_newstate();
  if (same_libs) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    lua_settop(L, 0);
  } else {
    luaL_openlibs(L);
  }
  if (luaL_loadbuffer(L, probe_src, sizeof probe_src - 1, "=probe.lua") != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK)
    fail("bare probe", lua_tostring(L, -1));
  else if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), probe_answer) != 0)
    fail("bare probe", "wrong answer");
  lua_close(L);
}

typedef enum { CFG_BARE, CFG_DEFAULT, CFG_EXACT, CFG_BARE_HOOK, N_CFG } cfg;
static const char *const cfg_names[N_CFG] = {
  "bare lua_State, no hook", "sandbox, default limits (counted)", "sandbox, ESTIMATE",
  "bare + count hook (1000)"
};

static void empty_hook(lua_State *L, lua_Debug *ar) { (void)L; (void)ar; }

/* Run the loop once in configuration c; the call's time in ms. */
static double loop_once(cfg c, const char *src, long long expect, unsigned long long *count)
{
  double t0, t;
  if (c == CFG_BARE || c == CFG_BARE_HOOK) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_loadstring(L, src) != LUA_OK) { fail("loop", lua_tostring(L, -1)); lua_close(L); return 0; }
    if (c == CFG_BARE_HOOK) lua_sethook(L, empty_hook, LUA_MASKCOUNT, 1000);
    t0 = now_us();
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) fail("loop", lua_tostring(L, -1));
    t = now_us() - t0;
    if (lua_tointeger(L, -1) != expect) fail("loop", "wrong sum");
    lua_close(L);
  } else {
    tshoot_limits lim = TSHOOT_LIMITS_INIT;
    ts_sandbox *sb;
    lim.instructions = 1000000000000ull;        /* not to trip */
    lim.time_ms = 60000;
    lim.flags = c == CFG_EXACT ? TSHOOT_LIMITS_ESTIMATE : 0;
    if (ts_sandbox_new(&sb, &lim) != TSHOOT_OK) { fail("loop", "no sandbox"); return 0; }
    if (ts_sandbox_load(sb, "loop.lua", src, strlen(src)) != TSHOOT_OK) fail("loop", tshoot_error_last()->message);
    t0 = now_us();
    if (ts_sandbox_pcall(sb, 0, 1) != TSHOOT_OK) fail("loop", tshoot_error_last()->message);
    t = now_us() - t0;
    if (lua_tointeger(ts_sandbox_L(sb), -1) != expect) fail("loop", "wrong sum");
    ts_sandbox_stats(sb, NULL, count, NULL);
    ts_sandbox_free(sb);
  }
  return t / 1e3;
}

int main(int argc, char **argv)
{
  int runs = 2000, rounds = 11, smoke = 0, i, r, iters = 5000000;
  double *t_sb, *t_exact, *t_bare, *t_bare5, m_sb, m_exact, m_bare, m_bare5;
  double loop_t[N_CFG][32], loop_m[N_CFG];
  unsigned long long est = 0, counted = 0;
  tshoot_limits exact = TSHOOT_LIMITS_INIT;
  char src[128];
  long long expect;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--smoke") == 0) smoke = 1;
    else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench-lua [--runs N] [--rounds R] [--smoke]\n");
      return 2;
    }
  }
  if (smoke) { runs = 50; rounds = 1; iters = 500000; }
  if (runs < 1) runs = 1;
  if (rounds < 1) rounds = 1;
  if (rounds > 32) rounds = 32;
  exact.flags = TSHOOT_LIMITS_ESTIMATE;

  printf("bench-lua: %s, interpreter speed calibrated at %.0f instructions/us\n",
         LUA_RELEASE, ts_sandbox_speed());

  /* (1) the probe */
  t_sb = malloc(sizeof(double) * (size_t)runs);
  t_exact = malloc(sizeof(double) * (size_t)runs);
  t_bare = malloc(sizeof(double) * (size_t)runs);
  t_bare5 = malloc(sizeof(double) * (size_t)runs);
  if (!t_sb || !t_exact || !t_bare || !t_bare5) return 1;
  for (i = 0; i < 20; i++) { probe_sandbox(NULL); probe_bare(0); }   /* warm up */
  for (i = 0; i < runs; i++) {
    double t0 = now_us();
    probe_sandbox(NULL);
    t_sb[i] = now_us() - t0;
    t0 = now_us();
    probe_bare(0);
    t_bare[i] = now_us() - t0;
    t0 = now_us();
    probe_bare(1);
    t_bare5[i] = now_us() - t0;
    t0 = now_us();
    probe_sandbox(&exact);
    t_exact[i] = now_us() - t0;
  }
  m_sb = median(t_sb, runs);
  m_exact = median(t_exact, runs);
  m_bare = median(t_bare, runs);
  m_bare5 = median(t_bare5, runs);
  printf("\nprobe (20 lines, fresh state each run, median of %d runs)\n", runs);
  printf("  %-52s %8.1f us\n", "sandbox: new + load + pcall + answer + free", m_sb);
  printf("  %-52s %8.1f us\n", "sandbox, ESTIMATE", m_exact);
  printf("  %-52s %8.1f us\n", "bare: newstate + openlibs + load + pcall + close", m_bare);
  printf("  %-52s %8.1f us\n", "bare, the sandbox's 5 libraries only", m_bare5);
  printf("  sandbox / bare: x%.2f; / bare with its libraries: x%.2f   target: sandbox < 100 us: %s\n",
         m_sb / m_bare, m_sb / m_bare5, m_sb < 100 ? "met" : "NOT MET");

  /* (2) the loop */
  snprintf(src, sizeof src, loop_fmt, iters);
  expect = (long long)iters * (iters + 1) / 2;
  for (r = 0; r < rounds; r++) {
    int c;
    for (c = 0; c < N_CFG; c++) {
      unsigned long long n = 0;
      loop_t[c][r] = loop_once((cfg)c, src, expect, &n);
      if (c == CFG_DEFAULT) counted = n;
      if (c == CFG_EXACT) est = n;
    }
  }
  for (i = 0; i < N_CFG; i++) loop_m[i] = median(loop_t[i], rounds);
  printf("\nloop (%d iterations: %llu instructions counted in exact mode, %llu estimated; "
         "median of %d rounds, the call only)\n", iters, counted, est, rounds);
  for (i = 0; i < N_CFG; i++)
    printf("  %-52s %8.1f ms   x%.2f\n", cfg_names[i], loop_m[i], loop_m[i] / loop_m[CFG_BARE]);
  printf("  default limits over bare: %+.1f%%; over the floor of counting (bare + count hook): %+.1f%%"
         "   target: under 10%% over that floor: %s\n",
         (loop_m[CFG_DEFAULT] / loop_m[CFG_BARE] - 1) * 100,
         (loop_m[CFG_DEFAULT] / loop_m[CFG_BARE_HOOK] - 1) * 100,
         loop_m[CFG_DEFAULT] < 1.10 * loop_m[CFG_BARE_HOOK] ? "met" : "NOT MET");
  printf("  ESTIMATE over bare: %+.1f%%\n", (loop_m[CFG_EXACT] / loop_m[CFG_BARE] - 1) * 100);
  if (counted < 2ull * (unsigned long long)iters || counted > 2ull * (unsigned long long)iters + 2000)
    fail("loop", "the exact count is not 2 instructions per iteration");

  free(t_sb);
  free(t_exact);
  free(t_bare);
  free(t_bare5);
  if (failures) fprintf(stderr, "bench-lua: %d failures\n", failures);
  return failures ? 1 : 0;
}
