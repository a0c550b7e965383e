/*
** sandbox_match.h: tshoot's own Lua-pattern matcher (sandbox_match.c). Internal,
** shared by sandbox.c and its tests.
**
** It implements Lua 5.4's pattern language (manual, section 6.4.1: classes,
** sets, the quantifiers * + - ?, anchors, captures, position captures, %b,
** %f and back-references) for string.find, match, gmatch and gsub, with the
** same results as Lua's own. What differs is how it runs: Lua's matcher is
** one recursive C call that no hook can interrupt (("a"):rep(30):find(
** ("a*"):rep(10).."b") takes 44 s); this one backtracks with an explicit
** stack of choice points (constant C stack per call, whatever the pattern)
** and counts its steps, reporting them to a meter every TS_MATCH_CHUNK steps.
** The sandbox's meter charges them to the script's instruction budget and
** stops the match when the budget or the deadline is gone.
**
** One step is one attempt to match one pattern item at one subject position,
** one backtrack, or up to 64 bytes of bulk work (plain find, back-references,
** %b scans count one step per byte they look at).
*/
#ifndef TS_SANDBOX_MATCH_H
#define TS_SANDBOX_MATCH_H

#include <lua.h>
#include <stddef.h>

#define TS_MATCH_MAXCAPTURES 32   /* as LUA_MAXCAPTURES */
#define TS_MATCH_CHUNK 1024u      /* steps between two reports to the meter */

/* How a step report is meant (the meter may start or stop a CPU clock). */
enum {
  TS_CHARGE_MATCH = 0,      /* TS_MATCH_CHUNK more steps of one matcher call */
  TS_CHARGE_MATCH_END = 1,  /* the last steps of a matcher call */
  TS_CHARGE_OTHER = 2       /* other counted C work (table shifts) */
};

/* The meter: add `steps`; non-zero stops the work (a limit is broken; the
** caller then cleans up and raises it with ts_sandbox_check). */
typedef int (*ts_match_meter)(void *ud, unsigned long steps, int how);

/* Replace find, match, gmatch and gsub in the table at `idx` by the counted
** matcher. The functions report their steps to the meter of the sandbox that
** owns the state (ts_sandbox_of); in a state that is not a sandbox they count
** nothing and never stop (the tests compare them with Lua's own there). */
void ts_match_install(lua_State *L, int idx);

/* The sandbox's meter (sandbox.c); `ud` is the ts_sandbox. */
int ts_sandbox_meter(void *ud, unsigned long steps, int how);

/* For tests and the benchmark (sandbox.c): this machine's interpreter speed as
** calibrated (VM instructions per microsecond of CPU; calibrates on first
** use), and the size of Lua's CallInfo as sandbox.c assumes it. */
double ts_sandbox_speed(void);
size_t ts_sandbox_ci_size(void);

#endif
