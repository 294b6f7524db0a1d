/* upscale.c: stage arithmetic set-up for the upscale ARDM (see upscale.h). */
#include "ardm/upscale.h"

int upscale_init(upscale *u, int K, int b)
{
  if (b == 0 || b >= K) b = K;
  if (b < 2) return -1;
  u->K = K, u->b = b, u->S = 0, u->pw[0] = 1;
  while (u->pw[u->S] < K) { /* S = ceil(log K / log b) without floating point */
    if (u->S == UPSCALE_MAX_STAGES) return -1;
    u->pw[u->S + 1] = u->pw[u->S] * b;
    u->S++;
  }
  if (u->S == 0) u->S = 1, u->pw[1] = b; /* K = 1 does not occur (K >= 2) */
  return 0;
}
