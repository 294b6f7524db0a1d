/* planner_run.c: the planning job for S stages (planner.h): validation of the loss components,
   the exact allocation of a total budget across stages (DP over the stages' cost curves), and
   planner_run with its per-stage plans, bits/dim, cost curve and naive baseline. */
#include "ardm/planner.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- allocation across stages */

PetscErrorCode planner_allocate_table(int S, int amax, const double *curves, int Tmax, double *best, int *choice)
{
  double *prev;
  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(Tmax + 1), &prev));
  for (int T = 0; T <= Tmax; T++) prev[T] = 0; /* no stage yet: nothing to pay */
  for (int s = 0; s < S; s++) {
    const double *c = curves + (size_t)s * (size_t)amax;
    int          *ch = choice + (size_t)s * (size_t)(Tmax + 1);
    /* best_s[T] = min over a = 1..min(amax, T - s) of best_{s-1}[T - a] + c_s(a); descending T
       so that prev[T - a] (a >= 1) is still the previous stage's value */
    for (int T = Tmax; T >= 0; T--) {
      double v = INFINITY;
      int    arg = 0, amx = T - s < amax ? T - s : amax;
      for (int a = 1; a <= amx; a++) {
        double x = prev[T - a] + c[a - 1];
        if (x < v) v = x, arg = a;
      }
      prev[T] = v;
      ch[T] = arg;
    }
  }
  for (int T = 0; T <= Tmax; T++) best[T] = prev[T];
  ardm_free(&prev);
  PetscFunctionReturn(0);
}

void planner_allocate_trace(int S, int Tmax, const int *choice, int T, int *alloc)
{
  for (int s = S - 1; s >= 0; s--) {
    alloc[s] = choice[(size_t)s * (size_t)(Tmax + 1) + (size_t)T];
    T -= alloc[s];
  }
}

/* ---------------------------------------------------------------- the planning job */

int planner_check_loss(int S, int64_t D, const double *loss, const int64_t *count, double penalty, char *msg,
                       size_t len)
{
  for (int s = 0; s < S; s++) {
    int64_t seen = 0;
    for (int64_t t = 0; t < D; t++) {
      size_t i = (size_t)s * (size_t)D + (size_t)t;
      if (count[i] < 0) {
        snprintf(msg, len, "count(%d, %lld) = %lld is negative", s, (long long)t, (long long)count[i]);
        return 0;
      }
      if (count[i] == 0) continue;
      seen++;
      if (!isfinite(loss[i]) || loss[i] < 0 || loss[i] > PLANNER_MAX_LOSS) {
        snprintf(msg, len, "loss(%d, %lld) = %g: expected a finite value in 0..%g (bits)", s, (long long)t, loss[i],
                 PLANNER_MAX_LOSS);
        return 0;
      }
    }
    if (!seen && !isfinite(penalty)) {
      snprintf(msg, len, "stage %d has no observed step (count is 0 for every t); give -penalty X to plan anyway", s);
      return 0;
    }
  }
  return 1;
}

PetscErrorCode planner_result_alloc(int S, int64_t D, int nbudgets, int nstep, int ncurve, planner_result *r)
{
  size_t nst = (size_t)nbudgets * (size_t)S * (size_t)nstep;
  PetscFunctionBegin;
  memset(r, 0, sizeof *r);
  r->S = S, r->D = D, r->nbudgets = nbudgets, r->nstep = nstep, r->ncurve = ncurve;
  PetscCall(ardm_alloc(sizeof(int) * (size_t)nbudgets, &r->budgets));
  PetscCall(ardm_alloc(sizeof(int) * nst, &r->starts));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)nbudgets * (size_t)S, &r->nsteps));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)nbudgets, &r->expected_bpd));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)nbudgets, &r->naive_bpd));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)ncurve, &r->curve_bpd));
  for (size_t i = 0; i < nst; i++) r->starts[i] = -1;
  PetscFunctionReturn(0);
}

void planner_result_free(planner_result *r)
{
  ardm_free(&r->budgets);
  ardm_free(&r->starts);
  ardm_free(&r->nsteps);
  ardm_free(&r->expected_bpd);
  ardm_free(&r->naive_bpd);
  ardm_free(&r->curve_bpd);
}

/* Plans stage s for the per-stage budgets sb[nb] into r (starts, nsteps, expected_bpd) and adds
   its curve (ncurve entries, may be 0) to scurve. */
static PetscErrorCode run_stage(const planner_options *o, const double *l, int s, const int *sb, int ncurve,
                                double *scurve, planner_result *r)
{
  int64_t D = r->D;
  int     nb = r->nbudgets, ld = r->nstep;
  int    *st, *ns;
  double *cost;

  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(int) * (size_t)nb * (size_t)ld, &st));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)nb, &ns));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)nb, &cost));
  PetscCall(planner_solve(D, l, nb, sb, ld, st, ns, cost, ncurve, scurve, o->mem_limit));
  for (int b = 0; b < nb; b++) {
    memcpy(r->starts + ((size_t)b * (size_t)r->S + (size_t)s) * (size_t)ld, st + (size_t)b * (size_t)ld,
           sizeof(int) * (size_t)ld);
    r->nsteps[(size_t)b * (size_t)r->S + (size_t)s] = ns[b];
    r->expected_bpd[b] += cost[b] / (double)D;
  }
  ardm_free(&st);
  ardm_free(&ns);
  ardm_free(&cost);
  PetscFunctionReturn(0);
}

/* Adds the naive baseline of stage s: evenly spaced plans, the budget split as evenly as
   possible (all of it per stage with PLANNER_EQUAL). */
static PetscErrorCode add_naive(const planner_options *o, const double *l, int s, planner_result *r)
{
  int *p;
  PetscFunctionBegin;
  PetscCall(ardm_alloc(sizeof(int) * (size_t)r->nstep, &p));
  for (int b = 0; b < r->nbudgets; b++) {
    int B = r->budgets[b], n = o->allocate == PLANNER_EQUAL ? B : B / r->S + (s < B % r->S);
    if (n > r->D) n = (int)r->D;
    planner_even_plan(r->D, n, p);
    r->naive_bpd[b] += planner_plan_cost(r->D, l, n, p) / (double)r->D;
  }
  ardm_free(&p);
  PetscFunctionReturn(0);
}

static PetscErrorCode run_equal(const planner_options *o, const double *loss, const int64_t *count, double *l,
                                double *scurve, planner_result *r)
{
  int64_t D = r->D;
  PetscFunctionBegin;
  for (int s = 0; s < r->S; s++) {
    PetscCall(
        planner_preprocess(o->monotone, D, loss + (size_t)s * (size_t)D, count + (size_t)s * (size_t)D, o->penalty, l));
    PetscCall(run_stage(o, l, s, r->budgets, r->ncurve, scurve, r));
    for (int n = 0; n < r->ncurve; n++) r->curve_bpd[n] += scurve[n] / (double)D;
    PetscCall(add_naive(o, l, s, r));
  }
  PetscFunctionReturn(0);
}

/* Optimal split: pass 1 computes every stage's cost curve up to amax steps, the allocation DP
   splits each total, pass 2 plans each stage for its shares. */
static PetscErrorCode run_optimal(const planner_options *o, const double *loss, const int64_t *count, double *l,
                                  planner_result *r)
{
  int64_t D = r->D;
  int     S = r->S, Tmax = r->ncurve, amax, *choice, *alloc, *sb;
  double *curves, *best;

  PetscFunctionBegin;
  for (int b = 0; b < r->nbudgets; b++) Tmax = r->budgets[b] > Tmax ? r->budgets[b] : Tmax;
  amax = Tmax - S + 1 < D ? Tmax - S + 1 : (int)D;
  if (amax < 1) amax = 1;
  PetscCall(ardm_alloc(sizeof(double) * (size_t)S * (size_t)amax, &curves));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(Tmax + 1), &best));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)S * (size_t)(Tmax + 1), &choice));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)S * (size_t)(r->nbudgets + 1), &alloc));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)(r->nbudgets + 1), &sb));
  for (int s = 0; s < S; s++) {
    PetscCall(
        planner_preprocess(o->monotone, D, loss + (size_t)s * (size_t)D, count + (size_t)s * (size_t)D, o->penalty, l));
    PetscCall(planner_solve(D, l, 0, NULL, 0, NULL, NULL, NULL, amax, curves + (size_t)s * (size_t)amax, o->mem_limit));
  }
  PetscCall(planner_allocate_table(S, amax, curves, Tmax, best, choice));
  for (int n = 1; n <= r->ncurve; n++) r->curve_bpd[n - 1] = n >= S ? best[n] / (double)D : NAN;
  for (int b = 0; b < r->nbudgets; b++) planner_allocate_trace(S, Tmax, choice, r->budgets[b], alloc + (size_t)b * S);
  for (int s = 0; s < S; s++) {
    for (int b = 0; b < r->nbudgets; b++) sb[b] = alloc[(size_t)b * S + s];
    PetscCall(
        planner_preprocess(o->monotone, D, loss + (size_t)s * (size_t)D, count + (size_t)s * (size_t)D, o->penalty, l));
    PetscCall(run_stage(o, l, s, sb, 0, NULL, r));
    PetscCall(add_naive(o, l, s, r));
  }
  ardm_free(&curves);
  ardm_free(&best);
  ardm_free(&choice);
  ardm_free(&alloc);
  ardm_free(&sb);
  PetscFunctionReturn(0);
}

PetscErrorCode planner_run(const planner_options *o, int S, int64_t D, const double *loss, const int64_t *count,
                           int nbudgets, const int *budgets, int ncurve, planner_result *r)
{
  int     nstep = 1;
  double *l, *scurve, *filled;

  PetscFunctionBegin;
  for (int b = 0; b < nbudgets; b++) nstep = budgets[b] > nstep ? budgets[b] : nstep;
  for (int b = 0; b < nbudgets; b++)
    PetscCheck(o->allocate == PLANNER_EQUAL ? budgets[b] >= 1 && budgets[b] <= D
                                            : budgets[b] >= S && budgets[b] <= (int64_t)S * D,
               PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "planner: budget %d out of range", budgets[b]);
  PetscCall(planner_result_alloc(S, D, nbudgets, nstep, ncurve, r));
  memcpy(r->budgets, budgets, sizeof(int) * (size_t)nbudgets);
  PetscCall(ardm_alloc(sizeof(double) * (size_t)D, &l));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(ncurve + 1), &scurve));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)D, &filled));
  /* the full-steps value: every dim at its own (filled-in) loss */
  for (int s = 0; s < S; s++) {
    long double sum = 0;
    planner_fill_unobserved(D, loss + (size_t)s * (size_t)D, count + (size_t)s * (size_t)D, o->penalty, filled);
    for (int64_t t = 0; t < D; t++) sum += filled[t];
    r->full_bpd += (double)(sum / D);
  }
  if (o->allocate == PLANNER_EQUAL)
    PetscCall(run_equal(o, loss, count, l, scurve, r));
  else
    PetscCall(run_optimal(o, loss, count, l, r));
  ardm_free(&l);
  ardm_free(&scurve);
  ardm_free(&filled);
  PetscFunctionReturn(0);
}
