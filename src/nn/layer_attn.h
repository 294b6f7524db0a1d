/* layer_attn.h: the sequence layers of the Transformer (nn/net_text.h): multi-head
   non-causal self-attention written as GEMMs, and the output projection that turns token-major
   activations into the channel-major output layout of nn/net.h. Same conventions as
   nn/layers.h: plain float pointers, no allocation, backward ACCUMULATES (+=), NULL gradient
   pointers are skipped (except where noted).

   Token tensors are row-major per example: x[B][D][C] (C contiguous). */
#ifndef ARDM_LAYER_ATTN_H
#define ARDM_LAYER_ATTN_H
#include <stdint.h>

/* A fixed, parameter-free bias added to the attention scores (no gradient, no parameters). */
typedef enum {
  ATTN_BIAS_NONE = 0,    /* plain scaled dot-product scores */
  ATTN_BIAS_DISTANCE = 1 /* ALiBi-style, symmetric: score_ij -= m_h |i - j|, m_h = attn_bias_slope(h, H) */
} attn_bias;
/* The distance bias's slope of head h of H: 2^(-8 (h + 1) / H) (ALiBi's geometric slopes). */
float attn_bias_slope(int64_t h, int64_t heads);

/* Multi-head self-attention over D positions with H heads of size hd (W = H hd), without the
   input and output projections:
     qkv[B][D][3W]: per position the queries (columns 0..W), keys (W..2W) and values (2W..3W),
                    head h at columns h*hd .. h*hd+hd-1 of each third;
     prob[B][H][D][D]: softmax_j(q_i . k_j / sqrt(hd) + bias_h(i, j)) over keys j (every
                    position sees every other: non-causal), saved for the backward; bias_h is 0
                    (ATTN_BIAS_NONE) or -m_h |i - j| (ATTN_BIAS_DISTANCE), computed on the fly;
     y[B][D][W]:    y_i = sum_j prob_ij v_j, heads concatenated.
   Per (example, head) the scores and the weighted sum are each one sgemm; the softmax runs in
   float with the row maximum subtracted (so exp never overflows). */
void attn_forward(float *y, float *prob, const float *qkv, int64_t batch, int64_t d, int64_t heads, int64_t hd,
                  attn_bias bias);
/* dqkv[B][D][3W] += the gradient of the last forward from dy[B][D][W] (dqkv must not be NULL);
   scratch[D][D] is overwritten (the gradient of one head's scores). It reads the saved
   probabilities and recomputes no scores, so it is the same with or without the bias (a
   constant added to the scores has no gradient). */
void attn_backward(float *dqkv, float *scratch, const float *dy, const float *prob, const float *qkv, int64_t batch,
                   int64_t d, int64_t heads, int64_t hd);

/* Output projection into the channel-major layout: y[B][out][D] = (x[B][D][in] W[out][in]^T
   + b[out]) transposed per example (b may be NULL): one sgemm per example. */
void dense_cm_forward(float *y, const float *x, const float *w, const float *b, int64_t batch, int64_t d, int64_t in,
                      int64_t out);
/* dx[B][D][in] += dy^T W;  dw[out][in] += dy x;  db[out] += sum over B and D of dy. */
void dense_cm_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t batch,
                       int64_t d, int64_t in, int64_t out);
#endif
