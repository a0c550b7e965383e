/*
** cmd_show.c: `tshoot show ARTICLE`: one article for a person, or --json.
*/
#include "cli.h"

#include <getopt.h>
#include <string.h>

int cmd_show(int argc, char **argv)
{
  static const struct option longs[] = {
    { "json", no_argument, NULL, 'j' },
    { "kb", required_argument, NULL, 'k' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
  };
  tshoot_kb *kb = NULL;
  tshoot_article *art = NULL;
  const char *kb_opt = NULL;
  int c, rc, json = 0, status = EXIT_OK;

  opterr = 0;
  optind = 0;
  while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'k': kb_opt = optarg; break;
    case 'h': cli_print_command_help(stdout, "show"); return EXIT_OK;
    default: return cli_getopt_error("show", c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("show", "no article given: name one by its id "
                                   "(ids are in the output of 'tshoot search')");
  if (argc - optind > 1)
    return cli_usage_error("show", "one article at a time, got %d", argc - optind);
  if (cli_open_kb(&kb, kb_opt, NULL) != EXIT_OK) return EXIT_FAIL;
  rc = tshoot_article_load(&art, kb, argv[optind]);
  if (rc != TSHOOT_OK) {
    status = cli_lib_error(rc);
    if (rc == TSHOOT_ENOTFOUND && !strstr(tshoot_error_last()->message, "did you mean"))
      cli_note("find articles with 'tshoot search WORDS'; the ids are in its output");
  } else if (json) {
    status = cli_json_print(cli_article_json(art));
  } else {
    cli_print_article(stdout, art);
  }
  tshoot_article_free(art);
  tshoot_kb_close(kb);
  return status;
}
