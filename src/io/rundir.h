/* rundir.h: the run directory of `ardm train` (doc/formats.md "Run directory"): one run at a
   time holds it through an fcntl write lock on RUN/.lock (released by the kernel when the job
   ends in any way), and a fresh run does not mix with another run's checkpoints: it refuses a
   directory that holds them unless asked to overwrite, and then removes train's own files. */
#ifndef ARDM_RUNDIR_H
#define ARDM_RUNDIR_H
#include "core/ardm.h"

typedef struct {
  int fd; /* rank 0: the open lock file (-1: none); closing it releases the lock */
} rundir_lock;

/* Collective: rank 0 takes the write lock on DIR/.lock and records its pid and host in it. When
   another process holds it every rank fails together (exit 1) with a message naming the holder.
   Holding it, rank 0 removes the temporaries of train's files that a killed run left behind. */
PetscErrorCode rundir_lock_take(MPI_Comm comm, const char *dir, rundir_lock *lk);
PetscErrorCode rundir_lock_release(rundir_lock *lk);
/* Collective, for a run that starts from scratch (resume: -resume found no checkpoint.nc): when
   DIR holds checkpoint.nc or ckpt-*.nc (another run), fails together with a message pointing to
   -resume and -overwrite. With overwrite, rank 0 instead removes train's own files
   (checkpoint.nc, ckpt-*.nc, train_log.nc, loss_t.nc, plan.nc, plan-*.nc and their temporary
   and link names); other files in DIR stay. */
PetscErrorCode rundir_prepare_fresh(MPI_Comm comm, const char *dir, PetscBool resume, PetscBool overwrite);
#endif
