/* lossstats.c: accumulation of the per-step loss components and their reduction to the master rank. */
#include "ardm/lossstats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

PetscErrorCode lossstats_init(int64_t S, int64_t D, PetscMPIInt rank, lossstats *ls)
{
  size_t n = (size_t)(S * D);
  PetscFunctionBegin;
  memset(ls, 0, sizeof *ls);
  ls->S = S, ls->D = D, ls->momentum = 0.95;
  PetscCall(ardm_alloc(3 * n * sizeof(double), &ls->local));
  if (rank == 0) {
    PetscCall(ardm_alloc(n * sizeof(int64_t), &ls->count));
    PetscCall(ardm_alloc(n * sizeof(double), &ls->sum));
    PetscCall(ardm_alloc(n * sizeof(double), &ls->sumsq));
    PetscCall(ardm_alloc(n * sizeof(double), &ls->ema));
    for (size_t i = 0; i < n; i++) ls->ema[i] = NAN;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode lossstats_free(lossstats *ls)
{
  PetscFunctionBegin;
  ardm_free(&ls->local);
  ardm_free(&ls->count);
  ardm_free(&ls->sum);
  ardm_free(&ls->sumsq);
  ardm_free(&ls->ema);
  PetscCall(PetscFree(ls->log));
  ls->nlog = ls->caplog = 0;
  PetscFunctionReturn(0);
}

void lossstats_add(lossstats *ls, int64_t s, int64_t t, double bits)
{
  size_t n = (size_t)(ls->S * ls->D), i = (size_t)(s * ls->D + t);
  ls->local[i] += 1;
  ls->local[n + i] += bits;
  ls->local[2 * n + i] += bits * bits;
}

PetscErrorCode lossstats_add_at(lossstats *ls, int64_t step, int64_t slot, int64_t s, int64_t t, double bits)
{
  PetscFunctionBegin;
  if (ls->nlog == ls->caplog) {
    ls->caplog = ls->caplog ? 2 * ls->caplog : 256;
    PetscCall(PetscRealloc((size_t)ls->caplog * sizeof *ls->log, &ls->log));
  }
  ls->log[ls->nlog++] = (lossstats_obs){step, slot, s * ls->D + t, bits};
  lossstats_add(ls, s, t, bits);
  PetscFunctionReturn(0);
}

static int obs_order(const void *a, const void *b)
{
  const lossstats_obs *x = a, *y = b;
  if (x->step != y->step) return x->step < y->step ? -1 : 1;
  return x->slot < y->slot ? -1 : x->slot > y->slot;
}

PetscErrorCode lossstats_log_gather(lossstats *ls, MPI_Comm comm, lossstats_obs **all, int64_t *n)
{
  PetscMPIInt rank, size, mine, *counts = NULL, *displs = NULL;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMPIIntCast((PetscInt64)(ls->nlog * (int64_t)sizeof(lossstats_obs)), &mine));
  *all = NULL, *n = ls->nlog;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, n, 1, MPI_INT64_T, MPI_SUM, comm));
  if (rank == 0) {
    PetscCall(ardm_alloc(2 * (size_t)size * sizeof(PetscMPIInt), &counts));
    displs = counts + size;
    PetscCall(ardm_alloc((size_t)*n * sizeof(lossstats_obs), all));
  }
  PetscCallMPI(MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
  for (PetscMPIInt r = 1; rank == 0 && r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCallMPI(MPI_Gatherv(ls->log, mine, MPI_BYTE, *all, counts, displs, MPI_BYTE, 0, comm));
  if (rank == 0 && *n > 1) qsort(*all, (size_t)*n, sizeof(lossstats_obs), obs_order);
  ardm_free(&counts);
  PetscFunctionReturn(0);
}

PetscErrorCode lossstats_log_restore(lossstats *ls, MPI_Comm comm, int64_t lo, int64_t hi, int64_t B, PetscBool active)
{
  PetscMPIInt    rank, bytes;
  int64_t        n;
  lossstats_obs *all = NULL;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  n = rank == 0 ? ls->nlog : 0;
  PetscCallMPI(MPI_Bcast(&n, 1, MPI_INT64_T, 0, comm));
  if (n == 0) PetscFunctionReturn(0);
  PetscCall(PetscMPIIntCast((PetscInt64)(n * (int64_t)sizeof(lossstats_obs)), &bytes));
  PetscCall(ardm_alloc((size_t)n * sizeof(lossstats_obs), &all));
  if (rank == 0) PetscCall(PetscArraycpy(all, ls->log, n));
  PetscCallMPI(MPI_Bcast(all, bytes, MPI_BYTE, 0, comm));
  ls->nlog = 0;
  for (int64_t i = 0; i < n && active; i++) { /* slots beyond a smaller -batch go to the last replica */
    int64_t slot = PetscMin(all[i].slot, B - 1);
    if (slot >= lo && slot < hi)
      PetscCall(
          lossstats_add_at(ls, all[i].step, all[i].slot, all[i].index / ls->D, all[i].index % ls->D, all[i].bits));
  }
  ardm_free(&all);
  PetscFunctionReturn(0);
}

PetscErrorCode lossstats_reduce(lossstats *ls, MPI_Comm comm)
{
  size_t      n = (size_t)(ls->S * ls->D);
  PetscMPIInt rank, n3;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMPIIntCast((PetscInt64)(3 * n), &n3));
  PetscCallMPI(MPI_Reduce(rank ? ls->local : MPI_IN_PLACE, ls->local, n3, MPI_DOUBLE, MPI_SUM, 0, comm));
  if (rank == 0) {
    for (size_t i = 0; i < n; i++) {
      double c = ls->local[i];
      if (c == 0) continue;
      ls->count[i] += (int64_t)c;
      ls->sum[i] += ls->local[n + i];
      ls->sumsq[i] += ls->local[2 * n + i];
      /* the reference's EMA is per observation; a batch's observations of one t are averaged
         first so the estimate does not depend on how examples were grouped into batches */
      double mean = ls->local[n + i] / c;
      ls->ema[i] = isnan(ls->ema[i]) ? mean : ls->momentum * ls->ema[i] + (1 - ls->momentum) * mean;
    }
  }
  memset(ls->local, 0, 3 * n * sizeof(double));
  ls->nlog = 0;
  PetscFunctionReturn(0);
}

double lossstats_bpd(const lossstats *ls)
{
  double  total = 0;
  int64_t seen = 0, n = ls->S * ls->D;
  for (int64_t i = 0; i < n; i++)
    if (ls->count[i]) total += ls->sum[i] / (double)ls->count[i], seen++;
  return seen ? total / (double)seen * (double)ls->S : NAN;
}
