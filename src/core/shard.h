/* shard.h: ZeRO-style sharding of the flat parameter/gradient buffers over the ranks: each
   rank owns a contiguous slice [lo, hi) for which it keeps optimizer state and EMA weights. */
#ifndef ARDM_SHARD_H
#define ARDM_SHARD_H
#include "core/ardm.h"

typedef struct {
  MPI_Comm     comm;
  PetscMPIInt  P, rank;
  size_t       n;           /* total floats */
  size_t       lo, hi;      /* this rank's slice */
  PetscMPIInt *counts;      /* [P] slice lengths */
  PetscMPIInt *displs;      /* [P] slice starts */
  PetscMPIInt *rcnt, *rdsp; /* [P] scratch of the range collectives below */
} shard;

/* Slices are as equal as possible and start on 16-float (64-byte) boundaries. */
PetscErrorCode shard_init(MPI_Comm comm, size_t n, shard *s);
PetscErrorCode shard_free(shard *s);
/* grad[n]: this rank's gradient sums; out[hi-lo] receives the sum over ranks of this slice. */
PetscErrorCode shard_reduce_scatter(const shard *s, const float *grad, float *out);
/* params[n]: every rank's own slice is current; afterwards every slice is current everywhere. */
PetscErrorCode shard_allgather(const shard *s, float *params);
/* The same two collectives for the range [a, b) of the flat buffer only (parameters sharded at
   rest and gathered piece by piece, doc/design.md "Model parallelism"): every rank passes its
   own slice (slice[i - lo] is element i), and out[b - a] receives the range on every rank. */
PetscErrorCode shard_allgather_range(const shard *s, size_t a, size_t b, const float *slice, float *out);
/* seg[b - a]: this rank's sums for the range; the sum over ranks of the range's part of this
   rank's slice is written (not added) to gslice[i - lo] for i in [a, b) n [lo, hi). */
PetscErrorCode shard_reduce_scatter_range(const shard *s, size_t a, size_t b, const float *seg, float *gslice);
/* Slice [lo, hi) of a rank count P for a buffer of n floats (for re-splitting at resume). */
void shard_range(size_t n, int P, int rank, size_t *lo, size_t *hi);
#endif
