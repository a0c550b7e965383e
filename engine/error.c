/*
** error.c: the thread-local last error behind tshoot_error_last().
*/
#include "tshoot_int.h"

#include <stdio.h>
#include <string.h>

#define ERR_MSG_MAX 1024
#define ERR_FILE_MAX 1024

typedef struct err_state {
  tshoot_error e;
  char message[ERR_MSG_MAX];
  char file[ERR_FILE_MAX];
} err_state;

static _Thread_local err_state tls_err;

static int set_error(int code, const char *file, int line, int column,
                     const char *fmt, va_list ap)
{
  err_state *s = &tls_err;
  vsnprintf(s->message, sizeof s->message, fmt, ap);
  s->e.code = code;
  s->e.message = s->message;
  if (file) {
    snprintf(s->file, sizeof s->file, "%s", file);
    s->e.file = s->file;
  } else {
    s->e.file = NULL;
  }
  s->e.line = line;
  s->e.column = column;
  return code;
}

int ts_error(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  set_error(code, NULL, 0, 0, fmt, ap);
  va_end(ap);
  return code;
}

int ts_error_at(int code, const char *file, int line, int column, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  set_error(code, file, line, column, fmt, ap);
  va_end(ap);
  return code;
}

int ts_error_oom(void) { return ts_error(TSHOOT_ENOMEM, "out of memory"); }

TSHOOT_API const tshoot_error *tshoot_error_last(void)
{
  err_state *s = &tls_err;
  if (!s->e.message) s->e.message = "";
  return &s->e;
}

TSHOOT_API void tshoot_error_clear(void)
{
  err_state *s = &tls_err;
  s->message[0] = '\0';
  s->e.code = TSHOOT_OK;
  s->e.message = s->message;
  s->e.file = NULL;
  s->e.line = s->e.column = 0;
}

TSHOOT_API const char *tshoot_strerror(int code)
{
  switch (code) {
  case TSHOOT_OK:        return "TSHOOT_OK: success";
  case TSHOOT_ERROR:     return "TSHOOT_ERROR: failure";
  case TSHOOT_ENOMEM:    return "TSHOOT_ENOMEM: out of memory";
  case TSHOOT_EINVALID:  return "TSHOOT_EINVALID: invalid argument";
  case TSHOOT_ENOTFOUND: return "TSHOOT_ENOTFOUND: not found";
  case TSHOOT_ESOURCE:   return "TSHOOT_ESOURCE: the KB sources have errors";
  case TSHOOT_ECORRUPT:  return "TSHOOT_ECORRUPT: damaged or foreign KB file";
  case TSHOOT_EVERSION:  return "TSHOOT_EVERSION: KB format version not supported";
  case TSHOOT_EIO:       return "TSHOOT_EIO: input/output error";
  case TSHOOT_ETIMEOUT:  return "TSHOOT_ETIMEOUT: time budget exceeded";
  case TSHOOT_ELIMIT:    return "TSHOOT_ELIMIT: a limit was exceeded";
  case TSHOOT_EUSER:     return "TSHOOT_EUSER: stopped by a callback";
  case TSHOOT_EUNTRUSTED: return "TSHOOT_EUNTRUSTED: the KB is not signed by a trusted key";
  case TSHOOT_ITEROVER:  return "TSHOOT_ITEROVER: end of iteration";
  default:               return "unknown status";
  }
}

TSHOOT_API const char *tshoot_libversion(void) { return TSHOOT_VERSION; }
