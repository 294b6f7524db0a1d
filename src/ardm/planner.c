/* planner.c: the exact fast planner of the Parallelized ARDM (doc/method.md section 2) for one stage:
   DP rounds as lower envelopes of lines (monotone convex-hull trick or Li Chao tree),
   back-pointers within a memory limit, the brute-force oracle, preprocessing and plan helpers.
   planner_run.c plans several stages and splits budgets across them. */
#include "ardm/planner.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const planner_monotone_names[3] = {"sort", "isotonic", "none"};
const char *const planner_allocate_names[2] = {"equal", "optimal"};

/* ---------------------------------------------------------------- preprocessing */

void planner_fill_unobserved(int64_t D, const double *loss, const int64_t *count, double penalty, double *out)
{
  double  vmax = -INFINITY, prev;
  int64_t t;

  for (t = 0; t < D; t++)
    if (count[t] > 0 && loss[t] > vmax) vmax = loss[t];
  prev = vmax;
  for (t = 0; t < D; t++) {
    if (count[t] > 0)
      prev = out[t] = loss[t];
    else
      out[t] = isfinite(penalty) ? penalty : prev;
  }
}

static int cmp_desc(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

void planner_sort_descending(int64_t D, double *l)
{
  qsort(l, (size_t)D, sizeof *l, cmp_desc);
}

int planner_is_nonincreasing(int64_t D, const double *l)
{
  for (int64_t t = 1; t < D; t++)
    if (!(l[t] <= l[t - 1])) return 0;
  return 1;
}

/* Pool adjacent violators for a non-increasing fit: a stack of blocks (weighted sums), merging
   the top two while the earlier block's mean is below the later one's. */
PetscErrorCode planner_isotonic(int64_t D, const double *y, const double *w, double *out)
{
  long double *sw, *swy;
  int64_t     *first, nb = 0, t, b;

  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(long double) * (size_t)D, &sw));
  PetscCall(ardm_alloc(sizeof(long double) * (size_t)D, &swy));
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)D, &first));
  for (t = 0; t < D; t++) {
    if (!(w[t] > 0)) continue;
    sw[nb] = w[t];
    swy[nb] = (long double)w[t] * y[t];
    first[nb++] = t;
    while (nb >= 2 && swy[nb - 2] / sw[nb - 2] < swy[nb - 1] / sw[nb - 1]) {
      sw[nb - 2] += sw[nb - 1];
      swy[nb - 2] += swy[nb - 1];
      nb--;
    }
  }
  PetscCheck(nb > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "isotonic fit needs at least one positive weight");
  /* a block covers its first weighted step up to the next block's first (zero-weight steps
     after a weighted one take its value); leading zero-weight steps take the first block's */
  for (b = 0; b < nb; b++) {
    int64_t lo = b ? first[b] : 0, hi = b + 1 < nb ? first[b + 1] : D;
    double  mean = (double)(swy[b] / sw[b]);
    for (t = lo; t < hi; t++) out[t] = mean;
  }
  ardm_free(&sw);
  ardm_free(&swy);
  ardm_free(&first);
  PetscFunctionReturn(0);
}

PetscErrorCode planner_preprocess(planner_monotone mode, int64_t D, const double *loss, const int64_t *count,
                                  double penalty, double *l)
{
  double *w;
  PetscFunctionBegin;
  int64_t seen = 0;
  for (int64_t t = 0; t < D; t++) seen += count[t] > 0;
  if (mode == PLANNER_ISOTONIC && seen) { /* (no observation at all: the constant penalty) */
    PetscCall(ardm_alloc(sizeof(double) * (size_t)D, &w));
    for (int64_t t = 0; t < D; t++) w[t] = count[t] > 0 ? (double)count[t] : 0.0;
    PetscCall(planner_isotonic(D, loss, w, l));
    ardm_free(&w);
    PetscFunctionReturn(0);
  }
  planner_fill_unobserved(D, loss, count, penalty, l);
  if (mode == PLANNER_SORT) planner_sort_descending(D, l);
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- plans */

int planner_plan_valid(int64_t D, int n, const int *starts)
{
  if (n < 1 || starts[0] != 0) return 0;
  for (int i = 1; i < n; i++)
    if (starts[i] <= starts[i - 1] || starts[i] >= D) return 0;
  return 1;
}

double planner_plan_cost(int64_t D, const double *l, int n, const int *starts)
{
  long double c = 0;
  for (int i = 0; i < n; i++) {
    int64_t end = i + 1 < n ? starts[i + 1] : D;
    c += (long double)(end - starts[i]) * l[starts[i]];
  }
  return (double)c;
}

void planner_even_plan(int64_t D, int n, int *starts)
{
  for (int i = 0; i < n; i++) starts[i] = (int)((int64_t)i * D / n);
}

/* ---------------------------------------------------------------- DP rounds */

/* The candidate "last step starts at j" for a prefix of k dims: g[j] + (k - j) l[j]. Every
   method (hull, Li Chao, brute force) evaluates candidates with this one expression, so they
   differ only in which candidates they compare, never in how a candidate is rounded. */
static inline double line_at(const double *g, const double *l, int64_t j, int64_t k)
{
  return g[j] + (double)(k - j) * l[j];
}

/* A line of the lower envelope: slope m = l[j], intercept b = g[j] - j l[j] (its value at
   k = 0, rounded once by fma). */
typedef struct {
  double  m, b;
  int64_t j;
} hull_line;

/* One round for non-increasing l: h[k] = min_{j<k} g[j] + (k - j) l[j] for k = 1..D, h[0] = 0,
   bp[k-1] = the argmin (bp may be NULL). Lines arrive with non-increasing slopes and queries
   k increase, so the lower envelope is a stack e[0..top) (slopes strictly decreasing) and the
   optimal line a forward-moving pointer: O(D). Intercepts and the tests are rounded doubles: a
   wrong keep/drop decision can only involve lines within rounding of each other there, so it
   changes h[k] by rounding-level amounts (the value itself is always evaluated as line_at,
   like the brute force). e: workspace of D lines. */
static void round_hull(int64_t D, const double *l, const double *g, double *h, int32_t *bp, hull_line *e)
{
  int64_t top = 0, ptr = 0;
  h[0] = 0;
  for (int64_t k = 1; k <= D; k++) {
    int64_t j = k - 1;
    if (isfinite(g[j])) {
      double m = l[j], b = fma(-(double)j, m, g[j]);
      int    keep = 1;
      /* equal slopes: only the lower line matters (ties: the newer one) */
      if (top >= 1 && e[top - 1].m == m) {
        if (b <= e[top - 1].b)
          top--;
        else
          keep = 0;
      }
      if (keep) {
        /* pop the top t while it is never strictly below both its neighbour a and the new
           line: a's crossing with the new line is left of (or at) its crossing with t
           (cross-multiplied; the slope differences are positive) */
        while (top >= 2) {
          double ma = e[top - 2].m, ba = e[top - 2].b;
          if ((b - ba) * (ma - e[top - 1].m) <= (e[top - 1].b - ba) * (ma - m))
            top--;
          else
            break;
        }
        e[top].m = m, e[top].b = b, e[top].j = j;
        top++;
        /* a popped optimum was dominated by the new line at the last query point */
        if (ptr >= top) ptr = top - 1;
      }
    }
    while (ptr + 1 < top && fma((double)k, e[ptr + 1].m, e[ptr + 1].b) <= fma((double)k, e[ptr].m, e[ptr].b)) ptr++;
    h[k] = line_at(g, l, e[ptr].j, k);
    if (bp) bp[k - 1] = (int32_t)e[ptr].j;
  }
}

/* Li Chao tree over the query points x = 1..sz (sz a power of two >= D): node i keeps the line
   that wins at the middle of its range; a query takes the minimum along its root-leaf path. */
static void lichao_insert(int32_t *tree, int64_t sz, const double *g, const double *l, int32_t j)
{
  int64_t node = 1, lo = 1, hi = sz;
  for (;;) {
    int32_t cur = tree[node];
    int64_t mid = (lo + hi) / 2;
    int     left_better, mid_better;
    if (cur < 0) {
      tree[node] = j;
      return;
    }
    left_better = line_at(g, l, j, lo) < line_at(g, l, cur, lo);
    mid_better = line_at(g, l, j, mid) < line_at(g, l, cur, mid);
    if (mid_better) {
      tree[node] = j;
      j = cur;
    }
    if (lo == hi) return;
    /* the loser can still win only on the side where it was better at the end point */
    if (left_better != mid_better)
      node = 2 * node, hi = mid;
    else
      node = 2 * node + 1, lo = mid + 1;
  }
}

/* One round for arbitrary l, O(D log D). tree: workspace of 2 sz ints. */
static void round_lichao(int64_t D, const double *l, const double *g, double *h, int32_t *bp, int32_t *tree, int64_t sz)
{
  for (int64_t i = 0; i < 2 * sz; i++) tree[i] = -1;
  h[0] = 0;
  for (int64_t k = 1; k <= D; k++) {
    int64_t node = 1, lo = 1, hi = sz;
    double  best = INFINITY;
    int32_t arg = 0;
    if (isfinite(g[k - 1])) lichao_insert(tree, sz, g, l, (int32_t)(k - 1));
    for (;;) {
      if (tree[node] >= 0) {
        double v = line_at(g, l, tree[node], k);
        if (v < best) best = v, arg = tree[node];
      }
      if (lo == hi) break;
      int64_t mid = (lo + hi) / 2;
      if (k <= mid)
        node = 2 * node, hi = mid;
      else
        node = 2 * node + 1, lo = mid + 1;
    }
    h[k] = best;
    if (bp) bp[k - 1] = arg;
  }
}

/* Shared state of one stage's DP. */
typedef struct {
  int64_t       D, sz;
  const double *l;
  int           monotone;
  hull_line    *hull; /* monotone: D entries */
  int32_t      *tree; /* otherwise: Li Chao tree, 2 sz entries */
} dp_state;

/* One round for the prefixes k = 1..K (K <= D): h[k] needs g[j] only for j < k. */
static void dp_round(dp_state *s, const double *g, double *h, int32_t *bp, int64_t K)
{
  if (s->monotone)
    round_hull(K, s->l, g, h, bp, s->hull);
  else
    round_lichao(K, s->l, g, h, bp, s->tree, s->sz);
}

static PetscErrorCode dp_setup(dp_state *s)
{
  PetscFunctionBegin;
  s->monotone = planner_is_nonincreasing(s->D, s->l);
  for (s->sz = 1; s->sz < s->D;) s->sz *= 2;
  if (s->monotone) {
    PetscCall(ardm_alloc(sizeof(hull_line) * (size_t)s->D, &s->hull));
  } else
    PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(2 * s->sz), &s->tree));
  PetscFunctionReturn(0);
}

static void dp_free(dp_state *s)
{
  ardm_free(&s->hull);
  ardm_free(&s->tree);
}

static void row_init(int64_t D, double *g)
{
  g[0] = 0;
  for (int64_t k = 1; k <= D; k++) g[k] = INFINITY;
}

/* Follows back-pointers of rounds lo..*r (bp[(r-lo)*D + k-1]) from position *pos down, pushing
   the step starts (in reverse) onto rev[*cnt...]; stops at round lo-1 or position 0. */
static void trace_block(int64_t D, const int32_t *bp, int lo, int *r, int64_t *pos, int *rev, int *cnt)
{
  while (*r >= lo && *pos > 0) {
    int64_t j = bp[(size_t)(*r - lo) * (size_t)D + (size_t)(*pos - 1)];
    rev[(*cnt)++] = (int)j;
    *pos = j;
    (*r)--;
  }
}

/* Per-budget trace state during back-tracking. */
typedef struct {
  int     r;   /* current round */
  int64_t pos; /* current prefix length */
  int     cnt; /* starts found so far (in reverse) */
} trace_state;

static PetscErrorCode solve_backtrack(dp_state *s, int R, int C, const double *ckpt, int32_t *bp, double *g, double *h,
                                      int nb, const int *budgets, int ld, int *starts, int *nsteps)
{
  int64_t      D = s->D;
  int          nblocks = (R + C - 1) / C;
  trace_state *ts;

  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(trace_state) * (size_t)nb, &ts));
  for (int b = 0; b < nb; b++) ts[b] = (trace_state){budgets[b], D, 0};
  for (int blk = nblocks - 1; blk >= 0; blk--) {
    int     lo = blk * C + 1, hi = R < (blk + 1) * C ? R : (blk + 1) * C;
    int64_t K = 0; /* the paths only move left: prefixes up to the furthest one suffice */
    for (int b = 0; b < nb; b++)
      if (ts[b].r >= lo && ts[b].pos > K) K = ts[b].pos;
    if (nblocks > 1 && K > 0) { /* recompute this block's back-pointers from its checkpoint */
      double *a = g, *bb = h;
      memcpy(a, ckpt + (size_t)blk * (size_t)(D + 1), sizeof(double) * (size_t)K);
      for (int r = lo; r <= hi; r++) {
        double *tmp;
        dp_round(s, a, bb, bp + (size_t)(r - lo) * (size_t)D, K);
        tmp = a, a = bb, bb = tmp;
      }
    }
    for (int b = 0; b < nb; b++)
      if (ts[b].r <= hi) trace_block(D, bp, lo, &ts[b].r, &ts[b].pos, starts + (size_t)b * (size_t)ld, &ts[b].cnt);
  }
  for (int b = 0; b < nb; b++) {
    int *p = starts + (size_t)b * (size_t)ld, n = ts[b].cnt;
    PetscCheck(ts[b].pos == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "planner back-tracking did not reach 0");
    for (int i = 0; i < n / 2; i++) {
      int tmp = p[i];
      p[i] = p[n - 1 - i], p[n - 1 - i] = tmp;
    }
    for (int i = n; i < ld; i++) p[i] = -1;
    nsteps[b] = n;
  }
  ardm_free(&ts);
  PetscFunctionReturn(0);
}

PetscErrorCode planner_solve(int64_t D, const double *l, int nb, const int *budgets, int ld, int *starts, int *nsteps,
                             double *cost, int ncurve, double *curve, size_t mem_limit)
{
  dp_state s;
  int      R = 0, rounds, C = 1, nblocks = 0;
  double  *g, *h, *ckpt = NULL;
  int32_t *bp = NULL;

  PetscFunctionBegin;
  PetscCheck(D >= 1 && D < INT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "planner: D = %lld out of range",
             (long long)D);
  for (int b = 0; b < nb; b++) {
    PetscCheck(budgets[b] >= 1 && budgets[b] <= D, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "planner: budget %d not in 1..%lld", budgets[b], (long long)D);
    if (budgets[b] > R) R = budgets[b];
  }
  PetscCheck(nb == 0 || ld >= R, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "planner: plan row length %d < budget %d", ld,
             R);
  rounds = R > (ncurve < D ? ncurve : (int)D) ? R : (ncurve < D ? ncurve : (int)D);
  memset(&s, 0, sizeof s);
  s.D = D, s.l = l;
  PetscCall(dp_setup(&s));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(D + 1), &g));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(D + 1), &h));
  if (R > 0) {
    if (!mem_limit) mem_limit = PLANNER_DEFAULT_MEM;
    C = (size_t)R * (size_t)D * sizeof(int32_t) <= mem_limit ? R : (int)ceil(sqrt(2.0 * R));
    if (C > R) C = R;
    nblocks = (R + C - 1) / C;
    PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)C * (size_t)D, &bp));
    if (nblocks > 1) PetscCall(ardm_alloc(sizeof(double) * (size_t)nblocks * (size_t)(D + 1), &ckpt));
  }

  /* forward pass: all rounds, the curve, the budgets' costs, checkpoints or back-pointers */
  row_init(D, g);
  for (int r = 1; r <= rounds; r++) {
    double *tmp;
    if (nblocks > 1 && r <= R && (r - 1) % C == 0)
      memcpy(ckpt + (size_t)((r - 1) / C) * (size_t)(D + 1), g, sizeof(double) * (size_t)(D + 1));
    dp_round(&s, g, h, nblocks == 1 && r <= R ? bp + (size_t)(r - 1) * (size_t)D : NULL, D);
    if (r <= ncurve) curve[r - 1] = h[D];
    for (int b = 0; b < nb; b++)
      if (cost && budgets[b] == r) cost[b] = h[D];
    tmp = g, g = h, h = tmp;
  }
  /* budgets beyond D cannot do better than D steps (one dim per step) */
  for (int n = rounds + 1; n <= ncurve; n++) curve[n - 1] = g[D];

  if (R > 0) PetscCall(solve_backtrack(&s, R, C, ckpt, bp, g, h, nb, budgets, ld, starts, nsteps));
  ardm_free(&bp);
  ardm_free(&ckpt);
  ardm_free(&g);
  ardm_free(&h);
  dp_free(&s);
  PetscFunctionReturn(0);
}

PetscErrorCode planner_brute_curve(int64_t D, const double *l, int nmax, double *curve)
{
  double *g, *h;
  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(D + 1), &g));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(D + 1), &h));
  row_init(D, g);
  for (int n = 1; n <= nmax; n++) {
    double *tmp;
    h[0] = 0;
    for (int64_t k = 1; k <= D; k++) {
      double best = INFINITY;
      for (int64_t j = 0; j < k; j++) {
        double v = line_at(g, l, j, k);
        if (v < best) best = v;
      }
      h[k] = best;
    }
    curve[n - 1] = h[D];
    tmp = g, g = h, h = tmp;
  }
  ardm_free(&g);
  ardm_free(&h);
  PetscFunctionReturn(0);
}
