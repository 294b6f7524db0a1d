/* net_audio.c: the audio ARDM network (see net_audio.h for the architecture): parameter
   layout, initialisation, workspace, forward and backward over the layers of layers.h. */
#include "nn/net_audio.h"
#include "nn/layers.h"
#include "core/rng.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define E_DIM NET_AUDIO_TIME_DIM

static void add_tensor(net_audio *net, const char *name, size_t count, int fan_in)
{
  net_tensor *t = &net->tensors[net->ntensors++];
  snprintf(t->name, sizeof t->name, "%s", name);
  t->offset = net->nparams;
  t->count = count;
  t->fan_in = fan_in;
  net->nparams += count;
}

/* The flat layout, in order: time MLP, input projection, all blocks' time projections (one
   dense 4C -> B*2C, so a single GEMM serves every block), per block (dilated conv W[k][2C][C],
   1x1 out W[2C][C], its bias[2C]), the skip 1x1 and the final 1x1. net_audio_point walks the
   same order. */
static void build_layout(net_audio *net)
{
  const net_audio_config *c = &net->cfg;
  size_t                  C = (size_t)c->channels, C4 = 4 * C, nb = (size_t)c->blocks, O = (size_t)c->out_channels;
  char                    nm[32];
  add_tensor(net, "time.dense1.w", C4 * E_DIM, E_DIM);
  add_tensor(net, "time.dense1.b", C4, 0);
  add_tensor(net, "time.dense2.w", C4 * C4, (int)C4);
  add_tensor(net, "time.dense2.b", C4, 0);
  add_tensor(net, "input.w", C * (size_t)c->in_channels, c->in_channels);
  add_tensor(net, "input.b", C, 0);
  add_tensor(net, "blocks.tproj.w", nb * 2 * C * C4, (int)C4);
  add_tensor(net, "blocks.tproj.b", nb * 2 * C, 0);
  for (int i = 0; i < c->blocks; i++) {
    snprintf(nm, sizeof nm, "block%d.conv.w", i);
    add_tensor(net, nm, (size_t)c->kernel * 2 * C * C, c->kernel * (int)C);
    snprintf(nm, sizeof nm, "block%d.out.w", i);
    add_tensor(net, nm, 2 * C * C, (int)C);
    snprintf(nm, sizeof nm, "block%d.out.b", i);
    add_tensor(net, nm, 2 * C, 0);
  }
  add_tensor(net, "skip.w", C * C, (int)C);
  add_tensor(net, "skip.b", C, 0);
  add_tensor(net, "final.w", O * C, 0); /* fan_in 0: zero-initialised */
  add_tensor(net, "final.b", O, 0);
}

void net_audio_point(const net_audio *net, float *base, net_audio_tensors *t)
{
  const net_tensor *T = net->tensors;
  int               k = 0;
#define NEXT (base + T[k++].offset)
  t->t1w = NEXT, t->t1b = NEXT, t->t2w = NEXT, t->t2b = NEXT;
  t->inw = NEXT, t->inb = NEXT, t->tpw = NEXT, t->tpb = NEXT;
  for (int i = 0; i < net->cfg.blocks; i++) {
    t->blk[i].conv_w = NEXT, t->blk[i].out_w = NEXT, t->blk[i].out_b = NEXT;
    t->blk[i].tp_w = t->tpw + (size_t)i * 8 * net->cfg.channels * net->cfg.channels;
    t->blk[i].tp_b = t->tpb + (size_t)i * 2 * net->cfg.channels;
  }
  t->skw = NEXT, t->skb = NEXT, t->fw = NEXT, t->fb = NEXT;
#undef NEXT
  ArdmAssert(k == net->ntensors, "net_audio: %d named tensors, expected %d", k, (int)net->ntensors);
}

/* Tensor numbers of the layout (build_layout): 6 and 7 the time projection, 8 + 3i.. block i's
   conv, out and bias, 8 + 3 blocks the first tail tensor. */
#define T_TPW     6
#define T_TPB     7
#define T_BLK(i)  (8 + 3 * (i))
#define T_TAIL(n) (8 + 3 * (n)->cfg.blocks)

void net_audio_resident_ranges(const net_audio *net, net_audio_range r[3])
{
  const net_tensor *T = net->tensors;
  r[0] = (net_audio_range){0, T[T_TPW].offset};
  r[1] = (net_audio_range){T[T_TPB].offset, T[T_TPB].offset + T[T_TPB].count};
  r[2] = (net_audio_range){T[T_TAIL(net)].offset, net->nparams};
}

void net_audio_block_ranges(const net_audio *net, int block, net_audio_range b[2])
{
  const net_tensor *T = net->tensors;
  const size_t      rows = (size_t)8 * net->cfg.channels * net->cfg.channels; /* 2C x 4C */
  b[0] = (net_audio_range){T[T_TPW].offset + (size_t)block * rows, T[T_TPW].offset + (size_t)(block + 1) * rows};
  b[1] = (net_audio_range){T[T_BLK(block)].offset, T[T_BLK(block) + 2].offset + T[T_BLK(block) + 2].count};
}

void net_audio_point_resident(const net_audio *net, float *buf, net_audio_tensors *t)
{
  const net_tensor *T = net->tensors;
  net_audio_range   r[3];
  float            *tail;
  net_audio_resident_ranges(net, r);
  tail = buf + (r[0].hi - r[0].lo) + (r[1].hi - r[1].lo);
  t->t1w = buf + T[0].offset, t->t1b = buf + T[1].offset, t->t2w = buf + T[2].offset, t->t2b = buf + T[3].offset;
  t->inw = buf + T[4].offset, t->inb = buf + T[5].offset;
  t->tpw = NULL, t->tpb = buf + (r[0].hi - r[0].lo);
  for (int i = 0; i < net->cfg.blocks; i++)
    t->blk[i] = (net_audio_block_tensors){.tp_b = t->tpb + (size_t)i * 2 * net->cfg.channels};
  t->skw = tail + (T[T_TAIL(net)].offset - r[2].lo), t->skb = tail + (T[T_TAIL(net) + 1].offset - r[2].lo);
  t->fw = tail + (T[T_TAIL(net) + 2].offset - r[2].lo), t->fb = tail + (T[T_TAIL(net) + 3].offset - r[2].lo);
}

void net_audio_point_block(const net_audio *net, int block, float *buf, net_audio_tensors *t)
{
  const net_tensor        *T = &net->tensors[T_BLK(block)];
  net_audio_block_tensors *b = &t->blk[block];
  float                   *w = buf + (size_t)8 * net->cfg.channels * net->cfg.channels; /* after the tproj rows */
  b->tp_w = buf;
  b->conv_w = w, b->out_w = w + (T[1].offset - T[0].offset), b->out_b = w + (T[2].offset - T[0].offset);
}

/* Carves the workspace into the activation buffers; with base == NULL only counts floats. */
static size_t carve(net_audio *net, float *base)
{
  const net_audio_config *c = &net->cfg;
  size_t                  Bm = (size_t)c->max_batch, D = (size_t)c->dim, C = (size_t)c->channels, at = 0;
  size_t                  nb = (size_t)c->blocks, C4 = 4 * C;
#define TAKE(ptr, n) (net->ptr = base ? base + at : NULL, at += (n))
  TAKE(input, Bm * (size_t)c->in_channels * D);
  TAKE(output, Bm * (size_t)c->out_channels * D);
  TAKE(doutput, Bm * (size_t)c->out_channels * D);
  TAKE(xs, nb * Bm * C * D);
  TAKE(ts, nb * Bm * 2 * C * D);
  TAKE(g, Bm * C * D);
  TAKE(o, Bm * 2 * C * D);
  TAKE(skip, Bm * C * D);
  TAKE(r, Bm * C * D);
  TAKE(h, Bm * C * D);
  TAKE(dres, Bm * 2 * C * D);
  TAKE(dg, Bm * C * D);
  TAKE(dz, Bm * 2 * C * D);
  TAKE(e0, Bm * E_DIM);
  TAKE(a1, Bm * C4);
  TAKE(h1, Bm * C4);
  TAKE(a2, Bm * C4);
  TAKE(h2, Bm * C4);
  TAKE(dh2, Bm * C4);
  TAKE(da2, Bm * C4);
  TAKE(dh1, Bm * C4);
  TAKE(da1, Bm * C4);
  TAKE(tb, Bm * nb * 2 * C);
  TAKE(dtb, Bm * nb * 2 * C);
  TAKE(ssum, Bm * C);
#undef TAKE
  return at;
}

PetscErrorCode net_audio_setup(MPI_Comm comm, const net_audio_config *cfg, net_audio *net)
{
  PetscFunctionBegin;
  memset(net, 0, sizeof *net);
  PetscCheck(cfg->blocks >= 1 && cfg->channels >= 1 && cfg->cycle >= 1 && cfg->cycle <= 30, comm, ARDM_ERR_INPUT,
             "audio network: -model_blocks and -model_channels must be >= 1 and -model_cycle in 1..30 (got %d, %d, %d)",
             cfg->blocks, cfg->channels, cfg->cycle);
  PetscCheck(cfg->kernel >= 1 && cfg->kernel % 2 == 1, comm, ARDM_ERR_INPUT,
             "audio network: the kernel must be odd and >= 1 (got %d)", cfg->kernel);
  PetscCheck(cfg->dim >= 1 && cfg->in_channels >= 2 && cfg->out_channels >= 1 && cfg->max_batch >= 1, comm,
             ARDM_ERR_INPUT, "audio network: need D >= 1, >= 2 input channels, >= 1 output and batch >= 1");
  PetscCheck(cfg->max_time > 0, comm, ARDM_ERR_INPUT, "audio network: max_time must be > 0");
  net->cfg = *cfg;
  PetscCall(ardm_alloc(sizeof(net_tensor) * (size_t)(3 * cfg->blocks + 12), &net->tensors));
  PetscCall(ardm_alloc(sizeof(net_audio_block_tensors) * (size_t)cfg->blocks * 2, &net->pt.blk));
  net->gt.blk = net->pt.blk + cfg->blocks;
  build_layout(net);
  net->work_floats = carve(net, NULL);
  PetscCall(ardm_alloc(net->work_floats * sizeof(float), &net->work));
  /* fault every page in now: first touches are slow on these machines, and a step must not pay them */
  memset(net->work, 0, net->work_floats * sizeof(float));
  carve(net, net->work);
  PetscFunctionReturn(0);
}

void net_audio_free(net_audio *net)
{
  ardm_free(&net->work);
  ardm_free(&net->tensors);
  ardm_free(&net->pt.blk);
  memset(net, 0, sizeof *net);
}

size_t net_audio_num_params(const net_audio *net)
{
  return net->nparams;
}
int net_audio_num_tensors(const net_audio *net)
{
  return net->ntensors;
}
const net_tensor *net_audio_tensor(const net_audio *net, int i)
{
  return &net->tensors[i];
}
size_t net_audio_output_bias_offset(const net_audio *net)
{
  return net->tensors[net->ntensors - 1].offset; /* final.b, the last tensor */
}
size_t net_audio_workspace_bytes(const net_audio *net)
{
  return net->work_floats * sizeof(float);
}

size_t net_audio_config_bytes(const net_audio_config *cfg)
{
  net_audio tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.cfg = *cfg;
  return carve(&tmp, NULL) * sizeof(float); /* base NULL: counts only */
}

void net_audio_init_params_range(const net_audio *net, float *out, size_t lo, size_t hi, uint64_t seed)
{
  for (int i = 0; i < net->ntensors; i++) {
    const net_tensor *t = &net->tensors[i];
    rng_stream        s;
    double            std = t->fan_in > 0 ? 1.0 / sqrt((double)t->fan_in) : 0.0;
    size_t            end = PetscMin(t->offset + t->count, hi);
    if (end <= lo || t->offset >= hi) continue;
    rng_init(&s, seed, 0, (uint64_t)i, RNG_INIT);
    for (size_t j = t->offset; j < end; j++) { /* the stream from the tensor's start: same values as whole */
      float v = std > 0 ? (float)(std * rng_normal(&s)) : 0.0f;
      if (j >= lo) out[j - lo] = v;
    }
  }
}

void net_audio_init_params(const net_audio *net, float *params, uint64_t seed)
{
  net_audio_init_params_range(net, params, 0, net->nparams, seed);
}

int64_t net_audio_dilation(const net_audio_config *c, int i)
{
  return (int64_t)1 << (i % c->cycle);
}

void net_audio_describe(const net_audio *net, char *buf, size_t len)
{
  const net_audio_config *c = &net->cfg;
  int64_t                 rf = 1;
  for (int i = 0; i < c->blocks; i++) rf += (int64_t)(c->kernel - 1) * net_audio_dilation(c, i);
  snprintf(buf, len,
           "audio network: %d blocks x %d channels, cycle %d, kernel %d, D %lld, %d inputs -> %d outputs/dim, "
           "receptive field %lld, %zu parameters (%.2f M)",
           c->blocks, c->channels, c->cycle, c->kernel, (long long)c->dim, c->in_channels, c->out_channels,
           (long long)rf, net->nparams, (double)net->nparams / 1e6);
}

double net_audio_flops(const net_audio *net, int64_t batch)
{
  const net_audio_config *c = &net->cfg;
  double                  C = c->channels, D = (double)c->dim, nb = c->blocks, O = c->out_channels, Ci = c->in_channels;
  double blk = 2.0 * c->kernel * 2 * C * C * D + 2.0 * 2 * C * C * D; /* dilated conv + 1x1 out, forward */
  double tail = 2.0 * C * C * D + 2.0 * O * C * D;
  double time = 2.0 * (E_DIM * 4 * C + 16 * C * C + 4 * C * nb * 2 * C);
  double inp = 2.0 * Ci * C * D;
  /* backward: weight and input gradients (twice forward), input layer weights only */
  return (double)batch * (3.0 * (nb * blk + tail + time) + 2.0 * inp);
}

void net_audio_fill_input(net_audio *net, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage)
{
  const net_audio_config *c = &net->cfg;
  int64_t                 D = c->dim;
  float                  *in = net->input + e * c->in_channels * D; /* in[Cin][D] */
  ArdmAssert(e >= 0 && e < c->max_batch && (c->in_channels == 2 || (stage >= 0 && stage < c->in_channels - 2)),
             "net_audio: example %lld or stage %d out of range", (long long)e, stage);
  double scale = K > 1 ? 2.0 / (double)(K - 1) : 0.0;
  for (int64_t i = 0; i < D; i++) {
    in[i] = (float)(v[i] * scale - 1.0);
    in[D + i] = known[i] ? 1.0f : 0.0f;
  }
  for (int s = 0; s < c->in_channels - 2; s++)
    for (int64_t i = 0; i < D; i++) in[(2 + s) * D + i] = s == stage ? 1.0f : 0.0f;
}

/* x[0..n) = 0, in one piece per thread when large (the pages stay with the threads that use them) */
static void zero(float *x, int64_t n)
{
  const int64_t piece = 4096; /* floats: pieces of 16 KiB */
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t i = 0; i < n; i += piece) memset(x + i, 0, (size_t)(n - i < piece ? n - i : piece) * sizeof(float));
}

/* ---- forward ---- */

static void time_forward(net_audio *net, const net_audio_tensors *P, int64_t B, const double *t)
{
  const net_audio_config *c = &net->cfg;
  int64_t                 C4 = 4 * (int64_t)c->channels, T = (int64_t)c->blocks * 2 * c->channels;
  timeembed_forward(net->e0, t, B, E_DIM, 1000.0 / c->max_time); /* e0[B][E] */
  dense_forward(net->a1, net->e0, P->t1w, P->t1b, B, E_DIM, C4); /* a1[B][4C] */
  silu_forward(net->h1, net->a1, B * C4);
  dense_forward(net->a2, net->h1, P->t2w, P->t2b, B, C4, C4); /* a2[B][4C] */
  silu_forward(net->h2, net->a2, B * C4);
  if (!net->param.stage) dense_forward(net->tb, net->h2, P->tpw, P->tpb, B, C4, T); /* tb[B][blocks][2C] */
}

/* Input projection, blocks and tail for examples e0..e0+eb-1 of the call's batch. The saved
   activations (xs, ts, skip, r, h) keep their [B]-wide layout; the temporaries g and o are
   reused from their start for every group. */
static void body_forward(net_audio *net, const net_audio_tensors *P, int64_t e0, int64_t eb)
{
  const net_audio_config *c = &net->cfg;
  const int64_t           C = c->channels, D = c->dim, nb = c->blocks, O = c->out_channels, B = net->batch;
  const int64_t           act = B * C * D;                  /* elements of one [B][C][D] activation */
  const int64_t           off = e0 * C * D, n = eb * C * D; /* this group's part of it */
  /* input projection + ReLU: x0[eb][C][D] */
  conv1x1_forward(net->xs + off, net->input + e0 * c->in_channels * D, P->inw, P->inb, eb, c->in_channels, C, D);
  relu_forward(net->xs + off, net->xs + off, n);
  for (int i = 0; i < nb; i++) {
    const net_audio_block_tensors *bp = &P->blk[i];
    float                         *x = net->xs + i * act + off, *ts = net->ts + 2 * i * act + 2 * off;
    float                         *z = net->o;       /* z[eb][2C][D]: the conv output, dead after the gate */
    float *xn = i + 1 < nb ? x + act : net->r + off; /* the last block's residual output is unused */
    if (net->param.stage) { /* block i's weights staged now; its rows of the time projection: tb[.][i] */
      net->param.stage(net->param.ctx, i, 0);
      for (int64_t b = e0; b < e0 + eb; b++)
        dense_forward(net->tb + b * nb * 2 * C + i * 2 * C, net->h2 + b * 4 * C, bp->tp_w, bp->tp_b, 1, 4 * C, 2 * C);
    }
    if (net->conv.forward)
      net->conv.forward(net->conv.ctx, z, x, bp->conv_w, eb, i);
    else
      conv1d_forward(z, x, bp->conv_w, NULL, eb, C, 2 * C, D, c->kernel, net_audio_dilation(c, i)); /* z[eb][2C][D] */
    /* g[eb][C][D] = gate(z + time bias); ts[eb][2C][D] = its tanh and sigmoid, saved for the backward */
    gate_apply(net->g, ts, z, net->tb + e0 * nb * 2 * C + i * 2 * C, nb * 2 * C, eb, C, D);
    conv1x1_forward(net->o, net->g, bp->out_w, NULL, eb, C, 2 * C, D); /* o[eb][2C][D] (over z) */
    if (i == 0) /* the first block starts the skip sum (no zero fill) */
      resskip_forward_set(xn, net->skip + off, x, net->o, bp->out_b, eb, C, D, (float)M_SQRT1_2);
    else
      resskip_forward(xn, net->skip + off, x, net->o, bp->out_b, eb, C, D, (float)M_SQRT1_2);
  }
  /* tail: r = ReLU(skip / sqrt(B)), h = ReLU(1x1 r), out = 1x1 h */
  {
    float *r = net->r + off, *skip = net->skip + off, sc = (float)(1.0 / sqrt((double)nb));
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
    for (int64_t k = 0; k < n; k++) r[k] = skip[k] > 0.0f ? skip[k] * sc : 0.0f;
  }
  conv1x1_forward(net->h + off, net->r + off, P->skw, P->skb, eb, C, C, D);
  relu_forward(net->h + off, net->h + off, n);
  conv1x1_forward(net->output + e0 * O * D, net->h + off, P->fw, P->fb, eb, C, O, D);
}

void net_audio_forward(net_audio *net, const float *p, int64_t B, const double *t)
{
  const net_audio_config *c = &net->cfg;
  /* Example by example: one example's passes through a block (~7 C D floats) stay in the
     last-level cache, so a call at batch n costs n calls at batch 1 and not more (whole-batch
     passes spill; issue 17). Every example's arithmetic is the same either way. With a
     convolution hook (model parallelism) the whole batch goes through each block together,
     so that one halo exchange per block carries every example. */
  const int64_t eb = net->conv.forward || net->param.stage ? B : 1;
  ArdmAssert(B >= 1 && B <= c->max_batch, "net_audio: batch %lld outside 1..%lld", (long long)B,
             (long long)c->max_batch);
  ArdmAssert(!p == !!net->param.stage, "net_audio: parameters must be NULL exactly when they are staged");
  if (p) net_audio_point(net, (float *)p, &net->pt); /* read only: forward writes no parameter */
  net->batch = B;
  time_forward(net, &net->pt, B, t);
  for (int64_t e0 = 0; e0 < B; e0 += eb) body_forward(net, &net->pt, e0, eb);
  zero(net->doutput, B * c->out_channels * c->dim);
}

/* ---- backward ---- */
static void time_backward(net_audio *net, const net_audio_tensors *P, const net_audio_tensors *G, int64_t B)
{
  const net_audio_config *c = &net->cfg;
  int64_t                 C4 = 4 * (int64_t)c->channels, T = (int64_t)c->blocks * 2 * c->channels;
  if (!net->param.stage) { /* staged: zeroed before the blocks, each block added its rows' part */
    zero(net->dh2, B * C4);
    zero(net->da2, B * C4);
    zero(net->dh1, B * C4);
    zero(net->da1, B * C4);
    dense_backward(net->dh2, G->tpw, G->tpb, net->dtb, net->h2, P->tpw, B, C4, T);
  }
  silu_backward(net->da2, net->dh2, net->a2, B * C4);
  dense_backward(net->dh1, G->t2w, G->t2b, net->da2, net->h1, P->t2w, B, C4, C4);
  silu_backward(net->da1, net->dh1, net->a1, B * C4);
  dense_backward(NULL, G->t1w, G->t1b, net->da1, net->e0, P->t1w, B, E_DIM, C4);
}

/* Tail backward for examples e0..e0+eb-1: from doutput to d loss / d skip (the unscaled skip
   sum), written into the skip half of the packed block gradient dres[B][2C][D] (dres[:, C:]),
   and its per-row sums ssum[B][C] (every block's skip-bias gradient; chan_row_sums). Every
   input gradient here has one producer, so it is written (_set), not zero-filled and
   accumulated. The temporaries dh and dr are reused from their start for every group. */
static void tail_backward(net_audio *net, const net_audio_tensors *P, const net_audio_tensors *G, int64_t e0,
                          int64_t eb)
{
  const net_audio_config *c = &net->cfg;
  const int64_t           C = c->channels, D = c->dim, O = c->out_channels, n = eb * C * D, off = e0 * C * D;
  const float             sc = (float)(1.0 / sqrt((double)c->blocks));
  const float            *h = net->h + off, *r = net->r + off; /* h[eb][C][D], r[eb][C][D] */
  float                  *dh = net->dg, *dr = net->dz;         /* dh[eb][C][D]; dr[eb][C][D] in dz's first half */
  float                  *dres = net->dres + 2 * e0 * C * D;   /* [eb][2C][D] */
  conv1x1_backward_set(dh, G->fw, G->fb, net->doutput + e0 * O * D, h, P->fw, eb, C, O, D);
  relu_backward_set(dh, dh, h, n); /* in place: d loss / d (skip 1x1's output) */
  conv1x1_backward_set(dr, G->skw, G->skb, dh, r, P->skw, eb, C, C, D);
  /* r = ReLU(skip * sc): r > 0 exactly where skip > 0 */
#pragma omp parallel for schedule(static) if (n > NN_PAR_MIN)
  for (int64_t k = 0; k < eb * C; k++) { /* row k = e C + ch */
    const float *rr = r + k * D, *drr = dr + k * D;
    float       *ds = dres + ((k / C) * 2 * C + C + k % C) * D; /* dres[e][C + ch][:] */
    for (int64_t i = 0; i < D; i++) ds[i] = rr[i] > 0.0f ? drr[i] * sc : 0.0f;
  }
  chan_row_sums(net->ssum + e0 * C, dres + C * D, eb, C, D, 2 * C * D);
}

/* Block i's backward for examples e0..e0+eb-1 (doc/design.md "Fused passes of the audio network").
   dres[e][:C] holds d loss / d x_{i+1} on entry and d loss / d x_i on return; dres[e][C:]
   holds d loss / d skip throughout, so dres[e] is the gradient of the block's 1x1 output o
   (after one scaling pass) and its 1x1 backward is one GEMM with nothing copied. The gate's
   output is the product of the saved tanh and sigmoid, and its backward reads them too: no
   exponential is evaluated in the backward. */
static void block_backward(net_audio *net, int i, int64_t e0, int64_t eb)
{
  const net_audio_config        *c = &net->cfg;
  const int64_t                  C = c->channels, D = c->dim, nb = c->blocks, act = net->batch * C * D;
  const net_audio_block_tensors *bp = &net->pt.blk[i], *bg = &net->gt.blk[i];
  const float                   *x = net->xs + i * act + e0 * C * D; /* x_i[eb][C][D] */
  const float  *ts = net->ts + 2 * i * act + 2 * e0 * C * D;         /* ts_i[eb][2C][D]: the gate's tanh and sigmoid */
  float        *dres = net->dres + 2 * e0 * C * D;                   /* [eb][2C][D] */
  const int64_t tbo = e0 * nb * 2 * C + i * 2 * C; /* example e0's time bias of block i in tb[B][nb][2C] */
  gate_product(net->g, ts, eb, C, D);              /* g[eb][C][D], the forward's values */
  resskip_backward_packed(dres, bg->out_b, net->ssum + e0 * C, eb, C, D, (float)M_SQRT1_2); /* dres = d o */
  conv1x1_backward_set(net->dg, bg->out_w, NULL, dres, net->g, bp->out_w, eb, C, 2 * C, D); /* dg[eb][C][D] */
  gate_backward_ts_set(net->dz, net->dtb + tbo, nb * 2 * C, net->dg, ts, eb, C, D);         /* dz[eb][2C][D] */
  /* d loss / d x_i = the residual part already in dres[:, :C] + the dilated conv's input gradient */
  if (net->conv.backward)
    net->conv.backward(net->conv.ctx, dres, bg->conv_w, net->dz, x, bp->conv_w, eb, i, 2 * C * D);
  else
    for (int64_t e = 0; e < eb; e++)
      conv1d_backward(dres + e * 2 * C * D, bg->conv_w, NULL, net->dz + e * 2 * C * D, x + e * C * D, bp->conv_w, 1, C,
                      2 * C, D, c->kernel, net_audio_dilation(c, i));
}

void net_audio_backward(net_audio *net, const float *p, float *gr)
{
  const net_audio_config  *c = &net->cfg;
  const net_audio_tensors *P = &net->pt, *G = &net->gt;
  const int64_t            B = net->batch, C = c->channels, D = c->dim, nb = c->blocks, C4 = 4 * C;
  ArdmAssert(!p == !!net->param.stage && !gr == !!net->param.stage,
             "net_audio: parameters and gradients must be NULL exactly when they are staged");
  if (p) net_audio_point(net, (float *)p, &net->pt); /* read only */
  if (gr) net_audio_point(net, gr, &net->gt);
  /* dres[:, C:] = d loss / d skip, example by example (each example's tail passes stay in
     cache; the weight and bias gradients still receive the examples in order) */
  for (int64_t e = 0; e < B; e++) tail_backward(net, P, G, e, 1);
  zero(net->dtb, B * nb * 2 * C);
  if (net->param.stage) { /* the time MLP's gradients gather block by block (time_backward) */
    zero(net->dh2, B * C4);
    zero(net->da2, B * C4);
    zero(net->dh1, B * C4);
    zero(net->da1, B * C4);
  }
  for (int64_t e = 0; e < B; e++) zero(net->dres + e * 2 * C * D, C * D); /* nothing uses the last block's x_{nb} */
  if (net->conv.backward || net->param.stage)
    /* block by block over the whole batch: one halo exchange (or one staging) per block */
    for (int i = (int)nb - 1; i >= 0; i--) {
      const net_audio_block_tensors *bp = &P->blk[i], *bg = &G->blk[i];
      if (net->param.stage) net->param.stage(net->param.ctx, i, 1);
      block_backward(net, i, 0, B);
      if (net->param.stage) { /* this block's rows of the time projection, then its gradients are complete */
        for (int64_t b = 0; b < B; b++)
          dense_backward(net->dh2 + b * C4, bg->tp_w, bg->tp_b, net->dtb + b * nb * 2 * C + i * 2 * C, net->h2 + b * C4,
                         bp->tp_w, 1, C4, 2 * C);
        net->param.done(net->param.ctx, i);
      }
    }
  else
    /* example by example, as the forward: one example's passes stay in the last-level cache.
       Every tensor still receives its examples' contributions in example order (bitwise the
       same as block by block over the batch). */
    for (int64_t e = 0; e < B; e++)
      for (int i = (int)nb - 1; i >= 0; i--) block_backward(net, i, e, 1);
  /* input projection: x0 = ReLU(W in + b); dres[:, :C] holds d loss / d x0 */
  for (int64_t e = 0; e < B; e++) { /* dg[C][D] = d loss / d (the projection's output) of example e */
    relu_backward_set(net->dg, net->dres + e * 2 * C * D, net->xs + e * C * D, C * D);
    conv1x1_backward(NULL, G->inw, G->inb, net->dg, net->input + e * c->in_channels * D, P->inw, 1, c->in_channels, C,
                     D);
  }
  time_backward(net, P, G, B);
}

/* ---- the generic network interface (nn/net.h) ---- */
static void ops_free(void *impl)
{
  net_audio *a = impl;
  net_audio_free(a);
  (void)PetscFree(a);
}
NET_OPS_DEFINE(net_audio, "diffwave", ops_free);

PetscErrorCode net_audio_create(MPI_Comm comm, const net_audio_config *cfg, network *n)
{
  net_audio *a;
  PetscFunctionBegin;
  PetscCall(PetscNew(&a));
  PetscCall(net_audio_setup(comm, cfg, a));
  *n = (network){.ops = &net_audio_ops,
                 .impl = a,
                 .output = a->output,
                 .doutput = a->doutput,
                 .d_lo = 0,
                 .d_n = cfg->dim,
                 .comm = MPI_COMM_SELF};
  PetscFunctionReturn(0);
}
