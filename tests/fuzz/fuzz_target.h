/* fuzz_target.h: the reader entry point shared by the libFuzzer driver and the corpus replay. */
#ifndef ARDM_FUZZ_TARGET_H
#define ARDM_FUZZ_TARGET_H
#include <stddef.h>
#include <stdint.h>

/* The readers by name, NULL-terminated: the corpus of reader i is tests/fuzz/corpus/<name>/. */
extern const char *const fuzz_readers[];
/* MPI + PETSc (quiet error handler) and the scratch file; 0 on success. */
int  fuzz_init(int *argc, char ***argv);
void fuzz_finish(void);
/* The index of a reader name, or -1. */
int fuzz_reader_index(const char *name);
/* Feeds data[size] to reader: 0 when it was read or rejected as bad input, otherwise the
   PETSc error code that would have been an "internal error" (exit 4) in a command. */
int fuzz_one(int reader, const uint8_t *data, size_t size);
#endif
