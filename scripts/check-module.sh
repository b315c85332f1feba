#!/usr/bin/env bash
# Checks a built binfmt_misc_rs.ko against the kernel it was built for, for what
# a build can get wrong without failing:
#   - it exports nothing (the kernel's Rust crates built into it stay local);
#   - every MODVERSIONS CRC it carries is the kernel's (Module.symvers);
#   - with X86_KERNEL_IBT, every function its data points at (the C tables of
#     callbacks, the module's init and exit) starts with ENDBR, else the first
#     indirect call faults;
#   - with DEBUG_INFO_BTF_MODULES, its .BTF holds struct binfmt_misc_ops (the
#     'B' handlers' struct_ops type).
#   scripts/check-module.sh KO KDIR
# Prints one line per check; exits non-zero if any fails.
set -euo pipefail

[ $# = 2 ] || { echo "usage: $0 KO KDIR" >&2; exit 2; }
ko=$1 kdir=$2
conf=$kdir/include/config/auto.conf
[ -f "$ko" ] || { echo "no $ko" >&2; exit 2; }
[ -f "$conf" ] || { echo "no $conf" >&2; exit 2; }

failed=0
ok() { printf 'ok    %s\n' "$1"; }
bad() { printf 'FAIL  %s\n' "$1"; failed=1; }

if readelf -SW "$ko" | grep -qE '__ksymtab|__kcrctab'; then
	bad "exports nothing: $(readelf -SW "$ko" | grep -oE '__k(symtab|crctab)[a-z_+]*' | sort -u | tr '\n' ' ')"
else
	ok "exports nothing (no __ksymtab/__kcrctab section)"
fi

if grep -q '^CONFIG_MODVERSIONS=y' "$conf"; then
	wrong=$(modprobe --dump-modversions "$ko" | awk '
		NR == FNR { crc[$2] = $1; next }
		!($2 in crc) || crc[$2] != $1 { print $2 " " $1 " (kernel: " ($2 in crc ? crc[$2] : "none") ")" }
	' "$kdir/Module.symvers" -)
	n=$(modprobe --dump-modversions "$ko" | wc -l)
	# Every undefined symbol needs a version; module_layout has one and no use.
	unversioned=$(comm -23 <(nm -u "$ko" | awk '{ print $2 }' | sort -u) \
		<(modprobe --dump-modversions "$ko" | awk '{ print $2 }' | sort -u))
	if [ -z "$wrong" ] && [ -z "$unversioned" ]; then
		ok "MODVERSIONS: $n CRCs, all the kernel's, none missing"
	else
		bad "MODVERSIONS: wrong: ${wrong:-none}; missing: ${unversioned:-none}"
	fi
fi

if grep -q '^CONFIG_X86_KERNEL_IBT=y' "$conf"; then
	# Functions referred to from data: R_X86_64_64 relocations in every
	# non-executable, non-metadata section, to a function symbol or to a
	# text section plus an offset; then the first instruction of each.
	report=$(python3 - "$ko" <<'EOF'
import re, subprocess, sys
ko = sys.argv[1]
out = lambda *a: subprocess.run(a, check=True, capture_output=True, text=True).stdout
sections = {}
for m in re.finditer(r'^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*)', out('readelf', '-SW', ko), re.M):
    sections[int(m.group(1))] = (m.group(2), 'X' in m.group(3))
funcs = {}  # (section, offset) -> name
names = {}
for line in out('readelf', '-sW', ko).splitlines():
    f = line.split()
    if len(f) >= 8 and f[3] == 'FUNC' and f[6].isdigit():
        funcs[(sections[int(f[6])][0], int(f[1], 16))] = f[7]
        names[f[7]] = (sections[int(f[6])][0], int(f[1], 16))
skip = re.compile(r'^\.rela(\.text|\.init\.text|\.exit\.text|\.noinstr|\.debug|\.BTF|\.orc|\.return_sites|\.call_sites|\.retpoline_sites|\.ibt|__patchable|__ex_table|__jump_table|\.static_call|\.altinstr|\.discard|\.note|\.smp_locks|__bug_table|\.cfi)')
targets = set()
section = None
for line in out('readelf', '-rW', ko).splitlines():
    m = re.match(r"Relocation section '(\S+)'", line)
    if m:
        section = m.group(1)
        continue
    f = line.split()
    if section is None or skip.match(section) or len(f) < 7 or f[2] != 'R_X86_64_64':
        continue
    sym, addend = f[4], int(f[6], 16) if f[5] == '+' else -int(f[6], 16)
    if sym in names:
        targets.add(names[sym])
    elif sym.startswith('.text') or sym.startswith('.init.text') or sym.startswith('.exit.text'):
        if (sym, addend) in funcs:
            targets.add((sym, addend))
bad = []
dis = out('objdump', '-d', '--no-show-raw-insn', ko)
first = {}
cur = None
for line in dis.splitlines():
    m = re.match(r'^[0-9a-f]+ <(.+)>:$', line)
    if m:
        cur = m.group(1)
        continue
    if cur and ':' in line and cur not in first:
        first[cur] = line.split(':', 1)[1].strip()
for t in sorted(targets):
    name = funcs[t]
    if not first.get(name, '').startswith('endbr64'):
        bad.append(f'{name}: {first.get(name)}')
print(len(targets))
print('\n'.join(bad))
EOF
)
	n=$(echo "$report" | head -n 1)
	missing=$(echo "$report" | tail -n +2)
	if [ -z "$missing" ] && [ "$n" -gt 0 ]; then
		ok "IBT: all $n functions the module's data points at start with endbr64"
	else
		bad "IBT: of $n functions the module's data points at, these lack endbr64: $missing"
	fi
fi

if grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$conf"; then
	btf=$(mktemp)
	objcopy --dump-section .BTF="$btf" "$ko" /dev/null 2>/dev/null || true
	if [ -s "$btf" ] && grep -qa 'binfmt_misc_ops' "$btf"; then
		ok "module BTF: .BTF of $(stat -c %s "$btf") bytes, names binfmt_misc_ops"
	else
		bad "module BTF: no .BTF section with binfmt_misc_ops"
	fi
	rm -f "$btf"
fi
exit "$failed"
