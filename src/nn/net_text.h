/* net_text.h: the Transformer ARDM network for categorical sequences (text8, any K up to a
   few thousand; doc/design.md "Networks"), a bidirectional (non-causal) pre-norm Transformer
   with hand-written forward and backward.

   Architecture (W width, L layers, H heads, MLP ratio m, D positions, V input symbols):
     input:  x0[i] = tok[s_i] + pos[i] + stage[s] + temb(t)       (token-major x[B][D][W])
                     + sum_{o=1..R} (left_o[s_{i-o}] + right_o[s_{i+o}])
             (input window R: tables of V + 1 rows, row V standing for "outside the
             sequence"; it gives every position its neighbours' symbols before any attention,
             doc/design.md "Networks")
             s_i = v_i at known dims and the absorbing symbol K at unknown ones (V = K + 1);
             when upscaling (S stages) an unknown dim shows K + 1 + v_i instead, v_i being what
             the model puts there (the middle of the values consistent with x_past), V = 2K + 1,
             and a learned stage vector is added;
             temb = dense W->W (GELU (dense W->W (sinusoid_W(t * 1000 / max_time))))
     block:  a = x + proj(attention(qkv(LN1(x))))                  (H heads, full D x D; with
                                                                   attn_bias distance, score_ij
                                                                   of head h gets -m_h |i - j|)
             x' = a + fc2(GELU(fc1(LN2(a))))                       (fc1: W -> mW, fc2: mW -> W)
     output: out[B][O][D] = head(LN_f(x_L)), transposed to the channel-major layout of nn/net.h.
   Learned positions (the data has a fixed D). Initialisation (deterministic in the seed): dense
   weights normal with std 1/sqrt(fan_in), the two residual projections of each block scaled by
   1/sqrt(2L) (so the residual stream keeps its scale at depth), token and window tables std 1, position and
   stage tables std 0.5, layer-norm gains 1, biases 0, the head's weights 0 (the initial output
   is the head bias everywhere, as for the audio network).

   Memory: one flat parameter and one flat gradient buffer (caller's), one workspace allocated
   at setup for (max_batch, D). Forward keeps per layer what backward needs: the block input x,
   the LN statistics, qkv[N][3W], the attention output [N][W], the mid-block stream a[N][W], the
   MLP pre-activation [N][mW] and the attention probabilities [B][H][D][D]; the LN outputs and
   the GELU output are recomputed in backward. (N = B D tokens.) */
#ifndef ARDM_NET_TEXT_H
#define ARDM_NET_TEXT_H
#include "core/ardm.h"
#include "nn/net.h"

#define NET_TEXT_MAX_WINDOW 16 /* largest input window R */

typedef struct {
  int     layers;       /* L (reference 12) */
  int     width;        /* W, even, divisible by heads (reference 768) */
  int     heads;        /* H (reference 12) */
  int     mlp;          /* MLP hidden width / W (4) */
  int     attn_bias;    /* attn_bias of nn/layer_attn.h: 0 none, 1 distance (-m_h |i - j| on the scores) */
  int     window;       /* R: input window, neighbours at distances 1..R embedded on each side (0 = none) */
  int64_t dim;          /* D positions */
  int     K;            /* data symbols (the absorbing one is K) */
  int     stages;       /* S upscale stages (0 or 1 = none) */
  int     out_channels; /* head outputs per position */
  int     max_batch;
  double  max_time; /* the time embedding sees t * 1000 / max_time (D, or S*D upscaling) */
} net_text_config;

typedef struct {
  net_text_config cfg;
  int             ntensors;
  net_tensor     *tensors;
  float          *init_std; /* [ntensors]: std of the normal init, 0 = zeros, -1 = ones */
  size_t          nparams;
  int64_t         vocab; /* V input symbols */
  /* offsets (floats) into the parameter/gradient buffers */
  size_t off_tok, off_win, off_pos, off_stage, off_t1w, off_t1b, off_t2w, off_t2b, off_blk0, blk_stride, off_lnfg,
      off_lnfb;
  size_t off_hw, off_hb;
  /* the workspace: one float allocation and one int32 allocation */
  float   *work;
  size_t   work_floats;
  int32_t *idx;                                             /* [max_batch][D] input symbols */
  int     *stage;                                           /* [max_batch] upscale stage of each example */
  float   *output, *doutput;                                /* [max_batch][O][D] */
  float   *xs;                                              /* [L+1][N][W] block inputs, xs[L] the final stream */
  float   *mean1, *rstd1, *mean2, *rstd2;                   /* [L][N] */
  float   *qkv, *att, *mid, *hpre;                          /* [L][N][3W], [L][N][W], [L][N][W], [L][N][mW] */
  float   *prob;                                            /* [L][max_batch][H][D][D] */
  float   *lnout, *hact, *meanf, *rstdf;                    /* [N][W], [N][mW], [N], [N] */
  float   *dx, *dmid, *dln, *dqkv, *datt, *dh, *dhpre, *ds; /* backward scratch; ds [D][D] */
  float   *e0, *a1, *h1, *temb, *dtemb, *dh1, *da1;         /* time path, [max_batch][W] */
  int64_t  batch;
} net_text;

/* Checks the configuration (input errors on comm), builds the tensor table, allocates the
   workspace. */
PetscErrorCode    net_text_setup(MPI_Comm comm, const net_text_config *cfg, net_text *net);
void              net_text_free(net_text *net);
size_t            net_text_num_params(const net_text *net);
int               net_text_num_tensors(const net_text *net);
const net_tensor *net_text_tensor(const net_text *net, int i);
size_t            net_text_output_bias_offset(const net_text *net);
void              net_text_init_params(const net_text *net, float *params, uint64_t seed);
void              net_text_describe(const net_text *net, char *buf, size_t len);
size_t            net_text_workspace_bytes(const net_text *net);
/* Model FLOPs of one forward + backward (GEMMs, attention included, nominal shapes). */
double net_text_flops(const net_text *net, int64_t batch);
/* Example e's input symbols from v[D] (0..K-1) and known[D] (see the architecture above). */
void net_text_fill_input(net_text *net, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage);
void net_text_forward(net_text *net, const float *params, int64_t batch, const double *t);
void net_text_backward(net_text *net, const float *params, float *grads);
/* The network behind the generic interface (nn/net.h). */
PetscErrorCode net_text_create(MPI_Comm comm, const net_text_config *cfg, network *n);
#endif
