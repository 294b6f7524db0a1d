#!/bin/sh
# test_watchdog.sh: a file that makes the HDF5 library loop forever (tests/data/hdf5_loop.nc: a
# data set the fuzzer damaged, with a corrupted global heap that HDF5 walks in a circle while
# NetCDF reads a variable's dimension scales) ends every command that reads it with exit 1 and
# one line naming it once ARDM_IO_TIMEOUT seconds pass without progress, on 1 and 2 ranks. A bad
# ARDM_IO_TIMEOUT is bad input; a short limit does not touch a good run, whose data set stays
# open for the whole training.
. "$(dirname "$0")/../lib.sh"
cp "$(dirname "$0")/../data/hdf5_loop.nc" "$T/loop.nc"
MSG="$T/loop.nc: reading the file made no progress for 2 s \(ARDM_IO_TIMEOUT\): the file is damaged in a way the HDF5 library loops on"
one_line() { check "$1-one-line" test "$(grep -c 'error:' "$T/.out.$$")" -eq 1; }

export ARDM_IO_TIMEOUT=2
for np in 1 2; do
  fails_exit info-np$np 1 "^ardm info: error: $MSG" ardm_np $np info "$T/loop.nc"
  one_line info-np$np
  fails_exit train-np$np 1 "^ardm train: error: $MSG" ardm_np $np train -data "$T/loop.nc" -out "$T/r$np" -steps 2
  one_line train-np$np
  check train-np$np-no-output test ! -e "$T/r$np/checkpoint.nc"
done

# a good run with a 1-second limit: its data set stays open for longer than that (200 steps take
# several seconds even on an idle machine), unwatched once its header was checked
ok make-data ardm_np 1 prep -format markov -out "$T/d" -n 64 -length 16 -classes 4
ARDM_IO_TIMEOUT=1 ok train-good ardm_np 2 train -data "$T/d/train.nc" -out "$T/g" -steps 200 -log_every 50 \
  -model_blocks 2 -model_channels 8 -batch 4
ARDM_IO_TIMEOUT=1 ok info-good ardm_np 2 info "$T/g/checkpoint.nc"

for v in abc -5 90000 2.5; do
  ARDM_IO_TIMEOUT=$v fails_exit bad-value-$v 1 \
    "^ardm info: error: ARDM_IO_TIMEOUT=$v: expected whole seconds in 0\.\.86400 \(0 = no limit on reading a file's metadata\)$" \
    ardm_np 2 info "$T/d/train.nc"
  one_line bad-value-$v
done
finish
