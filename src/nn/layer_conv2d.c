/* layer_conv2d.c: the image layers (layer_conv2d.h): 3x3 convolution as im2col + GEMM, 2x2
   average pooling, nearest 2x up-sampling, channel concatenation and 2-D self-attention. */
#include "nn/layer_conv2d.h"
#include "core/prof.h"
#include "nn/layers.h"
#include <math.h>
#include <string.h>

int64_t conv3x3_col_floats(int64_t cin, int64_t h, int64_t w)
{
  return cin * 9 * h * w;
}

/* col[cin*9][ld]: row (c, ky, kx) holds x[c] shifted by (ky-1, kx-1), zeros outside, in
   columns 0..H*W-1 of the row (ld >= H*W: several examples side by side share one matrix). */
static void im2col3x3(float *col, int64_t ld, const float *x, int64_t cin, int64_t h, int64_t w)
{
  for (int64_t c = 0; c < cin; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        float  *row = col + ((c * 3 + ky) * 3 + kx) * ld;
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
static void col2im3x3(float *dx, const float *col, int64_t ld, int64_t cin, int64_t h, int64_t w)
{
  for (int64_t c = 0; c < cin; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        const float *row = col + ((c * 3 + ky) * 3 + kx) * ld;
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

/* Examples per GEMM: at low resolution one example's GEMM has only H*W columns (64 at 8 x 8),
   too few for sgemm to run at speed, so g examples share one im2col matrix of g*H*W columns.
   The group needs (9 cin + cout) g H W floats of scratch (the im2col and the GEMM's [cout][g HW]
   result); it stops growing at CONV_GROUP_COLS columns, where sgemm is efficient. */
#define CONV_GROUP_COLS 1024
static int64_t conv_group(int64_t batch, int64_t cin, int64_t cout, int64_t hw, int64_t col_floats)
{
  int64_t g = 1;
  while (g < batch && g * hw < CONV_GROUP_COLS && (g + 1) * hw * (9 * cin + cout) <= col_floats) g++;
  return g;
}

int64_t conv3x3_group_col_floats(int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
  int64_t hw = h * w, g = (CONV_GROUP_COLS + hw - 1) / hw;
  if (g > batch) g = batch;
  return g > 1 ? g * hw * (9 * cin + cout) : conv3x3_col_floats(cin, h, w);
}

void conv3x3_forward(float *y, float *col, int64_t col_floats, const float *x, const float *wt, const float *b,
                     int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_CONV2D);
  int64_t hw = h * w, g = conv_group(batch, cin, cout, hw, col_floats);
  ArdmAssert(col_floats >= conv3x3_col_floats(cin, h, w), "conv3x3 scratch too small");
  for (int64_t e0 = 0; e0 < batch; e0 += g) {
    int64_t n = batch - e0 < g ? batch - e0 : g, ld = n * hw;
    for (int64_t e = 0; e < n; e++) im2col3x3(col + e * hw, ld, x + (e0 + e) * cin * hw, cin, h, w);
    if (n == 1) { /* straight into y[e0][cout][HW] */
      nn_gemm(0, 0, cout, hw, cin * 9, 1.0f, wt, cin * 9, col, hw, 0.0f, y + e0 * cout * hw, hw);
    } else { /* yg[cout][n HW] = W[cout][9cin] col[9cin][n HW], then to y[e][cout][HW] */
      float *yg = col + cin * 9 * ld;
      nn_gemm(0, 0, cout, ld, cin * 9, 1.0f, wt, cin * 9, col, ld, 0.0f, yg, ld);
      for (int64_t e = 0; e < n; e++)
        for (int64_t o = 0; o < cout; o++)
          memcpy(y + ((e0 + e) * cout + o) * hw, yg + o * ld + e * hw, (size_t)hw * sizeof(float));
    }
  }
  if (b)
    for (int64_t e = 0; e < batch; e++)
      for (int64_t o = 0; o < cout; o++) {
        float *ye = y + (e * cout + o) * hw;
        for (int64_t i = 0; i < hw; i++) ye[i] += b[o];
      }
  PROF_END(PROF_CONV2D);
}

void conv3x3_backward(float *dx, float *dw, float *db, float *col, int64_t col_floats, const float *dy, const float *x,
                      const float *wt, int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w)
{
  PROF_BEGIN(PROF_CONV2D);
  int64_t hw = h * w, g = conv_group(batch, cin, cout, hw, col_floats);
  ArdmAssert(col_floats >= conv3x3_col_floats(cin, h, w), "conv3x3 scratch too small");
  for (int64_t e0 = 0; e0 < batch; e0 += g) {
    int64_t      n = batch - e0 < g ? batch - e0 : g, ld = n * hw;
    const float *dyg = dy + e0 * cout * hw; /* dy of the group as [cout][n HW] (n = 1: as it is) */
    if (n > 1) {
      float *t = col + cin * 9 * ld;
      for (int64_t e = 0; e < n; e++)
        for (int64_t o = 0; o < cout; o++)
          memcpy(t + o * ld + e * hw, dy + ((e0 + e) * cout + o) * hw, (size_t)hw * sizeof(float));
      dyg = t;
    }
    if (dw) {
      for (int64_t e = 0; e < n; e++) im2col3x3(col + e * hw, ld, x + (e0 + e) * cin * hw, cin, h, w);
      nn_gemm(0, 1, cout, cin * 9, ld, 1.0f, dyg, ld, col, ld, 1.0f, dw, cin * 9); /* dW += dy col^T */
    }
    if (dx) {
      nn_gemm(1, 0, cin * 9, ld, cout, 1.0f, wt, cin * 9, dyg, ld, 0.0f, col, ld); /* dcol = W^T dy */
      for (int64_t e = 0; e < n; e++) col2im3x3(dx + (e0 + e) * cin * hw, col + e * hw, ld, cin, h, w);
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
    nn_gemm(1, 0, n, n, c, scale, q, n, k, n, 0.0f, ae, n);               /* S = Q^T K / sqrt(C) */
    for (int64_t i = 0; i < n; i++) {
      float *r = ae + i * n, mx = r[0], s = 0.0f;
      for (int64_t j = 1; j < n; j++) mx = r[j] > mx ? r[j] : mx;
      for (int64_t j = 0; j < n; j++) r[j] = ardm_expf(r[j] - mx), s += r[j];
      for (int64_t j = 0; j < n; j++) r[j] /= s;
    }
    nn_gemm(0, 1, c, n, n, 1.0f, v, n, ae, n, 0.0f, o + e * c * n, n); /* O = V A^T */
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
    nn_gemm(0, 0, c, n, n, 1.0f, dO, n, ae, n, 1.0f, dv, n); /* dV += dO A */
    nn_gemm(1, 0, n, n, c, 1.0f, dO, n, v, n, 0.0f, da, n);  /* dA = dO^T V */
    for (int64_t i = 0; i < n; i++) {                        /* dS = A (dA - sum_j A dA) / sqrt(C) */
      const float *ar = ae + i * n;
      float       *dr = da + i * n, s = 0.0f;
      for (int64_t j = 0; j < n; j++) s += ar[j] * dr[j];
      for (int64_t j = 0; j < n; j++) dr[j] = ar[j] * (dr[j] - s) * scale;
    }
    nn_gemm(0, 1, c, n, n, 1.0f, k, n, da, n, 1.0f, dq, n); /* dQ += K dS^T */
    nn_gemm(0, 0, c, n, n, 1.0f, q, n, da, n, 1.0f, dk, n); /* dK += Q dS */
  }
  PROF_END(PROF_ATTN);
}
