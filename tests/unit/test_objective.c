/* test_objective.c: the ARDM objective through the real model code (doc/method.md sections 1, 3):
   - unbiasedness: for tiny D and K and a fixed random network, the stochastic ELBO averaged
     over every (stage, t, order) equals the order-averaged autoregressive log-likelihood
     computed by exhaustive enumeration (OA-ARDM, and upscale with K = 16, b = 2 and 4);
   - b = K is exactly the OA-ARDM (same losses for the same parameters);
   - the draws of t and orders are uniform and keyed only by (seed, step, slot);
   - the image flip mirrors every row of every channel plane, drawn with probability 1/2. */
#include "harness.h"
#include "ardm/model.h"
#include "ardm/objective.h"

#define ND 3
static const int64_t perms[6][ND] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};

static PetscErrorCode make_model(int K, int b, head_kind hk, model *m, float **params)
{
  model_config c = {
      .blocks = 2, .channels = 8, .cycle = 2, .kernel = 3, .D = ND, .K = K, .head = hk, .mixtures = 3, .upscale_b = b};
  rng_stream s;
  size_t     n;
  PetscFunctionBegin;
  PetscCall(model_config_finish(PETSC_COMM_WORLD, &c));
  PetscCall(model_create(&c, 4, m));
  n = model_nparam(*m);
  PetscCall(ardm_alloc(n * sizeof(float), params));
  model_init_params(*m, 11, *params);
  /* a non-trivial fixed network: the initial final layer is zero, so perturb everything */
  rng_init(&s, 99, 0, 0, RNG_MISC);
  for (size_t i = 0; i < n; i++) (*params)[i] += (float)(0.3 * rng_normal(&s));
  PetscFunctionReturn(0);
}

/* E over (stage, t, sigma) of the ELBO estimate versus the enumerated order-averaged AR
   log-likelihood, both in nats. They agree up to float rounding of the log-probabilities
   (head sums in float over at most D = 3 terms): 1e-5 relative. */
static int check_unbiased(int K, int b, head_kind hk)
{
  model   m;
  float  *p, lp[ND];
  int32_t x[ND] = {K - 1, 0, K / 3};
  double  elbo = 0, ar = 0, w = 0, logp;
  int     S;
  CHECK_OK(make_model(K, b, hk, &m, &p));
  S = (int)(b ? (int)ceil(log((double)K) / log((double)b) - 1e-9) : 1);
  for (int s = 0; s < S; s++)
    for (int64_t t = 0; t < ND; t++)
      for (int q = 0; q < 6; q++) {
        int64_t tg = s * ND + t;
        CHECK_OK(model_loss(m, p, NULL, 1, x, &tg, perms[q], &w, &logp));
        elbo += (double)S * ND / (double)(ND - t) * logp / (S * ND * 6.0);
        CHECK_OK(model_logp_dims(m, p, x, tg, perms[q], lp));
        for (int j = 0; j < ND; j++)
          if (perms[q][j] == t) ar += lp[j] / 6.0; /* the dim generated at step t of order q */
      }
  CHECK_CLOSE(elbo, ar, 1e-5);
  CHECK(ar < 0 && ar > -50, "log-likelihood %g out of range", ar);
  CHECK_OK(model_destroy(&m));
  ardm_free(&p);
  return 0;
}

static int test_unbiased_oa(void)
{
  return check_unbiased(5, 0, HEAD_CATEGORICAL);
}
static int test_unbiased_mixture(void)
{
  return check_unbiased(7, 0, HEAD_LOGISTIC_MIXTURE);
}
static int test_unbiased_upscale_b2(void)
{
  return check_unbiased(16, 2, HEAD_STAGE_CATEGORICAL);
}
static int test_unbiased_upscale_b4(void)
{
  return check_unbiased(16, 4, HEAD_STAGE_CATEGORICAL);
}
static int test_unbiased_data_param_b2(void)
{
  return check_unbiased(16, 2, HEAD_STAGE_DATA);
}
static int test_unbiased_data_param_b4(void)
{
  return check_unbiased(16, 4, HEAD_STAGE_DATA);
}

/* Data parametrization: at every stage and every x_past the digit probabilities sum to 1 over
   the consistent values (K = 27 is not a power of b = 4, so the last blocks are short), and the
   gradient matches central differences (logits in float, differences in double: step 1e-2 has
   truncation error ~1e-5 relative here; tolerance 1e-3). */
static int test_data_param_head(void)
{
  head       h;
  const int  K = 27, b = 4, S = 3;
  float      out[27], dout[27];
  uint8_t    mask = 1;
  rng_stream st;
  CHECK_OK(head_setup(PETSC_COMM_SELF, HEAD_STAGE_DATA, K, 0, S, b, &h));
  rng_init(&st, 8, 0, 0, RNG_MISC);
  for (int v = 0; v < K; v++) out[v] = (float)(2 * rng_normal(&st));
  for (int s = 0; s < S; s++) {
    int pr = s == 0 ? 16 : s == 1 ? 4 : 1;
    for (int past = 0; past < K; past += pr * b) {
      double total = 0;
      for (int d = 0; d < b && past + d * pr < K; d++) {
        int32_t x = past + d * pr;
        total += exp(head_loss(&h, out, 1, &x, &mask, NULL, s, NULL, NULL));
      }
      CHECK_CLOSE(total, 1.0, 1e-6);
    }
  }
  for (int32_t x = 0; x < K; x += 5)
    for (int s = 0; s < S; s++) {
      float w = 0.7f;
      memset(dout, 0, sizeof dout);
      head_loss(&h, out, 1, &x, &mask, &w, s, NULL, dout);
      for (int v = 0; v < K; v++) {
        float  keep = out[v];
        double lp, lm;
        out[v] = keep + 1e-2f;
        lp = head_loss(&h, out, 1, &x, &mask, NULL, s, NULL, NULL);
        out[v] = keep - 1e-2f;
        lm = head_loss(&h, out, 1, &x, &mask, NULL, s, NULL, NULL);
        out[v] = keep;
        CHECK(fabs(-w * (lp - lm) / 2e-2 - dout[v]) < 1e-3, "x=%d stage %d logit %d: fd %g vs %g", x, s, v,
              -w * (lp - lm) / 2e-2, (double)dout[v]);
      }
    }
  return 0;
}

static int test_b_equals_K(void)
{
  model   m1, m2;
  float  *p1, *p2;
  int32_t x[ND] = {3, 0, 7};
  double  w = 1, l1, l2;
  CHECK_OK(make_model(8, 0, HEAD_CATEGORICAL, &m1, &p1));
  CHECK_OK(make_model(8, 8, HEAD_STAGE_CATEGORICAL, &m2, &p2));
  CHECK(model_nparam(m1) == model_nparam(m2), "parameter counts differ");
  for (size_t i = 0; i < model_nparam(m1); i++) CHECK(p1[i] == p2[i], "parameters differ at %zu", i);
  for (int64_t t = 0; t < ND; t++)
    for (int q = 0; q < 6; q++) {
      CHECK_OK(model_loss(m1, p1, NULL, 1, x, &t, perms[q], &w, &l1));
      CHECK_OK(model_loss(m2, p2, NULL, 1, x, &t, perms[q], &w, &l2));
      CHECK(l1 == l2, "t=%lld order %d: %.9g vs %.9g", (long long)t, q, l1, l2);
    }
  model_destroy(&m1);
  model_destroy(&m2);
  ardm_free(&p1);
  ardm_free(&p2);
  return 0;
}

/* Upscale sampling stage by stage: after stage s every value is consistent with the stage
   before (floor(x / b^(r+1)) b^(r+1) is what the previous stage left) and has its digits
   below position r at zero; the final values are in 0..K-1. */
static int check_sampling_consistent(head_kind hk)
{
  model      m;
  float     *p;
  const int  K = 16, b = 4;
  int32_t    x[4 * ND], prev[4 * ND];
  uint8_t    known[4 * ND] = {0}, gen[4 * ND];
  int64_t    t_in[4] = {0, 0, 0, 0};
  rng_stream st[4];
  CHECK_OK(make_model(K, b, hk, &m, &p));
  for (int i = 0; i < 4 * ND; i++) x[i] = 0, gen[i] = 1;
  for (int s = 0; s < 2; s++) {
    int pw = s == 0 ? 4 : 1; /* b^r */
    for (int i = 0; i < 4 * ND; i++) prev[i] = x[i];
    for (int e = 0; e < 4; e++) rng_init(&st[e], 3, (uint64_t)s, (uint64_t)e, RNG_SAMPLE);
    CHECK_OK(model_sample_step(m, p, 4, s, t_in, x, known, gen, 1.0, st));
    for (int i = 0; i < 4 * ND; i++) {
      CHECK(x[i] >= 0 && x[i] < K, "value %d", x[i]);
      CHECK(x[i] / (pw * b) * (pw * b) == prev[i], "stage %d: %d inconsistent with %d", s, x[i], prev[i]);
      CHECK(x[i] % pw == 0, "stage %d: %d has lower digits", s, x[i]);
    }
  }
  model_destroy(&m);
  ardm_free(&p);
  return 0;
}

static int test_upscale_sampling_consistent(void)
{
  return check_sampling_consistent(HEAD_STAGE_CATEGORICAL);
}
static int test_data_param_sampling_consistent(void)
{
  return check_sampling_consistent(HEAD_STAGE_DATA);
}

/* b = K samples exactly what the OA-ARDM samples for the same parameters and noise. */
static int test_b_equals_K_samples(void)
{
  model      m1, m2;
  float     *p1, *p2;
  int32_t    x1[2 * ND] = {0}, x2[2 * ND] = {0};
  uint8_t    known[2 * ND] = {0}, gen[2 * ND] = {1, 0, 1, 1, 1, 0};
  int64_t    t_in[2] = {0, 0};
  rng_stream a[2], c[2];
  CHECK_OK(make_model(8, 0, HEAD_CATEGORICAL, &m1, &p1));
  CHECK_OK(make_model(8, 8, HEAD_STAGE_CATEGORICAL, &m2, &p2));
  for (int e = 0; e < 2; e++) rng_init(&a[e], 4, 0, (uint64_t)e, RNG_SAMPLE), c[e] = a[e];
  CHECK_OK(model_sample_step(m1, p1, 2, 0, t_in, x1, known, gen, 1.0, a));
  CHECK_OK(model_sample_step(m2, p2, 2, 0, t_in, x2, known, gen, 1.0, c));
  for (int i = 0; i < 2 * ND; i++) CHECK(x1[i] == x2[i], "dim %d: %d vs %d", i, x1[i], x2[i]);
  model_destroy(&m1);
  model_destroy(&m2);
  ardm_free(&p1);
  ardm_free(&p2);
  return 0;
}

/* t is uniform over 0..T-1 (chi-square over 12 bins, 12000 draws: 99.99% quantile of chi2(11)
   is 35.6), antithetic draws cover every stratum, and orders are permutations. */
static int test_draws(void)
{
  int64_t hist[12] = {0}, sigma[10];
  double  chi2 = 0;
  for (int64_t g = 0; g < 12000; g++) hist[objective_draw_t(5, g / 16, g % 16, 16, 12, PETSC_FALSE, RNG_T)]++;
  for (int i = 0; i < 12; i++) chi2 += (hist[i] - 1000.0) * (hist[i] - 1000.0) / 1000.0;
  CHECK(chi2 < 35.6, "t not uniform: chi2 = %g", chi2);
  for (int64_t g = 0; g < 12; g++)
    CHECK(objective_draw_t(5, 3, g, 12, 12, PETSC_TRUE, RNG_T) == g, "antithetic slot %lld", (long long)g);
  objective_draw_order(5, 1, 2, 10, RNG_ORDER, sigma);
  for (int i = 0; i < 10; i++) {
    int seen = 0;
    for (int j = 0; j < 10; j++) seen += sigma[j] == i;
    CHECK(seen == 1, "order is not a permutation");
  }
  return 0;
}

/* objective_flip_image on [2][3][5] and [1][2][4] (odd and even widths): x'[c][h][w] =
   x[c][h][W-1-w]; the flip draw is a fair coin (20000 slots: 4.5 sigma = 318) and a pure
   function of (seed, step, slot). */
static int test_flip(void)
{
  const int64_t dims[2][3] = {{2, 3, 5}, {1, 2, 4}};
  int32_t       x[30];
  int64_t       heads = 0;
  for (int k = 0; k < 2; k++) {
    int64_t C = dims[k][0], H = dims[k][1], W = dims[k][2];
    for (int64_t i = 0; i < C * H * W; i++) x[i] = (int32_t)i;
    objective_flip_image(x, C, H, W);
    for (int64_t i = 0; i < C * H * W; i++)
      CHECK(x[i] == (int32_t)(i - i % W + (W - 1 - i % W)), "flip of %lld x %lld x %lld at %lld: %d", (long long)C,
            (long long)H, (long long)W, (long long)i, x[i]);
  }
  for (int64_t g = 0; g < 20000; g++) heads += objective_draw_flip(7, g / 16, g % 16);
  CHECK(heads > 10000 - 318 && heads < 10000 + 318, "flip not fair: %lld of 20000", (long long)heads);
  CHECK(objective_draw_flip(7, 3, 5) == objective_draw_flip(7, 3, 5), "flip draw not a pure function");
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_unbiased_oa);
  TH_RUN(test_unbiased_mixture);
  TH_RUN(test_unbiased_upscale_b2);
  TH_RUN(test_unbiased_upscale_b4);
  TH_RUN(test_unbiased_data_param_b2);
  TH_RUN(test_unbiased_data_param_b4);
  TH_RUN(test_data_param_head);
  TH_RUN(test_b_equals_K);
  TH_RUN(test_upscale_sampling_consistent);
  TH_RUN(test_data_param_sampling_consistent);
  TH_RUN(test_b_equals_K_samples);
  TH_RUN(test_draws);
  TH_RUN(test_flip);
  return TH_FINISH();
}
