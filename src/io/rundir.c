/* rundir.c: the run directory's lock and the fresh-start check (see rundir.h). */
#include "io/rundir.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Whether name is prefix, decimal digits, suffix. */
static int digits_between(const char *name, const char *prefix, const char *suffix)
{
  size_t np = strlen(prefix), ns = strlen(suffix), n = strlen(name), i;
  if (n <= np + ns || strncmp(name, prefix, np) || strcmp(name + n - ns, suffix)) return 0;
  for (i = np; i < n - ns; i++)
    if (name[i] < '0' || name[i] > '9') return 0;
  return 1;
}

/* A checkpoint of train: checkpoint.nc or ckpt-<step>.nc. */
static int is_checkpoint(const char *name)
{
  return !strcmp(name, "checkpoint.nc") || digits_between(name, "ckpt-", ".nc");
}

/* The ".tmp.<digits>..." tail of a temporary name (NAME.tmp.<stamp>, MPI-IO's NAME.tmp.<stamp>.*),
   or NULL. */
static const char *tmp_tail(const char *name)
{
  const char *tail = strstr(name, ".tmp.");
  return tail && tail[5] >= '0' && tail[5] <= '9' ? tail : NULL;
}

/* A file train writes into the run directory, or its temporary (.tmp.<stamp>, and the MPI-IO
   side files .tmp.<stamp>.*) or link (.lnk) name. */
static int is_train_file(const char *name)
{
  static const char *const fixed[] = {"checkpoint.nc", "train_log.nc", "loss_t.nc", "plan.nc"};
  char                     base[NAME_MAX + 1];
  const char              *tail;
  snprintf(base, sizeof base, "%s", name);
  if ((tail = tmp_tail(base)))
    base[tail - base] = 0; /* and MPI's */
  else if ((tail = strstr(base, ".nc.lnk")) && !tail[7])
    base[tail - base + 3] = 0;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (!strcmp(base, fixed[i])) return 1;
  return digits_between(base, "ckpt-", ".nc") || digits_between(base, "plan-", ".nc");
}

/* Rank 0: the holder recorded in the lock file ("pid N on host H"), or what F_GETLK says. */
static void lock_holder(int fd, char *who, size_t len)
{
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  ssize_t      n = pread(fd, who, len - 1, 0);
  who[n > 0 ? n : 0] = 0;
  who[strcspn(who, "\n")] = 0;
  if (!who[0] && !fcntl(fd, F_GETLK, &fl) && fl.l_type != F_UNLCK) snprintf(who, len, "pid %ld", (long)fl.l_pid);
  if (!who[0]) snprintf(who, len, "holder unknown");
}

/* Rank 0, holding the lock: removes the temporaries of train's files (NAME.tmp.<stamp>[.*]) that
   a killed run left behind (SIGKILL, or mpirun's kill after its odls_base_sigkill_timeout):
   no other process writes into DIR while the lock is held. Returns how many were removed. */
static int remove_stale_temporaries(const char *dir)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  char           path[PATH_MAX + NAME_MAX + 2];
  int            n = 0;
  while (d && (e = readdir(d))) {
    if (!tmp_tail(e->d_name) || !is_train_file(e->d_name)) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (!unlink(path)) n++;
  }
  if (d) closedir(d);
  return n;
}

PetscErrorCode rundir_lock_take(MPI_Comm comm, const char *dir, rundir_lock *lk)
{
  PetscMPIInt rank;
  char        path[PATH_MAX + 8], who[256] = "";
  int         err = 0, busy = 0;
  PetscFunctionBegin;
  lk->fd = -1;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    snprintf(path, sizeof path, "%s/.lock", dir);
    lk->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lk->fd < 0)
      err = errno;
    else if (fcntl(lk->fd, F_SETLK, &fl)) {
      err = errno;
      busy = err == EACCES || err == EAGAIN;
      if (busy)
        lock_holder(lk->fd, who, sizeof who);
      else if (err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS)
        err = 0; /* no locks on this file system */
    }
    if (!err) { /* record the holder for the message of a second run */
      char host[128] = "?";
      int  n;
      (void)gethostname(host, sizeof host - 1);
      n = snprintf(who, sizeof who, "pid %ld on host %s\n", (long)getpid(), host);
      if (ftruncate(lk->fd, 0) || pwrite(lk->fd, who, (size_t)n, 0) != n) err = 0; /* the lock is what matters */
    } else if (lk->fd >= 0)
      (void)close(lk->fd), lk->fd = -1;
  }
  ArdmCheckAll(comm, !busy,
               "-out %s: another run holds this run directory (%s/.lock locked by %s): wait for it to end or choose "
               "another -out",
               dir, dir, who);
  ArdmCheckAll(comm, !err, "-out %s: cannot lock %s (%s)", dir, path, strerror(err));
  if (rank == 0) {
    int n = remove_stale_temporaries(dir);
    if (n)
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "ardm train: removed %d temporary file%s of an interrupted run in %s\n", n,
                            n > 1 ? "s" : "", dir));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_lock_release(rundir_lock *lk)
{
  PetscFunctionBegin;
  if (lk->fd >= 0) (void)close(lk->fd); /* closing the file drops its fcntl locks */
  lk->fd = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode rundir_prepare_fresh(MPI_Comm comm, const char *dir, PetscBool resume, PetscBool overwrite)
{
  PetscMPIInt rank;
  char        found[NAME_MAX + 1] = "", bad[PATH_MAX + NAME_MAX + 2] = "";
  int         err = 0;
  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    DIR           *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
      if (is_checkpoint(e->d_name) && (!found[0] || !strcmp(e->d_name, "checkpoint.nc")))
        snprintf(found, sizeof found, "%s", e->d_name);
    if (d && overwrite) { /* the old run's files only: anything else in dir stays */
      rewinddir(d);
      while ((e = readdir(d)) && !err) {
        if (!is_train_file(e->d_name)) continue;
        snprintf(bad, sizeof bad, "%s/%s", dir, e->d_name);
        if (unlink(bad) && errno != ENOENT) err = errno;
      }
    }
    if (d) closedir(d);
  }
  ArdmCheckAll(comm, !found[0] || overwrite,
               resume ? "-out %s: holds %s but no checkpoint.nc to resume from: replace that run with -overwrite or "
                        "choose another -out"
                      : "-out %s: holds another run (%s): continue it with -resume, replace it with -overwrite, or "
                        "choose another -out",
               dir, found);
  ArdmCheckAll(comm, !err, "-overwrite: cannot remove %s (%s)", bad, strerror(err));
  PetscFunctionReturn(0);
}
