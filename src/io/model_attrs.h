/* model_attrs.h: the model configuration as global attributes of a checkpoint (model_* for
   the network and head, data_* for what the training data was; doc/formats.md). */
#ifndef ARDM_MODEL_ATTRS_H
#define ARDM_MODEL_ATTRS_H
#include "ardm/model.h"
#include "core/ncio.h"

/* As attributes of an open file in define mode. */
PetscErrorCode model_config_write(ncio_file *f, const model_config *c);
/* Reads them back; a missing or invalid attribute is an input error naming the file. */
PetscErrorCode model_config_read(ncio_file *f, model_config *c);
#endif
