# axon — see README.md. `make demo` and `make test` are the two entry points;
# both install missing Debian packages first (scripts/deps.sh).

PREFIX  ?= /usr/local
CC      ?= cc
BUILD   ?= build
ARCH    ?= -march=native
OPT     ?= -O3
# ISA=avx2: build for AVX2 machines (x86-64-v3) in build/avx2; `make bench
# ISA=avx2` also holds OpenBLAS and PyTorch to AVX2 (scripts/bench_common.sh),
# to estimate on an AVX-512 machine what an AVX2 one of its kind measures.
ifeq ($(ISA),avx2)
BUILD := build/avx2
ARCH := -march=x86-64-v3
export BENCH_ISA = avx2
else ifneq ($(ISA),)
$(error ISA=$(ISA): the one value known is avx2)
endif
# HDF5 (Debian's serial build): lib/nwb.c reads NWB files with it, so every
# program linking libaxon.a links it too, and axon.pc requires it.
PKGS     = libpng zlib hdf5
# OpenBLAS's OpenMP build, whatever variant the system links by default: BLAS
# and the library's own parallel loops then share one thread pool. (With the
# pthreads build the two pools fight over the cores, and two threads ran
# slower than one.)
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
BLAS_INC = /usr/include/$(MULTIARCH)/openblas-openmp
BLAS_LIB = /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_LDLIBS = -L$(BLAS_LIB) -Wl,-rpath,$(BLAS_LIB) -lopenblas
# -std=c11 (not gnu11) also keeps GCC from contracting a*b+c into FMA, so
# results do not depend on what the optimiser fuses. Never -ffast-math.
CFLAGS  ?= $(OPT) $(ARCH) -g
# Flags that change no value (PyTorch is built with both): libm calls need not
# set errno (sqrtf becomes one instruction), and floating-point traps are
# assumed off, so GCC may if-convert the selects in ax_expf/ax_erff and
# vectorise the loops over them. Always on, whatever CFLAGS says.
MATHFLAGS = -fno-math-errno -fno-trapping-math
WARN     = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fopenmp $(WARN) $(MATHFLAGS) $(CFLAGS) -Ilib -I$(BLAS_INC) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# MPI (Open MPI): built in when mpicc is installed, or forced with MPI=1 /
# MPI=0. Without it every command runs as one rank (see lib/ax_dist.h).
MPI ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)
ifeq ($(MPI),1)
PKGS    += ompi-c
ALL_CFLAGS += -DAXON_MPI
endif
LDLIBS   = $(BLAS_LDLIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -fopenmp
TEST_LDLIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC  = $(sort $(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      = $(BUILD)/libaxon.a
# Installed headers: all but ax_math.h and ax_json.h, internal to lib/.
HEADERS  = $(filter-out lib/ax_math.h lib/ax_json.h,$(wildcard lib/*.h))

CMDS     = $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard cmd/*/main.c)))))
BINS     = $(CMDS:%=$(BUILD)/bin/%)
UNIT_SRC = $(sort $(wildcard tests/unit/test-*.c))
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
CMD_TESTS = $(filter-out tests/cmd/lib.sh,$(sort $(wildcard tests/cmd/*.sh)))
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz-*.c))
MANS     = $(wildcard man/man1/*.1)
MANS3    = $(wildcard man/man3/*.3)
FIGS     = $(patsubst scripts/fig-%.sh,fig-%,$(wildcard scripts/fig-*.sh))

.PHONY: all deps deps-test deps-demo deps-bench test unit-test cmd-test demo figures $(FIGS) bench vec-report \
        asan fuzz install uninstall clean
.SUFFIXES:
# Keep object files between runs (they are intermediates of pattern rules).
.SECONDARY:

all: deps $(LIB) $(BINS)

deps:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test
deps-demo:
	@sh scripts/deps.sh demo
deps-bench:
	@sh scripts/deps.sh bench

# -MMD: each object also depends on what it includes (headers, and the
# command sources a unit test compiles in).
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# A command is every .c file in its folder.
cmd_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cmd/$(1)/*.c))
.SECONDEXPANSION:
$(BUILD)/bin/%: $$(call cmd_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/testutil.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/tests/unit/testutil.o $(LIB) $(TEST_LDLIBS) $(LDLIBS)

# Unit tests, then command tests; prints one 'N passed, N failed' line.
test: deps-test all $(UNITS)
	@sh tests/run.sh $(BUILD) $(UNITS) -- $(CMD_TESTS)

unit-test: deps-test all $(UNITS)
	@sh tests/run.sh $(BUILD) $(UNITS) --

cmd-test: deps-test all
	@sh tests/run.sh $(BUILD) -- $(CMD_TESTS)

demo: deps-demo all
	@sh scripts/demo.sh $(BUILD)/bin out/demo

# Every figure recipe; `make -j N figures` runs N recipes at once, and
# JOBS=N (default 2) is how many runs each recipe keeps going side by side.
figures: $(FIGS)

# A static pattern rule: make skips implicit rules for phony targets.
$(FIGS): fig-%: deps-demo all
	@sh scripts/fig-$*.sh $(BUILD)/bin

# BENCH_QUICK=1: one short run of each, to check the script end to end.
bench: deps-bench all
	@sh scripts/bench.sh $(BUILD)

# Hot loops (marked [vec] in the kernel sources) that GCC did not vectorise,
# for this machine's ARCH and for AVX2 (x86-64-v3), where no AVX-512 masks
# can hide control flow. Fails if any.
VEC_ARCHS ?= $(ARCH) -march=x86-64-v3
vec-report:
	@for a in $(VEC_ARCHS); do \
	  sh scripts/vec-report.sh $(CC) $(filter-out $(ARCH),$(ALL_CFLAGS)) $$a || exit 1; done

# The whole suite under AddressSanitizer and UBSan, in its own build tree.
# Leak checks cover the unit tests; commands that exit through ax_die() with
# memory still in use are not leaking, so command tests run without them.
SANITIZE = -fsanitize=address,undefined
asan: deps
	AXON_SANITIZE="$(SANITIZE)" AXON_CMD_ASAN_OPTIONS=detect_leaks=0 \
	$(MAKE) BUILD=build-asan OPT=-O1 \
	  CFLAGS="-O1 -g $(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDLIBS="$(LDLIBS) $(SANITIZE)" test

# Parser fuzz targets (libFuzzer via clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
fuzz: deps
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SRC)

# The library is installed static only (libaxon.a): see README, "Using the
# library from C". axon.pc lists every library it needs in Libs/Requires.
VERSION := $(shell sed -n 's/^\#define AX_VERSION "\(.*\)"/\1/p' lib/ax_cli.h)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/axon $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/axon
	install -m 644 $(MANS) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(MANS3) $(DESTDIR)$(PREFIX)/share/man/man3
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BLAS_LIB@|$(BLAS_LIB)|g' \
	  -e 's|@BLAS_INC@|$(BLAS_INC)|g' -e 's|@VERSION@|$(VERSION)|g' -e 's|@REQUIRES@|$(PKGS)|g' \
	  scripts/axon.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/axon.pc
	@! grep -n '@[A-Z_]*@' $(DESTDIR)$(PREFIX)/lib/pkgconfig/axon.pc || \
	  { echo "axon.pc: unsubstituted placeholder" >&2; exit 1; }

uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(PREFIX)/bin/%) $(DESTDIR)$(PREFIX)/lib/libaxon.a \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/axon.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/axon
	rm -f $(MANS:man/man1/%=$(DESTDIR)$(PREFIX)/share/man/man1/%) \
	  $(MANS3:man/man3/%=$(DESTDIR)$(PREFIX)/share/man/man3/%)

clean:
	rm -rf $(BUILD) build-asan
