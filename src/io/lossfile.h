/* lossfile.h: writing the master rank's loss statistics (ardm/lossstats.h) as a
   loss-components file or as part of another file (doc/formats.md). */
#ifndef ARDM_LOSSFILE_H
#define ARDM_LOSSFILE_H
#include "ardm/lossstats.h"
#include "core/ncio.h"

/* Rank 0's estimates into an open file in define mode (dims stage, t; vars loss, count,
   loss_sq, loss_ema); then writes them. Collective (other ranks write nothing). */
PetscErrorCode lossstats_write(lossstats *ls, ncio_file *f);
/* Complete loss-components file at path (temporary name, then rename). */
PetscErrorCode lossstats_save(lossstats *ls, MPI_Comm comm, const char *path);
#endif
