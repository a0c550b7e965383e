/*
** search.h: user text -> safe FTS5 query -> ranked results (search.c, with
** search_query.c and search_rank.c).
** The public face is tshoot_search() in tshoot.h; this is what the compiler
** and tests may call besides.
*/
#ifndef TSHOOT_SEARCH_H
#define TSHOOT_SEARCH_H

#include "tshoot_int.h"
#include "kb.h"

/* Limits of query building (see the header comment of search_query.c). */
#define SEARCH_MAX_SCAN   64   /* words of the text looked at */
#define SEARCH_MAX_TERMS  16   /* terms (words or phrases) used */
#define SEARCH_MAX_ALTS    8   /* alternatives per term (a synonym group) */
#define SEARCH_MAX_SYNONYMS 65536 /* synonym rows cached per connection */

/* Build the FTS5 MATCH expression for text (no KB: no synonyms, no spelling).
** Every word is quoted; no user byte is ever FTS5 syntax. Caller frees.
** Returns "" (allocated) when the text has no usable word. NULL on oom. */
char *search_build_query(const char *text, size_t len, unsigned int flags);

/* The same with the KB behind connection c (synonyms and spelling), under
** whatever budget is armed on c: the query tshoot_search runs once the text
** as typed has found nothing (tshoot_search itself skips the vocabulary
** lookups when the typed query finds rows). On TSHOOT_OK, *query is the AND
** query ("" if no word), *or_query the fallback that ORs the same terms (NULL
** when there are fewer than two terms; without the KB's frequency filter) and
** *suggestion the corrected text (NULL when no word was replaced); the caller
** frees all three. Otherwise all are NULL and the status is an error
** (TSHOOT_ETIMEOUT when the budget ran out). */
int search_build_query_kb(kb_conn *c, const char *text, size_t len, unsigned int flags,
                          char **query, char **or_query, char **suggestion);

/* How well text fits each cause's own words (cause_term, kb_cause_words.c:
** title, explanation, the symptoms that name it, aliases, the answers its
** evidence expects), with the search's words and spelling, any word
** counting: score[i] is bm25 for the cause of rules index i (0: no word
** matched), n = causes.
** @return TSHOOT_OK, TSHOOT_ETIMEOUT, TSHOOT_ENOMEM, TSHOOT_ECORRUPT. */
int search_cause_scores(tshoot_kb *kb, const char *text, size_t len, double *score, size_t n);

#endif /* TSHOOT_SEARCH_H */
