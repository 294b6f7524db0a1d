/* prof.h: ardm's one profiler is PETSc's -log_view. This names its stages (setup, train,
   eval, sample) and events (per layer kind, network forward/backward, head, optimizer,
   gradient and parameter collectives, file reads and writes, the sampling loop), registered
   once by prof_init; the layers and the model mark their work with PROF_BEGIN/PROF_END. */
#ifndef ARDM_PROF_H
#define ARDM_PROF_H
#include "core/ardm.h"

typedef enum {
  /* layer kinds (src/nn) */
  PROF_DENSE,
  PROF_CONV1X1,
  PROF_CONV1D,
  PROF_CONV2D,
  PROF_POOL2D,
  PROF_ACT,
  PROF_NORM,
  PROF_ATTN,
  PROF_EMBED,
  PROF_RESSKIP,
  /* the model (src/ardm/model.c) and the commands */
  PROF_NET_FORWARD,
  PROF_NET_BACKWARD,
  PROF_HEAD,
  PROF_OPTIMIZER,
  PROF_GRAD_COMM,
  PROF_IO_READ,
  PROF_IO_WRITE,
  PROF_SAMPLE_LOOP,
  PROF_NEVENTS
} prof_event;

typedef enum { PROF_STAGE_SETUP, PROF_STAGE_TRAIN, PROF_STAGE_EVAL, PROF_STAGE_SAMPLE, PROF_NSTAGES } prof_stage;

extern PetscLogEvent prof_events[PROF_NEVENTS];
extern PetscLogStage prof_stages[PROF_NSTAGES];
extern int           prof_ready; /* 1 after prof_init (unit tests may call layers without it) */

/* Registers the stages and events and turns PETSc's default logging on, so that event times
   exist also without -log_view (commands print figures computed from them). Once, after
   PetscInitialize. */
PetscErrorCode prof_init(void);

/* Marks of a piece of work; ignore errors (they are used in void layer functions). */
#define PROF_BEGIN(e)                                                                                                  \
  do {                                                                                                                 \
    if (prof_ready) (void)PetscLogEventBegin(prof_events[e], 0, 0, 0, 0);                                              \
  } while (0)
#define PROF_END(e)                                                                                                    \
  do {                                                                                                                 \
    if (prof_ready) (void)PetscLogEventEnd(prof_events[e], 0, 0, 0, 0);                                                \
  } while (0)

PetscErrorCode prof_stage_push(prof_stage s);
PetscErrorCode prof_stage_pop(void);
/* Seconds and calls recorded so far for event e in stage s on this rank. */
PetscErrorCode prof_event_time(prof_stage s, prof_event e, double *seconds, int *count);
#endif
