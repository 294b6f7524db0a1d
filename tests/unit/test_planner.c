/* test_planner.c: the exact fast planner against the brute-force recursion and an exhaustive
   enumeration of plans, the reference's check values, the extreme budgets, preprocessing
   (fill rule, sort, pool adjacent violators) and the allocation across stages.
   Tolerance (every cost comparison): the fast and the brute-force rounds evaluate each
   candidate g[j] + (k - j) l[j] with the same double expression, so they can differ only
   where two candidates lie within rounding of each other and the methods keep different ones;
   each such pick moves a round's value by at most a few rounding errors of one candidate
   (<= 4 eps times the cost scale D max(l)), and these add up over n rounds. TOL(n) = 8 n eps
   D max(l) is that bound with a factor 2 to spare; a wrong candidate set or an off-by-one
   step moves costs by O(min |l[j] - l[j+1]|), many orders of magnitude more on these inputs. */
// ranks: 1
#include "harness.h"
#include "ardm/planner.h"
#include "core/rng.h"
#include <float.h>

#define NMAX_D 2000

static double tol(int64_t D, int n, const double *l)
{
  double lmax = 0;
  for (int64_t t = 0; t < D; t++) lmax = fmax(lmax, fabs(l[t]));
  return 8.0 * n * DBL_EPSILON * (double)D * fmax(lmax, 1.0);
}

/* Random inputs: kind 0 = non-increasing, smooth-ish with noise (like sorted loss components),
   1 = non-increasing on a coarse grid (many equal slopes, as after isotonic pooling),
   2 = arbitrary (for -monotone none). */
static void random_losses(uint64_t seed, int kind, int64_t D, double *l)
{
  rng_stream r;
  rng_init(&r, seed, (uint64_t)kind, (uint64_t)D, RNG_MISC);
  for (int64_t t = 0; t < D; t++) {
    if (kind == 2)
      l[t] = 8.0 * rng_uniform(&r);
    else
      l[t] = 8.0 / (1.0 + 0.05 * (double)t) + 0.5 * rng_uniform(&r);
    if (kind == 1) l[t] = floor(l[t] * 4.0) / 4.0;
  }
  if (kind != 2) planner_sort_descending(D, l);
}

/* Least cost over all 2^(D-1) plans with at most n steps, n = 1..D (long double). */
static void exhaustive_curve(int64_t D, const double *l, double *curve)
{
  long double best[32];
  for (int n = 0; n <= D; n++) best[n] = INFINITY;
  for (uint32_t mask = 0; mask < (1u << (D - 1)); mask++) {
    long double c = 0;
    int         n = 1, start = 0;
    for (int k = 1; k <= D; k++)
      if (k == D || (mask >> (k - 1) & 1u)) {
        c += (long double)(k - start) * l[start];
        start = k;
        n += k < D;
      }
    if (c < best[n]) best[n] = c;
  }
  for (int n = 1; n <= D; n++) {
    if (best[n - 1] < best[n]) best[n] = best[n - 1];
    curve[n - 1] = (double)best[n];
  }
}

static int test_reference_check(void)
{
  const double l[5] = {5, 4, 3, 2.85, 2.8}, want[5] = {25, 19, 18, 17.7, 17.65};
  int          budgets[5] = {1, 2, 3, 4, 5}, starts[5 * 5], nsteps[5];
  double       cost[5], curve[5], brute[5];

  CHECK_OK(planner_solve(5, l, 5, budgets, 5, starts, nsteps, cost, 5, curve, 0));
  CHECK_OK(planner_brute_curve(5, l, 5, brute));
  for (int b = 0; b < 5; b++) {
    /* 1e-12: the check values are decimal, the sums of a few doubles are within 1e-14 of them */
    CHECK_CLOSE(cost[b], want[b], 1e-12);
    CHECK_CLOSE(curve[b], want[b], 1e-12);
    CHECK_CLOSE(brute[b], want[b], 1e-12);
    CHECK_CLOSE(planner_plan_cost(5, l, nsteps[b], starts + 5 * b), want[b], 1e-12);
  }
  CHECK(nsteps[1] == 2 && starts[5] == 0 && starts[6] == 2 && starts[7] == -1, "budget 2 plan: %d steps [%d, %d]",
        nsteps[1], starts[5], starts[6]);
  return 0;
}

static int test_extreme_budgets(void)
{
  const int64_t D = 300;
  double        l[300], cost[2], curve[300];
  int           budgets[2] = {1, 300}, starts[2 * 300], nsteps[2];

  /* strictly decreasing: splitting any step of size >= 2 strictly lowers the cost, so the
     budget-D optimum is unique (every step size 1) */
  for (int64_t t = 0; t < D; t++) l[t] = 6.0 - 0.01 * (double)t - 1e-5 * (double)(t * t);
  CHECK_OK(planner_solve(D, l, 2, budgets, (int)D, starts, nsteps, cost, (int)D, curve, 0));
  CHECK(nsteps[0] == 1 && starts[0] == 0 && starts[1] == -1, "budget 1: %d steps", nsteps[0]);
  CHECK_CLOSE(cost[0], D * l[0], 1e-14);
  CHECK(nsteps[1] == D, "budget D: %d steps", nsteps[1]);
  for (int i = 0; i < D; i++) CHECK(starts[D + i] == i, "budget D: start %d is %d", i, starts[D + i]);
  CHECK_CLOSE(cost[1], planner_plan_cost(D, l, (int)D, starts + D), tol(D, (int)D, l));
  return 0;
}

static int test_exhaustive_small(void)
{
  for (int kind = 0; kind < 3; kind++)
    for (int64_t D = 1; D <= 11; D++)
      for (uint64_t seed = 1; seed <= 20; seed++) {
        double l[11], want[11], fast[11], brute[11];
        random_losses(seed, kind, D, l);
        exhaustive_curve(D, l, want);
        CHECK_OK(planner_solve(D, l, 0, NULL, 0, NULL, NULL, NULL, (int)D, fast, 0));
        CHECK_OK(planner_brute_curve(D, l, (int)D, brute));
        for (int n = 1; n <= D; n++) {
          CHECK(fabs(fast[n - 1] - want[n - 1]) <= tol(D, n, l),
                "kind %d D %d seed %d n %d: fast %.17g exhaustive %.17g", kind, (int)D, (int)seed, n, fast[n - 1],
                want[n - 1]);
          CHECK(fabs(brute[n - 1] - want[n - 1]) <= tol(D, n, l), "brute %.17g exhaustive %.17g", brute[n - 1],
                want[n - 1]);
        }
      }
  return 0;
}

/* Fast plans for every budget 1..nmax against the brute-force curve; with the full back-pointer
   store and with the checkpointed recomputation (mem_limit 1 byte), which must agree exactly. */
static int compare_with_brute(int kind, int64_t D, int nmax, uint64_t seed)
{
  double *l, *brute, *cost, *curve;
  int    *budgets, *starts, *starts2, *nsteps, *nsteps2;

  l = malloc(sizeof(double) * (size_t)D);
  brute = malloc(sizeof(double) * (size_t)nmax);
  cost = malloc(sizeof(double) * (size_t)nmax);
  curve = malloc(sizeof(double) * (size_t)nmax);
  budgets = malloc(sizeof(int) * (size_t)nmax);
  nsteps = malloc(sizeof(int) * (size_t)nmax);
  nsteps2 = malloc(sizeof(int) * (size_t)nmax);
  starts = malloc(sizeof(int) * (size_t)nmax * (size_t)nmax);
  starts2 = malloc(sizeof(int) * (size_t)nmax * (size_t)nmax);
  random_losses(seed, kind, D, l);
  for (int b = 0; b < nmax; b++) budgets[b] = nmax - b; /* any order */
  CHECK_OK(planner_brute_curve(D, l, nmax, brute));
  CHECK_OK(planner_solve(D, l, nmax, budgets, nmax, starts, nsteps, cost, nmax, curve, 0));
  CHECK_OK(planner_solve(D, l, nmax, budgets, nmax, starts2, nsteps2, NULL, 0, NULL, 1));
  for (int b = 0; b < nmax; b++) {
    int        n = budgets[b];
    const int *p = starts + (size_t)b * (size_t)nmax;
    double     t = tol(D, n, l);
    CHECK(fabs(curve[n - 1] - brute[n - 1]) <= t, "kind %d D %d n %d: curve %.17g brute %.17g", kind, (int)D, n,
          curve[n - 1], brute[n - 1]);
    CHECK(cost[b] == curve[n - 1], "cost %.17g curve %.17g", cost[b], curve[n - 1]);
    CHECK(nsteps[b] >= 1 && nsteps[b] <= n && planner_plan_valid(D, nsteps[b], p), "kind %d D %d n %d: invalid plan",
          kind, (int)D, n);
    CHECK(nsteps[b] == n || p[nsteps[b]] == -1, "plan not padded with -1");
    CHECK(fabs(planner_plan_cost(D, l, nsteps[b], p) - brute[n - 1]) <= t, "kind %d D %d n %d: plan %.17g brute %.17g",
          kind, (int)D, n, planner_plan_cost(D, l, nsteps[b], p), brute[n - 1]);
    CHECK(nsteps2[b] == nsteps[b] && !memcmp(p, starts2 + (size_t)b * (size_t)nmax, sizeof(int) * (size_t)n),
          "kind %d D %d n %d: checkpointed plan differs", kind, (int)D, n);
    /* more steps never hurt with non-increasing l (at-most semantics: never for any l) */
    if (n > 1) CHECK(brute[n - 1] <= brute[n - 2], "curve increases at n = %d", n);
  }
  free(l), free(brute), free(cost), free(curve), free(budgets), free(nsteps), free(nsteps2), free(starts),
      free(starts2);
  return 0;
}

static int test_random_nonincreasing(void)
{
  const int64_t Ds[] = {2, 3, 17, 64, 250, 700, NMAX_D};
  for (int kind = 0; kind < 2; kind++)
    for (size_t i = 0; i < sizeof Ds / sizeof Ds[0]; i++)
      for (uint64_t seed = 1; seed <= (Ds[i] <= 64 ? 30u : Ds[i] < NMAX_D ? 3u : 1u); seed++) {
        /* D = 2000 with every budget is the slow brute-force case: once, on the tied kind */
        if (Ds[i] == NMAX_D && kind == 0) continue;
        if (compare_with_brute(kind, Ds[i], (int)Ds[i], seed)) return 1;
      }
  return compare_with_brute(0, NMAX_D, 300, 7);
}

static int test_random_arbitrary(void)
{
  const int64_t Ds[] = {2, 3, 17, 64, 250, 700};
  for (size_t i = 0; i < sizeof Ds / sizeof Ds[0]; i++)
    for (uint64_t seed = 1; seed <= (Ds[i] <= 64 ? 30u : 3u); seed++)
      if (compare_with_brute(2, Ds[i], (int)Ds[i], seed)) return 1;
  return compare_with_brute(2, NMAX_D, (int)NMAX_D, 9);
}

/* Non-increasing isotonic fit by the min-max formula: f[i] = min_{a<=i} max_{b>=i} mean(a..b). */
static void isotonic_minmax(int n, const double *y, const double *w, double *f)
{
  for (int i = 0; i < n; i++) {
    double best = INFINITY;
    for (int a = 0; a <= i; a++) {
      double worst = -INFINITY;
      for (int b = i; b < n; b++) {
        double sw = 0, swy = 0;
        for (int t = a; t <= b; t++) sw += w[t], swy += w[t] * y[t];
        worst = fmax(worst, swy / sw);
      }
      best = fmin(best, worst);
    }
    f[i] = best;
  }
}

static int test_isotonic(void)
{
  const double y1[3] = {1, 3, 2}, y2[3] = {3, 1, 2}, w1[3] = {1, 1, 1}, w3[4] = {0, 1, 0, 3}, y3[4] = {9, 1, 7, 5};
  double       f[4];
  rng_stream   r;

  CHECK_OK(planner_isotonic(3, y1, w1, f));
  CHECK(f[0] == 2 && f[1] == 2 && f[2] == 2, "[1,3,2] -> [%g,%g,%g], expected [2,2,2]", f[0], f[1], f[2]);
  CHECK_OK(planner_isotonic(3, y2, w1, f));
  CHECK(f[0] == 3 && f[1] == 1.5 && f[2] == 1.5, "[3,1,2] -> [%g,%g,%g], expected [3,1.5,1.5]", f[0], f[1], f[2]);
  /* weights 0 do not pull: the weighted points 1 (w 1) and 5 (w 3) pool to 4; the zero-weight
     ones take the value of the nearest weighted point before them (or the first value) */
  CHECK_OK(planner_isotonic(4, y3, w3, f));
  CHECK(f[0] == 4 && f[1] == 4 && f[2] == 4 && f[3] == 4, "zero weights: [%g,%g,%g,%g]", f[0], f[1], f[2], f[3]);
  rng_init(&r, 5, 0, 0, RNG_MISC);
  for (int trial = 0; trial < 300; trial++) {
    int    n = 1 + (int)rng_below(&r, 9);
    double y[9], w[9], got[9], want[9];
    for (int i = 0; i < n; i++)
      y[i] = 4 * rng_uniform(&r) - (double)i * rng_uniform(&r), w[i] = 1 + (double)rng_below(&r, 5);
    CHECK_OK(planner_isotonic(n, y, w, got));
    isotonic_minmax(n, y, w, want);
    for (int i = 0; i < n; i++) {
      CHECK_CLOSE(got[i], want[i], 1e-12); /* weighted means of <= 9 small integers-weighted terms */
      if (i) CHECK(got[i] <= got[i - 1], "not non-increasing at %d", i);
    }
  }
  return 0;
}

static int test_preprocess(void)
{
  const double  loss[6] = {7, 99, 5, 6, 99, 2};
  const int64_t count[6] = {0, 0, 3, 4, 0, 1};
  double        l[6];

  /* fill: leading unobserved -> largest observed (6), later ones -> previous observed value */
  planner_fill_unobserved(6, loss, count, NAN, l);
  CHECK(l[0] == 6 && l[1] == 6 && l[2] == 5 && l[3] == 6 && l[4] == 6 && l[5] == 2, "fill: %g %g %g %g %g %g", l[0],
        l[1], l[2], l[3], l[4], l[5]);
  planner_fill_unobserved(6, loss, count, 10.0, l);
  CHECK(l[0] == 10 && l[1] == 10 && l[4] == 10 && l[3] == 6, "penalty fill");
  CHECK_OK(planner_preprocess(PLANNER_SORT, 6, loss, count, NAN, l));
  CHECK(l[0] == 6 && l[3] == 6 && l[4] == 5 && l[5] == 2 && planner_is_nonincreasing(6, l), "sort");
  CHECK_OK(planner_preprocess(PLANNER_NONE, 6, loss, count, NAN, l));
  CHECK(l[2] == 5 && l[3] == 6 && !planner_is_nonincreasing(6, l), "none keeps the order");
  /* isotonic: weighted points 5 (w 3), 6 (w 4) pool to 39/7; 2 stays */
  CHECK_OK(planner_preprocess(PLANNER_ISOTONIC, 6, loss, count, NAN, l));
  CHECK(fabs(l[0] - 39.0 / 7) < 1e-14 && fabs(l[4] - 39.0 / 7) < 1e-14 && l[5] == 2, "isotonic: %g %g %g", l[0], l[4],
        l[5]);
  return 0;
}

static int test_even_plan_and_cost(void)
{
  const double l[7] = {7, 6, 5, 4, 3, 2, 1};
  int          p[7];
  planner_even_plan(7, 3, p); /* floor(0), floor(7/3), floor(14/3) */
  CHECK(p[0] == 0 && p[1] == 2 && p[2] == 4, "even plan %d %d %d", p[0], p[1], p[2]);
  CHECK(planner_plan_cost(7, l, 3, p) == 2 * 7 + 2 * 5 + 3 * 3, "plan cost");
  CHECK(planner_plan_valid(7, 3, p) && !planner_plan_valid(7, 0, p), "valid");
  p[1] = 4;
  CHECK(!planner_plan_valid(7, 3, p), "not increasing is invalid");
  return 0;
}

/* Allocation DP against brute force over every split of T among 3 stages, and planner_run's
   optimal allocation against the equal one at the same number of network calls. */
static int test_allocation(void)
{
  enum { S = 3, D = 12 };
  double  loss[S * D], l[D], curves[S * D], best[S * D + 1], want;
  int64_t count[S * D];
  int     choice[S * (S * D + 1)], alloc[S];

  for (int s = 0; s < S; s++) {
    random_losses(40 + (uint64_t)s, s == 2 ? 2 : 0, D, loss + s * D);
    for (int t = 0; t < D; t++) loss[s * D + t] *= (double)(s + 1), count[s * D + t] = 1;
  }
  for (int s = 0; s < S; s++) {
    CHECK_OK(planner_preprocess(PLANNER_SORT, D, loss + s * D, count + s * D, NAN, l));
    CHECK_OK(planner_solve(D, l, 0, NULL, 0, NULL, NULL, NULL, D, curves + s * D, 0));
  }
  CHECK_OK(planner_allocate_table(S, D, curves, S * D, best, choice));
  for (int T = 0; T <= S * D; T++) {
    want = INFINITY;
    for (int a = 1; a <= D; a++)
      for (int b = 1; b <= D; b++)
        for (int c = 1; c <= D; c++)
          if (a + b + c <= T) want = fmin(want, curves[a - 1] + curves[D + b - 1] + curves[2 * D + c - 1]);
    CHECK(best[T] == want || fabs(best[T] - want) <= 1e-12 * want, "T %d: dp %.17g brute %.17g", T, best[T], want);
    if (T >= S) {
      planner_allocate_trace(S, S * D, choice, T, alloc);
      CHECK(alloc[0] + alloc[1] + alloc[2] <= T && alloc[0] >= 1 && alloc[1] >= 1 && alloc[2] >= 1, "split of %d", T);
      CHECK_CLOSE(curves[alloc[0] - 1] + curves[D + alloc[1] - 1] + curves[2 * D + alloc[2] - 1], best[T], 1e-14);
    }
  }
  for (int B = 1; B <= D; B++) {
    planner_options o = {PLANNER_SORT, PLANNER_EQUAL, NAN, 0};
    planner_result  eq, op;
    int             total = S * B;
    CHECK_OK(planner_run(&o, S, D, loss, count, 1, &B, B, &eq));
    o.allocate = PLANNER_OPTIMAL;
    CHECK_OK(planner_run(&o, S, D, loss, count, 1, &total, total, &op));
    /* 1e-12: the same sums of <= 36 terms, added in a different order */
    CHECK(op.expected_bpd[0] <= eq.expected_bpd[0] * (1 + 1e-12), "B %d: optimal %.17g > equal %.17g", B,
          op.expected_bpd[0], eq.expected_bpd[0]);
    CHECK_CLOSE(op.expected_bpd[0], best[total] / D, 1e-12);
    CHECK_CLOSE(op.curve_bpd[total - 1], best[total] / D, 1e-12);
    CHECK(isnan(op.curve_bpd[0]) && isnan(op.curve_bpd[1]), "optimal curve below S stages must be NaN");
    CHECK(eq.nsteps[0] <= B && eq.naive_bpd[0] >= eq.expected_bpd[0] * (1 - 1e-12), "equal run");
    planner_result_free(&eq);
    planner_result_free(&op);
  }
  return 0;
}

/* planner_run's bookkeeping: per-stage plans, bits/dim, -1 padding, curve and naive baseline. */
static int test_run_stages(void)
{
  enum { S = 2, D = 400 };
  double          loss[S * D], l[D];
  int64_t         count[S * D];
  int             budgets[3] = {5, 40, 400};
  planner_options o = {PLANNER_ISOTONIC, PLANNER_EQUAL, NAN, 0};
  planner_result  r;
  double          sum[3] = {0, 0, 0};
  rng_stream      g;

  rng_init(&g, 3, 0, 0, RNG_MISC);
  for (int i = 0; i < S * D; i++) {
    loss[i] = 8.0 / (1 + 0.02 * (i % D)) + rng_normal(&g) * 0.2;
    count[i] = (int64_t)rng_below(&g, 4); /* some unobserved steps */
  }
  CHECK_OK(planner_run(&o, S, D, loss, count, 3, budgets, 60, &r));
  CHECK(r.nstep == 400 && r.ncurve == 60, "sizes");
  for (int s = 0; s < S; s++) {
    CHECK_OK(planner_preprocess(PLANNER_ISOTONIC, D, loss + s * D, count + s * D, NAN, l));
    for (int b = 0; b < 3; b++) {
      const int *p = r.starts + ((size_t)b * S + s) * r.nstep;
      int        n = r.nsteps[b * S + s];
      CHECK(n >= 1 && n <= budgets[b] && planner_plan_valid(D, n, p), "stage %d budget %d", s, budgets[b]);
      for (int i = n; i < r.nstep; i++) CHECK(p[i] == -1, "padding");
      sum[b] += planner_plan_cost(D, l, n, p) / D;
    }
  }
  for (int b = 0; b < 3; b++) {
    CHECK_CLOSE(sum[b], r.expected_bpd[b], 1e-12); /* long double plan cost vs the DP's double rounds */
    CHECK(r.naive_bpd[b] >= r.expected_bpd[b] - 1e-12, "naive below optimal");
  }
  CHECK_CLOSE(r.curve_bpd[4], r.expected_bpd[0], 1e-14);
  CHECK_CLOSE(r.curve_bpd[39], r.expected_bpd[1], 1e-14);
  planner_result_free(&r);
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_reference_check);
  TH_RUN(test_extreme_budgets);
  TH_RUN(test_exhaustive_small);
  TH_RUN(test_even_plan_and_cost);
  TH_RUN(test_isotonic);
  TH_RUN(test_preprocess);
  TH_RUN(test_random_nonincreasing);
  TH_RUN(test_random_arbitrary);
  TH_RUN(test_allocation);
  TH_RUN(test_run_stages);
  return TH_FINISH();
}
