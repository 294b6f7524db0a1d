/* mp_conv.c: one dilated convolution of the model-parallel audio network (C = 256 -> 2C, kernel
   3, D = 16000 split over the Q ranks of this run) done two ways in the same run:
   - halo: each rank sends its first/last dil columns to its neighbours and runs the three
     taps as local GEMMs on its part (conv1d_halo_forward; what nn/net_audio_mp.c does);
   - PBLAS: psgemm on block-distributed descriptors over the replica's BLACS grid
     (core/grid.h), one call per tap on the shifted row range of x^T, so the library moves the
     misaligned rows itself; the weights are distributed by rows (1/Q each).
   Also the weight gradient of the centre tap (a contraction over the distributed D): local
   GEMM + MPI_Allreduce against psgemm (which reduces the result itself). Prints per-call times,
   their ratios and the largest difference between the two results, for dilations 1, 64, 2048.
   Usage: mpirun -n Q build/bench/mp_conv */
#include "bench.h"
#include "core/grid.h"
#include "nn/layers.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

extern void psgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float *alpha,
                    const float *a, const int *ia, const int *ja, const int *desca, const float *b, const int *ib,
                    const int *jb, const int *descb, const float *beta, float *c, const int *ic, const int *jc,
                    const int *descc);
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
                      const int *icsrc, const int *ictxt, const int *lld, int *info);
extern int  numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);

#define C    256
#define KS   3
#define REPS 3

/* the halo way: exchange dil columns of x[C][n] with the neighbours, then 3 local GEMMs */
static void conv_halo(const grid *g, const float *x, float *xh, float *buf, const float *w, float *z, int n, int dil)
{
  float *sl = buf, *sr = sl + C * dil, *rl = sr + C * dil, *rr = rl + C * dil;
  int    left = g->part > 0 ? g->part - 1 : MPI_PROC_NULL, right = g->part + 1 < g->Q ? g->part + 1 : MPI_PROC_NULL;
  int    dh = n + 2 * dil;
  MPI_Request rq[4];
  for (int r = 0; r < C; r++) {
    memcpy(sl + r * dil, x + (size_t)r * n, sizeof(float) * dil);
    memcpy(sr + r * dil, x + (size_t)r * n + n - dil, sizeof(float) * dil);
  }
  memset(rl, 0, sizeof(float) * C * dil), memset(rr, 0, sizeof(float) * C * dil);
  (void)MPI_Irecv(rl, C * dil, MPI_FLOAT, left, 1, g->replica_comm, &rq[0]);
  (void)MPI_Irecv(rr, C * dil, MPI_FLOAT, right, 0, g->replica_comm, &rq[1]);
  (void)MPI_Isend(sl, C * dil, MPI_FLOAT, left, 0, g->replica_comm, &rq[2]);
  (void)MPI_Isend(sr, C * dil, MPI_FLOAT, right, 1, g->replica_comm, &rq[3]);
  (void)MPI_Waitall(4, rq, MPI_STATUSES_IGNORE);
  for (int r = 0; r < C; r++) {
    memcpy(xh + (size_t)r * dh, rl + r * dil, sizeof(float) * dil);
    memcpy(xh + (size_t)r * dh + dil, x + (size_t)r * n, sizeof(float) * n);
    memcpy(xh + (size_t)r * dh + dil + n, rr + r * dil, sizeof(float) * dil);
  }
  conv1d_halo_forward(z, xh, w, NULL, 1, C, 2 * C, n, KS, dil);
}

/* the PBLAS way: Z^T (D x 2C) = sum_j X^T[rows shifted by s_j] (D x C) W_j^T (C x 2C) */
static void conv_pblas(const float *x, const float *wl, float *z, const int *dX, const int *dW, const int *dZ, int D,
                       int dil)
{
  const float one = 1.0f, zero = 0.0f;
  const int   c = C, c2 = 2 * C, j1 = 1;
  for (int t = 0; t < KS; t++) {
    int j = t == 0 ? 1 : t == 1 ? 0 : 2; /* the centre tap first (beta = 0 covers every row) */
    int s = (j - 1) * dil, i0 = s < 0 ? -s : 0, m = D - (s < 0 ? -s : s), ix = i0 + s + 1, iz = i0 + 1, jw = j * c2 + 1;
    psgemm_("N", "N", &m, &c2, &c, &one, x, &ix, &j1, dX, wl, &j1, &jw, dW, t == 0 ? &zero : &one, z, &iz, &j1, dZ);
  }
}

int main(int argc, char **argv)
{
  const int D = 16000, c = C, c3 = KS * 2 * C, izero = 0;
  grid      g;
  int       ctx, nbD, n, mbw, lw, dX[9], dZ[9], dW[9], dG[9], info, dils[3] = {1, 64, 2048}, one = 1;
  float    *x, *xh, *w, *wl, *z1, *z2, *g1, *g2, *buf;
  double    gf;

  ardm_memory_init();
  PetscInitialize(&argc, &argv, NULL, NULL);
  omp_set_num_threads(1); /* one thread per rank: nn_gemm does not split */
  MPI_Comm size_comm = PETSC_COMM_WORLD;
  int      P;
  MPI_Comm_size(size_comm, &P);
  grid_init(PETSC_COMM_WORLD, P, &g); /* one replica of all ranks */
  grid_blacs(&g, &ctx);
  nbD = (D + g.Q - 1) / g.Q, mbw = (C + g.Q - 1) / g.Q;
  n = numroc_(&D, &nbD, &g.part, &izero, &g.Q);
  lw = numroc_(&c, &mbw, &g.part, &izero, &g.Q);
  {
    int ldx = n > 1 ? n : 1, ldw = lw > 1 ? lw : 1, c2 = 2 * C;
    descinit_(dX, &D, &c, &nbD, &c, &izero, &izero, &ctx, &ldx, &info);
    descinit_(dZ, &D, &c2, &nbD, &c2, &izero, &izero, &ctx, &ldx, &info);
    descinit_(dW, &c, &c3, &mbw, &c3, &izero, &izero, &ctx, &ldw, &info); /* all taps side by side: C x 3*2C */
    descinit_(dG, &c, &c2, &mbw, &c2, &izero, &izero, &ctx, &ldw, &info); /* one tap's gradient, C x 2C */
  }
  x = calloc((size_t)C * n, sizeof(float)), xh = calloc((size_t)C * (n + 2 * 2048), sizeof(float));
  z1 = calloc((size_t)2 * C * n, sizeof(float)), z2 = calloc((size_t)2 * C * n, sizeof(float));
  w = calloc((size_t)KS * 2 * C * C, sizeof(float)), wl = calloc((size_t)(lw + 1) * c3, sizeof(float));
  g1 = calloc((size_t)2 * C * C, sizeof(float)), g2 = calloc((size_t)(lw + 1) * 2 * C, sizeof(float));
  buf = calloc((size_t)4 * C * 2048, sizeof(float));
  for (int r = 0; r < C; r++)
    for (int i = 0; i < n; i++) x[(size_t)r * n + i] = (float)sin(0.001 * (g.part * nbD + i) * (r + 1));
  for (size_t i = 0; i < (size_t)KS * 2 * C * C; i++) w[i] = (float)cos(0.37 * (double)i) / 16;
  /* local rows of W^T (C x 3*2C, column-major, rows distributed): element (cin, j*2C + o) = w[j][o][cin] */
  for (int li = 0; li < lw; li++) {
    int cin = g.part * mbw + li;
    for (int col = 0; col < c3; col++)
      wl[li + (size_t)col * lw] = w[(size_t)(col / (2 * C)) * 2 * C * C + (size_t)(col % (2 * C)) * C + cin];
  }
  gf = bench_sgemm_gflops();
  if (g.rank == 0)
    printf("mp_conv on Q = %d ranks: dilated conv C = %d -> %d, kernel 3, D = %d (%d per rank); cblas_sgemm %.1f "
           "GFLOP/s\n",
           g.Q, C, 2 * C, D, n, gf);
  if (g.rank == 0)
    printf("%6s %12s %12s %8s %10s | %14s %14s %8s %10s\n", "dil", "halo ms", "pblas ms", "ratio", "max diff",
           "dW local+ar ms", "dW pblas ms", "ratio", "max diff");
  for (int k = 0; k < 3; k++) {
    int    dil = dils[k];
    double th = 1e30, tp = 1e30, tgl = 1e30, tgp = 1e30, diff = 0, gdiff = 0;
    for (int r = 0; r < REPS + 1; r++) { /* the first repeat warms up */
      double t;
      MPI_Barrier(g.world), t = bench_now();
      conv_halo(&g, x, xh, buf, w, z1, n, dil);
      MPI_Barrier(g.world), t = bench_now() - t;
      if (r) th = fmin(th, t);
      MPI_Barrier(g.world), t = bench_now();
      conv_pblas(x, wl, z2, dX, dW, dZ, D, dil);
      MPI_Barrier(g.world), t = bench_now() - t;
      if (r) tp = fmin(tp, t);
      /* weight gradient of the centre tap: dW (2C x C) = z x^T over all D */
      MPI_Barrier(g.world), t = bench_now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 2 * C, C, n, 1.0f, z1, n, x, n, 0.0f, g1, C);
      (void)MPI_Allreduce(MPI_IN_PLACE, g1, 2 * C * C, MPI_FLOAT, MPI_SUM, g.replica_comm);
      MPI_Barrier(g.world), t = bench_now() - t;
      if (r) tgl = fmin(tgl, t);
      MPI_Barrier(g.world), t = bench_now();
      { /* dW^T (C x 2C) = X^T' Z^T: contraction over the distributed rows */
        const float a1 = 1.0f, b0 = 0.0f;
        int         c2 = 2 * C;
        psgemm_("T", "N", &c, &c2, &D, &a1, x, &one, &one, dX, z2, &one, &one, dZ, &b0, g2, &one, &one, dG);
      }
      MPI_Barrier(g.world), t = bench_now() - t;
      if (r) tgp = fmin(tgp, t);
    }
    for (size_t i = 0; i < (size_t)2 * C * n; i++) diff = fmax(diff, fabs((double)z1[i] - z2[i]));
    for (int li = 0; li < lw; li++)
      for (int o = 0; o < 2 * C; o++)
        gdiff = fmax(gdiff, fabs((double)g2[li + (size_t)o * lw] - g1[(size_t)o * C + g.part * mbw + li]) /
                                fmax(1.0, fabs((double)g1[(size_t)o * C + g.part * mbw + li])));
    MPI_Allreduce(MPI_IN_PLACE, &diff, 1, MPI_DOUBLE, MPI_MAX, g.world);
    MPI_Allreduce(MPI_IN_PLACE, &gdiff, 1, MPI_DOUBLE, MPI_MAX, g.world);
    if (g.rank == 0)
      printf("%6d %12.2f %12.2f %8.2f %10.2e | %14.2f %14.2f %8.2f %10.2e\n", dil, 1e3 * th, 1e3 * tp, tp / th, diff,
             1e3 * tgl, 1e3 * tgp, tgp / tgl, gdiff);
  }
  free(x), free(xh), free(z1), free(z2), free(w), free(wl), free(g1), free(g2), free(buf);
  grid_free(&g);
  PetscFinalize();
  return 0;
}
