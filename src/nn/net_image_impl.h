/* net_image_impl.h: the image network's private state, shared by its two halves:
   net_image.c (op list, parameter layout, workspace, setup) and net_image_pass.c (forward and
   backward). Not for use outside src/nn/net_image*.c. */
#ifndef ARDM_NN_NET_IMAGE_IMPL_H
#define ARDM_NN_NET_IMAGE_IMPL_H
#include "nn/net_image.h"
#include <stddef.h>
#include <stdint.h>

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

static inline int64_t lev_h(const net_image *n, int l)
{
  return n->cfg.height >> l;
}
static inline int64_t lev_w(const net_image *n, int l)
{
  return n->cfg.width >> l;
}
static inline int64_t lev_hw(const net_image *n, int l)
{
  return lev_h(n, l) * lev_w(n, l);
}

#endif
