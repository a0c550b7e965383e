/*
** help.c: the text of `tshoot --help` and of every `tshoot COMMAND --help`,
** in one place, read by the command (main.c) and by the man page's generator
** (tools/mkman.c, which writes tshoot.1 at build time): one source for both.
**
** The shape of a command's help, which the generator and the completion
** rely on: paragraphs of text; then "options:" and one option a line,
** starting with "  -x, --long ARG" or "      --long ARG", its description
** after two spaces or more (or on the next lines, indented further); then
** "exit status: ..." when the command has its own.
*/
#include "help.h"

#include <string.h>

const cli_help cli_help_commands[] = {
  { "diagnose", "find the cause of a problem by answering questions, then fix it",
    "tshoot diagnose [TEXT...] [--answer Q=V]... [--answers FILE] [--json]\n"
    "                       [--save FILE] [--resume FILE] [--threshold P] [--no-fixes]\n"
    "                       [--interactive] [--strict] [--quiet] [--verbose] [--host sim:FILE]\n"
    "                       [--yes] [--log FILE] [--kb FILE]",
    "Diagnose a problem: describe it in your own words (TEXT, optional), then\n"
    "answer the questions tshoot asks, the most useful first. When trying a fix\n"
    "is cheaper than asking more, tshoot shows it and asks whether it worked.\n"
    "It ends with the most likely cause, its probability, the evidence for it,\n"
    "and its fixes step by step, or says that no known cause fits.\n"
    "\n"
    "TEXT '-' alone: the description is all of stdin, to its end (a pasted log,\n"
    "up to 16 MiB; at a terminal end it with Ctrl-D, the questions follow).\n"
    "Without '-', stdin is never read as the description: it holds the answers\n"
    "with --interactive.\n"
    "\n"
    "At a terminal each question is asked: answer with its number, its value or\n"
    "its label (y/n for yes/no questions), or type\n"
    "  ? or why   why this question is asked, and which causes it tells apart\n"
    "  back       take back the last answer and change it\n"
    "  skip       don't know (also 'dunno', or an empty line, confirmed)\n"
    "  causes     the causes still considered, most likely first\n"
    "  how        why the leading cause leads\n"
    "  quit       stop (with --save, the session is saved first)\n"
    "\n"
    "Unattended (stdin not a terminal, or --json), a question that no --answer or\n"
    "answer file covers counts as \"don't know\", so the run always ends (--strict\n"
    "stops at the first such question instead). Nobody can try a fix then, so no\n"
    "fixes are proposed, unless a fix:FIX answer is given: then fixes are, and\n"
    "one without an answer counts as \"did not work\".\n"
    "\n"
    "With --host, the machine is looked at first: a question that a probe can\n"
    "answer (the Office version, whether a file exists...) is answered by running\n"
    "the probe on the machine, and only the rest are asked (the transcript marks\n"
    "each answer's source, 'P:' lines at a terminal). A fix with a script is\n"
    "planned, confirmed, applied, verified, and rolled back when it fails. At\n"
    "the prompt, a fix that verified is followed by 'Is the problem gone now?':\n"
    "its check proves that its change took effect, only you can see the problem.\n"
    "\n"
    "options:\n"
    "  -a, --answer Q=V    answer question Q with V without asking (V '?': don't\n"
    "                      know); fix:FIX=yes|no reports a fix; repeatable, and\n"
    "                      wins over --answers\n"
    "      --answers FILE  answers, one 'question.id = value' a line, # comments\n"
    "      --json          never ask; print one JSON object at the end: {text,\n"
    "                      steps: [{kind: ask|fix|back, question, prompt, answer,\n"
    "                      source: answers|user|unknown|saved|probe, ...; a fix:\n"
    "                      fix, title, cause, probability, worked, source:\n"
    "                      answers|user|unattended|host|host+user|declined, and\n"
    "                      run on the host also its fix result: outcome,\n"
    "                      message, plan, run, as 'tshoot fix --json' gives it}],\n"
    "                      conclusion: {cause, title, probability, article,\n"
    "                      fixes}, causes, questions_asked, unused_answers};\n"
    "                      --strict stopping (exit 3): conclusion null and\n"
    "                      pending: {question, prompt, type, unit, choices:\n"
    "                      [{value, label}]}, the question to answer\n"
    "      --save FILE     save the session to FILE after every step\n"
    "      --resume FILE   continue a saved session (the same KB build only; its\n"
    "                      threshold is kept unless --threshold is given)\n"
    "      --threshold P   conclude when a cause is this likely (default 0.9)\n"
    "      --no-fixes      do not propose fixes before the conclusion\n"
    "  -i, --interactive   ask even when stdin is not a terminal (input is echoed)\n"
    "      --strict        unattended: a question without an answer is an error\n"
    "  -q, --quiet         print only the conclusion\n"
    "  -v, --verbose       show the ids of causes, fixes and articles beside their words\n"
    "      --host sim:FILE the machine to look at and fix: a machine description\n"
    "                      (docs/scripts.md; examples in kb/kerio/machines/)\n"
    "  -y, --yes           apply fixes with scripts without asking (also unattended)\n"
    "      --log FILE      write the journal of changes made on the host (JSON lines)\n"
    "      --kb FILE       the KB to use (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 a cause was found, 4 no known cause fits, 6 inconclusive (no\n"
    "cause has the evidence to be named: the best candidates and what to do now\n"
    "are shown), 3 --strict and a question without an answer, 5 stopped before\n"
    "the end (quit, Ctrl-C, end of input: the session is saved, to\n"
    "$XDG_STATE_HOME/tshoot/last-session.json without --save, and the command\n"
    "to resume it shown), 1 failure (also a bad answer file or saved session),\n"
    "2 usage error (also an --answer the KB does not know).\n",
    "  tshoot diagnose outlook kofmsp.dll error --answer dll.exists=no --answer scope.affected=pc\n"
    "  tshoot diagnose --json outlook stuck on loading profile --answer koff.tray-error=yes\n"
    "  tshoot diagnose --json - --answer koff.tray-error=yes < outlook.log\n"
    "  tshoot diagnose --save /tmp/session.json outlook does not start\n"
    "  tshoot diagnose --resume /tmp/session.json --answer dll.exists=no\n",
  },
  { "fix", "try a cause's fixes on a machine until one works, or show what they would do",
    "tshoot fix CAUSE --host sim:FILE [--dry-run] [--yes] [--save FILE] [--log FILE]\n"
    "                       [--json] [--memory KIB] [--instructions N] [--time MS] [--kb FILE]",
    "Repair CAUSE (a cause id, as 'tshoot diagnose' names it) on a machine: its\n"
    "fixes are tried in the order the KB gives them, until one verifies. For each\n"
    "fix that has a script: its plan is shown (the changes it would make, worked\n"
    "out on a copy of the machine), then, once confirmed, it is applied with\n"
    "every change journaled, and its verify step checks that it worked. A fix\n"
    "that fails, breaks a limit or does not verify is rolled back exactly, and\n"
    "the next one is tried. Fixes without a script are for a person: see\n"
    "'tshoot show ARTICLE'.\n"
    "\n"
    "options:\n"
    "      --host sim:FILE     the machine: a machine description (docs/scripts.md)\n"
    "  -n, --dry-run           show every fix's plan; change nothing\n"
    "  -y, --yes               apply without asking (needed when stdin is not a\n"
    "                          terminal); a simulated machine confirms as its\n"
    "                          description says\n"
    "      --save FILE         write the simulated machine, as it is afterwards\n"
    "      --log FILE          write the journal of changes, one JSON object a line\n"
    "      --json              one JSON object: {cause, article, dry_run, fixed_by,\n"
    "                          tries}; each try is a fix result: {fix, title,\n"
    "                          outcome: manual|planned|plan failed|not confirmed|\n"
    "                          declined|verified|refused|failed, message (the\n"
    "                          apply's, else the failed plan's, else null), plan,\n"
    "                          run (each as 'tshoot run --json' prints a run, and\n"
    "                          absent when not made)}\n"
    "      --memory KIB, --instructions N, --time MS\n"
    "                          the scripts' limits (16384 KiB, 10000000, 2000 ms)\n"
    "      --kb FILE           the KB to use (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 a fix verified (or --dry-run), 1 none did (nothing is left\n"
    "changed), 2 usage error.\n",
    "  tshoot fix kofmsp.registry-overwrite --host sim:kb/kerio/machines/kofmsp-registry-overwrite.json --dry-run\n"
    "  tshoot fix kofmsp.registry-overwrite --host sim:kb/kerio/machines/kofmsp-registry-overwrite.json --yes --save /tmp/after.json\n",
  },
  { "run", "run one probe or fix script in the sandbox (for KB authors)",
    "tshoot run SCRIPT [--host sim:FILE] [--apply | --verify] [--yes] [--save FILE]\n"
    "                       [--log FILE] [--json] [--memory KIB] [--instructions N]\n"
    "                       [--time MS] [--kb FILE]",
    "Run SCRIPT (a Lua file, or a script's name in the KB such as\n"
    "kerio/os-version.lua) in the same sandbox, with the same limits and errors,\n"
    "as inside a diagnosis. A probe prints its answer (or says it cannot tell).\n"
    "A fix prints its plan, the changes it would make, worked out on a copy of\n"
    "the machine; with --apply it is applied, verified and rolled back if it\n"
    "does not verify. Without --host the script sees a host that can do nothing.\n"
    "\n"
    "options:\n"
    "      --host sim:FILE   the machine: a machine description (docs/scripts.md)\n"
    "      --apply           apply a fix, then verify it\n"
    "      --verify          only run a fix's verify\n"
    "  -y, --yes             confirm for the person\n"
    "      --save FILE       write the simulated machine as it is afterwards\n"
    "      --log FILE        write the journal of changes as JSON lines\n"
    "      --json            one JSON object: {script, kind, mode, status: ok|error|\n"
    "                        limit|refused, message, answer, verified, rolled_back,\n"
    "                        changes, notes, elapsed_ms, instructions, memory_peak}\n"
    "      --memory KIB, --instructions N, --time MS\n"
    "                        limits (16384 KiB, 10000000 instructions, 2000 ms)\n"
    "      --kb FILE         where to look up a script that is not a file\n"
    "\n"
    "exit status: 0 the script ran (and a fix verified), 1 it failed or broke a\n"
    "limit, 2 usage error.\n",
    "  tshoot run scripts/kerio/os-version.lua --host sim:kb/kerio/machines/kofmsp-os-unsupported.json\n"
    "  tshoot run --json --time 500 kerio/office-version.lua --host sim:kb/kerio/machines/healthy.json\n"
    "  tshoot run scripts/kerio/fix-new-profile.lua --host sim:kb/kerio/machines/kofmsp-profile-corrupt.json\n",
  },
  { "search", "find the articles that match what you type",
    "tshoot search TEXT...|- [--limit N] [--show] [--json] [--mark OPEN,CLOSE] [--kb FILE]",
    "Search the KB for TEXT: words of a symptom, an error message or code, a\n"
    "file name. The words need no quotes; they are joined by single spaces.\n"
    "With '-' (or no TEXT and a pipe or file on standard input) the text is\n"
    "read from standard input, e.g. a pasted log of any length. Bytes that\n"
    "are not UTF-8 are shown as U+FFFD; the words around them are searched.\n"
    "Spelling slips are corrected (the output then says 'did you mean'), and\n"
    "the last word also matches as a prefix.\n"
    "\n"
    "Results are numbered, best first: title, article id, score, the passage\n"
    "that matched (matches in bold on a terminal, else between [ and ], or\n"
    "between the --mark strings) and the source file:line. The score is\n"
    "bm25 relevance with title and symptom words weighted above fix text:\n"
    "higher is better, always above 0, and comparable only between the results\n"
    "of one search (not across searches or KBs).\n"
    "\n"
    "options:\n"
    "  -n, --limit N   at most N results (1-1000, default 10)\n"
    "  -s, --show      also print the best article in full, as 'tshoot show' does\n"
    "      --open      the same as --show\n"
    "      --mark OPEN,CLOSE  put OPEN before and CLOSE after each match (split\n"
    "                  at the first comma; ',' marks nothing)\n"
    "      --json      one JSON object: {version: 1, query, fts, suggestion,\n"
    "                  truncated, results: [{article, title, score, snippet,\n"
    "                  marks, file, line}]}; snippet is plain text and marks the\n"
    "                  byte ranges [start, end) of its matches (+ \"article\"\n"
    "                  with --show)\n"
    "      --kb FILE   the KB to search (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 something matched, 1 nothing matched (as grep; a line on\n"
    "stderr says so, the JSON has an empty \"results\" list) or an error,\n"
    "2 usage error.\n",
    "  tshoot search kofmsp.dll error\n"
    "  tshoot search --show outlook does not start after an update\n"
    "  tshoot search --limit 3 --json mapi\n"
    "  tshoot search --mark '<<,>>' kofmsp.dll\n",
  },
  { "show", "print one article: symptoms, causes, and fixes step by step",
    "tshoot show ARTICLE [--json] [--kb FILE]",
    "Print article ARTICLE (an id from 'tshoot search') for a person: its title,\n"
    "summary, symptoms and exact error messages, other names, then each possible\n"
    "cause with its explanation and its fixes in the order to try them: whether\n"
    "a fix needs admin rights, can be undone, its risk, its numbered steps and\n"
    "how to check that it worked. Text is wrapped to the terminal.\n"
    "\n"
    "options:\n"
    "      --json      the whole article as one JSON object\n"
    "      --kb FILE   the KB to read (see 'tshoot --help' for the default)\n",
    "  tshoot show kofmsp\n"
    "  tshoot show --json kofmsp\n",
  },
  { "info", "describe a compiled KB: path, format, digest, counts, signer",
    "tshoot info [--json] [--kb FILE]",
    "Print what a compiled KB holds: its path, format version, the digest of\n"
    "its sources (it identifies a build), the tshoot version that compiled it,\n"
    "and how many articles, questions, facts, causes, fixes, tests, scripts\n"
    "and source files it has; and who signed it, or why its scripts would not\n"
    "run (as 'tshoot verify' says).\n"
    "\n"
    "options:\n"
    "      --json      one JSON object (\"signature\": as 'tshoot verify --json')\n"
    "      --kb FILE   the KB to describe (see 'tshoot --help' for the default)\n",
    "  tshoot info\n"
    "  tshoot info --json\n",
  },
  { "test", "run the test cases written in the KB",
    "tshoot test [ID...] [--verbose] [--json] [--kb FILE]",
    "Run every test case of the KB (<test> in the articles), or those whose id\n"
    "matches one of the IDs (shell patterns such as 'kofmsp.*'). Each runs a\n"
    "diagnosis with the test's text and given answers; any other question is\n"
    "answered \"don't know\". A test without expect-fix runs without fixes (the\n"
    "answers alone must lead to the cause); with one, fixes are proposed and only\n"
    "that fix works. A test passes when the diagnosis concludes its expect-cause\n"
    "and, with expect-fix, proposed that fix or concluded a cause it belongs to.\n"
    "\n"
    "Prints 'ok   ID' or 'FAIL ID: what went wrong; file:line: <test>' with the\n"
    "top causes, then 'N passed, N failed'.\n"
    "\n"
    "options:\n"
    "  -v, --verbose   also show, for passing tests, the conclusion and the steps\n"
    "      --json      one JSON object: {kb, tests: [{id, ok, message, file, line,\n"
    "                  expect_cause, expect_fix, concluded, probability,\n"
    "                  questions_asked, asked, fixes_proposed, causes}], passed, failed}\n"
    "      --kb FILE   the KB whose tests to run (see 'tshoot --help' for the default)\n"
    "\n"
    "exit status: 0 all passed, 1 a test failed (or an error), 2 usage error.\n",
    "  tshoot test\n"
    "  tshoot test --verbose 'kofmsp.*'\n",
  },
  { "compile", "compile XML articles into a KB file",
    "tshoot compile DIR|FILE... -o KB [--force] [--scripts DIR]... [--quiet] [--json]\n"
    "                       [--Werror]",
    "Compile the XML articles in the given files and folders (searched for\n"
    "*.xml) into one KB file. Every problem is reported like a compiler's,\n"
    "file:line:col: error: message [code], all of them in one run. The KB is\n"
    "written to a temporary file and renamed into place: when there are\n"
    "errors, or the compile is interrupted, an existing KB is left untouched.\n"
    "The output is never one of the sources, and an existing file that is not a\n"
    "tshoot KB is replaced only with --force. Temporary files that a killed\n"
    "compile left next to the output are removed by the next compile of it.\n"
    "\n"
    "options:\n"
    "  -o, --output KB    the KB file to write (required)\n"
    "  -f, --force        replace KB even if it exists and is not a tshoot KB\n"
    "      --scripts DIR  a folder where Lua scripts that articles name are\n"
    "                     looked up, after the source file's own folder;\n"
    "                     repeatable (default: the nearest folder named\n"
    "                     'scripts' above each source, as kb/ and scripts/ sit\n"
    "                     side by side in this project)\n"
    "  -q, --quiet        no progress and no summary when all went well\n"
    "      --json         one JSON object: {ok, diagnostics: [{severity, file,\n"
    "                     line, column, code, message}], stats: {...}}\n"
    "      --Werror       treat warnings as errors\n"
    "\n"
    "exit status: 0 compiled, 1 errors in the sources (or the KB could not be\n"
    "written, or -o names a source or a file that is not a KB), 2 usage error.\n",
    "  tshoot compile kb/kerio -o /tmp/kerio.db\n"
    "  tshoot info --kb /tmp/kerio.db\n",
  },
  { "lint", "check XML articles without writing a KB",
    "tshoot lint DIR|FILE... [--scripts DIR]... [--json] [--Werror]",
    "Check the given XML articles as 'tshoot compile' does, print every\n"
    "problem as file:line:col: severity: message [code], and write nothing.\n"
    "\n"
    "options:\n"
    "      --scripts DIR  where Lua scripts are looked up (repeatable; default as\n"
    "                     for compile: the nearest 'scripts' folder above a source)\n"
    "      --json         one JSON object: {ok, diagnostics, stats}\n"
    "      --Werror       treat warnings as errors\n"
    "\n"
    "exit status: 0 no errors, 1 errors, 2 usage error.\n",
    "  tshoot lint kb/kerio\n",
  },
  { "keygen", "make a key pair to sign KBs with",
    "tshoot keygen -o NAME [--name SIGNER] [--force]",
    "Make an Ed25519 key pair: NAME.key, the secret key (created with mode 0600,\n"
    "never printed; keep it off the machines that run KBs), and NAME.pub, the\n"
    "public key, which machines trust by having it in /etc/tshoot/trusted.d/ or\n"
    "~/.config/tshoot/trusted.d/ (docs/signing.md).\n"
    "\n"
    "options:\n"
    "  -o, --output NAME  where to write NAME.key and NAME.pub\n"
    "  -n, --name SIGNER  the name every signature with the key carries (default:\n"
    "                     NAME's last part); up to 100 printable characters\n"
    "      --force        replace existing key files (the old key is lost)\n"
    "\n"
    "exit status: 0 written, 1 failure (a key file exists), 2 usage error.\n",
    "  tshoot keygen -o /tmp/acme-2026 --name 'ACME support 2026'\n",
  },
  { "sign", "sign a KB, so that machines that trust the key run its scripts",
    "tshoot sign KB --key NAME.key [--only]",
    "Sign the KB file KB with the secret key NAME.key: the signature goes into\n"
    "KB.sig beside it (the KB's bytes do not change). A signature by the same key\n"
    "is replaced; signatures by other keys stay while they still match the KB,\n"
    "so a KB can carry an old and a new key's signature during a key rotation.\n"
    "Sign after the last compile: compiling again makes the signatures stale.\n"
    "\n"
    "options:\n"
    "  -k, --key NAME.key  the secret key (not readable by group or others)\n"
    "      --only          drop every other signature: this one is the only one\n"
    "\n"
    "exit status: 0 signed, 1 failure, 2 usage error.\n",
    "  tshoot sign /tmp/kerio.db --key /tmp/acme-2026.key\n",
  },
  { "verify", "check who signed a KB and whether this machine trusts it",
    "tshoot verify KB [--trust KEY.pub]... [--json]",
    "Check the signatures in KB.sig against the KB's bytes and the trusted keys:\n"
    "those given with --trust, those in ~/.config/tshoot/trusted.d/ (or\n"
    "$XDG_CONFIG_HOME/tshoot/trusted.d/), the machine's trust folder and\n"
    "$TSHOOT_TRUST. Prints who signed it, or why its scripts would not run:\n"
    "unsigned, unknown signer, bad signature or revoked key. (--trust and\n"
    "--allow-unsigned-scripts work with every command.)\n"
    "\n"
    "options:\n"
    "      --trust KEY.pub  trust this public key too (repeatable; a KEY.revoked\n"
    "                       file revokes the key instead)\n"
    "      --json           one JSON object: {kb, signature: {status, trusted,\n"
    "                       scripts_allowed, reason, signer, signatures}}\n"
    "\n"
    "exit status: 0 signed by a trusted key, 1 not (or not a KB), 2 usage error.\n",
    "  tshoot verify /tmp/kerio.db --trust /tmp/acme-2026.pub\n",
  },
  { "serve", "serve the KB over HTTP: a JSON API and a web page",
    "tshoot serve [--kb FILE] [--listen ADDR:PORT] [--sessions FILE] [--key FILE]\n"
    "                       [--web DIR] [--allow-origin ORIGIN] [--idle SECONDS] [--threads N]\n"
    "                       [--rate N] [--max-sessions N] [--max-body BYTES] [--max-header BYTES]\n"
    "                       [--max-query BYTES] [--timeout SECONDS] [--max-connections N]\n"
    "                       [--max-connections-per-client N] [--quiet]",
    "Serve the KB over HTTP: a JSON API (v1) for support portals and chatbot\n"
    "backends, and the web page at /. It runs tshoot-serve, a program of its own\n"
    "(so that tshoot needs no HTTP library). docs/http.md describes every route:\n"
    "search, articles, diagnosis sessions (answers, replies in words, back, fix\n"
    "outcomes, why, how), /healthz and /metrics; errors are application/problem+json\n"
    "(RFC 9457). The server never runs probes or fix scripts: the people who use\n"
    "it answer the questions and try the fixes.\n"
    "\n"
    "Sessions live in a SQLite file (WAL): a server killed and started again\n"
    "continues every live session. A session's id (128 random bits) is the only\n"
    "key to it; saved sessions are signed with the server's key. SIGHUP, or a new\n"
    "KB compiled over the KB file, puts the new KB in service for new sessions\n"
    "without dropping a request; SIGTERM lets requests in flight finish (up to 5 s).\n"
    "The log (stderr) has one line per request: method, path without the query,\n"
    "status and time.\n"
    "\n"
    "options:\n"
    "      --kb FILE             the KB to serve (see 'tshoot --help' for the default)\n"
    "  -l, --listen ADDR:PORT    where to listen (default 127.0.0.1:8080; port 0: any\n"
    "                            free port, named by the first log line)\n"
    "      --sessions FILE       the session store (default tshoot-sessions.db here;\n"
    "                            ':memory:' keeps sessions in memory only)\n"
    "      --key FILE            the session key: 32 random bytes, made (0600) when\n"
    "                            missing (default: the store's name + .key)\n"
    "      --web DIR             the web page's files (default: the shipped ones)\n"
    "      --allow-origin ORIGIN allow cross-origin requests from ORIGIN ('*': any);\n"
    "                            default: CORS off\n"
    "      --idle SECONDS        a session unused this long expires (default 86400)\n"
    "      --threads N           threads answering requests (default: the CPUs)\n"
    "      --rate N              requests per second per client address, bursts of 2N\n"
    "                            (default 50; 0: no limit); past it, 429\n"
    "      --max-sessions N      live sessions per client address (default 100; 0: no\n"
    "                            limit); past it, 429\n"
    "      --max-body BYTES      request body (default 16384); past it, 413\n"
    "      --max-header BYTES    request line and headers (default 8192); past it, 431\n"
    "      --max-query BYTES     the search text q (default 512); past it, 400\n"
    "      --timeout SECONDS     a connection that stalls this long is closed (default 10)\n"
    "      --max-connections N   open connections in all (default 1024)\n"
    "      --max-connections-per-client N\n"
    "                            open connections per client address (default 128)\n"
    "  -q, --quiet               no log line per request\n"
    "\n"
    "exit status: 0 stopped by SIGTERM or SIGINT, 1 failure (no KB, the address is\n"
    "taken, the store cannot be opened), 2 usage error.\n",
    "  tshoot serve --help\n",
  },
  { "help", "show the help of a command",
    "tshoot help [COMMAND]",
    "Print the help of COMMAND, or the overview without one. The same as\n"
    "'tshoot COMMAND --help'.\n",
    "  tshoot help search\n",
  },
};
const size_t cli_help_n_commands = sizeof cli_help_commands / sizeof cli_help_commands[0];

const char cli_help_about[] =
  "find and fix known problems from a knowledge base (KB) of\n"
  "troubleshooting articles.\n";

const char cli_help_synopsis[] =
  "tshoot COMMAND [ARGS...]\n"
  "tshoot COMMAND --help\n"
  "tshoot --version\n";

const char cli_help_examples[] =
  "tshoot diagnose outlook does not start, kofmsp.dll error   # answer questions\n"
  "tshoot search kofmsp.dll error                 # words need no quotes\n"
  "tshoot search --show outlook does not start    # the best article in full\n"
  "tshoot show kofmsp                   # one article by its id\n"
  "tshoot info                                    # which KB, how big\n"
  "tshoot test                                    # run the KB's test cases\n"
  "tshoot lint kb/kerio --scripts scripts         # check articles as you write\n";

const char cli_help_kb[] =
  "the KB: commands read --kb FILE, else $TSHOOT_KB, else the KB this build\n"
  "compiled (%s) if it exists,\n"
  "else the installed one (%s).\n";

const char cli_help_output[] =
  "scripts: a KB's probes and fixes run only when a trusted key signed it\n"
  "(docs/signing.md); every command takes --trust KEY.pub (trust it too) and\n"
  "--allow-unsigned-scripts (developers: run an untrusted KB's scripts).\n"
  "\n"
  "output: colour only on a terminal and without $NO_COLOR; --json for programs:\n"
  "one JSON object whose first member, \"version\": 1, is raised only when a field\n"
  "changes meaning or goes away.\n"
  "exit status: 0 ok, 1 failure (library error, errors in KB sources), 2 usage error.\n";

const cli_help *cli_help_find(const char *name)
{
  size_t i;
  for (i = 0; i < cli_help_n_commands; i++)
    if (strcmp(cli_help_commands[i].name, name) == 0) return &cli_help_commands[i];
  return NULL;
}

/* A line of an options list that starts an option: indented 2 to 6 spaces,
** then '-'. */
static int help_option_line(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && s[i] == ' ') i++;
  return i >= 2 && i <= 6 && i + 1 < n && s[i] == '-';
}

size_t cli_help_options(const cli_help *c, cli_help_option *out, size_t max)
{
  const char *line, *nl;
  size_t n = 0;
  int in_options = 0;
  for (line = c->help; *line; line = *nl ? nl + 1 : nl) {
    size_t len, i, pending;
    nl = line + strcspn(line, "\n");
    len = (size_t)(nl - line);
    if (len == 0) { in_options = 0; continue; }
    if (len == 8 && strncmp(line, "options:", 8) == 0) { in_options = 1; continue; }
    if (!in_options || !help_option_line(line, len)) continue;
    /* tokens: OPTION [ARG] {, OPTION [ARG]}, then the description; in
    ** "-o, --output KB" the short option takes the long one's argument */
    i = 0;
    pending = (size_t)-1;
    while (i < len) {
      size_t a, b;
      while (i < len && (line[i] == ' ' || line[i] == ',')) i++;
      if (i >= len || line[i] != '-') break;
      a = i;
      while (i < len && line[i] != ' ' && line[i] != ',') i++;
      if (n < max) {
        out[n].name = line + a;
        out[n].len = i - a;
        out[n].arg = NULL;
        out[n].arg_len = 0;
      }
      /* an argument: one space, then a word that is not an option */
      if (i + 1 < len && line[i] == ' ' && line[i + 1] != ' ' && line[i + 1] != '-') {
        b = ++i;
        while (i < len && line[i] != ' ' && line[i] != ',') i++;
        if (n < max) { out[n].arg = line + b; out[n].arg_len = i - b; }
        if (pending < n && n < max) out[pending] = (cli_help_option){ out[pending].name,
            out[pending].len, out[n].arg, out[n].arg_len };
        pending = (size_t)-1;
      } else if (i < len && line[i] == ',') {
        pending = n;
      }
      n++;
      if (i < len && line[i] == ' ' && (i + 1 >= len || line[i + 1] == ' ')) break;   /* the gap */
      if (i < len && line[i] == ' ') break;        /* a description after one space */
    }
  }
  return n;
}
