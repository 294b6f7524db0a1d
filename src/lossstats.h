/* lossstats.h: per-step loss components of the ARDM objective (ARDM.md section 2). Every rank
   accumulates, for each (stage, t), the count, sum and sum of squares of the per-dim loss
   S/(D - t) in bits of its examples; at each log interval these are reduced to rank 0, which
   keeps the cumulative mean and the reference's EMA (momentum 0.95 per t) and writes the
   loss-components file (DESIGN.md contract). */
#ifndef ARDM_LOSSSTATS_H
#define ARDM_LOSSSTATS_H
#include "ncio.h"

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
/* Rank 0's estimates into an open file in define mode (dims stage, t; vars loss, count,
   loss_sq, loss_ema); then writes them. Collective (other ranks write nothing). */
PetscErrorCode lossstats_write(lossstats *ls, ncio_file *f);
/* Complete loss-components file at path (temporary name, then rename). */
PetscErrorCode lossstats_save(lossstats *ls, MPI_Comm comm, const char *path);
/* Mean over all (stage, t) with observations of the cumulative means, times S: bits/dim. */
double lossstats_bpd(const lossstats *ls);
#endif
