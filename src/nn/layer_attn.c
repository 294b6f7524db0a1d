/* layer_attn.c: multi-head non-causal self-attention and the token-to-channel-major output
   projection over nn_gemm (shapes in layer_attn.h). */
#include "nn/layer_attn.h"
#include "core/prof.h"
#include "nn/layers.h"
#include <math.h>

/* Softmax of each row of s[D][D] in place, the row maximum subtracted first. */
static void softmax_rows(float *s, int64_t d)
{
  for (int64_t i = 0; i < d; i++) {
    float *r = s + i * d, mx = r[0], sum;
    for (int64_t j = 1; j < d; j++) mx = r[j] > mx ? r[j] : mx;
    for (int64_t j = 0; j < d; j++) r[j] = ardm_expf(r[j] - mx);
    sum = sum_f(r, d);
    sum = 1.0f / sum;
    for (int64_t j = 0; j < d; j++) r[j] *= sum;
  }
}

float attn_bias_slope(int64_t h, int64_t heads)
{
  return (float)exp2(-8.0 * (double)(h + 1) / (double)heads);
}

/* s[D][D] -= m |i - j|: the distance bias of one head, added to its scaled scores. */
static void add_distance_bias(float *s, int64_t d, float m)
{
  for (int64_t i = 0; i < d; i++) {
    float *r = s + i * d;
    for (int64_t j = 0; j < d; j++) r[j] -= m * (float)(i > j ? i - j : j - i);
  }
}

void attn_forward(float *y, float *prob, const float *qkv, int64_t batch, int64_t d, int64_t heads, int64_t hd,
                  attn_bias bias)
{
  PROF_BEGIN(PROF_ATTN);
  const int64_t w = heads * hd, ld = 3 * w;
  const float   scale = (float)(1.0 / sqrt((double)hd));
  for (int64_t b = 0; b < batch; b++)
    for (int64_t h = 0; h < heads; h++) {
      const float *q = qkv + b * d * ld + h * hd, *k = q + w, *v = q + 2 * w; /* [D][hd], leading dim 3W */
      float       *p = prob + (b * heads + h) * d * d;                        /* [D][D] */
      nn_gemm(0, 1, d, d, hd, scale, q, ld, k, ld, 0.0f, p, d);               /* scores = Q K^T / sqrt(hd) */
      if (bias == ATTN_BIAS_DISTANCE) add_distance_bias(p, d, attn_bias_slope(h, heads));
      softmax_rows(p, d);
      nn_gemm(0, 0, d, hd, d, 1.0f, p, d, v, ld, 0.0f, y + b * d * w + h * hd, w); /* y_h = P V */
    }
  PROF_END(PROF_ATTN);
}

void attn_backward(float *dqkv, float *scratch, const float *dy, const float *prob, const float *qkv, int64_t batch,
                   int64_t d, int64_t heads, int64_t hd)
{
  PROF_BEGIN(PROF_ATTN);
  const int64_t w = heads * hd, ld = 3 * w;
  const float   scale = (float)(1.0 / sqrt((double)hd));
  for (int64_t b = 0; b < batch; b++)
    for (int64_t h = 0; h < heads; h++) {
      const float *q = qkv + b * d * ld + h * hd, *k = q + w, *v = q + 2 * w;
      const float *p = prob + (b * heads + h) * d * d, *dyh = dy + b * d * w + h * hd; /* dy_h [D][hd], ld W */
      float       *dq = dqkv + b * d * ld + h * hd, *dk = dq + w, *dv = dq + 2 * w;
      float       *ds = scratch;                                 /* [D][D] */
      nn_gemm(1, 0, d, hd, d, 1.0f, p, d, dyh, w, 1.0f, dv, ld); /* dV += P^T dY */
      nn_gemm(0, 1, d, d, hd, 1.0f, dyh, w, v, ld, 0.0f, ds, d); /* dP = dY V^T */
      /* softmax backward per row: dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik) */
      for (int64_t i = 0; i < d; i++) {
        const float *pr = p + i * d;
        float       *dr = ds + i * d, dot = 0.0f;
        float        acc[8] = {0};
        int64_t      j = 0;
        for (; j + 8 <= d; j += 8)
          for (int u = 0; u < 8; u++) acc[u] += pr[j + u] * dr[j + u];
        for (; j < d; j++) dot += pr[j] * dr[j];
        for (int u = 0; u < 8; u++) dot += acc[u];
        for (j = 0; j < d; j++) dr[j] = pr[j] * (dr[j] - dot);
      }
      nn_gemm(0, 0, d, hd, d, scale, ds, d, k, ld, 1.0f, dq, ld); /* dQ += dS K / sqrt(hd) */
      nn_gemm(1, 0, d, hd, d, scale, ds, d, q, ld, 1.0f, dk, ld); /* dK += dS^T Q / sqrt(hd) */
    }
  PROF_END(PROF_ATTN);
}

void dense_cm_forward(float *y, const float *x, const float *w, const float *b, int64_t batch, int64_t d, int64_t in,
                      int64_t out)
{
  PROF_BEGIN(PROF_DENSE);
  for (int64_t e = 0; e < batch; e++) {
    float *ye = y + e * out * d; /* [out][D] */
    nn_gemm(0, 1, out, d, in, 1.0f, w, in, x + e * d * in, in, 0.0f, ye, d);
    if (b)
      for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < d; i++) ye[o * d + i] += b[o];
  }
  PROF_END(PROF_DENSE);
}

void dense_cm_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t batch,
                       int64_t d, int64_t in, int64_t out)
{
  PROF_BEGIN(PROF_DENSE);
  for (int64_t e = 0; e < batch; e++) {
    const float *dye = dy + e * out * d, *xe = x + e * d * in; /* dy [out][D], x [D][in] */
    if (dw) nn_gemm(0, 0, out, in, d, 1.0f, dye, d, xe, in, 1.0f, dw, in);
    if (dx) nn_gemm(1, 0, d, in, out, 1.0f, dye, d, w, in, 1.0f, dx + e * d * in, in);
  }
  if (db) chan_sum_acc(db, dy, batch, out, d);
  PROF_END(PROF_DENSE);
}
