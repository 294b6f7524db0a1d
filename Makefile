# ardm build: one binary bin/ardm, a static library of everything but main (for tests and
# benchmarks), and the test programs. Dependencies come from pkg-config; see INSTALL.
#   make            build bin/ardm
#   make deps       install the Debian packages the project needs (idempotent)
#   make check      deps + build + all tests (unit, MPI at 1/2/4 ranks, CLI, Slurm)
#   make demo       deps + build + the main job end to end on the small default data
#   make asan       the same build with AddressSanitizer/UBSan into build/asan/
#   make check-asan the tests against the sanitizer build
#   make bench      build the benchmark programs (run them with benchmarks/run.sh)

MPICC     ?= mpicc
PETSC_DIR ?= /usr/lib/petsc
export PKG_CONFIG_PATH := $(PETSC_DIR)/lib/pkgconfig:$(PKG_CONFIG_PATH)
PKGS      := netcdf-mpi PETSc scalapack-openmpi openblas sndfile

BUILD ?= build
BIN   ?= bin
OPT   ?= -O3 -march=native
WARN  := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(CI),true)
WARN  += -Werror
endif
SAN   ?=
# The parallel netcdf.h/netcdf_par.h live under the netcdf-mpi prefix, not its includedir.
PKG_CFLAGS := -I$(shell pkg-config --variable=prefix netcdf-mpi 2>/dev/null)/include \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CFLAGS  := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SAN) -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SAN) $(EXTRA_LDFLAGS)

SRCS     := $(sort $(wildcard src/*.c))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libardm.a
TESTS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
BENCHES  := $(patsubst benchmarks/%.c,$(BUILD)/bench/%,$(wildcard benchmarks/*.c))

.PHONY: all deps check check-asan demo asan bench clean install format
all: $(BIN)/ardm

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/obj
	$(MPICC) $(CFLAGS) -c $< -o $@
$(LIB): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BIN)/ardm: $(BUILD)/obj/main.o $(LIB) | $(BIN)
	$(MPICC) $(LDFLAGS) $^ -o $@ $(PKG_LIBS)
$(BUILD)/tests/%: tests/unit/%.c tests/harness.h $(LIB) | $(BUILD)/tests
	$(MPICC) $(CFLAGS) -Itests $< $(LIB) -o $@ $(LDFLAGS) $(PKG_LIBS)
$(BUILD)/bench/%: benchmarks/%.c $(LIB) | $(BUILD)/bench
	$(MPICC) $(CFLAGS) $< $(LIB) -o $@ $(LDFLAGS) $(PKG_LIBS)
$(BUILD)/obj $(BUILD)/tests $(BUILD)/bench $(BIN):
	mkdir -p $@

# Debian packages: build (MPI, NetCDF, PETSc, ScaLAPACK, OpenBLAS, libsndfile, Random123),
# data recipes (espeak-ng, sox, flac), numpy reference tests, and a private Slurm for job tests.
DEB_PKGS := make gcc pkg-config libopenmpi-dev openmpi-bin libscalapack-openmpi-dev libnetcdf-mpi-dev \
  netcdf-bin petsc-dev libopenblas-dev libsndfile1-dev librandom123-dev espeak-ng sox flac \
  python3-numpy python3-netcdf4 slurm-wlm munge libespeak-ng-dev jargon-text valgrind
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "make deps: all $(words $(DEB_PKGS)) packages present"; \
	elif [ -n "$$ARDM_SKIP_DEPS" ]; then echo "make deps: skipped (ARDM_SKIP_DEPS); missing:$$missing"; \
	elif [ "$$(id -u)" != 0 ]; then echo "make deps: missing:$$missing"; \
	  echo "run as root: apt-get update && apt-get install -y --no-install-recommends$$missing"; exit 1; \
	else echo "make deps: installing$$missing"; apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi

tests: $(BIN)/ardm $(TESTS)
check: deps
	@$(MAKE) --no-print-directory tests
	@ARDM_BIN=$(BIN)/ardm ARDM_TESTS=$(BUILD)/tests sh tests/run.sh

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin OPT="-O1" \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  all tests
check-asan: deps asan
	@ARDM_BIN=build/asan/bin/ardm ARDM_TESTS=build/asan/tests ARDM_ASAN=1 sh tests/run.sh

demo: deps all
	@sh input/demo.sh

bench: $(BIN)/ardm $(BENCHES)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin && install -m 755 $(BIN)/ardm $(DESTDIR)$(PREFIX)/bin/ardm
PREFIX ?= /usr/local

format:
	clang-format -i src/*.c src/*.h tests/*.h tests/unit/*.c tests/unit/*.h benchmarks/*.c input/sc09/*.c

clean:
	rm -rf build bin
