/* lossstats.h: per-step loss components of the ARDM objective (doc/method.md section 2). Every rank
   accumulates, for each (stage, t), the count, sum and sum of squares of the per-dim loss
   -(sum of target log-probs)/((D - t) ln 2), in bits, of its examples; at each log interval
   these are reduced to rank 0, which keeps the cumulative mean and an EMA (momentum 0.95,
   updated once per interval); io/lossfile.h writes them. Training also logs each observation
   since the last reduction with its (step, batch slot), so that a checkpoint taken between two
   reductions can save them and a resumed run re-adds them in the same order (exact restart). */
#ifndef ARDM_LOSSSTATS_H
#define ARDM_LOSSSTATS_H
#include "core/ardm.h"

typedef struct {
  int64_t step, slot; /* optimizer step and slot in the global batch of the example */
  int64_t index;      /* stage * D + t */
  double  bits;
} lossstats_obs;

typedef struct {
  int64_t        S, D;  /* stages x steps per stage */
  double        *local; /* [3][S*D]: count, sum, sum of squares since the last reduction */
  lossstats_obs *log;   /* lossstats_add_at: the observations behind local, in (step, slot) order */
  int64_t        nlog, caplog;
  /* rank 0 only: */
  int64_t *count;             /* [S*D] */
  double  *sum, *sumsq, *ema; /* [S*D]; ema is NaN where never seen */
  double   momentum;
} lossstats;

PetscErrorCode lossstats_init(int64_t S, int64_t D, PetscMPIInt rank, lossstats *ls);
PetscErrorCode lossstats_free(lossstats *ls);
/* One observation: an example at stage s with t known dims had per-dim loss `bits`. */
void lossstats_add(lossstats *ls, int64_t s, int64_t t, double bits);
/* lossstats_add, also logged with the example's step and batch slot (training). */
PetscErrorCode lossstats_add_at(lossstats *ls, int64_t step, int64_t slot, int64_t s, int64_t t, double bits);
/* Collective: every rank's logged observations since the last reduction, merged on rank 0 into
   (step, slot) order (*all, free with ardm_free; NULL elsewhere), independent of the rank count;
   *n, their number, on every rank. */
PetscErrorCode lossstats_log_gather(lossstats *ls, MPI_Comm comm, lossstats_obs **all, int64_t *n);
/* Collective, on resume: rank 0's log (read from a checkpoint) goes to the ranks whose batch
   slots [lo, hi) of a global batch B hold them (active: this rank accumulates statistics), which
   re-add them in order; the local sums are then those of the run that wrote the checkpoint. */
PetscErrorCode lossstats_log_restore(lossstats *ls, MPI_Comm comm, int64_t lo, int64_t hi, int64_t B, PetscBool active);
/* Collective: adds every rank's local sums into rank 0's running estimates and clears them
   and the log. */
PetscErrorCode lossstats_reduce(lossstats *ls, MPI_Comm comm);
/* Mean over all (stage, t) with observations of the cumulative means, times S: bits/dim. */
double lossstats_bpd(const lossstats *ls);
#endif
