/* fuzz.c: the libFuzzer driver (`make fuzz`, tests/fuzz/run.sh). The reader is chosen with
   ARDM_FUZZ_READER=<name> (tests/fuzz/fuzz_target.c lists them); an input that makes the reader
   fail with anything but a bad-input error aborts, so libFuzzer records it as a finding. */
#include "fuzz_target.h"
#include <stdio.h>
#include <stdlib.h>

static int reader = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  reader = fuzz_reader_index(getenv("ARDM_FUZZ_READER"));
  if (reader < 0) {
    fprintf(stderr, "fuzz: set ARDM_FUZZ_READER to one of:");
    for (int i = 0; fuzz_readers[i]; i++) fprintf(stderr, " %s", fuzz_readers[i]);
    fprintf(stderr, "\n");
    exit(1);
  }
  if (fuzz_init(argc, argv)) exit(1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int code = fuzz_one(reader, data, size);
  if (code) {
    fprintf(stderr, "fuzz: reader %s failed with internal error %d (must be a bad-input error)\n", fuzz_readers[reader],
            code);
    abort();
  }
  return 0;
}
