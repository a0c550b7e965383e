/*
** host_sim.h: the simulated host (host_sim.c). Internal: for host_sim.c and its
** test. The rest of the engine sees a simulated host as any other host, through
** tshoot_host_sim_load/open/save/confirm (tshoot.h).
*/
#ifndef TS_HOST_SIM_H
#define TS_HOST_SIM_H

#include "host.h"

typedef struct ts_sim ts_sim;

/* Parse a machine description (JSON, docs/scripts.md). `name` is used in
** error messages ("name:line:col: ..."). TSHOOT_OK; TSHOOT_EINVALID. */
int ts_sim_new(ts_sim **out, const char *json, size_t len, const char *name);
/* Fill `ops` with callbacks that answer from (and change) `sim`. */
void ts_sim_ops(ts_sim *sim, tshoot_host_ops *ops);
/* The machine as it is now, as JSON in the same format (ts_free). */
int ts_sim_save(char **out, const ts_sim *sim);
/* Answer every ui.confirm with `yes`. */
void ts_sim_set_confirm(ts_sim *sim, int yes);
void ts_sim_free(ts_sim *sim);

#endif
