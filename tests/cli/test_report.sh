#!/bin/sh
# test_report.sh: `ardm report RUN_DIR` as a person would look at it: a tiny run (plans during
# training, eval, eval -plan, samples) and a tiny audio run get reports whose index.html is
# rendered by headless Chromium (Debian chromium) to a PNG that is not blank, in which every
# figure and every audio player loaded; every figure's axes are labelled (the report's
# manifest.json); a running run, a corrupt file and a scaling directory give lines in the
# report, not a crash; a missing directory is a one-line error.
. "$(dirname "$0")/../lib.sh"
RC="/usr/bin/python3 tests/report_check.py"
CHROMIUM=$(command -v chromium || command -v chromium-browser || echo chromium)
small="-model_blocks 1 -model_channels 8"

# render DIR NAME: screenshot DIR/index.html to $T/NAME.png, and in a page that frames it, list
# the <img> and <audio> elements that did not load (the browser's own verdict)
render() {
  cat >"$T/$2-check.html" <<HTML
<!DOCTYPE html><html><body><pre id="result">PENDING</pre>
<iframe id="f" src="file://$1/index.html" width="1200" height="900"></iframe>
<script>
function check() {
  const d = document.getElementById('f').contentDocument;
  const imgs = Array.from(d.querySelectorAll('img')), auds = Array.from(d.querySelectorAll('audio'));
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))
    .concat(auds.filter(a => a.readyState < 1 || !(a.duration > 0)).map(a => a.getAttribute('src')));
  document.getElementById('result').textContent = 'LOADED img=' + imgs.length + ' audio=' + auds.length + ' bad=' + bad.join(',') + ';';
}
document.getElementById('f').addEventListener('load', () => setTimeout(check, 2000));
</script></body></html>
HTML
  flags="--headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files"
  timeout 120 "$CHROMIUM" $flags --window-size=1200,3000 --screenshot="$T/$2.png" "file://$1/index.html" \
    >"$T/$2-shot.log" 2>&1
  timeout 120 "$CHROMIUM" $flags --virtual-time-budget=10000 --dump-dom "file://$T/$2-check.html" 2>/dev/null |
    grep -o 'LOADED [^;]*' >"$T/$2.loaded"
  cat "$T/$2.loaded"
}
# loaded NAME IMGS AUDIO: the browser loaded at least IMGS images and exactly AUDIO players, none broken
loaded() { grep -Eq "^LOADED img=([0-9]+) audio=$3 bad=$" "$T/$1.loaded" &&
  [ "$(sed 's/.*img=\([0-9]*\).*/\1/' "$T/$1.loaded")" -ge "$2" ]; }

# ---- a whole tiny run
ok prep ardm_np 2 prep -format markov -out "$T/m" -n 48 -length 24 -classes 4 -p_stay 0.8 -seed 5
ok train ardm_np 2 train -data "$T/m/train.nc" -out "$T/r" -steps 20 -batch 8 $small -lr 3e-3 -log_every 2 \
  -ckpt_every 10 -plan_budgets 4,8
ok eval ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/valid.nc" -out "$T/r/eval.nc" -draws 2
ok plan ardm_np 1 plan -loss "$T/r/eval.nc" -out "$T/r/plan.nc" -budgets 4,8,16
ok eval-plan ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/valid.nc" -out "$T/r/eval_plan.nc" -draws 1 \
  -plan "$T/r/plan.nc"
ok sample ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/r/plan.nc" -budget 8 -n 4 -out "$T/r/samples.nc"
ok report ardm_np 1 report "$T/r"
check report-sections $RC sections "$T/r/report" summary training losses planning evaluation samples
check report-no-problems $RC noproblems "$T/r/report"
check report-axes-labelled $RC axes "$T/r/report"
check report-plan-history test -f "$T/r/report/plan_history.png"
check report-codec-baselines sh -c "grep -q 'gzip -9 on' '$T/r/report/index.html' && grep -q 'xz -9e on' '$T/r/report/index.html'"
render "$T/r/report" run
check chromium-not-blank $RC notblank "$T/run.png"
check chromium-all-loaded loaded run 9 0

# ---- audio: waveform, spectrogram and a player per sample; FLAC baseline
mkdir -p "$T/w/one" "$T/w/two"
for i in 0 1 2 3 4 5; do
  sox -n -r 16000 -b 16 -c 1 "$T/w/one/a${i}_nohash_0.wav" synth 0.1 sine $((300 + 50 * i)) vol 0.5
  sox -n -r 16000 -b 16 -c 1 "$T/w/two/b${i}_nohash_0.wav" synth 0.1 sine $((700 + 50 * i)) vol 0.3
done
ok prep-audio ardm_np 1 prep -in "$T/w" -out "$T/a" -length 1600
ok train-audio ardm_np 2 train -data "$T/a/train.nc" -out "$T/ra" -steps 4 -batch 2 $small -head logistic_mixture \
  -mixtures 2 -log_every 2 -plan_budgets 10
ok eval-audio ardm_np 2 eval -ckpt "$T/ra/checkpoint.nc" -data "$T/a/train.nc" -out "$T/ra/eval.nc" -draws 1 \
  -max_examples 4
ok sample-audio ardm_np 2 sample -ckpt "$T/ra/checkpoint.nc" -plan "$T/ra/plan.nc" -budget 10 -n 2 \
  -out "$T/ra/samples.nc"
ok report-audio ardm_np 2 report "$T/ra" -max_samples 2
check audio-wavs sh -c "ls '$T/ra/report' | grep -c '^sample_[0-9]*\.wav$' | grep -qx 2"
check audio-flac-baseline grep -q 'FLAC -8 on 4 examples' "$T/ra/report/index.html"
check audio-axes-labelled $RC axes "$T/ra/report"
render "$T/ra/report" audio
check chromium-audio-not-blank $RC notblank "$T/audio.png"
check chromium-audio-players-loaded loaded audio 8 2

# ---- an upscale model: the loss components one panel per stage
ok train-upscale ardm_np 2 train -data "$T/m/train.nc" -out "$T/ru" -steps 4 -batch 8 $small -upscale_b 2 \
  -log_every 2
ok report-upscale ardm_np 1 report "$T/ru"
check upscale-stage-panels sh -c "grep -q '\"title\": \"stage 0\"' '$T/ru/report/manifest.json' &&
  grep -q '\"title\": \"stage 1\"' '$T/ru/report/manifest.json'"
check upscale-axes-labelled $RC axes "$T/ru/report"

# ---- a run that is training while the report reads it (files are replaced as it goes)
ardm_np 2 train -data "$T/m/train.nc" -out "$T/rb" -steps 1000000 -batch 8 $small -log_every 2 -ckpt_every 4 \
  -plan_budgets 4 >"$T/bg.log" 2>&1 &
bg=$!
i=0
while [ $i -lt 120 ] && ! { [ -f "$T/rb/plan.nc" ] && [ -f "$T/rb/train_log.nc" ]; }; do sleep 0.5; i=$((i + 1)); done
ok report-while-training ardm_np 1 report "$T/rb"
kill -TERM $bg 2>/dev/null
wait $bg
check running-sections $RC sections "$T/rb/report" summary training losses planning
check running-axes-labelled $RC axes "$T/rb/report"

# ---- a run still training (only the first files), with a corrupt eval file
mkdir -p "$T/part"
cp "$T/r/train_log.nc" "$T/r/checkpoint.nc" "$T/part/"
head -c 3000 "$T/r/eval.nc" >"$T/part/eval.nc"
ok report-partial ardm_np 1 report "$T/part" -out "$T/part-report"
check partial-training-shown $RC sections "$T/part-report" summary training
check partial-corrupt-is-a-line $RC problem "$T/part-report" '^eval\.nc: unreadable'
check partial-missing-samples-line $RC problem "$T/part-report" '^samples: no samples file'
check partial-axes-labelled $RC axes "$T/part-report"

# ---- a scaling directory (jobs/scaling.sbatch task files, no train logs)
mkdir -p "$T/sc"
for p in 1 2 4; do
  w=$(awk -v p=$p 'BEGIN { printf "%.3f", 8.0 / p + 0.3 * (p - 1) }')
  ncgen -4 -o "$T/sc/strong_np$p.nc" <<CDL
netcdf t { variables: int ranks ; int batch ; int batch_per_rank ; int steps ; double wall_s ;
:ardm_kind = "scaling_task" ; :mode = "strong" ; data: ranks = $p ; batch = 8 ; batch_per_rank = $((8 / p)) ;
steps = 10 ; wall_s = $w ; }
CDL
done
ok report-scaling ardm_np 1 report "$T/sc"
check scaling-section $RC sections "$T/sc/report" scaling
check scaling-axes-labelled $RC axes "$T/sc/report"
check scaling-no-run-noise $RC noproblems "$T/sc/report"

fails_exit not-a-directory 1 'ardm report: error: .*/nope: not a run directory \(No such file or directory\)' \
  ardm_np 1 report "$T/nope"
fails_exit two-directories 1 'ardm report: error: expected one run directory' ardm_np 1 report "$T/r" "$T/ra"
finish
