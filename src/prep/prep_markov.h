/* prep_markov.h: synthetic 1-D data with a known entropy, for tests and benchmarks: a
   stationary first-order Markov chain over K symbols that stays with probability p and
   otherwise jumps: to one of the other K - 1 symbols uniformly (tau = 0), or to a symbol w drawn
   from q(w) ~ exp(-w / tau) (tau > 0; q is then the stationary distribution, so with p = 0 the
   dims are independent draws from q). */
#ifndef ARDM_PREP_MARKOV_H
#define ARDM_PREP_MARKOV_H
#include "io/dataset.h"

/* Exact entropy of one sequence of D symbols, in bits per dim: (H(pi) + (D - 1) H) / D with pi
   the stationary distribution and H = sum_v pi(v) H(T(v, .)) the entropy rate. */
double markov_entropy_bpd(int K, int64_t D, double p_stay, double tau);
/* Writes PATH with n sequences (modality "sequence", split as given, attribute entropy_bpd);
   sequence e is drawn from (seed, e), so the file does not depend on the rank count.
   Collective: every rank generates and writes its share. */
PetscErrorCode markov_write(MPI_Comm comm, const char *path, const char *split, int64_t n, int64_t D, int K,
                            double p_stay, double tau, uint64_t seed);
#endif
