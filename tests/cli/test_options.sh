#!/bin/sh
# test_options.sh: the option contract of every command on 1 and 2 ranks: a bad value of a
# choice, integer or real option, a broken options file and a size option too large for
# memory each end with exactly one error line naming the option (or file) and exit 1.
. "$(dirname "$0")/../lib.sh"

# one_error NAME REGEX CMD...: exit 1, the message matches, and it is printed once
one_error() {
  name=$1; pat=$2; shift 2
  fails_exit "$name" 1 "$pat" "$@"
  nerr=$(grep -c 'error:' "$T/.out.$$")
  check "$name-one-line" test "$nerr" -eq 1
}

for np in 1 2; do
  # every choice option of every command (the files named need not exist: options come first)
  one_error train-schedule-np$np 'ardm train: error: -schedule bogus: expected constant or cosine$' \
    ardm_np $np train -data x.nc -schedule bogus
  one_error train-decay-steps-np$np 'ardm train: error: -decay_steps 30: expected at most -steps 20 \(the decay ends at -steps\)$' \
    ardm_np $np train -data x.nc -steps 20 -decay_steps 30
  one_error train-model-np$np 'error: -model bogus: expected diffwave, transformer or unet$' \
    ardm_np $np train -data x.nc -model bogus
  one_error train-head-np$np 'error: -head bogus: expected auto, categorical, logistic_mixture, stage_categorical or stage_data$' \
    ardm_np $np train -data x.nc -head bogus
  one_error train-model_attn_bias-np$np 'ardm train: error: -model_attn_bias bogus: expected none or distance$' \
    ardm_np $np train -data x.nc -model transformer -model_attn_bias bogus
  one_error eval-weights-np$np 'ardm eval: error: -weights bogus: expected ema or params$' \
    ardm_np $np eval -ckpt x.nc -data x.nc -weights bogus
  one_error export-format-np$np 'ardm export: error: -format mp3: expected txt, wav or png$' \
    ardm_np $np export -in x.nc -format mp3
  one_error plan-monotone-np$np 'ardm plan: error: -monotone up: expected sort, isotonic or none$' \
    ardm_np $np plan -loss x.nc -monotone up
  one_error plan-allocate-np$np 'ardm plan: error: -allocate bogus: expected equal or optimal$' \
    ardm_np $np plan -loss x.nc -allocate bogus
  one_error sample-given_mask-np$np 'ardm sample: error: -given_mask bogus: expected first_half, every_other, top_half or centre$' \
    ardm_np $np sample -ckpt x.nc -given_mask bogus
  one_error sample-weights-np$np 'ardm sample: error: -weights bogus: expected ema or params$' \
    ardm_np $np sample -ckpt x.nc -weights bogus
  one_error prep-format-np$np 'ardm prep: error: -format flac: expected wav, text, markov, text8, png or cifar10$' \
    ardm_np $np prep -format flac -out "$T/p"
  one_error prep-on_bad-np$np 'ardm prep: error: -on_bad bogus: expected error or skip$' \
    ardm_np $np prep -in x -out "$T/p" -on_bad bogus

  # options files: a cycle and a syntax error are one line, not a crash or a traceback
  printf -- '-steps 5\n-options_file %s\n' "$T/a.opts" >"$T/b.opts"
  printf -- '# comment\n-options_file %s\n' "$T/b.opts" >"$T/a.opts"
  one_error options-file-cycle-np$np "error: options file $T/a.opts includes itself" \
    ardm_np $np info x.nc -options_file "$T/a.opts"
  printf -- '-steps 5\nsteps 6\n' >"$T/syntax.opts"
  one_error options-file-syntax-np$np "error: options file $T/syntax.opts line 2: 'steps' is not an option" \
    ardm_np $np info x.nc -options_file "$T/syntax.opts"
done
# the other kinds on one rank (the same code path decides them on every rank)
# integers are read in 64 bits: 2^32 + 2 is rejected, not wrapped to 2
one_error train-steps-wrap 'error: -steps 4294967298: expected an integer in 0\.\.2147483647$' \
  "$ARDM" train -data x.nc -steps 4294967298
one_error train-batch-zero 'error: -batch 0: expected an integer in 1\.\.2147483647$' \
  "$ARDM" train -data x.nc -batch 0
one_error sample-n-word 'error: -n many: expected an integer in 1\.\.2147483647$' \
  "$ARDM" sample -ckpt x.nc -n many
one_error model-blocks 'error: -model_blocks 5000: expected an integer in 1\.\.1024$' \
  "$ARDM" train -data x.nc -model_blocks 5000
one_error plan-budgets-wrap "error: -budgets: '4294967298' is not an integer" \
  "$ARDM" plan -loss x.nc -budgets 5,4294967298
# reals must be finite and within bounds
one_error train-weight_decay 'error: -weight_decay -5: expected a finite number in \[0,inf\)$' \
  "$ARDM" train -data x.nc -weight_decay -5
one_error train-max_hours 'error: -max_hours -1: expected a finite number in \[0,inf\)$' \
  "$ARDM" train -data x.nc -max_hours -1
one_error train-lr-nan 'error: -lr nan: expected a finite number in \(0,inf\)$' \
  "$ARDM" train -data x.nc -lr nan
one_error sample-temperature 'error: -temperature inf: expected a finite number in \[0,inf\)$' \
  "$ARDM" sample -ckpt x.nc -temperature inf
one_error prep-p_stay 'error: -p_stay 2: expected a finite number in \[0,1\]$' \
  "$ARDM" prep -format markov -out "$T/p" -p_stay 2

printf -- 'alias -x\n' >"$T/alias.opts"
one_error options-file-alias "error: options file $T/alias.opts line 1: expected 'alias -new_name -old_name'" \
  "$ARDM" info x.nc -options_file "$T/alias.opts"
one_error options-file-missing "error: cannot read options file $T/none.opts: No such file" \
  "$ARDM" info x.nc -options_file "$T/none.opts"

# a size option too large for memory is bad input naming the option (not exit 4, out of memory)
ok    prep-markov ardm_np 1 prep -format markov -n 32 -length 16 -out "$T/ds"
one_error train-batch-memory 'error: -batch 2000000000: needs about [0-9.]+ GB of memory per rank, more than the' \
  ardm_np 2 train -data "$T/ds/train.nc" -out "$T/run" -model_blocks 2 -model_channels 8 -batch 2000000000
one_error prep-n-memory 'error: -n 1000000000: needs about [0-9.]+ GB of memory per rank' \
  ardm_np 2 prep -format markov -n 1000000000 -length 100000 -out "$T/big"
# a good options file is read, and -help shows the allowed values
printf -- '-steps 1 # one step\n-batch 2\n-model_blocks 2\n-model_channels 8\n' >"$T/good.opts"
ok    options-file-good ardm_np 2 train -data "$T/ds/train.nc" -out "$T/run" -options_file "$T/good.opts"
check help-lists-choices sh -c "'$ARDM' train -help | grep -q -- '-schedule <now constant : formerly constant>: .*(constant or cosine)'"
finish
