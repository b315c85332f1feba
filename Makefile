# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of binfmt_misc_rs.ko. KDIR defaults to the cached test kernel
# (scripts/build-kernel.sh builds it); a clang-built kernel gets LLVM=1 here too.

KDIR ?= $(shell $(CURDIR)/scripts/build-kernel.sh --print-dir)
LLVM ?= $(if $(shell grep -s '^CONFIG_CC_IS_CLANG=y' $(KDIR)/.config),1)
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(LLVM),LLVM=$(LLVM))

.PHONY: all modules clean clippy rustfmt rustfmtcheck host-test selftests

# Kbuild compares command lines, which use paths relative to KDIR, so objects built
# against another kernel tree would look up to date: clean when KDIR changes.
all modules:
	@if [ "$$(cat .kdir 2>/dev/null)" != "$(KDIR)" ]; then \
		$(KMAKE) clean && echo "$(KDIR)" >.kdir; fi
	$(KMAKE) modules

# Clippy over the kernel crate build, warnings as errors.
clippy:
	$(KMAKE) CLIPPY=1 KRUSTFLAGS=-Dwarnings modules

# `make rustfmt` of the kernel tree does not cover M= directories.
rustfmt:
	rustfmt --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml rust/binfmt_misc.rs rust/host.rs rust/fuzz/fuzz_targets/register.rs
rustfmtcheck:
	rustfmt --check --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml rust/binfmt_misc.rs rust/host.rs rust/fuzz/fuzz_targets/register.rs

host-test:
	cargo test --manifest-path rust/Cargo.toml

selftests:
	$(MAKE) -C selftests KSRC=$(KDIR)/source KDIR=$(KDIR)

clean:
	$(KMAKE) clean
	rm -f rust/bindings_generated.rs .kdir
	$(MAKE) -C selftests clean
