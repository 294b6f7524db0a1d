/* net_image.c: the image ARDM network (see net_image.h for the architecture): the U-Net as a
   list of ops over saved activations, its parameter layout, initialisation, workspace, forward
   and backward over nn/layers.h and nn/layer_conv2d.h. */
#include "nn/net_image.h"
#include "nn/layer_conv2d.h"
#include "nn/layers.h"
#include "core/rng.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define E_DIM   NET_IMAGE_TIME_DIM
#define GN_EPS  1e-5f
#define NO_SKIP ((size_t)-1)

typedef enum { OP_IN, OP_RES, OP_ATTN, OP_DOWN, OP_UP, OP_CAT, OP_OUT } op_kind;

/* One op: reads activation in (and in2 for concat), writes activation out. */
typedef struct {
  op_kind kind;
  int     in, in2, out;
  int     cin, cout, lev;                                   /* channels in/out; lev = resolution level of the input */
  int     g1, g2;                                           /* group-norm groups of the first and second norm */
  size_t  pg1, pb1, pw1, pc1, pg2, pb2, pw2, pc2, pws, pbs; /* parameter offsets (see add_params) */
  int64_t toff;                                             /* ResBlock: its slice of the time projections */
  float  *z, *mean1, *rstd1, *mean2, *rstd2;                /* saved: ResBlock z, norm statistics */
  float  *qkv, *att, *ao;                                   /* saved: attention projections, probabilities, output */
} op;

struct net_image {
  net_image_config cfg;
  int              in_planes;
  int              nops, nacts, ntensors, max_tensors;
  op              *ops;
  net_tensor      *tensors;
  char            *ones; /* [ntensors] 1 = initialised to 1 (norm gains) */
  size_t           nparams;
  size_t           off_t1w, off_t1b, off_t2w, off_t2b, off_tpw, off_tpb, off_fb;
  int64_t          T; /* total time-projection outputs (sum of ResBlock cout) */
  int              achan[256], alev[256];
  float           *act[256], *dact[256];
  float           *work;
  size_t           work_floats;
  float           *input, *output, *doutput;
  float           *A, *S, *G1, *G2, *col, *da;
  int64_t          col_floats; /* capacity of col */
  float           *e0, *a1, *h1, *a2, *h2, *tb, *dh2, *da2, *dh1, *da1, *dtb;
  int64_t          batch;
};

static int64_t lev_h(const net_image *n, int l)
{
  return n->cfg.height >> l;
}
static int64_t lev_w(const net_image *n, int l)
{
  return n->cfg.width >> l;
}
static int64_t lev_hw(const net_image *n, int l)
{
  return lev_h(n, l) * lev_w(n, l);
}
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

/* ---- forward ---- */

static void time_forward(net_image *n, const float *p, int64_t B, const double *t)
{
  int64_t C4 = 4 * (int64_t)n->cfg.channels;
  timeembed_forward(n->e0, t, B, E_DIM, 1000.0 / n->cfg.max_time);           /* e0[B][E] */
  dense_forward(n->a1, n->e0, p + n->off_t1w, p + n->off_t1b, B, E_DIM, C4); /* a1[B][4C] */
  silu_forward(n->h1, n->a1, B * C4);
  dense_forward(n->a2, n->h1, p + n->off_t2w, p + n->off_t2b, B, C4, C4);
  silu_forward(n->h2, n->a2, B * C4);
  dense_forward(n->tb, n->h2, p + n->off_tpw, p + n->off_tpb, B, C4, n->T); /* tb[B][T] */
}

static void res_forward(net_image *n, op *o, const float *p, int64_t B)
{
  int64_t      h = lev_h(n, o->lev), w = lev_w(n, o->lev), hw = h * w, ci = o->cin, co = o->cout;
  const float *x = n->act[o->in];
  float       *out = n->act[o->out];
  groupnorm_forward(n->A, o->mean1, o->rstd1, x, p + o->pg1, p + o->pb1, B, ci, hw, o->g1, GN_EPS);
  silu_forward(n->S, n->A, B * ci * hw);
  conv3x3_forward(o->z, n->col, n->col_floats, n->S, p + o->pw1, p + o->pc1, B, ci, co, h, w); /* z[B][co][HW] */
  for (int64_t e = 0; e < B; e++)                                                              /* + the t embedding */
    for (int64_t c = 0; c < co; c++) {
      float *r = o->z + (e * co + c) * hw, v = n->tb[e * n->T + o->toff + c];
      for (int64_t i = 0; i < hw; i++) r[i] += v;
    }
  groupnorm_forward(n->A, o->mean2, o->rstd2, o->z, p + o->pg2, p + o->pb2, B, co, hw, o->g2, GN_EPS);
  silu_forward(n->S, n->A, B * co * hw);
  conv3x3_forward(out, n->col, n->col_floats, n->S, p + o->pw2, p + o->pc2, B, co, co, h, w);
  if (o->pws != NO_SKIP) {
    conv1x1_forward(n->G1, x, p + o->pws, p + o->pbs, B, ci, co, hw);
    axpy_acc(out, n->G1, 1.0f, B * co * hw);
  } else
    axpy_acc(out, x, 1.0f, B * co * hw);
}

static void attn_forward(net_image *n, op *o, const float *p, int64_t B)
{
  int64_t      hw = lev_hw(n, o->lev), c = o->cin;
  const float *x = n->act[o->in];
  float       *out = n->act[o->out];
  groupnorm_forward(n->A, o->mean1, o->rstd1, x, p + o->pg1, p + o->pb1, B, c, hw, o->g1, GN_EPS);
  conv1x1_forward(o->qkv, n->A, p + o->pw1, p + o->pc1, B, c, 3 * c, hw); /* qkv[B][3c][HW] */
  attention2d_forward(o->ao, o->att, o->qkv, B, c, hw);
  conv1x1_forward(out, o->ao, p + o->pw2, p + o->pc2, B, c, c, hw);
  axpy_acc(out, x, 1.0f, B * c * hw);
}

static void out_forward(net_image *n, op *o, const float *p, int64_t B)
{
  int64_t      h = lev_h(n, 0), w = lev_w(n, 0), hw = h * w, ci = o->cin, O = n->cfg.out_channels;
  int64_t      per_o = (int64_t)n->cfg.img_channels * hw; /* D */
  const float *x = n->act[o->in];
  groupnorm_forward(n->A, o->mean1, o->rstd1, x, p + o->pg1, p + o->pb1, B, ci, hw, o->g1, GN_EPS);
  silu_forward(n->S, n->A, B * ci * hw);
  conv3x3_forward(n->output, n->col, n->col_floats, n->S, p + o->pw1, NULL, B, ci, o->cout, h, w); /* output[B][O][D] */
  for (int64_t e = 0; e < B; e++)
    for (int64_t k = 0; k < O; k++) {
      float *r = n->output + (e * O + k) * per_o, v = p[n->off_fb + k];
      for (int64_t i = 0; i < per_o; i++) r[i] += v;
    }
}

void net_image_forward(net_image *n, const float *p, int64_t B, const double *t)
{
  ArdmAssert(B >= 1 && B <= n->cfg.max_batch, "example, batch or stage out of range");
  n->batch = B;
  time_forward(n, p, B, t);
  for (int i = 0; i < n->nops; i++) {
    op     *o = &n->ops[i];
    int64_t h = lev_h(n, o->lev), w = lev_w(n, o->lev);
    switch (o->kind) {
    case OP_IN:
      conv3x3_forward(n->act[o->out], n->col, n->col_floats, n->input, p + o->pw1, p + o->pc1, B, o->cin, o->cout, h,
                      w);
      break;
    case OP_RES:
      res_forward(n, o, p, B);
      break;
    case OP_ATTN:
      attn_forward(n, o, p, B);
      break;
    case OP_DOWN:
      avgpool2_forward(n->act[o->out], n->act[o->in], B * o->cin, h, w);
      break;
    case OP_UP:
      upsample2_forward(n->act[o->out], n->act[o->in], B * o->cin, h, w);
      break;
    case OP_CAT:
      concat_forward(n->act[o->out], n->act[o->in], n->act[o->in2], B, n->achan[o->in], n->achan[o->in2], h * w);
      break;
    case OP_OUT:
      out_forward(n, o, p, B);
      break;
    }
  }
  memset(n->doutput, 0, (size_t)(B * n->cfg.out_channels * n->cfg.img_channels * lev_hw(n, 0)) * sizeof(float));
}

/* ---- backward ---- */

static void zero(float *x, int64_t cnt)
{
  memset(x, 0, (size_t)cnt * sizeof(float));
}

static void res_backward(net_image *n, op *o, const float *p, float *gr, int64_t B)
{
  int64_t      h = lev_h(n, o->lev), w = lev_w(n, o->lev), hw = h * w, ci = o->cin, co = o->cout;
  const float *x = n->act[o->in], *dout = n->dact[o->out];
  float       *dx = n->dact[o->in];
  if (o->pws != NO_SKIP)
    conv1x1_backward(dx, gr + o->pws, gr + o->pbs, dout, x, p + o->pws, B, ci, co, hw);
  else
    axpy_acc(dx, dout, 1.0f, B * co * hw);
  /* second half: out = conv2(SiLU(GN(z))); A, S recomputed from z */
  groupnorm_forward(n->A, o->mean2, o->rstd2, o->z, p + o->pg2, p + o->pb2, B, co, hw, o->g2, GN_EPS);
  silu_forward(n->S, n->A, B * co * hw);
  zero(n->G1, B * co * hw);
  conv3x3_backward(n->G1, gr + o->pw2, gr + o->pc2, n->col, n->col_floats, dout, n->S, p + o->pw2, B, co, co, h, w);
  zero(n->G2, B * co * hw);
  silu_backward(n->G2, n->G1, n->A, B * co * hw);
  zero(n->G1, B * co * hw);
  groupnorm_backward(n->G1, gr + o->pg2, gr + o->pb2, n->G2, o->z, o->mean2, o->rstd2, p + o->pg2, B, co, hw, o->g2);
  for (int64_t e = 0; e < B; e++) /* G1 = d z: the t embedding's share */
    for (int64_t c = 0; c < co; c++) n->dtb[e * n->T + o->toff + c] += sum_f(n->G1 + (e * co + c) * hw, hw);
  /* first half: z = conv1(SiLU(GN(x))) + t */
  groupnorm_forward(n->A, o->mean1, o->rstd1, x, p + o->pg1, p + o->pb1, B, ci, hw, o->g1, GN_EPS);
  silu_forward(n->S, n->A, B * ci * hw);
  zero(n->G2, B * ci * hw);
  conv3x3_backward(n->G2, gr + o->pw1, gr + o->pc1, n->col, n->col_floats, n->G1, n->S, p + o->pw1, B, ci, co, h, w);
  zero(n->G1, B * ci * hw);
  silu_backward(n->G1, n->G2, n->A, B * ci * hw);
  groupnorm_backward(dx, gr + o->pg1, gr + o->pb1, n->G1, x, o->mean1, o->rstd1, p + o->pg1, B, ci, hw, o->g1);
}

static void attn_backward(net_image *n, op *o, const float *p, float *gr, int64_t B)
{
  int64_t      hw = lev_hw(n, o->lev), c = o->cin;
  const float *x = n->act[o->in], *dout = n->dact[o->out];
  float       *dx = n->dact[o->in];
  axpy_acc(dx, dout, 1.0f, B * c * hw);
  zero(n->G1, B * c * hw);
  conv1x1_backward(n->G1, gr + o->pw2, gr + o->pc2, dout, o->ao, p + o->pw2, B, c, c, hw); /* G1 = d ao */
  zero(n->G2, B * 3 * c * hw);
  attention2d_backward(n->G2, n->da, n->G1, o->qkv, o->att, B, c, hw); /* G2 = d qkv */
  groupnorm_forward(n->A, o->mean1, o->rstd1, x, p + o->pg1, p + o->pb1, B, c, hw, o->g1, GN_EPS);
  zero(n->G1, B * c * hw);
  conv1x1_backward(n->G1, gr + o->pw1, gr + o->pc1, n->G2, n->A, p + o->pw1, B, c, 3 * c, hw);
  groupnorm_backward(dx, gr + o->pg1, gr + o->pb1, n->G1, x, o->mean1, o->rstd1, p + o->pg1, B, c, hw, o->g1);
}

static void out_backward(net_image *n, op *o, const float *p, float *gr, int64_t B)
{
  int64_t      h = lev_h(n, 0), w = lev_w(n, 0), hw = h * w, ci = o->cin, O = n->cfg.out_channels;
  int64_t      per_o = (int64_t)n->cfg.img_channels * hw;
  const float *x = n->act[o->in];
  for (int64_t e = 0; e < B; e++)
    for (int64_t k = 0; k < O; k++) gr[n->off_fb + k] += sum_f(n->doutput + (e * O + k) * per_o, per_o);
  groupnorm_forward(n->A, o->mean1, o->rstd1, x, p + o->pg1, p + o->pb1, B, ci, hw, o->g1, GN_EPS);
  silu_forward(n->S, n->A, B * ci * hw);
  zero(n->G1, B * ci * hw);
  conv3x3_backward(n->G1, gr + o->pw1, NULL, n->col, n->col_floats, n->doutput, n->S, p + o->pw1, B, ci, o->cout, h, w);
  zero(n->G2, B * ci * hw);
  silu_backward(n->G2, n->G1, n->A, B * ci * hw);
  groupnorm_backward(n->dact[o->in], gr + o->pg1, gr + o->pb1, n->G2, x, o->mean1, o->rstd1, p + o->pg1, B, ci, hw,
                     o->g1);
}

static void time_backward(net_image *n, const float *p, float *gr, int64_t B)
{
  int64_t C4 = 4 * (int64_t)n->cfg.channels;
  zero(n->dh2, B * C4);
  zero(n->da2, B * C4);
  zero(n->dh1, B * C4);
  zero(n->da1, B * C4);
  dense_backward(n->dh2, gr + n->off_tpw, gr + n->off_tpb, n->dtb, n->h2, p + n->off_tpw, B, C4, n->T);
  silu_backward(n->da2, n->dh2, n->a2, B * C4);
  dense_backward(n->dh1, gr + n->off_t2w, gr + n->off_t2b, n->da2, n->h1, p + n->off_t2w, B, C4, C4);
  silu_backward(n->da1, n->dh1, n->a1, B * C4);
  dense_backward(NULL, gr + n->off_t1w, gr + n->off_t1b, n->da1, n->e0, p + n->off_t1w, B, E_DIM, C4);
}

void net_image_backward(net_image *n, const float *p, float *gr)
{
  int64_t B = n->batch;
  for (int k = 0; k < n->nacts; k++) zero(n->dact[k], B * n->achan[k] * lev_hw(n, n->alev[k]));
  zero(n->dtb, B * n->T);
  for (int i = n->nops - 1; i >= 0; i--) {
    op     *o = &n->ops[i];
    int64_t h = lev_h(n, o->lev), w = lev_w(n, o->lev);
    switch (o->kind) {
    case OP_IN:
      conv3x3_backward(NULL, gr + o->pw1, gr + o->pc1, n->col, n->col_floats, n->dact[o->out], n->input, p + o->pw1, B,
                       o->cin, o->cout, h, w);
      break;
    case OP_RES:
      res_backward(n, o, p, gr, B);
      break;
    case OP_ATTN:
      attn_backward(n, o, p, gr, B);
      break;
    case OP_DOWN:
      avgpool2_backward(n->dact[o->in], n->dact[o->out], B * o->cin, h, w);
      break;
    case OP_UP:
      upsample2_backward(n->dact[o->in], n->dact[o->out], B * o->cin, h, w);
      break;
    case OP_CAT:
      concat_backward(n->dact[o->in], n->dact[o->in2], n->dact[o->out], B, n->achan[o->in], n->achan[o->in2], h * w);
      break;
    case OP_OUT:
      out_backward(n, o, p, gr, B);
      break;
    }
  }
  time_backward(n, p, gr, B);
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
