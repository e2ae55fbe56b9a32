# usbvnet: top-level build and test entry points.
#   make demo   build everything, boot the VM lab, plug devices into usbvnet0
#   make test   everything CI checks; ends with "N passed, N failed"

SHELL := /bin/bash
TOP := $(abspath .)
# The Debian kernel the module is built for and the VM lab boots: the newest
# one installed, unless KVER is given.
KVER ?= $(shell ls /lib/modules 2>/dev/null | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
BUILD := $(TOP)/build
CC ?= cc
CORE_SRCS := $(wildcard core/*.c)
CORE_HDRS := $(wildcard core/*.h)
CORE_TESTS := $(patsubst core/test/%.c,$(BUILD)/core-test/%,$(wildcard core/test/test_*.c))
CORE_CFLAGS := -std=c99 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-fsanitize=address,undefined -fno-omit-frame-pointer -Icore

.PHONY: all deps module module-check iproute2-plugin core-test core-portable cli cli-test install-dkms-test \
	vm-test test demo bench fuzz clean

all: module iproute2-plugin cli

deps:
	@bash test/setup/deps.sh

# ---- core/: portable C, tested in user space --------------------------------
$(BUILD)/core-test/%: core/test/%.c $(CORE_SRCS) $(CORE_HDRS) core/test/unit.h core/test/dhcp_frames.h
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(CORE_SRCS)

core-test: $(CORE_TESTS)
	@set -e; for t in $(CORE_TESTS); do $$t; done

# The macOS drivers link the same core: prove it compiles freestanding for
# Apple's arm64 target with no SDK at all.
core-portable:
	@mkdir -p $(BUILD)/portable
	@set -e; for f in $(CORE_SRCS); do \
		clang -std=c99 -Wall -Wextra -Werror -ffreestanding -nostdinc \
			-target arm64-apple-macos11 -Icore -c $$f -o $(BUILD)/portable/$$(basename $$f .c).o; \
		echo "PASS core-portable: $$f"; \
	done

# ---- linux-module/ -----------------------------------------------------------
module:
	$(MAKE) -C $(KDIR) M=$(TOP)/linux-module W=1 modules

# W=1 and sparse, failing on any warning.
module-check:
	@mkdir -p $(BUILD)
	@$(MAKE) -C $(KDIR) M=$(TOP)/linux-module clean >/dev/null
	@$(MAKE) -C $(KDIR) M=$(TOP)/linux-module W=1 C=1 modules 2>&1 | tee $(BUILD)/module-check.log
	@if grep -E 'warning:|error:' $(BUILD)/module-check.log; then \
		echo "FAIL module-build: warnings above"; exit 1; \
	else echo "PASS module-build: W=1 C=1 clean against $(KVER)"; fi

# The "usbvnet" kind for ip(8): ip loads $$IP_LIB_DIR/link_usbvnet.so (default
# /usr/lib/ip) to show and set the mode and show the slots.
IPROUTE2_PLUGIN := $(BUILD)/iproute2/link_usbvnet.so
$(IPROUTE2_PLUGIN): linux-module/iproute2/link_usbvnet.c linux-module/uapi/usbvnet.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 -Wall -Wextra -Werror -fPIC -shared -Ilinux-module/uapi -o $@ $< -ldl

iproute2-plugin: $(IPROUTE2_PLUGIN)

# ---- cli/: the usbvnet command -----------------------------------------------
# tsc, then oclif.manifest.json (gitignored): with it a command loads only
# its own module, not every command's (about half the files at start-up).
cli:
	npx tsc -p tsconfig.json
	node cli/scripts/manifest.mjs

cli-test: cli
	@bash test/unit/run-cli-tests.sh

# usbvnet install's DKMS steps for real, into a root of its own (two module builds).
install-dkms-test: cli
	@KVER=$(KVER) bash test/install/dkms-host.sh

# ---- test/vm: the QEMU lab ------------------------------------------------------
# Small C programs the scenarios run in the guest (it shares this root).
VM_TOOLS := $(BUILD)/vm/tools/ioctl-test $(BUILD)/vm/tools/dhcp-send $(BUILD)/vm/tools/input-read
$(BUILD)/vm/tools/%: test/vm/tools/%.c linux-module/uapi/usbvnet.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 -Wall -Wextra -Werror -Ilinux-module/uapi -o $@ $<

vm-test: module iproute2-plugin cli $(VM_TOOLS)
	@KVER=$(KVER) VM_JOBS=$${VM_JOBS:-2} bash test/vm/run-scenarios.sh

bench: module iproute2-plugin cli $(VM_TOOLS)
	@KVER=$(KVER) bash test/bench/run.sh

fuzz:
	@bash core/fuzz/run.sh 600

test: deps
	@mkdir -p $(BUILD)
	@bash test/run-suites.sh \
		'core-unit:$(MAKE) -s core-test' \
		'core-portable:$(MAKE) -s core-portable' \
		'core-fuzz:bash core/fuzz/run.sh 20' \
		'module-build:$(MAKE) -s module-check' \
		'cli-unit:$(MAKE) -s cli-test' \
		'install-dkms:$(MAKE) -s install-dkms-test' \
		'vm:$(MAKE) -s vm-test'

demo: deps module cli
	@KVER=$(KVER) bash test/vm/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP)/linux-module clean
	rm -rf $(BUILD) cli/dist oclif.manifest.json
