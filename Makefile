# sissim: build, test and benchmark the SIS kernel simulator.
#
#   make run     build sissim and boot it to the sis> shell
#   make test    install what is missing, check the guests, run all tests
#   make bench   benchmarks, with ratios against qemu-aarch64-static
#   make guests  rebuild the AArch64 test guests into testdata/guests
#   make deps    install the Debian packages (libunicorn-dev, cross gcc, qemu)

GO ?= go
BIN := bin/sissim
GOFLAGS_TEST ?=
# Debian's arm64 busybox-static, fetched by 'make busybox' for the differential tests.
BUSYBOX := .cache/busybox/bin/busybox

.PHONY: all deps build run test vet bench busybox arm64-root thirdparty models-check clean

all: build

include guest/guests.mk

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/sissim

run: build
	./$(BIN)

vet: deps
	@test -z "$$(gofmt -l cmd internal pkg)" || { echo "gofmt needed:"; gofmt -l cmd internal pkg; exit 1; }
	$(GO) vet ./...

# testdata/models must be what scripts/gen-models.sh generates (byte for byte).
models-check:
	@scripts/gen-models.sh check

busybox: deps
	@scripts/fetch-busybox.sh
	@qemu-aarch64-static $(BUSYBOX) true || { echo "busybox: $(BUSYBOX) does not run under qemu-aarch64-static" >&2; exit 1; }

# The Debian arm64 programs of the third-party suite (internal/thirdparty)
# and their dependencies, unpacked into .cache/arm64-root.
arm64-root: deps
	@scripts/arm64-root.sh $$(sed 's/#.*//' internal/thirdparty/testdata/packages.txt)

# The third-party suite alone, then its summary (matches per suite, causes).
thirdparty: busybox arm64-root
	@$(GO) test -count=1 -run TestThirdParty ./internal/thirdparty; s=$$?; cat .cache/thirdparty/summary.txt; exit $$s

test: deps guests-check models-check busybox arm64-root vet
	$(GO) test $(GOFLAGS_TEST) -count=1 ./...

# One table from one run: sissim (both clock modes) vs qemu-aarch64-static,
# median of BENCH_RUNS runs; BENCH_FLAGS=-metric=cpu times CPU instead of wall
# time (steadier on a busy host). Go micro-benchmarks: go test -bench . ./pkg/cpu ./pkg/kernel
BENCH_RUNS ?= 5
BENCH_FLAGS ?=
bench: build
	$(GO) run ./internal/bench -runs $(BENCH_RUNS) -sissim $(BIN) $(BENCH_FLAGS)

clean:
	rm -rf bin
