/*
** test-host.c: hosts as scripts see them (host.c, host_lua.c, script.c): the Lua face, the journal
** with the state before each change, rollback to exactly where a fix started,
** plans that change nothing, confirmation, and errors that say what failed.
**
** The host here is an embedder's: a small registry and file table in this
** file, reached only through tshoot_host_ops callbacks. The simulated host has
** its own test (test-host-sim.c); the end-to-end Kerio runs are in
** tests/cli/test-cli-hosts.sh.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "host.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

/* ===== a tiny machine ===== */

#define MAXE 64
typedef struct entry { char key[128], name[64], s[128]; long long i; int is_int, used; } entry;
typedef struct fentry { char path[128]; long long size; int used; } fentry;

typedef struct machine {
  entry reg[MAXE];
  char keys[MAXE][128];       /* keys that exist (with or without values) */
  fentry files[MAXE];
  int confirm;                /* what ui.confirm answers */
  int ignore_sets;            /* accept registry sets, change nothing */
  int calls_set;
  char notified[256];
} machine;

static int key_exists(machine *m, const char *key)
{
  int i;
  size_t n = strlen(key);
  for (i = 0; i < MAXE; i++)
    if (m->keys[i][0] && strncasecmp(m->keys[i], key, n) == 0 && (m->keys[i][n] == 0 || m->keys[i][n] == '\\'))
      return 1;
  return 0;
}

static void add_key(machine *m, const char *key)
{
  int i;
  for (i = 0; i < MAXE; i++) if (m->keys[i][0] && strcasecmp(m->keys[i], key) == 0) return;
  for (i = 0; i < MAXE; i++) if (!m->keys[i][0]) { snprintf(m->keys[i], sizeof m->keys[i], "%s", key); return; }
}

static entry *find(machine *m, const char *key, const char *name)
{
  int i;
  for (i = 0; i < MAXE; i++)
    if (m->reg[i].used && strcasecmp(m->reg[i].key, key) == 0 && strcasecmp(m->reg[i].name, name) == 0)
      return &m->reg[i];
  return NULL;
}

static int m_reg_get(void *p, const char *key, const char *name, tshoot_reply *out)
{
  entry *e = find(p, key, name);
  if (!e) return TSHOOT_OK;
  return e->is_int ? tshoot_reply_int(out, e->i) : tshoot_reply_string(out, e->s, strlen(e->s));
}

static int m_reg_set(void *p, const char *key, const char *name, const tshoot_reg_value *v)
{
  machine *m = p;
  entry *e;
  int i;
  if (strstr(key, "Locked")) return tshoot_host_error(TSHOOT_EUSER, "access to the key was denied");
  m->calls_set++;
  if (m->ignore_sets) return TSHOOT_OK;
  add_key(m, key);
  if (!name) return TSHOOT_OK;
  e = find(m, key, name);
  for (i = 0; !e && i < MAXE; i++) if (!m->reg[i].used) e = &m->reg[i];
  if (!e) return TSHOOT_ENOMEM;
  memset(e, 0, sizeof *e);
  e->used = 1;
  snprintf(e->key, sizeof e->key, "%s", key);
  snprintf(e->name, sizeof e->name, "%s", name);
  e->is_int = v->is_int;
  e->i = v->i;
  if (!v->is_int) snprintf(e->s, sizeof e->s, "%s", v->s);
  return TSHOOT_OK;
}

static int m_reg_delete(void *p, const char *key, const char *name)
{
  machine *m = p;
  int i;
  size_t n = strlen(key);
  if (name) {
    entry *e = find(m, key, name);
    if (e) e->used = 0;
    return TSHOOT_OK;
  }
  for (i = 0; i < MAXE; i++) {
    if (m->reg[i].used && strncasecmp(m->reg[i].key, key, n) == 0 && (m->reg[i].key[n] == 0 || m->reg[i].key[n] == '\\'))
      m->reg[i].used = 0;
    if (m->keys[i][0] && strncasecmp(m->keys[i], key, n) == 0 && (m->keys[i][n] == 0 || m->keys[i][n] == '\\'))
      m->keys[i][0] = 0;
  }
  return TSHOOT_OK;
}

static int m_reg_list(void *p, const char *key, tshoot_reply *out)
{
  machine *m = p;
  char json[2048];
  size_t len = 0;
  int i, first = 1;
  if (!key_exists(m, key)) return TSHOOT_OK;
  len += (size_t)snprintf(json + len, sizeof json - len, "{\"values\":{");
  for (i = 0; i < MAXE; i++) {
    entry *e = &m->reg[i];
    if (!e->used || strcasecmp(e->key, key) != 0) continue;
    if (e->is_int) len += (size_t)snprintf(json + len, sizeof json - len, "%s\"%s\":%lld", first ? "" : ",", e->name, e->i);
    else {
      const char *c;
      len += (size_t)snprintf(json + len, sizeof json - len, "%s\"%s\":\"", first ? "" : ",", e->name);
      for (c = e->s; *c && len < sizeof json - 8; c++) {
        if (*c == '\\' || *c == '"') json[len++] = '\\';
        json[len++] = *c;
      }
      json[len++] = '"';
      json[len] = 0;
    }
    first = 0;
  }
  len += (size_t)snprintf(json + len, sizeof json - len, "},\"subkeys\":[]}");
  return tshoot_reply_json(out, json, len);
}

static fentry *ffind(machine *m, const char *path)
{
  int i;
  for (i = 0; i < MAXE; i++) if (m->files[i].used && strcasecmp(m->files[i].path, path) == 0) return &m->files[i];
  return NULL;
}

static int m_file_stat(void *p, const char *path, tshoot_reply *out)
{
  fentry *f = ffind(p, path);
  char json[128];
  int n;
  if (!f) return TSHOOT_OK;
  n = snprintf(json, sizeof json, "{\"size\":%lld,\"version\":\"9.2.4\"}", f->size);
  return tshoot_reply_json(out, json, (size_t)n);
}

static int m_file_move(void *p, const char *from, const char *to)
{
  fentry *f = ffind(p, from);
  if (!f) return TSHOOT_ENOTFOUND;
  snprintf(f->path, sizeof f->path, "%s", to);
  return TSHOOT_OK;
}

static int m_confirm(void *p, const char *text, tshoot_reply *out)
{
  return tshoot_reply_bool(out, ((machine *)p)->confirm);
}

static int m_notify(void *p, const char *text)
{
  snprintf(((machine *)p)->notified, sizeof ((machine *)p)->notified, "%s", text);
  return TSHOOT_OK;
}

static int m_system(void *p, tshoot_reply *out)
{
  static const char j[] = "{\"os\":{\"name\":\"Windows\",\"version\":\"10.0\",\"build\":19045},\"arch\":\"x64\",\"admin\":true}";
  return tshoot_reply_json(out, j, sizeof j - 1);
}

static int m_fail(void *p, tshoot_reply *out)
{
  tshoot_reply_error(out, "access denied by the test");
  return TSHOOT_EUSER;
}

static machine M;

static tshoot_host *new_host(void)
{
  tshoot_host_ops ops;
  tshoot_host *h = NULL;
  memset(&ops, 0, sizeof ops);
  ops.version = TSHOOT_HOST_OPS_VERSION;
  ops.payload = &M;
  ops.registry_get = m_reg_get;
  ops.registry_set = m_reg_set;
  ops.registry_delete = m_reg_delete;
  ops.registry_list = m_reg_list;
  ops.file_stat = m_file_stat;
  ops.file_move = m_file_move;
  ops.ui_confirm = m_confirm;
  ops.ui_notify = m_notify;
  ops.system_info = m_system;
  ops.process_list = m_fail;
  ops.quarantine_dir = "Q:\\quarantine";
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
  return h;
}

static void reset_machine(void)
{
  tshoot_reg_value v;
  memset(&M, 0, sizeof M);
  M.confirm = 1;
  memset(&v, 0, sizeof v);
  v.s = "C:\\Kerio\\kofmsp.dll";
  m_reg_set(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI", "DllPath", &v);
  v.s = NULL; v.is_int = 1; v.i = 7;
  m_reg_set(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI", "Flags", &v);
  M.files[0].used = 1;
  snprintf(M.files[0].path, sizeof M.files[0].path, "C:\\Kerio\\kofmsp.dll");
  M.files[0].size = 1843200;
  M.calls_set = 0;
}

static tshoot_run *run(tshoot_host *h, const char *body, tshoot_script_mode mode, const tshoot_fix_info *fix)
{
  tshoot_run *r = NULL;
  tshoot_limits lim = TSHOOT_LIMITS_INIT;
  lim.time_ms = 3000;
  CHECK_INT(tshoot_script_run(&r, h, "test.lua", body, strlen(body), mode, fix, &lim), TSHOOT_OK);
  return r;
}

/* ===== tests ===== */

/* A host's JSON reply is bounded in depth like every JSON from outside (a
** deep one would overflow the parser's stack, and scripts read it as tables). */
static void test_host__deep_json_reply_refused(void)
{
  tshoot_reply r;
  char deep[400];
  memset(deep, '[', 200);
  memset(deep + 200, ']', 200);
  ts_reply_init(&r);
  CHECK_INT(tshoot_reply_json(&r, deep, sizeof deep), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "nested deeper than 64");
  CHECK_INT(tshoot_reply_json(&r, "[[1]]", 5), TSHOOT_OK);
  ts_reply_clear(&r);
}

static void test_host__probe_reads_registry_files_system(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  reset_machine();
  r = run(h, "local p = host.registry.get('hklm\\\\software\\\\kerio\\\\mapi', 'dllpath')\n"
             "local st = host.file.stat(p)\n"
             "local info = host.system.info()\n"
             "assert(host.registry.get('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags') == 7)\n"
             "assert(host.registry.get('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Missing') == nil)\n"
             "assert(host.file.exists(p) and not host.file.exists('C:\\\\nope.dll'))\n"
             "assert(host.file.version(p) == '9.2.4')\n"
             "assert(host.registry.values('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI').Flags == 7)\n"
             "assert(host.registry.values('HKLM\\\\SOFTWARE\\\\Nope') == nil)\n"
             "assert(tshoot.vercmp('9.2.10', '9.2.9') == 1 and tshoot.vercmp('16.0', '16.0.0') == 0)\n"
             "assert(tshoot.vercmp('9.2.4-beta', '9.2.4') == -1 and tshoot.vercmp('9.2a', '9.2b') == -1)\n"
             "return info.os.version .. ' ' .. st.size\n", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_OK);
  CHECK_STR(r->message, "");
  CHECK_STR(r->answer, "10.0 1843200");
  CHECK_INT(r->n_changes, 0);
  tshoot_run_free(r);

  r = run(h, "return host.file.exists('C:\\\\Kerio\\\\kofmsp.dll')", TSHOOT_RUN_PROBE, NULL);
  CHECK_STR(r->answer, "yes");
  tshoot_run_free(r);
  r = run(h, "return nil", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_OK);
  CHECK(r->answer == NULL);
  tshoot_run_free(r);
  r = run(h, "return {}", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "a probe returns text, a number, a boolean or nothing, not a table");
  tshoot_run_free(r);
  tshoot_host_free(h);
}

static void test_host__errors_name_what_failed(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  reset_machine();
  r = run(h, "return host.process.list()", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "test.lua:1:");
  CHECK_CONTAINS(r->message, "access denied by the test");
  tshoot_run_free(r);
  r = run(h, "return host.service.get('x')", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "this host cannot look at services");
  tshoot_run_free(r);
  r = run(h, "host.registry.set('HKLM\\\\Locked', 'v', 1)", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "host registry.set failed: access to the key was denied");
  tshoot_run_free(r);
  r = run(h, "host.registry.set('HKLM\\\\X', 'v', true)", TSHOOT_RUN_PROBE, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "a registry value is a string or an integer, not boolean");
  tshoot_run_free(r);
  tshoot_host_free(h);
}

static const char fix_body[] =
  "local K = 'HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI'\n"
  "local fix = {}\n"
  "function fix.apply()\n"
  "  host.registry.set(K, 'DllPath', 'C:\\\\Kerio\\\\kofmsp32.dll')\n"
  "  host.registry.set(K, 'Flags', 9)\n"
  "  host.registry.set(K .. '\\\\New\\\\Deep', 'Made', 'yes')\n"
  "  host.registry.delete(K, 'Missing')\n"
  "  host.file.remove('C:\\\\Kerio\\\\kofmsp.dll')\n"
  "  host.ui.notify('restored')\n"
  "  if FAIL_APPLY then error('apply broke') end\n"
  "end\n"
  "function fix.verify()\n"
  "  if host.registry.get(K, 'Flags') == 9 then return true end\n"
  "  return false, 'Flags is still ' .. tostring(host.registry.get(K, 'Flags'))\n"
  "end\n"
  "return fix\n";

static int machine_is_original(void)
{
  entry *a = find(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI", "DllPath");
  entry *b = find(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI", "Flags");
  int i, n = 0;
  for (i = 0; i < MAXE; i++) n += M.reg[i].used;
  return a && strcmp(a->s, "C:\\Kerio\\kofmsp.dll") == 0 && b && b->i == 7 && n == 2 &&
         !key_exists(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI\\New") && ffind(&M, "C:\\Kerio\\kofmsp.dll") != NULL;
}

static void test_host__plan_changes_nothing(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  const tshoot_change *j;
  size_t n;
  reset_machine();
  r = run(h, fix_body, TSHOOT_RUN_PLAN, NULL);
  CHECK_INT(r->status, TSHOOT_OK);
  CHECK_INT(M.calls_set, 0);
  CHECK(machine_is_original());
  CHECK_INT(r->n_changes, 4);         /* the delete of a missing value is no change */
  if (r->n_changes == 4) {
    CHECK_STR(r->changes[0].op, "registry.set");
    CHECK_STR(r->changes[0].before, "\"C:\\\\Kerio\\\\kofmsp.dll\"");
    CHECK_STR(r->changes[0].after, "\"C:\\\\Kerio\\\\kofmsp32.dll\"");
    CHECK_STR(r->changes[1].before, "7");
    CHECK_STR(r->changes[1].after, "9");
    CHECK_STR(r->changes[2].before, "null");
    CHECK_STR(r->changes[3].op, "file.remove");
    CHECK_CONTAINS(r->changes[3].after, "Q:\\\\quarantine\\\\kofmsp.dll.1");
  }
  /* a plan tells nobody and asks nobody */
  CHECK_STR(M.notified, "");
  CHECK(r->n_notes == 1 && strcmp(r->notes[0], "restored") == 0);
  tshoot_run_free(r);
  CHECK_INT(tshoot_host_journal(&j, &n, h), TSHOOT_OK);
  CHECK_INT(n, 0);                     /* a plan is not in the machine's journal */
  tshoot_host_free(h);
}

static void test_host__apply_verify_journal(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  const tshoot_change *j;
  size_t n;
  char *lines = NULL;
  reset_machine();
  r = run(h, fix_body, TSHOOT_RUN_APPLY, NULL);
  CHECK_INT(r->status, TSHOOT_OK);
  CHECK_INT(r->verified, 1);
  CHECK_INT(r->rolled_back, 0);
  CHECK(find(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI", "Flags")->i == 9);
  CHECK(ffind(&M, "Q:\\quarantine\\kofmsp.dll.1") != NULL);
  CHECK_STR(M.notified, "restored");
  tshoot_run_free(r);
  CHECK_INT(tshoot_host_journal(&j, &n, h), TSHOOT_OK);
  CHECK_INT(n, 4);
  if (n == 4) {
    CHECK_STR(j[1].target, "HKLM\\SOFTWARE\\Kerio\\MAPI : Flags");
    CHECK_STR(j[1].script, "test.lua");
    CHECK_INT(j[1].undone, 0);
  }
  CHECK_INT(tshoot_host_journal_json(&lines, h), TSHOOT_OK);
  CHECK_CONTAINS(lines, "{\"seq\":1,\"op\":\"registry.set\"");
  CHECK_CONTAINS(lines, "\"undone\":false}\n");
  tshoot_free(lines);
  tshoot_host_free(h);
}

static void test_host__failed_verify_rolls_back_exactly(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  const tshoot_change *j;
  size_t n, i;
  reset_machine();
  M.ignore_sets = 0;
  /* the sets go through, but a policy puts Flags back: emulate by a verify
  ** that reads a value the fix never sets */
  {
    static const char body[] =
      "local fix = {}\n"
      "function fix.apply() host.registry.set('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags', 1)\n"
      "  host.registry.set('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI\\\\Sub', 'X', 'y')\n"
      "  host.file.move('C:\\\\Kerio\\\\kofmsp.dll', 'C:\\\\Kerio\\\\old.dll') end\n"
      "function fix.verify() return false, 'still broken' end\n"
      "return fix\n";
    r = run(h, body, TSHOOT_RUN_APPLY, NULL);
  }
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_STR(r->message, "verify: still broken");
  CHECK_INT(r->verified, 0);
  CHECK_INT(r->rolled_back, 1);
  CHECK_INT(r->n_changes, 3);
  for (i = 0; i < r->n_changes; i++) CHECK_INT(r->changes[i].undone, 1);
  CHECK(machine_is_original());
  tshoot_run_free(r);
  CHECK_INT(tshoot_host_journal(&j, &n, h), TSHOOT_OK);
  CHECK_INT(n, 3);                     /* the audit log keeps undone changes */
  tshoot_host_free(h);
}

static void test_host__error_or_limit_in_apply_rolls_back(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  char body[2048];
  reset_machine();
  snprintf(body, sizeof body, "FAIL_APPLY = true\n%s", fix_body);
  r = run(h, body, TSHOOT_RUN_APPLY, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "test.lua:");
  CHECK_CONTAINS(r->message, "apply broke");
  CHECK_INT(r->rolled_back, 1);
  CHECK(machine_is_original());
  tshoot_run_free(r);

  reset_machine();
  {
    static const char loop[] =
      "local fix = {}\n"
      "function fix.apply() host.registry.set('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags', 1)\n"
      "  while true do end end\n"
      "function fix.verify() return host.registry.get('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags') == 1 end\n"
      "return fix\n";
    tshoot_limits lim = TSHOOT_LIMITS_INIT;
    lim.time_ms = 200;
    lim.instructions = 100000000ULL;
    r = NULL;
    CHECK_INT(tshoot_script_run(&r, h, "loop.lua", loop, strlen(loop), TSHOOT_RUN_APPLY, NULL, &lim), TSHOOT_OK);
    if (r) {
      CHECK_INT(r->status, TSHOOT_ELIMIT);
      CHECK_INT(r->rolled_back, 1);
    }
    CHECK(machine_is_original());
    tshoot_run_free(r);
  }
  tshoot_host_free(h);
}

static void test_host__fix_not_needed_is_not_applied(void)
{
  static const char body[] =
    "local fix = {}\n"
    "function fix.apply() host.registry.set('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags', 9) end\n"
    "function fix.verify() return host.registry.get('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags') ~= nil end\n"
    "return fix\n";
  tshoot_host *h = new_host();
  tshoot_run *r;
  reset_machine();
  r = run(h, body, TSHOOT_RUN_APPLY, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_INT(r->verified, 0);
  CHECK_CONTAINS(r->message, "its verify passes already");
  CHECK_INT(r->n_changes, 0);
  CHECK_INT(M.calls_set, 0);
  CHECK(machine_is_original());
  tshoot_run_free(r);
  tshoot_host_free(h);
}

static void test_host__confirmation(void)
{
  tshoot_host *h = new_host();
  tshoot_run *r;
  tshoot_fix_info fix;
  memset(&fix, 0, sizeof fix);
  fix.id = "kofmsp.fix.reg";
  fix.title = "Restore the registration";
  fix.needs_admin = 1;
  fix.reversible = 1;
  reset_machine();
  M.confirm = 0;
  r = run(h, fix_body, TSHOOT_RUN_APPLY, &fix);
  CHECK_INT(r->status, TSHOOT_EUSER);
  CHECK_CONTAINS(r->message, "not applied");
  CHECK_INT(r->n_changes, 0);
  CHECK_INT(M.calls_set, 0);
  CHECK(machine_is_original());
  tshoot_run_free(r);
  M.confirm = 1;
  r = run(h, fix_body, TSHOOT_RUN_APPLY, &fix);
  CHECK_INT(r->status, TSHOOT_OK);
  CHECK_INT(r->verified, 1);
  if (r->n_changes) CHECK_STR(r->changes[0].fix, "kofmsp.fix.reg");
  tshoot_run_free(r);
  tshoot_host_free(h);
}

static void test_host__no_host_and_bad_arguments(void)
{
  tshoot_run *r = NULL;
  tshoot_host *h = NULL;
  tshoot_host_ops ops;
  {
    static const char b[] = "return host.registry.get('HKLM\\\\X', 'y')";
    CHECK_INT(tshoot_script_run(&r, NULL, "x.lua", b, sizeof b - 1, TSHOOT_RUN_PROBE, NULL, NULL), TSHOOT_OK);
  }
  if (r) {
    CHECK_INT(r->status, TSHOOT_ERROR);
    CHECK_CONTAINS(r->message, "this host cannot read the registry");
  }
  tshoot_run_free(r);
  CHECK_INT(tshoot_script_run(&r, NULL, "x.lua", "return 1", 8, (tshoot_script_mode)9, NULL, NULL), TSHOOT_EINVALID);
  CHECK(r == NULL);
  memset(&ops, 0, sizeof ops);
  ops.version = 99;
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_EINVALID);
  CHECK(h == NULL);
  CHECK_CONTAINS(tshoot_error_last()->message, "accepts 1 to");
  ops.version = 0;
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_EINVALID);
  CHECK_INT(tshoot_host_new(&h, NULL), TSHOOT_EINVALID);
  ops.version = 1;                      /* every version up to the current one */
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
  tshoot_host_free(h);
  h = NULL;
  {
    tshoot_limits lim = TSHOOT_LIMITS_INIT;
    tshoot_run *lr = NULL;
    lim.version = 0;
    CHECK_INT(tshoot_script_run(&lr, NULL, "x.lua", "return 1", 8, TSHOOT_RUN_PROBE, NULL, &lim), TSHOOT_EINVALID);
    lim.version = TSHOOT_LIMITS_VERSION + 1;
    CHECK_INT(tshoot_script_run(&lr, NULL, "x.lua", "return 1", 8, TSHOOT_RUN_PROBE, NULL, &lim), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "tshoot_script_run: limits->version");
    CHECK(lr == NULL);
    lim.version = 1;                    /* every version up to the current one */
    CHECK_INT(tshoot_script_run(&lr, NULL, "x.lua", "return 1", 8, TSHOOT_RUN_PROBE, NULL, &lim), TSHOOT_OK);
    if (lr) CHECK_STR(lr->answer, "1");
    tshoot_run_free(lr);
  }
  {
    char *saved = NULL;
    CHECK_INT(tshoot_host_sim_save(&saved, h), TSHOOT_EINVALID);
    CHECK(saved == NULL);
  }
}

/* A NUL inside a host argument is refused: a C host would see the name cut
** short, and this delete would take all of HKLM\SOFTWARE. */
static void test_host__nul_in_an_argument_is_refused(void)
{
  static const char *const calls[] = {
    "host.registry.delete('HKLM\\\\SOFTWARE\\0\\\\Nothing')",
    "host.registry.set('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI', 'Flags\\0x', 1)",
    "host.registry.get('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI\\0', 'Flags')",
    "host.file.remove('C:\\\\Kerio\\\\kofmsp.dll\\0.txt')",
    "host.file.move('C:\\\\Kerio\\\\kofmsp.dll', 'C:\\\\x\\0y')",
    "host.ui.notify('a\\0b')",
  };
  size_t i;
  tshoot_host *h = new_host();
  for (i = 0; i < TS_ARRAY_LEN(calls); i++) {
    char body[512];
    tshoot_run *r;
    reset_machine();
    snprintf(body, sizeof body, "local fix = {}\nfunction fix.apply() %s; DONE = true end\n"
             "function fix.verify() return DONE end\nreturn fix\n", calls[i]);
    r = run(h, body, TSHOOT_RUN_APPLY, NULL);
    CHECK_INT(r->status, TSHOOT_ERROR);
    CHECK_CONTAINS(r->message, "NUL");
    CHECK_INT(r->n_changes, 0);
    CHECK(machine_is_original());
    CHECK(M.notified[0] == '\0');
    tshoot_run_free(r);
  }
  tshoot_host_free(h);
}

/* A host call that fails midway: the tree delete removes one value and then
** stops at one it may not delete, as RegDeleteTree can. What it did is put
** back from the snapshot taken before, and the message says so. */
static int half_delete(void *p, const char *key, const char *name)
{
  machine *m = p;
  entry *e = find(m, "HKLM\\SOFTWARE\\Kerio\\MAPI", "Flags");
  (void)key; (void)name;
  if (e) e->used = 0;
  return tshoot_host_error(TSHOOT_EUSER, "access denied to DllPath");
}

static int no_op_delete(void *p, const char *key, const char *name)
{
  (void)p; (void)key; (void)name;
  return tshoot_host_error(TSHOOT_EUSER, "access denied");
}

static void test_host__call_that_fails_midway_is_put_back(void)
{
  static const char body[] =
    "local fix = {}\n"
    "function fix.apply() host.registry.delete('HKLM\\\\SOFTWARE\\\\Kerio\\\\MAPI'); DONE = true end\n"
    "function fix.verify() return DONE end\n"
    "return fix\n";
  tshoot_host_ops ops;
  tshoot_host *h = NULL;
  tshoot_run *r;
  const tshoot_change *j;
  size_t n;
  memset(&ops, 0, sizeof ops);
  ops.version = TSHOOT_HOST_OPS_VERSION;
  ops.payload = &M;
  ops.registry_get = m_reg_get;
  ops.registry_set = m_reg_set;
  ops.registry_list = m_reg_list;
  ops.registry_delete = half_delete;
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
  reset_machine();
  r = run(h, body, TSHOOT_RUN_APPLY, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "access denied to DllPath");
  CHECK_CONTAINS(r->message, "put back");
  CHECK(machine_is_original());
  CHECK_INT(r->n_changes, 1);           /* it did change something: the journal says so */
  if (r->n_changes == 1) CHECK_INT(r->changes[0].undone, 1);
  CHECK_INT(r->rolled_back, 1);
  tshoot_run_free(r);
  tshoot_host_free(h);

  /* a call that fails having done nothing leaves no record and writes nothing */
  ops.registry_delete = no_op_delete;
  CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
  reset_machine();
  r = run(h, body, TSHOOT_RUN_APPLY, NULL);
  CHECK_INT(r->status, TSHOOT_ERROR);
  CHECK_CONTAINS(r->message, "host registry.delete failed: access denied");
  CHECK(strstr(r->message, "put back") == NULL);
  CHECK_INT(M.calls_set, 0);
  CHECK_INT(r->n_changes, 0);
  CHECK_INT(r->rolled_back, 0);
  CHECK(machine_is_original());
  tshoot_run_free(r);
  CHECK_INT(tshoot_host_journal(&j, &n, h), TSHOOT_OK);
  CHECK_INT(n, 0);
  tshoot_host_free(h);
}

static int machine_is_fixed(void)
{
  entry *b = find(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI", "Flags");
  return b && b->i == 9 && key_exists(&M, "HKLM\\SOFTWARE\\Kerio\\MAPI\\New") &&
         ffind(&M, "C:\\Kerio\\kofmsp.dll") == NULL;
}

/* Every allocation failing in turn, one at a time, over a fix apply on an
** embedder's host: each run ends in a clean error or a correct result, and
** the machine is exactly as it was (or exactly fixed, when verified). The
** journal record of every change is made before the change. */
static void test_host__allocation_failures_roll_back_exactly(void)
{
  int fail_apply;
  for (fail_apply = 0; fail_apply < 2; fail_apply++) {
    char body[2048];
    long k;
    int done = 0;
    snprintf(body, sizeof body, "%s%s", fail_apply ? "FAIL_APPLY = true\n" : "", fix_body);
    for (k = 0; k < 100000 && !done; k++) {
      tshoot_host *h;
      tshoot_run *r = NULL;
      tshoot_limits lim = TSHOOT_LIMITS_INIT;
      int rc, ok;
      reset_machine();
      h = new_host();
      ts_alloc_fail_once(k);
      rc = tshoot_script_run(&r, h, "test.lua", body, strlen(body), TSHOOT_RUN_APPLY, NULL, &lim);
      done = ts_alloc_fail_once(-1) >= 0;      /* nothing failed: the last round */
      if (rc != TSHOOT_OK) {
        CHECK_INT(rc, TSHOOT_ENOMEM);
        CHECK(r == NULL);
        ok = machine_is_original();
      } else if (r->verified) {
        ok = !fail_apply && machine_is_fixed();
      } else {
        ok = machine_is_original() && !strstr(r->message, "rollback failed");
      }
      if (!ok) {
        fprintf(stderr, "allocation %ld (fail_apply %d): rc %d, %s\n", k, fail_apply, rc,
                r ? r->message : tshoot_error_last()->message);
        CHECK(0);
        done = 1;
      }
      if (done && rc == TSHOOT_OK) CHECK_INT(r->verified, !fail_apply);
      tshoot_run_free(r);
      tshoot_host_free(h);
    }
    CHECK(done);
  }
}

/* A fault-injecting host: the n-th change (set, delete, move) fails, before
** it changes anything, as a host call that is refused would. */
static int fault_n, fault_calls;
static int fault_hit(void) { return ++fault_calls == fault_n; }
static int f_reg_set(void *p, const char *key, const char *name, const tshoot_reg_value *v)
{
  if (fault_hit()) return tshoot_host_error(TSHOOT_EIO, "injected: the write failed");
  return m_reg_set(p, key, name, v);
}
static int f_reg_delete(void *p, const char *key, const char *name)
{
  if (fault_hit()) return tshoot_host_error(TSHOOT_EIO, "injected: the delete failed");
  return m_reg_delete(p, key, name);
}
static int f_file_move(void *p, const char *from, const char *to)
{
  if (fault_hit()) return tshoot_host_error(TSHOOT_EIO, "injected: the move failed");
  return m_file_move(p, from, to);
}

/* Every change of a fix failing in turn (the first, the second, ... until
** none is left to fail): each run ends in an error, rolled back, with the
** machine exactly as it was; the last run verifies and the machine is fixed. */
static void test_host__nth_change_fails_rolls_back_exactly(void)
{
  int n, done = 0;
  for (n = 1; n < 100 && !done; n++) {
    tshoot_host_ops ops;
    tshoot_host *h = NULL;
    tshoot_run *r = NULL;
    tshoot_limits lim = TSHOOT_LIMITS_INIT;
    memset(&ops, 0, sizeof ops);
    ops.version = TSHOOT_HOST_OPS_VERSION;
    ops.payload = &M;
    ops.registry_get = m_reg_get;
    ops.registry_set = f_reg_set;
    ops.registry_delete = f_reg_delete;
    ops.registry_list = m_reg_list;
    ops.file_stat = m_file_stat;
    ops.file_move = f_file_move;
    ops.ui_confirm = m_confirm;
    ops.ui_notify = m_notify;
    ops.system_info = m_system;
    ops.process_list = m_fail;
    ops.quarantine_dir = "Q:\\quarantine";
    reset_machine();
    CHECK_INT(tshoot_host_new(&h, &ops), TSHOOT_OK);
    if (!h) return;
    fault_n = n;
    fault_calls = 0;
    CHECK_INT(tshoot_script_run(&r, h, "test.lua", fix_body, sizeof fix_body - 1, TSHOOT_RUN_APPLY, NULL, &lim),
              TSHOOT_OK);
    done = fault_calls < n;              /* no call was failed: the fix ran through */
    if (r && done) {
      CHECK_INT(r->verified, 1);
      CHECK(machine_is_fixed());
    } else if (r) {
      CHECK_INT(r->verified, 0);
      CHECK_CONTAINS(r->message, "injected");
      CHECK(strstr(r->message, "rollback failed") == NULL);
      if (!machine_is_original()) fprintf(stderr, "change %d failed: machine not restored\n", n);
      CHECK(machine_is_original());
    }
    tshoot_run_free(r);
    tshoot_host_free(h);
  }
  CHECK(done);
  CHECK(n > 4);                          /* the fix makes at least 4 changes */
}

/* Memory running out for good at every point of an apply that fails: the
** rollback then fails too, and building "and the rollback failed" runs out
** as well. The run still ends cleanly, with a message (it used to free the
** message it was copying). */
static void test_host__memory_gone_during_rollback(void)
{
  char body[2048];
  long k;
  int done = 0;
  snprintf(body, sizeof body, "FAIL_APPLY = true\n%s", fix_body);
  for (k = 0; k < 100000 && !done; k++) {
    tshoot_host *h;
    tshoot_run *r = NULL;
    tshoot_limits lim = TSHOOT_LIMITS_INIT;
    int rc;
    reset_machine();
    h = new_host();
    ts_alloc_fail_after(k);
    rc = tshoot_script_run(&r, h, "test.lua", body, strlen(body), TSHOOT_RUN_APPLY, NULL, &lim);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) {
      CHECK(r->message != NULL);
      CHECK(r->status != TSHOOT_OK);
      done = r->rolled_back && machine_is_original() && strstr(r->message, "apply broke") != NULL;
    } else {
      CHECK_INT(rc, TSHOOT_ENOMEM);
    }
    tshoot_run_free(r);
    tshoot_host_free(h);
  }
  CHECK(done);
}

int main(void)
{
  RUN(test_host__deep_json_reply_refused);
  RUN(test_host__nth_change_fails_rolls_back_exactly);
  RUN(test_host__probe_reads_registry_files_system);
  RUN(test_host__errors_name_what_failed);
  RUN(test_host__plan_changes_nothing);
  RUN(test_host__apply_verify_journal);
  RUN(test_host__failed_verify_rolls_back_exactly);
  RUN(test_host__error_or_limit_in_apply_rolls_back);
  RUN(test_host__fix_not_needed_is_not_applied);
  RUN(test_host__confirmation);
  RUN(test_host__no_host_and_bad_arguments);
  RUN(test_host__nul_in_an_argument_is_refused);
  RUN(test_host__call_that_fails_midway_is_put_back);
  RUN(test_host__allocation_failures_roll_back_exactly);
  RUN(test_host__memory_gone_during_rollback);
  TEST_EXIT();
}
