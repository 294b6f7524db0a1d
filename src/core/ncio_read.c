/* ncio_read.c: the reading side of ncio (see ncio.h): dimensions, variables checked by name,
   type and shape, attributes by type, and read errors, each reported naming the file. */
#include "core/ncio.h"
#include <stdio.h>
#include <string.h>

PetscErrorCode ncio_dim(ncio_file *f, const char *name, size_t *len)
{
  int dimid;
  PetscFunctionBegin;
  PetscCheck(nc_inq_dimid(f->ncid, name, &dimid) == NC_NOERR, f->comm, ARDM_ERR_INPUT, "%s: missing dimension '%s'",
             f->path, name);
  NCCall(f, nc_inq_dimlen(f->ncid, dimid, len));
  PetscFunctionReturn(0);
}

static const char *type_name(nc_type t)
{
  switch (t) {
  case NC_BYTE:
    return "byte";
  case NC_UBYTE:
    return "ubyte";
  case NC_CHAR:
    return "char";
  case NC_SHORT:
    return "short";
  case NC_USHORT:
    return "ushort";
  case NC_INT:
    return "int";
  case NC_UINT:
    return "uint";
  case NC_INT64:
    return "int64";
  case NC_UINT64:
    return "uint64";
  case NC_FLOAT:
    return "float";
  case NC_DOUBLE:
    return "double";
  default:
    return "other";
  }
}

PetscErrorCode ncio_var(ncio_file *f, const char *name, int ndims, const char *const *dimnames, int ntypes,
                        const nc_type *types, int *varid, nc_type *type)
{
  int     nd, dimids[NC_MAX_VAR_DIMS], ok = 0;
  nc_type t;
  char    expected[128] = "";

  PetscFunctionBegin;
  PetscCheck(nc_inq_varid(f->ncid, name, varid) == NC_NOERR, f->comm, ARDM_ERR_INPUT, "%s: missing variable '%s'",
             f->path, name);
  NCCall(f, nc_inq_var(f->ncid, *varid, NULL, &t, &nd, dimids, NULL));
  PetscCheck(nd == ndims, f->comm, ARDM_ERR_INPUT, "%s: variable '%s' has %d dimensions, expected %d", f->path, name,
             nd, ndims);
  for (int i = 0; i < nd && dimnames; i++) {
    char dn[NC_MAX_NAME + 1];
    if (!dimnames[i]) continue;
    NCCall(f, nc_inq_dimname(f->ncid, dimids[i], dn));
    PetscCheck(!strcmp(dn, dimnames[i]), f->comm, ARDM_ERR_INPUT,
               "%s: variable '%s' dimension %d is '%s', expected '%s'", f->path, name, i, dn, dimnames[i]);
  }
  for (int i = 0; i < ntypes; i++) {
    if (t == types[i]) ok = 1;
    snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s", i ? " or " : "",
             type_name(types[i]));
  }
  PetscCheck(ok || !ntypes, f->comm, ARDM_ERR_INPUT, "%s: variable '%s' has type %s, expected %s", f->path, name,
             type_name(t), expected);
  if (type) *type = t;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_has_var(ncio_file *f, const char *name, PetscBool *has)
{
  int varid;
  PetscFunctionBegin;
  *has = nc_inq_varid(f->ncid, name, &varid) == NC_NOERR ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_has_att(ncio_file *f, int varid, const char *name, PetscBool *has)
{
  PetscFunctionBegin;
  *has = nc_inq_att(f->ncid, varid, name, NULL, NULL) == NC_NOERR ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode att_info(ncio_file *f, int varid, const char *name, nc_type *t, size_t *len)
{
  PetscFunctionBegin;
  PetscCheck(nc_inq_att(f->ncid, varid, name, t, len) == NC_NOERR, f->comm, ARDM_ERR_INPUT,
             "%s: missing attribute '%s'", f->path, name);
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_get_att_text(ncio_file *f, int varid, const char *name, char *value, size_t len)
{
  nc_type t;
  size_t  n;
  PetscFunctionBegin;
  PetscCall(att_info(f, varid, name, &t, &n));
  PetscCheck(t == NC_CHAR, f->comm, ARDM_ERR_INPUT, "%s: attribute '%s' has type %s, expected text", f->path, name,
             type_name(t));
  PetscCheck(n < len, f->comm, ARDM_ERR_INPUT, "%s: attribute '%s' is too long (%zu chars, at most %zu)", f->path, name,
             n, len - 1);
  NCCall(f, nc_get_att_text(f->ncid, varid, name, value));
  value[n] = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_get_att_int(ncio_file *f, int varid, const char *name, int64_t *value)
{
  nc_type   t;
  size_t    n;
  long long v;
  PetscFunctionBegin;
  PetscCall(att_info(f, varid, name, &t, &n));
  PetscCheck(n == 1 && t != NC_CHAR && t != NC_FLOAT && t != NC_DOUBLE && t != NC_STRING, f->comm, ARDM_ERR_INPUT,
             "%s: attribute '%s' must be one integer (found %zu value(s) of type %s)", f->path, name, n, type_name(t));
  NCCall(f, nc_get_att_longlong(f->ncid, varid, name, &v));
  *value = (int64_t)v;
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_get_att_double(ncio_file *f, int varid, const char *name, double *value)
{
  nc_type t;
  size_t  n;
  PetscFunctionBegin;
  PetscCall(att_info(f, varid, name, &t, &n));
  PetscCheck(n == 1 && t != NC_CHAR && t != NC_STRING, f->comm, ARDM_ERR_INPUT,
             "%s: attribute '%s' must be one number (found %zu value(s) of type %s)", f->path, name, n, type_name(t));
  NCCall(f, nc_get_att_double(f->ncid, varid, name, value));
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_read_check(ncio_file *f, int varid, int status)
{
  char name[NC_MAX_NAME + 1] = "?", msg[NC_MAX_NAME + 160] = "";
  int  checksum = 0;
  PetscFunctionBegin;
  if (status != NC_NOERR) {
    (void)nc_inq_varname(f->ncid, varid, name);
    (void)nc_inq_var_fletcher32(f->ncid, varid, &checksum);
    /* HDF5 reports a chunk whose checksum does not match as a read error of the variable */
    if (status == NC_EHDFERR && checksum == NC_FLETCHER32)
      snprintf(msg, sizeof msg, "checksum mismatch in variable '%s' (the file is corrupted)", name);
    else
      snprintf(msg, sizeof msg, "cannot read variable '%s' (%s)", name, nc_strerror(status));
  }
  ArdmCheckAll(f->comm, status == NC_NOERR, "%s: %s", f->path, msg);
  PetscFunctionReturn(0);
}

PetscErrorCode ncio_collective(ncio_file *f, int varid)
{
  PetscFunctionBegin;
  NCCall(f, nc_var_par_access(f->ncid, varid, NC_COLLECTIVE));
  PetscFunctionReturn(0);
}
