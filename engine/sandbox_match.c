/*
** sandbox_match.c: tshoot's own Lua-pattern matcher (see sandbox_match.h).
**
** The engine is a backtracking matcher like Lua's, but iterative: where Lua
** recurses to try the rest of the pattern after each choice (how many items a
** `*` eats, whether a `?` item is taken, how far a `-` goes), this one pushes a
** choice point and goes on; a failure pops the newest choice point and resumes
** from its next alternative. Forward matching only ever moves right in the
** pattern, and a choice point is pushed when the pattern passes its item, so
** the stack holds at most one choice point per quantified item: its size is
** known from the pattern before matching starts. Captures are undone on
** backtracking with a trail: the only change that can outlive a choice point
** is closing a capture opened before it, so the trail records which capture
** was closed, and undoing it re-opens the capture.
**
** Every item tried and every backtrack is a step; bulk work (plain find, a
** back-reference, a %b scan) is counted by the byte or by 64-byte blocks. Steps
** go to the sandbox's meter (sandbox.c) every TS_MATCH_CHUNK steps, which stops
** the match when the instruction budget or the deadline is gone: then the
** Lua-facing function calls ts_sandbox_check, which raises the limit's error.
*/
#include "tshoot_int.h"
#include "sandbox.h"
#include "sandbox_match.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define CAP_OPEN (-1)   /* a capture whose ')' has not been reached */
#define CAP_POS  (-2)   /* a position capture, "()" */

enum { M_NO = 0, M_YES = 1, M_BAD = -1, M_STOP = -2 };

/* What a choice point can still try. */
enum {
  CH_FEWER,      /* greedy * or +: give one item back */
  CH_MORE,       /* lazy -: take one more item */
  CH_WITHOUT     /* ?: go on without the optional item */
};

typedef struct choice {
  const char *s;        /* FEWER: where the run of items starts; MORE, WITHOUT: where to go on */
  const char *p;        /* the item */
  const char *ep;       /* the end of the item's class (its quantifier is at ep) */
  size_t n;             /* FEWER: how many items the current try eats */
  unsigned char kind, level, trail;
} choice;

/* Few patterns need more captures or choice points than these; those that do
** get them from a userdata. Kept small: gsub inside gsub's replacement
** function stacks one matcher per level, 200 levels deep. */
#define LOCAL_CAPTURES 4
#define LOCAL_CHOICES 4

typedef struct capture { const char *init; ptrdiff_t len; } capture;

/* What made a pattern malformed (raised by m_raise: no text buffer here). */
enum {
  E_NONE, E_ENDS_WITH_ESCAPE, E_NO_CLOSING_BRACKET, E_BALANCE_ARGS, E_FRONTIER_BRACKET,
  E_CAPTURE_INDEX, E_TOO_MANY_CAPTURES, E_INVALID_CAPTURE, E_TOO_COMPLEX
};

typedef struct matcher {
  const char *s0, *s_end;       /* the subject */
  const char *p_end;            /* the end of the pattern */
  int level;                    /* captures opened so far */
  int ntrail;
  capture *cap;                 /* cap_max of them */
  choice *stack;                /* stack_cap of them */
  size_t stack_cap;
  int cap_max;
  int err, err_arg;             /* E_*, and the capture index for E_CAPTURE_INDEX */
  unsigned long left;           /* steps before the next report */
  int reported;                 /* a report was made in this scan */
  ts_match_meter meter;
  void *ud;
  const char *rs, *rp;          /* where backtracking resumes */
  unsigned char trail[TS_MATCH_MAXCAPTURES];   /* captures closed, newest last */
  capture local_cap[LOCAL_CAPTURES];
  choice local_choice[LOCAL_CHOICES];
} matcher;

static int bad(matcher *m, int err, int arg)
{
  m->err = err;
  m->err_arg = arg;
  return M_BAD;
}

/* ===== counting ===== */

static int report(matcher *m)
{
  m->left = TS_MATCH_CHUNK;
  m->reported = 1;
  return m->meter && m->meter(m->ud, TS_MATCH_CHUNK, TS_CHARGE_MATCH) != 0;
}

/* One step; non-zero when the meter says stop. */
#define STEP(m) (--(m)->left == 0 && report(m))

static int steps(matcher *m, size_t n)
{
  while (n--)
    if (STEP(m)) return 1;
  return 0;
}

/* Report the steps not yet reported. Non-zero when the meter says stop. */
static int flush(matcher *m)
{
  unsigned long n = TS_MATCH_CHUNK - m->left;
  m->left = TS_MATCH_CHUNK;
  m->reported = 0;
  return m->meter && m->meter(m->ud, n, TS_CHARGE_MATCH_END) != 0;
}

/* ===== single-character classes ===== */

static int class_match(int c, int cl)
{
  int r;
  switch (tolower(cl)) {
  case 'a': r = isalpha(c); break;
  case 'c': r = iscntrl(c); break;
  case 'd': r = isdigit(c); break;
  case 'g': r = isgraph(c); break;
  case 'l': r = islower(c); break;
  case 'p': r = ispunct(c); break;
  case 's': r = isspace(c); break;
  case 'u': r = isupper(c); break;
  case 'w': r = isalnum(c); break;
  case 'x': r = isxdigit(c); break;
  case 'z': r = c == 0; break;      /* deprecated, still in 5.4 */
  default: return cl == c;          /* %. %% %( ...: the character itself */
  }
  if (isupper(cl)) r = !r;          /* %A, %D ...: the complement */
  return r != 0;
}

/* `c` in the set that starts at p ('[') and whose ']' is at close. */
static int set_match(int c, const char *p, const char *close)
{
  int in = 1;
  p++;
  if (*p == '^') { in = 0; p++; }
  for (; p < close; p++) {
    if (*p == '%') {
      p++;
      if (class_match(c, (unsigned char)*p)) return in;
    } else if (p + 2 < close && p[1] == '-') {
      if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return in;
      p += 2;
    } else if ((unsigned char)*p == c) {
      return in;
    }
  }
  return !in;
}

/* The end of the single-character class at p, or NULL (m->err set). */
static const char *class_end(matcher *m, const char *p)
{
  char c = *p++;
  if (c == '%') {
    if (p >= m->p_end) { bad(m, E_ENDS_WITH_ESCAPE, 0); return NULL; }
    return p + 1;
  }
  if (c == '[') {
    if (p < m->p_end && *p == '^') p++;
    do {                          /* the set's first character is itself, even ']' */
      if (p >= m->p_end) { bad(m, E_NO_CLOSING_BRACKET, 0); return NULL; }
      c = *p++;
      if (c == '%' && p < m->p_end) p++;
    } while (p >= m->p_end || *p != ']');
    return p + 1;
  }
  return p;
}

static int single(const matcher *m, const char *s, const char *p, const char *ep)
{
  int c;
  if (s >= m->s_end) return 0;
  c = (unsigned char)*s;
  switch (*p) {
  case '.': return 1;
  case '%': return class_match(c, (unsigned char)p[1]);
  case '[': return set_match(c, p, ep - 1);
  default: return (unsigned char)*p == c;
  }
}

/* ===== the special items ===== */

/* %bxy at s (p points at x). 1 and *ns, 0, or M_BAD/M_STOP. */
static int balance(matcher *m, const char *s, const char *p, const char **ns)
{
  int open, close;
  size_t depth = 1;
  if (p + 1 >= m->p_end) return bad(m, E_BALANCE_ARGS, 0);
  if (s >= m->s_end || *s != *p) return 0;
  open = (unsigned char)p[0];
  close = (unsigned char)p[1];
  while (++s < m->s_end) {
    int c = (unsigned char)*s;
    if (STEP(m)) return M_STOP;
    if (c == close) {
      if (--depth == 0) { *ns = s + 1; return 1; }
    } else if (c == open) {
      depth++;
    }
  }
  return 0;
}

/* %f[set] at s (p points at '['). 1 and *ep, 0, or M_BAD. */
static int frontier(matcher *m, const char *s, const char *p, const char **ep)
{
  int before, here;
  if (p >= m->p_end || *p != '[') return bad(m, E_FRONTIER_BRACKET, 0);
  *ep = class_end(m, p);
  if (!*ep) return M_BAD;
  before = s == m->s0 ? 0 : (unsigned char)s[-1];
  here = s < m->s_end ? (unsigned char)*s : 0;
  return !set_match(before, p, *ep - 1) && set_match(here, p, *ep - 1);
}

/* %1-%9 at s. 1 and *ns, 0, or M_BAD/M_STOP. */
static int backref(matcher *m, const char *s, int digit, const char **ns)
{
  int l = digit - '1';
  ptrdiff_t len;
  if (l < 0 || l >= m->level || m->cap[l].len == CAP_OPEN)
    return bad(m, E_CAPTURE_INDEX, l + 1);
  len = m->cap[l].len;
  if (len < 0) return 0;                          /* a position: matches nothing */
  if (steps(m, (size_t)len / 64)) return M_STOP;
  if ((size_t)(m->s_end - s) < (size_t)len || memcmp(m->cap[l].init, s, (size_t)len) != 0) return 0;
  *ns = s + len;
  return 1;
}

/* ===== the engine ===== */

static int push_choice(matcher *m, size_t *top, int kind, const char *s, const char *p,
                       const char *ep, size_t n)
{
  choice *c;
  if (*top >= m->stack_cap) return bad(m, E_TOO_COMPLEX, 0);   /* cannot happen */
  c = &m->stack[(*top)++];
  c->kind = (unsigned char)kind;
  c->s = s;
  c->p = p;
  c->ep = ep;
  c->n = n;
  c->level = (unsigned char)m->level;
  c->trail = (unsigned char)m->ntrail;
  return 0;
}

static void undo(matcher *m, const choice *c)
{
  while (m->ntrail > c->trail) m->cap[m->trail[--m->ntrail]].len = CAP_OPEN;
  m->level = c->level;
}

/* Resume from the newest choice point that has a way left: M_YES with
** m->rs and m->rp set, M_NO when there is none, M_STOP. */
static int backtrack(matcher *m, size_t *top)
{
  for (;;) {
    choice *c;
    if (*top == 0) return M_NO;
    if (STEP(m)) return M_STOP;
    c = &m->stack[*top - 1];
    undo(m, c);
    switch (c->kind) {
    case CH_WITHOUT:
      m->rs = c->s;
      m->rp = c->ep + 1;
      --*top;
      return M_YES;
    case CH_FEWER:
      c->n--;
      m->rs = c->s + c->n;
      m->rp = c->ep + 1;
      if (c->n == 0) --*top;                      /* that was the last way */
      return M_YES;
    default:                                      /* CH_MORE: one more item, if it matches */
      if (single(m, c->s, c->p, c->ep)) {
        c->s++;
        m->rs = c->s;
        m->rp = c->ep + 1;
        return M_YES;
      }
      --*top;
    }
  }
}

/* Match pattern p exactly at s. M_YES with *out at the end of the match. */
static int match_here(matcher *m, const char *s, const char *p, const char **out)
{
  size_t top = 0;
  const char *ep = NULL, *ns = NULL;
  int r;
  for (;;) {
    if (STEP(m)) return M_STOP;
    if (p >= m->p_end) { *out = s; return M_YES; }
    switch (*p) {
    case '(':
      if (m->level >= m->cap_max) return bad(m, E_TOO_MANY_CAPTURES, 0);
      m->cap[m->level].init = s;
      if (p + 1 < m->p_end && p[1] == ')') { m->cap[m->level].len = CAP_POS; p += 2; }
      else { m->cap[m->level].len = CAP_OPEN; p++; }
      m->level++;
      continue;
    case ')': {
      int l = m->level - 1;
      while (l >= 0 && m->cap[l].len != CAP_OPEN) l--;
      if (l < 0) return bad(m, E_INVALID_CAPTURE, 0);
      m->cap[l].len = s - m->cap[l].init;
      m->trail[m->ntrail++] = (unsigned char)l;
      p++;
      continue;
    }
    case '$':
      if (p + 1 == m->p_end) {
        if (s == m->s_end) { *out = s; return M_YES; }
        goto fail;
      }
      break;                                      /* a '$' inside: itself */
    case '%':
      if (p + 1 < m->p_end) {
        switch (p[1]) {
        case 'b':
          r = balance(m, s, p + 2, &ns);
          if (r < 0) return r;
          if (!r) goto fail;
          s = ns;
          p += 4;
          continue;
        case 'f':
          r = frontier(m, s, p + 2, &ep);
          if (r < 0) return r;
          if (!r) goto fail;
          p = ep;
          continue;
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
          r = backref(m, s, (unsigned char)p[1], &ns);
          if (r < 0) return r;
          if (!r) goto fail;
          s = ns;
          p += 2;
          continue;
        default:
          break;
        }
      }
      break;
    default:
      break;
    }

    /* a single-character class, perhaps quantified */
    ep = class_end(m, p);
    if (!ep) return M_BAD;
    {
      int ok = single(m, s, p, ep);
      int q = ep < m->p_end ? *ep : 0;
      if (q == '?') {
        if (ok) {
          if (push_choice(m, &top, CH_WITHOUT, s, p, ep, 0)) return M_BAD;
          s++;
        }
        p = ep + 1;
        continue;
      }
      if (q == '*' || q == '+') {
        size_t n = 0;
        if (q == '+') {
          if (!ok) goto fail;
          s++;
          if (STEP(m)) return M_STOP;
          ok = single(m, s, p, ep);
        }
        if (ok) {
          n = 1;
          for (;;) {
            if (STEP(m)) return M_STOP;
            if (!single(m, s + n, p, ep)) break;
            n++;
          }
          if (push_choice(m, &top, CH_FEWER, s, p, ep, n)) return M_BAD;
        }
        s += n;
        p = ep + 1;
        continue;
      }
      if (q == '-') {
        if (push_choice(m, &top, CH_MORE, s, p, ep, 0)) return M_BAD;
        p = ep + 1;
        continue;
      }
      if (!ok) goto fail;
      s++;
      p = ep;
      continue;
    }

  fail:
    r = backtrack(m, &top);
    if (r != M_YES) return r;
    s = m->rs;
    p = m->rp;
  }
}

/* The first match at `from` or after (only at `from` when anchored) whose end
** is not `last` (gmatch and gsub refuse a second empty match at one place). */
static int scan(matcher *m, const char *from, const char *p, int anchor, const char *last,
                const char **start, const char **end)
{
  const char *s = from;
  int r;
  for (;;) {
    m->level = 0;
    m->ntrail = 0;
    r = match_here(m, s, p, end);
    if (r == M_YES && *end != last) { *start = s; break; }
    if (r < 0) break;
    r = M_NO;
    if (anchor || s >= m->s_end) break;
    s++;
  }
  if (m->reported && flush(m)) r = M_STOP;
  return r;
}

/* Plain search for p (lp bytes) in s (ls bytes): one step per place where the
** first byte matches, one per 64 bytes scanned or compared. */
static int plain_find(matcher *m, const char *s, size_t ls, const char *p, size_t lp,
                      const char **found)
{
  const char *cur = s, *last;
  if (lp == 0) { *found = s; return M_YES; }
  if (lp > ls) return M_NO;
  last = s + (ls - lp);
  while (cur <= last) {
    size_t span = (size_t)(last - cur) + 1, off;
    const char *q = memchr(cur, (unsigned char)p[0], span);
    if (steps(m, (q ? (size_t)(q - cur) : span) / 64 + 1)) return M_STOP;
    if (!q) break;
    for (off = 1; off < lp; off += 64) {
      size_t k = lp - off < 64 ? lp - off : 64;
      if (STEP(m)) return M_STOP;
      if (memcmp(q + off, p + off, k) != 0) break;
    }
    if (off >= lp) { *found = q; return M_YES; }
    cur = q + 1;
  }
  return M_NO;
}

/* ===== the Lua functions ===== */

static int is_quantifier(char c) { return c == '*' || c == '+' || c == '-' || c == '?'; }

/* Set m up for subject s and pattern p; may push a userdata for captures and
** choice points (a GC object, so that an error in between frees it). Forward
** matching only moves right in the pattern: a path opens at most one capture
** per '(' and pushes at most one choice point per quantifier. */
static void m_init(lua_State *L, matcher *m, const char *s, size_t ls, const char *p, size_t lp)
{
  size_t choices = 1, caps = 0, i;
  m->s0 = s;
  m->s_end = s + ls;
  m->p_end = p + lp;
  m->level = 0;
  m->ntrail = 0;
  m->left = TS_MATCH_CHUNK;
  m->reported = 0;
  m->rs = m->rp = NULL;
  m->ud = ts_sandbox_of(L);
  m->meter = m->ud ? ts_sandbox_meter : NULL;
  m->err = E_NONE;
  m->err_arg = 0;
  for (i = 0; i < lp; i++) {
    choices += is_quantifier(p[i]);
    caps += p[i] == '(';
  }
  if (caps > TS_MATCH_MAXCAPTURES) caps = TS_MATCH_MAXCAPTURES;
  m->cap = m->local_cap;
  m->cap_max = LOCAL_CAPTURES;
  m->stack = m->local_choice;
  m->stack_cap = LOCAL_CHOICES;
  if (caps > LOCAL_CAPTURES || choices > LOCAL_CHOICES) {
    size_t nc = caps > LOCAL_CAPTURES ? caps : 0, nch = choices > LOCAL_CHOICES ? choices : 0;
    char *ud = lua_newuserdatauv(L, nc * sizeof(capture) + nch * sizeof(choice), 0);
    if (nch) { m->stack = (choice *)ud; m->stack_cap = nch; }
    if (nc) { m->cap = (capture *)(ud + nch * sizeof(choice)); m->cap_max = (int)nc; }
  }
}

/* Raise what stopped the matcher. */
static int m_raise(lua_State *L, matcher *m, int r)
{
  if (r == M_STOP) {
    ts_sandbox_check(L);
    return luaL_error(L, "pattern matching stopped by a limit");
  }
  switch (m->err) {
  case E_ENDS_WITH_ESCAPE: return luaL_error(L, "malformed pattern (ends with '%%')");
  case E_NO_CLOSING_BRACKET: return luaL_error(L, "malformed pattern (missing ']')");
  case E_BALANCE_ARGS: return luaL_error(L, "malformed pattern (missing arguments to '%%b')");
  case E_FRONTIER_BRACKET: return luaL_error(L, "missing '[' after '%%f' in pattern");
  case E_CAPTURE_INDEX: return luaL_error(L, "invalid capture index %%%d", m->err_arg);
  case E_TOO_MANY_CAPTURES: return luaL_error(L, "too many captures");
  case E_INVALID_CAPTURE: return luaL_error(L, "invalid pattern capture");
  default: return luaL_error(L, "pattern too complex");
  }
}

/* End of a Lua-level call: the remaining steps. */
static void m_done(lua_State *L, matcher *m)
{
  if (flush(m)) m_raise(L, m, M_STOP);
}

static void push_capture(lua_State *L, const matcher *m, int i, const char *s, const char *e)
{
  if (i >= m->level) {
    if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(L, s, (size_t)(e - s));      /* no captures: the whole match */
    return;
  }
  if (m->cap[i].len == CAP_OPEN) luaL_error(L, "unfinished capture");
  if (m->cap[i].len == CAP_POS)
    lua_pushinteger(L, (lua_Integer)(m->cap[i].init - m->s0) + 1);
  else
    lua_pushlstring(L, m->cap[i].init, (size_t)m->cap[i].len);
}

/* Push the captures (the whole match when there are none and s is given). */
static int push_captures(lua_State *L, const matcher *m, const char *s, const char *e)
{
  int i, n = (m->level == 0 && s) ? 1 : m->level;
  luaL_checkstack(L, n, "too many captures");
  for (i = 0; i < n; i++) push_capture(L, m, i, s, e);
  return n;
}

/* A 1-based start position as string.find takes it, made 1..len+1. */
static size_t start_pos(lua_Integer pos, size_t len)
{
  if (pos > 0) return (size_t)pos;
  if (pos == 0) return 1;
  if (pos < -(lua_Integer)len) return 1;
  return len + (size_t)pos + 1;
}

static int has_specials(const char *p, size_t lp)
{
  size_t i;
  for (i = 0; i < lp; i++)
    if (memchr("^$*+?.([%-", p[i], 10)) return 1;
  return 0;
}

static int find_or_match(lua_State *L, int find)
{
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
  const char *st = NULL, *e = NULL;
  matcher m;
  int r;
  if (init > ls) { luaL_pushfail(L); return 1; }
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    m_init(L, &m, s, ls, p, 0);
    r = plain_find(&m, s + init, ls - init, p, lp, &st);
    if (r < 0) return m_raise(L, &m, r);
    m_done(L, &m);
    if (r == M_YES) {
      lua_pushinteger(L, (lua_Integer)(st - s) + 1);
      lua_pushinteger(L, (lua_Integer)(st - s + (ptrdiff_t)lp));
      return 2;
    }
  } else {
    int anchor = lp > 0 && *p == '^';
    if (anchor) { p++; lp--; }
    m_init(L, &m, s, ls, p, lp);
    r = scan(&m, s + init, p, anchor, NULL, &st, &e);
    if (r < 0) return m_raise(L, &m, r);
    m_done(L, &m);
    if (r == M_YES) {
      if (find) {
        lua_pushinteger(L, (lua_Integer)(st - s) + 1);
        lua_pushinteger(L, (lua_Integer)(e - s));
        return push_captures(L, &m, NULL, NULL) + 2;
      }
      return push_captures(L, &m, st, e);
    }
  }
  luaL_pushfail(L);
  return 1;
}

static int ts_find(lua_State *L) { return find_or_match(L, 1); }
static int ts_matchfn(lua_State *L) { return find_or_match(L, 0); }

/* gmatch: upvalues subject, pattern, and where to go on. */
typedef struct gm_state {
  size_t pos;            /* where the next search starts */
  size_t last;           /* end of the last match, or NO_LAST */
} gm_state;
#define NO_LAST ((size_t)-1)

static int gmatch_next(lua_State *L)
{
  size_t ls, lp;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  gm_state *g = lua_touserdata(L, lua_upvalueindex(3));
  const char *st, *e;
  matcher m;
  int r;
  if (g->pos > ls) return 0;
  m_init(L, &m, s, ls, p, lp);
  r = scan(&m, s + g->pos, p, 0, g->last == NO_LAST ? NULL : s + g->last, &st, &e);
  if (r < 0) return m_raise(L, &m, r);
  m_done(L, &m);
  if (r == M_NO) { g->pos = ls + 1; return 0; }
  g->pos = g->last = (size_t)(e - s);
  return push_captures(L, &m, st, e);
}

static int ts_gmatch(lua_State *L)
{
  size_t ls, lp;
  gm_state *g;
  luaL_checklstring(L, 1, &ls);
  luaL_checklstring(L, 2, &lp);
  size_t init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1;
  lua_settop(L, 2);
  g = lua_newuserdatauv(L, sizeof *g, 0);
  g->pos = init;
  g->last = NO_LAST;
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

/* gsub's replacement string: %0-%9 and %%. */
static void add_replacement(lua_State *L, const matcher *m, luaL_Buffer *b, const char *s,
                            const char *e)
{
  size_t l;
  const char *r = lua_tolstring(L, 3, &l), *end = r + l;
  while (r < end) {
    const char *pct = memchr(r, '%', (size_t)(end - r));
    if (!pct) { luaL_addlstring(b, r, (size_t)(end - r)); break; }
    luaL_addlstring(b, r, (size_t)(pct - r));
    pct++;
    if (pct < end && *pct == '%') {
      luaL_addchar(b, '%');
    } else if (pct < end && isdigit((unsigned char)*pct)) {
      if (*pct == '0') {
        luaL_addlstring(b, s, (size_t)(e - s));
      } else {
        push_capture(L, m, *pct - '1', s, e);
        luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
        luaL_addvalue(b);
      }
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", '%');
    }
    r = pct + 1;
  }
}

/* Add the replacement of match s..e; non-zero when it changed the text. */
static int add_value(lua_State *L, const matcher *m, luaL_Buffer *b, const char *s,
                     const char *e, int tr)
{
  if (tr == LUA_TFUNCTION) {
    int n;
    lua_pushvalue(L, 3);
    n = push_captures(L, m, s, e);
    lua_call(L, n, 1);
  } else if (tr == LUA_TTABLE) {
    push_capture(L, m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_replacement(L, m, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) {                    /* nil or false: keep the match */
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1))
    return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

static int ts_gsub(lua_State *L)
{
  size_t ls, lp;
  const char *src = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  const char *s = src, *last = NULL, *st, *e;
  int tr = lua_type(L, 3), anchor, changed = 0;
  lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
  matcher m;
  luaL_Buffer b;
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                   tr == LUA_TTABLE, 3, "string/function/table");
  anchor = lp > 0 && *p == '^';
  if (anchor) { p++; lp--; }
  m_init(L, &m, src, ls, p, lp);
  luaL_buffinit(L, &b);
  while (n < max_n) {
    int r = scan(&m, s, p, 1, last, &st, &e);
    if (r < 0) return m_raise(L, &m, r);
    if (r == M_YES) {
      n++;
      changed |= add_value(L, &m, &b, s, e, tr);
      s = last = e;
    } else if (s < m.s_end) {
      luaL_addchar(&b, *s++);
    } else {
      break;
    }
    if (anchor) break;
  }
  m_done(L, &m);
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, s, (size_t)(m.s_end - s));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

void ts_match_install(lua_State *L, int idx)
{
  static const luaL_Reg fns[] = {
    { "find", ts_find }, { "match", ts_matchfn }, { "gmatch", ts_gmatch }, { "gsub", ts_gsub },
    { NULL, NULL }
  };
  const luaL_Reg *f;
  idx = lua_absindex(L, idx);
  for (f = fns; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, idx, f->name);
  }
}
