/* rng.c: Philox4x32-10 streams (see rng.h for the keying). */
#include "core/rng.h"
#include <Random123/philox.h>
#include <math.h>

void rng_init(rng_stream *s, uint64_t seed, uint64_t step, uint64_t index, rng_purpose purpose)
{
  s->key[0] = (uint32_t)seed;
  s->key[1] = (uint32_t)(seed >> 32);
  s->ctr[0] = 0;
  s->ctr[1] = (uint32_t)index;
  s->ctr[2] = (uint32_t)((index >> 32) & 0xffffu) | ((uint32_t)purpose << 16);
  s->ctr[3] = (uint32_t)step;
  s->have = 0;
}

uint32_t rng_u32(rng_stream *s)
{
  if (!s->have) {
    philox4x32_ctr_t c = {{s->ctr[0], s->ctr[1], s->ctr[2], s->ctr[3]}};
    philox4x32_key_t k = {{s->key[0], s->key[1]}};
    philox4x32_ctr_t r = philox4x32(c, k);
    for (int i = 0; i < 4; i++) s->buf[i] = r.v[i];
    s->ctr[0]++;
    s->have = 4;
  }
  return s->buf[4 - s->have--];
}

uint64_t rng_u64(rng_stream *s)
{
  uint64_t hi = rng_u32(s);
  return (hi << 32) | rng_u32(s);
}

double rng_uniform(rng_stream *s)
{
  return (double)(rng_u64(s) >> 11) * 0x1.0p-53;
}

double rng_uniform_pos(rng_stream *s)
{
  return ((double)(rng_u64(s) >> 12) + 0.5) * 0x1.0p-52;
}

uint64_t rng_below(rng_stream *s, uint64_t n)
{
  /* rejection sampling on the top of the 64-bit range keeps every value equally likely */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n, r;
  do r = rng_u64(s);
  while (r >= limit);
  return r % n;
}

double rng_normal(rng_stream *s)
{
  double u = rng_uniform_pos(s), v = rng_uniform(s);
  return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

double rng_gumbel(rng_stream *s)
{
  return -log(-log(rng_uniform_pos(s)));
}

void rng_permutation(rng_stream *s, int64_t n, int64_t *perm)
{
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)rng_below(s, (uint64_t)i + 1), tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}
