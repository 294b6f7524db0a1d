/* ncio.h: parallel NetCDF-4 files the ardm way: collective create/open on a communicator,
   the common global attributes (ardm_kind, ardm_version, history, options), atomic commit
   (write to a temporary name, rename when complete) and contract checks with one clear
   message naming the file. All functions are collective over f->comm unless noted. */
#ifndef ARDM_NCIO_H
#define ARDM_NCIO_H
#include "core/ardm.h"
#include <limits.h>
#include <netcdf.h>
#include <netcdf_par.h>

typedef struct {
  MPI_Comm comm;
  int      ncid;
  int      writing;        /* created by ncio_create: commit renames tmp -> path */
  char     path[PATH_MAX]; /* the final name */
  char     tmp[PATH_MAX + 32];
  size_t   reserved; /* bytes reserved for tmp by ncio_enddef (rank 0), released by ncio_finish */
  int      watched;  /* opened for reading under the watchdog (core/watchdog.h) until ncio_unwatch/close */
} ncio_file;

/* Free space below which no output file is started (bytes): a NetCDF-4 file's header. */
#define NCIO_MIN_FREE (64 << 10)

/* Internal NetCDF failure (not the user's fault): aborts with the NetCDF message. */
#define NCCall(f, call)                                                                                                \
  do {                                                                                                                 \
    int ncs_ = (call);                                                                                                 \
    PetscCheck(ncs_ == NC_NOERR, PETSC_COMM_SELF, PETSC_ERR_LIB, "%s: NetCDF error in %s: %s", (f)->path, #call,       \
               nc_strerror(ncs_));                                                                                     \
  } while (0)

/* Sets Open MPI's MPI-IO environment before MPI_Init (every program that opens NetCDF files in
   parallel calls it first): ROMIO, which creates no file beside the ones ardm writes; a choice
   the user made in the environment (OMPI_MCA_io) is kept. */
void ncio_mpi_env(void);

/* The command line recorded in the history attribute of every file created afterwards
   (main sets it once; library callers that never do get "(library call)"). */
void ncio_set_command_line(const char *line);
/* The file this command derives its outputs from (its main input, e.g. the checkpoint for
   eval): its history is appended below ours in every file created afterwards, as NCO does.
   Collective; an unreadable or history-less file adds nothing. */
PetscErrorCode ncio_set_parent(MPI_Comm comm, const char *path);
/* The data's modality sets the unit of per-dim losses: bits/char for text, else bits/dim. */
void        ncio_set_modality(const char *modality);
const char *ncio_bpd_units(void);

/* Creates PATH.tmp.<pid-of-rank-0> for collective writing, in define mode, with the global
   attributes Conventions (CF-1.8), title, source, references, ardm_kind = kind, ardm_version,
   history (date and command line, then the parent's history), command_line and options.
   An unwritable directory is an input error naming the path. */
PetscErrorCode ncio_create(MPI_Comm comm, const char *path, const char *kind, ncio_file *f);
/* Closes and atomically renames the temporary file to its final name (ncio_finish, then
   ncio_publish: callers writing several files that belong together finish all first). */
PetscErrorCode ncio_commit(ncio_file *f);
PetscErrorCode ncio_finish(ncio_file *f);
PetscErrorCode ncio_publish(ncio_file *f);
/* On a failed command: forgets every file still being written and removes its temporary
   name; collective = 1 only when every rank stopped at the same point (an input error). */
void ncio_abandon_all(int collective);
/* Closes and deletes the temporary file (on error paths; never touches f->path). */
PetscErrorCode ncio_discard(ncio_file *f);

/* The reader has checked the file's header: the reads that follow (a data set's examples during
   training) are no longer under the watchdog's time limit, which ncio_open starts. */
void ncio_unwatch(ncio_file *f);

/* Whether the HDF5 library survives reading path's metadata: rank 0 runs a child ardm process
   (ncio_probe_main) that opens it with the serial library and walks every group, variable and
   attribute; the child refusing its format, crashing, or making no progress for ARDM_IO_TIMEOUT
   is an input error naming the file on every rank. Once per unchanged file. Library users (no
   watchdog_init) get the serial open in their own process, without the walk. ncio_open and
   ncio_set_parent call it. */
PetscErrorCode ncio_probe(MPI_Comm comm, const char *path);
/* The child's side: `ardm --ncio-probe PATH PARENT_PID` (main calls it before MPI or PETSc);
   returns the process's exit code. */
#define NCIO_PROBE_ARG "--ncio-probe"
int ncio_probe_main(const char *path, long parent);

/* Opens an existing file read-only; when kind is not NULL, checks its ardm_kind. Missing or
   unreadable files and wrong kinds are input errors naming the file. */
PetscErrorCode ncio_open(MPI_Comm comm, const char *path, const char *kind, ncio_file *f);
PetscErrorCode ncio_close(ncio_file *f);

/* Define mode helpers. ncio_enddef reserves the file's space first (an upper bound from the
   definitions) so that a full disk is an input error on every rank, "no space left", before
   HDF5 writes anything collectively. */
PetscErrorCode ncio_def_dim(ncio_file *f, const char *name, size_t len, int *dimid);
/* Every variable with dimensions is chunked (about 4 MiB per chunk along its first dimension;
   a caller may set other chunks before ncio_enddef) and carries a Fletcher-32 checksum. */
PetscErrorCode ncio_def_var(ncio_file *f, const char *name, nc_type type, int ndims, const int *dimids, int *varid);
PetscErrorCode ncio_put_att_text(ncio_file *f, int varid, const char *name, const char *value);
PetscErrorCode ncio_put_att_int(ncio_file *f, int varid, const char *name, int64_t value);
PetscErrorCode ncio_put_att_double(ncio_file *f, int varid, const char *name, double value);
PetscErrorCode ncio_enddef(ncio_file *f);
/* CF long_name and units (units NULL: none) of a variable. */
PetscErrorCode ncio_put_cf(ncio_file *f, int varid, const char *long_name, const char *units);
/* A CF coordinate variable: int64 NAME(NAME) over dimension dimid, with long_name and units 1. */
PetscErrorCode ncio_def_coord(ncio_file *f, const char *name, int dimid, const char *long_name, int *varid);
/* Writes a coordinate (data mode, collective, rank 0's values): values[0..n) when values is not
   NULL, else first, first + 1, ..., first + n - 1. */
PetscErrorCode ncio_put_coord(ncio_file *f, int varid, size_t n, int64_t first, const int *values);

/* Contract checks (input errors name the file and what was expected). */
PetscErrorCode ncio_dim(ncio_file *f, const char *name, size_t *len);
/* Checks variable `name` exists with the given rank and dimension names (NULL entries: any),
   and one of the allowed types (ntypes of them); returns its id and actual type. */
PetscErrorCode ncio_var(ncio_file *f, const char *name, int ndims, const char *const *dimnames, int ntypes,
                        const nc_type *types, int *varid, nc_type *type);
PetscErrorCode ncio_has_var(ncio_file *f, const char *name, PetscBool *has);
PetscErrorCode ncio_get_att_text(ncio_file *f, int varid, const char *name, char *value, size_t len);
PetscErrorCode ncio_get_att_int(ncio_file *f, int varid, const char *name, int64_t *value);
PetscErrorCode ncio_get_att_double(ncio_file *f, int varid, const char *name, double *value);
PetscErrorCode ncio_has_att(ncio_file *f, int varid, const char *name, PetscBool *has);

/* mkdir -p DIR on rank 0 and check it is a writable directory; an input error on every rank
   naming the option (e.g. "-out") otherwise. Collective. */
PetscErrorCode ncio_make_dir(MPI_Comm comm, const char *dir, const char *option);

/* Collective access mode for a variable (all ranks call every read/write, possibly count 0). */
PetscErrorCode ncio_collective(ncio_file *f, int varid);
/* After a read of variable varid that every rank made (status: its NetCDF result): a failure on
   any rank is an input error on every rank naming the file and the variable, "checksum
   mismatch in variable 'V' (the file is corrupted)" where V has a checksum, else "cannot read
   variable 'V' (NetCDF's message)". Collective. */
PetscErrorCode ncio_read_check(ncio_file *f, int varid, int status);
/* A collective read checked by ncio_read_check (in a function returning PetscErrorCode). */
#define NCRead(f, varid, call) PetscCall(ncio_read_check((f), (varid), (call)))
#endif
