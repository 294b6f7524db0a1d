/* shard.c: slice arithmetic and the two collectives of sharded data-parallel training. */
#include "core/shard.h"

void shard_range(size_t n, int P, int rank, size_t *lo, size_t *hi)
{
  size_t blocks = (n + 15) / 16; /* 64-byte aligned slices keep vector loops aligned */
  *lo = PetscMin(n, blocks * (size_t)rank / (size_t)P * 16);
  *hi = PetscMin(n, blocks * (size_t)(rank + 1) / (size_t)P * 16);
}

PetscErrorCode shard_init(MPI_Comm comm, size_t n, shard *s)
{
  PetscFunctionBegin;
  s->comm = comm, s->n = n;
  PetscCallMPI(MPI_Comm_size(comm, &s->P));
  PetscCallMPI(MPI_Comm_rank(comm, &s->rank));
  /* MPI_Allgatherv's displacements are ints counted in floats: the whole vector must fit */
  PetscCheck(n <= (size_t)PETSC_MPI_INT_MAX, comm, ARDM_ERR_INPUT,
             "the model has %zu parameters; ardm's sharded optimizer supports at most %d (MPI counts and "
             "displacements are int): choose a smaller network",
             n, PETSC_MPI_INT_MAX);
  PetscCall(PetscMalloc4(s->P, &s->counts, s->P, &s->displs, s->P, &s->rcnt, s->P, &s->rdsp));
  for (int r = 0; r < s->P; r++) {
    size_t lo, hi;
    shard_range(n, s->P, r, &lo, &hi);
    PetscCall(PetscMPIIntCast((PetscInt64)(hi - lo), &s->counts[r]));
    PetscCall(PetscMPIIntCast((PetscInt64)lo, &s->displs[r]));
  }
  shard_range(n, s->P, s->rank, &s->lo, &s->hi);
  PetscFunctionReturn(0);
}

PetscErrorCode shard_free(shard *s)
{
  PetscFunctionBegin;
  PetscCall(PetscFree4(s->counts, s->displs, s->rcnt, s->rdsp));
  PetscFunctionReturn(0);
}

PetscErrorCode shard_reduce_scatter(const shard *s, const float *grad, float *out)
{
  PetscFunctionBegin;
  PetscCallMPI(MPI_Reduce_scatter(grad, out, s->counts, MPI_FLOAT, MPI_SUM, s->comm));
  PetscFunctionReturn(0);
}

PetscErrorCode shard_allgather(const shard *s, float *params)
{
  PetscFunctionBegin;
  PetscCallMPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, params, s->counts, s->displs, MPI_FLOAT, s->comm));
  PetscFunctionReturn(0);
}

/* Each rank's part of [a, b): counts and starts relative to a (ranks without a part: 0, 0). */
static void range_parts(const shard *s, size_t a, size_t b)
{
  for (int r = 0; r < s->P; r++) {
    size_t lo = PetscMax(a, (size_t)s->displs[r]), hi = PetscMin(b, (size_t)s->displs[r] + (size_t)s->counts[r]);
    s->rcnt[r] = hi > lo ? (PetscMPIInt)(hi - lo) : 0; /* fit: parts of the checked n */
    s->rdsp[r] = hi > lo ? (PetscMPIInt)(lo - a) : 0;
  }
}

PetscErrorCode shard_allgather_range(const shard *s, size_t a, size_t b, const float *slice, float *out)
{
  const float *mine;
  PetscFunctionBegin;
  range_parts(s, a, b);
  mine = s->rcnt[s->rank] ? slice + (a + (size_t)s->rdsp[s->rank] - s->lo) : slice;
  PetscCallMPI(MPI_Allgatherv(mine, s->rcnt[s->rank], MPI_FLOAT, out, s->rcnt, s->rdsp, MPI_FLOAT, s->comm));
  PetscFunctionReturn(0);
}

PetscErrorCode shard_reduce_scatter_range(const shard *s, size_t a, size_t b, const float *seg, float *gslice)
{
  float *mine;
  PetscFunctionBegin;
  range_parts(s, a, b);
  mine = s->rcnt[s->rank] ? gslice + (a + (size_t)s->rdsp[s->rank] - s->lo) : gslice;
  PetscCallMPI(MPI_Reduce_scatter(seg, mine, s->rcnt, MPI_FLOAT, MPI_SUM, s->comm));
  PetscFunctionReturn(0);
}
