/* grid.h: the two-level process grid of model-parallel runs (doc/design.md "Model
   parallelism"): P ranks form R = P/Q replicas of Q consecutive ranks; one replica shares one
   example's activations (split along D), the replicas split the global batch. */
#ifndef ARDM_GRID_H
#define ARDM_GRID_H
#include "core/ardm.h"

typedef struct {
  MPI_Comm    world;        /* all P ranks */
  PetscMPIInt P, Q, R;      /* ranks, ranks per replica (-model_parallel), replicas P/Q */
  PetscMPIInt rank;         /* in world: rank = replica * Q + part */
  PetscMPIInt replica;      /* 0..R-1: which examples of the global batch */
  PetscMPIInt part;         /* 0..Q-1: which part of D */
  MPI_Comm    replica_comm; /* the Q ranks of this replica, ranked by part (MPI_COMM_SELF when Q = 1) */
  MPI_Comm    dp_comm;      /* the R ranks with this part, ranked by replica (data-parallel direction) */
  int         blacs_ctx;    /* BLACS Q x 1 process grid over replica_comm, -1 until grid_blacs() */
  int         blacs_handle; /* BLACS system handle of replica_comm */
} grid;

/* Reads -model_parallel Q (default 1) inside an open PetscOptionsBegin block, with its -help text. */
PetscErrorCode grid_options(PetscOptionItems *PetscOptionsObject, PetscInt *Q);
/* Builds the grid; an input error (exit 1 on every rank) when Q < 1 or Q does not divide P. */
PetscErrorCode grid_init(MPI_Comm world, PetscInt Q, grid *g);
PetscErrorCode grid_free(grid *g);
/* The BLACS grid of this replica (created on first use; collective over the replica): Q x 1,
   process row = part. An activation x[C][D] (row-major, time contiguous) is, to column-major
   PBLAS, the D x C matrix x^T; distributing its rows in blocks of ceil(D/Q) gives each rank its
   part of D with the local array in our own layout. (The "1 x Q grid" is this grid for
   the transposed matrix.) */
PetscErrorCode grid_blacs(grid *g, int *ctx);
/* The dims [lo, lo + n) of D that part q of Q holds (as equal as possible, in order). */
void grid_part_range(int64_t D, int Q, int q, int64_t *lo, int64_t *n);
/* The widest halo a DiffWave network needs, dilation 2^(cycle-1) times (kernel-1)/2: each part
   of D must be at least this long, so halos come from the two neighbours only. */
int64_t grid_max_halo(int cycle, int blocks, int kernel);
/* Input error unless every part of D is at least the network's widest halo. */
PetscErrorCode grid_check_dims(const grid *g, int64_t D, int cycle, int blocks, int kernel);
#endif
