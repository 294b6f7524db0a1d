/* train_plan.c: plans written by the training job at every checkpoint (see train_plan.h):
   rank 0's cumulative per-step losses -> the planner -> RUN/plan-<step>.nc, RUN/plan.nc. */
#include "cmd/train_plan.h"
#include "io/plan_file.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

PetscErrorCode train_plan_options(PetscOptionItems *PetscOptionsObject, train_plan *p)
{
  PetscBool set;
  PetscFunctionBegin;
  p->n = TRAIN_PLAN_MAX_BUDGETS;
  PetscCall(opts_int_array(PetscOptionsObject, "-plan_budgets",
                           "at every checkpoint plan for these budgets (network calls per stage) on the training "
                           "loss statistics: OUT/plan.nc (none by default)",
                           p->budgets, &p->n, 1, PETSC_MAX_INT, &set));
  if (!set) p->n = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode train_plan_check(MPI_Comm comm, const train_plan *p, int64_t D)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < p->n; i++) {
    PetscCheck(p->budgets[i] >= 1 && p->budgets[i] <= D && p->budgets[i] < INT32_MAX, comm, ARDM_ERR_INPUT,
               "-plan_budgets: %lld is out of range: expected 1..%lld network calls per stage (D = %lld)",
               (long long)p->budgets[i], (long long)D, (long long)D);
    for (PetscInt j = 0; j < i; j++)
      PetscCheck(p->budgets[j] != p->budgets[i], comm, ARDM_ERR_INPUT, "-plan_budgets: %lld is given twice",
                 (long long)p->budgets[i]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode train_plan_write(MPI_Comm comm, const char *run_dir, const train_plan *p, const lossstats *ls,
                                int64_t step)
{
  PetscMPIInt     rank;
  planner_options po = {PLANNER_SORT, PLANNER_EQUAL, NAN, PLANNER_DEFAULT_MEM};
  plan_losses     pl = {(int)ls->S, ls->D, NULL, NULL};
  planner_result  r;
  char            path[PATH_MAX], latest[PATH_MAX], tmp[PATH_MAX + 16], src[PATH_MAX], msg[256] = "";
  int             budgets[TRAIN_PLAN_MAX_BUDGETS], ok = 1, err = 0, max = 0;

  PetscFunctionBegin;
  if (!p->n) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  for (PetscInt i = 0; i < p->n; i++) budgets[i] = (int)p->budgets[i], max = PetscMax(max, budgets[i]);
  if (rank == 0) { /* the cumulative means, exactly what the checkpoint's statistics give */
    size_t n = (size_t)(ls->S * ls->D);
    PetscCall(ardm_alloc(n * sizeof(double), &pl.loss));
    PetscCall(ardm_alloc(n * sizeof(int64_t), &pl.count));
    for (size_t i = 0; i < n; i++)
      pl.count[i] = ls->count[i], pl.loss[i] = ls->count[i] ? ls->sum[i] / (double)ls->count[i] : 0;
    ok = planner_check_loss(pl.S, pl.D, pl.loss, pl.count, po.penalty, msg, sizeof msg);
  }
  PetscCallMPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  if (!ok) {
    PetscCall(PetscPrintf(comm, "ardm train: no plan at step %lld yet: %s\n", (long long)step, msg));
    plan_losses_free(&pl);
    PetscFunctionReturn(0);
  }
  PetscCall(planner_plan_bcast(comm, &po, &pl, (int)p->n, budgets, max, &r));
  snprintf(path, sizeof path, "%s/plan-%08lld.nc", run_dir, (long long)step);
  snprintf(latest, sizeof latest, "%s/plan.nc", run_dir);
  snprintf(src, sizeof src, "%s/ckpt-%08lld.nc", run_dir, (long long)step);
  PetscCall(plan_file_write(comm, path, &po, src, "stats_sum / stats_count", &r));
  if (rank == 0) { /* plan.nc switches to the new plan atomically: link under a temporary name, rename */
    snprintf(tmp, sizeof tmp, "%s.lnk", latest);
    (void)unlink(tmp);
    if (link(path, tmp) || rename(tmp, latest)) err = errno;
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, comm));
  PetscCheck(!err, comm, ARDM_ERR_INPUT, "%s: cannot point it at %s (%s)", latest, path, strerror(err));
  PetscCall(PetscPrintf(comm, "ardm train: step %lld plan (training statistics):", (long long)step));
  for (int b = 0; b < r.nbudgets; b++)
    PetscCall(PetscPrintf(comm, " budget %d %.4f%s", r.budgets[b], r.expected_bpd[b], b + 1 < r.nbudgets ? "," : ""));
  PetscCall(PetscPrintf(comm, " %s (all D steps %.4f); wrote %s\n", ncio_bpd_units(), r.full_bpd, latest));
  planner_result_free(&r);
  plan_losses_free(&pl);
  PetscFunctionReturn(0);
}
