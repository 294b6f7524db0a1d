/* ncio.c: parallel NetCDF-4 file handling shared by every command (see ncio.h). */
#include "core/ncio.h"
#include "core/watchdog.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static char  command_line[4096]; /* set once by main (ncio_set_command_line) */
static char *parent_history;     /* the input file's history (ncio_set_parent), appended to ours */
static char  bpd_unit[16] = "bits/dim";
/* Files being written (created, not yet committed or discarded): their temporary names are
   removed by ncio_abandon_all when a command fails, so no *.tmp.* file outlives a failed run. */
#define MAX_PENDING 16
static struct {
  int  ncid;
  char tmp[PATH_MAX + 32];
} pending[MAX_PENDING];
static int npending;

static void pending_add(const ncio_file *f)
{
  if (npending == MAX_PENDING) return;
  pending[npending].ncid = f->ncid;
  snprintf(pending[npending].tmp, sizeof pending[npending].tmp, "%s", f->tmp);
  npending++;
}

static void pending_closed(const ncio_file *f)
{
  for (int i = 0; i < npending; i++)
    if (!strcmp(pending[i].tmp, f->tmp)) pending[i].ncid = -1;
}

static void pending_remove(const ncio_file *f)
{
  for (int i = 0; i < npending; i++)
    if (!strcmp(pending[i].tmp, f->tmp)) {
      pending[i] = pending[--npending];
      return;
    }
}

void ncio_abandon_all(int collective)
{
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (int i = 0; i < npending; i++) {
    /* after a collective (input) error every rank is here together, so the parallel close is
       safe; after an internal error some rank may be inside a collective call: only unlink */
    if (collective && pending[i].ncid >= 0) (void)nc_abort(pending[i].ncid);
    if (rank == 0) (void)unlink(pending[i].tmp);
  }
  npending = 0;
}

/* Bytes free for an unprivileged writer on the file system holding path (SIZE_MAX if unknown). */
static size_t free_bytes(const char *path)
{
  struct statvfs sv;
  if (statvfs(path, &sv)) return SIZE_MAX;
  return (size_t)sv.f_bavail * (size_t)sv.f_frsize;
}

/* The directory part of path (for statvfs before the file exists). */
static void dir_of(const char *path, char *dir, size_t len)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, len, ".");
  else if (slash == path)
    snprintf(dir, len, "/");
  else
    snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

void ncio_mpi_env(void)
{
  /* Open MPI's own MPI-IO (ompio) opens a shared-file-pointer component at every MPI_File_open,
     and it cannot open a file without one. Each leaves files beside the output: "individual"
     creates NAME.data.<rank> and NAME.metadata.<rank>, removed only by MPI_File_close, so a
     rank that stops while writing (an internal error's MPI_Abort, a kill) leaves them behind;
     "sm" also overflows a fixed buffer on paths of 235+ characters. ardm never uses shared
     file pointers: ROMIO (every other MPI-IO component) opens nothing beside the file. A
     choice in the environment is kept; with ompio chosen, "individual" avoids the crash. */
  setenv("OMPI_MCA_io", "^ompio", 0);
  setenv("OMPI_MCA_sharedfp", "individual", 0);
  /* the serial reads (ncio_probe's child, the parent's history) need no HDF5 file lock: ardm
     reads only complete files (each output is renamed into place when complete) and writes
     through MPI-IO, which HDF5 does not lock; file systems without flock refuse the lock */
  setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
}

void ncio_set_command_line(const char *line)
{
  snprintf(command_line, sizeof command_line, "%s", line);
}

PetscErrorCode ncio_set_parent(MPI_Comm comm, const char *path)
{
  PetscMPIInt rank;
  long        len = 0;
  int         ncid;
  size_t      n;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscFree(parent_history));
  if (path && path[0]) PetscCall(ncio_probe(comm, path)); /* a damaged file ends here, not in nc_open */
  /* rank 0 reads with the serial library, before the command opens the file in parallel; an
     unreadable file is left to the command's own open, which names the problem */
  if (rank == 0 && path && path[0]) {
    watchdog_arm(path);
    if (nc_open(path, NC_NOWRITE, &ncid) == NC_NOERR) {
      if (nc_inq_attlen(ncid, NC_GLOBAL, "history", &n) == NC_NOERR && n > 0 && n < (1u << 20) &&
          PetscCalloc1(n + 1, &parent_history) == 0 && nc_get_att_text(ncid, NC_GLOBAL, "history", parent_history))
        parent_history[0] = 0;
      (void)nc_close(ncid);
    }
    watchdog_disarm();
    len = parent_history ? (long)strlen(parent_history) : 0;
  }
  PetscCallMPI(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
  if (rank && len) PetscCall(PetscCalloc1((size_t)len + 1, &parent_history));
  if (len) {
    PetscMPIInt mlen;
    PetscCall(PetscMPIIntCast((PetscInt64)len, &mlen));
    PetscCallMPI(MPI_Bcast(parent_history, mlen, MPI_CHAR, 0, comm));
  }
  PetscFunctionReturn(0);
}

void ncio_set_modality(const char *modality)
{
  snprintf(bpd_unit, sizeof bpd_unit, "%s", modality && !strcmp(modality, "text") ? "bits/char" : "bits/dim");
}

const char *ncio_bpd_units(void)
{
  return bpd_unit;
}

/* CF title of each kind (doc/formats.md "Common rules"). */
static const char *kind_title(const char *kind)
{
  static const char *const titles[][2] = {
      {"dataset", "ardm data set"},
      {"loss_components", "ardm loss components: per-step loss against t (the number of known dims)"},
      {"checkpoint", "ardm training checkpoint"},
      {"plan", "ardm generation plans for budgets of network calls"},
      {"train_log", "ardm training log"},
      {"eval", "ardm held-out evaluation"},
      {"samples", "ardm samples"}};
  for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
    if (!strcmp(kind, titles[i][0])) return titles[i][1];
  return "ardm file";
}

static PetscErrorCode put_common_atts(ncio_file *f, const char *kind)
{
  char      stamp[32], *history, *options;
  size_t    hlen = sizeof command_line + 64 + (parent_history ? strlen(parent_history) + 1 : 0);
  time_t    now = time(NULL);
  struct tm tmv;

  PetscFunctionBegin;
  gmtime_r(&now, &tmv);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  PetscCall(PetscMalloc1(hlen, &history));
  /* as NCO does: the newest line first, then the input file's history */
  snprintf(history, hlen, "%s: %s%s%s", stamp, command_line[0] ? command_line : "(library call)",
           parent_history && parent_history[0] ? "\n" : "", parent_history ? parent_history : "");
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "Conventions", "CF-1.8"));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "title", kind_title(kind)));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "source", "ardm " ARDM_VERSION " (autoregressive diffusion models)"));
  PetscCall(
      ncio_put_att_text(f, NC_GLOBAL, "references", "Hoogeboom et al., Autoregressive Diffusion Models, ICLR 2022"));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "ardm_kind", kind));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "ardm_version", ARDM_VERSION));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "history", history));
  PetscCall(PetscFree(history));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "command_line", command_line[0] ? command_line : "(library call)"));
  PetscCall(PetscOptionsGetAll(NULL, &options));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "options", options));
  PetscCall(PetscFree(options));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_create(MPI_Comm comm, const char *path, const char *kind, ncio_file *f)
{
  PetscMPIInt rank;
  long        stamp = (long)getpid();
  int         s;

  PetscFunctionBegin;
  memset(f, 0, sizeof *f);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Bcast(&stamp, 1, MPI_LONG, 0, comm)); /* one temporary name for all ranks */
  f->comm = comm;
  f->writing = 1;
  PetscCheck(strlen(path) < sizeof f->path, comm, ARDM_ERR_INPUT, "%s: path too long", path);
  snprintf(f->path, sizeof f->path, "%s", path);
  snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, stamp);
  { /* the directory first: NetCDF reports a missing one as "permission denied" */
    char dir[PATH_MAX], *slash;
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
      dir[1] = 0;
    else
      *slash = 0;
    s = rank == 0 && access(dir, W_OK | X_OK) ? errno : 0;
    PetscCallMPI(MPI_Bcast(&s, 1, MPI_INT, 0, comm));
    ArdmCheckAll(comm, s != ENOENT && s != ENOTDIR, "%s: cannot create the output file (directory %s does not exist)",
                 path, dir);
    ArdmCheckAll(comm, !s, "%s: cannot create the output file (directory %s: %s)", path, dir, strerror(s));
  }
  {
    /* A full disk is found here or in ncio_enddef, before HDF5 starts writing: a write error
       inside HDF5's collective flush leaves the ranks in different collective calls. */
    char   dir[PATH_MAX];
    size_t avail = 0;
    if (rank == 0) {
      dir_of(path, dir, sizeof dir);
      avail = free_bytes(dir);
    }
    PetscCallMPI(MPI_Bcast(&avail, sizeof avail, MPI_BYTE, 0, comm));
    PetscCheck(avail >= NCIO_MIN_FREE, comm, ARDM_ERR_INPUT, "%s: no space left on the device (%zu bytes free)", path,
               avail);
  }
  s = nc_create_par(f->tmp, NC_NETCDF4 | NC_CLOBBER, comm, MPI_INFO_NULL, &f->ncid);
  if (s != NC_NOERR && rank == 0) (void)unlink(f->tmp);
  ArdmCheckAll(comm, s == NC_NOERR, "%s: cannot create the output file (%s)", path,
               s == NC_EPERM || s == EACCES ? "permission denied" : nc_strerror(s));
  pending_add(f);
  PetscCall(put_common_atts(f, kind));
  PetscFunctionReturn(0);
}

/* Gives back the part of the reservation HDF5 did not use (blocks past the end of the file). */
static void release_reserve(const ncio_file *f)
{
  struct stat st;
  int         fd;
  if (!f->reserved || stat(f->tmp, &st)) return;
  if ((size_t)st.st_size >= f->reserved) return;
  fd = open(f->tmp, O_WRONLY);
  if (fd < 0) return;
  (void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)f->reserved - st.st_size);
  close(fd);
}

PetscErrorCode ncio_finish(ncio_file *f)
{
  PetscMPIInt rank;
  PetscFunctionBegin;
  NCCall(f, nc_close(f->ncid));
  f->ncid = 0;
  pending_closed(f);
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  PetscCallMPI(MPI_Barrier(f->comm));
  if (rank == 0) release_reserve(f);
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_publish(ncio_file *f)
{
  PetscMPIInt rank;
  int         err = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  if (rank == 0 && rename(f->tmp, f->path)) err = errno;
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, f->comm));
  if (err && rank == 0) (void)unlink(f->tmp);
  PetscCheck(!err, f->comm, ARDM_ERR_INPUT, "%s: cannot move the finished file into place (%s)", f->path,
             strerror(err));
  pending_remove(f);
  f->writing = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_commit(ncio_file *f)
{
  PetscFunctionBegin;
  PetscCall(ncio_finish(f));
  PetscCall(ncio_publish(f));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_discard(ncio_file *f)
{
  PetscMPIInt rank;
  PetscFunctionBegin;
  if (!f->writing) PetscFunctionReturn(0);
  if (f->ncid) (void)nc_abort(f->ncid);
  f->ncid = 0;
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  if (rank == 0) (void)unlink(f->tmp);
  pending_remove(f);
  f->writing = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_open(MPI_Comm comm, const char *path, const char *kind, ncio_file *f)
{
  int  s;
  char actual[64];

  PetscFunctionBegin;
  memset(f, 0, sizeof *f);
  f->comm = comm;
  PetscCheck(strlen(path) < sizeof f->path, comm, ARDM_ERR_INPUT, "%s: path too long", path);
  snprintf(f->path, sizeof f->path, "%s", path);
  s = access(path, R_OK) ? errno : 0;
  ArdmCheckAll(comm, !s, "%s: cannot read the file (%s)", path, strerror(s));
  PetscCall(ncio_probe(comm, path));
  /* HDF5 can loop forever on a damaged file: the open and the reader's checks are time-limited */
  watchdog_arm(path);
  f->watched = 1;
  s = nc_open_par(path, NC_NOWRITE, comm, MPI_INFO_NULL, &f->ncid);
  ArdmCheckAll(comm, s == NC_NOERR, "%s: not a readable NetCDF-4 file (%s)", path, nc_strerror(s));
  if (kind) {
    PetscBool has;
    PetscCall(ncio_has_att(f, NC_GLOBAL, "ardm_kind", &has));
    PetscCheck(has, comm, ARDM_ERR_INPUT, "%s: not an ardm file (no global attribute ardm_kind); expected kind '%s'",
               path, kind);
    PetscCall(ncio_get_att_text(f, NC_GLOBAL, "ardm_kind", actual, sizeof actual));
    PetscCheck(!strcmp(actual, kind), comm, ARDM_ERR_INPUT, "%s: is an ardm '%s' file, expected '%s'", path, actual,
               kind);
  }
  PetscFunctionReturn(0);
}

void ncio_unwatch(ncio_file *f)
{
  if (f->watched) watchdog_disarm();
  f->watched = 0;
}

PetscErrorCode ncio_close(ncio_file *f)
{
  PetscFunctionBegin;
  ncio_unwatch(f);
  if (f->writing)
    PetscCall(ncio_discard(f));
  else if (f->ncid)
    NCCall(f, nc_close(f->ncid));
  f->ncid = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_def_dim(ncio_file *f, const char *name, size_t len, int *dimid)
{
  PetscFunctionBegin;
  NCCall(f, nc_def_dim(f->ncid, name, len, dimid));
  PetscFunctionReturn(0);
}

/* Chunks of about NCIO_CHUNK_BYTES along the first dimension, whole along the others (at least
   one row). HDF5 filters each chunk on one rank in a parallel write, so NetCDF's default (a
   few large chunks per variable) would leave the other ranks idle and send them the data. */
#define NCIO_CHUNK_BYTES (4 << 20)
static PetscErrorCode def_chunks(ncio_file *f, int varid, nc_type type, int ndims, const int *dimids)
{
  size_t tsz = 1, row = 1, len0 = 0, chunk[NC_MAX_VAR_DIMS];
  PetscFunctionBegin;
  NCCall(f, nc_inq_type(f->ncid, type, NULL, &tsz));
  NCCall(f, nc_inq_dimlen(f->ncid, dimids[0], &len0));
  for (int d = 1; d < ndims; d++) {
    NCCall(f, nc_inq_dimlen(f->ncid, dimids[d], &chunk[d]));
    chunk[d] = PetscMax(chunk[d], 1);
    row *= chunk[d];
  }
  chunk[0] = PetscMax(NCIO_CHUNK_BYTES / (row * tsz), 1);
  if (len0 > 0) chunk[0] = PetscMin(chunk[0], len0); /* 0: an unlimited dimension still empty */
  NCCall(f, nc_def_var_chunking(f->ncid, varid, NC_CHUNKED, chunk));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_def_var(ncio_file *f, const char *name, nc_type type, int ndims, const int *dimids, int *varid)
{
  PetscFunctionBegin;
  NCCall(f, nc_def_var(f->ncid, name, type, ndims, dimids, varid));
  /* every array carries a Fletcher-32 checksum per chunk, which HDF5 checks on every read
     (doc/formats.md "Checksums"); a scalar cannot be chunked, so it has none */
  if (ndims > 0) {
    PetscCall(def_chunks(f, *varid, type, ndims, dimids));
    NCCall(f, nc_def_var_fletcher32(f->ncid, *varid, NC_FLETCHER32));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_put_att_text(ncio_file *f, int varid, const char *name, const char *value)
{
  PetscFunctionBegin;
  NCCall(f, nc_put_att_text(f->ncid, varid, name, strlen(value), value));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_put_att_int(ncio_file *f, int varid, const char *name, int64_t value)
{
  long long v = (long long)value;
  PetscFunctionBegin;
  NCCall(f, nc_put_att_longlong(f->ncid, varid, name, NC_INT64, 1, &v));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_put_att_double(ncio_file *f, int varid, const char *name, double value)
{
  PetscFunctionBegin;
  NCCall(f, nc_put_att_double(f->ncid, varid, name, NC_DOUBLE, 1, &value));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_put_cf(ncio_file *f, int varid, const char *long_name, const char *units)
{
  PetscFunctionBegin;
  PetscCall(ncio_put_att_text(f, varid, "long_name", long_name));
  if (units) PetscCall(ncio_put_att_text(f, varid, "units", units));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_def_coord(ncio_file *f, const char *name, int dimid, const char *long_name, int *varid)
{
  PetscFunctionBegin;
  PetscCall(ncio_def_var(f, name, NC_INT64, 1, &dimid, varid));
  PetscCall(ncio_put_cf(f, *varid, long_name, "1"));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_put_coord(ncio_file *f, int varid, size_t n, int64_t first, const int *values)
{
  PetscMPIInt rank;
  size_t      st = 0, ct;
  long long  *v = NULL;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  ct = rank ? 0 : n;
  PetscCall(PetscMalloc1(ct + 1, &v));
  for (size_t i = 0; i < ct; i++) v[i] = values ? (long long)values[i] : (long long)(first + (int64_t)i);
  PetscCall(ncio_collective(f, varid));
  NCCall(f, nc_put_vara_longlong(f->ncid, varid, &st, &ct, v));
  PetscCall(PetscFree(v));
  PetscFunctionReturn(0);
}

/* An upper bound of the bytes HDF5 will write for the variables and attributes defined so far:
   chunked variables count whole chunks plus an index entry each (unlimited dimensions count
   their current length), attributes their values, and a fixed allowance for the superblock
   and object headers. */
static size_t estimate_bytes(ncio_file *f)
{
  int    nvars = 0, natts = 0;
  size_t total = NCIO_MIN_FREE;
  (void)nc_inq(f->ncid, NULL, &nvars, &natts, NULL);
  for (int v = -1; v < nvars; v++) { /* v = -1: the global attributes */
    if (v >= 0) {
      nc_type t;
      int     nd, dims[NC_MAX_VAR_DIMS], storage = NC_CONTIGUOUS;
      size_t  tsz = 0, chunk[NC_MAX_VAR_DIMS], elems = 1, nchunks = 1;
      (void)nc_inq_var(f->ncid, v, NULL, &t, &nd, dims, &natts);
      (void)nc_inq_type(f->ncid, t, NULL, &tsz);
      (void)nc_inq_var_chunking(f->ncid, v, &storage, chunk);
      for (int d = 0; d < nd; d++) {
        size_t len = 0;
        (void)nc_inq_dimlen(f->ncid, dims[d], &len);
        if (storage == NC_CHUNKED && chunk[d] > 0) {
          nchunks *= (len + chunk[d] - 1) / chunk[d];
          elems *= chunk[d];
        } else
          elems *= len;
      }
      total += 1024 + (storage == NC_CHUNKED ? nchunks * (elems * tsz + 96) : elems * tsz);
    } else
      (void)nc_inq_varnatts(f->ncid, NC_GLOBAL, &natts);
    for (int a = 0; a < natts; a++) {
      char    name[NC_MAX_NAME + 1];
      size_t  len = 0, tsz = 1;
      nc_type t;
      if (nc_inq_attname(f->ncid, v, a, name) || nc_inq_att(f->ncid, v, name, &t, &len)) continue;
      (void)nc_inq_type(f->ncid, t, NULL, &tsz);
      total += 2 * len * tsz + 256;
    }
  }
  return total + total / 8 + (192 << 10);
}

/* Reserves need bytes for the temporary file (rank 0; the file system is shared): returns 0 or
   ENOSPC. fallocate past the end of the file holds the blocks for HDF5's writes; where the file
   system cannot do that, the free space is compared instead. */
static int reserve(ncio_file *f, size_t need)
{
  int fd = open(f->tmp, O_WRONLY), err = 0;
  if (fd < 0) return errno;
  if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)need)) {
    err = errno;
    if (err == EOPNOTSUPP || err == ENOSYS || err == EINVAL) err = free_bytes(f->tmp) >= need ? 0 : ENOSPC;
  } else
    f->reserved = need;
  close(fd);
  return err;
}

PetscErrorCode ncio_enddef(ncio_file *f)
{
  PetscMPIInt rank;
  size_t      need = 0;
  int         err = 0;
  PetscFunctionBegin;
  /* HDF5 allocates and fills the variables in nc_enddef (collectively): the space is reserved
     first, and a full disk is refused on every rank together, naming the file */
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  if (rank == 0) {
    need = estimate_bytes(f);
    err = reserve(f, need);
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, f->comm));
  if (err) {
    PetscCallMPI(MPI_Bcast(&need, sizeof need, MPI_BYTE, 0, f->comm));
    PetscCall(ncio_discard(f));
    PetscCheck(err != ENOSPC && err != EDQUOT, f->comm, ARDM_ERR_INPUT,
               "%s: no space left on the device (the file needs about %zu bytes)", f->path, need);
    PetscCheck(0, f->comm, ARDM_ERR_INPUT, "%s: cannot write the output file (%s)", f->path, strerror(err));
  }
  NCCall(f, nc_enddef(f->ncid));
  PetscFunctionReturn(0);
}

/* mkdir -p: returns 0 or errno. */
static int mkdir_p(const char *dir)
{
  char        p[PATH_MAX];
  struct stat st;
  if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return ENAMETOOLONG;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0777) && errno != EEXIST) return errno;
    *s = '/';
  }
  if (mkdir(p, 0777) && errno != EEXIST) return errno;
  if (stat(p, &st)) return errno;
  if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  return access(p, W_OK | X_OK) ? errno : 0;
}

PetscErrorCode ncio_make_dir(MPI_Comm comm, const char *dir, const char *option)
{
  PetscMPIInt rank;
  int         err = 0;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) err = mkdir_p(dir);
  ArdmCheckAll(comm, !err, "%s %s: not a writable directory (%s)", option, dir, strerror(err));
  PetscFunctionReturn(0);
}
