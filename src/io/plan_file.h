/* plan_file.h: the planner's files and its MPI side: reading loss components (a
   loss_components or eval file), planning on rank 0 and broadcasting the plans, writing and
   reading plan.nc (doc/formats.md "Plan") and describing it for `ardm info`.
   plan.nc: dims budget, stage, step (= the largest budget), n (= 1..curve max); variables
   budgets(budget) int, starts(budget, stage, step) int (-1 after each plan's end),
   expected_bpd(budget) double, curve_bpd(n) double (NaN where no plan exists: n < stages with
   -allocate optimal); extensions nsteps(budget, stage) int and naive_bpd(budget) double (evenly
   spaced plans, same budget); global attributes D, stages, monotone, allocate, full_bpd,
   loss_file, loss_variable, and penalty when one was given. */
#ifndef ARDM_PLAN_FILE_H
#define ARDM_PLAN_FILE_H
#include "core/ncio.h"
#include "ardm/planner.h"

/* Loss components: S and D on every rank; loss and count on rank 0 only (NULL elsewhere). */
typedef struct {
  int      S;
  int64_t  D;
  double  *loss;  /* [S][D] */
  int64_t *count; /* [S][D] */
} plan_losses;

/* Collective. Opens path (ardm_kind "loss_components" or "eval"), checks the variables
   var(stage, t) (double; "loss" or e.g. "loss_ema") and count(stage, t) (integer), reads them on
   rank 0 and validates them (planner_check_loss with this penalty); every problem is an input
   error on all ranks naming the file. */
PetscErrorCode plan_losses_read(MPI_Comm comm, const char *path, const char *var, double penalty, plan_losses *ls);
void           plan_losses_free(plan_losses *ls);

/* Collective: rank 0 runs planner_run on ls, every rank receives the result in r (free with
   planner_result_free). Budgets must be valid for o->allocate (see planner_result). */
PetscErrorCode planner_plan_bcast(MPI_Comm comm, const planner_options *o, const plan_losses *ls, int nbudgets,
                                  const int *budgets, int ncurve, planner_result *r);

/* Collective: writes r to path (temporary name, then rename); loss_path and var are recorded. */
PetscErrorCode plan_file_write(MPI_Comm comm, const char *path, const planner_options *o, const char *loss_path,
                               const char *var, const planner_result *r);
/* Collective: every rank reads and validates a plan file (kind "plan", the contract's
   variables, every plan valid for D). expected_bpd/naive_bpd/curve are read too (naive_bpd NaN
   when absent). */
PetscErrorCode plan_file_read(MPI_Comm comm, const char *path, planner_result *r);
/* Index of budget in r->budgets, or -1. */
int plan_find_budget(const planner_result *r, int budget);
/* Start indices of stage s's plan for budget index b (r->nsteps[b*S + s] of them). */
const int *plan_starts(const planner_result *r, int b, int s);

/* Collective over f->comm, prints on rank 0: for an open plan file, each plan's step sizes and
   expected bits/dim next to the naive evenly spaced plan, and the cost curve (for `ardm info`). */
PetscErrorCode planner_describe_file(ncio_file *f);
#endif
