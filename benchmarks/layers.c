/* layers.c (benchmark): each GEMM-shaped layer of the audio network, forward + backward
   (input and weight gradients), on audio shapes (C = 64, 128, 256; D = 16000; batch 1), as
   GFLOP/s and as a fraction of cblas_sgemm throughput on 2048^3 measured in the same run, one
   thread. The gated activation (elementwise, not GEMM-shaped) is timed for context.
   The machine may be shared, so every time is the best of >= 5 repeats over >= 2 s, sgemm is
   measured before each channel group and at the end, and the ratios use the FASTEST of those
   sgemm measurements (a conservative ratio: contention can only lower it).
   Usage: OPENBLAS_NUM_THREADS=1 build/bench/layers. No MPI is started. */
#include <omp.h>
#include "nn/layers.h"
#include "bench.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define D 16000

static float *buf(size_t n, float v)
{
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = v * (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f * v;
  return p;
}

#define MAX_ROWS 32
static char    row_name[MAX_ROWS][48];
static double  row_ms[MAX_ROWS], row_gflops[MAX_ROWS];
static int64_t row_cin[MAX_ROWS], row_cout[MAX_ROWS];
static int     nrows;

static void add_row(const char *name, int64_t cin, int64_t cout, double sec, double flops)
{
  snprintf(row_name[nrows], sizeof row_name[0], "%s", name);
  row_cin[nrows] = cin, row_cout[nrows] = cout, row_ms[nrows] = sec * 1e3, row_gflops[nrows] = flops / sec / 1e9;
  nrows++;
}

/* one GEMM layer: cin -> cout, kernel k (1 = the 1x1 conv), forward + backward, best of reps */
static void bench_conv(const char *name, int64_t cin, int64_t cout, int k, int64_t dil)
{
  float *x = buf((size_t)(cin * D), 1), *dx = buf((size_t)(cin * D), 0), *w = buf((size_t)(k * cout * cin), 0.1f);
  float *dw = buf((size_t)(k * cout * cin), 0), *y = buf((size_t)(cout * D), 0), *dy = buf((size_t)(cout * D), 1);
  float  bias[1024] = {0}, dbias[1024] = {0};
  double flops = 3.0 * 2.0 * (double)k * (double)cout * (double)cin * D, best = 1e30, t0 = bench_now();
  for (int r = 0; r < 5 || bench_now() - t0 < 2.0; r++) {
    double t = bench_now();
    if (k == 1) {
      conv1x1_forward(y, x, w, bias, 1, cin, cout, D);
      conv1x1_backward(dx, dw, dbias, dy, x, w, 1, cin, cout, D);
    } else {
      conv1d_forward(y, x, w, NULL, 1, cin, cout, D, k, dil);
      conv1d_backward(dx, dw, NULL, dy, x, w, 1, cin, cout, D, k, dil);
    }
    t = bench_now() - t;
    best = t < best ? t : best;
  }
  add_row(name, cin, cout, best, flops);
  free(x), free(dx), free(w), free(dw), free(y), free(dy);
}

static void bench_gate(int64_t c)
{
  float *z = buf((size_t)(2 * c * D), 2), *dz = buf((size_t)(2 * c * D), 0), *g = buf((size_t)(c * D), 0);
  float *dg = buf((size_t)(c * D), 1), tb[1024] = {0}, dtb[1024] = {0};
  double best = 1e30, t0 = bench_now();
  for (int r = 0; r < 3 || bench_now() - t0 < 0.5; r++) {
    double t = bench_now();
    gate_forward(g, z, tb, 0, 1, c, D);
    gate_backward(dz, dtb, 0, dg, z, 1, c, D);
    t = bench_now() - t;
    best = t < best ? t : best;
  }
  add_row("gate tanh*sigmoid fwd+bwd", 2 * c, c, best, 0.0);
  free(z), free(dz), free(g), free(dg);
}

int main(void)
{
  const char *ct = getenv("OPENBLAS_CORETYPE"), *nt = getenv("OPENBLAS_NUM_THREADS");
  double      ref = 0, r;
  int64_t     cs[3] = {64, 128, 256};
  char        refs[128] = "";
  omp_set_num_threads(1); /* one thread: the OpenMP loops and nn_gemm's split alike */
  printf("OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s\n", ct ? ct : "(unset)", nt ? nt : "(unset)");
  for (int i = 0; i < 3; i++) {
    int64_t c = cs[i];
    r = bench_sgemm_gflops();
    ref = r > ref ? r : ref;
    snprintf(refs + strlen(refs), sizeof refs - strlen(refs), "%.1f ", r);
    bench_conv("dilated conv k=3 dil=1", c, 2 * c, 3, 1);
    bench_conv("dilated conv k=3 dil=2048", c, 2 * c, 3, 2048);
    bench_conv("1x1 conv (block output)", c, 2 * c, 1, 1);
    bench_conv("1x1 conv (skip projection)", c, c, 1, 1);
    bench_conv("1x1 conv (mixture head, 90 out)", c, 90, 1, 1);
    bench_gate(c);
  }
  r = bench_sgemm_gflops();
  ref = r > ref ? r : ref;
  snprintf(refs + strlen(refs), sizeof refs - strlen(refs), "%.1f", r);
  printf("in-run sgemm 2048^3: %s GFLOP/s; reference = the fastest, %.1f GFLOP/s\n", refs, ref);
  printf("layers: forward + backward (dx and dW), D = %d, batch 1, best time\n", D);
  for (int i = 0; i < nrows; i++) {
    if (row_gflops[i] > 0)
      printf("  %-34s %4lld -> %4lld: %8.2f ms  %6.1f GFLOP/s  %.2f of sgemm\n", row_name[i], (long long)row_cin[i],
             (long long)row_cout[i], row_ms[i], row_gflops[i], row_gflops[i] / ref);
    else
      printf("  %-34s %4lld -> %4lld: %8.2f ms  (elementwise, for context)\n", row_name[i], (long long)row_cin[i],
             (long long)row_cout[i], row_ms[i]);
  }
  return 0;
}
