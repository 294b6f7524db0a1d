/* layers.h: the neural-network layers, each a forward/backward pair on plain float pointers.
   Conventions (all layers):
   - no allocation, MPI, I/O or option parsing inside; sizes are int64_t;
   - backward ACCUMULATES (+=) into every gradient it writes (inputs and parameters), so a
     tensor used twice simply receives both contributions; a NULL gradient pointer skips it;
     the "_set" variants WRITE their one input gradient instead (for single-producer buffers,
     saving the zero fill; see relu_backward_set);
   - audio tensors are channels-major per example, x[B][C][D] with time contiguous, so a
     convolution is a weight matrix times (shifted) views of x with leading dimension D;
   - token tensors (dense, layer norm, embedding) are row-major x[N][C].
   All GEMM-shaped work goes through nn_gemm (cblas_sgemm underneath).
   Threads (-threads, core/threads.h): the GEMMs are split over OpenMP's threads (nn_gemm); the
   BLAS itself runs single-threaded; the elementwise and
   head loops run on OpenMP threads when a pass has more than NN_PAR_MIN elements (smaller ones
   would not pay for the fork and join). They split only independent rows or elements; a sum
   over rows (a bias gradient over the batch) is split by channel with the batch loop inside,
   so every float is summed in the same order as on one thread and these loops give the same
   bits for any thread count. */
#ifndef ARDM_LAYERS_H
#define ARDM_LAYERS_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NN_PAR_MIN      32768 /* elements of a pass below which it runs on one thread */
#define NN_GEMM_PAR_MIN 2.0e6 /* m * n * k of a GEMM below which it runs on one thread */

/* Row-major C[m][n] = alpha op(A)[m][k] op(B)[k][n] + beta C with explicit leading dims (op = the
   transpose when ta / tb); split over the OpenMP threads when large (layers.c). */
void nn_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda, const float *b,
             int64_t ldb, float beta, float *c, int64_t ldc);
/* 0: every product on the calling thread (tests of the OpenMP loops alone); 1 (default): split */
void nn_gemm_set_split(int on);

/* ---- vectorisable float math (gcc auto-vectorises loops that call these) ---- */

/* e^x with ~1 ulp error (Cephes expf polynomial); inputs are clamped to [-87, 88], so the
   result is never inf/denormal, which is what sigmoid/tanh/softplus need. A NaN input gives NaN
   (the trainer's non-finite guard must see it; converting NaN to an integer would be undefined),
   written as selects so the loops that call this still vectorise. */
static inline float ardm_expf(float x)
{
  const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  const float x_in = x;
  float       n, r, p;
  int32_t     bits;
  x = x != x ? 0.0f : x;
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  n = (x * 1.44269504088896341f + round_magic) - round_magic;
  r = x - n * 0.693359375f + n * 2.12194440e-4f;
  p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  bits = (int32_t)((uint32_t)((int32_t)n + 127) << 23);
  {
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x_in != x_in ? x_in : p * scale;
  }
}
static inline float ardm_sigmoidf(float x)
{
  return 1.0f / (1.0f + ardm_expf(-x));
}
/* tanh(x) = 2 sigmoid(2x) - 1: absolute error ~1e-7, which is all float activations need. */
static inline float ardm_tanhf(float x)
{
  return 2.0f / (1.0f + ardm_expf(-2.0f * x)) - 1.0f;
}

/* ---- dense (token layout) ---- */

/* y[N][out] = x[N][in] W[out][in]^T + b[out] (b may be NULL). */
void dense_forward(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t in, int64_t out);
/* dx[N][in] += dy W;  dw[out][in] += dy^T x;  db[out] += sum_n dy[n]. */
void dense_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t n,
                    int64_t in, int64_t out);

/* ---- convolutions (audio layout) ---- */

/* 1x1 convolution: y[B][cout][D] = W[cout][cin] x[B][cin][D] + b[cout] (b may be NULL). */
void conv1x1_forward(float *y, const float *x, const float *w, const float *b, int64_t batch, int64_t cin, int64_t cout,
                     int64_t d);
void conv1x1_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t batch,
                      int64_t cin, int64_t cout, int64_t d);
/* The same with dx WRITTEN (dx = W^T dy, the GEMM's beta = 0; dw and db still accumulate). */
void conv1x1_backward_set(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                          int64_t batch, int64_t cin, int64_t cout, int64_t d);

/* 1-D convolution, odd kernel k, dilation dil, "same" zero padding, non-causal:
   y[B][cout][i] = b[cout] + sum_j sum_c W[j][cout][c] x[B][c][i + (j - (k-1)/2) dil]
   (terms outside 0..D-1 are zero), so output i sees i - dil*(k-1)/2 .. i + dil*(k-1)/2.
   Weights are stored tap-major, W[k][cout][cin], so every tap is one contiguous GEMM operand;
   the layer runs as k shifted GEMMs whose column ranges are cut to the valid part. */
void conv1d_forward(float *y, const float *x, const float *w, const float *b, int64_t batch, int64_t cin, int64_t cout,
                    int64_t d, int k, int64_t dil);
void conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t batch,
                     int64_t cin, int64_t cout, int64_t d, int k, int64_t dil);

/* The same convolution on one part of D whose neighbours' columns are already in place:
   xh[B][cin][d + 2h] holds the part with h = dil*(k-1)/2 halo columns on each side (zeros past
   the ends of the whole sequence), y[B][cout][d] = b + sum_j W[j] xh[:, i + j dil]. Every tap
   is one GEMM over all d columns (the model-parallel network, doc/design.md "Model
   parallelism"). Backward accumulates into the halo columns of dxh too; the caller sends those
   back to the neighbours that own them. */
void conv1d_halo_forward(float *y, const float *xh, const float *w, const float *b, int64_t batch, int64_t cin,
                         int64_t cout, int64_t d, int k, int64_t dil);
void conv1d_halo_backward(float *dxh, float *dw, float *db, const float *dy, const float *xh, const float *w,
                          int64_t batch, int64_t cin, int64_t cout, int64_t d, int k, int64_t dil);

/* ---- elementwise activations (n elements, any layout) ---- */
void relu_forward(float *y, const float *x, int64_t n);
void relu_backward(float *dx, const float *dy, const float *y, int64_t n); /* uses the OUTPUT y */
/* "_set" variant (here and below): the input gradient is WRITTEN (=), not accumulated, for a
   tensor with one producer whose buffer would otherwise be zero-filled first; the results are
   the bits of zero-fill + accumulate. dx may alias dy. */
void relu_backward_set(float *dx, const float *dy, const float *y, int64_t n);
void silu_forward(float *y, const float *x, int64_t n); /* x sigmoid(x) */
void silu_backward(float *dx, const float *dy, const float *x, int64_t n);
/* GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (as GPT-2 and llm.c). */
void gelu_forward(float *y, const float *x, int64_t n);
void gelu_backward(float *dx, const float *dy, const float *x, int64_t n);

/* Gated activation over the two channel halves of z[B][2C][D] (WaveNet/DiffWave):
   z += bias (per channel; example e uses bias + e * bias_stride, so stride 0 shares one
   bias[2C] and stride 2C gives one per example; bias may be NULL), after which z holds the
   pre-activation the backward needs, and y[B][C][D] = tanh(z[:, :C]) * sigmoid(z[:, C:]). */
void gate_forward(float *y, float *z, const float *bias, int64_t bias_stride, int64_t batch, int64_t c, int64_t d);
/* dz[B][2C][D] += d y / d z (dz must not be NULL); dbias + e * bias_stride += the sum over D of
   example e's part (so stride 0 sums over the batch; dbias may be NULL). */
void gate_backward(float *dz, float *dbias, int64_t bias_stride, const float *dy, const float *z, int64_t batch,
                   int64_t c, int64_t d);
/* The same gate with the bias applied on the fly and z left as it is (the network saves the
   conv output without the bias and keeps the bias, so nothing is written back; issue 17):
   y[B][C][D] = tanh(z[:, :C] + ba) * sigmoid(z[:, C:] + bb), ba/bb as in gate_forward. When ts
   is not NULL it also gets ts[B][2C][D] = [tanh(...); sigmoid(...)], the backward's operands
   (the pass is bound by the exponentials, not by the extra stores, so keeping them costs about
   nothing and saves evaluating them again in the backward). */
void gate_apply(float *y, float *ts, const float *z, const float *bias, int64_t bias_stride, int64_t batch, int64_t c,
                int64_t d);
/* y[B][C][D] = ts[:, :C] * ts[:, C:]: gate_apply's y again from its ts (no exponentials). */
void gate_product(float *y, const float *ts, int64_t batch, int64_t c, int64_t d);
/* Backward of gate_apply from its ts[B][2C][D]: dz[B][2C][D] = d y / d z (WRITTEN; dz may be ts
   itself, the gradient then replaces the saved values), dbias as in gate_backward (+=). The
   same arithmetic as gate_backward on the biased pre-activation. */
void gate_backward_ts_set(float *dz, float *dbias, int64_t bias_stride, const float *dy, const float *ts, int64_t batch,
                          int64_t c, int64_t d);

/* ---- normalisation ---- */

/* Layer norm over the last axis of x[N][C]: y = (x - mean) rstd * g + b; saves mean[N] and
   rstd[N] for the backward. */
void layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *g, const float *b, int64_t n,
                       int64_t c, float eps);
void layernorm_backward(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                        const float *rstd, const float *g, int64_t n, int64_t c);
/* Group norm of x[B][C][D] over groups of C/G channels and all D: y = xhat * g[c] + b[c];
   saves mean[B][G] and rstd[B][G]. C must be divisible by G. */
void groupnorm_forward(float *y, float *mean, float *rstd, const float *x, const float *g, const float *b,
                       int64_t batch, int64_t c, int64_t d, int64_t groups, float eps);
void groupnorm_backward(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                        const float *rstd, const float *g, int64_t batch, int64_t c, int64_t d, int64_t groups);

/* ---- lookups and embeddings ---- */

/* y[N][C] = table[idx[n]][:]; dtable[idx[n]] += dy[n]. */
void embedding_forward(float *y, const int32_t *idx, const float *table, int64_t n, int64_t c);
void embedding_backward(float *dtable, const float *dy, const int32_t *idx, int64_t n, int64_t c);

/* Sinusoidal embedding of a scalar (DiffWave/Transformer): with s = t * scale and
   f_j = 10000^(-j/(half-1)), y[n][j] = sin(s f_j), y[n][half + j] = cos(s f_j), half = dim/2.
   The input is an integer step, so there is no backward. dim must be even and >= 4. */
void timeembed_forward(float *y, const double *t, int64_t n, int64_t dim, double scale);

/* ---- residual and skip paths ---- */

/* One residual block output o[B][2C][D] (+ bias ob[2C]) split in two halves:
   xn = (x + o[:, :C] + ob[:C]) * scale      (the residual path, scale = 1/sqrt(2))
   skip += o[:, C:] + ob[C:]                 (the skip sum; ob may be NULL).
   xn may alias x. */
void resskip_forward(float *xn, float *skip, const float *x, const float *o, const float *ob, int64_t batch, int64_t c,
                     int64_t d, float scale);
/* The same with skip WRITTEN (skip = o[:, C:] + ob[C:]): the first block starts the sum. */
void resskip_forward_set(float *xn, float *skip, const float *x, const float *o, const float *ob, int64_t batch,
                         int64_t c, int64_t d, float scale);
/* dx += dxn * scale; do[:, :C] += dxn * scale; do[:, C:] += dskip; dob += their sums over
   B and D. dx, do, dob may be NULL. */
void resskip_backward(float *dx, float *dout, float *dob, const float *dxn, const float *dskip, int64_t batch,
                      int64_t c, int64_t d, float scale);
/* resskip_backward in place on the packed gradient g[B][2C][D] (the audio network keeps
   d/dxn in g[:, :C] and d/dskip in g[:, C:], so g is d/do as one GEMM operand; issue 17):
   g[:, :C] *= scale (then d/do[:, :C], and also the residual path's d/dx, which the block's
   convolution backward accumulates onto in place); g[:, C:] is left as it is (= d/do[:, C:]);
   dob[:C] += the sums over B and D of the entry g[:, :C] times scale, dob[C:] += the sums of
   g[:, C:] over B, taken from skip_sums[B][C] (sum_f of each row, the same for every block, so
   the caller sums once: chan_row_sums). The bits of resskip_backward into zeroed dx and do. */
void resskip_backward_packed(float *g, float *dob, const float *skip_sums, int64_t batch, int64_t c, int64_t d,
                             float scale);
/* sums[B][C]: sums[e][ch] = sum_f of the row x + e ld_e + ch d (d floats), i.e. the sums over D
   of C channel rows per example, examples ld_e floats apart. */
void chan_row_sums(float *sums, const float *x, int64_t batch, int64_t c, int64_t d, int64_t ld_e);

/* sum of n floats (16 partial sums: vectorised, and more accurate than a serial sum). */
float sum_f(const float *x, int64_t n);
/* y += a * x (n elements): plain accumulation (skip sums, gradient sums). */
void axpy_acc(float *y, const float *x, float a, int64_t n);
/* db[c] += sum over B and D of dy[B][C][D]: the bias gradient of a channel-major layer. */
void chan_sum_acc(float *db, const float *dy, int64_t batch, int64_t c, int64_t d);

#endif
