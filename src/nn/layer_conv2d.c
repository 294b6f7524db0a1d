/* layer_conv2d.c: the image layers (layer_conv2d.h): 3x3 convolution as im2col + GEMM, 2x2
   average pooling, nearest 2x up-sampling, channel concatenation and 2-D self-attention. */
#include "nn/layer_conv2d.h"
#include "core/prof.h"
#include "nn/layers.h"
#include <cblas.h>
#include <math.h>
#include <string.h>

/* Row-major sgemm with explicit leading dimensions (every operand here is < 2^31 elements). */
static void gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
  ArdmAssert(m < INT32_MAX && n < INT32_MAX && k < INT32_MAX && lda < INT32_MAX && ldb < INT32_MAX && ldc < INT32_MAX,
             "matrix sizes beyond the int range of BLAS");
  if (m <= 0 || n <= 0) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
              alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

int64_t conv3x3_col_floats(int64_t cin, int64_t h, int64_t w)
{
  return cin * 9 * h * w;
}

/* col[cin*9][H*W]: row (c, ky, kx) holds x[c] shifted by (ky-1, kx-1), zeros outside. */
static void im2col3x3(float *col, const float *x, int64_t cin, int64_t h, int64_t w)
{
  for (int64_t c = 0; c < cin; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        float  *row = col + ((c * 3 + ky) * 3 + kx) * h * w;
        int64_t dx = kx - 1, x0 = dx < 0 ? 1 : 0, x1 = dx > 0 ? w - 1 : w; /* valid output columns */
        for (int64_t yy = 0; yy < h; yy++) {
          int64_t sy = yy + ky - 1;
          float  *r = row + yy * w;
          if (sy < 0 || sy >= h) {
            memset(r, 0, (size_t)w * sizeof(float));
            continue;
          }
          if (x0 > 0) r[0] = 0.0f;
          if (x1 < w) r[w - 1] = 0.0f;
          if (x1 > x0) memcpy(r + x0, x + (c * h + sy) * w + x0 + dx, (size_t)(x1 - x0) * sizeof(float));
        }
      }
}

/* The adjoint of im2col3x3: dx[c] += every shifted row of col back at its source position. */
static void col2im3x3(float *dx, const float *col, int64_t cin, int64_t h, int64_t w)
{
  for (int64_t c = 0; c < cin; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        const float *row = col + ((c * 3 + ky) * 3 + kx) * h * w;
        int64_t      dx_ = kx - 1, x0 = dx_ < 0 ? 1 : 0, x1 = dx_ > 0 ? w - 1 : w;
        for (int64_t yy = 0; yy < h; yy++) {
          int64_t sy = yy + ky - 1;
          if (sy < 0 || sy >= h) continue;
          float       *d = dx + (c * h + sy) * w + dx_;
          const float *r = row + yy * w;
          for (int64_t xx = x0; xx < x1; xx++) d[xx] += r[xx];
        }
      }
}

void conv3x3_forward(float *y, float *col, const float *x, const float *wt, const float *b, int64_t batch, int64_t cin,
                     int64_t cout, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_CONV2D);
  int64_t hw = h * w;
  for (int64_t e = 0; e < batch; e++) {
    float *ye = y + e * cout * hw; /* y[cout][HW] */
    im2col3x3(col, x + e * cin * hw, cin, h, w);
    gemm(0, 0, cout, hw, cin * 9, 1.0f, wt, cin * 9, col, hw, 0.0f, ye, hw); /* W[cout][9cin] col[9cin][HW] */
    if (b)
      for (int64_t o = 0; o < cout; o++)
        for (int64_t i = 0; i < hw; i++) ye[o * hw + i] += b[o];
  }
  PROF_END(PROF_CONV2D);
}

void conv3x3_backward(float *dx, float *dw, float *db, float *col, const float *dy, const float *x, const float *wt,
                      int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_CONV2D);
  int64_t hw = h * w;
  for (int64_t e = 0; e < batch; e++) {
    const float *dye = dy + e * cout * hw; /* dy[cout][HW] */
    if (dw) {
      im2col3x3(col, x + e * cin * hw, cin, h, w);
      gemm(0, 1, cout, cin * 9, hw, 1.0f, dye, hw, col, hw, 1.0f, dw, cin * 9); /* dW += dy col^T */
    }
    if (dx) {
      gemm(1, 0, cin * 9, hw, cout, 1.0f, wt, cin * 9, dye, hw, 0.0f, col, hw); /* dcol = W^T dy */
      col2im3x3(dx + e * cin * hw, col, cin, h, w);
    }
  }
  if (db) chan_sum_acc(db, dy, batch, cout, hw);
  PROF_END(PROF_CONV2D);
}

/* ---- pooling and up-sampling ---- */

void avgpool2_forward(float *y, const float *x, int64_t n, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_POOL2D);
  int64_t ho = h / 2, wo = w / 2;
  ArdmAssert(h % 2 == 0 && w % 2 == 0, "even height and width expected");
  for (int64_t p = 0; p < n; p++)
    for (int64_t yy = 0; yy < ho; yy++) {
      const float *r0 = x + (p * h + 2 * yy) * w, *r1 = r0 + w;
      float       *out = y + (p * ho + yy) * wo;
      for (int64_t xx = 0; xx < wo; xx++) out[xx] = 0.25f * (r0[2 * xx] + r0[2 * xx + 1] + r1[2 * xx] + r1[2 * xx + 1]);
    }
  PROF_END(PROF_POOL2D);
}

void avgpool2_backward(float *dx, const float *dy, int64_t n, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_POOL2D);
  int64_t ho = h / 2, wo = w / 2;
  for (int64_t p = 0; p < n; p++)
    for (int64_t yy = 0; yy < ho; yy++) {
      float       *r0 = dx + (p * h + 2 * yy) * w, *r1 = r0 + w;
      const float *g = dy + (p * ho + yy) * wo;
      for (int64_t xx = 0; xx < wo; xx++) {
        float v = 0.25f * g[xx];
        r0[2 * xx] += v, r0[2 * xx + 1] += v, r1[2 * xx] += v, r1[2 * xx + 1] += v;
      }
    }
  PROF_END(PROF_POOL2D);
}

void upsample2_forward(float *y, const float *x, int64_t n, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_POOL2D);
  for (int64_t p = 0; p < n; p++)
    for (int64_t yy = 0; yy < 2 * h; yy++) {
      const float *src = x + (p * h + yy / 2) * w;
      float       *out = y + (p * 2 * h + yy) * 2 * w;
      for (int64_t xx = 0; xx < 2 * w; xx++) out[xx] = src[xx / 2];
    }
  PROF_END(PROF_POOL2D);
}

void upsample2_backward(float *dx, const float *dy, int64_t n, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_POOL2D);
  for (int64_t p = 0; p < n; p++)
    for (int64_t yy = 0; yy < 2 * h; yy++) {
      float       *dst = dx + (p * h + yy / 2) * w;
      const float *g = dy + (p * 2 * h + yy) * 2 * w;
      for (int64_t xx = 0; xx < w; xx++) dst[xx] += g[2 * xx] + g[2 * xx + 1];
    }
  PROF_END(PROF_POOL2D);
}

/* ---- channel concatenation ---- */

void concat_forward(float *y, const float *a, const float *b, int64_t batch, int64_t ca, int64_t cb, int64_t d)
{
  PROF_BEGIN(PROF_POOL2D);
  for (int64_t e = 0; e < batch; e++) {
    memcpy(y + e * (ca + cb) * d, a + e * ca * d, (size_t)(ca * d) * sizeof(float));
    memcpy(y + (e * (ca + cb) + ca) * d, b + e * cb * d, (size_t)(cb * d) * sizeof(float));
  }
  PROF_END(PROF_POOL2D);
}

void concat_backward(float *da, float *db, const float *dy, int64_t batch, int64_t ca, int64_t cb, int64_t d)
{
  PROF_BEGIN(PROF_POOL2D);
  for (int64_t e = 0; e < batch; e++) {
    if (da) axpy_acc(da + e * ca * d, dy + e * (ca + cb) * d, 1.0f, ca * d);
    if (db) axpy_acc(db + e * cb * d, dy + (e * (ca + cb) + ca) * d, 1.0f, cb * d);
  }
  PROF_END(PROF_POOL2D);
}

/* ---- 2-D self-attention ---- */

void attention2d_forward(float *o, float *a, const float *qkv, int64_t batch, int64_t c, int64_t n)
{
  PROF_BEGIN(PROF_ATTN);
  float scale = (float)(1.0 / sqrt((double)c));
  for (int64_t e = 0; e < batch; e++) {
    const float *q = qkv + e * 3 * c * n, *k = q + c * n, *v = k + c * n; /* [C][N] each */
    float       *ae = a + e * n * n;                                      /* A[N][N] */
    gemm(1, 0, n, n, c, scale, q, n, k, n, 0.0f, ae, n);                  /* S = Q^T K / sqrt(C) */
    for (int64_t i = 0; i < n; i++) {
      float *r = ae + i * n, mx = r[0], s = 0.0f;
      for (int64_t j = 1; j < n; j++) mx = r[j] > mx ? r[j] : mx;
      for (int64_t j = 0; j < n; j++) r[j] = ardm_expf(r[j] - mx), s += r[j];
      for (int64_t j = 0; j < n; j++) r[j] /= s;
    }
    gemm(0, 1, c, n, n, 1.0f, v, n, ae, n, 0.0f, o + e * c * n, n); /* O = V A^T */
  }
  PROF_END(PROF_ATTN);
}

void attention2d_backward(float *dqkv, float *da, const float *dout, const float *qkv, const float *a, int64_t batch,
                          int64_t c, int64_t n)
{
  PROF_BEGIN(PROF_ATTN);
  float scale = (float)(1.0 / sqrt((double)c));
  for (int64_t e = 0; e < batch; e++) {
    const float *q = qkv + e * 3 * c * n, *k = q + c * n, *v = k + c * n, *ae = a + e * n * n;
    const float *dO = dout + e * c * n;
    float       *dq = dqkv + e * 3 * c * n, *dk = dq + c * n, *dv = dk + c * n;
    gemm(0, 0, c, n, n, 1.0f, dO, n, ae, n, 1.0f, dv, n); /* dV += dO A */
    gemm(1, 0, n, n, c, 1.0f, dO, n, v, n, 0.0f, da, n);  /* dA = dO^T V */
    for (int64_t i = 0; i < n; i++) {                     /* dS = A (dA - sum_j A dA) / sqrt(C) */
      const float *ar = ae + i * n;
      float       *dr = da + i * n, s = 0.0f;
      for (int64_t j = 0; j < n; j++) s += ar[j] * dr[j];
      for (int64_t j = 0; j < n; j++) dr[j] = ar[j] * (dr[j] - s) * scale;
    }
    gemm(0, 1, c, n, n, 1.0f, k, n, da, n, 1.0f, dq, n); /* dQ += K dS^T */
    gemm(0, 0, c, n, n, 1.0f, q, n, da, n, 1.0f, dk, n); /* dK += Q dS */
  }
  PROF_END(PROF_ATTN);
}
