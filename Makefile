# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of binfmt_misc_rs.ko; a clang-built kernel gets LLVM=1 here too.
# KDIR may be any configured kernel tree or installed headers
# (/lib/modules/<release>/build): with CONFIG_RUST the module uses the kernel's
# Rust crates; without (Debian's stock kernels) it builds them into itself from
# the kernel source package (scripts/kernel-rust.sh, kernel-rust.mk).

# Default: the test kernel once scripts/build-kernel.sh has built it, else the
# running kernel's headers.
BMRS_TEST_KDIR := $(shell $(CURDIR)/scripts/build-kernel.sh --print-dir 2>/dev/null)
KDIR ?= $(if $(wildcard $(BMRS_TEST_KDIR)/.binfmt_misc_rs-built),$(BMRS_TEST_KDIR),/lib/modules/$(shell uname -r)/build)
LLVM ?= $(if $(shell grep -s '^CONFIG_CC_IS_CLANG=y' $(KDIR)/include/config/auto.conf),1)
KDIR_HAS_RUST := $(shell grep -qs '^CONFIG_RUST=y' $(KDIR)/include/config/auto.conf && echo y)
# For a kernel without Rust, the kernel's rustc version as Kconfig would have
# recorded it (scripts/kernel-rust.sh writes kernel-rust/make-vars), so that the
# kernel's Makefiles pick the Rust flags for the rustc that builds the module.
KRUST_VARS = $(if $(KDIR_HAS_RUST),,$$(cat $(CURDIR)/kernel-rust/make-vars 2>/dev/null))
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(LLVM),LLVM=$(LLVM)) $(KRUST_VARS)

.PHONY: all modules clean clippy rustfmt rustfmtcheck host-test selftests tools \
	install-tools uninstall-tools \
	install uninstall dkms-install dkms-uninstall

# Kbuild compares command lines, which use paths relative to KDIR, so objects built
# against another kernel tree would look up to date: clean when KDIR changes.
all modules:
	@if [ "$$(realpath "$$(cat .kdir 2>/dev/null)" 2>/dev/null)" != "$(realpath $(KDIR))" ]; then \
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
	rustfmt --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml rust/binfmt_misc.rs rust/host.rs rust/fuzz/fuzz_targets/register.rs rust/fuzz/fuzz_targets/lookup.rs
rustfmtcheck:
	rustfmt --check --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml rust/binfmt_misc.rs rust/host.rs rust/fuzz/fuzz_targets/register.rs rust/fuzz/fuzz_targets/lookup.rs

host-test:
	cargo test --manifest-path rust/Cargo.toml

selftests:
	$(MAKE) -C selftests KSRC=$(KDIR)/source KDIR=$(KDIR)

# tools/binfmt-misc-handler, which registers the bpf handlers of 'B' entries,
# linked with the static libbpf that scripts/build-bpf-tools.sh builds (once)
# from the kernel source package; and the example handlers
# (selftests/bpf/demo_*.bpf.c), compiled against the BTF of the module built for
# KDIR and of KDIR's vmlinux. `make install-tools` installs both under PREFIX.
HANDLER_EXAMPLES := $(patsubst %,selftests/bpf/gen/%.bpf.o,demo_foreign demo_origin)
tools: all
	$(CURDIR)/scripts/build-bpf-tools.sh >/dev/null
	$(MAKE) -C tools
	$(MAKE) -C selftests KDIR=$(KDIR) MODULE_KO=$(CURDIR)/binfmt_misc_rs.ko \
		$(addprefix $(CURDIR)/,$(HANDLER_EXAMPLES))

install-tools:
	install -D -m 755 $(HANDLER_TOOL) $(DESTDIR)$(SBINDIR)/binfmt-misc-handler
	install -D -m 644 -t $(DESTDIR)$(PREFIX)/lib/binfmt_misc_rs $(HANDLER_EXAMPLES)

uninstall-tools:
	rm -f $(DESTDIR)$(SBINDIR)/binfmt-misc-handler
	rm -rf $(DESTDIR)$(PREFIX)/lib/binfmt_misc_rs

# Installing, for the kernel of KDIR (default: the running one, for a tree
# without the test kernel). `make install` puts the built module in
# /lib/modules/<release>/updates; `make dkms-install` gives DKMS the sources so
# that it builds and installs the module for every kernel, now and on upgrades.
# Both install binfmt_misc_rs.modprobe.conf, which makes this module the one
# `modprobe binfmt_misc` and `mount -t binfmt_misc` load; the uninstall targets
# remove it, and the kernel's binfmt_misc.ko is used again. `make install` also
# installs tools/binfmt-misc-handler in $(PREFIX)/sbin if `make tools` built it;
# `make uninstall` removes it.
# DKMS_FLAGS (e.g. --dkmstree/--sourcetree), DKMS_SRC_ROOT and MODPROBE_D let a
# test install somewhere else than the system's places.
KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release)
BMRS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(CURDIR)/dkms.conf)
DKMS_SRC_ROOT ?= /usr/src
DKMS_FLAGS ?=
MODPROBE_D ?= /etc/modprobe.d
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
HANDLER_TOOL := tools/binfmt-misc-handler

install:
	@test -f binfmt_misc_rs.ko && test "$$(realpath "$$(cat .kdir 2>/dev/null)")" = "$(realpath $(KDIR))" || \
		{ echo "no binfmt_misc_rs.ko built for $(KDIR): run make KDIR=$(KDIR) first" >&2; exit 1; }
	$(KMAKE) INSTALL_MOD_DIR=updates modules_install
	@# Installed headers have no System.map, and then modules_install skips depmod.
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)
	install -D -m 644 binfmt_misc_rs.modprobe.conf $(MODPROBE_D)/binfmt_misc_rs.conf
	@if [ -x $(HANDLER_TOOL) ]; then \
		echo install -D -m 755 $(HANDLER_TOOL) $(DESTDIR)$(SBINDIR)/binfmt-misc-handler; \
		install -D -m 755 $(HANDLER_TOOL) $(DESTDIR)$(SBINDIR)/binfmt-misc-handler; \
	else \
		echo "$(HANDLER_TOOL) not built (make tools): not installed" >&2; \
	fi

uninstall:
	rm -f /lib/modules/$(KRELEASE)/updates/binfmt_misc_rs.ko*
	depmod $(KRELEASE)
	rm -f $(MODPROBE_D)/binfmt_misc_rs.conf
	rm -f $(DESTDIR)$(SBINDIR)/binfmt-misc-handler

# The sources DKMS builds from: the tracked files (in a git checkout) or this
# directory without its build products.
dkms-install:
	rm -rf $(DKMS_SRC_ROOT)/binfmt_misc_rs-$(BMRS_VERSION)
	mkdir -p $(DKMS_SRC_ROOT)/binfmt_misc_rs-$(BMRS_VERSION)
	if git -C $(CURDIR) rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git -C $(CURDIR) ls-files -z | tar -C $(CURDIR) --null -T - -cf -; \
	else \
		tar -C $(CURDIR) --exclude=./kernel-rust --exclude='*.o' --exclude='*.ko' -cf - .; \
	fi | tar -C $(DKMS_SRC_ROOT)/binfmt_misc_rs-$(BMRS_VERSION) -xf -
	dkms add $(DKMS_FLAGS) -m binfmt_misc_rs -v $(BMRS_VERSION)
	dkms install $(DKMS_FLAGS) -m binfmt_misc_rs -v $(BMRS_VERSION) -k $(KRELEASE)
	install -D -m 644 binfmt_misc_rs.modprobe.conf $(MODPROBE_D)/binfmt_misc_rs.conf

dkms-uninstall:
	dkms remove $(DKMS_FLAGS) -m binfmt_misc_rs -v $(BMRS_VERSION) --all
	rm -rf $(DKMS_SRC_ROOT)/binfmt_misc_rs-$(BMRS_VERSION)
	rm -f $(MODPROBE_D)/binfmt_misc_rs.conf

clean:
	$(KMAKE) clean
	rm -rf rust/bindings_generated.rs .kdir .bindgen_c_flags.mk kernel-rust
	$(MAKE) -C selftests clean
