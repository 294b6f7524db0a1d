/* comm_model.c: the communication cost of one training step of sharded data parallelism
   (reduce-scatter of the gradients + all-gather of the parameters + one small allreduce),
   measured on this machine's ranks for several message sizes, fitted to a latency-bandwidth
   model T(n) = a + n / beta per collective, and projected with the ring algorithms' costs
   (2 (P-1) a + 2 (P-1)/P * 4 nparam / beta) to P = 64, 256, 1024 ranks for the reference network
   (B = 36, C = 256) and the small one (B = 12, C = 64). The compute time per example is measured
   here too (forward + backward of the small network on D = 16000; the reference network is
   scaled by its FLOP ratio), so efficiency = compute / (compute + communication), without
   overlap, for a per-rank batch of 1 and 4.
   Model parallelism (-model_parallel Q, doc/design.md "Model parallelism"): P ranks = P/Q
   replicas of Q; a rank computes 1/Q of an example (its part of D), exchanges per block and
   example three halos of C * 2^(i mod cycle) floats with each neighbour (forward, the
   recomputation in backward, and the halo gradients back); its parameters are held 1/P at rest
   and gathered block by block over all P ranks (two all-gathers and one reduce-scatter per
   block and step: 3 (blocks + 1) collectives moving 3 x 4 nparam bytes, against one
   reduce-scatter + all-gather of the whole vector for Q = 1). The projection compares the reference
   run's global batch of 256 as 256 ranks x Q = 1 against 2048 ranks = 256 replicas x Q = 8
   (and other (P, Q)): seconds per step and the speed-up over pure data parallelism.
   Threads inside a rank (-threads T): P ranks x T threads on the same global batch of 256. A rank's
   compute shrinks by the speed-up S(T) of T threads, taken from benchmarks/threads.sh as S(2)
   (argument; default 1.75, the 36 x 256 figure in RESULTS.md) and extrapolated with the same
   efficiency per doubling, S(T) = T (S(2)/2)^log2(T) (an assumption: only T = 2 is measured);
   the collectives do not change (one rank per T cores sends the same vector).
   Usage: mpirun -n P build/bench/comm_model [S2] */
#include <stdlib.h>
#include "ardm/model.h"
#include "core/shard.h"
#include <math.h>
#include <stdio.h>

static double time_collectives(MPI_Comm comm, size_t n, float *buf, float *out, int reps)
{
  shard  sh;
  double t;
  shard_init(comm, n, &sh);
  MPI_Barrier(comm);
  t = MPI_Wtime();
  for (int r = 0; r < reps; r++) {
    shard_reduce_scatter(&sh, buf, out);
    shard_allgather(&sh, buf);
  }
  t = (MPI_Wtime() - t) / reps;
  MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm);
  shard_free(&sh);
  return t / 2; /* per collective */
}

/* The SC09 audio model with B blocks of C channels (30-component mixture head) for D dims. */
static void audio_model(int blocks, int channels, int cycle, int64_t D, model *m)
{
  model_config c = {.blocks = blocks,
                    .channels = channels,
                    .cycle = cycle,
                    .kernel = 3,
                    .D = D,
                    .K = 65536,
                    .head = HEAD_LOGISTIC_MIXTURE,
                    .mixtures = 30};
  model_config_finish(PETSC_COMM_SELF, &c);
  model_create(&c, 1, m);
}

/* Parameters of a network (they do not depend on D, so a short D keeps the set-up small). */
static size_t nparam_of(int blocks, int channels)
{
  model  m;
  size_t n;
  audio_model(blocks, channels, 12, 64, &m);
  n = model_nparam(m);
  model_destroy(&m);
  return n;
}

/* Seconds of one forward + backward of one example (B = 12, C = 64, D = 16000) and its FLOPs. */
static double time_example(double *flops)
{
  model    m;
  float   *p, *g;
  int32_t *x;
  int64_t  tg = 8000, *sigma;
  double   w = 1, logp, t;
  audio_model(12, 64, 6, 16000, &m);
  ardm_alloc(model_nparam(m) * sizeof(float), &p);
  ardm_alloc(model_nparam(m) * sizeof(float), &g);
  ardm_alloc(16000 * sizeof(int32_t), &x);
  ardm_alloc(16000 * sizeof(int64_t), &sigma);
  model_init_params(m, 1, p);
  for (int i = 0; i < 16000; i++) x[i] = (i * 37) % 65536, sigma[i] = (i * 7919) % 16000;
  model_loss(m, p, g, 1, x, &tg, sigma, &w, &logp); /* warm-up */
  t = MPI_Wtime();
  for (int r = 0; r < 2; r++) model_loss(m, p, g, 1, x, &tg, sigma, &w, &logp);
  t = (MPI_Wtime() - t) / 2;
  *flops = 6.0 * 12 * (3.0 * 64 * 128 + 64 * 128) * 16000; /* fwd + 2x bwd of the block GEMMs */
  model_destroy(&m);
  ardm_free(&p), ardm_free(&g), ardm_free(&x), ardm_free(&sigma);
  return t;
}

/* Seconds of one reduce-scatter + all-gather of n floats over p ranks (ring algorithms). */
static double ring_seconds(int p, double n, double alpha, double beta)
{
  return 2 * (p - 1) * alpha + 2.0 * (p - 1) / p * 4.0 * n / beta;
}

/* Seconds of the halo exchanges of one example on one rank of a replica of Q (0 for Q = 1):
   per block 3 exchanges, each two messages (one per neighbour) of C * 2^(i mod cycle) floats. */
static double halo_seconds(int Q, int blocks, int channels, int cycle, double alpha, double beta)
{
  double t = 0;
  if (Q == 1) return 0;
  for (int i = 0; i < blocks; i++) t += 3 * 2 * (alpha + 4.0 * channels * (double)(1 << (i % cycle)) / beta);
  return t;
}

int main(int argc, char **argv)
{
  const size_t sizes[] = {1 << 10, 1 << 14, 1 << 18, 1 << 21, 1 << 23};
  const int    ns = 5, Ps[] = {64, 256, 1024};
  double       t[5], sx = 0, sy = 0, sxx = 0, sxy = 0, alpha, beta, t_ex, f_ex;
  float       *buf, *out;
  PetscMPIInt  P, rank;

  ardm_memory_init();
  PetscInitialize(&argc, &argv, NULL, NULL);
  MPI_Comm_size(PETSC_COMM_WORLD, &P);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  ardm_alloc(sizes[ns - 1] * sizeof(float), &buf);
  ardm_alloc(sizes[ns - 1] * sizeof(float), &out);
  for (int i = 0; i < ns; i++) {
    time_collectives(PETSC_COMM_WORLD, sizes[i], buf, out, 1); /* warm-up: first-touch of MPI buffers */
    t[i] = time_collectives(PETSC_COMM_WORLD, sizes[i], buf, out, i < 3 ? 50 : 10);
    /* least squares of T = a + bytes * (P-1)/P / beta over the sizes */
    double xb = 4.0 * sizes[i] * (P - 1) / P;
    sx += xb, sy += t[i], sxx += xb * xb, sxy += xb * t[i];
  }
  beta = (ns * sxx - sx * sx) / (ns * sxy - sx * sy);
  alpha = (sy - sx / beta) / ns;
  if (alpha < 0) alpha = t[0];
  t_ex = time_example(&f_ex);
  if (rank == 0) {
    size_t n_small = nparam_of(12, 64), n_ref = nparam_of(36, 256);
    double f_ref = f_ex * (36.0 * 256 * 256) / (12.0 * 64 * 64);
    printf("comm_model on %d ranks: reduce-scatter/all-gather per collective:\n", P);
    for (int i = 0; i < ns; i++) printf("  %9zu floats: %.3e s\n", sizes[i], t[i]);
    printf("fit: latency a = %.2e s, bandwidth beta = %.2f GB/s (per rank, ring model)\n", alpha, beta / 1e9);
    printf("compute: one example fwd+bwd (B=12, C=64, D=16000) %.3f s = %.1f GFLOP/s model FLOPs\n", t_ex,
           f_ex / t_ex / 1e9);
    printf("%-22s %6s %12s %12s %10s %10s\n", "network", "P", "comm s/step", "comp s/ex", "eff b=1", "eff b=4");
    for (int k = 0; k < 2; k++) {
      size_t n = k ? n_ref : n_small;
      double comp = k ? t_ex * f_ref / f_ex : t_ex;
      for (int j = 0; j < 3; j++) {
        int    p = Ps[j];
        double comm = ring_seconds(p, (double)n, alpha, beta);
        printf("%-22s %6d %12.4f %12.3f %10.3f %10.3f\n", k ? "B=36 C=256 (reference)" : "B=12 C=64", p, comm, comp,
               comp / (comp + comm), 4 * comp / (4 * comp + comm));
      }
    }
    printf("nparam: B=12 C=64 %zu, B=36 C=256 %zu; message per step per rank 2 x %.1f MB\n", n_small, n_ref,
           4.0 * n_ref / 1e6);
    { /* (P, Q): the reference network, global batch 256, one example per replica and step */
      const int PQ[][2] = {{256, 1}, {512, 2}, {1024, 4}, {2048, 8}, {16, 1}, {16, 2}, {16, 4}, {8, 2}};
      double    comp = t_ex * f_ref / f_ex, base = 0;
      printf("(P, Q) projection, B=36 C=256 D=16000, global batch 256 (P/Q replicas share it):\n");
      printf("%6s %4s %9s %10s %10s %10s %10s %10s %9s\n", "P", "Q", "ex/rank", "comp s", "halo s", "grad s", "s/step",
             "eff", "speed-up");
      for (int j = 0; j < 8; j++) {
        int    p = PQ[j][0], q = PQ[j][1], R = p / q;
        double ex = 256.0 / R; /* examples per replica per step */
        double c = ex * comp / q, h = ex * halo_seconds(q, 36, 256, 12, alpha, beta);
        /* Q = 1: one reduce-scatter + all-gather of the whole vector. Q > 1: parameters held 1/P at
           rest (885aafe), so per step each block's weights are all-gathered twice (forward and
           the backward's recomputation) and its gradient reduce-scattered, and the resident
           tensors likewise: 3 (blocks + 1) ring collectives moving 3 x 4 nparam bytes. */
        double g = q == 1 ? ring_seconds(p, (double)n_ref, alpha, beta)
                          : 3 * (36 + 1) * (p - 1) * alpha + 3.0 * (p - 1) / p * 4.0 * (double)n_ref / beta;
        double step = c + h + g;
        if (q == 1) base = step; /* speed-up against pure data parallelism on the same global batch */
        printf("%6d %4d %9.1f %10.3f %10.4f %10.4f %10.3f %10.3f %9.2f\n", p, q, ex, c, h, g, step, c / step,
               base / step);
      }
    }
    { /* (P, T) projection: ranks x threads, the reference network, global batch 256 */
      const int PT[][2] = {{256, 1}, {256, 2}, {256, 4}, {256, 8}, {128, 2}, {64, 4}, {32, 8}};
      double    s2 = argc > 1 ? atof(argv[1]) : 1.75, comp = t_ex * f_ref / f_ex, base = 0;
      printf("(P, T) projection, B=36 C=256 D=16000, global batch 256, S(2) = %.2f:\n", s2);
      printf("%6s %4s %6s %9s %8s %10s %10s %10s %9s %9s\n", "P", "T", "cores", "ex/rank", "S(T)", "comp s", "grad s",
             "s/step", "speed-up", "per core");
      for (int j = 0; j < 7; j++) {
        int    p = PT[j][0], T = PT[j][1];
        double S = T * pow(s2 / 2, log2(T)), ex = 256.0 / p, c = ex * comp / S;
        double g = ring_seconds(p, (double)n_ref, alpha, beta), step = c + g;
        if (j == 0) base = step;
        printf("%6d %4d %6d %9.1f %8.2f %10.3f %10.4f %10.3f %9.2f %9.3f\n", p, T, p * T, ex, S, c, g, step,
               base / step, base / step * 256 / (p * T));
      }
    }
  }
  ardm_free(&buf), ardm_free(&out);
  PetscFinalize();
  return 0;
}
