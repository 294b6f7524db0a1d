/* ckpt_write.c: what the Fletcher-32 checksums (doc/formats.md "Checksums") cost a parallel
   write. Writes, through ncio like ardm does, a checkpoint-shaped file (four float variables of
   N values: params, ema, adam_m, adam_v, each rank its shard slice, one collective write each)
   and a data-set-shaped file (ubyte x of E examples x 16000 dims, one example per chunk, each
   rank its block of examples), once as the variables were before the checksums (nc_def_var:
   contiguous, no filter; x chunked) and once through ncio_def_var (4 MiB chunks and the
   Fletcher-32 filter), in alternation, REPS times each. Reports the best time of each (create to commit, slowest rank)
   as MB/s and the ratio with / without. The MPI-IO component is ardm's (ncio_mpi_env).
   Usage: mpirun -n P build/bench/ckpt_write [DIR [MFLOATS [EXAMPLES [REPS]]]]
   (defaults /tmp, 8 M floats = 128 MB per checkpoint, 2048 examples = 33 MB, 3) */
#include "bench.h"
#include "core/ncio.h"
#include "core/shard.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One checkpoint-shaped file; returns the seconds from create to commit (slowest rank). */
static PetscErrorCode write_ckpt(const char *path, const shard *sh, const float *data, int checksum, double *sec)
{
  static const char *const names[] = {"params", "ema", "adam_m", "adam_v"};
  ncio_file                f;
  int                      dim, vid[4];
  size_t                   start = sh->lo, count = sh->hi - sh->lo;
  double                   t;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Barrier(sh->comm));
  t = bench_now();
  PetscCall(ncio_create(sh->comm, path, "checkpoint", &f));
  PetscCall(ncio_def_dim(&f, "nparam", sh->n, &dim));
  for (int i = 0; i < 4; i++) {
    if (checksum)
      PetscCall(ncio_def_var(&f, names[i], NC_FLOAT, 1, &dim, &vid[i]));
    else
      NCCall(&f, nc_def_var(f.ncid, names[i], NC_FLOAT, 1, &dim, &vid[i])); /* contiguous, as before */
  }
  PetscCall(ncio_enddef(&f));
  for (int i = 0; i < 4; i++) {
    PetscCall(ncio_collective(&f, vid[i]));
    NCCall(&f, nc_put_vara_float(f.ncid, vid[i], count ? &start : (size_t[]){0}, &count, data));
  }
  PetscCall(ncio_commit(&f));
  t = bench_now() - t;
  PetscCallMPI(MPI_Allreduce(&t, sec, 1, MPI_DOUBLE, MPI_MAX, sh->comm));
  PetscFunctionReturn(0);
}

/* One data-set-shaped file of E x D ubyte values; this rank writes examples [lo, hi). */
static PetscErrorCode write_data(const char *path, MPI_Comm comm, size_t E, size_t D, size_t lo, size_t hi,
                                 const int *x, int checksum, double *sec)
{
  ncio_file f;
  int       dims[2], vx;
  size_t    chunk[2] = {1, D}, st[2] = {hi > lo ? lo : 0, 0}, ct[2] = {hi - lo, D};
  double    t;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Barrier(comm));
  t = bench_now();
  PetscCall(ncio_create(comm, path, "dataset", &f));
  PetscCall(ncio_def_dim(&f, "example", E, &dims[0]));
  PetscCall(ncio_def_dim(&f, "dim", D, &dims[1]));
  if (checksum)
    PetscCall(ncio_def_var(&f, "x", NC_UBYTE, 2, dims, &vx));
  else
    NCCall(&f, nc_def_var(f.ncid, "x", NC_UBYTE, 2, dims, &vx));
  NCCall(&f, nc_def_var_chunking(f.ncid, vx, NC_CHUNKED, chunk)); /* as dataset_create */
  PetscCall(ncio_enddef(&f));
  PetscCall(ncio_collective(&f, vx));
  NCCall(&f, nc_put_vara_int(f.ncid, vx, st, ct, x));
  PetscCall(ncio_commit(&f));
  t = bench_now() - t;
  PetscCallMPI(MPI_Allreduce(&t, sec, 1, MPI_DOUBLE, MPI_MAX, comm));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  shard       sh;
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  size_t      n = (size_t)((argc > 2 ? atof(argv[2]) : 8) * 1048576), E = argc > 3 ? (size_t)atol(argv[3]) : 2048;
  size_t      D = 16000, lo, hi;
  int         reps = argc > 4 ? atoi(argv[4]) : 3, *x;
  float      *data;
  double      best[2][2] = {{1e30, 1e30}, {1e30, 1e30}}, t;
  char        path[4096];

  ncio_mpi_env();
  PetscCall(PetscInitializeNoArguments());
  comm = PETSC_COMM_WORLD;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  PetscCall(shard_init(comm, n, &sh));
  lo = E * (size_t)rank / (size_t)size, hi = E * (size_t)(rank + 1) / (size_t)size;
  data = malloc(sizeof(float) * (sh.hi - sh.lo + 1));
  x = malloc(sizeof(int) * ((hi - lo) * D + 1));
  for (size_t i = 0; i < sh.hi - sh.lo; i++) data[i] = (float)((sh.lo + i) % 1000) * 1e-3f;
  for (size_t i = 0; i < (hi - lo) * D; i++) x[i] = (int)(((lo * D + i) * 2654435761u >> 24) & 255);
  for (int r = 0; r < reps; r++)
    for (int cs = 0; cs < 2; cs++) {
      snprintf(path, sizeof path, "%s/ckpt_write_bench_%d.nc", dir, cs);
      PetscCall(write_ckpt(path, &sh, data, cs, &t));
      best[0][cs] = t < best[0][cs] ? t : best[0][cs];
      if (rank == 0) unlink(path);
      snprintf(path, sizeof path, "%s/ckpt_write_bench_x%d.nc", dir, cs);
      PetscCall(write_data(path, comm, E, D, lo, hi, x, cs, &t));
      best[1][cs] = t < best[1][cs] ? t : best[1][cs];
      if (rank == 0) unlink(path);
    }
  if (rank == 0) {
    double      mb[2] = {4.0 * 4 * (double)n / 1e6, (double)E * (double)D / 1e6};
    const char *what[2] = {"checkpoint (4 float variables)", "data set (ubyte x, 1 example per chunk)"};
    printf("ckpt_write: %d rank(s), %s, best of %d\n", size, dir, reps);
    for (int k = 0; k < 2; k++)
      printf("  %-40s %7.1f MB: without checksums %7.1f MB/s, with %7.1f MB/s, ratio with/without speed %.2f\n",
             what[k], mb[k], mb[k] / best[k][0], mb[k] / best[k][1], best[k][0] / best[k][1]);
  }
  free(data);
  free(x);
  PetscCall(shard_free(&sh));
  PetscCall(PetscFinalize());
  return 0;
}
