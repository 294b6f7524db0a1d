/* test_layer_attn.c: the Transformer's sequence layers (nn/layer_attn.h): attention forward
   against a direct double-precision loop, its backward and the channel-major output projection
   against central differences (gradcheck.h), and the softmax's max subtraction on scores far
   beyond float exp's range; the attention without and with the distance bias. */
#include "harness.h"
#include "gradcheck.h"
#include "nn/layer_attn.h"
#include <stdlib.h>

/* Sizes of the probe: 2 examples, 7 positions, 3 heads of 4 (W = 12). */
#define B_  2
#define D_  7
#define H_  3
#define HD_ 4
#define W_  (H_ * HD_)

static float     QKV[B_ * D_ * 3 * W_], DQKV[B_ * D_ * 3 * W_], Y[B_ * D_ * W_], DY[B_ * D_ * W_];
static float     PROB[B_ * H_ * D_ * D_], SCR[D_ * D_];
static attn_bias BIAS; /* of the gradient check */

static void attn_f(void *c)
{
  attn_forward(Y, PROB, QKV, B_, D_, H_, HD_, BIAS);
}
static void attn_b(void *c)
{
  attn_backward(DQKV, SCR, DY, PROB, QKV, B_, D_, H_, HD_);
}

/* y = softmax(q k^T / sqrt(hd) + bias) v per example and head, written as plain loops in
   double; the distance bias is -2^(-8(h+1)/H) |i - j| (ALiBi's slopes, written out here). */
static double direct(const float *qkv, int64_t b, int64_t i, int64_t h, int64_t c, attn_bias bias)
{
  const float *base = qkv + b * D_ * 3 * W_;
  double       s[D_], mx = -1e300, z = 0.0, y = 0.0;
  for (int64_t j = 0; j < D_; j++) {
    s[j] = 0.0;
    for (int64_t u = 0; u < HD_; u++)
      s[j] += (double)base[i * 3 * W_ + h * HD_ + u] * base[j * 3 * W_ + W_ + h * HD_ + u];
    s[j] /= sqrt((double)HD_);
    if (bias == ATTN_BIAS_DISTANCE) s[j] -= pow(2.0, -8.0 * (double)(h + 1) / H_) * (double)llabs(i - j);
    mx = fmax(mx, s[j]);
  }
  for (int64_t j = 0; j < D_; j++) z += exp(s[j] - mx);
  for (int64_t j = 0; j < D_; j++) y += exp(s[j] - mx) / z * base[j * 3 * W_ + 2 * W_ + h * HD_ + c];
  return y;
}

static int attn_forward_direct(attn_bias bias)
{
  gc_fill(QKV, B_ * D_ * 3 * W_, -2, 2, 21);
  attn_forward(Y, PROB, QKV, B_, D_, H_, HD_, bias);
  /* float GEMMs of length <= 7 and the ~1 ulp exp: ~1e-6 of values ~1 */
  for (int64_t b = 0; b < B_; b++)
    for (int64_t i = 0; i < D_; i++)
      for (int64_t h = 0; h < H_; h++)
        for (int64_t c = 0; c < HD_; c++)
          CHECK_CLOSE(Y[(b * D_ + i) * W_ + h * HD_ + c], direct(QKV, b, i, h, c, bias), 1e-5);
  /* each probability row sums to one */
  for (int64_t r = 0; r < B_ * H_ * D_; r++) {
    double s = 0.0;
    for (int64_t j = 0; j < D_; j++) s += PROB[r * D_ + j];
    CHECK_CLOSE(s, 1.0, 1e-6);
  }
  return 0;
}
static int test_attn_forward_direct(void)
{
  return attn_forward_direct(ATTN_BIAS_NONE);
}
static int test_attn_forward_direct_distance_bias(void)
{
  return attn_forward_direct(ATTN_BIAS_DISTANCE);
}

/* The slopes are ALiBi's 2^(-8(h+1)/H); with Q = K = 0 (all scores 0) the probabilities are
   exactly the softmax of the bias alone: row i, key j gets exp(-m_h |i - j|) / Z. */
static int test_attn_distance_bias_only(void)
{
  CHECK_CLOSE(attn_bias_slope(0, 8), 0.5, 0);
  CHECK_CLOSE(attn_bias_slope(7, 8), 1.0 / 256, 0);
  CHECK_CLOSE(attn_bias_slope(1, 4), 1.0 / 16, 0);
  gc_fill(QKV, B_ * D_ * 3 * W_, -1, 1, 25);
  for (int64_t k = 0; k < B_ * D_ * 3 * W_; k++)
    if (k % (3 * W_) < 2 * W_) QKV[k] = 0.0f;
  attn_forward(Y, PROB, QKV, B_, D_, H_, HD_, ATTN_BIAS_DISTANCE);
  for (int64_t h = 0; h < H_; h++)
    for (int64_t i = 0; i < D_; i++) {
      double m = pow(2.0, -8.0 * (double)(h + 1) / H_), z = 0.0;
      for (int64_t j = 0; j < D_; j++) z += exp(-m * (double)llabs(i - j));
      for (int64_t j = 0; j < D_; j++)
        CHECK_CLOSE(PROB[((1 * H_ + h) * D_ + i) * D_ + j], exp(-m * (double)llabs(i - j)) / z, 1e-6);
    }
  return 0;
}

/* Scores of +-1e4 (exp would overflow without the max subtracted): finite, and the row's
   largest score takes all the weight. */
static int test_attn_large_scores(void)
{
  gc_fill(QKV, B_ * D_ * 3 * W_, -1, 1, 22);
  for (int64_t k = 0; k < B_ * D_ * 3 * W_; k++) QKV[k] *= (k % (3 * W_)) < 2 * W_ ? 100.0f : 1.0f;
  attn_forward(Y, PROB, QKV, B_, D_, H_, HD_, ATTN_BIAS_DISTANCE);
  for (int64_t k = 0; k < B_ * D_ * W_; k++) CHECK(isfinite(Y[k]), "y[%lld] = %g", (long long)k, Y[k]);
  for (int64_t b = 0; b < B_; b++)
    for (int64_t i = 0; i < D_; i++)
      for (int64_t h = 0; h < H_; h++)
        CHECK_CLOSE(Y[(b * D_ + i) * W_ + h * HD_], direct(QKV, b, i, h, 0, ATTN_BIAS_DISTANCE), 1e-4);
  return 0;
}

static int attn_gradient(attn_bias bias)
{
  gradcheck   gc;
  static char msg[512];
  BIAS = bias;
  memset(DQKV, 0, sizeof DQKV);
  gc_fill(QKV, B_ * D_ * 3 * W_, -1.5, 1.5, 23);
  gc_fill(DY, B_ * D_ * W_, -1, 1, 24);
  memset(&gc, 0, sizeof gc);
  gc.y = Y, gc.dy = DY, gc.ny = B_ * D_ * W_, gc.forward = attn_f, gc.backward = attn_b, gc.h = 1e-2;
  gc.max_probe = 600;
  gc_add(&gc, "qkv", QKV, DQKV, B_ * D_ * 3 * W_);
  /* smooth: the budget of gradcheck.h is ~3e-6 sqrt(168) ~ 4e-5 float noise plus ~h^2 = 1e-4
     truncation relative to the largest gradient; 2e-3 leaves a 20x margin and a wrong term
     (a missing 1/sqrt(hd), a transposed dS) is O(1) */
  CHECK(gc_run(&gc, 2e-3, 1e-3, msg, sizeof msg) == 0, "%s", msg);
  /* backward accumulates: a second call adds the same gradient again */
  {
    float keep = DQKV[5];
    attn_b(NULL);
    CHECK_CLOSE(DQKV[5], 2.0f * keep, 1e-6);
  }
  return 0;
}
static int test_attn_gradient(void)
{
  return attn_gradient(ATTN_BIAS_NONE);
}
/* The same backward with the bias on: it reads the saved probabilities, which hold the bias,
   and central differences through the biased forward must agree with it. */
static int test_attn_gradient_distance_bias(void)
{
  return attn_gradient(ATTN_BIAS_DISTANCE);
}

/* ---- channel-major output projection ---- */
#define CI 5
#define CO 3
static float X[B_ * D_ * CI], DX[B_ * D_ * CI], WT[CO * CI], DW[CO * CI], BI[CO], DB[CO], YC[B_ * CO * D_],
    DYC[B_ * CO * D_];
static void cm_f(void *c)
{
  dense_cm_forward(YC, X, WT, BI, B_, D_, CI, CO);
}
static void cm_b(void *c)
{
  dense_cm_backward(DX, DW, DB, DYC, X, WT, B_, D_, CI, CO);
}

static int test_dense_cm(void)
{
  gradcheck   gc;
  static char msg[512];
  gc_fill(X, B_ * D_ * CI, -1, 1, 31);
  gc_fill(WT, CO * CI, -1, 1, 32);
  gc_fill(BI, CO, -1, 1, 33);
  gc_fill(DYC, B_ * CO * D_, -1, 1, 34);
  cm_f(NULL);
  /* layout: y[b][o][i] = sum_c x[b][i][c] w[o][c] + b[o] */
  for (int64_t b = 0; b < B_; b++)
    for (int64_t o = 0; o < CO; o++)
      for (int64_t i = 0; i < D_; i++) {
        double s = BI[o];
        for (int64_t c = 0; c < CI; c++) s += (double)X[(b * D_ + i) * CI + c] * WT[o * CI + c];
        CHECK_CLOSE(YC[(b * CO + o) * D_ + i], s, 1e-6);
      }
  memset(&gc, 0, sizeof gc);
  gc.y = YC, gc.dy = DYC, gc.ny = B_ * CO * D_, gc.forward = cm_f, gc.backward = cm_b, gc.h = 1e-2, gc.max_probe = 100;
  gc_add(&gc, "x", X, DX, B_ * D_ * CI);
  gc_add(&gc, "w", WT, DW, CO * CI);
  gc_add(&gc, "b", BI, DB, CO);
  /* linear: only float noise (~1e-5); 2e-3 as for the other smooth layers */
  CHECK(gc_run(&gc, 2e-3, 1e-3, msg, sizeof msg) == 0, "%s", msg);
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_attn_forward_direct);
  TH_RUN(test_attn_forward_direct_distance_bias);
  TH_RUN(test_attn_distance_bias_only);
  TH_RUN(test_attn_large_scores);
  TH_RUN(test_attn_gradient);
  TH_RUN(test_attn_gradient_distance_bias);
  TH_RUN(test_dense_cm);
  return TH_FINISH();
}
