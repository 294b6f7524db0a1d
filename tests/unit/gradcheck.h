/* gradcheck.h: central-difference gradient checks for the float layers, heads and networks
   (included by test_layers.c, test_heads.c and test_net.c).

   The code under test runs in float (that is the product); the check itself works in double:
   the scalar probed is L = sum_k r_k y_k with fixed random r, summed in double from the float
   outputs y, and dL/dp is estimated by (L(p + h) - L(p - h)) / 2h for every probed element p.
   The analytic gradient is what backward accumulates when given dy = r.

   Error budget of the estimate (why the tolerances below are what they are):
   - float rounding of y: each y_k carries ~6e-8 relative error, so L carries about
     6e-8 * |y| * sqrt(n_y); divided by 2h this is ~3e-6 * sqrt(n_y) for h = 1e-2 and |y| ~ 1;
   - truncation of the central difference: h^2/6 * L''' ~ 2e-5 for h = 1e-2, smooth layers;
   - the perturbation h is itself exact in float for the values used (|p| < 8), so no error
     comes from representing p +- h.
   A wrong backward formula (a missing factor, a wrong sign, a dropped term) is an O(1)
   relative error, so a tolerance of a few 1e-3 relative to the gradient's largest entry
   separates the two by orders of magnitude. Each test states its own tolerance. */
#ifndef ARDM_GRADCHECK_H
#define ARDM_GRADCHECK_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "core/rng.h"

#define GC_MAX 12

typedef struct {
  int         n;         /* number of probed tensors */
  float      *p[GC_MAX]; /* the tensors (inputs or parameters) */
  float      *g[GC_MAX]; /* their gradient buffers (backward accumulates into them) */
  int64_t     len[GC_MAX];
  const char *name[GC_MAX];
  float      *y, *dy; /* output of forward, and r (the probe direction) */
  int64_t     ny;
  void (*forward)(void *ctx);  /* computes y from the current p */
  void (*backward)(void *ctx); /* accumulates g from dy (g zeroed by the checker) */
  void   *ctx;
  double  h;         /* difference step */
  int64_t max_probe; /* probe at most this many elements per tensor (spread evenly) */
  /* optional, for functions with kinks (ReLU): a fingerprint of which side of every kink the
     last forward was on. A probe whose L(p + h) and L(p - h) fingerprints differ straddles a
     kink, where a difference quotient is not a derivative; it is retried with smaller steps
     (more float noise, still valid) and skipped if it still straddles (at most a quarter of a
     tensor's probes may be, else the check fails). */
  uint64_t (*signature)(void *ctx);
} gradcheck;

static inline void gc_add(gradcheck *gc, const char *name, float *p, float *g, int64_t len)
{
  gc->name[gc->n] = name;
  gc->p[gc->n] = p;
  gc->g[gc->n] = g;
  gc->len[gc->n] = len;
  gc->n++;
}

/* Fills x[n] with uniform values in [lo, hi) from a deterministic stream. */
static inline void gc_fill(float *x, int64_t n, double lo, double hi, uint64_t seed)
{
  rng_stream s;
  rng_init(&s, seed, 0, 0, RNG_MISC);
  for (int64_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * rng_uniform(&s));
}

static inline double gc_loss(gradcheck *gc)
{
  double l = 0.0;
  gc->forward(gc->ctx);
  for (int64_t k = 0; k < gc->ny; k++) l += (double)gc->dy[k] * (double)gc->y[k];
  return l;
}

/* Runs the check; returns 0 when every probed element satisfies
   |fd - analytic| <= tol * max(max|analytic| over the tensor, floor), else 1 with a message in
   why. floor keeps an (almost) zero gradient tensor from demanding absolute exactness. */
static inline int gc_run(gradcheck *gc, double tol, double floor, char *why, size_t whylen)
{
  for (int t = 0; t < gc->n; t++) memset(gc->g[t], 0, (size_t)gc->len[t] * sizeof(float));
  gc->forward(gc->ctx);
  gc->backward(gc->ctx);
  for (int t = 0; t < gc->n; t++) {
    double  scale = floor, worst = 0.0;
    int64_t step = gc->len[t] > gc->max_probe && gc->max_probe > 0 ? gc->len[t] / gc->max_probe : 1, wi = -1;
    int64_t probed = 0, skipped = 0;
    double  wfd = 0, wan = 0;
    for (int64_t i = 0; i < gc->len[t]; i++) scale = fmax(scale, fabs(gc->g[t][i]));
    for (int64_t i = 0; i < gc->len[t]; i += step) {
      float    keep = gc->p[t][i];
      double   lp = 0, lm = 0, fd, err, h = gc->h;
      uint64_t sp = 0, sm = 0;
      int      tries = 0;
      /* a probe straddling a kink is retried with h/4, h/16, h/64 before it is skipped */
      do {
        if (tries++) h *= 0.25;
        gc->p[t][i] = (float)(keep + h);
        lp = gc_loss(gc);
        if (gc->signature) sp = gc->signature(gc->ctx);
        gc->p[t][i] = (float)(keep - h);
        lm = gc_loss(gc);
        if (gc->signature) sm = gc->signature(gc->ctx);
      } while (sp != sm && tries < 4);
      gc->p[t][i] = keep;
      probed++;
      if (sp != sm) {
        skipped++;
        continue;
      }
      fd = (lp - lm) / (((double)(float)(keep + h)) - ((double)(float)(keep - h)));
      err = fabs(fd - gc->g[t][i]);
      if (err > worst) {
        worst = err;
        wi = i;
        wfd = fd;
        wan = gc->g[t][i];
      }
    }
    if (4 * skipped > probed) {
      snprintf(why, whylen, "%s: %lld of %lld probes straddle a kink", gc->name[t], (long long)skipped,
               (long long)probed);
      return 1;
    }
    if (worst > tol * scale) {
      snprintf(why, whylen, "%s[%lld]: finite difference %.8g vs backward %.8g (err %.3g > %.3g = tol %g * scale %.3g)",
               gc->name[t], (long long)wi, wfd, wan, worst, tol * scale, tol, scale);
      return 1;
    }
  }
  gc->forward(gc->ctx); /* leave y consistent with the unperturbed p */
  return 0;
}
#endif
