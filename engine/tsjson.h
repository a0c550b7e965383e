/*
** tsjson.h: reading JSON that comes from outside (saved sessions, machine
** descriptions, host replies), hardened the same way everywhere.
**
** jansson parses recursively, so nesting is bounded before it sees the text;
** duplicate keys are refused; a string with a NUL inside is refused, since
** every consumer reads strings as C strings and would silently cut them; and
** an object is checked against the keys its reader knows, so a typo or a
** forged member is an error rather than ignored.
*/
#ifndef TSHOOT_TSJSON_H
#define TSHOOT_TSJSON_H

#include <stddef.h>
#include <jansson.h>

/* Where text[0..n) nests deeper than max arrays/objects, or NULL. Strings
** (with their escapes) are skipped, so brackets inside them do not count. */
const char *ts_json_too_deep(const char *text, size_t n, int max);

/* The 1-based line and column (in characters, not bytes) of pos in text. */
void ts_json_line_col(const char *text, const char *pos, int *line, int *col);

/* Parse text[0..n) as one JSON value (any type when any_type, else an object
** or array) with duplicate keys refused and nesting bounded by max_depth.
** Returns TSHOOT_OK with *out owned by the caller (json_decref), or
** TSHOOT_EINVALID with the error set as "name:line:col: what". */
int ts_json_parse(json_t **out, const char *text, size_t n, int max_depth, int any_type,
                  const char *name);

/* The first key of obj not in allowed (NULL-terminated), or NULL if all are. */
const char *ts_json_unknown_key(json_t *obj, const char *const *allowed);

/* A string value without a NUL inside: its text, or NULL when v is not a
** string or holds a NUL (then *has_nul, if given, says which). */
const char *ts_json_string(json_t *v, int *has_nul);

#endif /* TSHOOT_TSJSON_H */
