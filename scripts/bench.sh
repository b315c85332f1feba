#!/usr/bin/env bash
# Exec speed, list-change time and kernel memory of no binfmt_misc at all
# (`none`), the kernel's own binfmt_misc.ko (`c`) and this module (`rust`), on
# Debian's stock kernel (no debug options; lib.sh's DEBIAN_KERNEL_RELEASE), SMP
# guest with 2 CPUs under TCG, all in one boot:
#   scripts/bench.sh      (25 minutes here; wrap it in `flock /tmp/vm.lock`)
# Rounds are interleaved (none, c, rust, none, ...); each figure is the median,
# minimum and maximum over the rounds. Prints a table, then one machine line per
# figure and implementation:
#   BENCH <figure> <entries> <workers> <impl> <median> <min> <max>
# and plots exec/s against entries into docs/bench.png (BENCH_PLOT elsewhere).
# Knobs: BENCH_ROUNDS (5), BENCH_SECONDS (3: seconds per exec and mounts
# figure), BENCH_QUICK=1 (0 and 1000 entries, 1 worker only), for working on it.
#   scripts/bench.sh --insns   (4 minutes here)
# counts instead the instructions binfmt_misc's load_binary runs, c and rust,
# under QEMU's icount (the guest's clock, TSC included, advances one
# nanosecond per instruction), so that the figure is the same in every run
# and on any host: the miss-insns figures for execs no entry matches and the
# match-insns ones for execs an entry matches, 2 rounds unless BENCH_ROUNDS
# says otherwise; no plot.
# Builds the module and the selftests for that kernel (scripts/build-debian.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

insns=''
qemu_opts=()
if [ "${1:-}" = --insns ]; then
	insns=1
	qemu_opts=(--qemu-opts="-icount shift=0")
fi
rounds=${BENCH_ROUNDS:-${insns:+2}}
rounds=${rounds:-5}
seconds=${BENCH_SECONDS:-3}
plot=${BENCH_PLOT:-$REPO/docs/bench.png}

scripts/setup.sh >/dev/null
# Debian's python3 for the plot (lib.sh puts pyenv's first in PATH).
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
	log "apt-get install python3-matplotlib (for the plot)"
	{ apt-get install -y -qq --no-install-recommends python3-matplotlib ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-matplotlib; }; } >/dev/null
fi
scripts/build-bpf-tools.sh >/dev/null
log "building the module and the selftests for $DEBIAN_KERNEL_RELEASE"
build=$(scripts/build-debian.sh 2>/dev/null | tail -n 1)
[ -f "$build/binfmt_misc_rs.ko" ] || die "scripts/build-debian.sh failed; run it for its output"
boot=$(debian_vmlinuz)
c_ko=$(find "$(debian_modules)/kernel/fs" -maxdepth 1 -name 'binfmt_misc.ko*' | head -n 1)
if [ ! -f "$boot" ] || [ -z "$c_ko" ]; then die "no $boot or binfmt_misc.ko in $(debian_modules): run scripts/setup.sh"; fi

out=$(mktemp -d "${TMPDIR:-/tmp}/bmrs-bench.XXXXXX")
chmod 777 "$out"
# Loaded with a plain insmod, which wants an uncompressed module.
case $c_ko in
*.ko.xz) xz -dc "$c_ko" >"$out/binfmt_misc.ko" ;;
*.ko.zst) zstd -qdc "$c_ko" >"$out/binfmt_misc.ko" ;;
*.ko.gz) gzip -dc "$c_ko" >"$out/binfmt_misc.ko" ;;
*) cp "$c_ko" "$out/binfmt_misc.ko" ;;
esac

log "booting $DEBIAN_KERNEL_RELEASE (TCG, 2 CPUs): $rounds rounds, $seconds s per figure; progress follows"
start=$(date +%s)
# The guest's own limit is generous: a hung guest is the only thing it catches.
vng_boot 2700 "$boot" --verbose --disable-kvm --rwdir "$out" --memory 2G "${qemu_opts[@]}" \
	--exec "BENCH_ROUNDS=$rounds BENCH_SECONDS=$seconds BENCH_QUICK=${BENCH_QUICK:-} BENCH_INSNS=$insns $REPO/scripts/guest-bench.sh $build/binfmt_misc_rs.ko $out/binfmt_misc.ko $build/selftests/progs $build/selftests/bpf/gen $out" \
	</dev/null 2>&1 | tee "$out/console.log" | grep --line-buffered '^bench' >&2 || true
log "the guest took $(($(date +%s) - start)) s"
[ -f "$out/done" ] || die "the guest did not finish; see $out/console.log"
if grep -qF -e "$BAD_KERNEL_LOG" "$out/dmesg.txt"; then
	die "kernel reports during the benchmark; see $out/dmesg.txt"
fi
grep -q failed "$out/bench.txt" && die "a measurement failed; see $out/bench.txt and $out/console.log"

# Median, minimum and maximum per figure, entries, workers and implementation:
# a table, then the machine lines (also kept in summary.txt for the plot).
python3 - "$out/bench.txt" "$out/summary.txt" "$DEBIAN_KERNEL_RELEASE" "$rounds" "$seconds" "$insns" <<'EOF'
import statistics
import sys

raw, summary, release, rounds, seconds, insns = sys.argv[1:7]
values, order = {}, []
for line in open(raw):
    _, impl, fig, entries, workers, value = line.split()
    if (fig, entries, workers) not in order:
        order.append((fig, entries, workers))
    values.setdefault((fig, entries, workers, impl), []).append(float(value))
if insns:
    print(f"""kernel {release} (Debian's stock kernel, no debug options), 2 guest CPUs, QEMU TCG with icount
{rounds} rounds interleaved c/rust; each cell: median [min-max]
c: the kernel's binfmt_misc.ko; rust: binfmt_misc_rs.ko
miss-insns      instructions binfmt_misc's load_binary runs for an exec no entry matches, N magic
                entries registered: kprobes at bprm_execve's call of it and after (the same for
                both), the guest's TSC counting instructions, median over 0.2 s of failing
                execve()s; probes' own instructions included
miss-insns-ext  the same for N extension entries
miss-insns-disabled  the same with the instance disabled: the probes and the least a call runs
match-insns     the same for execs (bench_exec) of a binary a magic entry matches, registered
                before N magic entries (found last); its interpreter opened included
match-insns-ext the same for an extension entry
""")
else:
    print(f"""kernel {release} (Debian's stock kernel, no debug options), 2 guest CPUs, QEMU TCG (no KVM)
{rounds} rounds interleaved none/c/rust, {seconds} s per exec and mounts figure; each cell: median [min-max]
none: no binfmt_misc loaded; c: the kernel's binfmt_misc.ko; rust: binfmt_misc_rs.ko
exec-plain      exec/s of a static binary no entry matches, behind N magic entries (none: no module)
exec-plain-ext  the same behind N extension entries
exec-plain-bpf  the same with one 'B' entry whose match declines it
miss-cost       microseconds binfmt_misc's load_binary takes for an exec no entry matches, N magic
                entries registered: kprobes at bprm_execve's call of it and after (the same for
                both), TSC-timed, median over 1 s of failing execve()s; probes' own cost included
miss-cost-ext   the same for N extension entries
miss-cost-disabled  the same with the instance disabled: the probes' cost and the least a call costs
exec-magic/-ext exec/s of a binary handled by a magic / extension entry registered before N magic ones
register/remove seconds to register N entries / remove them one by one (a bash loop of writes)
mounts          fresh user+mount namespaces per second, each mounting and unmounting binfmt_misc
                (none: the namespaces alone)
slab-per-entry  bytes of slab objects (and larger kmallocs) per entry, N registered;
                slab-per-instance: the same per mounted instance in a fresh user namespace
                (N held, less N namespaces without one)
""")
impls = ("c", "rust") if insns else ("none", "c", "rust")
print(f"{'figure':<17} {'entries':>7} {'workers':>7}  " + "".join(f"{i:<24}" for i in impls))
lines = []
def fmt(v):
    return f"{v:.3f}" if v < 10 else f"{v:.0f}"
for fig, entries, workers in order:
    cells = []
    for impl in impls:
        v = sorted(values.get((fig, entries, workers, impl), []))
        if not v:
            cells.append("-")
            continue
        med = statistics.median(v)
        cells.append(f"{fmt(med)} [{fmt(v[0])}-{fmt(v[-1])}]")
        lines.append(f"BENCH {fig} {entries} {workers} {impl} {fmt(med)} {fmt(v[0])} {fmt(v[-1])}")
    print(f"{fig:<17} {entries:>7} {workers:>7}  " + "".join(f"{c:<24}" for c in cells))
print()
print("\n".join(lines))
with open(summary, "w") as f:
    f.write("\n".join(lines) + "\n")
EOF

if [ -n "$insns" ]; then
	log "raw figures in $out/bench.txt, guest log in $out/console.log"
	exit 0
fi
mkdir -p "$(dirname "$plot")"
/usr/bin/python3 - "$out/summary.txt" "$plot" "$DEBIAN_KERNEL_RELEASE" <<'EOF'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

summary, path, release = sys.argv[1:4]
rows = [line.split() for line in open(summary)]
workers = sorted({int(r[3]) for r in rows if r[1] == "exec-plain" and r[3] != "-"})[:2]
panels = [("exec-plain", w, "exec/s", f"plain static binary, {w} worker{'s' if w > 1 else ''}")
          for w in workers]
if any(r[1] == "miss-cost" for r in rows):
    panels.append(("miss-cost", 1, "microseconds per call (kprobes)",
                   "load_binary, for an exec no entry matches"))
fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
for ax, (name, w, unit, title) in zip(axes[0], panels):
    for impl, colour in (("c", "tab:blue"), ("rust", "tab:orange")):
        pts = sorted((int(r[2]) + 1, float(r[5]), float(r[6]), float(r[7]))
                     for r in rows if r[1] == name and r[3] == str(w) and r[4] == impl)
        if not pts:
            continue
        x, med, lo, hi = zip(*pts)
        ax.errorbar(x, med, yerr=[[m - l for m, l in zip(med, lo)], [h - m for m, h in zip(med, hi)]],
                    marker="o", capsize=3, color=colour, label=impl)
        if name == "miss-cost":
            for r in rows:
                if r[1] == "miss-cost-disabled" and r[4] == impl:
                    ax.axhline(float(r[5]), color=colour, linestyle=":",
                               label=f"{impl}, instance disabled")
    for r in rows:
        if r[1] == name and r[3] == str(w) and r[4] == "none":
            ax.axhline(float(r[5]), color="tab:gray", linestyle="--", label="none (no binfmt_misc)")
            ax.axhspan(float(r[6]), float(r[7]), color="tab:gray", alpha=0.15)
    ax.set_xscale("log")
    ax.set_xlabel("non-matching magic entries + 1 (log; 1 = no entry)")
    ax.set_ylabel(f"{unit} (median, bars: min-max)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
fig.suptitle(f"binfmt_misc and exec, {release}, 2 CPUs, QEMU TCG", fontsize=10)
fig.tight_layout()
fig.savefig(path, dpi=100)
EOF
log "plot in $plot; raw figures in $out/bench.txt, guest log in $out/console.log"
