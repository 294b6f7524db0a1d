/* plan_file.c: loss components in, plans out (see plan_file.h): collective reads with rank 0
   holding the data, planning on rank 0 with a broadcast of the result, plan.nc writing,
   reading and validation, and the `ardm info` description of a plan file. */
#include "io/plan_file.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- loss components */

static PetscErrorCode check_kind(ncio_file *f, int nkinds, const char *const *kinds, char *kind, size_t len)
{
  PetscBool has;
  int       ok = 0;
  PetscFunctionBegin;
  PetscCall(ncio_has_att(f, NC_GLOBAL, "ardm_kind", &has));
  PetscCheck(has, f->comm, ARDM_ERR_INPUT, "%s: not an ardm file (no global attribute ardm_kind); expected %s%s%s",
             f->path, kinds[0], nkinds > 1 ? " or " : "", nkinds > 1 ? kinds[1] : "");
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "ardm_kind", kind, len));
  for (int i = 0; i < nkinds; i++) ok |= !strcmp(kind, kinds[i]);
  PetscCheck(ok, f->comm, ARDM_ERR_INPUT, "%s: is an ardm '%s' file, expected '%s'%s%s%s", f->path, kind, kinds[0],
             nkinds > 1 ? " or '" : "", nkinds > 1 ? kinds[1] : "", nkinds > 1 ? "'" : "");
  PetscFunctionReturn(0);
}

PetscErrorCode plan_losses_read(MPI_Comm comm, const char *path, const char *var, double penalty, plan_losses *ls)
{
  static const char *const kinds[2] = {"loss_components", "eval"}, *const dn[2] = {"stage", "t"};
  static const nc_type ltypes[2] = {NC_DOUBLE, NC_FLOAT}, ctypes[4] = {NC_INT64, NC_INT, NC_UINT, NC_UINT64};
  ncio_file            f;
  char                 kind[64], msg[256] = "";
  size_t               S, D;
  int                  vl, vc, ok = 1;
  PetscMPIInt          rank;
  long long           *row = NULL;

  PetscFunctionBegin;
  memset(ls, 0, sizeof *ls);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(ncio_open(comm, path, NULL, &f));
  PetscCall(check_kind(&f, 2, kinds, kind, sizeof kind));
  PetscCall(ncio_dim(&f, "stage", &S));
  PetscCall(ncio_dim(&f, "t", &D));
  PetscCheck(S >= 1 && S <= 4096 && D >= 1 && D < INT32_MAX, comm, ARDM_ERR_INPUT,
             "%s: dimensions stage = %zu and t = %zu: expected 1..4096 stages and 1..2147483646 steps", path, S, D);
  PetscCall(ncio_var(&f, var, 2, dn, 2, ltypes, &vl, NULL));
  PetscCall(ncio_var(&f, "count", 2, dn, 4, ctypes, &vc, NULL));
  { /* the plan's costs are in the losses' unit (bits/char for text) */
    char   units[32] = "";
    size_t n;
    if (nc_inq_attlen(f.ncid, vl, "units", &n) == NC_NOERR && n < sizeof units &&
        nc_get_att_text(f.ncid, vl, "units", units) == NC_NOERR && !strcmp(units, "bits/char"))
      ncio_set_modality("text");
  }
  ls->S = (int)S, ls->D = (int64_t)D;
  if (rank == 0) {
    PetscCall(ardm_alloc(sizeof(double) * S * D, &ls->loss));
    PetscCall(ardm_alloc(sizeof(int64_t) * S * D, &ls->count));
    PetscCall(ardm_alloc(sizeof(long long) * D, &row));
  }
  PetscCall(ncio_collective(&f, vl));
  PetscCall(ncio_collective(&f, vc));
  /* collective row by row: rank 0 reads, the others take part with empty counts */
  for (size_t s = 0; s < S; s++) {
    size_t st[2] = {rank ? 0 : s, 0}, ct[2] = {rank ? 0 : 1, rank ? 0 : D};
    NCRead(&f, vl, nc_get_vara_double(f.ncid, vl, st, ct, rank ? NULL : ls->loss + s * D));
    NCRead(&f, vc, nc_get_vara_longlong(f.ncid, vc, st, ct, row));
    for (size_t t = 0; rank == 0 && t < D; t++) ls->count[s * D + t] = (int64_t)row[t];
  }
  ardm_free(&row);
  PetscCall(ncio_close(&f));
  if (rank == 0) ok = planner_check_loss(ls->S, ls->D, ls->loss, ls->count, penalty, msg, sizeof msg);
  ArdmCheckAll(comm, ok, "%s%s%s: %s", path, strcmp(var, "loss") ? ", variable " : "", strcmp(var, "loss") ? var : "",
               msg);
  PetscFunctionReturn(0);
}

void plan_losses_free(plan_losses *ls)
{
  ardm_free(&ls->loss);
  ardm_free(&ls->count);
}

/* ---------------------------------------------------------------- planning on rank 0 */

PetscErrorCode planner_plan_bcast(MPI_Comm comm, const planner_options *o, const plan_losses *ls, int nbudgets,
                                  const int *budgets, int ncurve, planner_result *r)
{
  PetscMPIInt rank, n;
  int         head[4];
  size_t      nst;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    PetscCall(planner_run(o, ls->S, ls->D, ls->loss, ls->count, nbudgets, budgets, ncurve, r));
    head[0] = r->S, head[1] = r->nbudgets, head[2] = r->nstep, head[3] = r->ncurve;
  }
  PetscCallMPI(MPI_Bcast(head, 4, MPI_INT, 0, comm));
  if (rank) {
    PetscCall(planner_result_alloc(head[0], ls->D, head[1], head[2], head[3], r));
    memcpy(r->budgets, budgets, sizeof(int) * (size_t)nbudgets);
  }
  nst = (size_t)head[1] * (size_t)head[0] * (size_t)head[2];
  PetscCall(PetscMPIIntCast((PetscInt64)nst, &n));
  PetscCallMPI(MPI_Bcast(r->starts, n, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(r->nsteps, head[1] * head[0], MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(r->expected_bpd, head[1], MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(r->naive_bpd, head[1], MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(r->curve_bpd, head[3], MPI_DOUBLE, 0, comm));
  PetscCallMPI(MPI_Bcast(&r->full_bpd, 1, MPI_DOUBLE, 0, comm));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- plan.nc */

/* Collective write of a whole variable by rank 0 (the others pass empty counts). */
static PetscErrorCode put_all(ncio_file *f, int varid, int nd, const size_t *len, nc_type type, const void *data)
{
  PetscMPIInt rank;
  size_t      st[3] = {0, 0, 0}, ct[3] = {0, 0, 0};
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(f->comm, &rank));
  for (int i = 0; i < nd && rank == 0; i++) ct[i] = len[i];
  PetscCall(ncio_collective(f, varid));
  if (type == NC_INT)
    NCCall(f, nc_put_vara_int(f->ncid, varid, st, ct, rank ? NULL : (const int *)data));
  else
    NCCall(f, nc_put_vara_double(f->ncid, varid, st, ct, rank ? NULL : (const double *)data));
  PetscFunctionReturn(0);
}

PetscErrorCode plan_file_write(MPI_Comm comm, const char *path, const planner_options *o, const char *loss_path,
                               const char *var, const planner_result *r)
{
  ncio_file f;
  int       db, ds, dst, dn, vb, vs, vn, ve, vv, vc, cb, cs, cst, cn, dims[3];
  size_t    len[3];

  PetscFunctionBegin;
  PetscCall(ncio_create(comm, path, "plan", &f));
  PetscCall(ncio_def_dim(&f, "budget", (size_t)r->nbudgets, &db));
  PetscCall(ncio_def_dim(&f, "stage", (size_t)r->S, &ds));
  PetscCall(ncio_def_dim(&f, "step", (size_t)r->nstep, &dst));
  PetscCall(ncio_def_dim(&f, "n", (size_t)r->ncurve, &dn));
  PetscCall(ncio_def_coord(
      &f, "budget", db,
      o->allocate == PLANNER_EQUAL ? "budget: network calls per stage" : "budget: network calls over all stages", &cb));
  PetscCall(ncio_def_coord(&f, "stage", ds, "upscale stage", &cs));
  PetscCall(ncio_def_coord(&f, "step", dst, "plan step", &cst));
  PetscCall(ncio_def_coord(&f, "n", dn, "network calls", &cn));
  PetscCall(ncio_def_var(&f, "budgets", NC_INT, 1, &db, &vb));
  dims[0] = db, dims[1] = ds, dims[2] = dst;
  PetscCall(ncio_def_var(&f, "starts", NC_INT, 3, dims, &vs));
  PetscCall(ncio_def_var(&f, "nsteps", NC_INT, 2, dims, &vn));
  PetscCall(ncio_def_var(&f, "expected_bpd", NC_DOUBLE, 1, &db, &ve));
  PetscCall(ncio_def_var(&f, "naive_bpd", NC_DOUBLE, 1, &db, &vv));
  PetscCall(ncio_def_var(&f, "curve_bpd", NC_DOUBLE, 1, &dn, &vc));
  PetscCall(ncio_put_cf(
      &f, vb, o->allocate == PLANNER_EQUAL ? "network calls per stage" : "network calls over all stages", "1"));
  PetscCall(ncio_put_cf(&f, vs, "first generated step (dims known) of each plan step; -1 after the plan's end", "1"));
  PetscCall(ncio_put_cf(&f, vn, "steps of each stage's plan", "1"));
  PetscCall(ncio_put_cf(&f, ve, "planner's expected cost of the plan (summed over stages)", ncio_bpd_units()));
  PetscCall(ncio_put_cf(&f, vv, "cost of evenly spaced plans with the same budget", ncio_bpd_units()));
  PetscCall(ncio_put_cf(&f, vc, "optimal cost for n network calls (NaN: no plan)", ncio_bpd_units()));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "D", r->D));
  PetscCall(ncio_put_att_int(&f, NC_GLOBAL, "stages", r->S));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "monotone", planner_monotone_names[o->monotone]));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "allocate", planner_allocate_names[o->allocate]));
  PetscCall(ncio_put_att_double(&f, NC_GLOBAL, "full_bpd", r->full_bpd));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "loss_file", loss_path));
  PetscCall(ncio_put_att_text(&f, NC_GLOBAL, "loss_variable", var));
  if (isfinite(o->penalty)) PetscCall(ncio_put_att_double(&f, NC_GLOBAL, "penalty", o->penalty));
  PetscCall(ncio_enddef(&f));
  len[0] = (size_t)r->nbudgets, len[1] = (size_t)r->S, len[2] = (size_t)r->nstep;
  PetscCall(ncio_put_coord(&f, cb, len[0], 0, r->budgets));
  PetscCall(ncio_put_coord(&f, cs, len[1], 0, NULL));
  PetscCall(ncio_put_coord(&f, cst, len[2], 0, NULL));
  PetscCall(ncio_put_coord(&f, cn, (size_t)r->ncurve, 1, NULL));
  PetscCall(put_all(&f, vb, 1, len, NC_INT, r->budgets));
  PetscCall(put_all(&f, vs, 3, len, NC_INT, r->starts));
  PetscCall(put_all(&f, vn, 2, len, NC_INT, r->nsteps));
  PetscCall(put_all(&f, ve, 1, len, NC_DOUBLE, r->expected_bpd));
  PetscCall(put_all(&f, vv, 1, len, NC_DOUBLE, r->naive_bpd));
  len[0] = (size_t)r->ncurve;
  PetscCall(put_all(&f, vc, 1, len, NC_DOUBLE, r->curve_bpd));
  PetscCall(ncio_commit(&f));
  PetscFunctionReturn(0);
}

/* Collective read of a whole variable by every rank. */
static PetscErrorCode get_all(ncio_file *f, int varid, nc_type type, void *data)
{
  PetscFunctionBegin;
  PetscCall(ncio_collective(f, varid));
  if (type == NC_INT)
    NCRead(f, varid, nc_get_var_int(f->ncid, varid, (int *)data));
  else
    NCRead(f, varid, nc_get_var_double(f->ncid, varid, (double *)data));
  PetscFunctionReturn(0);
}

/* Every plan: its steps up to the first -1, only -1 after, valid for D, at most its budget;
   the file's nsteps (when present) must agree with the starts. */
static PetscErrorCode check_plans(ncio_file *f, planner_result *r)
{
  PetscBool has;
  int      *nsteps = NULL, vn;
  PetscFunctionBegin;
  PetscCall(ncio_has_var(f, "nsteps", &has));
  if (has) {
    static const char *const dn[2] = {"budget", "stage"};
    static const nc_type     ti[1] = {NC_INT};
    PetscCall(ncio_var(f, "nsteps", 2, dn, 1, ti, &vn, NULL));
    PetscCall(PetscMalloc1((size_t)r->nbudgets * (size_t)r->S, &nsteps));
    PetscCall(get_all(f, vn, NC_INT, nsteps));
  }
  for (int b = 0; b < r->nbudgets; b++) {
    PetscCheck(r->budgets[b] >= 1 && plan_find_budget(r, r->budgets[b]) == b, f->comm, ARDM_ERR_INPUT,
               "%s: budgets(%d) = %d: expected distinct budgets >= 1", f->path, b, r->budgets[b]);
    for (int s = 0; s < r->S; s++) {
      const int *p = r->starts + ((size_t)b * (size_t)r->S + (size_t)s) * (size_t)r->nstep;
      int        n = 0, tail = 1;
      while (n < r->nstep && p[n] != -1) n++;
      for (int i = n; i < r->nstep; i++) tail &= p[i] == -1;
      PetscCheck(tail && n <= r->budgets[b] && planner_plan_valid(r->D, n, p), f->comm, ARDM_ERR_INPUT,
                 "%s: the plan for budget %d, stage %d is not valid: expected at most %d start indices 0 = p_0 < p_1 "
                 "< ... < D = %lld, then only -1",
                 f->path, r->budgets[b], s, r->budgets[b], (long long)r->D);
      r->nsteps[(size_t)b * (size_t)r->S + (size_t)s] = n;
      PetscCheck(!nsteps || nsteps[(size_t)b * (size_t)r->S + (size_t)s] == n, f->comm, ARDM_ERR_INPUT,
                 "%s: nsteps(%d, %d) = %d, but the plan for budget %d, stage %d has %d steps in starts", f->path, b, s,
                 nsteps[(size_t)b * (size_t)r->S + (size_t)s], r->budgets[b], s, n);
    }
  }
  PetscCall(PetscFree(nsteps));
  PetscFunctionReturn(0);
}

static PetscErrorCode plan_read_open(ncio_file *f, planner_result *r)
{
  static const char *const db[1] = {"budget"}, *const dst[3] = {"budget", "stage", "step"}, *const dn[1] = {"n"};
  static const nc_type ti[1] = {NC_INT}, td[1] = {NC_DOUBLE};
  size_t               nb, S, nstep, ncurve;
  int64_t              D;
  int                  vb, vs, ve, vc, vv;
  PetscBool            has;

  PetscFunctionBegin;
  PetscCall(ncio_dim(f, "budget", &nb));
  PetscCall(ncio_dim(f, "stage", &S));
  PetscCall(ncio_dim(f, "step", &nstep));
  PetscCall(ncio_dim(f, "n", &ncurve));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "D", &D));
  PetscCheck(nb >= 1 && S >= 1 && nstep >= 1 && D >= 1 && D < INT32_MAX && nb * S * nstep < INT32_MAX, f->comm,
             ARDM_ERR_INPUT, "%s: sizes budget = %zu, stage = %zu, step = %zu, D = %lld are not a plan file's", f->path,
             nb, S, nstep, (long long)D);
  PetscCall(ncio_has_att(f, NC_GLOBAL, "stages", &has));
  if (has) {
    int64_t stages;
    PetscCall(ncio_get_att_int(f, NC_GLOBAL, "stages", &stages));
    PetscCheck(stages == (int64_t)S, f->comm, ARDM_ERR_INPUT,
               "%s: attribute stages = %lld, but starts has %zu stages (dimension stage)", f->path, (long long)stages,
               S);
  }
  PetscCall(ncio_var(f, "budgets", 1, db, 1, ti, &vb, NULL));
  PetscCall(ncio_var(f, "starts", 3, dst, 1, ti, &vs, NULL));
  PetscCall(ncio_var(f, "expected_bpd", 1, db, 1, td, &ve, NULL));
  PetscCall(ncio_var(f, "curve_bpd", 1, dn, 1, td, &vc, NULL));
  PetscCall(planner_result_alloc((int)S, D, (int)nb, (int)nstep, (int)ncurve, r));
  PetscCall(get_all(f, vb, NC_INT, r->budgets));
  PetscCall(get_all(f, vs, NC_INT, r->starts));
  PetscCall(get_all(f, ve, NC_DOUBLE, r->expected_bpd));
  PetscCall(get_all(f, vc, NC_DOUBLE, r->curve_bpd));
  PetscCall(ncio_has_var(f, "naive_bpd", &has));
  if (has) {
    PetscCall(ncio_var(f, "naive_bpd", 1, db, 1, td, &vv, NULL));
    PetscCall(get_all(f, vv, NC_DOUBLE, r->naive_bpd));
  } else
    for (size_t b = 0; b < nb; b++) r->naive_bpd[b] = NAN;
  PetscCall(ncio_has_att(f, NC_GLOBAL, "full_bpd", &has));
  r->full_bpd = NAN;
  if (has) PetscCall(ncio_get_att_double(f, NC_GLOBAL, "full_bpd", &r->full_bpd));
  PetscCall(check_plans(f, r));
  PetscFunctionReturn(0);
}

PetscErrorCode plan_file_read(MPI_Comm comm, const char *path, planner_result *r)
{
  ncio_file f;
  PetscFunctionBegin;
  PetscCall(ncio_open(comm, path, "plan", &f));
  PetscCall(plan_read_open(&f, r));
  PetscCall(ncio_close(&f));
  PetscFunctionReturn(0);
}

int plan_find_budget(const planner_result *r, int budget)
{
  for (int b = 0; b < r->nbudgets; b++)
    if (r->budgets[b] == budget) return b;
  return -1;
}

const int *plan_starts(const planner_result *r, int b, int s)
{
  return r->starts + ((size_t)b * (size_t)r->S + (size_t)s) * (size_t)r->nstep;
}

/* ---------------------------------------------------------------- ardm info */

/* One line of step sizes: all of them when few, else the first 8 and the last 4. */
static PetscErrorCode print_sizes(MPI_Comm comm, int64_t D, int n, const int *p)
{
  char   line[256] = "";
  size_t used = 0;
  int    mn = INT32_MAX, mx = 0;
  PetscFunctionBegin;
  for (int i = 0; i < n; i++) {
    int size = (int)((i + 1 < n ? p[i + 1] : D) - p[i]);
    mn = size < mn ? size : mn, mx = size > mx ? size : mx;
    if (n > 12 && i == 8) used += (size_t)snprintf(line + used, sizeof line - used, " ...");
    if (used >= sizeof line) used = sizeof line - 1;
    if (n <= 12 || i < 8 || i >= n - 4) used += (size_t)snprintf(line + used, sizeof line - used, " %d", size);
    if (used >= sizeof line) used = sizeof line - 1;
  }
  PetscCall(PetscPrintf(comm, "%3d steps, sizes%s (min %d, max %d)\n", n, line, mn, mx));
  PetscFunctionReturn(0);
}

PetscErrorCode planner_describe_file(ncio_file *f)
{
  planner_result r;
  char           mono[32] = "?", alloc[32] = "?";
  PetscBool      has;

  PetscFunctionBegin;
  PetscCall(plan_read_open(f, &r));
  PetscCall(ncio_has_att(f, NC_GLOBAL, "monotone", &has));
  if (has) PetscCall(ncio_get_att_text(f, NC_GLOBAL, "monotone", mono, sizeof mono));
  PetscCall(ncio_has_att(f, NC_GLOBAL, "allocate", &has));
  if (has) PetscCall(ncio_get_att_text(f, NC_GLOBAL, "allocate", alloc, sizeof alloc));
  PetscCall(PetscPrintf(f->comm,
                        "  plans: D = %lld, %d stage%s, monotone %s, allocate %s; all D steps: %.5f bits/dim\n",
                        (long long)r.D, r.S, r.S > 1 ? "s" : "", mono, alloc, r.full_bpd));
  for (int b = 0; b < r.nbudgets; b++) {
    double opt = r.expected_bpd[b], naive = r.naive_bpd[b];
    PetscCall(PetscPrintf(f->comm, "  budget %d: %.5f bits/dim; naive evenly spaced %.5f (%+.2f%%)\n", r.budgets[b],
                          opt, naive, 100.0 * (naive - opt) / opt));
    for (int s = 0; s < r.S; s++) {
      PetscCall(PetscPrintf(f->comm, "    stage %d: ", s));
      PetscCall(print_sizes(f->comm, r.D, r.nsteps[(size_t)b * (size_t)r.S + (size_t)s], plan_starts(&r, b, s)));
    }
  }
  if (r.ncurve > 0) {
    int n = r.ncurve, mid = (n + 1) / 2;
    PetscCall(PetscPrintf(f->comm, "  curve_bpd: n = 1: %.5f, n = %d: %.5f, n = %d: %.5f\n", r.curve_bpd[0], mid,
                          r.curve_bpd[mid - 1], n, r.curve_bpd[n - 1]));
  }
  planner_result_free(&r);
  PetscFunctionReturn(0);
}
