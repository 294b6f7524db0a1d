/* net.h: what the model layer (ardm/model.c) sees of any network: a table of operations over
   the network's own struct, plus its input/output buffers. Every network (DiffWave-style audio,
   Transformer for sequences, U-Net for images) keeps the engine conventions of nn/layers.h:
   one flat parameter buffer and one flat gradient buffer owned by the caller, one workspace
   allocated at setup for (max_batch, D), nothing allocated per step.

   Output layout shared by all networks and the heads (nn/heads.h): output[max_batch][O][D],
   output o of dim i of example b at output[(b * O + o) * D + i]. */
#ifndef ARDM_NET_H
#define ARDM_NET_H
#include "core/ardm.h"

/* One parameter tensor inside the flat buffer. */
typedef struct {
  char   name[32];
  size_t offset, count;
  int    fan_in; /* 0 for biases */
} net_tensor;

typedef struct {
  const char *name; /* "diffwave", "transformer", "unet" */
  void (*free)(void *impl);
  size_t (*num_params)(const void *impl);
  /* Offset (floats) of the final layer's bias[O] (the head sets its initial outputs there). */
  size_t (*output_bias_offset)(const void *impl);
  /* Deterministic initialisation from seed (RNG_INIT purpose). */
  void (*init_params)(const void *impl, float *params, uint64_t seed);
  /* Example e's input: values v[D] in 0..K-1 (the model puts what unknown dims show there),
     known[D] (1 = known), the upscale stage (stage channels when the network has them). */
  void (*fill_input)(void *impl, int64_t e, const int32_t *v, const uint8_t *known, int64_t K, int stage);
  /* Forward for examples 0..batch-1 at times t[batch]; writes output, zeroes doutput. A network
     holding its parameters sharded (nn/net_audio_mp.h) takes params and grads NULL. */
  void (*forward)(void *impl, const float *params, int64_t batch, const double *t);
  /* Backward of the last forward from doutput: ACCUMULATES into grads. */
  void (*backward)(void *impl, const float *params, float *grads);
  /* Model FLOPs of one forward + backward for batch examples (for -log_view and MFU). */
  double (*flops)(const void *impl, int64_t batch);
  size_t (*workspace_bytes)(const void *impl);
  void (*describe)(const void *impl, char *buf, size_t len);
} net_ops;

typedef struct {
  const net_ops *ops;
  void          *impl;
  float         *output;  /* [max_batch][O][D], written by forward */
  float         *doutput; /* [max_batch][O][D], zeroed by forward; heads accumulate into it */
  /* Model parallelism (doc/design.md "Model parallelism"): output and doutput hold only dims
     [d_lo, d_lo + d_n) of D, as [max_batch][O][d_n], and comm is the replica of ranks that
     share one example. A network that leaves d_n at 0 holds all of D (model.c sets 0, D and
     MPI_COMM_SELF). fill_input always receives the whole example. */
  int64_t  d_lo, d_n;
  MPI_Comm comm;
} network;

/* Frees the network and clears n (safe on a zeroed n). */
void network_free(network *n);
/* Defines `static const net_ops PREFIX_ops` whose entries forward to the network's own
   PREFIX_num_params, PREFIX_output_bias_offset, PREFIX_init_params, PREFIX_fill_input,
   PREFIX_forward, PREFIX_backward, PREFIX_flops, PREFIX_workspace_bytes and PREFIX_describe
   (each taking the network's struct where net_ops passes void *); FREE is the file's own
   void FREE(void *impl), since networks own their struct differently. */
#define NET_OPS_DEFINE(PREFIX, NAME, FREE)                                                                             \
  static size_t PREFIX##_ops_num_params(const void *impl)                                                              \
  {                                                                                                                    \
    return PREFIX##_num_params(impl);                                                                                  \
  }                                                                                                                    \
  static size_t PREFIX##_ops_output_bias_offset(const void *impl)                                                      \
  {                                                                                                                    \
    return PREFIX##_output_bias_offset(impl);                                                                          \
  }                                                                                                                    \
  static void PREFIX##_ops_init_params(const void *impl, float *params, uint64_t seed)                                 \
  {                                                                                                                    \
    PREFIX##_init_params(impl, params, seed);                                                                          \
  }                                                                                                                    \
  static void PREFIX##_ops_fill_input(void *impl, int64_t e, const int32_t *v, const uint8_t *known, int64_t K,        \
                                      int stage)                                                                       \
  {                                                                                                                    \
    PREFIX##_fill_input(impl, e, v, known, K, stage);                                                                  \
  }                                                                                                                    \
  static void PREFIX##_ops_forward(void *impl, const float *params, int64_t batch, const double *t)                    \
  {                                                                                                                    \
    PREFIX##_forward(impl, params, batch, t);                                                                          \
  }                                                                                                                    \
  static void PREFIX##_ops_backward(void *impl, const float *params, float *grads)                                     \
  {                                                                                                                    \
    PREFIX##_backward(impl, params, grads);                                                                            \
  }                                                                                                                    \
  static double PREFIX##_ops_flops(const void *impl, int64_t batch)                                                    \
  {                                                                                                                    \
    return PREFIX##_flops(impl, batch);                                                                                \
  }                                                                                                                    \
  static size_t PREFIX##_ops_workspace_bytes(const void *impl)                                                         \
  {                                                                                                                    \
    return PREFIX##_workspace_bytes(impl);                                                                             \
  }                                                                                                                    \
  static void PREFIX##_ops_describe(const void *impl, char *buf, size_t len)                                           \
  {                                                                                                                    \
    PREFIX##_describe(impl, buf, len);                                                                                 \
  }                                                                                                                    \
  static const net_ops PREFIX##_ops = {.name = NAME,                                                                   \
                                       .free = FREE,                                                                   \
                                       .num_params = PREFIX##_ops_num_params,                                          \
                                       .output_bias_offset = PREFIX##_ops_output_bias_offset,                          \
                                       .init_params = PREFIX##_ops_init_params,                                        \
                                       .fill_input = PREFIX##_ops_fill_input,                                          \
                                       .forward = PREFIX##_ops_forward,                                                \
                                       .backward = PREFIX##_ops_backward,                                              \
                                       .flops = PREFIX##_ops_flops,                                                    \
                                       .workspace_bytes = PREFIX##_ops_workspace_bytes,                                \
                                       .describe = PREFIX##_ops_describe}

#endif
