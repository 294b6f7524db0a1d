#!/bin/sh
# test_checksum.sh: the Fletcher-32 checksums (doc/formats.md "Checksums"). One bit flipped
# inside a variable's stored data (found by its values' bytes, not in HDF5's metadata) of a
# checkpoint, a data set, a samples file or a loss file ends every command that reads it with
# exit 1 and "PATH: checksum mismatch in variable 'V' (the file is corrupted)", on 1 and 2 ranks
# (on 2 ranks some flips are read by one rank only); the unflipped files and files without
# checksums (as older ardm wrote them: nccopy -F none) still read.
. "$(dirname "$0")/../lib.sh"
NCVAR="/usr/bin/python3 $(dirname "$0")/../ncvar.py"
SMALL="-model_blocks 1 -model_channels 8 -batch 8 -seed 5"
BAD="checksum mismatch in variable"

ok make-data ardm_np 1 prep -format markov -out "$T/d" -n 64 -length 32 -classes 4 -seed 3
ok train ardm_np 2 train -data "$T/d/train.nc" -out "$T/r" -steps 2 -ckpt_every 2 -log_every 1 $SMALL
ok sample ardm_np 1 sample -ckpt "$T/r/checkpoint.nc" -budget 4 -n 4 -out "$T/s.nc"
has_checksum() { ncdump -hs "$1" | grep -q "$2:_Fletcher32 = \"true\""; }
check checksum-params has_checksum "$T/r/checkpoint.nc" params
check checksum-adam-v has_checksum "$T/r/checkpoint.nc" adam_v
check checksum-stats has_checksum "$T/r/checkpoint.nc" stats_sum
check checksum-data-x has_checksum "$T/d/train.nc" x
check checksum-samples-x has_checksum "$T/s.nc" x
check checksum-loss has_checksum "$T/r/loss_t.nc" loss

# flipped NAME FILE VAR INDEX: a copy of FILE, $T/NAME.nc, with the lowest bit of VAR[INDEX] flipped
flipped() { cp "$2" "$T/$1.nc" && $NCVAR flip "$T/$1.nc" "$3" "$4" >/dev/null; }
check flip-params flipped ck-params "$T/r/checkpoint.nc" params 5000
check flip-ema flipped ck-ema "$T/r/checkpoint.nc" ema 4000
check flip-train-x flipped train-x "$T/d/train.nc" x $((50 * 32 + 7))
check flip-valid-x flipped valid-x "$T/d/valid.nc" x $((5 * 32 + 3))
check flip-samples-x flipped s-x "$T/s.nc" x $((3 * 32 + 1))
check flip-loss flipped loss "$T/r/loss_t.nc" count 20
mkdir -p "$T/rr" && cp "$T/r"/*.nc "$T/rr/" && cp "$T/ck-ema.nc" "$T/rr/checkpoint.nc"

for np in 1 2; do
  # checkpoints: eval reads one set of weights, train -resume all four, info every variable
  fails_exit eval-params-np$np 1 "ck-params.nc: $BAD 'params' \(the file is corrupted\)" \
    ardm_np $np eval -ckpt "$T/ck-params.nc" -weights params -data "$T/d/valid.nc" -out "$T/e.nc" -draws 1
  fails_exit eval-ema-np$np 1 "ck-ema.nc: $BAD 'ema' \(the file is corrupted\)" \
    ardm_np $np eval -ckpt "$T/ck-ema.nc" -data "$T/d/valid.nc" -out "$T/e.nc" -draws 1
  fails_exit sample-params-np$np 1 "ck-params.nc: $BAD 'params' \(the file is corrupted\)" \
    ardm_np $np sample -ckpt "$T/ck-params.nc" -weights params -budget 4 -n 2 -out "$T/s2.nc"
  fails_exit resume-np$np 1 "rr/checkpoint.nc: $BAD 'ema' \(the file is corrupted\)" \
    ardm_np $np train -data "$T/d/train.nc" -out "$T/rr" -steps 4 -ckpt_every 2 -log_every 1 $SMALL -resume
  fails_exit info-ckpt-np$np 1 "ck-params.nc: $BAD 'params' \(the file is corrupted\)" \
    ardm_np $np info "$T/ck-params.nc"
  # data sets: the flipped example is read by one rank (eval on 2 ranks: the last examples)
  fails_exit eval-data-np$np 1 "valid-x.nc: $BAD 'x' \(the file is corrupted\)" \
    ardm_np $np eval -ckpt "$T/r/checkpoint.nc" -data "$T/valid-x.nc" -out "$T/e.nc" -draws 1
  fails_exit train-data-np$np 1 "train-x.nc: $BAD 'x' \(the file is corrupted\)" \
    ardm_np $np train -data "$T/train-x.nc" -out "$T/rx$np" -steps 8 -log_every 1 $SMALL
  fails_exit info-data-np$np 1 "valid-x.nc: $BAD 'x' \(the file is corrupted\)" ardm_np $np info "$T/valid-x.nc"
  # samples and loss components
  fails_exit export-samples-np$np 1 "s-x.nc: $BAD 'x' \(the file is corrupted\)" \
    ardm_np $np export -format wav -in "$T/s-x.nc" -out "$T/w$np"
  fails_exit plan-loss-np$np 1 "loss.nc: $BAD 'count' \(the file is corrupted\)" \
    ardm_np $np plan -loss "$T/loss.nc" -out "$T/p.nc" -budgets 4

  # the same files unflipped read, as do files without checksums (older ardm)
  ok eval-intact-np$np ardm_np $np eval -ckpt "$T/r/checkpoint.nc" -data "$T/d/valid.nc" -out "$T/e.nc" -draws 1
  ok info-intact-np$np ardm_np $np info "$T/s.nc"
  for f in r/checkpoint.nc d/train.nc d/valid.nc s.nc r/loss_t.nc; do
    nccopy -F none "$T/$f" "$T/old-$(basename "$f")"
  done
  check old-has-no-checksum-np$np sh -c "! ncdump -hs '$T/old-checkpoint.nc' | grep -q _Fletcher32"
  ok old-eval-np$np ardm_np $np eval -ckpt "$T/old-checkpoint.nc" -data "$T/old-valid.nc" -out "$T/e.nc" -draws 1
  mkdir -p "$T/old$np" && cp "$T/r"/*.nc "$T/old$np/" && cp "$T/old-checkpoint.nc" "$T/old$np/checkpoint.nc"
  ok old-resume-np$np ardm_np $np train -data "$T/old-train.nc" -out "$T/old$np" -steps 4 -ckpt_every 2 \
    -log_every 1 $SMALL -resume
  ok old-export-np$np ardm_np $np export -format wav -in "$T/old-s.nc" -out "$T/ow$np"
  ok old-plan-np$np ardm_np $np plan -loss "$T/old-loss_t.nc" -out "$T/p.nc" -budgets 4
  ok old-info-np$np ardm_np $np info "$T/old-checkpoint.nc"
done
finish
