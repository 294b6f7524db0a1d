/* model_attrs.c: the model configuration's record in checkpoints (io/model_attrs.h). */
#include "io/model_attrs.h"
#include <string.h>

PetscErrorCode model_config_write(ncio_file *f, const model_config *c)
{
  PetscFunctionBegin;
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "data_modality", c->modality[0] ? c->modality : "sequence"));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "data_sample_rate", c->sample_rate));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "data_alphabet", c->alphabet[0] ? c->alphabet : "-"));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "data_height", c->img_height));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "data_width", c->img_width));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "data_channels", c->img_channels));
  PetscCall(ncio_put_att_text(f, NC_GLOBAL, "model", net_kind_names[c->net]));
  PetscCall(ncio_put_att_int(f, NC_GLOBAL, "model_D", c->D));
  for (int i = 0; i < model_config_nfields; i++)
    PetscCall(ncio_put_att_int(f, NC_GLOBAL, model_config_fields[i].name,
                               *(const int *)((const char *)c + model_config_fields[i].off)));
  PetscFunctionReturn(0);
}

/* An integer attribute that later versions added: 0 when the file predates it. */
static PetscErrorCode get_int_since(ncio_file *f, const char *name, int since, int64_t *v)
{
  PetscBool has = PETSC_TRUE;
  PetscFunctionBegin;
  *v = 0;
  if (since) PetscCall(ncio_has_att(f, NC_GLOBAL, name, &has));
  if (has) PetscCall(ncio_get_att_int(f, NC_GLOBAL, name, v));
  PetscFunctionReturn(0);
}

PetscErrorCode model_config_read(ncio_file *f, model_config *c)
{
  int64_t v;
  char    kind[32] = "diffwave";
  int     found = -1;
  PetscFunctionBegin;
  memset(c, 0, sizeof *c);
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "model_D", &c->D));
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "model", kind, sizeof kind));
  for (int k = 0; k < 3; k++)
    if (!strcmp(kind, net_kind_names[k])) found = k;
  PetscCheck(found >= 0, f->comm, ARDM_ERR_INPUT, "%s: model = '%s' is not a known network", f->path, kind);
  c->net = (net_kind)found;
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "data_modality", c->modality, sizeof c->modality));
  PetscCall(ncio_get_att_int(f, NC_GLOBAL, "data_sample_rate", &v));
  c->sample_rate = (int)v;
  PetscCall(ncio_get_att_text(f, NC_GLOBAL, "data_alphabet", c->alphabet, sizeof c->alphabet));
  if (!strcmp(c->alphabet, "-")) c->alphabet[0] = 0;
  PetscCall(get_int_since(f, "data_height", 1, &v));
  c->img_height = (int)v;
  PetscCall(get_int_since(f, "data_width", 1, &v));
  c->img_width = (int)v;
  PetscCall(get_int_since(f, "data_channels", 1, &v));
  c->img_channels = (int)v;
  for (int i = 0; i < model_config_nfields; i++) {
    PetscCall(get_int_since(f, model_config_fields[i].name, model_config_fields[i].since, &v));
    PetscCheck(v >= INT32_MIN && v <= INT32_MAX, f->comm, ARDM_ERR_INPUT, "%s: %s = %lld is out of range", f->path,
               model_config_fields[i].name, (long long)v);
    *(int *)((char *)c + model_config_fields[i].off) = (int)v;
  }
  PetscCall(model_config_check(f->comm, f->path, c));
  PetscFunctionReturn(0);
}
