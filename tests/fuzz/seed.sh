#!/bin/sh
# tests/fuzz/seed.sh DIR: the fuzzing seeds, real outputs of every reader's kind made by a tiny
# run of bin/ardm (data sets, checkpoints, loss components, plans, training logs, samples) plus
# WAV/FLAC, text and PNG inputs of prep, into DIR/<reader>/ (tests/fuzz/fuzz_target.c names them).
set -eu
cd "$(dirname "$0")/../.."
D=$1
A=${ARDM_BIN:-bin/ardm}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
W=$(mktemp -d "${TMPDIR:-/tmp}/ardm-fuzz-seed.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$D/dataset" "$D/ckpt" "$D/loss" "$D/plan" "$D/trainlog" "$D/info" "$D/wav" "$D/text" "$D/png"
q() { "$@" >/dev/null; }
q $A prep -format markov -out "$W/m" -n 16 -length 16 -classes 4 -seed 3
q $A train -data "$W/m/train.nc" -out "$W/r" -steps 4 -batch 4 -model_blocks 1 -model_channels 4 -log_every 2
q $A train -data "$W/m/train.nc" -out "$W/u" -steps 2 -batch 4 -model_blocks 1 -model_channels 4 -upscale_b 2
printf 'The quick brown fox, jumps over the lazy dog! 1234\nSecond line.\n' >"$W/t.txt"
q $A prep -format text -in "$W/t.txt" -out "$W/t" -length 8
q $A train -data "$W/t/train.nc" -out "$W/rt" -steps 2 -batch 2 -model transformer -model_layers 1 -model_width 8 \
  -model_heads 2
q $A eval -ckpt "$W/r/checkpoint.nc" -data "$W/m/test.nc" -out "$W/ev.nc"
q $A plan -loss "$W/r/loss_t.nc" -out "$W/plan.nc" -budgets 2,4
q $A sample -ckpt "$W/r/checkpoint.nc" -plan "$W/plan.nc" -budget 4 -n 2 -out "$W/s.nc"
cp "$W/m/train.nc" "$D/dataset/markov.nc"
cp "$W/t/train.nc" "$D/dataset/text.nc"
cp "$(readlink -f "$W/r/checkpoint.nc")" "$D/ckpt/audio.nc"
cp "$(readlink -f "$W/u/checkpoint.nc")" "$D/ckpt/upscale.nc"
cp "$(readlink -f "$W/rt/checkpoint.nc")" "$D/ckpt/text.nc"
cp "$W/r/loss_t.nc" "$D/loss/loss_t.nc"
cp "$W/u/loss_t.nc" "$D/loss/upscale.nc"
cp "$W/ev.nc" "$D/loss/eval.nc"
cp "$W/plan.nc" "$D/plan/plan.nc"
cp "$W/r/train_log.nc" "$D/trainlog/train_log.nc"
cp "$W/s.nc" "$D/info/samples.nc"
cp "$W/ev.nc" "$D/info/eval.nc"
cp "$W/plan.nc" "$D/info/plan.nc"
cp "$W/m/test.nc" "$D/info/dataset.nc"
# prep's byte readers: a few WAV/FLAC shapes (sox), text, PNG (tests/images.py)
sox -n -r 16000 -b 16 -c 1 "$D/wav/mono16k.wav" synth 0.05 sine 440
sox -n -r 44100 -b 8 -c 2 "$D/wav/stereo8.wav" synth 0.02 sine 300
sox -n -r 16000 -b 16 -c 1 "$D/wav/short.flac" synth 0.01 sine 200
cp "$W/t.txt" "$D/text/t.txt"
printf 'Caf\303\251 na\303\257ve \342\200\224 UTF-8, tabs\tand\r\nCRLF.' >"$D/text/utf8.txt"
/usr/bin/python3 tests/images.py png-flat "$W/png" 4 32 >/dev/null
find "$W/png" -name "*.png" | head -n 4 | while read -r f; do cp "$f" "$D/png/"; done
echo "seeds in $D: $(find "$D" -type f | wc -l) files"
