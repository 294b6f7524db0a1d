/* layer_act.c: elementwise activations (ReLU, SiLU, GELU) and the gated tanh*sigmoid unit
   of WaveNet/DiffWave. Loops are written so gcc vectorises them (ardm_expf is branch-free). */
#include "nn/layers.h"
#include "core/prof.h"

void relu_forward(float *y, const float *x, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  PROF_END(PROF_ACT);
}

void relu_backward(float *dx, const float *dy, const float *y, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
  PROF_END(PROF_ACT);
}

void relu_backward_set(float *dx, const float *dy, const float *y, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  PROF_END(PROF_ACT);
}

void silu_forward(float *y, const float *x, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * ardm_sigmoidf(x[i]);
  PROF_END(PROF_ACT);
}

void silu_backward(float *dx, const float *dy, const float *x, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
  /* d/dx x s(x) = s(x) (1 + x (1 - s(x))) */
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float s = ardm_sigmoidf(x[i]);
    dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
  PROF_END(PROF_ACT);
}

#define GELU_K0 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_K1 0.044715f

void gelu_forward(float *y, const float *x, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float v = x[i], u = GELU_K0 * (v + GELU_K1 * v * v * v);
    y[i] = 0.5f * v * (1.0f + ardm_tanhf(u));
  }
  PROF_END(PROF_ACT);
}

void gelu_backward(float *dx, const float *dy, const float *x, int64_t n)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i++) {
    float v = x[i], u = GELU_K0 * (v + GELU_K1 * v * v * v), th = ardm_tanhf(u);
    float du = GELU_K0 * (1.0f + 3.0f * GELU_K1 * v * v);
    dx[i] += dy[i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du);
  }
  PROF_END(PROF_ACT);
}

/* ---- gated activation: y = tanh(a) * sigmoid(b), a = z[:, :C], b = z[:, C:] ---- */

void gate_forward(float *y, float *z, const float *bias, int64_t bias_stride, int64_t batch, int64_t c, int64_t d)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t r = 0; r < batch * c; r++) { /* row r = e c + ch */
    const int64_t e = r / c, ch = r % c;
    float        *a = z + (e * 2 * c + ch) * d, *b = a + c * d, *yr = y + r * d;
    float         ba = bias ? bias[e * bias_stride + ch] : 0.0f, bb = bias ? bias[e * bias_stride + c + ch] : 0.0f;
    for (int64_t i = 0; i < d; i++) {
      float va = a[i] + ba, vb = b[i] + bb;
      a[i] = va;
      b[i] = vb;
      yr[i] = ardm_tanhf(va) * ardm_sigmoidf(vb);
    }
  }
  PROF_END(PROF_ACT);
}

/* One channel row of the gate backward; returns the sums of the two gradients (for the bias)
   through sa/sb. Blocks of 16 with partial sums keep the loop vectorised. */
static void gate_backward_row(float *da, float *db, float *sa, float *sb, const float *dy, const float *a,
                              const float *b, int64_t d)
{
  float   acc_a[16] = {0}, acc_b[16] = {0}, ta_ = 0.0f, tb_ = 0.0f;
  int64_t i = 0;
  for (; i + 16 <= d; i += 16)
    for (int j = 0; j < 16; j++) {
      float th = ardm_tanhf(a[i + j]), sg = ardm_sigmoidf(b[i + j]), g = dy[i + j];
      float ga = g * sg * (1.0f - th * th), gb = g * th * sg * (1.0f - sg);
      da[i + j] += ga;
      db[i + j] += gb;
      acc_a[j] += ga;
      acc_b[j] += gb;
    }
  for (; i < d; i++) {
    float th = ardm_tanhf(a[i]), sg = ardm_sigmoidf(b[i]), g = dy[i];
    float ga = g * sg * (1.0f - th * th), gb = g * th * sg * (1.0f - sg);
    da[i] += ga;
    db[i] += gb;
    ta_ += ga;
    tb_ += gb;
  }
  for (int j = 0; j < 16; j++) {
    ta_ += acc_a[j];
    tb_ += acc_b[j];
  }
  *sa = ta_;
  *sb = tb_;
}

void gate_backward(float *dz, float *dbias, int64_t bias_stride, const float *dy, const float *z, int64_t batch,
                   int64_t c, int64_t d)
{
  PROF_BEGIN(PROF_ACT);
  /* by channel, the examples in order inside: with bias_stride 0 they share dbias[ch] */
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t e = 0; e < batch; e++) {
      const float *a = z + (e * 2 * c + ch) * d, *b = a + c * d;
      float       *da = dz + (e * 2 * c + ch) * d, *db = da + c * d, sa, sb;
      gate_backward_row(da, db, &sa, &sb, dy + (e * c + ch) * d, a, b, d);
      if (dbias) {
        dbias[e * bias_stride + ch] += sa;
        dbias[e * bias_stride + c + ch] += sb;
      }
    }
  PROF_END(PROF_ACT);
}

/* ---- the gate without write-back, and its backward from saved tanh/sigmoid ---- */

void gate_apply(float *y, float *ts, const float *z, const float *bias, int64_t bias_stride, int64_t batch, int64_t c,
                int64_t d)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t r = 0; r < batch * c; r++) { /* row r = e c + ch */
    const int64_t e = r / c, ch = r % c;
    const float  *a = z + (e * 2 * c + ch) * d, *b = a + c * d; /* z[e][ch][:], z[e][c + ch][:] */
    float        *yr = y + r * d;                               /* y[e][ch][:] */
    float         ba = bias ? bias[e * bias_stride + ch] : 0.0f, bb = bias ? bias[e * bias_stride + c + ch] : 0.0f;
    if (ts) {
      float *th = ts + (e * 2 * c + ch) * d, *sg = th + c * d; /* ts[e][ch][:], ts[e][c + ch][:] */
      for (int64_t i = 0; i < d; i++) {
        float t = ardm_tanhf(a[i] + ba), s = ardm_sigmoidf(b[i] + bb);
        th[i] = t;
        sg[i] = s;
        yr[i] = t * s;
      }
    } else
      for (int64_t i = 0; i < d; i++) yr[i] = ardm_tanhf(a[i] + ba) * ardm_sigmoidf(b[i] + bb);
  }
  PROF_END(PROF_ACT);
}

void gate_product(float *y, const float *ts, int64_t batch, int64_t c, int64_t d)
{
  PROF_BEGIN(PROF_ACT);
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t r = 0; r < batch * c; r++) {                                 /* row r = e c + ch */
    const float *th = ts + ((r / c) * 2 * c + r % c) * d, *sg = th + c * d; /* ts[e][ch][:], ts[e][c + ch][:] */
    float       *yr = y + r * d;                                            /* y[e][ch][:] */
    for (int64_t i = 0; i < d; i++) yr[i] = th[i] * sg[i];
  }
  PROF_END(PROF_ACT);
}

/* One channel row of gate_backward_ts_set: da/db = the gradients (written; they may be th/sg
   themselves), their sums through sa/sb. Same arithmetic as gate_backward_row. */
static void gate_backward_ts_row(float *da, float *db, float *sa, float *sb, const float *dy, const float *th,
                                 const float *sg, int64_t d)
{
  float   acc_a[16] = {0}, acc_b[16] = {0}, ta_ = 0.0f, tb_ = 0.0f;
  int64_t i = 0;
  for (; i + 16 <= d; i += 16)
    for (int j = 0; j < 16; j++) {
      float t = th[i + j], s = sg[i + j], g = dy[i + j];
      float ga = g * s * (1.0f - t * t), gb = g * t * s * (1.0f - s);
      da[i + j] = ga;
      db[i + j] = gb;
      acc_a[j] += ga;
      acc_b[j] += gb;
    }
  for (; i < d; i++) {
    float t = th[i], s = sg[i], g = dy[i];
    float ga = g * s * (1.0f - t * t), gb = g * t * s * (1.0f - s);
    da[i] = ga;
    db[i] = gb;
    ta_ += ga;
    tb_ += gb;
  }
  for (int j = 0; j < 16; j++) {
    ta_ += acc_a[j];
    tb_ += acc_b[j];
  }
  *sa = ta_;
  *sb = tb_;
}

void gate_backward_ts_set(float *dz, float *dbias, int64_t bias_stride, const float *dy, const float *ts, int64_t batch,
                          int64_t c, int64_t d)
{
  PROF_BEGIN(PROF_ACT);
  /* by channel, the examples in order inside: with bias_stride 0 they share dbias[ch] */
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t e = 0; e < batch; e++) {
      const float *th = ts + (e * 2 * c + ch) * d, *sg = th + c * d;         /* ts[e][ch][:], ts[e][c + ch][:] */
      float       *da = dz + (e * 2 * c + ch) * d, *db = da + c * d, sa, sb; /* dz likewise */
      gate_backward_ts_row(da, db, &sa, &sb, dy + (e * c + ch) * d, th, sg, d);
      if (dbias) {
        dbias[e * bias_stride + ch] += sa;
        dbias[e * bias_stride + c + ch] += sb;
      }
    }
  PROF_END(PROF_ACT);
}
