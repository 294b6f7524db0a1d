/* prep_write.h: the output side of `ardm prep`: the output directory, and writing the three
   splits DIR/train.nc, valid.nc, test.nc all or nothing (every file is written under a
   temporary name and only renamed into place when all of them are complete; a split with no
   examples is not written, and a stale copy of it from an earlier run is removed). */
#ifndef ARDM_PREP_WRITE_H
#define ARDM_PREP_WRITE_H
#include "io/dataset.h"
#include "prep/prep_list.h"

/* This rank's share of one split. */
typedef struct {
  int64_t        total; /* examples in the split over all ranks (prep_parts_sum) */
  int64_t        start; /* this rank's first example in it (prep_parts_sum) */
  int64_t        count; /* this rank's examples */
  const int64_t *rows;  /* their row numbers in the rank's data buffer, in example order */
} prep_part;

/* The rank's data buffer: rows of D values, as bytes (K <= 256) or 16-bit words. */
typedef struct {
  int64_t         D;
  int             K;
  PetscBool       has_label;
  dataset_attrs   attrs; /* modality and its attributes; split is set per file */
  const uint8_t  *u8;    /* data[row][D] when K <= 256, else NULL */
  const uint16_t *u16;   /* data[row][D] when K > 256, else NULL */
  const int      *label; /* label[row] (-1: none) when has_label */
} prep_data;

/* Collective: creates DIR (and parents) on rank 0 if missing; input error unless it is a
   writable directory. */
PetscErrorCode prep_out_dir(MPI_Comm comm, const char *dir);
/* Collective: fills total and start of each part from the ranks' counts. */
PetscErrorCode prep_parts_sum(MPI_Comm comm, prep_part part[NSPLITS]);
/* Collective: writes the non-empty splits, all or none. */
PetscErrorCode prep_write_sets(MPI_Comm comm, const char *dir, const prep_data *d, const prep_part part[NSPLITS]);
#endif
