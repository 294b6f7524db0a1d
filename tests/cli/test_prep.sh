#!/bin/sh
# test_prep.sh: `ardm prep` end to end: the SC09-style recipe (real Speech Commands layout,
# split lists, labels), exact round trip of samples and text checked by an independent
# Python reader (tests/data/check_prep.py), identical files on 1, 2 and 4 ranks, WAV edge
# cases made here with sox (stereo, 8/24-bit, float, other rate, truncated header, not RIFF,
# empty, short, long, FLAC), -on_bad skip|error, -convert, -resample, list-file input, the
# text8 cleaning, bad options, and no half-written files after an error.
. "$(dirname "$0")/../lib.sh"
CHECK_PREP="/usr/bin/python3 $(dirname "$0")/../data/check_prep.py"

# data: the whole x and label variables, without the attributes that name the run
data_of() { # the data section (x, and label when present); fails when there is none
  [ -f "$1" ] || return 1
  vars=x; ncdump -h "$1" | grep -q ' label(' && vars=x,label
  ncdump -v "$vars" "$1" | sed -n '/^data:/,$p' | grep .
}
ncount() { ncdump -h "$1" | sed -n 's/.*example = \([0-9]*\) ;.*/\1/p'; }
same_sets() { # same_sets DIR_A DIR_B: every split present in A is identical in B
  for s in train valid test; do
    [ -f "$1/$s.nc" ] || { [ ! -f "$2/$s.nc" ] || return 1; continue; }
    data_of "$1/$s.nc" >"$T/a.cdl" && data_of "$2/$s.nc" >"$T/b.cdl" && cmp -s "$T/a.cdl" "$T/b.cdl" || return 1
  done
}

# ---- the SC09-style recipe (tiny size), split lists honoured, exact samples and labels ----
ok    sc09-recipe-tiny input/sc09/make.sh -size tiny -out "$T/sc09" -np 2
SC="$T/sc09/wav"
check sc09-layout sh -c "[ -d '$SC/zero' ] && [ -d '$SC/nine' ] && [ -s '$SC/validation_list.txt' ] && [ -s '$SC/testing_list.txt' ]"
check sc09-100-clips test "$(find "$SC" -name '*_nohash_*.wav' | wc -l)" -eq 100
check sc09-split-counts test "$(ncount "$T/sc09/train.nc") $(ncount "$T/sc09/valid.nc") $(ncount "$T/sc09/test.nc")" = "80 10 10"
check sc09-roundtrip-exact $CHECK_PREP wav "$SC" "$T/sc09" 16000
# speakers (the part before _nohash_) are disjoint between the splits
sed 's|.*/||; s|_nohash_.*||' "$SC/testing_list.txt" | sort -u >"$T/spk_test"
sed 's|.*/||; s|_nohash_.*||' "$SC/validation_list.txt" | sort -u >"$T/spk_valid"
find "$SC" -name '*.wav' | sed 's|.*/||; s|_nohash_.*||' | sort -u | comm -23 - "$T/spk_test" | comm -23 - "$T/spk_valid" >"$T/spk_train"
check sc09-speakers-disjoint sh -c "[ -z \"\$(comm -12 '$T/spk_test' '$T/spk_valid')\" ] && [ \$(wc -l <'$T/spk_train') -eq 8 ]"
# clips are real words: a loud part and a quiet part (sox stat: peak -1..-24 dBFS)
w=$(find "$SC/seven" -name '*.wav' | head -n 1)
check sc09-clip-levels sh -c "sox '$w' -n stat 2>&1 | awk '/Maximum amplitude/ { exit !(\$3 > 0.06 && \$3 < 0.95) }'"
# the recipe is deterministic for a fixed seed (and does not depend on -jobs)
ok    sc09-recipe-again input/sc09/make.sh -size tiny -out "$T/sc09b" -jobs 1
check sc09-deterministic sh -c "cd '$T/sc09/wav' && find . -name '*.wav' | sort | xargs cat | md5sum >'$T/m1' && cd '$T/sc09b/wav' && find . -name '*.wav' | sort | xargs cat | md5sum >'$T/m2' && cmp -s '$T/m1' '$T/m2'"
check sc09-info sh -c "'$ARDM' info '$T/sc09/test.nc' | grep -q 'modality audio'"

# ---- the same prep on 1, 2 and 4 ranks gives identical files ----
ok    ranks-1 ardm_np 1 prep -in "$SC" -out "$T/r1"
ok    ranks-4 ardm_np 4 prep -in "$SC" -out "$T/r4"
check ranks-1-2-identical same_sets "$T/r1" "$T/sc09"
check ranks-1-4-identical same_sets "$T/r1" "$T/r4"

# ---- WAV edge cases made with sox ----
E="$T/edge"
mkdir -p "$E/three" "$E/misc"
tone() { f=$1; shift; sox -n "$@" "$f" synth "$DUR" sine 440 vol 0.5; }
DUR=0.5 tone "$E/three/good_nohash_0.wav" -r 16000 -b 16 -c 1
DUR=0.2 tone "$E/three/short_nohash_0.wav" -r 16000 -b 16 -c 1
DUR=2.0 tone "$E/misc/long.wav" -r 16000 -b 16 -c 1
DUR=0.5 tone "$E/misc/flac16.flac" -r 16000 -b 16 -c 1
DUR=0.5 tone "$E/misc/stereo.wav" -r 16000 -b 16 -c 2
DUR=0.5 tone "$E/misc/u8.wav" -r 16000 -b 8 -c 1
DUR=0.5 tone "$E/misc/s24.wav" -r 16000 -b 24 -c 1
DUR=0.5 tone "$E/misc/float.wav" -r 16000 -b 32 -e floating-point -c 1
DUR=0.5 tone "$E/misc/rate8k.wav" -r 8000 -b 16 -c 1
head -c 30 "$E/three/good_nohash_0.wav" >"$E/misc/trunc_header.wav"
head -c 9000 "$E/misc/long.wav" >"$E/misc/trunc_data.wav" # header intact, samples cut short
head -c 4000 /dev/urandom >"$E/misc/noise_bytes.wav"
: >"$E/misc/empty.wav"
printf 'not audio\n' >"$E/misc/readme.txt" # not an audio name: not listed
NBAD=8 # stereo u8 s24 float rate8k trunc_header noise_bytes empty
fails_exit edge-error-names-file 1 'bad audio file .*misc/empty.wav' "$ARDM" prep -in "$E" -out "$T/e0"
fails_exit edge-error-exit 1 "$NBAD of 13 audio files are malformed" "$ARDM" prep -in "$E" -out "$T/e0"
check edge-error-writes-nothing sh -c "[ -z \"\$(ls -A '$T/e0' 2>/dev/null)\" ]"
"$ARDM" prep -in "$E" -out "$T/e0" >"$T/edge.log" 2>&1
for name in stereo.wav u8.wav s24.wav float.wav rate8k.wav trunc_header.wav noise_bytes.wav empty.wav; do
  check "edge-reported-$name" grep -q "misc/$name" "$T/edge.log"
done
check edge-reasons sh -c "grep -q '2 channels' '$T/edge.log' && grep -q '8-bit' '$T/edge.log' && grep -q '24-bit' '$T/edge.log' && grep -q 'float' '$T/edge.log' && grep -q '8000 Hz' '$T/edge.log'"
ok    edge-skip "$ARDM" prep -in "$E" -out "$T/e1" -on_bad skip -valid_frac 0 -test_frac 0
check edge-skip-count test "$(ncount "$T/e1/train.nc")" -eq 5
check edge-skip-no-empty-splits sh -c "[ ! -e '$T/e1/valid.nc' ] && [ ! -e '$T/e1/test.nc' ]"
ardm_np 2 prep -in "$E" -out "$T/e2" -on_bad skip -valid_frac 0 -test_frac 0 >"$T/skip.log" 2>&1
check edge-skip-reports-names sh -c "grep -q 'skipping .*misc/noise_bytes.wav' '$T/skip.log' && grep -q 'skipped 8 bad audio files' '$T/skip.log'"
check edge-skip-ranks-identical same_sets "$T/e1" "$T/e2"
ok    edge-convert-resample ardm_np 4 prep -in "$E" -out "$T/e3" -on_bad skip -convert -resample -valid_frac 0 -test_frac 0
check edge-convert-count test "$(ncount "$T/e3/train.nc")" -eq 10
# exact values: sorted order is flac16, long, trunc_data, three/good, three/short (misc < three)
/usr/bin/python3 - "$T/e1/train.nc" "$E" >"$T/py.log" 2>&1 <<'PY'
import sys, wave, numpy as np, netCDF4
f = netCDF4.Dataset(sys.argv[1]); f.set_auto_mask(False)
x = np.array(f["x"][:], dtype=np.int64); lab = np.array(f["label"][:])
def samples(p):
    with wave.open(p) as w: return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int64) + 32768
long_, good, short = samples(sys.argv[2] + "/misc/long.wav"), samples(sys.argv[2] + "/three/good_nohash_0.wav"), samples(sys.argv[2] + "/three/short_nohash_0.wav")
assert x.shape == (5, 16000), x.shape
assert np.array_equal(x[1], long_[:16000]), "long clip not trimmed to its first 16000 samples"
assert np.array_equal(x[3][:8000], good) and (x[3][8000:] == 32768).all(), "0.5 s clip not padded with 32768"
assert np.array_equal(x[4][:3200], short) and (x[4][3200:] == 32768).all(), "short clip not padded"
n = (9000 - 44) // 2  # the samples left after `head -c 9000` (sox writes a 44-byte header)
assert np.array_equal(x[2][:n], long_[:n]) and (x[2][n:] == 32768).all(), "truncated data not read as far as it goes"
assert abs(np.abs(x[0][:8000] - 32768).max() - 16384) < 200, "FLAC clip amplitude"
assert list(lab) == [-1, -1, -1, 3, 3], list(lab)
print("ok")
PY
check edge-values-pad-trim-flac-labels sh -c "cat '$T/py.log'; grep -q '^ok' '$T/py.log'"

# ---- -digits_only (SC09 out of Speech Commands) and explicit split lists ----
ok    digits-only "$ARDM" prep -in "$E" -out "$T/d1" -digits_only -valid_frac 0 -test_frac 0
check digits-only-count test "$(ncount "$T/d1/train.nc")" -eq 2
printf './three/short_nohash_0.wav\n' >"$T/test_list.txt"
ok    explicit-test-list "$ARDM" prep -in "$E" -out "$T/d2" -digits_only -test_list "$T/test_list.txt"
check explicit-test-list-counts sh -c "[ \$(ncdump -h '$T/d2/test.nc' | grep -c 'example = 1 ;') -eq 1 ] && [ ! -e '$T/d2/valid.nc' ]"

# ---- list-file input (relative to the list's folder, or absolute) ----
printf 'three/good_nohash_0.wav\n\n# a comment\n%s\n' "$E/misc/long.wav" >"$E/files.txt"
ok    list-file "$ARDM" prep -in "$E/files.txt" -out "$T/l1" -valid_frac 0 -test_frac 0
check list-file-count test "$(ncount "$T/l1/train.nc")" -eq 2
printf 'three/missing.wav\n' >"$E/missing.txt"
fails_exit list-file-missing-entry 1 'bad audio file .*three/missing.wav' "$ARDM" prep -in "$E/missing.txt" -out "$T/l2"

# ---- hashed split without lists keeps speakers together ----
mkdir -p "$T/h/zero" "$T/h/one"
for s in aa bb cc dd ee ff gg hh ii jj kk ll; do for d in zero one; do cp "$E/three/good_nohash_0.wav" "$T/h/$d/${s}_nohash_0.wav"; done; done
ok    hashed-split "$ARDM" prep -in "$T/h" -out "$T/h1" -valid_frac 0.3 -test_frac 0.3 -seed 5
check hashed-split-pairs sh -c "for s in train valid test; do [ ! -f '$T/h1/'\$s.nc ] || [ \$(( \$(ncdump -h '$T/h1/'\$s.nc | sed -n 's/.*example = \([0-9]*\) ;.*/\1/p') % 2 )) -eq 0 ] || exit 1; done"

# ---- a stale split from an earlier run is removed, not mixed with the new one ----
ok    stale-first "$ARDM" prep -in "$SC" -out "$T/st"
ok    stale-second "$ARDM" prep -in "$E/files.txt" -out "$T/st" -valid_frac 0 -test_frac 0
check stale-removed sh -c "[ -f '$T/st/train.nc' ] && [ ! -e '$T/st/valid.nc' ] && [ ! -e '$T/st/test.nc' ]"

# ---- text ----
printf 'The Quick, Brown fox: 1984 jumps!\n\tover  the LAZY dog -- 42 times.\n%.0s' $(seq 1 60) >"$T/t.txt"
printf 'caf\303\251 na\303\257ve \342\200\224 \303\274ber 7\n' >>"$T/t.txt"
ok    text-prep "$ARDM" prep -format text -in "$T/t.txt" -out "$T/tx1" -length 40 -valid_frac 0.1 -test_frac 0.1
check text-exact $CHECK_PREP text "$T/t.txt" "$T/tx1" 40 0.1 0.1
ok    text-prep-np4 ardm_np 4 prep -format text -in "$T/t.txt" -out "$T/tx4" -length 40 -valid_frac 0.1 -test_frac 0.1
check text-ranks-identical same_sets "$T/tx1" "$T/tx4"
ok    text-default-split ardm_np 2 prep -format text -in "$T/t.txt" -out "$T/tx2"
check text-default-split-exact $CHECK_PREP text "$T/t.txt" "$T/tx2" 250 0.05 0.05
ok    text8-recipe input/text8/make.sh -out "$T/t8" -in "$T/t.txt" -length 30
ok    text8-recipe-debian input/text8/make.sh -out "$T/t8d" -sources devil -length 100
check text8-recipe-debian-sets test -s "$T/t8d/train.nc" -a -s "$T/t8d/valid.nc" -a -s "$T/t8d/test.nc"
fails_exit text8-recipe-bad-source 1 "unknown source 'nope'" input/text8/make.sh -out "$T/t8e" -sources nope
printf 'tiny' >"$T/tiny.txt"
fails_exit text-too-short 1 'needs at least' "$ARDM" prep -format text -in "$T/tiny.txt" -out "$T/tx3"
fails_exit text-wav-option 1 'apply to -format wav only' "$ARDM" prep -format text -in "$T/t.txt" -out "$T/tx3" -sample_rate 8000

# ---- bad options and inputs: one clear line, non-zero exit ----
fails_exit missing-in 1 'missing -in' "$ARDM" prep -out "$T/x"
fails_exit missing-out 1 'missing -out' "$ARDM" prep -in "$SC"
fails_exit in-not-found 1 "$T/nope: No such file" "$ARDM" prep -in "$T/nope" -out "$T/x"
mkdir -p "$T/empty_dir"
fails_exit no-audio-files 1 'no audio files found' "$ARDM" prep -in "$T/empty_dir" -out "$T/x"
fails_exit bad-format 1 "-format mp3: expected wav, text" "$ARDM" prep -format mp3 -in "$SC" -out "$T/x"
fails_exit unknown-option 1 'unknown option -lenght' "$ARDM" prep -in "$SC" -out "$T/x" -lenght 10
fails_exit bad-length 1 '-length 0' "$ARDM" prep -in "$SC" -out "$T/x" -length 0
fails_exit bad-fracs 1 'sum below 1' "$ARDM" prep -in "$SC" -out "$T/x" -valid_frac 0.5 -test_frac 0.5
: >"$T/a_file"
fails_exit out-not-dir 1 "-out $T/a_file: not a writable directory" ardm_np 2 prep -in "$SC" -out "$T/a_file"
fails_exit bad-on-bad 1 '-on_bad ignore: expected error or skip' "$ARDM" prep -in "$SC" -out "$T/x" -on_bad ignore
fails_exit bad-valid-list 1 '-valid_list .*cannot read' "$ARDM" prep -in "$SC" -out "$T/x" -valid_list "$T/none.txt"
check no-tmp-files-left sh -c "! find '$T' -name '*.tmp*' | grep -q ."
finish
