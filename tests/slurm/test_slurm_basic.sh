#!/bin/sh
# tests/slurm/test_slurm_basic.sh: the private Slurm of slurm_up.sh works for what the job
# scripts rely on (POSIX sh): a 2-rank batch job launching MPI with srun --mpi=pmix and with
# mpirun, a job array, --dependency=afterok (and --kill-on-invalid-dep=yes cancelling the
# dependants of a failed job, two levels deep), and a requeue with `scontrol requeue` that
# restarts the job with SLURM_RESTART_COUNT=1 and one appended log. Brings Slurm up and down.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/slurm_lib.sh"

if ! slurm_available; then
  echo "SKIP $TEST_NAME: slurmctld/slurmd/munged not installed (make deps installs them)"
  exit 0
fi
ok slurm_up slurm_start
cat "$T/slurm_up.err" 2>/dev/null
[ -n "${SLURM_CONF:-}" ] || finish

# 1. MPI inside a batch job, both launchers. Open MPI refuses root unless told; the job scripts
#    set these only when they run as root.
ok build_mpi_ring mpicc -std=c11 -O1 -o "$T/mpi_ring" "$SLURM_TESTS_DIR/mpi_ring.c"
cat >"$T/mpi.sh" <<EOF
#!/bin/sh
[ "\$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "job \$SLURM_JOB_ID ntasks \$SLURM_NTASKS"
srun --mpi=pmix -n 2 "$T/mpi_ring" | sed 's/^/srun: /'
mpirun -n 2 "$T/mpi_ring" | sed 's/^/mpirun: /'
EOF
t0=$(date +%s)
mpi=$(submit -n 2 -J mpi -o "$T/mpi.out" "$T/mpi.sh")
wait_jobs 60 "$mpi"
echo "mpi job: $(($(date +%s) - t0)) s"
check mpi_job_completed test "$(job_state "$mpi")" = COMPLETED
for l in srun mpirun; do
  check "${l}_rank0" grep -qx "$l: rank 0 of 2 sum 3 token 2" "$T/mpi.out"
  check "${l}_rank1" grep -qx "$l: rank 1 of 2 sum 3 token 2" "$T/mpi.out"
done

# 2. A job array: every task runs once with its own index, all under one array job id.
t0=$(date +%s)
arr=$(submit --array=0-3 -n 1 -J arr -o "$T/arr-%a.out" \
  --wrap 'echo "task $SLURM_ARRAY_TASK_ID of array $SLURM_ARRAY_JOB_ID count $SLURM_ARRAY_TASK_COUNT"')
wait_jobs 60 "$arr"
echo "array of 4: $(($(date +%s) - t0)) s"
for i in 0 1 2 3; do
  check "array_task$i" grep -qx "task $i of array $arr count 4" "$T/arr-$i.out"
done

# 3. Dependencies. B starts only after A succeeded (A's file exists when B runs); D depends on a
#    failing C and E on D: with --kill-on-invalid-dep=yes both are cancelled and never run
#    (without it they would stay pending forever with DependencyNeverSatisfied).
t0=$(date +%s)
a=$(submit -n 1 -J A -o /dev/null --wrap "sleep 1; echo a > '$T/a.done'")
b=$(submit -n 1 -J B -o "$T/b.out" --dependency=afterok:"$a" --wrap "cat '$T/a.done'")
c=$(submit -n 1 -J C -o /dev/null --wrap "sleep 1; exit 3")
d=$(submit -n 1 -J D -o "$T/d.out" --dependency=afterok:"$c" --kill-on-invalid-dep=yes --wrap "echo ran")
e=$(submit -n 1 -J E -o "$T/e.out" --dependency=afterok:"$d" --kill-on-invalid-dep=yes --wrap "echo ran")
wait_jobs 60 "$a" "$b" "$c" "$d" "$e"
echo "dependencies: $(($(date +%s) - t0)) s"
check afterok_ran_after_success grep -qx a "$T/b.out"
check failed_job_failed test "$(job_state "$c")" = FAILED
check failed_job_exit_code test "$(job_field "$c" ExitCode)" = 3:0
check dependant_cancelled test "$(job_state "$d")" = CANCELLED
check dependant_never_ran test ! -e "$T/d.out"
check second_level_cancelled test "$(job_state "$e")" = CANCELLED
check second_level_never_ran test ! -e "$T/e.out"

# 4. Requeue: the first run waits to be requeued; `scontrol requeue` + StartTime=now restarts
#    it (Slurm would otherwise hold it for cred_expire seconds), the restart sees
#    SLURM_RESTART_COUNT=1 and appends to the same log.
t0=$(date +%s)
r=$(submit -n 1 -J rq --requeue --open-mode=append -o "$T/rq.out" --wrap \
  'echo "run ${SLURM_RESTART_COUNT:-0} job $SLURM_JOB_ID"; [ "${SLURM_RESTART_COUNT:-0}" -ge 1 ] || sleep 120')
n=0
while [ $n -lt 150 ] && ! grep -q '^run 0' "$T/rq.out" 2>/dev/null; do sleep 0.2; n=$((n + 1)); done
ok scontrol_requeue scontrol requeue "$r"
ok scontrol_start_now scontrol update JobId="$r" StartTime=now
wait_jobs 60 "$r"
echo "requeue: $(($(date +%s) - t0)) s"
check requeued_job_completed test "$(job_state "$r")" = COMPLETED
check requeued_job_restarts test "$(job_field "$r" Restarts)" = 1
check log_has_first_run grep -qx "run 0 job $r" "$T/rq.out"
check log_has_restart grep -qx "run 1 job $r" "$T/rq.out"

finish
