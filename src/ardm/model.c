/* model.c: the ARDM model at run time (model.h): builds the network input from the data, the
   order and the stage (absorbing values, mask and stage channels, upscale transitions of
   doc/method.md section 3), runs the network, and asks the head for log-probabilities, gradients
   and samples. */
#include "ardm/model.h"
#include "nn/net_audio.h"
#include "nn/net_text.h"
#include "nn/net_image.h"
#include "nn/net_audio_mp.h"
#include "ardm/upscale.h"
#include "core/prof.h"

struct model_impl {
  model_config c;
  network      net;
  head         h;
  upscale      u;
  int64_t      max_batch;
  uint8_t     *known;       /* [max_batch][D] 1 = known (input), 0 = target */
  uint8_t     *target_mask; /* [max_batch][D] */
  int32_t     *target;      /* [max_batch][D] the head's target (class, bin or stage digit) */
  int32_t     *cur;         /* [max_batch][D] the stage's state: new value where known, else x_past */
  float       *weight;      /* [D] per-dim loss weight of the current example */
  int32_t     *value;       /* [D] network input values of the current example */
  double      *t;           /* [max_batch] time input: global t (stage * D + t_in) */
  int64_t      calls;       /* network forward calls so far (sampling budgets are checked on it) */
  /* model parallelism: the network's output holds dims [lo, lo + dn) (nn/net.h) */
  MPI_Comm     replica;         /* the ranks sharing one example (MPI_COMM_SELF: not split) */
  PetscMPIInt  Q;               /* ranks in replica */
  int64_t      lo, dn;          /* this rank's part of D */
  PetscMPIInt *counts, *displs; /* [Q] each part's dims: count and first dim */
  PetscMPIInt *gcnt, *gdsp;     /* [Q] scratch: the same scaled by the rows of a gather */
  float       *gather, *whole;  /* [max_batch][O][D] each: gathered parts, reordered (sampling only) */
  float       *logp_part;       /* [D]: this part's per-dim log-probabilities */
  PetscBool    sharded;         /* model_shard_params: parameters and gradients are slices */
};

/* The network of c (-model) behind the generic interface nn/net.h, with in_channels input
   channels per dim (value, mask, S stage one-hots when upscaling) and O outputs per dim. */
static PetscErrorCode model_net_create(const model_config *c, int in_channels, int64_t O, int64_t max_batch, int64_t S,
                                       MPI_Comm replica, network *n)
{
  PetscMPIInt Q;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(replica, &Q));
  PetscCheck(Q == 1 || c->net == NET_DIFFWAVE, PETSC_COMM_WORLD, ARDM_ERR_INPUT,
             "-model_parallel %d: only -model diffwave can be split over ranks (got -model %s)", Q,
             net_kind_names[c->net]);
  switch (c->net) {
  case NET_DIFFWAVE: {
    net_audio_config nc = {.blocks = c->blocks,
                           .channels = c->channels,
                           .cycle = c->cycle,
                           .kernel = c->kernel ? c->kernel : 3,
                           .dim = c->D,
                           .in_channels = in_channels,
                           .out_channels = (int)O,
                           .max_batch = (int)max_batch,
                           .max_time = (double)(S * c->D)};
    if (Q > 1)
      PetscCall(net_audio_mp_create(replica, &nc, n));
    else
      PetscCall(net_audio_create(PETSC_COMM_WORLD, &nc, n));
  } break;
  case NET_TRANSFORMER: {
    net_text_config nc = {.layers = c->layers,
                          .width = c->width,
                          .heads = c->heads,
                          .mlp = c->mlp,
                          .attn_bias = c->attn_bias,
                          .window = c->window,
                          .dim = c->D,
                          .K = c->K,
                          .stages = in_channels > 2 ? in_channels - 2 : 0,
                          .out_channels = (int)O,
                          .max_batch = (int)max_batch,
                          .max_time = (double)(S * c->D)};
    PetscCall(net_text_create(PETSC_COMM_WORLD, &nc, n));
  } break;
  case NET_UNET: {
    net_image_config nc = {.channels = c->channels,
                           .blocks = c->blocks,
                           .levels = c->levels,
                           .attention = c->attention,
                           .height = c->img_height,
                           .width = c->img_width,
                           .img_channels = c->img_channels,
                           .stages = in_channels - 2,
                           .fourier = c->fourier,
                           .out_channels = (int)O,
                           .max_batch = (int)max_batch,
                           .max_time = (double)(S * c->D)};
    PetscCheck((int64_t)c->img_height * c->img_width * c->img_channels == c->D, PETSC_COMM_WORLD, ARDM_ERR_INPUT,
               "-model unet needs an image data set (modality image with height x width x channels = D; got %d x %d x "
               "%d for D = %lld)",
               c->img_height, c->img_width, c->img_channels, (long long)c->D);
    PetscCall(net_image_create(PETSC_COMM_WORLD, &nc, n));
  } break;
  default:
    SETERRQ(PETSC_COMM_WORLD, ARDM_ERR_INPUT, "-model %s is not available yet", net_kind_names[c->net]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode model_create(const model_config *c, int64_t max_batch, model *mp)
{
  PetscFunctionBegin;
  PetscCall(model_create_parallel(c, max_batch, MPI_COMM_SELF, mp));
  PetscFunctionReturn(0);
}

PetscErrorCode model_create_parallel(const model_config *c, int64_t max_batch, MPI_Comm replica, model *mp)
{
  model         m;
  const int64_t D = c->D;
  PetscFunctionBegin;
  PetscCall(PetscNew(&m));
  m->c = *c, m->max_batch = max_batch;
  PetscCheck(upscale_init(&m->u, c->K, c->upscale_b) == 0, PETSC_COMM_WORLD, ARDM_ERR_INPUT,
             "upscale b = %d is not valid for K = %d", c->upscale_b, c->K);
  PetscCall(head_setup(PETSC_COMM_WORLD, c->head, c->K, c->mixtures, m->u.S, m->u.b, &m->h));
  m->h.log_scale_min = model_config_log_scale_min(c);
  PetscCall(
      model_net_create(c, 2 + (m->u.S > 1 ? m->u.S : 0), head_outputs(&m->h), max_batch, m->u.S, replica, &m->net));
  if (m->net.d_n == 0) m->net.d_lo = 0, m->net.d_n = D, m->net.comm = MPI_COMM_SELF; /* holds all of D */
  m->replica = m->net.comm, m->lo = m->net.d_lo, m->dn = m->net.d_n;
  PetscCallMPI(MPI_Comm_size(m->replica, &m->Q));
  if (m->Q > 1) {
    PetscCall(PetscMalloc4(m->Q, &m->counts, m->Q, &m->displs, m->Q, &m->gcnt, m->Q, &m->gdsp));
    for (int q = 0; q < m->Q; q++) { /* the same split as the network's (nn/net_audio_mp.c) */
      int64_t lo = D * q / m->Q;
      PetscCall(PetscMPIIntCast((PetscInt64)lo, &m->displs[q]));
      PetscCall(PetscMPIIntCast((PetscInt64)(D * (q + 1) / m->Q - lo), &m->counts[q]));
    }
    PetscCheck(m->displs[m->Q - 1] + m->counts[m->Q - 1] == D && m->counts[0] > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "model: part ranges do not cover D");
    PetscCall(ardm_alloc(sizeof(float) * (size_t)D, &m->logp_part));
  }
  PetscCall(ardm_alloc((size_t)(max_batch * D) * 2, &m->known));
  m->target_mask = m->known + max_batch * D;
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(max_batch * D) * 2, &m->target));
  m->cur = m->target + max_batch * D;
  PetscCall(ardm_alloc(sizeof(float) * (size_t)D, &m->weight));
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)D, &m->value));
  PetscCall(ardm_alloc(sizeof(double) * (size_t)max_batch, &m->t));
  *mp = m;
  PetscFunctionReturn(0);
}

/* Bytes one model of batch B holds: the network's workspace and the model's own buffers. */
static double model_held_bytes(model m)
{
  const double B = (double)m->max_batch, D = (double)m->c.D;
  return (double)m->net.ops->workspace_bytes(m->net.impl) + B * D * (2 + 2 * sizeof(int32_t)) +
         D * (sizeof(float) + sizeof(int32_t)) + B * sizeof(double);
}

PetscErrorCode model_bytes(const model_config *c, int64_t max_batch, int Q, double *bytes)
{
  model  m;
  double b1, b2;
  PetscFunctionBegin;
  if (c->net == NET_DIFFWAVE) {
    upscale u;
    head    h;
    int64_t dn = (c->D + Q - 1) / Q, B = max_batch, D = c->D;
    PetscCheck(upscale_init(&u, c->K, c->upscale_b) == 0, PETSC_COMM_WORLD, ARDM_ERR_INPUT,
               "upscale b = %d is not valid for K = %d", c->upscale_b, c->K);
    PetscCall(head_setup(PETSC_COMM_WORLD, c->head, c->K, c->mixtures, u.S, u.b, &h));
    net_audio_config nc = {.blocks = c->blocks,
                           .channels = c->channels,
                           .cycle = c->cycle,
                           .kernel = c->kernel ? c->kernel : 3,
                           .dim = dn,
                           .in_channels = 2 + (u.S > 1 ? u.S : 0),
                           .out_channels = (int)head_outputs(&h),
                           .max_batch = (int)max_batch,
                           .max_time = 1};
    /* with Q > 1 also the halo buffers: input and gradient with halos (each at most 3 parts long) */
    *bytes = (double)net_audio_config_bytes(&nc) + (Q > 1 ? 2.0 * (double)(B * c->channels * 3 * dn) * 4 : 0) +
             (double)(B * D) * (2 + 2 * sizeof(int32_t)) + (double)D * (2 * sizeof(float) + sizeof(int32_t)) +
             (double)B * sizeof(double);
    PetscFunctionReturn(0);
  }
  PetscCall(model_create(c, 1, &m));
  b1 = model_held_bytes(m);
  PetscCall(model_destroy(&m));
  PetscCall(model_create(c, 2, &m));
  b2 = model_held_bytes(m);
  PetscCall(model_destroy(&m));
  *bytes = b1 + (b2 - b1) * (double)(max_batch - 1); /* every buffer is linear in the batch */
  PetscFunctionReturn(0);
}

PetscErrorCode model_destroy(model *mp)
{
  model m = *mp;
  PetscFunctionBegin;
  if (!m) PetscFunctionReturn(0);
  network_free(&m->net);
  ardm_free(&m->known);
  ardm_free(&m->target);
  ardm_free(&m->weight);
  ardm_free(&m->value);
  ardm_free(&m->t);
  ardm_free(&m->gather);
  ardm_free(&m->whole);
  ardm_free(&m->logp_part);
  if (m->counts) PetscCall(PetscFree4(m->counts, m->displs, m->gcnt, m->gdsp));
  PetscCall(PetscFree(*mp));
  PetscFunctionReturn(0);
}

size_t model_nparam(model m)
{
  return m->net.ops->num_params(m->net.impl);
}

int64_t model_calls(model m)
{
  return m->calls;
}

void model_init_params(model m, uint64_t seed, float *params)
{
  m->net.ops->init_params(m->net.impl, params, seed);
  head_init_bias(&m->h, params + m->net.ops->output_bias_offset(m->net.impl));
}

PetscErrorCode model_init_params_slice(model m, uint64_t seed, size_t lo, size_t hi, float *out)
{
  const size_t ob = m->net.ops->output_bias_offset(m->net.impl), O = (size_t)head_outputs(&m->h);
  float       *bias;
  PetscFunctionBegin;
  if (m->c.net != NET_DIFFWAVE) { /* other networks: the whole buffer, once */
    float *all;
    PetscCall(ardm_alloc(model_nparam(m) * sizeof(float), &all));
    model_init_params(m, seed, all);
    PetscCall(PetscArraycpy(out, all + lo, hi - lo));
    ardm_free(&all);
    PetscFunctionReturn(0);
  }
  net_audio_init_params_range(m->Q > 1 ? &((net_audio_mp *)m->net.impl)->loc : (net_audio *)m->net.impl, out, lo, hi,
                              seed);
  PetscCall(ardm_alloc(O * sizeof(float), &bias));
  head_init_bias(&m->h, bias);
  for (size_t i = PetscMax(lo, ob); i < PetscMin(hi, ob + O); i++) out[i - lo] = bias[i - ob];
  ardm_free(&bias);
  PetscFunctionReturn(0);
}

PetscBool model_can_shard(model m)
{
  return m->Q > 1 && m->c.net == NET_DIFFWAVE ? PETSC_TRUE : PETSC_FALSE;
}

PetscErrorCode model_shard_params(model m, const shard *sh, const float *pslice, float *gslice)
{
  PetscFunctionBegin;
  PetscCheck(model_can_shard(m), PETSC_COMM_SELF, PETSC_ERR_SUP, "model: only a network split along D is sharded");
  PetscCall(net_audio_mp_shard(m->net.impl, sh, pslice, gslice));
  m->sharded = PETSC_TRUE;
  PetscFunctionReturn(0);
}

double model_workspace_bytes(model m)
{
  return model_held_bytes(m);
}

/* One network call on the first B prepared examples, counted; timed by the ArdmNetFwd event
   (-log_view), which also gets the call's FLOPs: the network reports those of forward +
   backward, of which the forward is taken as one third (backward computes two products per
   forward product: the input and the weight gradients). */
static void forward(model m, const float *params, int64_t B)
{
  PROF_BEGIN(PROF_NET_FORWARD);
  m->net.ops->forward(m->net.impl, params, B, m->t);
  (void)PetscLogFlops(m->net.ops->flops(m->net.impl, B) / 3);
  PROF_END(PROF_NET_FORWARD);
  m->calls++;
}

static void backward(model m, const float *params, float *grads, int64_t B)
{
  PROF_BEGIN(PROF_NET_BACKWARD);
  m->net.ops->backward(m->net.impl, params, grads);
  (void)PetscLogFlops(m->net.ops->flops(m->net.impl, B) * 2 / 3);
  PROF_END(PROF_NET_BACKWARD);
}

/* Network input of example e at stage s from its stage state cur[D] (the stage's new value
   where known, else x_past): unknown dims show the middle of the values consistent with x_past
   (upscale.h; K/2, the reference's absorbing value, without upscaling). */
static void fill_input(model m, int64_t e, int s, const int32_t *cur, const uint8_t *known)
{
  for (int64_t i = 0; i < m->c.D; i++) m->value[i] = known[i] ? cur[i] : upscale_unknown_input(&m->u, s, cur[i]);
  m->net.ops->fill_input(m->net.impl, e, m->value, known, m->c.K, s);
}

/* Example e's known/target masks (mask = sigma < t_in, doc/method.md section 1), stage state,
   network input, time input and head targets (the class, or the stage's digit). */
static void prepare_example(model m, int64_t e, const int32_t *xe, int64_t tg, const int64_t *sigma)
{
  const int64_t D = m->c.D, t_in = tg % D;
  const int     s = (int)(tg / D);
  uint8_t      *kn = m->known + e * D, *tm = m->target_mask + e * D;
  int32_t      *cb = m->cur + e * D, *tb = m->target + e * D;
  for (int64_t i = 0; i < D; i++) {
    kn[i] = sigma[i] < t_in;
    tm[i] = !kn[i];
    cb[i] = kn[i] ? upscale_future(&m->u, s, xe[i]) : upscale_past(&m->u, s, xe[i]);
    tb[i] = m->h.kind == HEAD_STAGE_CATEGORICAL ? upscale_digit(&m->u, s, xe[i]) : xe[i]; /* stage_data: the value */
  }
  fill_input(m, e, s, cb, kn);
  m->t[e] = (double)tg;
}

PetscErrorCode model_loss(model m, const float *params, float *grads, int64_t B, const int32_t *x, const int64_t *tg,
                          const int64_t *sigma, const double *w, double *logp)
{
  const int64_t D = m->c.D, O = head_outputs(&m->h);
  PetscFunctionBegin;
  PetscCheck(B <= m->max_batch, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "batch %lld > %lld", (long long)B,
             (long long)m->max_batch);
  PetscCheck(!m->sharded || (!params && (!grads || grads == ((net_audio_mp *)m->net.impl)->gslice)), PETSC_COMM_SELF,
             PETSC_ERR_ARG_WRONG, "model_loss: a sharded model takes params NULL and grads NULL or its gradient slice");
  if (B == 0 && m->sharded) { /* no example, but the other ranks' gathers and reduce-scatters need this one */
    m->net.ops->forward(m->net.impl, NULL, 0, m->t);
    if (grads) m->net.ops->backward(m->net.impl, NULL, NULL);
    PetscFunctionReturn(0);
  }
  if (B == 0) PetscFunctionReturn(0);
  for (int64_t b = 0; b < B; b++) prepare_example(m, b, x + b * D, tg[b], sigma + b * D);
  forward(m, params, B);
  PROF_BEGIN(PROF_HEAD);
  for (int64_t b = 0; b < B; b++) { /* the head on this rank's part of D: output[b] is [O][dn] */
    const int64_t lo = m->lo, dn = m->dn;
    for (int64_t i = 0; i < dn; i++) m->weight[i] = (float)w[b];
    logp[b] = head_loss(&m->h, m->net.output + b * O * dn, dn, m->target + b * D + lo, m->target_mask + b * D + lo,
                        m->weight, (int)(tg[b] / D), NULL, grads ? m->net.doutput + b * O * dn : NULL);
  }
  PROF_END(PROF_HEAD);
  /* the parts' sums make the example's; every rank of the replica returns the same logp */
  if (m->Q > 1) {
    PetscMPIInt n;
    PetscCall(PetscMPIIntCast((PetscInt64)B, &n));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, logp, n, MPI_DOUBLE, MPI_SUM, m->replica));
  }
  if (grads) backward(m, params, m->sharded ? NULL : grads, B);
  PetscFunctionReturn(0);
}

/* The whole output [B][O][D] on every rank of the replica: the network's own output when it
   holds all of D, otherwise the parts gathered and reordered (sampling draws each example's
   dims from one noise stream in order, so every rank needs every dim). */
static PetscErrorCode whole_output(model m, int64_t B, const float **out)
{
  const int64_t D = m->c.D, O = head_outputs(&m->h), rows = B * O;
  PetscMPIInt  *cnt = m->gcnt, *dsp = m->gdsp, n;
  PetscFunctionBegin;
  if (m->Q == 1) {
    *out = m->net.output;
    PetscFunctionReturn(0);
  }
  if (!m->whole) { /* allocated once, on the first sampling call (training never needs them) */
    PetscCall(ardm_alloc(sizeof(float) * (size_t)(m->max_batch * O * D), &m->gather));
    PetscCall(ardm_alloc(sizeof(float) * (size_t)(m->max_batch * O * D), &m->whole));
  }
  PetscCheck(rows * D < INT32_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "model: output too large for one gather");
  for (int q = 0; q < m->Q; q++) {
    PetscCall(PetscMPIIntCast((PetscInt64)(rows * m->counts[q]), &cnt[q]));
    PetscCall(PetscMPIIntCast((PetscInt64)(rows * m->displs[q]), &dsp[q]));
  }
  PetscCall(PetscMPIIntCast((PetscInt64)(rows * m->dn), &n));
  PetscCallMPI(MPI_Allgatherv(m->net.output, n, MPI_FLOAT, m->gather, cnt, dsp, MPI_FLOAT, m->replica));
  for (int q = 0; q < m->Q; q++) /* part q is [B][O][counts[q]] at gather + dsp[q] */
    for (int64_t r = 0; r < rows; r++)
      memcpy(m->whole + r * D + m->displs[q], m->gather + dsp[q] + r * m->counts[q],
             sizeof(float) * (size_t)m->counts[q]);
  *out = m->whole;
  PetscFunctionReturn(0);
}

PetscErrorCode model_sample_step(model m, const float *params, int64_t B, int s, const int64_t *t_in, int32_t *x,
                                 const uint8_t *known, const uint8_t *gen, double temperature, rng_stream *streams)
{
  const int64_t D = m->c.D, O = head_outputs(&m->h);
  PetscFunctionBegin;
  PetscCheck(B <= m->max_batch, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "batch %lld > %lld", (long long)B,
             (long long)m->max_batch);
  for (int64_t b = 0; b < B; b++) {
    fill_input(m, b, s, x + b * D, known + b * D);
    m->t[b] = (double)(s * D + t_in[b]);
  }
  const float *whole;
  forward(m, params, B);
  PetscCall(whole_output(m, B, &whole));
  PROF_BEGIN(PROF_HEAD);
  for (int64_t b = 0; b < B; b++) {
    const float *out = whole + b * O * D;
    int32_t     *xb = x + b * D;
    for (int64_t i = 0; i < D; i++) {
      int32_t v;
      if (!gen[b * D + i]) continue;
      v = m->h.kind == HEAD_STAGE_DATA ? head_sample_stage_data(&m->h, out, D, i, s, xb[i], temperature, &streams[b])
                                       : head_sample(&m->h, out, D, i, s, temperature, &streams[b]);
      if (m->h.kind == HEAD_STAGE_CATEGORICAL || m->h.kind == HEAD_STAGE_DATA) {
        v = upscale_compose(&m->u, s, xb[i], v);
        if (v >= m->c.K) v = m->c.K - 1; /* a digit past K when K is not a power of b */
      }
      xb[i] = v;
    }
  }
  PROF_END(PROF_HEAD);
  PetscFunctionReturn(0);
}

PetscErrorCode model_logp_dims(model m, const float *params, const int32_t *x, int64_t tg, const int64_t *sigma,
                               float *logp_dims)
{
  const int64_t lo = m->lo, dn = m->dn;
  PetscFunctionBegin;
  prepare_example(m, 0, x, tg, sigma);
  forward(m, params, 1);
  (void)head_loss(&m->h, m->net.output, dn, m->target + lo, m->target_mask + lo, NULL, (int)(tg / m->c.D),
                  m->Q > 1 ? m->logp_part : logp_dims, NULL);
  if (m->Q > 1) { /* every rank of the replica gets all D */
    PetscMPIInt n;
    PetscCall(PetscMPIIntCast((PetscInt64)dn, &n));
    PetscCallMPI(MPI_Allgatherv(m->logp_part, n, MPI_FLOAT, logp_dims, m->counts, m->displs, MPI_FLOAT, m->replica));
  }
  PetscFunctionReturn(0);
}
