/*
** tshoot.h: the public interface of libtshoot.
**
** libtshoot turns a knowledge base (KB) of troubleshooting articles into guided
** diagnosis. Articles are written in XML, compiled into one SQLite file by
** tshoot_compile(), opened read-only by tshoot_kb_open(), and searched with
** tshoot_search().
**
** This header is the manual. If a function, type or macro is not declared
** here, it is not part of the API, whatever the shared library happens to
** export.
**
** Conventions (docs/api.md, "Conventions", says more):
**  - Functions return an int status: TSHOOT_OK (0) or a negative TSHOOT_E*
**    code. Results come back through out-parameters, which come first.
**  - After a failure, tshoot_error_last() describes it. The description is
**    thread-local: it is never overwritten by another thread.
**  - What comes back through a pointer-to-pointer (**out) belongs to the
**    caller, who releases it with the matching _free/_close. A pointer that
**    is *returned* is borrowed from its parent object; each function says
**    until when it stays valid.
**  - Every _free/_close accepts NULL and does nothing with it.
**  - Threads: a tshoot_kb is immutable after open and may be shared by any
**    number of threads. Every other handle is used by one thread at a time.
*/
#ifndef TSHOOT_H
#define TSHOOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(TSHOOT_BUILDING)
# define TSHOOT_API __declspec(dllexport)
#elif defined(__GNUC__) && defined(TSHOOT_BUILDING)
# define TSHOOT_API __attribute__((visibility("default")))
#else
# define TSHOOT_API
#endif

/* ---------------------------------------------------------------------------
** Version
*/
#define TSHOOT_VERSION        "0.1.0"
#define TSHOOT_VERSION_MAJOR  0
#define TSHOOT_VERSION_MINOR  1
#define TSHOOT_VERSION_PATCH  0
#define TSHOOT_VERSION_NUMBER (TSHOOT_VERSION_MAJOR * 1000000 + \
                               TSHOOT_VERSION_MINOR * 1000 + TSHOOT_VERSION_PATCH)

/* The compiled-KB format this library reads and writes. A KB of another
** format version is refused by tshoot_kb_open() with TSHOOT_EVERSION. */
#define TSHOOT_KB_FORMAT      6

/* The XML namespace of KB sources, format v1. */
#define TSHOOT_KB_NAMESPACE   "urn:tshoot:kb:1"

/* The library's version at run time ("X.Y.Z"); compare with TSHOOT_VERSION
** to detect a header/library mismatch. Never NULL, never freed. */
TSHOOT_API const char *tshoot_libversion(void);

/* ---------------------------------------------------------------------------
** Status codes and error detail
*/
enum {
  TSHOOT_OK        =  0,  /* success */
  TSHOOT_ERROR     = -1,  /* generic failure; see tshoot_error_last() */
  TSHOOT_ENOMEM    = -2,  /* out of memory */
  TSHOOT_EINVALID  = -3,  /* an argument is invalid (NULL handle, bad option) */
  TSHOOT_ENOTFOUND = -4,  /* a file, article or id does not exist */
  TSHOOT_ESOURCE   = -5,  /* KB sources have errors (see the diagnostics) */
  TSHOOT_ECORRUPT  = -6,  /* a KB file is damaged, truncated or not a KB */
  TSHOOT_EVERSION  = -7,  /* a KB file has another format version */
  TSHOOT_EIO       = -8,  /* reading or writing a file failed */
  TSHOOT_ETIMEOUT  = -9,  /* work ran past its time budget */
  TSHOOT_ELIMIT    = -10, /* a script broke a limit (memory, instructions, time) */
  TSHOOT_EUSER     = -11, /* a caller's callback asked to stop or failed */
  TSHOOT_EUNTRUSTED = -12, /* a KB is not signed by a key this machine trusts:
                              its scripts do not run (docs/signing.md) */
  TSHOOT_ITEROVER  = -31  /* end of an iteration; not an error */
};

/* The detail of the last failure on the calling thread. */
typedef struct tshoot_error {
  int code;             /* the TSHOOT_E* status that was returned */
  const char *message;  /* one line, English, never NULL ("" if none) */
  const char *file;     /* a source or KB file the error is about, or NULL */
  int line;             /* 1-based line in file, or 0 */
  int column;           /* 1-based column in file, or 0 */
} tshoot_error;

/* The last error set on this thread, or a tshoot_error with code TSHOOT_OK
** and message "" if none. Never NULL. Borrowed: valid until the next libtshoot
** call on this thread. */
TSHOOT_API const tshoot_error *tshoot_error_last(void);

/* Forget the last error on this thread. */
TSHOOT_API void tshoot_error_clear(void);

/* A short English name for a status code ("TSHOOT_ECORRUPT: damaged KB file").
** Never NULL, never freed. */
TSHOOT_API const char *tshoot_strerror(int code);

/* ---------------------------------------------------------------------------
** Compiling a KB: XML sources -> one SQLite file
**
** Sources are files or directories (searched recursively for *.xml, in byte
** order of their paths, so the result does not depend on the file system).
** Every problem found is reported through the diagnostic callback, all of them
** in one run, each with file:line:col. The output is written to a temporary
** file next to it, fsynced and renamed into place, then the directory is
** fsynced: a failed or interrupted compile leaves the previous KB untouched.
** Compiling the same sources twice gives the same bytes.
*/

typedef enum tshoot_severity {
  TSHOOT_NOTE    = 0,   /* extra context for the diagnostic before it */
  TSHOOT_WARNING = 1,
  TSHOOT_ERRSEV  = 2    /* an error: the KB is not written */
} tshoot_severity;

typedef struct tshoot_diagnostic {
  tshoot_severity severity;
  const char *file;     /* the source file as it was named, never NULL */
  int line;             /* 1-based, or 0 when the whole file is meant */
  int column;           /* 1-based, or 0 when unknown */
  const char *code;     /* a stable id such as "TSH-E012", see docs/messages.md */
  const char *message;  /* one line, without file:line:col */
} tshoot_diagnostic;

/* Called once per diagnostic, in source order. The diagnostic and its strings
** are borrowed for the duration of the call. */
typedef void (*tshoot_diagnostic_cb)(const tshoot_diagnostic *d, void *payload);

/* Called as the compile goes: `done` of `total` units (source files while
** reading, articles while writing) in the phase named by `phase` ("read",
** "check", "write", "index"; a static string, valid forever). Called at least
** once per source file and every 256 articles, so cancelling takes effect
** within that much work. Return non-zero to cancel: the compile then fails
** with TSHOOT_EUSER and the previous KB is kept. */
typedef int (*tshoot_progress_cb)(const char *phase, size_t done, size_t total,
                                  void *payload);

#define TSHOOT_COMPILE_OPTIONS_VERSION 1
typedef struct tshoot_compile_options {
  unsigned int version;                 /* TSHOOT_COMPILE_OPTIONS_VERSION */
  /* Folders in which script names (probe="...", script="...") are looked up,
  ** after the folder of the source file that names them. NULL: none. */
  const char *const *script_dirs;
  size_t n_script_dirs;
  tshoot_diagnostic_cb on_diagnostic;   /* NULL: diagnostics are dropped */
  void *diagnostic_payload;
  tshoot_progress_cb on_progress;       /* NULL: no progress */
  void *progress_payload;
  int warnings_are_errors;              /* non-zero: a warning fails the compile */
  size_t max_file_size;                 /* bytes per source file; 0: 16 MiB */
} tshoot_compile_options;

#define TSHOOT_COMPILE_OPTIONS_INIT { TSHOOT_COMPILE_OPTIONS_VERSION, NULL, 0, \
                                      NULL, NULL, NULL, NULL, 0, 0 }

/* What a compile did. */
typedef struct tshoot_compile_stats {
  size_t files, articles, questions, facts, causes, fixes, tests, scripts;
  size_t errors, warnings;
} tshoot_compile_stats;

/* Compile `sources` into the KB file `out_path`.
**
** @param[out] stats  what was compiled (may be NULL); filled even on failure
** @param[in]  sources, n_sources  files or folders of XML articles
** @param[in]  out_path  the KB file to write; NULL checks only (lint)
** @param[in]  opts   may be NULL for defaults
** @return TSHOOT_OK; TSHOOT_ESOURCE if any error (or, with
**   warnings_are_errors, warning) was reported; TSHOOT_ENOTFOUND if a source
**   does not exist; TSHOOT_EIO if the output cannot be written; TSHOOT_EUSER if
**   the progress callback cancelled. On any failure out_path is untouched.
** Thread: may run in several threads at once for different outputs. */
TSHOOT_API int tshoot_compile(tshoot_compile_stats *stats,
                              const char *const *sources, size_t n_sources,
                              const char *out_path,
                              const tshoot_compile_options *opts);

/* ---------------------------------------------------------------------------
** Opening a compiled KB
*/
typedef struct tshoot_kb tshoot_kb;

#define TSHOOT_KB_OPTIONS_VERSION 2
typedef struct tshoot_kb_options {
  unsigned int version;       /* TSHOOT_KB_OPTIONS_VERSION (1 is accepted too) */
  int query_budget_ms;        /* time budget of one search; 0: 250 ms */
  size_t cache_kib;           /* SQLite page cache per connection; 0: 8192 KiB */
  /* version 2: whose KBs may run scripts (see "Signed KBs" below). Keys are
  ** the text of a public key file (tshoot_key_generate's NAME.pub). */
  const char *const *trusted_keys;  /* trusted public keys, besides the folders' */
  size_t n_trusted_keys;
  const char *const *trust_dirs;    /* folders: each *.pub is trusted, each *.revoked
                                       revoked; a missing folder is skipped */
  size_t n_trust_dirs;
  const char *const *revoked_keys;  /* public keys never trusted, wherever else listed */
  size_t n_revoked_keys;
  unsigned int trust_flags;         /* TSHOOT_KB_* below */
} tshoot_kb_options;

/* Refuse to open a KB unless a trusted key signed it (TSHOOT_EUNTRUSTED,
** before SQLite reads a byte of it). */
#define TSHOOT_KB_REQUIRE_SIGNATURE      0x1u
/* Developers: run the scripts of a KB that is not trusted (unsigned, unknown
** signer, bad signature). Never a default: an explicit, visible switch
** (tshoot --allow-unsigned-scripts). */
#define TSHOOT_KB_ALLOW_UNSIGNED_SCRIPTS 0x2u
/* Trust only what these options list: not the machine's trust folder nor
** $TSHOOT_TRUST. */
#define TSHOOT_KB_NO_DEFAULT_TRUST       0x4u

#define TSHOOT_KB_OPTIONS_INIT { TSHOOT_KB_OPTIONS_VERSION, 0, 0, NULL, 0, NULL, 0, NULL, 0, 0 }

/* Open the compiled KB at `path`, read-only; with path NULL, the default KB.
**
** A KB file may come from elsewhere: it is opened in SQLite's defensive mode
** with an untrusted schema, and its application id, format version, size and
** schema are checked before use.
**
** The default KB (path NULL), the same rule as the tshoot command's: the file
** named by the environment variable TSHOOT_KB when it is set and not empty
** (even if that file is missing: the error then names it and says the path
** came from TSHOOT_KB), else the KB compiled by the build the library comes
** from when that file exists, else the KB installed with the library
** (<prefix>/share/tshoot/tshoot.db) when it exists, else TSHOOT_ENOTFOUND
** with a message that lists where it looked.
**
** @param[out] out  the new KB handle; set to NULL on failure
** @param[in]  path the KB file, or NULL for the default KB ("" is
**   TSHOOT_EINVALID)
** @param[in]  opts may be NULL for defaults
** @return TSHOOT_OK; TSHOOT_ENOTFOUND (no such file, or no default KB);
**   TSHOOT_ECORRUPT (not a tshoot KB, truncated or damaged); TSHOOT_EVERSION
**   (another format version); TSHOOT_EIO; TSHOOT_ENOMEM; TSHOOT_EINVALID (a
**   trusted or revoked key in opts that is not a key); TSHOOT_EUNTRUSTED
**   (TSHOOT_KB_REQUIRE_SIGNATURE and no trusted key signed it). Whether its
**   scripts may run is decided here too: see "Signed KBs" below.
** The file must not be modified while open (the handle holds a shared lock
** on it, so another SQLite writer gets SQLITE_BUSY); replacing it by rename
** (as tshoot_compile does), or deleting it, is safe: the handle keeps the
** file it opened open, and every connection it uses, those opened later on
** other threads included, reads that file (open a new handle to read the
** new one).
** The first open turns SQLite's process-wide memory statistics off (they take
** one lock on every allocation, which serialises searching threads), unless
** the application initialised SQLite before: then its setting stands.
*/
TSHOOT_API int tshoot_kb_open(tshoot_kb **out, const char *path,
                              const tshoot_kb_options *opts);

/* Close a KB. Sessions and results that still use it keep it alive until they
** are freed (it is reference-counted internally). NULL is a no-op. */
TSHOOT_API void tshoot_kb_close(tshoot_kb *kb);

/* Facts about an open KB. */
typedef struct tshoot_kb_info {
  int format;                 /* TSHOOT_KB_FORMAT of the file */
  const char *digest;         /* SHA-256 (hex) over all sources, identifies a build */
  const char *tshoot_version; /* library version that compiled it */
  size_t articles, questions, facts, causes, fixes, tests, scripts, sources;
} tshoot_kb_info;

/* Fill `out` with facts about `kb`. Strings are borrowed from kb and valid
** until tshoot_kb_close(). Thread: safe on a shared kb. */
TSHOOT_API int tshoot_kb_info_get(tshoot_kb_info *out, const tshoot_kb *kb);

/* The path `kb` was opened from, as given, or the default KB's when it was
** opened with a NULL path (so a front-end can say which file is in use).
** Borrowed until tshoot_kb_close(); NULL for a NULL kb.
** Thread: safe on a shared kb. */
TSHOOT_API const char *tshoot_kb_path(const tshoot_kb *kb);

/* ---------------------------------------------------------------------------
** Signed KBs: scripts run only from a publisher the machine trusts
**
** A KB's probes and fixes change machines, and a KB file travels. Its
** publisher signs it with an Ed25519 key (libsodium): the signatures sit in
** a detached file beside it, KB ".sig" (so signing never changes the KB's
** bytes or layout), one line per signature, so a KB may carry several (key
** rotation). A signature covers the KB file's SHA-256, its size and format
** version, and the signer's name, under a domain-separation prefix
** (docs/signing.md has the exact bytes).
**
** tshoot_kb_open checks the signatures on the descriptor the KB is then read
** through, before SQLite reads it. Trusted keys: those in the options, the
** *.pub files of the options' trust_dirs, and unless TSHOOT_KB_NO_DEFAULT_TRUST,
** the machine's trust folders (/etc/tshoot/trusted.d, and <sysconfdir>/tshoot/
** trusted.d of a build installed elsewhere) and the files or folders listed in
** $TSHOOT_TRUST
** (':'-separated; ignored in set-uid programs). A key listed as revoked
** (*.revoked in a trust folder, or revoked_keys) is never trusted.
**
** A KB that no trusted key's signature verifies is still opened, searched and
** diagnosed (unless TSHOOT_KB_REQUIRE_SIGNATURE), but none of its scripts
** runs: tshoot_kb_script refuses with TSHOOT_EUNTRUSTED and the reason, so a
** session asks the person instead of probing, and tshoot_session_run_fix
** fails with that error.
*/
typedef enum tshoot_trust_status {
  TSHOOT_TRUST_SIGNED = 0,         /* a trusted key's signature verifies */
  TSHOOT_TRUST_UNSIGNED = 1,       /* no signature file */
  TSHOOT_TRUST_UNKNOWN_SIGNER = 2, /* signed, but by no key this machine trusts */
  TSHOOT_TRUST_BAD_SIGNATURE = 3,  /* a trusted key's signature does not match the
                                      KB's bytes, or the signature file is damaged */
  TSHOOT_TRUST_REVOKED = 4         /* signed only by revoked keys */
} tshoot_trust_status;

/* One signature of the signature file. */
typedef struct tshoot_signer {
  const char *name;           /* the name the key's owner gave it */
  const char *key;            /* the public key, 64 hex digits */
  int trusted;                /* the key is trusted (and not revoked) here */
  int revoked;                /* the key is revoked here */
  int verified;               /* 1: the signature verifies over the KB's bytes;
                                 0: it does not; -1: not checked (key not trusted) */
} tshoot_signer;

/* What the KB's signatures mean on this machine. */
typedef struct tshoot_kb_trust {
  tshoot_trust_status status;
  int scripts_allowed;        /* status SIGNED, or TSHOOT_KB_ALLOW_UNSIGNED_SCRIPTS */
  const char *reason;         /* one line for a person: who signed it, or why it
                                 is not trusted ("unsigned: no file KB.sig") */
  const tshoot_signer *signer;      /* the trusted signer that verified, or NULL */
  const tshoot_signer *signatures;  /* every signature of the file, in order */
  size_t n_signatures;
} tshoot_kb_trust;

/* The trust of an open KB, decided at open. Borrowed until tshoot_kb_close;
** NULL for a NULL kb. Thread: safe on a shared kb. */
TSHOOT_API const tshoot_kb_trust *tshoot_kb_trust_get(const tshoot_kb *kb);

/* Make an Ed25519 key pair: `base`.key (the secret key, created with mode
** 0600, never overwritten unless `overwrite`) and `base`.pub (the public key
** to give to the machines that trust it). `name` (1 to 100 printable
** characters, no line breaks) names the signer in every signature.
** @return TSHOOT_OK; TSHOOT_EINVALID (bad name); TSHOOT_EIO (a file exists,
**   or cannot be written). */
TSHOOT_API int tshoot_key_generate(const char *base, const char *name, int overwrite);

/* Sign the KB at `kb_path` with the secret key in the file `key_path` (which
** must not be readable by group or others): its signature is added to
** kb_path".sig" (written to a temporary file, then renamed), replacing an
** earlier signature by the same key; signatures that no longer match the KB
** (it was recompiled since) are dropped, and with TSHOOT_SIGN_ONLY all others.
** @return TSHOOT_OK; TSHOOT_ENOTFOUND; TSHOOT_ECORRUPT (not a tshoot KB);
**   TSHOOT_EINVALID (not a secret key file, or readable by others); TSHOOT_EIO. */
#define TSHOOT_SIGN_ONLY 0x1u  /* keep no other signature: this key's is the only one */
TSHOOT_API int tshoot_kb_sign(const char *kb_path, const char *key_path, unsigned int flags);

/* ---------------------------------------------------------------------------
** Searching
**
** Any text a person can type is accepted: it is never passed to FTS5 as query
** syntax. Words are matched whole (kofmsp.dll is the token pair kofmsp, dll
** in that order; KofMsp32.dll does not match it), the last word also as a
** prefix unless the text ends in a space (search-as-you-type), KB synonyms
** widen a word to its group, and a word the KB has never seen is replaced by
** the closest KB word, which the results report as a suggestion ("did you
** mean"). Ranking is bm25 with titles and symptoms weighted far above fix
** text. Every query runs under the KB's time budget; when it runs out the
** results are empty and flagged as truncated, never an error.
*/
typedef struct tshoot_results tshoot_results;

#define TSHOOT_SEARCH_OPTIONS_VERSION 1
typedef struct tshoot_search_options {
  unsigned int version;       /* TSHOOT_SEARCH_OPTIONS_VERSION */
  int limit;                  /* at most this many results; 0: 10; max 1000 */
  const char *mark_open;      /* put before a matched word in snippets; NULL: "[" */
  const char *mark_close;     /* put after it; NULL: "]" */
  int snippet_tokens;         /* words per snippet; 0: 24 */
  unsigned int flags;         /* TSHOOT_SEARCH_* below */
} tshoot_search_options;

#define TSHOOT_SEARCH_NO_PREFIX    0x1u  /* never match the last word as a prefix */
#define TSHOOT_SEARCH_NO_SPELLING  0x2u  /* do not replace unknown words */
#define TSHOOT_SEARCH_ANY_WORD     0x4u  /* rank articles that have any of the words
                                            (bm25), not only those with all of them:
                                            for long descriptions, as a diagnosis uses */

#define TSHOOT_SEARCH_OPTIONS_INIT { TSHOOT_SEARCH_OPTIONS_VERSION, 0, NULL, NULL, 0, 0 }

/* A byte range [start, end) of a string. */
typedef struct tshoot_span {
  size_t start, end;
} tshoot_span;

/* One search hit. Borrowed from its tshoot_results.
**
** score: the article's relevance to this query: bm25 (Okapi, k1 = 1.2,
** b = 0.75, as FTS5's bm25()) over the article's indexed text, each match
** weighted by its column (title 10, symptoms 8, aliases 6, causes 2, fixes 1),
** negated so that higher is better. It is always > 0; its size depends on
** the query's words, their rarity in the KB and the article's length, so
** scores compare articles within one query only: never across queries or
** KBs, and they are not probabilities or percentages.
**
** The passage comes twice: `snippet` with the matched words between
** mark_open and mark_close (convenient, but a mark can look like the text's
** own brackets), and `passage`, the same plain text with the matches as
** byte ranges in `marks`, which nothing in the text can be confused with.
** Both keep the text's punctuation around the passage's words and show
** line breaks as spaces; a cut passage begins or ends with "...". */
typedef struct tshoot_result {
  const char *article;   /* the article's id, e.g. "kofmsp-dll-error" */
  const char *title;     /* its title */
  const char *snippet;   /* the best-matching passage, words marked */
  double score;          /* relevance, higher is better; see above */
  const char *file;      /* the source file the article came from */
  int line;              /* its line there */
  /* added after 0.1 (at the end, so the fields above keep their places) */
  const char *passage;       /* the passage as plain text, no marks */
  const tshoot_span *marks;  /* the matched words in passage, in order */
  size_t n_marks;
} tshoot_result;

/* Search `kb` for `text` (`len` bytes; NUL bytes inside are data, not an end).
**
** @param[out] out   the results, owned by the caller (tshoot_results_free);
**                   set even when nothing matched
** @param[in]  kb    an open KB, which may be shared with other threads
** @param[in]  text, len  what the user typed, any bytes
** @param[in]  opts  may be NULL for defaults
** @return TSHOOT_OK (also for no match and for a query that ran out of time);
**   TSHOOT_EINVALID; TSHOOT_ENOMEM; TSHOOT_ECORRUPT if the KB file is damaged.
** Thread: safe on a shared kb; each call uses its own SQLite connection. */
TSHOOT_API int tshoot_search(tshoot_results **out, tshoot_kb *kb,
                             const char *text, size_t len,
                             const tshoot_search_options *opts);

/* The number of results. */
TSHOOT_API size_t tshoot_results_count(const tshoot_results *r);

/* Result `i` (0-based), or NULL if i >= count. Borrowed until
** tshoot_results_free(r). */
TSHOOT_API const tshoot_result *tshoot_results_get(const tshoot_results *r, size_t i);

/* The corrected text when unknown words were replaced ("outlook profile" for
** "outlok profile"), else NULL. Borrowed until tshoot_results_free(r). */
TSHOOT_API const char *tshoot_results_suggestion(const tshoot_results *r);

/* The FTS5 query that was run ("" if the text had no words), for debugging and
** for explaining a search. Borrowed until tshoot_results_free(r). */
TSHOOT_API const char *tshoot_results_query(const tshoot_results *r);

/* The text that was searched, as valid UTF-8: each byte that is not part of
** valid UTF-8 (and each NUL byte) is reported as U+FFFD, so front-ends show
** the same thing; the query itself used the valid words around such bytes.
** Borrowed until tshoot_results_free(r); "" for NULL. */
TSHOOT_API const char *tshoot_results_text(const tshoot_results *r);

/* Non-zero when the query ran out of its time budget (the results are then
** empty or partial). */
TSHOOT_API int tshoot_results_truncated(const tshoot_results *r);

/* Free results. NULL is a no-op. */
TSHOOT_API void tshoot_results_free(tshoot_results *r);

/* ---------------------------------------------------------------------------
** Reading an article
**
** An article as its author wrote it: what people see, and what the diagnosis
** reasons over. Plain structs, loaded from the KB on demand and owned by the
** caller as one block: free it with tshoot_article_free(). Every string and
** array inside is valid until then.
*/
typedef struct tshoot_symptom_info {
  const char *id;        /* stable id (author's, or "<article>#<n>") */
  const char *kind;      /* "symptom" (what a person notices) or "error" (exact text) */
  const char *code;      /* an error code such as "0x8004010F", or NULL */
  const char *text;
} tshoot_symptom_info;

typedef struct tshoot_fix_info {
  const char *id;
  const char *title;
  const char *const *steps;   /* n_steps steps for a person, in order */
  size_t n_steps;
  const char *verify;         /* how a person checks that it worked, or NULL */
  const char *script;         /* a Lua fix script's name, or NULL */
  double cost;                /* relative effort, > 0 */
  const char *risk;           /* "low", "medium" or "high" */
  int needs_admin;            /* non-zero: needs administrator rights */
  int reversible;             /* non-zero: can be undone */
} tshoot_fix_info;

typedef struct tshoot_cause_info {
  const char *id;
  const char *title;
  const char *explanation;
  double prior;               /* the author's prior weight, in (0, 1] */
  const tshoot_fix_info *fixes;  /* n_fixes fixes, in the order to try them */
  size_t n_fixes;
} tshoot_cause_info;

typedef struct tshoot_article {
  const char *id;
  const char *title;
  const char *summary;        /* may be NULL */
  const char *file;           /* source file and line it was compiled from */
  int line;
  const tshoot_symptom_info *symptoms;
  size_t n_symptoms;
  const char *const *aliases;
  size_t n_aliases;
  const tshoot_cause_info *causes;
  size_t n_causes;
} tshoot_article;

/* Load article `id` from `kb`.
** @param[out] out  the article, owned by the caller; NULL on failure
** @return TSHOOT_OK; TSHOOT_ENOTFOUND (with a did-you-mean in the message when
**   a close id exists); TSHOOT_ENOMEM; TSHOOT_ECORRUPT.
** Thread: safe on a shared kb. */
TSHOOT_API int tshoot_article_load(tshoot_article **out, tshoot_kb *kb, const char *id);

/* Free an article. NULL is a no-op. */
TSHOOT_API void tshoot_article_free(tshoot_article *a);

/* ---------------------------------------------------------------------------
** Diagnosis sessions
**
** A session reasons over one KB for one person's problem. Single fault: one
** of the KB's causes, or "none of the known causes" (id "none"), explains
** what they see. The caller loops:
**
**   tshoot_session_new(&s, kb, NULL);
**   tshoot_session_describe(s, text, len);          // optional: free text
**   for (;;) {
**     tshoot_session_next(&step, s);
**     if (step->kind == TSHOOT_STEP_CONCLUDE) break;
**     if (step->kind == TSHOOT_STEP_ASK)             // show step->prompt ...
**       tshoot_session_answer(s, step->question, value);  // or _unknown()
**     else                                           // TSHOOT_STEP_FIX
**       tshoot_session_fix_result(s, step->fix, worked);
**   }
**
** Questions are chosen by expected information gain per unit of cost; a fix
** is proposed instead when trying it is cheaper in expectation than asking
** more (expected cost of repair); the session concludes when one cause
** reaches the threshold or nothing left is worth asking. Every answer can be
** changed or withdrawn later. All state lives in the session: it is used by
** one thread at a time, and any number of sessions may share one kb.
*/
typedef struct tshoot_session tshoot_session;

/* Options of tshoot_session_new and tshoot_session_load. In a load, a 0
** field keeps the value the session was saved with (and a saved session
** without it gets the default), so a caller sets only what it changes. */
#define TSHOOT_SESSION_OPTIONS_VERSION 2
typedef struct tshoot_session_options {
  unsigned int version;       /* TSHOOT_SESSION_OPTIONS_VERSION */
  double conclude_at;         /* conclude when a cause is this likely, in (0, 1];
                                 0: 0.9 (load: the saved value) */
  double noise;               /* chance that one answer is wrong, in [0, 0.5);
                                 0: 0.01 (load: the saved value) */
  unsigned int flags;         /* TSHOOT_SESSION_*; a load adds them to the saved ones */
  /* version 2 */
  unsigned int flags_off;     /* tshoot_session_load: saved flags to turn off
                                 (before `flags` are added) */
  const void *key;            /* signed sessions: a secret of key_len bytes (copied;
                                 NULL: unsigned). See tshoot_session_save. */
  size_t key_len;
} tshoot_session_options;

#define TSHOOT_SESSION_NO_FIXES      0x1u /* never propose a fix before concluding */
#define TSHOOT_SESSION_WRITTEN_ORDER 0x2u /* ask in the order questions are written
                                             (a baseline for evaluation) */
#define TSHOOT_SESSION_OPTIONS_INIT { TSHOOT_SESSION_OPTIONS_VERSION, 0, 0, 0, 0, NULL, 0 }

typedef enum tshoot_step_kind {
  TSHOOT_STEP_ASK = 1,        /* ask `question` */
  TSHOOT_STEP_FIX = 2,        /* try fix `fix` of cause `cause`, then report */
  TSHOOT_STEP_CONCLUDE = 3,   /* `cause` is the answer ("none": none known): it
                                 reached the threshold on evidence, or a fix of
                                 it worked */
  TSHOOT_STEP_INCONCLUSIVE = 4 /* nothing left to ask or try, and no cause has
                                 the evidence to be named: `cause` is only the
                                 best candidate (see tshoot_session_causes), and
                                 `escalation` says what to do next */
} tshoot_step_kind;

/* What happened when the person tried a fix. Only DID_NOT_WORK is evidence
** (against the fix's cause); COULD_NOT_TRY (needs rights, no time, ...) and
** SKIPPED say nothing about the cause, and the fix is not proposed again. */
typedef enum tshoot_fix_outcome {
  TSHOOT_FIX_DID_NOT_WORK = 0,
  TSHOOT_FIX_WORKED = 1,
  TSHOOT_FIX_COULD_NOT_TRY = 2,
  TSHOOT_FIX_SKIPPED = 3
} tshoot_fix_outcome;

/* One step. Borrowed from the session until its next call that changes it. */
typedef struct tshoot_step {
  tshoot_step_kind kind;
  /* TSHOOT_STEP_ASK */
  const char *question;       /* question id */
  const char *prompt;
  const char *why;            /* the author's "why we ask", or NULL */
  const char *type;           /* "yesno", "choice", "version", "number", "text" */
  const char *unit;           /* for number questions, or NULL */
  const char *const *choices; /* the values to answer with (yesno: "yes", "no") */
  const char *const *labels;  /* what to show for each choice */
  size_t n_choices;           /* 0 for version, number and text questions */
  double expected_gain;       /* expected reduction of uncertainty, in bits */
  double cost;                /* the question's cost */
  /* TSHOOT_STEP_FIX and TSHOOT_STEP_CONCLUDE */
  const char *cause;          /* cause id, or "none" */
  const char *cause_title;
  const char *article;        /* the cause's article id, or NULL for "none" */
  double probability;         /* of `cause` now */
  const char *fix;            /* TSHOOT_STEP_FIX: fix id */
  size_t questions_asked;     /* answers given so far (including "don't know") */
  /* TSHOOT_STEP_FIX and TSHOOT_STEP_CONCLUDE */
  const char *fix_title;      /* the fix's title, or NULL */
  /* TSHOOT_STEP_INCONCLUSIVE: what to do now, for people (the candidate's
  ** article's <escalation>, else the KB's, else a general sentence) */
  const char *escalation;
} tshoot_step;

/* Start a session on kb (which the session keeps alive).
** @return TSHOOT_OK; TSHOOT_EINVALID (NULL argument, an options version this
**   library does not know, or an option out of its bounds: the message names
**   the option and its range); TSHOOT_ENOMEM; TSHOOT_ECORRUPT if the KB's
**   rules cannot be read.
** Thread: safe on a shared kb. */
TSHOOT_API int tshoot_session_new(tshoot_session **out, tshoot_kb *kb,
                                  const tshoot_session_options *opts);

/* Free a session. NULL is a no-op. */
TSHOOT_API void tshoot_session_free(tshoot_session *s);

/* Describe the problem in the user's words: the KB is searched, and the
** matching articles, symptoms and the words of each cause (its title,
** explanation, symptoms and aliases, with the KB's stemming, synonyms and
** spelling correction) become evidence; questions with <phrase>s the text
** holds are answered from it (source "text"; the person may change them).
** Replaces an earlier text. */
TSHOOT_API int tshoot_session_describe(tshoot_session *s, const char *text, size_t len);

/* Add more of the person's words (a free-text reply in a dialogue) to the
** description: evidence as in tshoot_session_describe, without forgetting
** what was said before. */
TSHOOT_API int tshoot_session_add_text(tshoot_session *s, const char *text, size_t len);

/* Say that symptom `id` (a symptom's id in the KB) is present.
** @return TSHOOT_OK; TSHOOT_ENOTFOUND with a did-you-mean. */
TSHOOT_API int tshoot_session_symptom(tshoot_session *s, const char *id);

/* The next step. @param[out] out borrowed until the session changes. */
TSHOOT_API int tshoot_session_next(const tshoot_step **out, tshoot_session *s);

/* Answer question `question` with `value` (one of its choices, a version, a
** number or text), or change an earlier answer to it. A front-end passes the
** person's text through: for a choice or yes/no question, `value` may be a
** choice's value or its label, in any case, and for a yes/no question also
** "y", "n", "true" or "false"; the answer recorded is the choice's value.
** @return TSHOOT_OK; TSHOOT_ENOTFOUND (unknown question, with did-you-mean);
**   TSHOOT_EINVALID (a value the question does not allow; the message lists
**   the allowed ones); TSHOOT_ENOMEM.
** Thread: one thread at a time per session. */
TSHOOT_API int tshoot_session_answer(tshoot_session *s, const char *question, const char *value);

/* Answer "I don't know": the question is not asked again, and is no evidence. */
TSHOOT_API int tshoot_session_unknown(tshoot_session *s, const char *question);

/* Withdraw the answer to `question` (it may be asked again). */
TSHOOT_API int tshoot_session_retract(tshoot_session *s, const char *question);

/* Withdraw the most recent answer or fix report ("back"). TSHOOT_ENOTFOUND
** if there is none. */
TSHOOT_API int tshoot_session_undo(tshoot_session *s);

/* Report what happened with fix `fix` (reporting again replaces the
** outcome). DID_NOT_WORK is evidence against its cause, and fixes that do
** the same thing (same script, or declared same-as) are not proposed after
** it; WORKED concludes the session; COULD_NOT_TRY and SKIPPED are no
** evidence. Old callers passing 0/1 keep their meaning.
** @return TSHOOT_OK; TSHOOT_ENOTFOUND (unknown fix, with did-you-mean);
**   TSHOOT_EINVALID (an outcome outside the enum). */
TSHOOT_API int tshoot_session_fix_result(tshoot_session *s, const char *fix, tshoot_fix_outcome outcome);

/* How a person's reply to the current step reads (tshoot_session_read). */
typedef enum tshoot_input_kind {
  TSHOOT_INPUT_UNCLEAR = 0,   /* not understood: ask again (message says why) */
  TSHOOT_INPUT_ANSWER = 1,    /* `value` answers the step's question */
  TSHOOT_INPUT_UNKNOWN = 2,   /* "don't know", "no idea", "skip" */
  TSHOOT_INPUT_FIX = 3,       /* `outcome` of the step's fix */
  TSHOOT_INPUT_BACK = 4,      /* take the last answer back */
  TSHOOT_INPUT_WHY = 5,       /* why is this asked? */
  TSHOOT_INPUT_HOW = 6,       /* how did you get there? */
  TSHOOT_INPUT_TEXT = 7       /* more description in the person's words */
} tshoot_input_kind;

typedef struct tshoot_input {
  tshoot_input_kind kind;
  const char *value;          /* ANSWER: the choice's value, or the number,
                                 version or text as given (borrowed from the
                                 session until it changes) */
  tshoot_fix_outcome outcome; /* FIX */
  const char *message;        /* UNCLEAR: why, for a person; else NULL */
} tshoot_input;

/* Read what a person typed in reply to the session's current step (the last
** tshoot_session_next): a choice's value or label in any case, its number on
** screen ("2"), an ordinal ("the first one", "second"), yes/no words ("yep",
** "nope"), a number or version, "don't know", "back", "why", "how", a fix
** outcome ("it worked", "didn't work", "can't do that", "skip"), or longer
** text, which is more description when it answers nothing. One rule for
** every front-end: the CLI, the bindings and chatbots call this.
** @return TSHOOT_OK (out filled); TSHOOT_EINVALID (no current step). */
TSHOOT_API int tshoot_session_read(tshoot_input *out, tshoot_session *s, const char *text, size_t len);

/* Read and apply: an answer, "don't know", a fix outcome, "back" or more
** text are given to the session; WHY, HOW and UNCLEAR change nothing and are
** the front-end's to show. `out` may be NULL. */
TSHOOT_API int tshoot_session_input(tshoot_session *s, const char *text, size_t len, tshoot_input *out);

/* A cause and how likely it is now. */
typedef struct tshoot_cause_rank {
  const char *cause;          /* id, or "none" */
  const char *title;
  const char *article;        /* NULL for "none" */
  double probability;
} tshoot_cause_rank;

/* The causes still considered, most likely first, "none" among them.
** Borrowed until the session changes. */
TSHOOT_API int tshoot_session_causes(const tshoot_cause_rank **out, size_t *n, tshoot_session *s);

/* An answer given so far, in the order given. */
typedef struct tshoot_answer_info {
  const char *question;
  const char *value;          /* NULL: "don't know" */
  const char *source;         /* "user"; "probe" when a probe on the host answered;
                                 "text" when the person's description did */
  const char *prompt;         /* the question, for people */
  const char *label;          /* the answer, for people ("Yes", a choice's label,
                                 the value itself, "I don't know") */
} tshoot_answer_info;

/* The answers so far. Borrowed until the session changes. */
TSHOOT_API int tshoot_session_answers(const tshoot_answer_info **out, size_t *n, tshoot_session *s);

/* A fix result reported so far. */
typedef struct tshoot_fix_report {
  const char *fix;            /* fix id */
  const char *cause;          /* the cause it repairs */
  int worked;                 /* 1: it worked; 0: any other outcome */
  tshoot_fix_outcome outcome;
  const char *title;          /* the fix's title, for people */
} tshoot_fix_report;

/* The fixes tried so far and whether each worked, in the order first
** reported (a fix reported again keeps its place and takes the new result).
** Reported by tshoot_session_fix_result, tshoot_session_run_fix or a load.
** Borrowed until the session changes.
** @return TSHOOT_OK; TSHOOT_EINVALID (NULL argument); TSHOOT_ENOMEM.
** Thread: one thread at a time per session. */
TSHOOT_API int tshoot_session_fixes(const tshoot_fix_report **out, size_t *n, tshoot_session *s);

/* The description the session reasons with (tshoot_session_describe, or a
** load), or NULL when none was given or it matched no article (then it is
** no evidence, and it is not saved). Borrowed until the session changes.
** Thread: one thread at a time per session. */
TSHOOT_API const char *tshoot_session_text(const tshoot_session *s);

/* One piece of evidence in an explanation. */
typedef struct tshoot_explain_item {
  const char *kind;           /* "prior", "text", "symptom", "answer", "condition", "fix" */
  const char *subject;        /* question, symptom or fix id; NULL for prior and text */
  const char *detail;         /* for a person: "office.version = 2016", "requires ..." */
  double factor;              /* how much it multiplied the cause's weight (1: neutral) */
} tshoot_explain_item;

/* Why a question is asked, or why a cause is ranked where it is. Owned by
** the caller: tshoot_explanation_free(). */
typedef struct tshoot_explanation {
  const char *subject;        /* the question or cause explained */
  const char *text;           /* a paragraph for a person */
  const tshoot_explain_item *items; /* how_cause: the evidence trail, in order */
  size_t n_items;
  const tshoot_cause_rank *causes;  /* why_question: the causes it tells apart */
  size_t n_causes;
  double expected_gain, cost; /* why_question */
} tshoot_explanation;

/* Why ask `question` (NULL: the question of the current step): the causes it
** separates, its expected gain and cost, and the author's text. */
TSHOOT_API int tshoot_session_why(tshoot_explanation **out, tshoot_session *s, const char *question);

/* Why `cause` (NULL: the most likely) is ranked where it is: its evidence,
** answer by answer, and what ruled the other causes out. */
TSHOOT_API int tshoot_session_how(tshoot_explanation **out, tshoot_session *s, const char *cause);

TSHOOT_API void tshoot_explanation_free(tshoot_explanation *e);

/* Save the session as JSON (a string owned by the caller: tshoot_free()).
** Only the evidence is saved (text, symptoms, answers, fix results, options)
** with the KB's digest; everything else is recomputed on load. A session
** with a key (tshoot_session_options.key) is signed: its last member,
** "mac", is the HMAC-SHA-256 under the key of the bytes saved without it,
** so a server can hand sessions to its clients and take them back.
** @return TSHOOT_OK; TSHOOT_EINVALID (NULL argument); TSHOOT_ENOMEM.
** Thread: one thread at a time per session. */
TSHOOT_API int tshoot_session_save(char **out, const tshoot_session *s);

/* Restore a saved session against kb. Saved sessions may come from untrusted
** clients: anything malformed (duplicate keys, wrong types, unknown ids,
** answers a question does not allow, NUL in strings, input over 1 MiB or
** nested deeper than 16, a number outside its option's bounds, more
** symptoms, answers or fixes than the KB has, one given twice) is refused
** whole with the reason, and a session saved against another KB build is
** refused. `opts` (NULL: all saved values) changes the saved options field
** by field: see tshoot_session_options.
**
** Trust. With a key in `opts`, only a session signed with that key loads: a
** missing "mac" or one that does not match the bytes (changed, or signed with
** another key) is refused whole, and what the session says is the library's
** own. Without a key, the library cannot tell who wrote it, so a claim only
** the library makes is ignored: an answer marked as a probe's loads as the
** person's. The rest (description, symptoms, answers, fix results and
** options) is what any client may tell a session through this API, so it
** loads as given; a server that keeps sessions unsigned passes its own
** conclude_at and noise here. A "mac" is not checked without a key.
** @return TSHOOT_OK; TSHOOT_EINVALID (malformed, unsigned or badly signed,
**   with the reason, or bad options); TSHOOT_EVERSION (another KB build or
**   session format); TSHOOT_ENOMEM.
** Thread: safe on a shared kb. */
TSHOOT_API int tshoot_session_load(tshoot_session **out, tshoot_kb *kb, const char *json,
                                   size_t len, const tshoot_session_options *opts);

/* Free memory that the library handed to the caller as a plain pointer
** (tshoot_session_save). NULL is a no-op. */
TSHOOT_API void tshoot_free(void *p);

/* ---------------------------------------------------------------------------
** Test cases of a KB
**
** A KB's authors write test cases (<test>): what a user would type and/or
** answers given up front, and the cause (and possibly the fix) the diagnosis
** must reach. `tshoot test` runs them; an embedder may too, with a session.
*/
typedef struct tshoot_test_case {
  const char *id;             /* the test's id */
  const char *description;    /* or NULL */
  const char *text;           /* what the user types (for _describe), or NULL */
  const char *expect_cause;   /* the cause to conclude ("none" allowed), or NULL */
  const char *expect_fix;     /* the fix to propose, or NULL */
  const char *file;           /* the source file and line of the <test>; file may be NULL */
  int line;
  const char *const *questions; /* n_given answers given up front, in the order */
  const char *const *values;    /* written: questions[i] = values[i] */
  size_t n_given;
} tshoot_test_case;

typedef struct tshoot_tests tshoot_tests;

/* Read all test cases of `kb`, in the order they were compiled.
** @param[out] out  the cases, owned by the caller (tshoot_tests_free); set
**                  (possibly empty) on success, NULL on failure
** @return TSHOOT_OK; TSHOOT_EINVALID; TSHOOT_ENOMEM; TSHOOT_ECORRUPT.
** Thread: safe on a shared kb. */
TSHOOT_API int tshoot_kb_tests(tshoot_tests **out, tshoot_kb *kb);

/* The number of test cases. */
TSHOOT_API size_t tshoot_tests_count(const tshoot_tests *t);

/* Test case `i` (0-based), or NULL if i >= count. Borrowed, with every string
** and array inside, until tshoot_tests_free(t). */
TSHOOT_API const tshoot_test_case *tshoot_tests_get(const tshoot_tests *t, size_t i);

/* Free test cases. NULL is a no-op. */
TSHOOT_API void tshoot_tests_free(tshoot_tests *t);


/* ---------------------------------------------------------------------------
** Hosts: how scripts reach a machine
**
** Probes and fixes are Lua scripts that run in tshoot's sandbox and touch a
** machine only through a host. An embedder describes its machine with a
** tshoot_host_ops (a struct of callbacks, any of which may be NULL: the script
** then gets an error "host has no registry.set"), and the library wraps it in a
** tshoot_host, which journals every change with the state before it so that a
** failed fix can be rolled back exactly. The library also ships a simulated
** host that answers from a machine-description file (tshoot_host_sim_open).
** The Lua face of every callback is documented in docs/scripts.md.
**
** Callbacks answer through a tshoot_reply (nothing put in it means nil, "not
** there") and return TSHOOT_OK, or a TSHOOT_E* status with a message set by
** tshoot_reply_error(); the script then sees a Lua error with that message.
** Registry keys are written "HKLM\\SOFTWARE\\Vendor\\Key" (hive first,
** backslashes); a value name "" is the key's default value. Paths are the
** host's own (on Windows, "C:\\Program Files\\...").
*/
typedef struct tshoot_reply tshoot_reply;

/* Put an answer into a reply; the last call wins. Strings are copied.
** tshoot_reply_json puts a table (an object or an array, e.g. a file's stat,
** a process list) as JSON text; it fails with TSHOOT_EINVALID on bad JSON. */
TSHOOT_API int tshoot_reply_bool(tshoot_reply *r, int value);
TSHOOT_API int tshoot_reply_int(tshoot_reply *r, long long value);
TSHOOT_API int tshoot_reply_number(tshoot_reply *r, double value);
TSHOOT_API int tshoot_reply_string(tshoot_reply *r, const char *s, size_t len);
TSHOOT_API int tshoot_reply_json(tshoot_reply *r, const char *json, size_t len);
/* Explain a failure: the callback then returns a TSHOOT_E* status. */
TSHOOT_API int tshoot_reply_error(tshoot_reply *r, const char *message);

/* From a callback that has no reply (registry_set, file_move, ...): say why it
** failed, and return `code` (TSHOOT_EUSER when code is not negative), as in
**   return tshoot_host_error(TSHOOT_ENOTFOUND, "access to the key was denied");
** The script's error then carries the message. */
TSHOOT_API int tshoot_host_error(int code, const char *message);

/* A registry value as a script sets it: a string (REG_SZ) or an integer
** (REG_DWORD/REG_QWORD). */
typedef struct tshoot_reg_value {
  int is_int;                 /* non-zero: `i` holds it; else `s` */
  long long i;
  const char *s;              /* NUL-terminated; borrowed for the call */
} tshoot_reg_value;

#define TSHOOT_HOST_OPS_VERSION 1
typedef struct tshoot_host_ops {
  unsigned int version;       /* TSHOOT_HOST_OPS_VERSION */
  void *payload;              /* passed to every callback */

  /* registry: a value (string or integer), or nothing when missing */
  int (*registry_get)(void *payload, const char *key, const char *name, tshoot_reply *out);
  /* set a value; name NULL and v NULL: create the key (and its parents) */
  int (*registry_set)(void *payload, const char *key, const char *name, const tshoot_reg_value *v);
  /* delete value `name`; name NULL deletes the key with everything under it */
  int (*registry_delete)(void *payload, const char *key, const char *name);
  /* JSON {"values": {"name": value, ...}, "subkeys": ["name", ...]}, or nothing */
  int (*registry_list)(void *payload, const char *key, tshoot_reply *out);

  /* files: stat answers JSON {"size": N, "version": "9.2.4", "sha256": "hex",
  ** "signature": {"signed": true, "signer": "...", "valid": true},
  ** "mtime": N}, any member may be absent; nothing when the file is missing */
  int (*file_stat)(void *payload, const char *path, tshoot_reply *out);
  /* JSON ["name", ...] of a folder's entries, or nothing when no folder */
  int (*file_list)(void *payload, const char *path, tshoot_reply *out);
  int (*file_move)(void *payload, const char *from, const char *to);

  /* JSON [{"pid": N, "name": "OUTLOOK.EXE", "path": "...",
  ** "modules": ["C:\\...\\kofmsp.dll", ...]}, ...] */
  int (*process_list)(void *payload, tshoot_reply *out);

  /* services: JSON {"status": "running"|"stopped", "start": "auto"|"manual"|
  ** "disabled", "path": "..."} or nothing; action is "start" or "stop" */
  int (*service_get)(void *payload, const char *name, tshoot_reply *out);
  int (*service_control)(void *payload, const char *name, const char *action);

  /* system facts: JSON {"os": {"name": "Windows", "version": "10.0",
  ** "build": 19045, "edition": "..."}, "arch": "x64", "admin": true,
  ** "hostname": "...", "user": "..."}, members optional */
  int (*system_info)(void *payload, tshoot_reply *out);

  /* talking to the user: confirm answers a bool (no callback: refused) */
  int (*ui_confirm)(void *payload, const char *text, tshoot_reply *out);
  int (*ui_progress)(void *payload, double fraction, const char *text);
  int (*ui_notify)(void *payload, const char *text);

  /* Where removed files go (a file a fix removes is moved there, so that it
  ** can be put back); NULL: removing files is refused. */
  const char *quarantine_dir;
} tshoot_host_ops;

typedef struct tshoot_host tshoot_host;

/* Wrap the embedder's callbacks. `ops` is copied; its payload must outlive
** the host. @return TSHOOT_OK; TSHOOT_EINVALID (unknown ops version). */
TSHOOT_API int tshoot_host_new(tshoot_host **out, const tshoot_host_ops *ops);

/* The simulated host: a machine described by a JSON file (format in
** docs/scripts.md), held in memory; changes apply to the memory only.
** @return TSHOOT_OK; TSHOOT_ENOTFOUND; TSHOOT_EINVALID with file:line:col
**   of what is wrong in the description. */
TSHOOT_API int tshoot_host_sim_open(tshoot_host **out, const char *path);
TSHOOT_API int tshoot_host_sim_load(tshoot_host **out, const char *json, size_t len,
                                    const char *name);
/* Write a simulated machine, with the changes made to it, as JSON (owned by
** the caller: tshoot_free). TSHOOT_EINVALID for a host that is not simulated. */
TSHOOT_API int tshoot_host_sim_save(char **out, const tshoot_host *h);
/* Answer every confirmation of a simulated host with `yes` (default: yes). */
TSHOOT_API int tshoot_host_sim_confirm(tshoot_host *h, int yes);

TSHOOT_API void tshoot_host_free(tshoot_host *h);

/* One change made through a host, with the state before it. */
typedef struct tshoot_change {
  const char *op;             /* "registry.set", "registry.delete", "file.move",
                                 "file.remove", "service.start", "service.stop" */
  const char *target;         /* key\\name, path or service */
  const char *before;         /* the state before, as JSON ("null": absent) */
  const char *after;          /* the state after, as JSON */
  const char *script;         /* the script that made it */
  const char *fix;            /* the fix it belongs to, or NULL */
  int undone;                 /* non-zero: rolled back */
} tshoot_change;

/* The journal: every change made through `h`, in order, including undone ones
** (an audit log). Borrowed until the next call that uses h. */
TSHOOT_API int tshoot_host_journal(const tshoot_change **out, size_t *n, tshoot_host *h);
/* The journal as JSON lines, one change a line (owned: tshoot_free). */
TSHOOT_API int tshoot_host_journal_json(char **out, tshoot_host *h);

/* ---------------------------------------------------------------------------
** Scripts: running one probe or fix in the sandbox
**
** Every run gets a fresh Lua state with only safe libraries and limits on
** memory, instructions and wall time (docs/scripts.md). Breaking a limit ends
** the script with TSHOOT_ELIMIT and a message naming the limit; a script error
** is TSHOOT_ERROR with "script.lua:LINE: message". Neither ever ends the
** process.
*/
#define TSHOOT_LIMITS_VERSION 2
typedef struct tshoot_limits {
  unsigned int version;       /* TSHOOT_LIMITS_VERSION (1 is accepted too) */
  size_t memory_kib;          /* 0: 16384 KiB */
  unsigned long long instructions;  /* 0: 10,000,000 VM instructions */
  int time_ms;                /* wall time; 0: 2000 ms */
  unsigned int flags;         /* TSHOOT_LIMITS_* */
  /* version 2 */
  int cpu_ms;                 /* CPU time of the script's thread; 0: 2000 ms */
} tshoot_limits;
/* By default the instruction budget is counted exactly (a count hook every
** 1,000 instructions), so that a script's budget is the same on every machine
** and under sanitizers; wall time and CPU time are separate limits, checked by
** that hook and by every host call. No other thread touches the script.
** TSHOOT_LIMITS_EXACT_COUNT names this default (kept for version 1 callers).
** TSHOOT_LIMITS_ESTIMATE instead estimates instructions from the script's
** CPU time at this machine's measured interpreter speed: loops run about twice
** as fast, but the budget then depends on the machine and its load, and a
** watchdog thread arms the hook of a script past its budget. Pattern matching
** is counted exactly either way. See docs/scripts.md, "Limits". */
#define TSHOOT_LIMITS_EXACT_COUNT 0x1u
#define TSHOOT_LIMITS_ESTIMATE    0x2u
#define TSHOOT_LIMITS_INIT { TSHOOT_LIMITS_VERSION, 0, 0, 0, 0, 0 }

typedef enum tshoot_script_mode {
  TSHOOT_RUN_PROBE  = 1,      /* run a probe: its answer */
  TSHOOT_RUN_PLAN   = 2,      /* run a fix's apply against a copy: the changes it would make */
  TSHOOT_RUN_APPLY  = 3,      /* apply a fix for real (journaled), then verify; rolled back on failure */
  TSHOOT_RUN_VERIFY = 4       /* only a fix's verify */
} tshoot_script_mode;

/* What one run did. Owned by the caller: tshoot_run_free(). */
typedef struct tshoot_run {
  int status;                 /* TSHOOT_OK, TSHOOT_ERROR (script error or a
                                 failed verify), TSHOOT_ELIMIT, TSHOOT_EUSER (refused) */
  const char *message;        /* what went wrong, or "" */
  const char *answer;         /* PROBE: the answer as text, or NULL (cannot tell) */
  int verified;               /* APPLY/VERIFY: verify said it worked */
  int rolled_back;            /* APPLY: changes were undone */
  const tshoot_change *changes;  /* PLAN: what it would do; APPLY: what it did */
  size_t n_changes;
  const char *const *notes;   /* what the script told the user (ui.notify), in order */
  size_t n_notes;
  double elapsed_ms;
  unsigned long long instructions;
  size_t memory_peak;         /* bytes */
} tshoot_run;

/* Run script `name` (body `body`, `len` bytes, Lua source) in mode `mode` on
** `host` (NULL: a host with no callbacks). @param fix  the fix it belongs to
** (for the journal and for confirmation: a fix that needs admin rights or is
** not reversible is applied only after the host confirms), or NULL.
** @return TSHOOT_OK when the run was made, whatever the script did (see
**   out->status); TSHOOT_EINVALID; TSHOOT_ENOMEM. */
TSHOOT_API int tshoot_script_run(tshoot_run **out, tshoot_host *host, const char *name,
                                 const char *body, size_t len, tshoot_script_mode mode,
                                 const tshoot_fix_info *fix, const tshoot_limits *limits);

/* The body of script `name` ("kerio/os-version.lua") stored in `kb`, owned by
** the caller (tshoot_free), NUL-terminated.
** @return TSHOOT_OK; TSHOOT_ENOTFOUND; TSHOOT_ECORRUPT.
** Thread: safe on a shared kb. */
TSHOOT_API int tshoot_kb_script(char **body, size_t *len, tshoot_kb *kb, const char *name);

TSHOOT_API void tshoot_run_free(tshoot_run *r);


/* ---------------------------------------------------------------------------
** Sessions with a host: probes answer, fixes run
*/

/* Give the session a host (borrowed: it must outlive the session, or be
** replaced first; NULL removes it). From then on, before a question that has
** a probe is asked, the probe runs on the host (once per question) and its
** answer, if it gives one the question allows, is taken as the answer with
** source "probe"; the person is asked only what no probe can tell.
** `limits` (NULL: defaults) apply to every probe and fix the session runs. */
TSHOOT_API int tshoot_session_set_host(tshoot_session *s, tshoot_host *host,
                                       const tshoot_limits *limits);

/* What a probe did. */
typedef struct tshoot_probe_info {
  const char *question;       /* the question it was to answer */
  const char *script;         /* the probe's script */
  const char *answer;         /* its answer, or NULL (it could not tell, or failed) */
  int status;                 /* TSHOOT_OK, or why it failed (TSHOOT_ELIMIT, ...) */
  const char *message;        /* "" or what went wrong */
} tshoot_probe_info;

/* Every probe run so far, in order. Borrowed until the session changes. */
TSHOOT_API int tshoot_session_probes(const tshoot_probe_info **out, size_t *n, tshoot_session *s);

/* Run fix `fix` (one that has a script) on the session's host: with dry_run,
** its plan (nothing changes); else confirm (when it needs admin rights or
** cannot be undone), apply, verify, and roll back if it failed. The outcome of
** an apply is reported to the session (tshoot_session_fix_result), except when
** the host refused confirmation (out->status TSHOOT_EUSER): then the fix was
** not tried. A refused fix is no evidence either way (it says nothing about
** the cause) and is not listed by tshoot_session_fixes; the session does not
** propose it again (it would be refused again), until a saved session is
** loaded: a refusal is not saved. Front-ends report nothing for it. A verify proves that the
** fix's change took effect, not that the problem is gone: where a person can
** look, report what they see with tshoot_session_fix_result, which replaces
** this outcome. To try a cause's fixes in order until one verifies, call this
** for each (tshoot_article_load lists them in order).
** @param[out] out  what happened (tshoot_run_free)
** @return TSHOOT_OK when the run was made (see out->status); TSHOOT_ENOTFOUND
**   (no such fix); TSHOOT_EINVALID (no script, or no host). */
TSHOOT_API int tshoot_session_run_fix(tshoot_run **out, tshoot_session *s, const char *fix,
                                      int dry_run);

#ifdef __cplusplus
}
#endif
#endif /* TSHOOT_H */
