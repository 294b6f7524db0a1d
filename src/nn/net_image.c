/* net_image.c: the image ARDM network (see net_image.h for the architecture): the U-Net as a
   list of ops over saved activations, its parameter layout, initialisation, workspace and input
   encoding; the forward and backward passes are in net_image_pass.c. */
#include "nn/net_image.h"
#include "nn/net_image_impl.h"
#include "nn/layer_conv2d.h"
#include "nn/layers.h"
#include "core/rng.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static int level_channels(const net_image *n, int l)
{
  return l == 0 ? n->cfg.channels : 2 * n->cfg.channels;
}
/* Groups of at least 4 channels where possible, at most 32 groups (DDPM: 32 groups of 4 or 8):
   a group of one channel would cancel the per-channel t embedding added before the norm. */
static int gn_groups(int c)
{
  int top = c / 4 < 32 ? c / 4 : 32;
  for (int g = top; g > 1; g--)
    if (c % g == 0) return g;
  return 1;
}

/* ---- the op list ---- */

static int new_act(net_image *n, int c, int lev)
{
  n->achan[n->nacts] = c, n->alev[n->nacts] = lev;
  return n->nacts++;
}

static int add_op(net_image *n, op_kind k, int in, int in2, int cout, int lev)
{
  op *o = &n->ops[n->nops++];
  memset(o, 0, sizeof *o);
  o->kind = k, o->in = in, o->in2 = in2, o->lev = lev;
  o->cin = in >= 0 ? n->achan[in] + (in2 >= 0 ? n->achan[in2] : 0) : n->in_planes;
  o->cout = cout;
  o->g1 = gn_groups(o->cin), o->g2 = gn_groups(cout);
  if (k == OP_OUT)
    o->out = -1;
  else
    o->out = new_act(n, cout, k == OP_DOWN ? lev + 1 : k == OP_UP ? lev - 1 : lev);
  return o->out;
}

static int add_res(net_image *n, int x, int cout, int lev)
{
  x = add_op(n, OP_RES, x, -1, cout, lev);
  if (n->cfg.attention >> lev & 1) x = add_op(n, OP_ATTN, x, -1, cout, lev);
  return x;
}

static void build_ops(net_image *n)
{
  const int L = n->cfg.levels, N = n->cfg.blocks;
  int       skips[256], ns = 0, x;
  x = add_op(n, OP_IN, -1, -1, n->cfg.channels, 0);
  for (int l = 0; l < L; l++) {
    for (int j = 0; j < N; j++) skips[ns++] = x = add_res(n, x, level_channels(n, l), l);
    if (l + 1 < L) x = add_op(n, OP_DOWN, x, -1, n->achan[x], l);
  }
  x = add_res(n, x, level_channels(n, L - 1), L - 1);
  x = add_op(n, OP_RES, x, -1, level_channels(n, L - 1), L - 1);
  for (int l = L - 1; l >= 0; l--) {
    for (int j = 0; j < N; j++) {
      int s = skips[--ns];
      x = add_op(n, OP_CAT, x, s, n->achan[x] + n->achan[s], l);
      x = add_res(n, x, level_channels(n, l), l);
    }
    if (l > 0) x = add_op(n, OP_UP, x, -1, n->achan[x], l);
  }
  add_op(n, OP_OUT, x, -1, n->cfg.out_channels * n->cfg.img_channels, 0);
}

/* Upper bound of ops and activations for the configuration (for the fixed arrays). */
static int count_ops(const net_image_config *c)
{
  int L = c->levels, N = c->blocks;
  return 1 + L * N * 2 + (L - 1) + 3 + L * N * 3 + (L - 1) + 1;
}

/* ---- parameters ---- */

static size_t add_tensor(net_image *n, const char *name, int opi, size_t count, int fan_in, int one)
{
  net_tensor *t = &n->tensors[n->ntensors];
  ArdmAssert(n->ntensors < n->max_tensors, "tensor table full");
  if (opi >= 0)
    snprintf(t->name, sizeof t->name, "op%d.%s", opi, name);
  else
    snprintf(t->name, sizeof t->name, "%s", name);
  t->offset = n->nparams, t->count = count, t->fan_in = fan_in;
  n->ones[n->ntensors++] = (char)one;
  n->nparams += count;
  return t->offset;
}

/* Layout: time MLP, every ResBlock's time projection as one dense 4C -> T, then each op's
   tensors in op order, the output bias last. fan_in 0 = zero-initialised. */
static void build_layout(net_image *n)
{
  size_t C4 = 4 * (size_t)n->cfg.channels;
  n->off_t1w = add_tensor(n, "time.dense1.w", -1, C4 * E_DIM, E_DIM, 0);
  n->off_t1b = add_tensor(n, "time.dense1.b", -1, C4, 0, 0);
  n->off_t2w = add_tensor(n, "time.dense2.w", -1, C4 * C4, (int)C4, 0);
  n->off_t2b = add_tensor(n, "time.dense2.b", -1, C4, 0, 0);
  n->T = 0;
  for (int i = 0; i < n->nops; i++)
    if (n->ops[i].kind == OP_RES) n->ops[i].toff = n->T, n->T += n->ops[i].cout;
  n->off_tpw = add_tensor(n, "time.proj.w", -1, (size_t)n->T * C4, (int)C4, 0);
  n->off_tpb = add_tensor(n, "time.proj.b", -1, (size_t)n->T, 0, 0);
  for (int i = 0; i < n->nops; i++) {
    op    *o = &n->ops[i];
    size_t ci = (size_t)o->cin, co = (size_t)o->cout;
    o->pws = NO_SKIP;
    switch (o->kind) {
    case OP_IN:
      o->pw1 = add_tensor(n, "in.w", i, co * ci * 9, (int)ci * 9, 0);
      o->pc1 = add_tensor(n, "in.b", i, co, 0, 0);
      break;
    case OP_RES:
      o->pg1 = add_tensor(n, "norm1.g", i, ci, 0, 1);
      o->pb1 = add_tensor(n, "norm1.b", i, ci, 0, 0);
      o->pw1 = add_tensor(n, "conv1.w", i, co * ci * 9, (int)ci * 9, 0);
      o->pc1 = add_tensor(n, "conv1.b", i, co, 0, 0);
      o->pg2 = add_tensor(n, "norm2.g", i, co, 0, 1);
      o->pb2 = add_tensor(n, "norm2.b", i, co, 0, 0);
      o->pw2 = add_tensor(n, "conv2.w", i, co * co * 9, 0, 0);
      o->pc2 = add_tensor(n, "conv2.b", i, co, 0, 0);
      if (ci != co) {
        o->pws = add_tensor(n, "skip.w", i, co * ci, (int)ci, 0);
        o->pbs = add_tensor(n, "skip.b", i, co, 0, 0);
      }
      break;
    case OP_ATTN:
      o->pg1 = add_tensor(n, "norm.g", i, ci, 0, 1);
      o->pb1 = add_tensor(n, "norm.b", i, ci, 0, 0);
      o->pw1 = add_tensor(n, "qkv.w", i, 3 * ci * ci, (int)ci, 0);
      o->pc1 = add_tensor(n, "qkv.b", i, 3 * ci, 0, 0);
      o->pw2 = add_tensor(n, "proj.w", i, ci * ci, 0, 0);
      o->pc2 = add_tensor(n, "proj.b", i, ci, 0, 0);
      break;
    case OP_OUT:
      o->pg1 = add_tensor(n, "norm.g", i, ci, 0, 1);
      o->pb1 = add_tensor(n, "norm.b", i, ci, 0, 0);
      o->pw1 = add_tensor(n, "conv.w", i, co * ci * 9, 0, 0);
      break;
    default:
      break;
    }
  }
  n->off_fb = add_tensor(n, "final.b", -1, (size_t)n->cfg.out_channels, 0, 0);
}

/* ---- workspace ---- */

static size_t carve(net_image *n, float *base)
{
  size_t  Bm = (size_t)n->cfg.max_batch, at = 0, smax = 0, colmax = 0, nn2 = 0;
  size_t  C4 = 4 * (size_t)n->cfg.channels, D = (size_t)n->cfg.img_channels * (size_t)lev_hw(n, 0);
  int64_t O = n->cfg.out_channels;
#define TAKE(ptr, cnt) ((ptr) = base ? base + at : NULL, at += (cnt))
  TAKE(n->input, Bm * (size_t)n->in_planes * (size_t)lev_hw(n, 0));
  TAKE(n->output, Bm * (size_t)O * D);
  TAKE(n->doutput, Bm * (size_t)O * D);
  for (int k = 0; k < n->nacts; k++) {
    size_t cnt = Bm * (size_t)n->achan[k] * (size_t)lev_hw(n, n->alev[k]);
    TAKE(n->act[k], cnt);
    TAKE(n->dact[k], cnt);
  }
  for (int i = 0; i < n->nops; i++) {
    op    *o = &n->ops[i];
    size_t hw = (size_t)lev_hw(n, o->lev), ci = (size_t)o->cin, co = (size_t)o->cout;
    size_t big = ci > co ? ci : co;
    if (o->kind == OP_RES || o->kind == OP_ATTN || o->kind == OP_OUT || o->kind == OP_IN) {
      if (big * hw > smax) smax = big * hw;
      size_t need = o->kind == OP_ATTN ? ci * 9 * hw
                                       : (size_t)conv3x3_group_col_floats((int64_t)Bm, (int64_t)ci, (int64_t)co,
                                                                          lev_h(n, o->lev), lev_w(n, o->lev));
      if (need > colmax) colmax = need;
    }
    if (o->kind == OP_RES || o->kind == OP_ATTN || o->kind == OP_OUT) {
      TAKE(o->mean1, Bm * (size_t)o->g1);
      TAKE(o->rstd1, Bm * (size_t)o->g1);
    }
    if (o->kind == OP_RES) {
      size_t need =
          (size_t)conv3x3_group_col_floats((int64_t)Bm, (int64_t)co, (int64_t)co, lev_h(n, o->lev), lev_w(n, o->lev));
      if (need > colmax) colmax = need;
      TAKE(o->z, Bm * co * hw);
      TAKE(o->mean2, Bm * (size_t)o->g2);
      TAKE(o->rstd2, Bm * (size_t)o->g2);
    }
    if (o->kind == OP_ATTN) {
      if (3 * ci * hw > smax) smax = 3 * ci * hw;
      if (hw * hw > nn2) nn2 = hw * hw;
      TAKE(o->qkv, Bm * 3 * ci * hw);
      TAKE(o->att, Bm * hw * hw);
      TAKE(o->ao, Bm * ci * hw);
    }
  }
  TAKE(n->A, Bm * smax);
  TAKE(n->S, Bm * smax);
  TAKE(n->G1, Bm * smax);
  TAKE(n->G2, Bm * smax);
  TAKE(n->col, colmax);
  n->col_floats = (int64_t)colmax;
  TAKE(n->da, nn2 ? nn2 : 1);
  TAKE(n->e0, Bm * E_DIM);
  TAKE(n->a1, Bm * C4);
  TAKE(n->h1, Bm * C4);
  TAKE(n->a2, Bm * C4);
  TAKE(n->h2, Bm * C4);
  TAKE(n->dh2, Bm * C4);
  TAKE(n->da2, Bm * C4);
  TAKE(n->dh1, Bm * C4);
  TAKE(n->da1, Bm * C4);
  TAKE(n->tb, Bm * (size_t)n->T);
  TAKE(n->dtb, Bm * (size_t)n->T);
#undef TAKE
  return at;
}

PetscErrorCode net_image_setup(MPI_Comm comm, const net_image_config *cfg, net_image **netp)
{
  net_image *n;
  int        maxops;
  PetscFunctionBegin;
  PetscCheck(cfg->channels >= 1 && cfg->blocks >= 1 && cfg->levels >= 1 && cfg->levels <= 8, comm, ARDM_ERR_INPUT,
             "unet: -model_channels and -model_blocks must be >= 1 and -model_levels in 1..8 (got %d, %d, %d)",
             cfg->channels, cfg->blocks, cfg->levels);
  PetscCheck(cfg->height >= 1 && cfg->width >= 1 && cfg->img_channels >= 1, comm, ARDM_ERR_INPUT,
             "unet: the data set must be an image (height, width, channels >= 1; got %d x %d x %d)", cfg->height,
             cfg->width, cfg->img_channels);
  PetscCheck(cfg->height % (1 << (cfg->levels - 1)) == 0 && cfg->width % (1 << (cfg->levels - 1)) == 0, comm,
             ARDM_ERR_INPUT, "unet: -model_levels %d needs height and width divisible by %d (the image is %d x %d)",
             cfg->levels, 1 << (cfg->levels - 1), cfg->height, cfg->width);
  PetscCheck(cfg->attention >= 0 && (cfg->attention >> cfg->levels) == 0, comm, ARDM_ERR_INPUT,
             "unet: -model_attention %d names a level beyond -model_levels %d (bit l = level l)", cfg->attention,
             cfg->levels);
  PetscCheck(cfg->out_channels >= 1 && cfg->max_batch >= 1 && cfg->stages >= 0 && cfg->max_time > 0 &&
                 cfg->fourier >= 0 && cfg->fourier <= 16,
             comm, ARDM_ERR_INPUT,
             "unet: need >= 1 output, batch >= 1, stages >= 0, max_time > 0 and 0..16 Fourier pairs");
  maxops = count_ops(cfg);
  PetscCheck(maxops < 250, comm, ARDM_ERR_INPUT,
             "unet: %d levels x %d blocks make %d ops, more than the 250 supported; use fewer blocks", cfg->levels,
             cfg->blocks, maxops);
  PetscCall(PetscNew(&n));
  n->cfg = *cfg;
  n->in_planes = (2 + 2 * cfg->fourier) * cfg->img_channels + cfg->stages;
  PetscCall(ardm_alloc(sizeof(op) * (size_t)maxops, &n->ops));
  build_ops(n);
  n->max_tensors = 12 * n->nops + 8;
  PetscCall(ardm_alloc(sizeof(net_tensor) * (size_t)n->max_tensors, &n->tensors));
  PetscCall(ardm_alloc((size_t)n->max_tensors, &n->ones));
  build_layout(n);
  n->work_floats = carve(n, NULL);
  PetscCall(ardm_alloc(n->work_floats * sizeof(float), &n->work));
  memset(n->work, 0, n->work_floats * sizeof(float)); /* fault the pages in at setup, not in a step */
  carve(n, n->work);
  *netp = n;
  PetscFunctionReturn(0);
}

void net_image_free(net_image **np)
{
  net_image *n = *np;
  if (!n) return;
  ardm_free(&n->work);
  ardm_free(&n->ops);
  ardm_free(&n->tensors);
  ardm_free(&n->ones);
  (void)PetscFree(*np);
}

size_t net_image_num_params(const net_image *n)
{
  return n->nparams;
}
int net_image_num_tensors(const net_image *n)
{
  return n->ntensors;
}
const net_tensor *net_image_tensor(const net_image *n, int i)
{
  return &n->tensors[i];
}
size_t net_image_output_bias_offset(const net_image *n)
{
  return n->off_fb;
}
size_t net_image_workspace_bytes(const net_image *n)
{
  return n->work_floats * sizeof(float);
}
float *net_image_input(net_image *n)
{
  return n->input;
}
float *net_image_output(net_image *n)
{
  return n->output;
}
float *net_image_doutput(net_image *n)
{
  return n->doutput;
}
int net_image_in_planes(const net_image *n)
{
  return n->in_planes;
}

void net_image_init_params(const net_image *n, float *params, uint64_t seed)
{
  for (int i = 0; i < n->ntensors; i++) {
    const net_tensor *t = &n->tensors[i];
    rng_stream        s;
    double            std = t->fan_in > 0 ? 1.0 / sqrt((double)t->fan_in) : 0.0;
    rng_init(&s, seed, 0, (uint64_t)i, RNG_INIT);
    for (size_t j = 0; j < t->count; j++)
      params[t->offset + j] = n->ones[i] ? 1.0f : std > 0 ? (float)(std * rng_normal(&s)) : 0.0f;
  }
}

void net_image_describe(const net_image *n, char *buf, size_t len)
{
  const net_image_config *c = &n->cfg;
  snprintf(buf, len,
           "image network (U-Net): %d channels, %d blocks x %d levels, attention 0x%x, image %d x %d x %d, %d input "
           "planes -> %d outputs/dim, %d ops, %zu parameters (%.2f M)",
           c->channels, c->blocks, c->levels, (unsigned)c->attention, c->img_channels, c->height, c->width,
           n->in_planes, c->out_channels, n->nops, n->nparams, (double)n->nparams / 1e6);
}

double net_image_flops(const net_image *n, int64_t batch)
{
  double f = 0.0, C4 = 4.0 * n->cfg.channels;
  for (int i = 0; i < n->nops; i++) {
    const op *o = &n->ops[i];
    double    hw = (double)lev_hw(n, o->lev), ci = o->cin, co = o->cout;
    if (o->kind == OP_IN) f += 2.0 * 2.0 * co * ci * 9 * hw; /* forward + weight gradient only */
    if (o->kind == OP_OUT) f += 3.0 * 2.0 * co * ci * 9 * hw;
    if (o->kind == OP_RES) f += 3.0 * 2.0 * (co * ci * 9 + co * co * 9 + (ci != co ? co * ci : 0)) * hw;
    if (o->kind == OP_ATTN) f += 3.0 * 2.0 * (4 * ci * ci * hw + 2 * hw * hw * ci);
  }
  f += 3.0 * 2.0 * (E_DIM * C4 + C4 * C4 + C4 * (double)n->T);
  return (double)batch * f;
}

void net_image_fill_input(net_image *n, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage)
{
  const net_image_config *c = &n->cfg;
  int64_t                 D = (int64_t)c->img_channels * lev_hw(n, 0), hw = lev_hw(n, 0);
  float                  *in = n->input + e * n->in_planes * hw; /* in[planes][H*W] */
  double                  scale = K > 1 ? 2.0 / (double)(K - 1) : 0.0;
  ArdmAssert(e >= 0 && e < c->max_batch && (c->stages == 0 || (stage >= 0 && stage < c->stages)),
             "example, batch or stage out of range");
  float *four = in + 2 * D, *st = four + 2 * (int64_t)c->fourier * D; /* [F][2][D], [S][H*W] */
  for (int64_t i = 0; i < D; i++) {
    in[i] = (float)(v[i] * scale - 1.0);
    in[D + i] = known[i] ? 1.0f : 0.0f;
  }
  /* Fourier planes: with them the logit of class k can be a linear sum_f cos(w_f (k - v)), peaked
     at k = v, where a scalar input needs large weights before the categorical head can copy a
     neighbour's exact value (doc/method.md section 4) */
  for (int f = 0; f < c->fourier; f++) {
    double w = 2.0 * M_PI * (double)(1 << f) / (double)K;
    for (int64_t i = 0; i < D; i++) {
      four[(2 * f) * D + i] = known[i] ? (float)sin(w * v[i]) : 0.0f;
      four[(2 * f + 1) * D + i] = known[i] ? (float)cos(w * v[i]) : 0.0f;
    }
  }
  for (int s = 0; s < c->stages; s++)
    for (int64_t i = 0; i < hw; i++) st[s * hw + i] = s == stage ? 1.0f : 0.0f;
}

/* ---- the generic network interface (nn/net.h) ---- */
static void ops_free(void *impl)
{
  net_image *n = impl;
  net_image_free(&n);
}
NET_OPS_DEFINE(net_image, "unet", ops_free);

PetscErrorCode net_image_create(MPI_Comm comm, const net_image_config *cfg, network *nw)
{
  net_image *n;
  PetscFunctionBegin;
  PetscCall(net_image_setup(comm, cfg, &n));
  *nw = (network){.ops = &net_image_ops, .impl = n, .output = n->output, .doutput = n->doutput};
  PetscFunctionReturn(0);
}
