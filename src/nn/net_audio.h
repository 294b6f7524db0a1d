/* net_audio.h: the audio ARDM network, a non-causal DiffWave-style residual network
   (doc/method.md section 4; doc/design.md "Networks"), with hand-written forward and backward.

   Architecture (C channels, B blocks, kernel k, E = 128 sinusoid dims):
     time:  e = sinusoid(t * 1000 / max_time)[E] -> dense 4C -> swish -> dense 4C -> swish
     input: x0 = ReLU(1x1 conv in_channels -> C)          (value in [-1,1], mask, stage one-hots)
     block i (dilation 2^(i mod cycle)):
            z = dilated conv C -> 2C (no bias) + tproj_i(e)  (tproj_i: dense 4C -> 2C with bias)
            g = tanh(z[:C]) * sigmoid(z[C:])
            o = 1x1 conv C -> 2C (+ bias)
            x_{i+1} = (x_i + o[:C]) / sqrt(2),   skip += o[C:]
     tail:  out = 1x1(ReLU(1x1(ReLU(skip / sqrt(B)))))   C -> C -> out_channels
   Choices (documented): the time projection goes to 2C and is added to the dilated conv's
   output (the same as adding a per-channel bias to the gate pre-activation), which makes a
   separate conv bias redundant, so the dilated conv has none. The last block's residual half
   is computed but unused (its weights get zero gradient), as in DiffWave.

   Memory: one flat parameter buffer and one flat gradient buffer with the same layout (owned by
   the caller; the network receives pointers, or stages them block by block through
   net_audio_param_hook), and one workspace allocated at setup for
   (max_batch, D). Forward keeps only what backward needs: each block's input x_i and the
   tanh and sigmoid of its gate (as many floats as the gate pre-activation, from which they
   would otherwise be recomputed); the gate output, their product, is recomputed in backward.
   Nothing is allocated per step.

   Tensor layout: x[B][C][D], channels-major per example (time contiguous). */
#ifndef ARDM_NET_AUDIO_H
#define ARDM_NET_AUDIO_H
#include "core/ardm.h"
#include "nn/net.h"

#define NET_AUDIO_TIME_DIM 128 /* E: sinusoid dims of the time embedding (DiffWave) */

typedef struct {
  int     blocks;       /* B residual blocks (reference 36) */
  int     channels;     /* C (reference 256) */
  int     cycle;        /* dilation of block i is 2^(i mod cycle) (reference 12) */
  int     kernel;       /* dilated conv kernel, odd (3) */
  int64_t dim;          /* D: values per example */
  int     in_channels;  /* 2 (value, mask) + S stage one-hots when upscaling */
  int     out_channels; /* head outputs per dim (head_outputs()) */
  int     max_batch;    /* examples per forward/backward (the workspace is sized for this) */
  double  max_time;     /* the time embedding sees t * 1000 / max_time (D, or S*D upscaling) */
} net_audio_config;

/* One residual block's tensors inside a flat buffer (llm.c's ParameterTensors idea: named
   pointers instead of offset arithmetic). */
typedef struct {
  float *conv_w; /* [kernel][2C][C] dilated conv, tap-major */
  float *out_w;  /* [2C][C] 1x1 output conv */
  float *out_b;  /* [2C] */
  float *tp_w;   /* [2C][4C]: this block's rows of the time projection blocks.tproj.w */
  float *tp_b;   /* [2C]: its rows of blocks.tproj.b */
} net_audio_block_tensors;

/* Every tensor of the network as a pointer into one flat buffer (parameters, gradients, EMA or
   Adam moments: all share the layout); net_audio_point fills it for a given buffer. */
typedef struct {
  float                   *t1w, *t1b; /* time.dense1: [4C][E], [4C] */
  float                   *t2w, *t2b; /* time.dense2: [4C][4C], [4C] */
  float                   *inw, *inb; /* input 1x1: [C][in_channels], [C] */
  float                   *tpw, *tpb; /* all blocks' time projections: [blocks*2C][4C], [blocks*2C] */
  net_audio_block_tensors *blk;       /* [blocks], allocated at setup */
  float                   *skw, *skb; /* skip 1x1: [C][C], [C] */
  float                   *fw, *fb;   /* final 1x1: [out_channels][C], [out_channels] */
} net_audio_tensors;

/* Replaces the dilated convolution of every block (conv1d_forward/backward on the whole D) when
   set: the model-parallel network (nn/net_audio_mp.h) runs the network on its part of D and
   does the neighbour exchange there, so this file stays free of MPI. Same contract as the
   layer: forward writes z[B][2C][D], backward accumulates into dx and dw, where example e's
   dx[C][D] starts at dx + e * dx_stride (the network passes the packed gradient dres, whose
   examples are 2C D floats apart). */
typedef struct {
  void *ctx;
  void (*forward)(void *ctx, float *z, const float *x, const float *w, int64_t batch, int block);
  void (*backward)(void *ctx, float *dx, float *dw, const float *dz, const float *x, const float *w, int64_t batch,
                   int block, int64_t dx_stride);
} net_audio_conv_hook;

/* Parameters staged block by block (model parallelism with the parameters sharded at rest,
   nn/net_audio_mp.h). When set, forward and backward are called with NULL parameter and
   gradient buffers: the caller has pointed net->pt (and, for backward, net->gt) at the resident
   tensors (net_audio_point_resident), and stage(ctx, i, backward) points pt.blk[i] (and
   gt.blk[i], zeroed, when backward) at block i's tensors just before the block runs;
   done(ctx, i) is called when block i's gradients in gt.blk[i] are complete. Each block's rows
   of the time projection are then applied in the block (not in one product for all blocks). */
typedef struct {
  void *ctx;
  void (*stage)(void *ctx, int block, int backward);
  void (*done)(void *ctx, int block);
} net_audio_param_hook;

/* A range [lo, hi) of the flat parameter layout. */
typedef struct {
  size_t lo, hi;
} net_audio_range;

typedef struct {
  net_audio_config     cfg;
  net_audio_conv_hook  conv;  /* zero: the plain dilated convolution */
  net_audio_param_hook param; /* zero: the parameters are the flat buffers passed to forward/backward */
  int                  ntensors;
  net_tensor          *tensors;
  size_t               nparams;
  net_audio_tensors    pt, gt; /* the parameters and gradients of the current forward/backward */
  /* the workspace: one allocation, the pointers below point into it */
  float  *work;
  size_t  work_floats;
  float  *input;   /* [max_batch][in_channels][D]: the caller fills it before forward */
  float  *output;  /* [max_batch][out_channels][D]: written by forward */
  float  *doutput; /* [max_batch][out_channels][D]: zeroed by forward, the heads accumulate into it */
  float  *xs, *ts; /* [blocks][max_batch][C][D], [blocks][max_batch][2C][D] (gate tanh; sigmoid): saved */
  float  *g, *o, *skip, *r, *h, *dg, *dz; /* [max_batch][C or 2C][D] */
  float  *dres; /* [max_batch][2C][D]: backward's d loss / d x_i in [:, :C], d loss / d skip in [:, C:] */
  float  *ssum; /* [max_batch][C]: the sums over D of d loss / d skip (every block's skip-bias gradient) */
  float  *e0, *a1, *h1, *a2, *h2, *tb, *dh2, *da2, *dh1, *da1, *dtb; /* time path, [max_batch][..] */
  int64_t batch;                                                     /* examples in the last forward */
} net_audio;

/* Checks the configuration (input errors on comm), builds the tensor table and allocates the
   workspace. Collective only in the sense that every rank should call it with the same cfg. */
PetscErrorCode net_audio_setup(MPI_Comm comm, const net_audio_config *cfg, net_audio *net);
void           net_audio_free(net_audio *net);

/* The flat parameter layout: total count and the tensors in order (offsets ascend, no gaps). */
size_t            net_audio_num_params(const net_audio *net);
int               net_audio_num_tensors(const net_audio *net);
const net_tensor *net_audio_tensor(const net_audio *net, int i);
/* Offset (floats) of the final layer's bias[out_channels], so a head can set its initial
   outputs (head_init_bias). */
size_t net_audio_output_bias_offset(const net_audio *net);
/* Points t's fields into the flat buffer base (layout of the tensor table); t->blk must hold
   cfg.blocks entries. base is only read through t when it is the parameter buffer. */
void net_audio_point(const net_audio *net, float *base, net_audio_tensors *t);
/* The flat layout in the pieces of net_audio_param_hook: the resident tensors, r[3] = the time
   MLP and input projection, the time projection's biases, the tail (skip and final); and block
   i's two ranges, b[2] = its rows of blocks.tproj.w, its dilated conv, 1x1 out and bias. The
   resident ranges and every block's ranges cover the layout once. */
void net_audio_resident_ranges(const net_audio *net, net_audio_range r[3]);
void net_audio_block_ranges(const net_audio *net, int block, net_audio_range b[2]);
/* Points t's resident tensors (all but the blocks' conv, out and tproj rows; blk[i].tp_b
   included) into buf, which holds the three resident ranges one after the other. */
void net_audio_point_resident(const net_audio *net, float *buf, net_audio_tensors *t);
/* Points block i's tensors (t->blk[block], tp_b excepted) into buf, which holds its two ranges
   one after the other. */
void net_audio_point_block(const net_audio *net, int block, float *buf, net_audio_tensors *t);
/* net_audio_init_params restricted to the elements [lo, hi) of the layout: out[i - lo] (the
   same values: every tensor draws from its own stream). */
void net_audio_init_params_range(const net_audio *net, float *out, size_t lo, size_t hi, uint64_t seed);
/* Dilation of block i: 2^(i mod cycle). */
int64_t net_audio_dilation(const net_audio_config *c, int i);
/* Deterministic initialisation from (seed, RNG_INIT, tensor number): weights normal with std
   1/sqrt(fan_in), biases zero, the final layer's weights zero (DiffWave), so the initial
   output is the final bias everywhere. */
void net_audio_init_params(const net_audio *net, float *params, uint64_t seed);
/* One line: blocks, channels, cycle, kernel, D, in/out channels, receptive field, parameters. */
void net_audio_describe(const net_audio *net, char *buf, size_t len);
/* Bytes of the workspace (activations) allocated at setup. */
size_t net_audio_workspace_bytes(const net_audio *net);
/* The same for a configuration, without allocating anything (memory estimates). */
size_t net_audio_config_bytes(const net_audio_config *cfg);
/* Model FLOPs of one forward + backward for `batch` examples (GEMMs only, nominal shapes). */
double net_audio_flops(const net_audio *net, int64_t batch);

/* Fills example e's input channels from the input values v[D] in 0..K-1 (the caller puts the
   absorbing value, or what upscaling shows, at unknown dims): the value channel is
   2 v / (K - 1) - 1; the mask channel is known[i]; with stage channels (in_channels > 2),
   channel 2 + stage is 1 and the others 0. */
void net_audio_fill_input(net_audio *net, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage);

/* Forward for examples 0..batch-1 of net->input at times t[batch]; writes net->output and
   zeroes net->doutput. */
void net_audio_forward(net_audio *net, const float *params, int64_t batch, const double *t);
/* Backward of the last forward given net->doutput: ACCUMULATES into grads (same layout as
   params). */
void net_audio_backward(net_audio *net, const float *params, float *grads);

/* The network behind the generic interface (nn/net.h): allocates a net_audio, sets it up
   and fills n. */
PetscErrorCode net_audio_create(MPI_Comm comm, const net_audio_config *cfg, network *n);

#endif
