/* layers.c: the GEMM-shaped layers (dense, 1x1 and dilated 1-D convolutions) over
   cblas_sgemm, plus the residual/skip and bias-sum helpers. See layers.h for shapes. */
#include "nn/layers.h"
#include "core/prof.h"
#include <cblas.h>
#include <omp.h>

/* One row-major sgemm on the calling thread: C[m][n] = alpha op(A) op(B) + beta C. */
static void gemm1(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
              alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* With several OpenMP threads (-threads) a large product is cut into one block of C per thread
   (columns when n >= m, else rows; column cuts on multiples of 16 floats, one cache line) and
   each block is a one-thread sgemm. The BLAS thus never starts threads of its own: a second
   pool beside OpenMP's would compete with OpenMP's spinning workers for the same cores
   (benchmarks/RESULTS.md "Threads inside a rank"). Every element of C sees the same k-sum as
   in one call, up to the BLAS's blocking of that k-sum. */
static int gemm_split = 1;

void nn_gemm_set_split(int on)
{
  gemm_split = on;
}

void nn_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda, const float *b,
             int64_t ldb, float beta, float *c, int64_t ldc)
{
  ArdmAssert(m < INT32_MAX && n < INT32_MAX && k < INT32_MAX && lda < INT32_MAX && ldb < INT32_MAX && ldc < INT32_MAX,
             "matrix sizes beyond the int range of BLAS");
  if (m <= 0 || n <= 0) return;
  int nt = gemm_split && !omp_in_parallel() ? omp_get_max_threads() : 1;
  if (nt < 2 || (double)m * (double)n * (double)k < NN_GEMM_PAR_MIN) {
    gemm1(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int cols = n >= m;
#pragma omp parallel num_threads(nt)
  {
    int64_t p = omp_get_thread_num(), np = omp_get_num_threads(), len = cols ? n : m;
    int64_t lo = len * p / np, hi = len * (p + 1) / np;
    if (cols && len >= 16 * np) lo = p ? (lo + 8) / 16 * 16 : 0, hi = p + 1 < np ? (hi + 8) / 16 * 16 : len;
    if (hi > lo) {
      if (cols) /* op(B)[:, lo:hi]: columns of B, or rows of B^T */
        gemm1(ta, tb, m, hi - lo, k, alpha, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc);
      else /* op(A)[lo:hi, :]: rows of A, or columns of A^T */
        gemm1(ta, tb, hi - lo, n, k, alpha, ta ? a + lo : a + lo * lda, lda, b, ldb, beta, c + lo * ldc, ldc);
    }
  }
}

float sum_f(const float *x, int64_t n)
{
  /* 16 independent partial sums: vectorises without -ffast-math and is more accurate than
     one serial float sum */
  float   acc[16] = {0}, s = 0.0f;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++) acc[j] += x[i + j];
  for (; i < n; i++) s += x[i];
  for (int j = 0; j < 16; j++) s += acc[j];
  return s;
}

/* y += a x on one thread (a row inside a threaded loop) */
static void axpy_row(float *y, const float *x, float a, int64_t n)
{
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void axpy_acc(float *y, const float *x, float a, int64_t n)
{
  /* small n (one token's row, called per token) stays out of the OpenMP runtime altogether: an
     omp parallel with a false if-clause still enters it, which cost more than the additions */
  if (n <= NN_PAR_MIN) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void chan_sum_acc(float *db, const float *dy, int64_t batch, int64_t c, int64_t d)
{
  /* by channel, the examples in order inside: the sums do not depend on the thread count */
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t e = 0; e < batch; e++) db[ch] += sum_f(dy + (e * c + ch) * d, d);
}

/* y[b][c][:] += bias[c] for a channel-major tensor. */
static void chan_bias_add(float *y, const float *bias, int64_t batch, int64_t c, int64_t d)
{
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t r = 0; r < batch * c; r++) { /* row r = e c + ch */
    float *row = y + r * d;
    float  v = bias[r % c];
    for (int64_t i = 0; i < d; i++) row[i] += v;
  }
}

/* ---- dense: y[N][out] = x[N][in] W^T + b ---- */

void dense_forward(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t in, int64_t out)
{
  PROF_BEGIN(PROF_DENSE);
  nn_gemm(0, 1, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  if (b)
    for (int64_t r = 0; r < n; r++)
      for (int64_t o = 0; o < out; o++) y[r * out + o] += b[o];
  PROF_END(PROF_DENSE);
}

void dense_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t n,
                    int64_t in, int64_t out)
{
  PROF_BEGIN(PROF_DENSE);
  if (dx) nn_gemm(0, 0, n, in, out, 1.0f, dy, out, w, in, 1.0f, dx, in); /* dx[N][in] += dy[N][out] W[out][in] */
  if (dw) nn_gemm(1, 0, out, in, n, 1.0f, dy, out, x, in, 1.0f, dw, in); /* dw[out][in] += dy^T x */
  if (db)
    for (int64_t r = 0; r < n; r++)
      for (int64_t o = 0; o < out; o++) db[o] += dy[r * out + o];
  PROF_END(PROF_DENSE);
}

/* ---- 1x1 convolution: y[b] = W x[b] + bias, one GEMM per example (N = D is wide) ---- */

void conv1x1_forward(float *y, const float *x, const float *w, const float *b, int64_t batch, int64_t cin, int64_t cout,
                     int64_t d)
{
  PROF_BEGIN(PROF_CONV1X1);
  for (int64_t e = 0; e < batch; e++)
    nn_gemm(0, 0, cout, d, cin, 1.0f, w, cin, x + e * cin * d, d, 0.0f, y + e * cout * d, d); /* y[cout][D] */
  if (b) chan_bias_add(y, b, batch, cout, d);
  PROF_END(PROF_CONV1X1);
}

void conv1x1_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t batch,
                      int64_t cin, int64_t cout, int64_t d)
{
  PROF_BEGIN(PROF_CONV1X1);
  for (int64_t e = 0; e < batch; e++) {
    const float *dye = dy + e * cout * d;                                                 /* dy[cout][D] */
    if (dw) nn_gemm(0, 1, cout, cin, d, 1.0f, dye, d, x + e * cin * d, d, 1.0f, dw, cin); /* dW += dy x^T */
    if (dx) nn_gemm(1, 0, cin, d, cout, 1.0f, w, cin, dye, d, 1.0f, dx + e * cin * d, d); /* dx += W^T dy */
  }
  if (db) chan_sum_acc(db, dy, batch, cout, d);
  PROF_END(PROF_CONV1X1);
}

void conv1x1_backward_set(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                          int64_t batch, int64_t cin, int64_t cout, int64_t d)
{
  PROF_BEGIN(PROF_CONV1X1);
  for (int64_t e = 0; e < batch; e++) {
    const float *dye = dy + e * cout * d;                                                 /* dy[cout][D] */
    if (dw) nn_gemm(0, 1, cout, cin, d, 1.0f, dye, d, x + e * cin * d, d, 1.0f, dw, cin); /* dW += dy x^T */
    if (dx) nn_gemm(1, 0, cin, d, cout, 1.0f, w, cin, dye, d, 0.0f, dx + e * cin * d, d); /* dx = W^T dy */
  }
  if (db) chan_sum_acc(db, dy, batch, cout, d);
  PROF_END(PROF_CONV1X1);
}

/* ---- dilated 1-D convolution as k shifted GEMMs ----
   Tap j reads x at offset s = (j - (k-1)/2) dil. Output columns i with 0 <= i + s < D are
   [max(0, -s), min(D, D - s)); the others see zero padding and get nothing from this tap. */

static void tap_range(int64_t d, int j, int k, int64_t dil, int64_t *s, int64_t *i0, int64_t *i1)
{
  *s = (int64_t)(j - (k - 1) / 2) * dil;
  *i0 = *s < 0 ? -*s : 0;
  *i1 = *s > 0 ? d - *s : d;
  if (*i1 < *i0) *i1 = *i0; /* the shift is longer than the signal: this tap sees only padding */
}

void conv1d_forward(float *y, const float *x, const float *w, const float *b, int64_t batch, int64_t cin, int64_t cout,
                    int64_t d, int k, int64_t dil)
{
  PROF_BEGIN(PROF_CONV1D);
  ArdmAssert(k % 2 == 1, "odd kernel width expected");
  for (int64_t e = 0; e < batch; e++) {
    const float *xe = x + e * cin * d;  /* x[cin][D] */
    float       *ye = y + e * cout * d; /* y[cout][D] */
    /* the centre tap covers every column, so it initialises y (beta = 0) */
    nn_gemm(0, 0, cout, d, cin, 1.0f, w + (int64_t)((k - 1) / 2) * cout * cin, cin, xe, d, 0.0f, ye, d);
    for (int j = 0; j < k; j++) {
      int64_t s, i0, i1;
      if (j == (k - 1) / 2) continue;
      tap_range(d, j, k, dil, &s, &i0, &i1);
      nn_gemm(0, 0, cout, i1 - i0, cin, 1.0f, w + (int64_t)j * cout * cin, cin, xe + i0 + s, d, 1.0f, ye + i0, d);
    }
  }
  if (b) chan_bias_add(y, b, batch, cout, d);
  PROF_END(PROF_CONV1D);
}

void conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t batch,
                     int64_t cin, int64_t cout, int64_t d, int k, int64_t dil)
{
  PROF_BEGIN(PROF_CONV1D);
  ArdmAssert(k % 2 == 1, "odd kernel width expected");
  for (int64_t e = 0; e < batch; e++) {
    const float *xe = x + e * cin * d;    /* x[cin][D] */
    const float *dye = dy + e * cout * d; /* dy[cout][D] */
    for (int j = 0; j < k; j++) {
      int64_t s, i0, i1;
      tap_range(d, j, k, dil, &s, &i0, &i1);
      if (i1 <= i0) continue;
      /* dW_j[cout][cin] += dy[:, i0:i1] x[:, i0+s:i1+s]^T */
      if (dw)
        nn_gemm(0, 1, cout, cin, i1 - i0, 1.0f, dye + i0, d, xe + i0 + s, d, 1.0f, dw + (int64_t)j * cout * cin, cin);
      /* dx[:, i0+s:i1+s] += W_j^T dy[:, i0:i1] */
      if (dx)
        nn_gemm(1, 0, cin, i1 - i0, cout, 1.0f, w + (int64_t)j * cout * cin, cin, dye + i0, d, 1.0f,
                dx + e * cin * d + i0 + s, d);
    }
  }
  if (db) chan_sum_acc(db, dy, batch, cout, d);
  PROF_END(PROF_CONV1D);
}

void conv1d_halo_forward(float *y, const float *xh, const float *w, const float *b, int64_t batch, int64_t cin,
                         int64_t cout, int64_t d, int k, int64_t dil)
{
  PROF_BEGIN(PROF_CONV1D);
  const int64_t dh = d + dil * (k - 1); /* columns of one xh row */
  ArdmAssert(k % 2 == 1, "odd kernel width expected");
  for (int64_t e = 0; e < batch; e++) {
    const float *xe = xh + e * cin * dh; /* xh[cin][d + 2h] */
    float       *ye = y + e * cout * d;  /* y[cout][d] */
    /* centre tap first (beta = 0), then the others, in conv1d_forward's order */
    nn_gemm(0, 0, cout, d, cin, 1.0f, w + (int64_t)((k - 1) / 2) * cout * cin, cin, xe + (k - 1) / 2 * dil, dh, 0.0f,
            ye, d);
    for (int j = 0; j < k; j++) {
      if (j == (k - 1) / 2) continue;
      nn_gemm(0, 0, cout, d, cin, 1.0f, w + (int64_t)j * cout * cin, cin, xe + j * dil, dh, 1.0f, ye, d);
    }
  }
  if (b) chan_bias_add(y, b, batch, cout, d);
  PROF_END(PROF_CONV1D);
}

void conv1d_halo_backward(float *dxh, float *dw, float *db, const float *dy, const float *xh, const float *w,
                          int64_t batch, int64_t cin, int64_t cout, int64_t d, int k, int64_t dil)
{
  PROF_BEGIN(PROF_CONV1D);
  const int64_t dh = d + dil * (k - 1);
  ArdmAssert(k % 2 == 1, "odd kernel width expected");
  for (int64_t e = 0; e < batch; e++) {
    const float *xe = xh + e * cin * dh;  /* xh[cin][d + 2h] */
    const float *dye = dy + e * cout * d; /* dy[cout][d] */
    for (int j = 0; j < k; j++) {
      /* dW_j[cout][cin] += dy x_j^T;  dxh[:, j dil : j dil + d] += W_j^T dy */
      if (dw) nn_gemm(0, 1, cout, cin, d, 1.0f, dye, d, xe + j * dil, dh, 1.0f, dw + (int64_t)j * cout * cin, cin);
      if (dxh)
        nn_gemm(1, 0, cin, d, cout, 1.0f, w + (int64_t)j * cout * cin, cin, dye, d, 1.0f, dxh + e * cin * dh + j * dil,
                dh);
    }
  }
  if (db) chan_sum_acc(db, dy, batch, cout, d);
  PROF_END(PROF_CONV1D);
}

/* ---- residual / skip split ---- */

/* The two variants differ only in whether skip accumulates (+=) or is written (=). */
static void resskip_rows(float *xn, float *skip, const float *x, const float *o, const float *ob, int64_t batch,
                         int64_t c, int64_t d, float scale, int accumulate)
{
  PROF_BEGIN(PROF_RESSKIP);
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t r = 0; r < batch * c; r++) { /* row r = e c + ch */
    const int64_t e = r / c, ch = r % c;
    const float  *xr = x + r * d, *orr = o + (e * 2 * c + ch) * d, *os = orr + c * d;
    float        *xnr = xn + r * d, *sr = skip + r * d;
    float         br = ob ? ob[ch] : 0.0f, bs = ob ? ob[c + ch] : 0.0f;
    for (int64_t i = 0; i < d; i++) xnr[i] = (xr[i] + orr[i] + br) * scale;
    if (accumulate)
      for (int64_t i = 0; i < d; i++) sr[i] += os[i] + bs;
    else
      for (int64_t i = 0; i < d; i++) sr[i] = os[i] + bs;
  }
  PROF_END(PROF_RESSKIP);
}

void resskip_forward(float *xn, float *skip, const float *x, const float *o, const float *ob, int64_t batch, int64_t c,
                     int64_t d, float scale)
{
  resskip_rows(xn, skip, x, o, ob, batch, c, d, scale, 1);
}

void resskip_forward_set(float *xn, float *skip, const float *x, const float *o, const float *ob, int64_t batch,
                         int64_t c, int64_t d, float scale)
{
  resskip_rows(xn, skip, x, o, ob, batch, c, d, scale, 0);
}

void resskip_backward(float *dx, float *dout, float *dob, const float *dxn, const float *dskip, int64_t batch,
                      int64_t c, int64_t d, float scale)
{
  PROF_BEGIN(PROF_RESSKIP);
  /* by channel, the examples in order inside (dob sums over the batch) */
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t e = 0; e < batch; e++) {
      const float *gr = dxn + (e * c + ch) * d, *gs = dskip + (e * c + ch) * d;
      if (dx) axpy_row(dx + (e * c + ch) * d, gr, scale, d);
      if (dout) {
        axpy_row(dout + (e * 2 * c + ch) * d, gr, scale, d);
        axpy_row(dout + (e * 2 * c + c + ch) * d, gs, 1.0f, d);
      }
      if (dob) {
        dob[ch] += sum_f(gr, d) * scale;
        dob[c + ch] += sum_f(gs, d);
      }
    }
  PROF_END(PROF_RESSKIP);
}

void resskip_backward_packed(float *g, float *dob, const float *skip_sums, int64_t batch, int64_t c, int64_t d,
                             float scale)
{
  PROF_BEGIN(PROF_RESSKIP);
  /* by channel, the examples in order inside (dob sums over the batch), as resskip_backward */
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t e = 0; e < batch; e++) {
      float *gr = g + (e * 2 * c + ch) * d; /* g[e][ch][:] */
      if (dob) {
        dob[ch] += sum_f(gr, d) * scale;
        dob[c + ch] += skip_sums[e * c + ch];
      }
      for (int64_t i = 0; i < d; i++) gr[i] *= scale;
    }
  PROF_END(PROF_RESSKIP);
}

void chan_row_sums(float *sums, const float *x, int64_t batch, int64_t c, int64_t d, int64_t ld_e)
{
#pragma omp parallel for schedule(static) if (batch * c * d > NN_PAR_MIN)
  for (int64_t r = 0; r < batch * c; r++) sums[r] = sum_f(x + (r / c) * ld_e + (r % c) * d, d);
}
