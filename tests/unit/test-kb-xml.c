/*
** test-kb-xml.c: engine/kb_xml.c, reading KB sources safely.
**
** Every hostile input asserts the exact refusal: the diagnostic code and its
** line:col, not just a failure.
*/
#include "tshoot_int.h"
#include "kb_xml.h"
#include "test.h"

#include <libxml/parser.h>
#include <libxml/globals.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

/* ===== collected diagnostics ===== */

#define MAX_DIAGS 64
typedef struct diag_rec {
  char code[16];
  int line, column;
  char msg[1024];
} diag_rec;

typedef struct diags {
  diag_rec r[MAX_DIAGS];
  int n;       /* recorded (up to MAX_DIAGS) */
  int total;   /* reported */
} diags;

static void collect(const tshoot_diagnostic *dg, void *payload)
{
  diags *ds = payload;
  ds->total++;
  if (ds->n < MAX_DIAGS) {
    diag_rec *r = &ds->r[ds->n++];
    snprintf(r->code, sizeof r->code, "%s", dg->code);
    r->line = dg->line;
    r->column = dg->column;
    snprintf(r->msg, sizeof r->msg, "%s", dg->message);
  }
}

static void sink_init(diag_sink *d, diags *ds)
{
  memset(d, 0, sizeof *d);
  memset(ds, 0, sizeof *ds);
  d->cb = collect;
  d->payload = ds;
}

static void dump(const diags *ds)
{
  int i;
  for (i = 0; i < ds->n; i++)
    fprintf(stderr, "  diag %s %d:%d %s\n", ds->r[i].code, ds->r[i].line,
            ds->r[i].column, ds->r[i].msg);
}

/* Is there a diagnostic with this code at line:col whose message contains
** `part`? (column 0: any column) */
static int has_diag(const diags *ds, const char *code, int line, int col, const char *part)
{
  int i;
  for (i = 0; i < ds->n; i++) {
    const diag_rec *r = &ds->r[i];
    if (strcmp(r->code, code) == 0 && r->line == line && (col == 0 || r->column == col) &&
        (!part || strstr(r->msg, part)))
      return 1;
  }
  dump(ds);
  return 0;
}

static int any_diag_contains(const diags *ds, const char *part)
{
  int i;
  for (i = 0; i < ds->n; i++)
    if (strstr(ds->r[i].msg, part)) return 1;
  return 0;
}

/* ===== helpers ===== */

static char *dup_buf(const char *s, size_t n)
{
  char *b = ts_malloc(n + 1);
  if (!b) abort();
  memcpy(b, s, n);
  b[n] = '\0';
  return b;
}

static int parse_n(kbxml_source *src, const char *s, size_t n, diag_sink *d)
{
  return kbxml_parse(src, "test.xml", dup_buf(s, n), n, d);
}

static int parse_s(kbxml_source *src, const char *s, diag_sink *d)
{
  return parse_n(src, s, strlen(s), d);
}

static int parse_fixture(kbxml_source *src, const char *file, diag_sink *d)
{
  char path[1024];
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char *buf = NULL;
  size_t len = 0;
  int rc;
  snprintf(path, sizeof path, "%s/tests/data/xml/%s", root ? root : ".", file);
  rc = ts_read_file(&buf, &len, path, 16u << 20);
  if (rc != TSHOOT_OK) {
    fprintf(stderr, "cannot read fixture %s\n", path);
    return rc;
  }
  return kbxml_parse(src, file, buf, len, d);
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Depth-first search for the first element named `name`. */
static xmlNode *find_el(xmlNode *n, const char *name)
{
  for (; n; n = n->next) {
    xmlNode *r;
    if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) return n;
    if ((r = find_el(n->children, name)) != NULL) return r;
  }
  return NULL;
}

/* Does any text or attribute in the tree contain `s`? */
static int tree_contains(xmlNode *n, const char *s)
{
  for (; n; n = n->next) {
    xmlAttr *a;
    if (n->content && strstr((const char *)n->content, s)) return 1;
    if (n->type == XML_ELEMENT_NODE)
      for (a = n->properties; a; a = a->next)
        if (tree_contains(a->children, s)) return 1;
    if (tree_contains(n->children, s)) return 1;
  }
  return 0;
}

#define KB_OPEN "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">"

/* ===== tests ===== */

static void test_kbxml__valid_minimal_kb(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  xmlNode *title;
  char *t;

  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "valid-minimal.xml", &d), TSHOOT_OK);
  CHECK(src.doc != NULL);
  CHECK_INT(kbxml_validate(&src, &d), 0);
  CHECK_INT(ds.total, 0);
  if (ds.total) dump(&ds);
  title = src.doc ? find_el(xmlDocGetRootElement(src.doc), "title") : NULL;
  CHECK(title != NULL);
  t = kbxml_text(title);
  CHECK_STR(t, "Printer shows \"offline\"");
  ts_free(t);
  kbxml_source_free(&src);

  /* the smallest valid KB, and an encoding declaration in lower case */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, "<?xml version='1.0' encoding='utf-8'?>\n"
                          "<kb xmlns=\"urn:tshoot:kb:1\" id=\"k\"/>", &d), TSHOOT_OK);
  CHECK_INT(kbxml_validate(&src, &d), 0);
  CHECK_INT(ds.total, 0);
  kbxml_source_free(&src);

  /* a UTF-8 byte order mark is fine */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, "\xEF\xBB\xBF<kb xmlns=\"urn:tshoot:kb:1\" id=\"k\"/>", &d),
            TSHOOT_OK);
  CHECK_INT(kbxml_validate(&src, &d), 0);
  if (src.doc) {                 /* columns count bytes, the BOM included */
    int line, col;
    kbxml_locate(&src, xmlDocGetRootElement(src.doc), "id", &line, &col);
    CHECK_INT(line, 1); CHECK_INT(col, 32);
  }
  kbxml_source_free(&src);
}

static void test_kbxml__billion_laughs_refused_quickly(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  double t0 = now_s();

  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "billion-laughs.xml", &d), TSHOOT_ESOURCE);
  CHECK(now_s() - t0 < 0.5);
  CHECK(src.doc == NULL);
  CHECK_INT(ds.total, 1);
  CHECK(has_diag(&ds, "TSH-E001", 2, 1,
                 "DOCTYPE is not allowed in KB sources; remove it (entities are not supported)"));
  kbxml_source_free(&src);
}

static void test_kbxml__external_file_entity_refused(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;

  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "xxe-file.xml", &d), TSHOOT_ESOURCE);
  CHECK(src.doc == NULL);
  CHECK_INT(ds.total, 1);
  CHECK(has_diag(&ds, "TSH-E001", 2, 1, "DOCTYPE is not allowed"));
  CHECK(!any_diag_contains(&ds, "root:"));
  kbxml_source_free(&src);

  /* no DOCTYPE, just a reference: an undeclared entity, refused */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "\n<article id=\"a\"><title>&xxe;</title></article></kb>", &d),
            TSHOOT_ESOURCE);
  CHECK(src.doc == NULL);
  CHECK(has_diag(&ds, "TSH-E001", 2, 0, "xxe"));
  kbxml_source_free(&src);
}

static void test_kbxml__parameter_entities_refused(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;

  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "xxe-parameter.xml", &d), TSHOOT_ESOURCE);
  CHECK(src.doc == NULL);
  CHECK_INT(ds.total, 1);
  CHECK(has_diag(&ds, "TSH-E001", 2, 3, "DOCTYPE is not allowed"));
  kbxml_source_free(&src);

  /* a parameter entity reference outside a DTD is just text */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "%file;</kb>", &d), TSHOOT_OK);
  kbxml_source_free(&src);
}

static void test_kbxml__doctype_in_comment_cdata_pi_is_text(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  xmlNode *title;
  char *t;

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src,
    "<?xml version=\"1.0\"?>\n"
    "<!-- <!DOCTYPE x [ <!ENTITY a 'b'> ]> <a b='1' c='2'> -->\n"
    "<?pi <!DOCTYPE nope> ?>\n"
    KB_OPEN "<article id=\"a\"><title><![CDATA[<!DOCTYPE y> & <tag>]]></title>"
    "<cause id=\"c\"><title>x</title><explanation>y</explanation></cause></article></kb>",
    &d), TSHOOT_OK);
  CHECK_INT(ds.total, 0);
  title = src.doc ? find_el(xmlDocGetRootElement(src.doc), "title") : NULL;
  t = kbxml_text(title);
  CHECK_STR(t, "<!DOCTYPE y> & <tag>");
  ts_free(t);
  CHECK_INT(kbxml_validate(&src, &d), 0);
  kbxml_source_free(&src);

  /* a DOCTYPE after a comment is still found */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, "<!-- c -->\n\n   <!DOCTYPE kb SYSTEM \"kb.dtd\">\n" KB_OPEN "</kb>", &d),
            TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 3, 4, "DOCTYPE is not allowed"));
  kbxml_source_free(&src);
}

static void test_kbxml__xinclude_is_unknown_element(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;

  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "xinclude.xml", &d), TSHOOT_OK);
  CHECK_INT(ds.total, 0);
  CHECK(src.doc && !tree_contains(src.doc->children, "root:"));
  CHECK_INT(kbxml_validate(&src, &d), 1);
  CHECK(has_diag(&ds, "TSH-E002", 3, 3, "include"));
  CHECK(src.doc && !tree_contains(src.doc->children, "root:"));
  kbxml_source_free(&src);
}

static void test_kbxml__utf7_refused(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;

  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "utf7.xml", &d), TSHOOT_ESOURCE);
  CHECK(src.doc == NULL);
  CHECK_INT(ds.total, 1);
  CHECK(has_diag(&ds, "TSH-E001", 1, 21,
                 "encoding 'UTF-7' is not supported: KB sources must be UTF-8"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, "<?xml version='1.0'\n   encoding = \"iso-8859-1\" ?>" KB_OPEN "</kb>",
                    &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 2, 4, "encoding 'iso-8859-1' is not supported"));
  kbxml_source_free(&src);
}

static void test_kbxml__utf16_refused(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  static const char le[] = "\xFF\xFE<\0k\0b\0/\0>\0";
  static const char be[] = "\xFE\xFF\0<\0k\0b\0/\0>";
  static const char nobom[] = "<\0?\0x\0m\0l\0";

  sink_init(&d, &ds);
  CHECK_INT(parse_n(&src, le, sizeof le - 1, &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 1, "UTF-16 byte order mark"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_n(&src, be, sizeof be - 1, &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 1, "UTF-16 byte order mark"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_n(&src, "\xFF\xFE\0\0<\0\0\0", 8, &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 1, "UTF-32 byte order mark"));
  kbxml_source_free(&src);

  /* UTF-16 without a byte order mark: a NUL byte */
  sink_init(&d, &ds);
  CHECK_INT(parse_n(&src, nobom, sizeof nobom - 1, &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 2, "NUL byte"));
  kbxml_source_free(&src);
}

static void test_kbxml__invalid_utf8_located(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  static const struct { const char *bad; } cases[] = {
    { "\xC3\x28" },          /* lead byte without continuation */
    { "\x80" },              /* stray continuation */
    { "\xC0\xAF" },          /* overlong '/' */
    { "\xE0\x80\xAF" },      /* overlong */
    { "\xED\xA0\x80" },      /* surrogate */
    { "\xF4\x90\x80\x80" },  /* past U+10FFFF */
    { "\xFF" },
  };
  size_t i;

  for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
    char doc[200];
    snprintf(doc, sizeof doc, KB_OPEN "\n<article id=\"a\">\n  <title>caf%s</title></article></kb>",
             cases[i].bad);
    /* reported once at its first byte (TSH-E007), replaced by '?': the rest
    ** of the file is still parsed, so that one run reports every problem */
    sink_init(&d, &ds);
    CHECK_INT(parse_s(&src, doc, &d), TSHOOT_OK);
    CHECK(src.doc != NULL);
    CHECK_INT(ds.total, 1);
    CHECK(has_diag(&ds, "TSH-E007", 3, 13, "invalid UTF-8: byte"));
    if (src.doc) {
      char *t = kbxml_text(find_el(xmlDocGetRootElement(src.doc), "title"));
      const char *c = t;
      CHECK(t && strncmp(t, "caf?", 4) == 0);
      while (c && *c && (unsigned char)*c < 0x80) c++;
      CHECK(c && *c == '\0');   /* what was not UTF-8 is now '?' */
      ts_free(t);
    }
    kbxml_source_free(&src);
  }
  /* truncated at the very end */
  sink_init(&d, &ds);
  parse_s(&src, KB_OPEN "</kb>\xE2\x82", &d);
  CHECK(has_diag(&ds, "TSH-E007", 1, 41, "invalid UTF-8: bytes 0xE2 0x82;"));
  kbxml_source_free(&src);

  /* a file saved as Latin-1: the first ten places, then how many more */
  {
    char doc[600];
    int m = snprintf(doc, sizeof doc, KB_OPEN "<article id=\"a\"><title>");
    for (i = 0; i < 15; i++) m += snprintf(doc + m, sizeof doc - (size_t)m, "caf\xE9 ");
    snprintf(doc + m, sizeof doc - (size_t)m, "</title></article></kb>");
    sink_init(&d, &ds);
    CHECK_INT(parse_s(&src, doc, &d), TSHOOT_OK);
    CHECK_INT(ds.total, 11);
    CHECK(has_diag(&ds, "TSH-E007", 1, 132, "5 more places with invalid UTF-8 in this file"));
    kbxml_source_free(&src);
  }

  /* valid multi-byte text is fine and kept as is */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "<article id=\"a\"><title>caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"
                          "</title></article></kb>", &d), TSHOOT_OK);
  if (src.doc) {
    char *t = kbxml_text(find_el(xmlDocGetRootElement(src.doc), "title"));
    CHECK_STR(t, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    ts_free(t);
  }
  kbxml_source_free(&src);
}

static void test_kbxml__too_many_attributes_refused_fast(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  ts_buf b = TS_BUF_INIT;
  double t0, dt;
  int i;
  size_t len;

  ts_buf_adds(&b, KB_OPEN "\n  <article id=\"a\"\n     ");
  for (i = 0; i < 100000; i++) ts_buf_addf(&b, " a%d=\"x\"", i);
  ts_buf_adds(&b, "/></kb>");
  CHECK(!b.oom);
  len = b.len;
  sink_init(&d, &ds);
  t0 = now_s();
  CHECK_INT(kbxml_parse(&src, "attrs.xml", ts_buf_detach(&b), len, &d), TSHOOT_ESOURCE);
  dt = now_s() - t0;
  CHECK(dt < 0.25);     /* libxml2 itself takes ~17 s on this */
  CHECK(src.doc == NULL);
  CHECK_INT(ds.total, 1);
  CHECK(has_diag(&ds, "TSH-E001", 2, 3, "element 'article' has more than 32 attributes"));
  kbxml_source_free(&src);

  /* the limit itself: 32 pass (quotes with '>' and "/>" inside, attributes
  ** in a comment do not count), 33 do not */
  {
    ts_buf c = TS_BUF_INIT;
    int k;
    ts_buf_adds(&c, "<!-- <x");
    for (k = 0; k < 100; k++) ts_buf_addf(&c, " c%d='1'", k);
    ts_buf_adds(&c, "> -->\n" KB_OPEN "<x");
    for (k = 0; k < 16; k++) ts_buf_addf(&c, " a%d='>'\n b%d = \"/> q='1' >\"", k, k);
    ts_buf_adds(&c, "/></kb>");
    len = c.len;
    sink_init(&d, &ds);
    CHECK_INT(kbxml_parse(&src, "t.xml", ts_buf_detach(&c), len, &d), TSHOOT_OK);
    CHECK_INT(ds.total, 0);
    if (ds.total) dump(&ds);
    kbxml_source_free(&src);
  }
  {
    ts_buf c = TS_BUF_INIT;
    int k;
    ts_buf_adds(&c, KB_OPEN "\n<x");
    for (k = 0; k < 33; k++) ts_buf_addf(&c, " a%d='>'", k);
    ts_buf_adds(&c, "/></kb>");
    len = c.len;
    sink_init(&d, &ds);
    CHECK_INT(kbxml_parse(&src, "t.xml", ts_buf_detach(&c), len, &d), TSHOOT_ESOURCE);
    CHECK(has_diag(&ds, "TSH-E001", 2, 1, "element 'x' has more than 32 attributes"));
    kbxml_source_free(&src);
  }
}

static void test_kbxml__nesting_depth_limited(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  int depth;

  for (depth = 64; depth <= 65; depth++) {
    ts_buf b = TS_BUF_INIT;
    int i;
    size_t len;
    ts_buf_adds(&b, KB_OPEN "\n");           /* depth 1 */
    for (i = 2; i <= depth; i++) ts_buf_adds(&b, i % 8 == 0 ? "<and>\n" : "<and>");
    for (i = 2; i <= depth; i++) ts_buf_adds(&b, "</and>");
    ts_buf_adds(&b, "</kb>");
    len = b.len;
    sink_init(&d, &ds);
    if (depth == 64) {
      CHECK_INT(kbxml_parse(&src, "deep.xml", ts_buf_detach(&b), len, &d), TSHOOT_OK);
      CHECK_INT(ds.total, 0);
    } else {
      /* elements 2..7 on line 2, each '\n' after element 8k: element 65
      ** is on line 2 + 64/8 = 10, the first on that line */
      CHECK_INT(kbxml_parse(&src, "deep.xml", ts_buf_detach(&b), len, &d), TSHOOT_ESOURCE);
      CHECK(src.doc == NULL);
      CHECK_INT(ds.total, 1);
      CHECK(has_diag(&ds, "TSH-E001", 10, 1, "elements nested deeper than 64"));
    }
    kbxml_source_free(&src);
  }

  /* very deep nesting stops at the limit, quickly */
  {
    ts_buf b = TS_BUF_INIT;
    int i;
    size_t len;
    double t0;
    for (i = 0; i < 100000; i++) ts_buf_adds(&b, "<a>");
    len = b.len;
    sink_init(&d, &ds);
    t0 = now_s();
    CHECK_INT(kbxml_parse(&src, "deep.xml", ts_buf_detach(&b), len, &d), TSHOOT_ESOURCE);
    CHECK(now_s() - t0 < 0.5);
    CHECK(has_diag(&ds, "TSH-E001", 1, 193, "elements nested deeper than 64"));
    kbxml_source_free(&src);
  }
}

static void test_kbxml__large_text_node_fine(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  ts_buf b = TS_BUF_INIT;
  size_t len, i;
  char *t;

  ts_buf_adds(&b, KB_OPEN "<article id=\"a\"><title>");
  for (i = 0; i < 1024 * 1024 / 8; i++) ts_buf_add(&b, "abc def ", 8);
  ts_buf_adds(&b, "</title><cause id=\"c\"><title>x</title><explanation>y</explanation>"
                  "</cause></article></kb>");
  len = b.len;
  sink_init(&d, &ds);
  CHECK_INT(kbxml_parse(&src, "big.xml", ts_buf_detach(&b), len, &d), TSHOOT_OK);
  CHECK_INT(ds.total, 0);
  t = src.doc ? kbxml_text(find_el(xmlDocGetRootElement(src.doc), "title")) : NULL;
  CHECK(t != NULL);
  CHECK_INT(t ? strlen(t) : 0, 1024 * 1024 - 1);   /* trailing space trimmed */
  ts_free(t);
  CHECK_INT(kbxml_validate(&src, &d), 0);
  kbxml_source_free(&src);
}

static void test_kbxml__predefined_entities_and_char_refs(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  xmlNode *title, *sym;
  char *t;

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "<article id=\"a\"><title>a &amp; b &lt; c &gt; "
                    "&quot;d&quot; &apos;e&apos; &#x41;&#66;&#x20AC;</title>"
                    "<symptoms><symptom causes=\"c\" id=\"s\">x</symptom>"
                    "<error code=\"E&amp;&lt;&#x41;&quot;\">y</error></symptoms>"
                    "<cause id=\"c\"><title>x</title><explanation>y</explanation></cause>"
                    "</article></kb>", &d), TSHOOT_OK);
  CHECK_INT(ds.total, 0);
  if (src.doc) {
    title = find_el(xmlDocGetRootElement(src.doc), "title");
    t = kbxml_text(title);
    CHECK_STR(t, "a & b < c > \"d\" 'e' AB\xE2\x82\xAC");
    ts_free(t);
    sym = find_el(xmlDocGetRootElement(src.doc), "error");
    t = kbxml_attr(sym, "code");
    CHECK_STR(t, "E&<A\"");
    ts_free(t);
    t = kbxml_attr(sym, "missing");
    CHECK(t == NULL);
    CHECK_INT(kbxml_validate(&src, &d), 0);
  }
  kbxml_source_free(&src);
}

static void test_kbxml__whitespace_collapsed(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  char *t;
  xmlNode *title;

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "<article id=\"a\"><title> \n\t a  \r\n b<!-- c -->c "
                    "<![CDATA[  d  ]]>\t</title><summary>   </summary></article></kb>", &d),
            TSHOOT_OK);
  if (src.doc) {
    title = find_el(xmlDocGetRootElement(src.doc), "title");
    t = kbxml_text(title);
    CHECK_STR(t, "a bc d");    /* "b" and "c" are two text nodes: no space between */
    ts_free(t);
    t = kbxml_text(find_el(xmlDocGetRootElement(src.doc), "summary"));
    CHECK_STR(t, "");
    ts_free(t);
    t = kbxml_text(xmlDocGetRootElement(src.doc));
    CHECK_STR(t, "");
    ts_free(t);
    t = kbxml_attr(xmlDocGetRootElement(src.doc), "id");
    CHECK_STR(t, "t");
    ts_free(t);
  }
  kbxml_source_free(&src);
}

static void test_kbxml__locate_elements_and_attributes(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  const char *doc =
    "<?xml version=\"1.0\"?>\n"                                   /* 1 */
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                   /* 2 */
    "  <question id=\"q1\" type=\"yesno\"><prompt>p</prompt></question>"
    "<question id=\"q2\" type=\"yesno\"><prompt>p</prompt></question>\n"   /* 3 */
    "  <article\n"                                                 /* 4 */
    "      id=\"a\"\n"                                            /* 5 */
    "      data-x='id=\"no\"'\n"                                  /* 6 */
    "    ><title>t</title></article>\n"                            /* 7 */
    "</kb>\n";
  xmlNode *root, *q2, *art, *q;
  int line, col;

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc, &d), TSHOOT_OK);
  if (!src.doc) return;
  root = xmlDocGetRootElement(src.doc);
  kbxml_locate(&src, root, NULL, &line, &col);
  CHECK_INT(line, 2); CHECK_INT(col, 1);
  kbxml_locate(&src, root, "id", &line, &col);
  CHECK_INT(line, 2); CHECK_INT(col, 29);

  art = find_el(root, "article");
  kbxml_locate(&src, art, NULL, &line, &col);
  CHECK_INT(line, 4); CHECK_INT(col, 3);
  kbxml_locate(&src, art, "id", &line, &col);
  CHECK_INT(line, 5); CHECK_INT(col, 7);
  kbxml_locate(&src, art, "data-x", &line, &col);
  CHECK_INT(line, 6); CHECK_INT(col, 7);
  kbxml_locate(&src, art, "nothere", &line, &col);      /* falls back to the element */
  CHECK_INT(line, 4); CHECK_INT(col, 3);
  /* an attribute node, and a text node (its element) */
  kbxml_locate(&src, (xmlNode *)art->properties, NULL, &line, &col);
  CHECK_INT(line, 5); CHECK_INT(col, 7);
  kbxml_locate(&src, find_el(art, "title")->children, NULL, &line, &col);
  CHECK_INT(line, 7); CHECK_INT(col, 6);

  /* two elements of the same name on one line */
  q = find_el(root, "question");
  q2 = q ? q->next : NULL;
  CHECK(q2 && q2->type == XML_ELEMENT_NODE);
  kbxml_locate(&src, q, NULL, &line, &col);
  CHECK_INT(line, 3); CHECK_INT(col, 3);
  if (q2) {
    kbxml_locate(&src, q2, "type", &line, &col);
    CHECK_INT(line, 3); CHECK_INT(col, 81);
    /* without the recorded offset, the backwards search from node->line */
    q2->_private = NULL;
    kbxml_locate(&src, q2, NULL, &line, &col);
    CHECK_INT(line, 3); CHECK_INT(col, 63);
    art->_private = NULL;
    kbxml_locate(&src, art, "id", &line, &col);
    CHECK_INT(line, 5); CHECK_INT(col, 7);
  }
  kbxml_source_free(&src);
}

static void test_kbxml__schema_violations_reported(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  int n;
  const char *doc =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                               /* 1 */
    "  <bogus/>\n"                                                          /* 2 */
    "</kb>\n";
  const char *doc2 =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                               /* 1 */
    "  <article id=\"a\">\n"                                                /* 2 */
    "    <title>t</title>\n"                                                /* 3 */
    "    <cause id=\"c\">\n"                                                /* 4 */
    "      <title>x</title>\n"                                              /* 5 */
    "    </cause>\n"                                                        /* 6 */
    "  </article>\n"                                                        /* 7 */
    "</kb>\n";
  const char *doc3 =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                               /* 1 */
    "  <question type=\"yesno\"><prompt>p</prompt></question>\n"            /* 2 */
    "</kb>\n";
  const char *doc4 =
    "<kb xmlns=\"urn:tshoot:kb:1\"\n"                                       /* 1 */
    "    id=\"Bad Id!\">\n"                                                 /* 2 */
    "</kb>\n";
  const char *doc5 =
    "<kb id=\"t\"/>\n";
  const char *doc6 =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                               /* 1 */
    "  <article id=\"a\"\n"                                                  /* 2 */
    "      colour=\"red\"><title>t</title><cause id=\"c\"><title>x</title>"   /* 3 */
    "<explanation>e</explanation></cause></article>\n"
    "</kb>\n";
  const char *doc7 =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">stray\n  words</kb>\n";
  const char *doc8 =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                               /* 1 */
    "  <article id=\"a\"><title>t</title>\n"                                 /* 2 */
    "    <cause id=\"c\"><title>x</title><explanation>e</explanation><frobnicate/>"
    "</cause></article>\n"                                                   /* 3 */
    "</kb>\n";

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 1);
  CHECK_INT(n, ds.total);
  CHECK(has_diag(&ds, "TSH-E002", 2, 3, "element 'bogus' is not allowed in 'kb'"));
  kbxml_source_free(&src);

  /* one missing element: one diagnostic, not libxml2's cascade of five */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc2, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 1);
  CHECK(has_diag(&ds, "TSH-E002", 4, 5, "element 'cause': missing required element 'explanation'"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc3, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 1);
  CHECK(has_diag(&ds, "TSH-E002", 2, 3, "element 'question': missing required attribute 'id'"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc4, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 1);
  CHECK(has_diag(&ds, "TSH-E002", 2, 5, "element 'kb': id 'Bad Id!' is not valid"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc5, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 1);
  CHECK(has_diag(&ds, "TSH-E002", 1, 1, "element 'kb' is not in the KB namespace"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc6, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK(n >= 1);
  CHECK(has_diag(&ds, "TSH-E002", 3, 7, "element 'article': attribute 'colour' is not allowed"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc7, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 1);
  CHECK(has_diag(&ds, "TSH-E002", 1, 1, "element 'kb' must not contain text (found 'stray words')"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc8, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK(n >= 1);
  CHECK(has_diag(&ds, "TSH-E002", 3, 63, "element 'frobnicate' is not allowed in 'cause'"));
  kbxml_source_free(&src);
}

/* libxml2 stops at the first broken top-level item; kbxml_validate sets it
** aside and goes on, so every broken item is reported once, each kept in
** src.bad, and the document is whole again afterwards, in its order. */
static void test_kbxml__every_broken_item_reported_document_restored(void)
{
  diag_sink d;
  diags ds;
  kbxml_source src;
  const xmlNode *root, *k;
  const char *names[8];
  int n, i = 0;
  const char *doc =
    "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\">\n"                                  /* 1 */
    "  <question id=\"q1\"><prompt>p</prompt></question>\n"                      /* 2 */
    "  <fact id=\"f1\"><when><known question=\"q1\"/></when></fact>\n"           /* 3 */
    "  <bogus/>\n"                                                               /* 4 */
    "  <article id=\"a\"><title>t</title><cause id=\"c\"><title>x</title>"
    "<explanation>e</explanation><frob/></cause></article>\n"                    /* 5 */
    "  <test id=\"t1\" expect-cause=\"c\"><text>x</text></test>\n"                /* 6 */
    "</kb>\n";

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, doc, &d), TSHOOT_OK);
  n = kbxml_validate(&src, &d);
  CHECK_INT(n, 3);
  CHECK_INT(n, ds.total);
  CHECK(has_diag(&ds, "TSH-E002", 2, 3, "element 'question': missing required attribute 'type'"));
  CHECK(has_diag(&ds, "TSH-E002", 4, 3, "element 'bogus' is not allowed in 'kb'"));
  CHECK(has_diag(&ds, "TSH-E002", 5, 93, "element 'frob' is not allowed in 'cause'"));
  root = xmlDocGetRootElement(src.doc);
  for (k = root->children; k && i < 8; k = k->next)
    if (k->type == XML_ELEMENT_NODE) names[i++] = (const char *)k->name;
  CHECK_INT(i, 5);
  CHECK(i == 5 && !strcmp(names[0], "question") && !strcmp(names[1], "fact") &&
        !strcmp(names[2], "bogus") && !strcmp(names[3], "article") && !strcmp(names[4], "test"));
  for (k = root->children; k; k = k->next)
    if (k->type == XML_ELEMENT_NODE)
      CHECK_INT(kbxml_has_bad(&src, k), !strcmp((const char *)k->name, "question") ||
                                        !strcmp((const char *)k->name, "bogus") ||
                                        !strcmp((const char *)k->name, "article"));
  /* validating again gives the same */
  sink_init(&d, &ds);
  CHECK_INT(kbxml_validate(&src, &d), 3);
  kbxml_source_free(&src);

  /* more broken items than one would set aside in a fixed array: all told,
  ** 100 missing types and 80 unknown elements, and nothing else */
  {
    ts_buf b = TS_BUF_INIT;
    int j;
    ts_buf_adds(&b, "<kb xmlns=\"urn:tshoot:kb:1\" id=\"m\">\n");
    for (j = 0; j < 100; j++) ts_buf_addf(&b, "<question id=\"q%d\"><prompt>p</prompt></question>\n", j);
    for (j = 0; j < 80; j++)
      ts_buf_addf(&b, "<article id=\"a%d\"><title>t</title><cause id=\"c%d\"><title>x</title>"
                  "<explanation>e</explanation><frob/></cause></article>\n", j, j);
    ts_buf_adds(&b, "</kb>\n");
    CHECK(b.p != NULL);
    sink_init(&d, &ds);
    CHECK_INT(parse_s(&src, b.p, &d), TSHOOT_OK);
    CHECK_INT(kbxml_validate(&src, &d), 180);
    CHECK_INT(ds.total, 180);
    kbxml_source_free(&src);
    ts_buf_free(&b);
  }
}

static void test_kbxml__not_well_formed_located(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "\n  <article id=\"a\">\n  </artikel>\n</kb>", &d),
            TSHOOT_ESOURCE);
  CHECK(src.doc == NULL);
  CHECK(ds.total >= 1);
  CHECK(has_diag(&ds, "TSH-E001", 3, 0, "artikel"));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, "", &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 1, NULL));
  kbxml_source_free(&src);

  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "</kb><kb/>", &d), TSHOOT_ESOURCE);
  CHECK(ds.total >= 1 && strcmp(ds.r[0].code, "TSH-E001") == 0 && ds.r[0].line == 1);
  kbxml_source_free(&src);

  /* duplicate attributes are caught by libxml2 */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, "<kb xmlns=\"urn:tshoot:kb:1\" id=\"t\" id=\"u\"/>", &d),
            TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 0, "id"));
  kbxml_source_free(&src);
}

/* An entity loader that records being called: nothing may be loaded. */
static int loader_calls;
static xmlParserInputPtr spy_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
  loader_calls++;
  return NULL;
}

static void test_kbxml__hostile_global_defaults(void)
{
  kbxml_source src;
  diag_sink d;
  diags ds;
  char secret_path[] = "/tmp/tshoot-kbxml-secret-XXXXXX";
  const char *secret = "SECRET-7d1c2f0b";
  char doc[1024];
  int fd, old_subst, old_blanks, old_load, old_pedantic, old_valid;
  xmlExternalEntityLoader old_loader = xmlGetExternalEntityLoader();
  xmlNode *root;
  char *t;
  double t0;

  fd = mkstemp(secret_path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  CHECK(write(fd, secret, strlen(secret)) == (ssize_t)strlen(secret));
  close(fd);

  old_subst = xmlSubstituteEntitiesDefault(1);
  old_load = xmlLoadExtDtdDefaultValue;
  xmlLoadExtDtdDefaultValue = XML_DETECT_IDS | XML_COMPLETE_ATTRS;
  old_blanks = xmlKeepBlanksDefault(0);
  old_pedantic = xmlPedanticParserDefault(1);
  old_valid = xmlDoValidityCheckingDefaultValue;
  xmlDoValidityCheckingDefaultValue = 1;
  xmlSetExternalEntityLoader(spy_loader);
  loader_calls = 0;

  /* an external general entity naming the secret file */
  sink_init(&d, &ds);
  snprintf(doc, sizeof doc,
           "<?xml version=\"1.0\"?>\n<!DOCTYPE kb [ <!ENTITY s SYSTEM \"file://%s\"> ]>\n"
           KB_OPEN "<article id=\"a\"><title>&s;</title></article></kb>", secret_path);
  CHECK_INT(parse_s(&src, doc, &d), TSHOOT_ESOURCE);
  CHECK(src.doc == NULL);
  CHECK_INT(ds.total, 1);
  CHECK(has_diag(&ds, "TSH-E001", 2, 1, "DOCTYPE is not allowed"));
  CHECK(!any_diag_contains(&ds, secret));
  kbxml_source_free(&src);

  /* an external DTD */
  sink_init(&d, &ds);
  snprintf(doc, sizeof doc, "<!DOCTYPE kb SYSTEM \"file://%s\">" KB_OPEN "</kb>", secret_path);
  CHECK_INT(parse_s(&src, doc, &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 1, "DOCTYPE is not allowed"));
  CHECK(!any_diag_contains(&ds, secret));
  kbxml_source_free(&src);

  /* parameter entities */
  sink_init(&d, &ds);
  snprintf(doc, sizeof doc, "<!DOCTYPE kb [ <!ENTITY %% p SYSTEM \"file://%s\"> %%p; ]>"
           KB_OPEN "</kb>", secret_path);
  CHECK_INT(parse_s(&src, doc, &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 1, "DOCTYPE is not allowed"));
  kbxml_source_free(&src);

  /* billion laughs */
  sink_init(&d, &ds);
  t0 = now_s();
  CHECK_INT(parse_fixture(&src, "billion-laughs.xml", &d), TSHOOT_ESOURCE);
  CHECK(now_s() - t0 < 0.5);
  CHECK(has_diag(&ds, "TSH-E001", 2, 1, "DOCTYPE is not allowed"));
  kbxml_source_free(&src);

  /* UTF-7 */
  sink_init(&d, &ds);
  CHECK_INT(parse_fixture(&src, "utf7.xml", &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 21, "encoding 'UTF-7' is not supported"));
  kbxml_source_free(&src);

  /* an undeclared entity */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "&s;</kb>", &d), TSHOOT_ESOURCE);
  CHECK(has_diag(&ds, "TSH-E001", 1, 0, "'s'"));
  kbxml_source_free(&src);

  CHECK_INT(loader_calls, 0);

  /* and a good file reads as it does with the normal defaults: blanks kept,
  ** predefined entities decoded, no validity warnings, schema valid */
  sink_init(&d, &ds);
  CHECK_INT(parse_s(&src, KB_OPEN "\n  <article id=\"a\"><title>x &amp; &#x41;</title>"
                    "<cause id=\"c\"><title>x</title><explanation>y</explanation></cause>"
                    "</article>\n</kb>", &d), TSHOOT_OK);
  CHECK_INT(ds.total, 0);
  if (src.doc) {
    root = xmlDocGetRootElement(src.doc);
    CHECK(root->children && root->children->type == XML_TEXT_NODE);
    t = kbxml_text(find_el(root, "title"));
    CHECK_STR(t, "x & A");
    ts_free(t);
    CHECK_INT(kbxml_validate(&src, &d), 0);
  }
  kbxml_source_free(&src);
  CHECK_INT(loader_calls, 0);

  xmlSetExternalEntityLoader(old_loader);
  xmlSubstituteEntitiesDefault(old_subst);
  xmlLoadExtDtdDefaultValue = old_load;
  xmlKeepBlanksDefault(old_blanks);
  xmlPedanticParserDefault(old_pedantic);
  xmlDoValidityCheckingDefaultValue = old_valid;
  unlink(secret_path);
}

/* Several threads validating at once share the one compiled schema. */
static void *validate_thread(void *arg)
{
  int i, *bad = arg;
  for (i = 0; i < 20; i++) {
    kbxml_source src;
    diag_sink d;
    diags ds;
    sink_init(&d, &ds);
    if (parse_fixture(&src, "valid-minimal.xml", &d) != TSHOOT_OK ||
        kbxml_validate(&src, &d) != 0)
      (*bad)++;
    kbxml_source_free(&src);
    sink_init(&d, &ds);
    if (parse_s(&src, KB_OPEN "<bogus/></kb>", &d) != TSHOOT_OK ||
        kbxml_validate(&src, &d) < 1)
      (*bad)++;
    kbxml_source_free(&src);
  }
  return NULL;
}

static void test_kbxml__validate_from_threads(void)
{
  pthread_t th[4];
  int bad[4] = { 0, 0, 0, 0 };
  int i;
  for (i = 0; i < 4; i++) CHECK_INT(pthread_create(&th[i], NULL, validate_thread, &bad[i]), 0);
  for (i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(bad[i], 0);
  }
}

static void test_kbxml__out_of_memory(void)
{
  long n;
  int ok_seen = 0;
  for (n = 0; n < 200 && !ok_seen; n++) {
    kbxml_source src;
    diag_sink d;
    diags ds;
    char *buf;
    int rc;
    sink_init(&d, &ds);
    buf = dup_buf(KB_OPEN "\n<article id=\"a\"><title>a &amp;  b</title></article></kb>",
                  strlen(KB_OPEN "\n<article id=\"a\"><title>a &amp;  b</title></article></kb>"));
    ts_alloc_fail_after(n);
    rc = kbxml_parse(&src, "oom.xml", buf,
                     strlen(buf), &d);
    if (rc == TSHOOT_OK) {
      int line, col;
      char *t;
      kbxml_locate(&src, find_el(xmlDocGetRootElement(src.doc), "article"), "id", &line, &col);
      t = kbxml_text(find_el(xmlDocGetRootElement(src.doc), "title"));
      if (t) { CHECK_STR(t, "a & b"); ok_seen = n > 3; }
      ts_free(t);
    } else {
      CHECK(rc == TSHOOT_ENOMEM || rc == TSHOOT_ESOURCE);
    }
    ts_alloc_fail_after(-1);
    kbxml_source_free(&src);
  }
  CHECK(ok_seen);
}

int main(void)
{
  RUN(test_kbxml__valid_minimal_kb);
  RUN(test_kbxml__billion_laughs_refused_quickly);
  RUN(test_kbxml__external_file_entity_refused);
  RUN(test_kbxml__parameter_entities_refused);
  RUN(test_kbxml__doctype_in_comment_cdata_pi_is_text);
  RUN(test_kbxml__xinclude_is_unknown_element);
  RUN(test_kbxml__utf7_refused);
  RUN(test_kbxml__utf16_refused);
  RUN(test_kbxml__invalid_utf8_located);
  RUN(test_kbxml__too_many_attributes_refused_fast);
  RUN(test_kbxml__nesting_depth_limited);
  RUN(test_kbxml__large_text_node_fine);
  RUN(test_kbxml__predefined_entities_and_char_refs);
  RUN(test_kbxml__whitespace_collapsed);
  RUN(test_kbxml__locate_elements_and_attributes);
  RUN(test_kbxml__schema_violations_reported);
  RUN(test_kbxml__every_broken_item_reported_document_restored);
  RUN(test_kbxml__not_well_formed_located);
  RUN(test_kbxml__validate_from_threads);
  RUN(test_kbxml__out_of_memory);
  RUN(test_kbxml__hostile_global_defaults);
  TEST_EXIT();
}
