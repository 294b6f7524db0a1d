/* planner.c (benchmark): the exact fast planner on one core. Cases: the whole cost curve for
   D = 16000 and budgets 1..1000; D = 1,000,000 with budget 1000 (checkpointed back-pointers);
   the speed-up over the brute-force O(N D^2) recursion measured in the same run on the same
   input (D = 4000 and 16000, N = 100); and the Li Chao tree path (-monotone none).
   Usage: build/bench/planner [quick]   (quick: skip the D = 1,000,000 case) */
#include "ardm/planner.h"
#include "core/rng.h"
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Wall-clock seconds; cpu_now: this process's CPU seconds (the machine may be shared: both
   are printed). */
static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Loss components like a trained audio model's: about 8 bits at t = 0 falling to about 2,
   with estimation noise; sorted descending as the default preprocessing does (sorted = 0: the
   raw noisy sequence, for the Li Chao path). */
static PetscErrorCode make_losses(int64_t D, int sorted, double **l)
{
  rng_stream r;
  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(double) * (size_t)D, l));
  rng_init(&r, 11, 0, (uint64_t)D, RNG_MISC);
  for (int64_t t = 0; t < D; t++) (*l)[t] = 2.0 + 6.0 / (1.0 + 20.0 * (double)t / (double)D) + 0.05 * rng_normal(&r);
  if (sorted) planner_sort_descending(D, *l);
  PetscFunctionReturn(0);
}

static PetscErrorCode bench_curve(int64_t D, int N, int sorted, double *secs, double *cpu, double *last)
{
  double *l, *curve;
  PetscFunctionBegin;
  PetscCall(make_losses(D, sorted, &l));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)N, &curve));
  *secs = now(), *cpu = cpu_now();
  PetscCall(planner_solve(D, l, 0, NULL, 0, NULL, NULL, NULL, N, curve, 0));
  *secs = now() - *secs, *cpu = cpu_now() - *cpu;
  *last = curve[N - 1] / (double)D;
  ardm_free(&l);
  ardm_free(&curve);
  PetscFunctionReturn(0);
}

/* Plans for the budgets (ascending) and the curve up to the largest; returns the last budget's
   bits/dim. */
static PetscErrorCode bench_plans(int64_t D, int nb, const int *budgets, size_t mem, double *secs, double *cpu,
                                  double *bpd)
{
  double *l, *cost, *curve;
  int    *starts, *nsteps, R = budgets[nb - 1];
  PetscFunctionBegin;
  PetscCall(make_losses(D, 1, &l));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)nb, &cost));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)R, &curve));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)nb, &nsteps));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)nb * (size_t)R, &starts));
  *secs = now(), *cpu = cpu_now();
  PetscCall(planner_solve(D, l, nb, budgets, R, starts, nsteps, cost, R, curve, mem));
  *secs = now() - *secs, *cpu = cpu_now() - *cpu;
  PetscCheck(planner_plan_valid(D, nsteps[nb - 1], starts + (size_t)(nb - 1) * (size_t)R), PETSC_COMM_SELF,
             PETSC_ERR_PLIB, "invalid plan");
  *bpd = cost[nb - 1] / (double)D;
  ardm_free(&l);
  ardm_free(&cost);
  ardm_free(&curve);
  ardm_free(&nsteps);
  ardm_free(&starts);
  PetscFunctionReturn(0);
}

static PetscErrorCode bench_vs_brute(int64_t D, int N, int sorted)
{
  double *l, *fast, *slow, tf, tb, diff = 0;
  PetscFunctionBegin;
  PetscCall(make_losses(D, sorted, &l));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)N, &fast));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)N, &slow));
  /* CPU time of this process: the ratio is not disturbed by other load on a shared machine */
  tb = cpu_now();
  PetscCall(planner_brute_curve(D, l, N, slow));
  tb = cpu_now() - tb;
  tf = cpu_now();
  for (int rep = 0; rep < 10; rep++) /* the fast one is too quick to time once */
    PetscCall(planner_solve(D, l, 0, NULL, 0, NULL, NULL, NULL, N, fast, 0));
  tf = (cpu_now() - tf) / 10;
  for (int n = 0; n < N; n++) diff = fmax(diff, fabs(fast[n] - slow[n]) / slow[n]);
  printf("  D = %lld, N = %d (%s): brute-force recursion %.3f s cpu, fast %.5f s cpu: speed-up %.0fx; "
         "max relative difference of the %d costs %.1e\n",
         (long long)D, N, sorted ? "sorted, hull" : "raw, Li Chao", tb, tf, tb / tf, N, diff);
  ardm_free(&l);
  ardm_free(&fast);
  ardm_free(&slow);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  int    quick = argc > 1 && !strcmp(argv[1], "quick");
  int    b16[6] = {20, 50, 100, 200, 500, 1000}, b1m[1] = {1000};
  double secs, cpu, bpd;

  mallopt(M_MMAP_MAX, 0); /* as bin/ardm: no unmapping of big buffers (page faults are slow here) */
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return 1;
  printf("planner benchmark (one core)\n");
  PetscCall(bench_curve(16000, 1000, 1, &secs, &cpu, &bpd));
  printf("  whole curve, D = 16000, budgets 1..1000 (hull): %.3f s wall, %.3f s cpu (budget 1000: %.4f bits/dim)\n",
         secs, cpu, bpd);
  PetscCall(bench_plans(16000, 6, b16, 0, &secs, &cpu, &bpd));
  printf("  plans for budgets 20,50,100,200,500,1000 + curve, D = 16000 (all back-pointers kept): %.3f s wall, "
         "%.3f s cpu\n",
         secs, cpu);
  PetscCall(bench_curve(16000, 1000, 0, &secs, &cpu, &bpd));
  printf("  whole curve, D = 16000, budgets 1..1000, raw losses (-monotone none, Li Chao): %.3f s wall, %.3f s cpu\n",
         secs, cpu);
  PetscCall(bench_vs_brute(4000, 100, 1));
  PetscCall(bench_vs_brute(4000, 100, 0));
  PetscCall(bench_vs_brute(16000, 100, 1));
  if (!quick) {
    PetscCall(bench_plans(1000000, 1, b1m, 0, &secs, &cpu, &bpd));
    printf("  D = 1000000, budget 1000, plan + curve (checkpointed back-pointers): %.2f s wall, %.2f s cpu "
           "(%.4f bits/dim)\n",
           secs, cpu, bpd);
  }
  PetscCall(PetscFinalize());
  return 0;
}
