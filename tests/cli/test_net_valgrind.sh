#!/bin/sh
# test_net_valgrind.sh: valgrind finds no leaks and no invalid accesses in a setup / two
# training steps / free cycle of the audio network with the logistic-mixture head
# (tests/unit/net_cycle.c). The program is compiled here from the engine's sources for plain
# AVX2 (valgrind cannot decode the AVX-512 code -march=native gives on this machine), with
# OpenMP (nn_gemm asks it for the thread count; OMP_NUM_THREADS=1 starts no team), and does
# not start MPI, so Open MPI's own allocations do not appear in the report.
. "$(dirname "$0")/../lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
  echo "SKIP $TEST_NAME: valgrind is not installed"
  finish
fi
PETSC_DIR=${PETSC_DIR:-/usr/lib/petsc}
export PKG_CONFIG_PATH="$PETSC_DIR/lib/pkgconfig:${PKG_CONFIG_PATH:-}"
ok build mpicc -std=c11 -D_GNU_SOURCE -g -O1 -march=x86-64-v3 -fopenmp -Isrc $(pkg-config --cflags PETSc openblas) \
  tests/unit/net_cycle.c src/nn/net.c src/nn/net_audio.c src/nn/heads.c src/nn/layers.c src/nn/layer_act.c src/nn/layer_norm.c src/core/rng.c \
  src/core/errors.c src/core/prof.c -o "$T/net_cycle" -fopenmp $(pkg-config --libs PETSc openblas) -lm
# --errors-for-leak-kinds=definite,indirect: memory still reachable from OpenBLAS's thread
# pool at exit is not a leak; anything lost is, and so is any invalid read or write.
# OPENBLAS_CORETYPE=Haswell keeps OpenBLAS on AVX2 kernels too (valgrind cannot run AVX-512).
ok valgrind_clean env OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
  "$T/net_cycle"
finish
