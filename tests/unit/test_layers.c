/* test_layers.c: every layer's backward against double-precision central differences of its
   forward (gradcheck.h explains the error budget), plus the dilated convolution's forward
   against a direct loop and the time embedding's identities. */
#include "harness.h"
#include "gradcheck.h"
#include "nn/layers.h"
#include <stdlib.h>

/* Tolerance for smooth layers at h = 1e-2: the error budget in gradcheck.h is ~1e-4 relative
   for these tiny outputs (n_y <= 200); 2e-3 leaves a 20x margin and is still ~500x below the
   O(1) error of a broken formula. */
#define TOL_SMOOTH 2e-3
#define H_SMOOTH   1e-2

/* One scratch context shared by the layer probes: sizes and every tensor a layer needs. */
typedef struct {
  int64_t  b, cin, cout, d, n, groups;
  int      k;
  int64_t  dil;
  float   *x, *w, *bias, *y, *dx, *dw, *dbias, *dy, *aux1, *aux2, *skip, *dskip;
  int32_t *idx;
  float    scale;
} probe;

static probe P;

static float *zalloc(int64_t n)
{
  return calloc((size_t)(n > 0 ? n : 1), sizeof(float));
}

static void probe_alloc(int64_t nx, int64_t nw, int64_t nb, int64_t ny)
{
  P.x = zalloc(nx), P.dx = zalloc(nx), P.w = zalloc(nw), P.dw = zalloc(nw), P.bias = zalloc(nb);
  P.dbias = zalloc(nb), P.y = zalloc(ny), P.dy = zalloc(ny), P.aux1 = zalloc(ny), P.aux2 = zalloc(ny);
  P.skip = zalloc(ny), P.dskip = zalloc(ny);
  gc_fill(P.x, nx, -1, 1, 11);
  gc_fill(P.w, nw, -1, 1, 12);
  gc_fill(P.bias, nb, -1, 1, 13);
  gc_fill(P.dy, ny, -1, 1, 14);
}

static void probe_free(void)
{
  float **all[] = {&P.x, &P.dx, &P.w, &P.dw, &P.bias, &P.dbias, &P.y, &P.dy, &P.aux1, &P.aux2, &P.skip, &P.dskip};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    free(*all[i]);
    *all[i] = NULL;
  }
  free(P.idx);
  P.idx = NULL;
}

static gradcheck gc_new(int64_t ny, void (*f)(void *), void (*b)(void *))
{
  gradcheck gc;
  memset(&gc, 0, sizeof gc);
  gc.y = P.y, gc.dy = P.dy, gc.ny = ny, gc.forward = f, gc.backward = b, gc.h = H_SMOOTH, gc.max_probe = 400;
  return gc;
}

static char gc_msg[512];
#define RUN_GC(gc, tol) CHECK(gc_run(&(gc), (tol), 1e-3, gc_msg, sizeof gc_msg) == 0, "%s", gc_msg)

/* ---- dense ---- */
static void dense_f(void *c)
{
  dense_forward(P.y, P.x, P.w, P.bias, P.n, P.cin, P.cout);
}
static void dense_b(void *c)
{
  dense_backward(P.dx, P.dw, P.dbias, P.dy, P.x, P.w, P.n, P.cin, P.cout);
}
static int test_dense(void)
{
  gradcheck gc;
  P.n = 3, P.cin = 5, P.cout = 4;
  probe_alloc(P.n * P.cin, P.cout * P.cin, P.cout, P.n * P.cout);
  gc = gc_new(P.n * P.cout, dense_f, dense_b);
  gc_add(&gc, "x", P.x, P.dx, P.n * P.cin);
  gc_add(&gc, "w", P.w, P.dw, P.cout * P.cin);
  gc_add(&gc, "b", P.bias, P.dbias, P.cout);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  return 0;
}

/* ---- 1x1 convolution ---- */
static void c11_f(void *c)
{
  conv1x1_forward(P.y, P.x, P.w, P.bias, P.b, P.cin, P.cout, P.d);
}
static void c11_b(void *c)
{
  conv1x1_backward(P.dx, P.dw, P.dbias, P.dy, P.x, P.w, P.b, P.cin, P.cout, P.d);
}
static int test_conv1x1(void)
{
  gradcheck gc;
  P.b = 2, P.cin = 3, P.cout = 4, P.d = 7;
  probe_alloc(P.b * P.cin * P.d, P.cout * P.cin, P.cout, P.b * P.cout * P.d);
  gc = gc_new(P.b * P.cout * P.d, c11_f, c11_b);
  gc_add(&gc, "x", P.x, P.dx, P.b * P.cin * P.d);
  gc_add(&gc, "w", P.w, P.dw, P.cout * P.cin);
  gc_add(&gc, "b", P.bias, P.dbias, P.cout);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  return 0;
}

/* ---- dilated 1-D convolution ---- */
static void c1d_f(void *c)
{
  conv1d_forward(P.y, P.x, P.w, P.bias, P.b, P.cin, P.cout, P.d, P.k, P.dil);
}
static void c1d_b(void *c)
{
  conv1d_backward(P.dx, P.dw, P.dbias, P.dy, P.x, P.w, P.b, P.cin, P.cout, P.d, P.k, P.dil);
}

/* Direct definition of the "same" dilated convolution, summed in double: the independent
   reference for the shifted-GEMM forward. */
static double conv1d_direct(int64_t e, int64_t co, int64_t i)
{
  double s = P.bias[co];
  for (int j = 0; j < P.k; j++)
    for (int64_t ci = 0; ci < P.cin; ci++) {
      int64_t src = i + (j - (P.k - 1) / 2) * P.dil;
      if (src < 0 || src >= P.d) continue;
      s += (double)P.w[(j * P.cout + co) * P.cin + ci] * P.x[(e * P.cin + ci) * P.d + src];
    }
  return s;
}

static int conv1d_case(int k, int64_t dil)
{
  gradcheck gc;
  P.b = 2, P.cin = 3, P.cout = 4, P.d = 11, P.k = k, P.dil = dil;
  probe_alloc(P.b * P.cin * P.d, k * P.cout * P.cin, P.cout, P.b * P.cout * P.d);
  c1d_f(NULL);
  /* float GEMM vs double direct sum of <= 15 products of magnitude <= 1: rounding < 1e-5 */
  for (int64_t e = 0; e < P.b; e++)
    for (int64_t co = 0; co < P.cout; co++)
      for (int64_t i = 0; i < P.d; i++) CHECK_CLOSE(P.y[(e * P.cout + co) * P.d + i], conv1d_direct(e, co, i), 1e-5);
  gc = gc_new(P.b * P.cout * P.d, c1d_f, c1d_b);
  gc_add(&gc, "x", P.x, P.dx, P.b * P.cin * P.d);
  gc_add(&gc, "w", P.w, P.dw, k * P.cout * P.cin);
  gc_add(&gc, "b", P.bias, P.dbias, P.cout);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  return 0;
}

/* dilations 1, 2, 4, and 8 and 16 (taps partly / wholly beyond an 11-long signal); k = 5 */
static int test_conv1d(void)
{
  int64_t dils[] = {1, 2, 4, 8, 16};
  for (size_t i = 0; i < sizeof dils / sizeof dils[0]; i++)
    if (conv1d_case(3, dils[i])) return 1;
  return conv1d_case(5, 3);
}

/* ---- elementwise activations ---- */
static int  act_kind;
static void act_f(void *c)
{
  if (act_kind == 0) relu_forward(P.y, P.x, P.n);
  if (act_kind == 1) silu_forward(P.y, P.x, P.n);
  if (act_kind == 2) gelu_forward(P.y, P.x, P.n);
}
static void act_b(void *c)
{
  if (act_kind == 0) relu_backward(P.dx, P.dy, P.y, P.n);
  if (act_kind == 1) silu_backward(P.dx, P.dy, P.x, P.n);
  if (act_kind == 2) gelu_backward(P.dx, P.dy, P.x, P.n);
}
static int test_activations(void)
{
  for (act_kind = 0; act_kind < 3; act_kind++) {
    gradcheck gc;
    P.n = 64;
    probe_alloc(P.n, 0, 0, P.n);
    gc_fill(P.x, P.n, -4, 4, 21);
    /* ReLU: keep inputs off the kink by more than h, where a difference quotient is undefined */
    for (int64_t i = 0; i < P.n; i++)
      if (fabsf(P.x[i]) < 0.05f) P.x[i] = P.x[i] < 0 ? -0.05f : 0.05f;
    gc = gc_new(P.n, act_f, act_b);
    gc_add(&gc, "x", P.x, P.dx, P.n);
    RUN_GC(gc, TOL_SMOOTH);
    probe_free();
  }
  return 0;
}

/* ---- gated activation with per-example channel bias ---- */
static void gate_f(void *c)
{
  memcpy(P.aux1, P.x, (size_t)(P.b * 2 * P.cin * P.d) * sizeof(float)); /* gate_forward adds the bias in place */
  gate_forward(P.y, P.aux1, P.bias, 0, P.b, P.cin, P.d);
}
static void gate_b(void *c)
{
  /* bias stride 0: every example shares bias[2C], so its gradient sums over the batch (the
     network's per-example stride is exercised by test_net) */
  gate_backward(P.dx, P.dbias, 0, P.dy, P.aux1, P.b, P.cin, P.d);
}
static int test_gate(void)
{
  gradcheck gc;
  P.b = 2, P.cin = 3, P.d = 20;
  probe_alloc(P.b * 2 * P.cin * P.d, 0, 2 * P.cin, P.b * 2 * P.cin * P.d);
  gc_fill(P.x, P.b * 2 * P.cin * P.d, -3, 3, 31);
  gc = gc_new(P.b * P.cin * P.d, gate_f, gate_b);
  gc_add(&gc, "z", P.x, P.dx, P.b * 2 * P.cin * P.d);
  gc_add(&gc, "bias", P.bias, P.dbias, 2 * P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  return 0;
}

/* ---- the fused gate of the audio network (issue 17): gate_apply, and gate_backward_ts_set
   from the tanh/sigmoid a second gate_apply leaves, in place (dz = ts), per-example bias ---- */
static void gate_apply_f(void *c)
{
  /* bias stride 2C: example e uses bias + 2C e (the network's time bias) */
  gate_apply(P.y, NULL, P.x, P.bias, 2 * P.cin, P.b, P.cin, P.d);
}
static void gate_apply_b(void *c)
{
  const int64_t n = P.b * 2 * P.cin * P.d;
  float        *ts = P.aux1; /* [B][2C][D]: tanh/sigmoid, then d y / d z in place */
  gate_apply(P.aux2, ts, P.x, P.bias, 2 * P.cin, P.b, P.cin, P.d); /* the recompute, as backward does */
  gate_backward_ts_set(ts, P.dbias, 2 * P.cin, P.dy, ts, P.b, P.cin, P.d);
  for (int64_t i = 0; i < n; i++) P.dx[i] += ts[i]; /* the checker's buffers accumulate */
}
static int test_gate_apply(void)
{
  gradcheck     gc;
  const int64_t nz = 2 * 2 * 3 * 20;
  P.b = 2, P.cin = 3, P.d = 20;
  probe_alloc(nz, 0, P.b * 2 * P.cin, nz);
  gc_fill(P.x, nz, -3, 3, 32);
  gc = gc_new(P.b * P.cin * P.d, gate_apply_f, gate_apply_b);
  gc_add(&gc, "z", P.x, P.dx, nz);
  gc_add(&gc, "bias", P.bias, P.dbias, P.b * 2 * P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  /* the same bits as gate_forward (bias added in place) + gate_backward into zeroed dz: the
     network's results did not change with the fusion */
  {
    float *zb = zalloc(nz), *y2 = zalloc(nz), *dz2 = zalloc(nz), *db1 = zalloc(nz), *db2 = zalloc(nz);
    memcpy(zb, P.x, (size_t)nz * sizeof(float));
    gate_forward(y2, zb, P.bias, 2 * P.cin, P.b, P.cin, P.d);
    gate_backward(dz2, db2, 2 * P.cin, P.dy, zb, P.b, P.cin, P.d);
    gate_apply(P.y, P.aux1, P.x, P.bias, 2 * P.cin, P.b, P.cin, P.d);
    CHECK(memcmp(P.y, y2, (size_t)(P.b * P.cin * P.d) * sizeof(float)) == 0, "gate_apply differs from gate_forward");
    gate_product(y2, P.aux1, P.b, P.cin, P.d);
    CHECK(memcmp(P.y, y2, (size_t)(P.b * P.cin * P.d) * sizeof(float)) == 0, "gate_product differs from gate_apply");
    gate_backward_ts_set(P.aux1, db1, 2 * P.cin, P.dy, P.aux1, P.b, P.cin, P.d);
    CHECK(memcmp(P.aux1, dz2, (size_t)nz * sizeof(float)) == 0, "gate_backward_ts_set differs from gate_backward");
    CHECK(memcmp(db1, db2, (size_t)(P.b * 2 * P.cin) * sizeof(float)) == 0, "bias sums differ");
    free(zb), free(y2), free(dz2), free(db1), free(db2);
  }
  probe_free();
  return 0;
}

/* ---- the "_set" variants write what zero fill + the accumulating layer gives, bit for bit ---- */
static int test_set_variants(void)
{
  const int64_t b = 2, cin = 5, cout = 7, d = 37, nx = b * cin * d, ny = b * cout * d;
  float        *x = zalloc(nx), *w = zalloc(cout * cin), *dy = zalloc(ny), *dx1 = zalloc(nx), *dx2 = zalloc(nx);
  float        *dw1 = zalloc(cout * cin), *dw2 = zalloc(cout * cin), *db1 = zalloc(cout), *db2 = zalloc(cout);
  gc_fill(x, nx, -1, 1, 51), gc_fill(w, cout * cin, -1, 1, 52), gc_fill(dy, ny, -1, 1, 53);
  gc_fill(dx1, nx, -5, 5, 54); /* garbage: _set must overwrite it */
  conv1x1_backward_set(dx1, dw1, db1, dy, x, w, b, cin, cout, d);
  conv1x1_backward(dx2, dw2, db2, dy, x, w, b, cin, cout, d);
  CHECK(memcmp(dx1, dx2, (size_t)nx * sizeof(float)) == 0, "conv1x1_backward_set dx");
  CHECK(memcmp(dw1, dw2, (size_t)(cout * cin) * sizeof(float)) == 0, "conv1x1_backward_set dw");
  CHECK(memcmp(db1, db2, (size_t)cout * sizeof(float)) == 0, "conv1x1_backward_set db");
  memset(dx2, 0, (size_t)nx * sizeof(float));
  relu_backward(dx2, dy, x, nx);
  memcpy(dx1, dy, (size_t)nx * sizeof(float));
  relu_backward_set(dx1, dx1, x, nx); /* in place */
  CHECK(memcmp(dx1, dx2, (size_t)nx * sizeof(float)) == 0, "relu_backward_set");
  free(x), free(w), free(dy), free(dx1), free(dx2), free(dw1), free(dw2), free(db1), free(db2);
  return 0;
}

/* ---- layer norm and group norm ---- */
static void ln_f(void *c)
{
  layernorm_forward(P.y, P.aux1, P.aux2, P.x, P.w, P.bias, P.n, P.cin, 1e-5f);
}
static void ln_b(void *c)
{
  layernorm_backward(P.dx, P.dw, P.dbias, P.dy, P.x, P.aux1, P.aux2, P.w, P.n, P.cin);
}
static void gn_f(void *c)
{
  groupnorm_forward(P.y, P.aux1, P.aux2, P.x, P.w, P.bias, P.b, P.cin, P.d, P.groups, 1e-5f);
}
static void gn_b(void *c)
{
  groupnorm_backward(P.dx, P.dw, P.dbias, P.dy, P.x, P.aux1, P.aux2, P.w, P.b, P.cin, P.d, P.groups);
}
static int test_norms(void)
{
  gradcheck gc;
  /* normalisation divides by a standard deviation ~0.6 and couples all entries of a row, so
     second derivatives are larger than for the other layers: h = 1e-2 truncation error grows to
     ~1e-4 relative; the smooth tolerance still has a 20x margin */
  P.n = 3, P.cin = 8;
  probe_alloc(P.n * P.cin, P.cin, P.cin, P.n * P.cin);
  gc = gc_new(P.n * P.cin, ln_f, ln_b);
  gc_add(&gc, "x", P.x, P.dx, P.n * P.cin);
  gc_add(&gc, "g", P.w, P.dw, P.cin);
  gc_add(&gc, "b", P.bias, P.dbias, P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  P.b = 2, P.cin = 6, P.d = 5, P.groups = 3;
  probe_alloc(P.b * P.cin * P.d, P.cin, P.cin, P.b * P.cin * P.d);
  gc = gc_new(P.b * P.cin * P.d, gn_f, gn_b);
  gc_add(&gc, "x", P.x, P.dx, P.b * P.cin * P.d);
  gc_add(&gc, "g", P.w, P.dw, P.cin);
  gc_add(&gc, "b", P.bias, P.dbias, P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  return 0;
}

/* ---- embedding (gradient w.r.t. the table; repeated indices must add up) ---- */
static void emb_f(void *c)
{
  embedding_forward(P.y, P.idx, P.w, P.n, P.cin);
}
static void emb_b(void *c)
{
  embedding_backward(P.dw, P.dy, P.idx, P.n, P.cin);
}
static int test_embedding(void)
{
  gradcheck gc;
  int32_t   idx[] = {2, 0, 2, 3, 2};
  P.n = 5, P.cin = 3;
  probe_alloc(0, 4 * P.cin, 0, P.n * P.cin);
  P.idx = malloc(sizeof idx);
  memcpy(P.idx, idx, sizeof idx);
  gc = gc_new(P.n * P.cin, emb_f, emb_b);
  gc_add(&gc, "table", P.w, P.dw, 4 * P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  emb_f(NULL);
  for (int64_t r = 0; r < P.n; r++)
    for (int64_t c = 0; c < P.cin; c++) CHECK(P.y[r * P.cin + c] == P.w[idx[r] * P.cin + c], "row %lld", (long long)r);
  probe_free();
  return 0;
}

/* ---- residual / skip split ---- */
static void rs_f(void *c)
{
  memcpy(P.skip, P.aux2, (size_t)(P.b * P.cin * P.d) * sizeof(float)); /* skip accumulates: start from a fixed value */
  resskip_forward(P.y, P.skip, P.x, P.aux1, P.bias, P.b, P.cin, P.d, P.scale);
  /* probe both outputs: y (residual) and skip, concatenated as y[0..n) and y[n..2n) */
  memcpy(P.y + P.b * P.cin * P.d, P.skip, (size_t)(P.b * P.cin * P.d) * sizeof(float));
}
static void rs_b(void *c)
{
  resskip_backward(P.dx, P.dw, P.dbias, P.dy, P.dy + P.b * P.cin * P.d, P.b, P.cin, P.d, P.scale);
}
static int test_resskip(void)
{
  gradcheck gc;
  int64_t   n;
  P.b = 2, P.cin = 3, P.d = 5, P.scale = (float)M_SQRT1_2;
  n = P.b * P.cin * P.d;
  probe_alloc(n, 2 * n, 2 * P.cin, 2 * n);
  gc_fill(P.aux1, 2 * n, -1, 1, 41);
  gc_fill(P.aux2, n, -1, 1, 42);
  gc = gc_new(2 * n, rs_f, rs_b);
  gc_add(&gc, "x", P.x, P.dx, n);
  gc_add(&gc, "o", P.aux1, P.dw, 2 * n);
  gc_add(&gc, "ob", P.bias, P.dbias, 2 * P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  probe_free();
  return 0;
}

/* ---- residual / skip backward on the packed gradient g = [d/dxn; d/dskip] (issue 17) ---- */
static void rsp_b(void *c)
{
  const int64_t n = P.b * P.cin * P.d, C = P.cin, D = P.d;
  float        *g = P.dskip, sums[64]; /* g[B][2C][D], sums[B][C] */
  for (int64_t e = 0; e < P.b; e++) {  /* pack: g[e][:C] = dy of xn, g[e][C:] = dy of skip */
    memcpy(g + e * 2 * C * D, P.dy + e * C * D, (size_t)(C * D) * sizeof(float));
    memcpy(g + e * 2 * C * D + C * D, P.dy + n + e * C * D, (size_t)(C * D) * sizeof(float));
  }
  chan_row_sums(sums, g + C * D, P.b, C, D, 2 * C * D);
  resskip_backward_packed(g, P.dbias, sums, P.b, C, D, P.scale);
  for (int64_t e = 0; e < P.b; e++) /* g is d/do; its first half is also the residual d/dx */
    for (int64_t k = 0; k < 2 * C * D; k++) {
      P.dw[e * 2 * C * D + k] += g[e * 2 * C * D + k];
      if (k < C * D) P.dx[e * C * D + k] += g[e * 2 * C * D + k];
    }
}
static int test_resskip_packed(void)
{
  gradcheck gc;
  int64_t   n;
  P.b = 2, P.cin = 3, P.d = 5, P.scale = (float)M_SQRT1_2;
  n = P.b * P.cin * P.d;
  probe_alloc(n, 2 * n, 2 * P.cin, 2 * n);
  gc_fill(P.aux1, 2 * n, -1, 1, 43);
  gc_fill(P.aux2, n, -1, 1, 44); /* rs_f restarts the skip sum from aux2 */
  gc = gc_new(2 * n, rs_f, rsp_b);
  gc_add(&gc, "x", P.x, P.dx, n);
  gc_add(&gc, "o", P.aux1, P.dw, 2 * n);
  gc_add(&gc, "ob", P.bias, P.dbias, 2 * P.cin);
  RUN_GC(gc, TOL_SMOOTH);
  { /* bit for bit what resskip_backward gives into zeroed buffers; resskip_forward_set = zero + forward */
    float *dx2 = zalloc(n), *do2 = zalloc(2 * n), *db2 = zalloc(2 * P.cin), *xn1 = zalloc(n), *xn2 = zalloc(n);
    float *s1 = zalloc(n), *s2 = zalloc(n);
    memset(P.dx, 0, (size_t)n * sizeof(float)), memset(P.dw, 0, (size_t)(2 * n) * sizeof(float));
    memset(P.dbias, 0, (size_t)(2 * P.cin) * sizeof(float));
    rsp_b(NULL);
    resskip_backward(dx2, do2, db2, P.dy, P.dy + n, P.b, P.cin, P.d, P.scale);
    CHECK(memcmp(P.dx, dx2, (size_t)n * sizeof(float)) == 0, "packed dx");
    CHECK(memcmp(P.dw, do2, (size_t)(2 * n) * sizeof(float)) == 0, "packed do");
    CHECK(memcmp(P.dbias, db2, (size_t)(2 * P.cin) * sizeof(float)) == 0, "packed dob");
    gc_fill(s1, n, -5, 5, 45); /* garbage: _set overwrites the skip sum */
    resskip_forward_set(xn1, s1, P.x, P.aux1, P.bias, P.b, P.cin, P.d, P.scale);
    resskip_forward(xn2, s2, P.x, P.aux1, P.bias, P.b, P.cin, P.d, P.scale);
    CHECK(memcmp(xn1, xn2, (size_t)n * sizeof(float)) == 0 && memcmp(s1, s2, (size_t)n * sizeof(float)) == 0,
          "resskip_forward_set");
    free(dx2), free(do2), free(db2), free(xn1), free(xn2), free(s1), free(s2);
  }
  probe_free();
  return 0;
}

/* ---- time embedding: sin^2 + cos^2 = 1, the first frequency is 1, t = 0 gives (0, 1) ---- */
static int test_timeembed(void)
{
  double t[3] = {0.0, 17.0, 999.0};
  float  y[3 * 16];
  timeembed_forward(y, t, 3, 16, 0.5);
  for (int r = 0; r < 3; r++)
    for (int j = 0; j < 8; j++) {
      float s = y[r * 16 + j], c = y[r * 16 + 8 + j];
      CHECK_CLOSE(s * s + c * c, 1.0, 1e-6); /* float sin/cos rounding ~1e-7 */
      if (r == 0) CHECK(s == 0.0f && c == 1.0f, "t = 0 gives sin %g cos %g", s, c);
    }
  CHECK_CLOSE(y[16], sin(17.0 * 0.5), 1e-6);
  CHECK_CLOSE(y[16 + 7], sin(17.0 * 0.5 * 1e-4), 1e-6); /* the last frequency is 1/10000 */
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_dense);
  TH_RUN(test_conv1x1);
  TH_RUN(test_conv1d);
  TH_RUN(test_activations);
  TH_RUN(test_gate);
  TH_RUN(test_gate_apply);
  TH_RUN(test_set_variants);
  TH_RUN(test_norms);
  TH_RUN(test_embedding);
  TH_RUN(test_resskip);
  TH_RUN(test_resskip_packed);
  TH_RUN(test_timeembed);
  return TH_FINISH();
}
