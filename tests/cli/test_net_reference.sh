#!/bin/sh
# test_net_reference.sh: the audio network's forward values agree with an independent numpy
# implementation (tests/reference/net_audio_ref.py) on the same weights and inputs, exchanged
# through a NetCDF file that the C test program writes.
. "$(dirname "$0")/../lib.sh"

TESTS_DIR=${ARDM_TESTS:-build/tests}
ok dump "$TESTS_DIR/test_net" -net_reference_dump "$T/net.nc"
ok numpy_matches /usr/bin/python3 tests/reference/net_audio_ref.py "$T/net.nc"
finish
