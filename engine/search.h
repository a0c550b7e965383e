/*
** search.h: user text -> safe FTS5 query -> ranked results (search.c).
** The public face is tshoot_search() in tshoot.h; this is what the compiler
** and tests may call besides.
*/
#ifndef TSHOOT_SEARCH_H
#define TSHOOT_SEARCH_H

#include "tshoot_int.h"
#include "kb.h"

/* Build the FTS5 MATCH expression for text (no KB: no synonyms, no spelling).
** Every word is quoted; no user byte is ever FTS5 syntax. Caller frees.
** Returns "" (allocated) when the text has no usable word. NULL on oom. */
char *search_build_query(const char *text, size_t len, unsigned int flags);

#endif /* TSHOOT_SEARCH_H */
