/* upscale.h: the upscale ARDM transitions for branching factor b (doc/method.md section 3), in
   integer arithmetic (never K x K matrices). S = ceil(log K / log b) stages; stage s = 0 is
   the most significant base-b digit, r = S - 1 - s is the digit position it generates.
   P-bar^(j) maps v to floor(v / b^j) * b^j; the fully absorbed state is 0. Without upscaling
   (b = K) there is one stage, x_past = 0 and the stage digit is the value itself. */
#ifndef ARDM_UPSCALE_H
#define ARDM_UPSCALE_H
#include <stdint.h>

#define UPSCALE_MAX_STAGES 32

typedef struct {
  int     K, b, S;
  int64_t pw[UPSCALE_MAX_STAGES + 1]; /* pw[j] = b^j, j = 0..S */
} upscale;

/* b = 0 or b >= K means no upscaling (S = 1, b = K). Returns 0, or -1 when b < 2. */
int upscale_init(upscale *u, int K, int b);

/* P-bar^(j) v = floor(v / b^j) * b^j */
static inline int32_t upscale_pbar(const upscale *u, int j, int32_t v)
{
  return (int32_t)(v / u->pw[j] * u->pw[j]);
}
/* What is known before stage s: all digits above position r = S - 1 - s. */
static inline int32_t upscale_past(const upscale *u, int s, int32_t x)
{
  return upscale_pbar(u, u->S - s, x);
}
/* The value after stage s. */
static inline int32_t upscale_future(const upscale *u, int s, int32_t x)
{
  return upscale_pbar(u, u->S - 1 - s, x);
}
/* The digit stage s generates: floor(x / b^r) mod b. */
static inline int32_t upscale_digit(const upscale *u, int s, int32_t x)
{
  return (int32_t)(x / u->pw[u->S - 1 - s] % u->b);
}
/* x_past + digit * b^r */
static inline int32_t upscale_compose(const upscale *u, int s, int32_t past, int32_t digit)
{
  return (int32_t)(past + digit * u->pw[u->S - 1 - s]);
}
/* Network input value of a dim still unknown at stage s: the middle of the values consistent
   with x_past, lo + ceil(n/2) for the n values lo..min(lo + b^(r+1), K) - 1. For S = 1 this is
   K/2: 32768 for audio and 128 for images, the reference's absorbing values, so b = K is
   exactly the OA-ARDM. */
static inline int32_t upscale_unknown_input(const upscale *u, int s, int32_t past)
{
  int64_t hi = past + u->pw[u->S - s];
  if (hi > u->K) hi = u->K;
  return (int32_t)(past + (hi - past) / 2);
}
/* Number of digits that give a value below K at stage s given x_past (b unless K is not a
   power of b). */
static inline int upscale_valid_digits(const upscale *u, int s, int32_t past)
{
  int64_t n = (u->K - 1 - past) / u->pw[u->S - 1 - s] + 1;
  return n < u->b ? (int)n : u->b;
}
#endif
