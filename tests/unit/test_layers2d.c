/* test_layers2d.c: the image layers (nn/layer_conv2d.h): each backward against double-precision
   central differences of its forward (gradcheck.h gives the error budget), and the 3x3
   convolution, pooling, up-sampling and attention forwards against direct loops in double. */
#include "harness.h"
#include "gradcheck.h"
#include "nn/layer_conv2d.h"
#include <stdlib.h>

/* Smooth layers at h = 1e-2 with outputs of <= a few hundred entries: the budget is ~1e-4
   relative (gradcheck.h); 2e-3 keeps a 20x margin and stays far below a broken formula's O(1). */
#define TOL 2e-3

typedef struct {
  int64_t b, cin, cout, h, w, n, ncol; /* ncol: the convolution's scratch capacity */
  float  *x, *dx, *wt, *dw, *bias, *db, *y, *dy, *col, *aux, *x2, *dx2;
} ctx2d;
static ctx2d P;

static float *zalloc(int64_t n)
{
  return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

static void alloc_all(int64_t nx, int64_t nw, int64_t nb, int64_t ny, int64_t ncol, int64_t naux)
{
  P.x = zalloc(nx), P.dx = zalloc(nx), P.wt = zalloc(nw), P.dw = zalloc(nw), P.bias = zalloc(nb), P.db = zalloc(nb);
  P.y = zalloc(ny), P.dy = zalloc(ny), P.col = zalloc(ncol), P.aux = zalloc(naux);
  P.x2 = zalloc(nx), P.dx2 = zalloc(nx);
  gc_fill(P.x, nx, -1, 1, 21);
  gc_fill(P.x2, nx, -1, 1, 25);
  gc_fill(P.wt, nw, -1, 1, 22);
  gc_fill(P.bias, nb, -1, 1, 23);
  gc_fill(P.dy, ny, -1, 1, 24);
}

static void free_all(void)
{
  float **all[] = {&P.x, &P.dx, &P.wt, &P.dw, &P.bias, &P.db, &P.y, &P.dy, &P.col, &P.aux, &P.x2, &P.dx2};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(*all[i]), *all[i] = NULL;
}

static gradcheck gc_new(int64_t ny, void (*f)(void *), void (*b)(void *))
{
  gradcheck gc;
  memset(&gc, 0, sizeof gc);
  gc.y = P.y, gc.dy = P.dy, gc.ny = ny, gc.forward = f, gc.backward = b, gc.h = 1e-2, gc.max_probe = 300;
  return gc;
}
static char msg[512];
#define RUN_GC(gc) CHECK(gc_run(&(gc), TOL, 1e-3, msg, sizeof msg) == 0, "%s", msg)

/* ---- 3x3 convolution ---- */
static void conv_f(void *c)
{
  conv3x3_forward(P.y, P.col, P.ncol, P.x, P.wt, P.bias, P.b, P.cin, P.cout, P.h, P.w);
}
static void conv_b(void *c)
{
  conv3x3_backward(P.dx, P.dw, P.db, P.col, P.ncol, P.dy, P.x, P.wt, P.b, P.cin, P.cout, P.h, P.w);
}
static double conv_direct(int64_t e, int64_t o, int64_t yy, int64_t xx)
{
  double s = P.bias[o];
  for (int64_t c = 0; c < P.cin; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) {
        int64_t sy = yy + ky - 1, sx = xx + kx - 1;
        if (sy < 0 || sy >= P.h || sx < 0 || sx >= P.w) continue;
        s += (double)P.wt[((o * P.cin + c) * 3 + ky) * 3 + kx] * P.x[((e * P.cin + c) * P.h + sy) * P.w + sx];
      }
  return s;
}
/* batch b; group = examples per GEMM the scratch allows (1: one example's im2col only) */
static int conv_case(int64_t h, int64_t w, int64_t b, int64_t group)
{
  gradcheck gc;
  P.b = b, P.cin = 3, P.cout = 2, P.h = h, P.w = w;
  P.ncol = group > 1 ? group * h * w * (9 * P.cin + P.cout) : conv3x3_col_floats(P.cin, h, w);
  alloc_all(P.b * P.cin * h * w, P.cout * P.cin * 9, P.cout, P.b * P.cout * h * w, P.ncol, 0);
  conv_f(NULL);
  for (int64_t e = 0; e < P.b; e++)
    for (int64_t o = 0; o < P.cout; o++)
      for (int64_t yy = 0; yy < h; yy++)
        for (int64_t xx = 0; xx < w; xx++)
          CHECK_CLOSE(P.y[((e * P.cout + o) * h + yy) * w + xx], conv_direct(e, o, yy, xx), 1e-5);
  gc = gc_new(P.b * P.cout * h * w, conv_f, conv_b);
  gc_add(&gc, "x", P.x, P.dx, P.b * P.cin * h * w);
  gc_add(&gc, "w", P.wt, P.dw, P.cout * P.cin * 9);
  gc_add(&gc, "b", P.bias, P.db, P.cout);
  RUN_GC(gc);
  free_all();
  return 0;
}
/* square, non-square, a single row and a 1x1 image (every tap but the centre is padding), one
   example per GEMM; then several examples per GEMM: the whole batch of 3 in one group, and
   groups of 2 + 2 + 1 for a batch of 5 (a short last group) */
static int test_conv3x3(void)
{
  return conv_case(5, 4, 2, 1) || conv_case(3, 7, 2, 1) || conv_case(1, 6, 2, 1) || conv_case(1, 1, 2, 1) ||
         conv_case(5, 4, 3, 3) || conv_case(3, 7, 5, 2) || conv_case(1, 1, 5, 2);
}

/* The scratch sizes conv3x3_group_col_floats asks for: one im2col at full width, groups of
   ceil(1024 / HW) examples (capped by the batch) at low resolution. */
static int test_conv3x3_group_size(void)
{
  CHECK(conv3x3_group_col_floats(8, 64, 64, 32, 32) == conv3x3_col_floats(64, 32, 32), "32 x 32: one example");
  CHECK(conv3x3_group_col_floats(8, 64, 128, 8, 8) == 8 * 64 * (9 * 64 + 128), "8 x 8, batch 8: 8 examples");
  CHECK(conv3x3_group_col_floats(32, 64, 128, 8, 8) == 16 * 64 * (9 * 64 + 128), "8 x 8, batch 32: 16 examples");
  CHECK(conv3x3_group_col_floats(1, 64, 128, 8, 8) == conv3x3_col_floats(64, 8, 8), "batch 1: one example");
  return 0;
}

/* Backward accumulates: running it twice doubles every gradient. */
static int test_conv3x3_accumulates(void)
{
  float *once;
  P.b = 1, P.cin = 2, P.cout = 3, P.h = 4, P.w = 4;
  P.ncol = conv3x3_col_floats(2, 4, 4);
  alloc_all(32, 54, 3, 48, P.ncol, 0);
  conv_f(NULL);
  conv_b(NULL);
  once = malloc(32 * sizeof(float));
  memcpy(once, P.dx, 32 * sizeof(float));
  conv_b(NULL);
  for (int i = 0; i < 32; i++) CHECK_CLOSE(P.dx[i], 2.0f * once[i], 1e-6);
  free(once);
  free_all();
  return 0;
}

/* ---- pooling, up-sampling, concatenation ---- */
static int  pool_kind;
static void pool_f(void *c)
{
  if (pool_kind == 0) avgpool2_forward(P.y, P.x, P.n, P.h, P.w);
  if (pool_kind == 1) upsample2_forward(P.y, P.x, P.n, P.h, P.w);
  if (pool_kind == 2) concat_forward(P.y, P.x, P.x2, P.b, P.cin, P.cout, P.h * P.w);
}
static void pool_b(void *c)
{
  if (pool_kind == 0) avgpool2_backward(P.dx, P.dy, P.n, P.h, P.w);
  if (pool_kind == 1) upsample2_backward(P.dx, P.dy, P.n, P.h, P.w);
  if (pool_kind == 2) concat_backward(P.dx, P.dx2, P.dy, P.b, P.cin, P.cout, P.h * P.w);
}
static int test_resample(void)
{
  gradcheck gc;
  P.n = 3, P.h = 4, P.w = 6;
  alloc_all(72, 0, 0, 72 * 4, 0, 0);
  pool_kind = 0;
  pool_f(NULL);
  for (int64_t p = 0; p < 3; p++)
    for (int64_t yy = 0; yy < 2; yy++)
      for (int64_t xx = 0; xx < 3; xx++) {
        const float *r = P.x + (p * 4 + 2 * yy) * 6 + 2 * xx;
        CHECK_CLOSE(P.y[(p * 2 + yy) * 3 + xx], 0.25 * ((double)r[0] + r[1] + r[6] + r[7]), 1e-6);
      }
  gc = gc_new(18, pool_f, pool_b);
  gc_add(&gc, "x", P.x, P.dx, 72);
  RUN_GC(gc);
  pool_kind = 1;
  pool_f(NULL);
  for (int64_t p = 0; p < 3; p++)
    for (int64_t yy = 0; yy < 8; yy++)
      for (int64_t xx = 0; xx < 12; xx++)
        CHECK(P.y[(p * 8 + yy) * 12 + xx] == P.x[(p * 4 + yy / 2) * 6 + xx / 2], "upsample at %lld,%lld", (long long)yy,
              (long long)xx);
  gc = gc_new(72 * 4, pool_f, pool_b);
  gc_add(&gc, "x", P.x, P.dx, 72);
  RUN_GC(gc);
  pool_kind = 2, P.b = 2, P.cin = 2, P.cout = 1, P.h = 3, P.w = 4; /* a[2][2][12] ++ b[2][1][12] */
  pool_f(NULL);
  CHECK(P.y[24] == P.x2[0] && P.y[36] == P.x[24] && P.y[71] == P.x2[23], "concat layout");
  gc = gc_new(72, pool_f, pool_b);
  gc_add(&gc, "a", P.x, P.dx, 48);
  gc_add(&gc, "b", P.x2, P.dx2, 24);
  RUN_GC(gc);
  free_all();
  return 0;
}

/* ---- attention ---- */
static void att_f(void *c)
{
  attention2d_forward(P.y, P.aux, P.x, P.b, P.cin, P.n);
}
static void att_b(void *c)
{
  attention2d_backward(P.dx, P.col, P.dy, P.x, P.aux, P.b, P.cin, P.n);
}
static int test_attention(void)
{
  gradcheck gc;
  P.b = 2, P.cin = 3, P.n = 6;
  alloc_all(P.b * 3 * P.cin * P.n, 0, 0, P.b * P.cin * P.n, P.n * P.n, P.b * P.n * P.n);
  for (int64_t i = 0; i < P.b * 3 * P.cin * P.n; i++) P.x[i] *= 2.0f; /* scores far from uniform */
  att_f(NULL);
  for (int64_t e = 0; e < P.b; e++) {
    const float *q = P.x + e * 9 * P.n, *k = q + 3 * P.n, *v = k + 3 * P.n;
    for (int64_t i = 0; i < P.n; i++) {
      double s[6], mx = -1e300, z = 0.0;
      for (int64_t j = 0; j < P.n; j++) {
        s[j] = 0.0;
        for (int64_t c = 0; c < 3; c++) s[j] += (double)q[c * P.n + i] * k[c * P.n + j] / sqrt(3.0);
        mx = fmax(mx, s[j]);
      }
      for (int64_t j = 0; j < P.n; j++) z += exp(s[j] - mx);
      for (int64_t c = 0; c < 3; c++) {
        double o = 0.0;
        for (int64_t j = 0; j < P.n; j++) o += v[c * P.n + j] * exp(s[j] - mx) / z;
        CHECK_CLOSE(P.y[(e * 3 + c) * P.n + i], o, 1e-5);
      }
    }
  }
  gc = gc_new(P.b * P.cin * P.n, att_f, att_b);
  gc_add(&gc, "qkv", P.x, P.dx, P.b * 3 * P.cin * P.n);
  RUN_GC(gc);
  free_all();
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_conv3x3);
  TH_RUN(test_conv3x3_group_size);
  TH_RUN(test_conv3x3_accumulates);
  TH_RUN(test_resample);
  TH_RUN(test_attention);
  return TH_FINISH();
}
