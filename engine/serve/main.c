/*
** main.c: tshoot-serve, the HTTP server (`tshoot serve` runs it).
**
** Options, the server's session key, start-up, then the main thread waits
** for signals while libmicrohttpd's threads answer requests: SIGHUP reloads
** the KB, SIGINT/SIGTERM stop the server (no new connections; requests in
** flight get up to 5 s to finish),
** and every second the KB file is looked at (a compile renames a new KB over
** it) and, every minute, idle sessions expire.
*/
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TSHOOT_WEB_DIR
# define TSHOOT_WEB_DIR ""
#endif
#ifndef TSHOOT_INSTALLED_WEB_DIR
# define TSHOOT_INSTALLED_WEB_DIR ""
#endif

static const char main_usage[] =
  "usage: tshoot serve [--kb FILE] [--listen ADDR:PORT] [--sessions FILE] [--key FILE]\n"
  "                    [--web DIR] [--allow-origin ORIGIN] [--idle SECONDS] [--threads N]\n"
  "                    [--rate N] [--max-sessions N] [--max-body BYTES] [--max-header BYTES]\n"
  "                    [--max-query BYTES] [--timeout SECONDS] [--max-connections N]\n"
  "                    [--max-connections-per-client N] [--quiet]\n";

static const char main_help[] =
  "\n"
  "Serve the KB over HTTP: a JSON API (v1) for support portals and chatbot\n"
  "backends, and the web page at /. docs/http.md describes every route; in\n"
  "short:\n"
  "  GET    /v1/search?q=TEXT&limit=N     search, as 'tshoot search --json'\n"
  "  GET    /v1/articles/ID               an article for people\n"
  "  POST   /v1/sessions                  start a diagnosis {text, answers}\n"
  "  GET    /v1/sessions/ID               its current step and the causes\n"
  "  POST   /v1/sessions/ID/answers       {value | unknown: true | text}\n"
  "  POST   /v1/sessions/ID/back          take back the last answer\n"
  "  POST   /v1/sessions/ID/fixes/FIX     {outcome: worked | did_not_work |\n"
  "                                        could_not_try | skipped}\n"
  "  GET    /v1/sessions/ID/why, /how     why this question, why this cause\n"
  "  DELETE /v1/sessions/ID               end it\n"
  "  GET    /healthz, /metrics            health, Prometheus metrics\n"
  "Errors are application/problem+json (RFC 9457). The server never runs probes\n"
  "or fix scripts: the people who use it answer the questions and try the fixes.\n"
  "\n"
  "Sessions live in a SQLite file (WAL): a server killed and started again\n"
  "continues every live session. A session's id (128 random bits) is the only\n"
  "key to it. Saved sessions are signed with the server's key, so the file\n"
  "cannot be edited into a session the server did not make.\n"
  "\n"
  "SIGTERM or SIGINT stops the server: requests in flight are answered first\n"
  "(for up to 5 seconds).\n"
  "\n"
  "SIGHUP, or a new KB compiled over the KB file (tshoot compile renames it into\n"
  "place), puts the new KB in service for new sessions without dropping a\n"
  "request; live sessions finish on the KB they started on.\n"
  "\n"
  "options:\n"
  "      --kb FILE         the KB to serve (default: $TSHOOT_KB, else the KB this\n"
  "                        build compiled, else the installed one)\n"
  "  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:8080; port 0: any\n"
  "                        free port, which the first log line names; [::1]:8080\n"
  "                        for IPv6). Put a TLS proxy in front for other machines.\n"
  "      --sessions FILE   the session store (default tshoot-sessions.db in the\n"
  "                        current folder; ':memory:' keeps sessions in memory only)\n"
  "      --key FILE        the server's session key: 32 random bytes, created (mode\n"
  "                        0600) when missing (default: the store's name + .key;\n"
  "                        with ':memory:' a fresh key per run)\n"
  "      --web DIR         the web page's files (default: the ones shipped with\n"
  "                        tshoot); only plain file names in DIR are served\n"
  "      --allow-origin ORIGIN  allow cross-origin requests from ORIGIN (exactly, as\n"
  "                        https://portal.example.com; '*': any); default: CORS off\n"
  "      --idle SECONDS    a session unused this long expires (default 86400)\n"
  "      --threads N       threads answering requests (default: the CPUs, 2 to 16)\n"
  "\n"
  "limits (a client past one gets a 4xx, the server keeps serving):\n"
  "      --rate N          requests per second per client address, bursts of 2N\n"
  "                        (default 50; 0: no limit); past it, 429\n"
  "      --max-sessions N  live sessions per client address (default 100; 0: no\n"
  "                        limit); past it, 429\n"
  "      --max-body BYTES  request body (default 16384); past it, 413\n"
  "      --max-header BYTES  request line and headers (default 8192, give or take\n"
  "                        4 KiB of read buffer); past it, 431 (a request line: 414)\n"
  "      --max-query BYTES   the search text q (default 512); past it, 400\n"
  "      --timeout SECONDS   a connection idle or sending this slowly is closed\n"
  "                        (default 10)\n"
  "      --max-connections N  open connections in all (default 1024)\n"
  "      --max-connections-per-client N  (default 128)\n"
  "  -q, --quiet           no log line per request\n"
  "  -h, --help            this help\n"
  "\n"
  "The log (stderr) has one line per request: method, path without the query\n"
  "(a session id cut to 8 characters), status and time.\n"
  "\n"
  "examples:\n"
  "  tshoot serve                              # http://127.0.0.1:8080/\n"
  "  tshoot serve --listen 0.0.0.0:8080 --sessions /var/lib/tshoot/sessions.db\n"
  "  curl 'http://127.0.0.1:8080/v1/search?q=kofmsp'\n"
  "\n"
  "docs/tshoot-serve.service is a systemd unit to start from.\n";

static int main_usage_error(const char *what, const char *arg)
{
  fprintf(stderr, "tshoot serve: %s '%s'\ntry 'tshoot serve --help'\n", what, arg);
  return 2;
}

static int main_number(const char *arg, const char *name, double lo, double hi, double *out)
{
  char *end;
  double v;
  errno = 0;
  v = strtod(arg, &end);
  if (errno || end == arg || *end || v < lo || v > hi) {
    fprintf(stderr, "tshoot serve: %s '%s': expected a number from %g to %g\n"
            "try 'tshoot serve --help'\n", name, arg, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

/* Read the server's key, or make one (0600) when the file does not exist. */
static int main_key(const char *path)
{
  unsigned char buf[64];
  struct stat st;
  ssize_t got;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) {
    if (serve_random(serve_cfg.key, sizeof serve_cfg.key) != 0) {
      serve_log("no random numbers for the session key");
      return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write(fd, serve_cfg.key, sizeof serve_cfg.key) != (ssize_t)sizeof serve_cfg.key ||
        fsync(fd) != 0) {
      serve_log("%s: cannot write the session key: %s", path, strerror(errno));
      if (fd >= 0) close(fd);
      return -1;
    }
    close(fd);
    serve_log("made a new session key in %s", path);
    return 0;
  }
  if (fd < 0) {
    serve_log("%s: cannot read the session key: %s", path, strerror(errno));
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
    serve_log("%s: the session key must be a file only its owner can read (chmod 600)", path);
    close(fd);
    return -1;
  }
  got = read(fd, buf, sizeof buf);
  close(fd);
  if (got != (ssize_t)sizeof serve_cfg.key) {
    serve_log("%s: a session key is exactly %zu bytes", path, sizeof serve_cfg.key);
    return -1;
  }
  memcpy(serve_cfg.key, buf, sizeof serve_cfg.key);
  return 0;
}

static const char *main_web_dir(void)
{
  struct stat st;
  if (TSHOOT_WEB_DIR[0] && stat(TSHOOT_WEB_DIR, &st) == 0 && S_ISDIR(st.st_mode)) return TSHOOT_WEB_DIR;
  if (TSHOOT_INSTALLED_WEB_DIR[0] && stat(TSHOOT_INSTALLED_WEB_DIR, &st) == 0 && S_ISDIR(st.st_mode))
    return TSHOOT_INSTALLED_WEB_DIR;
  return NULL;
}

static int main_options(int argc, char **argv)
{
  enum { O_KB = 256, O_SESSIONS, O_KEY, O_WEB, O_ORIGIN, O_IDLE, O_THREADS, O_RATE, O_MAXSESS,
         O_BODY, O_HEADER, O_QUERY, O_TIMEOUT, O_CONNS, O_CONNS_CLIENT };
  static const struct option longopts[] = {
    { "kb", required_argument, NULL, O_KB }, { "listen", required_argument, NULL, 'l' },
    { "sessions", required_argument, NULL, O_SESSIONS }, { "key", required_argument, NULL, O_KEY },
    { "web", required_argument, NULL, O_WEB }, { "allow-origin", required_argument, NULL, O_ORIGIN },
    { "idle", required_argument, NULL, O_IDLE }, { "threads", required_argument, NULL, O_THREADS },
    { "rate", required_argument, NULL, O_RATE }, { "max-sessions", required_argument, NULL, O_MAXSESS },
    { "max-body", required_argument, NULL, O_BODY }, { "max-header", required_argument, NULL, O_HEADER },
    { "max-query", required_argument, NULL, O_QUERY }, { "timeout", required_argument, NULL, O_TIMEOUT },
    { "max-connections", required_argument, NULL, O_CONNS },
    { "max-connections-per-client", required_argument, NULL, O_CONNS_CLIENT },
    { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  double v;
  int c;
  serve_cfg.listen = "127.0.0.1:8080";
  serve_cfg.sessions_path = "tshoot-sessions.db";
  serve_cfg.threads = (unsigned)(cpus < 2 ? 2 : cpus > 16 ? 16 : cpus);
  serve_cfg.idle_s = 86400;
  serve_cfg.max_body = 16384;
  serve_cfg.max_header = 8192;
  serve_cfg.max_query = 512;
  serve_cfg.max_sessions_client = 100;
  serve_cfg.rate = 50;
  serve_cfg.timeout_s = 10;
  serve_cfg.max_connections = 1024;
  serve_cfg.max_conn_client = 128;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":l:qh", longopts, NULL)) != -1) {
    switch (c) {
    case O_KB: serve_cfg.kb_path = optarg; break;
    case 'l': serve_cfg.listen = optarg; break;
    case O_SESSIONS: serve_cfg.sessions_path = optarg; break;
    case O_KEY: serve_cfg.key_path = optarg; break;
    case O_WEB: serve_cfg.web_dir = optarg; break;
    case O_ORIGIN: serve_cfg.allow_origin = optarg; break;
    case O_IDLE: if (main_number(optarg, "--idle", 1, 1e9, &v)) return 2; serve_cfg.idle_s = (long long)v; break;
    case O_THREADS: if (main_number(optarg, "--threads", 1, 256, &v)) return 2; serve_cfg.threads = (unsigned)v; break;
    case O_RATE: if (main_number(optarg, "--rate", 0, 1e6, &v)) return 2; serve_cfg.rate = v; break;
    case O_MAXSESS: if (main_number(optarg, "--max-sessions", 0, 1e9, &v)) return 2; serve_cfg.max_sessions_client = (unsigned)v; break;
    case O_BODY: if (main_number(optarg, "--max-body", 64, 1 << 24, &v)) return 2; serve_cfg.max_body = (size_t)v; break;
    case O_HEADER: if (main_number(optarg, "--max-header", 1024, 1 << 20, &v)) return 2; serve_cfg.max_header = (size_t)v; break;
    case O_QUERY: if (main_number(optarg, "--max-query", 1, 1 << 20, &v)) return 2; serve_cfg.max_query = (size_t)v; break;
    case O_TIMEOUT: if (main_number(optarg, "--timeout", 1, 3600, &v)) return 2; serve_cfg.timeout_s = (unsigned)v; break;
    case O_CONNS: if (main_number(optarg, "--max-connections", 1, 1e6, &v)) return 2; serve_cfg.max_connections = (unsigned)v; break;
    case O_CONNS_CLIENT: if (main_number(optarg, "--max-connections-per-client", 1, 1e6, &v)) return 2; serve_cfg.max_conn_client = (unsigned)v; break;
    case 'q': serve_cfg.quiet = 1; break;
    case 'h': fputs(main_usage, stdout); fputs(main_help, stdout); return 0;
    case ':': return main_usage_error("this option needs a value:", argv[optind - 1]);
    default: return main_usage_error("unknown option", argv[optind - 1]);
    }
  }
  if (optind < argc) return main_usage_error("unexpected argument", argv[optind]);
  if (!http_listen_ok(serve_cfg.listen))
    return main_usage_error("--listen takes ADDR:PORT (127.0.0.1:8080, [::1]:8080), not",
                            serve_cfg.listen);
  if (!serve_cfg.web_dir) serve_cfg.web_dir = main_web_dir();
  return -1;
}

int main(int argc, char **argv)
{
  sigset_t sigs;
  char keypath[4096];
  int rc, sig;
  long long last_sweep;
  struct timespec tick = { 1, 0 };

  if (argc > 1 && strcmp(argv[1], "serve") == 0) { argc--; argv++; }  /* as `tshoot serve` */
  rc = main_options(argc, argv);
  if (rc >= 0) return rc;

  /* every thread (libmicrohttpd's are made below) inherits these blocked:
  ** the main thread takes them with sigtimedwait */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if (kbset_init(serve_cfg.kb_path) != 0) return 1;
  if (strcmp(serve_cfg.sessions_path, ":memory:") == 0 && !serve_cfg.key_path) {
    if (serve_random(serve_cfg.key, sizeof serve_cfg.key) != 0) {
      kbset_close();
      return 1;
    }
  } else {
    if (!serve_cfg.key_path) {
      snprintf(keypath, sizeof keypath, "%s.key", serve_cfg.sessions_path);
      serve_cfg.key_path = keypath;
    }
    if (main_key(serve_cfg.key_path) != 0) {
      kbset_close();
      return 1;
    }
  }
  if (store_sqlite_open(&serve_sessions, serve_cfg.sessions_path) != 0) {
    kbset_close();
    return 1;
  }
  if (http_start() != 0) {
    serve_sessions.ops->close(serve_sessions.self);
    kbset_close();
    return 1;
  }
  {
    serve_kb *k = kbset_current();
    serve_log("serving KB %s (build %.12s), sessions in %s, web page from %s",
              tshoot_kb_path(k->kb), k->digest, serve_cfg.sessions_path,
              serve_cfg.web_dir ? serve_cfg.web_dir : "(none)");
    kbset_release(k);
  }

  last_sweep = serve_now();
  for (;;) {
    sig = sigtimedwait(&sigs, NULL, &tick);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGHUP) kbset_reload("SIGHUP");
    else kbset_check_file();
    serve_sessions.ops->tick(serve_sessions.self);
    if (serve_now() - last_sweep >= 60) {
      long long n = serve_sessions.ops->expire(serve_sessions.self, serve_now() - serve_cfg.idle_s);
      if (n > 0) serve_log("%lld idle sessions expired", n);
      kbset_prune();
      last_sweep = serve_now();
    }
  }
  serve_log("stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
  http_stop();
  serve_sessions.ops->close(serve_sessions.self);
  kbset_close();
  return 0;
}
