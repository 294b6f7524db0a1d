/* cmd_sample.c: `ardm sample`: any-order sampling with a plan (Parallelized ARDM, doc/method.md
   section 2): per sample one random order per stage; per plan step one network call that
   draws every dim scheduled for that step (Gumbel-max or mixture sampling); exactly N calls
   per stage for budget N (counted, and recorded in the output). Upscale models run stage by
   stage (x = x_past + digit * b^r). With -given, the known dims of a given example are kept
   and only the unknown ones are generated, the plan being stretched over them. Ranks split
   the samples; all noise is keyed by (seed, stage and step, sample number). */
#include "io/checkpoint.h"
#include "cmd/commands.h"
#include "io/dataset.h"
#include "core/opts.h"
#include "core/grid.h"
#include "core/prof.h"
#include "io/plan_file.h"
#include "ardm/upscale.h"
#include <stdio.h>
#include <string.h>

/* Which dims of -given are known; top_half and centre are image masks (inpainting): the upper
   half of the rows, or the central square of half the height and width, in every channel. */
typedef enum { GIVEN_NONE, GIVEN_FIRST_HALF, GIVEN_EVERY_OTHER, GIVEN_TOP_HALF, GIVEN_CENTRE } given_mask;

typedef struct {
  char       ckpt[PATH_MAX], plan[PATH_MAX], out[PATH_MAX], given[PATH_MAX], weights[16];
  PetscInt   budget, n, batch, seed, model_parallel;
  PetscReal  temperature;
  given_mask mask;
} sample_options;

static PetscErrorCode process_options(MPI_Comm comm, sample_options *o, PetscBool *help)
{
  static const char *const which[] = {"ema", "params"}, *const masks[] = {"first_half", "every_other", "top_half",
                                                                          "centre"};
  PetscInt w = 0, gm = 0;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(o, sizeof *o));
  snprintf(o->out, sizeof o->out, "samples.nc");
  o->budget = 0, o->n = 4, o->batch = 4, o->seed = 1, o->temperature = 1.0, o->model_parallel = 1;
  PetscOptionsBegin(comm, NULL, "ardm sample: sampling with a plan", "sample");
  PetscCall(PetscOptionsString("-ckpt", "checkpoint", "", o->ckpt, o->ckpt, sizeof o->ckpt, NULL));
  PetscCall(PetscOptionsString("-plan", "plan file from ardm plan (default: evenly spaced steps)", "", o->plan, o->plan,
                               sizeof o->plan, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-budget", "network calls per stage (0: the plan file's only budget, or D)",
                     &o->budget, 0, PETSC_MAX_INT, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-n", "number of samples", &o->n, 1, PETSC_MAX_INT, NULL));
  PetscCall(opts_int(PetscOptionsObject, "-batch", "samples per network call on each rank", &o->batch, 1, PETSC_MAX_INT,
                     NULL));
  PetscCall(opts_int(PetscOptionsObject, "-seed", "random seed", &o->seed, 0, PETSC_MAX_INT, NULL));
  PetscCall(opts_real(PetscOptionsObject, "-temperature", "sampling temperature (1 = the model; 0 = greedy)",
                      &o->temperature, "[0,inf)", NULL));
  PetscCall(PetscOptionsString("-out", "output samples file", "", o->out, o->out, sizeof o->out, NULL));
  PetscCall(PetscOptionsString("-given",
                               "data set whose known dims condition the samples (sample j uses example j "
                               "mod n)",
                               "", o->given, o->given, sizeof o->given, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-given_mask",
                        "which dims of -given are known: first_half, every_other, or for images top_half (the upper "
                        "rows) and centre (the central square of half the height and width)",
                        masks, 4, &gm, NULL));
  PetscCall(opts_choice(PetscOptionsObject, "-weights", "which weights of the checkpoint", which, 2, &w, NULL));
  PetscCall(grid_options(PetscOptionsObject, &o->model_parallel));
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "sample", help));
  snprintf(o->weights, sizeof o->weights, "%s", which[w]);
  o->mask = o->given[0] ? (given_mask)(GIVEN_FIRST_HALF + gm) : GIVEN_NONE;
  PetscCheck(*help || o->ckpt[0], comm, ARDM_ERR_INPUT, "-ckpt FILE is required");
  PetscFunctionReturn(0);
}

/* The plan of every stage as start indices over 0..D (the plan file's, or evenly spaced). */
static PetscErrorCode load_plans(MPI_Comm comm, sample_options *o, const model_config *mc, int **starts, int *nsteps)
{
  PetscFunctionBegin;
  if (o->plan[0]) {
    planner_result r;
    int            bi;
    PetscCall(plan_file_read(comm, o->plan, &r));
    PetscCheck(r.D == mc->D && r.S == mc->S, comm, ARDM_ERR_INPUT,
               "%s: plans %d stage(s) of D = %lld, but the checkpoint %s has %d stage(s) of D = %lld", o->plan, r.S,
               (long long)r.D, o->ckpt, mc->S, (long long)mc->D);
    if (!o->budget && r.nbudgets == 1) o->budget = r.budgets[0];
    bi = plan_find_budget(&r, (int)o->budget);
    PetscCheck(bi >= 0, comm, ARDM_ERR_INPUT, "%s: has no plan for -budget %lld", o->plan, (long long)o->budget);
    for (int s = 0; s < mc->S; s++) {
      nsteps[s] = r.nsteps[bi * r.S + s];
      PetscCall(PetscMalloc1(nsteps[s] + 1, &starts[s]));
      PetscCall(PetscArraycpy(starts[s], plan_starts(&r, bi, s), nsteps[s]));
      starts[s][nsteps[s]] = (int)mc->D;
    }
    planner_result_free(&r);
  } else {
    if (!o->budget) o->budget = mc->D;
    PetscCheck(o->budget >= 1 && o->budget <= mc->D, comm, ARDM_ERR_INPUT, "-budget %lld: expected 1..D = %lld",
               (long long)o->budget, (long long)mc->D);
    for (int s = 0; s < mc->S; s++) {
      nsteps[s] = (int)o->budget;
      PetscCall(PetscMalloc1(nsteps[s] + 1, &starts[s]));
      planner_even_plan(mc->D, nsteps[s], starts[s]);
      starts[s][nsteps[s]] = (int)mc->D;
    }
  }
  PetscFunctionReturn(0);
}

/* Stretches a plan over the U unknown dims when G = D - U are given: q = G + floor(p U / D),
   duplicates removed. Returns the step count. */
static int stretch_plan(const int *p, int n, int64_t D, int64_t G, int *q)
{
  int m = 0;
  for (int i = 0; i <= n; i++) {
    int v = (int)(G + (int64_t)p[i] * (D - G) / D);
    if (m == 0 || v > q[m - 1]) q[m++] = v;
  }
  return m - 1; /* q[m-1] = D closes the last step */
}

/* The known dims of a given example; image masks use the channel-planar layout [C][H][W]. */
static void given_known(given_mask mask, int64_t D, int64_t H, int64_t W, uint8_t *given)
{
  for (int64_t i = 0; i < D; i++) {
    int64_t y = H > 0 ? i % (H * W) / W : 0, xx = H > 0 ? i % W : 0;
    given[i] = mask == GIVEN_FIRST_HALF    ? i < D / 2
               : mask == GIVEN_EVERY_OTHER ? i % 2 == 0
               : mask == GIVEN_TOP_HALF    ? y < H / 2
               : mask == GIVEN_CENTRE      ? y >= H / 4 && y < H / 4 + H / 2 && xx >= W / 4 && xx < W / 4 + W / 2
                                           : 0;
  }
}

typedef struct {
  model_config mc;
  upscale      u;
  model        m;
  float       *w;
  int         *starts[UPSCALE_MAX_STAGES], nsteps[UPSCALE_MAX_STAGES];
  uint8_t     *given, *known, *gen; /* [D], [B][D], [B][D] */
  int64_t     *sigma, *perm;        /* [B][D], [D] */
  int         *q;                   /* [D + 1] stretched plan */
  rng_stream  *streams;             /* [B] */
  int64_t      calls_per_stage;     /* measured */
} sampler;

/* Generates samples j0..j0+nb-1 into x[nb][D] (xg: their given examples or NULL). */
static PetscErrorCode sample_batch(sampler *sp, const sample_options *o, int64_t j0, int64_t nb, const int32_t *xg,
                                   int32_t *x)
{
  const int64_t D = sp->mc.D;
  int64_t       G = 0, t_in[64];
  PetscFunctionBegin;
  for (int64_t i = 0; i < D; i++) G += xg ? sp->given[i] : 0;
  for (int s = 0; s < sp->mc.S; s++) {
    int     n = stretch_plan(sp->starts[s], sp->nsteps[s], D, G, sp->q);
    int64_t c0 = model_calls(sp->m);
    for (int64_t b = 0; b < nb; b++) {
      rng_stream st;
      int64_t    k = 0, *sg = sp->sigma + b * D;
      rng_init(&st, (uint64_t)o->seed, (uint64_t)s, (uint64_t)(j0 + b), RNG_SAMPLE_ORDER);
      rng_permutation(&st, D - G, sp->perm); /* a random order of the unknown dims, after the given ones */
      for (int64_t i = 0; i < D; i++) {
        int known = xg && sp->given[i];
        sg[i] = known ? 0 : G + sp->perm[k++];
        sp->known[b * D + i] = (uint8_t)known;
        if (known)
          x[b * D + i] = upscale_future(&sp->u, s, xg[b * D + i]);
        else if (s == 0)
          x[b * D + i] = 0; /* fully absorbed: x_past of stage 0 */
      }
    }
    for (int k = 0; k < n; k++) {
      for (int64_t b = 0; b < nb; b++) {
        t_in[b] = sp->q[k];
        rng_init(&sp->streams[b], (uint64_t)o->seed, (uint64_t)(s * (D + 1) + k), (uint64_t)(j0 + b), RNG_SAMPLE);
        for (int64_t i = 0; i < D; i++) {
          int64_t sg = sp->sigma[b * D + i];
          sp->gen[b * D + i] = !sp->known[b * D + i] && sg >= sp->q[k] && sg < sp->q[k + 1];
        }
      }
      PetscCall(model_sample_step(sp->m, sp->w, nb, s, t_in, x, sp->known, sp->gen, o->temperature, sp->streams));
      for (int64_t i = 0; i < nb * D; i++) sp->known[i] |= sp->gen[i];
    }
    sp->calls_per_stage = PetscMax(sp->calls_per_stage, model_calls(sp->m) - c0);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode write_samples(MPI_Comm comm, const sample_options *o, const sampler *sp, int64_t lo, int64_t hi,
                                    const int32_t *x, int64_t calls)
{
  ncio_file f;
  int       dims[2], vx;
  size_t    st[2] = {hi > lo ? (size_t)lo : 0, 0}, ct[2] = {(size_t)(hi - lo), (size_t)sp->mc.D};
  PetscFunctionBegin;
  PetscCall(ncio_create(comm, o->out, "samples", &f));
  PetscCall(ncio_def_dim(&f, "sample", (size_t)o->n, &dims[0]));
  PetscCall(ncio_def_dim(&f, "dim", (size_t)sp->mc.D, &dims[1]));
  PetscCall(ncio_def_var(&f, "x", sp->mc.K <= 256 ? NC_UBYTE : NC_USHORT, 2, dims, &vx));
  PetscCall(ncio_put_cf(&f, vx, "generated values (class index 0..K-1; audio: int16 sample + 32768)", "1"));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "num_classes", sp->mc.K));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "modality", sp->mc.modality));
  if (sp->mc.sample_rate) PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "sample_rate", sp->mc.sample_rate));
  if (sp->mc.alphabet[0]) PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "alphabet", sp->mc.alphabet));
  if (sp->mc.img_height > 0) {
    PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "height", sp->mc.img_height));
    PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "width", sp->mc.img_width));
    PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "channels", sp->mc.img_channels));
  }
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "budget", o->budget));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "plan", o->plan[0] ? o->plan : "evenly spaced"));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "stages", sp->mc.S));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "network_calls_per_stage", calls));
  PetscCall(ncio_put_att_double(&f, NC_GLOBAL, "temperature", o->temperature));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "seed", o->seed));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "checkpoint", o->ckpt));
  if (o->given[0]) PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "given", o->given));
  PetscCall(ncio_enddef(&f));
  PetscCall(ncio_collective(&f, vx));
  NCCall(&f, nc_put_vara_int(f.ncid, vx, st, ct, x));
  PetscCall(ncio_commit(&f));
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_sample(int npos, char **pos)
{
  MPI_Comm       comm = PETSC_COMM_WORLD;
  PetscMPIInt    rank, size;
  sample_options o;
  PetscBool      help;
  sampler        sp;
  grid           g;
  int64_t        lo, hi, D, B, calls;
  int32_t       *x, *xg = NULL;

  PetscFunctionBegin;
  PetscCall(process_options(comm, &o, &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos == 0, comm, ARDM_ERR_INPUT, "unexpected argument '%s' (options start with -)", pos[0]);
  PetscCheck(o.batch <= 64, comm, ARDM_ERR_INPUT, "-batch %lld: at most 64", (long long)o.batch);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMemzero(&sp, sizeof sp));
  PetscCall(prof_stage_push(PROF_STAGE_SETUP));
  PetscCall(ncio_set_parent(comm, o.ckpt));
  PetscCall(grid_init(comm, o.model_parallel, &g));
  PetscCall(ckpt_load_model(comm, o.ckpt, o.weights, o.batch, g.replica_comm, &sp.mc, &sp.m, &sp.w));
  ncio_set_modality(sp.mc.modality);
  upscale_init(&sp.u, sp.mc.K, sp.mc.upscale_b);
  D = sp.mc.D, B = o.batch;
  PetscCall(load_plans(comm, &o, &sp.mc, sp.starts, sp.nsteps));
  /* the replicas split the samples; the ranks of one replica draw the same ones (model.h) */
  lo = o.n * g.replica / g.R, hi = o.n * (g.replica + 1) / g.R;
  (void)rank, (void)size;
  PetscCall(opts_check_memory(comm, "-n", (long long)o.n,
                              (double)(hi - lo) * (double)D * sizeof(int32_t) * (o.given[0] ? 2 : 1)));
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &x));
  PetscCall(ardm_alloc((size_t)(D + 2 * B * D), &sp.given));
  sp.known = sp.given + D, sp.gen = sp.known + B * D;
  PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)((B + 1) * D), &sp.sigma));
  sp.perm = sp.sigma + B * D;
  PetscCall(ardm_alloc(sizeof(int) * (size_t)(D + 2), &sp.q));
  PetscCall(ardm_alloc(sizeof(rng_stream) * (size_t)B, &sp.streams));
  if (o.given[0]) { /* the given examples of this rank's samples, read collectively once */
    dataset  ds;
    int64_t *idx;
    PetscCall(dataset_open(comm, o.given, &ds));
    PetscCall(dataset_expect(&ds, sp.mc.K, D));
    PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)((hi - lo) * D + 1), &xg));
    PetscCall(ardm_alloc(sizeof(int64_t) * (size_t)(hi - lo + 1), &idx));
    for (int64_t j = lo; j < hi; j++) idx[j - lo] = j % ds.n;
    PetscCall(dataset_read_list(&ds, idx, hi - lo, xg, NULL));
    ardm_free(&idx);
    PetscCall(dataset_close(&ds));
    PetscCheck(o.mask < GIVEN_TOP_HALF || sp.mc.img_height > 0, comm, ARDM_ERR_INPUT,
               "-given_mask top_half and centre need an image model (this checkpoint's data is %s)", sp.mc.modality);
    given_known(o.mask, D, sp.mc.img_height, sp.mc.img_width, sp.given);
  }
  PetscCall(prof_stage_pop());
  PetscCall(prof_stage_push(PROF_STAGE_SAMPLE));
  /* the sampling loop only (event ArdmSampleLoop): setup and output are not part of the budget's cost */
  PROF_BEGIN(PROF_SAMPLE_LOOP);
  for (int64_t j = lo; j < hi; j += B)
    PetscCall(sample_batch(&sp, &o, j, PetscMin(B, hi - j), xg ? xg + (j - lo) * D : NULL, x + (j - lo) * D));
  PROF_END(PROF_SAMPLE_LOOP);
  calls = sp.calls_per_stage;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &calls, 1, MPI_INT64_T, MPI_MAX, comm));
  {
    /* sampling time against the time of its network calls alone (rank 0's share), both from
       the -log_view events of the Sample stage */
    double total, fwd;
    int    n;
    PetscCall(prof_event_time(PROF_STAGE_SAMPLE, PROF_SAMPLE_LOOP, &total, &n));
    PetscCall(prof_event_time(PROF_STAGE_SAMPLE, PROF_NET_FORWARD, &fwd, &n));
    PetscCall(write_samples(comm, &o, &sp, lo, g.part ? lo : hi, x, calls)); /* part 0 writes the replica's */
    PetscCall(
        PetscPrintf(comm,
                    "ardm sample: %lld samples, %d stage(s) x budget %lld: %lld network calls per stage per batch; "
                    "rank 0: sampling %.3f s, of which %.3f s in network calls (ratio %.3f); wrote %s\n",
                    (long long)o.n, sp.mc.S, (long long)o.budget, (long long)calls, total, fwd,
                    fwd > 0 ? total / fwd : 0.0, o.out));
  }
  for (int s = 0; s < sp.mc.S; s++) PetscCall(PetscFree(sp.starts[s]));
  ardm_free(&x), ardm_free(&xg), ardm_free(&sp.given), ardm_free(&sp.sigma), ardm_free(&sp.q);
  ardm_free(&sp.streams), ardm_free(&sp.w);
  PetscCall(model_destroy(&sp.m));
  PetscCall(grid_free(&g));
  PetscCall(prof_stage_pop());
  PetscFunctionReturn(0);
}
