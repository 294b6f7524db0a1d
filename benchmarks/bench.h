/* bench.h: what every benchmark shares: a monotonic clock, a CPU-time clock and the in-run cblas_sgemm
   reference that the figures are divided by (RESULTS.md reports ratios, not absolutes). */
#ifndef ARDM_BENCH_H
#define ARDM_BENCH_H
#include <cblas.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of this process (all its threads): on a shared machine the time a step was not
   scheduled is not in it, so it is steadier than bench_now() under load. */
static inline double bench_cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* sgemm GFLOP/s on 2048^3: the best of repeats over at least 1.5 s (and 3 repeats), in wall
   seconds; *cpu (when not NULL) gets the best rate in CPU seconds (bench_cpu_now). */
static inline double bench_sgemm_gflops_cpu(double *cpu)
{
  const int n = 2048;
  int       reps = 0;
  float    *a = malloc(sizeof(float) * (size_t)n * n), *b = malloc(sizeof(float) * (size_t)n * n);
  float    *c = calloc((size_t)n * n, sizeof(float));
  double    best = 0, bestc = 0, flop = 2.0 * n * n * (double)n, t0 = bench_now();
  for (size_t i = 0; i < (size_t)n * n; i++) a[i] = (float)(i % 13) * 0.01f, b[i] = (float)(i % 7) * 0.01f;
  while (bench_now() - t0 < 1.5 || reps < 3) {
    double t = bench_now(), tc = bench_cpu_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    t = bench_now() - t, tc = bench_cpu_now() - tc;
    if (flop / t / 1e9 > best) best = flop / t / 1e9;
    if (flop / tc / 1e9 > bestc) bestc = flop / tc / 1e9;
    reps++;
  }
  free(a), free(b), free(c);
  if (cpu) *cpu = bestc;
  return best;
}

/* sgemm GFLOP/s on 2048^3 in wall seconds (see bench_sgemm_gflops_cpu). */
static inline double bench_sgemm_gflops(void)
{
  return bench_sgemm_gflops_cpu(NULL);
}
/* Measures sgemm again after a configuration ran and keeps the best of before and after as the
   reference (wall and per CPU second), printing both: the load can change during a run. */
static inline void bench_sgemm_after(double *ref, double *refc)
{
  double afterc, after = bench_sgemm_gflops_cpu(&afterc);
  *ref = after > *ref ? after : *ref, *refc = afterc > *refc ? afterc : *refc;
  printf("sgemm after this configuration: %.1f GFLOP/s (%.1f per CPU second); reference %.1f (%.1f)\n", after, afterc,
         *ref, *refc);
}

#endif
