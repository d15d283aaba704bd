# lookout — one plain Makefile.  Targets a newcomer guesses:
#   make          build bin/lookout
#   make run      install what is missing, start a private PostgreSQL, serve
#   make test     install what is missing, build, run every test
#   make asan     the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz     build the libFuzzer targets (make fuzz-run runs them briefly)
#   make bench    the ingest and query benchmarks (docs/BENCHMARKS.md); make bench-query the query one alone
#   make bench-cold-query  queries over 7 days of cold (Parquet) data (docs/BENCHMARKS.md)
#
# The compiler and linker flags come from pkg-config when make reads this
# file, so the targets that install what is missing (run, test, bench, asan)
# run `deps` first and then a new make for everything that compiles.  Any
# other target stops at once, with the list, when the libraries are missing.

CC      ?= cc
PKGS    := libmicrohttpd libpq jansson zlib libcrypto hiredis libcurl libzstd libxxhash snappy
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Isrc -I$(BUILD)/gen -pthread $(SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -pthread -lm $(SAN)

# Targets that need no C libraries: the others stop here when pkg-config
# cannot find them (Debian package names for the message).
NOLIB_GOALS := deps run test bench asan services-stop clean
ifneq ($(filter-out $(NOLIB_GOALS),$(or $(MAKECMDGOALS),all)),)
PKG_MISSING := $(shell for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || echo $$p; done)
# wslay ships no pkg-config file: its header stands for it
PKG_MISSING += $(if $(wildcard /usr/include/wslay/wslay.h),,libwslay)
DEB_libwslay      := libwslay-dev
ifneq ($(strip $(PKG_MISSING)),)
DEB_libmicrohttpd := libmicrohttpd-dev
DEB_libpq         := libpq-dev
DEB_jansson       := libjansson-dev
DEB_zlib          := zlib1g-dev
DEB_libcrypto     := libssl-dev
DEB_hiredis       := libhiredis-dev
DEB_libcurl       := libcurl4-openssl-dev
DEB_libzstd       := libzstd-dev
DEB_libxxhash     := libxxhash-dev
DEB_snappy        := libsnappy-dev
NO_PKGCONFIG := $(if $(shell command -v pkg-config 2>/dev/null),,pkg-config)
$(error C libraries missing: $(if $(NO_PKGCONFIG),pkg-config is not installed,pkg-config cannot find $(PKG_MISSING)) (Debian packages: $(strip $(NO_PKGCONFIG) $(foreach p,$(PKG_MISSING),$(DEB_$(p))))); run 'make deps' to install them (make run, make test, make bench and make asan do it themselves))
endif
endif

SRC      := $(shell find src -name '*.c' ! -path src/main.c | sort)
OBJ      := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o
LIB      := $(BUILD)/liblookout.a
BIN      := bin/lookout
ifneq ($(BUILD),build)
BIN      := $(BUILD)/bin/lookout
endif

# The project's own OTLP .proto, compiled by protoc-c: an independent oracle
# for the hand-written walker in the unit tests (never linked into lookout).
PROTO    := $(wildcard tests/proto/*.proto)
PROTO_C  := $(PROTO:tests/proto/%.proto=$(BUILD)/gen/%.pb-c.c)
PROTO_O  := $(PROTO_C:.c=.o)

UNIT     := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ:fuzz/%.c=build-fuzz/%)
FUZZ_SECONDS ?= 5

.PHONY: all deps run test unit parquet-check integration tooling asan fuzz fuzz-run bench bench-tools clean services-stop
all: $(BIN) bench-tools

$(BIN): $(BUILD)/src/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(LIB): $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The SQL migrations, embedded into the binary (src/store/store.h).
MIGRATIONS := $(sort $(wildcard sql/migrations/*.sql))
$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(BUILD)/gen
	scripts/embed-sql.sh $@ $(MIGRATIONS)
$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: tests/proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=tests/proto --c_out=$(BUILD)/gen $<

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) $(filter-out -Werror -Wshadow,$(CFLAGS)) -c $< -o $@
# keep the generated oracle between builds (make would delete intermediates)
.SECONDARY: $(PROTO_C) $(PROTO_O)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(PROTO_O) $(wildcard tests/unit/*.h) | $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(PROTO_O) $(LIB) $(LDLIBS) -lprotobuf-c -lcmocka -o $@

-include $(shell find $(BUILD) build-fuzz -name '*.d' 2>/dev/null)

deps:
	@scripts/deps.sh

# Unit tests: every tests/unit/test_*.c is one cmocka program.
# Every program runs even after a failure; the last line sums them up.
unit: $(UNIT_BIN)
	@scripts/with-pg.sh sh -c 'n=0; bad=""; for t in $(UNIT_BIN); do n=$$((n+1)); echo "== $$t"; \
	  $$t || bad="$$bad $${t##*/}"; done; \
	  if [ -n "$$bad" ]; then echo "unit: FAILED:$$bad (of $$n programs)"; exit 1; fi; \
	  echo "unit: all $$n test programs passed"'

# Parquet files written by the cold tier's writer, checked by DuckDB (from
# npm, tests/integration's lock file): schema, metadata, every value.
.PHONY: parquet-check
parquet-check: $(BUILD)/tests/test_parquet
	@rm -rf $(BUILD)/parquet-check && mkdir -p $(BUILD)/parquet-check
	@LO_PQ_CHECK_DIR=$(BUILD)/parquet-check $(BUILD)/tests/test_parquet >$(BUILD)/parquet-check/unit.log 2>&1 || \
	  { tail -n 30 $(BUILD)/parquet-check/unit.log; exit 1; }
	@node tests/parquet/check-with-duckdb.mjs $(BUILD)/parquet-check/*.parquet

# Integration tests drive the built server from outside with real clients.
integration: $(BIN)
	@LO_BIN=$(BIN) scripts/test-integration.sh

# make run, make services-stop and the Makefile's deps-then-build order,
# checked from throw-away copies of the checkout (tests/tooling/).
tooling: $(BIN)
	@LO_BIN=$(BIN) scripts/test-tooling.sh

# The C sources follow .clang-format; make format rewrites them in place.
FORMAT_SRC = $(shell git ls-files 'src/*.[ch]' 'tests/unit/*.[ch]' 'fuzz/*.[ch]' 'bench/*.[ch]' 2>/dev/null)
.PHONY: format format-check
format:
	@clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRC) || { echo "format-check: run make format"; exit 1; }
	@echo "format-check: $(words $(FORMAT_SRC)) files follow .clang-format"

test: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory parquet-check
	@$(MAKE) --no-print-directory fuzz-run
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory tooling
	@echo "make test: passed (unit tests, Parquet check, fuzz run, integration tests, tooling tests)"

# (gcc leaves float-cast-overflow out of -fsanitize=undefined; clang's fuzz build has it)
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all" unit integration
	@echo "make asan: passed (unit and integration tests under ASan/UBSan)"

# A taken port stops make run at once, with one line from scripts/run.sh.
ifneq ($(filter run,$(MAKECMDGOALS)),)
RUN_PORTS := $(shell scripts/run.sh --check-ports 2>&1 >/dev/null | grep '^run: ')
ifneq ($(RUN_PORTS),)
$(error $(RUN_PORTS))
endif
endif
run: deps
	@$(MAKE) --no-print-directory $(BIN)
	@LO_BIN=$(BIN) scripts/run.sh

# libFuzzer targets, built with clang against liblookout compiled for fuzzing.
# UBSan findings abort (-fno-sanitize-recover), so libFuzzer sees them as crashes.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -pthread -fsanitize=address,undefined -fno-sanitize-recover=all \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJ := $(SRC:%.c=build-fuzz/obj/%.o) build-fuzz/obj/gen/migrations.o
fuzz: $(FUZZ_BIN)
build-fuzz/obj/gen/migrations.o: $(BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
build-fuzz/liblookout.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
build-fuzz/%: fuzz/%.c build-fuzz/liblookout.a $(wildcard fuzz/*.h)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< build-fuzz/liblookout.a $(LDLIBS) -o $@

# A crash, leak, timeout (FUZZ_TIMEOUT s for one input) or OOM fails the run
# and prints the end of the target's log; the failing input is written to
# build-fuzz/<target>-crash-* (add it to fuzz/corpus/<target>/ once fixed).
FUZZ_TIMEOUT ?= 10
fuzz-run: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=$(FUZZ_TIMEOUT) \
	      -artifact_prefix=build-fuzz/$$n- -print_final_stats=0 \
	      build-fuzz/corpus/$$n fuzz/corpus/$$n >build-fuzz/$$n.log 2>&1; then \
	    tail -n 60 build-fuzz/$$n.log; echo "fuzz: $$n FAILED (full log: build-fuzz/$$n.log)"; exit 1; fi; \
	  tail -n 1 build-fuzz/$$n.log; echo "fuzz: $$n passed"; done

# Benchmark tools (bench/): the load generator and the raw COPY baseline.
BENCH_BIN := $(BUILD)/bench/loadgen $(BUILD)/bench/copybase $(BUILD)/bench/pathcost
bench-tools: $(BENCH_BIN)
$(BUILD)/bench/loadgen: bench/loadgen.c bench/gen.c bench/encode.c $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) bench/loadgen.c bench/gen.c bench/encode.c -lz -pthread -o $@
$(BUILD)/bench/copybase: bench/copybase.c bench/gen.c bench/rows.c $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) bench/copybase.c bench/gen.c bench/rows.c $(LDLIBS) -o $@
$(BUILD)/bench/pathcost: bench/pathcost.c bench/gen.c bench/encode.c $(wildcard bench/*.h) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) bench/pathcost.c bench/gen.c bench/encode.c $(LIB) $(LDLIBS) -o $@

# The query benchmark: bench/query_bench.sh, in-process driver bench/query_run.c.
.PHONY: bench-query
$(BUILD)/bench/query_run: bench/query_run.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) bench/query_run.c $(LIB) $(LDLIBS) -o $@
bench-query: $(BIN) $(BUILD)/bench/query_run
	@BUILD=$(BUILD) LO_BIN=$(BIN) bench/query_bench.sh

# The cold tier: rotation rate and bytes per row, beside ClickHouse (bench/cold_bench.sh).
.PHONY: bench-cold
$(BUILD)/bench/pq_scan: bench/pq_scan.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) bench/pq_scan.c $(LIB) $(LDLIBS) -o $@
bench-cold: $(BIN) $(BUILD)/bench/pq_scan
	@BUILD=$(BUILD) LO_BIN=$(BIN) bench/cold_bench.sh

# The cold tier's queries over days of rotated data written directly as cold
# files (bench/cold_query_bench.sh, generator bench/cold_gen.c).
.PHONY: bench-cold-query
$(BUILD)/bench/cold_gen: bench/cold_gen.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) bench/cold_gen.c $(LIB) $(LDLIBS) -o $@
bench-cold-query: $(BIN) $(BUILD)/bench/cold_gen $(BUILD)/bench/query_run
	@BUILD=$(BUILD) LO_BIN=$(BIN) bench/cold_query_bench.sh

# The protobuf walker's decode speed alone, one core (bench/decode_bench.c).
.PHONY: bench-decode
$(BUILD)/bench/decode_bench: bench/decode_bench.c $(LIB) $(PROTO_O) | $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(PROTO_O) $(LIB) $(LDLIBS) -lprotobuf-c -o $@
bench-decode: $(BUILD)/bench/decode_bench
	$(BUILD)/bench/decode_bench 1

# The live tail: latency, ingest with tails open, fan-out (bench/tail_bench.sh).
.PHONY: bench-tail
$(BUILD)/bench/tailhold: bench/tailhold.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@
bench-tail: $(BIN) $(BUILD)/bench/loadgen $(BUILD)/bench/tailhold
	@BUILD=$(BUILD) LO_BIN=$(BIN) bench/tail_bench.sh

# make bench: the ingest benchmark, then the query benchmark (LO_BENCH_QUERY=0
# skips it), then the live tail's (LO_BENCH_TAIL=0 skips it).
bench: deps
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BIN)
	@BUILD=$(BUILD) LO_BIN=$(BIN) scripts/bench.sh
	@if [ "$${LO_BENCH_QUERY:-1}" != 0 ]; then $(MAKE) --no-print-directory bench-query; fi
	@if [ "$${LO_BENCH_TAIL:-1}" != 0 ]; then $(MAKE) --no-print-directory bench-tail; fi

services-stop:
	@scripts/services.sh stop all

clean:
	rm -rf build build-asan build-fuzz bin
