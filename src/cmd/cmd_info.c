/* cmd_info.c: `ardm info FILE...`: a one-screen summary of any file ardm writes: its kind,
   dimensions, variables with value ranges (read in parallel, each rank a block of rows),
   and the attributes that matter for that kind. */
#include "cmd/commands.h"
#include "io/dataset.h"
#include "core/opts.h"
#include "core/watchdog.h"
#include "io/plan_file.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  double  min, max, sum;
  int64_t n, nonfinite;
} value_stats;

/* Reads variable varid in blocks of rows spread over the ranks and reduces its statistics. */
static PetscErrorCode var_stats(ncio_file *f, int varid, value_stats *st)
{
  int         nd, dimids[NC_MAX_VAR_DIMS];
  size_t      len[NC_MAX_VAR_DIMS], rows = 1, row = 1, block, lo, hi, nblocks;
  PetscMPIInt rank, size;
  double     *buf;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  PetscCallMPI(MPI_Comm_size(f->comm, &size));
  NCCall(f, nc_inq_var(f->ncid, varid, NULL, NULL, &nd, dimids, NULL));
  for (int i = 0; i < nd; i++) NCCall(f, nc_inq_dimlen(f->ncid, dimids[i], &len[i]));
  if (nd > 0) rows = len[0];
  for (int i = 1; i < nd; i++) row *= len[i];
  block = row ? PetscMax(1, (size_t)(1 << 22) / row) : 1;
  lo = rows * (size_t)rank / (size_t)size, hi = rows * (size_t)(rank + 1) / (size_t)size;
  nblocks = (rows / (size_t)size + 1 + block - 1) / block; /* same count on every rank */
  PetscCall(ardm_alloc(sizeof(double) * block * PetscMax(row, 1), &buf));
  PetscCall(ncio_collective(f, varid));
  st->min = DBL_MAX, st->max = -DBL_MAX, st->sum = 0, st->n = 0, st->nonfinite = 0;
  for (size_t b = 0; b < nblocks; b++) {
    size_t s0 = PetscMin(lo + b * block, hi), cnt = PetscMin(block, hi - s0);
    size_t start[NC_MAX_VAR_DIMS] = {0}, count[NC_MAX_VAR_DIMS];
    if (nd == 0) {
      if (b == 0) NCRead(f, varid, nc_get_var_double(f->ncid, varid, buf)); /* collective: all ranks read */
      cnt = rank == 0 && b == 0;                                            /* rank 0 counts it */
      row = 1;
    } else {
      start[0] = cnt ? s0 : 0, count[0] = cnt;
      for (int i = 1; i < nd; i++) count[i] = len[i];
      NCRead(f, varid, nc_get_vara_double(f->ncid, varid, start, count, buf));
    }
    watchdog_kick(); /* a block read: progress, whatever the file's size */
    for (size_t i = 0; i < cnt * row; i++) {
      if (!isfinite(buf[i])) {
        st->nonfinite++;
        continue;
      }
      st->min = PetscMin(st->min, buf[i]), st->max = PetscMax(st->max, buf[i]);
      st->sum += buf[i], st->n++;
    }
  }
  ardm_free(&buf);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &st->min, 1, MPI_DOUBLE, MPI_MIN, f->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &st->max, 1, MPI_DOUBLE, MPI_MAX, f->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &st->sum, 1, MPI_DOUBLE, MPI_SUM, f->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &st->n, 1, MPI_INT64_T, MPI_SUM, f->comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &st->nonfinite, 1, MPI_INT64_T, MPI_SUM, f->comm));
  PetscFunctionReturn(0);
}

static const char *nc_type_str(nc_type t)
{
  static const char *names[] = {"?",     "byte",   "char", "short", "int",    "float", "double",
                                "ubyte", "ushort", "uint", "int64", "uint64", "string"};
  return t >= 0 && t <= NC_STRING ? names[t] : "?";
}

static PetscErrorCode print_variables(ncio_file *f)
{
  int nvars;
  PetscFunctionBegin;
  NCCall(f, nc_inq_nvars(f->ncid, &nvars));
  PetscCall(PetscPrintf(f->comm, "  variables:\n"));
  for (int v = 0; v < nvars; v++) {
    char        name[NC_MAX_NAME + 1], shape[1024] = "";
    int         nd, dimids[NC_MAX_VAR_DIMS];
    nc_type     t;
    value_stats st;
    NCCall(f, nc_inq_var(f->ncid, v, name, &t, &nd, dimids, NULL));
    for (int i = 0; i < nd; i++) {
      char   dn[NC_MAX_NAME + 1];
      size_t l;
      NCCall(f, nc_inq_dim(f->ncid, dimids[i], dn, &l));
      size_t used = strlen(shape);
      if (used + strlen(dn) + 32 < sizeof shape) sprintf(shape + used, "%s%s=%zu", i ? ", " : "", dn, l);
    }
    if (t == NC_CHAR || t == NC_STRING) {
      PetscCall(PetscPrintf(f->comm, "    %-16s %-7s (%s)\n", name, nc_type_str(t), shape));
      continue;
    }
    PetscCall(var_stats(f, v, &st));
    if (st.n)
      PetscCall(PetscPrintf(f->comm, "    %-16s %-7s (%s)  min %.6g  max %.6g  mean %.6g%s\n", name, nc_type_str(t),
                            shape, st.min, st.max, st.sum / (double)st.n, st.nonfinite ? "  NON-FINITE VALUES" : ""));
    else
      PetscCall(PetscPrintf(f->comm, "    %-16s %-7s (%s)  (no finite values)\n", name, nc_type_str(t), shape));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode print_dataset(MPI_Comm comm, const char *path)
{
  dataset ds;
  PetscFunctionBegin;
  PetscCall(dataset_open_any(comm, path, &ds)); /* info reports an empty set too */
  PetscCall(PetscPrintf(comm, "  data set: %lld examples x D = %lld dims, K = %d classes, modality %s, split %s\n",
                        (long long)ds.n, (long long)ds.D, ds.K, ds.attrs.modality, ds.attrs.split));
  if (!strcmp(ds.attrs.modality, "audio"))
    PetscCall(PetscPrintf(comm, "  audio: %d Hz, %.3f s per example, %.1f s in all\n", ds.attrs.sample_rate,
                          (double)ds.D / ds.attrs.sample_rate, (double)ds.D * (double)ds.n / ds.attrs.sample_rate));
  if (!strcmp(ds.attrs.modality, "text")) PetscCall(PetscPrintf(comm, "  alphabet: \"%s\"\n", ds.attrs.alphabet));
  if (ds.labelid >= 0) {
    int64_t  hist[10] = {0}, other = 0;
    int32_t *lab;
    PetscCall(ardm_alloc(sizeof(int32_t) * (size_t)(ds.n + 1), &lab));
    PetscCall(dataset_read_labels(&ds, lab)); /* one collective read: 4 bytes per example */
    for (int64_t i = 0; i < ds.n; i++) {
      if (lab[i] >= 0 && lab[i] < 10)
        hist[lab[i]]++;
      else
        other++;
    }
    ardm_free(&lab);
    PetscCall(PetscPrintf(comm, "  labels 0..9:"));
    for (int i = 0; i < 10; i++) PetscCall(PetscPrintf(comm, " %lld", (long long)hist[i]));
    PetscCall(PetscPrintf(comm, "%s\n", other ? " (and others)" : ""));
  }
  PetscCall(dataset_close(&ds));
  PetscFunctionReturn(0);
}

static PetscErrorCode info_file(MPI_Comm comm, const char *path)
{
  ncio_file f;
  char      kind[64] = "(not an ardm file)", text[4096];
  PetscBool has;
  int       ndims, natts;

  PetscFunctionBegin;
  PetscCall(ncio_open(comm, path, NULL, &f));
  PetscCall(ncio_has_att(&f, NC_GLOBAL, "ardm_kind", &has));
  if (has) PetscCall(ncio_get_att_text(&f, NC_GLOBAL, "ardm_kind", kind, sizeof kind));
  PetscCall(PetscPrintf(comm, "%s: %s\n", path, kind));
  NCCall(&f, nc_inq(f.ncid, &ndims, NULL, &natts, NULL));
  PetscCall(PetscPrintf(comm, "  dimensions:"));
  for (int d = 0; d < ndims; d++) {
    char   dn[NC_MAX_NAME + 1];
    size_t l;
    NCCall(&f, nc_inq_dim(f.ncid, d, dn, &l));
    PetscCall(PetscPrintf(comm, " %s=%zu", dn, l));
  }
  PetscCall(PetscPrintf(comm, "\n  attributes:\n"));
  for (int a = 0; a < natts; a++) {
    char    an[NC_MAX_NAME + 1];
    nc_type t;
    size_t  l;
    NCCall(&f, nc_inq_attname(f.ncid, NC_GLOBAL, a, an));
    NCCall(&f, nc_inq_att(f.ncid, NC_GLOBAL, an, &t, &l));
    if (!strcmp(an, "ardm_kind")) continue;
    if (t == NC_CHAR && l < sizeof text) {
      NCCall(&f, nc_get_att_text(f.ncid, NC_GLOBAL, an, text));
      text[l] = 0;
      PetscCall(PetscPrintf(comm, "    %-14s %s\n", an, text));
    } else if (t != NC_CHAR && t != NC_STRING && l == 1) {
      double v;
      NCCall(&f, nc_get_att_double(f.ncid, NC_GLOBAL, an, &v));
      PetscCall(PetscPrintf(comm, "    %-14s %.10g\n", an, v));
    } else
      PetscCall(PetscPrintf(comm, "    %-14s (%zu values of type %s)\n", an, l, nc_type_str(t)));
  }
  PetscCall(print_variables(&f));
  if (!strcmp(kind, "plan")) PetscCall(planner_describe_file(&f));
  PetscCall(ncio_close(&f));
  if (!strcmp(kind, "dataset")) PetscCall(print_dataset(comm, path));
  PetscFunctionReturn(0);
}

PetscErrorCode cmd_info(int npos, char **pos)
{
  MPI_Comm  comm = PETSC_COMM_WORLD;
  PetscBool help;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "ardm info FILE...: summary of ardm NetCDF files", "info");
  PetscOptionsEnd();
  PetscCall(opts_finish(comm, "info", &help));
  if (help) PetscFunctionReturn(0);
  PetscCheck(npos >= 1, comm, ARDM_ERR_INPUT, "no file given (usage: ardm info FILE...)");
  for (int i = 0; i < npos; i++) PetscCall(info_file(comm, pos[i]));
  PetscFunctionReturn(0);
}
