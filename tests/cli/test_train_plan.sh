#!/bin/sh
# test_train_plan.sh: `ardm train -plan_budgets`: at every checkpoint the training job plans on
# its loss statistics and writes RUN/plan-<step>.nc and RUN/plan.nc (a link to the newest); the
# budgets are recorded in the checkpoint; the final plan equals `ardm plan` on the loss file
# written at the same step; sample uses it; a resumed run continues; bad budgets are one-line
# errors.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

ok prep ardm_np 2 prep -format markov -out "$T/m" -n 48 -length 24 -classes 4 -p_stay 0.7 -seed 5
ok train ardm_np 2 train -data "$T/m/train.nc" -out "$T/r" -steps 6 -batch 8 -model_blocks 1 -model_channels 8 \
  -log_every 3 -ckpt_every 3 -plan_budgets 4,8,24
check plan-per-checkpoint test -f "$T/r/plan-00000003.nc" -a -f "$T/r/plan-00000006.nc"
check plan-is-newest sh -c "[ \$(stat -c %i '$T/r/plan.nc') = \$(stat -c %i '$T/r/plan-00000006.nc') ]"
check no-temporary-files sh -c "! ls '$T/r' | grep -q -e tmp -e lnk"
check ckpt-records-budgets sh -c "ncdump -h '$T/r/checkpoint.nc' | grep -q 'plan_budgets = 4, 8, 24 ;'"
check plan-budgets sh -c "ncdump -v budgets '$T/r/plan.nc' | grep -q 'budgets = 4, 8, 24 ;'"
check plan-source sh -c "ncdump -h '$T/r/plan.nc' | grep -q 'loss_file = \"$T/r/ckpt-00000006.nc\"'"
check info-plan sh -c "'$ARDM' info '$T/r/plan.nc' | grep -q 'budget 8:'"
# the same plans as `ardm plan` on the loss components written at the last step
ok plan-from-loss-file ardm_np 1 plan -loss "$T/r/loss_t.nc" -out "$T/p.nc" -budgets 4,8,24
for v in starts expected_bpd naive_bpd curve_bpd; do
  check "same-$v-as-ardm-plan" $NC same "$T/r/plan.nc" "$T/p.nc" $v 1e-12
done
ok sample-with-training-plan ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/r/plan.nc" -budget 8 -n 2 \
  -out "$T/s.nc"
check sample-calls test "$($NC att "$T/s.nc" network_calls_per_stage)" -eq 8
ok resume ardm_np 1 train -data "$T/m/train.nc" -out "$T/r" -steps 9 -batch 8 -model_blocks 1 -model_channels 8 \
  -log_every 3 -ckpt_every 3 -plan_budgets 4,8,24 -resume
check resumed-plan sh -c "[ \$(stat -c %i '$T/r/plan.nc') = \$(stat -c %i '$T/r/plan-00000009.nc') ]"
# no plan before anything was observed (-steps 0): a message, no file, exit 0
ok steps0 ardm_np 1 train -data "$T/m/train.nc" -out "$T/r0" -steps 0 -model_blocks 1 -model_channels 8 -plan_budgets 4
check steps0-no-plan test ! -e "$T/r0/plan.nc"
ok no-option ardm_np 1 train -data "$T/m/train.nc" -out "$T/rn" -steps 2 -model_blocks 1 -model_channels 8
check no-option-no-plan sh -c "! ls '$T/rn' | grep -q plan"
fails_exit budget-too-large 1 '^ardm train: error: -plan_budgets: 25 is out of range: expected 1\.\.24 network calls per stage \(D = 24\)$' \
  ardm_np 2 train -data "$T/m/train.nc" -out "$T/rb" -steps 1 -model_blocks 1 -model_channels 8 -plan_budgets 4,25
fails_exit budget-twice 1 '^ardm train: error: -plan_budgets: 4 is given twice$' \
  ardm_np 1 train -data "$T/m/train.nc" -out "$T/rb" -steps 1 -model_blocks 1 -model_channels 8 -plan_budgets 4,4
fails_exit budget-zero 1 'plan_budgets' \
  ardm_np 1 train -data "$T/m/train.nc" -out "$T/rb" -steps 1 -model_blocks 1 -model_channels 8 -plan_budgets 0
finish
