/*
** cmd_info.c: `tshoot info`: which KB, what it holds.
*/
#include "cli.h"

#include <getopt.h>
#include <sys/stat.h>

int cmd_info(int argc, char **argv)
{
  static const struct option longs[] = {
    { "json", no_argument, NULL, 'j' },
    { "kb", required_argument, NULL, 'k' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  tshoot_kb *kb = NULL;
  tshoot_kb_info info;
  const char *kb_opt = NULL, *path = NULL;
  struct stat st;
  long long size = -1;
  int c, rc, json = 0, status = EXIT_OK;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'k': kb_opt = optarg; break;
    case 'h': cli_print_command_help(stdout, "info"); return EXIT_OK;
    default: return cli_getopt_error("info", c, argv);
    }
  }
  if (optind < argc) return cli_usage_error("info", "unexpected argument '%s'", argv[optind]);
  if (cli_open_kb(&kb, kb_opt, &path) != EXIT_OK) return EXIT_FAIL;
  rc = tshoot_kb_info_get(&info, kb);
  if (rc != TSHOOT_OK) {
    status = cli_lib_error(rc);
    goto done;
  }
  if (stat(path, &st) == 0) size = (long long)st.st_size;
  if (json) {
    json_t *j = json_object();
    json_object_set_new(j, "path", cli_jstr(path));
    json_object_set_new(j, "size", size >= 0 ? json_integer(size) : json_null());
    json_object_set_new(j, "format", json_integer(info.format));
    json_object_set_new(j, "digest", cli_jstr(info.digest));
    json_object_set_new(j, "tshoot_version", cli_jstr(info.tshoot_version));
    json_object_set_new(j, "articles", json_integer((json_int_t)info.articles));
    json_object_set_new(j, "questions", json_integer((json_int_t)info.questions));
    json_object_set_new(j, "facts", json_integer((json_int_t)info.facts));
    json_object_set_new(j, "causes", json_integer((json_int_t)info.causes));
    json_object_set_new(j, "fixes", json_integer((json_int_t)info.fixes));
    json_object_set_new(j, "tests", json_integer((json_int_t)info.tests));
    json_object_set_new(j, "scripts", json_integer((json_int_t)info.scripts));
    json_object_set_new(j, "sources", json_integer((json_int_t)info.sources));
    json_object_set_new(j, "signature", cli_trust_json(kb));
    status = cli_json_print(j);
  } else {
    const char *b = cli_sgr(stdout, SGR_BOLD), *r = cli_sgr(stdout, SGR_RESET);
    printf("%skb%s        %s", b, r, path);
    if (size >= 0) printf(" (%lld bytes)", size);
    printf("\n%sformat%s    %d\n", b, r, info.format);
    printf("%sdigest%s    %s\n", b, r, info.digest ? info.digest : "?");
    printf("%scompiled%s  by tshoot %s\n", b, r, info.tshoot_version ? info.tshoot_version : "?");
    printf("%scontents%s  %zu articles, %zu questions, %zu facts, %zu causes, %zu fixes,\n"
           "          %zu tests, %zu scripts, from %zu source files\n",
           b, r, info.articles, info.questions, info.facts, info.causes, info.fixes, info.tests,
           info.scripts, info.sources);
    printf("%ssigned%s    ", b, r);
    cli_print_trust(kb, "          ");
  }
done:
  tshoot_kb_close(kb);
  return status;
}
