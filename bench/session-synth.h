/*
** session-synth.h: deterministic synthetic reasoning KBs for bench-session.
**
** A KB of n causes has max(4, n / 3) choice questions of 3-4 choices each and
** articles of 3-5 causes. Each article draws on a window of 8 neighbouring
** questions (the windows of neighbouring articles overlap), and each cause has
** 2-4 <answer> lines on distinct questions of its window (p 0.6-0.95 for one
** value) and, for 30% of the causes, one <requires> on another question of
** the window. So every question is read by ~9-10 causes whatever n is, and
** one diagnosis step touches O(n) (cause, question) pairs.
**
** Everything is a function of (seed, n): splitmix64, no rand().
*/
#ifndef TSHOOT_BENCH_SESSION_SYNTH_H
#define TSHOOT_BENCH_SESSION_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#define SSYNTH_WINDOW 8            /* questions an article draws on */
#define SSYNTH_PER_FILE 100        /* articles per source file */

/* Write the KB's sources into dir (which must exist) as rkb-00001.xml, ...
** Returns 0, or -1 with errno set. files_out and questions_out may be NULL. */
int ssynth_write(const char *dir, uint64_t seed, size_t n_causes, size_t *files_out,
                 size_t *questions_out);

#endif /* TSHOOT_BENCH_SESSION_SYNTH_H */
