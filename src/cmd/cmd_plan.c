/* cmd_plan.c: `ardm plan`: loss components (loss_t.nc from training, or eval.nc) -> plan.nc
   with the exact optimal plan for each requested budget and the optimal cost curve
   (doc/method.md section 2; planner.h has the algorithm, plan_file.h the files). Rank 0 plans,
   every rank takes part in the collective reads and writes. */
#include "cmd/commands.h"
#include "core/opts.h"
#include "io/plan_file.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PLAN_MAX_BUDGETS 1024

typedef struct {
  char            loss[PATH_MAX], out[PATH_MAX], var[NC_MAX_NAME + 1];
  PetscInt        budgets[PLAN_MAX_BUDGETS], nbudgets, curve_max;
  PetscBool       budgets_set;
  planner_options po;
} plan_opts;

static PetscErrorCode plan_options(MPI_Comm comm, plan_opts *o, PetscBool *help_only)
{
  PetscInt  mono = PLANNER_SORT, alloc = PLANNER_EQUAL, mem_mb = (PetscInt)(PLANNER_DEFAULT_MEM >> 20);
  PetscReal penalty = -1;

  PetscFunctionBegin;
  memset(o, 0, sizeof *o);
  snprintf(o->out, sizeof o->out, "plan.nc");
  snprintf(o->var, sizeof o->var, "loss");
  o->nbudgets = PLAN_MAX_BUDGETS;
  PetscOptionsBegin(comm, NULL, "ardm plan: loss components -> exact optimal generation plans and the cost curve",
                    NULL);
  PetscCall(PetscOptionsString("-loss",
                               "loss components: a loss_components file (loss_t.nc) or an eval file "
                               "(required)",
                               NULL, o->loss, o->loss, sizeof o->loss, NULL));
  PetscCall(PetscOptionsString("-out", "output plan file", NULL, o->out, o->out, sizeof o->out, NULL));
  PetscCall(opts_int_array(PetscOptionsObject, "-budgets",
                           "budgets (network calls): per stage with -allocate equal (1..D), in "
                           "total with -allocate optimal (stages..stages*D); default 20,50,100 where valid",
                           o->budgets, &o->nbudgets, -(int64_t)PETSC_MAX_INT, PETSC_MAX_INT, &o->budgets_set));
  PetscCall(opts_int(PetscOptionsObject, "-curve_max", "curve_bpd for budgets 1..N (0: the largest budget)",
                     &o->curve_max, 0, PETSC_MAX_INT, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-monotone",
                        "preprocessing of each stage's losses: sort (descending, as the "
                        "reference), isotonic (non-increasing fit weighted by count) or none (raw; Li Chao tree)",
                        planner_monotone_names, 3, &mono, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-allocate",
                        "budget across upscale stages: equal (the same per stage, as the paper) or "
                        "optimal (a total split to minimise the summed cost)",
                        planner_allocate_names, 2, &alloc, NULL));
  PetscCall(opts_real(PetscOptionsObject, "-penalty",
                      "loss (bits) for steps never observed (count 0); -1: the nearest observed "
                      "value before them",
                      &penalty, "[-1,1e6]", NULL));
  PetscCall(PetscOptionsString("-loss_variable",
                               "variable of the loss file to plan on (loss; loss_ema is the "
                               "reference's moving average)",
                               NULL, o->var, o->var, sizeof o->var, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-memory_mb",
                     "memory for keeping every round's back-pointers; above it rounds are "
                     "recomputed from checkpoints (1..1048576)",
                     &mem_mb, 1, 1 << 20, NULL));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "plan", help_only));
  if (!o->budgets_set) o->nbudgets = 0;
  o->po.monotone = (planner_monotone)mono;
  o->po.allocate = (planner_allocate)alloc;
  o->po.penalty = penalty == -1 ? NAN : penalty;
  o->po.mem_limit = (size_t)mem_mb << 20;
  if (*help_only) PetscFunctionReturn(0);
  PetscCheck(penalty == -1 || (isfinite(penalty) && penalty >= 0), comm, ARDM_ERR_INPUT,
             "-penalty %g: expected a finite value >= 0 (bits), or -1 for the nearest observed value", (double)penalty);
  PetscCheck(o->loss[0], comm, ARDM_ERR_INPUT,
             "-loss FILE is required: a loss_components file (loss_t.nc from training) or an eval file");
  PetscFunctionReturn(0);
}

/* Budgets and curve length against D and the stages (every rank has S and D). */
static PetscErrorCode plan_check_budgets(MPI_Comm comm, plan_opts *o, int S, int64_t D)
{
  const int64_t lo = o->po.allocate == PLANNER_EQUAL ? 1 : S;
  const int64_t hi = o->po.allocate == PLANNER_EQUAL ? D : (int64_t)S * D;
  const char   *what = o->po.allocate == PLANNER_EQUAL ? "per stage" : "in total over the stages";
  PetscInt      max = 0;

  PetscFunctionBegin;
  if (!o->budgets_set) { /* defaults: 20, 50, 100 where valid, else the largest valid budget */
    const PetscInt def[3] = {20, 50, 100};
    for (int i = 0; i < 3; i++)
      if (def[i] >= lo && def[i] <= hi) o->budgets[o->nbudgets++] = def[i];
    if (!o->nbudgets) o->budgets[o->nbudgets++] = (PetscInt)(hi < INT32_MAX ? hi : INT32_MAX);
  }
  PetscCheck(o->nbudgets >= 1, comm, ARDM_ERR_INPUT, "-budgets: expected at least one budget");
  for (PetscInt i = 0; i < o->nbudgets; i++) {
    PetscCheck(o->budgets[i] >= lo && o->budgets[i] <= hi &&
                       o->budgets[i]<INT32_MAX, comm, ARDM_ERR_INPUT,
                                     "-budgets: %d is out of range: expected %lld..%lld network calls %s (D = %lld, %d "
                                     "stage%s, -allocate "
                                     "%s)",
                                     (int)o->budgets[i], (long long)lo, (long long)hi, what, (long long)D, S, S> 1
                   ? "s"
                   : "",
               planner_allocate_names[o->po.allocate]);
    for (PetscInt j = 0; j < i; j++)
      PetscCheck(o->budgets[j] != o->budgets[i], comm, ARDM_ERR_INPUT, "-budgets: %d is given twice",
                 (int)o->budgets[i]);
    max = o->budgets[i] > max ? o->budgets[i] : max;
  }
  if (o->curve_max == 0) o->curve_max = max;
  PetscCheck(o->curve_max >= 1 && o->curve_max <= hi, comm, ARDM_ERR_INPUT,
             "-curve_max %d: expected 1..%lld (network calls %s), or 0 for the largest budget", (int)o->curve_max,
             (long long)hi, what);
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_plan(int npos, char **pos)
{
  MPI_Comm       comm = PETSC_COMM_WORLD;
  plan_opts      o;
  plan_losses    ls;
  planner_result r;
  PetscBool      help_only;
  int            budgets[PLAN_MAX_BUDGETS];
  double         t0;

  PetscFunctionBegin;
  PetscCall(plan_options(comm, &o, &help_only));
  if (help_only) PetscFunctionReturn(0);
  PetscCheck(npos == 0, comm, ARDM_ERR_INPUT, "unexpected argument '%s' (give the loss file with -loss FILE)",
             npos ? pos[0] : "");
  PetscCall(ncio_set_parent(comm, o.loss));
  PetscCall(plan_losses_read(comm, o.loss, o.var, o.po.penalty, &ls));
  PetscCall(plan_check_budgets(comm, &o, ls.S, ls.D));
  for (PetscInt i = 0; i < o.nbudgets; i++) budgets[i] = (int)o.budgets[i];
  t0 = MPI_Wtime();
  PetscCall(planner_plan_bcast(comm, &o.po, &ls, (int)o.nbudgets, budgets, (int)o.curve_max, &r));
  t0 = MPI_Wtime() - t0;
  PetscCall(plan_file_write(comm, o.out, &o.po, o.loss, o.var, &r));
  PetscCall(PetscPrintf(comm,
                        "ardm plan: D = %lld, %d stage%s, monotone %s, allocate %s: planned in %.3f s; all D "
                        "steps %.5f bits/dim\n",
                        (long long)ls.D, ls.S, ls.S > 1 ? "s" : "", planner_monotone_names[o.po.monotone],
                        planner_allocate_names[o.po.allocate], t0, r.full_bpd));
  for (int b = 0; b < r.nbudgets; b++)
    PetscCall(PetscPrintf(comm, "  budget %d: %.5f bits/dim (naive evenly spaced %.5f)\n", r.budgets[b],
                          r.expected_bpd[b], r.naive_bpd[b]));
  PetscCall(PetscPrintf(comm, "wrote %s\n", o.out));
  planner_result_free(&r);
  plan_losses_free(&ls);
  PetscFunctionReturn(0);
}
