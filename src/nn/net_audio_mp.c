/* net_audio_mp.c: the audio network split along D over one replica's ranks (nn/net_audio_mp.h):
   halo exchange of the dilated convolutions, the whole-example input slice, the generic
   interface. */
#include "nn/net_audio_mp.h"
#include "nn/layers.h"
#include <stdio.h>
#include <string.h>

static PetscLogEvent ev_halo = -1;  /* "ArdmMPHalo": the neighbour exchanges, for -log_view */
static PetscLogEvent ev_param = -1; /* "ArdmMPParams": gathers and reduce-scatters of sharded parameters */

static int64_t block_halo(const net_audio_mp *mp, int block)
{
  return net_audio_dilation(&mp->loc.cfg, block) * ((mp->loc.cfg.kernel - 1) / 2);
}

/* Sends the first and last h columns of every row of x[rows][n] to the left and right
   neighbours and receives theirs (zeros past the ends of D) into rl, rr [rows][h]. Errors in
   these calls are fatal (the replica communicator's handler), so there is nothing to return. */
static void exchange(net_audio_mp *mp, int64_t rows, int64_t h)
{
  MPI_Request req[4];
  int         cnt = (int)(rows * h); /* fits: checked at setup against INT_MAX */
  double      t0 = MPI_Wtime();
  (void)PetscLogEventBegin(ev_halo, 0, 0, 0, 0);
  memset(mp->rl, 0, (size_t)cnt * sizeof(float));
  memset(mp->rr, 0, (size_t)cnt * sizeof(float));
  (void)MPI_Irecv(mp->rl, cnt, MPI_FLOAT, mp->left, 1, mp->comm, &req[0]);
  (void)MPI_Irecv(mp->rr, cnt, MPI_FLOAT, mp->right, 0, mp->comm, &req[1]);
  (void)MPI_Isend(mp->sl, cnt, MPI_FLOAT, mp->left, 0, mp->comm, &req[2]);
  (void)MPI_Isend(mp->sr, cnt, MPI_FLOAT, mp->right, 1, mp->comm, &req[3]);
  (void)MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
  (void)PetscLogEventEnd(ev_halo, 0, 0, 0, 0);
  mp->halo_s += MPI_Wtime() - t0;
}

/* xh[rows][n + 2h] = the neighbours' last h columns, x[rows][n], the right neighbour's first h. */
static void fill_halo(net_audio_mp *mp, float *xh, const float *x, int64_t rows, int64_t h)
{
  const int64_t n = mp->n, dh = n + 2 * h;
  for (int64_t r = 0; r < rows; r++) {
    memcpy(mp->sl + r * h, x + r * n, (size_t)h * sizeof(float));
    memcpy(mp->sr + r * h, x + r * n + n - h, (size_t)h * sizeof(float));
  }
  if (h > 0) exchange(mp, rows, h);
  for (int64_t r = 0; r < rows; r++) {
    memcpy(xh + r * dh, mp->rl + r * h, (size_t)h * sizeof(float));
    memcpy(xh + r * dh + h, x + r * n, (size_t)n * sizeof(float));
    memcpy(xh + r * dh + h + n, mp->rr + r * h, (size_t)h * sizeof(float));
  }
}

/* z[B][2C][n] = the block's dilated convolution of x[B][C][n] (with the neighbours' columns). */
static void conv_forward(void *ctx, float *z, const float *x, const float *w, int64_t B, int block)
{
  net_audio_mp *mp = ctx;
  const int64_t C = mp->loc.cfg.channels, h = block_halo(mp, block);
  fill_halo(mp, mp->xh, x, B * C, h);
  conv1d_halo_forward(z, mp->xh, w, NULL, B, C, 2 * C, mp->n, mp->loc.cfg.kernel,
                      net_audio_dilation(&mp->loc.cfg, block));
}

/* Backward of conv_forward: dx += this part's input gradient (example e's dx[C][n] at dx + e dx_stride),
   including what the neighbours' outputs contribute through their halos; dw += this part's weight gradient. */
static void conv_backward(void *ctx, float *dx, float *dw, const float *dz, const float *x, const float *w, int64_t B,
                          int block, int64_t dx_stride)
{
  net_audio_mp *mp = ctx;
  const int64_t C = mp->loc.cfg.channels, h = block_halo(mp, block), n = mp->n, dh = n + 2 * h, rows = B * C;
  fill_halo(mp, mp->xh, x, rows, h); /* the halos again: forward's copy was overwritten by later blocks */
  memset(mp->dxh, 0, (size_t)(rows * dh) * sizeof(float));
  conv1d_halo_backward(mp->dxh, dw, NULL, dz, mp->xh, w, B, C, 2 * C, n, mp->loc.cfg.kernel,
                       net_audio_dilation(&mp->loc.cfg, block));
  /* the halo columns' gradients belong to the neighbours: left halo to the left, right to the right */
  for (int64_t r = 0; r < rows; r++) {
    memcpy(mp->sl + r * h, mp->dxh + r * dh, (size_t)h * sizeof(float));
    memcpy(mp->sr + r * h, mp->dxh + r * dh + h + n, (size_t)h * sizeof(float));
  }
  if (h > 0) exchange(mp, rows, h);
  for (int64_t r = 0; r < rows; r++) {
    float       *dxr = dx + (r / C) * dx_stride + (r % C) * n; /* example r / C's row r % C */
    const float *g = mp->dxh + r * dh + h, *fl = mp->rl + r * h, *fr = mp->rr + r * h;
    for (int64_t i = 0; i < n; i++) dxr[i] += g[i];
    for (int64_t i = 0; i < h; i++) dxr[i] += fl[i], dxr[n - h + i] += fr[i];
  }
}

PetscErrorCode net_audio_mp_setup(MPI_Comm comm, const net_audio_config *cfg, net_audio_mp *mp)
{
  net_audio_config lc = *cfg;
  int64_t          rows, a;
  PetscFunctionBegin;
  PetscCall(PetscMemzero(mp, sizeof *mp));
  if (ev_halo < 0) PetscCall(PetscLogEventRegister("ArdmMPHalo", PETSC_SMALLEST_CLASSID, &ev_halo));
  if (ev_param < 0) PetscCall(PetscLogEventRegister("ArdmMPParams", PETSC_SMALLEST_CLASSID, &ev_param));
  mp->comm = comm, mp->D = cfg->dim;
  PetscCallMPI(MPI_Comm_size(comm, &mp->Q));
  PetscCallMPI(MPI_Comm_rank(comm, &mp->part));
  PetscCallMPI(MPI_Comm_set_errhandler(comm, MPI_ERRORS_ARE_FATAL));
  mp->lo = cfg->dim * mp->part / mp->Q, mp->n = cfg->dim * (mp->part + 1) / mp->Q - mp->lo;
  mp->left = mp->part > 0 ? mp->part - 1 : MPI_PROC_NULL;
  mp->right = mp->part + 1 < mp->Q ? mp->part + 1 : MPI_PROC_NULL;
  for (int i = 0; i < cfg->blocks && cfg->cycle >= 1; i++)
    mp->hmax = PetscMax(mp->hmax, net_audio_dilation(cfg, i) * ((cfg->kernel - 1) / 2));
  PetscCheck(cfg->dim / mp->Q >= PetscMax(mp->hmax, 1), comm, ARDM_ERR_INPUT,
             "-model_parallel %d: too large for D = %lld: each rank's part of D (%lld) must be at least the widest "
             "dilated-convolution halo (%lld)",
             mp->Q, (long long)cfg->dim, (long long)(cfg->dim / mp->Q), (long long)mp->hmax);
  lc.dim = mp->n;
  PetscCall(net_audio_setup(comm, &lc, &mp->loc));
  mp->loc.conv = (net_audio_conv_hook){.ctx = mp, .forward = conv_forward, .backward = conv_backward};
  rows = (int64_t)cfg->max_batch * cfg->channels;
  PetscCheck(rows * mp->hmax < INT32_MAX, comm, ARDM_ERR_INPUT, "-model_parallel: halo messages too large");
  a = rows * (mp->n + 2 * mp->hmax);
  PetscCall(ardm_alloc(sizeof(float) * (size_t)(2 * a + 4 * rows * mp->hmax + 16), &mp->buf));
  mp->xh = mp->buf, mp->dxh = mp->xh + a, mp->sl = mp->dxh + a;
  mp->sr = mp->sl + rows * mp->hmax, mp->rl = mp->sr + rows * mp->hmax, mp->rr = mp->rl + rows * mp->hmax;
  PetscFunctionReturn(0);
}

/* ---- parameters sharded at rest ---- */

/* Errors of the shard collectives end the job (they are MPI errors on every rank). */
static void gather(net_audio_mp *mp, net_audio_range r, float *out)
{
  PetscErrorCode e;
  (void)PetscLogEventBegin(ev_param, 0, 0, 0, 0);
  e = shard_allgather_range(mp->sh, r.lo, r.hi, mp->pslice, out);
  (void)PetscLogEventEnd(ev_param, 0, 0, 0, 0);
  ArdmAssert(!e, "net_audio_mp: parameter gather failed");
}
static void reduce(net_audio_mp *mp, net_audio_range r, const float *seg)
{
  PetscErrorCode e;
  (void)PetscLogEventBegin(ev_param, 0, 0, 0, 0);
  e = shard_reduce_scatter_range(mp->sh, r.lo, r.hi, seg, mp->gslice);
  (void)PetscLogEventEnd(ev_param, 0, 0, 0, 0);
  ArdmAssert(!e, "net_audio_mp: gradient reduce-scatter failed");
}

/* net_audio_param_hook.stage: block i's two ranges gathered into pblk (and gblk zeroed). */
static void stage_block(void *ctx, int block, int backward)
{
  net_audio_mp   *mp = ctx;
  net_audio_range b[2];
  net_audio_block_ranges(&mp->loc, block, b);
  gather(mp, b[0], mp->pblk);
  gather(mp, b[1], mp->pblk + (b[0].hi - b[0].lo));
  net_audio_point_block(&mp->loc, block, mp->pblk, &mp->loc.pt);
  if (!backward) return;
  memset(mp->gblk, 0, mp->nblk * sizeof(float));
  net_audio_point_block(&mp->loc, block, mp->gblk, &mp->loc.gt);
}

/* net_audio_param_hook.done: block i's gradients to their owners. */
static void block_done(void *ctx, int block)
{
  net_audio_mp   *mp = ctx;
  net_audio_range b[2];
  net_audio_block_ranges(&mp->loc, block, b);
  reduce(mp, b[0], mp->gblk);
  reduce(mp, b[1], mp->gblk + (b[0].hi - b[0].lo));
}

/* Forward with staged parameters: the resident tensors, then the network (or, with no example,
   the same sequence of gathers without the arithmetic). */
static void sharded_forward(net_audio_mp *mp, int64_t batch, const double *t)
{
  size_t at = 0;
  for (int k = 0; k < 3; k++) gather(mp, mp->res[k], mp->pres + at), at += mp->res[k].hi - mp->res[k].lo;
  net_audio_point_resident(&mp->loc, mp->pres, &mp->loc.pt);
  mp->idle = batch == 0;
  if (mp->idle)
    for (int i = 0; i < mp->loc.cfg.blocks; i++) stage_block(mp, i, 0);
  else
    net_audio_forward(&mp->loc, NULL, batch, t);
}

static void sharded_backward(net_audio_mp *mp)
{
  size_t at = 0;
  memset(mp->gres, 0, mp->nres * sizeof(float));
  net_audio_point_resident(&mp->loc, mp->gres, &mp->loc.gt);
  if (mp->idle)
    for (int i = mp->loc.cfg.blocks - 1; i >= 0; i--) stage_block(mp, i, 1), block_done(mp, i);
  else
    net_audio_backward(&mp->loc, NULL, NULL);
  for (int k = 0; k < 3; k++) reduce(mp, mp->res[k], mp->gres + at), at += mp->res[k].hi - mp->res[k].lo;
}

PetscErrorCode net_audio_mp_shard(net_audio_mp *mp, const shard *sh, const float *pslice, float *gslice)
{
  net_audio_range b[2];
  PetscFunctionBegin;
  PetscCheck(sh->n == net_audio_num_params(&mp->loc) && !mp->sh, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "net_audio_mp_shard: the shard does not describe this network's parameters");
  mp->sh = sh, mp->pslice = pslice, mp->gslice = gslice;
  net_audio_resident_ranges(&mp->loc, mp->res);
  mp->nres = 0;
  for (int k = 0; k < 3; k++) mp->nres += mp->res[k].hi - mp->res[k].lo;
  net_audio_block_ranges(&mp->loc, 0, b);
  mp->nblk = (b[0].hi - b[0].lo) + (b[1].hi - b[1].lo); /* the same for every block */
  PetscCall(ardm_alloc(sizeof(float) * 2 * (mp->nres + mp->nblk), &mp->pres));
  mp->gres = mp->pres + mp->nres, mp->pblk = mp->gres + mp->nres, mp->gblk = mp->pblk + mp->nblk;
  mp->loc.param = (net_audio_param_hook){.ctx = mp, .stage = stage_block, .done = block_done};
  PetscFunctionReturn(0);
}

size_t net_audio_mp_staging_bytes(const net_audio_mp *mp)
{
  return mp->sh ? sizeof(float) * 2 * (mp->nres + mp->nblk) : 0;
}

void net_audio_mp_free(net_audio_mp *mp)
{
  net_audio_free(&mp->loc);
  ardm_free(&mp->buf);
  ardm_free(&mp->pres);
  memset(mp, 0, sizeof *mp);
}

/* ---- the generic network interface (nn/net.h) ---- */
static void ops_free(void *impl)
{
  net_audio_mp *mp = impl;
  net_audio_mp_free(mp);
  (void)PetscFree(mp);
}
static size_t ops_num_params(const void *impl)
{
  return net_audio_num_params(&((const net_audio_mp *)impl)->loc);
}
static size_t ops_output_bias_offset(const void *impl)
{
  return net_audio_output_bias_offset(&((const net_audio_mp *)impl)->loc);
}
static void ops_init_params(const void *impl, float *params, uint64_t seed)
{
  net_audio_init_params(&((const net_audio_mp *)impl)->loc, params, seed); /* the layout does not depend on D */
}
static void ops_fill_input(void *impl, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage)
{
  net_audio_mp *mp = impl;
  net_audio_fill_input(&mp->loc, e, v + mp->lo, known + mp->lo, K, stage); /* this part's dims only */
}
static void ops_forward(void *impl, const float *params, int64_t batch, const double *t)
{
  net_audio_mp *mp = impl;
  if (mp->sh)
    sharded_forward(mp, batch, t); /* params NULL */
  else
    net_audio_forward(&mp->loc, params, batch, t);
}
static void ops_backward(void *impl, const float *params, float *grads)
{
  net_audio_mp *mp = impl;
  if (mp->sh)
    sharded_backward(mp); /* params and grads NULL */
  else
    net_audio_backward(&mp->loc, params, grads);
}
static double ops_flops(const void *impl, int64_t batch)
{
  return net_audio_flops(&((const net_audio_mp *)impl)->loc, batch); /* this rank's part */
}
static size_t ops_workspace_bytes(const void *impl)
{
  const net_audio_mp *mp = impl;
  return net_audio_workspace_bytes(&mp->loc) + net_audio_mp_staging_bytes(mp) +
         sizeof(float) * (size_t)((int64_t)mp->loc.cfg.max_batch * mp->loc.cfg.channels * (2 * mp->n + 8 * mp->hmax));
}
static void ops_describe(const void *impl, char *buf, size_t len)
{
  const net_audio_mp *mp = impl;
  net_audio           whole = mp->loc;
  size_t              k;
  whole.cfg.dim = mp->D;
  net_audio_describe(&whole, buf, len);
  k = strlen(buf);
  snprintf(buf + k, len - k, "; split along D over %d ranks (%lld dims each, halo <= %lld)", mp->Q, (long long)mp->n,
           (long long)mp->hmax);
}

static const net_ops net_audio_mp_ops = {.name = "diffwave",
                                         .free = ops_free,
                                         .num_params = ops_num_params,
                                         .output_bias_offset = ops_output_bias_offset,
                                         .init_params = ops_init_params,
                                         .fill_input = ops_fill_input,
                                         .forward = ops_forward,
                                         .backward = ops_backward,
                                         .flops = ops_flops,
                                         .workspace_bytes = ops_workspace_bytes,
                                         .describe = ops_describe};

PetscErrorCode net_audio_mp_create(MPI_Comm comm, const net_audio_config *cfg, network *n)
{
  net_audio_mp *mp;
  PetscFunctionBegin;
  PetscCall(PetscNew(&mp));
  PetscCall(net_audio_mp_setup(comm, cfg, mp));
  *n = (network){.ops = &net_audio_mp_ops,
                 .impl = mp,
                 .output = mp->loc.output,
                 .doutput = mp->loc.doutput,
                 .d_lo = mp->lo,
                 .d_n = mp->n,
                 .comm = comm};
  PetscFunctionReturn(0);
}
