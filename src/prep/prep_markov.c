/* prep_markov.c: the synthetic Markov-chain data set (see prep_markov.h). */
#include "prep/prep_markov.h"
#include "core/rng.h"
#include <math.h>
#include <stdlib.h>

static double plog2p(double p)
{
  return p > 0 ? p * log2(p) : 0;
}

/* q(w) ~ exp(-w / tau), normalised */
static void jump_distribution(int K, double tau, double *q)
{
  double z = 0;
  for (int w = 0; w < K; w++) z += q[w] = exp(-w / tau);
  for (int w = 0; w < K; w++) q[w] /= z;
}

double markov_entropy_bpd(int K, int64_t D, double p, double tau, int order)
{
  double  h0 = 0, h = 0, *q;
  int64_t r = order < D ? order : D; /* dims drawn from the stationary distribution */
  if (tau <= 0) {                    /* uniform stationary distribution, jumps to the other K - 1 symbols */
    h = -plog2p(p) - (K > 1 ? (1 - p) * log2((1 - p) / (K - 1)) * (p < 1) : 0);
    return ((double)r * log2((double)K) + (double)(D - r) * h) / (double)D;
  }
  PetscCall(PetscMalloc1(K, &q));
  jump_distribution(K, tau, q);
  for (int v = 0; v < K; v++) {
    double hv = -plog2p(p + (1 - p) * q[v]);
    for (int w = 0; w < K; w++)
      if (w != v) hv -= plog2p((1 - p) * q[w]);
    h0 -= plog2p(q[v]);
    h += q[v] * hv;
  }
  free(q);
  return ((double)r * h0 + (double)(D - r) * h) / (double)D;
}

PetscErrorCode markov_write(MPI_Comm comm, const char *path, const char *split, int64_t n, int64_t D, int K,
                            double p_stay, double tau, int order, uint64_t seed)
{
  PetscMPIInt   rank, size;
  dataset       ds;
  dataset_attrs a = {.modality = "sequence"};
  int64_t       lo, hi;
  int32_t      *x;
  double       *cdf = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  snprintf(a.split, sizeof a.split, "%s", split);
  lo = n * rank / size, hi = n * (rank + 1) / size;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &x));
  if (tau > 0) { /* cumulative q for inverse-CDF draws */
    PetscCall(ardm_alloc(sizeof(double) * (size_t)K, &cdf));
    jump_distribution(K, tau, cdf);
    for (int w = 1; w < K; w++) cdf[w] += cdf[w - 1];
  }
  for (int64_t e = lo; e < hi; e++) {
    rng_stream s;
    int32_t   *xe = x + (e - lo) * D;
    rng_init(&s, seed, 0, (uint64_t)e, RNG_DATA);
    for (int64_t i = 0; i < D; i++) {
      if (i >= order && rng_uniform(&s) < p_stay)
        xe[i] = xe[i - order];
      else if (cdf) { /* from q, which is also the stationary start */
        double  u = rng_uniform(&s);
        int32_t w = 0;
        while (w < K - 1 && cdf[w] <= u) w++;
        xe[i] = w;
      } else if (i < order)
        xe[i] = (int32_t)rng_below(&s, (uint64_t)K); /* uniform is stationary */
      else {
        int32_t j = (int32_t)rng_below(&s, (uint64_t)(K - 1));
        xe[i] = j >= xe[i - order] ? j + 1 : j;
      }
    }
  }
  PetscCall(dataset_create(comm, path, n, D, K, PETSC_FALSE, &a, &ds));
  PetscCall(ncio_put_att_double(&ds.f, NC_GLOBAL, "entropy_bpd", markov_entropy_bpd(K, D, p_stay, tau, order)));
  PetscCall(ncio_put_att_double(&ds.f, NC_GLOBAL, "markov_p_stay", p_stay));
  PetscCall(ncio_put_att_double(&ds.f, NC_GLOBAL, "markov_tau", tau));
  PetscCall(ncio_put_att_int(&ds.f, NC_GLOBAL, "markov_order", order));
  PetscCall(dataset_write(&ds, lo, hi - lo, x, NULL));
  PetscCall(dataset_commit(&ds));
  ardm_free(&x);
  ardm_free(&cdf);
  PetscFunctionReturn(0);
}
