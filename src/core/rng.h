/* rng.h: counter-based random numbers (Philox4x32-10 from Random123). Every draw is a pure
   function of (seed, step, global example index, purpose, position in the stream), so results
   do not depend on how examples are spread over ranks or on what was drawn before. */
#ifndef ARDM_RNG_H
#define ARDM_RNG_H
#include <stdint.h>

/* What a stream is for; streams with different purposes never overlap. */
typedef enum {
  RNG_INIT = 1,         /* parameter initialisation (index = parameter tensor number) */
  RNG_T = 2,            /* the step t of an example */
  RNG_ORDER = 3,        /* the generation order sigma of an example */
  RNG_SHUFFLE = 4,      /* per-epoch data order (step = epoch) */
  RNG_SAMPLE = 5,       /* sampling noise (index = sample number, step = plan step) */
  RNG_DATA = 6,         /* synthetic data sets */
  RNG_EVAL = 7,         /* evaluation draws (step = draw number) */
  RNG_EVAL_ORDER = 8,   /* evaluation orders */
  RNG_SAMPLE_ORDER = 9, /* sampling orders (step = stage) */
  RNG_EVAL_PLAN = 10,   /* the plan step picked for the parallel NLL bound */
  RNG_MISC = 11,
  RNG_AUGMENT = 12 /* training-data augmentation (image flips) */
} rng_purpose;

typedef struct {
  uint32_t key[2]; /* seed */
  uint32_t ctr[4]; /* ctr[0] = block counter, ctr[1..3] = index, purpose, step */
  uint32_t buf[4]; /* the current block of 4 outputs */
  int      have;   /* how many of buf are unused */
} rng_stream;

/* step: up to 2^32; index: up to 2^48; purpose: up to 2^16. */
void     rng_init(rng_stream *s, uint64_t seed, uint64_t step, uint64_t index, rng_purpose purpose);
uint32_t rng_u32(rng_stream *s);
uint64_t rng_u64(rng_stream *s);
double   rng_uniform(rng_stream *s);           /* [0, 1) with 53 random bits */
double   rng_uniform_pos(rng_stream *s);       /* (0, 1): safe for log() */
uint64_t rng_below(rng_stream *s, uint64_t n); /* uniform in 0..n-1, unbiased (n >= 1) */
double   rng_normal(rng_stream *s);            /* standard normal (Box-Muller) */
double   rng_gumbel(rng_stream *s);            /* standard Gumbel: -log(-log U) */
/* perm[i] = a uniformly random permutation of 0..n-1 (Fisher-Yates). */
void rng_permutation(rng_stream *s, int64_t n, int64_t *perm);
#endif
