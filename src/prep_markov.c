/* prep_markov.c: the synthetic Markov-chain data set (see prep_markov.h). */
#include "prep_markov.h"
#include "rng.h"
#include <math.h>

double markov_entropy_bpd(int K, int64_t D, double p)
{
  double h = -(p > 0 ? p * log2(p) : 0) - (p < 1 ? (1 - p) * log2((1 - p) / (K - 1)) : 0);
  return (log2((double)K) + (double)(D - 1) * h) / (double)D;
}

PetscErrorCode markov_write(MPI_Comm comm, const char *path, const char *split, int64_t n, int64_t D, int K,
                            double p_stay, uint64_t seed)
{
  PetscMPIInt   rank, size;
  dataset       ds;
  dataset_attrs a = {.modality = "sequence"};
  int64_t       lo, hi;
  int32_t      *x;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  snprintf(a.split, sizeof a.split, "%s", split);
  lo = n * rank / size, hi = n * (rank + 1) / size;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &x));
  for (int64_t e = lo; e < hi; e++) {
    rng_stream s;
    int32_t   *xe = x + (e - lo) * D;
    rng_init(&s, seed, 0, (uint64_t)e, RNG_DATA);
    xe[0] = (int32_t)rng_below(&s, (uint64_t)K); /* the uniform distribution is stationary */
    for (int64_t i = 1; i < D; i++) {
      if (rng_uniform(&s) < p_stay) xe[i] = xe[i - 1];
      else {
        int32_t j = (int32_t)rng_below(&s, (uint64_t)(K - 1));
        xe[i] = j >= xe[i - 1] ? j + 1 : j;
      }
    }
  }
  PetscCall(dataset_create(comm, path, n, D, K, PETSC_FALSE, &a, &ds));
  PetscCall(ncio_put_att_double(&ds.f, NC_GLOBAL, "entropy_bpd", markov_entropy_bpd(K, D, p_stay)));
  PetscCall(ncio_put_att_double(&ds.f, NC_GLOBAL, "markov_p_stay", p_stay));
  PetscCall(dataset_write(&ds, lo, hi - lo, x, NULL));
  PetscCall(dataset_commit(&ds));
  ardm_free(&x);
  PetscFunctionReturn(0);
}
