/*
** kb_xml.c: reading KB source files with libxml2, safely. See kb_xml.h.
**
** The order of defences in kbxml_parse:
**   1. our own checks on the raw bytes, before libxml2 sees them: no UTF-16/32
**      byte order mark, an XML declaration's encoding (if any) is UTF-8, the
**      bytes are UTF-8 without NUL (an invalid sequence is reported, TSH-E007,
**      and replaced by '?' so that the rest of the file is still checked), no
**      start tag has more than KBXML_MAX_ATTRS attributes (libxml2's
**      duplicate-attribute check is quadratic), and there is no DOCTYPE (so
**      no entity can be declared);
**   2. a parser context of our own whose fields are all set here, whatever
**      libxml2's process-wide defaults are: no entity substitution, no DTD
**      loading, no network, the declared encoding ignored (UTF-8 forced), a
**      SAX handler that refuses any DOCTYPE and resolves no entity, and a
**      nesting depth limit;
**   3. the document is accepted only if it is well-formed and neither libxml2
**      nor we recorded any error.
**
** Locations. When an element starts, the SAX wrapper records the byte offset
** of its '<' (plus one) in the element node's _private field, which libxml2
** leaves to applications: kbxml_locate uses it to find the exact line and
** column even for start tags spread over lines or lines past 65535 (where
** node->line saturates). Code that uses these documents must not overwrite
** _private of element nodes. Without it, kbxml_locate searches backwards from
** node->line. Columns are counted in bytes, 1-based.
*/
#include "tshoot_int.h"
#include "kb_xml.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/xmlerror.h>
#include <libxml/relaxng.h>

#define CODE_PARSE  "TSH-E001"
#define CODE_SCHEMA "TSH-E002"
#define CODE_UTF8   "TSH-E007"

/* Diagnostics from libxml2 for one file are capped: after the first fatal
** error its reports are mostly consequences of it. */
#define MAX_LIBXML_REPORTS 20

/* ===== positions ===== */

static int is_xml_space(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Build src->line_starts once. Returns 0, or -1 on out of memory. */
static int build_lines(kbxml_source *src)
{
  size_t n = 1, k;
  size_t *ls;
  const char *p, *end = src->buf + src->len;

  if (src->line_starts) return 0;
  /* memchr: every source's table is built (the model's lines), a byte at a
  ** time that was 8 instructions a byte of XML */
  for (p = src->buf; p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) n++;
  ls = ts_malloc(n * sizeof *ls);
  if (!ls) return -1;
  ls[0] = 0;
  for (p = src->buf, k = 1; p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
    ls[k++] = (size_t)(p - src->buf) + 1;
  src->line_starts = ls;
  src->n_lines = n;
  return 0;
}

static int clamp_int(size_t v)
{
  return v > (size_t)INT_MAX ? INT_MAX : (int)v;
}

/* 1-based line and byte column of offset `off` in src->buf. Uses the line
** table if it can be built, otherwise counts (used for one-off reports). */
static void offset_linecol(kbxml_source *src, size_t off, int *line, int *col)
{
  if (off > src->len) off = src->len;
  if (build_lines(src) == 0) {
    size_t lo = 0, hi = src->n_lines;   /* last line start <= off */
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (src->line_starts[mid] <= off) lo = mid; else hi = mid;
    }
    *line = clamp_int(lo + 1);
    *col = clamp_int(off - src->line_starts[lo] + 1);
  } else {
    size_t i, l = 1, start = 0;
    for (i = 0; i < off; i++)
      if (src->buf[i] == '\n') { l++; start = i + 1; }
    *line = clamp_int(l);
    *col = clamp_int(off - start + 1);
  }
}

static void report_at(diag_sink *d, kbxml_source *src, size_t off,
                      const char *code, const char *msg)
{
  int line, col;
  offset_linecol(src, off, &line, &col);
  diag_report(d, TSHOOT_ERRSEV, src->name, line, col, code, "%s", msg);
}

/* Copy at most `max` bytes of s[0..n) into out (size max+4) for a message,
** replacing control and non-ASCII bytes with '?', adding "..." if cut. */
static void printable(char *out, size_t max, const char *s, size_t n)
{
  size_t i, m = n < max ? n : max;
  for (i = 0; i < m; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
  }
  if (n > max) { memcpy(out + m, "...", 3); m += 3; }
  out[m] = '\0';
}

/* ===== checks on the raw bytes ===== */

/* The first occurrence of lit[0..m) in h[0..n), or NULL (memmem is not C11).
** Linear for the short literals used here. */
static const char *find_lit(const char *h, size_t n, const char *lit, size_t m)
{
  while (n >= m) {
    const char *p = memchr(h, lit[0], n - m + 1);
    if (!p) return NULL;
    if (memcmp(p, lit, m) == 0) return p;
    n -= (size_t)(p - h) + 1;
    h = p + 1;
  }
  return NULL;
}

static int check_bom(kbxml_source *src, diag_sink *d)
{
  const unsigned char *b = (const unsigned char *)src->buf;
  size_t n = src->len;
  const char *what = NULL;

  if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF)
    what = "UTF-32";
  else if (n >= 4 && b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0)
    what = "UTF-32";
  else if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE)))
    what = "UTF-16";
  if (!what) return 0;
  diag_report(d, TSHOOT_ERRSEV, src->name, 1, 1, CODE_PARSE,
              "%s byte order mark: KB sources must be UTF-8", what);
  return -1;
}

static size_t skip_utf8_bom(const kbxml_source *src)
{
  const unsigned char *b = (const unsigned char *)src->buf;
  return (src->len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) ? 3 : 0;
}

/* If the file starts with an XML declaration that names an encoding, it must
** be UTF-8 (the parser is told to ignore it either way). */
static int check_encoding_decl(kbxml_source *src, diag_sink *d)
{
  const char *b = src->buf;
  size_t i = skip_utf8_bom(src), end, k;
  const char *q;

  if (src->len - i < 6 || memcmp(b + i, "<?xml", 5) != 0 ||
      !is_xml_space((unsigned char)b[i + 5]))
    return 0;
  q = find_lit(b + i, src->len - i, "?>", 2);
  end = q ? (size_t)(q - b) : src->len;
  for (k = i + 5; k + 8 <= end; k++) {
    size_t v, vend;
    char quote, name[72], msg[160];
    if (memcmp(b + k, "encoding", 8) != 0 || !is_xml_space((unsigned char)b[k - 1]))
      continue;
    v = k + 8;
    while (v < end && is_xml_space((unsigned char)b[v])) v++;
    if (v >= end || b[v] != '=') continue;
    v++;
    while (v < end && is_xml_space((unsigned char)b[v])) v++;
    if (v >= end || (b[v] != '"' && b[v] != '\'')) return 0; /* libxml2 reports it */
    quote = b[v++];
    for (vend = v; vend < end && b[vend] != quote; vend++) {}
    if (vend - v == 5 && strncasecmp(b + v, "UTF-8", 5) == 0) return 0;
    printable(name, 64, b + v, vend - v);
    snprintf(msg, sizeof msg,
             "encoding '%s' is not supported: KB sources must be UTF-8", name);
    report_at(d, src, k, CODE_PARSE, msg);
    return -1;
  }
  return 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
** and no NUL byte, from offset i. Returns the offset of the first byte that
** does not start a valid sequence (for a broken sequence, its lead byte), or
** n; *bad_len gets the length of the broken part there: the lead byte and
** the continuation bytes that were still right (Unicode's "maximal subpart",
** what a decoder replaces with one U+FFFD), at least 1. */
static size_t utf8_first_bad(const unsigned char *s, size_t n, size_t i, size_t *bad_len)
{
  while (i < n) {
    unsigned char c = s[i];
    size_t k, need;
    unsigned char lo = 0x80, hi = 0xBF;
    *bad_len = 1;
    if (c >= 0x01 && c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else
      return i;                       /* NUL, stray continuation, C0/C1, F5+ */
    for (k = 1; k <= need; k++) {
      unsigned char t;
      if (i + k >= n) return i;       /* truncated sequence at the end */
      t = s[i + k];
      if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF)) return i;
      *bad_len = k + 1;
    }
    i += need + 1;
  }
  return n;
}

/* At most this many invalid UTF-8 sequences are reported per file (a file
** saved as Latin-1 has one on every line with an accent); a last report
** says how many more there are. */
#define MAX_UTF8_REPORTS 10

/* Every run of invalid UTF-8 is reported at its first byte (TSH-E007) and
** replaced by as many '?' in the buffer, so that the file is still parsed and
** checked and one run reports every problem (the KB is not written: errors
** were reported). Offsets are unchanged, so every later file:line:col is
** right. A NUL byte stops the file (E001): it is not text, maybe UTF-16.
** Returns -1 when parsing must not go on. */
static int check_utf8(kbxml_source *src, diag_sink *d)
{
  unsigned char *s = (unsigned char *)src->buf;
  size_t at = 0, len = 0, reported = 0, more = 0, last = 0;
  char msg[160];
  while ((at = utf8_first_bad(s, src->len, at, &len)) < src->len) {
    size_t run = 0, next, k;
    int m;
    /* the bad bytes that follow one another make one report */
    do {
      if (s[at + run] == 0) {
        snprintf(msg, sizeof msg, "NUL byte: KB sources must be UTF-8 text%s",
                 at + run < 4 ? " (is the file UTF-16?)" : "");
        report_at(d, src, at + run, CODE_PARSE, msg);
        return -1;
      }
      run += len;
    } while ((next = utf8_first_bad(s, src->len, at + run, &len)) == at + run && next < src->len);
    if (reported < MAX_UTF8_REPORTS) {
      m = snprintf(msg, sizeof msg, "invalid UTF-8: byte%s", run > 1 ? "s" : "");
      for (k = 0; k < run && k < 4; k++)
        m += snprintf(msg + m, sizeof msg - (size_t)m, " 0x%02X", s[at + k]);
      snprintf(msg + m, sizeof msg - (size_t)m, "%s; KB sources must be UTF-8 (save the file as UTF-8)",
               run > 4 ? " ..." : "");
      report_at(d, src, at, CODE_UTF8, msg);
      reported++;
    } else {
      more++;
      last = at;
    }
    memset(s + at, '?', run);
    at += run;
  }
  if (more) {
    snprintf(msg, sizeof msg, "%zu more places with invalid UTF-8 in this file, the last here", more);
    report_at(d, src, last, CODE_UTF8, msg);
  }
  return 0;
}

static int starts(const char *b, size_t n, size_t i, const char *lit, size_t litlen)
{
  return n - i >= litlen && memcmp(b + i, lit, litlen) == 0;
}

/* A linear lexical pass over the bytes: refuses any DOCTYPE and any start
** tag with more than KBXML_MAX_ATTRS attributes, knowing comments, CDATA
** sections, processing instructions and quoted attribute values. Malformed
** input is left for libxml2 to report. */
static int prescan(kbxml_source *src, diag_sink *d)
{
  const char *b = src->buf;
  size_t n = src->len, i = 0;

  while (i < n) {
    const char *p = memchr(b + i, '<', n - i);
    const char *q;
    if (!p) break;
    i = (size_t)(p - b);
    if (starts(b, n, i, "<!--", 4)) {
      q = find_lit(b + i + 4, n - i - 4, "-->", 3);
      if (!q) break;
      i = (size_t)(q - b) + 3;
    } else if (starts(b, n, i, "<![CDATA[", 9)) {
      q = find_lit(b + i + 9, n - i - 9, "]]>", 3);
      if (!q) break;
      i = (size_t)(q - b) + 3;
    } else if (starts(b, n, i, "<?", 2)) {
      q = find_lit(b + i + 2, n - i - 2, "?>", 2);
      if (!q) break;
      i = (size_t)(q - b) + 2;
    } else if (starts(b, n, i, "<!DOCTYPE", 9)) {
      report_at(d, src, i, CODE_PARSE,
                "DOCTYPE is not allowed in KB sources; remove it (entities are not supported)");
      return -1;
    } else if (starts(b, n, i, "<!", 2) || starts(b, n, i, "</", 2)) {
      i += 2;
    } else {
      size_t tag = i, j = i + 1, name_end, count = 0;
      while (j < n && !is_xml_space((unsigned char)b[j]) && b[j] != '>' &&
             b[j] != '/' && b[j] != '<')
        j++;
      name_end = j;
      while (j < n) {
        char c = b[j];
        if (is_xml_space((unsigned char)c) || c == '/' || c == '=') { j++; continue; }
        if (c == '>') { j++; break; }
        if (c == '<') break;             /* malformed; the outer loop goes on */
        if (c == '"' || c == '\'') {
          q = memchr(b + j + 1, c, n - j - 1);
          j = q ? (size_t)(q - b) + 1 : n;
          continue;
        }
        /* an attribute name */
        while (j < n && !is_xml_space((unsigned char)b[j]) && b[j] != '=' &&
               b[j] != '>' && b[j] != '/' && b[j] != '<' && b[j] != '"' && b[j] != '\'')
          j++;
        if (++count > KBXML_MAX_ATTRS) {
          char name[72], msg[200];
          printable(name, 64, b + tag + 1, name_end - tag - 1);
          snprintf(msg, sizeof msg,
                   "element '%s' has more than %d attributes", name, KBXML_MAX_ATTRS);
          report_at(d, src, tag, CODE_PARSE, msg);
          return -1;
        }
      }
      i = j > i ? j : i + 1;
    }
  }
  return 0;
}

/* ===== the parser ===== */

typedef struct parse_state {
  kbxml_source *src;
  diag_sink *d;
  int depth;
  int reports;        /* libxml2 reports passed on */
  int failed;         /* an error was recorded (ours or libxml2's) */
  int stopped;        /* we stopped the parser: ignore what libxml2 says next */
  int oom;
} parse_state;

static parse_state *state_of(void *ctx)
{
  xmlParserCtxtPtr ctxt = ctx;
  return ctxt ? ctxt->_private : NULL;
}

/* Byte offset of the '<' of the start tag the parser has just read, or
** (size_t)-1. When startElementNs is called the parser is past the
** attributes, and no '<' can occur inside a well-formed start tag. */
static size_t current_tag_offset(xmlParserCtxtPtr ctxt, const kbxml_source *src)
{
  long pos = xmlByteConsumed(ctxt);
  size_t i;
  if (pos < 0 || (unsigned long)pos > src->len) return (size_t)-1;
  i = (size_t)pos;
  while (i > 0) {
    i--;
    if (src->buf[i] == '<') return i;
  }
  return (size_t)-1;
}

static void stop_with(xmlParserCtxtPtr ctxt, parse_state *st, const char *msg)
{
  size_t off = current_tag_offset(ctxt, st->src);
  if (off != (size_t)-1)
    report_at(st->d, st->src, off, CODE_PARSE, msg);
  else
    diag_report(st->d, TSHOOT_ERRSEV, st->src->name, xmlSAX2GetLineNumber(ctxt),
                xmlSAX2GetColumnNumber(ctxt), CODE_PARSE, "%s", msg);
  st->failed = 1;
  st->stopped = 1;
  xmlStopParser(ctxt);
}

static void on_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                      const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;
  parse_state *st = state_of(ctx);
  if (!st || st->stopped) { if (ctxt) xmlStopParser(ctxt); return; }
  diag_report(st->d, TSHOOT_ERRSEV, st->src->name, xmlSAX2GetLineNumber(ctxt), 1,
              CODE_PARSE,
              "DOCTYPE is not allowed in KB sources; remove it (entities are not supported)");
  st->failed = 1;
  st->stopped = 1;
  xmlStopParser(ctxt);
}

static xmlParserInputPtr on_resolve_entity(void *ctx, const xmlChar *public_id,
                                           const xmlChar *system_id)
{
  parse_state *st = state_of(ctx);
  if (st) st->failed = 1;   /* never reached without a DOCTYPE; refuse if so */
  return NULL;
}

/* Only the five predefined entities exist (libxml2 looks those up itself
** before asking; this keeps them working with XML_PARSE_OLDSAX too). */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
  return xmlGetPredefinedEntity(name);
}

static xmlEntityPtr on_get_parameter_entity(void *ctx, const xmlChar *name)
{
  return NULL;
}

static void on_start_element(void *ctx, const xmlChar *localname,
                             const xmlChar *prefix, const xmlChar *URI,
                             int nb_namespaces, const xmlChar **namespaces,
                             int nb_attributes, int nb_defaulted,
                             const xmlChar **attributes)
{
  xmlParserCtxtPtr ctxt = ctx;
  parse_state *st = state_of(ctx);
  size_t off;

  if (!st || st->stopped) return;
  if (++st->depth > KBXML_MAX_DEPTH) {
    char msg[80];
    snprintf(msg, sizeof msg, "elements nested deeper than %d", KBXML_MAX_DEPTH);
    stop_with(ctxt, st, msg);
    return;
  }
  if (nb_attributes > KBXML_MAX_ATTRS) {   /* the pre-scan should have seen it */
    char msg[80];
    snprintf(msg, sizeof msg, "element has more than %d attributes", KBXML_MAX_ATTRS);
    stop_with(ctxt, st, msg);
    return;
  }
  off = current_tag_offset(ctxt, st->src);
  xmlSAX2StartElementNs(ctx, localname, prefix, URI, nb_namespaces, namespaces,
                        nb_attributes, nb_defaulted, attributes);
  if (off != (size_t)-1 && ctxt->node && ctxt->node->type == XML_ELEMENT_NODE &&
      xmlStrEqual(ctxt->node->name, localname))
    ctxt->node->_private = (void *)(uintptr_t)(off + 1);
}

static void on_end_element(void *ctx, const xmlChar *localname,
                           const xmlChar *prefix, const xmlChar *URI)
{
  parse_state *st = state_of(ctx);
  if (!st || st->stopped) return;
  st->depth--;
  xmlSAX2EndElementNs(ctx, localname, prefix, URI);
}

static void on_xml_error(void *ctx, xmlErrorPtr err)
{
  parse_state *st = state_of(ctx);
  char msg[600];
  size_t n;

  if (!st || !err) return;
  if (err->code == XML_ERR_NO_MEMORY) st->oom = 1;
  /* After we stopped the parser, what follows is a consequence. */
  if (st->stopped && st->failed) return;
  st->failed = 1;
  if (st->reports >= MAX_LIBXML_REPORTS) return;
  st->reports++;
  snprintf(msg, sizeof msg, "%s", err->message ? err->message : "XML error");
  n = strlen(msg);
  while (n > 0 && is_xml_space((unsigned char)msg[n - 1])) msg[--n] = '\0';
  diag_report(st->d, TSHOOT_ERRSEV, st->src->name, err->line, err->int2 > 0 ? err->int2 : 0,
              CODE_PARSE, "%s", msg);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

/* Set every field of the context that a process-wide default could have
** changed, and install our SAX handler. */
static void configure(xmlParserCtxtPtr ctxt, parse_state *st)
{
  xmlSAXHandler *sax = ctxt->sax;

  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC);
  xmlSAXVersion(sax, 2);                /* resets every handler */
  sax->internalSubset = on_subset;
  sax->externalSubset = on_subset;
  sax->resolveEntity = on_resolve_entity;
  sax->getEntity = on_get_entity;
  sax->getParameterEntity = on_get_parameter_entity;
  sax->entityDecl = NULL;
  sax->unparsedEntityDecl = NULL;
  sax->notationDecl = NULL;
  sax->attributeDecl = NULL;
  sax->elementDecl = NULL;
  sax->reference = NULL;
  sax->startElementNs = on_start_element;
  sax->endElementNs = on_end_element;
  sax->ignorableWhitespace = xmlSAX2Characters;
  sax->warning = NULL;
  sax->error = NULL;
  sax->fatalError = NULL;
  sax->serror = on_xml_error;
  sax->initialized = XML_SAX2_MAGIC;

  ctxt->_private = st;
  ctxt->replaceEntities = 0;
  ctxt->loadsubset = 0;
  ctxt->validate = 0;
  ctxt->pedantic = 0;
  ctxt->keepBlanks = 1;
  ctxt->linenumbers = 1;
  ctxt->recovery = 0;
  ctxt->html = 0;
  ctxt->options = (ctxt->options | XML_PARSE_NONET | XML_PARSE_IGNORE_ENC) &
                  ~(XML_PARSE_NOENT | XML_PARSE_DTDLOAD | XML_PARSE_DTDATTR |
                    XML_PARSE_DTDVALID | XML_PARSE_XINCLUDE | XML_PARSE_HUGE |
                    XML_PARSE_OLDSAX | XML_PARSE_RECOVER | XML_PARSE_NOBLANKS);
  /* UTF-8, whatever the declaration says (it was checked above). */
  xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);
}

int kbxml_parse(kbxml_source *src, const char *name, char *buf, size_t len, diag_sink *d)
{
  xmlParserCtxtPtr ctxt;
  parse_state st;
  int ok;

  src->name = name;
  src->buf = buf;
  src->len = len;
  src->doc = NULL;
  src->line_starts = NULL;
  src->n_lines = 0;
  src->bad = NULL;
  src->n_bad = src->cap_bad = 0;
  src->bad_unplaced = 0;
  if (!buf) return TSHOOT_ENOMEM;

  if (len > (size_t)INT_MAX - 1) {
    diag_report(d, TSHOOT_ERRSEV, name, 0, 0, CODE_PARSE, "file too large");
    return TSHOOT_ESOURCE;
  }
  if (check_bom(src, d) || check_encoding_decl(src, d) || check_utf8(src, d) ||
      prescan(src, d))
    return TSHOOT_ESOURCE;
  if (len == 0) {
    diag_report(d, TSHOOT_ERRSEV, name, 1, 1, CODE_PARSE, "empty file: no root element");
    return TSHOOT_ESOURCE;
  }

  pthread_once(&init_once, init_libxml);
  ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
  if (!ctxt) return ts_error_oom();
  memset(&st, 0, sizeof st);
  st.src = src;
  st.d = d;
  configure(ctxt, &st);

  xmlParseDocument(ctxt);

  ok = ctxt->wellFormed && !st.failed && !st.oom && ctxt->myDoc != NULL;
  if (ok) {
    src->doc = ctxt->myDoc;
  } else {
    if (!st.failed && !st.oom)
      diag_report(d, TSHOOT_ERRSEV, name, 0, 0, CODE_PARSE, "not well-formed XML");
    if (ctxt->myDoc) xmlFreeDoc(ctxt->myDoc);
  }
  ctxt->myDoc = NULL;
  xmlFreeParserCtxt(ctxt);
  if (st.oom) return ts_error_oom();
  return ok ? TSHOOT_OK : TSHOOT_ESOURCE;
}

/* ===== locations ===== */

static int is_name_end(unsigned char c)
{
  return is_xml_space(c) || c == '>' || c == '/' || c == '=' || c == '<';
}

/* The qualified name of an element, as written. */
static void qname(const xmlNode *node, char *out, size_t outsz)
{
  if (node->ns && node->ns->prefix)
    snprintf(out, outsz, "%s:%s", (const char *)node->ns->prefix, (const char *)node->name);
  else
    snprintf(out, outsz, "%s", (const char *)node->name);
}

/* Is there "<name" followed by a name end at offset i? */
static int tag_at(const kbxml_source *src, size_t i, const char *name, size_t nlen)
{
  return src->buf[i] == '<' && src->len - i > nlen &&
         memcmp(src->buf + i + 1, name, nlen) == 0 &&
         (i + 1 + nlen == src->len || is_name_end((unsigned char)src->buf[i + 1 + nlen]));
}

/* Offset of the element's '<', or (size_t)-1. */
static size_t element_offset(kbxml_source *src, const xmlNode *node)
{
  char name[256];
  size_t nlen, line, i;

  qname(node, name, sizeof name);
  nlen = strlen(name);
  if (node->_private) {
    size_t off = (size_t)(uintptr_t)node->_private - 1;
    if (off < src->len && tag_at(src, off, name, nlen)) return off;
  }
  /* node->line is where libxml2 was when it made the node (the line of the
  ** closing '>' of a long start tag): search backwards from its end. */
  line = node->line > 0 ? (size_t)node->line : 1;
  if (line > src->n_lines) line = src->n_lines;
  i = line < src->n_lines ? src->line_starts[line] : src->len;
  while (i > 0) {
    i--;
    if (tag_at(src, i, name, nlen)) return i;
  }
  return (size_t)-1;
}

/* Offset of attribute `attr` inside the start tag at `tag`, or (size_t)-1.
** Matches the name as written, or its local part after a prefix. */
static size_t attribute_offset(const kbxml_source *src, size_t tag, const char *attr)
{
  const char *b = src->buf;
  size_t n = src->len, j = tag + 1, alen = strlen(attr);

  while (j < n && !is_name_end((unsigned char)b[j])) j++;    /* element name */
  while (j < n) {
    char c = b[j];
    size_t s, e, k;
    if (is_xml_space((unsigned char)c) || c == '/') { j++; continue; }
    if (c == '>' || c == '<') break;
    if (c == '"' || c == '\'') {
      const char *q = memchr(b + j + 1, c, n - j - 1);
      if (!q) break;
      j = (size_t)(q - b) + 1;
      continue;
    }
    if (c == '=') { j++; continue; }
    s = j;
    while (j < n && !is_name_end((unsigned char)b[j]) && b[j] != '"' && b[j] != '\'') j++;
    e = j;
    k = e;
    while (k < n && is_xml_space((unsigned char)b[k])) k++;
    if (k < n && b[k] == '=') {
      const char *colon = memchr(b + s, ':', e - s);
      if ((e - s == alen && memcmp(b + s, attr, alen) == 0) ||
          (colon && (size_t)(b + e - colon - 1) == alen &&
           memcmp(colon + 1, attr, alen) == 0 && !strchr(attr, ':')))
        return s;
    }
  }
  return (size_t)-1;
}

void kbxml_locate(kbxml_source *src, const xmlNode *node, const char *attr,
                  int *line, int *column)
{
  size_t off;
  const char *attr_name = attr;

  long ln = node ? xmlGetLineNo(node) : 0;

  *line = ln > 0 && ln <= INT_MAX ? (int)ln : 0;
  *column = 1;
  if (!node || !src || !src->buf) return;
  if (node->type == XML_ATTRIBUTE_NODE) {
    if (!attr_name) attr_name = (const char *)node->name;
    node = node->parent;
  }
  while (node && node->type != XML_ELEMENT_NODE) {
    if (node->type != XML_TEXT_NODE && node->type != XML_CDATA_SECTION_NODE &&
        node->type != XML_COMMENT_NODE && node->type != XML_PI_NODE)
      return;
    node = node->parent;
  }
  if (!node || build_lines(src) != 0) return;
  off = element_offset(src, node);
  if (off == (size_t)-1) return;
  if (attr_name) {
    size_t a = attribute_offset(src, off, attr_name);
    if (a != (size_t)-1) off = a;
  }
  offset_linecol(src, off, line, column);
}

/* ===== text ===== */

/* The bytes of node's text and CDATA children (an upper bound of its text). */
static size_t text_bytes(const xmlNode *node)
{
  const xmlNode *c;
  size_t n = 0;
  for (c = node->children; c; c = c->next)
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
      n += strlen((const char *)c->content);
  return n;
}

/* node's text into out (room for text_bytes + 1): the children's text
** concatenated, each run of white space made one space, trimmed. */
static void collapse_text(const xmlNode *node, char *out)
{
  const xmlNode *c;
  size_t o = 0;
  int space = 0;
  for (c = node->children; c; c = c->next) {
    const unsigned char *s = c->content;
    if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !s) continue;
    for (; *s; s++) {
      if (is_xml_space(*s)) {
        space = 1;
        continue;
      }
      if (space && o > 0) out[o++] = ' ';
      space = 0;
      out[o++] = (char)*s;
    }
  }
  out[o] = '\0';
}

char *kbxml_text(const xmlNode *node)
{
  char *out;
  if (!node) return ts_strdup("");
  if ((out = ts_malloc(text_bytes(node) + 1)) != NULL) collapse_text(node, out);
  return out;
}

char *kbxml_text_in(const xmlNode *node, ts_arena *a)
{
  char *out;
  if (!node) return ts_arena_strdup(a, "");
  if ((out = ts_arena_alloc(a, text_bytes(node) + 1)) != NULL) collapse_text(node, out);
  return out;
}

char *kbxml_attr(const xmlNode *node, const char *name)
{
  const xmlAttr *a, *found = NULL;
  const xmlNode *c;
  ts_buf b = TS_BUF_INIT;

  if (!node || !name || node->type != XML_ELEMENT_NODE) return NULL;
  for (a = node->properties; a; a = a->next) {
    if (a->type != XML_ATTRIBUTE_NODE || !a->name || strcmp((const char *)a->name, name) != 0)
      continue;
    if (!a->ns) { found = a; break; }     /* prefer the attribute without namespace */
    if (!found) found = a;
  }
  if (!found) return NULL;
  for (c = found->children; c; c = c->next)
    if (c->type == XML_TEXT_NODE && c->content)
      ts_buf_adds(&b, (const char *)c->content);
  if (b.oom) { ts_buf_free(&b); return NULL; }
  if (b.len == 0) { ts_buf_free(&b); return ts_strdup(""); }
  return ts_buf_detach(&b);
}

void kbxml_source_free(kbxml_source *src)
{
  if (!src) return;
  if (src->doc) xmlFreeDoc(src->doc);
  ts_free(src->buf);
  ts_free(src->line_starts);
  ts_free(src->bad);
  src->bad = NULL;
  src->n_bad = src->cap_bad = 0;
  src->bad_unplaced = 0;
  src->doc = NULL;
  src->buf = NULL;
  src->line_starts = NULL;
  src->len = 0;
  src->n_lines = 0;
}

/* ===== schema ===== */

static pthread_once_t schema_once = PTHREAD_ONCE_INIT;
static xmlRelaxNGPtr schema;           /* written once, under schema_once */
static char schema_error[300];         /* why it failed to compile, if it did */

static void on_schema_parse_error(void *ctx, xmlErrorPtr err)
{
  if (schema_error[0] == '\0' && err && err->message) {
    size_t n;
    snprintf(schema_error, sizeof schema_error, "%s", err->message);
    n = strlen(schema_error);
    while (n > 0 && is_xml_space((unsigned char)schema_error[n - 1])) schema_error[--n] = '\0';
  }
}

static void compile_schema(void)
{
  xmlRelaxNGParserCtxtPtr pc;
  pthread_once(&init_once, init_libxml);
  pc = xmlRelaxNGNewMemParserCtxt(kbxml_schema_rng, (int)kbxml_schema_rng_len);
  if (!pc) { snprintf(schema_error, sizeof schema_error, "out of memory"); return; }
  xmlRelaxNGSetParserStructuredErrors(pc, on_schema_parse_error, NULL);
  schema = xmlRelaxNGParse(pc);
  xmlRelaxNGFreeParserCtxt(pc);
  if (!schema && schema_error[0] == '\0')
    snprintf(schema_error, sizeof schema_error, "unknown error");
}

#define MAX_REPORTED 64

typedef struct valid_state {
  kbxml_source *src;
  diag_sink *d;
  int count;
  /* Nodes already reported on: libxml2 follows a precise report with
  ** "failed to validate content" for every ancestor, "extra content" and
  ** "extra element in interleave"; those are dropped when they are about a
  ** subtree that already has a report. */
  const xmlNode *reported[MAX_REPORTED];
  int n_reported;
} valid_state;

static void remember(valid_state *vs, const xmlNode *node)
{
  if (node && vs->n_reported < MAX_REPORTED) vs->reported[vs->n_reported++] = node;
}

/* Was something inside `top` (or `top` itself) reported already? */
static int subtree_reported(const valid_state *vs, const xmlNode *top)
{
  int i;
  for (i = 0; i < vs->n_reported; i++) {
    const xmlNode *n;
    for (n = vs->reported[i]; n; n = n->parent)
      if (n == top) return 1;
  }
  return vs->n_reported >= MAX_REPORTED;
}

/* The name of element n, or NULL if n is not an element. */
static const char *el_name(const xmlNode *n)
{
  return n && n->type == XML_ELEMENT_NODE && n->name ? (const char *)n->name : NULL;
}

static int name_is(const xmlNode *n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE && n->name && name &&
         strcmp((const char *)n->name, name) == 0;
}

/* The element a message "Element E ..." is about: libxml2 passes either E
** itself or the child it was looking at. */
static const xmlNode *element_named(const xmlNode *node, const char *name)
{
  if (name_is(node, name)) return node;
  if (node && name_is(node->parent, name)) return node->parent;
  return node;
}

/* Does the schema require an id of element el? */
static int needs_id(const char *el)
{
  const kbxml_attr_rule *id = kbxml_rule_attr(kbxml_rule_of(el), "id");
  return id && id->use == KBXML_REQUIRED;
}

/* "s" or its first 40 bytes and "...", white space collapsed, for quoting. */
static void excerpt(char *out, size_t outsz, const char *s)
{
  size_t o = 0;
  int space = 0;
  for (; *s && o + 4 < outsz && o < 40; s++) {
    if (is_xml_space((unsigned char)*s)) { space = o > 0; continue; }
    if (space) { out[o++] = ' '; space = 0; }
    out[o++] = *s;
  }
  if (*s) { memcpy(out + o, "...", 3); o += 3; }
  out[o] = '\0';
}

/* Match raw against pre + A + mid + B + post (mid NULL: pre + A + post).
** Copies A and B (if mid) out. */
static int match2(const char *raw, const char *pre, const char *mid, const char *post,
                  char *a, char *b, size_t sz)
{
  size_t pl = strlen(pre), ml = mid ? strlen(mid) : 0, postl = strlen(post);
  const char *s = raw, *e, *m;
  size_t la, lb;

  if (strncmp(s, pre, pl) != 0) return 0;
  s += pl;
  e = s + strlen(s);
  if ((size_t)(e - s) < postl || strcmp(e - postl, post) != 0) return 0;
  e -= postl;
  if (!mid) {
    la = (size_t)(e - s);
    if (la >= sz) return 0;
    memcpy(a, s, la); a[la] = '\0';
    return 1;
  }
  m = strstr(s, mid);
  if (!m || m > e) return 0;
  la = (size_t)(m - s);
  lb = (size_t)(e - m - ml);
  if (la >= sz || lb >= sz) return 0;
  memcpy(a, s, la); a[la] = '\0';
  memcpy(b, m + ml, lb); b[lb] = '\0';
  return 1;
}

/* Keep `node` in src->bad (NULL, or out of memory: the report has no place). */
static void mark_bad(kbxml_source *src, const xmlNode *node)
{
  if (node && ts_grow((void **)&src->bad, &src->cap_bad, src->n_bad + 1, sizeof *src->bad) == 0)
    src->bad[src->n_bad++] = node;
  else
    src->bad_unplaced = 1;
}

int kbxml_is_bad(const kbxml_source *src, const xmlNode *node)
{
  size_t i;
  for (i = 0; src && node && i < src->n_bad; i++)
    if (src->bad[i] == node) return 1;
  return 0;
}

int kbxml_has_bad(const kbxml_source *src, const xmlNode *node)
{
  size_t i;
  for (i = 0; src && node && i < src->n_bad; i++) {
    const xmlNode *n;
    for (n = src->bad[i]; n; n = n->parent)
      if (n == node) return 1;
  }
  return 0;
}

static void report_node(valid_state *vs, const xmlNode *node, const char *attr,
                        const xmlError *err, const char *msg)
{
  int line = 0, col = 0;
  mark_bad(vs->src, node);
  if (node) kbxml_locate(vs->src, node, attr, &line, &col);
  else if (err->line > 0) { line = err->line; col = err->int2 > 0 ? err->int2 : 0; }
  diag_report(vs->d, TSHOOT_ERRSEV, vs->src->name, line, col, CODE_SCHEMA, "%s", msg);
  vs->count++;
  remember(vs, node);
}

/* libxml2's RELAX NG messages are terse ("Element cause failed to validate
** content"); say the same for people, and point at the right node. */
static void on_valid_error(void *ctx, xmlErrorPtr err)
{
  valid_state *vs = ctx;
  const xmlNode *node, *el;
  char raw[600], msg[900], a[256], b[256], ex[64];
  size_t n;

  if (!vs || !err) return;
  node = err->node;
  snprintf(raw, sizeof raw, "%s", err->message ? err->message : "schema violation");
  n = strlen(raw);
  while (n > 0 && is_xml_space((unsigned char)raw[n - 1])) raw[--n] = '\0';

  if (match2(raw, "Expecting an element ", NULL, ", got nothing", a, b, sizeof a)) {
    if (el_name(node))
      snprintf(msg, sizeof msg, "element '%s': missing required element '%s'",
               el_name(node), a);
    else
      snprintf(msg, sizeof msg, "missing required element '%s'", a);
    report_node(vs, node, NULL, err, msg);
  } else if (match2(raw, "Expecting element ", ", got ", "", a, b, sizeof a)) {
    if (node && el_name(node->parent))
      snprintf(msg, sizeof msg, "element '%s' is not allowed here in '%s' (expected '%s')",
               b, el_name(node->parent), a);
    else
      snprintf(msg, sizeof msg, "element '%s' is not allowed here (expected '%s')", b, a);
    report_node(vs, node, NULL, err, msg);
  } else if (match2(raw, "Did not expect element ", NULL, " there", a, b, sizeof a)) {
    if (node && el_name(node->parent))
      snprintf(msg, sizeof msg, "element '%s' is not allowed in '%s'", a,
               el_name(node->parent));
    else
      snprintf(msg, sizeof msg, "element '%s' is not allowed here", a);
    report_node(vs, node, NULL, err, msg);
  } else if (match2(raw, "Invalid attribute ", " for element ", "", a, b, sizeof a)) {
    if (kbxml_is_bad(vs->src, element_named(node, b))) return;   /* check_attrs said it */
    snprintf(msg, sizeof msg, "element '%s': attribute '%s' is not allowed", b, a);
    report_node(vs, element_named(node, b), a, err, msg);
  } else if (match2(raw, "Element ", NULL, " failed to validate attributes", a, b, sizeof a)) {
    char *id;
    el = element_named(node, a);
    if (kbxml_is_bad(vs->src, el)) return;   /* check_attrs said it */
    id = name_is(el, a) ? kbxml_attr(el, "id") : NULL;
    if (id && !kbxml_valid_id(id)) {
      excerpt(ex, sizeof ex, id);
      snprintf(msg, sizeof msg, "element '%s': id '%s' is not valid (ids are 1 to 64 "
               "lower-case letters, digits, '.', '_' or '-', starting with a letter or digit)",
               a, ex);
      report_node(vs, el, "id", err, msg);
    } else if (!id && name_is(el, a) && needs_id(a)) {
      snprintf(msg, sizeof msg, "element '%s': missing required attribute 'id'", a);
      report_node(vs, el, NULL, err, msg);
    } else {
      snprintf(msg, sizeof msg,
               "element '%s': a required attribute is missing or an attribute value is invalid", a);
      report_node(vs, el, NULL, err, msg);
    }
    ts_free(id);
  } else if (match2(raw, "Element ", NULL, " failed to validate content", a, b, sizeof a)) {
    el = element_named(node, a);
    if (!subtree_reported(vs, el)) {
      snprintf(msg, sizeof msg, "element '%s': invalid content", a);
      report_node(vs, el, NULL, err, msg);
    }
  } else if (match2(raw, "Element ", " has extra content: ", "", a, b, sizeof a)) {
    if (!subtree_reported(vs, node)) {
      if (name_is(node, a)) {           /* text where none is allowed */
        const xmlNode *c;
        ex[0] = '\0';
        for (c = node->children; c && !ex[0]; c = c->next)
          if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            excerpt(ex, sizeof ex, (const char *)c->content);
        if (ex[0])
          snprintf(msg, sizeof msg, "element '%s' must not contain text (found '%s')", a, ex);
        else
          snprintf(msg, sizeof msg, "element '%s' must not contain text", a);
      } else
        snprintf(msg, sizeof msg, "element '%s' is not allowed in '%s'", b, a);
      report_node(vs, node, NULL, err, msg);
    }
  } else if (strcmp(raw, "Invalid sequence in interleave") == 0) {
    /* follows a precise report about a child; alone, it is about node */
    if (!subtree_reported(vs, node)) {
      if (el_name(node))
        snprintf(msg, sizeof msg, "element '%s': invalid content", el_name(node));
      else
        snprintf(msg, sizeof msg, "invalid content");
      report_node(vs, node, NULL, err, msg);
    }
  } else if (match2(raw, "Extra element ", NULL, " in interleave", a, b, sizeof a)) {
    if (vs->count == 0) {
      snprintf(msg, sizeof msg, "element '%s' is not allowed here", a);
      report_node(vs, node, NULL, err, msg);
    }
  } else if (match2(raw, "Expecting a namespace for element ", NULL, "", a, b, sizeof a)) {
    snprintf(msg, sizeof msg, "element '%s' is not in the KB namespace: add "
             "xmlns=\"urn:tshoot:kb:1\" to the root element", a);
    report_node(vs, node, NULL, err, msg);
  } else if (match2(raw, "Element ", " has wrong namespace: expecting ", "", a, b, sizeof a)) {
    snprintf(msg, sizeof msg, "element '%s' is in the wrong namespace (expected %s)", a, b);
    report_node(vs, node, NULL, err, msg);
  } else if (match2(raw, "Did not expect text in element ", NULL, " content", a, b, sizeof a)) {
    snprintf(msg, sizeof msg, "element '%s' must not contain text", a);
    report_node(vs, element_named(node, a), NULL, err, msg);
  } else if (match2(raw, "Expecting element ", NULL, " to be empty", a, b, sizeof a)) {
    snprintf(msg, sizeof msg, "element '%s' must be empty", a);
    report_node(vs, element_named(node, a), NULL, err, msg);
  } else if (match2(raw, "Error validating datatype ", NULL, "", a, b, sizeof a)) {
    if (el_name(node))
      snprintf(msg, sizeof msg, "element '%s': a value is not a valid %s", el_name(node), a);
    else
      snprintf(msg, sizeof msg, "a value is not a valid %s", a);
    report_node(vs, node, NULL, err, msg);
  } else {
    report_node(vs, node, NULL, err, raw);
  }
}

/* ===== attributes, checked before libxml2 =====
** libxml2's RELAX NG validator reports a missing or malformed attribute of a
** child inside an interleave as a missing element of its parent ("element
** 'cause': missing required element 'fix'"), or at no line at all. So the
** attributes of every element of the format are checked here first, at
** their place, and the top-level items with such an error are set aside
** before libxml2 validates the rest. The attributes of each element are
** kbxml_rule_of's (kb_xml_shape.c: the schema's rules, in one table). */

static void excerpt(char *out, size_t outsz, const char *s);

/* Where text node t (a child of element parent) starts: found after the
** element before it, or after the parent's start. */
static void locate_text(kbxml_source *src, const xmlNode *parent, const xmlNode *t, int *line, int *col)
{
  const xmlNode *anchor = parent, *k;
  const char *c = (const char *)t->content, *hit;
  size_t off, n;
  for (k = t->prev; k; k = k->prev) if (k->type == XML_ELEMENT_NODE) { anchor = k; break; }
  kbxml_locate(src, anchor, NULL, line, col);
  if (!c || !src->buf || build_lines(src) != 0) return;
  off = element_offset(src, anchor);
  if (off == (size_t)-1) return;
  while (*c && is_xml_space((unsigned char)*c)) c++;
  for (n = 0; c[n] && !is_xml_space((unsigned char)c[n]) && c[n] != '<' && c[n] != '&' && n < 24; n++) {}
  if (!n) return;
  hit = find_lit(src->buf + off, src->len - off, c, n);
  if (hit) offset_linecol(src, (size_t)(hit - src->buf), line, col);
}

/* Check the attributes of `n` and everything inside it; report each problem.
** Returns the number reported. */
static int check_attrs(kbxml_source *src, diag_sink *d, const xmlNode *n)
{
  const kbxml_rule *rule;
  const kbxml_attr_rule *r;
  const xmlAttr *a;
  const xmlNode *k;
  const char *el = (const char *)n->name, *one_of[2] = { NULL, NULL };
  char msg[400], ex[64];
  size_t i;
  int count = 0, line, col, has_one_of = 0;

  if (n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href ||
      strcmp((const char *)n->ns->href, "urn:tshoot:kb:1") != 0)
    return 0;   /* libxml2 names elements in no or another namespace */
  if (!(rule = kbxml_rule_of(el)))
    return 0;   /* an unknown element: libxml2 names it; its inside is broken anyway */
  for (a = n->properties; a; a = a->next) {
    const char *an = (const char *)a->name;
    if (a->ns) continue;   /* xml:..., other namespaces: left to libxml2 */
    if (!(r = kbxml_rule_attr(rule, an))) {
      kbxml_locate(src, n, an, &line, &col);
      diag_report(d, TSHOOT_ERRSEV, src->name, line, col, CODE_SCHEMA,
                  "element '%s': attribute '%s' is not allowed", el, an);
      count++;
    } else if (r->type == KBXML_A_ID) {
      char *v = kbxml_attr(n, an);
      if (v && !kbxml_valid_id(v)) {
        excerpt(ex, sizeof ex, v);
        kbxml_locate(src, n, an, &line, &col);
        if (strcmp(an, "id") == 0)
          snprintf(msg, sizeof msg, "element '%s': id '%s' is not valid", el, ex);
        else
          snprintf(msg, sizeof msg, "element '%s': %s '%s' is not a valid id", el, an, ex);
        diag_report(d, TSHOOT_ERRSEV, src->name, line, col, CODE_SCHEMA,
                    "%s (ids are 1 to 64 lower-case letters, digits, '.', '_' or '-', starting "
                    "with a letter or digit)", msg);
        count++;
      }
      ts_free(v);
    }
  }
  for (i = 0; i < KBXML_RULE_ATTRS && (r = &rule->attrs[i])->name; i++) {
    int present = xmlHasProp(n, (const xmlChar *)r->name) != NULL;
    if (r->use == KBXML_REQUIRED && !present) {
      kbxml_locate(src, n, NULL, &line, &col);
      diag_report(d, TSHOOT_ERRSEV, src->name, line, col, CODE_SCHEMA,
                  "element '%s': missing required attribute '%s'", el, r->name);
      count++;
    } else if (r->use == KBXML_ONE_OF) {
      has_one_of |= present;
      one_of[one_of[0] != NULL] = r->name;
    }
  }
  if (one_of[0] && !has_one_of) {
    kbxml_locate(src, n, NULL, &line, &col);
    diag_report(d, TSHOOT_ERRSEV, src->name, line, col, CODE_SCHEMA,
                "element '%s': missing required attribute '%s' or '%s'", el, one_of[0],
                one_of[1] ? one_of[1] : one_of[0]);
    count++;
  }
  /* Elements that hold only elements: text inside them (not white space) is
  ** reported at the text, not left to libxml2, which names no line for it
  ** (<kb> has its own check, kbxml_validate's). */
  if ((rule->content == KBXML_ELEMS || rule->content == KBXML_EMPTY) && strcmp(el, "kb") != 0)
    for (k = n->children; k; k = k->next) {
      const char *c = (const char *)k->content;
      if (k->type != XML_TEXT_NODE || !c) continue;
      while (*c && is_xml_space((unsigned char)*c)) c++;
      if (!*c) continue;
      excerpt(ex, sizeof ex, c);
      locate_text(src, n, k, &line, &col);
      diag_report(d, TSHOOT_ERRSEV, src->name, line, col, CODE_SCHEMA,
                  "element '%s' holds text ('%s'): it takes only elements; remove the text or put it "
                  "in the element it belongs to", el, ex);
      count++;
      break;   /* once per element */
    }
  if (count) mark_bad(src, n);
  for (k = n->children; k; k = k->next) count += check_attrs(src, d, k);
  return count;
}

/* libxml2's validator stops at the first top-level element that fails (the
** root's content is an interleave), so one run would report one broken item
** per file. So the broken item is set aside (unlinked) and the rest
** validated again, up to MAX_ROUNDS times (a file with more broken items
** reports the first MAX_ROUNDS of them); then every item set aside is put
** back where it was, and the caller reads the whole document. */
#define MAX_ROUNDS 256

typedef struct set_aside { xmlNode *node, *prev, *parent; } set_aside;

/* Unlink `node`, remembering where it was. Returns 0, or -1 on out of memory. */
static int put_aside(set_aside **v, size_t *n, size_t *cap, xmlNode *node)
{
  if (ts_grow((void **)v, cap, *n + 1, sizeof **v) < 0) return -1;
  (*v)[*n].node = node;
  (*v)[*n].prev = node->prev;
  (*v)[*n].parent = node->parent;
  (*n)++;
  xmlUnlinkNode(node);
  return 0;
}

/* The child of the root that holds `n`, or NULL if n is the root (or none). */
static xmlNode *top_item(xmlNode *root, const xmlNode *n)
{
  for (; n && n->parent; n = n->parent)
    if (n->parent == root) return (xmlNode *)n;
  return NULL;
}

int kbxml_validate(kbxml_source *src, diag_sink *d)
{
  set_aside *aside = NULL;
  size_t n_aside = 0, cap_aside = 0, i;
  int total = 0, rc = 0, round;
  xmlNode *root;

  if (!src || !src->doc) return -1;
  src->n_bad = 0;
  src->bad_unplaced = 0;
  /* libxml2's RELAX NG validator is slow on <interleave> (18% of a
  ** compile's instructions; issue 9), and nearly every source is valid: a
  ** document kbxml_shape_ok proves valid skips it, and check_attrs (which
  ** reads the same rules: it would find nothing) and the schema's loading
  ** too. Anything else goes through both as before, which give every
  ** message. */
  if (kbxml_shape_ok(src->doc)) return 0;
  pthread_once(&schema_once, compile_schema);
  if (!schema) {
    diag_report(d, TSHOOT_ERRSEV, src->name, 0, 0, CODE_SCHEMA,
                "the embedded KB schema could not be loaded: %s", schema_error);
    return -1;
  }
  root = xmlDocGetRootElement(src->doc);
  if (root) {
    xmlNode *k, *next;
    total += check_attrs(src, d, root);
    for (k = root->children; k; k = next) {
      next = k->next;
      if (kbxml_has_bad(src, k) && put_aside(&aside, &n_aside, &cap_aside, k) < 0) break;
    }
  }
  for (round = 0;; round++) {
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
    valid_state vs;
    size_t first_bad = src->n_bad, b;
    xmlNode *top = NULL;
    if (!vc) {
      ts_error_oom();
      diag_report(d, TSHOOT_ERRSEV, src->name, 0, 0, CODE_SCHEMA, "out of memory");
      rc = -1;
      break;
    }
    memset(&vs, 0, sizeof vs);
    vs.src = src;
    vs.d = d;
    xmlRelaxNGSetValidStructuredErrors(vc, on_valid_error, &vs);
    rc = xmlRelaxNGValidateDoc(vc, src->doc);
    xmlRelaxNGFreeValidCtxt(vc);
    total += vs.count;
    if (rc == 0) break;
    if (vs.count == 0) {
      if (total == 0) {
        diag_report(d, TSHOOT_ERRSEV, src->name, 0, 0, CODE_SCHEMA,
                    rc < 0 ? "schema validation failed (internal error)"
                           : "the document does not match the KB schema");
        total = 1;
        src->bad_unplaced = 1;
      }
      break;
    }
    /* set aside the first item this round reported on, and go again */
    for (b = first_bad; b < src->n_bad && !top; b++) top = top_item(root, src->bad[b]);
    if (!top || round + 1 == MAX_ROUNDS || put_aside(&aside, &n_aside, &cap_aside, top) < 0) break;
  }
  for (i = n_aside; i-- > 0; ) {
    set_aside *a = &aside[i];
    if (a->prev) xmlAddNextSibling(a->prev, a->node);
    else if (a->parent->children) xmlAddPrevSibling(a->parent->children, a->node);
    else xmlAddChild(a->parent, a->node);
  }
  ts_free(aside);
  return rc < 0 && total == 0 ? -1 : total;
}
