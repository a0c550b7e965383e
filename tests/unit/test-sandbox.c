/*
** test-sandbox.c: the Lua sandbox (engine/sandbox.c) against hostile scripts.
**
** Every script in tests/data/hostile/ is one attack, with a comment saying what
** it tries and what must happen, and directives the harness checks:
**   -- expect: OK [answer] | ERROR <text in the message> | ELIMIT <memory|instruction|time>
**      (ELIMIT a|b: either; the exact mode does not count __index chain lookups)
**   -- limits: memory=KIB instructions=N time=MS   (else 4096 KiB, 1,000,000, 2000 ms)
**   -- host-calls: N     hostfn (a C function that calls ts_sandbox_check first) ran N times
**   -- notes: N          print() made N notes
** Each runs twice, with the default limits mechanism and with
** TSHOOT_LIMITS_EXACT_COUNT, on a thread whose stack is exactly
** TS_SANDBOX_MIN_STACK (scaled under AddressSanitizer, whose frames are larger),
** and must finish in under 3 s. An ERROR's message must carry the script's
** name and line; an instruction or time limit's message says where it broke.
** The C tests below cover what a script cannot show: the host's side.
*/
#include "tshoot_int.h"
#include "sandbox.h"
#include "sandbox_match.h"
#include "test.h"

#include <dirent.h>
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
# define STACK_SCALE 4u
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define STACK_SCALE 4u
# endif
#endif
#ifndef STACK_SCALE
# define STACK_SCALE 1u
#endif

static char hostile_dir[1024];
static int host_calls;

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A host function as host.c writes them: ts_sandbox_check first. */
static int t_hostfn(lua_State *L)
{
  ts_sandbox_check(L);
  host_calls++;
  lua_pushinteger(L, host_calls);
  return 1;
}

static void burn_cpu(double ms)
{
  struct timespec a, b;
  volatile unsigned long x = 0;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  do {
    int i;
    for (i = 0; i < 10000; i++) x += (unsigned long)i;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  } while ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6 < ms);
}

/* A host call that burns 30 ms of CPU without, and with, the exclusion. */
static int t_hostburn(lua_State *L)
{
  ts_sandbox_check(L);
  burn_cpu(30);
  return 0;
}

static int t_hostburn_excluded(lua_State *L)
{
  ts_sandbox_check(L);
  ts_sandbox_host_begin(L);
  burn_cpu(30);
  ts_sandbox_host_end(L);
  return 0;
}

typedef struct result {
  int status;
  char msg[1100];
  char answer[256];
  size_t n_notes;
  char note0[128];
  double ms;
  unsigned long long instructions;
  size_t peak;
  int host_calls;
} result;

static void run_body(result *r, const char *name, const char *body, size_t len,
                     const tshoot_limits *lim)
{
  ts_sandbox *sb = NULL;
  double t0 = now_ms();
  int rc;
  memset(r, 0, sizeof *r);
  host_calls = 0;
  rc = ts_sandbox_new(&sb, lim);
  if (rc != TSHOOT_OK) {
    r->status = rc;
    snprintf(r->msg, sizeof r->msg, "%s", tshoot_error_last()->message);
    return;
  }
  lua_pushcfunction(ts_sandbox_L(sb), t_hostfn);
  lua_setglobal(ts_sandbox_L(sb), "hostfn");
  rc = ts_sandbox_load(sb, name, body, len);
  if (rc == TSHOOT_OK) rc = ts_sandbox_pcall(sb, 0, 1);
  r->status = rc;
  if (rc != TSHOOT_OK) {
    snprintf(r->msg, sizeof r->msg, "%s", tshoot_error_last()->message);
    CHECK_INT(lua_gettop(ts_sandbox_L(sb)), 0);      /* nothing left on failure */
  } else {
    char *a = NULL;
    if (ts_sandbox_tostring(sb, -1, &a) == TSHOOT_OK) snprintf(r->answer, sizeof r->answer, "%s", a);
    ts_free(a);
    lua_pop(ts_sandbox_L(sb), 1);
  }
  {
    const char *const *notes;
    ts_sandbox_notes(sb, &notes, &r->n_notes);
    if (r->n_notes) snprintf(r->note0, sizeof r->note0, "%s", notes[0]);
  }
  ts_sandbox_stats(sb, NULL, &r->instructions, &r->peak);
  r->host_calls = host_calls;
  ts_sandbox_free(sb);
  r->ms = now_ms() - t0;
}

static tshoot_limits test_limits(unsigned flags)
{
  tshoot_limits lim = TSHOOT_LIMITS_INIT;
  lim.memory_kib = 4096;
  lim.instructions = 1000000;
  lim.time_ms = 2000;
  lim.flags = flags;
  return lim;
}

/* path's bytes into *body (NULL on failure), read into the caller's own
** variable: returning a local's value set through its address made gcc -O3
** warn of a dangling pointer once inlined (-Wdangling-pointer, a false
** alarm). */
static void read_all(char **body, const char *path, size_t *len)
{
  if (ts_read_file(body, len, path, 1 << 20) != TSHOOT_OK) *body = NULL;
}

/* The value of directive `key` ("expect") in body, copied into out. */
static int directive(const char *body, const char *key, char *out, size_t n)
{
  char pat[64];
  const char *p, *e;
  snprintf(pat, sizeof pat, "\n-- %s: ", key);
  p = strstr(body, pat);
  if (!p) return 0;
  p += strlen(pat);
  e = strchr(p, '\n');
  if (!e) e = p + strlen(p);
  snprintf(out, n, "%.*s", (int)(e - p), p);
  return 1;
}

static unsigned long long dir_num(const char *limits, const char *key, unsigned long long dflt)
{
  char pat[32];
  const char *p;
  snprintf(pat, sizeof pat, "%s=", key);
  p = strstr(limits, pat);
  return p ? strtoull(p + strlen(pat), NULL, 10) : dflt;
}

static int run_hostile(const char *file, unsigned flags)
{
  char path[1400], expect[256], limits[256] = "", num[32], name_colon[300];
  size_t len;
  char *body;
  tshoot_limits lim = test_limits(flags);
  result r;
  int failed_before = test_cur_failed, failed;
  const char *mode = flags & TSHOOT_LIMITS_ESTIMATE ? "estimate" : "default";

  test_cur_failed = 0;
  snprintf(path, sizeof path, "%s/%s", hostile_dir, file);
  read_all(&body, path, &len);
  CHECK(body != NULL);
  if (!body) return 1;
  if (!directive(body, "expect", expect, sizeof expect)) {
    fprintf(stderr, "%s: no '-- expect:' line\n", file);
    test_cur_failed = 1;
    ts_free(body);
    return 1;
  }
  CHECK(strstr(body, "-- Tries:") != NULL && strstr(body, "-- Must:") != NULL);
  directive(body, "limits", limits, sizeof limits);
  lim.memory_kib = (size_t)dir_num(limits, "memory", lim.memory_kib);
  lim.instructions = dir_num(limits, "instructions", lim.instructions);
  lim.time_ms = (int)dir_num(limits, "time", (unsigned long long)lim.time_ms);

  run_body(&r, file, body, len, &lim);
  snprintf(name_colon, sizeof name_colon, "%s:", file);

  if (strncmp(expect, "OK", 2) == 0) {
    CHECK_INT(r.status, TSHOOT_OK);
    if (expect[2] == ' ') CHECK_STR(r.answer, expect + 3);
  } else if (strncmp(expect, "ERROR ", 6) == 0) {
    CHECK_INT(r.status, TSHOOT_ERROR);
    CHECK_CONTAINS(r.msg, expect + 6);
    CHECK_CONTAINS(r.msg, name_colon);
  } else if (strncmp(expect, "ELIMIT ", 7) == 0) {
    /* "ELIMIT a|b": either limit (the two modes count differently) */
    char what[300], *alt = strchr(expect + 7, '|');
    CHECK_INT(r.status, TSHOOT_ELIMIT);
    snprintf(what, sizeof what, "broke its %.*s limit", alt ? (int)(alt - expect - 7) : 64, expect + 7);
    if (alt && !strstr(r.msg, what)) snprintf(what, sizeof what, "broke its %s limit", alt + 1);
    CHECK_CONTAINS(r.msg, what);
    CHECK_CONTAINS(r.msg, file);
    if (!strstr(what, "memory")) CHECK_CONTAINS(r.msg, " at ");
  } else {
    fprintf(stderr, "%s: bad expect '%s'\n", file, expect);
    test_cur_failed = 1;
  }
  if (directive(body, "host-calls", num, sizeof num)) CHECK_INT(r.host_calls, atoi(num));
  if (directive(body, "notes", num, sizeof num)) CHECK_INT(r.n_notes, atoi(num));
  CHECK(r.ms < 3000);
  failed = test_cur_failed;
  if (getenv("TEST_SANDBOX_VERBOSE") || failed)
    fprintf(stderr, "  %-30s %-7s %7.1f ms  status %d  %s%s\n", file, mode, r.ms, r.status,
            r.status ? r.msg : "answer ", r.status ? "" : r.answer);
  ts_free(body);
  test_cur_failed = failed_before || failed;
  return failed;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct suite_run { int n_files, n_failed; } suite_run;

static void *hostile_thread(void *arg)
{
  suite_run *sr = arg;
  DIR *d = opendir(hostile_dir);
  struct dirent *de;
  char *names[256];
  int n = 0, i;
  CHECK(d != NULL);
  if (!d) return NULL;
  while ((de = readdir(d)) != NULL && n < 256) {
    size_t l = strlen(de->d_name);
    if (l > 4 && strcmp(de->d_name + l - 4, ".lua") == 0 &&
        (!getenv("TEST_SANDBOX_ONLY") || strstr(de->d_name, getenv("TEST_SANDBOX_ONLY"))))
      names[n++] = ts_strdup(de->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  for (i = 0; i < n; i++) {
    sr->n_failed += run_hostile(names[i], 0);   /* the default: counted, the same on every machine */
    ts_free(names[i]);
  }
  sr->n_files = n;
  return NULL;
}

/* Run fn(arg) on a thread with exactly `stack` bytes of stack. */
static void on_thread(void *(*fn)(void *), void *arg, size_t stack)
{
  pthread_t t;
  pthread_attr_t a;
  CHECK_INT(pthread_attr_init(&a), 0);
  CHECK_INT(pthread_attr_setstacksize(&a, stack), 0);
  CHECK_INT(pthread_create(&t, &a, fn, arg), 0);
  pthread_join(t, NULL);
  pthread_attr_destroy(&a);
}

static void test_sandbox__hostile_scripts(void)
{
  suite_run sr = { 0, 0 };
  double t0 = now_ms();
  size_t stack = (size_t)TS_SANDBOX_MIN_STACK * STACK_SCALE;
  if (getenv("TEST_SANDBOX_STACK_KIB"))          /* to measure the margin by hand */
    stack = (size_t)atoi(getenv("TEST_SANDBOX_STACK_KIB")) * 1024u;
  on_thread(hostile_thread, &sr, stack);
  printf("     %d hostile scripts, 2 modes each, %d failed, %.0f ms\n", sr.n_files, sr.n_failed,
         now_ms() - t0);
  if (!getenv("TEST_SANDBOX_ONLY")) CHECK(sr.n_files >= 60);
  CHECK_INT(sr.n_failed, 0);
}

static result run_file(const char *file, const tshoot_limits *lim)
{
  char path[1400];
  size_t len = 0;
  char *body;
  result r;
  snprintf(path, sizeof path, "%s/%s", hostile_dir, file);
  read_all(&body, path, &len);
  memset(&r, 0, sizeof r);
  CHECK(body != NULL);
  if (body) run_body(&r, file, body, len, lim);
  ts_free(body);
  return r;
}

/* One script's changes are never seen by the next: a fresh state each run. */
static void test_sandbox__fresh_state_each_run(void)
{
  tshoot_limits lim = test_limits(0);
  result a = run_file("tamper.lua", &lim), b = run_file("tamper-check.lua", &lim);
  CHECK_INT(a.status, TSHOOT_OK);
  CHECK_STR(a.answer, "tampered");
  CHECK_INT(b.status, TSHOOT_OK);
  CHECK_STR(b.answer, "pristine");
}

static result run_src(const char *src, const tshoot_limits *lim)
{
  result r;
  run_body(&r, "probe.lua", src, strlen(src), lim);
  return r;
}

static void test_sandbox__binary_body_refused(void)
{
  static const char bin[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08junk";
  ts_sandbox *sb;
  CHECK_INT(ts_sandbox_new(&sb, NULL), TSHOOT_OK);
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", bin, sizeof bin - 1), TSHOOT_ERROR);
  CHECK_CONTAINS(tshoot_error_last()->message, "binary");
  CHECK_INT(lua_gettop(ts_sandbox_L(sb)), 0);
  ts_sandbox_free(sb);
}

static void test_sandbox__errors_carry_script_and_line(void)
{
  tshoot_limits lim = test_limits(0);
  result r = run_src("local x = 1\nx = = 2\n", &lim);
  CHECK_INT(r.status, TSHOOT_ERROR);
  CHECK_CONTAINS(r.msg, "probe.lua:2:");
  r = run_src("local t\n\nreturn t.x\n", &lim);
  CHECK_INT(r.status, TSHOOT_ERROR);
  CHECK_CONTAINS(r.msg, "probe.lua:3: attempt to index a nil value");
  r = run_src("\nerror(42)\n", &lim);
  CHECK_INT(r.status, TSHOOT_ERROR);
  CHECK_STR(r.msg, "probe.lua:2: 42");
  r = run_src("\n\nwhile true do end\n", &lim);
  CHECK_INT(r.status, TSHOOT_ELIMIT);
  CHECK_STR(r.msg, "script 'probe.lua' broke its instruction limit (1000000 instructions) at probe.lua:3");
}

/* Results reach the host as text without any metamethod or Lua allocation. */
static void test_sandbox__results_as_text(void)
{
  static const struct { const char *src; int rc; const char *text; } cases[] = {
    { "return 42", TSHOOT_OK, "42" },
    { "return -7.5", TSHOOT_OK, "-7.5" },
    { "return 3.0", TSHOOT_OK, "3.0" },
    { "return 2^53", TSHOOT_OK, "9.007199254741e+15" },
    { "return true", TSHOOT_OK, "true" },
    { "return '10.0'", TSHOOT_OK, "10.0" },
    { "return setmetatable({}, {__tostring = function() while true do end end})", TSHOOT_EINVALID, NULL },
    { "return nil", TSHOOT_EINVALID, NULL },
  };
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
    ts_sandbox *sb;
    char *text = NULL;
    CHECK_INT(ts_sandbox_new(&sb, NULL), TSHOOT_OK);
    CHECK_INT(ts_sandbox_load(sb, "probe.lua", cases[i].src, strlen(cases[i].src)), TSHOOT_OK);
    CHECK_INT(ts_sandbox_pcall(sb, 0, 1), TSHOOT_OK);
    CHECK_INT(ts_sandbox_tostring(sb, -1, &text), cases[i].rc);
    if (cases[i].text) CHECK_STR(text, cases[i].text);
    ts_free(text);
    ts_sandbox_free(sb);
  }
}

/* After the memory limit the host can still read and push (outside a call the
** allocator leaves slack), and nothing aborts. */
static void test_sandbox__host_side_after_memory_limit(void)
{
  tshoot_limits lim = test_limits(0);
  ts_sandbox *sb;
  lua_State *L;
  char *text = NULL;
  static const char src[] = "keep = {}\nfor i = 1, 1e9 do keep[i] = ('x'):rep(100) .. i end\n";
  lim.instructions = 1000000000;
  CHECK_INT(ts_sandbox_new(&sb, &lim), TSHOOT_OK);
  L = ts_sandbox_L(sb);
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", src, sizeof src - 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 0), TSHOOT_ELIMIT);
  CHECK_CONTAINS(tshoot_error_last()->message, "broke its memory limit (4096 KiB)");
  CHECK(ts_sandbox_broken(sb));
  CHECK_INT(lua_gettop(L), 0);
  lua_pushstring(L, "a new string the host makes after the limit");
  lua_pushinteger(L, 12345);
  CHECK_INT(ts_sandbox_tostring(sb, -1, &text), TSHOOT_OK);
  CHECK_STR(text, "12345");
  ts_free(text);
  CHECK_INT(ts_sandbox_tostring(sb, -2, &text), TSHOOT_OK);
  CHECK_STR(text, "a new string the host makes after the limit");
  ts_free(text);
  lua_settop(L, 0);
  ts_sandbox_free(sb);
}

/* A limit stays broken for the host too: another call fails at once, and a
** host function run by the host itself raises it. */
static void test_sandbox__limit_stays_broken(void)
{
  tshoot_limits lim = test_limits(0);
  ts_sandbox *sb;
  lua_State *L;
  static const char src[] = "return function() return hostfn() end, (function() while true do end end)()";
  CHECK_INT(ts_sandbox_new(&sb, &lim), TSHOOT_OK);
  L = ts_sandbox_L(sb);
  lua_pushcfunction(L, t_hostfn);
  lua_setglobal(L, "hostfn");
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", src, sizeof src - 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 2), TSHOOT_ELIMIT);
  host_calls = 0;
  lua_getglobal(L, "hostfn");
  CHECK_INT(ts_sandbox_pcall(sb, 0, 0), TSHOOT_ELIMIT);
  CHECK_CONTAINS(tshoot_error_last()->message, "instruction limit");
  lua_pushcfunction(L, t_hostfn);
  CHECK(lua_pcall(L, 0, 0, 0) != LUA_OK);
  CHECK_STR(lua_tostring(L, -1), "instruction limit broken");
  lua_pop(L, 1);
  CHECK_INT(host_calls, 0);
  ts_sandbox_free(sb);
}

/* Defaults (NULL limits): a probe runs; an endless loop ends with the default
** instruction limit (10,000,000). */
static void test_sandbox__defaults(void)
{
  ts_sandbox *sb;
  double ms;
  unsigned long long n;
  size_t peak;
  static const char probe[] = "local t = {a = 1}\nprint('seen', t.a)\nreturn 'v' .. t.a\n";
  static const char loop[] = "while true do end";
  char *text = NULL;
  double t0;
  CHECK_INT(ts_sandbox_new(&sb, NULL), TSHOOT_OK);
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", probe, sizeof probe - 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_tostring(sb, -1, &text), TSHOOT_OK);
  CHECK_STR(text, "v1");
  ts_free(text);
  ts_sandbox_stats(sb, &ms, &n, &peak);
  CHECK(ms >= 0 && ms < 1000);
  CHECK(peak > 1000 && peak < 1000000);
  {
    const char *const *notes;
    size_t nn;
    ts_sandbox_notes(sb, &notes, &nn);
    CHECK_INT(nn, 1);
    if (nn) CHECK_STR(notes[0], "seen\t1");
  }
  ts_sandbox_free(sb);

  t0 = now_ms();
  CHECK_INT(ts_sandbox_new(&sb, NULL), TSHOOT_OK);
  CHECK_INT(ts_sandbox_load(sb, "loop.lua", loop, sizeof loop - 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 0), TSHOOT_ELIMIT);
  CHECK_CONTAINS(tshoot_error_last()->message, "(10000000 instructions)");
  ts_sandbox_stats(sb, NULL, &n, NULL);
  CHECK(n > 10000000ull);
  ts_sandbox_free(sb);
  CHECK(now_ms() - t0 < 2000);
}

/* print: arguments as tostring makes them, joined by tabs; 4 KiB at most. */
static void test_sandbox__print_to_notes(void)
{
  tshoot_limits lim = test_limits(0);
  ts_sandbox *sb;
  static const char src[] = "print('a', 1, nil, true, 2.5)\nprint()\nprint(('x'):rep(5000))";
  const char *const *notes;
  size_t n;
  CHECK_INT(ts_sandbox_new(&sb, &lim), TSHOOT_OK);
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", src, sizeof src - 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 0), TSHOOT_OK);
  ts_sandbox_notes(sb, &notes, &n);
  CHECK_INT(n, 3);
  if (n == 3) {
    CHECK_STR(notes[0], "a\t1\tnil\ttrue\t2.5");
    CHECK_STR(notes[1], "");
    CHECK_INT(strlen(notes[2]), 4096);
  }
  CHECK_INT(ts_sandbox_add_note(sb, "from the host", 13), TSHOOT_OK);
  ts_sandbox_notes(sb, &notes, &n);
  CHECK_INT(n, 4);
  ts_sandbox_free(sb);
}

/* The count in exact mode: `x = x + i` is ADD + FORLOOP, 2 per iteration. */
static void test_sandbox__exact_count(void)
{
  tshoot_limits lim = test_limits(TSHOOT_LIMITS_EXACT_COUNT);
  result r;
  lim.instructions = 100000000;
  r = run_src("local x = 0 for i = 1, 100000 do x = x + i end return x", &lim);
  CHECK_INT(r.status, TSHOOT_OK);
  CHECK_STR(r.answer, "5000050000");
  CHECK(r.instructions >= 199000 && r.instructions <= 201000);
}

static const char calib_like[] =
  "local t = {0, 0, 0, 0}\n"
  "local function f(a, b) return a + b end\n"
  "local x = 0\n"
  "for i = 1, 300000 do\n"
  "  x = f(x, i) & 0xffff\n"
  "  t[(i & 3) + 1] = x\n"
  "end\n"
  "return x\n";

/* The estimate (CPU time x calibrated speed) is near the exact count on the
** kind of code it was calibrated on. */
static void test_sandbox__estimate_near_exact(void)
{
  tshoot_limits lim = test_limits(TSHOOT_LIMITS_ESTIMATE);
  result est, exact;
  double ratio;
  lim.instructions = 1000000000;
  est = run_src(calib_like, &lim);
  lim.flags = TSHOOT_LIMITS_EXACT_COUNT;
  exact = run_src(calib_like, &lim);
  CHECK_INT(est.status, TSHOOT_OK);
  CHECK_INT(exact.status, TSHOOT_OK);
  ratio = exact.instructions ? (double)est.instructions / (double)exact.instructions : 0;
  printf("     speed %.0f instructions/us; estimated %llu, counted %llu (x%.2f)\n",
         ts_sandbox_speed(), est.instructions, exact.instructions, ratio);
  CHECK(ratio > 0.33 && ratio < 3.0);
}

/* Pattern steps are counted as instructions, in both modes. */
static void test_sandbox__pattern_steps_counted(void)
{
  tshoot_limits lim = test_limits(TSHOOT_LIMITS_EXACT_COUNT);
  result r;
  lim.instructions = 1000000000;
  r = run_src("return (('a'):rep(20):find(('a*'):rep(4) .. 'b'))", &lim);
  CHECK_INT(r.status, TSHOOT_OK);
  CHECK(r.instructions > 10000);
  lim.instructions = 5000;
  r = run_src("return (('a'):rep(20):find(('a*'):rep(4) .. 'b'))", &lim);
  CHECK_INT(r.status, TSHOOT_ELIMIT);
  CHECK_CONTAINS(r.msg, "instruction limit");
}

/* Estimate mode: the CPU time of a host call between ts_sandbox_host_begin
** and _end is not charged to the instruction budget; without them it is. */
static void test_sandbox__host_time_excluded(void)
{
  tshoot_limits lim = test_limits(TSHOOT_LIMITS_ESTIMATE);
  ts_sandbox *sb;
  static const char src[] = "burn() return 'done'";
  int i;
  for (i = 0; i < 2; i++) {
    CHECK_INT(ts_sandbox_new(&sb, &lim), TSHOOT_OK);
    lua_pushcfunction(ts_sandbox_L(sb), i ? t_hostburn_excluded : t_hostburn);
    lua_setglobal(ts_sandbox_L(sb), "burn");
    CHECK_INT(ts_sandbox_load(sb, "probe.lua", src, sizeof src - 1), TSHOOT_OK);
    CHECK_INT(ts_sandbox_pcall(sb, 0, 0), i ? TSHOOT_OK : TSHOOT_ELIMIT);
    ts_sandbox_free(sb);
  }
}

/* The default budget is a count: a loop stops at the same instruction on
** every run (and so on every machine, under any load or sanitizer). */
static void test_sandbox__budget_is_deterministic(void)
{
  tshoot_limits lim = test_limits(0);
  result a, b;
  static const char src[] = "local t = {} local i = 0 while true do i = i + 1 t[i % 7] = i end";
  lim.instructions = 250000;
  a = run_src(src, &lim);
  b = run_src(src, &lim);
  CHECK_INT(a.status, TSHOOT_ELIMIT);
  CHECK_CONTAINS(a.msg, "instruction limit (250000 instructions)");
  CHECK_INT(b.status, TSHOOT_ELIMIT);
  CHECK_INT(a.instructions, b.instructions);
  CHECK(a.instructions > 250000 && a.instructions <= 251000);
}

/* CPU time is a limit of its own, apart from wall time and instructions: a
** host function that burns CPU (no instructions) breaks it; a version 1
** limits struct is accepted and gets the default. */
static void test_sandbox__cpu_time_limit(void)
{
  tshoot_limits lim = test_limits(0);
  ts_sandbox *sb;
  static const char src[] = "for i = 1, 20 do burn() end return 'done'";
  lim.cpu_ms = 40;
  lim.time_ms = 60000;
  CHECK_INT(ts_sandbox_new(&sb, &lim), TSHOOT_OK);
  lua_pushcfunction(ts_sandbox_L(sb), t_hostburn);
  lua_setglobal(ts_sandbox_L(sb), "burn");
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", src, sizeof src - 1), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 0), TSHOOT_ELIMIT);
  CHECK_CONTAINS(tshoot_error_last()->message, "broke its CPU time limit (40 ms)");
  ts_sandbox_free(sb);

  lim.version = 1;
  lim.cpu_ms = 1;                      /* not read in a version 1 struct */
  CHECK_INT(ts_sandbox_new(&sb, &lim), TSHOOT_OK);
  lua_pushcfunction(ts_sandbox_L(sb), t_hostburn);
  lua_setglobal(ts_sandbox_L(sb), "burn");
  CHECK_INT(ts_sandbox_load(sb, "probe.lua", "burn() return 'done'", 20), TSHOOT_OK);
  CHECK_INT(ts_sandbox_pcall(sb, 0, 0), TSHOOT_OK);
  ts_sandbox_free(sb);
}

/* Several scripts at once, each stopped on its own. */
static void *concurrent_one(void *arg)
{
  int *ok = arg, i;
  tshoot_limits lim = test_limits(0);
  for (i = 0; i < 5; i++) {
    ts_sandbox *sb;
    static const char loop[] = "local function f() pcall(error, 'x') end while true do f() end";
    static const char probe[] = "local s = 0 for i = 1, 1000 do s = s + i end return s";
    int rc;
    if (ts_sandbox_new(&sb, &lim) != TSHOOT_OK) return NULL;
    if (i % 2) {
      rc = ts_sandbox_load(sb, "loop.lua", loop, sizeof loop - 1);
      if (rc == TSHOOT_OK && ts_sandbox_pcall(sb, 0, 0) == TSHOOT_ELIMIT) ++*ok;
    } else {
      rc = ts_sandbox_load(sb, "probe.lua", probe, sizeof probe - 1);
      if (rc == TSHOOT_OK && ts_sandbox_pcall(sb, 0, 1) == TSHOOT_OK) ++*ok;
    }
    ts_sandbox_free(sb);
  }
  return NULL;
}

static void test_sandbox__concurrent(void)
{
  pthread_t t[4];
  int ok[4] = { 0 }, i;
  for (i = 0; i < 4; i++) CHECK_INT(pthread_create(&t[i], NULL, concurrent_one, &ok[i]), 0);
  for (i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(ok[i], 5);
  }
}

/* Failing allocations at every point: a sandbox is made or not, a script runs
** or fails, never a crash. */
static void test_sandbox__allocation_failures(void)
{
  static const char src[] = "local t = {} for i = 1, 100 do t[i] = ('x'):rep(i) end return #t";
  long n;
  int ok = 0;
  for (n = 0; n < 400; n += 3) {
    ts_sandbox *sb = NULL;
    int rc;
    ts_alloc_fail_after(n);
    rc = ts_sandbox_new(&sb, NULL);
    if (rc == TSHOOT_OK) {
      rc = ts_sandbox_load(sb, "probe.lua", src, sizeof src - 1);
      if (rc == TSHOOT_OK) rc = ts_sandbox_pcall(sb, 0, 1);
      CHECK(rc == TSHOOT_OK || rc == TSHOOT_ENOMEM || rc == TSHOOT_ELIMIT || rc == TSHOOT_ERROR);
      if (rc == TSHOOT_OK) ok++;
      ts_sandbox_free(sb);
    } else {
      CHECK_INT(rc, TSHOOT_ENOMEM);
    }
    ts_alloc_fail_after(-1);
  }
  CHECK(ok > 0);
}

/* ===== the matcher against Lua's own ===== */

static const char matcher_cases[] =
  "local subjects = { '', 'a', 'aaa', 'hello world', 'x = 10, y = 20', '  trim me  ',\n"
  "  '[[nested]] (a(b)c) {x}', 'THE (quick) fox', 'a.b.c', 'one\\ntwo\\n', '\\0a\\0b',\n"
  "  'k1=v1;k2=v2;', '12abc34', 'aXbXc', 'HKLM\\\\SOFTWARE\\\\Vendor\\\\Key', '9.2.4.3252' }\n"
  "local patterns = { '', 'a', 'a*', 'a+', 'a-', 'a?', '^a', 'a$', '^$', '.', '.-', '.*',\n"
  "  '%a+', '%d+', '%s*', '%w+', '%p', '%u', '%l+', '%x+', '%A', '%S+', '[aeiou]', '[^%s]+',\n"
  "  '[%a_][%w_]*', '(%w+)=(%w+)', '()a()', '(a*(.)%w(%s*))', '%b()', '%b[]', '%f[%w]%w+',\n"
  "  '%f[%a]%a+%f[%A]', '(.)%1', '(%a)(%a)%2%1', '^%s*(.-)%s*$', 'o', 'X', '[a-c]+', '[]]',\n"
  "  '[^]]', '[%]]', '%.', '\\0', '[%z]', 'a.-b', '(h)(e)(l)(l)(o)', '%d%.%d', '(%d+)%.?',\n"
  "  '^(%w+)', '([^;]+);', '[\\\\]', '%f[%d]', 'x*$', '(()a)' }\n"
  "local bad = { '%', '[a', '(', ')', '%b', '%ba', '%f', '%fa', '%1', '(a)%2', '[%', '((a)' }\n"
  "local function pack(...) return { n = select('#', ...), ... } end\n"
  "local function same(a, b)\n"
  "  if a.n ~= b.n then return false end\n"
  "  for i = 1, a.n do if a[i] ~= b[i] then return false end end\n"
  "  return true\n"
  "end\n"
  "local function show(t)\n"
  "  local out = {}\n"
  "  for i = 1, t.n do out[i] = type(t[i]) == 'string' and string.format('%q', t[i]) or tostring(t[i]) end\n"
  "  return '{' .. table.concat(out, ',') .. '}'\n"
  "end\n"
  "local n, bad_n = 0, 0\n"
  "local function check(what, a, b)\n"
  "  n = n + 1\n"
  "  if not same(a, b) then\n"
  "    bad_n = bad_n + 1\n"
  "    if bad_n <= 5 then print(what .. ': lua ' .. show(a) .. ' ours ' .. show(b)) end\n"
  "  end\n"
  "end\n"
  "local function errs(f, ...) local ok = pcall(f, ...) return not ok end\n"
  "local function gm(f, s, p, init)\n"
  "  local out = { n = 0 }\n"
  "  for a, b, c in f(s, p, init) do out.n = out.n + 1; out[out.n] = tostring(a) .. '|' .. tostring(b) .. '|' .. tostring(c)\n"
  "    if out.n > 50 then break end end\n"
  "  return out\n"
  "end\n"
  "for _, s in ipairs(subjects) do\n"
  "  for _, p in ipairs(patterns) do\n"
  "    for _, init in ipairs({ 1, 2, -3, 100 }) do\n"
  "      local w = string.format('%q %q %d', s, p, init)\n"
  "      check('find ' .. w, pack(string.find(s, p, init)), pack(ts.find(s, p, init)))\n"
  "      check('plain ' .. w, pack(string.find(s, p, init, true)), pack(ts.find(s, p, init, true)))\n"
  "      check('match ' .. w, pack(string.match(s, p, init)), pack(ts.match(s, p, init)))\n"
  "      check('gmatch ' .. w, gm(string.gmatch, s, p, init), gm(ts.gmatch, s, p, init))\n"
  "    end\n"
  "    for _, r in ipairs({ '<%0>', '%1', '%%', 'x', '%2%1' }) do\n"
  "      local e1, e2 = errs(string.gsub, s, p, r), errs(ts.gsub, s, p, r)\n"
  "      if e1 or e2 then check('gsub error ' .. p .. ' ' .. r, pack(e1), pack(e2))\n"
  "      else check('gsub ' .. string.format('%q %q %q', s, p, r), pack(string.gsub(s, p, r)), pack(ts.gsub(s, p, r))) end\n"
  "    end\n"
  "    check('gsub max ' .. p, pack(string.gsub(s, p, 'z', 2)), pack(ts.gsub(s, p, 'z', 2)))\n"
  "    local tbl = { a = 'A', hello = false, x = 1 }\n"
  "    check('gsub table ' .. p, pack(string.gsub(s, p, tbl)), pack(ts.gsub(s, p, tbl)))\n"
  "    local fn = function(a, b) if a == 'a' then return nil end return (tostring(a) .. tostring(b)):upper() end\n"
  "    check('gsub fn ' .. p, pack(string.gsub(s, p, fn)), pack(ts.gsub(s, p, fn)))\n"
  "  end\n"
  "  for _, p in ipairs(bad) do\n"
  "    check('bad find ' .. p, pack(errs(string.find, s, p)), pack(errs(ts.find, s, p)))\n"
  "    check('bad gsub ' .. p, pack(errs(string.gsub, s, p, 'x')), pack(errs(ts.gsub, s, p, 'x')))\n"
  "  end\n"
  "end\n"
  "return n, bad_n\n";

static int t_print_stderr(lua_State *L)
{
  fprintf(stderr, "    %s\n", luaL_checkstring(L, 1));
  return 0;
}

static void test_sandbox__matcher_agrees_with_lua(void)
{
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  ts_match_install(L, -1);
  lua_setglobal(L, "ts");
  lua_pushcfunction(L, t_print_stderr);
  lua_setglobal(L, "print");
  CHECK_INT(luaL_loadstring(L, matcher_cases), LUA_OK);
  if (lua_pcall(L, 0, 2, 0) != LUA_OK) {
    fprintf(stderr, "    %s\n", lua_tostring(L, -1));
    CHECK(0);
  } else {
    printf("     %lld comparisons with Lua's matcher, %lld differ\n",
           (long long)lua_tointeger(L, -2), (long long)lua_tointeger(L, -1));
    CHECK(lua_tointeger(L, -2) > 20000);
    CHECK_INT(lua_tointeger(L, -1), 0);
  }
  lua_close(L);
}

/* ===== the facts sandbox.c's design rests on ===== */

static long allocs_of[512], frees_of[512];

static void *tracing_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
  (void)ud;
  if (nsize == 0) {
    if (p && osize < 512) frees_of[osize]++;
    free(p);
    return NULL;
  }
  if (!p && nsize < 512) allocs_of[nsize]++;
  return realloc(p, nsize);
}

/* sandbox.c locks frees of blocks of a CallInfo's size: that size is right (a
** recursion 300 deep makes 300 blocks of it), and CallInfos are freed even with
** the GC stopped (luaD_pcall shrinks them after a caught error), which is why
** stopping the GC would not do. */
static void test_sandbox__callinfo_facts(void)
{
  lua_State *L = lua_newstate(tracing_alloc, NULL);
  size_t ci = ts_sandbox_ci_size();
  luaL_openlibs(L);
  lua_gc(L, LUA_GCSTOP);
  memset(allocs_of, 0, sizeof allocs_of);
  memset(frees_of, 0, sizeof frees_of);
  CHECK_INT(luaL_dostring(L, "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end "
                             "return f(300)"), LUA_OK);
  CHECK(ci < 512 && allocs_of[ci] >= 300);
  memset(frees_of, 0, sizeof frees_of);
  CHECK_INT(luaL_dostring(L, "local function f(n) if n == 0 then error('x') end return 1 + f(n - 1) end "
                             "for i = 1, 10 do pcall(f, 1000) end"), LUA_OK);
  CHECK(ci < 512 && frees_of[ci] > 1000);
  lua_close(L);
}

int main(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  snprintf(hostile_dir, sizeof hostile_dir, "%s/tests/data/hostile", root ? root : "..");
  RUN(test_sandbox__hostile_scripts);
  RUN(test_sandbox__fresh_state_each_run);
  RUN(test_sandbox__binary_body_refused);
  RUN(test_sandbox__errors_carry_script_and_line);
  RUN(test_sandbox__results_as_text);
  RUN(test_sandbox__host_side_after_memory_limit);
  RUN(test_sandbox__limit_stays_broken);
  RUN(test_sandbox__defaults);
  RUN(test_sandbox__print_to_notes);
  RUN(test_sandbox__exact_count);
  RUN(test_sandbox__estimate_near_exact);
  RUN(test_sandbox__pattern_steps_counted);
  RUN(test_sandbox__host_time_excluded);
  RUN(test_sandbox__budget_is_deterministic);
  RUN(test_sandbox__cpu_time_limit);
  RUN(test_sandbox__concurrent);
  RUN(test_sandbox__allocation_failures);
  RUN(test_sandbox__matcher_agrees_with_lua);
  RUN(test_sandbox__callinfo_facts);
  TEST_EXIT();
}
