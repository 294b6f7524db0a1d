#!/bin/sh
# test_fulldisk.sh: a full file system (a size-limited tmpfs, mounted as root) during every kind
# of write: checkpoint, training log, eval output, plan, samples, prep splits and export (WAV,
# text, PNG). Each must end every rank with exit 1 and one line naming the file and saying "no
# space left", keep the previous outputs intact and leave no *.tmp.* file nor MPI-IO side file
# (*.data.0, *.metadata.0), on 1 and 2 ranks.
. "$(dirname "$0")/../lib.sh"
FS="$T/fs"
mkdir -p "$FS"
if ! mount -t tmpfs -o size=3m tmpfs "$FS" 2>/dev/null; then
  echo "SKIP $TEST_NAME: cannot mount a tmpfs (needs root and mount permission)"
  exit 0
fi
trap 'umount "$FS" 2>/dev/null; rm -rf "$T"' EXIT

# leave KB kilobytes free on the tmpfs (a filler file takes the rest)
leave() {
  rm -f "$FS/fill"
  avail=$(df --output=avail -k "$FS" | tail -n 1)
  [ "$avail" -gt "$1" ] && dd if=/dev/zero of="$FS/fill" bs=1k count=$((avail - $1)) 2>/dev/null
  return 0
}
# no temporary file and no MPI-IO side file (Open MPI's ompio left NAME.data.<rank> and
# NAME.metadata.<rank> beside a file whose writer stopped; ardm selects ROMIO, which makes none)
no_tmp() { find "$FS" -name '*.tmp.*' -o -name '*.data.[0-9]*' -o -name '*.metadata.[0-9]*' | grep . && return 1; return 0; }

ok make-markov ardm_np 1 prep -format markov -out "$T/mk" -n 64 -length 32 -classes 4 -p_stay 0.7 -seed 3
SMALL="-data $T/mk/train.nc -batch 8 -lr 2e-3 -model_blocks 2 -model_channels 16 -model_cycle 2 -log_every 1 -seed 7"

for np in 1 2; do
  R="$FS/r$np"
  leave 100000
  rm -rf "$FS"/*
  ok train-np$np ardm_np $np train $SMALL -steps 2 -ckpt_every 2 -out "$R"
  cp "$R/checkpoint.nc" "$T/ck$np.nc"
  # room for the log and loss files but not the next checkpoint (refused before HDF5 writes)
  leave 400
  fails_exit ckpt-full-np$np 1 "ckpt-00000004.nc: no space left on the device" \
    ardm_np $np train $SMALL -steps 4 -ckpt_every 2 -out "$R" -resume
  check ckpt-full-previous-intact-np$np cmp "$R/checkpoint.nc" "$T/ck$np.nc"
  check ckpt-full-no-tmp-np$np no_tmp
  # no room even for a file's header: the training log is the first write
  leave 8
  fails_exit log-full-np$np 1 "train_log.nc: no space left on the device" \
    ardm_np $np train $SMALL -steps 4 -ckpt_every 2 -out "$R" -resume
  check log-full-previous-intact-np$np cmp "$R/checkpoint.nc" "$T/ck$np.nc"
  fails_exit eval-full-np$np 1 "eval.nc: no space left on the device" \
    ardm_np $np eval -ckpt "$R/checkpoint.nc" -data "$T/mk/valid.nc" -out "$FS/eval.nc" -draws 1
  fails_exit plan-full-np$np 1 "plan.nc: no space left on the device" \
    ardm_np $np plan -loss "$R/loss_t.nc" -out "$FS/plan.nc" -budgets 4
  fails_exit sample-full-np$np 1 "s.nc: no space left on the device" \
    ardm_np $np sample -ckpt "$R/checkpoint.nc" -budget 4 -n 2 -out "$FS/s.nc"
  check others-no-tmp-np$np no_tmp

  # prep: a complete old set stays as it was when the new one does not fit
  leave 100000
  ok prep-old-np$np ardm_np $np prep -format markov -out "$FS/p$np" -n 64 -length 32 -classes 4 -seed 1
  cat "$FS/p$np"/*.nc | cksum >"$T/p$np.sum"
  leave 300
  fails_exit prep-full-np$np 1 "(train|valid|test).nc: no space left on the device" \
    ardm_np $np prep -format markov -out "$FS/p$np" -n 2000 -length 32 -classes 4 -seed 2
  check prep-full-old-set-intact-np$np sh -c "cat '$FS/p$np'/*.nc | cksum | cmp - '$T/p$np.sum'"
  check prep-full-no-tmp-np$np no_tmp

  # export: WAV files (every rank) and text (rank 0) written to temporary names
  leave 8
  fails_exit export-wav-full-np$np 1 "sample_[0-9]+.wav: cannot write \(no space left on the device\)" \
    ardm_np $np export -format wav -in "$T/mk/train.nc" -out "$FS/wav$np"
  check export-wav-no-tmp-np$np no_tmp
done

# text export: a text data set whose text does not fit
printf 'the quick brown fox jumps over the lazy dog. %.0s' $(seq 1 400) >"$T/t.txt"
ok prep-text ardm_np 1 prep -format text -in "$T/t.txt" -out "$T/tx" -length 40 -valid_frac 0 -test_frac 0
leave 8
fails_exit export-txt-full 1 "sample.txt: cannot write \(no space left on the device\)" \
  ardm_np 2 export -format txt -in "$T/tx/train.nc" -out "$FS/txt"
check export-txt-no-tmp no_tmp

# PNG export: every rank's images and rank 0's grid, each through a temporary name
ok make-pngs /usr/bin/python3 tests/images.py png "$T/png" 60 8
ok prep-png ardm_np 1 prep -format png -in "$T/png" -out "$T/im" -height 8 -width 8
for np in 1 2; do
  rm -rf "$FS"/*
  leave 8
  fails_exit export-png-full-np$np 1 "sample_([0-9]+|grid).png: cannot write \(no space left on the device\)" \
    ardm_np $np export -format png -in "$T/im/train.nc" -out "$FS/png$np"
  check export-png-no-tmp-np$np no_tmp
done
finish
