/* prep_markov.h: synthetic 1-D data with a known entropy, for tests and benchmarks: a
   stationary first-order Markov chain over K symbols that stays with probability p and
   otherwise moves to one of the other K - 1 symbols uniformly. */
#ifndef ARDM_PREP_MARKOV_H
#define ARDM_PREP_MARKOV_H
#include "dataset.h"

/* Exact entropy of one sequence of D symbols, in bits per dim: (log2 K + (D - 1) H) / D with
   H = -p log2 p - (1 - p) log2((1 - p) / (K - 1)) the entropy rate. */
double markov_entropy_bpd(int K, int64_t D, double p_stay);
/* Writes PATH with n sequences (modality "sequence", split as given, attribute entropy_bpd);
   sequence e is drawn from (seed, e), so the file does not depend on the rank count.
   Collective: every rank generates and writes its share. */
PetscErrorCode markov_write(MPI_Comm comm, const char *path, const char *split, int64_t n, int64_t D, int K,
                            double p_stay, uint64_t seed);
#endif
