/*
** sandbox.c: the Lua sandbox (sandbox.h; docs/scripts.md, "The sandbox" and
** "Limits").
**
** A sandbox is one fresh lua_State per run, built by hand: the base library
** without dofile, loadfile, collectgarbage and warn, and string (without dump),
** table, math and utf8. Some functions are ours:
**   print         goes to the run's notes;
**   load          text only; a memory error or a broken limit inside it is raised;
**   pcall, xpcall cannot catch a broken limit (they raise it again); xpcall
**                 calls its handler after the stack has unwound, because Lua
**                 5.4.4 runs the handler of an error raised in a hook with hooks
**                 off, where a loop would never end;
**   setmetatable  refuses a metatable with __gc or __close (see below);
**   string.find, match, gmatch, gsub  the counted matcher (sandbox_match.c);
**   string.rep    returns at once for an empty result (Lua's loops n times
**                 copying nothing: ("").rep("", 1e15) never ends) and builds the
**                 result by doubling;
**   table.insert, remove, move  count the elements they shift (Lua's loop up
**                 to a length that __len or the arguments choose, 2^50 times,
**                 with no instruction in between for a hook to stop);
**   table.concat, unpack, sort  count the elements they read: each read may
**                 follow an __index chain 2000 tables deep in C (sort: Lua's
**                 own, on a raw copy when the table has a metatable).
** The string metatable's __metatable is false: getmetatable("") gives false,
** so a script reaches neither the metatable nor, through it, anything else.
**
** __gc and __close. On 5.4.4 finalizers run with hooks off, so a looping __gc
** would hang the thread (mid-run or in lua_close). Lua marks an object for
** finalization only in setmetatable, and only if the metatable then has a
** __gc field that is not nil ({__gc = false} marks it, and a function set into
** the field later is then called). So our setmetatable refuses any metatable
** whose raw __gc is not nil, and a __gc added afterwards is never called: the
** object was not marked (tested: gc-false-then-set.lua). __close is different: Lua
** looks it up when the variable is closed, so a metatable can gain it after
** setmetatable. We refuse metatables that carry it at setmetatable time (the
** plain case), and rely for the rest on where close handlers run here: with no
** coroutines, they run either when a block ends (hooks on) or when a protected
** call unwinds, and luaD_pcall gives hooks back before it closes variables. So
** a looping __close is stopped like any loop (close-added-later.lua,
** close-after-limit.lua, close-on-error.lua). Locking metatables would need a
** proxy, and a proxy metatable has no metamethods at all: not an option.
**
** The limits. Memory: the allocator refuses past the cap while the script runs
** (and allows 1 MiB more outside, so that the host reading results never makes
** Lua panic). Instructions, wall time and CPU time, by default: a count hook
** every EXACT_EVERY instructions counts exactly and checks the deadline (and
** every CPU_EVERY-th time the thread's CPU clock); host calls check all three
** (ts_sandbox_check). The count is the same on every machine and under any
** load or sanitizer; the price is Lua 5.4's trace path on every instruction
** once any count hook is set (about 2x on tight loops). No other thread
** touches the script's state.
** With TSHOOT_LIMITS_ESTIMATE instead, no hook runs until needed: a
** process-wide watchdog thread (started on first use, asleep when no script
** runs) looks at the running sandboxes every millisecond: wall time against
** the deadline, and the script thread's CPU time (pthread_getcpuclockid) times
** this machine's interpreter speed (calibrate(): a short loop of counted
** instructions, timed once per process) plus the matcher's and table
** functions' counted steps against the instruction budget. Only when one is
** passed does it arm a hook (lua_sethook(L, hook, LUA_MASKCOUNT, 1)), and the
** hook, on the script's own thread, checks again with the thread's own clock:
** a limit broken, or the hook disarms itself. The CPU time of long matches
** (their steps are counted instead) and of host calls between
** ts_sandbox_host_begin and _end is left out of the estimate. C code that no
** hook can interrupt (the matcher, the table functions) asks the meter
** (ts_sandbox_meter) every so many steps, in both modes; it checks the
** deadline and the budget itself.
**
** Why the watchdog (estimate mode only) may touch another thread's lua_State: lua_sethook writes the
** hook fields and walks L->ci back through `previous`, setting a trap flag on
** every Lua frame. The lua_State lives until ts_sandbox_free, and a sandbox is
** in the watchdog's list only while ts_sandbox_pcall runs. CallInfos are the
** risk: Lua frees the ones beyond L->ci in luaE_shrinkCI, which runs not only in
** the GC but also in luaD_pcall after every caught error (luaD_shrinkstack).
** Stopping the GC would not help (test callinfo_facts: with the GC
** stopped, a script of caught errors frees thousands of CallInfos). So the
** allocator frees every block of a CallInfo's size under the sandbox's lock,
** which the watchdog holds while lua_sethook runs: a CallInfo is freed either
** before the walk starts (then it is beyond L->ci and the walk cannot reach it)
** or after the walk ends. The GC runs as usual. (On a CPU with weak memory
** ordering a freshly linked CallInfo could in theory be seen before its
** `previous` field; x86-64 orders those stores, and Lua's own writes are
** separated by a function call. This is the one assumption left.)
**
** A limit once broken stays broken: the hook is re-armed with count 1 and
** raises on every instruction (as Redis does), our pcall, xpcall and load raise
** it again, the matcher and ts_sandbox_check (host functions) raise it, and
** ts_sandbox_pcall refuses to run anything more. Errors reach the host as text
** without any metamethod: an error object that is not a string or a number is
** described by its type.
*/
#include "tshoot_int.h"
#include "sandbox.h"
#include "sandbox_match.h"

#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { LIM_NONE = 0, LIM_MEMORY = 1, LIM_INSTRUCTIONS = 2, LIM_TIME = 3, LIM_CPU = 4 };

#define DEFAULT_MEMORY_KIB   16384u
#define DEFAULT_INSTRUCTIONS 10000000ull
#define DEFAULT_TIME_MS      2000
#define DEFAULT_CPU_MS       2000
#define CPU_EVERY            16               /* exact mode: read the CPU clock every 16th hook */
#define HOST_SLACK           (1024u * 1024u)  /* allowed past the cap outside a call */
#define EXACT_EVERY          1000             /* count hook interval, exact mode */
#define MAX_NOTES            100
#define MAX_NOTE             4096
#define TICK_NS              1000000L         /* the watchdog's period: 1 ms */
#define IDLE_TICKS           200              /* then it sleeps until a script runs */
#define OTHER_EVERY          256              /* table element accesses between two checks */

struct ts_sandbox {
  lua_State *L;
  char *name;                       /* the chunk's name, for messages */

  /* limits */
  size_t cap;                       /* bytes */
  unsigned long long max_instructions;
  long long time_ns;
  long long cpu_ns;                 /* CPU time of the script's thread */
  int exact;                        /* counting (the default), not TSHOOT_LIMITS_ESTIMATE */
  unsigned hook_calls;              /* exact mode: hooks since the CPU clock was read */

  /* memory (script thread only) */
  size_t used, peak;
  int capped;                       /* a call runs: the cap holds */
  int refused;                      /* the allocator refused something in this run */

  /* clocks */
  int started;
  long long start_ns, last_end_ns;  /* CLOCK_MONOTONIC */
  _Atomic long long deadline_ns;    /* read by the watchdog; moved on by a wait */
  long long wait_start_ns;          /* a wait for the person under way since, or 0 */
  long long cpu_prev_ns;            /* CPU time of the calls that ended */
  long long cpu_start_ns;           /* the thread's CPU clock when this call began */
  clockid_t cpu_clock;              /* the script thread's CPU clock */
  _Atomic long long excluded_ns;    /* CPU time not charged (long matches, host calls) */
  _Atomic long long excl_start_ns;  /* an exclusion under way since, or 0 */
  int excl_depth;
  int match_excl;                   /* the matcher's exclusion is open */
  unsigned long long counted;       /* exact mode: instructions counted by the hook */
  _Atomic unsigned long long steps; /* counted C work (matcher, table shifts) */
  _Atomic unsigned long long est;   /* last estimate of the VM instructions */

  /* state */
  _Atomic int broken;               /* LIM_* once a limit is broken */
  _Atomic int armed;                /* a one-shot hook is set (default mode) */
  int depth;                        /* nested ts_sandbox_pcall */
  char where[128];                  /* "name:line" of the error that ended the call */

  /* the watchdog */
  pthread_mutex_t lock;             /* lua_sethook from the watchdog; CallInfo frees */
  int watched;                      /* in the watchdog's list */
  ts_sandbox *wd_next, *wd_prev;

  /* notes */
  char **notes;
  size_t n_notes;
};

/* Registry keys of the limits' error messages (made at creation: raising
** them must not allocate). */
static const char limit_keys[5];
static const char *const limit_names[5] = { "", "memory", "instruction", "time", "CPU time" };

static long long mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long clock_ns(clockid_t c)
{
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) return -1;
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

/* ===== the allocator ===== */

/* Lua 5.4's CallInfo (lstate.h), to know its size: a freed block of this size
** may be a CallInfo that the watchdog is walking (see the top of the file;
** the test ci_size checks it against the real thing). */
struct ci_mirror {
  void *func, *top, *previous, *next;
  union {
    struct { const void *savedpc; volatile sig_atomic_t trap; int nextraargs; } l;
    struct { void *k; ptrdiff_t old_errfunc; intptr_t ctx; } c;
  } u;
  union {
    int funcidx, nyield, nres;
    struct { unsigned short ftransfer, ntransfer; } transferinfo;
  } u2;
  short nresults;
  unsigned short callstatus;
};

size_t ts_sandbox_ci_size(void) { return sizeof(struct ci_mirror); }

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  ts_sandbox *sb = ud;
  if (!ptr) osize = 0;
  if (nsize == 0) {
    if (ptr) {
      if (sb->watched && osize == sizeof(struct ci_mirror)) {
        pthread_mutex_lock(&sb->lock);
        ts_free(ptr);
        pthread_mutex_unlock(&sb->lock);
      } else {
        ts_free(ptr);
      }
      sb->used -= osize;
    }
    return NULL;
  }
  if (nsize > osize) {
    size_t limit = sb->capped ? sb->cap : sb->cap + HOST_SLACK, more = nsize - osize;
    void *np;
    if (more > limit || sb->used > limit - more) { sb->refused = 1; return NULL; }
    np = ts_realloc(ptr, nsize);
    if (!np) { sb->refused = 1; return NULL; }
    sb->used += more;
    if (sb->used > sb->peak) sb->peak = sb->used;
    return np;
  }
  {                                   /* shrinking: Lua takes it never to fail */
    void *np = realloc(ptr, nsize);
    sb->used -= osize - nsize;
    return np ? np : ptr;
  }
}

ts_sandbox *ts_sandbox_of(lua_State *L)
{
  void *ud;
  if (!L || lua_getallocf(L, &ud) != sb_alloc) return NULL;
  return ud;
}

lua_State *ts_sandbox_L(ts_sandbox *sb) { return sb ? sb->L : NULL; }

int ts_sandbox_broken(const ts_sandbox *sb) { return sb && atomic_load(&sb->broken) != 0; }

/* ===== calibration: this machine's interpreter speed ===== */

/* A mix of calls, arithmetic and table stores; its instructions are counted
** with a count hook (at 100 and 200 iterations), then it is timed. */
static const char calib_src[] =
  "local n = ...\n"
  "local t = {0, 0, 0, 0}\n"
  "local function f(a, b) return a + b end\n"
  "local x = 0\n"
  "for i = 1, n do\n"
  "  x = f(x, i) & 0xffff\n"
  "  t[(i & 3) + 1] = x\n"
  "end\n"
  "return x\n";
#define CALIB_N 30000                 /* ~1 ms a run */

static pthread_once_t calib_once = PTHREAD_ONCE_INIT;
static double g_speed = 0.3;          /* instructions per ns of CPU (fallback) */
static unsigned long calib_count;

static void calib_hook(lua_State *L, lua_Debug *ar) { (void)L; (void)ar; calib_count++; }

static void *plain_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
  (void)ud; (void)osize;
  if (nsize == 0) { free(p); return NULL; }
  return realloc(p, nsize);
}

static int calib_run(lua_State *L, int n)
{
  lua_pushvalue(L, 1);
  lua_pushinteger(L, n);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) { lua_pop(L, 1); return -1; }
  return 0;
}

static void calibrate(void)
{
  lua_State *L = lua_newstate(plain_alloc, NULL);
  unsigned long c100, c200;
  double per, fixed, best = 0;
  int r;
  if (!L) return;
  if (luaL_loadbufferx(L, calib_src, sizeof calib_src - 1, "=calibrate", "t") != LUA_OK) goto out;
  lua_sethook(L, calib_hook, LUA_MASKCOUNT, 1);
  calib_count = 0;
  if (calib_run(L, 100)) goto out;
  c100 = calib_count;
  calib_count = 0;
  if (calib_run(L, 200)) goto out;
  c200 = calib_count;
  lua_sethook(L, NULL, 0, 0);
  per = (double)(c200 - c100) / 100.0;
  fixed = (double)c100 - 100.0 * per;
  for (r = 0; r < 3; r++) {
    long long t0 = thread_cpu_ns(), t;
    if (calib_run(L, CALIB_N)) goto out;
    t = thread_cpu_ns() - t0;
    if (t > 0 && (best == 0 || t < best)) best = (double)t;
  }
  if (best > 0 && per > 0) g_speed = (fixed + per * CALIB_N) / best;
out:
  lua_close(L);
}

double ts_sandbox_speed(void)
{
  pthread_once(&calib_once, calibrate);
  return g_speed * 1e3;
}

/* ===== counting ===== */

/* CPU time not charged: starts and ends nest; an error in between is closed
** by the catcher (excl_reset). */
static void excl_begin(ts_sandbox *sb)
{
  if (sb->excl_depth++ == 0) atomic_store(&sb->excl_start_ns, thread_cpu_ns());
}

static void excl_end(ts_sandbox *sb)
{
  if (sb->excl_depth == 0) return;
  if (--sb->excl_depth == 0) {
    long long t0 = atomic_exchange(&sb->excl_start_ns, 0);
    if (t0 > 0) atomic_fetch_add(&sb->excluded_ns, thread_cpu_ns() - t0);
  }
}

static void excl_reset(ts_sandbox *sb)
{
  sb->match_excl = 0;
  if (sb->excl_depth > 0) {
    sb->excl_depth = 1;
    excl_end(sb);
  }
}

/* VM instructions, estimated from the script thread's CPU time `cpu_now`
** (read from any thread). */
static unsigned long long estimate(ts_sandbox *sb, long long cpu_now)
{
  long long cpu = sb->cpu_prev_ns + (cpu_now - sb->cpu_start_ns) - atomic_load(&sb->excluded_ns);
  long long t0 = atomic_load(&sb->excl_start_ns);
  if (t0 > 0 && cpu_now > t0) cpu -= cpu_now - t0;
  if (cpu < 0) cpu = 0;
  return (unsigned long long)((double)cpu * g_speed);
}

/* All instructions so far, measured now on the script thread. */
static unsigned long long total_now(ts_sandbox *sb)
{
  unsigned long long n = atomic_load(&sb->steps);
  if (sb->exact) return n + sb->counted;
  if (sb->depth > 0) atomic_store(&sb->est, estimate(sb, thread_cpu_ns()));
  return n + atomic_load(&sb->est);
}

/* CPU time of the script's thread in its calls so far (script thread). */
static long long cpu_used(ts_sandbox *sb)
{
  return sb->cpu_prev_ns + (sb->depth > 0 ? thread_cpu_ns() - sb->cpu_start_ns : 0);
}

/* The limit broken now, or LIM_NONE (script thread). The CPU clock costs a
** system call, so the count hook reads it only every CPU_EVERY-th time. */
static int limits_check_cpu(ts_sandbox *sb, int with_cpu)
{
  if (mono_ns() >= sb->deadline_ns) return LIM_TIME;
  if (total_now(sb) > sb->max_instructions) return LIM_INSTRUCTIONS;
  if (with_cpu && cpu_used(sb) > sb->cpu_ns) return LIM_CPU;
  return LIM_NONE;
}

static int limits_check(ts_sandbox *sb) { return limits_check_cpu(sb, 1); }

static void sb_hook(lua_State *L, lua_Debug *ar);

/* Break limit `lim` for good (script thread): from now on every instruction
** raises it. */
static void break_limit(ts_sandbox *sb, int lim)
{
  int none = LIM_NONE;
  if (!atomic_compare_exchange_strong(&sb->broken, &none, lim)) return;
  if (sb->depth == 0) return;          /* outside a call no hook may raise */
  pthread_mutex_lock(&sb->lock);
  lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, 1);
  atomic_store(&sb->armed, 1);
  pthread_mutex_unlock(&sb->lock);
}

static int raise_limit(lua_State *L, ts_sandbox *sb)
{
  lua_rawgetp(L, LUA_REGISTRYINDEX, &limit_keys[atomic_load(&sb->broken)]);
  return lua_error(L);
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  int lim;
  (void)ar;
  if (!sb) return;
  if (atomic_load(&sb->broken)) { raise_limit(L, sb); return; }
  if (sb->exact) {
    sb->counted += EXACT_EVERY;
    lim = limits_check_cpu(sb, ++sb->hook_calls % CPU_EVERY == 0);
  } else {
    lim = limits_check(sb);
  }
  if (lim) {
    break_limit(sb, lim);
    raise_limit(L, sb);
    return;
  }
  if (!sb->exact) {                    /* a false alarm: disarm */
    pthread_mutex_lock(&sb->lock);
    if (!atomic_load(&sb->broken)) lua_sethook(L, NULL, 0, 0);
    atomic_store(&sb->armed, 0);
    pthread_mutex_unlock(&sb->lock);
  }
}

int ts_sandbox_meter(void *ud, unsigned long n, int how)
{
  ts_sandbox *sb = ud;
  unsigned long long total;
  atomic_fetch_add_explicit(&sb->steps, n, memory_order_relaxed);
  if (atomic_load(&sb->broken)) return 1;
  if (sb->depth == 0) return 0;
  switch (how) {
  case TS_CHARGE_MATCH:                /* a long match: its CPU time is counted as steps */
    if (!sb->exact && !sb->match_excl) { sb->match_excl = 1; excl_begin(sb); }
    break;
  case TS_CHARGE_MATCH_END:
    if (!sb->match_excl) return 0;     /* a short call: the watchdog will see its steps */
    sb->match_excl = 0;
    excl_end(sb);
    break;
  default:
    if (n < OTHER_EVERY) return 0;
    break;
  }
  if (mono_ns() >= sb->deadline_ns) { break_limit(sb, LIM_TIME); return 1; }
  total = atomic_load(&sb->steps) + (sb->exact ? sb->counted : atomic_load(&sb->est));
  if (total > sb->max_instructions) {  /* the estimate may be old: look again */
    int lim = limits_check(sb);
    if (lim) { break_limit(sb, lim); return 1; }
  }
  return 0;
}

int ts_sandbox_check(lua_State *L)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  if (!sb) return 0;
  if (!atomic_load(&sb->broken) && sb->depth > 0) {
    int lim = LIM_NONE;
    if (mono_ns() >= sb->deadline_ns) lim = LIM_TIME;
    else if (atomic_load(&sb->armed) || sb->exact) lim = limits_check(sb);
    if (lim) break_limit(sb, lim);
  }
  if (atomic_load(&sb->broken)) return raise_limit(L, sb);
  return 0;
}

void ts_sandbox_host_begin(lua_State *L)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  if (sb && sb->depth > 0 && !sb->exact) excl_begin(sb);
}

void ts_sandbox_host_end(lua_State *L)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  if (sb && sb->depth > 0 && !sb->exact) excl_end(sb);
}

/* A wait for the person (host.ui.confirm) is not the script's time: the
** deadline moves on by as long as the wait took. The watchdog may see the old
** deadline pass meanwhile and arm the hook; the hook re-checks on this thread,
** after the wait, against the moved deadline. */
void ts_sandbox_wait_begin(lua_State *L)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  if (sb && sb->depth > 0 && !sb->wait_start_ns) sb->wait_start_ns = mono_ns();
  ts_sandbox_host_begin(L);
}

void ts_sandbox_wait_end(lua_State *L)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  ts_sandbox_host_end(L);
  if (sb && sb->wait_start_ns) {
    long long waited = mono_ns() - sb->wait_start_ns;
    sb->wait_start_ns = 0;
    if (waited > 0) atomic_fetch_add(&sb->deadline_ns, waited);
  }
}

/* ===== the watchdog ===== */

static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cv = PTHREAD_COND_INITIALIZER;
static ts_sandbox *wd_list;            /* the running sandboxes */
static int wd_alive;                   /* the thread exists */
static int wd_waiting;                 /* it waits on wd_cv */
static pthread_once_t wd_fork_once = PTHREAD_ONCE_INIT;

static void wd_tick(void)
{
  ts_sandbox *sb;
  long long now = mono_ns();
  for (sb = wd_list; sb; sb = sb->wd_next) {
    int lim = LIM_NONE;
    if (atomic_load(&sb->broken) || atomic_load(&sb->armed)) continue;
    if (now >= sb->deadline_ns) {
      lim = LIM_TIME;
    } else {
      long long cpu = clock_ns(sb->cpu_clock);
      if (cpu >= 0) {
        unsigned long long est = estimate(sb, cpu);
        atomic_store(&sb->est, est);
        if (est + atomic_load(&sb->steps) > sb->max_instructions) lim = LIM_INSTRUCTIONS;
      }
    }
    if (lim) {                         /* the hook will check on the script's thread */
      pthread_mutex_lock(&sb->lock);
      atomic_store(&sb->armed, 1);
      lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, 1);
      pthread_mutex_unlock(&sb->lock);
    }
  }
}

static void *wd_main(void *arg)
{
  int idle = 0;
  (void)arg;
  pthread_mutex_lock(&wd_mu);
  for (;;) {
    struct timespec ts = { 0, TICK_NS };
    if (wd_list) {
      idle = 0;
      wd_tick();
    } else if (++idle > IDLE_TICKS) {
      wd_waiting = 1;
      while (!wd_list) pthread_cond_wait(&wd_cv, &wd_mu);
      wd_waiting = 0;
      idle = 0;
      continue;
    }
    pthread_mutex_unlock(&wd_mu);
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&wd_mu);
  }
  return NULL;
}

/* In a child of fork() the thread is gone: start another when needed. */
static void wd_atfork_child(void)
{
  pthread_mutex_init(&wd_mu, NULL);
  pthread_cond_init(&wd_cv, NULL);
  wd_list = NULL;
  wd_alive = 0;
  wd_waiting = 0;
}

static void wd_fork_setup(void) { pthread_atfork(NULL, NULL, wd_atfork_child); }

/* Put sb in the watchdog's list. -1 if there can be no watchdog. */
static int wd_register(ts_sandbox *sb)
{
  pthread_once(&wd_fork_once, wd_fork_setup);
  pthread_mutex_lock(&wd_mu);
  if (!wd_alive) {
    pthread_t t;
    pthread_attr_t a;
    int ok = pthread_attr_init(&a) == 0;
    if (ok) {
      pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
      pthread_attr_setstacksize(&a, 256u * 1024u);
      ok = pthread_create(&t, &a, wd_main, NULL) == 0;
      pthread_attr_destroy(&a);
    }
    if (!ok) { pthread_mutex_unlock(&wd_mu); return -1; }
    wd_alive = 1;
  }
  sb->wd_prev = NULL;
  sb->wd_next = wd_list;
  if (wd_list) wd_list->wd_prev = sb;
  wd_list = sb;
  sb->watched = 1;
  if (wd_waiting) pthread_cond_signal(&wd_cv);
  pthread_mutex_unlock(&wd_mu);
  return 0;
}

static void wd_unregister(ts_sandbox *sb)
{
  pthread_mutex_lock(&wd_mu);
  if (sb->wd_prev) sb->wd_prev->wd_next = sb->wd_next;
  else wd_list = sb->wd_next;
  if (sb->wd_next) sb->wd_next->wd_prev = sb->wd_prev;
  sb->wd_next = sb->wd_prev = NULL;
  sb->watched = 0;
  pthread_mutex_unlock(&wd_mu);
}

/* ===== the functions scripts see ===== */

/* A caught error (our pcall, xpcall, load): a broken limit, or a memory error
** (which breaks the memory limit), is raised again. */
static int is_memory_error(lua_State *L, ts_sandbox *sb, int status)
{
  if (status == LUA_ERRMEM) return 1;
  /* luaL_Buffer calls the allocator itself and raises a plain error */
  return sb->refused && lua_type(L, -1) == LUA_TSTRING &&
         strcmp(lua_tostring(L, -1), "not enough memory") == 0;
}

static void caught(lua_State *L, int status)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  if (!sb || status == LUA_OK) return;
  excl_reset(sb);
  if (is_memory_error(L, sb, status)) break_limit(sb, LIM_MEMORY);
  if (atomic_load(&sb->broken)) raise_limit(L, sb);
}

static int sb_pcall(lua_State *L)
{
  int status;
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);                    /* true, f, args... */
  status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
  caught(L, status);
  if (status == LUA_OK) return lua_gettop(L);
  lua_pushboolean(L, 0);
  lua_pushvalue(L, -2);
  return 2;
}

static int sb_xpcall(lua_State *L)
{
  int n = lua_gettop(L), status;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);                 /* f, h, true, f, args... */
  status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
  caught(L, status);
  if (status == LUA_OK) return lua_gettop(L) - 2;
  /* the handler, now that the stack has unwound: with hooks on */
  lua_pushvalue(L, 2);
  lua_insert(L, -2);
  status = lua_pcall(L, 1, 1, 0);
  caught(L, status);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

static const char *load_reader(lua_State *L, void *ud, size_t *size)
{
  (void)ud;
  luaL_checkstack(L, 2, "too many nested functions");
  lua_pushvalue(L, 1);
  lua_call(L, 0, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    *size = 0;
    return NULL;
  }
  if (!lua_isstring(L, -1)) luaL_error(L, "reader function must return a string");
  lua_replace(L, 5);                   /* keep the piece alive */
  return lua_tolstring(L, 5, size);
}

static int sb_load(lua_State *L)
{
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  const char *mode = luaL_optstring(L, 3, "bt");
  int env = !lua_isnone(L, 4) ? 4 : 0, status;
  if (!strchr(mode, 't')) {
    luaL_pushfail(L);
    lua_pushliteral(L, "binary chunks cannot be loaded in the sandbox");
    return 2;
  }
  if (s) {
    status = luaL_loadbufferx(L, s, len, luaL_optstring(L, 2, s), "t");
  } else {
    const char *name = luaL_optstring(L, 2, "=(load)");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 5);
    status = lua_load(L, load_reader, NULL, name, "t");
  }
  caught(L, status);
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (env) {
    lua_pushvalue(L, env);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

static int sb_setmetatable(lua_State *L)
{
  static const char *const refused[] = { "__gc", "__close" };
  int t = lua_type(L, 2);
  size_t i;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE) {
    for (i = 0; i < TS_ARRAY_LEN(refused); i++) {
      lua_pushstring(L, refused[i]);
      if (lua_rawget(L, 2) != LUA_TNIL) {
        lua_pushfstring(L, "metatables with %s are not allowed in the sandbox", refused[i]);
        return luaL_argerror(L, 2, lua_tostring(L, -1));
      }
      lua_pop(L, 1);
    }
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

static int sb_print(lua_State *L)
{
  int i, n = lua_gettop(L);
  size_t len;
  const char *s;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  s = lua_tolstring(L, -1, &len);
  ts_sandbox_add_note(ts_sandbox_of(L), s, len);
  return 0;
}

/* string.rep: "" at once when nothing is to be repeated; the copies by
** doubling. */
static int sb_rep(lua_State *L)
{
  size_t l, lsep, unit, total, done;
  const char *s = luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  const char *sep = luaL_optlstring(L, 3, "", &lsep);
  const size_t max = (size_t)LUA_MAXINTEGER < SIZE_MAX ? (size_t)LUA_MAXINTEGER : SIZE_MAX;
  luaL_Buffer b;
  char *p;
  if (n <= 0 || (l == 0 && (lsep == 0 || n == 1))) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (n == 1) {
    lua_pushvalue(L, 1);
    return 1;
  }
  if (l + lsep < l || l + lsep > max / (lua_Unsigned)n)
    return luaL_error(L, "resulting string too large");
  unit = l + lsep;
  total = (size_t)n * unit - lsep;
  p = luaL_buffinitsize(L, &b, total);
  memcpy(p, s, l);
  memcpy(p + l, sep, lsep);
  for (done = unit; done < total; ) {
    size_t k = total - done < done ? total - done : done;
    memcpy(p + done, p, k);
    done += k;
  }
  luaL_pushresultsize(&b, total);
  return 1;
}

/* Counted element accesses for the table functions: each lua_geti/lua_seti
** may follow an __index chain 2000 tables deep in C, so the meter (deadline,
** budget) is asked every OTHER_EVERY accesses. */
typedef struct mover { ts_sandbox *sb; lua_State *L; unsigned long n; } mover;

static void meter_one(mover *mv)
{
  if (++mv->n == OTHER_EVERY) {
    mv->n = 0;
    if (mv->sb && ts_sandbox_meter(mv->sb, OTHER_EVERY, TS_CHARGE_OTHER)) ts_sandbox_check(mv->L);
  }
}

static void move_one(mover *mv, int from_t, lua_Integer from, int to_t, lua_Integer to)
{
  meter_one(mv);
  lua_geti(mv->L, from_t, from);
  lua_seti(mv->L, to_t, to);
}

static void move_done(mover *mv)
{
  if (mv->sb && mv->n) atomic_fetch_add_explicit(&mv->sb->steps, mv->n, memory_order_relaxed);
  mv->n = 0;
}

static int sb_tinsert(lua_State *L)
{
  mover mv = { ts_sandbox_of(L), L, 0 };
  lua_Integer e, pos, i;
  luaL_checktype(L, 1, LUA_TTABLE);
  e = (lua_Integer)((lua_Unsigned)luaL_len(L, 1) + 1u);    /* the first free slot */
  switch (lua_gettop(L)) {
  case 2:
    pos = e;
    break;
  case 3:
    pos = luaL_checkinteger(L, 2);
    luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
    for (i = e; i > pos; i--) move_one(&mv, 1, i - 1, 1, i);
    move_done(&mv);
    break;
  default:
    return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, pos);
  return 0;
}

static int sb_tremove(lua_State *L)
{
  mover mv = { ts_sandbox_of(L), L, 0 };
  lua_Integer size, pos;
  luaL_checktype(L, 1, LUA_TTABLE);
  size = luaL_len(L, 1);
  pos = luaL_optinteger(L, 2, size);
  if (pos != size)
    luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
  lua_geti(L, 1, pos);
  for (; pos < size; pos++) move_one(&mv, 1, pos + 1, 1, pos);
  move_done(&mv);
  lua_pushnil(L);
  lua_seti(L, 1, pos);
  return 1;
}

static int sb_tmove(lua_State *L)
{
  mover mv = { ts_sandbox_of(L), L, 0 };
  lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
  lua_Integer t = luaL_checkinteger(L, 4), n, i;
  int tt = !lua_isnoneornil(L, 5) ? 5 : 1;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, tt, LUA_TTABLE);
  if (e >= f) {
    luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
    n = e - f + 1;
    luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
    if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
      for (i = 0; i < n; i++) move_one(&mv, 1, f + i, tt, t + i);
    } else {
      for (i = n - 1; i >= 0; i--) move_one(&mv, 1, f + i, tt, t + i);
    }
    move_done(&mv);
  }
  lua_pushvalue(L, tt);
  return 1;
}

static int sb_tconcat(lua_State *L)
{
  mover mv = { ts_sandbox_of(L), L, 0 };
  luaL_Buffer b;
  size_t lsep;
  lua_Integer last, i;
  const char *sep;
  luaL_checktype(L, 1, LUA_TTABLE);
  last = luaL_len(L, 1);
  sep = luaL_optlstring(L, 2, "", &lsep);
  i = luaL_optinteger(L, 3, 1);
  last = luaL_optinteger(L, 4, last);
  luaL_buffinit(L, &b);
  for (; i <= last; i++) {
    meter_one(&mv);
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1))
      return luaL_error(L, "invalid value (at index %I) in table for 'concat'", (LUAI_UACINT)i);
    luaL_addvalue(&b);
    if (i == last) break;                   /* no i + 1 past LUA_MAXINTEGER */
    luaL_addlstring(&b, sep, lsep);
  }
  move_done(&mv);
  luaL_pushresult(&b);
  return 1;
}

static int sb_tunpack(lua_State *L)
{
  mover mv = { ts_sandbox_of(L), L, 0 };
  lua_Integer i = luaL_optinteger(L, 2, 1);
  lua_Integer e = luaL_opt(L, luaL_checkinteger, 3, luaL_len(L, 1));
  lua_Unsigned n;
  if (i > e) return 0;
  n = (lua_Unsigned)e - (lua_Unsigned)i;
  if (n >= (unsigned int)INT_MAX || !lua_checkstack(L, (int)(++n)))
    return luaL_error(L, "too many results to unpack");
  for (;; i++) {
    meter_one(&mv);
    lua_geti(L, 1, i);
    if (i == e) break;
  }
  move_done(&mv);
  return (int)n;
}

/* table.sort: Lua's own (upvalue 1) for a plain table; for a table with a
** metatable, Lua's own on a raw copy, read and written back with counted
** accesses (Lua's reads them in its C loop: through a 2000-deep __index chain,
** 200,000 elements took 49 s that no hook could stop). */
static int sb_tsort(lua_State *L)
{
  mover mv = { ts_sandbox_of(L), L, 0 };
  lua_Integer n, i;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  if (!lua_getmetatable(L, 1)) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 0);
    return 0;
  }
  lua_pop(L, 1);
  n = luaL_len(L, 1);
  luaL_argcheck(L, n < INT_MAX, 1, "array too big");
  if (n < 2) return 0;
  lua_createtable(L, (int)n, 0);            /* 3: the copy */
  for (i = 1; i <= n; i++) {
    meter_one(&mv);
    lua_geti(L, 1, i);
    lua_rawseti(L, 3, i);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 0);
  for (i = 1; i <= n; i++) {
    meter_one(&mv);
    lua_rawgeti(L, 3, i);
    lua_seti(L, 1, i);
  }
  move_done(&mv);
  return 0;
}

/* Build the environment (in protected mode: a real out-of-memory is an error,
** not a panic). */
static int sb_setup(lua_State *L)
{
  static const char *const dropped[] = { "dofile", "loadfile", "collectgarbage", "warn", "require" };
  static const luaL_Reg base[] = {
    { "print", sb_print }, { "load", sb_load }, { "pcall", sb_pcall }, { "xpcall", sb_xpcall },
    { "setmetatable", sb_setmetatable }, { NULL, NULL }
  };
  static const luaL_Reg table[] = {
    { "insert", sb_tinsert }, { "remove", sb_tremove }, { "move", sb_tmove },
    { "concat", sb_tconcat }, { "unpack", sb_tunpack }, { NULL, NULL }
  };
  size_t i;

  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  for (i = 0; i < TS_ARRAY_LEN(dropped); i++) {
    lua_pushnil(L);
    lua_setfield(L, -2, dropped[i]);
  }
  luaL_setfuncs(L, base, 0);
  lua_pop(L, 1);

  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pushcfunction(L, sb_rep);
  lua_setfield(L, -2, "rep");
  ts_match_install(L, -1);
  lua_pop(L, 1);

  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_setfuncs(L, table, 0);
  lua_getfield(L, -1, "sort");
  lua_pushcclosure(L, sb_tsort, 1);
  lua_setfield(L, -2, "sort");
  lua_pop(L, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  lua_pop(L, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_pop(L, 1);

  /* getmetatable("") gives false: the metatable stays out of reach */
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  for (i = 1; i < TS_ARRAY_LEN(limit_keys); i++) {
    lua_pushfstring(L, "%s limit broken", limit_names[i]);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &limit_keys[i]);
  }
  return 0;
}

static int sb_panic(lua_State *L)
{
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
  fprintf(stderr, "tshoot: unprotected error in the script sandbox (a bug): %s\n", msg);
  return 0;                            /* Lua aborts */
}

/* ===== the host's side ===== */

int ts_sandbox_new(ts_sandbox **out, const tshoot_limits *lim)
{
  ts_sandbox *sb;
  size_t kib;
  TS_CHECK_ARG(out);
  *out = NULL;
  TS_CHECK_OPTIONS(lim, TSHOOT_LIMITS_VERSION);
  sb = ts_calloc(1, sizeof *sb);
  if (!sb) return ts_error_oom();
  kib = lim && lim->memory_kib ? lim->memory_kib : DEFAULT_MEMORY_KIB;
  sb->cap = kib > SIZE_MAX / 2048 ? SIZE_MAX / 2 : kib * 1024;
  sb->max_instructions = lim && lim->instructions ? lim->instructions : DEFAULT_INSTRUCTIONS;
  sb->time_ns = (long long)(lim && lim->time_ms > 0 ? lim->time_ms : DEFAULT_TIME_MS) * 1000000LL;
  sb->cpu_ns = (long long)(lim && lim->version >= 2 && lim->cpu_ms > 0 ? lim->cpu_ms : DEFAULT_CPU_MS) * 1000000LL;
  sb->exact = !(lim && (lim->flags & TSHOOT_LIMITS_ESTIMATE));
  if (pthread_mutex_init(&sb->lock, NULL) != 0) {
    ts_free(sb);
    return ts_error_oom();
  }
  sb->L = lua_newstate(sb_alloc, sb);
  if (!sb->L) {
    pthread_mutex_destroy(&sb->lock);
    ts_free(sb);
    return ts_error(TSHOOT_ENOMEM, "cannot create a script sandbox: out of memory");
  }
  lua_atpanic(sb->L, sb_panic);
  lua_pushcfunction(sb->L, sb_setup);
  if (lua_pcall(sb->L, 0, 0, 0) != LUA_OK) {
    ts_sandbox_free(sb);
    return ts_error(TSHOOT_ENOMEM, "cannot create a script sandbox: out of memory");
  }
  *out = sb;
  return TSHOOT_OK;
}

int ts_sandbox_load(ts_sandbox *sb, const char *name, const char *body, size_t len)
{
  lua_State *L = sb->L;
  char *chunk;
  int status;
  if (!name) name = "script";
  ts_free(sb->name);
  sb->name = ts_strdup(name);
  chunk = ts_malloc(strlen(name) + 2);
  if (!sb->name || !chunk || !lua_checkstack(L, 1)) {
    ts_free(chunk);
    return ts_error_oom();
  }
  chunk[0] = '=';
  strcpy(chunk + 1, name);
  status = luaL_loadbufferx(L, body, len, chunk, "t");
  ts_free(chunk);
  if (status == LUA_OK) return TSHOOT_OK;
  if (status == LUA_ERRMEM) {
    lua_pop(L, 1);
    return ts_error(TSHOOT_ELIMIT, "script '%s' is too large for its memory limit (%zu KiB)",
                    name, sb->cap / 1024);
  }
  status = ts_error(TSHOOT_ERROR, "%s",
                    lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "cannot load the script");
  lua_pop(L, 1);
  return status;
}

/* The message handler of a call: remember where the error happened (the
** innermost Lua frame), as text; never touches the error object. */
static int sb_msgh(lua_State *L)
{
  ts_sandbox *sb = ts_sandbox_of(L);
  lua_Debug ar;
  int level;
  if (!sb || sb->where[0]) return 1;
  for (level = 0; level < 32 && lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar)) break;
    if (ar.currentline > 0) {
      snprintf(sb->where, sizeof sb->where, "%s:%d", ar.short_src, ar.currentline);
      break;
    }
  }
  return 1;
}

static void call_begin(ts_sandbox *sb)
{
  lua_State *L = sb->L;
  if (!sb->started) {
    sb->started = 1;
    sb->start_ns = mono_ns();
    sb->deadline_ns = sb->start_ns + sb->time_ns;
  }
  sb->where[0] = '\0';
  sb->refused = 0;
  sb->capped = 1;
  if (!sb->exact) {
    pthread_once(&calib_once, calibrate);
    if (pthread_getcpuclockid(pthread_self(), &sb->cpu_clock) != 0) sb->exact = 1;
  }
  sb->cpu_start_ns = thread_cpu_ns();
  if (!sb->exact && wd_register(sb) != 0) sb->exact = 1;   /* no thread: count instead */
  if (sb->exact) lua_sethook(L, sb_hook, LUA_MASKCOUNT, EXACT_EVERY);
}

static void call_end(ts_sandbox *sb)
{
  excl_reset(sb);
  if (sb->watched) {
    long long cpu = thread_cpu_ns();
    wd_unregister(sb);
    atomic_store(&sb->est, estimate(sb, cpu));
    sb->cpu_prev_ns += cpu - sb->cpu_start_ns;
    sb->cpu_start_ns = cpu;
  } else {
    long long cpu = thread_cpu_ns();
    sb->cpu_prev_ns += cpu - sb->cpu_start_ns;
    sb->cpu_start_ns = cpu;
  }
  lua_sethook(sb->L, NULL, 0, 0);      /* no hook may raise outside a call */
  atomic_store(&sb->armed, 0);
  sb->capped = 0;
  sb->last_end_ns = mono_ns();
}

/* Does the message start with a position ("name:12: ...")? */
static int has_position(const char *s)
{
  const char *c;
  for (c = s; *c && *c != '\n'; c++) {
    if (*c == ':' && c[1] >= '0' && c[1] <= '9') {
      const char *d = c + 1;
      while (*d >= '0' && *d <= '9') d++;
      if (*d == ':') return 1;
    }
  }
  return 0;
}

/* Describe the error object at the top without any metamethod. */
static int script_error(ts_sandbox *sb)
{
  lua_State *L = sb->L;
  const char *at = sb->where[0] ? sb->where : (sb->name ? sb->name : "script");
  char num[64];
  int t = lua_type(L, -1);
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    const char *s;
    if (t == LUA_TSTRING) {
      s = lua_tostring(L, -1);
    } else {
      if (lua_isinteger(L, -1)) snprintf(num, sizeof num, LUA_INTEGER_FMT, lua_tointeger(L, -1));
      else snprintf(num, sizeof num, LUA_NUMBER_FMT, lua_tonumber(L, -1));
      s = num;
    }
    if (has_position(s)) return ts_error(TSHOOT_ERROR, "%s", s);
    return ts_error(TSHOOT_ERROR, "%s: %s", at, s);
  }
  return ts_error(TSHOOT_ERROR, "%s: error object is a %s value", at, lua_typename(L, t));
}

static int limit_error(ts_sandbox *sb)
{
  const char *name = sb->name ? sb->name : "script";
  const char *at = sb->where[0] ? " at " : "";
  switch (atomic_load(&sb->broken)) {
  case LIM_MEMORY:
    return ts_error(TSHOOT_ELIMIT, "script '%s' broke its memory limit (%zu KiB)%s%s",
                    name, sb->cap / 1024, at, sb->where);
  case LIM_INSTRUCTIONS:
    return ts_error(TSHOOT_ELIMIT, "script '%s' broke its instruction limit (%llu instructions)%s%s",
                    name, sb->max_instructions, at, sb->where);
  case LIM_CPU:
    return ts_error(TSHOOT_ELIMIT, "script '%s' broke its CPU time limit (%lld ms)%s%s",
                    name, sb->cpu_ns / 1000000LL, at, sb->where);
  default:
    return ts_error(TSHOOT_ELIMIT, "script '%s' broke its time limit (%lld ms)%s%s",
                    name, sb->time_ns / 1000000LL, at, sb->where);
  }
}

int ts_sandbox_pcall(ts_sandbox *sb, int nargs, int nresults)
{
  lua_State *L = sb->L;
  int fn = lua_gettop(L) - nargs, status, outer = sb->depth == 0;
  if (atomic_load(&sb->broken)) {
    lua_settop(L, fn - 1);
    return limit_error(sb);
  }
  if (!lua_checkstack(L, 1)) {
    lua_settop(L, fn - 1);
    return ts_error_oom();
  }
  lua_pushcfunction(L, sb_msgh);
  lua_insert(L, fn);                   /* handler, function, args */
  if (outer) call_begin(sb);
  sb->depth++;
  status = lua_pcall(L, nargs, nresults, fn);
  sb->depth--;
  if (outer) call_end(sb);
  lua_remove(L, fn);
  if (status != LUA_OK && !atomic_load(&sb->broken) && is_memory_error(L, sb, status))
    atomic_store(&sb->broken, LIM_MEMORY);
  if (atomic_load(&sb->broken)) {
    lua_settop(L, fn - 1);
    return limit_error(sb);
  }
  if (status == LUA_OK) return TSHOOT_OK;
  status = script_error(sb);
  lua_settop(L, fn - 1);
  return status;
}

int ts_sandbox_tostring(ts_sandbox *sb, int idx, char **out)
{
  lua_State *L = sb->L;
  char buf[64];
  const char *s = NULL;
  size_t len = 0;
  *out = NULL;
  switch (lua_type(L, idx)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &len);  /* a string already: no allocation */
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      snprintf(buf, sizeof buf, LUA_INTEGER_FMT, lua_tointeger(L, idx));
    } else {
      size_t n;
      snprintf(buf, sizeof buf, LUA_NUMBER_FMT, lua_tonumber(L, idx));
      n = strlen(buf);
      if (buf[strspn(buf, "-0123456789")] == '\0' && n + 2 < sizeof buf) strcpy(buf + n, ".0");
    }
    s = buf;
    len = strlen(buf);
    break;
  case LUA_TBOOLEAN:
    s = lua_toboolean(L, idx) ? "true" : "false";
    len = strlen(s);
    break;
  default:
    return ts_error(TSHOOT_EINVALID, "a %s value is not text", luaL_typename(L, idx));
  }
  *out = ts_strndup(s, len);
  return *out ? TSHOOT_OK : ts_error_oom();
}

void ts_sandbox_stats(const ts_sandbox *sb, double *elapsed_ms,
                      unsigned long long *instructions, size_t *memory_peak)
{
  ts_sandbox *m = (ts_sandbox *)sb;
  if (elapsed_ms) {
    long long end = sb->depth > 0 ? mono_ns() : sb->last_end_ns;
    *elapsed_ms = sb->started ? (double)(end - sb->start_ns) / 1e6 : 0.0;
  }
  if (instructions)
    *instructions = atomic_load(&m->steps) + (sb->exact ? sb->counted : atomic_load(&m->est));
  if (memory_peak) *memory_peak = sb->peak;
}

void ts_sandbox_notes(const ts_sandbox *sb, const char *const **notes, size_t *n)
{
  *notes = (const char *const *)sb->notes;
  *n = sb->n_notes;
}

int ts_sandbox_add_note(ts_sandbox *sb, const char *text, size_t len)
{
  char *note;
  if (!sb) return ts_error(TSHOOT_EINVALID, "ts_sandbox_add_note: no sandbox");
  if (sb->n_notes >= MAX_NOTES) return TSHOOT_OK;          /* dropped */
  if (!sb->notes) {
    sb->notes = ts_calloc(MAX_NOTES, sizeof *sb->notes);
    if (!sb->notes) return ts_error_oom();
  }
  if (len > MAX_NOTE) {                /* cut, but not inside a UTF-8 sequence */
    len = MAX_NOTE;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
  }
  note = ts_strndup(text, len);
  if (!note) return ts_error_oom();
  sb->notes[sb->n_notes++] = note;
  return TSHOOT_OK;
}

void ts_sandbox_free(ts_sandbox *sb)
{
  size_t i;
  if (!sb) return;
  if (sb->L) lua_close(sb->L);
  for (i = 0; i < sb->n_notes; i++) ts_free(sb->notes[i]);
  ts_free(sb->notes);
  ts_free(sb->name);
  pthread_mutex_destroy(&sb->lock);
  ts_free(sb);
}
