/* cmd_eval.c: `ardm eval`: held-out bits/dim of a checkpoint with R (t, order) draws per example
   (independent, or spaced over t with -stratify): the stochastic ELBO of doc/method.md sections 1
   and 3, with EMA weights by default, its standard error, and the loss components of the held-out
   data (what the planner should use). Ranks split the examples; every draw is keyed by (seed,
   draw, example), so the result does not depend on the rank count. Writes eval.nc
   (doc/formats.md). */
#include "io/checkpoint.h"
#include "cmd/commands.h"
#include "io/dataset.h"
#include "ardm/objective.h"
#include "core/opts.h"
#include "core/grid.h"
#include "core/prof.h"
#include "io/plan_file.h"
#include "io/lossfile.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  char      ckpt[PATH_MAX], data[PATH_MAX], out[PATH_MAX], plan[PATH_MAX], weights[16];
  PetscInt  draws, batch, seed, max_examples, model_parallel;
  PetscBool stratify; /* draw r of R in the r-th R-quantile of t (and of the plan's stage x position) */
} eval_options;

static PetscErrorCode process_options(MPI_Comm comm, eval_options *o, PetscBool *help)
{
  static const char *const which[] = {"ema", "params"};
  PetscInt                 w = 0;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->out, sizeof o->out, "eval.nc");
  o->model_parallel = 1;
  o->draws = 32, o->batch = 8, o->seed = 1234, o->max_examples = 0;
  PetscOptionsBegin(comm, NULL, "ardm eval: held-out bits/dim and loss components", "eval");
  PetscCall(PetscOptionsString("-ckpt", "checkpoint to evaluate", "", o->ckpt, o->ckpt, sizeof o->ckpt, NULL));
  PetscCall(PetscOptionsString("-data", "held-out data set", "", o->data, o->data, sizeof o->data, NULL));
  PetscCall(PetscOptionsString("-out", "output file (ardm_kind eval)", "", o->out, o->out, sizeof o->out, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-draws", "independent (t, order) draws per example", &o->draws, 1,
                     PETSC_MAX_INT, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-batch", "examples per network call on each rank", &o->batch, 1,
                     PETSC_MAX_INT, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-seed", "seed of the evaluation draws", &o->seed, 0, PETSC_MAX_INT, NULL));
  PetscCall(PetscOptionsBool("-stratify",
                             "stratified draws: draw r of an example's R draws takes t in the r-th R-quantile of the "
                             "S x D steps (unbiased; far less spread for upscale models, whose stages differ)",
                             "", o->stratify, &o->stratify, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-max_examples", "evaluate only the first N examples (0 = all)",
                     &o->max_examples, 0, PETSC_MAX_INT, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-weights", "which weights of the checkpoint", which, 2, &w, NULL));
  PetscCall(PetscOptionsString("-plan", "plan file: also the parallel NLL bound of every budget in it", "", o->plan,
                               o->plan, sizeof o->plan, NULL));
  PetscCall(grid_options(PetscOptionsObject, &o->model_parallel));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "eval", help));
  snprintf(o->weights, sizeof o->weights, "%s", which[w]);
  PetscCheck(*help || o->ckpt[0], comm, ARDM_ERR_INPUT, "-ckpt FILE is required");
  PetscCheck(*help || o->data[0], comm, ARDM_ERR_INPUT, "-data FILE is required");
  PetscFunctionReturn(0);
}

typedef struct {
  double  sum, sumsq; /* over examples of the per-example mean bits/dim */
  int64_t n;
} mean_acc;

static void mean_se(const mean_acc *a, double *mean, double *se)
{
  double var;
  *mean = a->sum / (double)a->n;
  var = a->n > 1 ? (a->sumsq - a->sum * *mean) / (double)(a->n - 1) : 0;
  *se = sqrt(fmax(var, 0) / (double)a->n);
}

typedef struct {
  MPI_Comm       comm;
  eval_options   o;
  grid           g; /* replicas of -model_parallel ranks (core/grid.h) */
  model_config   mc;
  dataset        ds;
  model          m;
  lossstats      ls;
  float         *w;
  int32_t       *x;
  int64_t       *tg, *sigma, lo, hi; /* this rank's examples lo..hi-1 */
  double        *wt, *logp;
  double        *ex_all; /* [1 + nbudgets][hi - lo]: per example, the full-steps ELBO, then each budget's bound */
  planner_result plans;
} evaluator;

/* Stage, plan step and the estimate's weight for the parallel NLL bound (doc/method.md (2.4)):
   a stage uniformly and a plan step i with probability (p_{i+1} - p_i) / D (the step holding a
   uniform u in 0..D-1), t = p_i, weight S / (D - p_i) on the bits of all D - t remaining
   targets, so its expectation is the plan's NLL. Picking steps by their length rather than
   uniformly makes every draw an average per-target cost: when the per-target cost is flat over
   t the estimate has no variance from the choice of step at all. */
static double plan_draw(const evaluator *ev, int bi, int64_t r, int64_t e, int64_t *tg)
{
  const int64_t D = ev->mc.D;
  rng_stream    st;
  int           s, n, i = 0;
  const int    *p;
  int64_t       u;
  if (ev->o.stratify) { /* (stage, position) uniform in the r-th R-quantile of the S x D cells */
    int64_t v = objective_draw_t((uint64_t)ev->o.seed, e, r, ev->o.draws, ev->mc.S * D, PETSC_TRUE, RNG_EVAL_PLAN);
    s = (int)(v / D);
    u = v % D;
  } else {
    rng_init(&st, (uint64_t)ev->o.seed, (uint64_t)r, (uint64_t)e, RNG_EVAL_PLAN);
    s = (int)rng_below(&st, (uint64_t)ev->mc.S);
    u = (int64_t)rng_below(&st, (uint64_t)D);
  }
  n = ev->plans.nsteps[bi * ev->plans.S + s];
  p = plan_starts(&ev->plans, bi, s);
  while (i + 1 < n && p[i + 1] <= u) i++; /* p_0 = 0 and the starts increase */
  *tg = s * D + p[i];
  return (double)ev->mc.S / ((double)(D - p[i]) * M_LN2);
}

/* One pass over this rank's (example, draw) pairs, B per network call (every rank makes the
   same number of calls so the collective reads line up). bi < 0: the full-steps ELBO (and the
   loss components); else the parallel bound of budget index bi. */
static PetscErrorCode eval_pass(evaluator *ev, int bi, mean_acc *acc)
{
  const int64_t D = ev->mc.D, B = ev->o.batch, R = ev->o.draws;
  int64_t       pairs = (ev->hi - ev->lo) * R, most = pairs, idx[64];
  double        wb[64], *ex_sum = ev->ex_all + (bi + 1) * (ev->hi - ev->lo); /* this pass's per-example values */
  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &most, 1, MPI_INT64_T, MPI_MAX, ev->comm));
  PetscCall(PetscArrayzero(ex_sum, ev->hi - ev->lo));
  for (int64_t p0 = 0; p0 < most; p0 += B) {
    int64_t nb = PetscMax(0, PetscMin(B, pairs - p0));
    for (int64_t b = 0; b < nb; b++) {
      int64_t e = ev->lo + (p0 + b) / R, r = (p0 + b) % R;
      idx[b] = e;
      if (bi < 0) {
        /* stratified: one uniform per example (keyed by it) spaces its R draws over the S x D
           steps; else one independent draw per (draw, example) */
        ev->tg[b] = ev->o.stratify
                        ? objective_draw_t((uint64_t)ev->o.seed, e, r, R, ev->mc.S * D, PETSC_TRUE, RNG_EVAL)
                        : objective_draw_t((uint64_t)ev->o.seed, r, e, 1, ev->mc.S * D, PETSC_FALSE, RNG_EVAL);
        wb[b] = objective_bpd_weight(ev->mc.S, D, ev->tg[b] % D);
      } else
        wb[b] = plan_draw(ev, bi, r, e, &ev->tg[b]);
      objective_draw_order((uint64_t)ev->o.seed, r, e, D, RNG_EVAL_ORDER, ev->sigma + b * D);
      ev->wt[b] = 0;
    }
    PROF_BEGIN(PROF_IO_READ);
    PetscCall(dataset_read_list(&ev->ds, idx, nb, ev->x, NULL));
    PROF_END(PROF_IO_READ);
    PetscCall(model_loss(ev->m, ev->w, NULL, nb, ev->x, ev->tg, ev->sigma, ev->wt, ev->logp));
    for (int64_t b = 0; b < nb; b++) {
      double bpd = -ev->logp[b] * wb[b];
      if (ev->g.part) continue; /* the replica's ranks have the same logp: part 0 counts it */
      ex_sum[idx[b] - ev->lo] += bpd / (double)R;
      if (bi < 0) lossstats_add(&ev->ls, ev->tg[b] / D, ev->tg[b] % D, bpd / (double)ev->mc.S);
    }
  }
  *acc = (mean_acc){0, 0, ev->g.part ? 0 : ev->hi - ev->lo};
  for (int64_t e = 0; e < ev->hi - ev->lo; e++) acc->sum += ex_sum[e], acc->sumsq += ex_sum[e] * ex_sum[e];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &acc->sum, 2, MPI_DOUBLE, MPI_SUM, ev->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &acc->n, 1, MPI_INT64_T, MPI_SUM, ev->comm));
  PetscFunctionReturn(0);
}

/* example_bpd[example] and example_budget_bpd[budget][example]: each replica's first rank writes
   its examples lo..hi-1 (collective; the other ranks of a replica hold the same values). */
static PetscErrorCode write_examples(evaluator *ev, ncio_file *f, int vex, int vexb, int nb)
{
  const int64_t m = ev->hi - ev->lo;
  size_t        st[2] = {0, (size_t)ev->lo}, ct[2] = {1, ev->g.part ? 0 : (size_t)m};
  PetscFunctionBegin;
  PetscCall(ncio_collective(f, vex));
  NCCall(f, nc_put_vara_double(f->ncid, vex, st + 1, ct + 1, ev->ex_all));
  if (nb) PetscCall(ncio_collective(f, vexb));
  for (int b = 0; b < nb; b++) {
    st[0] = (size_t)b;
    NCCall(f, nc_put_vara_double(f->ncid, vexb, st, ct, ev->ex_all + (b + 1) * m));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode write_eval(evaluator *ev, const mean_acc *full, const mean_acc *bud)
{
  ncio_file f;
  int vb, vse, vd, dim, vbud = 0, vbb = 0, vbse = 0, vexp = 0, vcoord = 0, nb = ev->o.plan[0] ? ev->plans.nbudgets : 0;
  int d = (int)ev->o.draws, edim, vecoord, vex, vexb = 0;
  double mean, se;
  PetscFunctionBegin;
  PetscCall(ncio_create(ev->comm, ev->o.out, "eval", &f));
  PetscCall(ncio_def_var(&f, "bpd", NC_DOUBLE, 0, NULL, &vb));
  PetscCall(ncio_def_var(&f, "bpd_stderr", NC_DOUBLE, 0, NULL, &vse));
  PetscCall(ncio_def_var(&f, "draws", NC_INT, 0, NULL, &vd));
  PetscCall(ncio_put_cf(&f, vb, "held-out negative ELBO, all D steps", ncio_bpd_units()));
  PetscCall(ncio_put_cf(&f, vse, "standard error of bpd across examples", ncio_bpd_units()));
  PetscCall(ncio_put_cf(&f, vd, "(t, order) draws per example", "1"));
  PetscCall(ncio_put_att_int(&f, vd, "stratified", ev->o.stratify ? 1 : 0)); /* -stratify */
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "examples", full->n));
  /* per example (mean over the draws): a comparison with another model or codec on the same
     examples can be paired, which removes the example-to-example spread from its error */
  PetscCall(ncio_def_dim(&f, "example", (size_t)full->n, &edim));
  PetscCall(ncio_def_coord(&f, "example", edim, "example: index in the data set", &vecoord));
  PetscCall(ncio_def_var(&f, "example_bpd", NC_DOUBLE, 1, &edim, &vex));
  PetscCall(ncio_put_cf(&f, vex, "held-out negative ELBO of each example, mean over its draws", ncio_bpd_units()));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "checkpoint", ev->o.ckpt));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "data", ev->o.data));
  if (nb) {
    PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "plan", ev->o.plan));
    PetscCall(ncio_def_dim(&f, "budget", (size_t)nb, &dim));
    PetscCall(ncio_def_coord(&f, "budget", dim, "budget: network calls", &vcoord));
    PetscCall(ncio_def_var(&f, "budgets", NC_INT, 1, &dim, &vbud));
    PetscCall(ncio_def_var(&f, "budget_bpd", NC_DOUBLE, 1, &dim, &vbb));
    PetscCall(ncio_def_var(&f, "budget_bpd_stderr", NC_DOUBLE, 1, &dim, &vbse));
    PetscCall(ncio_def_var(&f, "planner_expected_bpd", NC_DOUBLE, 1, &dim, &vexp));
    PetscCall(ncio_put_cf(&f, vbud, "budget: network calls", "1"));
    PetscCall(ncio_put_cf(&f, vbb, "parallel NLL bound of the plan", ncio_bpd_units()));
    PetscCall(ncio_put_cf(&f, vbse, "standard error of budget_bpd across examples", ncio_bpd_units()));
    PetscCall(ncio_put_cf(&f, vexp, "planner's expected cost of the plan", ncio_bpd_units()));
    PetscCall(ncio_def_var(&f, "example_budget_bpd", NC_DOUBLE, 2, (int[]){dim, edim}, &vexb));
    PetscCall(ncio_put_cf(&f, vexb, "parallel NLL bound of the plan for each example, mean over its draws",
                          ncio_bpd_units()));
  }
  PetscCall(lossstats_write(&ev->ls, &f)); /* ends define mode and writes the loss components */
  if (nb) PetscCall(ncio_put_coord(&f, vcoord, (size_t)nb, 0, ev->plans.budgets));
  PetscCall(ncio_put_coord(&f, vecoord, (size_t)full->n, 0, NULL));
  PetscCall(write_examples(ev, &f, vex, vexb, nb));
  mean_se(full, &mean, &se);
  NCCall(&f, nc_put_var_double(f.ncid, vb, &mean));
  NCCall(&f, nc_put_var_double(f.ncid, vse, &se));
  NCCall(&f, nc_put_var_int(f.ncid, vd, &d));
  PetscCall(PetscPrintf(ev->comm, "ardm eval: %lld examples x %lld draws: %.5f +- %.5f bits/dim (full-steps ELBO)\n",
                        (long long)full->n, (long long)ev->o.draws, mean, se));
  for (int b = 0; b < nb; b++) {
    double m2, s2;
    size_t i = (size_t)b;
    mean_se(&bud[b], &m2, &s2);
    NCCall(&f, nc_put_var1_int(f.ncid, vbud, &i, &ev->plans.budgets[b]));
    NCCall(&f, nc_put_var1_double(f.ncid, vbb, &i, &m2));
    NCCall(&f, nc_put_var1_double(f.ncid, vbse, &i, &s2));
    NCCall(&f, nc_put_var1_double(f.ncid, vexp, &i, &ev->plans.expected_bpd[b]));
    PetscCall(PetscPrintf(ev->comm, "  budget %5d: %.5f +- %.5f bits/dim (planner expected %.5f)\n",
                          ev->plans.budgets[b], m2, s2, ev->plans.expected_bpd[b]));
  }
  PetscCall(ncio_commit(&f));
  PetscCall(PetscPrintf(ev->comm, "ardm eval: wrote %s\n", ev->o.out));
  PetscFunctionReturn(0);
}

static PetscErrorCode evaluator_setup(evaluator *ev)
{
  PetscMPIInt rank, size;
  int64_t     D, B = ev->o.batch, n;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(ev->comm, &rank));
  PetscCallMPI(MPI_Comm_size(ev->comm, &size));
  PetscCheck(B <= 64, ev->comm, ARDM_ERR_INPUT, "-batch %lld: at most 64", (long long)B);
  PetscCall(ncio_set_parent(ev->comm, ev->o.ckpt));
  PetscCall(grid_init(ev->comm, ev->o.model_parallel, &ev->g));
  PetscCall(ckpt_load_model(ev->comm, ev->o.ckpt, ev->o.weights, B, ev->g.replica_comm, &ev->mc, &ev->m, &ev->w));
  ncio_set_modality(ev->mc.modality);
  PetscCall(dataset_open(ev->comm, ev->o.data, &ev->ds));
  PetscCall(dataset_expect(&ev->ds, ev->mc.K, ev->mc.D));
  if (ev->o.plan[0]) {
    PetscCall(plan_file_read(ev->comm, ev->o.plan, &ev->plans));
    PetscCheck(ev->plans.D == ev->mc.D && ev->plans.S == ev->mc.S, ev->comm, ARDM_ERR_INPUT,
               "%s: plans %d stage(s) of D = %lld, but the checkpoint %s has %d stage(s) of D = %lld", ev->o.plan,
               ev->plans.S, (long long)ev->plans.D, ev->o.ckpt, ev->mc.S, (long long)ev->mc.D);
  }
  D = ev->mc.D;
  n = ev->o.max_examples ? PetscMin(ev->o.max_examples, ev->ds.n) : ev->ds.n;
  /* the replicas split the examples; the ranks of one replica evaluate the same ones */
  ev->lo = n * ev->g.replica / ev->g.R, ev->hi = n * (ev->g.replica + 1) / ev->g.R;
  (void)size;
  PetscCall(lossstats_init(ev->mc.S, D, rank, &ev->ls));
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(B * D), &ev->x));
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)(B * (D + 1)), &ev->tg));
  ev->sigma = ev->tg + B;
  {
    const int64_t m = ev->hi - ev->lo, passes = 1 + (ev->o.plan[0] ? ev->plans.nbudgets : 0);
    PetscCall(ardm_alloc(sizeof(double) * (size_t)(2 * B + passes * m + 1), &ev->wt));
    ev->logp = ev->wt + B, ev->ex_all = ev->logp + B;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_eval(int npos, char **pos)
{
  evaluator ev;
  PetscBool help;
  mean_acc  full, *bud = NULL;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(&ev, sizeof ev));
  ev.comm = PETSC_COMM_WORLD;
  PetscCall(process_options(ev.comm, &ev.o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos == 0, ev.comm, ARDM_ERR_INPUT, "unexpected argument '%s' (options start with -)", pos[0]);
  PetscCall(prof_stage_push(PROF_STAGE_SETUP));
  PetscCall(evaluator_setup(&ev));
  PetscCall(prof_stage_pop());
  PetscCall(prof_stage_push(PROF_STAGE_EVAL));
  PetscCall(eval_pass(&ev, -1, &full));
  PetscCall(lossstats_reduce(&ev.ls, ev.comm));
  if (ev.o.plan[0]) {
    PetscCall(PetscCalloc1(ev.plans.nbudgets, &bud));
    for (int b = 0; b < ev.plans.nbudgets; b++) PetscCall(eval_pass(&ev, b, &bud[b]));
  }
  PROF_BEGIN(PROF_IO_WRITE);
  PetscCall(write_eval(&ev, &full, bud));
  PROF_END(PROF_IO_WRITE);
  PetscCall(prof_stage_pop());
  PetscCall(PetscFree(bud));
  if (ev.o.plan[0]) planner_result_free(&ev.plans);
  ardm_free(&ev.x), ardm_free(&ev.tg), ardm_free(&ev.wt), ardm_free(&ev.w);
  PetscCall(lossstats_free(&ev.ls));
  PetscCall(model_destroy(&ev.m));
  PetscCall(dataset_close(&ev.ds));
  PetscCall(grid_free(&ev.g));
  PetscFunctionReturn(0);
}
