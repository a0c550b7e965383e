/*
** tsjson.c: the hardened JSON reader (tsjson.h). One place decides how deep
** outside JSON may nest, which keys an object may carry and what a string may
** hold, for every module that reads JSON it did not write.
*/
#include "tshoot_int.h"
#include "tsjson.h"

#include <string.h>

const char *ts_json_too_deep(const char *text, size_t n, int max)
{
  int depth = 0, in_str = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    char c = text[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      if (++depth > max) return text + i;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return NULL;
}

void ts_json_line_col(const char *text, const char *pos, int *line, int *col)
{
  const char *p;
  *line = 1;
  *col = 1;
  for (p = text; p < pos; p++) {
    if (*p == '\n') { (*line)++; *col = 1; }
    else if (((unsigned char)*p & 0xC0) != 0x80) (*col)++;
  }
}

int ts_json_parse(json_t **out, const char *text, size_t n, int max_depth, int any_type,
                  const char *name)
{
  json_error_t jerr;
  const char *deep;
  int line, col;
  size_t flags = JSON_REJECT_DUPLICATES | (any_type ? JSON_DECODE_ANY : 0);

  TS_CHECK_ARG(out && (text || !n));
  *out = NULL;
  if (!name) name = "JSON";
  if ((deep = ts_json_too_deep(text, n, max_depth)) != NULL) {
    ts_json_line_col(text, deep, &line, &col);
    return ts_error_at(TSHOOT_EINVALID, name, line, col, "nested deeper than %d", max_depth);
  }
  *out = json_loadb(text ? text : "", n, flags, &jerr);
  if (!*out && json_error_code(&jerr) == json_error_out_of_memory) return ts_error_oom();
  if (!*out)
    return ts_error_at(TSHOOT_EINVALID, name, jerr.line, jerr.column, "not valid JSON: %s", jerr.text);
  return TSHOOT_OK;
}

const char *ts_json_unknown_key(json_t *obj, const char *const *allowed)
{
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    size_t i;
    for (i = 0; allowed[i]; i++)
      if (strcmp(key, allowed[i]) == 0) break;
    if (!allowed[i]) return key;
  }
  return NULL;
}

const char *ts_json_string(json_t *v, int *has_nul)
{
  if (has_nul) *has_nul = 0;
  if (!json_is_string(v)) return NULL;
  if (strlen(json_string_value(v)) != json_string_length(v)) {
    if (has_nul) *has_nul = 1;
    return NULL;
  }
  return json_string_value(v);
}
