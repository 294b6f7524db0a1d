/* prep_markov.h: synthetic 1-D data with a known entropy, for tests and benchmarks: a
   stationary first-order Markov chain over K symbols that stays with probability p and
   otherwise jumps: to one of the other K - 1 symbols uniformly (tau = 0), or to a symbol w drawn
   from q(w) ~ exp(-w / tau) (tau > 0; q is then the stationary distribution, so with p = 0 the
   dims are independent draws from q).
   Order R (>= 1): dim i depends on dim i - R only (the first R dims are drawn from the
   stationary distribution), so the sequence is R interleaved first-order chains, one per
   residue of i mod R: an order-R chain whose exact entropy is still known, and which a model can
   only learn by finding the dim R back (R = 1 is the plain chain). */
#ifndef ARDM_PREP_MARKOV_H
#define ARDM_PREP_MARKOV_H
#include "io/dataset.h"

/* Exact entropy of one sequence of D symbols, in bits per dim: (r H(pi) + (D - r) H) / D with
   r = min(R, D), pi the stationary distribution and H = sum_v pi(v) H(T(v, .)) the entropy rate. */
double markov_entropy_bpd(int K, int64_t D, double p_stay, double tau, int order);
/* Writes PATH with n sequences (modality "sequence", split as given, attributes entropy_bpd,
   markov_p_stay, markov_tau, markov_order);
   sequence e is drawn from (seed, e), so the file does not depend on the rank count.
   Collective: every rank generates and writes its share. */
PetscErrorCode markov_write(MPI_Comm comm, const char *path, const char *split, int64_t n, int64_t D, int K,
                            double p_stay, double tau, int order, uint64_t seed);
#endif
