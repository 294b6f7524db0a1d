/* objective.h: the random draws of the ARDM objective and of the data order, each a pure
   function of (seed, step, global slot or example index, purpose), so a run gives the same
   numbers on any number of ranks (doc/design.md "Parallel decomposition"). */
#ifndef ARDM_OBJECTIVE_H
#define ARDM_OBJECTIVE_H
#include "core/ardm.h"
#include "core/rng.h"

/* t for global batch slot `slot` of step `step`, uniform over 0..T-1 (T = S*D). Antithetic
   (stratified) draws share one uniform u per step: t = floor((slot + u) / batch * T), so the
   global batch covers 0..T-1 evenly while each t stays uniform. */
int64_t objective_draw_t(uint64_t seed, int64_t step, int64_t slot, int64_t batch, int64_t T, PetscBool antithetic,
                         rng_purpose purpose);
/* sigma[i] = the step (0..D-1) at which dim i is generated: a uniform random permutation. */
void objective_draw_order(uint64_t seed, int64_t step, int64_t slot, int64_t D, rng_purpose purpose, int64_t *sigma);
/* Stochastic ELBO weight (doc/method.md section 1 and 3): one example's estimate of -log p(x) in
   bits per dim is -weight * logp with weight = S / ((D - t_in) ln 2). */
double objective_bpd_weight(int64_t S, int64_t D, int64_t t_in);

/* Augmentation (doc/method.md section 4, "Flips"): whether slot `slot` of step `step` sees its
   image mirrored left to right (probability 1/2, keyed like t, so any number of ranks agrees). */
PetscBool objective_draw_flip(uint64_t seed, int64_t step, int64_t slot);
/* Mirrors one channel-planar image x [C][H][W] left to right in place. */
void objective_flip_image(int32_t *x, int64_t C, int64_t H, int64_t W);

/* Per-epoch shuffled data order over n examples (epoch e's permutation keyed by (seed, e)). */
typedef struct {
  uint64_t seed;
  int64_t  n, epoch; /* epoch whose permutation is in perm; -1: none yet */
  int64_t *perm;     /* [n] */
} data_order;

PetscErrorCode data_order_init(uint64_t seed, int64_t n, data_order *o);
PetscErrorCode data_order_free(data_order *o);
/* The example at global position p (p = examples consumed before it). */
int64_t data_order_example(data_order *o, int64_t p);
#endif
