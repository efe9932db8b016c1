# sissim: build, test and benchmark the SIS kernel simulator.
#
#   make run     build sissim and run the embedded default guest
#   make test    install what is missing, check the guests, run all tests
#   make bench   benchmarks, with ratios against qemu-aarch64-static
#   make guests  rebuild the AArch64 test guests into testdata/guests
#   make deps    install the Debian packages (libunicorn-dev, cross gcc, qemu)

GO ?= go
BIN := bin/sissim
GOFLAGS_TEST ?=

.PHONY: all deps build run test vet bench busybox clean

all: build

include guest/guests.mk

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/sissim

run: build
	./$(BIN) run

vet: deps
	@test -z "$$(gofmt -l cmd pkg)" || { echo "gofmt needed:"; gofmt -l cmd pkg; exit 1; }
	$(GO) vet ./...

test: deps guests-check busybox vet
	$(GO) test $(GOFLAGS_TEST) -count=1 ./...

clean:
	rm -rf bin
