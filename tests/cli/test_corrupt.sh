#!/bin/sh
# test_corrupt.sh: values a file can hold but must not (a checkpoint's model attributes and
# counts, loss components, a plan's nsteps/stages) and a missing output directory are each
# bad input: one line naming the file and what was expected, exit 1 on every rank.
. "$(dirname "$0")/../lib.sh"
NCVAR="/usr/bin/python3 $(dirname "$0")/../ncvar.py"
SMALL="-model_blocks 2 -model_channels 8 -batch 4"

ok make-data ardm_np 1 prep -format markov -out "$T/d" -n 64 -length 16 -classes 4
ok train ardm_np 2 train -data "$T/d/train.nc" -out "$T/r" -steps 4 -ckpt_every 4 -log_every 2 $SMALL

# a missing output directory says so (NetCDF alone would say "permission denied")
fails_exit missing-out-dir 1 "$T/none/e.nc: cannot create the output file \(directory $T/none does not exist\)" \
  ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/d/valid.nc" -out "$T/none/e.nc" -draws 1

# a bad model attribute names the checkpoint, before any network is built from it
corrupt() { # corrupt NAME ATTR VALUE: a copy of the checkpoint with one attribute changed
  cp "$T/r/checkpoint.nc" "$T/$1.nc" && $NCVAR setatt "$T/$1.nc" "$2" "$3"
}
corrupt blocks model_blocks 0
fails_exit bad-model-blocks 1 "$T/blocks.nc: model_blocks = 0: expected 1\.\.1024 for a diffwave model" \
  ardm_np 2 eval -ckpt "$T/blocks.nc" -data "$T/d/valid.nc" -out "$T/e.nc"
corrupt channels model_channels 100000
fails_exit huge-model-channels 1 "$T/channels.nc: model_channels = 100000: expected 1\.\.4096" \
  ardm_np 1 sample -ckpt "$T/channels.nc" -out "$T/s.nc"
corrupt upscale model_upscale_b 1
fails_exit bad-upscale-b 1 "$T/upscale.nc: model_upscale_b = 1: expected 0 or 2\.\.K = 4" \
  ardm_np 1 eval -ckpt "$T/upscale.nc" -data "$T/d/valid.nc" -out "$T/e.nc"

# negative counts are blamed on the checkpoint (not on the data file they would index)
resume_from() { # resume_from NAME: a run directory whose checkpoint.nc is $T/NAME.nc
  rm -rf "$T/run-$1" && mkdir "$T/run-$1" && cp "$T/$1.nc" "$T/run-$1/checkpoint.nc" &&
    cp "$T/r/train_log.nc" "$T/run-$1/"
}
corrupt step step -5
resume_from step
fails_exit negative-step 1 "run-step/checkpoint.nc: step = -5, .*expected counts >= 0 .*corrupt checkpoint" \
  ardm_np 2 train -data "$T/d/train.nc" -out "$T/run-step" -steps 8 -resume $SMALL
corrupt seen examples_seen -4
resume_from seen
fails_exit negative-examples 1 "run-seen/checkpoint.nc: step = 4, examples_seen = -4" \
  ardm_np 1 train -data "$T/d/train.nc" -out "$T/run-seen" -steps 8 -resume $SMALL
cp "$T/r/checkpoint.nc" "$T/stats.nc" && $NCVAR setval "$T/stats.nc" stats_count 3 -7
resume_from stats
fails_exit negative-stats-count 1 "run-stats/checkpoint.nc: loss statistics at stage 0, t 3: count -7" \
  ardm_np 2 train -data "$T/d/train.nc" -out "$T/run-stats" -steps 8 -resume $SMALL

# loss components: 1e308 (finite, but its sums are not) and NaN are rejected, naming the file
for v in 1e308 nan; do
  cp "$T/r/loss_t.nc" "$T/loss-$v.nc"
  $NCVAR setval "$T/loss-$v.nc" count 5 3 && $NCVAR setval "$T/loss-$v.nc" loss 5 $v
  fails_exit loss-$v 1 "$T/loss-$v.nc: loss\(0, 5\) = [0-9e+na]+: expected a finite value in 0\.\.1e\+06 \(bits\)" \
    ardm_np 2 plan -loss "$T/loss-$v.nc" -out "$T/p.nc" -budgets 4 -penalty 2
done

# a plan whose nsteps or stages disagree with its starts
ok plan ardm_np 1 plan -loss "$T/r/loss_t.nc" -out "$T/plan.nc" -budgets 4,8 -penalty 2
cp "$T/plan.nc" "$T/nsteps.nc" && $NCVAR setval "$T/nsteps.nc" nsteps 1 3
fails_exit plan-nsteps 1 "$T/nsteps.nc: nsteps\(1, 0\) = 3, but the plan for budget 8, stage 0 has [0-9]+ steps in starts" \
  ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/nsteps.nc" -budget 8 -out "$T/s.nc"
cp "$T/plan.nc" "$T/stages.nc" && $NCVAR setatt "$T/stages.nc" stages 3
fails_exit plan-stages 1 "$T/stages.nc: attribute stages = 3, but starts has 1 stages" \
  ardm_np 1 eval -ckpt "$T/r/checkpoint.nc" -data "$T/d/valid.nc" -plan "$T/stages.nc" -out "$T/e.nc"
finish
