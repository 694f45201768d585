# siplint: plain, non-recursive Makefile.
#
#   make            build build/siplint and build/libsiplint.a
#   make check      install missing -dev packages (as root), build with -Werror,
#                   run unit + golden + corpus tests, then again under ASan+UBSan
#   make demo       run siplint on a bundled capture and print its report
#   make install    PREFIX=/usr/local DESTDIR=
#   make format / lint / clean / golden-update
#   make bench      time siplint against tshark, sngrep and sipgrep on a generated
#                   capture (BENCH_N=1000000, BENCH_RUNS=3; docs/bench.md)
#   make bench-10m  the same capture at 10M messages: siplint's peak RSS against 1M

CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SAN      ?=
WERROR   ?=

V        ?= 0
ifeq ($(V),0)
Q        := @
say       = @printf '  %-6s %s\n' $(1) $(2)
else
Q        :=
say       = @true
endif

PKGS     := libpcap sqlite3 json-c
CSTD     := -std=c11 -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wold-style-definition -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef \
            -Wformat=2 -Wvla -Wdouble-promotion -Wredundant-decls -Wnested-externs \
            -Wimplicit-fallthrough -Wno-format-nonliteral
WARN_BYTES := -Wconversion -Wsign-conversion
OPT      ?= -O2 -g
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fno-common
ifneq ($(SAN),)
OPT      := -O1 -g
HARDEN   := -fno-common
SANFLAGS := -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifneq ($(WERROR),)
WARN     += -Werror
endif

DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -losipparser2 -pthread
CFLAGS_ALL  = $(CSTD) -pthread $(WARN) $(OPT) $(HARDEN) $(SANFLAGS) $(DEP_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)
LIB_CPPFLAGS := -Ilib/include -Ilib -I. -I$(BUILD)/gen
CMD_CPPFLAGS := -Ilib/include

LIB_SRCS  := $(sort $(wildcard lib/*/*.c) $(wildcard lib/*.c))
CMD_SRCS  := $(sort $(wildcard cmd/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

BIN := $(BUILD)/siplint
LIB := $(BUILD)/libsiplint.a

.PHONY: tsan-check all deps check test unit golden corpus load fuzz fuzz-replay fuzz-smoke valgrind demo install clean format format-check lint \
        golden-update san-check rules-test equiv
.DELETE_ON_ERROR:

all: $(BIN) $(LIB)

deps:
	@sh .ci/deps.sh

$(BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(LIB_CPPFLAGS) $(CFLAGS_ALL) $(if $(filter lib/base/% lib/capture/% lib/sip/%,$<),$(WARN_BYTES)) -MMD -MP -c $< -o $@

# The rules are compiled into the binary (rules/README.md); --rules-dir adds more at run time.
RULE_FILES := rules/prelude.sql $(sort $(wildcard rules/SIP-*.sql))

$(BUILD)/gen/rules_embedded.h: $(RULE_FILES) rules/embed.sh
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q)sh rules/embed.sh $@ $(RULE_FILES)

$(BUILD)/lib/engine/rules.o: $(BUILD)/gen/rules_embedded.h

$(BUILD)/cmd/%.o: cmd/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CMD_CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CMD_OBJS) $(LIB) $(DEP_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(LIB_CPPFLAGS) $(CFLAGS_ALL) -Wno-missing-prototypes -MMD -MP -o $@ $< $(LIB) \
		$(LDFLAGS_ALL) $(DEP_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

golden: $(BIN)
	@sh tests/golden.sh $(BIN)

golden-update: $(BIN)
	@UPDATE=1 sh tests/golden.sh $(BIN)

# every testdata/CASE/expected.rules: which rules fire (and stay quiet) on the case
rules-test: $(BIN)
	@sh tests/rules.sh $(BIN)

# the same call over UDP, IP fragments, HEP, tunnels and TCP gives the same messages, call and findings
equiv: $(BIN)
	@sh tests/equiv.sh $(BIN)

corpus: $(BIN)
	@sh tests/corpus.sh $(BIN)

# Fuzz targets: replayed over their seeds by every `make check` (as plain
# programs, tests/fuzz/replay.c), built with libFuzzer by `make fuzz`.
FUZZ_TARGETS := capture sip_msg ipfrag tcp hep txn inflate
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
# the seed corpus of each target (what fuzz-smoke copies), and what fuzz-replay runs
FUZZ_CORPUS_capture := tests/fuzz/corpus/capture
FUZZ_CORPUS_sip_msg := tests/fuzz/corpus/sip
FUZZ_CORPUS_ipfrag  := tests/fuzz/corpus/ipfrag
FUZZ_CORPUS_tcp     := tests/fuzz/corpus/tcp
FUZZ_CORPUS_hep     := tests/fuzz/corpus/hep
FUZZ_CORPUS_txn     := tests/fuzz/corpus/txn
FUZZ_CORPUS_inflate := tests/fuzz/corpus/inflate
FUZZ_SEEDS_capture := $(FUZZ_CORPUS_capture) $(wildcard testdata/*/capture.pcap testdata/*/capture.pcapng testdata/*/capture.hep)
# the shared corpus of public captures and messages (never committed): CORPUS=DIR from a worktree
CORPUS ?= ../shared/corpus
export CORPUS
FUZZ_SEEDS_sip_msg := $(FUZZ_CORPUS_sip_msg) $(wildcard $(CORPUS)/rfc4475 $(CORPUS)/parser-messages/*)
FUZZ_SEEDS_ipfrag  := $(FUZZ_CORPUS_ipfrag)
FUZZ_SEEDS_tcp     := $(FUZZ_CORPUS_tcp)
FUZZ_SEEDS_hep     := $(FUZZ_CORPUS_hep)
FUZZ_SEEDS_txn     := $(FUZZ_CORPUS_txn)
FUZZ_SEEDS_inflate := $(FUZZ_CORPUS_inflate)
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(LIB_CPPFLAGS) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(LIB) $(LDFLAGS_ALL) $(DEP_LIBS)

# (fuzz_capture reuses one session; SIPLINT_FUZZ_FRESH=1 opens one per input, as a user's run does)
fuzz-replay: $(FUZZ_REPLAY)
	@$(foreach t,$(FUZZ_TARGETS),printf 'fuzz %s: ' $(t) && $(BUILD)/fuzz/replay_$(t) $(FUZZ_SEEDS_$(t)) &&) true
	@printf 'fuzz capture (a session per input): ' && SIPLINT_FUZZ_FRESH=1 $(BUILD)/fuzz/replay_capture $(FUZZ_SEEDS_capture)

# libFuzzer binaries in build/fuzz/: the library instrumented for coverage.
fuzz: deps
	@$(MAKE) --no-print-directory CC=clang SAN=address,undefined BUILD=build/fuzzlib \
		CFLAGS="-fsanitize=fuzzer-no-link" build/fuzzlib/libsiplint.a
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "  FUZZ   build/fuzz/fuzz_$$t"; \
	  clang $(LIB_CPPFLAGS) $(CSTD) -g -O1 $(DEP_CFLAGS) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o build/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c build/fuzzlib/libsiplint.a $(DEP_LIBS) || exit 1; \
	done
	@echo "run: mkdir -p build/fuzz/work && build/fuzz/fuzz_capture -max_total_time=60 build/fuzz/work tests/fuzz/corpus/capture"

# Every libFuzzer target for FUZZ_SECONDS over a copy of its seeds in
# build/fuzz/work-<target> (crash reproducers land there too); fails on a crash.
fuzz-smoke: fuzz
	@$(foreach t,$(FUZZ_TARGETS),sh tests/fuzz/smoke.sh $(t) $(FUZZ_SECONDS) $(FUZZ_CORPUS_$(t)) &&) true

# build/siplint (not sanitized) under valgrind over every capture of testdata/
# and ../shared/corpus/captures; skipped when valgrind is not installed.
VALGRIND_CAPTURES := $(wildcard testdata/*/capture.pcap $(CORPUS)/captures/*/*)
valgrind: $(BIN)
	@if ! command -v valgrind >/dev/null 2>&1; then echo "valgrind: not installed, skipped"; exit 0; fi; \
	n=0; for c in $(VALGRIND_CAPTURES); do \
	  [ -f "$$c" ] || continue; n=$$((n+1)); \
	  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	    $(BIN) check --fail-on never --format json -o /dev/null "$$c"; rc=$$?; \
	  case $$rc in 0|3) ;; 1) echo "valgrind: errors on $$c"; exit 1;; \
	    *) echo "valgrind: siplint exit $$rc on $$c"; exit 1;; esac; \
	done; echo "valgrind: $$n captures, no errors"

load: $(BIN)
	@mkdir -p build
	@sh tests/load.sh $(BIN)

test: unit golden rules-test equiv corpus fuzz-replay load generated

# The whole gate: dependencies, -Werror build, every test, then the same tests
# under ASan+UBSan (clang) in a separate build directory.
check: deps
	@$(MAKE) --no-print-directory WERROR=1 all
	@$(MAKE) --no-print-directory WERROR=1 test
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory san-check
	@$(MAKE) --no-print-directory tsan-check
	@$(MAKE) --no-print-directory fuzz

san-check:
	@echo "== again under ASan+UBSan (clang)"
	@$(MAKE) --no-print-directory CC=clang SAN=address,undefined BUILD=build/san WERROR=1 test

# The threaded parts under ThreadSanitizer: the ordered work pool, and a check
# of 20,000 generated messages with the parse threads and the rules on two
# connections; its report must equal the one-thread report of the plain build.
tsan-check: $(BIN) $(BENCH_GEN)
	@echo "== the threads under TSan (clang)"
	@$(MAKE) --no-print-directory CC=clang SAN=thread BUILD=build/tsan WERROR=1 \
		build/tsan/siplint build/tsan/tests/test_pool
	@build/tsan/tests/test_pool >/dev/null 2>&1 || { echo "tsan: test_pool failed"; exit 1; }
	@$(BENCH_GEN) -n 20000 -q -o build/tsan/gen20k.pcap
	@TSAN_OPTIONS=halt_on_error=1 build/tsan/siplint check -q --threads 3 --fail-on never \
		-f json -o build/tsan/t3.json build/tsan/gen20k.pcap testdata/*/capture.pcap
	@$(BIN) check -q --threads 1 --fail-on never -f json -o build/tsan/t1.json \
		build/tsan/gen20k.pcap testdata/*/capture.pcap
	@cmp -s build/tsan/t1.json build/tsan/t3.json || { echo "tsan: the reports differ"; exit 1; }
	@echo "tsan: pool and a 3-thread check clean, the report as with 1 thread"

demo: deps $(BIN)
	@for cmd in "check --format text testdata/ack-missing-bye/capture.pcap testdata/st-refresh-503/capture.pcap testdata/fork-2x200-noack/capture.pcap" \
	            "calls --format text testdata/ack-missing-bye/capture.pcap testdata/st-refresh-503/capture.pcap testdata/fork-2x200-noack/capture.pcap testdata/cancel/capture.pcap" \
	            "flow testdata/fork-2x200-noack/capture.pcap"; do \
	  echo "\$$ siplint $$cmd"; $(BIN) $$cmd; rc=$$?; [ $$rc -le 1 ] || exit $$rc; echo; \
	done

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/siplint
	install -m 644 docs/siplint.1 $(DESTDIR)$(PREFIX)/share/man/man1/siplint.1

SOURCES = $(wildcard lib/*/*.[ch] lib/*.[ch] cmd/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] bench/*.[ch])

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run -Werror $(SOURCES)

lint: format-check $(LIB)
	@sh tests/lint.sh $(BUILD)

clean:
	rm -rf build

# Benchmarks (docs/bench.md): bench/gen writes a deterministic capture of BENCH_N SIP
# messages, bench/run.sh times the tools on it and checks the targets of issue 7.
BENCH_N        ?= 1000000
BENCH_RUNS     ?= 3
BENCH_10M_RUNS ?= 1
BENCH_GEN      := $(BUILD)/bench/gen
BENCH_FLOOR    := $(BUILD)/bench/floor

.PHONY: bench bench-10m bench-gen generated

$(BENCH_GEN): bench/gen.c
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CSTD) $(WARN) $(OPT) $(HARDEN) $(CFLAGS) -o $@ $< $(LDFLAGS) -lm

bench-gen: $(BENCH_GEN)

# the parse alone (libosip2, and siplint's parse stage) on the same capture: bench/floor.c
$(BENCH_FLOOR): bench/floor.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(LIB_CPPFLAGS) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(DEP_LIBS)

# realistic generated traffic (20,000 messages) gives nothing at warning or error;
# bench/floor parses all of it
generated: $(BIN) $(BENCH_GEN) $(BENCH_FLOOR)
	@sh tests/generated.sh $(BIN) $(BENCH_GEN) $(BENCH_FLOOR)

bench: $(BIN) $(BENCH_GEN) $(BENCH_FLOOR)
	@BENCH_N=$(BENCH_N) BENCH_RUNS=$(BENCH_RUNS) sh bench/run.sh $(BIN) $(BENCH_GEN) $(BENCH_FLOOR)

# siplint alone on 10M messages (5.4 GB: run.sh checks the free space first), one
# run (BENCH_10M_RUNS), no untimed first run (the timed one checks the message count);
# its peak RSS is compared with the 1M figure of build/bench/bench-1m.json (measured
# first when missing).
bench-10m: $(BIN) $(BENCH_GEN)
	@BENCH_N=10000000 BENCH_RUNS=$(BENCH_10M_RUNS) BENCH_TOOLS=siplint BENCH_VERIFY=0 \
		sh bench/run.sh $(BIN) $(BENCH_GEN)

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_BINS:=.d)
