/* lossfile.c: the loss-components file contract (doc/formats.md): rank 0's statistics as
   variables loss, count, loss_sq, loss_ema over (stage, t). */
#include "io/lossfile.h"
#include <stdio.h>

PetscErrorCode lossstats_write(lossstats *ls, ncio_file *f)
{
  int         dims[2], vloss, vcount, vsq, vema, vstage, vt;
  char        sq[32];
  size_t      n = (size_t)(ls->S * ls->D), st[2] = {0, 0}, ct[2];
  PetscMPIInt rank;
  double     *mean = NULL, *msq = NULL, *ema = NULL;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  PetscCall(ncio_def_dim(f, "stage", (size_t)ls->S, &dims[0]));
  PetscCall(ncio_def_dim(f, "t", (size_t)ls->D, &dims[1]));
  PetscCall(ncio_def_coord(f, "stage", dims[0], "upscale stage", &vstage));
  PetscCall(ncio_def_coord(f, "t", dims[1], "t: dims already known", &vt));
  PetscCall(ncio_def_var(f, "loss", NC_DOUBLE, 2, dims, &vloss));
  PetscCall(ncio_def_var(f, "count", NC_INT64, 2, dims, &vcount));
  PetscCall(ncio_def_var(f, "loss_sq", NC_DOUBLE, 2, dims, &vsq));
  PetscCall(ncio_def_var(f, "loss_ema", NC_DOUBLE, 2, dims, &vema));
  snprintf(sq, sizeof sq, "(%s)^2", ncio_bpd_units());
  PetscCall(ncio_put_cf(f, vloss, "loss per generated dim", ncio_bpd_units()));
  PetscCall(ncio_put_att_text(f, vloss, "comment", "cumulative mean of the observed losses; 0 where count = 0"));
  PetscCall(ncio_put_cf(f, vcount, "observations", "1"));
  PetscCall(ncio_put_cf(f, vsq, "mean squared loss component", sq));
  PetscCall(ncio_put_cf(f, vema, "loss per generated dim, moving average", ncio_bpd_units()));
  PetscCall(ncio_put_att_text(f, vema, "comment", "momentum 0.95, updated once per log interval; 0 where count = 0"));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "D", ls->D));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "stages", ls->S));
  PetscCall(ncio_enddef(f));
  PetscCall(ncio_put_coord(f, vstage, (size_t)ls->S, 0, NULL));
  PetscCall(ncio_put_coord(f, vt, (size_t)ls->D, 0, NULL));
  for (int v = 0; v < 4; v++) PetscCall(ncio_collective(f, (int[]){vloss, vcount, vsq, vema}[v]));
  ct[0] = rank ? 0 : (size_t)ls->S, ct[1] = rank ? 0 : (size_t)ls->D;
  if (rank == 0) {
    PetscCall(ardm_alloc(3 * n * sizeof(double), &mean));
    msq = mean + n, ema = mean + 2 * n;
    for (size_t i = 0; i < n; i++) {
      double c = (double)ls->count[i];
      mean[i] = c ? ls->sum[i] / c : 0, msq[i] = c ? ls->sumsq[i] / c : 0, ema[i] = c ? ls->ema[i] : 0;
    }
  }
  {
    double    d0 = 0;
    long long l0 = 0;
    NCCall(f, nc_put_vara_double(f->ncid, vloss, st, ct, rank ? &d0 : mean));
    NCCall(f, nc_put_vara_longlong(f->ncid, vcount, st, ct, rank ? &l0 : (long long *)ls->count));
    NCCall(f, nc_put_vara_double(f->ncid, vsq, st, ct, rank ? &d0 : msq));
    NCCall(f, nc_put_vara_double(f->ncid, vema, st, ct, rank ? &d0 : ema));
  }
  ardm_free(&mean);
  PetscFunctionReturn(0);
}

PetscErrorCode lossstats_save(lossstats *ls, MPI_Comm comm, const char *path)
{
  ncio_file f;
  PetscFunctionBegin;
  PetscCall(ncio_create(comm, path, "loss_components", &f));
  PetscCall(lossstats_write(ls, &f));
  PetscCall(ncio_commit(&f));
  PetscFunctionReturn(0);
}
