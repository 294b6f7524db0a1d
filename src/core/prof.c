/* prof.c: registration of ardm's -log_view stages and events (prof.h). */
#include "core/prof.h"

PetscLogEvent prof_events[PROF_NEVENTS];
PetscLogStage prof_stages[PROF_NSTAGES];
int           prof_ready;

static const char *const event_names[PROF_NEVENTS] = {
    "ArdmDense", "ArdmConv1x1",   "ArdmConv1d",    "ArdmConv2d",  "ArdmPool2d",  "ArdmActivation",
    "ArdmNorm",  "ArdmAttention", "ArdmEmbedding", "ArdmResSkip", "ArdmNetFwd",  "ArdmNetBwd",
    "ArdmHead",  "ArdmOptimizer", "ArdmGradComm",  "ArdmIORead",  "ArdmIOWrite", "ArdmSampleLoop"};
static const char *const stage_names[PROF_NSTAGES] = {"Setup", "Train", "Eval", "Sample"};

PetscErrorCode prof_init(void)
{
  PetscClassId cls;
  PetscFunctionBegin;
  if (prof_ready) PetscFunctionReturn(0);
  PetscCall(PetscLogDefaultBegin());
  PetscCall(PetscClassIdRegister("ardm", &cls));
  for (int s = 0; s < PROF_NSTAGES; s++) PetscCall(PetscLogStageRegister(stage_names[s], &prof_stages[s]));
  for (int e = 0; e < PROF_NEVENTS; e++) PetscCall(PetscLogEventRegister(event_names[e], cls, &prof_events[e]));
  prof_ready = 1;
  PetscFunctionReturn(0);
}

PetscErrorCode prof_stage_push(prof_stage s)
{
  PetscFunctionBegin;
  if (prof_ready) PetscCall(PetscLogStagePush(prof_stages[s]));
  PetscFunctionReturn(0);
}

PetscErrorCode prof_stage_pop(void)
{
  PetscFunctionBegin;
  if (prof_ready) PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

PetscErrorCode prof_event_time(prof_stage s, prof_event e, double *seconds, int *count)
{
  PetscEventPerfInfo info;
  PetscFunctionBegin;
  *seconds = 0, *count = 0;
  if (!prof_ready) PetscFunctionReturn(0);
  PetscCall(PetscLogEventGetPerfInfo(prof_stages[s], prof_events[e], &info));
  *seconds = info.time, *count = info.count;
  PetscFunctionReturn(0);
}
