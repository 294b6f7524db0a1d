/* net_audio_mp.h: the audio network split along D over the Q ranks of one replica
   (-model_parallel Q; doc/design.md "Model parallelism"). Each rank runs nn/net_audio.h on its
   own part of D (so its activations are about 1/Q of the whole example's) and exchanges, for
   every dilated convolution, the halo of dil*(kernel-1)/2 columns with its two neighbours in
   forward and the halo gradients back in backward. The 1x1 convolutions, gates, the tail and
   the heads need no communication. Every weight gradient this rank produces is its part's
   contribution; the trainer's reduce-scatter over all ranks sums them with the other replicas'.
   Parameters use the flat layout of net_audio (checkpoints do not change with Q).

   In training (net_audio_mp_shard) the parameters and gradients are not held whole: each rank
   keeps only its slice of the trainer's shard (1/P of the flat layout, the slice its optimizer
   updates). Forward gathers the resident tensors (time MLP, input projection, biases of the time
   projection, tail; about 1.2 M floats at C = 256) once, and each block's weights (its dilated
   and 1x1 convolutions and its rows of the time projection) into a one-block buffer just before
   the block runs, in forward and again in backward; after a block's backward its weight gradient
   is reduce-scattered over all ranks straight into the owners' gradient slices, and the resident
   gradients after the whole backward. Every rank of the shard takes part in every one of these
   collectives in the same order, also a replica with no example in the step (batch 0). */
#ifndef ARDM_NET_AUDIO_MP_H
#define ARDM_NET_AUDIO_MP_H
#include "nn/net_audio.h"
#include "core/shard.h"

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
  /* parameters sharded at rest (net_audio_mp_shard); sh NULL: whole buffers are passed */
  const shard    *sh;
  const float    *pslice;      /* [sh->hi - sh->lo] this rank's parameters */
  float          *gslice;      /* [sh->hi - sh->lo] the summed gradients, written by backward */
  net_audio_range res[3];      /* the resident ranges (net_audio_resident_ranges) */
  size_t          nres, nblk;  /* floats of the resident ranges, of one block's two ranges */
  float          *pres, *gres; /* [nres] the gathered resident parameters, their gradients */
  float          *pblk, *gblk; /* [nblk] the current block's parameters, its gradients */
  int             idle;        /* the last forward had no example (collectives only) */
} net_audio_mp;

/* Sets up this rank's part for the whole-D configuration cfg on the replica comm (input error
   when a part of D is shorter than the widest halo). */
PetscErrorCode net_audio_mp_setup(MPI_Comm comm, const net_audio_config *cfg, net_audio_mp *mp);
void           net_audio_mp_free(net_audio_mp *mp);

/* Holds the parameters and gradients sharded from now on (see above): forward and backward
   then take NULL buffers, gather the weights from pslice (every rank's slice of sh) and leave the
   gradients, summed over all ranks of sh, in gslice. Both slices belong to the caller and must
   stay valid. Allocates the staging buffers (resident tensors and one block, twice). */
PetscErrorCode net_audio_mp_shard(net_audio_mp *mp, const shard *sh, const float *pslice, float *gslice);
/* Bytes of the staging buffers of net_audio_mp_shard (0 before it). */
size_t net_audio_mp_staging_bytes(const net_audio_mp *mp);

/* The network behind the generic interface, with n->d_lo, n->d_n, n->comm set. */
PetscErrorCode net_audio_mp_create(MPI_Comm comm, const net_audio_config *cfg, network *n);
#endif
