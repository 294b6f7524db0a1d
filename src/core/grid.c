/* grid.c: replica and data-parallel communicators and the BLACS grid of -model_parallel
   (core/grid.h). */
#include "core/grid.h"
#include "core/opts.h"

/* BLACS C interface (ScaLAPACK ships no header for it) */
extern int  Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctx, const char *order, int nprow, int npcol);
extern void Cblacs_gridexit(int ctx);

PetscErrorCode grid_options(PetscOptionItems *PetscOptionsObject, PetscInt *Q)
{
  PetscFunctionBegin;
  PetscCall(opts_int(PetscOptionsObject, "-model_parallel",
                     "ranks sharing one example (-model diffwave): the ranks form replicas of Q that split D; Q must "
                     "divide the ranks and D/Q be at least the widest dilation halo, 2^(min(cycle,blocks)-1)",
                     Q, 1, 1 << 20, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode grid_init(MPI_Comm world, PetscInt Q, grid *g)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(g, sizeof *g));
  g->world = world, g->blacs_ctx = -1, g->blacs_handle = -1;
  PetscCallMPI(MPI_Comm_size(world, &g->P));
  PetscCallMPI(MPI_Comm_rank(world, &g->rank));
  PetscCheck(Q >= 1 && g->P % Q == 0, world, ARDM_ERR_INPUT,
             "-model_parallel %lld: must divide the number of ranks (%d) into replicas of equal size", (long long)Q,
             g->P);
  g->Q = (PetscMPIInt)Q, g->R = g->P / g->Q;
  g->replica = g->rank / g->Q, g->part = g->rank % g->Q;
  if (g->Q == 1)
    g->replica_comm = MPI_COMM_SELF;
  else
    PetscCallMPI(MPI_Comm_split(world, g->replica, g->part, &g->replica_comm));
  PetscCallMPI(MPI_Comm_split(world, g->part, g->replica, &g->dp_comm));
  PetscFunctionReturn(0);
}

PetscErrorCode grid_free(grid *g)
{
  PetscFunctionBegin;
  if (g->blacs_ctx >= 0) Cblacs_gridexit(g->blacs_ctx);
  if (g->blacs_handle >= 0) Cfree_blacs_system_handle(g->blacs_handle);
  if (g->replica_comm != MPI_COMM_NULL && g->replica_comm != MPI_COMM_SELF)
    PetscCallMPI(MPI_Comm_free(&g->replica_comm));
  if (g->dp_comm != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_free(&g->dp_comm));
  PetscCall(PetscMemzero(g, sizeof *g));
  g->blacs_ctx = g->blacs_handle = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode grid_blacs(grid *g, int *ctx)
{
  PetscFunctionBegin;
  if (g->blacs_ctx < 0) {
    g->blacs_handle = Csys2blacs_handle(g->replica_comm);
    g->blacs_ctx = g->blacs_handle;
    Cblacs_gridinit(&g->blacs_ctx, "Col", g->Q, 1);
  }
  *ctx = g->blacs_ctx;
  PetscFunctionReturn(0);
}

void grid_part_range(int64_t D, int Q, int q, int64_t *lo, int64_t *n)
{
  *lo = D * q / Q;
  *n = D * (q + 1) / Q - *lo;
}

int64_t grid_max_halo(int cycle, int blocks, int kernel)
{
  int top = PetscMin(cycle, blocks) - 1; /* the largest dilation exponent any block uses */
  return ((int64_t)1 << (top < 0 ? 0 : top)) * ((kernel - 1) / 2);
}

PetscErrorCode grid_check_dims(const grid *g, int64_t D, int cycle, int blocks, int kernel)
{
  int64_t h = grid_max_halo(cycle, blocks, kernel), lo, n;
  PetscFunctionBegin;
  grid_part_range(D, g->Q, 0, &lo, &n); /* part 0 is a shortest one */
  PetscCheck(g->Q == 1 || n >= PetscMax(h, 1), g->world, ARDM_ERR_INPUT,
             "-model_parallel %d: too large for D = %lld: each rank's part of D (%lld) must be at least the widest "
             "dilated-convolution halo (%lld = 2^(min(cycle,blocks)-1) * (kernel-1)/2)",
             g->Q, (long long)D, (long long)n, (long long)h);
  PetscFunctionReturn(0);
}
