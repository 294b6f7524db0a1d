/* dataset.c: reading, validating and writing data sets (doc/formats.md "Data set"). */
#include "io/dataset.h"
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const char *const modalities[] = {"audio", "text", "image", "sequence", NULL};
static const char *const splits[] = {"train", "valid", "test", NULL};

static PetscBool in_list(const char *s, const char *const *list)
{
  for (int i = 0; list[i]; i++)
    if (!strcmp(s, list[i])) return PETSC_TRUE;
  return PETSC_FALSE;
}

static PetscErrorCode read_attrs(dataset *ds)
{
  ncio_file     *f = &ds->f;
  dataset_attrs *a = &ds->attrs;
  int64_t        v;

  PetscFunctionBegin;
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "num_classes", &v));
  PetscCheck(v >= 2 && v <= 65536, f->comm, ARDM_ERR_INPUT, "%s: num_classes = %lld, expected 2..65536", f->path,
             (long long)v);
  ds->K = (int)v;
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "modality", a->modality, sizeof a->modality));
  PetscCheck(in_list(a->modality, modalities), f->comm, ARDM_ERR_INPUT,
             "%s: modality '%s', expected audio, text, image or sequence", f->path, a->modality);
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "split", a->split, sizeof a->split));
  PetscCheck(in_list(a->split, splits), f->comm, ARDM_ERR_INPUT, "%s: split '%s', expected train, valid or test",
             f->path, a->split);
  if (!strcmp(a->modality, "audio")) {
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "sample_rate", &v));
    PetscCheck(v > 0 && v <= INT_MAX, f->comm, ARDM_ERR_INPUT, "%s: sample_rate = %lld, expected 1..%d", f->path,
               (long long)v, INT_MAX);
    a->sample_rate = (int)v;
  } else if (!strcmp(a->modality, "text")) {
    PetscCall(ncio_get_att_text(f, NC_GLOBAL, "alphabet", a->alphabet, sizeof a->alphabet));
    PetscCheck((int)strlen(a->alphabet) == ds->K, f->comm, ARDM_ERR_INPUT,
               "%s: alphabet has %zu symbols but num_classes = %d", f->path, strlen(a->alphabet), ds->K);
  } else if (!strcmp(a->modality, "image")) {
    int64_t h, w, c;
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "height", &h));
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "width", &w));
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "channels", &c));
    PetscCheck(h > 0 && w > 0 && c > 0 && h * w * c == ds->D, f->comm, ARDM_ERR_INPUT,
               "%s: height x width x channels = %lld x %lld x %lld does not match dim = %lld", f->path, (long long)h,
               (long long)w, (long long)c, (long long)ds->D);
    a->height = (int)h, a->width = (int)w, a->channels = (int)c;
  }
  PetscFunctionReturn(0);
}

/* The file's identity, size and modification time now (err = errno when stat fails). */
static void stamp_take(const char *path, dataset_stamp *s)
{
  struct stat st;
  memset(s, 0, sizeof *s);
  if (stat(path, &st)) {
    s->err = errno ? errno : EIO;
    return;
  }
  s->size = (int64_t)st.st_size, s->ino = (int64_t)st.st_ino, s->dev = (int64_t)st.st_dev;
  s->mtime_s = (int64_t)st.st_mtim.tv_sec, s->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
}

/* How the file now differs from what was opened, in words; "" when it does not. */
static void stamp_diff(const dataset_stamp *was, const dataset_stamp *now, char *why, size_t len)
{
  why[0] = 0;
  if (was->err) return; /* nothing to compare with */
  if (now->err)
    snprintf(why, len, "it can no longer be found: %s", strerror(now->err));
  else if (now->ino != was->ino || now->dev != was->dev)
    snprintf(why, len, "it was replaced by another file");
  else if (now->size != was->size)
    snprintf(why, len, "its size went from %lld to %lld bytes", (long long)was->size, (long long)now->size);
  else if (now->mtime_s != was->mtime_s || now->mtime_ns != was->mtime_ns)
    snprintf(why, len, "it was overwritten: the modification time differs");
}

static PetscErrorCode open_checked(MPI_Comm comm, const char *path, PetscBool allow_empty, dataset *ds)
{
  const char *const xdims[] = {"example", "dim"}, *const ldims[] = {"example"};
  const nc_type xtypes[] = {NC_UBYTE, NC_USHORT};
  const nc_type ltypes[] = {NC_BYTE, NC_SHORT, NC_INT, NC_INT64, NC_UBYTE, NC_USHORT};
  size_t        n, D;
  nc_type       t;
  PetscBool     has;
  PetscMPIInt   rank;

  PetscFunctionBegin;
  memset(ds, 0, sizeof *ds);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  /* before the open: a change between the two is then a change, too */
  if (rank == 0) stamp_take(path, &ds->stamp);
  PetscCall(ncio_open(comm, path, "dataset", &ds->f));
  if (rank == 0 && ds->stamp.err) stamp_take(path, &ds->stamp);
  PetscCall(ncio_dim(&ds->f, "example", &n));
  PetscCall(ncio_dim(&ds->f, "dim", &D));
  ds->n = (int64_t)n, ds->D = (int64_t)D;
  PetscCheck(D > 0, comm, ARDM_ERR_INPUT, "%s: dimension 'dim' is empty", path);
  PetscCheck(n > 0 || allow_empty, comm, ARDM_ERR_INPUT, "%s: the data set has no examples (dimension 'example' is 0)",
             path);
  PetscCall(ncio_var(&ds->f, "x", 2, xdims, 2, xtypes, &ds->xid, &t));
  PetscCall(read_attrs(ds));
  PetscCheck(t == (ds->K <= 256 ? NC_UBYTE : NC_USHORT), comm, ARDM_ERR_INPUT,
             "%s: variable 'x' has type %s but num_classes = %d needs %s", path, t == NC_UBYTE ? "ubyte" : "ushort",
             ds->K, ds->K <= 256 ? "ubyte" : "ushort");
  ds->labelid = -1;
  PetscCall(ncio_has_var(&ds->f, "label", &has));
  if (has) PetscCall(ncio_var(&ds->f, "label", 1, ldims, 6, ltypes, &ds->labelid, NULL));
  PetscCall(ncio_collective(&ds->f, ds->xid));
  if (has) PetscCall(ncio_collective(&ds->f, ds->labelid));
  ncio_unwatch(&ds->f); /* the header is good: training's reads of examples take their time */
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_open(MPI_Comm comm, const char *path, dataset *ds)
{
  PetscFunctionBegin;
  PetscCall(open_checked(comm, path, PETSC_FALSE, ds));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_open_any(MPI_Comm comm, const char *path, dataset *ds)
{
  PetscFunctionBegin;
  PetscCall(open_checked(comm, path, PETSC_TRUE, ds));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_expect(const dataset *ds, int K, int64_t D)
{
  PetscFunctionBegin;
  PetscCheck(K < 0 || ds->K == K, ds->f.comm, ARDM_ERR_INPUT, "%s: num_classes = %d, but the model expects K = %d",
             ds->f.path, ds->K, K);
  PetscCheck(D < 0 || ds->D == D, ds->f.comm, ARDM_ERR_INPUT, "%s: dim = %lld, but the model expects D = %lld",
             ds->f.path, (long long)ds->D, (long long)D);
  PetscFunctionReturn(0);
}

/* Rank 0 compares the file with what it opened; collective, so that every rank stops together. */
static PetscErrorCode check_unchanged(dataset *ds)
{
  PetscMPIInt   rank;
  dataset_stamp now;
  char          why[192] = "";
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(ds->f.comm, &rank));
  if (rank == 0) {
    stamp_take(ds->f.path, &now);
    stamp_diff(&ds->stamp, &now, why, sizeof why);
  }
  ArdmCheckAll(ds->f.comm, !why[0],
               "%s: the data file changed since it was opened (%s); it must not be modified while a job reads it",
               ds->f.path, why);
  PetscFunctionReturn(0);
}

/* After this rank's reads (NetCDF status s of variable varid; x holds examples idx[0..count) or,
   when idx is NULL, start..start+count-1): every rank agrees that the file is still the one
   opened (so nothing was read past a new end or from new contents), that the reads worked (a
   checksum mismatch names the variable) and that every value is below K, in this order.
   Collective. */
static PetscErrorCode check_read(dataset *ds, int s, int varid, const int64_t *idx, int64_t start, int64_t count,
                                 const int32_t *x)
{
  int64_t bad = -1, e;
  int     any;
  PetscFunctionBegin;
  for (int64_t i = 0; s == NC_NOERR && i < count * ds->D && bad < 0; i++)
    if (x[i] < 0 || x[i] >= ds->K) bad = i;
  any = s != NC_NOERR || bad >= 0;
  /* also the point after which every rank has finished reading */
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, ds->f.comm));
  PetscCall(check_unchanged(ds));
  if (!any) PetscFunctionReturn(0);
  PetscCall(ncio_read_check(&ds->f, varid, s));
  e = bad < 0 ? 0 : idx ? idx[bad / ds->D] : start + bad / ds->D;
  ArdmCheckAll(ds->f.comm, bad < 0, "%s: x[%lld][%lld] = %d is not below num_classes = %d", ds->f.path, (long long)e,
               (long long)(bad < 0 ? 0 : bad % ds->D), bad < 0 ? 0 : x[bad], ds->K);
  PetscFunctionReturn(0);
}

/* One collective read of examples start..start+count-1 (count may be 0; labels only when label
   is not NULL). Returns the NetCDF status (and in *varid the variable that failed) rather than
   stopping, so that check_read can first tell every rank whether the file changed under it. */
static int read_range(dataset *ds, int64_t start, int64_t count, int32_t *x, int32_t *label, int *varid)
{
  size_t st[2] = {count ? (size_t)start : 0, 0}, ct[2] = {(size_t)count, (size_t)ds->D};
  int    s = nc_get_vara_int(ds->f.ncid, ds->xid, st, ct, x);
  *varid = ds->xid;
  if (ds->labelid >= 0) {
    int    dummy;
    size_t lct[1] = {label ? (size_t)count : 0}; /* every rank joins the collective read */
    int    s2 = nc_get_vara_int(ds->f.ncid, ds->labelid, st, lct, label ? label : &dummy);
    if (s == NC_NOERR && s2 != NC_NOERR) s = s2, *varid = ds->labelid;
  } else if (label)
    for (int64_t i = 0; i < count; i++) label[i] = -1;
  return s;
}

PetscErrorCode dataset_read(dataset *ds, int64_t start, int64_t count, int32_t *x, int32_t *label)
{
  PetscFunctionBegin;
  ArdmCheckAll(ds->f.comm, start >= 0 && count >= 0 && start + count <= ds->n,
               "%s: examples %lld..%lld requested, the file has %lld", ds->f.path, (long long)start,
               (long long)(start + count - 1), (long long)ds->n);
  int varid, s = read_range(ds, start, count, x, label, &varid);
  PetscCall(check_read(ds, s, varid, NULL, start, count, x));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_read_list(dataset *ds, const int64_t *idx, int64_t count, int32_t *x, int32_t *label)
{
  int64_t most = count, ok = 1;
  int     s = NC_NOERR, varid = ds->xid;
  PetscFunctionBegin;
  for (int64_t i = 0; i < count; i++)
    if (idx[i] < 0 || idx[i] >= ds->n) ok = 0;
  ArdmCheckAll(ds->f.comm, ok, "%s: example index out of range 0..%lld", ds->f.path, (long long)ds->n - 1);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &most, 1, MPI_INT64_T, MPI_MAX, ds->f.comm));
  /* one collective read per example; ranks with fewer examples join with empty reads */
  for (int64_t i = 0; i < most; i++) {
    int64_t has = i < count;
    int vi, si = read_range(ds, has ? idx[i] : 0, has, has ? x + i * ds->D : x, has && label ? label + i : NULL, &vi);
    if (s == NC_NOERR && si != NC_NOERR) s = si, varid = vi;
  }
  PetscCall(check_read(ds, s, varid, idx, 0, count, x));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_read_labels(dataset *ds, int32_t *label)
{
  int s = NC_NOERR;
  PetscFunctionBegin;
  if (ds->labelid < 0) {
    for (int64_t i = 0; i < ds->n; i++) label[i] = -1;
  } else
    s = nc_get_var_int(ds->f.ncid, ds->labelid, label);
  PetscCall(check_read(ds, s, ds->labelid, NULL, 0, 0, NULL));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_close(dataset *ds)
{
  PetscFunctionBegin;
  PetscCall(ncio_close(&ds->f));
  PetscFunctionReturn(0);
}

static PetscErrorCode write_attrs(dataset *ds, const dataset_attrs *a)
{
  ncio_file *f = &ds->f;
  PetscFunctionBegin;
  PetscCheck(in_list(a->modality, modalities), f->comm, ARDM_ERR_INPUT, "%s: unknown modality '%s'", f->path,
             a->modality);
  PetscCheck(in_list(a->split, splits), f->comm, ARDM_ERR_INPUT, "%s: unknown split '%s'", f->path, a->split);
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "num_classes", ds->K));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "modality", a->modality));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "split", a->split));
  if (!strcmp(a->modality, "audio")) PetscCall(ncio_put_att_int(f, NC_GLOBAL, "sample_rate", a->sample_rate));
  if (!strcmp(a->modality, "text")) PetscCall(ncio_put_att_text(f, NC_GLOBAL, "alphabet", a->alphabet));
  if (!strcmp(a->modality, "image")) {
    PetscCall(ncio_put_att_int(f, NC_GLOBAL, "height", a->height));
    PetscCall(ncio_put_att_int(f, NC_GLOBAL, "width", a->width));
    PetscCall(ncio_put_att_int(f, NC_GLOBAL, "channels", a->channels));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_create(MPI_Comm comm, const char *path, int64_t n, int64_t D, int K, PetscBool has_label,
                              const dataset_attrs *attrs, dataset *ds)
{
  int    dims[2];
  size_t chunk[2] = {1, (size_t)D};

  PetscFunctionBegin;
  memset(ds, 0, sizeof *ds);
  PetscCheck(n >= 1 && D >= 1 && K >= 2 && K <= 65536, comm, ARDM_ERR_INPUT,
             "%s: cannot make a data set with %lld examples, %lld dims, %d classes", path, (long long)n, (long long)D,
             K);
  ds->n = n, ds->D = D, ds->K = K, ds->attrs = *attrs, ds->labelid = -1;
  PetscCall(ncio_create(comm, path, "dataset", &ds->f));
  PetscCall(ncio_def_dim(&ds->f, "example", (size_t)n, &dims[0]));
  PetscCall(ncio_def_dim(&ds->f, "dim", (size_t)D, &dims[1]));
  PetscCall(ncio_def_var(&ds->f, "x", K <= 256 ? NC_UBYTE : NC_USHORT, 2, dims, &ds->xid));
  /* one example per chunk: every read the trainer does is whole examples */
  NCCall(&ds->f, nc_def_var_chunking(ds->f.ncid, ds->xid, NC_CHUNKED, chunk));
  PetscCall(ncio_put_cf(&ds->f, ds->xid, "data values (class index 0..K-1; audio: int16 sample + 32768)", "1"));
  if (has_label) {
    PetscCall(ncio_def_var(&ds->f, "label", NC_INT, 1, dims, &ds->labelid));
    PetscCall(ncio_put_cf(&ds->f, ds->labelid, "class label (-1: unknown)", "1"));
  }
  PetscCall(write_attrs(ds, attrs));
  PetscCall(ncio_enddef(&ds->f));
  PetscCall(ncio_collective(&ds->f, ds->xid));
  if (has_label) PetscCall(ncio_collective(&ds->f, ds->labelid));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_write(dataset *ds, int64_t start, int64_t count, const int32_t *x, const int32_t *label)
{
  size_t  st[2] = {count ? (size_t)start : 0, 0}, ct[2] = {(size_t)count, (size_t)ds->D};
  int64_t bad = -1;
  PetscFunctionBegin;
  for (int64_t i = 0; i < count * ds->D && bad < 0; i++)
    if (x[i] < 0 || x[i] >= ds->K) bad = i;
  PetscCheck(bad < 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: value %d out of range 0..%d", ds->f.path, x[bad],
             ds->K - 1);
  PetscCheck(start >= 0 && start + count <= ds->n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "%s: write of examples %lld+%lld past the end", ds->f.path, (long long)start, (long long)count);
  NCCall(&ds->f, nc_put_vara_int(ds->f.ncid, ds->xid, st, ct, x));
  if (ds->labelid >= 0) {
    int dummy = 0;
    NCCall(&ds->f, nc_put_vara_int(ds->f.ncid, ds->labelid, st, ct, count ? label : &dummy));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_commit(dataset *ds)
{
  PetscFunctionBegin;
  PetscCall(ncio_commit(&ds->f));
  PetscFunctionReturn(0);
}

PetscErrorCode dataset_discard(dataset *ds)
{
  PetscFunctionBegin;
  PetscCall(ncio_discard(&ds->f));
  PetscFunctionReturn(0);
}
