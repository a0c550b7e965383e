/*
** kb_vfs.c: "tshoot-kb", the SQLite VFS through which every connection of a
** KB handle reads the very file the handle opened.
**
** Why. The compiler replaces a KB by renaming a new file over it. A pool
** that opened each new connection on the path would read the new file beside
** connections on the old one (issue 12: 111 of 133 searches from 4 threads
** failed once a compile renamed a KB into place), and a replacement with the
** same digest would pass unseen. The handle keeps one descriptor on the file
** it checked (kb->fd) and every connection reads through it.
**
** Why not /proc/self/fd/N. SQLite's unix VFS resolves symbolic links in a
** name (that one reads "/dir/kb.db (deleted)" once renamed over) and opens
** with O_NOFOLLOW (ELOOP on the magic link), so it cannot be pointed at an
** open file. This VFS opens nothing: the main database of a connection named
** KB_VFS_PREFIX "N" is descriptor N, read with pread() (no file offset, so
** the connections of all threads share the descriptor safely); the handle
** closes it after its last connection. Anything else SQLite opens (a sorter's
** temporary files) goes to the default VFS.
**
** The file is immutable to SQLite (SQLITE_IOCAP_IMMUTABLE): SQLite then takes
** no locks, looks for no journal beside it and keeps its page cache between
** statements. The promise that an SQLite writer elsewhere gets SQLITE_BUSY
** stays: kb_vfs_hold_shared() holds one POSIX read lock on the bytes a SQLite
** reader locks (the "shared" range after the pending byte at 1 GiB) for the
** handle's life. POSIX locks belong to the process and a file: closing any
** descriptor of that file in the process drops them (a second handle on the
** same file that closes, say), which only lets an in-place writer in, and
** nothing writes a KB in place.
*/
#include "kb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite's lock bytes (os.h: PENDING_BYTE, SHARED_FIRST, SHARED_SIZE). */
#define SQLITE_PENDING_BYTE 0x40000000
#define SQLITE_SHARED_FIRST (SQLITE_PENDING_BYTE + 2)
#define SQLITE_SHARED_SIZE  510

typedef struct fd_file {
  sqlite3_file base;
  int fd;
  void *map;                 /* the whole file, read-only (NULL: pread only) */
  sqlite3_int64 map_size;
} fd_file;

static sqlite3_vfs kb_vfs;
static sqlite3_vfs *kb_vfs_base;   /* the default VFS, for everything else */

static int fd_close(sqlite3_file *f)
{
  fd_file *ff = (fd_file *)f;
  if (ff->map) munmap(ff->map, (size_t)ff->map_size);
  ff->map = NULL;
  return SQLITE_OK; /* the descriptor is the handle's */
}

static int fd_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
  int fd = ((fd_file *)f)->fd;
  char *p = buf;
  size_t got = 0;
  while (got < (size_t)amt) {
    ssize_t n = pread(fd, p + got, (size_t)amt - got, (off_t)off + (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SQLITE_IOERR_READ;
    if (n == 0) break;
    got += (size_t)n;
  }
  if (got < (size_t)amt) {
    memset(p + got, 0, (size_t)amt - got); /* SQLite requires the zeroes */
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

static int fd_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
  (void)f; (void)buf; (void)amt; (void)off;
  return SQLITE_READONLY;
}

static int fd_truncate(sqlite3_file *f, sqlite3_int64 size)
{
  (void)f; (void)size;
  return SQLITE_READONLY;
}

static int fd_sync(sqlite3_file *f, int flags)
{
  (void)f; (void)flags;
  return SQLITE_OK;
}

static int fd_size(sqlite3_file *f, sqlite3_int64 *size)
{
  struct stat st;
  if (fstat(((fd_file *)f)->fd, &st) != 0) return SQLITE_IOERR_FSTAT;
  *size = (sqlite3_int64)st.st_size;
  return SQLITE_OK;
}

static int fd_lock(sqlite3_file *f, int level)
{
  (void)f; (void)level;
  return SQLITE_OK;
}

static int fd_check_reserved(sqlite3_file *f, int *out)
{
  (void)f;
  *out = 0;
  return SQLITE_OK;
}

static int fd_control(sqlite3_file *f, int op, void *arg)
{
  (void)f; (void)op; (void)arg;
  return SQLITE_NOTFOUND;
}

static int fd_sector(sqlite3_file *f)
{
  (void)f;
  return 4096;
}

static int fd_device(sqlite3_file *f)
{
  (void)f;
  return SQLITE_IOCAP_IMMUTABLE;
}

/* Memory-mapped pages (PRAGMA mmap_size, set by kb_open.c): SQLite reads a
** page in place instead of copying it through pread(), which was a sixth
** of a search ranked over the postings. The file is immutable and its map
** read-only; a page beyond the map is read with xRead. */
static int fd_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
  fd_file *ff = (fd_file *)f;
  *pp = NULL;
  if (ff->map && off >= 0 && amt >= 0 && off + amt <= ff->map_size) *pp = (char *)ff->map + off;
  return SQLITE_OK;
}

static int fd_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
  (void)f; (void)off; (void)p;
  return SQLITE_OK;
}

static const sqlite3_io_methods fd_methods = {
  .iVersion = 3,            /* xFetch/xUnfetch; no shared memory (no WAL) */
  .xClose = fd_close,
  .xRead = fd_read,
  .xWrite = fd_write,
  .xTruncate = fd_truncate,
  .xSync = fd_sync,
  .xFileSize = fd_size,
  .xLock = fd_lock,
  .xUnlock = fd_lock,
  .xCheckReservedLock = fd_check_reserved,
  .xFileControl = fd_control,
  .xSectorSize = fd_sector,
  .xDeviceCharacteristics = fd_device,
  .xFetch = fd_fetch,
  .xUnfetch = fd_unfetch,
};

/* The descriptor a name of ours stands for, or -1. */
static int name_fd(const char *name)
{
  const size_t pl = sizeof KB_VFS_PREFIX - 1;
  char *end;
  long v;
  if (!name || strncmp(name, KB_VFS_PREFIX, pl) != 0 || name[pl] < '0' || name[pl] > '9') return -1;
  errno = 0;
  v = strtol(name + pl, &end, 10);
  if (errno || *end || v < 0 || v > 1 << 30) return -1;
  return (int)v;
}

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
  int fd = (flags & SQLITE_OPEN_MAIN_DB) ? name_fd(name) : -1;
  struct stat st;
  (void)vfs;
  if (fd < 0) return kb_vfs_base->xOpen(kb_vfs_base, name, f, flags, out_flags);
  f->pMethods = NULL;
  if (!(flags & SQLITE_OPEN_READONLY) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return SQLITE_CANTOPEN;
  ((fd_file *)f)->fd = fd;
  ((fd_file *)f)->map = NULL;
  ((fd_file *)f)->map_size = 0;
  if (st.st_size > 0 && (sizeof(size_t) >= 8 || st.st_size < ((sqlite3_int64)1 << 30))) {
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
      ((fd_file *)f)->map = m;
      ((fd_file *)f)->map_size = (sqlite3_int64)st.st_size;
    }
  }
  f->pMethods = &fd_methods;
  if (out_flags) *out_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB;
  return SQLITE_OK;
}

/* Our names stay as they are; others are the default VFS's to resolve. */
static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
  size_t l = strlen(name);
  (void)vfs;
  if (name_fd(name) < 0) return kb_vfs_base->xFullPathname(kb_vfs_base, name, n, out);
  if (l + 1 > (size_t)n) return SQLITE_CANTOPEN;
  memcpy(out, name, l + 1);
  return SQLITE_OK;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
  (void)vfs;
  if (name_fd(name) >= 0) return SQLITE_READONLY;
  return kb_vfs_base->xDelete(kb_vfs_base, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
  (void)vfs;
  return kb_vfs_base->xAccess(kb_vfs_base, name, flags, out);
}

int kb_vfs_register(void)
{
  sqlite3_vfs *base = sqlite3_vfs_find(NULL);
  if (!base) return 0;
  if ((size_t)base->szOsFile < sizeof(fd_file)) return 0;
  kb_vfs_base = base;
  kb_vfs = *base; /* randomness, sleep, time and the rest: the default's */
  kb_vfs.pNext = NULL;
  kb_vfs.zName = KB_VFS_NAME;
  kb_vfs.pAppData = NULL;
  kb_vfs.xOpen = vfs_open;
  kb_vfs.xDelete = vfs_delete;
  kb_vfs.xAccess = vfs_access;
  kb_vfs.xFullPathname = vfs_full_pathname;
  return sqlite3_vfs_register(&kb_vfs, 0) == SQLITE_OK;
}

void kb_vfs_hold_shared(int fd)
{
  struct flock l;
  memset(&l, 0, sizeof l);
  l.l_type = F_RDLCK;
  l.l_whence = SEEK_SET;
  l.l_start = SQLITE_SHARED_FIRST;
  l.l_len = SQLITE_SHARED_SIZE;
  (void)fcntl(fd, F_SETLK, &l); /* best effort: some file systems lock nothing */
}
