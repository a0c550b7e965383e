/*
** sandbox.h: the Lua sandbox (sandbox.c). Internal.
**
** One ts_sandbox is one fresh Lua 5.4 state for one run of one script, with
** only safe libraries and with limits on memory, instructions and wall time
** (tshoot_limits). The host table (host.c) is added to its environment by the
** caller. Everything that can fail reports through ts_error() with a message
** a script author can act on ("probe.lua:12: attempt to index a nil value",
** "script 'probe.lua' broke its memory limit (16384 KiB)").
**
** What a script sees (docs/scripts.md, "The sandbox"):
**   base: assert error getmetatable ipairs next pairs pcall print rawequal
**         rawget rawlen rawset select setmetatable tonumber tostring type
**         xpcall load _G _VERSION
**   string (no dump; find/match/gmatch/gsub use our own step-counted matcher),
**   table, math, utf8.
** Not there: io os debug package require dofile loadfile collectgarbage
** coroutine string.dump. load() takes text only, in the sandbox's environment.
** setmetatable refuses metatables with __gc or __close; xpcall runs its
** handler after unwinding; a limit once broken stays broken (every later
** instruction, and every host call via ts_sandbox_check, raises it again).
*/
#ifndef TS_SANDBOX_H
#define TS_SANDBOX_H

#include "tshoot_int.h"
#include <lua.h>

typedef struct ts_sandbox ts_sandbox;

/* A fresh sandbox with `lim` (NULL: defaults). TSHOOT_OK or TSHOOT_ENOMEM. */
int ts_sandbox_new(ts_sandbox **out, const tshoot_limits *lim);

/* Its Lua state, whose global table is the sandbox's environment (put `host`
** there). Valid until ts_sandbox_free. */
lua_State *ts_sandbox_L(ts_sandbox *sb);

/* Compile `body` (Lua source, text only) as chunk `name` ("probe.lua"; error
** messages then read "probe.lua:LINE: ...") and push the function.
** TSHOOT_OK; TSHOOT_ERROR with the syntax error set, nothing pushed. */
int ts_sandbox_load(ts_sandbox *sb, const char *name, const char *body, size_t len);

/* lua_pcall under the limits (the clocks start at the first call and keep
** running across calls). TSHOOT_OK; TSHOOT_ERROR (a script error: message
** "name:line: ..."; an error object that is not a string is described, never
** passed to __tostring); TSHOOT_ELIMIT (message names the limit). On failure
** nothing is left on the stack. */
int ts_sandbox_pcall(ts_sandbox *sb, int nargs, int nresults);

/* Non-zero once a limit has been broken (it stays broken). */
int ts_sandbox_broken(const ts_sandbox *sb);

/* For C functions that scripts call (the host table): raise the broken
** limit's error if there is one. Call first thing; returns 0 otherwise. */
int ts_sandbox_check(lua_State *L);

/* Around a host callback (optional): the CPU time between the two is not
** charged to the instruction budget, which is estimated from the script
** thread's CPU time (the wall-time limit still runs). An error raised in
** between ends the exclusion where it is caught. */
void ts_sandbox_host_begin(lua_State *L);
void ts_sandbox_host_end(lua_State *L);

/* Around a wait for the person (host.ui.confirm): like host_begin/_end, and
** the wait's wall time is not charged either (the deadline moves on). */
void ts_sandbox_wait_begin(lua_State *L);
void ts_sandbox_wait_end(lua_State *L);

/* The sandbox that owns L (from the state's extra space), or NULL. */
ts_sandbox *ts_sandbox_of(lua_State *L);

/* Copy the value at `idx` as text for the caller (numbers, booleans and strings
** only; tables and others: TSHOOT_EINVALID), safe after a limit (never calls
** a metamethod, never allocates inside Lua unprotected). *out: ts_free. */
int ts_sandbox_tostring(ts_sandbox *sb, int idx, char **out);

/* Figures for tshoot_run: wall ms since the first call, instructions counted
** (counted, or estimated with TSHOOT_LIMITS_ESTIMATE), peak bytes. */
void ts_sandbox_stats(const ts_sandbox *sb, double *elapsed_ms,
                      unsigned long long *instructions, size_t *memory_peak);

/* What the script printed (print() goes here, one note per call, arguments
** joined by tabs, as print would), in order. Borrowed until ts_sandbox_free.
** Capped: at most 100 notes of 4 KiB each; more are dropped. */
void ts_sandbox_notes(const ts_sandbox *sb, const char *const **notes, size_t *n);
/* Add a note (host.ui.notify uses this). */
int ts_sandbox_add_note(ts_sandbox *sb, const char *text, size_t len);

void ts_sandbox_free(ts_sandbox *sb);

/* The C stack a thread that runs scripts needs (bytes), as documented and
** tested (tests/data/hostile/cstack-*.lua run on a thread of exactly this
** size): scripts that recurse through C to Lua's limit of 200 C levels need
** up to about 400 KiB (gsub inside gsub's replacement, measured; Lua's own
** gsub needs 419 KiB), most others under 350 KiB. */
#define TS_SANDBOX_MIN_STACK (512u * 1024u)

#endif
