#!/bin/sh
# test_longpath.sh: paths of about 300 characters work in every command on 1 and 2 ranks
# (Open MPI's "sm" shared-file-pointer component overflowed a buffer on paths of 235+
# characters inside MPI_File_open; ncio_mpi_env selects ROMIO, which has none).
. "$(dirname "$0")/../lib.sh"
L="$T/$(printf 'a%.0s' $(seq 1 140))/$(printf 'b%.0s' $(seq 1 140))"
mkdir -p "$L"
check path-is-long test "$(printf %s "$L" | wc -c)" -ge 290
for np in 1 2; do
  ok prep-np$np ardm_np $np prep -format markov -out "$L/d$np" -n 64 -length 32 -classes 4 -seed 3
  ok train-np$np ardm_np $np train -data "$L/d$np/train.nc" -out "$L/r$np" -steps 2 -batch 4 -model_blocks 1 \
    -model_channels 4
  ok eval-np$np ardm_np $np eval -ckpt "$L/r$np/checkpoint.nc" -data "$L/d$np/valid.nc" -out "$L/e$np.nc" -draws 1
  ok plan-np$np ardm_np $np plan -loss "$L/r$np/loss_t.nc" -out "$L/p$np.nc" -budgets 4
  ok sample-np$np ardm_np $np sample -ckpt "$L/r$np/checkpoint.nc" -plan "$L/p$np.nc" -budget 4 -n 2 -out "$L/s$np.nc"
  ok export-np$np ardm_np $np export -format wav -in "$L/s$np.nc" -out "$L/w$np"
  ok info-np$np ardm_np $np info "$L/s$np.nc"
done
finish
