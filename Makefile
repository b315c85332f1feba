# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of binfmt_misc_rs.ko. KDIR defaults to the cached test kernel
# (scripts/build-kernel.sh builds it); a clang-built kernel gets LLVM=1 here too.
# KDIR may be any configured kernel tree or installed headers
# (/lib/modules/<release>/build): with CONFIG_RUST the module uses the kernel's
# Rust crates; without (Debian's stock kernels) it builds them into itself from
# the kernel source package (scripts/kernel-rust.sh, kernel-rust.mk).

KDIR ?= $(shell $(CURDIR)/scripts/build-kernel.sh --print-dir)
LLVM ?= $(if $(shell grep -s '^CONFIG_CC_IS_CLANG=y' $(KDIR)/include/config/auto.conf),1)
KDIR_HAS_RUST := $(shell grep -qs '^CONFIG_RUST=y' $(KDIR)/include/config/auto.conf && echo y)
# For a kernel without Rust, the kernel's rustc version as Kconfig would have
# recorded it (scripts/kernel-rust.sh writes kernel-rust/make-vars), so that the
# kernel's Makefiles pick the Rust flags for the rustc that builds the module.
KRUST_VARS = $(if $(KDIR_HAS_RUST),,$$(cat $(CURDIR)/kernel-rust/make-vars 2>/dev/null))
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(LLVM),LLVM=$(LLVM)) $(KRUST_VARS)

.PHONY: all modules clean clippy rustfmt rustfmtcheck host-test selftests

# Kbuild compares command lines, which use paths relative to KDIR, so objects built
# against another kernel tree would look up to date: clean when KDIR changes.
all modules:
	@if [ "$$(cat .kdir 2>/dev/null)" != "$(KDIR)" ]; then \
		$(KMAKE) clean && echo "$(KDIR)" >.kdir; fi
ifneq ($(KDIR_HAS_RUST),y)
	$(CURDIR)/scripts/kernel-rust.sh $(KDIR) $(CURDIR)/kernel-rust
endif
	$(KMAKE) modules

# Clippy over the kernel crate build, warnings as errors.
clippy:
	$(if $(KDIR_HAS_RUST),,$(CURDIR)/scripts/kernel-rust.sh $(KDIR) $(CURDIR)/kernel-rust)
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
	rm -rf rust/bindings_generated.rs .kdir .bindgen_c_flags.mk kernel-rust
	$(MAKE) -C selftests clean
