/* trainlog.c: training log records and their NetCDF file (see trainlog.h). */
#include "io/trainlog.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const fields[] = {"loss", "bpd", "lr", "grad_norm", "examples_per_s", "wall_s"};
#define NFIELDS 6
/* CF long_name and units of each field (the first two in the data's per-dim unit) */
static const char *const long_names[] = {
    "training loss", "negative ELBO (batch mean)", "learning rate", "gradient norm", "throughput", "wall-clock time"};
static const char *const comments[] = {"stochastic ELBO plus the cross-entropy term (doc/method.md section 1)",
                                       "stochastic estimate on the global batch",
                                       "used in that step",
                                       "global, before clipping",
                                       "examples per second since this invocation started",
                                       "seconds since this invocation started (0 again after a resume)"};
static const char *const units[] = {"bits/dim", "bits/dim", "1", "1", "examples/s", "s"};

PetscErrorCode trainlog_append(trainlog *log, const trainlog_record *r)
{
  PetscFunctionBegin;
  if (log->n == log->cap) {
    log->cap = log->cap ? 2 * log->cap : 1024;
    PetscCall(PetscRealloc(sizeof(trainlog_record) * (size_t)log->cap, &log->rec));
  }
  log->rec[log->n++] = *r;
  PetscFunctionReturn(0);
}

PetscErrorCode trainlog_free(trainlog *log)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(log->rec));
  memset(log, 0, sizeof *log);
  PetscFunctionReturn(0);
}

PetscErrorCode trainlog_save(trainlog *log, MPI_Comm comm, const char *path)
{
  ncio_file   f;
  int         dim, vstep, vid[NFIELDS];
  PetscMPIInt rank;
  size_t      start = 0, count;
  int64_t     nrec;
  double     *col = NULL;
  long long  *steps = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  count = rank ? 0 : (size_t)log->n;
  PetscCall(ncio_create(comm, path, "train_log", &f));
  /* a fixed length (all records are rewritten each time), so ncio_enddef can reserve the space;
     an empty log keeps an unlimited dimension, as NetCDF has no fixed dimensions of length 0 */
  nrec = log->n;
  PetscCallMPI(MPI_Bcast(&nrec, 1, MPI_INT64_T, 0, comm));
  PetscCall(ncio_def_dim(&f, "step", nrec ? (size_t)nrec : NC_UNLIMITED, &dim));
  PetscCall(ncio_def_coord(&f, "step", dim, "optimizer step", &vstep));
  for (int i = 0; i < NFIELDS; i++) {
    PetscCall(ncio_def_var(&f, fields[i], NC_DOUBLE, 1, &dim, &vid[i]));
    PetscCall(ncio_put_cf(&f, vid[i], long_names[i], i < 2 ? ncio_bpd_units() : units[i]));
    PetscCall(ncio_put_att_text(&f, vid[i], "comment", comments[i]));
  }
  PetscCall(ncio_enddef(&f));
  PetscCall(ardm_alloc((count + 1) * sizeof(double), &col));
  PetscCall(ardm_alloc((count + 1) * sizeof(long long), &steps));
  for (size_t j = 0; j < count; j++) steps[j] = (long long)log->rec[j].step;
  PetscCall(ncio_collective(&f, vstep));
  NCCall(&f, nc_put_vara_longlong(f.ncid, vstep, &start, &count, steps));
  for (int i = 0; i < NFIELDS; i++) {
    for (size_t j = 0; j < count; j++) col[j] = (&log->rec[j].loss)[i];
    PetscCall(ncio_collective(&f, vid[i]));
    NCCall(&f, nc_put_vara_double(f.ncid, vid[i], &start, &count, col));
  }
  ardm_free(&col);
  ardm_free(&steps);
  PetscCall(ncio_commit(&f));
  PetscFunctionReturn(0);
}

PetscErrorCode trainlog_load(trainlog *log, MPI_Comm comm, const char *path, int64_t max_step)
{
  ncio_file   f;
  size_t      n;
  int         vstep, vid[NFIELDS];
  PetscMPIInt rank;
  double     *col;
  long long  *steps;

  PetscFunctionBegin;
  log->n = 0;
  if (access(path, R_OK)) PetscFunctionReturn(0); /* identical on all ranks (shared file system) */
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(ncio_open(comm, path, "train_log", &f));
  PetscCall(ncio_dim(&f, "step", &n));
  PetscCall(ncio_var(&f, "step", 1, NULL, 0, NULL, &vstep, NULL));
  for (int i = 0; i < NFIELDS; i++) PetscCall(ncio_var(&f, fields[i], 1, NULL, 0, NULL, &vid[i], NULL));
  PetscCall(ardm_alloc((n + 1) * sizeof(double) * NFIELDS, &col));
  PetscCall(ardm_alloc((n + 1) * sizeof(long long), &steps));
  if (n) {
    NCRead(&f, vstep, nc_get_var_longlong(f.ncid, vstep, steps));
    for (int i = 0; i < NFIELDS; i++) NCRead(&f, vid[i], nc_get_var_double(f.ncid, vid[i], col + (size_t)i * n));
  }
  for (size_t j = 0; rank == 0 && j < n; j++) {
    trainlog_record r = {.step = steps[j]};
    if (r.step > max_step) break;
    for (int i = 0; i < NFIELDS; i++) (&r.loss)[i] = col[(size_t)i * n + j];
    PetscCall(trainlog_append(log, &r));
  }
  ardm_free(&col);
  ardm_free(&steps);
  PetscCall(ncio_close(&f));
  PetscFunctionReturn(0);
}
