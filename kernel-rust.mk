# SPDX-License-Identifier: GPL-2.0
#
# The kernel's Rust support, built into this module for a kernel without
# CONFIG_RUST (Debian's stock kernels). Included by Kbuild. The crates' sources
# are the kernel's own, unpacked from its source package into kernel-rust/ by
# scripts/kernel-rust.sh, which the Makefile runs first; kernel-rust/ is laid out
# like a kernel tree (rust/, scripts/) and is the crates' OBJTREE, since the
# `bindings` and `uapi` crates include their generated files from
# $(OBJTREE)/rust/.
#
# This file mirrors Linux 6.12's rust/Makefile (its crate graph and rustc
# commands) and is the one place that knows it: porting to another kernel series
# means another version of this file. What the kernel's Makefiles already define
# is used as is: KBUILD_RUSTFLAGS (the top-level and arch Makefiles set them even
# without CONFIG_RUST; the Makefile passes CONFIG_RUSTC_VERSION so that the
# version-gated ones come out as for a Rust-enabled kernel), rust_flags (those
# plus the kernel's rustc_cfg), the objtool and fixdep steps, kbuild's host-Rust
# rule for the target-spec generator and its C rule for the helpers.
#
# Every object here is linked into binfmt_misc_rs.ko; none is exported (the
# kernel's rust/exports.c is not built), so the crates' symbols stay local to
# the module and another module built the same way cannot clash with them.

# The kernel series whose rust/Makefile this file mirrors.
bmrs_krust_series := 6.12
ifneq ($(VERSION).$(PATCHLEVEL),$(bmrs_krust_series))
$(error binfmt_misc_rs: Linux $(KERNELVERSION) has no CONFIG_RUST, and kernel-rust.mk builds the Rust support of Linux $(bmrs_krust_series) only)
endif

bmrs_krust := $(abspath $(obj))/kernel-rust
RUST_LIB_SRC ?= $(shell $(RUSTC) --print sysroot)/lib/rustlib/src/rust/library

# The target spec (x86 only, as in 6.12): the kernel's own generator, built with
# kbuild's host-Rust rule and run on the installed kernel's configuration, as
# scripts/Makefile does, but with the rustc versions this build uses (the
# configuration says 0, and the spec's format follows rustc's). It replaces the
# kernel's scripts/target.json, which a kernel without CONFIG_RUST never made, in
# the flags of every crate.
ifneq ($(or $(CONFIG_X86_64),$(CONFIG_X86_32)),)
hostprogs += kernel-rust/scripts/generate_rust_target
kernel-rust/scripts/generate_rust_target-rust := y

filechk_bmrs_rust_target = \
	sed -e 's/^CONFIG_RUSTC_VERSION=.*/CONFIG_RUSTC_VERSION=$(CONFIG_RUSTC_VERSION)/' \
	    -e 's/^CONFIG_RUSTC_LLVM_VERSION=.*/CONFIG_RUSTC_LLVM_VERSION=$(CONFIG_RUSTC_LLVM_VERSION)/' \
	    $(objtree)/include/config/auto.conf | $<
$(obj)/kernel-rust/scripts/target.json: $(obj)/kernel-rust/scripts/generate_rust_target \
    $(objtree)/include/config/auto.conf FORCE
	$(call filechk,bmrs_rust_target)
targets += kernel-rust/scripts/target.json
bmrs_target_json := $(obj)/kernel-rust/scripts/target.json

KBUILD_RUSTFLAGS := $(filter-out --target=%/scripts/target.json,$(KBUILD_RUSTFLAGS)) \
	--target=$(bmrs_krust)/scripts/target.json
endif

# The module's own crate finds `kernel` (and what it needs) here instead of the
# kernel's rust/ directory, which such a kernel does not have. The kernel's
# rustc_cfg lacks CONFIG_RUST, which the kernel crate insists on (lib.rs): the
# crates here are that configuration's Rust support.
rustflags-y += -L$(bmrs_krust)/rust --cfg CONFIG_RUST --cfg 'CONFIG_RUST="y"'

# The crates, in link order; build_error is built for its metadata only and
# never linked, so that a build_assert! left to run time fails at modpost, as in
# the kernel without CONFIG_RUST_BUILD_ASSERT_ALLOW.
bmrs_krust_objs := core.o compiler_builtins.o ffi.o bindings.o uapi.o kernel.o helpers/helpers.o
binfmt_misc_rs-y += $(addprefix kernel-rust/rust/,$(bmrs_krust_objs))
# What those objects need from vmlinux that a kernel without Rust lacks: `%pA`
# printing and vrealloc() (modpost names anything else that is missing).
binfmt_misc_rs-y += include/kernel_rust_support.o
targets += $(addprefix kernel-rust/rust/,core.o compiler_builtins.o ffi.o build_error.o \
	bindings.o uapi.o kernel.o libmacros.so bindings/bindings_generated.rs \
	bindings/bindings_helpers_generated.rs uapi/uapi_generated.rs)

# The helpers exist for Rust only and have no prototypes (6.12's rust/Makefile).
CFLAGS_REMOVE_kernel-rust/rust/helpers/helpers.o = -Wmissing-prototypes -Wmissing-declarations

# 6.12's cmd_rustc_library: one crate into an object and its metadata.
quiet_cmd_bmrs_rustc_library = RUSTC L $@
      cmd_bmrs_rustc_library = \
	OBJTREE=$(bmrs_krust) $(RUSTC) \
		$(filter-out $(skip_flags),$(rust_flags)) $(rustc_target_flags) \
		--emit=dep-info=$(depfile) --emit=obj=$@ \
		--emit=metadata=$(dir $@)$(patsubst %.o,lib%.rmeta,$(notdir $@)) \
		--crate-type rlib -L$(bmrs_krust)/rust \
		--crate-name $(patsubst %.o,%,$(notdir $@)) $< \
		--sysroot=/dev/null -Zunstable-options \
	$(if $(rustc_objcopy),;$(OBJCOPY) $(rustc_objcopy) $@) \
	$(cmd_objtool)

define rule_bmrs_rustc_library
	$(call cmd_and_fixdep,bmrs_rustc_library)
	$(call cmd,gen_objtooldep)
endef

# core's edition and cfgs, and the 128-bit and float intrinsics core must not
# call (compiler_builtins gives panicking ones), as 6.12's rust/Makefile.
bmrs_core_edition := $(if $(call rustc-min-version,108700),2024,2021)
bmrs_redirect_intrinsics := \
	__addsf3 __eqsf2 __extendsfdf2 __gesf2 __lesf2 __ltsf2 __mulsf3 __nesf2 __truncdfsf2 __unordsf2 \
	__adddf3 __eqdf2 __ledf2 __ltdf2 __muldf3 __unorddf2 \
	__muloti4 __multi3 \
	__udivmodti4 __udivti3 __umodti3

$(obj)/kernel-rust/rust/core.o: private skip_flags = --edition=2021 -Wunreachable_pub
$(obj)/kernel-rust/rust/core.o: private rustc_objcopy = $(foreach sym,$(bmrs_redirect_intrinsics),--redefine-sym $(sym)=__rust$(sym))
$(obj)/kernel-rust/rust/core.o: private rustc_target_flags = --edition=$(bmrs_core_edition) --cfg no_fp_fmt_parse
$(obj)/kernel-rust/rust/core.o: $(RUST_LIB_SRC)/core/src/lib.rs $(bmrs_target_json) FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

$(obj)/kernel-rust/rust/compiler_builtins.o: private rustc_objcopy = -w -W '__*'
$(obj)/kernel-rust/rust/compiler_builtins.o: $(obj)/kernel-rust/rust/compiler_builtins.rs \
    $(obj)/kernel-rust/rust/core.o FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

$(obj)/kernel-rust/rust/build_error.o: $(obj)/kernel-rust/rust/build_error.rs \
    $(obj)/kernel-rust/rust/compiler_builtins.o FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

$(obj)/kernel-rust/rust/ffi.o: $(obj)/kernel-rust/rust/ffi.rs \
    $(obj)/kernel-rust/rust/compiler_builtins.o FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

$(obj)/kernel-rust/rust/bindings.o: private rustc_target_flags = --extern ffi
$(obj)/kernel-rust/rust/bindings.o: $(obj)/kernel-rust/rust/bindings/lib.rs \
    $(obj)/kernel-rust/rust/ffi.o \
    $(obj)/kernel-rust/rust/bindings/bindings_generated.rs \
    $(obj)/kernel-rust/rust/bindings/bindings_helpers_generated.rs FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

$(obj)/kernel-rust/rust/uapi.o: private rustc_target_flags = --extern ffi
$(obj)/kernel-rust/rust/uapi.o: $(obj)/kernel-rust/rust/uapi/lib.rs \
    $(obj)/kernel-rust/rust/ffi.o \
    $(obj)/kernel-rust/rust/uapi/uapi_generated.rs FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

# The crate's printing goes through include/kernel_rust_support.c, which formats
# `%pA` (vsprintf only does with CONFIG_RUST); renamed in the object, as 6.12's
# rust/Makefile redirects core's intrinsics.
$(obj)/kernel-rust/rust/kernel.o: private rustc_objcopy = --redefine-sym _printk=bmrs_rust_printk
$(obj)/kernel-rust/rust/kernel.o: private rustc_target_flags = --extern ffi \
    --extern build_error --extern macros --extern bindings --extern uapi
$(obj)/kernel-rust/rust/kernel.o: $(obj)/kernel-rust/rust/kernel/lib.rs \
    $(obj)/kernel-rust/rust/build_error.o $(obj)/kernel-rust/rust/libmacros.so \
    $(obj)/kernel-rust/rust/bindings.o $(obj)/kernel-rust/rust/uapi.o FORCE
	+$(call if_changed_rule,bmrs_rustc_library)

# `macros`, a proc-macro crate: a host library, loaded by rustc.
quiet_cmd_bmrs_rustc_procmacro = RUSTC P $@
      cmd_bmrs_rustc_procmacro = \
	$(RUSTC) $(rust_common_flags) \
		-Clinker-flavor=gcc -Clinker=$(HOSTCC) \
		-Clink-args='$(call escsq,$(KBUILD_HOSTLDFLAGS))' \
		--emit=dep-info=$(depfile) --emit=link=$@ --extern proc_macro \
		--crate-type proc-macro --crate-name macros $<

$(obj)/kernel-rust/rust/libmacros.so: $(obj)/kernel-rust/rust/macros/lib.rs FORCE
	+$(call if_changed_dep,bmrs_rustc_procmacro)

# The kernel crate's bindings over the installed headers, with the kernel's
# bindgen C flags (bmrs_bindgen_c_flags, set up in Kbuild) and 6.12's options.
quiet_cmd_bmrs_krust_bindgen = BINDGEN $@
      cmd_bmrs_krust_bindgen = \
	$(BINDGEN) $< $(bindgen_target_flags) --rust-target 1.68 \
		--use-core --with-derive-default --ctypes-prefix ffi --no-layout-tests \
		--no-debug '.*' --enable-function-attribute-detection \
		-o $@ -- $(bmrs_bindgen_c_flags) -DMODULE \
		$(bindgen_target_cflags) $(bindgen_target_extra)

bmrs_bindgen_parameters = $(shell grep -Ev '^\#|^$$' $(bmrs_krust)/rust/bindgen_parameters)

$(obj)/kernel-rust/rust/bindings/bindings_generated.rs: private bindgen_target_flags = \
    $(bmrs_bindgen_parameters)
$(obj)/kernel-rust/rust/bindings/bindings_generated.rs: private bindgen_target_extra = ; \
    sed -Ei 's/pub const RUST_CONST_HELPER_([a-zA-Z0-9_]*)/pub const \1/g' $@
$(obj)/kernel-rust/rust/bindings/bindings_generated.rs: \
    $(obj)/kernel-rust/rust/bindings/bindings_helper.h FORCE
	$(call if_changed_dep,bmrs_krust_bindgen)

$(obj)/kernel-rust/rust/uapi/uapi_generated.rs: private bindgen_target_flags = \
    $(bmrs_bindgen_parameters)
$(obj)/kernel-rust/rust/uapi/uapi_generated.rs: $(obj)/kernel-rust/rust/uapi/uapi_helper.h FORCE
	$(call if_changed_dep,bmrs_krust_bindgen)

$(obj)/kernel-rust/rust/bindings/bindings_helpers_generated.rs: private bindgen_target_flags = \
    --blocklist-type '.*' --allowlist-var '' \
    --allowlist-function 'rust_helper_.*'
$(obj)/kernel-rust/rust/bindings/bindings_helpers_generated.rs: private bindgen_target_cflags = \
    -I$(bmrs_krust)/rust -Wno-missing-prototypes -Wno-missing-declarations
$(obj)/kernel-rust/rust/bindings/bindings_helpers_generated.rs: private bindgen_target_extra = ; \
    sed -Ei 's/pub fn rust_helper_([a-zA-Z0-9_]*)/#[link_name="rust_helper_\1"]\n    pub fn \1/g' $@
$(obj)/kernel-rust/rust/bindings/bindings_helpers_generated.rs: \
    $(obj)/kernel-rust/rust/helpers/helpers.c FORCE
	$(call if_changed_dep,bmrs_krust_bindgen)

# The module's crate needs `kernel` built first.
$(obj)/rust/binfmt_misc.o: $(obj)/kernel-rust/rust/kernel.o
