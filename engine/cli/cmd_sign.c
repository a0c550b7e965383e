/*
** cmd_sign.c: `tshoot keygen`, `tshoot sign` and `tshoot verify`: a
** publisher's keys and the signatures that let machines run a KB's scripts
** (docs/signing.md).
*/
#include "cli.h"

#include <getopt.h>
#include <string.h>

int cmd_keygen(int argc, char **argv)
{
  static const struct option longs[] = {
    { "output", required_argument, NULL, 'o' },
    { "name", required_argument, NULL, 'n' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  const char *base = NULL, *name = NULL;
  int c, rc, force = 0;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":o:n:h", longs, NULL)) != -1) {
    switch (c) {
    case 'o': base = optarg; break;
    case 'n': name = optarg; break;
    case 'f': force = 1; break;
    case 'h': cli_print_command_help(stdout, "keygen"); return EXIT_OK;
    default: return cli_getopt_error("keygen", c, argv);
    }
  }
  if (optind < argc) return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
  if (!base || !*base) return cli_usage_error("keygen", "give the key's file name: -o NAME (writes NAME.key and NAME.pub)");
  if (!name) {
    const char *slash = strrchr(base, '/');
    name = slash ? slash + 1 : base;
  }
  rc = tshoot_key_generate(base, name, force);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  printf("%s.key  the secret key of '%s': keep it private (mode 0600); it signs KBs\n"
         "%s.pub  its public key: machines that trust it run the scripts of the KBs it signs\n",
         base, name, base);
  return EXIT_OK;
}

int cmd_sign(int argc, char **argv)
{
  static const struct option longs[] = {
    { "key", required_argument, NULL, 'k' },
    { "only", no_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  const char *key = NULL;
  int c, rc, only = 0;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":k:h", longs, NULL)) != -1) {
    switch (c) {
    case 'k': key = optarg; break;
    case 'o': only = 1; break;
    case 'h': cli_print_command_help(stdout, "sign"); return EXIT_OK;
    default: return cli_getopt_error("sign", c, argv);
    }
  }
  if (optind + 1 != argc) return cli_usage_error("sign", "give one KB file to sign");
  if (!key) return cli_usage_error("sign", "give the secret key: --key NAME.key");
  rc = tshoot_kb_sign(argv[optind], key, only ? TSHOOT_SIGN_ONLY : 0);
  if (rc != TSHOOT_OK) return cli_lib_error(rc);
  return EXIT_OK;
}

static const char *status_name(tshoot_trust_status s)
{
  switch (s) {
  case TSHOOT_TRUST_SIGNED: return "signed";
  case TSHOOT_TRUST_UNSIGNED: return "unsigned";
  case TSHOOT_TRUST_UNKNOWN_SIGNER: return "unknown signer";
  case TSHOOT_TRUST_BAD_SIGNATURE: return "bad signature";
  case TSHOOT_TRUST_REVOKED: return "revoked";
  }
  return "?";
}

json_t *cli_trust_json(const tshoot_kb *kb)
{
  const tshoot_kb_trust *t = tshoot_kb_trust_get(kb);
  json_t *j, *a;
  size_t i;
  if (!t) return json_null();
  j = json_object();
  a = json_array();
  json_object_set_new(j, "status", json_string(status_name(t->status)));
  json_object_set_new(j, "trusted", json_boolean(t->status == TSHOOT_TRUST_SIGNED));
  json_object_set_new(j, "scripts_allowed", json_boolean(t->scripts_allowed));
  json_object_set_new(j, "reason", cli_jstr(t->reason));
  json_object_set_new(j, "signer", t->signer ? json_pack("{s:s, s:s}", "name", t->signer->name, "key", t->signer->key)
                                             : json_null());
  for (i = 0; i < t->n_signatures; i++) {
    const tshoot_signer *s = &t->signatures[i];
    json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:b, s:o}", "name", s->name, "key", s->key,
                                       "trusted", s->trusted, "revoked", s->revoked, "verified",
                                       s->verified < 0 ? json_null() : json_boolean(s->verified)));
  }
  json_object_set_new(j, "signatures", a);
  return j;
}

void cli_print_trust(const tshoot_kb *kb, const char *indent)
{
  const tshoot_kb_trust *t = tshoot_kb_trust_get(kb);
  size_t i;
  if (!t) return;
  printf("%s\n", t->reason);
  for (i = 0; i < t->n_signatures; i++) {
    const tshoot_signer *s = &t->signatures[i];
    printf("%s- '%s' key %s: %s\n", indent, s->name, s->key,
           s->revoked ? "revoked" : !s->trusted ? "not trusted here"
           : s->verified > 0 ? "trusted, signature verified" : "trusted, signature DOES NOT match");
  }
  if (t->status != TSHOOT_TRUST_SIGNED)
    printf("%sscripts %s\n", indent, t->scripts_allowed ? "run anyway (--allow-unsigned-scripts)" : "do not run");
}

int cmd_verify(int argc, char **argv)
{
  static const struct option longs[] = {
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  tshoot_kb *kb = NULL;
  const tshoot_kb_trust *t;
  int c, json = 0, status;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'h': cli_print_command_help(stdout, "verify"); return EXIT_OK;
    default: return cli_getopt_error("verify", c, argv);
    }
  }
  if (optind + 1 != argc) return cli_usage_error("verify", "give one KB file to verify");
  if (cli_open_kb(&kb, argv[optind], NULL) != EXIT_OK) return EXIT_FAIL;
  t = tshoot_kb_trust_get(kb);
  status = t && t->status == TSHOOT_TRUST_SIGNED ? EXIT_OK : EXIT_FAIL;
  if (json) {
    json_t *j = json_object();
    json_object_set_new(j, "kb", cli_jstr(argv[optind]));
    json_object_set_new(j, "signature", cli_trust_json(kb));
    if (cli_json_print(j) != EXIT_OK) status = EXIT_FAIL;
  } else {
    printf("%s: ", argv[optind]);
    cli_print_trust(kb, "  ");
  }
  tshoot_kb_close(kb);
  return status;
}
