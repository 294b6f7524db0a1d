# ardm build: one binary bin/ardm, a static library of everything but main (for tests and
# benchmarks), and the test programs. Dependencies come from pkg-config; see INSTALL.
#   make            build bin/ardm
#   make deps       install the Debian packages the project needs (idempotent)
#   make check      deps + build + all tests (unit, MPI at 1/2/4 ranks, CLI, Slurm)
#   make demo       deps + build + the main job end to end on the small default data
#   make asan       the same build with AddressSanitizer/UBSan into build/asan/
#   make check-asan the tests against the sanitizer build
#   make fuzz       libFuzzer build of the file readers (tests/fuzz/run.sh runs it)
#   make bench      build the benchmark programs (benchmarks/README.md says how to run each)
#   make text8      the text8-style data set from Debian's English text (input/text8/make.sh)
#   make images     the CIFAR-like icon set from Debian's icon themes (input/images/make.sh)
#   make check-layers  includes only point down the layers of src/ (run by make check)
#   make format-check  the sources follow .clang-format (run by CI)

MPICC     ?= mpicc
PETSC_DIR ?= /usr/lib/petsc
export PKG_CONFIG_PATH := $(PETSC_DIR)/lib/pkgconfig:$(PKG_CONFIG_PATH)
PKGS      := netcdf-mpi PETSc scalapack-openmpi openblas sndfile libpng

BUILD ?= build
BIN   ?= bin
OPT   ?= -O3 -march=native
WARN  := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN  += -Werror
endif
SAN   ?=
# The parallel netcdf.h/netcdf_par.h live under the netcdf-mpi prefix, not its includedir.
# Recursively expanded (=): pkg-config runs when a recipe needs the flags, i.e. after `deps`
# has installed the packages on a fresh machine, not when the Makefile is read.
PKG_CFLAGS = -I$(shell pkg-config --variable=prefix netcdf-mpi 2>/dev/null)/include \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CFLAGS  = -std=c11 -D_GNU_SOURCE -g $(OPT) -fopenmp $(WARN) $(SAN) -MMD -MP -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS = -fopenmp $(SAN) $(EXTRA_LDFLAGS)

# src/ is layered (doc/design.md): core <- nn <- ardm <- io <- prep <- cmd.
LAYERS   := core nn ardm io prep cmd
SRCS     := $(sort $(wildcard $(LAYERS:%=src/%/*.c)))
LIB_SRCS := $(filter-out src/cmd/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libardm.a
TESTS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
BENCHES  := $(patsubst benchmarks/%.c,$(BUILD)/bench/%,$(wildcard benchmarks/*.c))
FORMATTED = $(SRCS) $(wildcard src/*/*.h tests/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h benchmarks/*.c benchmarks/*.h input/*/*.c)

.PHONY: all deps build tests benches fuzz text8 images check check-layers check-asan demo asan bench clean install format format-check \
  _build _tests _benches
# Every public target runs `deps` first and then a fresh make of an internal _target, so that
# the compiler flags are read after the packages exist (a fresh machine has no pkg-config data):
# any target works as the first command ever run on a fresh machine.
all: build
# Public targets given together (`make build tests bench -j2`) each start a sub-make that would
# rebuild the same library at once (one sub-make's `ar` racing another's links): the top level
# runs them one after the other; each sub-make still builds with -j.
ifeq ($(MAKELEVEL),0)
.NOTPARALLEL:
endif
build: deps
	@$(MAKE) --no-print-directory _build
_build: $(BIN)/ardm

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS) -c $< -o $@
$(LIB): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BIN)/ardm: $(BUILD)/obj/cmd/main.o $(LIB) | $(BIN)
	$(MPICC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)
$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(BUILD)/tests
	$(MPICC) $(CFLAGS) -Itests $< $(LIB) -o $@ $(LDFLAGS) $(PKG_LIBS)
# The corpus replay also compiles the fuzz entry point (tests/fuzz/fuzz_target.c).
$(BUILD)/tests/test_fuzz_corpus: tests/unit/test_fuzz_corpus.c tests/fuzz/fuzz_target.c $(LIB) | $(BUILD)/tests
	$(MPICC) $(CFLAGS) -Itests tests/unit/test_fuzz_corpus.c tests/fuzz/fuzz_target.c $(LIB) -o $@ $(LDFLAGS) $(PKG_LIBS)
$(BUILD)/bench/%: benchmarks/%.c $(LIB) | $(BUILD)/bench
	$(MPICC) $(CFLAGS) -Ibenchmarks $< $(LIB) -o $@ $(LDFLAGS) $(PKG_LIBS)
$(BUILD)/tests $(BUILD)/bench $(BIN):
	mkdir -p $@
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Debian packages: build (MPI, NetCDF, PETSc, ScaLAPACK, OpenBLAS, libsndfile, Random123),
# data recipes (espeak-ng, sox, flac), numpy reference tests, xarray/matplotlib (CF checks and
# `ardm report`), chromium (renders the report in its test), a private Slurm for job tests, and
# the image recipe's renderers (librsvg through python3-gi, PIL; its test draws its own icons),
# and the smallest text8 source (dict-devil, 0.3 MB: test_prep runs the Debian text recipe on it).
DEB_PKGS := make gcc pkg-config libopenmpi-dev openmpi-bin libscalapack-openmpi-dev libnetcdf-mpi-dev \
  netcdf-bin petsc-dev libopenblas-dev libsndfile1-dev librandom123-dev espeak-ng sox flac \
  python3-numpy python3-netcdf4 python3-xarray python3-matplotlib chromium slurm-wlm munge libespeak-ng-dev \
  jargon-text valgrind clang-format libpng-dev python3-gi python3-gi-cairo gir1.2-rsvg-2.0 python3-cairo \
  python3-pil dict-devil
deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "make deps: all $(words $(DEB_PKGS) $(EXTRA_DEB_PKGS)) packages present"; \
	elif [ -n "$$ARDM_SKIP_DEPS" ]; then echo "make deps: skipped (ARDM_SKIP_DEPS); missing:$$missing"; \
	elif [ "$$(id -u)" != 0 ]; then echo "make deps: missing:$$missing"; \
	  echo "run as root: apt-get update && apt-get install -y --no-install-recommends$$missing"; exit 1; \
	else echo "make deps: installing$$missing"; apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi

tests: deps
	@$(MAKE) --no-print-directory _tests
_tests: $(BIN)/ardm $(TESTS)
check: deps
	@$(MAKE) --no-print-directory _tests
	@sh tests/check_layers.sh
	@sh tests/check_docs.sh
	@ARDM_BIN=$(BIN)/ardm ARDM_TESTS=$(BUILD)/tests sh tests/run.sh
# Includes only point down the layers (tests/check_layers.sh names any that point up).
check-layers: deps
	@sh tests/check_layers.sh

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin OPT="-O1" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  _build _tests
check-asan: asan
	@ARDM_BIN=build/asan/bin/ardm ARDM_TESTS=build/asan/tests ARDM_ASAN=1 sh tests/run.sh

# libFuzzer build of the readers (clang, ASan + UBSan): build/fuzz/fuzz; tests/fuzz/run.sh runs it.
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
fuzz:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_PKGS="clang libclang-rt-14-dev"
	@$(MAKE) --no-print-directory BUILD=build/fuzz BIN=build/fuzz/bin OPT="-O1" WARN="-Wall -Wno-unused-parameter" \
	  MPICC="env OMPI_CC=clang mpicc" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" build/fuzz/fuzz
$(BUILD)/fuzz: tests/fuzz/fuzz.c tests/fuzz/fuzz_target.c $(LIB)
	$(MPICC) $(CFLAGS) -fsanitize=fuzzer -Itests $(filter %.c %.a,$^) -o $@ $(LDFLAGS) -fsanitize=fuzzer $(PKG_LIBS)

# The data sets of the text and image experiments and the codecs they are compared with: their
# sources are Debian packages that only these targets install (tens of MB of text, hundreds of
# MB of icons), so `make check` and `make demo` do not pull them.
TEXT_DEB_PKGS := dict-gcide dict-wn bible-kjv bible-kjv-text dict-foldoc fortunes fortunes-min fortune-anarchism \
  dict-devil gzip bzip2 xz-utils
IMAGE_DEB_PKGS := adwaita-icon-theme faba-icon-theme faenza-icon-theme moka-icon-theme numix-icon-theme paper-icon-theme \
  papirus-icon-theme tango-icon-theme breeze-icon-theme elementary-icon-theme gnome-icon-theme \
  gnome-colors-common mate-icon-theme lxde-icon-theme oxygen-icon-theme suru-icon-theme openclipart-svg \
  optipng zopfli webp
text8:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_PKGS="$(TEXT_DEB_PKGS)"
	@$(MAKE) --no-print-directory _build
	@sh input/text8/make.sh
images:
	@$(MAKE) --no-print-directory deps EXTRA_DEB_PKGS="$(IMAGE_DEB_PKGS)"
	@$(MAKE) --no-print-directory _build
	@sh input/images/make.sh

demo: all
	@sh input/demo.sh

bench: deps
	@$(MAKE) --no-print-directory _benches
benches: bench
_benches: $(BIN)/ardm $(BENCHES)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin && install -m 755 $(BIN)/ardm $(DESTDIR)$(PREFIX)/bin/ardm
	install -d $(DESTDIR)$(PREFIX)/share/ardm/tools && install -m 644 tools/*.py $(DESTDIR)$(PREFIX)/share/ardm/tools/
PREFIX ?= /usr/local

format: deps
	clang-format -i $(FORMATTED)
# CI runs this: the committed .clang-format is the style.
format-check: deps
	@clang-format --dry-run --Werror $(FORMATTED) && echo "format-check: $(words $(FORMATTED)) files formatted"

clean:
	rm -rf build bin
