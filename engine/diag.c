/*
** diag.c: counting and forwarding diagnostics about KB sources.
*/
#include "diag.h"

#include <stdio.h>

void diag_report(diag_sink *d, tshoot_severity sev, const char *file, int line,
                 int column, const char *code, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  tshoot_diagnostic dg;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (sev == TSHOOT_ERRSEV) d->errors++;
  else if (sev == TSHOOT_WARNING) d->warnings++;
  if (!d->cb) return;
  dg.severity = sev;
  dg.file = file ? file : "";
  dg.line = line;
  dg.column = column;
  dg.code = code ? code : "";
  dg.message = msg;
  d->cb(&dg, d->payload);
}

int diag_failed(const diag_sink *d)
{
  return d->errors > 0 || (d->warnings_are_errors && d->warnings > 0);
}
