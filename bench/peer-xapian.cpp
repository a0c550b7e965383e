/*
** peer-xapian.cpp: Xapian 1.4 indexing and search for bench-peer, ranked the
** way FTS5's bm25() ranks (see peer-xapian.h for the interface).
**
** FTS5's bm25 (SQLite ext/fts5/fts5_aux.c), for a query of phrases P_i:
**   score = sum_i IDF_i * f_i * (k1 + 1) / (f_i + k1 * (1 - b + b * D / avgD))
**   IDF_i = log((N - n_i + 0.5) / (n_i + 0.5)), 1e-6 where that is <= 0,
**   k1 = 1.2, b = 0.75, f_i = sum over columns c of w_c * tf(P_i, c),
** N rows, n_i rows that hold P_i, D the row's token count, avgD its mean.
** Here each token is added with wdf increment w_c, so Xapian's wdf is f_i,
** and Fts5Bm25 computes the formula above from Xapian's statistics.
** Xapian's document length is the sum of the wdfs; bench-peer pads it with one
** extra term to K * D (K the largest column weight), so that len / avg_len is
** FTS5's D / avgD exactly. What stays different (BENCHMARKS.md, "Peer:
** Xapian"): a phrase of several tokens is weighted term by term (FTS5 weighs
** the phrase as one); a prefix's expansions form one synonym whose document
** count Xapian estimates; ties may come out in another order.
*/
#include "peer-xapian.h"

#include <xapian.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

std::string peer_xapian_last_error;

int peer_xapian_fail(const Xapian::Error &e)
{
  peer_xapian_last_error = e.get_description();
  return -1;
}

class Fts5Bm25 : public Xapian::Weight {
  double idf_factor = 0, avg_len = 1;
  static constexpr double k1 = 1.2, b = 0.75;

  double part(double wdf, double len) const
  {
    return idf_factor * wdf * (k1 + 1.0) / (wdf + k1 * (1.0 - b + b * len / avg_len));
  }

public:
  Fts5Bm25()
  {
    need_stat(COLLECTION_SIZE);
    need_stat(TERMFREQ);
    need_stat(AVERAGE_LENGTH);
    need_stat(WDF);
    need_stat(DOC_LENGTH);
    need_stat(WDF_MAX);
    need_stat(DOC_LENGTH_MIN);
  }
  std::string name() const override { return "tshoot-fts5-bm25"; }
  Fts5Bm25 *clone() const override { return new Fts5Bm25(); }
  void init(double factor) override
  {
    double n_docs = (double)get_collection_size(), n_term = (double)get_termfreq();
    double idf = std::log((n_docs - n_term + 0.5) / (n_term + 0.5));
    if (idf <= 0.0) idf = 1e-6;
    idf_factor = idf * factor;
    avg_len = get_average_length();
    if (avg_len <= 0) avg_len = 1;
  }
  double get_sumpart(Xapian::termcount wdf, Xapian::termcount len, Xapian::termcount) const override
  {
    return wdf ? part((double)wdf, (double)len) : 0.0;
  }
  /* the part grows with wdf and shrinks with length: its bound is at the
  ** largest wdf and the shortest document */
  double get_maxpart() const override
  {
    return part((double)get_wdf_upper_bound(), (double)get_doclength_lower_bound());
  }
  double get_sumextra(Xapian::termcount, Xapian::termcount) const override { return 0.0; }
  double get_maxextra() const override { return 0.0; }
};

} // namespace

struct peer_xapian_writer {
  Xapian::WritableDatabase db;
  Xapian::Document doc;
  explicit peer_xapian_writer(const char *dir) : db(dir, Xapian::DB_CREATE_OR_OVERWRITE) {}
};

struct peer_xapian_searcher {
  Xapian::Database db;
  Xapian::Enquire enquire;
  explicit peer_xapian_searcher(const char *dir) : db(dir), enquire(db)
  {
    enquire.set_weighting_scheme(Fts5Bm25());
  }
};

extern "C" const char *peer_xapian_error(void) { return peer_xapian_last_error.c_str(); }
extern "C" const char *peer_xapian_version(void) { return Xapian::version_string(); }

extern "C" peer_xapian_writer *peer_xapian_writer_new(const char *dir)
{
  try {
    return new peer_xapian_writer(dir);
  } catch (const Xapian::Error &e) {
    peer_xapian_fail(e);
    return nullptr;
  }
}

extern "C" int peer_xapian_writer_add(peer_xapian_writer *w, const char *tok, size_t len,
                                      unsigned pos, unsigned weight)
{
  try {
    w->doc.add_posting(std::string(tok, len), pos, weight);
    return 0;
  } catch (const Xapian::Error &e) {
    return peer_xapian_fail(e);
  }
}

extern "C" int peer_xapian_writer_pad(peer_xapian_writer *w, const char *term, unsigned wdf)
{
  try {
    if (wdf) w->doc.add_term(term, wdf);
    return 0;
  } catch (const Xapian::Error &e) {
    return peer_xapian_fail(e);
  }
}

extern "C" int peer_xapian_writer_end_doc(peer_xapian_writer *w, unsigned docid)
{
  try {
    w->db.replace_document(docid, w->doc);
    w->doc = Xapian::Document();
    return 0;
  } catch (const Xapian::Error &e) {
    return peer_xapian_fail(e);
  }
}

extern "C" int peer_xapian_writer_commit(peer_xapian_writer *w)
{
  try {
    w->db.commit();
    w->db.close();
    return 0;
  } catch (const Xapian::Error &e) {
    return peer_xapian_fail(e);
  }
}

extern "C" void peer_xapian_writer_free(peer_xapian_writer *w) { delete w; }

extern "C" int peer_xapian_compact(const char *src, const char *dst)
{
  try {
    Xapian::Database db(src);
    db.compact(dst, Xapian::DBCOMPACT_NO_RENUMBER);
    return 0;
  } catch (const Xapian::Error &e) {
    return peer_xapian_fail(e);
  }
}

extern "C" peer_xapian_searcher *peer_xapian_searcher_new(const char *dir)
{
  try {
    return new peer_xapian_searcher(dir);
  } catch (const Xapian::Error &e) {
    peer_xapian_fail(e);
    return nullptr;
  }
}

extern "C" int peer_xapian_search(peer_xapian_searcher *s, const peer_xapian_phrase *ph, int nph,
                                  unsigned *ids, double *scores, int k)
{
  try {
    std::vector<Xapian::Query> parts;
    parts.reserve((size_t)nph);
    for (int i = 0; i < nph; i++) {
      std::vector<Xapian::Query> toks;
      for (int j = 0; j < ph[i].n; j++) {
        std::string t(ph[i].tok[j], ph[i].len[j]);
        if (ph[i].prefix && j == ph[i].n - 1) toks.emplace_back(Xapian::Query::OP_WILDCARD, t);
        else toks.emplace_back(t);
      }
      if (toks.size() == 1) parts.push_back(toks[0]);
      else if (!toks.empty())
        parts.emplace_back(Xapian::Query::OP_PHRASE, toks.begin(), toks.end(), (Xapian::termcount)toks.size());
    }
    if (parts.empty()) return 0;
    s->enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end()));
    Xapian::MSet m = s->enquire.get_mset(0, (Xapian::doccount)k);
    int n = 0;
    for (Xapian::MSetIterator it = m.begin(); it != m.end() && n < k; ++it, n++) {
      ids[n] = *it;
      scores[n] = it.get_weight();
    }
    return n;
  } catch (const Xapian::Error &e) {
    return peer_xapian_fail(e);
  }
}

extern "C" void peer_xapian_searcher_free(peer_xapian_searcher *s) { delete s; }
