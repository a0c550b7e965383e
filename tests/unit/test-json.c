/*
** test-json.c: the hardened JSON reader (engine/tsjson.c) that saved sessions,
** machine descriptions and host replies go through.
*/
#include "tshoot_int.h"
#include "tsjson.h"
#include "test.h"

static void test_json__depth_counts_brackets_outside_strings(void)
{
  const char *flat = "{\"a\": \"[[[[[[[[\"}";
  const char *deep = "[[[[1]]]]";
  CHECK(ts_json_too_deep(flat, strlen(flat), 1) == NULL);
  CHECK(ts_json_too_deep(deep, strlen(deep), 4) == NULL);
  CHECK(ts_json_too_deep(deep, strlen(deep), 3) == deep + 3);
  /* an escaped quote does not end the string */
  CHECK(ts_json_too_deep("[\"\\\"[[\"]", 8, 1) == NULL);
}

static void test_json__parse_refuses_deep_text_with_its_place(void)
{
  const char *deep = "{\"a\":\n [[[[1]]]]}";
  json_t *j = (json_t *)1;
  CHECK_INT(ts_json_parse(&j, deep, strlen(deep), 3, 0, "s.json"), TSHOOT_EINVALID);
  CHECK(j == NULL);
  CHECK_CONTAINS(tshoot_error_last()->message, "nested deeper than 3");
  CHECK_STR(tshoot_error_last()->file, "s.json");
  CHECK_INT(tshoot_error_last()->line, 2);
  CHECK_INT(tshoot_error_last()->column, 4);
}

static void test_json__parse_refuses_duplicates_and_bad_text(void)
{
  json_t *j = NULL;
  CHECK_INT(ts_json_parse(&j, "{\"a\":1,\"a\":2}", 13, 8, 0, NULL), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "duplicate");
  CHECK_INT(ts_json_parse(&j, "{\"a\":", 5, 8, 0, NULL), TSHOOT_EINVALID);
  CHECK_CONTAINS(tshoot_error_last()->message, "not valid JSON");
  /* a bare value only where the caller allows any type */
  CHECK_INT(ts_json_parse(&j, "true", 4, 8, 0, NULL), TSHOOT_EINVALID);
  CHECK_INT(ts_json_parse(&j, "true", 4, 8, 1, NULL), TSHOOT_OK);
  CHECK(json_is_true(j));
  json_decref(j);
  CHECK_INT(ts_json_parse(&j, "{\"k\": [1, 2]}", 13, 8, 0, NULL), TSHOOT_OK);
  CHECK_INT(json_array_size(json_object_get(j, "k")), 2);
  json_decref(j);
}

static void test_json__unknown_key_is_named(void)
{
  static const char *const allowed[] = { "question", "answer", NULL };
  json_t *ok = json_pack("{s:s, s:s}", "question", "q", "answer", "a");
  json_t *bad = json_pack("{s:s, s:b}", "question", "q", "worked", 1);
  CHECK(ts_json_unknown_key(ok, allowed) == NULL);
  CHECK_STR(ts_json_unknown_key(bad, allowed), "worked");
  json_decref(ok);
  json_decref(bad);
}

static void test_json__string_with_nul_is_refused(void)
{
  json_t *plain = json_string("HKLM\\SOFTWARE");
  json_t *nul = json_stringn("HKLM\\SOFTWARE\0\\Nothing", 22);
  json_t *num = json_integer(3);
  int has_nul = -1;
  CHECK_STR(ts_json_string(plain, &has_nul), "HKLM\\SOFTWARE");
  CHECK_INT(has_nul, 0);
  CHECK(ts_json_string(nul, &has_nul) == NULL);
  CHECK_INT(has_nul, 1);
  CHECK(ts_json_string(num, &has_nul) == NULL);
  CHECK_INT(has_nul, 0);
  CHECK(ts_json_string(num, NULL) == NULL);
  json_decref(plain);
  json_decref(nul);
  json_decref(num);
}

static void test_json__line_col_counts_characters(void)
{
  const char *t = "{\n  \"\xc3\xa9\": x}";
  int line, col;
  ts_json_line_col(t, strchr(t, 'x'), &line, &col);
  CHECK_INT(line, 2);
  CHECK_INT(col, 8);   /* 2 spaces, quote, e-acute (one character), quote, colon, space */
}

int main(void)
{
  RUN(test_json__depth_counts_brackets_outside_strings);
  RUN(test_json__parse_refuses_deep_text_with_its_place);
  RUN(test_json__parse_refuses_duplicates_and_bad_text);
  RUN(test_json__unknown_key_is_named);
  RUN(test_json__string_with_nul_is_refused);
  RUN(test_json__line_col_counts_characters);
  TEST_EXIT();
}
