/*
** test-host-sim.c: the simulated host on tests/data/machines/sim-basic.json:
** every callback's answers, lookups without regard to case, changes seen by
** later reads, faults.ignore_writes, saving (round trip byte for byte, and a
** change with its exact undo saves as the original), malformed descriptions
** refused with the place named, confirmations, the person at the machine
** (acts once on a confirmation that matches, outside the faults; done survives
** save and load; bad actions refused with the place), and out-of-memory paths.
*/
#include "tshoot.h"
#include "tshoot_int.h"
#include "host_sim.h"
#include "test.h"

static char *basic_json;
static size_t basic_len;

typedef struct sim_t {
  ts_sim *sim;
  tshoot_host_ops ops;
  tshoot_reply r;
} sim_t;

static int sim_open(sim_t *t)
{
  int rc;
  memset(t, 0, sizeof *t);
  ts_reply_init(&t->r);
  rc = ts_sim_new(&t->sim, basic_json, basic_len, "sim-basic.json");
  if (rc != TSHOOT_OK) {
    fprintf(stderr, "sim-basic.json: %s\n", tshoot_error_last()->message);
    return rc;
  }
  ts_sim_ops(t->sim, &t->ops);
  return TSHOOT_OK;
}

static void sim_close(sim_t *t)
{
  ts_reply_clear(&t->r);
  ts_sim_free(t->sim);
  t->sim = NULL;
}

static char *save(sim_t *t)
{
  char *s = NULL;
  CHECK_INT(ts_sim_save(&s, t->sim), TSHOOT_OK);
  return s;
}

/* The reply as text: "nil", "int:N", "str:S", "json:J", "bool:B". */
static const char *reply_text(sim_t *t)
{
  static char buf[4096];
  switch (t->r.kind) {
  case TS_REPLY_NIL: snprintf(buf, sizeof buf, "nil"); break;
  case TS_REPLY_BOOL: snprintf(buf, sizeof buf, "bool:%d", t->r.b); break;
  case TS_REPLY_INT: snprintf(buf, sizeof buf, "int:%lld", t->r.i); break;
  case TS_REPLY_NUMBER: snprintf(buf, sizeof buf, "number:%g", t->r.d); break;
  case TS_REPLY_STRING: snprintf(buf, sizeof buf, "str:%s", t->r.s); break;
  case TS_REPLY_JSON: snprintf(buf, sizeof buf, "json:%s", t->r.s); break;
  }
  return buf;
}

static const char *reg_get(sim_t *t, const char *key, const char *name)
{
  ts_reply_clear(&t->r);
  CHECK_INT(t->ops.registry_get(t->ops.payload, key, name, &t->r), TSHOOT_OK);
  return reply_text(t);
}

static const char *reg_list(sim_t *t, const char *key)
{
  ts_reply_clear(&t->r);
  CHECK_INT(t->ops.registry_list(t->ops.payload, key, &t->r), TSHOOT_OK);
  return reply_text(t);
}

static const char *stat_(sim_t *t, const char *path)
{
  ts_reply_clear(&t->r);
  CHECK_INT(t->ops.file_stat(t->ops.payload, path, &t->r), TSHOOT_OK);
  return reply_text(t);
}

static const char *list(sim_t *t, const char *path)
{
  ts_reply_clear(&t->r);
  CHECK_INT(t->ops.file_list(t->ops.payload, path, &t->r), TSHOOT_OK);
  return reply_text(t);
}

static const char *svc(sim_t *t, const char *name)
{
  ts_reply_clear(&t->r);
  CHECK_INT(t->ops.service_get(t->ops.payload, name, &t->r), TSHOOT_OK);
  return reply_text(t);
}

static int set_s(sim_t *t, const char *key, const char *name, const char *s)
{
  tshoot_reg_value v = { 0, 0, s };
  return t->ops.registry_set(t->ops.payload, key, name, &v);
}

static int set_i(sim_t *t, const char *key, const char *name, long long i)
{
  tshoot_reg_value v = { 1, i, NULL };
  return t->ops.registry_set(t->ops.payload, key, name, &v);
}

#define KEY_PROV "HKLM\\SOFTWARE\\Example\\Provider"
#define DLL "C:\\Program Files\\Example\\provider.dll"
#define DLL_STAT "json:{\"mtime\":1700000000,\"sha256\":\"3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea\"," \
  "\"signature\":{\"signed\":true,\"signer\":\"Example Ltd\",\"valid\":true},\"size\":1843200,\"version\":\"9.2.4.3252\"}"

static void test_sim__ops_are_complete(void)
{
  sim_t t;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  CHECK_INT(t.ops.version, TSHOOT_HOST_OPS_VERSION);
  CHECK(t.ops.payload == t.sim);
  CHECK(t.ops.registry_get && t.ops.registry_set && t.ops.registry_delete && t.ops.registry_list);
  CHECK(t.ops.file_stat && t.ops.file_list && t.ops.file_move && t.ops.process_list);
  CHECK(t.ops.service_get && t.ops.service_control && t.ops.system_info);
  CHECK(t.ops.ui_confirm && t.ops.ui_progress && t.ops.ui_notify);
  CHECK_STR(t.ops.quarantine_dir, "C:\\ProgramData\\tshoot\\quarantine");
  CHECK_INT(t.ops.ui_progress(t.ops.payload, 0.5, "half"), TSHOOT_OK);
  CHECK_INT(t.ops.ui_notify(t.ops.payload, "hello"), TSHOOT_OK);
  sim_close(&t);
}

static void test_sim__registry_reads(void)
{
  sim_t t;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  CHECK_STR(reg_get(&t, KEY_PROV, "DllPath"), "str:" DLL);
  CHECK_STR(reg_get(&t, KEY_PROV, "Enabled"), "int:1");
  CHECK_STR(reg_get(&t, KEY_PROV, ""), "str:default value");
  CHECK_STR(reg_get(&t, KEY_PROV, NULL), "str:default value");
  /* keys and value names without regard to case */
  CHECK_STR(reg_get(&t, "hklm\\software\\EXAMPLE\\provider", "dllpath"), "str:" DLL);
  /* missing: nothing, not an error */
  CHECK_STR(reg_get(&t, KEY_PROV, "Nope"), "nil");
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\Nope", "DllPath"), "nil");
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\Example", "x"), "nil");     /* implicit key */
  CHECK_STR(reg_list(&t, KEY_PROV),
            "json:{\"subkeys\":[\"Options\"],\"values\":{\"\":\"default value\",\"DllPath\":\"" "C:\\\\Program Files\\\\Example\\\\provider.dll"
            "\",\"Enabled\":1}}");
  CHECK_STR(reg_list(&t, "hklm\\software"), "json:{\"subkeys\":[\"Example\",\"Policies\"],\"values\":{}}");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Example"), "json:{\"subkeys\":[\"Empty\",\"Provider\"],\"values\":{}}");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Example\\Empty"), "json:{\"subkeys\":[],\"values\":{}}");
  CHECK_STR(reg_list(&t, "HKLM"), "json:{\"subkeys\":[\"SOFTWARE\"],\"values\":{}}");
  CHECK_STR(reg_list(&t, "HKCC"), "json:{\"subkeys\":[],\"values\":{}}");     /* hives always exist */
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Nope"), "nil");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Exam"), "nil");                     /* a prefix is not a key */
  /* malformed keys are refused, with the reason in the reply and the error */
  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.registry_get(t.ops.payload, "SOFTWARE\\x", "v", &t.r), TSHOOT_EINVALID);
  CHECK_CONTAINS(t.r.error, "must start with a hive");
  CHECK_CONTAINS(tshoot_error_last()->message, "registry.get: 'SOFTWARE\\x'");
  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.registry_list(t.ops.payload, "HKLM\\\\x", &t.r), TSHOOT_EINVALID);
  CHECK_CONTAINS(t.r.error, "empty part");
  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.registry_list(t.ops.payload, "HKLM\\x\\", &t.r), TSHOOT_EINVALID);
  sim_close(&t);
}

static void test_sim__files_processes_services_system(void)
{
  sim_t t;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  CHECK_STR(stat_(&t, DLL), DLL_STAT);
  CHECK_STR(stat_(&t, "c:/program files/example/PROVIDER.DLL"), DLL_STAT);   /* case, slashes */
  CHECK_STR(stat_(&t, "C:\\Program Files\\Example\\readme.txt"), "json:{\"size\":120}");
  CHECK_STR(stat_(&t, "C:\\Windows\\System32\\provider.dll"), "json:{\"signature\":{\"signed\":false},\"size\":2000}");
  CHECK_STR(stat_(&t, "C:\\Program Files\\Example"), "json:{\"folder\":true}");
  CHECK_STR(stat_(&t, "C:\\Program Files\\Example\\"), "json:{\"folder\":true}");
  CHECK_STR(stat_(&t, "C:\\"), "json:{\"folder\":true}");
  CHECK_STR(stat_(&t, "C:\\Program Files\\Example\\nope.dll"), "nil");
  CHECK_STR(stat_(&t, "C:\\Program Files\\Exam"), "nil");
  CHECK_STR(stat_(&t, "D:\\"), "nil");
  CHECK_STR(list(&t, "C:\\Program Files\\Example"), "json:[\"Plugins\",\"provider.dll\",\"readme.txt\"]");
  CHECK_STR(list(&t, "c:\\PROGRAM FILES\\"), "json:[\"Example\"]");
  CHECK_STR(list(&t, "C:"), "json:[\"Program Files\",\"Windows\"]");
  CHECK_STR(list(&t, "C:\\Program Files\\Example\\provider.dll"), "nil");     /* a file, not a folder */
  CHECK_STR(list(&t, "C:\\Nope"), "nil");
  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.file_stat(t.ops.payload, "", &t.r), TSHOOT_EINVALID);
  CHECK_CONTAINS(t.r.error, "empty path");

  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.process_list(t.ops.payload, &t.r), TSHOOT_OK);
  CHECK_STR(reply_text(&t), "json:[{\"modules\":[\"C:\\\\Program Files\\\\Example\\\\provider.dll\"],\"name\":\"OUTLOOK.EXE\","
            "\"path\":\"C:\\\\Program Files\\\\Microsoft Office\\\\root\\\\Office16\\\\OUTLOOK.EXE\",\"pid\":4242},"
            "{\"name\":\"System\",\"pid\":4}]");

  CHECK_STR(svc(&t, "ExampleSvc"), "json:{\"path\":\"C:\\\\Program Files\\\\Example\\\\svc.exe\",\"start\":\"auto\",\"status\":\"running\"}");
  CHECK_STR(svc(&t, "spooler"), "json:{\"start\":\"manual\",\"status\":\"stopped\"}");
  CHECK_STR(svc(&t, "Nope"), "nil");

  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.system_info(t.ops.payload, &t.r), TSHOOT_OK);
  CHECK_STR(reply_text(&t), "json:{\"admin\":true,\"arch\":\"x64\",\"hostname\":\"PC-TEST\","
            "\"os\":{\"build\":19045,\"edition\":\"Pro\",\"name\":\"Windows\",\"version\":\"10.0\"},\"user\":\"tester\"}");
  sim_close(&t);
}

static void test_sim__empty_machine(void)
{
  ts_sim *s = NULL;
  tshoot_host_ops ops;
  tshoot_reply r;
  char *out = NULL;
  ts_reply_init(&r);
  CHECK_INT(ts_sim_new(&s, "{}", 2, "empty.json"), TSHOOT_OK);
  if (!s) return;
  ts_sim_ops(s, &ops);
  CHECK_INT(ops.system_info(ops.payload, &r), TSHOOT_OK);
  CHECK_STR(r.s, "{}");
  ts_reply_clear(&r);
  CHECK_INT(ops.process_list(ops.payload, &r), TSHOOT_OK);
  CHECK_STR(r.s, "[]");
  ts_reply_clear(&r);
  CHECK_INT(ops.ui_confirm(ops.payload, "ok?", &r), TSHOOT_OK);
  CHECK_INT(r.kind, TS_REPLY_BOOL);
  CHECK_INT(r.b, 1);
  ts_reply_clear(&r);
  CHECK_INT(ts_sim_save(&out, s), TSHOOT_OK);
  CHECK_STR(out, "{}\n");
  ts_free(out);
  ts_sim_free(s);
}

static void test_sim__confirm(void)
{
  sim_t t;
  ts_sim *s = NULL;
  char *out;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.ui_confirm(t.ops.payload, "Apply?", &t.r), TSHOOT_OK);
  CHECK_STR(reply_text(&t), "bool:1");
  ts_sim_set_confirm(t.sim, 0);
  ts_reply_clear(&t.r);
  CHECK_INT(t.ops.ui_confirm(t.ops.payload, "Apply?", &t.r), TSHOOT_OK);
  CHECK_STR(reply_text(&t), "bool:0");
  out = save(&t);
  CHECK_CONTAINS(out, "\"confirm\": false");
  /* a machine that says no, saved and loaded, still says no */
  CHECK_INT(ts_sim_new(&s, out, strlen(out), "saved"), TSHOOT_OK);
  if (s) {
    tshoot_host_ops ops;
    ts_sim_ops(s, &ops);
    ts_reply_clear(&t.r);
    CHECK_INT(ops.ui_confirm(ops.payload, "Apply?", &t.r), TSHOOT_OK);
    CHECK_STR(reply_text(&t), "bool:0");
    ts_sim_free(s);
  }
  ts_free(out);
  ts_sim_set_confirm(t.sim, 1);
  out = save(&t);
  CHECK(!strstr(out, "confirm"));                 /* the default is not written */
  ts_free(out);
  sim_close(&t);
}

static void test_sim__registry_changes(void)
{
  sim_t t;
  char *out;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  /* a new value, then an existing one in another case: the name keeps its case */
  CHECK_INT(set_s(&t, KEY_PROV, "Extra", "x"), TSHOOT_OK);
  CHECK_STR(reg_get(&t, KEY_PROV, "extra"), "str:x");
  CHECK_INT(set_i(&t, KEY_PROV, "DLLPATH", 7), TSHOOT_OK);
  CHECK_STR(reg_get(&t, KEY_PROV, "DllPath"), "int:7");
  CHECK_STR(reg_list(&t, KEY_PROV), "json:{\"subkeys\":[\"Options\"],\"values\":{\"\":\"default value\",\"DllPath\":7,"
            "\"Enabled\":1,\"Extra\":\"x\"}}");
  /* a value in a new key: the key is made, in the case of the keys above it */
  CHECK_INT(set_i(&t, "hklm\\software\\example\\New\\Deeper", "N", -5), TSHOOT_OK);
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\Example\\New\\Deeper", "n"), "int:-5");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Example"), "json:{\"subkeys\":[\"Empty\",\"New\",\"Provider\"],\"values\":{}}");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Example\\new"), "json:{\"subkeys\":[\"Deeper\"],\"values\":{}}");
  out = save(&t);
  CHECK_CONTAINS(out, "\"HKLM\\\\SOFTWARE\\\\Example\\\\New\\\\Deeper\": {");
  ts_free(out);
  /* in a hive with nothing in it yet, the hive is written as Windows does */
  CHECK_INT(set_i(&t, "hkcc\\System", "x", 1), TSHOOT_OK);
  CHECK_STR(reg_list(&t, "HKCC"), "json:{\"subkeys\":[\"System\"],\"values\":{}}");
  out = save(&t);
  CHECK_CONTAINS(out, "\"HKCC\\\\System\": {");
  ts_free(out);
  /* a key alone (name NULL): made empty */
  CHECK_INT(t.ops.registry_set(t.ops.payload, "HKCU\\Software\\Made", NULL, NULL), TSHOOT_OK);
  CHECK_STR(reg_list(&t, "HKCU\\Software\\Made"), "json:{\"subkeys\":[],\"values\":{}}");
  /* deleting a value, a missing value, a missing key: fine */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, KEY_PROV, "extra"), TSHOOT_OK);
  CHECK_STR(reg_get(&t, KEY_PROV, "Extra"), "nil");
  CHECK_INT(t.ops.registry_delete(t.ops.payload, KEY_PROV, "extra"), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE\\Nope", NULL), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE\\Nope", "v"), TSHOOT_OK);
  /* deleting a key takes everything under it, but not its neighbours */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "hklm\\software\\example\\provider", NULL), TSHOOT_OK);
  CHECK_STR(reg_list(&t, KEY_PROV), "nil");
  CHECK_STR(reg_list(&t, KEY_PROV "\\Options"), "nil");
  CHECK_STR(reg_get(&t, KEY_PROV "\\Options", "Level"), "nil");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE\\Example"), "json:{\"subkeys\":[\"Empty\",\"New\"],\"values\":{}}");
  /* the parent of a deleted key stays, even with nothing else in it */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKCU\\Software\\Example", NULL), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKCU\\Software\\Made", NULL), TSHOOT_OK);
  CHECK_STR(reg_list(&t, "HKCU\\Software"), "json:{\"subkeys\":[],\"values\":{}}");
  CHECK_STR(reg_list(&t, "HKCU"), "json:{\"subkeys\":[\"Software\"],\"values\":{}}");
  /* refused: a hive, a value without a value, bad UTF-8 */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM", NULL), TSHOOT_EINVALID);
  CHECK_INT(set_s(&t, "HKLM", "x", "y"), TSHOOT_EINVALID);
  CHECK_INT(t.ops.registry_set(t.ops.payload, KEY_PROV, "x", NULL), TSHOOT_EINVALID);
  CHECK_INT(set_s(&t, KEY_PROV, "x", "\xff\xfe"), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "UTF-8");
  sim_close(&t);
}

static int move(sim_t *t, const char *from, const char *to)
{
  return t->ops.file_move(t->ops.payload, from, to);
}

static void test_sim__file_moves_and_services(void)
{
  sim_t t;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  CHECK_INT(move(&t, DLL, "C:\\ProgramData\\tshoot\\quarantine\\provider.dll.1"), TSHOOT_OK);
  CHECK_STR(stat_(&t, DLL), "nil");
  CHECK_STR(stat_(&t, "c:\\programdata\\TSHOOT\\quarantine\\provider.dll.1"), DLL_STAT);
  CHECK_STR(list(&t, "C:\\ProgramData\\tshoot\\quarantine"), "json:[\"provider.dll.1\"]");
  CHECK_STR(list(&t, "C:\\Program Files\\Example"), "json:[\"Plugins\",\"readme.txt\"]");
  /* missing source, existing target */
  CHECK_INT(move(&t, DLL, "C:\\x.dll"), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "file.move: there is no file or folder 'C:\\Program Files\\Example\\provider.dll'");
  CHECK_INT(move(&t, "C:\\Program Files\\Example\\readme.txt", "C:\\programdata\\tshoot\\quarantine\\PROVIDER.dll.1"), TSHOOT_ERROR);
  CHECK_CONTAINS(tshoot_error_last()->message, "already exists");
  CHECK_INT(move(&t, "C:\\Program Files\\Example\\readme.txt", "C:\\Program Files\\Example\\Plugins"), TSHOOT_ERROR);
  CHECK_INT(move(&t, "C:\\Program Files\\Example\\readme.txt", "C:\\Program Files\\Example\\Plugins\\extra.dll\\x"), TSHOOT_ERROR);
  CHECK_CONTAINS(tshoot_error_last()->message, "is a file");
  CHECK_INT(move(&t, "C:\\Program Files\\Example", "C:\\Program Files\\Example\\Sub"), TSHOOT_EINVALID);
  /* back, then a folder, then a change of case */
  CHECK_INT(move(&t, "C:\\ProgramData\\tshoot\\quarantine\\provider.dll.1", DLL), TSHOOT_OK);
  CHECK_STR(stat_(&t, DLL), DLL_STAT);
  CHECK_STR(stat_(&t, "C:\\ProgramData"), "nil");           /* emptied folders are gone */
  CHECK_INT(move(&t, "C:\\Program Files\\Example\\Plugins", "c:\\program files\\Addons"), TSHOOT_OK);
  CHECK_STR(list(&t, "C:\\Program Files"), "json:[\"Addons\",\"Example\"]");
  CHECK_STR(stat_(&t, "C:\\Program Files\\Addons\\extra.dll"), "json:{\"version\":\"1.0\"}");
  CHECK_INT(move(&t, "C:\\Program Files\\Example\\readme.txt", "C:\\Program Files\\Example\\README.TXT"), TSHOOT_OK);
  CHECK_STR(list(&t, "C:\\Program Files\\Example"), "json:[\"provider.dll\",\"README.TXT\"]");

  /* services */
  CHECK_INT(t.ops.service_control(t.ops.payload, "examplesvc", "stop"), TSHOOT_OK);
  CHECK_CONTAINS(svc(&t, "ExampleSvc"), "\"status\":\"stopped\"");
  CHECK_INT(t.ops.service_control(t.ops.payload, "ExampleSvc", "start"), TSHOOT_OK);
  CHECK_CONTAINS(svc(&t, "ExampleSvc"), "\"status\":\"running\"");
  CHECK_INT(t.ops.service_control(t.ops.payload, "Spooler", "start"), TSHOOT_OK);
  CHECK_CONTAINS(svc(&t, "Spooler"), "\"status\":\"running\"");
  CHECK_INT(t.ops.service_control(t.ops.payload, "OldSvc", "start"), TSHOOT_ERROR);
  CHECK_CONTAINS(tshoot_error_last()->message, "disabled");
  CHECK_CONTAINS(svc(&t, "OldSvc"), "\"status\":\"stopped\"");
  CHECK_INT(t.ops.service_control(t.ops.payload, "Nope", "start"), TSHOOT_ENOTFOUND);
  CHECK_CONTAINS(tshoot_error_last()->message, "service.start: there is no service 'Nope'");
  CHECK_INT(t.ops.service_control(t.ops.payload, "Spooler", "restart"), TSHOOT_EINVALID);
  sim_close(&t);
}

static void test_sim__ignore_writes(void)
{
  sim_t t;
  char *before, *after;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  before = save(&t);
  CHECK_INT(set_i(&t, "HKLM\\SOFTWARE\\Policies\\Example", "Locked", 0), TSHOOT_OK);
  CHECK_INT(set_i(&t, "hklm\\software\\policies", "New", 1), TSHOOT_OK);
  CHECK_INT(set_i(&t, "HKLM\\SOFTWARE\\Policies\\Example\\Sub", "New", 1), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE\\Policies\\Example", "Locked"), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE\\Policies", NULL), TSHOOT_OK);
  CHECK_INT(move(&t, "C:\\Windows\\System32\\provider.dll", "C:\\x.dll"), TSHOOT_OK);
  CHECK_INT(move(&t, "C:\\Program Files\\Example\\readme.txt", "C:\\Windows\\System32\\readme.txt"), TSHOOT_OK);
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\Policies\\Example", "Locked"), "int:1");
  CHECK_STR(stat_(&t, "C:\\Windows\\System32\\provider.dll"), "json:{\"signature\":{\"signed\":false},\"size\":2000}");
  CHECK_STR(stat_(&t, "C:\\x.dll"), "nil");
  after = save(&t);
  CHECK_STR(after, before);
  ts_free(after);
  /* a prefix is a whole part: "PoliciesX" is not under "Policies" */
  CHECK_INT(set_i(&t, "HKLM\\SOFTWARE\\PoliciesX", "v", 1), TSHOOT_OK);
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\PoliciesX", "v"), "int:1");
  /* deleting a key above an ignored one keeps the ignored one */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE", NULL), TSHOOT_OK);
  CHECK_STR(reg_get(&t, KEY_PROV, "Enabled"), "nil");
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\PoliciesX", "v"), "nil");
  CHECK_STR(reg_get(&t, "HKLM\\SOFTWARE\\Policies\\Example", "Locked"), "int:1");
  CHECK_STR(reg_list(&t, "HKLM\\SOFTWARE"), "json:{\"subkeys\":[\"Policies\"],\"values\":{}}");
  ts_free(before);
  sim_close(&t);
}

static void test_sim__save_round_trip(void)
{
  sim_t t;
  ts_sim *s2 = NULL;
  char *a, *b = NULL;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  a = save(&t);
  CHECK_INT(ts_sim_new(&s2, a, strlen(a), "saved.json"), TSHOOT_OK);
  if (s2) CHECK_INT(ts_sim_save(&b, s2), TSHOOT_OK);
  CHECK_STR(b, a);
  /* sorted, names in their own case, the comments kept */
  CHECK_CONTAINS(a, "\"HKCU\\\\Software\\\\Example\": {\n      \"LastUser\": \"tester\"\n    },\n"
                 "    \"HKLM\\\\SOFTWARE\\\\Example\\\\Empty\": {},\n");
  CHECK_CONTAINS(a, "\"comment\": \"the good copy\"");
  CHECK_CONTAINS(a, "\"comment\": \"cannot be started\"");
  CHECK_CONTAINS(a, "\"machine\": \"sim-basic\"");
  CHECK_CONTAINS(a, "\"ignore_writes\": [\n      \"HKLM\\\\SOFTWARE\\\\Policies\",");
  ts_free(a);
  ts_free(b);
  ts_sim_free(s2);
  sim_close(&t);
  {
    /* a key without values with keys under it is implied, so not written */
    static const char implied[] = "{\"registry\": {\"HKLM\\\\A\": {}, \"HKLM\\\\A\\\\B\": {}, \"HKLM\\\\C\": {\"v\": 1}, "
                                  "\"HKLM\\\\C\\\\D\": {}}}";
    ts_sim *s = NULL;
    char *out = NULL;
    CHECK_INT(ts_sim_new(&s, implied, strlen(implied), "implied.json"), TSHOOT_OK);
    if (s) CHECK_INT(ts_sim_save(&out, s), TSHOOT_OK);
    CHECK_STR(out, "{\n  \"registry\": {\n    \"HKLM\\\\A\\\\B\": {},\n    \"HKLM\\\\C\": {\n      \"v\": 1\n    },\n"
              "    \"HKLM\\\\C\\\\D\": {}\n  }\n}\n");
    ts_free(out);
    ts_sim_free(s);
  }
}

/* Each change followed by its exact undo (as the journal does it) saves as
** the machine did before. */
static void test_sim__change_and_undo_save_the_same(void)
{
  sim_t t;
  char *orig, *now;
  if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
  orig = save(&t);

  /* change a value, put it back */
  CHECK_INT(set_s(&t, KEY_PROV, "dllpath", "D:\\other.dll"), TSHOOT_OK);
  CHECK_INT(set_s(&t, KEY_PROV, "DllPath", DLL), TSHOOT_OK);
  /* a new value, deleted */
  CHECK_INT(set_i(&t, KEY_PROV, "New", 1), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, KEY_PROV, "New"), TSHOOT_OK);
  /* a value in new keys, undone by deleting the topmost key made */
  CHECK_INT(set_i(&t, "HKLM\\SOFTWARE\\Vendor\\A\\B", "N", 1), TSHOOT_OK);
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE\\Vendor", NULL), TSHOOT_OK);
  /* a deleted value, put back */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, KEY_PROV, "Enabled"), TSHOOT_OK);
  CHECK_INT(set_i(&t, KEY_PROV, "Enabled", 1), TSHOOT_OK);
  /* a deleted key with everything under it, rebuilt key by key */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, KEY_PROV, NULL), TSHOOT_OK);
  CHECK_INT(t.ops.registry_set(t.ops.payload, KEY_PROV, NULL, NULL), TSHOOT_OK);
  CHECK_INT(set_s(&t, KEY_PROV, "", "default value"), TSHOOT_OK);
  CHECK_INT(set_s(&t, KEY_PROV, "DllPath", DLL), TSHOOT_OK);
  CHECK_INT(set_i(&t, KEY_PROV, "Enabled", 1), TSHOOT_OK);
  CHECK_INT(t.ops.registry_set(t.ops.payload, KEY_PROV "\\Options", NULL, NULL), TSHOOT_OK);
  CHECK_INT(set_i(&t, KEY_PROV "\\Options", "Level", 3), TSHOOT_OK);
  /* the only key under its parent, deleted and rebuilt */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKCU\\Software\\Example", NULL), TSHOOT_OK);
  now = save(&t);
  CHECK(strcmp(now, orig) != 0);
  ts_free(now);
  CHECK_INT(t.ops.registry_set(t.ops.payload, "HKCU\\Software\\Example", NULL, NULL), TSHOOT_OK);
  CHECK_INT(set_s(&t, "HKCU\\Software\\Example", "LastUser", "tester"), TSHOOT_OK);
  /* an empty key, deleted and made again */
  CHECK_INT(t.ops.registry_delete(t.ops.payload, "HKLM\\SOFTWARE\\Example\\Empty", NULL), TSHOOT_OK);
  CHECK_INT(t.ops.registry_set(t.ops.payload, "HKLM\\SOFTWARE\\Example\\Empty", NULL, NULL), TSHOOT_OK);
  /* a file to the quarantine and back; a folder moved and back */
  CHECK_INT(move(&t, DLL, "C:\\ProgramData\\tshoot\\quarantine\\provider.dll.1"), TSHOOT_OK);
  CHECK_INT(move(&t, "C:\\ProgramData\\tshoot\\quarantine\\provider.dll.1", DLL), TSHOOT_OK);
  CHECK_INT(move(&t, "C:\\Program Files\\Example", "C:\\Old"), TSHOOT_OK);
  CHECK_INT(move(&t, "C:\\Old", "C:\\Program Files\\Example"), TSHOOT_OK);
  /* a service stopped and started */
  CHECK_INT(t.ops.service_control(t.ops.payload, "ExampleSvc", "stop"), TSHOOT_OK);
  CHECK_INT(t.ops.service_control(t.ops.payload, "ExampleSvc", "start"), TSHOOT_OK);

  now = save(&t);
  CHECK_STR(now, orig);
  ts_free(now);
  ts_free(orig);
  sim_close(&t);
}

/* ===== the person ===== */

/* JSON written with ' for " and | for an escaped backslash (ts_free). */
static char *qjson(const char *q)
{
  size_t n = strlen(q), i, o = 0;
  char *out = ts_malloc(2 * n + 1);
  if (!out) return NULL;
  for (i = 0; i < n; i++) {
    if (q[i] == '\'') out[o++] = '"';
    else if (q[i] == '|') { out[o++] = '\\'; out[o++] = '\\'; }
    else out[o++] = q[i];
  }
  out[o] = '\0';
  return out;
}

static const char person_machine[] =
  "{'registry': {'HKLM|SOFTWARE|Vendor': {'Old': 1, 'Keep': 'k'}, 'HKLM|SOFTWARE|Gone|Sub': {'x': 1}},"
  " 'files': {'C:|App|old.dll': {'size': 1}, 'C:|App|keep.txt': {'size': 2}, 'C:|Tmp|a|b.txt': {},"
  "           'C:|Blocker': {'size': 9}},"
  " 'services': {'AppSvc': {'status': 'stopped', 'start': 'manual'}, 'OldSvc': {'status': 'running'}},"
  " 'system': {'os': {'name': 'Windows', 'version': '6.1', 'build': 7601}, 'arch': 'x64', 'user': 'anna'},"
  " 'faults': {'ignore_writes': ['HKLM|SOFTWARE|Vendor', 'C:|App', 'AppSvc']},"
  " 'person': ["
  "  {'when': 'once the app is reinstalled', 'comment': 'reinstalls it',"
  "   'does': {'registry': {'hklm|software|vendor': {'Old': null, 'New': 2, 'Text': 'made'},"
  "                         'HKLM|SOFTWARE|Gone': null, 'HKCU|Software|Made': {}},"
  "            'files': {'C:|App|old.dll': null, 'c:|app|NEW.dll': {'size': 3, 'version': '2.0',"
  "                      'signature': {'signed': true, 'signer': 'Vendor', 'valid': true}},"
  "                      'C:|Tmp': null, 'C:|Tmp|c.txt': {'size': 4}, 'c:|app|KEEP.TXT': {'size': 5}},"
  "            'services': {'appsvc': {'status': 'running', 'start': 'auto'}, 'OldSvc': null,"
  "                         'NewSvc': {'status': 'stopped'}},"
  "            'system': {'os': {'name': 'Windows', 'version': '10.0', 'build': 19045}}}},"
  "  {'when': 'AAB', 'does': {'registry': {'HKCU|Software|KMP': {'found': 1}}}},"
  "  {'when': 'never said', 'does': {}}"
  " ]}";

static int confirm_(tshoot_host_ops *ops, tshoot_reply *r, const char *text)
{
  ts_reply_clear(r);
  return ops->ui_confirm(ops->payload, text, r);
}

static const char *answer(tshoot_host_ops *ops, tshoot_reply *r, int (*cb)(void *, const char *, tshoot_reply *),
                          const char *arg)
{
  static char buf[2048];
  ts_reply_clear(r);
  if (cb(ops->payload, arg, r) != TSHOOT_OK) return "error";
  if (r->kind == TS_REPLY_NIL) return "nil";
  snprintf(buf, sizeof buf, "%s", r->kind == TS_REPLY_JSON || r->kind == TS_REPLY_STRING ? r->s : "?");
  return buf;
}

static const char *rget(tshoot_host_ops *ops, tshoot_reply *r, const char *key, const char *name)
{
  static char buf[256];
  ts_reply_clear(r);
  if (ops->registry_get(ops->payload, key, name, r) != TSHOOT_OK) return "error";
  if (r->kind == TS_REPLY_NIL) return "nil";
  if (r->kind == TS_REPLY_INT) snprintf(buf, sizeof buf, "int:%lld", r->i);
  else snprintf(buf, sizeof buf, "str:%s", r->s);
  return buf;
}

static void test_sim__person_acts_once_on_a_matching_confirm(void)
{
  ts_sim *s = NULL, *s2 = NULL;
  tshoot_host_ops ops, ops2;
  tshoot_reply r;
  char *json = qjson(person_machine), *before = NULL, *after = NULL, *again = NULL, *reloaded = NULL;
  ts_reply_init(&r);
  CHECK_INT(ts_sim_new(&s, json, strlen(json), "person.json"), TSHOOT_OK);
  if (!s) { fprintf(stderr, "%s\n", tshoot_error_last()->message); ts_free(json); return; }
  ts_sim_ops(s, &ops);
  CHECK_INT(ts_sim_save(&before, s), TSHOOT_OK);
  CHECK_CONTAINS(before, "\"person\": [\n    {\n      \"comment\": \"reinstalls it\",\n      \"does\": {");
  CHECK(!strstr(before, "\"done\""));

  /* a confirmation that matches no action: answered, nothing done */
  CHECK_INT(confirm_(&ops, &r, "Apply \"Reinstall\"? It needs administrator rights."), TSHOOT_OK);
  CHECK_INT(r.kind, TS_REPLY_BOOL);
  CHECK_INT(r.b, 1);
  CHECK_INT(confirm_(&ops, &r, "once the app is"), TSHOOT_OK);          /* a part of `when` is not enough */
  CHECK_INT(ts_sim_save(&after, s), TSHOOT_OK);
  CHECK_STR(after, before);
  ts_free(after);

  /* it matches without regard to case, anywhere in the text: the person acts, then answers */
  CHECK_INT(confirm_(&ops, &r, "Click OK ONCE THE APP IS REINSTALLED, to check it."), TSHOOT_OK);
  CHECK_INT(r.kind, TS_REPLY_BOOL);
  CHECK_INT(r.b, 1);
  /* the registry: past faults.ignore_writes, deletions first, names keep their case */
  CHECK_STR(rget(&ops, &r, "HKLM\\SOFTWARE\\Vendor", "Old"), "nil");
  CHECK_STR(rget(&ops, &r, "HKLM\\SOFTWARE\\Vendor", "New"), "int:2");
  CHECK_STR(rget(&ops, &r, "HKLM\\SOFTWARE\\Vendor", "Text"), "str:made");
  CHECK_STR(rget(&ops, &r, "HKLM\\SOFTWARE\\Vendor", "Keep"), "str:k");
  CHECK_STR(answer(&ops, &r, ops.registry_list, "HKLM\\SOFTWARE\\Gone"), "nil");
  CHECK_STR(answer(&ops, &r, ops.registry_list, "HKLM\\SOFTWARE"), "{\"subkeys\":[\"Vendor\"],\"values\":{}}");
  CHECK_STR(answer(&ops, &r, ops.registry_list, "HKCU\\Software\\Made"), "{\"subkeys\":[],\"values\":{}}");
  /* files: removed (a file, a folder with what is in it), made in the folder's case, replaced in the file's */
  CHECK_STR(answer(&ops, &r, ops.file_stat, "C:\\App\\old.dll"), "nil");
  CHECK_STR(answer(&ops, &r, ops.file_list, "C:\\App"), "[\"keep.txt\",\"NEW.dll\"]");
  CHECK_STR(answer(&ops, &r, ops.file_stat, "C:\\App\\new.dll"),
            "{\"signature\":{\"signed\":true,\"signer\":\"Vendor\",\"valid\":true},\"size\":3,\"version\":\"2.0\"}");
  CHECK_STR(answer(&ops, &r, ops.file_stat, "C:\\App\\keep.txt"), "{\"size\":5}");
  CHECK_STR(answer(&ops, &r, ops.file_list, "C:\\Tmp"), "[\"c.txt\"]");
  /* services: replaced in the service's case, removed, made */
  CHECK_STR(answer(&ops, &r, ops.service_get, "AppSvc"), "{\"start\":\"auto\",\"status\":\"running\"}");
  CHECK_STR(answer(&ops, &r, ops.service_get, "OldSvc"), "nil");
  CHECK_STR(answer(&ops, &r, ops.service_get, "NewSvc"), "{\"status\":\"stopped\"}");
  /* system: the members given are replaced, the others kept */
  ts_reply_clear(&r);
  CHECK_INT(ops.system_info(ops.payload, &r), TSHOOT_OK);
  CHECK_STR(r.s, "{\"arch\":\"x64\",\"os\":{\"build\":19045,\"name\":\"Windows\",\"version\":\"10.0\"},\"user\":\"anna\"}");
  CHECK_INT(ts_sim_save(&after, s), TSHOOT_OK);
  CHECK_CONTAINS(after, "\"HKLM\\\\SOFTWARE\\\\Vendor\": {");
  CHECK_CONTAINS(after, "\"C:\\\\App\\\\NEW.dll\": {");
  CHECK_CONTAINS(after, "\"AppSvc\": {");
  CHECK_CONTAINS(after, "\"comment\": \"reinstalls it\",\n      \"does\": {");
  CHECK_CONTAINS(after, "\"done\": true,\n      \"when\": \"once the app is reinstalled\"");

  /* it acts once: what is undone by hand stays undone at the next match */
  CHECK_INT(ops.registry_delete(ops.payload, "HKCU\\Software\\Made", NULL), TSHOOT_OK);
  CHECK_INT(ops.file_move(ops.payload, "C:\\Tmp\\c.txt", "C:\\Moved\\c.txt"), TSHOOT_OK);
  CHECK_INT(confirm_(&ops, &r, "once the app is reinstalled"), TSHOOT_OK);
  CHECK_STR(answer(&ops, &r, ops.registry_list, "HKCU\\Software\\Made"), "nil");
  CHECK_STR(answer(&ops, &r, ops.file_stat, "C:\\Tmp\\c.txt"), "nil");
  CHECK_INT(ops.registry_set(ops.payload, "HKCU\\Software\\Made", NULL, NULL), TSHOOT_OK);
  CHECK_INT(ops.file_move(ops.payload, "C:\\Moved\\c.txt", "C:\\Tmp\\c.txt"), TSHOOT_OK);
  CHECK_INT(ts_sim_save(&again, s), TSHOOT_OK);
  CHECK_STR(again, after);
  ts_free(again);

  /* done survives save and load: the reloaded machine saves the same and does not act again */
  CHECK_INT(ts_sim_new(&s2, after, strlen(after), "saved.json"), TSHOOT_OK);
  if (s2) {
    ts_sim_ops(s2, &ops2);
    CHECK_INT(ts_sim_save(&reloaded, s2), TSHOOT_OK);
    CHECK_STR(reloaded, after);
    ts_free(reloaded);
    CHECK_INT(ops2.registry_delete(ops2.payload, "HKCU\\Software\\Made", NULL), TSHOOT_OK);
    CHECK_INT(confirm_(&ops2, &r, "once the app is reinstalled"), TSHOOT_OK);
    CHECK_STR(answer(&ops2, &r, ops2.registry_list, "HKCU\\Software\\Made"), "nil");
    /* the action not done yet is still there: a search that must step back ("AAB" in "xaaab") */
    CHECK_INT(confirm_(&ops2, &r, "xaaab"), TSHOOT_OK);
    CHECK_STR(rget(&ops2, &r, "HKCU\\Software\\KMP", "found"), "int:1");
    /* and a person who answers no has still done it first */
    ts_sim_set_confirm(s2, 0);
    CHECK_INT(confirm_(&ops2, &r, "It was never said."), TSHOOT_OK);
    CHECK_INT(r.kind, TS_REPLY_BOOL);
    CHECK_INT(r.b, 0);
    CHECK_INT(ts_sim_save(&reloaded, s2), TSHOOT_OK);
    CHECK_CONTAINS(reloaded, "\"done\": true,\n      \"when\": \"AAB\"");
    CHECK_CONTAINS(reloaded, "\"does\": {},\n      \"done\": true,\n      \"when\": \"never said\"");
    ts_free(reloaded);
    ts_sim_free(s2);
  }
  ts_reply_clear(&r);
  ts_free(before);
  ts_free(after);
  ts_free(json);
  ts_sim_free(s);
}

/* A file the person makes where the machine has a file above it or a folder
** at its place: the confirmation fails, nothing changes, the action waits. */
static void test_sim__person_cannot_make_a_file_in_a_file(void)
{
  static const char q[] =
    "{'files': {'C:|Blocker': {'size': 1}, 'C:|Dir|x.txt': {}},"
    " 'person': [{'when': 'go', 'does': {'registry': {'HKCU|Software|P': {'v': 1}},"
    "                                    'files': {'C:|Blocker|in.txt': {'size': 2}}}},"
    "            {'when': 'folder', 'does': {'files': {'C:|Dir': {'size': 3}}}},"
    "            {'when': 'emptied', 'does': {'files': {'C:|Dir|x.txt': null, 'C:|Dir': {'size': 3}}}}]}";
  ts_sim *s = NULL;
  tshoot_host_ops ops;
  tshoot_reply r;
  char *json = qjson(q), *before = NULL, *after = NULL;
  ts_reply_init(&r);
  CHECK_INT(ts_sim_new(&s, json, strlen(json), "block.json"), TSHOOT_OK);
  if (!s) { ts_free(json); return; }
  ts_sim_ops(s, &ops);
  CHECK_INT(ts_sim_save(&before, s), TSHOOT_OK);
  CHECK_INT(confirm_(&ops, &r, "go"), TSHOOT_ERROR);
  CHECK_CONTAINS(r.error, "ui.confirm: person[0] cannot make the file 'C:\\Blocker\\in.txt': 'C:\\Blocker' is a file");
  CHECK_INT(confirm_(&ops, &r, "folder"), TSHOOT_ERROR);
  CHECK_CONTAINS(tshoot_error_last()->message, "person[1] cannot make the file 'C:\\Dir': it is a folder (it holds 'C:\\Dir\\x.txt')");
  CHECK_INT(ts_sim_save(&after, s), TSHOOT_OK);
  CHECK_STR(after, before);                        /* nothing changed, nothing done */
  ts_free(after);
  /* once the way is clear the action is done; a removal in it clears its own way */
  CHECK_INT(ops.file_move(ops.payload, "C:\\Blocker", "C:\\Elsewhere"), TSHOOT_OK);
  CHECK_INT(confirm_(&ops, &r, "go"), TSHOOT_OK);
  CHECK_STR(answer(&ops, &r, ops.file_stat, "C:\\Blocker\\in.txt"), "{\"size\":2}");
  CHECK_INT(confirm_(&ops, &r, "emptied"), TSHOOT_OK);
  CHECK_STR(answer(&ops, &r, ops.file_stat, "C:\\Dir"), "{\"size\":3}");
  ts_reply_clear(&r);
  ts_free(before);
  ts_free(json);
  ts_sim_free(s);
}

/* Saved canonically: sorted, and load(save(x)) saves as save(x). */
static void test_sim__person_saves_canonically(void)
{
  static const char q[] =
    "{'person': [{'when': 'b', 'done': false, 'does': {'system': {'user': 'u'}, 'registry': {'HKLM|Z': {'b': 1, 'a': null},"
    " 'HKLM|A': null}}, 'comment': 'c'}, {'done': true, 'when': 'a', 'does': {}}]}";
  ts_sim *s = NULL, *s2 = NULL;
  char *json = qjson(q), *a = NULL, *b = NULL;
  CHECK_INT(ts_sim_new(&s, json, strlen(json), "canon.json"), TSHOOT_OK);
  if (s) CHECK_INT(ts_sim_save(&a, s), TSHOOT_OK);
  CHECK_STR(a, "{\n  \"person\": [\n    {\n      \"comment\": \"c\",\n      \"does\": {\n        \"registry\": {\n"
            "          \"HKLM\\\\A\": null,\n          \"HKLM\\\\Z\": {\n            \"a\": null,\n            \"b\": 1\n"
            "          }\n        },\n        \"system\": {\n          \"user\": \"u\"\n        }\n      },\n"
            "      \"when\": \"b\"\n    },\n    {\n      \"does\": {},\n      \"done\": true,\n      \"when\": \"a\"\n"
            "    }\n  ]\n}\n");
  if (a) CHECK_INT(ts_sim_new(&s2, a, strlen(a), "saved.json"), TSHOOT_OK);
  if (s2) CHECK_INT(ts_sim_save(&b, s2), TSHOOT_OK);
  CHECK_STR(b, a);
  ts_free(a);
  ts_free(b);
  ts_free(json);
  ts_sim_free(s);
  ts_sim_free(s2);
  {
    /* what is made in a new folder or key takes the case of the first in the
    ** machine's order, whatever the order it was written in */
    static const char *const orders[] = {
      "{'person': [{'when': 'x', 'does': {'files': {'C:|new|b': {}, 'c:|NEW|a': {}},"
      " 'registry': {'HKLM|new|b': {}, 'hklm|NEW|a': {}}}}]}",
      "{'person': [{'when': 'x', 'does': {'files': {'c:|NEW|a': {}, 'C:|new|b': {}},"
      " 'registry': {'hklm|NEW|a': {}, 'HKLM|new|b': {}}}}]}" };
    char *saved[2] = { NULL, NULL };
    size_t i;
    for (i = 0; i < 2; i++) {
      tshoot_host_ops ops;
      tshoot_reply r;
      char *j = qjson(orders[i]), *out = NULL;   /* saved sorted: the same text either way */
      ts_reply_init(&r);
      s = NULL;
      CHECK_INT(ts_sim_new(&s, j, strlen(j), "order.json"), TSHOOT_OK);
      if (s) {
        ts_sim_ops(s, &ops);
        CHECK_INT(confirm_(&ops, &r, "x"), TSHOOT_OK);
        CHECK_STR(answer(&ops, &r, ops.file_list, "C:"), "[\"NEW\"]");
        CHECK_STR(answer(&ops, &r, ops.registry_list, "HKLM"), "{\"subkeys\":[\"NEW\"],\"values\":{}}");
        CHECK_INT(ts_sim_save(&out, s), TSHOOT_OK);
        saved[i] = out;
      }
      ts_reply_clear(&r);
      ts_free(j);
      ts_sim_free(s);
    }
    CHECK(saved[0] && saved[1]);
    if (saved[0] && saved[1]) CHECK_STR(saved[0], saved[1]);
    ts_free(saved[0]);
    ts_free(saved[1]);
  }
}

/* The person's action with every allocation failing in turn: an error, and
** acting again finishes it as if nothing had failed. */
static void test_sim__person_out_of_memory(void)
{
  ts_sim *s = NULL;
  tshoot_host_ops ops;
  tshoot_reply r;
  char *json = qjson(person_machine), *want = NULL;
  long n;
  int done = 0;
  ts_reply_init(&r);
  CHECK_INT(ts_sim_new(&s, json, strlen(json), "person.json"), TSHOOT_OK);
  if (!s) { ts_free(json); return; }
  ts_sim_ops(s, &ops);
  CHECK_INT(confirm_(&ops, &r, "once the app is reinstalled"), TSHOOT_OK);
  CHECK_INT(ts_sim_save(&want, s), TSHOOT_OK);
  ts_sim_free(s);
  for (n = 0; n < 100000 && !done; n++) {
    char *got = NULL;
    int rc;
    s = NULL;
    if (ts_sim_new(&s, json, strlen(json), "person.json") != TSHOOT_OK) { CHECK(0); break; }
    ts_sim_ops(s, &ops);
    ts_alloc_fail_after(n);
    rc = confirm_(&ops, &r, "once the app is reinstalled");
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) done = 1;
    else {
      CHECK_INT(rc, TSHOOT_ENOMEM);
      CHECK_INT(confirm_(&ops, &r, "once the app is reinstalled"), TSHOOT_OK);
    }
    CHECK_INT(ts_sim_save(&got, s), TSHOOT_OK);
    CHECK_STR(got, want);
    ts_free(got);
    ts_sim_free(s);
  }
  CHECK(done);
  ts_reply_clear(&r);
  ts_free(want);
  ts_free(json);
}

typedef struct bad_case {
  const char *json;
  int line, column;           /* 0: not checked */
  const char *message;        /* a part of the message */
} bad_case;

static void test_sim__malformed_descriptions_name_the_place(void)
{
  static const bad_case cases[] = {
    { "{\n  \"registry\": {,\n}", 2, 0, "not valid JSON" },
    { "{\"ui\": {}, \"ui\": {}}", 0, 0, "duplicate" },
    { "[]", 1, 1, "a machine description is a JSON object" },
    { "{\n  \"machine\": \"m\",\n  \"regsitry\": {}\n}", 3, 3, "regsitry: unknown member (expected machine, description" },
    { "{\n  \"files\": {\n    \"C:\\\\x.dll\": { \"size\": \"big\" }\n  }\n}", 3, 28,
      "files.\"C:\\\\x.dll\".size: expected an integer" },
    { "{\"files\": {\"C:\\\\x.dll\": {\"size\": -1}}}", 1, 34, "files.\"C:\\\\x.dll\".size: expected an integer >= 0" },
    { "{\"files\": {\"C:\\\\\\u00e9\\\\x.dll\": {\"size\": 1.5}}}", 1, 42, "files.\"C:\\\\\xc3\xa9\\\\x.dll\".size: expected an integer" },
    { "{\"files\": {\"C:\\\\x.dll\": {\"signature\": {\"sgned\": true}}}}", 1, 40,
      "files.\"C:\\\\x.dll\".signature.sgned: unknown member (expected signed, signer or valid)" },
    { "{\"files\": {\"C:\\\\x.dll\": {\"sha256\": \"...\"}}}", 1, 36, "sha256: expected 64 hexadecimal digits" },
    { "{\"files\": {\"C:\\\\x\": {}, \"C:\\\\x\\\\y.dll\": {}}}", 1, 25, "files.\"C:\\\\x\\\\y.dll\": inside \"C:\\x\", which is a file" },
    { "{\"files\": {\"C:\\\\X.dll\": {}, \"c:/x.DLL\": {}}}", 1, 29, "files.\"c:/x.DLL\": the same file as \"C:\\X.dll\"" },
    { "{\"files\": {\"C:\\\\dir\\\\\": {}}}", 0, 0, "cannot end with a separator" },
    { "{\n\"registry\": {\n  \"HKLM\\\\A\": { \"V\": true }\n}}", 3, 21,
      "registry.\"HKLM\\\\A\".V: expected a string (REG_SZ) or an integer (REG_DWORD)" },
    { "{\"registry\": {\"HKLM\\\\A\": { \"V\": [1] }}}", 0, 0, "expected a string (REG_SZ) or an integer" },
    { "{\"registry\": {\"HKLM\\\\A\": { \"V\": 1, \"v\": 2 }}}", 1, 36, "registry.\"HKLM\\\\A\".v: the same value as \"V\"" },
    { "{\"registry\": {\"HKLM\\\\A\": {}, \"hklm\\\\a\": {}}}", 1, 30, "registry.\"hklm\\\\a\": the same key as \"HKLM\\A\"" },
    { "{\"registry\": {\"HKEY_LOCAL_MACHINE\\\\A\": {}}}", 1, 15, "a key must start with a hive" },
    { "{\"registry\": {\"HKLM\": {}}}", 0, 0, "not the hive itself" },
    { "{\"registry\": {\"HKLM\\\\A\": 5}}", 0, 0, "registry.\"HKLM\\\\A\": expected an object of values" },
    { "{\"processes\": [{\"pid\": 1}, {\"pid\": \"x\"}]}", 1, 36, "processes[1].pid: expected an integer" },
    { "{\"processes\": [{\"modules\": [\"a\", 3]}]}", 1, 34, "processes[0].modules[1]: expected a string" },
    { "{\"processes\": {}}", 0, 0, "processes: expected an array" },
    { "{\"services\": {\"S\": {\"start\": \"auto\"}}}", 1, 20, "services.S: a service needs a \"status\"" },
    { "{\"services\": {\"S\": {\"status\": \"paused\"}}}", 1, 31, "services.S.status: expected \"running\" or \"stopped\"" },
    { "{\"services\": {\"S\": {\"status\": \"running\", \"start\": \"boot\"}}}", 0, 0, "services.S.start: expected \"auto\", \"manual\" or \"disabled\"" },
    { "{\"system\": {\"os\": {\"build\": \"19045\"}}}", 1, 29, "system.os.build: expected an integer" },
    { "{\"system\": {\"admin\": \"yes\"}}", 0, 0, "system.admin: expected true or false" },
    { "{\"ui\": {\"confirm\": \"yes\"}}", 0, 0, "ui.confirm: expected true or false" },
    { "{\"faults\": {\"ignore_writes\": \"HKLM\"}}", 0, 0, "faults.ignore_writes: expected an array" },
    { "{\"faults\": {\"ignore_writes\": [\"\"]}}", 0, 0, "faults.ignore_writes[0]: expected a key or path" },
    { "{\"machine\": 1}", 1, 13, "machine: expected a string" },
    /* the person */
    { "{\"person\": {}}", 1, 12, "person: expected an array of actions" },
    { "{\"person\": [1]}", 1, 13, "person[0]: expected an object (when, does, done, comment)" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {}, \"wen\": 1}]}", 1, 39,
      "person[0].wen: unknown member (expected when, does, done or comment)" },
    { "{\"person\": [{\"does\": {}}]}", 1, 13, "person[0]: an action needs \"when\"" },
    { "{\"person\": [{\"when\": \"\", \"does\": {}}]}", 1, 22, "person[0].when: expected a non-empty text" },
    { "{\"person\": [{\"when\": 5, \"does\": {}}]}", 1, 22, "person[0].when: expected a string" },
    { "{\"person\": [{\"when\": \"x\"}]}", 1, 13, "person[0]: an action needs \"does\"" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {}, \"done\": 1}]}", 1, 47, "person[0].done: expected true or false" },
    { "{\"person\": [{\"when\": \"x\", \"does\": []}]}", 1, 35, "person[0].does: expected an object (registry, files" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"processes\": []}}]}", 1, 36,
      "person[0].does.processes: unknown member (expected registry, files, services or system)" },
    { "{\"person\": [\n {\"when\": \"x\", \"does\": {}},\n {\"when\": \"y\", \"does\": {\"registry\": {\"HKLM\": null}}}]}",
      3, 38, "person[1].does.registry.HKLM: a key under a hive is needed" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"registry\": {\"HKLM\\\\A\": {\"v\": true}}}}]}", 1, 66,
      "person[0].does.registry.\"HKLM\\\\A\".v: expected a string (REG_SZ), an integer (REG_DWORD) or null" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"registry\": {\"HKLM\\\\A\": 1}}}]}", 1, 0,
      "person[0].does.registry.\"HKLM\\\\A\": expected an object of values" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"registry\": {\"HKLM\\\\A\": null, \"hklm\\\\a\": {}}}}]}", 1, 66,
      "person[0].does.registry.\"hklm\\\\a\": the same key as \"HKLM\\A\"" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"registry\": {\"HKLM\\\\A\": {\"V\": null, \"v\": 1}}}}]}", 0, 0,
      "person[0].does.registry.\"HKLM\\\\A\".v: the same value as \"V\"" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"files\": {\"C:\\\\x.dll\": {\"size\": \"big\"}}}}]}", 1, 68,
      "person[0].does.files.\"C:\\\\x.dll\".size: expected an integer" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"files\": {\"C:\\\\x.dll\": 5}}}]}", 0, 0,
      "person[0].does.files.\"C:\\\\x.dll\": expected an object (size, version, sha256, signature, mtime), or null" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"files\": {\"C:\\\\x\": {}, \"C:\\\\y\": null, \"c:/x/y\": {}}}}]}", 1, 74,
      "person[0].does.files.\"c:/x/y\": inside \"C:\\x\", which is a file" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"files\": {\"C:\\\\X\": null, \"c:/x\": {}}}}]}", 0, 0,
      "person[0].does.files.\"c:/x\": the same file as \"C:\\X\"" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"files\": {\"C:\\\\dir\\\\\": null}}}]}", 0, 0,
      "a path cannot end with a separator" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"services\": {\"S\": {\"status\": \"paused\"}}}}]}", 1, 65,
      "person[0].does.services.S.status: expected \"running\" or \"stopped\"" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"services\": {\"a/b\": null}}}]}", 0, 0,
      "person[0].does.services.\"a/b\": a slash or backslash in a service name" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"services\": {\"S\": null, \"s\": null}}}]}", 0, 0,
      "the same service as \"S\"" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"system\": {\"os\": {\"build\": \"7601\"}}}}]}", 1, 63,
      "person[0].does.system.os.build: expected an integer" },
    { "{\"person\": [{\"when\": \"x\", \"does\": {\"system\": {\"cpu\": 4}}}]}", 0, 0,
      "person[0].does.system.cpu: unknown member (expected os, arch, admin, hostname or user)" },
    { "{\"x\": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", 1, 22, "nested deeper than 16" },
  };
  size_t i;
  int any = 0;
  for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
    const bad_case *c = &cases[i];
    ts_sim *s = (ts_sim *)1;
    const tshoot_error *e;
    test_cur_failed = 0;
    CHECK_INT(ts_sim_new(&s, c->json, strlen(c->json), "sim.json"), TSHOOT_EINVALID);
    CHECK(s == NULL);
    e = tshoot_error_last();
    CHECK_INT(e->code, TSHOOT_EINVALID);
    CHECK_STR(e->file, "sim.json");
    CHECK_CONTAINS(e->message, c->message);
    if (c->line) CHECK_INT(e->line, c->line);
    if (c->column) CHECK_INT(e->column, c->column);
    if (test_cur_failed) fprintf(stderr, "  case %zu: %s\n  -> %d:%d: %s\n", i, c->json, e->line, e->column, e->message);
    any |= test_cur_failed;
  }
  test_cur_failed = any;
  {
    ts_sim *s = NULL;
    CHECK_INT(ts_sim_new(&s, "{}", (size_t)17 * 1024 * 1024, "big.json"), TSHOOT_EINVALID);
    CHECK_CONTAINS(tshoot_error_last()->message, "larger than 16 MiB");
    CHECK_INT(ts_sim_new(NULL, "{}", 2, "x"), TSHOOT_EINVALID);
  }
}

/* Every allocation failing in turn: an error, never a crash or a leak, and
** a failed change changes nothing. */
static void test_sim__out_of_memory(void)
{
  long n;
  int done = 0;
  for (n = 0; n < 100000 && !done; n++) {
    ts_sim *s = NULL;
    int rc;
    ts_alloc_fail_after(n);
    rc = ts_sim_new(&s, basic_json, basic_len, "sim-basic.json");
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_OK) { ts_sim_free(s); done = 1; }
    else CHECK_INT(rc, TSHOOT_ENOMEM);
  }
  CHECK(done);
  done = 0;
  for (n = 0; n < 100000 && !done; n++) {
    sim_t t;
    char *before, *after = NULL, *after2;
    int rc, rc2, rc3;
    if (sim_open(&t) != TSHOOT_OK) { CHECK(0); return; }
    before = save(&t);
    ts_alloc_fail_after(n);
    rc = set_s(&t, "HKLM\\SOFTWARE\\Vendor\\New", "Name", "value");
    rc2 = rc == TSHOOT_OK ? t.ops.registry_delete(t.ops.payload, KEY_PROV, NULL) : rc;
    rc3 = rc2 == TSHOOT_OK ? move(&t, "C:\\Program Files\\Example", "C:\\Old") : rc2;
    if (rc3 == TSHOOT_OK) rc3 = ts_sim_save(&after, t.sim);
    ts_alloc_fail_after(-1);
    if (rc == TSHOOT_ENOMEM) {
      after2 = save(&t);
      CHECK_STR(after2, before);               /* the failed set changed nothing */
      ts_free(after2);
    } else if (rc3 == TSHOOT_OK) {
      done = 1;
      CHECK_CONTAINS(after, "\"C:\\\\Old\\\\provider.dll\"");
    } else {
      CHECK_INT(rc3, TSHOOT_ENOMEM);
    }
    ts_free(after);
    ts_free(before);
    sim_close(&t);
  }
  CHECK(done);
}

/* ===== the simulator as a host, under a script ===== */

static const char sim_fix[] =
  "local P = 'hklm\\\\software\\\\example\\\\provider'\n"
  "local fix = {}\n"
  "function fix.apply()\n"
  "  host.registry.set(P, 'enabled', 0)\n"                      /* names in another case */
  "  host.registry.delete(P .. '\\\\options')\n"
  "  host.registry.delete('HKLM\\\\SOFTWARE\\\\Example\\\\Provider', 'dllpath')\n"
  "  host.registry.set('HKLM\\\\SOFTWARE\\\\Example\\\\New\\\\Deep', 'Made', 'yes')\n"
  "  host.file.move('C:\\\\Program Files\\\\Example\\\\readme.txt', 'C:\\\\Old\\\\readme.txt')\n"
  "  host.service.stop('ExampleSvc')\n"
  "  if FAIL_APPLY then error('apply broke') end\n"
  "end\n"
  "function fix.verify() return host.service.get('ExampleSvc').status == 'stopped' end\n"
  "return fix\n";

static char *host_save(tshoot_host *h)
{
  char *s = NULL;
  CHECK_INT(tshoot_host_sim_save(&s, h), TSHOOT_OK);
  return s;
}

/* A rollback puts back the very names that were there, in their case, even
** when the script wrote them in another. */
static void test_sim__rollback_restores_names_exactly(void)
{
  char body[2048];
  tshoot_host *h = NULL;
  tshoot_run *r = NULL;
  char *before, *after;
  snprintf(body, sizeof body, "FAIL_APPLY = true\n%s", sim_fix);
  CHECK_INT(tshoot_host_sim_load(&h, basic_json, basic_len, "sim-basic.json"), TSHOOT_OK);
  if (!h) return;
  before = host_save(h);
  CHECK_INT(tshoot_script_run(&r, h, "fix.lua", body, strlen(body), TSHOOT_RUN_APPLY, NULL, NULL), TSHOOT_OK);
  if (r) {
    CHECK_CONTAINS(r->message, "apply broke");
    CHECK_INT(r->rolled_back, 1);
    CHECK_INT(r->n_changes, 6);
  }
  after = host_save(h);
  CHECK_STR(after, before);
  tshoot_run_free(r);
  ts_free(before);
  ts_free(after);
  tshoot_host_free(h);
}

/* Every allocation failing in turn, one at a time, over a fix apply on the
** simulated host: a clean error or a correct result, and the machine saved
** exactly as before (or exactly as a clean apply leaves it). */
static void test_sim__fix_apply_allocation_failures(void)
{
  int fail_apply;
  for (fail_apply = 0; fail_apply < 2; fail_apply++) {
    char body[2048];
    char *before = NULL, *fixed = NULL;
    tshoot_host *h = NULL;
    tshoot_run *r = NULL;
    long k;
    int done = 0;
    snprintf(body, sizeof body, "%s%s", fail_apply ? "FAIL_APPLY = true\n" : "", sim_fix);
    CHECK_INT(tshoot_host_sim_load(&h, basic_json, basic_len, "sim-basic.json"), TSHOOT_OK);
    if (!h) return;
    before = host_save(h);
    CHECK_INT(tshoot_script_run(&r, h, "fix.lua", body, strlen(body), TSHOOT_RUN_APPLY, NULL, NULL), TSHOOT_OK);
    CHECK(r && r->verified == !fail_apply);
    fixed = host_save(h);
    tshoot_run_free(r);
    tshoot_host_free(h);
    for (k = 0; k < 100000 && !done; k++) {
      char *now;
      int rc;
      h = NULL;
      r = NULL;
      if (tshoot_host_sim_load(&h, basic_json, basic_len, "sim-basic.json") != TSHOOT_OK) { CHECK(0); break; }
      ts_alloc_fail_once(k);
      rc = tshoot_script_run(&r, h, "fix.lua", body, strlen(body), TSHOOT_RUN_APPLY, NULL, NULL);
      done = ts_alloc_fail_once(-1) >= 0;
      now = host_save(h);
      if (rc != TSHOOT_OK) {
        CHECK_INT(rc, TSHOOT_ENOMEM);
        CHECK_STR(now, before);
      } else if (r->verified) {
        CHECK_STR(now, fixed);
      } else if (!now || strcmp(now, before) != 0) {
        fprintf(stderr, "allocation %ld (fail_apply %d): %s\n", k, fail_apply, r->message);
        CHECK(0);
        done = 1;
      }
      ts_free(now);
      tshoot_run_free(r);
      tshoot_host_free(h);
    }
    CHECK(done);
    ts_free(before);
    ts_free(fixed);
  }
}

int main(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/machines/sim-basic.json", root ? root : "..");
  if (ts_read_file(&basic_json, &basic_len, path, 1 << 20) != TSHOOT_OK) {
    fprintf(stderr, "fixture: %s\n", tshoot_error_last()->message);
    return 99;
  }
  RUN(test_sim__ops_are_complete);
  RUN(test_sim__registry_reads);
  RUN(test_sim__files_processes_services_system);
  RUN(test_sim__empty_machine);
  RUN(test_sim__confirm);
  RUN(test_sim__registry_changes);
  RUN(test_sim__file_moves_and_services);
  RUN(test_sim__ignore_writes);
  RUN(test_sim__save_round_trip);
  RUN(test_sim__change_and_undo_save_the_same);
  RUN(test_sim__person_acts_once_on_a_matching_confirm);
  RUN(test_sim__person_cannot_make_a_file_in_a_file);
  RUN(test_sim__person_saves_canonically);
  RUN(test_sim__person_out_of_memory);
  RUN(test_sim__malformed_descriptions_name_the_place);
  RUN(test_sim__out_of_memory);
  RUN(test_sim__rollback_restores_names_exactly);
  RUN(test_sim__fix_apply_allocation_failures);
  ts_free(basic_json);
  TEST_EXIT();
}
