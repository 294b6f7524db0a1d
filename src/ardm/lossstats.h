/* lossstats.h: per-step loss components of the ARDM objective (doc/method.md section 2). Every rank
   accumulates, for each (stage, t), the count, sum and sum of squares of the per-dim loss
   -(sum of target log-probs)/((D - t) ln 2), in bits, of its examples; at each log interval
   these are reduced to rank 0, which keeps the cumulative mean and an EMA (momentum 0.95,
   updated once per interval); io/lossfile.h writes them. */
#ifndef ARDM_LOSSSTATS_H
#define ARDM_LOSSSTATS_H
#include "core/ardm.h"

typedef struct {
  int64_t S, D;  /* stages x steps per stage */
  double *local; /* [3][S*D]: count, sum, sum of squares since the last reduction */
  /* rank 0 only: */
  int64_t *count;             /* [S*D] */
  double  *sum, *sumsq, *ema; /* [S*D]; ema is NaN where never seen */
  double   momentum;
} lossstats;

PetscErrorCode lossstats_init(int64_t S, int64_t D, PetscMPIInt rank, lossstats *ls);
PetscErrorCode lossstats_free(lossstats *ls);
/* One observation: an example at stage s with t known dims had per-dim loss `bits`. */
void lossstats_add(lossstats *ls, int64_t s, int64_t t, double bits);
/* Collective: adds every rank's local sums into rank 0's running estimates and clears them. */
PetscErrorCode lossstats_reduce(lossstats *ls, MPI_Comm comm);
/* Mean over all (stage, t) with observations of the cumulative means, times S: bits/dim. */
double lossstats_bpd(const lossstats *ls);
#endif
