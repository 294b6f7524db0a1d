/* eval.c: `ardm eval`: held-out bits/dim of a checkpoint with R independent (t, order) draws
   per example (the stochastic ELBO of ARDM.md sections 1 and 3, with EMA weights by default),
   its standard error, and the loss components of the held-out data (what the planner should
   use). Ranks split the examples; every draw is keyed by (seed, draw, example), so the result
   does not depend on the rank count. Writes eval.nc (DESIGN.md contract). */
#include "checkpoint.h"
#include "commands.h"
#include "dataset.h"
#include "objective.h"
#include "opts.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  char     ckpt[PATH_MAX], data[PATH_MAX], out[PATH_MAX], weights[16];
  PetscInt draws, batch, seed, max_examples;
} eval_options;

static PetscErrorCode process_options(MPI_Comm comm, eval_options *o, PetscBool *help)
{
  static const char *const which[] = {"ema", "params"};
  PetscInt                 w = 0;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->out, sizeof o->out, "eval.nc");
  o->draws = 32, o->batch = 8, o->seed = 1234, o->max_examples = 0;
  PetscOptionsBegin(comm, NULL, "ardm eval: held-out bits/dim and loss components", "eval");
  PetscCall(PetscOptionsString("-ckpt", "checkpoint to evaluate", "", o->ckpt, o->ckpt, sizeof o->ckpt, NULL));
  PetscCall(PetscOptionsString("-data", "held-out data set", "", o->data, o->data, sizeof o->data, NULL));
  PetscCall(PetscOptionsString("-out", "output file (ardm_kind eval)", "", o->out, o->out, sizeof o->out, NULL));
  PetscCall(PetscOptionsBoundedInt("-draws", "independent (t, order) draws per example", "", o->draws, &o->draws,
                                   NULL, 1));
  PetscCall(PetscOptionsBoundedInt("-batch", "examples per network call on each rank", "", o->batch, &o->batch, NULL,
                                   1));
  PetscCall(PetscOptionsBoundedInt("-seed", "seed of the evaluation draws", "", o->seed, &o->seed, NULL, 0));
  PetscCall(PetscOptionsBoundedInt("-max_examples", "evaluate only the first N examples (0 = all)", "",
                                   o->max_examples, &o->max_examples, NULL, 0));
  PetscCall(PetscOptionsEList("-weights", "which weights of the checkpoint", "", which, 2, which[0], &w, NULL));
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

static PetscErrorCode write_eval(MPI_Comm comm, const char *path, const mean_acc *a, int64_t draws, lossstats *ls)
{
  ncio_file f;
  int       vb, vse, vd;
  double    mean = a->sum / (double)a->n;
  double    var = a->n > 1 ? (a->sumsq - a->sum * mean) / (double)(a->n - 1) : 0;
  double    se = sqrt(fmax(var, 0) / (double)a->n);
  int       d = (int)draws;
  PetscFunctionBegin;
  PetscCall(ncio_create(comm, path, "eval", &f));
  PetscCall(ncio_def_var(&f, "bpd", NC_DOUBLE, 0, NULL, &vb));
  PetscCall(ncio_def_var(&f, "bpd_stderr", NC_DOUBLE, 0, NULL, &vse));
  PetscCall(ncio_def_var(&f, "draws", NC_INT, 0, NULL, &vd));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "examples", a->n));
  PetscCall(lossstats_write(ls, &f)); /* ends define mode and writes the loss components */
  NCCall(&f, nc_put_var_double(f.ncid, vb, &mean));
  NCCall(&f, nc_put_var_double(f.ncid, vse, &se));
  NCCall(&f, nc_put_var_int(f.ncid, vd, &d));
  PetscCall(ncio_commit(&f));
  PetscCall(PetscPrintf(comm, "ardm eval: %lld examples x %lld draws: %.5f +- %.5f bits/dim (full-steps ELBO); wrote %s\n",
                        (long long)a->n, (long long)draws, mean, se, path));
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_eval(int npos, char **pos)
{
  MPI_Comm     comm = PETSC_COMM_WORLD;
  PetscMPIInt  rank, size;
  eval_options o;
  PetscBool    help;
  model_config mc;
  size_t       nparam;
  dataset      ds;
  model        m;
  lossstats    ls;
  float       *w;
  int32_t     *x;
  int64_t     *tg, *sigma, n, lo, hi, D, B;
  double      *wt, *logp, *ex_sum;
  mean_acc     acc = {0, 0, 0};

  PetscFunctionBegin;
  PetscCall(process_options(comm, &o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos == 0, comm, ARDM_ERR_INPUT, "unexpected argument '%s' (options start with -)", pos[0]);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(ckpt_read_config(comm, o.ckpt, &mc, &nparam));
  PetscCall(dataset_open(comm, o.data, &ds));
  PetscCall(dataset_expect(&ds, mc.K, mc.D));
  D = mc.D, B = o.batch;
  n = o.max_examples ? PetscMin(o.max_examples, ds.n) : ds.n;
  lo = n * rank / size, hi = n * (rank + 1) / size;
  PetscCall(model_create(&mc, B, &m));
  PetscCheck(model_nparam(m) == nparam, comm, ARDM_ERR_INPUT, "%s: holds %zu parameters, its model needs %zu", o.ckpt,
             nparam, model_nparam(m));
  PetscCall(ardm_alloc(nparam * sizeof(float), &w));
  PetscCall(ckpt_read_weights(comm, o.ckpt, o.weights, nparam, w));
  PetscCall(lossstats_init(mc.S, D, rank, &ls));
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(B * D), &x));
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)(B * (D + 1)), &tg));
  sigma = tg + B;
  PetscCall(ardm_alloc(sizeof(double) * (size_t)(2 * B + (hi - lo) + 1), &wt));
  logp = wt + B, ex_sum = logp + B;
  {
    /* the (example, draw) pairs of this rank, B per network call; every rank makes the same
       number of calls so the collective reads line up */
    int64_t pairs = (hi - lo) * o.draws, most = pairs, idx[64];
    PetscCheck(B <= 64, comm, ARDM_ERR_INPUT, "-batch %lld: at most 64", (long long)B);
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &most, 1, MPI_INT64_T, MPI_MAX, comm));
    for (int64_t p0 = 0; p0 < most; p0 += B) {
      int64_t nb = PetscMax(0, PetscMin(B, pairs - p0));
      for (int64_t b = 0; b < nb; b++) {
        int64_t e = lo + (p0 + b) / o.draws, r = (p0 + b) % o.draws;
        idx[b] = e;
        tg[b] = objective_draw_t((uint64_t)o.seed, r, e, 1, mc.S * D, PETSC_FALSE, RNG_EVAL);
        objective_draw_order((uint64_t)o.seed, r, e, D, RNG_EVAL_ORDER, sigma + b * D);
        wt[b] = 0;
      }
      PetscCall(dataset_read_list(&ds, idx, nb, x, NULL));
      PetscCall(model_loss(m, w, NULL, nb, x, tg, sigma, wt, logp));
      for (int64_t b = 0; b < nb; b++) {
        double bpd = -logp[b] * objective_bpd_weight(mc.S, D, tg[b] % D);
        ex_sum[idx[b] - lo] += bpd / (double)o.draws;
        lossstats_add(&ls, tg[b] / D, tg[b] % D, bpd / (double)mc.S);
      }
    }
  }
  for (int64_t e = 0; e < hi - lo; e++) acc.sum += ex_sum[e], acc.sumsq += ex_sum[e] * ex_sum[e];
  acc.n = hi - lo;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &acc.sum, 2, MPI_DOUBLE, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &acc.n, 1, MPI_INT64_T, MPI_SUM, comm));
  PetscCall(lossstats_reduce(&ls, comm));
  PetscCall(write_eval(comm, o.out, &acc, o.draws, &ls));
  ardm_free(&x);
  ardm_free(&tg);
  ardm_free(&wt);
  ardm_free(&w);
  PetscCall(lossstats_free(&ls));
  PetscCall(model_destroy(&m));
  PetscCall(dataset_close(&ds));
  PetscFunctionReturn(0);
}
