/* prep_list.c: listing the audio files of `ardm prep`, their splits and labels (prep_list.h). */
#include "prep/prep_list.h"
#include "prep/prep_wav.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *const split_names[NSPLITS] = {"train", "valid", "test"};

/* File name endings taken from a directory tree (case-insensitive): what libsndfile reads. */
static const char *const audio_exts[] = {"wav",  "wave", "flac", "ogg", "oga", "aif",  "aiff",
                                         "aifc", "au",   "snd",  "caf", "w64", "rf64", NULL};
#define MAX_DEPTH 32 /* directory nesting limit (also stops symbolic-link loops) */

typedef struct {
  char  **s;
  int64_t n, cap;
} strvec;

static int strvec_push(strvec *v, const char *s)
{
  if (v->n == v->cap) {
    int64_t cap = v->cap ? 2 * v->cap : 1024;
    if (PetscRealloc((size_t)cap * sizeof *v->s, &v->s)) return 1;
    v->cap = cap;
  }
  if (PetscStrallocpy(s, &v->s[v->n])) return 1;
  v->n++;
  return 0;
}

static void strvec_free(strvec *v)
{
  for (int64_t i = 0; i < v->n; i++) (void)PetscFree(v->s[i]);
  (void)PetscFree(v->s);
  memset(v, 0, sizeof *v);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int in_sorted(const strvec *v, const char *s)
{
  return v->n && bsearch(&s, v->s, (size_t)v->n, sizeof(char *), cmp_str);
}

static int is_audio_name(const char *name)
{
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name) return 0;
  for (int i = 0; audio_exts[i]; i++)
    if (!strcasecmp(dot + 1, audio_exts[i])) return 1;
  return 0;
}

/* Appends the relative paths of the audio files under root/rel to out (unsorted). Hidden
   entries (names starting with '.') are skipped. Returns 0, or 1 with msg filled. */
static int walk(const char *root, const char *rel, int depth, strvec *out, char *msg, size_t len)
{
  char           dir[PATH_MAX], child_rel[PATH_MAX], child[PATH_MAX];
  DIR           *d;
  struct dirent *e;
  int            rc = 0;

  if (snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel) >= (int)sizeof dir) {
    snprintf(msg, len, "-in %s: path too long under it", root);
    return 1;
  }
  if (!(d = opendir(dir))) {
    snprintf(msg, len, "-in %s: cannot read directory %s: %s", root, dir, strerror(errno));
    return 1;
  }
  while (!rc && (e = readdir(d))) {
    struct stat st;
    if (e->d_name[0] == '.') continue;
    if (snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >= (int)sizeof child_rel ||
        snprintf(child, sizeof child, "%s/%s", root, child_rel) >= (int)sizeof child) {
      snprintf(msg, len, "-in %s: path too long under it", root);
      rc = 1;
    } else if (stat(child, &st)) {
      continue; /* a dangling symbolic link */
    } else if (S_ISDIR(st.st_mode)) {
      if (depth < MAX_DEPTH) rc = walk(root, child_rel, depth + 1, out, msg, len);
    } else if (S_ISREG(st.st_mode) && is_audio_name(e->d_name) && strvec_push(out, child_rel)) {
      snprintf(msg, len, "out of memory listing %s", root);
      rc = 1;
    }
  }
  closedir(d);
  return rc;
}

/* Reads a list file: one path per line; blank lines and lines starting with '#' are skipped,
   surrounding white space and a leading "./" are removed. */
static int read_lines(const char *what, const char *path, strvec *out, char *msg, size_t len)
{
  FILE   *f = fopen(path, "r");
  char   *line = NULL;
  size_t  cap = 0;
  ssize_t got;
  int     rc = 0;
  if (!f) {
    snprintf(msg, len, "%s %s: cannot read: %s", what, path, strerror(errno));
    return 1;
  }
  while (!rc && (got = getline(&line, &cap, f)) >= 0) {
    char *s = line, *end = line + got;
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
    while (*s == ' ' || *s == '\t') s++;
    while (s[0] == '.' && s[1] == '/') s += 2;
    if (!*s || *s == '#') continue;
    if (strvec_push(out, s)) {
      snprintf(msg, len, "out of memory reading %s", path);
      rc = 1;
    }
  }
  free(line);
  fclose(f);
  return rc;
}

static uint64_t mix64(uint64_t z) /* splitmix64's finaliser */
{
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int file_list_hash_split(const char *speaker, uint64_t seed, double valid_frac, double test_frac)
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)speaker; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
  double u = (double)(mix64(h ^ mix64(seed + 0x9e3779b97f4a7c15ULL)) >> 11) * 0x1.0p-53;
  return u < test_frac ? SPLIT_TEST : u < test_frac + valid_frac ? SPLIT_VALID : SPLIT_TRAIN;
}

/* Loads a split list: the explicit file, or dflt when it exists (dflt may be NULL). */
static int load_split_list(const char *what, const char *given, const char *dflt, strvec *v, int *loaded, char *msg,
                           size_t len)
{
  struct stat st;
  const char *p = given[0] ? given : dflt;
  *loaded = 0;
  if (!p || (!given[0] && stat(p, &st))) return 0;
  if (read_lines(what, p, v, msg, len)) return 1;
  if (v->n) qsort(v->s, (size_t)v->n, sizeof(char *), cmp_str);
  *loaded = 1;
  return 0;
}

static int append(file_list *fl, size_t *cap, const char *s)
{
  size_t n = strlen(s) + 1;
  if (fl->poolsize + n > *cap) {
    size_t c = 2 * (*cap + n);
    if (PetscRealloc(c, &fl->pool)) return 1;
    *cap = c;
  }
  memcpy(fl->pool + fl->poolsize, s, n);
  fl->poolsize += n;
  return 0;
}

/* Everything rank 0 does: list, filter, split, label, pack. Returns 0 or 1 with msg. */
static int build_rank0(const file_list_opts *o, file_list *fl, char *msg, size_t len)
{
  struct stat st;
  strvec      files = {0}, lists[NSPLITS] = {{0}};
  char        base[PATH_MAX], path[2 * PATH_MAX], dv[PATH_MAX + 32], dt[PATH_MAX + 32], spk[256];
  int         listmode, loaded_v = 0, loaded_t = 0, rc = 1;
  size_t      cap = 0;
  int64_t     cap_n = 0;

  if (!o->in[0]) {
    snprintf(msg, len, "missing -in: give a directory of audio files or a list file (one path per line)");
    return 1;
  }
  if (stat(o->in, &st)) {
    snprintf(msg, len, "-in %s: %s", o->in, strerror(errno));
    return 1;
  }
  listmode = !S_ISDIR(st.st_mode);
  snprintf(base, sizeof base, "%s", o->in);
  if (listmode) {
    char *slash = strrchr(base, '/');
    if (slash)
      *slash = 0;
    else
      snprintf(base, sizeof base, ".");
    if (read_lines("-in list", o->in, &files, msg, len)) goto done;
  } else {
    if (walk(o->in, "", 0, &files, msg, len)) goto done;
    if (files.n) qsort(files.s, (size_t)files.n, sizeof(char *), cmp_str);
  }
  snprintf(dv, sizeof dv, "%s/validation_list.txt", base);
  snprintf(dt, sizeof dt, "%s/testing_list.txt", base);
  if (load_split_list("-valid_list", o->valid_list, listmode ? NULL : dv, &lists[SPLIT_VALID], &loaded_v, msg, len) ||
      load_split_list("-test_list", o->test_list, listmode ? NULL : dt, &lists[SPLIT_TEST], &loaded_t, msg, len))
    goto done;
  fl->from_lists = loaded_v || loaded_t;
  for (int s = 0; s < NSPLITS; s++) fl->list_entries[s] = lists[s].n;

  for (int64_t i = 0; i < files.n; i++) {
    const char *rel = files.s[i];
    int         label, split;
    if (rel[0] == '/')
      snprintf(path, sizeof path, "%s", rel);
    else
      snprintf(path, sizeof path, "%s/%s", base, rel);
    label = wav_label_from_path(path);
    if (o->digits_only && label < 0) continue;
    if (fl->from_lists) {
      split = in_sorted(&lists[SPLIT_TEST], rel)    ? SPLIT_TEST
              : in_sorted(&lists[SPLIT_VALID], rel) ? SPLIT_VALID
                                                    : SPLIT_TRAIN;
      fl->list_matched[split]++;
    } else {
      wav_speaker(rel, spk, sizeof spk);
      split = file_list_hash_split(spk, o->seed, o->valid_frac, o->test_frac);
    }
    if (fl->n == cap_n) {
      cap_n = cap_n ? 2 * cap_n : 1024;
      if (PetscRealloc((size_t)cap_n * sizeof(int), &fl->split) ||
          PetscRealloc((size_t)cap_n * sizeof(int), &fl->label)) {
        snprintf(msg, len, "out of memory listing %s", o->in);
        goto done;
      }
    }
    if (append(fl, &cap, path) || append(fl, &cap, rel)) {
      snprintf(msg, len, "out of memory listing %s", o->in);
      goto done;
    }
    fl->split[fl->n] = split;
    fl->label[fl->n] = label;
    fl->n++;
  }
  if (!fl->n) {
    if (listmode)
      snprintf(msg, len, "-in %s: the list names no audio files%s", o->in,
               o->digits_only ? " in digit-word folders" : "");
    else
      snprintf(msg, len, "-in %s: no audio files found (looked for .wav, .flac, .ogg, .aiff, .au, ...%s)", o->in,
               o->digits_only ? " in folders zero..nine" : "");
    goto done;
  }
  rc = 0;
done:
  strvec_free(&files);
  for (int s = 0; s < NSPLITS; s++) strvec_free(&lists[s]);
  return rc;
}

PetscErrorCode file_list_build(MPI_Comm comm, const file_list_opts *o, file_list *fl)
{
  PetscMPIInt rank, npool, nfiles;
  char        msg[PATH_MAX + 256] = "";
  int         bad = 0;
  int64_t     hdr[8]; /* n, poolsize, from_lists, matched[3], entries valid/test */

  PetscFunctionBegin;
  memset(fl, 0, sizeof *fl);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) { /* its allocations report running out of memory in msg, not as PETSc errors */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    if ((bad = build_rank0(o, fl, msg, sizeof msg))) file_list_free(fl);
    PetscCall(PetscPopErrorHandler());
  }
  ArdmCheckAll(comm, !bad, "%s", msg);
  hdr[0] = fl->n;
  hdr[1] = (int64_t)fl->poolsize;
  hdr[2] = fl->from_lists;
  for (int s = 0; s < NSPLITS; s++) hdr[3 + s] = fl->list_matched[s];
  hdr[6] = fl->list_entries[SPLIT_VALID];
  hdr[7] = fl->list_entries[SPLIT_TEST];
  PetscCallMPI(MPI_Bcast(hdr, 8, MPI_INT64_T, 0, comm));
  PetscCheck(hdr[1] < INT32_MAX && hdr[0] < INT32_MAX, comm, ARDM_ERR_INPUT, "-in %s: too many files for one prep run",
             o->in);
  if (rank) {
    fl->n = hdr[0];
    fl->poolsize = (size_t)hdr[1];
    fl->from_lists = (int)hdr[2];
    for (int s = 0; s < NSPLITS; s++) fl->list_matched[s] = hdr[3 + s];
    fl->list_entries[SPLIT_VALID] = hdr[6];
    fl->list_entries[SPLIT_TEST] = hdr[7];
    PetscCall(PetscMalloc1(fl->poolsize, &fl->pool));
    PetscCall(PetscMalloc1(fl->n, &fl->split));
    PetscCall(PetscMalloc1(fl->n, &fl->label));
  }
  PetscCall(PetscMPIIntCast((PetscInt64)fl->poolsize, &npool));
  PetscCall(PetscMPIIntCast((PetscInt64)fl->n, &nfiles));
  PetscCallMPI(MPI_Bcast(fl->pool, npool, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(fl->split, nfiles, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(fl->label, nfiles, MPI_INT, 0, comm));
  PetscCall(PetscMalloc2(fl->n, &fl->path, fl->n, &fl->rel));
  for (int64_t i = 0, at = 0; i < fl->n; i++) {
    fl->path[i] = fl->pool + at;
    at += (int64_t)strlen(fl->pool + at) + 1;
    fl->rel[i] = fl->pool + at;
    at += (int64_t)strlen(fl->pool + at) + 1;
  }
  PetscFunctionReturn(0);
}

void file_list_free(file_list *fl)
{
  (void)PetscFree(fl->pool);
  (void)PetscFree2(fl->path, fl->rel);
  (void)PetscFree(fl->split);
  (void)PetscFree(fl->label);
  memset(fl, 0, sizeof *fl);
}
