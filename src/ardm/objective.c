/* objective.c: t, order, flip and data-order draws (see objective.h). */
#include "ardm/objective.h"
#include <math.h>

int64_t objective_draw_t(uint64_t seed, int64_t step, int64_t slot, int64_t batch, int64_t T, PetscBool antithetic,
                         rng_purpose purpose)
{
  rng_stream s;
  if (antithetic) {
    rng_init(&s, seed, (uint64_t)step, 0, purpose);
    double  u = rng_uniform(&s);
    int64_t t = (int64_t)floor(((double)slot + u) / (double)batch * (double)T);
    return t < T ? t : T - 1;
  }
  rng_init(&s, seed, (uint64_t)step, (uint64_t)slot, purpose);
  return (int64_t)rng_below(&s, (uint64_t)T);
}

void objective_draw_order(uint64_t seed, int64_t step, int64_t slot, int64_t D, rng_purpose purpose, int64_t *sigma)
{
  rng_stream s;
  rng_init(&s, seed, (uint64_t)step, (uint64_t)slot, purpose);
  rng_permutation(&s, D, sigma);
}

double objective_bpd_weight(int64_t S, int64_t D, int64_t t_in)
{
  return (double)S / ((double)(D - t_in) * M_LN2);
}

PetscBool objective_draw_flip(uint64_t seed, int64_t step, int64_t slot)
{
  rng_stream s;
  rng_init(&s, seed, (uint64_t)step, (uint64_t)slot, RNG_AUGMENT);
  return (rng_u32(&s) >> 31) ? PETSC_TRUE : PETSC_FALSE;
}

void objective_flip_image(int32_t *x, int64_t C, int64_t H, int64_t W)
{
  for (int64_t r = 0; r < C * H; r++) { /* each row of each channel plane */
    int32_t *row = x + r * W;
    for (int64_t i = 0, j = W - 1; i < j; i++, j--) {
      int32_t v = row[i];
      row[i] = row[j], row[j] = v;
    }
  }
}

PetscErrorCode data_order_init(uint64_t seed, int64_t n, data_order *o)
{
  PetscFunctionBegin;
  o->seed = seed, o->n = n, o->epoch = -1;
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)n, &o->perm));
  PetscFunctionReturn(0);
}

PetscErrorCode data_order_free(data_order *o)
{
  PetscFunctionBegin;
  ardm_free(&o->perm);
  PetscFunctionReturn(0);
}

int64_t data_order_example(data_order *o, int64_t p)
{
  int64_t e = p / o->n;
  if (e != o->epoch) {
    rng_stream s;
    rng_init(&s, o->seed, (uint64_t)e, 0, RNG_SHUFFLE);
    rng_permutation(&s, o->n, o->perm);
    o->epoch = e;
  }
  return o->perm[p % o->n];
}
