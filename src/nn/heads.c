/* heads.c: categorical, discretized logistic mixture and per-stage categorical heads: log
   probabilities, gradients and sampling (see heads.h). */
#include "nn/heads.h"
#include "nn/layers.h"
#include <float.h>
#include <math.h>
#include <string.h>

#define TILE   16  /* dims handled together, so loops over classes read contiguous rows */
#define M_MAX  256 /* mixture components */
#define CHUNKS 64  /* the loss is summed in this many fixed pieces of D (threads take whole pieces) */

static const char *const KIND_NAMES[] = {"categorical", "logistic_mixture", "stage_categorical", "stage_data"};

const char *head_kind_name(head_kind kind)
{
  return KIND_NAMES[kind];
}

PetscErrorCode head_setup(MPI_Comm comm, head_kind kind, int64_t K, int M, int S, int b, head *h)
{
  PetscFunctionBegin;
  PetscCheck(K >= 2, comm, ARDM_ERR_INPUT, "head: need K >= 2 classes (got %lld)", (long long)K);
  PetscCheck(kind != HEAD_LOGISTIC_MIXTURE || (M >= 1 && M <= M_MAX), comm, ARDM_ERR_INPUT,
             "head logistic_mixture: components must be in 1..%d (got %d)", M_MAX, M);
  PetscCheck((kind != HEAD_STAGE_CATEGORICAL && kind != HEAD_STAGE_DATA) || (b >= 2 && S >= 1), comm, ARDM_ERR_INPUT,
             "head stage_categorical: need -upscale_b >= 2 and >= 1 stage (got b %d, S %d)", b, S);
  h->kind = kind;
  h->K = K;
  h->M = M;
  h->S = S;
  h->b = b;
  h->log_scale_min = HEAD_LOG_SCALE_MIN;
  PetscFunctionReturn(0);
}

int64_t head_outputs(const head *h)
{
  switch (h->kind) {
  case HEAD_CATEGORICAL:
  case HEAD_STAGE_DATA:
    return h->K;
  case HEAD_LOGISTIC_MIXTURE:
    return 3 * (int64_t)h->M;
  default:
    return (int64_t)h->S * h->b;
  }
}

void head_init_bias(const head *h, float *bias)
{
  memset(bias, 0, (size_t)head_outputs(h) * sizeof(float));
  if (h->kind == HEAD_LOGISTIC_MIXTURE)
    for (int m = 0; m < h->M; m++) bias[h->M + m] = h->M > 1 ? (float)(-1.0 + 2.0 * m / (h->M - 1)) : 0.0f;
}

/* ---- categorical over n classes: logits[n][D] ---- */

/* The dims of tiles t0..t1-1 (TILE dims each). */
static double categorical_loss(const float *logits, int64_t n, int64_t D, const int32_t *target, const uint8_t *mask,
                               const float *weight, float *logp, float *dlogits, int64_t t0, int64_t t1)
{
  double total = 0.0;
  for (int64_t i0 = t0 * TILE; i0 < D && i0 < t1 * TILE; i0 += TILE) {
    int64_t nt = D - i0 < TILE ? D - i0 : TILE;
    float   mx[TILE], se[TILE], lse[TILE], wt[TILE];
    int64_t tg[TILE];
    int     any = 0;
    for (int64_t j = 0; j < nt; j++) any |= mask[i0 + j] != 0;
    if (logp)
      for (int64_t j = 0; j < nt; j++) logp[i0 + j] = 0.0f;
    if (!any) continue;
    for (int64_t j = 0; j < nt; j++) mx[j] = -FLT_MAX, se[j] = 0.0f;
    for (int64_t k = 0; k < n; k++)      /* a select, not fmaxf (a library call that stops vectorisation); */
      for (int64_t j = 0; j < nt; j++) { /* a NaN logit leaves mx as fmaxf would, and reaches the loss */
        float v = logits[k * D + i0 + j];
        mx[j] = v > mx[j] ? v : mx[j];
      }
    for (int64_t k = 0; k < n; k++)
      for (int64_t j = 0; j < nt; j++) se[j] += ardm_expf(logits[k * D + i0 + j] - mx[j]);
    for (int64_t j = 0; j < nt; j++) lse[j] = mx[j] + logf(se[j]); /* log sum exp */
    for (int64_t j = 0; j < nt; j++) {
      float lp;
      if (!mask[i0 + j]) continue;
      lp = logits[(int64_t)target[i0 + j] * D + i0 + j] - lse[j];
      total += lp;
      if (logp) logp[i0 + j] = lp;
    }
    if (!dlogits) continue;
    /* d(-w log softmax_t)/d logit_k = w (softmax_k - [k == t]); the weights and targets of the
       tile are gathered first, so that the loop over the tile has no conditional loads and
       vectorises */
    for (int64_t j = 0; j < nt; j++) wt[j] = mask[i0 + j] ? (weight ? weight[i0 + j] : 1.0f) : 0.0f;
    for (int64_t j = 0; j < nt; j++) tg[j] = target[i0 + j];
    for (int64_t k = 0; k < n; k++)
      for (int64_t j = 0; j < nt; j++)
        dlogits[k * D + i0 + j] += wt[j] * (ardm_expf(logits[k * D + i0 + j] - lse[j]) - (k == tg[j] ? 1.0f : 0.0f));
  }
  return total;
}

/* ---- discretized logistic mixture ---- */

static double softplus(double x)
{
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}
static double sigmoid(double x)
{
  return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* log P(bin v) for one logistic with mean mu and inverse scale is, and its derivatives w.r.t.
   mu and the log-scale. With a = is (x + hw - mu), b = is (x - hw - mu):
     interior:   log(s(a) - s(b)) = log s(a) + log s(-b) + log(-expm1(b - a))
     first bin:  log s(a)          (the bin extends to -inf)
     last bin:   log s(-b)         (the bin extends to +inf)
   using s(a) - s(b) = s(a) s(-b) (1 - e^(b-a)); every term is a stable log-sigmoid/expm1. */
static double logistic_bin(double x, double hw, int edge, double mu, double is, double *dmu, double *dls)
{
  double a = is * (x + hw - mu), b = is * (x - hw - mu);
  if (edge < 0) {
    *dmu = -is * sigmoid(-a);
    *dls = -a * sigmoid(-a);
    return -softplus(-a);
  }
  if (edge > 0) {
    *dmu = is * sigmoid(b);
    *dls = b * sigmoid(b);
    return -softplus(b);
  }
  {
    double z = fmax(a - b, 1e-300), zq = z < 1e-8 ? 1.0 - 0.5 * z : z / expm1(z); /* z / (e^z - 1) */
    /* d/da = s(-a) + 1/expm1(z), d/db = -s(b) - 1/expm1(z); a and b move with -is per mu and
       with -a, -b per log-scale */
    *dmu = -is * (sigmoid(-a) - sigmoid(b));
    *dls = -(a * sigmoid(-a) - b * sigmoid(b) + zq);
    return -softplus(-a) - softplus(b) + log(-expm1(-z));
  }
}

/* One dim of the mixture: returns log p(v); with dout, adds -w d log p / d out. */
static double mixture_dim(const head *h, const float *out, int64_t D, int64_t i, int32_t v, double w, float *dout)
{
  int    M = h->M;
  double x = 2.0 * v / (double)(h->K - 1) - 1.0, hw = 1.0 / (double)(h->K - 1), logM = log((double)M);
  int    edge = v == 0 ? -1 : (v == h->K - 1 ? 1 : 0);
  double lw[M_MAX], lf[M_MAX], dmu[M_MAX], dls[M_MAX], mx = -DBL_MAX, lse = 0.0, lp = -DBL_MAX, s = 0.0;
  for (int m = 0; m < M; m++) mx = fmax(mx, out[(int64_t)m * D + i]);
  for (int m = 0; m < M; m++) lse += exp(out[(int64_t)m * D + i] - mx);
  lse = mx + log(lse);
  for (int m = 0; m < M; m++) {
    double ls = (double)out[(int64_t)(2 * M + m) * D + i] - logM;
    int    clamped = ls < h->log_scale_min;
    if (clamped) ls = h->log_scale_min;
    lw[m] = out[(int64_t)m * D + i] - lse; /* log mixture weight */
    lf[m] = lw[m] + logistic_bin(x, hw, edge, out[(int64_t)(M + m) * D + i], exp(-ls), &dmu[m], &dls[m]);
    if (clamped) dls[m] = 0.0;
    lp = fmax(lp, lf[m]);
  }
  for (int m = 0; m < M; m++) s += exp(lf[m] - lp);
  lp += log(s);
  if (dout)
    for (int m = 0; m < M; m++) {
      double r = exp(lf[m] - lp); /* responsibility of component m */
      dout[(int64_t)m * D + i] += (float)(-w * (r - exp(lw[m])));
      dout[(int64_t)(M + m) * D + i] += (float)(-w * r * dmu[m]);
      dout[(int64_t)(2 * M + m) * D + i] += (float)(-w * r * dls[m]);
    }
  return lp;
}

/* argmax_k (logit_k / T + Gumbel_k) over n logits at stride D; T = 0: argmax logit. */
static int32_t gumbel_max(const float *logits, int64_t n, int64_t D, double T, rng_stream *rng)
{
  int32_t best = 0;
  double  bv = -DBL_MAX;
  for (int64_t k = 0; k < n; k++) {
    double v = T > 0 ? logits[k * D] / T + rng_gumbel(rng) : logits[k * D];
    if (v > bv) bv = v, best = (int32_t)k;
  }
  return best;
}

/* ---- data parametrization of the upscale stages ---- */

/* b^r for the digit position r = S - 1 - stage. */
static int64_t stage_pow(const head *h, int stage)
{
  int64_t p = 1;
  for (int j = 0; j < h->S - 1 - stage; j++) p *= h->b;
  return p;
}

/* log sum exp of logits[v * D] for v in lo..hi-1 */
static double lse_range(const float *logits, int64_t D, int64_t lo, int64_t hi)
{
  double mx = -DBL_MAX, s = 0;
  for (int64_t v = lo; v < hi; v++) mx = fmax(mx, logits[v * D]);
  for (int64_t v = lo; v < hi; v++) s += exp(logits[v * D] - mx);
  return mx + log(s);
}

/* One dim: log p(digit of x) = LSE(values with x's digits so far) - LSE(values consistent with
   x_past); d(-w log p)/d logit_v = w (softmax over the consistent values - softmax over the
   digit's values). */
static double stage_data_dim(const head *h, const float *logits, int64_t D, int stage, int32_t x, double w,
                             float *dlogits)
{
  int64_t pr = stage_pow(h, stage), pr1 = pr * h->b;
  int64_t past = x / pr1 * pr1, blo = x / pr * pr;
  int64_t chi = past + pr1 < h->K ? past + pr1 : h->K, bhi = blo + pr < h->K ? blo + pr : h->K;
  double  lc = lse_range(logits, D, past, chi), lb = lse_range(logits, D, blo, bhi);
  if (dlogits)
    for (int64_t v = past; v < chi; v++) {
      double q = exp(logits[v * D] - lc), qb = v >= blo && v < bhi ? exp(logits[v * D] - lb) : 0;
      dlogits[v * D] += (float)(w * (q - qb));
    }
  return lb - lc;
}

int32_t head_sample_stage_data(const head *h, const float *out, int64_t D, int64_t i, int stage, int32_t past,
                               double temperature, rng_stream *rng)
{
  int64_t pr = stage_pow(h, stage), pr1 = pr * h->b, hi = past + pr1 < h->K ? past + pr1 : h->K;
  int32_t v = gumbel_max(out + (int64_t)past * D + i, hi - past, D, temperature, rng);
  return (int32_t)(v / pr); /* the digit of past + v */
}

/* The loss of the dims i0..i1-1 (categorical kinds: of the tiles i0..i1-1). */
static double head_loss_part(const head *h, const float *out, int64_t D, const int32_t *target, const uint8_t *mask,
                             const float *weight, int stage, float *logp, float *dout, int64_t i0, int64_t i1)
{
  double total = 0.0;
  if (h->kind == HEAD_CATEGORICAL) return categorical_loss(out, h->K, D, target, mask, weight, logp, dout, i0, i1);
  if (h->kind == HEAD_STAGE_CATEGORICAL) {
    int64_t off = (int64_t)stage * h->b * D;
    return categorical_loss(out + off, h->b, D, target, mask, weight, logp, dout ? dout + off : NULL, i0, i1);
  }
  if (h->kind == HEAD_STAGE_DATA) {
    for (int64_t i = i0; i < i1; i++) {
      double lp =
          mask[i] ? stage_data_dim(h, out + i, D, stage, target[i], weight ? weight[i] : 1.0, dout ? dout + i : NULL)
                  : 0.0;
      if (logp) logp[i] = (float)lp;
      total += lp;
    }
    return total;
  }
  for (int64_t i = i0; i < i1; i++) {
    double lp;
    if (!mask[i]) {
      if (logp) logp[i] = 0.0f;
      continue;
    }
    lp = mixture_dim(h, out, D, i, target[i], weight ? weight[i] : 1.0, dout);
    if (logp) logp[i] = (float)lp;
    total += lp;
  }
  return total;
}

double head_loss(const head *h, const float *out, int64_t D, const int32_t *target, const uint8_t *mask,
                 const float *weight, int stage, float *logp, float *dout)
{
  /* CHUNKS fixed pieces (of tiles for the categorical kinds), summed in order: the total does
     not depend on how many threads computed the pieces */
  const int64_t n = h->kind == HEAD_CATEGORICAL || h->kind == HEAD_STAGE_CATEGORICAL ? (D + TILE - 1) / TILE : D;
  double        part[CHUNKS], total = 0.0;
#pragma omp parallel for schedule(static) if (D * head_outputs(h) > NN_PAR_MIN)
  for (int c = 0; c < CHUNKS; c++)
    part[c] = head_loss_part(h, out, D, target, mask, weight, stage, logp, dout, n * c / CHUNKS, n * (c + 1) / CHUNKS);
  for (int c = 0; c < CHUNKS; c++) total += part[c];
  return total;
}

/* ---- sampling ---- */

int32_t head_sample(const head *h, const float *out, int64_t D, int64_t i, int stage, double temperature,
                    rng_stream *rng)
{
  if (h->kind == HEAD_CATEGORICAL) return gumbel_max(out + i, h->K, D, temperature, rng);
  if (h->kind == HEAD_STAGE_CATEGORICAL)
    return gumbel_max(out + (int64_t)stage * h->b * D + i, h->b, D, temperature, rng);
  {
    int     M = h->M;
    int32_t m = gumbel_max(out + i, M, D, temperature, rng);
    double  mu = out[(int64_t)(M + m) * D + i],
           ls = fmax(out[(int64_t)(2 * M + m) * D + i] - log((double)M), h->log_scale_min);
    double u = rng_uniform_pos(rng), xs = mu + (temperature > 0 ? temperature * exp(ls) * (log(u) - log1p(-u)) : 0.0);
    /* the bin whose centre 2v/(K-1) - 1 is nearest; outside [-1, 1] the edge bins */
    double v = floor((xs + 1.0) * 0.5 * (double)(h->K - 1) + 0.5);
    return (int32_t)(v < 0 ? 0 : (v > (double)(h->K - 1) ? (double)(h->K - 1) : v));
  }
}
