/* cmd_train.c: `ardm train`: order-agnostic (and upscale) ARDM training with the stochastic ELBO
   (doc/method.md sections 1 and 3), data parallel over the ranks with sharded optimizer state,
   per-step loss statistics on the master rank, atomic checkpoints and exact restart. */
#include "io/checkpoint.h"
#include "cmd/commands.h"
#include "io/dataset.h"
#include "ardm/objective.h"
#include "nn/optim.h"
#include "core/opts.h"
#include "core/grid.h"
#include "core/prof.h"
#include "io/trainlog.h"
#include "io/lossfile.h"
#include "io/rundir.h"
#include "cmd/train_plan.h"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct {
  char         data[PATH_MAX], out[PATH_MAX];
  PetscInt     model_parallel; /* Q: ranks per replica (core/grid.h) */
  PetscInt     steps, batch, warmup, log_every, ckpt_every, keep, max_bad, seed;
  PetscBool    resume, overwrite, antithetic, flip;
  PetscReal    ce_coef, max_hours;
  optim_config opt;
  model_config mc;
  train_plan   plan;
} train_options;

static volatile sig_atomic_t stop_requested;
static void                  on_signal(int sig)
{
  stop_requested = sig;
}

static PetscErrorCode process_options(MPI_Comm comm, train_options *o, PetscBool *help)
{
  static const char *const schedules[] = {"constant", "cosine"};
  PetscInt                 sched = 0;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->out, sizeof o->out, "output/run");
  o->model_parallel = 1;
  o->steps = 1000, o->batch = 16, o->warmup = 0, o->log_every = 10, o->ckpt_every = 500, o->keep = 3;
  o->max_bad = 20, o->seed = 1, o->ce_coef = 1e-4, o->max_hours = 0;
  o->opt = (optim_config){.lr = 1e-4, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .clip = 1000, .ema = 0.995};
  o->mc = (model_config){.blocks = 12,
                         .channels = 64,
                         .cycle = 6,
                         .layers = 6,
                         .width = 256,
                         .heads = 8,
                         .mlp = 4,
                         .attn_bias = 1, /* distance: without it the Transformer sits on the unigram plateau */
                         .window = 2,    /* neighbours in the input: leaves the plateau within ~100 steps */
                         .levels = 3,
                         .fourier = 8, /* Fourier input planes: the categorical head copies values ~5x sooner */
                         .head = HEAD_AUTO,
                         .mixtures = 30,
                         .scale_floor = 1}; /* auto: from K (model_config_finish) */
  PetscOptionsBegin(comm, NULL, "ardm train: order-agnostic / upscale ARDM training", "train");
  PetscCall(PetscOptionsString("-data", "training data set (NetCDF, ardm_kind dataset)", "", o->data, o->data,
                               sizeof o->data, NULL));
  PetscCall(PetscOptionsString("-out", "run directory: checkpoints, train_log.nc, loss_t.nc", "", o->out, o->out,
                               sizeof o->out, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-steps", "total optimizer steps", &o->steps, 0, PETSC_MAX_INT, NULL));
  PetscCall(
      opts_int(PetscOptionsObject, "-batch", "global batch (split over the ranks)", &o->batch, 1, PETSC_MAX_INT, NULL));
  PetscCall(opts_real(PetscOptionsObject, "-lr", "peak learning rate", &o->opt.lr, "(0,inf)", NULL));
  PetscCall(opts_real(PetscOptionsObject, "-beta1", "Adam beta1", &o->opt.beta1, "[0,1)", NULL));
  PetscCall(opts_real(PetscOptionsObject, "-beta2", "Adam beta2", &o->opt.beta2, "[0,1)", NULL));
  PetscCall(opts_real(PetscOptionsObject, "-eps", "Adam epsilon", &o->opt.eps, "(0,inf)", NULL));
  PetscCall(opts_real(PetscOptionsObject, "-weight_decay", "AdamW decoupled weight decay (0 = Adam)",
                      &o->opt.weight_decay, "[0,inf)", NULL));
  PetscCall(opts_int(PetscOptionsObject, "-warmup", "linear learning-rate warm-up steps", &o->warmup, 0, PETSC_MAX_INT,
                     NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-schedule", "learning rate after warm-up", schedules, 2, &sched, NULL));
  PetscCall(opts_int64(PetscOptionsObject, "-decay_steps",
                       "the learning rate falls linearly to 0 over the last N steps before -steps (0 = no final decay)",
                       &o->opt.decay_steps, 0, PETSC_MAX_INT, NULL));
  PetscCall(
      opts_real(PetscOptionsObject, "-clip", "global gradient-norm clip (0 = off)", &o->opt.clip, "[0,inf)", NULL));
  PetscCall(opts_real(PetscOptionsObject, "-ema", "EMA decay of the weights", &o->opt.ema, "[0,1)", NULL));
  PetscCall(opts_real(PetscOptionsObject, "-ce_coef", "weight of the unweighted cross-entropy term", &o->ce_coef,
                      "[0,inf)", NULL));
  PetscCall(
      PetscOptionsBool("-antithetic", "stratified t across the global batch", "", o->antithetic, &o->antithetic, NULL));
  PetscCall(PetscOptionsBool("-augment_flip", "mirror each training image left to right with probability 1/2", "",
                             o->flip, &o->flip, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-seed", "random seed", &o->seed, 0, PETSC_MAX_INT, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-log_every", "steps between progress lines / log records", &o->log_every, 1,
                     PETSC_MAX_INT, NULL));
  PetscCall(
      opts_int(PetscOptionsObject, "-ckpt_every", "steps between checkpoints", &o->ckpt_every, 1, PETSC_MAX_INT, NULL));
  PetscCall(
      opts_int(PetscOptionsObject, "-keep", "checkpoints kept (ckpt-<step>.nc)", &o->keep, 1, PETSC_MAX_INT, NULL));
  PetscCall(
      PetscOptionsBool("-resume", "continue from OUT/checkpoint.nc when it exists", "", o->resume, &o->resume, NULL));
  PetscCall(PetscOptionsBool("-overwrite", "start afresh in an OUT that holds another run, removing its files", "",
                             o->overwrite, &o->overwrite, NULL));
  PetscCall(opts_real(PetscOptionsObject, "-max_hours",
                      "checkpoint and exit with code 3 after this many hours (0 = never)", &o->max_hours, "[0,inf)",
                      NULL));
  PetscCall(opts_int(PetscOptionsObject, "-max_bad_steps", "consecutive non-finite steps tolerated before stopping",
                     &o->max_bad, 0, PETSC_MAX_INT, NULL));
  PetscCall(model_config_options(PetscOptionsObject, &o->mc));
  PetscCall(train_plan_options(PetscOptionsObject, &o->plan));
  PetscCall(grid_options(PetscOptionsObject, &o->model_parallel));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "train", help));
  o->opt.schedule = (lr_schedule)sched;
  o->opt.steps = o->steps, o->opt.warmup = o->warmup;
  PetscCheck(*help || o->data[0], comm, ARDM_ERR_INPUT, "-data FILE is required (the training data set)");
  PetscCheck(*help || o->opt.decay_steps <= o->steps, comm, ARDM_ERR_INPUT,
             "-decay_steps %lld: expected at most -steps %lld (the decay ends at -steps)",
             (long long)o->opt.decay_steps, (long long)o->steps);
  PetscCheck(*help || !(o->resume && o->overwrite), comm, ARDM_ERR_INPUT,
             "-resume and -overwrite exclude each other (-resume continues the run in -out %s, -overwrite replaces it)",
             o->out);
  PetscFunctionReturn(0);
}

typedef struct {
  MPI_Comm      comm;
  PetscMPIInt   rank, size;
  train_options o;
  grid          g; /* replicas of Q ranks: rank g.part of replica g.replica */
  dataset       ds;
  model         m;
  shard         sh;
  lossstats     ls;
  trainlog      log;
  rundir_lock   lock; /* held for the whole run (rank 0) */
  data_order    order;
  ckpt_state    st;
  size_t        nparam;
  int64_t       lo, hi;                  /* this rank's slots of the global batch */
  PetscBool     sharded;                 /* parameters and gradients held as slices (model_shard_params) */
  float        *params, *grads, *gshard; /* [nparam] each (NULL when sharded), [hi - lo of shard] */
  float        *pslice;                  /* [hi - lo]: this rank's parameters (into params unless sharded) */
  float        *ema, *adam_m, *adam_v;   /* shard slices */
  int32_t      *x;                       /* [local batch][D] */
  int64_t      *idx, *tg, *sigma;        /* [local batch], [local batch], [local batch][D] */
  double       *w, *logp, *bits;         /* [local batch] */
} trainer;

static PetscErrorCode trainer_setup(trainer *tr)
{
  int64_t   nb, D;
  char      desc[256], path[PATH_MAX + 32];
  PetscBool have_ckpt = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(ncio_make_dir(tr->comm, tr->o.out, "-out"));
  PetscCall(rundir_lock_take(tr->comm, tr->o.out, &tr->lock));
  PetscCall(ncio_set_parent(tr->comm, tr->o.data));
  PetscCall(dataset_open(tr->comm, tr->o.data, &tr->ds));
  ncio_set_modality(tr->ds.attrs.modality);
  D = tr->ds.D;
  tr->o.mc.D = D, tr->o.mc.K = tr->ds.K;
  snprintf(tr->o.mc.modality, sizeof tr->o.mc.modality, "%s", tr->ds.attrs.modality);
  snprintf(tr->o.mc.alphabet, sizeof tr->o.mc.alphabet, "%s", tr->ds.attrs.alphabet);
  tr->o.mc.sample_rate = tr->ds.attrs.sample_rate;
  tr->o.mc.img_height = tr->ds.attrs.height, tr->o.mc.img_width = tr->ds.attrs.width;
  tr->o.mc.img_channels = tr->ds.attrs.channels;
  PetscCall(model_config_finish(tr->comm, &tr->o.mc));
  PetscCheck(!tr->o.flip || strcmp(tr->ds.attrs.modality, "image") == 0, tr->comm, ARDM_ERR_INPUT,
             "-augment_flip: %s is not an image data set (modality %s); flips apply to images only", tr->o.data,
             tr->ds.attrs.modality);
  snprintf(path, sizeof path, "%s/checkpoint.nc", tr->o.out);
  if (tr->o.resume) have_ckpt = access(path, F_OK) == 0;
  if (!have_ckpt) PetscCall(rundir_prepare_fresh(tr->comm, tr->o.out, tr->o.resume, tr->o.overwrite));
  if (have_ckpt) { /* the checkpoint's model must be the one the options describe */
    model_config saved;
    size_t       np;
    PetscCall(ckpt_read_config(tr->comm, path, &saved, &np));
    /* options whose defaults changed (attn_bias, window, fourier) say what to resume with */
    PetscCall(model_config_check_resume(tr->comm, path, &saved, &tr->o.mc));
    PetscCheck(model_config_equal(&saved, &tr->o.mc), tr->comm, ARDM_ERR_INPUT,
               "%s: its model (B=%d C=%d K=%d D=%lld head %d b=%d) differs from the options and data set (B=%d C=%d "
               "K=%d D=%lld head %d b=%d)",
               path, saved.blocks, saved.channels, saved.K, (long long)saved.D, (int)saved.head, saved.upscale_b,
               tr->o.mc.blocks, tr->o.mc.channels, tr->o.mc.K, (long long)tr->o.mc.D, (int)tr->o.mc.head,
               tr->o.mc.upscale_b);
  }
  /* the replicas split the global batch; the Q ranks of a replica take the same examples */
  if (tr->o.mc.net == NET_DIFFWAVE)
    PetscCall(grid_check_dims(&tr->g, D, tr->o.mc.cycle, tr->o.mc.blocks, tr->o.mc.kernel ? tr->o.mc.kernel : 3));
  tr->lo = tr->o.batch * tr->g.replica / tr->g.R, tr->hi = tr->o.batch * (tr->g.replica + 1) / tr->g.R;
  nb = (tr->o.batch + tr->g.R - 1) / tr->g.R;
  { /* a -batch that cannot fit is the user's mistake (exit 1), not an out-of-memory abort */
    double bytes;
    PetscCall(model_bytes(&tr->o.mc, nb, tr->g.Q, &bytes));
    bytes += (double)nb * (double)D * (sizeof(int32_t) + sizeof(int64_t));
    PetscCall(opts_check_memory(tr->comm, "-batch", (long long)tr->o.batch, bytes));
  }
  PetscCall(model_create_parallel(&tr->o.mc, nb, tr->g.replica_comm, &tr->m));
  tr->nparam = model_nparam(tr->m);
  PetscCall(shard_init(tr->comm, tr->nparam, &tr->sh));
  /* a network split along D holds its parameters and gradients as slices too, gathered block by
     block (doc/design.md "Model parallelism"); otherwise every rank keeps both whole */
  tr->sharded = model_can_shard(tr->m);
  if (!tr->sharded) {
    PetscCall(ardm_alloc(tr->nparam * sizeof(float), &tr->params));
    PetscCall(ardm_alloc(tr->nparam * sizeof(float), &tr->grads));
  }
  PetscCall(ardm_alloc((tr->sh.hi - tr->sh.lo) * (tr->sharded ? 5 : 4) * sizeof(float) + 64, &tr->gshard));
  tr->ema = tr->gshard + (tr->sh.hi - tr->sh.lo), tr->adam_m = tr->ema + (tr->sh.hi - tr->sh.lo);
  tr->adam_v = tr->adam_m + (tr->sh.hi - tr->sh.lo);
  tr->pslice = tr->sharded ? tr->adam_v + (tr->sh.hi - tr->sh.lo) : tr->params + tr->sh.lo;
  if (tr->sharded) PetscCall(model_shard_params(tr->m, &tr->sh, tr->pslice, tr->gshard));
  PetscCall(ardm_alloc((size_t)(nb * D) * sizeof(int32_t), &tr->x));
  PetscCall(ardm_alloc((size_t)(nb * (D + 2)) * sizeof(int64_t), &tr->idx));
  tr->tg = tr->idx + nb, tr->sigma = tr->tg + nb;
  PetscCall(ardm_alloc((size_t)nb * 3 * sizeof(double), &tr->w));
  tr->logp = tr->w + nb, tr->bits = tr->logp + nb;
  PetscCall(lossstats_init(tr->o.mc.S, D, tr->rank, &tr->ls));
  PetscCall(data_order_init((uint64_t)tr->o.seed, tr->ds.n, &tr->order));
  tr->st = (ckpt_state){.seed = (uint64_t)tr->o.seed, .nplan = (int)tr->o.plan.n};
  PetscCall(train_plan_check(tr->comm, &tr->o.plan, D));
  for (PetscInt i = 0; i < tr->o.plan.n; i++) tr->st.plan_budgets[i] = (int)tr->o.plan.budgets[i];
  if (have_ckpt) {
    PetscCall(ckpt_load(tr->comm, path, &tr->sh, tr->pslice, tr->ema, tr->adam_m, tr->adam_v, &tr->st, &tr->ls));
    if (!tr->sharded) PetscCall(shard_allgather(&tr->sh, tr->params)); /* written by any rank count: re-split */
    PetscCall(lossstats_log_restore(&tr->ls, tr->comm, tr->lo, tr->hi, tr->o.batch, tr->g.part == 0));
    PetscCheck(tr->st.seed == (uint64_t)tr->o.seed, tr->comm, ARDM_ERR_INPUT,
               "%s: was trained with -seed %llu, not %lld", path, (unsigned long long)tr->st.seed,
               (long long)tr->o.seed);
    snprintf(path, sizeof path, "%s/train_log.nc", tr->o.out);
    PetscCall(trainlog_load(&tr->log, tr->comm, path, tr->st.step));
  } else {
    if (tr->sharded)
      PetscCall(model_init_params_slice(tr->m, (uint64_t)tr->o.seed, tr->sh.lo, tr->sh.hi, tr->pslice));
    else
      model_init_params(tr->m, (uint64_t)tr->o.seed, tr->params);
    PetscCall(PetscArraycpy(tr->ema, tr->pslice, tr->sh.hi - tr->sh.lo));
  }
  model_config_describe(&tr->o.mc, tr->nparam, desc, sizeof desc);
  PetscCall(PetscPrintf(tr->comm, "ardm train: %s\n", desc));
  PetscCall(
      PetscPrintf(tr->comm,
                  "ardm train: %s: %lld examples; global batch %lld on %d ranks (%d replicas x %d ranks per example); "
                  "optimizer state %.2f MB per rank (sharded 1/%d); %s at step %lld\n",
                  tr->o.data, (long long)tr->ds.n, (long long)tr->o.batch, tr->size, tr->g.R, tr->g.Q,
                  3.0 * (double)(tr->sh.hi - tr->sh.lo) * 4 / 1e6, tr->size, have_ckpt ? "resuming" : "starting",
                  (long long)tr->st.step));
  { /* what each rank holds (tests/cli/test_model_parallel.sh reads this line) */
    double mb = 4.0 / 1e6, whole = (double)tr->nparam * mb, slice = (double)(tr->sh.hi - tr->sh.lo) * mb;
    char   how[96];
    if (tr->sharded)
      snprintf(how, sizeof how, "sharded 1/%d, gathered block by block", tr->size);
    else
      snprintf(how, sizeof how, "whole on every rank, gradients also a 1/%d slice", tr->size);
    PetscCall(PetscPrintf(tr->comm,
                          "ardm train: per rank: parameters %.3f MB and gradients %.3f MB (%s; whole %.3f MB each), "
                          "EMA and Adam moments %.3f MB, network workspace %.3f MB\n",
                          tr->sharded ? slice : whole, tr->sharded ? slice : whole + slice, how, whole, 3 * slice,
                          model_workspace_bytes(tr->m) / 1e6));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode trainer_free(trainer *tr)
{
  PetscFunctionBegin;
  PetscCall(model_destroy(&tr->m));
  PetscCall(shard_free(&tr->sh));
  PetscCall(grid_free(&tr->g));
  PetscCall(lossstats_free(&tr->ls));
  PetscCall(trainlog_free(&tr->log));
  PetscCall(data_order_free(&tr->order));
  PetscCall(dataset_close(&tr->ds));
  PetscCall(rundir_lock_release(&tr->lock));
  ardm_free(&tr->params);
  ardm_free(&tr->grads);
  ardm_free(&tr->gshard);
  ardm_free(&tr->x);
  ardm_free(&tr->idx);
  ardm_free(&tr->w);
  PetscFunctionReturn(0);
}

/* Draws this rank's examples, t and orders for `step` and reads the data. The weights make
   the loss the batch mean of the ELBO in bits/dim plus ce_coef times the unweighted
   cross-entropy over all target dims of the global batch. */
static PetscErrorCode trainer_batch(trainer *tr, int64_t step)
{
  const int64_t D = tr->ds.D, T = tr->o.mc.S * D, B = tr->o.batch, nb = tr->hi - tr->lo;
  double        targets = 0;
  PetscFunctionBegin;
  for (int64_t g = 0; g < B; g++) /* all t of the global batch: each rank needs their total */
    targets += (double)(D - objective_draw_t(tr->st.seed, step, g, B, T, tr->o.antithetic, RNG_T) % D);
  for (int64_t b = 0; b < nb; b++) {
    int64_t slot = tr->lo + b, t_in;
    tr->idx[b] = data_order_example(&tr->order, step * B + slot);
    tr->tg[b] = objective_draw_t(tr->st.seed, step, slot, B, T, tr->o.antithetic, RNG_T);
    objective_draw_order(tr->st.seed, step, slot, D, RNG_ORDER, tr->sigma + b * D);
    t_in = tr->tg[b] % D;
    tr->w[b] = objective_bpd_weight(tr->o.mc.S, D, t_in) / (double)B + tr->o.ce_coef / (M_LN2 * targets);
  }
  PROF_BEGIN(PROF_IO_READ);
  PetscCall(dataset_read_list(&tr->ds, tr->idx, nb, tr->x, NULL));
  PROF_END(PROF_IO_READ);
  if (tr->o.flip) /* doc/method.md section 4, "Flips": keyed by the global slot like t */
    for (int64_t b = 0; b < nb; b++)
      if (objective_draw_flip(tr->st.seed, step, tr->lo + b))
        objective_flip_image(tr->x + b * D, tr->ds.attrs.channels, tr->ds.attrs.height, tr->ds.attrs.width);
  PetscFunctionReturn(0);
}

/* One optimizer step; red[] returns the global (grad sumsq, loss, bpd, stop) sums. */
static PetscErrorCode trainer_step(trainer *tr, int64_t step, double red[4], PetscBool *finite)
{
  const int64_t D = tr->ds.D, nb = tr->hi - tr->lo;
  const size_t  ns = tr->sh.hi - tr->sh.lo;
  PetscFunctionBegin;
  PetscCall(trainer_batch(tr, step));
  if (!tr->sharded) PetscCall(PetscArrayzero(tr->grads, tr->nparam));
  /* sharded: the model gathers the weights from the slices and reduce-scatters the gradients
     into gshard block by block during backward (every rank takes part, also with nb = 0) */
  PetscCall(model_loss(tr->m, tr->params, tr->sharded ? tr->gshard : tr->grads, nb, tr->x, tr->tg, tr->sigma, tr->w,
                       tr->logp));
  red[1] = red[2] = 0;
  /* every rank of a replica has the same logp: only part 0 counts them. The gradient parts,
     in contrast, are summed over all ranks by the reduce-scatter (nn/net_audio_mp.h). */
  for (int64_t b = 0; b < (tr->g.part == 0 ? nb : 0); b++) {
    double wb = objective_bpd_weight(tr->o.mc.S, D, tr->tg[b] % D);
    tr->bits[b] = -tr->logp[b] * wb / (double)tr->o.mc.S; /* bits per generated dim */
    red[1] += -tr->w[b] * tr->logp[b];
    red[2] += -wb * tr->logp[b] / (double)tr->o.batch;
  }
  PROF_BEGIN(PROF_GRAD_COMM);
  if (!tr->sharded) PetscCall(shard_reduce_scatter(&tr->sh, tr->grads, tr->gshard));
  red[0] = optim_sumsq(ns, tr->gshard);
  red[3] = stop_requested ? 1 : 0;
  /* one small allreduce carries the norm, the losses and the stop flag */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, red, 4, MPI_DOUBLE, MPI_SUM, tr->comm));
  PROF_END(PROF_GRAD_COMM);
  *finite = isfinite(red[0]) && isfinite(red[1]) ? PETSC_TRUE : PETSC_FALSE;
  if (!*finite) PetscFunctionReturn(0); /* skipped: parameters, moments and statistics untouched */
  for (int64_t b = 0; b < (tr->g.part == 0 ? nb : 0); b++)
    PetscCall(lossstats_add_at(&tr->ls, step, tr->lo + b, tr->tg[b] / D, tr->tg[b] % D, tr->bits[b]));
  PROF_BEGIN(PROF_OPTIMIZER);
  {
    double norm = sqrt(red[0]), scale = tr->o.opt.clip > 0 && norm > tr->o.opt.clip ? tr->o.opt.clip / norm : 1.0;
    optim_adam(&tr->o.opt, step, optim_lr(&tr->o.opt, step), scale, ns, tr->pslice, tr->gshard, tr->adam_m, tr->adam_v);
    optim_ema(tr->o.opt.ema, ns, tr->ema, tr->pslice);
  }
  PROF_END(PROF_OPTIMIZER);
  if (!tr->sharded) { /* the updated slices back to every rank (sharded: the next forward gathers them) */
    PROF_BEGIN(PROF_GRAD_COMM);
    PetscCall(shard_allgather(&tr->sh, tr->params));
    PROF_END(PROF_GRAD_COMM);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode trainer_checkpoint(trainer *tr)
{
  ckpt_buffers b = {tr->pslice, tr->ema, tr->adam_m, tr->adam_v};
  PetscFunctionBegin;
  PROF_BEGIN(PROF_IO_WRITE);
  PetscCall(ckpt_save(tr->o.out, (int)tr->o.keep, &tr->sh, &b, &tr->st, &tr->o.mc, &tr->ls));
  PetscCall(train_plan_write(tr->comm, tr->o.out, &tr->o.plan, &tr->ls, tr->st.step));
  PROF_END(PROF_IO_WRITE);
  PetscFunctionReturn(0);
}

/* Reduces the statistics to rank 0, prints the progress line, rewrites the log files. */
static PetscErrorCode trainer_log(trainer *tr, int64_t step, const double *red, int64_t s_start, double t_now)
{
  char            path[PATH_MAX + 32];
  double          rate = (double)((step - s_start) * tr->o.batch) / PetscMax(t_now, 1e-9);
  double          eta = rate > 0 ? (double)((tr->o.steps - step) * tr->o.batch) / rate : 0;
  trainlog_record r = {step, red[1], red[2], optim_lr(&tr->o.opt, step - 1), sqrt(red[0]), rate, t_now};
  PetscFunctionBegin;
  PetscCall(lossstats_reduce(&tr->ls, tr->comm));
  if (tr->rank == 0) PetscCall(trainlog_append(&tr->log, &r));
  PetscCall(PetscPrintf(tr->comm,
                        "step %7lld  loss %.5f  bpd %.5f  (running %.4f)  lr %.3g  |g| %.3g  %.1f ex/s  %.3g dims/s  "
                        "ETA %.0f s%s\n",
                        (long long)step, r.loss, r.bpd, tr->rank == 0 ? lossstats_bpd(&tr->ls) : 0.0, r.lr, r.grad_norm,
                        rate, rate * (double)tr->ds.D, eta,
                        tr->st.skipped ? " (steps skipped for non-finite values)" : ""));
  PROF_BEGIN(PROF_IO_WRITE);
  snprintf(path, sizeof path, "%s/train_log.nc", tr->o.out);
  PetscCall(trainlog_save(&tr->log, tr->comm, path));
  snprintf(path, sizeof path, "%s/loss_t.nc", tr->o.out);
  PetscCall(lossstats_save(&tr->ls, tr->comm, path));
  PROF_END(PROF_IO_WRITE);
  PetscFunctionReturn(0);
}

static PetscErrorCode trainer_run(trainer *tr)
{
  double  t0 = MPI_Wtime(), red[4] = {0};
  int64_t s_start = tr->st.step;
  PetscFunctionBegin;
  while (tr->st.step < tr->o.steps) {
    int64_t   step = tr->st.step;
    PetscBool finite, stop;
    PetscCall(trainer_step(tr, step, red, &finite));
    tr->st.step = step + 1;
    tr->st.examples = tr->st.step * tr->o.batch;
    if (!finite) {
      tr->st.skipped++, tr->st.bad_streak++;
      PetscCall(PetscPrintf(tr->comm, "step %7lld  non-finite loss or gradient: step skipped (%lld in a row)\n",
                            (long long)tr->st.step, (long long)tr->st.bad_streak));
      PetscCheck(tr->st.bad_streak <= tr->o.max_bad, tr->comm, ARDM_ERR_INPUT,
                 "%lld consecutive steps with non-finite loss or gradient (more than -max_bad_steps %lld): stopping; "
                 "the last good checkpoint in %s is kept",
                 (long long)tr->st.bad_streak, (long long)tr->o.max_bad, tr->o.out);
      continue;
    }
    tr->st.bad_streak = 0;
    stop = red[3] > 0 || (tr->o.max_hours > 0 && MPI_Wtime() - t0 > 3600 * tr->o.max_hours);
    if (tr->o.max_hours > 0) /* every rank must agree on the wall-clock decision */
      PetscCallMPI(MPI_Bcast(&stop, 1, MPIU_BOOL, 0, tr->comm));
    if (tr->st.step % tr->o.log_every == 0 || tr->st.step == tr->o.steps)
      PetscCall(trainer_log(tr, tr->st.step, red, s_start, MPI_Wtime() - t0));
    if (stop) {
      PetscCall(trainer_checkpoint(tr));
      ardm_exit_code_set(ARDM_EXIT_REQUEUE);
      PetscCall(PetscPrintf(
          tr->comm, "ardm train: %s at step %lld: checkpoint written, exiting with code %d (requeue)\n",
          red[3] > 0 ? "signal received" : "-max_hours reached", (long long)tr->st.step, ARDM_EXIT_REQUEUE));
      PetscFunctionReturn(0);
    }
    if (tr->st.step % tr->o.ckpt_every == 0 || tr->st.step == tr->o.steps) PetscCall(trainer_checkpoint(tr));
  }
  if (tr->st.step == s_start) PetscCall(trainer_checkpoint(tr)); /* -steps 0 or nothing left: still a checkpoint */
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_train(int npos, char **pos)
{
  trainer   tr;
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&tr, sizeof tr));
  tr.lock.fd = -1;
  tr.comm = PETSC_COMM_WORLD;
  PetscCallMPI(MPI_Comm_rank(tr.comm, &tr.rank));
  PetscCallMPI(MPI_Comm_size(tr.comm, &tr.size));
  PetscCall(process_options(tr.comm, &tr.o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCall(grid_init(tr.comm, tr.o.model_parallel, &tr.g));
  PetscCheck(npos == 0, tr.comm, ARDM_ERR_INPUT, "unexpected argument '%s' (options start with -)", pos[0]);
  signal(SIGUSR1, on_signal);
  signal(SIGTERM, on_signal);
  PetscCall(prof_stage_push(PROF_STAGE_SETUP));
  PetscCall(trainer_setup(&tr));
  PetscCall(prof_stage_pop());
  PetscCall(prof_stage_push(PROF_STAGE_TRAIN));
  PetscCall(trainer_run(&tr));
  { /* peak resident memory per rank (the -model_parallel benchmarks read this line) */
    struct rusage ru;
    double        mb[2];
    getrusage(RUSAGE_SELF, &ru);
    mb[0] = (double)ru.ru_maxrss / 1024.0, mb[1] = -mb[0];
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, mb, 2, MPI_DOUBLE, MPI_MAX, tr.comm));
    PetscCall(PetscPrintf(tr.comm, "ardm train: peak memory per rank %.1f MB (largest), %.1f MB (smallest)\n", mb[0],
                          -mb[1]));
  }
  PetscCall(prof_stage_pop());
  PetscCall(trainer_free(&tr));
  PetscFunctionReturn(0);
}
