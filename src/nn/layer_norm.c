/* layer_norm.c: layer norm (token layout), group norm (audio layout), embedding lookup and
   the sinusoidal time embedding. Statistics are accumulated in double: a group norm group
   can hold C/G * D = 10^5..10^6 values. */
#include "nn/layers.h"
#include "core/prof.h"

/* ---- layer norm over the last axis of x[N][C] ---- */

void layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *g, const float *b, int64_t n,
                       int64_t c, float eps)
{
  PROF_BEGIN(PROF_NORM);
  for (int64_t r = 0; r < n; r++) {
    const float *xr = x + r * c;
    float       *yr = y + r * c;
    double       s = 0.0, ss = 0.0, m, v;
    for (int64_t i = 0; i < c; i++) s += xr[i];
    m = s / (double)c;
    for (int64_t i = 0; i < c; i++) ss += (xr[i] - m) * (xr[i] - m);
    v = ss / (double)c;
    mean[r] = (float)m;
    rstd[r] = (float)(1.0 / sqrt(v + eps));
    for (int64_t i = 0; i < c; i++) yr[i] = (xr[i] - mean[r]) * rstd[r] * g[i] + b[i];
  }
  PROF_END(PROF_NORM);
}

void layernorm_backward(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                        const float *rstd, const float *g, int64_t n, int64_t c)
{
  PROF_BEGIN(PROF_NORM);
  /* with xh = (x - mean) rstd and gh = dy g: dx = rstd (gh - mean(gh) - xh mean(gh xh)) */
  for (int64_t r = 0; r < n; r++) {
    const float *xr = x + r * c, *dyr = dy + r * c;
    double       mg = 0.0, mgx = 0.0;
    for (int64_t i = 0; i < c; i++) {
      float xh = (xr[i] - mean[r]) * rstd[r], gh = dyr[i] * g[i];
      mg += gh;
      mgx += gh * xh;
      if (dg) dg[i] += dyr[i] * xh;
      if (db) db[i] += dyr[i];
    }
    mg /= (double)c;
    mgx /= (double)c;
    if (dx)
      for (int64_t i = 0; i < c; i++) {
        float xh = (xr[i] - mean[r]) * rstd[r];
        dx[r * c + i] += rstd[r] * (dyr[i] * g[i] - (float)mg - xh * (float)mgx);
      }
  }
  PROF_END(PROF_NORM);
}

/* ---- group norm of x[B][C][D]: a group is C/G whole channel rows, contiguous in memory ---- */

void groupnorm_forward(float *y, float *mean, float *rstd, const float *x, const float *g, const float *b,
                       int64_t batch, int64_t c, int64_t d, int64_t groups, float eps)
{
  PROF_BEGIN(PROF_NORM);
  int64_t cg = c / groups, len = cg * d;
  for (int64_t e = 0; e < batch; e++)
    for (int64_t gr = 0; gr < groups; gr++) {
      const float *xg = x + (e * c + gr * cg) * d;
      float       *yg = y + (e * c + gr * cg) * d;
      double       s = 0.0, ss = 0.0, m;
      float        mf, rf;
      /* simd reductions: a serial double sum would wait on each add (latency-bound) */
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < len; i++) s += xg[i];
      m = s / (double)len;
#pragma omp simd reduction(+ : ss)
      for (int64_t i = 0; i < len; i++) ss += (xg[i] - m) * (xg[i] - m);
      mf = (float)m;
      rf = (float)(1.0 / sqrt(ss / (double)len + eps));
      mean[e * groups + gr] = mf;
      rstd[e * groups + gr] = rf;
      for (int64_t ch = 0; ch < cg; ch++) {
        float gg = g[gr * cg + ch], bb = b[gr * cg + ch];
        for (int64_t i = 0; i < d; i++) yg[ch * d + i] = (xg[ch * d + i] - mf) * rf * gg + bb;
      }
    }
  PROF_END(PROF_NORM);
}

void groupnorm_backward(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                        const float *rstd, const float *g, int64_t batch, int64_t c, int64_t d, int64_t groups)
{
  PROF_BEGIN(PROF_NORM);
  int64_t cg = c / groups, len = cg * d;
  for (int64_t e = 0; e < batch; e++)
    for (int64_t gr = 0; gr < groups; gr++) {
      const float *xg = x + (e * c + gr * cg) * d, *dyg = dy + (e * c + gr * cg) * d;
      float        mf = mean[e * groups + gr], rf = rstd[e * groups + gr];
      double       mg = 0.0, mgx = 0.0;
      for (int64_t ch = 0; ch < cg; ch++) {
        double sdg = 0.0, sdb = 0.0, gg = g[gr * cg + ch];
#pragma omp simd reduction(+ : sdg, sdb)
        for (int64_t i = 0; i < d; i++) {
          double xh = (xg[ch * d + i] - mf) * rf, dyv = dyg[ch * d + i];
          sdg += dyv * xh;
          sdb += dyv;
        }
        mg += gg * sdb;
        mgx += gg * sdg;
        if (dg) dg[gr * cg + ch] += (float)sdg;
        if (db) db[gr * cg + ch] += (float)sdb;
      }
      mg /= (double)len;
      mgx /= (double)len;
      if (dx)
        for (int64_t ch = 0; ch < cg; ch++) {
          float  gg = g[gr * cg + ch];
          float *dxr = dx + (e * c + gr * cg + ch) * d;
          for (int64_t i = 0; i < d; i++) {
            float xh = (xg[ch * d + i] - mf) * rf;
            dxr[i] += rf * (dyg[ch * d + i] * gg - (float)mg - xh * (float)mgx);
          }
        }
    }
  PROF_END(PROF_NORM);
}

/* ---- embedding lookup ---- */

void embedding_forward(float *y, const int32_t *idx, const float *table, int64_t n, int64_t c)
{
  PROF_BEGIN(PROF_EMBED);
  for (int64_t r = 0; r < n; r++) memcpy(y + r * c, table + (int64_t)idx[r] * c, (size_t)c * sizeof *y);
  PROF_END(PROF_EMBED);
}

void embedding_backward(float *dtable, const float *dy, const int32_t *idx, int64_t n, int64_t c)
{
  PROF_BEGIN(PROF_EMBED);
  for (int64_t r = 0; r < n; r++) axpy_acc(dtable + (int64_t)idx[r] * c, dy + r * c, 1.0f, c);
  PROF_END(PROF_EMBED);
}

/* ---- sinusoidal embedding of a scalar step ---- */

void timeembed_forward(float *y, const double *t, int64_t n, int64_t dim, double scale)
{
  PROF_BEGIN(PROF_EMBED);
  int64_t half = dim / 2;
  for (int64_t r = 0; r < n; r++)
    for (int64_t j = 0; j < half; j++) {
      double f = exp(-log(10000.0) * (double)j / (double)(half - 1)), a = t[r] * scale * f;
      y[r * dim + j] = (float)sin(a);
      y[r * dim + half + j] = (float)cos(a);
    }
  PROF_END(PROF_EMBED);
}
