/* dataset.h: the data set contract (doc/formats.md): x(example, dim) as NC_UBYTE (K <= 256) or
   NC_USHORT, attributes num_classes, modality, split and the per-modality ones, optional
   label(example). Each rank reads only the examples it is given (collective reads). */
#ifndef ARDM_DATASET_H
#define ARDM_DATASET_H
#include "core/ncio.h"

typedef struct {
  char modality[16];            /* "audio" | "text" | "image" | "sequence" */
  char split[16];               /* "train" | "valid" | "test" */
  int  sample_rate;             /* audio */
  char alphabet[128];           /* text: the K symbols in order */
  int  height, width, channels; /* image */
} dataset_attrs;

/* What rank 0 saw of the file when it opened it: a later read finds the file changed (truncated,
   overwritten, replaced) when any of these differ. */
typedef struct {
  int64_t size, ino, dev, mtime_s, mtime_ns;
  int     err; /* errno of the stat (0: it worked) */
} dataset_stamp;

typedef struct {
  ncio_file     f;
  int64_t       n; /* examples */
  int64_t       D; /* dims per example */
  int           K; /* num_classes: values are 0..K-1 */
  dataset_attrs attrs;
  int           xid, labelid; /* labelid = -1 without labels */
  dataset_stamp stamp;
} dataset;

/* Opens and validates PATH against the contract (all ranks; input errors name the file); a set
   without examples is an input error. dataset_open_any accepts one (for inspection: info). */
PetscErrorCode dataset_open(MPI_Comm comm, const char *path, dataset *ds);
PetscErrorCode dataset_open_any(MPI_Comm comm, const char *path, dataset *ds);
/* Input error unless the data set has K classes and D dims (what the model expects);
   K or D < 0 means "any". */
PetscErrorCode dataset_expect(const dataset *ds, int K, int64_t D);
/* Collective: this rank reads examples start..start+count-1 into x[count][D] (and their labels
   into label[count] when label is not NULL; -1 where the set has none). Values >= K in what
   any rank read are an input error on all ranks. count may be 0. Every read then checks (rank
   0, after all ranks read) that the file is still the one opened: the same size, modification
   time and inode; a file truncated, overwritten or replaced while the job runs is an input
   error on all ranks, never zeros read past its end. */
PetscErrorCode dataset_read(dataset *ds, int64_t start, int64_t count, int32_t *x, int32_t *label);
/* Collective: this rank reads the listed examples (any order, repeats allowed) into
   x[count][D]; ranks may pass different counts. */
PetscErrorCode dataset_read_list(dataset *ds, const int64_t *idx, int64_t count, int32_t *x, int32_t *label);
/* Collective: every rank reads all labels into label[n] (-1 everywhere without labels). */
PetscErrorCode dataset_read_labels(dataset *ds, int32_t *label);
PetscErrorCode dataset_close(dataset *ds);

/* Writing (prep, synthetic sets). Create with the total count n; every rank then writes its
   own contiguous ranges with dataset_write (collective: all ranks call it the same number of
   times, count may be 0); commit renames the finished file into place. */
PetscErrorCode dataset_create(MPI_Comm comm, const char *path, int64_t n, int64_t D, int K, PetscBool has_label,
                              const dataset_attrs *attrs, dataset *ds);
PetscErrorCode dataset_write(dataset *ds, int64_t start, int64_t count, const int32_t *x, const int32_t *label);
PetscErrorCode dataset_commit(dataset *ds);
PetscErrorCode dataset_discard(dataset *ds);
#endif
