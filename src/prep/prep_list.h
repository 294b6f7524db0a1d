/* prep_list.h: which audio files `ardm prep -format wav` reads and which split each goes to.
   Rank 0 lists the input (a directory tree, walked recursively and sorted by relative path,
   or a list file with one path per line, kept in its order), assigns splits and labels, and
   broadcasts the result, so every rank sees the same list whatever the file system does.
   Splits: files named in the validation / testing lists (relative paths, Speech Commands
   style) go to valid / test and the rest to train; without lists a speaker-disjoint split by
   hashing the speaker name (prep_wav.h: wav_speaker) with the seed. */
#ifndef ARDM_PREP_LIST_H
#define ARDM_PREP_LIST_H
#include "core/ardm.h"

enum { SPLIT_TRAIN = 0, SPLIT_VALID = 1, SPLIT_TEST = 2, NSPLITS = 3 };
extern const char *const split_names[NSPLITS];

typedef struct {
  const char *in;                    /* directory or list file */
  const char *valid_list;            /* "" = default (validation_list.txt inside a directory -in) */
  const char *test_list;             /* "" = default (testing_list.txt inside a directory -in) */
  double      valid_frac, test_frac; /* for the hashed split when there are no lists */
  uint64_t    seed;
  PetscBool   digits_only; /* only files in digit-word folders (SC09 out of Speech Commands) */
} file_list_opts;

typedef struct {
  int64_t n;
  char   *pool; /* "path\0rel\0" for each file */
  size_t  poolsize;
  char  **path;       /* path[i]: the file to open */
  char  **rel;        /* rel[i]: its name relative to the -in directory (or as listed) */
  int    *split;      /* SPLIT_* */
  int    *label;      /* spoken digit from the parent folder name, or -1 */
  int     from_lists; /* splits came from list files */
  int64_t list_entries[NSPLITS], list_matched[NSPLITS]; /* valid/test list sizes and matches */
} file_list;

/* Collective: builds the list on rank 0 and broadcasts it. Input errors (missing input,
   unreadable list, no audio files) are raised on all ranks. */
PetscErrorCode file_list_build(MPI_Comm comm, const file_list_opts *o, file_list *fl);
void           file_list_free(file_list *fl);

/* Deterministic hashed split of a speaker name: test with probability test_frac, valid with
   valid_frac, else train (the same speaker always lands in the same split). */
int file_list_hash_split(const char *speaker, uint64_t seed, double valid_frac, double test_frac);
#endif
