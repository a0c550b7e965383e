/*
** kb_xml.h: reading KB source files with libxml2, safely (kb_xml.c).
**
** Whatever libxml2's process-wide defaults are (an embedder may have turned on
** entity substitution or DTD loading), a source is parsed with a parser
** context of our own: any DOCTYPE is refused, no entity is ever resolved or
** expanded, nothing is loaded from the network or the file system, the file
** size and the attributes per element are capped before libxml2 sees them,
** nesting depth is bounded, and only UTF-8 is accepted. Every refusal is a
** diagnostic with file:line:col. The document is then validated against the
** RELAX NG schema kb/schema/tshoot-kb.rng (embedded in the library), or
** proven valid by kbxml_shape_ok (kb_xml_shape.c), which is much faster.
**
** Text is read from text nodes directly (never xmlNodeGetContent, which
** would expand entity references).
*/
#ifndef TSHOOT_KB_XML_H
#define TSHOOT_KB_XML_H

#include "tshoot_int.h"
#include "diag.h"
#include <libxml/tree.h>

#define KBXML_MAX_ATTRS  32    /* attributes per element */
#define KBXML_MAX_DEPTH  64    /* element nesting */

/* A parsed source: the document plus the bytes it came from (kept to find
** columns). Free with kbxml_source_free. */
typedef struct kbxml_source {
  const char *name;     /* as given; borrowed from the caller */
  char *buf;            /* the file's bytes, NUL-terminated */
  size_t len;
  xmlDoc *doc;          /* NULL if parsing failed */
  size_t *line_starts;  /* offsets of line starts, built on first locate */
  size_t n_lines;
  /* The elements the schema validation reported (kbxml_validate), so that the
  ** checks after it can skip what depends on a broken element instead of
  ** reporting its consequences; bad_unplaced: a report had no element. */
  const xmlNode **bad;
  size_t n_bad, cap_bad;
  int bad_unplaced;
} kbxml_source;

/* Parse buf[0..len) (which the source takes ownership of; it must have been
** allocated with ts_malloc and be NUL-terminated at buf[len]). Reports every
** problem to d. Returns TSHOOT_OK with src->doc set, TSHOOT_ESOURCE with
** src->doc NULL (diagnostics reported), or TSHOOT_ENOMEM. Invalid UTF-8 is
** reported (TSH-E007) and replaced by '?' in buf, and the file is still
** parsed: TSHOOT_OK then comes with errors in d, so that the checks after it
** report the file's other problems too. */
int kbxml_parse(kbxml_source *src, const char *name, char *buf, size_t len, diag_sink *d);

/* Validate src->doc against the embedded schema; report each violation.
** A document kbxml_shape_ok proves valid skips libxml2's validator.
** Returns the number of violations (0: valid), or -1 if the schema itself
** could not be loaded (reported). The elements reported are kept in src->bad.
** Thread-safe. */
int kbxml_validate(kbxml_source *src, diag_sink *d);

/* Did the validation report `node` itself? */
int kbxml_is_bad(const kbxml_source *src, const xmlNode *node);

/* Did the validation report `node` or an element inside it? */
int kbxml_has_bad(const kbxml_source *src, const xmlNode *node);

/* Where `node` (and, if attr is not NULL, its attribute `attr`) starts in the
** source: 1-based line and column. Falls back to the node's line and column 1. */
void kbxml_locate(kbxml_source *src, const xmlNode *node, const char *attr,
                  int *line, int *column);

/* The text of element `node`: its text and CDATA children concatenated, runs
** of white space collapsed to one space, trimmed. Caller frees (ts_free).
** NULL on out of memory. "" if none. */
char *kbxml_text(const xmlNode *node);
/* The same text, collapsed straight into arena a (NULL: out of memory):
** one pass, no buffer to grow and copy (every text of every source). */
char *kbxml_text_in(const xmlNode *node, ts_arena *a);

/* An attribute's value (no entity expansion), or NULL. Caller frees (ts_free). */
char *kbxml_attr(const xmlNode *node, const char *name);

void kbxml_source_free(kbxml_source *src);

/* ===== the schema's rules (kb_xml_shape.c) =====
** kb/schema/tshoot-kb.rng as one table: per element, its attributes (name,
** type, use) and its content. check_attrs (kb_xml.c) and kbxml_shape_ok read
** it; test-kb-shape checks it against libxml2. */

enum {                        /* attribute types */
  KBXML_A_TEXT,               /* any text ("" too) */
  KBXML_A_LINE,               /* xsd:string, minLength 1 */
  KBXML_A_ID,                 /* [a-z0-9][a-z0-9._\-]{0,63} */
  KBXML_A_IDLIST,             /* one or more ids, separated by white space */
  KBXML_A_SCRIPT,             /* [A-Za-z0-9_\-][A-Za-z0-9_./\-]*\.lua */
  KBXML_A_LANG,               /* xsd:language */
  KBXML_A_TOKENS              /* one or more xsd:tokens */
};
enum { KBXML_OPTIONAL, KBXML_REQUIRED, KBXML_ONE_OF /* at least one of these */ };
enum {                        /* content */
  KBXML_ELEMS,                /* elements (kbxml_rule.children), white space */
  KBXML_TEXT,                 /* xsd:string minLength 1, no element */
  KBXML_ANY_TEXT,             /* any text, no element */
  KBXML_EMPTY                 /* nothing but white space */
};

#define KBXML_RULE_ATTRS 8

typedef struct kbxml_attr_rule {
  const char *name;           /* NULL: the end of the list */
  unsigned char type, use;
} kbxml_attr_rule;

typedef struct kbxml_rule {
  const char *name;
  unsigned char content;
  /* KBXML_ELEMS: the interleave, e.g. "title step+ verify? note*" or
  ** "symptom|error+": each word a group (names joined by '|' are a choice),
  ** its cardinality none (exactly one), '?', '*' or '+'; "condition" stands
  ** for any condition element (and, or, not, eq, ..., in, holds, known). */
  const char *children;
  kbxml_attr_rule attrs[KBXML_RULE_ATTRS];
} kbxml_rule;

/* The rule of element `element` (a name in the KB namespace), or NULL. */
const kbxml_rule *kbxml_rule_of(const char *element);

/* The i-th rule of the table (in schema order), NULL past the end. */
const kbxml_rule *kbxml_rule_at(size_t i);

/* The rule's attribute `name`, or NULL if the element does not take it. */
const kbxml_attr_rule *kbxml_rule_attr(const kbxml_rule *rule, const char *name);

/* Does s match the schema's id pattern (1 to 64 characters)? */
int kbxml_valid_id(const char *s);

/* 1 if the document certainly matches the schema (kbxml_validate then skips
** libxml2's RELAX NG validator, which is slow on interleave); 0 if it does
** not or if the check cannot tell (other namespaces, xml:* attributes, CDATA,
** entity references, a DTD, white space a datatype would normalise...):
** libxml2 decides then. Never 1 for a document libxml2 rejects. */
int kbxml_shape_ok(const xmlDoc *doc);

/* The embedded schema text (generated from kb/schema/tshoot-kb.rng). */
extern const char kbxml_schema_rng[];
extern const size_t kbxml_schema_rng_len;

#endif /* TSHOOT_KB_XML_H */
