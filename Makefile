# sockguard: one hand-written Makefile, wildcard sources per directory.
#   make            build/libsockguard.so and build/sockguard, and
#                   build/musl/libsockguard.so when musl-gcc is installed
#   make test       every test (tests/run-tests.sh)
#   make demo       the main job in under a minute
#   make bench      the benchmarks (BENCH_QUICK=1 for a short run)
#   make install    PREFIX=/usr/local
#   make test-sanitize, make fuzz, make soak, make clean

CC       ?= cc
PREFIX   ?= /usr/local
# The metrics service and timer; enabling them is left to the operator.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
DESTDIR  ?=
BUILD    ?= build
VERSION  := 0.1.0
OPT      ?= -O2 -g
SAN      ?=
# The shim is preloaded into programs that are not instrumented, where
# ASan's runtime cannot come first: its own sanitizer flags are separate.
SHIM_SAN ?= $(SAN)
CFLAGS_BASE := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden \
	-Wall -Wextra -Werror -Wno-unused-parameter $(OPT) \
	-DSG_VERSION='"$(VERSION)"' -MMD -MP $(CFLAGS)
CFLAGS_ALL := $(CFLAGS_BASE) $(SAN)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

SHIM_SRC   := $(wildcard shim/*.c)
POLICY_SRC := $(wildcard policy/*.c)
TOOL_SRC   := $(wildcard tools/*.c tools/report/*.c)
TOOL_LIB_SRC := $(filter-out tools/main.c,$(TOOL_SRC))
UNIT_SRC   := $(wildcard tests/unit/*.c)
INTEG_SRC  := $(wildcard tests/integration/*.c)
TLIB_SRC   := $(wildcard tests/lib/*.c)
PROG_SRC   := $(wildcard tests/progs/*.c)
DEMO_SRC   := $(wildcard tools/demo/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
shimobj = $(patsubst %.c,$(BUILD)/shimobj/%.o,$(1))
SHIM_OBJ   := $(call shimobj,$(SHIM_SRC) $(POLICY_SRC))
POLICY_OBJ := $(call obj,$(POLICY_SRC))
TOOL_OBJ   := $(call obj,$(TOOL_SRC))
TOOL_LIB_OBJ := $(call obj,$(TOOL_LIB_SRC))
TLIB_OBJ   := $(call obj,$(TLIB_SRC))

LIB  := $(BUILD)/libsockguard.so
TOOL := $(BUILD)/sockguard
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
PROG_BIN  := $(patsubst tests/progs/%.c,$(BUILD)/tests/progs/%,$(PROG_SRC))
DEMO_BIN  := $(patsubst tools/demo/%.c,$(BUILD)/demo/%,$(DEMO_SRC))
# Test programs also built with -static: no loader runs, so no preload.
STATIC_PROGS := tune_target
STATIC_BIN := $(patsubst %,$(BUILD)/tests/progs/%_static,$(STATIC_PROGS))
# The TSan programs run under make test-sanitize only; make test builds them
# without the sanitizer, so that a change to the shim files they include
# breaks the build at once rather than the next sanitizer run.
TSAN_CHECK := $(patsubst tests/tsan/%.c,$(BUILD)/tests/tsan/%,$(wildcard tests/tsan/*.c))

# The musl build of the shim (for Alpine and other musl programs), made with
# musl-gcc (Debian: musl-tools) when it is installed, with its objects in
# its own tree.  Test programs are also built against musl, for the suites
# that rerun with the musl build (tests/run-tests.sh).
MUSL_CC  ?= musl-gcc
HAVE_MUSL := $(shell command -v $(MUSL_CC) >/dev/null 2>&1 && echo 1)
MUSL_DIR := $(BUILD)/musl
MUSL_LIB := $(MUSL_DIR)/libsockguard.so
muslobj = $(patsubst %.c,$(MUSL_DIR)/obj/%.o,$(1))
MUSL_OBJ := $(call muslobj,$(SHIM_SRC) $(POLICY_SRC))
MUSL_PROGS := sig_server sig_pipe sig_handlers sig_connect sig_wait sig_threads \
	ea_legacy_writer ea_reserve ea_strict_server ea_leaky_server ea_probe \
	ea_select_daemon log_closeall log_faults log_sighandler hostile bench_calls \
	set_server shim_probe tune_target
MUSL_PROG_BIN := $(patsubst %,$(MUSL_DIR)/tests/progs/%,$(MUSL_PROGS))
ifeq ($(HAVE_MUSL),1)
MUSL_ALL := $(MUSL_LIB)
MUSL_TESTS := $(MUSL_LIB) $(MUSL_PROG_BIN)
else
MUSL_ALL := musl-skipped
MUSL_TESTS := musl-skipped
endif

# Keep intermediate objects (tests/lib), so a second make relinks nothing.
.SECONDARY:

.PHONY: all test check-deps demo bench install uninstall clean test-sanitize \
	fuzz soak tests-build musl-skipped
all: $(LIB) $(TOOL) $(MUSL_ALL)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# A wrapper may run on a signal handler's alternate stack or a small thread
# stack: no function of the shim (or of the policy code linked into it) may
# take more than 1 KiB of stack, and none may size its frame at run time.
SHIM_STACK := -Wframe-larger-than=1024 -Wvla

$(BUILD)/shimobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(SHIM_STACK) $(SHIM_SAN) -c -o $@ $<

# The shim links libc (and libdl, a stub on glibc >= 2.34) and nothing else.
$(LIB): $(SHIM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(SHIM_SAN) $(LDFLAGS) -Wl,--no-undefined -Wl,-z,now -Wl,-Bsymbolic -nostartfiles \
		-Wl,-z,relro -Wl,--as-needed -ldl

# The same sources against musl (-DSG_MUSL: docs/DESIGN.md, "musl"), under
# the same frame bound; no sanitizer, since none has a musl runtime here.
# It links musl's libc.so and nothing else (dlsym is in it).  Byte 8 of the
# ELF header (EI_ABIVERSION) is set to 1, which glibc's loader refuses for
# a System V object and musl's ignores: a glibc program that inherits this
# LD_PRELOAD (a shell started by a musl program) runs without it, after one
# line from ld.so, instead of failing to start.
$(MUSL_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(CFLAGS_BASE) -DSG_MUSL $(SHIM_STACK) -c -o $@ $<

$(MUSL_LIB): $(MUSL_OBJ)
	@mkdir -p $(dir $@)
	$(MUSL_CC) -shared -o $@.tmp $^ $(LDFLAGS) -Wl,--no-undefined -Wl,-z,now -Wl,-Bsymbolic -nostartfiles \
		-Wl,-z,relro -Wl,--as-needed
	printf '\001' | dd of=$@.tmp bs=1 seek=8 conv=notrunc status=none
	mv -f $@.tmp $@

musl-skipped:
	@echo "make: $(MUSL_CC) not found, skipping $(MUSL_LIB) (Debian: apt-get install musl-tools)"

$(TOOL): $(TOOL_OBJ) $(POLICY_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS_ALL)

# Test programs: plain C, some built fortified to prove the __*_chk wrappers.
$(BUILD)/tests/progs/%: tests/progs/%.c tests/progs/progs.h $(TLIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -D_FORTIFY_SOURCE=2 -g -Wall -Wextra \
		-Wno-unused-parameter -Werror $(SAN) -Itests/lib -o $@ $< $(TLIB_OBJ) -lpthread

# The same programs against musl: dynamically linked, interpreter
# /lib/ld-musl-*.so.1.  musl-gcc searches only musl's headers: the kernel's
# (linux/, asm/, asm-generic/) come from links in MUSL_KINC, and what glibc
# has and musl lacks from tests/progs/musl_compat.h.
MUSL_KINC := $(MUSL_DIR)/kernel-include
$(MUSL_KINC)/asm:
	@mkdir -p $(dir $@)
	ln -sfn /usr/include/linux $(MUSL_KINC)/linux
	ln -sfn /usr/include/asm-generic $(MUSL_KINC)/asm-generic
	ln -sfn /usr/include/$$($(CC) -print-multiarch)/asm $@

$(MUSL_DIR)/tests/progs/%: tests/progs/%.c tests/progs/progs.h tests/progs/musl_compat.h | $(MUSL_KINC)/asm
	@mkdir -p $(dir $@)
	$(MUSL_CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra \
		-Wno-unused-parameter -Werror -idirafter $(MUSL_KINC) \
		-include tests/progs/musl_compat.h -o $@ $< -lpthread

$(BUILD)/tests/progs/%_static: tests/progs/%.c tests/progs/progs.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -static -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(POLICY_OBJ) $(TOOL_LIB_OBJ) $(TLIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/lib -o $@ $< $(filter %.o,$^) $(LDFLAGS_ALL) -lcriterion -lpthread

$(BUILD)/tests/integration/%: tests/integration/%.c $(TLIB_OBJ) $(POLICY_OBJ) $(TOOL_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/lib -o $@ $< $(filter %.o,$^) $(LDFLAGS_ALL) -lcriterion -lpthread

tests-build: $(LIB) $(TOOL) $(PROG_BIN) $(STATIC_BIN) $(UNIT_BIN) $(INTEG_BIN) \
	$(DEMO_BIN) $(MUSL_TESTS) $(TSAN_CHECK)

$(BUILD)/tests/tsan/%: tests/tsan/%.c $(SHIM_SRC) $(POLICY_SRC) $(wildcard shim/*.h policy/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -o $@ $< \
		$(POLICY_SRC) -lpthread

check-deps:
	@tests/check-deps.sh

test: check-deps tests-build
	@BUILD=$(BUILD) tests/run-tests.sh

# ASan+UBSan for the tool, the tests and their programs; UBSan for the
# preloaded shim (valgrind covers its memory errors); TSan for the threaded
# unit tests.  See tests/sanitize.sh.
test-sanitize: check-deps
	@tests/sanitize.sh

# The demo's own programs need nothing but a C compiler.
$(BUILD)/demo/%: tools/demo/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -o $@ $<

demo: $(LIB) $(TOOL) $(DEMO_BIN)
	@BUILD=$(BUILD) tools/demo/demo.sh

bench: $(LIB) $(TOOL) $(PROG_BIN) $(MUSL_TESTS)
	@BUILD=$(BUILD) tests/bench/bench.sh

fuzz:
	@tests/fuzz/fuzz.sh

soak: $(LIB) $(TOOL) $(PROG_BIN)
	@BUILD=$(BUILD) tests/soak.sh

install: $(LIB) $(TOOL)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/sockguard
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libsockguard.so
	if [ -f $(MUSL_LIB) ]; then install -d $(DESTDIR)$(PREFIX)/lib/musl && \
		install -m 0755 $(MUSL_LIB) $(DESTDIR)$(PREFIX)/lib/musl/libsockguard.so; fi
	install -m 0755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/sockguard
	install -m 0644 tools/sockguard.8 $(DESTDIR)$(PREFIX)/share/man/man8/sockguard.8
	install -m 0644 tools/sockguard.conf.example \
		$(DESTDIR)$(PREFIX)/share/sockguard/sockguard.conf.example
	if [ -f tools/rsyslog-sockguard.conf ]; then install -m 0644 \
		tools/rsyslog-sockguard.conf $(DESTDIR)$(PREFIX)/share/sockguard/; fi
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	for u in sockguard-metrics.service sockguard-metrics.timer; do \
		sed 's|@BINDIR@|$(PREFIX)/bin|g' tools/$$u > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libsockguard.so $(DESTDIR)$(PREFIX)/bin/sockguard \
		$(DESTDIR)$(PREFIX)/share/man/man8/sockguard.8 \
		$(DESTDIR)$(PREFIX)/lib/musl/libsockguard.so
	-rmdir $(DESTDIR)$(PREFIX)/lib/musl 2>/dev/null
	rm -rf $(DESTDIR)$(PREFIX)/share/sockguard
	rm -f $(DESTDIR)$(SYSTEMD_UNIT_DIR)/sockguard-metrics.service \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/sockguard-metrics.timer

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj $(BUILD)/shimobj $(BUILD)/musl/obj $(BUILD)/tests \
	-name '*.d' 2>/dev/null)
