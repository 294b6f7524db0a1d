/* checkpoint.c: exact, atomic, rank-count-independent checkpoints (see checkpoint.h). */
#include "io/checkpoint.h"
#include "io/model_attrs.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

static const char *const slice_vars[] = {"params", "ema", "adam_m", "adam_v"};
static const char *const slice_names[] = {"network parameters", "exponential moving average of the parameters",
                                          "Adam first moment", "Adam second moment"};

static PetscErrorCode put_state(ncio_file *f, const ckpt_state *st, size_t nparam)
{
  PetscFunctionBegin;
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "step", st->step));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "seed_text", "see attribute seed (uint64 stored as int64 bits)"));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "seed", (int64_t)st->seed));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "examples_seen", st->examples));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "skipped_steps", st->skipped));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "bad_streak", st->bad_streak));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "nparam", (int64_t)nparam));
  if (st->nplan > 0)
    NCCall(f, nc_put_att_int(f->ncid, NC_GLOBAL, "plan_budgets", NC_INT, (size_t)st->nplan, st->plan_budgets));
  PetscFunctionReturn(0);
}

/* Raw running sums of the loss statistics, so a resumed run writes bit-identical loss files. */
static PetscErrorCode def_stats(ncio_file *f, lossstats *ls, int *vid)
{
  int  dims[2];
  char sq[32];
  PetscFunctionBegin;
  PetscCall(ncio_def_dim(f, "stage", (size_t)ls->S, &dims[0]));
  PetscCall(ncio_def_dim(f, "t", (size_t)ls->D, &dims[1]));
  PetscCall(ncio_def_coord(f, "stage", dims[0], "upscale stage", &vid[4]));
  PetscCall(ncio_def_coord(f, "t", dims[1], "t: dims already known", &vid[5]));
  PetscCall(ncio_def_var(f, "stats_count", NC_INT64, 2, dims, &vid[0]));
  PetscCall(ncio_def_var(f, "stats_sum", NC_DOUBLE, 2, dims, &vid[1]));
  PetscCall(ncio_def_var(f, "stats_sumsq", NC_DOUBLE, 2, dims, &vid[2]));
  PetscCall(ncio_def_var(f, "stats_ema", NC_DOUBLE, 2, dims, &vid[3]));
  snprintf(sq, sizeof sq, "(%s)^2", ncio_bpd_units());
  PetscCall(ncio_put_cf(f, vid[0], "loss observations so far", "1"));
  PetscCall(ncio_put_cf(f, vid[1], "sum of the observed per-dim losses", ncio_bpd_units()));
  PetscCall(ncio_put_cf(f, vid[2], "sum of the squared per-dim losses", sq));
  PetscCall(ncio_put_cf(f, vid[3], "moving average of the per-dim loss (NaN where never observed)", ncio_bpd_units()));
  PetscFunctionReturn(0);
}

static PetscErrorCode put_stats(ncio_file *f, lossstats *ls, const int *vid, PetscMPIInt rank)
{
  size_t    st[2] = {0, 0}, ct[2] = {rank ? 0 : (size_t)ls->S, rank ? 0 : (size_t)ls->D};
  double    d0 = 0;
  long long l0 = 0;
  PetscFunctionBegin;
  PetscCall(ncio_put_coord(f, vid[4], (size_t)ls->S, 0, NULL));
  PetscCall(ncio_put_coord(f, vid[5], (size_t)ls->D, 0, NULL));
  for (int i = 0; i < 4; i++) PetscCall(ncio_collective(f, vid[i]));
  NCCall(f, nc_put_vara_longlong(f->ncid, vid[0], st, ct, rank ? &l0 : (long long *)ls->count));
  NCCall(f, nc_put_vara_double(f->ncid, vid[1], st, ct, rank ? &d0 : ls->sum));
  NCCall(f, nc_put_vara_double(f->ncid, vid[2], st, ct, rank ? &d0 : ls->sumsq));
  NCCall(f, nc_put_vara_double(f->ncid, vid[3], st, ct, rank ? &d0 : ls->ema));
  PetscFunctionReturn(0);
}

/* The observations since the last log step, every rank's, in (step, slot) order (rank 0 writes
   them), so a run stopped between log steps resumes with the same statistics; only when any. */
static const char *const pend_vars[] = {"pending_step", "pending_slot", "pending_stage", "pending_t", "pending_loss"};

static PetscErrorCode def_pending(ncio_file *f, int64_t n, int *vid)
{
  static const char *const names[] = {"optimizer step of a loss observation not yet in the stats_* sums",
                                      "its slot in the global batch", "its upscale stage", "its t", "its per-dim loss"};
  int                      dim;
  PetscFunctionBegin;
  if (n == 0) PetscFunctionReturn(0);
  PetscCall(ncio_def_dim(f, "pending", (size_t)n, &dim));
  for (int i = 0; i < 5; i++) {
    PetscCall(ncio_def_var(f, pend_vars[i], i < 4 ? NC_INT64 : NC_DOUBLE, 1, &dim, &vid[i]));
    PetscCall(ncio_put_cf(f, vid[i], names[i], i < 4 ? "1" : ncio_bpd_units()));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode put_pending(ncio_file *f, const lossstats *ls, const lossstats_obs *all, int64_t n,
                                  const int *vid, PetscMPIInt rank)
{
  size_t     st = 0, ct = rank ? 0 : (size_t)n;
  long long *col = NULL, l0 = 0;
  double    *loss = NULL, d0 = 0;
  PetscFunctionBegin;
  if (n == 0) PetscFunctionReturn(0);
  if (rank == 0) {
    PetscCall(ardm_alloc((size_t)n * 4 * sizeof(long long), &col));
    PetscCall(ardm_alloc((size_t)n * sizeof(double), &loss));
    for (int64_t j = 0; j < n; j++) {
      col[j] = all[j].step, col[n + j] = all[j].slot;
      col[2 * n + j] = all[j].index / ls->D, col[3 * n + j] = all[j].index % ls->D, loss[j] = all[j].bits;
    }
  }
  for (int i = 0; i < 5; i++) PetscCall(ncio_collective(f, vid[i]));
  for (int i = 0; i < 4; i++) NCCall(f, nc_put_vara_longlong(f->ncid, vid[i], &st, &ct, rank ? &l0 : col + i * n));
  NCCall(f, nc_put_vara_double(f->ncid, vid[4], &st, &ct, rank ? &d0 : loss));
  ardm_free(&col);
  ardm_free(&loss);
  PetscFunctionReturn(0);
}

/* Reads the pending observations (when the file has them) into rank 0's log, checked. */
static PetscErrorCode get_pending(ncio_file *f, const ckpt_state *st, lossstats *ls, PetscMPIInt rank)
{
  PetscBool  has;
  size_t     n, s0 = 0, c0;
  int        vid[5];
  long long *col = NULL, l0;
  double    *loss = NULL, d0;
  int64_t    bad = -1;
  PetscFunctionBegin;
  PetscCall(ncio_has_var(f, pend_vars[4], &has));
  if (!has) PetscFunctionReturn(0); /* none, or a checkpoint from before they were saved */
  PetscCall(ncio_dim(f, "pending", &n));
  c0 = rank ? 0 : n;
  if (rank == 0) {
    PetscCall(ardm_alloc(n * 4 * sizeof(long long), &col));
    PetscCall(ardm_alloc(n * sizeof(double), &loss));
    PetscCall(PetscRealloc(PetscMax(n, 1) * sizeof *ls->log, &ls->log));
    ls->caplog = (int64_t)PetscMax(n, 1), ls->nlog = (int64_t)n;
  }
  for (int i = 0; i < 5; i++) {
    const char *const dn[] = {"pending"};
    PetscCall(ncio_var(f, pend_vars[i], 1, dn, 0, NULL, &vid[i], NULL));
    PetscCall(ncio_collective(f, vid[i]));
  }
  for (int i = 0; i < 4; i++)
    NCRead(f, vid[i], nc_get_vara_longlong(f->ncid, vid[i], &s0, &c0, rank ? &l0 : col + i * n));
  NCRead(f, vid[4], nc_get_vara_double(f->ncid, vid[4], &s0, &c0, rank ? &d0 : loss));
  if (rank == 0) {
    for (size_t j = 0; j < n; j++) {
      lossstats_obs *o = &ls->log[j];
      o->step = col[j], o->slot = col[n + j], o->index = col[2 * n + j] * ls->D + col[3 * n + j], o->bits = loss[j];
      if (bad < 0 && (o->step < 0 || o->step >= st->step || o->slot < 0 || col[2 * n + j] < 0 ||
                      col[2 * n + j] >= ls->S || col[3 * n + j] < 0 || col[3 * n + j] >= ls->D || !isfinite(o->bits)))
        bad = (int64_t)j;
    }
  }
  ardm_free(&col);
  ardm_free(&loss);
  ArdmCheckAll(f->comm, bad < 0,
               "%s: pending loss observation %lld is out of range (expected a step below %lld, a slot >= 0, a stage "
               "below %lld, a t below %lld and a finite loss; a corrupt checkpoint)",
               f->path, (long long)bad, (long long)st->step, (long long)ls->S, (long long)ls->D);
  PetscFunctionReturn(0);
}

/* Deletes ckpt-*.nc files older than the newest `keep` (rank 0). */
static void prune(const char *run_dir, int keep)
{
  DIR           *dir = opendir(run_dir);
  struct dirent *e;
  long long      steps[4096];
  int            n = 0;
  if (!dir) return;
  while ((e = readdir(dir)) && n < 4096) {
    long long s;
    char      tail[8];
    if (sscanf(e->d_name, "ckpt-%lld.n%7s", &s, tail) == 2 && !strcmp(tail, "c")) steps[n++] = s;
  }
  closedir(dir);
  for (int i = 0; i < n; i++) {
    int newer = 0;
    for (int j = 0; j < n; j++) newer += steps[j] > steps[i];
    if (newer >= keep) {
      char path[PATH_MAX];
      snprintf(path, sizeof path, "%s/ckpt-%08lld.nc", run_dir, steps[i]);
      (void)unlink(path);
    }
  }
}

PetscErrorCode ckpt_save(const char *run_dir, int keep, const shard *sh, const ckpt_buffers *b, const ckpt_state *st,
                         const model_config *mc, lossstats *ls)
{
  ncio_file      f;
  char           path[PATH_MAX], latest[PATH_MAX], tmp[PATH_MAX + 16];
  int            dim, vid[4], sid[6], pid[5], err = 0;
  int64_t        npend;
  lossstats_obs *pend;
  size_t         start = sh->lo, count = sh->hi - sh->lo;
  const float   *data[4] = {b->params, b->ema, b->adam_m, b->adam_v};

  PetscFunctionBegin;
  PetscCall(lossstats_log_gather(ls, sh->comm, &pend, &npend));
  snprintf(path, sizeof path, "%s/ckpt-%08lld.nc", run_dir, (long long)st->step);
  snprintf(latest, sizeof latest, "%s/checkpoint.nc", run_dir);
  PetscCall(ncio_create(sh->comm, path, "checkpoint", &f));
  PetscCall(ncio_def_dim(&f, "nparam", sh->n, &dim));
  for (int i = 0; i < 4; i++) {
    PetscCall(ncio_def_var(&f, slice_vars[i], NC_FLOAT, 1, &dim, &vid[i]));
    PetscCall(ncio_put_cf(&f, vid[i], slice_names[i], "1"));
  }
  PetscCall(def_stats(&f, ls, sid));
  PetscCall(def_pending(&f, npend, pid));
  PetscCall(put_state(&f, st, sh->n));
  PetscCall(model_config_write(&f, mc));
  PetscCall(ncio_enddef(&f));
  for (int i = 0; i < 4; i++) {
    PetscCall(ncio_collective(&f, vid[i]));
    NCCall(&f, nc_put_vara_float(f.ncid, vid[i], count ? &start : (size_t[]){0}, &count, data[i]));
  }
  PetscCall(put_stats(&f, ls, sid, sh->rank));
  PetscCall(put_pending(&f, ls, pend, npend, pid, sh->rank));
  ardm_free(&pend);
  PetscCall(ncio_commit(&f));
  if (sh->rank == 0) {
    /* atomic switch of checkpoint.nc to the new file: link under a temporary name, rename */
    snprintf(tmp, sizeof tmp, "%s.lnk", latest);
    (void)unlink(tmp);
    if (link(path, tmp) || rename(tmp, latest)) err = errno;
    if (!err) prune(run_dir, keep);
  }
  PetscCallMPI(MPI_Bcast(&err, 1, MPI_INT, 0, sh->comm));
  PetscCheck(!err, sh->comm, ARDM_ERR_INPUT, "%s: cannot point it at %s (%s)", latest, path, strerror(err));
  PetscFunctionReturn(0);
}

static PetscErrorCode get_state(ncio_file *f, ckpt_state *st, size_t *nparam)
{
  int64_t v;
  PetscFunctionBegin;
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "step", &st->step));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "seed", &v));
  st->seed = (uint64_t)v;
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "examples_seen", &st->examples));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "skipped_steps", &st->skipped));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "bad_streak", &st->bad_streak));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "nparam", &v));
  /* a corrupt count is the checkpoint's fault: say so here, not later about the data */
  PetscCheck(st->step >= 0 && st->examples >= 0 && st->skipped >= 0 && st->bad_streak >= 0 && v >= 1, f->comm,
             ARDM_ERR_INPUT,
             "%s: step = %lld, examples_seen = %lld, skipped_steps = %lld, bad_streak = %lld, nparam = %lld: expected "
             "counts >= 0 and nparam >= 1 (a corrupt checkpoint)",
             f->path, (long long)st->step, (long long)st->examples, (long long)st->skipped, (long long)st->bad_streak,
             (long long)v);
  *nparam = (size_t)v;
  PetscFunctionReturn(0);
}

PetscErrorCode ckpt_read_config(MPI_Comm comm, const char *path, model_config *mc, size_t *nparam)
{
  ncio_file  f;
  ckpt_state st;
  PetscFunctionBegin;
  PetscCall(ncio_open(comm, path, "checkpoint", &f));
  PetscCall(get_state(&f, &st, nparam));
  PetscCall(model_config_read(&f, mc));
  PetscCall(ncio_close(&f));
  PetscFunctionReturn(0);
}

static PetscErrorCode read_floats(ncio_file *f, const char *name, size_t nparam, size_t start, size_t count, float *out)
{
  const char *const dn[] = {"nparam"};
  const nc_type     ft[] = {NC_FLOAT};
  int               vid;
  size_t            len;
  PetscFunctionBegin;
  PetscCall(ncio_var(f, name, 1, dn, 1, ft, &vid, NULL));
  PetscCall(ncio_dim(f, "nparam", &len));
  PetscCheck(len == nparam, f->comm, ARDM_ERR_INPUT, "%s: has %zu parameters, the model has %zu", f->path, len, nparam);
  PetscCall(ncio_collective(f, vid));
  NCRead(f, vid, nc_get_vara_float(f->ncid, vid, count ? &start : (size_t[]){0}, &count, out));
  size_t bad = count;
  for (size_t i = 0; i < count && bad == count; i++)
    if (!isfinite(out[i])) bad = i;
  ArdmCheckAll(f->comm, bad == count, "%s: %s[%zu] is not finite (corrupt checkpoint)", f->path, name, start + bad);
  PetscFunctionReturn(0);
}

PetscErrorCode ckpt_read_weights(MPI_Comm comm, const char *path, const char *which, size_t nparam, float *w)
{
  ncio_file f;
  PetscFunctionBegin;
  PetscCall(ncio_open(comm, path, "checkpoint", &f));
  PetscCall(read_floats(&f, which, nparam, 0, nparam, w));
  PetscCall(ncio_close(&f));
  PetscFunctionReturn(0);
}

PetscErrorCode ckpt_load(MPI_Comm comm, const char *path, const shard *sh, float *params, float *ema, float *adam_m,
                         float *adam_v, ckpt_state *st, lossstats *ls)
{
  ncio_file f;
  size_t    nparam, S, D;
  int       vid[4];
  float    *out[4] = {params, ema, adam_m, adam_v};

  PetscFunctionBegin;
  PetscCall(ncio_open(comm, path, "checkpoint", &f));
  PetscCall(get_state(&f, st, &nparam));
  for (int i = 0; i < 4; i++) PetscCall(read_floats(&f, slice_vars[i], sh->n, sh->lo, sh->hi - sh->lo, out[i]));
  PetscCall(ncio_dim(&f, "stage", &S));
  PetscCall(ncio_dim(&f, "t", &D));
  PetscCheck((int64_t)S == ls->S && (int64_t)D == ls->D, comm, ARDM_ERR_INPUT,
             "%s: loss statistics are %zu x %zu, the model needs %lld x %lld", path, S, D, (long long)ls->S,
             (long long)ls->D);
  {
    const char *const names[] = {"stats_count", "stats_sum", "stats_sumsq", "stats_ema"};
    size_t            s0[2] = {0, 0}, c0[2] = {sh->rank ? 0 : S, sh->rank ? 0 : D};
    double            d0;
    long long         l0;
    for (int i = 0; i < 4; i++) {
      PetscCall(ncio_var(&f, names[i], 2, NULL, 0, NULL, &vid[i], NULL));
      PetscCall(ncio_collective(&f, vid[i]));
    }
    NCRead(&f, vid[0], nc_get_vara_longlong(f.ncid, vid[0], s0, c0, sh->rank ? &l0 : (long long *)ls->count));
    NCRead(&f, vid[1], nc_get_vara_double(f.ncid, vid[1], s0, c0, sh->rank ? &d0 : ls->sum));
    NCRead(&f, vid[2], nc_get_vara_double(f.ncid, vid[2], s0, c0, sh->rank ? &d0 : ls->sumsq));
    NCRead(&f, vid[3], nc_get_vara_double(f.ncid, vid[3], s0, c0, sh->rank ? &d0 : ls->ema));
  }
  { /* rank 0 holds the statistics: negative counts or non-finite sums are a corrupt file */
    size_t bad = S * D;
    for (size_t i = 0; !sh->rank && i < S * D && bad == S * D; i++)
      if (ls->count[i] < 0 || !isfinite(ls->sum[i]) || !isfinite(ls->sumsq[i]) ||
          (ls->count[i] > 0 && !isfinite(ls->ema[i]))) /* NaN ema marks a (stage, t) never observed */
        bad = i;
    ArdmCheckAll(
        comm, bad == S * D,
        "%s: loss statistics at stage %zu, t %zu: count %lld, sum %g (expected a count >= 0 and finite sums; a "
        "corrupt checkpoint)",
        path, bad / (D ? D : 1), bad % (D ? D : 1), (long long)(bad < S * D ? ls->count[bad] : 0),
        bad < S * D ? ls->sum[bad] : 0.0);
  }
  PetscCall(get_pending(&f, st, ls, sh->rank));
  PetscCall(ncio_close(&f));
  PetscFunctionReturn(0);
}

PetscErrorCode ckpt_load_model(MPI_Comm comm, const char *path, const char *which, int64_t max_batch, MPI_Comm replica,
                               model_config *mc, model *m, float **w)
{
  size_t nparam;
  PetscFunctionBegin;
  PetscCall(ckpt_read_config(comm, path, mc, &nparam));
  PetscCall(model_create_parallel(mc, max_batch, replica, m));
  PetscCheck(model_nparam(*m) == nparam, comm, ARDM_ERR_INPUT, "%s: holds %zu parameters, its model needs %zu", path,
             nparam, model_nparam(*m));
  PetscCall(ardm_alloc(nparam * sizeof(float), w));
  PetscCall(ckpt_read_weights(comm, path, which, nparam, *w));
  PetscFunctionReturn(0);
}
