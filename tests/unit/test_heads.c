/* test_heads.c: the output heads: gradients against central differences (gradcheck.h),
   normalisation (probabilities over all classes/bins sum to 1), finiteness at the mixture's
   edge bins, the target mask, the initial bias, and sampling frequencies. */
#include "harness.h"
#include "gradcheck.h"
#include "nn/heads.h"
#include <stdlib.h>

/* One head under test on D dims: out[O][D], targets, mask, weights, logp, gradient. */
typedef struct {
  head     h;
  int64_t  D, O;
  float   *out, *dout, *logp, *r;
  int32_t *target;
  uint8_t *mask;
  float   *weight;
  int      stage;
} hcase;

static hcase HC;

static void h_f(void *c)
{
  head_loss(&HC.h, HC.out, HC.D, HC.target, HC.mask, HC.weight, HC.stage, HC.logp, NULL);
}
static void h_b(void *c)
{
  head_loss(&HC.h, HC.out, HC.D, HC.target, HC.mask, HC.weight, HC.stage, NULL, HC.dout);
}

static int hcase_new(head_kind kind, int64_t K, int M, int S, int b, int64_t D)
{
  CHECK_OK(head_setup(PETSC_COMM_SELF, kind, K, M, S, b, &HC.h));
  HC.D = D, HC.O = head_outputs(&HC.h);
  HC.out = calloc((size_t)(HC.O * D), sizeof(float)), HC.dout = calloc((size_t)(HC.O * D), sizeof(float));
  HC.logp = calloc((size_t)D, sizeof(float)), HC.r = calloc((size_t)D, sizeof(float));
  HC.weight = calloc((size_t)D, sizeof(float)), HC.target = calloc((size_t)D, sizeof(int32_t));
  HC.mask = calloc((size_t)D, 1);
  gc_fill(HC.out, HC.O * D, -2, 2, 3);
  gc_fill(HC.weight, D, 0.5, 2, 4);
  for (int64_t i = 0; i < D; i++) HC.mask[i] = (uint8_t)(i % 4 != 1); /* every 4th dim is known */
  return 0;
}

static void hcase_free(void)
{
  free(HC.out), free(HC.dout), free(HC.logp), free(HC.r), free(HC.weight), free(HC.target), free(HC.mask);
  memset(&HC, 0, sizeof HC);
}

/* The probe: L = sum_i r_i logp_i with r_i = -weight_i on target dims, which is the weighted
   NLL whose gradient head_loss accumulates. */
static int hcase_check(double tol)
{
  gradcheck   gc;
  static char msg[512];
  for (int64_t i = 0; i < HC.D; i++) HC.r[i] = HC.mask[i] ? -HC.weight[i] : 0.0f;
  memset(&gc, 0, sizeof gc);
  gc.y = HC.logp, gc.dy = HC.r, gc.ny = HC.D, gc.forward = h_f, gc.backward = h_b, gc.h = 1e-2, gc.max_probe = 1000;
  gc_add(&gc, "out", HC.out, HC.dout, HC.O * HC.D);
  CHECK(gc_run(&gc, tol, 1e-3, msg, sizeof msg) == 0, "%s", msg);
  /* dims that are not targets receive no gradient */
  for (int64_t i = 0; i < HC.D; i++)
    for (int64_t o = 0; o < HC.O && !HC.mask[i]; o++)
      CHECK(HC.dout[o * HC.D + i] == 0.0f, "known dim %lld", (long long)i);
  return 0;
}

/* Gradient tolerance 2e-3 of the largest entry: the heads are smooth (log-softmax, log-sigmoid)
   and compute in double or accurate float; the budget in gradcheck.h gives ~1e-4 (h = 1e-2). */
static int test_categorical_grad(void)
{
  if (hcase_new(HEAD_CATEGORICAL, 7, 0, 0, 0, 37)) return 1; /* 37 dims: two full tiles and a tail */
  for (int64_t i = 0; i < HC.D; i++) HC.target[i] = (int32_t)((i * 5) % 7);
  if (hcase_check(2e-3)) return 1;
  hcase_free();
  return 0;
}

static int test_stage_categorical_grad(void)
{
  if (hcase_new(HEAD_STAGE_CATEGORICAL, 64, 0, 3, 4, 21)) return 1;
  HC.stage = 1;
  for (int64_t i = 0; i < HC.D; i++) HC.target[i] = (int32_t)(i % 4);
  if (hcase_check(2e-3)) return 1;
  /* only the current stage's b logits are used */
  for (int64_t o = 0; o < HC.O; o++)
    if (o / 4 != 1)
      for (int64_t i = 0; i < HC.D; i++)
        CHECK(HC.dout[o * HC.D + i] == 0.0f, "stage output %lld touched", (long long)o);
  hcase_free();
  return 0;
}

/* Mixture over K = 65536 bins with targets at both edges and inside, and means/scales such that
   bins are well inside, near and far out in the tails; log-scales kept above the clamp (the
   clamp is a kink; test_mixture_clamp checks it). */
static int test_mixture_grad(void)
{
  int M = 3;
  if (hcase_new(HEAD_LOGISTIC_MIXTURE, 65536, M, 0, 0, 24)) return 1;
  for (int64_t i = 0; i < HC.D; i++) {
    HC.target[i] = (int32_t)(i % 3 == 0 ? 0 : (i % 3 == 1 ? 65535 : (i * 2731) % 65536));
    for (int m = 0; m < M; m++) {
      HC.out[(M + m) * HC.D + i] = (float)(-1.2 + 0.1 * (double)((i * 7 + m * 5) % 25)); /* means in [-1.2, 1.2] */
      HC.out[(2 * M + m) * HC.D + i] = (float)(-4.0 + 0.4 * (double)((i + m) % 10));     /* raw log-scales */
    }
  }
  if (hcase_check(2e-3)) return 1;
  hcase_free();
  return 0;
}

/* Below the clamp (log-scale - log M < -7) the log-scale output gets no gradient. */
static int test_mixture_clamp(void)
{
  if (hcase_new(HEAD_LOGISTIC_MIXTURE, 256, 2, 0, 0, 4)) return 1;
  for (int64_t i = 0; i < HC.D; i++) HC.mask[i] = 1, HC.target[i] = 100;
  for (int64_t i = 0; i < HC.D; i++) HC.out[(4 + 0) * HC.D + i] = -9.0f; /* component 0 clamped */
  h_b(NULL);
  for (int64_t i = 0; i < HC.D; i++) {
    CHECK(HC.dout[4 * HC.D + i] == 0.0f, "clamped log-scale has gradient %g", HC.dout[4 * HC.D + i]);
    CHECK(HC.dout[5 * HC.D + i] != 0.0f, "unclamped log-scale has no gradient");
  }
  hcase_free();
  return 0;
}

/* The floor bounds one bin's probability: a component centred on its bin with a log-scale at the
   floor f gives the bin P = s(a) - s(-a) = tanh(a / 2), a = e^-f / (K - 1) (half a bin width in
   units of the scale). K = 65536: the old floor -7 caps P at 0.0084 (6.9 bits, however sure the
   model is); the floor -13 that K = 65536 gets by default lets it reach 0.9977. */
static int test_mixture_floor(void)
{
  const int64_t K = 65536;
  const double  floors[2] = {HEAD_LOG_SCALE_MIN, -13.0};
  if (hcase_new(HEAD_LOGISTIC_MIXTURE, K, 1, 0, 0, 4)) return 1;
  for (int f = 0; f < 2; f++) {
    double a = exp(-floors[f]) / (double)(K - 1);
    HC.h.log_scale_min = floors[f];
    for (int64_t i = 0; i < HC.D; i++) {
      HC.mask[i] = 1, HC.target[i] = (int32_t)(1000 + 20000 * i);
      HC.out[HC.D + i] = (float)(2.0 * HC.target[i] / (double)(K - 1) - 1.0); /* the bin's centre */
      HC.out[2 * HC.D + i] = -30.0f;                                          /* far below either floor */
    }
    h_f(NULL);
    for (int64_t i = 0; i < HC.D; i++) CHECK_CLOSE(HC.logp[i], log(tanh(0.5 * a)), 2e-3);
  }
  /* The log-scale gradients of narrow components (log-scales -12.5..-9.5, above the floor -13)
     near their targets. Only the log-scale row is probed: a scale of e^-12.5 = 3.7e-6 is about 60
     float steps of a mean near 1, too few for a finite difference of the means (their formula is
     the one test_mixture_grad checks at wider scales). */
  {
    gradcheck   gc;
    static char msg[512];
    for (int64_t i = 0; i < HC.D; i++) {
      HC.out[HC.D + i] += (float)((double)(i - 1) * 1.0e-5);
      HC.out[2 * HC.D + i] = (float)(-12.5 + 1.0 * (double)i);
      HC.r[i] = -HC.weight[i];
    }
    memset(&gc, 0, sizeof gc);
    gc.y = HC.logp, gc.dy = HC.r, gc.ny = HC.D, gc.forward = h_f, gc.backward = h_b, gc.h = 1e-2, gc.max_probe = 100;
    gc_add(&gc, "log_scale", HC.out + 2 * HC.D, HC.dout + 2 * HC.D, HC.D);
    CHECK(gc_run(&gc, 2e-3, 1e-3, msg, sizeof msg) == 0, "%s", msg);
  }
  hcase_free();
  return 0;
}

/* Sum over all K bins of exp(log p) is 1 (the edge bins take the tails), for a small K and
   several parameter regimes per dim: logp is float, 6e-8 relative, so the sum is within 1e-6. */
static int test_mixture_normalised(void)
{
  int64_t K = 16, regimes = 5;
  int     M = 2;
  float   mu[5][2] = {{-0.3f, 0.6f}, {-1.5f, 1.7f}, {0.0f, 0.01f}, {0.9f, -0.95f}, {0.2f, 0.2f}};
  float   ls[5][2] = {{-1.0f, -2.0f}, {0.0f, -9.0f}, {-12.0f, -12.0f}, {3.0f, -4.0f}, {5.0f, 0.0f}};
  if (hcase_new(HEAD_LOGISTIC_MIXTURE, K, M, 0, 0, K * regimes)) return 1;
  for (int64_t rg = 0; rg < regimes; rg++)
    for (int64_t v = 0; v < K; v++) {
      int64_t i = rg * K + v;
      HC.mask[i] = 1;
      HC.target[i] = (int32_t)v;
      for (int m = 0; m < M; m++) {
        HC.out[m * HC.D + i] = (float)(0.7 * m - 0.2 * (double)rg);
        HC.out[(M + m) * HC.D + i] = mu[rg][m];
        HC.out[(2 * M + m) * HC.D + i] = ls[rg][m];
      }
    }
  h_f(NULL);
  for (int64_t rg = 0; rg < regimes; rg++) {
    double s = 0.0;
    for (int64_t v = 0; v < K; v++) s += exp((double)HC.logp[rg * K + v]);
    CHECK(fabs(s - 1.0) < 1e-6, "regime %lld: probabilities sum to %.9f", (long long)rg, s);
  }
  hcase_free();
  return 0;
}

/* Edge bins of K = 65536 with extreme parameters stay finite (value and gradient). */
static int test_mixture_edges_finite(void)
{
  float mus[4] = {-1.0f, 1.0f, -30.0f, 30.0f}, lss[3] = {-20.0f, 0.0f, 8.0f};
  if (hcase_new(HEAD_LOGISTIC_MIXTURE, 65536, 1, 0, 0, 24)) return 1;
  for (int64_t i = 0; i < HC.D; i++) {
    HC.mask[i] = 1;
    HC.target[i] = i % 2 ? 65535 : 0;
    HC.out[i] = 0.0f;
    HC.out[HC.D + i] = mus[(i / 2) % 4];
    HC.out[2 * HC.D + i] = lss[(i / 8) % 3];
  }
  h_f(NULL);
  h_b(NULL);
  for (int64_t i = 0; i < HC.D; i++) {
    CHECK(isfinite(HC.logp[i]) && HC.logp[i] <= 0.0f, "dim %lld: log p = %g", (long long)i, HC.logp[i]);
    for (int o = 0; o < 3; o++)
      CHECK(isfinite(HC.dout[o * HC.D + i]), "dim %lld output %d: gradient not finite", (long long)i, o);
  }
  hcase_free();
  return 0;
}

/* Categorical probabilities sum to 1, and masked dims report log p = 0. */
static int test_categorical_normalised(void)
{
  if (hcase_new(HEAD_CATEGORICAL, 5, 0, 0, 0, 20)) return 1;
  for (int64_t i = 0; i < HC.D; i++) HC.mask[i] = 1;
  for (int64_t i = 0; i < 4; i++) {
    double s = 0.0;
    for (int64_t k = 0; k < 5; k++) {
      for (int64_t j = 0; j < HC.D; j++) HC.target[j] = (int32_t)k;
      h_f(NULL);
      s += exp((double)HC.logp[i]);
    }
    CHECK(fabs(s - 1.0) < 1e-6, "dim %lld: probabilities sum to %.9f", (long long)i, s);
  }
  HC.mask[3] = 0;
  h_f(NULL);
  CHECK(HC.logp[3] == 0.0f, "a known dim reports log p %g", HC.logp[3]);
  hcase_free();
  return 0;
}

static int test_init_bias(void)
{
  head  h;
  float b[90];
  CHECK_OK(head_setup(PETSC_COMM_SELF, HEAD_LOGISTIC_MIXTURE, 65536, 30, 0, 0, &h));
  CHECK(head_outputs(&h) == 90, "outputs %lld", (long long)head_outputs(&h));
  head_init_bias(&h, b);
  CHECK(b[30] == -1.0f && b[59] == 1.0f && b[0] == 0.0f && b[60] == 0.0f, "bias %g %g %g %g", b[30], b[59], b[0],
        b[60]);
  for (int m = 1; m < 30; m++) CHECK(b[30 + m] > b[29 + m], "means not increasing at %d", m);
  return 0;
}

/* Sampling frequencies against the model's probabilities: N draws, each class frequency within
   5 binomial standard deviations of its probability (a false failure has probability < 1e-5
   per class; with a fixed seed the test is deterministic anyway). */
static int sample_matches(int64_t nclass, int64_t i, int stage, int N)
{
  int       *cnt = calloc((size_t)nclass, sizeof(int));
  double     T = 1.0;
  rng_stream s;
  rng_init(&s, 7, 0, 0, RNG_SAMPLE);
  HC.stage = stage;
  for (int n = 0; n < N; n++) cnt[head_sample(&HC.h, HC.out, HC.D, i, stage, T, &s)]++;
  for (int64_t v = 0; v < nclass; v++) HC.target[i] = (int32_t)v, HC.mask[i] = 1;
  for (int64_t v = 0; v < nclass; v++) {
    double p, sd;
    HC.target[i] = (int32_t)v;
    h_f(NULL);
    p = exp((double)HC.logp[i]);
    sd = sqrt(p * (1 - p) / N);
    CHECK(fabs(cnt[v] / (double)N - p) <= 5 * sd + 1e-9, "class %lld: frequency %.5f vs probability %.5f", (long long)v,
          cnt[v] / (double)N, p);
  }
  free(cnt);
  return 0;
}

static int test_sampling(void)
{
  rng_stream s;
  if (hcase_new(HEAD_CATEGORICAL, 6, 0, 0, 0, 3)) return 1;
  if (sample_matches(6, 1, 0, 40000)) return 1;
  /* temperature 0 is the argmax */
  rng_init(&s, 1, 0, 0, RNG_SAMPLE);
  {
    int32_t best = 0;
    for (int k = 1; k < 6; k++)
      if (HC.out[k * HC.D + 2] > HC.out[best * HC.D + 2]) best = k;
    CHECK(head_sample(&HC.h, HC.out, HC.D, 2, 0, 0.0, &s) == best, "greedy sample is not the argmax");
  }
  hcase_free();
  if (hcase_new(HEAD_LOGISTIC_MIXTURE, 12, 2, 0, 0, 2)) return 1;
  HC.out[2 * 2 + 0] = -0.4f, HC.out[3 * 2 + 0] = 0.5f;  /* means of dim 0 */
  HC.out[4 * 2 + 0] = -1.0f, HC.out[5 * 2 + 0] = -2.5f; /* raw log-scales */
  if (sample_matches(12, 0, 0, 40000)) return 1;
  hcase_free();
  if (hcase_new(HEAD_STAGE_CATEGORICAL, 16, 0, 2, 4, 2)) return 1;
  if (sample_matches(4, 1, 1, 40000)) return 1;
  hcase_free();
  return 0;
}

int main(int argc, char **argv)
{
  TH_INIT(&argc, &argv);
  TH_RUN(test_categorical_grad);
  TH_RUN(test_stage_categorical_grad);
  TH_RUN(test_mixture_grad);
  TH_RUN(test_mixture_clamp);
  TH_RUN(test_mixture_floor);
  TH_RUN(test_mixture_normalised);
  TH_RUN(test_mixture_edges_finite);
  TH_RUN(test_categorical_normalised);
  TH_RUN(test_init_bias);
  TH_RUN(test_sampling);
  return TH_FINISH();
}
