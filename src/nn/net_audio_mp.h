/* net_audio_mp.h: the audio network split along D over the Q ranks of one replica
   (-model_parallel Q; doc/design.md "Model parallelism"). Each rank runs nn/net_audio.h on its
   own part of D (so its activations are about 1/Q of the whole example's) and exchanges, for
   every dilated convolution, the halo of dil*(kernel-1)/2 columns with its two neighbours in
   forward and the halo gradients back in backward. The 1x1 convolutions, gates, the tail and
   the heads need no communication. Every weight gradient this rank produces is its part's
   contribution; the trainer's reduce-scatter over all ranks sums them with the other replicas'.
   Parameters use the flat layout of net_audio (checkpoints do not change with Q). */
#ifndef ARDM_NET_AUDIO_MP_H
#define ARDM_NET_AUDIO_MP_H
#include "nn/net_audio.h"

typedef struct {
  net_audio   loc;         /* the network on this part: loc.cfg.dim = n */
  MPI_Comm    comm;        /* the replica, ranked by part */
  PetscMPIInt Q, part;     /* replica size, this rank's part */
  PetscMPIInt left, right; /* neighbour parts (MPI_PROC_NULL at the ends of D) */
  int64_t     D, lo, n;    /* whole D; this part is dims [lo, lo + n) */
  int64_t     hmax;        /* widest halo of any block */
  float      *buf;         /* one allocation for the buffers below */
  float      *xh, *dxh;    /* [max_batch][C][n + 2 hmax]: a block input with halos, its gradient */
  float      *sl, *sr;     /* [max_batch][C][hmax]: columns sent to the left / right neighbour */
  float      *rl, *rr;     /* [max_batch][C][hmax]: columns received from the left / right */
  double      halo_s;      /* wall seconds in halo exchanges (for -log_view style reports) */
} net_audio_mp;

/* Sets up this rank's part for the whole-D configuration cfg on the replica comm (input error
   when a part of D is shorter than the widest halo). */
PetscErrorCode net_audio_mp_setup(MPI_Comm comm, const net_audio_config *cfg, net_audio_mp *mp);
void           net_audio_mp_free(net_audio_mp *mp);

/* The network behind the generic interface, with n->d_lo, n->d_n, n->comm set. */
PetscErrorCode net_audio_mp_create(MPI_Comm comm, const net_audio_config *cfg, network *n);
#endif
