/* train_plan.h: `ardm train -plan_budgets`: the training job plans as it goes. At every
   checkpoint rank 0 solves the planner (doc/method.md section 2) on the loss statistics saved in
   that checkpoint and writes RUN/plan-<step>.nc, then points RUN/plan.nc at it atomically, so a
   preempted or running job always has a current plan for sampling and the report can show how
   the plan changed during training. */
#ifndef ARDM_TRAIN_PLAN_H
#define ARDM_TRAIN_PLAN_H
#include "ardm/lossstats.h"
#include "core/opts.h"

#define TRAIN_PLAN_MAX_BUDGETS 64

typedef struct {
  PetscInt budgets[TRAIN_PLAN_MAX_BUDGETS], n; /* n = 0: no planning */
} train_plan;

/* The -plan_budgets option (inside the command's PetscOptionsBegin/End). */
PetscErrorCode train_plan_options(PetscOptionItems *PetscOptionsObject, train_plan *p);
/* Checks the budgets against D (network calls per stage, 1..D); an input error naming
   -plan_budgets otherwise. Collective. */
PetscErrorCode train_plan_check(MPI_Comm comm, const train_plan *p, int64_t D);
/* After the checkpoint of `step` was written from rank 0's statistics ls: plans and writes
   RUN/plan-<step>.nc and RUN/plan.nc. When a stage has no observation yet, says so and writes
   nothing. Collective. */
PetscErrorCode train_plan_write(MPI_Comm comm, const char *run_dir, const train_plan *p, const lossstats *ls,
                                int64_t step);
#endif
