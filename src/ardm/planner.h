/* planner.h: the Parallelized ARDM planner (doc/method.md section 2): exact optimal generation plans
   for step budgets from per-step loss components, the whole optimal cost curve, monotone
   preprocessing, budget allocation across upscale stages, naive plans and plan evaluation.
   Pure algorithms: no MPI, no I/O (planner.c: one stage; planner_run.c: several stages;
   plan_file.h reads and writes the files).

   Problem (one stage). l[t], t = 0..D-1, is the expected loss in bits of one dim generated when
   t dims are known. A plan with n steps is 0 = p_0 < p_1 < ... < p_{n-1} < D; step i generates
   dims p_i..p_{i+1}-1 (p_n = D) in one network call, each at cost l[p_i]. The plan's cost is
   sum_i (p_{i+1} - p_i) l[p_i] bits per example. A budget N allows AT MOST N steps: the optimal
   cost for budget N is min over plans with n <= N steps. With non-increasing l extra steps
   never hurt, so "at most" and "exactly" agree; with -monotone none they may not, and a plan
   may use fewer steps than its budget.
   DP (doc/method.md): g_n[k] = min_{j<k} g_{n-1}[j] + (k - j) l[j], g_n[0] = 0, g_0[k>0] = inf;
   the optimal cost for budget N is g_N[D]. */
#ifndef ARDM_PLANNER_H
#define ARDM_PLANNER_H
#include "core/ardm.h"

typedef enum { PLANNER_SORT = 0, PLANNER_ISOTONIC = 1, PLANNER_NONE = 2 } planner_monotone;
typedef enum { PLANNER_EQUAL = 0, PLANNER_OPTIMAL = 1 } planner_allocate;
extern const char *const planner_monotone_names[3]; /* "sort", "isotonic", "none" */
extern const char *const planner_allocate_names[2]; /* "equal", "optimal" */

/* Default memory (bytes) for storing every round's back-pointers at once; larger problems use
   checkpointed recomputation (see planner_solve). */
#define PLANNER_DEFAULT_MEM ((size_t)512 << 20)

/* ---- preprocessing of one stage ---- */

/* out[t] = loss[t] where count[t] > 0. Unobserved steps (count 0) get the penalty when it is
   finite, otherwise the value of the nearest observed step before t (an upper bound when the
   true losses decrease with t), or the largest observed value for steps before the first
   observation. Needs at least one observed step unless the penalty is finite. */
void planner_fill_unobserved(int64_t D, const double *loss, const int64_t *count, double penalty, double *out);
/* Sorts l in descending order (the reference's preprocessing). */
void planner_sort_descending(int64_t D, double *l);
/* Weighted isotonic regression onto non-increasing sequences by pool adjacent violators:
   out minimises sum_t w[t] (out[t] - y[t])^2 subject to out[0] >= out[1] >= ... . Steps with
   w[t] = 0 do not pull the fit; they take the fitted value of the nearest weighted step
   before them (the first fitted value when none is before). At least one w[t] > 0. */
PetscErrorCode planner_isotonic(int64_t D, const double *y, const double *w, double *out);
/* One stage's planning sequence l[D] from its raw loss[D] and count[D]: fill, then sort
   (PLANNER_SORT), isotonic fit weighted by count (PLANNER_ISOTONIC; unobserved steps have
   weight 0, so the penalty is only used when a stage has no observation at all) or nothing
   (PLANNER_NONE). */
PetscErrorCode planner_preprocess(planner_monotone mode, int64_t D, const double *loss, const int64_t *count,
                                  double penalty, double *l);
/* 1 when l[0] >= l[1] >= ... >= l[D-1]. */
int planner_is_nonincreasing(int64_t D, const double *l);

/* ---- plans ---- */

/* 1 when starts[0..n-1] is a valid plan: n >= 1, starts[0] = 0, strictly increasing, < D. */
int planner_plan_valid(int64_t D, int n, const int *starts);
/* Cost in bits of a plan (sum over steps of size * l[start]), accumulated in long double. */
double planner_plan_cost(int64_t D, const double *l, int n, const int *starts);
/* The naive evenly spaced plan with n steps (1 <= n <= D): starts[i] = floor(i D / n). */
void planner_even_plan(int64_t D, int n, int *starts);

/* ---- exact optimal plans for one stage ---- */

/* Runs the DP rounds and returns, for each budget b (1 <= budgets[b] <= D): its optimal cost
   cost[b] and an optimal plan starts[b*ld .. b*ld + nsteps[b] - 1] (-1 after its end; ld >= the
   largest budget), and the optimal cost curve[n-1] for every budget n = 1..ncurve.
   nb or ncurve may be 0 (curve only / plans only); NULL pointers are allowed for what is not
   asked for.
   Each round is a lower envelope of the lines k -> g[j] - j l[j] + k l[j]: for non-increasing l
   the slopes arrive sorted and a monotone convex-hull trick does a round in O(D); otherwise a
   Li Chao tree does it in O(D log D). Time O(R D) for R = max(largest budget, ncurve) rounds.
   Memory: two rows of D+1 doubles plus back-pointers. When R D int32 back-pointers fit in
   mem_limit bytes they are all kept (one pass); otherwise the rows before every C-th round are
   checkpointed (C = ceil(sqrt(2R))) and each block of C rounds is recomputed from its
   checkpoint, top block first, to trace every budget's plan back through it: O(sqrt(R) D)
   memory and at most one extra pass (only the prefixes the traced plans still reach are
   recomputed: the paths move left as the rounds go down). */
PetscErrorCode planner_solve(int64_t D, const double *l, int nb, const int *budgets, int ld, int *starts, int *nsteps,
                             double *cost, int ncurve, double *curve, size_t mem_limit);
/* The brute-force O(nmax D^2) recursion (the reference's algorithm stopped at nmax rounds),
   kept as the oracle for tests and benchmarks: curve[n-1] for n = 1..nmax (nmax <= D). */
PetscErrorCode planner_brute_curve(int64_t D, const double *l, int nmax, double *curve);

/* ---- budget allocation across S stages ---- */

/* curves[s*amax + a-1] is stage s's optimal cost with at most a steps (a = 1..amax). Fills
   best[T], T = 0..Tmax: the least summed cost when the S stages share at most T steps, each
   at least 1 and at most amax (INFINITY when T < S), and choice[s*(Tmax+1) + T], the steps of
   stage s in that split of the first s+1 stages. Exact DP, O(S Tmax amax). */
PetscErrorCode planner_allocate_table(int S, int amax, const double *curves, int Tmax, double *best, int *choice);
/* Traces the split of T steps (S <= T <= Tmax) into alloc[S]. */
void planner_allocate_trace(int S, int Tmax, const int *choice, int T, int *alloc);

/* ---- the whole planning job for S stages ---- */

typedef struct {
  planner_monotone monotone;
  planner_allocate allocate;
  double           penalty;   /* value for unobserved steps; NAN = the fill rule above */
  size_t           mem_limit; /* see planner_solve; 0 = PLANNER_DEFAULT_MEM */
} planner_options;

/* Budgets: with PLANNER_EQUAL a budget N gives every stage N steps (S N network calls, as in
   the paper; 1 <= N <= D); with PLANNER_OPTIMAL N is the total over all stages (S <= N <= S D),
   split to minimise the summed cost. Bits per dim are summed over stages and divided by D. */
typedef struct {
  int     S; /* stages */
  int64_t D; /* dims per stage */
  int     nbudgets;
  int    *budgets;      /* [nbudgets] */
  int     nstep;        /* the largest budget: room for the longest plan */
  int    *starts;       /* [nbudgets][S][nstep], -1 after each plan's end */
  int    *nsteps;       /* [nbudgets][S] steps of each stage's plan */
  double *expected_bpd; /* [nbudgets] optimal bits/dim */
  double *naive_bpd;    /* [nbudgets] evenly spaced plans, budget split as evenly as possible */
  int     ncurve;
  double *curve_bpd; /* [ncurve] optimal bits/dim for budgets 1..ncurve (NAN if < S, optimal) */
  double  full_bpd;  /* bits/dim of generating one dim per step (budget D per stage) */
} planner_result;

/* Largest per-dim loss (bits) accepted: far above any model's (a uniform guess over 2^24
   classes costs 24 bits), and small enough that sums over every step and stage stay finite. */
#define PLANNER_MAX_LOSS 1e6

/* Validates loss[S][D] and count[S][D] (loss in 0..PLANNER_MAX_LOSS where count > 0, count >= 0,
   some observation per stage unless penalty is finite). Returns 1 when fine, else 0 with a
   one-line reason in msg. */
int planner_check_loss(int S, int64_t D, const double *loss, const int64_t *count, double penalty, char *msg,
                       size_t len);
/* Plans every budget (validated by the caller: see planner_result) for S stages and the cost
   curve for budgets 1..ncurve. loss and count must pass planner_check_loss. */
PetscErrorCode planner_run(const planner_options *o, int S, int64_t D, const double *loss, const int64_t *count,
                           int nbudgets, const int *budgets, int ncurve, planner_result *r);
/* Allocates r's arrays for the given sizes (starts filled with -1), e.g. before a broadcast. */
PetscErrorCode planner_result_alloc(int S, int64_t D, int nbudgets, int nstep, int ncurve, planner_result *r);
void           planner_result_free(planner_result *r);
#endif
