/* net_text.c: the Transformer ARDM network (see net_text.h for the architecture): parameter
   layout, initialisation, workspace, forward and backward over the layers of layers.h and
   layer_attn.h. */
#include "nn/net_text.h"
#include "nn/layer_attn.h"
#include "nn/layers.h"
#include "core/rng.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LN_EPS 1e-5f

static size_t add_tensor(net_text *net, const char *name, size_t count, int fan_in, float std)
{
  net_tensor *t = &net->tensors[net->ntensors];
  snprintf(t->name, sizeof t->name, "%s", name);
  t->offset = net->nparams;
  t->count = count;
  t->fan_in = fan_in;
  net->init_std[net->ntensors++] = std;
  net->nparams += count;
  return t->offset;
}

/* Per block, in this order (offsets relative to the block's start). */
enum { B_LN1G, B_LN1B, B_QKVW, B_QKVB, B_PROJW, B_PROJB, B_LN2G, B_LN2B, B_FC1W, B_FC1B, B_FC2W, B_FC2B, B_N };

typedef struct {
  size_t off[B_N];
} block_layout;

static block_layout block_offsets(const net_text_config *c)
{
  size_t       W = (size_t)c->width, M = (size_t)c->mlp * W;
  size_t       cnt[B_N] = {W, W, 3 * W * W, 3 * W, W * W, W, W, W, M * W, M, W * M, W};
  block_layout b;
  size_t       at = 0;
  for (int k = 0; k < B_N; k++) b.off[k] = at, at += cnt[k];
  return b;
}

/* The flat layout: token, position (and stage) tables, time MLP, the blocks, the final layer
   norm and the head. */
static void build_layout(net_text *net)
{
  const net_text_config *c = &net->cfg;
  size_t                 W = (size_t)c->width, M = (size_t)c->mlp * W, D = (size_t)c->dim, O = (size_t)c->out_channels;
  float                  res = (float)(1.0 / sqrt(2.0 * c->layers)), sw = (float)(1.0 / sqrt((double)W));
  float                  sm = (float)(1.0 / sqrt((double)M));
  char                   nm[32];
  net->off_tok = add_tensor(net, "tok.emb", (size_t)net->vocab * W, 0, 1.0f);
  net->off_win = net->nparams; /* left_1, right_1, left_2, ... each [V + 1][W] */
  for (int o = 1; o <= c->window; o++) {
    snprintf(nm, sizeof nm, "tok.left%d", o);
    add_tensor(net, nm, (size_t)(net->vocab + 1) * W, 0, 1.0f);
    snprintf(nm, sizeof nm, "tok.right%d", o);
    add_tensor(net, nm, (size_t)(net->vocab + 1) * W, 0, 1.0f);
  }
  net->off_pos = add_tensor(net, "pos.emb", D * W, 0, 0.5f);
  net->off_stage = c->stages > 1 ? add_tensor(net, "stage.emb", (size_t)c->stages * W, 0, 0.5f) : 0;
  net->off_t1w = add_tensor(net, "time.dense1.w", W * W, (int)W, sw);
  net->off_t1b = add_tensor(net, "time.dense1.b", W, 0, 0.0f);
  net->off_t2w = add_tensor(net, "time.dense2.w", W * W, (int)W, sw);
  net->off_t2b = add_tensor(net, "time.dense2.b", W, 0, 0.0f);
  net->off_blk0 = net->nparams;
  for (int i = 0; i < c->layers; i++) {
    static const char *const names[B_N] = {"ln1.g", "ln1.b", "qkv.w", "qkv.b", "proj.w", "proj.b",
                                           "ln2.g", "ln2.b", "fc1.w", "fc1.b", "fc2.w",  "fc2.b"};
    const size_t             cnt[B_N] = {W, W, 3 * W * W, 3 * W, W * W, W, W, W, M * W, M, W * M, W};
    const int                fan[B_N] = {0, 0, (int)W, 0, (int)W, 0, 0, 0, (int)W, 0, (int)M, 0};
    const float              std[B_N] = {-1, 0, sw, 0, sw * res, 0, -1, 0, sw, 0, sm * res, 0};
    for (int k = 0; k < B_N; k++) {
      snprintf(nm, sizeof nm, "block%d.%s", i, names[k]);
      add_tensor(net, nm, cnt[k], fan[k], std[k]);
    }
  }
  net->blk_stride = (net->nparams - net->off_blk0) / (size_t)c->layers;
  net->off_lnfg = add_tensor(net, "final.ln.g", W, 0, -1.0f);
  net->off_lnfb = add_tensor(net, "final.ln.b", W, 0, 0.0f);
  net->off_hw = add_tensor(net, "head.w", O * W, (int)W, 0.0f); /* zero: the initial output is the bias */
  net->off_hb = add_tensor(net, "head.b", O, 0, 0.0f);
}

/* Carves the workspace into the activation buffers; with base == NULL only counts floats. */
static size_t carve(net_text *net, float *base)
{
  const net_text_config *c = &net->cfg;
  size_t                 Bm = (size_t)c->max_batch, D = (size_t)c->dim, W = (size_t)c->width, L = (size_t)c->layers;
  size_t                 N = Bm * D, M = (size_t)c->mlp * W, O = (size_t)c->out_channels, H = (size_t)c->heads, at = 0;
#define TAKE(ptr, n) (net->ptr = base ? base + at : NULL, at += (n))
  TAKE(output, Bm * O * D);
  TAKE(doutput, Bm * O * D);
  TAKE(xs, (L + 1) * N * W);
  TAKE(mean1, L * N);
  TAKE(rstd1, L * N);
  TAKE(mean2, L * N);
  TAKE(rstd2, L * N);
  TAKE(qkv, L * N * 3 * W);
  TAKE(att, L * N * W);
  TAKE(mid, L * N * W);
  TAKE(hpre, L * N * M);
  TAKE(prob, L * Bm * H * D * D);
  TAKE(lnout, N * W);
  TAKE(hact, N * M);
  TAKE(meanf, N);
  TAKE(rstdf, N);
  TAKE(dx, N * W);
  TAKE(dmid, N * W);
  TAKE(dln, N * W);
  TAKE(dqkv, N * 3 * W);
  TAKE(datt, N * W);
  TAKE(dh, N * M);
  TAKE(dhpre, N * M);
  TAKE(ds, D * D);
  TAKE(e0, Bm * W);
  TAKE(a1, Bm * W);
  TAKE(h1, Bm * W);
  TAKE(temb, Bm * W);
  TAKE(dtemb, Bm * W);
  TAKE(dh1, Bm * W);
  TAKE(da1, Bm * W);
#undef TAKE
  return at;
}

PetscErrorCode net_text_setup(MPI_Comm comm, const net_text_config *cfg, net_text *net)
{
  PetscFunctionBegin;
  memset(net, 0, sizeof *net);
  PetscCheck(cfg->layers >= 1 && cfg->heads >= 1 && cfg->mlp >= 1, comm, ARDM_ERR_INPUT,
             "transformer: -model_layers, -model_heads and -model_mlp must be >= 1 (got %d, %d, %d)", cfg->layers,
             cfg->heads, cfg->mlp);
  PetscCheck(cfg->width >= 4 && cfg->width % 2 == 0 && cfg->width % cfg->heads == 0, comm, ARDM_ERR_INPUT,
             "transformer: -model_width %d must be even, >= 4 and divisible by -model_heads %d", cfg->width,
             cfg->heads);
  PetscCheck(cfg->attn_bias == ATTN_BIAS_NONE || cfg->attn_bias == ATTN_BIAS_DISTANCE, comm, ARDM_ERR_INPUT,
             "transformer: attention bias %d: expected 0 (none) or 1 (distance)", cfg->attn_bias);
  PetscCheck(cfg->window >= 0 && cfg->window <= NET_TEXT_MAX_WINDOW, comm, ARDM_ERR_INPUT,
             "transformer: input window %d: expected 0..%d", cfg->window, NET_TEXT_MAX_WINDOW);
  PetscCheck(cfg->dim >= 1 && cfg->K >= 2 && cfg->out_channels >= 1 && cfg->max_batch >= 1 && cfg->max_time > 0, comm,
             ARDM_ERR_INPUT, "transformer: need D >= 1, K >= 2, >= 1 output, batch >= 1 and max_time > 0");
  net->cfg = *cfg;
  net->vocab = cfg->stages > 1 ? 2 * (int64_t)cfg->K + 1 : (int64_t)cfg->K + 1;
  PetscCall(ardm_alloc(sizeof(net_tensor) * (size_t)(B_N * cfg->layers + 2 * cfg->window + 16), &net->tensors));
  PetscCall(ardm_alloc(sizeof(float) * (size_t)(B_N * cfg->layers + 2 * cfg->window + 16), &net->init_std));
  build_layout(net);
  net->work_floats = carve(net, NULL);
  PetscCall(ardm_alloc(net->work_floats * sizeof(float), &net->work));
  memset(net->work, 0, net->work_floats * sizeof(float)); /* fault the pages in now, not in a step */
  carve(net, net->work);
  PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(cfg->max_batch * cfg->dim), &net->idx));
  PetscCall(ardm_alloc(sizeof(int) * (size_t)cfg->max_batch, &net->stage));
  PetscFunctionReturn(0);
}

void net_text_free(net_text *net)
{
  ardm_free(&net->work);
  ardm_free(&net->tensors);
  ardm_free(&net->init_std);
  ardm_free(&net->idx);
  ardm_free(&net->stage);
  memset(net, 0, sizeof *net);
}

size_t net_text_num_params(const net_text *net)
{
  return net->nparams;
}
int net_text_num_tensors(const net_text *net)
{
  return net->ntensors;
}
const net_tensor *net_text_tensor(const net_text *net, int i)
{
  return &net->tensors[i];
}
size_t net_text_output_bias_offset(const net_text *net)
{
  return net->off_hb;
}
size_t net_text_workspace_bytes(const net_text *net)
{
  return net->work_floats * sizeof(float) + (size_t)(net->cfg.max_batch * net->cfg.dim) * sizeof(int32_t);
}

void net_text_init_params(const net_text *net, float *params, uint64_t seed)
{
  for (int i = 0; i < net->ntensors; i++) {
    const net_tensor *t = &net->tensors[i];
    double            std = net->init_std[i];
    rng_stream        s;
    rng_init(&s, seed, 0, (uint64_t)i, RNG_INIT);
    for (size_t j = 0; j < t->count; j++)
      params[t->offset + j] = std > 0 ? (float)(std * rng_normal(&s)) : std < 0 ? 1.0f : 0.0f;
  }
}

void net_text_describe(const net_text *net, char *buf, size_t len)
{
  const net_text_config *c = &net->cfg;
  snprintf(buf, len,
           "transformer: %d layers x %d wide, %d heads, MLP %dx, attention bias %s, input window %d, D %lld, %lld "
           "input symbols -> %d outputs/position, %zu parameters (%.2f M), attention probabilities %.1f MB",
           c->layers, c->width, c->heads, c->mlp, c->attn_bias == ATTN_BIAS_DISTANCE ? "distance" : "none", c->window,
           (long long)c->dim, (long long)net->vocab, c->out_channels, net->nparams, (double)net->nparams / 1e6,
           (double)c->layers * c->max_batch * c->heads * (double)c->dim * (double)c->dim * 4 / 1e6);
}

double net_text_flops(const net_text *net, int64_t batch)
{
  const net_text_config *c = &net->cfg;
  double                 W = c->width, D = (double)c->dim, M = c->mlp * W, O = c->out_channels, N = (double)batch * D;
  double                 blk = 2.0 * N * (3 * W * W + W * W + 2 * W * M) + 2.0 * 2.0 * (double)batch * D * D * W;
  double                 head = 2.0 * N * W * O, time = 2.0 * (double)batch * 2 * W * W;
  return 3.0 * (c->layers * blk + head + time);
}

void net_text_fill_input(net_text *net, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage)
{
  const net_text_config *c = &net->cfg;
  int32_t               *ix = net->idx + e * c->dim;
  ArdmAssert(e >= 0 && e < c->max_batch && K == c->K && (c->stages <= 1 || (stage >= 0 && stage < c->stages)),
             "example, batch or stage out of range");
  for (int64_t i = 0; i < c->dim; i++) {
    ArdmAssert(v[i] >= 0 && v[i] < K, "value out of 0..K-1");
    ix[i] = known[i] ? v[i] : c->stages > 1 ? (int32_t)(K + 1 + v[i]) : (int32_t)K;
  }
  net->stage[e] = c->stages > 1 ? stage : 0;
}

/* The input window (net_text.h): x[B][D][W] += left_o[s_{i-o}] + right_o[s_{i+o}] for o = 1..R,
   the symbol V where i -+ o falls outside the sequence. */
static void window_forward(float *x, const int32_t *idx, const float *tables, int64_t B, int64_t D, int64_t W,
                           int64_t V, int R)
{
  for (int o = 1; o <= R; o++) {
    const float *left = tables + (size_t)(2 * o - 2) * (V + 1) * W, *right = left + (V + 1) * W;
    for (int64_t b = 0; b < B; b++)
      for (int64_t i = 0; i < D; i++) {
        const int64_t sl = i - o >= 0 ? idx[b * D + i - o] : V, sr = i + o < D ? idx[b * D + i + o] : V;
        axpy_acc(x + (b * D + i) * W, left + sl * W, 1.0f, W);
        axpy_acc(x + (b * D + i) * W, right + sr * W, 1.0f, W);
      }
  }
}

/* Backward of window_forward: the tables' gradients += the rows' shares of dx[B][D][W]. */
static void window_backward(float *dtables, const float *dx, const int32_t *idx, int64_t B, int64_t D, int64_t W,
                            int64_t V, int R)
{
  for (int o = 1; o <= R; o++) {
    float *left = dtables + (size_t)(2 * o - 2) * (V + 1) * W, *right = left + (V + 1) * W;
    for (int64_t b = 0; b < B; b++)
      for (int64_t i = 0; i < D; i++) {
        const int64_t sl = i - o >= 0 ? idx[b * D + i - o] : V, sr = i + o < D ? idx[b * D + i + o] : V;
        axpy_acc(left + sl * W, dx + (b * D + i) * W, 1.0f, W);
        axpy_acc(right + sr * W, dx + (b * D + i) * W, 1.0f, W);
      }
  }
}

/* ---- forward ---- */

void net_text_forward(net_text *net, const float *p, int64_t B, const double *t)
{
  const net_text_config *c = &net->cfg;
  const int64_t          W = c->width, D = c->dim, N = B * D, M = (int64_t)c->mlp * W, H = c->heads, L = c->layers;
  const int64_t          Nm = (int64_t)c->max_batch * D; /* per-layer stride of the saved tensors */
  const block_layout     bl = block_offsets(c);
  ArdmAssert(B >= 1 && B <= c->max_batch, "example, batch or stage out of range");
  net->batch = B;
  /* time: temb[B][W] = dense2(GELU(dense1(sinusoid(t)))) */
  timeembed_forward(net->e0, t, B, W, 1000.0 / c->max_time);
  dense_forward(net->a1, net->e0, p + net->off_t1w, p + net->off_t1b, B, W, W);
  gelu_forward(net->h1, net->a1, B * W);
  dense_forward(net->temb, net->h1, p + net->off_t2w, p + net->off_t2b, B, W, W);
  /* x0[b][i] = tok[idx] + pos[i] (+ stage[s_b]) + temb[b] */
  embedding_forward(net->xs, net->idx, p + net->off_tok, N, W);
  window_forward(net->xs, net->idx, p + net->off_win, B, D, W, net->vocab, c->window);
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < D; i++) {
      float *x = net->xs + (b * D + i) * W;
      axpy_acc(x, p + net->off_pos + i * W, 1.0f, W);
      axpy_acc(x, net->temb + b * W, 1.0f, W);
      if (c->stages > 1) axpy_acc(x, p + net->off_stage + (int64_t)net->stage[b] * W, 1.0f, W);
    }
  for (int64_t l = 0; l < L; l++) {
    const float *bp = p + net->off_blk0 + (size_t)l * net->blk_stride;
    float       *x = net->xs + l * Nm * W, *xn = x + Nm * W, *qkv = net->qkv + l * Nm * 3 * W;
    float       *att = net->att + l * Nm * W, *mid = net->mid + l * Nm * W, *hpre = net->hpre + l * Nm * M;
    float       *prob = net->prob + l * (int64_t)c->max_batch * H * D * D;
    layernorm_forward(net->lnout, net->mean1 + l * Nm, net->rstd1 + l * Nm, x, bp + bl.off[B_LN1G], bp + bl.off[B_LN1B],
                      N, W, LN_EPS);
    dense_forward(qkv, net->lnout, bp + bl.off[B_QKVW], bp + bl.off[B_QKVB], N, W, 3 * W); /* qkv[N][3W] */
    attn_forward(att, prob, qkv, B, D, H, W / H, (attn_bias)c->attn_bias);                 /* att[N][W] */
    dense_forward(mid, att, bp + bl.off[B_PROJW], bp + bl.off[B_PROJB], N, W, W);
    axpy_acc(mid, x, 1.0f, N * W); /* mid = x + proj(att) */
    layernorm_forward(net->lnout, net->mean2 + l * Nm, net->rstd2 + l * Nm, mid, bp + bl.off[B_LN2G],
                      bp + bl.off[B_LN2B], N, W, LN_EPS);
    dense_forward(hpre, net->lnout, bp + bl.off[B_FC1W], bp + bl.off[B_FC1B], N, W, M); /* hpre[N][mW] */
    gelu_forward(net->hact, hpre, N * M);
    dense_forward(xn, net->hact, bp + bl.off[B_FC2W], bp + bl.off[B_FC2B], N, M, W);
    axpy_acc(xn, mid, 1.0f, N * W); /* x' = mid + fc2(GELU(fc1(LN2(mid)))) */
  }
  layernorm_forward(net->lnout, net->meanf, net->rstdf, net->xs + L * Nm * W, p + net->off_lnfg, p + net->off_lnfb, N,
                    W, LN_EPS);
  dense_cm_forward(net->output, net->lnout, p + net->off_hw, p + net->off_hb, B, D, W, c->out_channels);
  memset(net->doutput, 0, (size_t)(B * c->out_channels * D) * sizeof(float));
}

/* ---- backward ---- */

static void zero(float *x, int64_t n)
{
  memset(x, 0, (size_t)n * sizeof(float));
}

void net_text_backward(net_text *net, const float *p, float *gr)
{
  const net_text_config *c = &net->cfg;
  const int64_t          B = net->batch, W = c->width, D = c->dim, N = B * D, M = (int64_t)c->mlp * W;
  const int64_t          H = c->heads, L = c->layers, Nm = (int64_t)c->max_batch * D;
  const block_layout     bl = block_offsets(c);
  /* head and final layer norm: dx = d loss / d x_L */
  layernorm_forward(net->lnout, net->meanf, net->rstdf, net->xs + L * Nm * W, p + net->off_lnfg, p + net->off_lnfb, N,
                    W, LN_EPS);
  zero(net->dln, N * W);
  dense_cm_backward(net->dln, gr + net->off_hw, gr + net->off_hb, net->doutput, net->lnout, p + net->off_hw, B, D, W,
                    c->out_channels);
  zero(net->dx, N * W);
  layernorm_backward(net->dx, gr + net->off_lnfg, gr + net->off_lnfb, net->dln, net->xs + L * Nm * W, net->meanf,
                     net->rstdf, p + net->off_lnfg, N, W);
  for (int64_t l = L - 1; l >= 0; l--) {
    const float *bp = p + net->off_blk0 + (size_t)l * net->blk_stride;
    float       *bg = gr + net->off_blk0 + (size_t)l * net->blk_stride;
    const float *x = net->xs + l * Nm * W, *qkv = net->qkv + l * Nm * 3 * W, *att = net->att + l * Nm * W;
    const float *mid = net->mid + l * Nm * W, *hpre = net->hpre + l * Nm * M;
    const float *prob = net->prob + l * (int64_t)c->max_batch * H * D * D;
    /* MLP half: x' = mid + fc2(GELU(fc1(LN2(mid)))); dx holds d x' */
    memcpy(net->dmid, net->dx, (size_t)(N * W) * sizeof(float));
    layernorm_forward(net->lnout, net->mean2 + l * Nm, net->rstd2 + l * Nm, mid, bp + bl.off[B_LN2G],
                      bp + bl.off[B_LN2B], N, W, LN_EPS); /* recomputed */
    gelu_forward(net->hact, hpre, N * M);                 /* recomputed */
    zero(net->dh, N * M);
    dense_backward(net->dh, bg + bl.off[B_FC2W], bg + bl.off[B_FC2B], net->dx, net->hact, bp + bl.off[B_FC2W], N, M, W);
    zero(net->dhpre, N * M);
    gelu_backward(net->dhpre, net->dh, hpre, N * M);
    zero(net->dln, N * W);
    dense_backward(net->dln, bg + bl.off[B_FC1W], bg + bl.off[B_FC1B], net->dhpre, net->lnout, bp + bl.off[B_FC1W], N,
                   W, M);
    layernorm_backward(net->dmid, bg + bl.off[B_LN2G], bg + bl.off[B_LN2B], net->dln, mid, net->mean2 + l * Nm,
                       net->rstd2 + l * Nm, bp + bl.off[B_LN2G], N, W);
    /* attention half: mid = x + proj(attention(qkv(LN1(x)))); dmid holds d mid */
    memcpy(net->dx, net->dmid, (size_t)(N * W) * sizeof(float));
    zero(net->datt, N * W);
    dense_backward(net->datt, bg + bl.off[B_PROJW], bg + bl.off[B_PROJB], net->dmid, att, bp + bl.off[B_PROJW], N, W,
                   W);
    zero(net->dqkv, N * 3 * W);
    attn_backward(net->dqkv, net->ds, net->datt, prob, qkv, B, D, H, W / H);
    layernorm_forward(net->lnout, net->mean1 + l * Nm, net->rstd1 + l * Nm, x, bp + bl.off[B_LN1G], bp + bl.off[B_LN1B],
                      N, W, LN_EPS); /* recomputed */
    zero(net->dln, N * W);
    dense_backward(net->dln, bg + bl.off[B_QKVW], bg + bl.off[B_QKVB], net->dqkv, net->lnout, bp + bl.off[B_QKVW], N, W,
                   3 * W);
    layernorm_backward(net->dx, bg + bl.off[B_LN1G], bg + bl.off[B_LN1B], net->dln, x, net->mean1 + l * Nm,
                       net->rstd1 + l * Nm, bp + bl.off[B_LN1G], N, W);
  }
  /* input: dx holds d x0; tables, stage vectors and the time path */
  embedding_backward(gr + net->off_tok, net->dx, net->idx, N, W);
  window_backward(gr + net->off_win, net->dx, net->idx, B, D, W, net->vocab, c->window);
  zero(net->dtemb, B * W);
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < D; i++) {
      const float *d = net->dx + (b * D + i) * W;
      axpy_acc(gr + net->off_pos + i * W, d, 1.0f, W);
      axpy_acc(net->dtemb + b * W, d, 1.0f, W);
      if (c->stages > 1) axpy_acc(gr + net->off_stage + (int64_t)net->stage[b] * W, d, 1.0f, W);
    }
  zero(net->dh1, B * W);
  zero(net->da1, B * W);
  dense_backward(net->dh1, gr + net->off_t2w, gr + net->off_t2b, net->dtemb, net->h1, p + net->off_t2w, B, W, W);
  gelu_backward(net->da1, net->dh1, net->a1, B * W);
  dense_backward(NULL, gr + net->off_t1w, gr + net->off_t1b, net->da1, net->e0, p + net->off_t1w, B, W, W);
}

/* ---- the generic network interface (nn/net.h) ---- */
static void ops_free(void *impl)
{
  net_text *a = impl;
  net_text_free(a);
  (void)PetscFree(a);
}
NET_OPS_DEFINE(net_text, "transformer", ops_free);

PetscErrorCode net_text_create(MPI_Comm comm, const net_text_config *cfg, network *n)
{
  net_text *a;
  PetscFunctionBegin;
  PetscCall(PetscNew(&a));
  PetscCall(net_text_setup(comm, cfg, a));
  *n = (network){.ops = &net_text_ops, .impl = a, .output = a->output, .doutput = a->doutput};
  PetscFunctionReturn(0);
}
