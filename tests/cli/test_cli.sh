#!/bin/sh
# test_cli.sh: the command-line contract: usage, subcommand dispatch, -help, unknown options,
# -options_file, one-line errors with a non-zero exit on every rank, ardm info.
. "$(dirname "$0")/../lib.sh"

fails_exit usage-without-command 1 'usage: .*ardm <command>' "$ARDM"
ok    help-lists-commands "$ARDM" -help
check help-names-all-commands sh -c "'$ARDM' -help | grep -q prep && '$ARDM' -help | grep -q sample && '$ARDM' -help | grep -q info"
fails_exit unknown-command 1 "unknown command 'trian'" "$ARDM" trian
ok    version "$ARDM" -version

# -help documents every option with its default ("<now ...>" is PETSc's default marker)
check prep-help-documents-options sh -c "'$ARDM' prep -help 2>&1 | grep -q -- '-format' && '$ARDM' prep -help 2>&1 | grep -q -- '-length <now 16000'"

# a misspelt option is an error naming it, not silently ignored
fails_exit info-unknown-option 1 'unknown option -bogus' "$ARDM" info x.nc -bogus 3
# a value PETSc cannot parse or out of range, and a stray word: input errors (exit 1)
fails_exit option-bad-value 1 'error: -length abc: expected an integer in 1\.\.1073741824$' "$ARDM" prep -format markov -length abc -out "$T/x"
fails_exit option-out-of-range 1 'error: -classes 1: expected an integer in 2\.\.65536$' ardm_np 2 prep -format markov -classes 1 -out "$T/x"
fails_exit stray-argument 1 "unexpected argument 'extra'" "$ARDM" prep -format markov -out "$T/x" extra
# -options_file is read (the file's misspelt option is reported)
printf -- '-steps_typo 5\n' >"$T/opts"
fails_exit options-file-read 1 'unknown option -steps_typo' "$ARDM" info x.nc -options_file "$T/opts"
fails_exit options-file-missing 1 'opts-missing|Unable to open|options file' "$ARDM" info x.nc -options_file "$T/opts-missing"

# errors on 2 ranks: one line, from rank 0, and every rank exits non-zero
fails_exit info-missing-file-np2 1 "$T/none.nc: cannot read the file" ardm_np 2 info "$T/none.nc"
ardm_np 2 info "$T/none.nc" >"$T/err2" 2>&1
check one-error-line-np2 test "$(grep -c 'error:' "$T/err2")" -eq 1
printf 'not netcdf' >"$T/junk.nc"
fails_exit info-not-netcdf 1 "$T/junk.nc: not a readable NetCDF-4 file" "$ARDM" info "$T/junk.nc"
fails_exit info-no-file 1 'no file given' "$ARDM" info

# ardm info on a real data set made by prep (text: quick)
printf 'Hello World 42, the quick brown fox.\n%.0s' $(seq 1 40) >"$T/text.txt"
ok    prep-text-for-info ardm_np 2 prep -format text -in "$T/text.txt" -out "$T/ds" -length 50
ok    info-dataset "$ARDM" info "$T/ds/train.nc"
check info-shows-summary sh -c "'$ARDM' info '$T/ds/train.nc' | grep -q 'K = 27 classes, modality text, split train'"
finish
