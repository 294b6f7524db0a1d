/* test_model_parallel.c: the audio network split along D over Q ranks (-model_parallel,
   nn/net_audio_mp.h) against the unsplit network on the same rank, for every head and an
   upscale model: losses, gradients (the replica's parts summed), per-dim log-probabilities and
   samples.

   Tolerances: the split changes only the order of float sums. Losses are sums of per-dim log
   p in double, and each dim's log p comes from outputs that differ by GEMM rounding only
   (~1e-7 relative), so 1e-5 relative. Gradients of weights are sums over D (and the batch) of
   float products; with Q parts they are summed in Q partial sums instead of one, a
   reordering whose error is a few float ulps times sqrt(D) of the largest terms: 1e-4 of the
   gradient's largest entry separates that from any real error (a missing halo column or a
   wrong neighbour changes entries by O(1) of their size). Samples must be identical: every
   rank draws from the gathered whole output with the same noise. */
// ranks: 2 4
#include "harness.h"
#include "ardm/model.h"
#include "ardm/objective.h"
#include "core/grid.h"
#include <stdlib.h>

#define NB 2 /* examples per call */

typedef struct {
  const char *name;
  head_kind   head;
  int         K, b; /* classes, upscale branching (0 = none) */
} head_case;

static const head_case CASES[] = {{"categorical", HEAD_CATEGORICAL, 8, 0},
                                  {"logistic_mixture", HEAD_LOGISTIC_MIXTURE, 300, 0},
                                  {"stage_categorical", HEAD_STAGE_CATEGORICAL, 16, 4},
                                  {"stage_data", HEAD_STAGE_DATA, 16, 4}};

static model_config config_of(const head_case *hc, int64_t D)
{
  model_config c = {.net = NET_DIFFWAVE, .blocks = 4, .channels = 6, .cycle = 3, .D = D, .K = hc->K};
  c.head = hc->head, c.mixtures = 3, c.upscale_b = hc->b;
  (void)model_config_finish(PETSC_COMM_SELF, &c);
  return c;
}

static double max_abs(const float *a, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i]));
  return m;
}

/* One head case with replicas of Q ranks: loss, gradient, log p per dim and one sampling call. */
static int check_case(const head_case *hc, int Q)
{
  const int64_t D = 37; /* not a multiple of Q: parts of unequal length */
  model_config  c = config_of(hc, D);
  grid          g;
  model         m1, mq;
  size_t        np;
  float        *par, *g1, *gq, *lp1, *lpq;
  int32_t       x[NB * D], x1[NB * D], xq[NB * D];
  int64_t       tg[NB], sigma[NB * D], tin[NB];
  uint8_t       known[NB * D], gen[NB * D];
  double        w[NB] = {0.7, 1.3}, l1[NB], lq[NB], err = 0, scale;
  rng_stream    s, st1[NB], stq[NB];

  CHECK_OK(grid_init(PETSC_COMM_WORLD, Q, &g));
  CHECK_OK(model_create(&c, NB, &m1));
  CHECK_OK(model_create_parallel(&c, NB, g.replica_comm, &mq));
  np = model_nparam(m1);
  CHECK(model_nparam(mq) == np, "parameter counts %zu and %zu", model_nparam(mq), np);
  par = calloc(np, sizeof(float)), g1 = calloc(np, sizeof(float)), gq = calloc(np, sizeof(float));
  lp1 = calloc((size_t)D, sizeof(float)), lpq = calloc((size_t)D, sizeof(float));
  model_init_params(m1, 5, par);
  rng_init(&s, 11, 0, 0, RNG_MISC); /* every weight non-zero (the final layer starts at zero) */
  for (size_t i = 0; i < np; i++) par[i] += (float)(0.05 * rng_normal(&s));
  for (int64_t b = 0; b < NB; b++) {
    for (int64_t i = 0; i < D; i++) x[b * D + i] = (int32_t)rng_below(&s, (uint64_t)c.K);
    tg[b] = (int64_t)rng_below(&s, (uint64_t)(c.S * D));
    objective_draw_order(3, 0, b, D, RNG_ORDER, sigma + b * D);
  }
  CHECK_OK(model_loss(m1, par, g1, NB, x, tg, sigma, w, l1));
  CHECK_OK(model_loss(mq, par, gq, NB, x, tg, sigma, w, lq));
  for (int b = 0; b < NB; b++) CHECK_CLOSE(lq[b], l1[b], 1e-5);
  CHECK(MPI_Allreduce(MPI_IN_PLACE, gq, (int)np, MPI_FLOAT, MPI_SUM, g.replica_comm) == 0, "allreduce");
  scale = max_abs(g1, np);
  for (size_t i = 0; i < np; i++) err = fmax(err, fabs((double)gq[i] - g1[i]));
  CHECK(scale > 0 && err <= 1e-4 * scale, "%s Q=%d: gradient differs by %g (largest entry %g)", hc->name, Q, err,
        scale);

  CHECK_OK(model_logp_dims(m1, par, x, tg[1], sigma + D, lp1));
  CHECK_OK(model_logp_dims(mq, par, x, tg[1], sigma + D, lpq));
  for (int64_t i = 0; i < D; i++) CHECK_CLOSE(lpq[i], lp1[i], 1e-5);

  /* one sampling call at stage S-1: half the dims known, the rest drawn */
  for (int64_t b = 0; b < NB; b++) {
    tin[b] = 0;
    for (int64_t i = 0; i < D; i++) {
      known[b * D + i] = (uint8_t)(sigma[b * D + i] < D / 2), gen[b * D + i] = !known[b * D + i];
      tin[b] += known[b * D + i];
    }
    rng_init(&st1[b], 9, 1, (uint64_t)b, RNG_SAMPLE), stq[b] = st1[b];
  }
  memcpy(x1, x, sizeof x), memcpy(xq, x, sizeof x);
  CHECK_OK(model_sample_step(m1, par, NB, c.S - 1, tin, x1, known, gen, 1.0, st1));
  CHECK_OK(model_sample_step(mq, par, NB, c.S - 1, tin, xq, known, gen, 1.0, stq));
  CHECK(memcmp(x1, xq, sizeof x) == 0, "%s Q=%d: samples differ", hc->name, Q);

  free(par), free(g1), free(gq), free(lp1), free(lpq);
  CHECK_OK(model_destroy(&m1));
  CHECK_OK(model_destroy(&mq));
  CHECK_OK(grid_free(&g));
  return 0;
}

static int run_all(int Q)
{
  for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++)
    if (check_case(&CASES[k], Q)) return 1;
  return 0;
}

static int test_q2(void)
{
  return run_all(2);
}

static int test_q_all(void)
{
  PetscMPIInt size;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  return run_all(size);
}

/* A part of D shorter than the widest halo is an input error naming the option. */
static int test_too_many_parts(void)
{
  head_case    hc = CASES[0];
  model_config c = config_of(&hc, 7); /* halo 4 (dilation 4): D / Q = 3 with Q = 2 */
  grid         g;
  model        m = NULL;
  CHECK_OK(grid_init(PETSC_COMM_WORLD, 2, &g));
  CHECK(grid_check_dims(&g, c.D, c.cycle, c.blocks, 3) == ARDM_ERR_INPUT, "grid_check_dims: expected an input error");
  CHECK(model_create_parallel(&c, 1, g.replica_comm, &m) == ARDM_ERR_INPUT, "model: expected an input error");
  CHECK_OK(grid_free(&g));
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_q2);
  TH_RUN(test_q_all);
  TH_RUN(test_too_many_parts);
  return TH_FINISH();
}
