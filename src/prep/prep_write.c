/* prep_write.c: output directory and all-or-nothing writing of the splits (prep_write.h). */
#include "prep/prep_write.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BYTES (16 << 20) /* staging buffer for one collective write (int32 values) */

PetscErrorCode prep_out_dir(MPI_Comm comm, const char *dir)
{
  PetscFunctionBegin;
  PetscCheck(dir[0], comm, ARDM_ERR_INPUT, "missing -out DIR: the directory for train.nc, valid.nc and test.nc");
  PetscCall(ncio_make_dir(comm, dir, "-out"));
  PetscFunctionReturn(0);
}

PetscErrorCode prep_parts_sum(MPI_Comm comm, prep_part part[NSPLITS])
{
  int64_t     cnt[NSPLITS], start[NSPLITS] = {0}, total[NSPLITS];
  PetscMPIInt rank;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  for (int s = 0; s < NSPLITS; s++) cnt[s] = part[s].count;
  PetscCallMPI(MPI_Exscan(cnt, start, NSPLITS, MPI_INT64_T, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(cnt, total, NSPLITS, MPI_INT64_T, MPI_SUM, comm));
  for (int s = 0; s < NSPLITS; s++) {
    part[s].start = rank ? start[s] : 0; /* MPI_Exscan leaves rank 0's result undefined */
    part[s].total = total[s];
  }
  PetscFunctionReturn(0);
}

/* Writes this rank's rows of one split through a staging buffer, in as many collective
   calls as the rank with the most rows needs (the others pass count 0). */
static PetscErrorCode write_rows(MPI_Comm comm, dataset *ds, const prep_data *d, const prep_part *p, int32_t *x,
                                 int32_t *lab, int64_t chunk)
{
  int64_t calls = (p->count + chunk - 1) / chunk, done = 0;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &calls, 1, MPI_INT64_T, MPI_MAX, comm));
  for (int64_t c = 0; c < calls; c++) {
    int64_t m = p->count - done < chunk ? p->count - done : chunk;
    for (int64_t i = 0; i < m; i++) {
      int64_t  row = p->rows[done + i];
      int32_t *xi = x + i * d->D; /* x[m][D] */
      if (d->u16)
        for (int64_t j = 0; j < d->D; j++) xi[j] = d->u16[row * d->D + j];
      else
        for (int64_t j = 0; j < d->D; j++) xi[j] = d->u8[row * d->D + j];
      if (d->has_label) lab[i] = d->label[row];
    }
    PetscCall(dataset_write(ds, p->start + done, m, x, d->has_label ? lab : NULL));
    done += m;
  }
  PetscFunctionReturn(0);
}

/* Creates and fills every non-empty split; stops at the first error (returned). */
static PetscErrorCode write_all(MPI_Comm comm, const char *dir, const prep_data *d, const prep_part part[NSPLITS],
                                dataset ds[NSPLITS], int open[NSPLITS])
{
  char          path[PATH_MAX + 16];
  dataset_attrs attrs = d->attrs;
  int64_t       chunk = WRITE_BYTES / (4 * d->D);
  int32_t      *x = NULL, *lab = NULL;
  PetscFunctionBegin;
  if (chunk < 1) chunk = 1;
  for (int s = 0; s < NSPLITS; s++) {
    if (!part[s].total) continue;
    snprintf(path, sizeof path, "%s/%s.nc", dir, split_names[s]);
    snprintf(attrs.split, sizeof attrs.split, "%s", split_names[s]);
    PetscCall(dataset_create(comm, path, part[s].total, d->D, d->K, d->has_label, &attrs, &ds[s]));
    open[s] = 1;
  }
  PetscCall(ardm_alloc((size_t)(chunk * d->D) * sizeof(int32_t), &x));
  PetscCall(ardm_alloc((size_t)chunk * sizeof(int32_t), &lab));
  for (int s = 0; s < NSPLITS; s++)
    if (open[s]) PetscCall(write_rows(comm, &ds[s], d, &part[s], x, lab, chunk));
  ardm_free(&x);
  ardm_free(&lab);
  PetscFunctionReturn(0);
}

PetscErrorCode prep_write_sets(MPI_Comm comm, const char *dir, const prep_data *d, const prep_part part[NSPLITS])
{
  dataset        ds[NSPLITS];
  int            open[NSPLITS] = {0};
  PetscErrorCode ierr;
  PetscMPIInt    rank;
  char           path[PATH_MAX + 16];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  memset(ds, 0, sizeof ds);
  ierr = write_all(comm, dir, d, part, ds, open);
  if (ierr) { /* nothing half-written stays behind; the error was reported where raised */
    for (int s = 0; s < NSPLITS; s++)
      if (open[s]) (void)dataset_discard(&ds[s]);
    PetscFunctionReturn(ierr);
  }
  /* every split is closed under its temporary name before any is renamed, so a failure (a full
     disk at close) never leaves new splits next to an old one */
  for (int s = 0; s < NSPLITS; s++)
    if (open[s]) PetscCall(ncio_finish(&ds[s].f));
  for (int s = 0; s < NSPLITS; s++) {
    snprintf(path, sizeof path, "%s/%s.nc", dir, split_names[s]);
    if (open[s]) {
      PetscCall(ncio_publish(&ds[s].f));
      PetscCall(PetscPrintf(comm, "ardm prep: wrote %s: %lld examples x %lld dims\n", path, (long long)part[s].total,
                            (long long)d->D));
    } else if (rank == 0 && !access(path, F_OK) && !unlink(path)) {
      /* an old file would otherwise be taken for this run's split */
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "ardm prep: removed stale %s (this run has no %s examples)\n", path,
                            split_names[s]));
    }
  }
  PetscFunctionReturn(0);
}
