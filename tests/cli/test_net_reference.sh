#!/bin/sh
# test_net_reference.sh: the audio, Transformer and image (U-Net) networks' forward values agree
# with independent numpy implementations (tests/reference/net_audio_ref.py, net_text_ref.py,
# net_image_ref.py) on the same weights and inputs, exchanged through NetCDF files that the C
# test programs write.
. "$(dirname "$0")/../lib.sh"

TESTS_DIR=${ARDM_TESTS:-build/tests}
ok dump "$TESTS_DIR/test_net" -net_reference_dump "$T/net.nc"
ok numpy_matches /usr/bin/python3 tests/reference/net_audio_ref.py "$T/net.nc"
# the Transformer with the distance bias on the attention scores and an input window of 2 (the
# defaults), and with neither
ok dump_text "$TESTS_DIR/test_net_text" -net_reference_dump "$T/net_text.nc"
ok numpy_matches_text /usr/bin/python3 tests/reference/net_text_ref.py "$T/net_text.nc"
check dump_text_has_bias test "$(/usr/bin/python3 tests/ncvar.py att "$T/net_text.nc" attn_bias)" = 1
ok dump_text_no_bias "$TESTS_DIR/test_net_text" -net_reference_dump "$T/net_text0.nc" -net_reference_attn_bias 0 -net_reference_window 0
ok numpy_matches_text_no_bias /usr/bin/python3 tests/reference/net_text_ref.py "$T/net_text0.nc"
check dump_text_has_window test "$(/usr/bin/python3 tests/ncvar.py att "$T/net_text.nc" window)" = 2
check bias_changes_output sh -c "! /usr/bin/python3 tests/ncvar.py same '$T/net_text.nc' '$T/net_text0.nc' output 1e-3"
ok dump_image "$TESTS_DIR/test_net_image" -net_reference_dump "$T/net_image.nc"
ok numpy_matches_image /usr/bin/python3 tests/reference/net_image_ref.py "$T/net_image.nc"
finish
