# guest/guests.mk - build the AArch64 test guests into testdata/guests/.
#
# Included from the top-level Makefile; all paths are relative to the
# repository root, which must be the working directory (CURDIR).
#
#   make guests        build every guest/<name>.c or guest/<name>.S into
#                      testdata/guests/<name>
#   make guests-check  rebuild every guest into a temporary directory and fail,
#                      naming the file, if it differs from testdata/guests/
#
# Reproducibility rule: the committed ELFs must be byte-identical to a fresh
# build with the same Debian cross toolchain (gcc-aarch64-linux-gnu 12 and its
# static glibc), whatever the checkout path or the time of the build. Hence:
# no debug info, no build id, no .ident, stripped, file paths mapped to ".",
# fixed -frandom-seed, and nothing from the environment in the sources.
#
# Guests built from .S are freestanding (no libc, entry point _start). A C
# guest is freestanding when its name is listed in GUEST_FREESTANDING_C;
# every other C guest links against static glibc.

GUEST_MK := $(lastword $(MAKEFILE_LIST))
# Do not let this fragment's first rule become the includer's default goal.
GUEST_SAVED_GOAL := $(.DEFAULT_GOAL)

CC_AARCH64 ?= aarch64-linux-gnu-gcc

GUEST_SRCDIR ?= guest
GUEST_OUTDIR ?= testdata/guests

# C guests built with -nostdlib -ffreestanding (none at present).
GUEST_FREESTANDING_C ?=

GUEST_NAMES := $(sort $(basename $(notdir \
	$(wildcard $(GUEST_SRCDIR)/*.c $(GUEST_SRCDIR)/*.S))))
GUESTS := $(addprefix $(GUEST_OUTDIR)/,$(GUEST_NAMES))

GUEST_CFLAGS := -static -fno-pie -no-pie -O2 -g0 -fno-ident \
	-ffile-prefix-map=$(CURDIR)=. -Wall -Wextra \
	-Wl,--build-id=none -s
GUEST_FREE_CFLAGS := -nostdlib -ffreestanding -fno-stack-protector -e _start

# $(call guest-src,name): the source of guest name (.S wins over .c).
guest-src = $(firstword $(wildcard $(GUEST_SRCDIR)/$(1).S $(GUEST_SRCDIR)/$(1).c))
# $(call guest-free,name): non-empty when guest name is freestanding.
guest-free = $(or $(filter %.S,$(call guest-src,$(1))),$(filter $(1),$(GUEST_FREESTANDING_C)))
# $(call guest-cmd,name,output): the command that builds guest name.
guest-cmd = $(CC_AARCH64) $(GUEST_CFLAGS) \
	$(if $(call guest-free,$(1)),$(GUEST_FREE_CFLAGS)) \
	-frandom-seed=$(1) -o $(2) $(call guest-src,$(1))

.PHONY: guests guests-check

guests: $(GUESTS)

define guest-rule
$(GUEST_OUTDIR)/$(1): $(call guest-src,$(1)) $(wildcard $(GUEST_SRCDIR)/*.h) $(GUEST_MK) | $(GUEST_OUTDIR)
	$$(call guest-cmd,$(1),$$@)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call guest-rule,$(g))))

$(GUEST_OUTDIR):
	mkdir -p $@

guests-check:
	@tmp=$$(mktemp -d) || exit 1; trap 'rm -rf "$$tmp"' EXIT; fail=0; \
	$(foreach g,$(GUEST_NAMES), \
	  $(call guest-cmd,$(g),"$$tmp/$(g)") || exit 1; \
	  if [ ! -f $(GUEST_OUTDIR)/$(g) ]; then \
	    echo "guests-check: $(GUEST_OUTDIR)/$(g) is missing" >&2; fail=1; \
	  elif ! cmp -s "$$tmp/$(g)" $(GUEST_OUTDIR)/$(g); then \
	    echo "guests-check: $(GUEST_OUTDIR)/$(g) differs from a fresh build of $(call guest-src,$(g))" >&2; fail=1; \
	  fi;) \
	if [ $$fail != 0 ]; then \
	  echo "guests-check: run 'make guests' and commit testdata/guests/" >&2; exit 1; \
	fi; \
	echo "guests-check: $(words $(GUEST_NAMES)) guests reproduce byte for byte"

.DEFAULT_GOAL := $(GUEST_SAVED_GOAL)
