/* lossstats.c: accumulation of the per-step loss components and their reduction to the master rank. */
#include "ardm/lossstats.h"
#include <math.h>
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
  PetscFunctionReturn(0);
}

void lossstats_add(lossstats *ls, int64_t s, int64_t t, double bits)
{
  size_t n = (size_t)(ls->S * ls->D), i = (size_t)(s * ls->D + t);
  ls->local[i] += 1;
  ls->local[n + i] += bits;
  ls->local[2 * n + i] += bits * bits;
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
