/* net_image.h: the image ARDM network, a U-Net (doc/design.md "Networks"; the DDPM/VDM family the
   reference uses for CIFAR-10), with hand-written forward and backward over nn/layer_conv2d.h.

   Architecture (C channels, N blocks per level, L levels, E = 128 sinusoid dims); level l works at
   (H / 2^l) x (W / 2^l) with C_l = C for l = 0 and 2C below (DDPM's CIFAR multipliers 1, 2, 2, ...):
     time:   e = sinusoid(t * 1000 / max_time)[E] -> dense 4C -> SiLU -> dense 4C -> SiLU = h
     input:  x0 = conv3x3(in_planes -> C): in_planes = value planes (2v/(K-1) - 1, one per image
             channel), mask planes (one per image channel), F pairs of Fourier planes per image
             channel (sin and cos of 2 pi 2^f v / K, f = 0..F-1, 0 where the value is unknown;
             doc/method.md section 4) and S stage one-hot planes (upscaling)
     ResBlock(cin -> cout): z = conv3x3(SiLU(GN(x))) + dense_i(h)     (the t embedding, every block)
             out = skip(x) + conv3x3(SiLU(GN(z)))                   (skip: identity or 1x1 conv)
     Attn(c) (levels whose bit is set in attention): out = x + 1x1(attention(1x1(GN(x)) -> q,k,v))
     down:   per level l: N x [ResBlock -> C_l (+ Attn)], each output kept as a skip;
             then 2x2 average pooling (except at the last level)
     middle: ResBlock, (Attn if the last level has attention), ResBlock
     up:     per level l = L-1..0: N x [concat(x, skip) -> ResBlock -> C_l (+ Attn)];
             then nearest 2x up-sampling (except at level 0)
     output: conv3x3(SiLU(GN(x))) -> O * img_channels planes, + bias[O]
   The output planes are ordered (o, image channel), so output[B][O][D] with D = channels x H x W,
   channel-planar, exactly the layout the heads read (nn/net.h). The second conv of each ResBlock,
   the attention output projection and the output conv start at zero (DDPM), so the initial output
   is the output bias at every dim; group-norm gains start at 1.

   Group norm uses the largest divisor of the channel count c that is <= min(32, c/4) as its group
   count (groups of >= 4 channels where possible: a one-channel group would cancel the t embedding).
   Memory: forward keeps each op's output, each ResBlock's z, the attention's q/k/v, probabilities
   and output, and the norm statistics; norms and activations are recomputed in backward. One
   workspace allocated at setup for max_batch; nothing is allocated per step. */
#ifndef ARDM_NET_IMAGE_H
#define ARDM_NET_IMAGE_H
#include "core/ardm.h"
#include "nn/net.h"

#define NET_IMAGE_TIME_DIM 128

typedef struct {
  int    channels;  /* C at full resolution (reference 256) */
  int    blocks;    /* N ResBlocks per level */
  int    levels;    /* L resolutions; H and W must be divisible by 2^(L-1) */
  int    attention; /* bit l set: self-attention after every ResBlock of level l */
  int    height, width;
  int    img_channels; /* channels of the image (3); D = img_channels * height * width */
  int    stages;       /* stage one-hot planes (0 without upscaling) */
  int    fourier;      /* F: Fourier plane pairs per image channel (0 = the scalar value only) */
  int    out_channels; /* head outputs per dim (O) */
  int    max_batch;
  double max_time; /* the time embedding sees t * 1000 / max_time */
} net_image_config;

typedef struct net_image net_image;

PetscErrorCode    net_image_setup(MPI_Comm comm, const net_image_config *cfg, net_image **net);
void              net_image_free(net_image **net);
size_t            net_image_num_params(const net_image *net);
int               net_image_num_tensors(const net_image *net);
const net_tensor *net_image_tensor(const net_image *net, int i);
size_t            net_image_output_bias_offset(const net_image *net);
/* weights normal with std 1/sqrt(fan_in), biases 0, norm gains 1, zero-started convs 0 */
void   net_image_init_params(const net_image *net, float *params, uint64_t seed);
void   net_image_describe(const net_image *net, char *buf, size_t len);
size_t net_image_workspace_bytes(const net_image *net);
double net_image_flops(const net_image *net, int64_t batch);
/* input[max_batch][in_planes][H*W], output/doutput[max_batch][O][D] */
float *net_image_input(net_image *net);
float *net_image_output(net_image *net);
float *net_image_doutput(net_image *net);
int    net_image_in_planes(const net_image *net);
void   net_image_fill_input(net_image *net, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage);
void   net_image_forward(net_image *net, const float *params, int64_t batch, const double *t);
void   net_image_backward(net_image *net, const float *params, float *grads);

/* The network behind the generic interface (nn/net.h). */
PetscErrorCode net_image_create(MPI_Comm comm, const net_image_config *cfg, network *n);
#endif
