/*
** diag.h: diagnostics for KB sources (diag.c). The compiler reports every
** problem it finds through a diag_sink, which counts them and forwards each
** to the caller's tshoot_diagnostic_cb.
*/
#ifndef TSHOOT_DIAG_H
#define TSHOOT_DIAG_H

#include "tshoot_int.h"

typedef struct diag_sink {
  tshoot_diagnostic_cb cb;
  void *payload;
  size_t errors, warnings;
  int warnings_are_errors;
} diag_sink;

/* Report one diagnostic. `code` is a stable id "TSH-Ennn"/"TSH-Wnnn" listed
** in docs/messages.md. line/column 0 when unknown. */
void diag_report(diag_sink *d, tshoot_severity sev, const char *file, int line,
                 int column, const char *code, const char *fmt, ...) TS_PRINTF(7, 8);

/* Non-zero if the reports so far fail the compile. */
int diag_failed(const diag_sink *d);

#endif /* TSHOOT_DIAG_H */
