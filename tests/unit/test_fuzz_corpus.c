/* test_fuzz_corpus.c: replays the minimised fuzzing corpus (tests/fuzz/corpus/<reader>/, made
   and grown by `make fuzz`, doc/reliability.md) through the real readers: every file must be
   read or rejected as bad input, never crash or fail internally. Under `make check-asan` the
   sanitizers watch the same replay. */
// ranks: 1
#include "harness.h"
#include "../fuzz/fuzz_target.h"
#include <dirent.h>
#include <stdlib.h>

static char th_fail_file[600];

/* Replays every file of one reader's corpus; returns how many were replayed, -1 on a finding. */
static int replay_dir(int reader, int *code)
{
  char           dir[300], path[600];
  DIR           *d;
  struct dirent *e;
  int            n = 0;
  snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", fuzz_readers[reader]);
  if (!(d = opendir(dir))) return 0;
  while ((e = readdir(d))) {
    FILE    *f;
    long     len;
    uint8_t *buf;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (!(f = fopen(path, "rb"))) continue;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
      *code = fuzz_one(reader, buf, (size_t)len);
      n++;
    }
    free(buf);
    fclose(f);
    if (*code) {
      snprintf(th_fail_file, sizeof th_fail_file, "%s", path);
      break;
    }
  }
  closedir(d);
  return *code ? -1 : n;
}

static int test_corpus(void)
{
  for (int r = 0; fuzz_readers[r]; r++) {
    int code = 0, n = replay_dir(r, &code);
    CHECK(code == 0, "%s: internal error %d (must be rejected as bad input)", th_fail_file, code);
    CHECK(n > 0, "no corpus for reader %s in tests/fuzz/corpus/%s", fuzz_readers[r], fuzz_readers[r]);
    printf("  corpus %-8s %d files\n", fuzz_readers[r], n);
  }
  return 0;
}

int main(int argc, char **argv)
{
  snprintf(th_prog, sizeof th_prog, "test_fuzz_corpus");
  if (fuzz_init(&argc, &argv)) return 1;
  TH_RUN(test_corpus);
  {
    int failed = th_failed;
    fuzz_finish();
    return failed ? 1 : 0;
  }
}
