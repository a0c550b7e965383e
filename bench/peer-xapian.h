/*
** peer-xapian.h: the Xapian side of bench-peer, behind a C interface.
**
** bench-peer (C) tokenizes every article and every query with the KB's own
** FTS5 tokenizer, so Xapian indexes and searches exactly the tokens FTS5 has;
** peer-xapian.cpp only turns them into Xapian documents and queries, and ranks
** with FTS5's bm25 (see Fts5Bm25 there). Functions return 0 or a match count
** on success and -1 on failure, with the reason in peer_xapian_error().
*/
#ifndef TSHOOT_BENCH_PEER_XAPIAN_H
#define TSHOOT_BENCH_PEER_XAPIAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct peer_xapian_writer peer_xapian_writer;
typedef struct peer_xapian_searcher peer_xapian_searcher;

/* The last failure's message (one per thread; bench-peer has one). */
const char *peer_xapian_error(void);
const char *peer_xapian_version(void);

/* Index: a fresh database in dir (overwritten). Per document: add each token
** occurrence with its position and weight (its column's bm25 weight: the
** term's wdf becomes FTS5's weighted frequency), then end it under docid (the
** KB's article id, > 0). commit() writes it out and closes it. */
peer_xapian_writer *peer_xapian_writer_new(const char *dir);
int peer_xapian_writer_add(peer_xapian_writer *w, const char *tok, size_t len, unsigned pos,
                           unsigned weight);
/* A term without positions that only pads the document's length (Xapian's
** length is the sum of its wdfs): see xapian_build() in bench-peer.c. */
int peer_xapian_writer_pad(peer_xapian_writer *w, const char *term, unsigned wdf);
int peer_xapian_writer_end_doc(peer_xapian_writer *w, unsigned docid);
int peer_xapian_writer_commit(peer_xapian_writer *w);
void peer_xapian_writer_free(peer_xapian_writer *w);

/* Copy the database in src to dst, compacted (docids kept). */
int peer_xapian_compact(const char *src, const char *dst);

/* Search: a query is an AND of phrases, each of n tokens (a one-token phrase
** is a plain term); when prefix is set, the phrase's last token is a prefix
** (Xapian: a wildcard, its expansions combined as one synonym term). */
typedef struct peer_xapian_phrase {
  const char *const *tok;
  const size_t *len;
  int n;
  int prefix;
} peer_xapian_phrase;

peer_xapian_searcher *peer_xapian_searcher_new(const char *dir);
/* The top k (ids, scores: higher is better) of the AND of the phrases;
** returns how many (<= k), or -1. */
int peer_xapian_search(peer_xapian_searcher *s, const peer_xapian_phrase *ph, int nph,
                       unsigned *ids, double *scores, int k);
void peer_xapian_searcher_free(peer_xapian_searcher *s);

#ifdef __cplusplus
}
#endif

#endif /* TSHOOT_BENCH_PEER_XAPIAN_H */
