/*
** test-kb-shape.c: engine/kb_xml_shape.c, the fast proof that a source
** matches the schema, against libxml2's RELAX NG validator.
**
** kbxml_validate skips libxml2's validator for a document kbxml_shape_ok
** accepts, so the check must be sound: never 1 for a document libxml2
** rejects. Here every valid KB source of the repository (kb/kerio, the valid
** files under tests/data, the corpora bench/synth.c and bench/session-synth.c
** write, and every_element below, which together use every element and
** attribute of the format) must take the fast path, and from their
** items many mutated documents are made in memory (elements removed,
** duplicated, moved, renamed to every other element of the format, put in
** another namespace; attributes removed, added, set to odd values; text
** emptied, blanked or given elements, comments, CDATA; text, white space
** and foreign elements put into element-only content...): for each, shape
** 1 must imply that libxml2, with the embedded schema kbxml_validate uses,
** accepts it. Both sides must accept many of them. With SHAPE_MISSES=1 in
** the environment the mutations libxml2 accepts and the check leaves to it
** are listed (its incompleteness: white space in ids, comments in text...).
*/
#include "tshoot_int.h"
#include "kb_xml.h"
#include "test.h"
#include "synth.h"
#include "session-synth.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>

static xmlRelaxNGPtr schema;
static char tmpdir[256];

/* ===== libxml2, the reference ===== */

static void quiet(void *ctx, xmlErrorPtr err)
{
  (void)ctx; (void)err;
}

static int rng_ok(xmlDoc *doc)
{
  xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
  int rc;
  if (!vc) abort();
  xmlRelaxNGSetValidStructuredErrors(vc, quiet, NULL);
  rc = xmlRelaxNGValidateDoc(vc, doc);
  xmlRelaxNGFreeValidCtxt(vc);
  return rc == 0;
}

static void ignore_diag(const tshoot_diagnostic *dg, void *payload)
{
  (void)dg; (void)payload;
}

/* ===== the valid sources ===== */

#define MAX_SOURCES 256

typedef struct source {
  char name[1100];
  kbxml_source src;
} source;

static source sources[MAX_SOURCES];
static size_t n_sources;

/* Parse buf[0..len) (taken over) as source `name`; keep it if libxml2 finds
** it valid. Returns 1 if kept. */
static int add_buf(const char *name, char *buf, size_t len)
{
  diag_sink d;
  source *s;

  if (n_sources == MAX_SOURCES) { ts_free(buf); return 0; }
  s = &sources[n_sources];
  memset(&d, 0, sizeof d);
  d.cb = ignore_diag;
  snprintf(s->name, sizeof s->name, "%s", name);
  if (kbxml_parse(&s->src, s->name, buf, len, &d) != TSHOOT_OK || d.errors ||
      !s->src.doc || !rng_ok(s->src.doc)) {
    kbxml_source_free(&s->src);
    return 0;
  }
  n_sources++;
  return 1;
}

static int add_source(const char *path)
{
  char *buf = NULL;
  size_t len = 0;
  if (ts_read_file(&buf, &len, path, 16u << 20) != TSHOOT_OK) return 0;
  return add_buf(path, buf, len);
}

/* Every element and attribute of the format at least once, for those the
** sources of the repository do not use (not, le, known, ...). */
static const char every_element[] =
  "<?xml version=\"1.0\"?>\n"
  "<kb xmlns=\"urn:tshoot:kb:1\" id=\"every\" title=\"Every element\" lang=\"en-GB\">\n"
  " <synonyms><group><term>a</term><term>b</term></group></synonyms>\n"
  " <question id=\"q\" type=\"number\" cost=\"1\" probe=\"probes/q.lua\" unit=\"GB\">\n"
  "  <prompt>How much?</prompt><why>Because.</why><choice value=\"c1\">One</choice>\n"
  "  <ask-when><known question=\"r\"/></ask-when><phrase value=\"c1\">one</phrase><note>n</note>\n"
  " </question>\n"
  " <fact id=\"f\"><description>d</description>\n"
  "  <when><and><not><le question=\"q\" value=\"3\"/></not><ne question=\"q\" value=\"1\"/></and></when>\n"
  "  <when><or><lt question=\"q\" value=\"1\"/><gt question=\"q\" value=\"9\"/>"
  "<ge question=\"q\" value=\"9\"/><eq question=\"q\" value=\"2\"/>"
  "<in question=\"r\" values=\"a b\"/><holds fact=\"g\"/></or></when><note>n</note>\n"
  " </fact>\n"
  " <article id=\"a\"><title>T</title><summary>S</summary>\n"
  "  <symptoms><symptom id=\"s\" causes=\"c d\">s</symptom><error id=\"e\" code=\"0x1\" causes=\"c\">e</error></symptoms>\n"
  "  <alias>al</alias>\n"
  "  <cause id=\"c\" prior=\"0.5\"><title>C</title><explanation>x</explanation>\n"
  "   <evidence><answer question=\"q\" value=\"c1\" p=\"0.5\"/><expect p=\"0.4\"><known question=\"q\"/></expect>"
  "<requires><holds fact=\"f\"/></requires></evidence>\n"
  "   <fix id=\"x\" cost=\"1\" risk=\"low\" admin=\"no\" reversible=\"yes\" script=\"fix/x.lua\" same-as=\"y z\">"
  "<title>F</title><step>1</step><step>2</step><verify>v</verify><note>n</note></fix>\n"
  "   <alias>ca</alias><note>n</note>\n"
  "  </cause>\n"
  "  <escalation>call</escalation><note>n</note>\n"
  " </article>\n"
  " <test id=\"t\" expect-cause=\"c\" expect-fix=\"x\"><description>d</description><text>t</text>"
  "<given question=\"q\" value=\"c1\"/></test>\n"
  " <escalation>call us</escalation><note>n</note>\n"
  "</kb>\n";

/* The element after n in document order under root, or NULL. */
static xmlNode *next_element(xmlNode *root, xmlNode *n)
{
  xmlNode *k;
  for (k = n->children; k && k->type != XML_ELEMENT_NODE; k = k->next) {}
  if (k) return k;
  for (; n != root; n = n->parent) {
    for (k = n->next; k && k->type != XML_ELEMENT_NODE; k = k->next) {}
    if (k) return k;
  }
  return NULL;
}

/* Does a valid source use element `el` (with attribute `attr`, if not NULL)? */
static int used(const char *el, const char *attr)
{
  size_t i;
  for (i = 0; i < n_sources; i++) {
    xmlNode *root = xmlDocGetRootElement(sources[i].src.doc), *n;
    for (n = root; n; n = next_element(root, n))
      if (strcmp((const char *)n->name, el) == 0 &&
          (!attr || xmlHasProp(n, (const xmlChar *)attr)))
        return 1;
  }
  return 0;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Every *.xml under dir (sorted, so that runs are alike); returns the
** number of valid ones kept. */
static size_t add_dir(const char *dir, int recurse)
{
  struct dirent **list;
  int n, i;
  size_t kept = 0;
  n = scandir(dir, &list, NULL, alphasort);
  if (n < 0) return 0;
  for (i = 0; i < n; i++) {
    char path[1024];
    struct stat st;
    const char *e = list[i]->d_name;
    if (e[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", dir, e);
      if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && recurse) kept += add_dir(path, 1);
      else if (S_ISREG(st.st_mode) && ends_with(e, ".xml")) kept += (size_t)add_source(path);
    }
    free(list[i]);
  }
  free(list);
  return kept;
}

/* ===== libxml2's behaviour, pinned =====
** The points the check relies on, each as libxml2 judges it (rng) and as
** the check does (shape; 0 where libxml2 accepts: left to it by design). */

#define ART(x) "<article id=\"a\">" x "<cause id=\"c\"><title>t</title>" \
               "<explanation>e</explanation></cause></article>"
#define FACT(c) "<fact id=\"f\"><when>" c "</when></fact>"
#define EQ "<eq question=\"q\" value=\"v\"/>"

static const struct pinned {
  const char *attrs, *content;
  int rng, shape;
  const char *why;   /* "check_attrs refuses": kbxml_validate does, though libxml2 accepts */
} pinned[] = {
  { "", "", 1, 1, "an empty kb" },
  { "", ART("<title>T</title>"), 1, 1, "the smallest article" },
  { "", ART("<title> </title>"), 1, 1, "white space counts for minLength 1" },
  { "", ART("<title></title>"), 0, 0, "an empty text element" },
  { "", ART("<title/>"), 0, 0, "an empty text element, self-closed" },
  { "", ART("<title>T<note>n</note></title>"), 0, 0, "an element inside text" },
  { "", ART("<title>a<!-- c -->b</title>"), 1, 0, "a comment inside text" },
  { "", ART("<title><![CDATA[T]]></title>"), 1, 0, "CDATA" },
  { "", ART("x<title>T</title>"), 0, 0, "text in element-only content" },
  { "", ART(" <!-- c --><?pi x?>\n<title>T</title>"), 1, 1, "white space, comments, PIs" },
  { "", ART("<title>T</title><title>U</title>"), 0, 0, "exactly one title" },
  { "", "<article id=\"a\"><title>T</title></article>", 0, 0, "one or more causes" },
  { "", "<escalation>e</escalation><escalation>f</escalation>", 0, 0, "optional: at most one" },
  { "id=\" k\"", "", 1, 0, "an id xsd:token collapses (check_attrs refuses it)" },
  { "id=\"k k\"", "", 0, 0, "an id with a space inside" },
  { "lang=\"en-US\"", "", 1, 1, "xsd:language" },
  { "lang=\"english\"", "", 1, 1, "xsd:language, 7 letters" },
  { "lang=\"x-klingon\"", "", 1, 1, "xsd:language, private use" },
  { "lang=\"abcdefghi\"", "", 0, 0, "xsd:language, 9 letters" },
  { "lang=\"en_US\"", "", 0, 0, "xsd:language, an underscore" },
  { "lang=\"\"", "", 0, 0, "xsd:language, empty" },
  { "xml:lang=\"en\"", "", 0, 0, "xml:lang is not in the schema" },
  { "title=\" \"", "", 1, 1, "a line attribute of white space" },
  { "title=\"\"", "", 0, 0, "an empty line attribute" },
  { "", "<question id=\"q\" type=\"t\" probe=\"x.lua\"><prompt>p</prompt></question>", 1, 1, "a script" },
  { "", "<question id=\"q\" type=\"t\" probe=\".lua\"><prompt>p</prompt></question>", 0, 0, "not a script" },
  { "", "<question id=\"q\" type=\"\"><prompt>p</prompt></question>", 1, 1, "<text/> takes \"\"" },
  { "", ART("<title>T</title><symptoms><symptom causes=\"a  b\">s</symptom></symptoms>"), 1, 1, "an idlist" },
  { "", ART("<title>T</title><symptoms><symptom causes=\"\">s</symptom></symptoms>"), 0, 0, "an empty idlist" },
  { "", ART("<title>T</title><symptoms/>"), 0, 0, "symptoms: one or more" },
  { "", "<test id=\"t\" expect-cause=\"c\" expect-fix=\"f\"/>", 1, 1, "a test expecting both" },
  { "", "<test id=\"t\"/>", 0, 0, "a test expecting nothing" },
  { "", FACT("<in question=\"q\" values=\"a b\"/>"), 1, 1, "in: tokens" },
  { "", FACT("<in question=\"q\" values=\"\"/>"), 0, 0, "in: no token" },
  { "", FACT("<in question=\"q\" values=\"a\"> </in>"), 1, 1, "<empty/> takes white space" },
  { "", FACT("<in question=\"q\" values=\"a\">x</in>"), 0, 0, "<empty/> takes no text" },
  { "", FACT("<not>" EQ EQ "</not>"), 0, 0, "not: exactly one condition" },
  { "", FACT("<and/>"), 0, 0, "and: one or more conditions" },
  { "", FACT("<or>" EQ EQ EQ "</or>"), 1, 1, "or: several conditions" },
  { "", "<fact id=\"f\"><description>d</description></fact>", 0, 0, "a fact: one or more when" },
  { "", "<note>a<!-- c --> b</note><note/>", 1, 1, "a note: any text, none too" },
  { "", "<note><title>T</title></note>", 0, 0, "a note: no element" },
  { "", "<fix id=\"x\"><title>T</title></fix>", 0, 0, "fix outside a cause" },
  { "", ART("<title>T</title>") "<o:x xmlns:o=\"urn:o\"/>", 0, 0, "a foreign element" },
  { "", "<article xmlns=\"\" id=\"a\"/>", 0, 0, "an element in no namespace" },
};

static void test_shape__libxml2_behaviour_pinned(void)
{
  size_t i;
  for (i = 0; i < TS_ARRAY_LEN(pinned); i++) {
    const struct pinned *p = &pinned[i];
    char xml[2048];
    kbxml_source src;
    diag_sink d;
    int n, rng, shape, stricter = strstr(p->why, "check_attrs refuses") != NULL;
    memset(&d, 0, sizeof d);
    d.cb = ignore_diag;
    n = snprintf(xml, sizeof xml, "<kb xmlns=\"urn:tshoot:kb:1\" id=\"k\" %s>%s</kb>",
                 strstr(p->attrs, "id=") == p->attrs ? "" : p->attrs, p->content);
    if (strstr(p->attrs, "id=") == p->attrs)
      n = snprintf(xml, sizeof xml, "<kb xmlns=\"urn:tshoot:kb:1\" %s>%s</kb>", p->attrs, p->content);
    CHECK(n > 0 && (size_t)n < sizeof xml);
    if (kbxml_parse(&src, "pinned.xml", ts_strdup(xml), strlen(xml), &d) != TSHOOT_OK || !src.doc) {
      fprintf(stderr, "  does not parse: %s\n", xml);
      CHECK(0);
      kbxml_source_free(&src);
      continue;
    }
    rng = rng_ok(src.doc);
    shape = kbxml_shape_ok(src.doc);
    if (rng != p->rng || shape != p->shape)
      fprintf(stderr, "  %s: libxml2 %d (expected %d), shape %d (expected %d): %s\n", p->why,
              rng, p->rng, shape, p->shape, xml);
    CHECK_INT(rng, p->rng);
    CHECK_INT(shape, p->shape);
    /* and kbxml_validate agrees with libxml2, through either path */
    n = kbxml_validate(&src, &d) == 0;
    if (n != (p->rng && !stricter)) fprintf(stderr, "  kbxml_validate: %d: %s\n", n, xml);
    CHECK_INT(n, p->rng && !stricter);
    kbxml_source_free(&src);
  }
}

/* ===== the valid sources take the fast path ===== */

static void test_shape__valid_sources_take_the_fast_path(void)
{
  const char *root = getenv("TSHOOT_SOURCE_ROOT");
  char path[1024], dir[512];
  size_t kerio, data, gen = 0, i;
  synth *sy;

  snprintf(path, sizeof path, "%s/kb/kerio", root ? root : ".");
  kerio = add_dir(path, 0);
  snprintf(path, sizeof path, "%s/tests/data", root ? root : ".");
  data = add_dir(path, 1);

  /* the generated corpora: the search benchmark's (100 articles a file, and
  ** 3 a file: fewer questions), and the session benchmark's */
  sy = synth_new();
  CHECK(sy != NULL);
  snprintf(dir, sizeof dir, "%s/synth", tmpdir);
  if (sy && mkdir(dir, 0700) == 0) {
    CHECK(synth_write_corpus(sy, dir, SYNTH_DEFAULT_SEED, 200, 100, NULL, NULL) == 0);
    gen += add_dir(dir, 0);
    test_remove_dir(dir);
  }
  if (sy && mkdir(dir, 0700) == 0) {
    CHECK(synth_write_corpus(sy, dir, SYNTH_DEFAULT_SEED + 1, 9, 3, NULL, NULL) == 0);
    gen += add_dir(dir, 0);
    test_remove_dir(dir);
  }
  synth_free(sy);
  if (mkdir(dir, 0700) == 0) {
    CHECK(ssynth_write(dir, 20240501u, 60, NULL, NULL) == 0);
    gen += add_dir(dir, 0);
    test_remove_dir(dir);
  }
  CHECK(add_buf("every-element.xml", ts_strdup(every_element), strlen(every_element)));
  printf("  valid sources: %zu in kb/kerio, %zu in tests/data, %zu generated, and every-element.xml\n",
         kerio, data, gen);
  /* every element and attribute of the table is in some valid source, so
  ** that the mutations start from each */
  for (i = 0; kbxml_rule_at(i); i++) {
    const kbxml_rule *r = kbxml_rule_at(i);
    size_t a;
    if (!used(r->name, NULL)) fprintf(stderr, "  no valid source has <%s>\n", r->name);
    CHECK(used(r->name, NULL));
    for (a = 0; a < KBXML_RULE_ATTRS && r->attrs[a].name; a++) {
      if (!used(r->name, r->attrs[a].name))
        fprintf(stderr, "  no valid source has <%s %s>\n", r->name, r->attrs[a].name);
      CHECK(used(r->name, r->attrs[a].name));
    }
  }
  CHECK(kerio >= 3);
  CHECK(data >= 5);
  CHECK(gen >= 2 + 3 + 1);

  for (i = 0; i < n_sources; i++) {
    diag_sink d;
    int ok = kbxml_shape_ok(sources[i].src.doc);
    if (!ok) fprintf(stderr, "  not proven valid: %s\n", sources[i].name);
    CHECK(ok);
    memset(&d, 0, sizeof d);
    d.cb = ignore_diag;
    CHECK_INT(kbxml_validate(&sources[i].src, &d), 0);
    CHECK_INT(d.errors, 0);
  }
}

/* ===== mutations ===== */

typedef struct stats {
  size_t checked, shape_yes, rng_yes, unsound, items;
} stats;

static void judge(stats *st, xmlDoc *doc, const char *what)
{
  int s = kbxml_shape_ok(doc), r = rng_ok(doc);
  st->checked++;
  st->shape_yes += (size_t)s;
  st->rng_yes += (size_t)r;
  if (!s && r && getenv("SHAPE_MISSES")) fprintf(stderr, "MISS %s\n", what);
  if (s && !r) {
    st->unsound++;
    if (st->unsound <= 10) {
      fprintf(stderr, "  UNSOUND: shape says valid, libxml2 does not: %s\n", what);
      if (st->unsound <= 3) xmlDocFormatDump(stderr, doc, 0);
    }
  }
}

/* The i-th element of doc in document order (0: the root), or NULL. */
static xmlNode *nth_element(xmlDoc *doc, size_t i)
{
  xmlNode *root = xmlDocGetRootElement(doc), *n;
  size_t at = 0;
  for (n = root; n; n = next_element(root, n))
    if (at++ == i) return n;
  return NULL;
}

static void clear_children(xmlNode *e)
{
  while (e->children) {
    xmlNode *k = e->children;
    xmlUnlinkNode(k);
    xmlFreeNode(k);
  }
}

static xmlNs *other_ns(xmlNode *e)
{
  xmlNs *ns = xmlSearchNsByHref(e->doc, e, (const xmlChar *)"urn:other");
  return ns ? ns : xmlNewNs(e, (const xmlChar *)"urn:other", (const xmlChar *)"o");
}

/* A child of e in the KB namespace. */
static xmlNode *kb_child(xmlNode *e, const char *name)
{
  xmlNode *root = xmlDocGetRootElement(e->doc);
  return xmlNewChild(e, root ? root->ns : NULL, (const xmlChar *)name, NULL);
}

enum {
  M_REMOVE, M_DUP, M_FIRST, M_LAST, M_OTHER_NS, M_NO_NS, M_TEXT, M_SPACE, M_BLANK, M_EMPTY,
  M_NOTE, M_TITLE, M_EQ, M_FOREIGN, M_NONS_CHILD, M_COMMENT, M_PI, M_CDATA, M_ENTREF,
  M_TEXT_AND_COMMENT, M_BOGUS_ATTR, M_NS_ATTR, M_XML_LANG, M_COUNT
};

static const char *const mutation_names[M_COUNT] = {
  "removed", "duplicated", "moved first", "moved last", "in another namespace",
  "in no namespace", "text 'x' added", "white space added", "content ' '", "emptied",
  "<note> added", "<title> added", "<eq> added", "foreign element added",
  "element in no namespace added", "comment added", "PI added", "CDATA added",
  "entity reference added", "text, comment, text", "attribute 'bogus' added",
  "attribute in another namespace added", "xml:lang added"
};

/* Apply structural mutation m to element e. Returns 0 if it does not apply. */
static int mutate(xmlNode *e, int m)
{
  xmlNode *root = xmlDocGetRootElement(e->doc), *k;
  int is_root = e == root;
  switch (m) {
  case M_REMOVE:
    if (is_root) return 0;
    xmlUnlinkNode(e);
    xmlFreeNode(e);
    return 1;
  case M_DUP:
    if (is_root) return 0;
    return xmlAddNextSibling(e, xmlCopyNode(e, 1)) != NULL;
  case M_FIRST:
    if (is_root || !e->parent->children || e->parent->children == e) return 0;
    k = e->parent->children;
    xmlUnlinkNode(e);
    return xmlAddPrevSibling(k, e) != NULL;
  case M_LAST:
    if (is_root || e->parent->last == e) return 0;
    k = e->parent;
    xmlUnlinkNode(e);
    return xmlAddChild(k, e) != NULL;
  case M_OTHER_NS: xmlSetNs(e, other_ns(e)); return 1;
  case M_NO_NS: e->ns = NULL; return 1;
  case M_TEXT: return xmlAddChild(e, xmlNewText((const xmlChar *)"x")) != NULL;
  case M_SPACE:
    k = xmlNewText((const xmlChar *)" \n\t ");
    if (e->children) return xmlAddPrevSibling(e->children, k) != NULL;
    return xmlAddChild(e, k) != NULL;
  case M_BLANK:
    clear_children(e);
    return xmlAddChild(e, xmlNewText((const xmlChar *)" ")) != NULL;
  case M_EMPTY:
    if (!e->children) return 0;
    clear_children(e);
    return 1;
  case M_NOTE:
    k = kb_child(e, "note");
    return k && xmlAddChild(k, xmlNewText((const xmlChar *)"n")) != NULL;
  case M_TITLE:
    k = kb_child(e, "title");
    return k && xmlAddChild(k, xmlNewText((const xmlChar *)"t")) != NULL;
  case M_EQ:
    k = kb_child(e, "eq");
    return k && xmlSetProp(k, (const xmlChar *)"question", (const xmlChar *)"q") &&
           xmlSetProp(k, (const xmlChar *)"value", (const xmlChar *)"v");
  case M_FOREIGN:
    return xmlNewChild(e, other_ns(e), (const xmlChar *)"note", NULL) != NULL;
  case M_NONS_CHILD:
    return xmlNewChild(e, NULL, (const xmlChar *)"note", NULL) != NULL;
  case M_COMMENT:
    k = xmlNewComment((const xmlChar *)" c ");
    if (e->children) return xmlAddPrevSibling(e->children, k) != NULL;
    return xmlAddChild(e, k) != NULL;
  case M_PI:
    return xmlAddChild(e, xmlNewPI((const xmlChar *)"pi", (const xmlChar *)"x")) != NULL;
  case M_CDATA:
    return xmlAddChild(e, xmlNewCDataBlock(e->doc, (const xmlChar *)"y", 1)) != NULL;
  case M_ENTREF:
    return xmlAddChild(e, xmlNewReference(e->doc, (const xmlChar *)"&amp;")) != NULL;
  case M_TEXT_AND_COMMENT:
    clear_children(e);
    xmlAddChild(e, xmlNewText((const xmlChar *)"a"));
    xmlAddChild(e, xmlNewComment((const xmlChar *)"c"));
    return xmlAddChild(e, xmlNewText((const xmlChar *)"b")) != NULL;
  case M_BOGUS_ATTR:
    return xmlSetProp(e, (const xmlChar *)"bogus", (const xmlChar *)"a") != NULL;
  case M_NS_ATTR:
    return xmlSetNsProp(e, other_ns(e), (const xmlChar *)"id", (const xmlChar *)"a") != NULL;
  case M_XML_LANG:
    return xmlNodeSetLang(e, (const xmlChar *)"en"), 1;
  default:
    return 0;
  }
}

/* Values an attribute is set to: valid and invalid for each type. */
static const char *const values[] = {
  "", " ", " a", "a ", "A", "a b", "a  b", "a\tb", "a\nb", "a\xc3\xa9",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",    /* 64 */
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   /* 65 */
  "a", "1", "-a", ".a", "a.b-c_d", "x.lua", "dir/x-1.lua", ".lua", "x.luax", "/x.lua",
  "en", "en-US", "es-419", "EN", "e", "english", "en-", "en-u", "x-klingon", "de-CH-1996",
  "abcdefgh", "abcdefghi", "en-abcdefgh", "en-abcdefghi", "en--us", "en-US-", "-en", "en_US",
  "en-1", "1en",
  "0.5", "yes", "a b c",
};

/* ===== mutations done once per context =====
** A mutation of an element is made once per context: the element's name
** and attributes, its parent's name, how many siblings share its name (0, 1,
** more), and the names of its children. Items alike are many in the
** sources; their mutations would say nothing new. */

#define DONE_CAP (1u << 20)
static uint64_t *done;       /* open addressing; 0: free */
static size_t n_done;

static uint64_t fnv(uint64_t h, const char *s)
{
  for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
  h ^= 0xff;
  return h * 1099511628211ull;
}

static uint64_t context_of(const xmlNode *e)
{
  uint64_t h = 14695981039346656037ull;
  const xmlAttr *a;
  const xmlNode *k;
  const char *last = "";
  int same = 0;
  h = fnv(h, (const char *)e->name);
  for (a = e->properties; a; a = a->next) h = fnv(h, (const char *)a->name);
  h = fnv(h, "|");
  h = fnv(h, e->parent && e->parent->type == XML_ELEMENT_NODE ? (const char *)e->parent->name : "");
  for (k = e->parent ? e->parent->children : NULL; k; k = k->next)
    if (k != e && k->type == XML_ELEMENT_NODE && xmlStrEqual(k->name, e->name) && same < 2) same++;
  h = fnv(h, same == 0 ? "0" : same == 1 ? "1" : "2");
  for (k = e->children; k; k = k->next) {
    if (k->type != XML_ELEMENT_NODE || strcmp(last, (const char *)k->name) == 0) continue;
    last = (const char *)k->name;
    h = fnv(h, last);
  }
  return h ? h : 1;
}

/* Is (context, mutation) new? Remembers it. */
static int first_time(uint64_t context, const char *mutation)
{
  uint64_t h = fnv(context, mutation);
  size_t i;
  if (!h) h = 1;
  if (!done) { done = calloc(DONE_CAP, sizeof *done); if (!done) abort(); }
  if (n_done >= DONE_CAP / 2) return 0;
  for (i = (size_t)(h & (DONE_CAP - 1)); done[i]; i = (i + 1) & (DONE_CAP - 1))
    if (done[i] == h) return 0;
  done[i] = h;
  n_done++;
  return 1;
}

/* All mutations of the elements of `base` (a small valid document). */
static void mutate_all(stats *st, xmlDoc *base, const char *origin)
{
  size_t i;
  char what[700], key[200];
  for (i = 0;; i++) {
    xmlNode *e0 = nth_element(base, i);
    const kbxml_rule *rule;
    const char *name;
    size_t m, a, v;
    uint64_t ctx;
    if (!e0) break;
    name = (const char *)e0->name;
    rule = kbxml_rule_of(name);
    ctx = context_of(e0);
    for (m = 0; m < M_COUNT; m++) {
      xmlDoc *doc;
      snprintf(key, sizeof key, "m%zu", m);
      if (!first_time(ctx, key)) continue;
      doc = xmlCopyDoc(base, 1);
      if (mutate(nth_element(doc, i), (int)m)) {
        snprintf(what, sizeof what, "%.500s: element %zu <%.40s> %s", origin, i, name, mutation_names[m]);
        judge(st, doc, what);
      }
      xmlFreeDoc(doc);
    }
    for (m = 0; kbxml_rule_at(m); m++) {        /* renamed to each other element */
      const char *to = kbxml_rule_at(m)->name;
      xmlDoc *doc;
      snprintf(key, sizeof key, "r%s", to);
      if (strcmp(to, name) == 0 || !first_time(ctx, key)) continue;
      doc = xmlCopyDoc(base, 1);
      xmlNodeSetName(nth_element(doc, i), (const xmlChar *)to);
      snprintf(what, sizeof what, "%.500s: element %zu <%.40s> renamed to <%s>", origin, i, name, to);
      judge(st, doc, what);
      xmlFreeDoc(doc);
    }
    for (a = 0; rule && a < KBXML_RULE_ATTRS && rule->attrs[a].name; a++) {
      const char *an = rule->attrs[a].name;
      snprintf(key, sizeof key, "u%s", an);
      if (xmlHasProp(e0, (const xmlChar *)an) && first_time(ctx, key)) {
        xmlDoc *doc = xmlCopyDoc(base, 1);
        xmlUnsetProp(nth_element(doc, i), (const xmlChar *)an);
        snprintf(what, sizeof what, "%.500s: element %zu <%.40s> without '%s'", origin, i, name, an);
        judge(st, doc, what);
        xmlFreeDoc(doc);
      }
      for (v = 0; v < TS_ARRAY_LEN(values); v++) {
        xmlDoc *doc;
        snprintf(key, sizeof key, "s%s=%zu", an, v);
        if (!first_time(ctx, key)) continue;
        doc = xmlCopyDoc(base, 1);
        xmlSetProp(nth_element(doc, i), (const xmlChar *)an, (const xmlChar *)values[v]);
        snprintf(what, sizeof what, "%.500s: element %zu <%.40s> %s=\"%s\"", origin, i, name, an,
                 values[v]);
        judge(st, doc, what);
        xmlFreeDoc(doc);
      }
    }
  }
}

/* A signature of what an item holds: its elements' names and attribute
** names, each once, so that items alike are mutated once. */
static void item_signature(ts_buf *b, const xmlNode *n, int depth)
{
  const xmlNode *k;
  const xmlAttr *a;
  char part[200];
  if (depth > 64) return;
  snprintf(part, sizeof part, "<%s", (const char *)n->name);
  for (a = n->properties; a; a = a->next) {
    size_t l = strlen(part);
    snprintf(part + l, sizeof part - l, " %s", (const char *)a->name);
  }
  strncat(part, ">", sizeof part - strlen(part) - 1);   /* "<name attrs>", once each */
  if (!strstr(ts_buf_cstr(b), part)) ts_buf_adds(b, part);
  for (k = n->children; k; k = k->next)
    if (k->type == XML_ELEMENT_NODE) item_signature(b, k, depth + 1);
}

#define MAX_ITEMS 400

static void test_shape__mutations_sound_against_libxml2(void)
{
  stats st;
  char *seen[MAX_ITEMS];
  size_t n_seen = 0, i, j;
  double t0 = (double)clock();

  memset(&st, 0, sizeof st);
  for (i = 0; i < n_sources; i++) {
    xmlNode *root = xmlDocGetRootElement(sources[i].src.doc), *item;
    /* the whole kb with its items removed: root-level mutations */
    {
      xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
      xmlNode *r = doc ? xmlDocCopyNode(root, doc, 2) : NULL;   /* the root, its attributes */
      if (!r) abort();
      xmlDocSetRootElement(doc, r);
      CHECK(rng_ok(doc));
      CHECK(kbxml_shape_ok(doc));
      mutate_all(&st, doc, sources[i].name);
      xmlFreeDoc(doc);
    }
    for (item = root->children; item; item = item->next) {
      ts_buf sig;
      char origin[700];
      xmlDoc *doc;
      xmlNode *r;
      int dup = 0;
      if (item->type != XML_ELEMENT_NODE) continue;
      memset(&sig, 0, sizeof sig);
      item_signature(&sig, item, 0);
      if (!ts_buf_cstr(&sig)) abort();
      for (j = 0; j < n_seen && !dup; j++) dup = strcmp(seen[j], ts_buf_cstr(&sig)) == 0;
      if (dup || n_seen == MAX_ITEMS) { ts_buf_free(&sig); continue; }
      seen[n_seen++] = ts_buf_detach(&sig);      /* kept; freed below */
      /* a kb that holds this one item */
      doc = xmlNewDoc((const xmlChar *)"1.0");
      r = xmlDocCopyNode(root, doc, 2);
      xmlDocSetRootElement(doc, r);
      xmlAddChild(r, xmlDocCopyNode(item, doc, 1));
      snprintf(origin, sizeof origin, "%.400s, <%.40s> at line %d", sources[i].name,
               (const char *)item->name, item->line);
      CHECK(rng_ok(doc));
      CHECK(kbxml_shape_ok(doc));
      mutate_all(&st, doc, origin);
      xmlFreeDoc(doc);
      st.items++;
    }
  }
  for (j = 0; j < n_seen; j++) ts_free(seen[j]);
  free(done);
  done = NULL;
  printf("  %zu items of %zu sources: %zu mutations checked, shape accepted %zu, libxml2 "
         "accepted %zu, unsound %zu (%.1f s CPU)\n", st.items, n_sources, st.checked,
         st.shape_yes, st.rng_yes, st.unsound, ((double)clock() - t0) / CLOCKS_PER_SEC);
  CHECK_INT(st.unsound, 0);
  CHECK(st.checked >= 20000);
  CHECK(st.shape_yes >= 2000);
  CHECK(st.rng_yes >= st.shape_yes);
}

int main(void)
{
  xmlRelaxNGParserCtxtPtr pc;
  size_t i;

  xmlInitParser();
  pc = xmlRelaxNGNewMemParserCtxt(kbxml_schema_rng, (int)kbxml_schema_rng_len);
  schema = pc ? xmlRelaxNGParse(pc) : NULL;
  xmlRelaxNGFreeParserCtxt(pc);
  if (!schema) { fprintf(stderr, "the embedded schema does not compile\n"); return 1; }
  snprintf(tmpdir, sizeof tmpdir, "/tmp/tshoot-shape-XXXXXX");
  if (!mkdtemp(tmpdir)) return 99;

  RUN(test_shape__libxml2_behaviour_pinned);
  RUN(test_shape__valid_sources_take_the_fast_path);
  RUN(test_shape__mutations_sound_against_libxml2);

  test_remove_dir(tmpdir);
  for (i = 0; i < n_sources; i++) kbxml_source_free(&sources[i].src);
  xmlRelaxNGFree(schema);
  TEST_EXIT();
}
