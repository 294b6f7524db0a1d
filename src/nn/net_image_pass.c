/* net_image_pass.c: the image network's forward and backward passes over its op list (the
   state is in net_image_impl.h, the architecture in net_image.h): the time embedding, ResBlocks,
   attention, down/up-sampling, skip concatenation and the output convolution. */
#include "nn/net_image.h"
#include "nn/net_image_impl.h"
#include "nn/layer_conv2d.h"
#include "nn/layers.h"
#include <math.h>
#include <string.h>

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
