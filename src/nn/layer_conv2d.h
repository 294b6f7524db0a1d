/* layer_conv2d.h: the image layers of the U-Net (nn/net_image.h), forward/backward pairs on
   plain float pointers with the conventions of nn/layers.h (no allocation inside, backward
   ACCUMULATES, NULL gradient pointers skip that gradient).

   Image tensors are channel-planar per example, x[B][C][H][W] (row-major pixels), so a channel
   is one contiguous row of H*W floats and the channel-major layers of layers.h (1x1 conv,
   group norm with d = H*W, activations) apply unchanged. */
#ifndef ARDM_LAYER_CONV2D_H
#define ARDM_LAYER_CONV2D_H
#include <stdint.h>

/* 3x3 convolution, stride 1, zero padding 1 ("same"), as GEMMs over an im2col matrix:
   y[B][cout][H][W] = b[cout] + sum_{c,ky,kx} W[cout][c][ky][kx] x[B][c][y+ky-1][x+kx-1].
   Weights are W[cout][cin][3][3] (PyTorch's layout), i.e. a [cout][cin*9] matrix whose columns
   match the im2col rows. col is caller-owned scratch of col_floats >= conv3x3_col_floats(cin,
   h, w) floats; with more, up to (col_floats / ((9 cin + cout) H W)) examples share one GEMM
   (at low resolution a single example's GEMM is too narrow to run at speed). The result does
   not depend on col_floats beyond float summation order inside sgemm. b may be NULL. */
int64_t conv3x3_col_floats(int64_t cin, int64_t h, int64_t w);
/* The scratch with which a batch of `batch` examples runs in the widest groups. */
int64_t conv3x3_group_col_floats(int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w);
void    conv3x3_forward(float *y, float *col, int64_t col_floats, const float *x, const float *wt, const float *b,
                        int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w);
/* dx += d/dx, dw += d/dW, db += d/db of sum(dy * y). col is the same scratch (it holds the
   im2col of x for dW, then W^T dy for dx, and the group's dy). */
void conv3x3_backward(float *dx, float *dw, float *db, float *col, int64_t col_floats, const float *dy, const float *x,
                      const float *wt, int64_t batch, int64_t cin, int64_t cout, int64_t h, int64_t w);

/* 2x2 average pooling, stride 2 (h, w even): y[N][h/2][w/2]; N = batch * channels planes. */
void avgpool2_forward(float *y, const float *x, int64_t n, int64_t h, int64_t w);
void avgpool2_backward(float *dx, const float *dy, int64_t n, int64_t h, int64_t w); /* h, w of x */
/* Nearest-neighbour 2x up-sampling: y[N][2h][2w] from x[N][h][w]. */
void upsample2_forward(float *y, const float *x, int64_t n, int64_t h, int64_t w);
void upsample2_backward(float *dx, const float *dy, int64_t n, int64_t h, int64_t w); /* h, w of x */

/* Channel concatenation of two channel-major tensors: y[B][ca+cb][D] = [a[B][ca][D]; b[B][cb][D]]. */
void concat_forward(float *y, const float *a, const float *b, int64_t batch, int64_t ca, int64_t cb, int64_t d);
void concat_backward(float *da, float *db, const float *dy, int64_t batch, int64_t ca, int64_t cb, int64_t d);

/* Single-head self-attention over the N = H*W positions of each example, from the projections
   qkv[B][3C][N] (rows q = 0..C-1, k = C..2C-1, v = 2C..3C-1):
     A[i][j] = softmax_j( sum_c q[c][i] k[c][j] / sqrt(C) ),   o[B][C][N]: o[c][i] = sum_j v[c][j] A[i][j].
   Saves the probabilities a[B][N][N] for the backward. */
void attention2d_forward(float *o, float *a, const float *qkv, int64_t batch, int64_t c, int64_t n);
/* dqkv[B][3C][N] += the gradient of sum(dout * o); scratch da[N][N]. */
void attention2d_backward(float *dqkv, float *da, const float *dout, const float *qkv, const float *a, int64_t batch,
                          int64_t c, int64_t n);
#endif
