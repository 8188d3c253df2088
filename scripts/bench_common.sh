# bench_common.sh — sourced by scripts/bench.sh and scripts/bench-*.sh.
#
# Each workload runs axon and PyTorch interleaved (axon, torch, axon, torch,
# ...), at 1 and 2 threads each, REPS times, and keeps the best run of each
# side and thread count. PyTorch's thread count covers its BLAS too: Debian's
# torch calls the system OpenBLAS, whose threads torch.set_num_threads does
# not set, so every run gets OPENBLAS_NUM_THREADS and OMP_NUM_THREADS. The
# ratio is axon at each thread count over PyTorch's better setting; peak
# resident memory (GNU time's %M, the largest over the side's runs) sits
# beside it.
#   BENCH_QUICK=1   one short run of each (a smoke test of the scripts)
#   BENCH_REPS=N    runs per side and thread count (default 3)
#
# Both sides use the same OpenBLAS kernel set: the one axon's commands run
# with (lib/cli.c restarts a command with OPENBLAS_CORETYPE set when OpenBLAS
# fell back to kernels older than the CPU), exported so that PyTorch, which
# calls the same OpenBLAS, gets it too. A caller's own setting stands.
#
# PyTorch allocates and frees its tensors every step. glibc hands large
# freed blocks back to the kernel and PyTorch then takes them again through
# page faults, which on the VMs measured here cost it about half its time
# (the block 97 -> 48 ms at 1 thread). So the Python side runs with glibc
# settings that keep freed memory for reuse, as a caching allocator would;
# axon allocates from arenas and does not see the difference.
py="env MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 /usr/bin/python3"
# BENCH_ISA=avx2 (`make bench ISA=avx2`, which also builds axon for
# x86-64-v3): both sides held to AVX2 on an AVX-512 machine, OpenBLAS to its
# Haswell kernels, torch's own kernels and oneDNN's (its convolutions) to
# AVX2. An estimate of an AVX2 machine with the same cores and caches, not a
# measurement of one.
if [ "${BENCH_ISA:-}" = avx2 ]; then
	OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
	ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2
	export OPENBLAS_CORETYPE ATEN_CPU_CAPABILITY DNNL_MAX_CPU_ISA
fi
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
	OPENBLAS_CORETYPE=$(ax-bench machine | sed -n 's/^blas:.*(core \(.*\))$/\1/p')
	export OPENBLAS_CORETYPE
fi
QUICK=${BENCH_QUICK:-0}
REPS=${BENCH_REPS:-3}
[ "$QUICK" = 1 ] && REPS=1
has_torch=0
$py -c 'import torch' 2>/dev/null && has_torch=1

# run_rss OUT THREADS CMD...: CMD's stdout into OUT, its peak RSS in KiB
# into OUT.rss, with the BLAS and OpenMP thread counts set to THREADS.
run_rss() {
	out=$1 th=$2; shift 2
	OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th \
		/usr/bin/time -f %M -o "$out.rss" "$@" > "$out" 2>/dev/null
}

now() { date +%s.%N; }

# rate COUNT T0 T1 [T2] FMT: COUNT items per second over the run T0..T1, or
# with T2, over the run T1..T2 less the start-up run T0..T1 (a 1-step run's
# time, so a rate over STEPS - 1 steps), printed with FMT.
rate() {
	if [ $# = 5 ]; then
		awk -v n="$1" -v a="$2" -v b="$3" -v c="$4" -v f="$5" \
			'BEGIN { printf f, n / ((c - b) - (b - a)) }'
	else
		awk -v n="$1" -v a="$2" -v b="$3" -v f="$4" 'BEGIN { printf f, n / (b - a) }'
	fi
}

# keep VAR VALUE higher|lower: VAR = the better of VAR and VALUE (empty VAR:
# VALUE). A missing or non-numeric VALUE is ignored.
keep() {
	eval "cur=\${$1:-}"
	new=$(awk -v a="$cur" -v b="$2" -v w="$3" 'BEGIN {
		if (b !~ /^[0-9.]+$/ || b + 0 <= 0) { print a; exit }
		if (a == "" || (w == "higher" ? b + 0 > a + 0 : b + 0 < a + 0)) print b; else print a }')
	eval "$1=\$new"
}

# rss_max VAR FILE.rss: VAR = max(VAR, KiB in the file).
rss_max() {
	v=$(tail -1 "$2" 2>/dev/null || echo 0)
	keep "$1" "$v" higher
}

report_header() {
	printf '%-26s %-9s %9s %9s %9s %9s %7s %7s %8s %8s\n' workload unit 'axon@1' 'axon@2' \
		'torch@1' 'torch@2' 'ratio@1' 'ratio@2' 'axon_MiB' 'torch_MiB'
}

# report NAME UNIT higher|lower A1 A2 T1 T2 RSS_A RSS_T: one row; a ratio
# above 1 means axon is faster than PyTorch's better thread setting.
report() {
	awk -v n="$1" -v u="$2" -v w="$3" -v a1="$4" -v a2="$5" -v t1="$6" -v t2="$7" \
	    -v ra="$8" -v rt="$9" 'function r(a) {
		if (a == "" || tb == "") return "-"
		return sprintf("%.2fx", w == "higher" ? a / tb : tb / a) }
	function f(x) { return x == "" ? "-" : sprintf(u == "steps/s" ? "%.2f" : "%.1f", x) }
	BEGIN {
		tb = t1; if (t2 != "" && (tb == "" || (w == "higher" ? t2 > tb : t2 < tb))) tb = t2
		printf "%-26s %-9s %9s %9s %9s %9s %7s %7s %8s %8s\n", n, u, f(a1), f(a2), f(t1), f(t2),
			r(a1), r(a2), ra == "" ? "-" : sprintf("%.0f", ra / 1024),
			rt == "" ? "-" : sprintf("%.0f", rt / 1024) }'
}

# Children's user+sys CPU seconds so far: the second line of `times` written
# to $tmp/times in the calling shell (in a command substitution it would
# see only the subshell's).
child_cpu() { awk 'NR == 2 { n = split($0, f, /[ \t]+/); s = 0
	for (i = 1; i <= n; i++) if (f[i] ~ /m/) { split(f[i], p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
	print s }' "$tmp/times"; }

# vs_torch NAME FMT: a trainer's steps/s at 1 and 2 threads beside its
# PyTorch reference. The caller defines torch_run THREADS (prints the
# reference's line with steps_per_sec= and cpu_steps_per_sec=) and
# axon_run THREADS (STEPS steps); rates are printed with FMT (printf), the
# axon ones against torch's better thread count, and per CPU-second at one
# thread. Needs $tmp.
vs_torch() {
	best=0 cpu_ref=0
	for th in 1 2; do
		line=$(torch_run $th)
		r=$(echo "$line" | sed -n 's/.*steps_per_sec=\([0-9.]*\) .*/\1/p')
		[ $th = 1 ] && cpu_ref=$(echo "$line" | sed -n 's/.*cpu_steps_per_sec=\([0-9.]*\).*/\1/p')
		echo "$1 torch threads=$th: $r steps/s"
		best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
	done
	for th in 1 2; do
		times >"$tmp/times"; c0=$(child_cpu); t0=$(now)
		axon_run $th
		t1=$(now); times >"$tmp/times"; c1=$(child_cpu)
		awk -v n="$1" -v f="$2" -v s="$STEPS" -v a="$t0" -v b="$t1" -v th="$th" -v t="$best" 'BEGIN {
			r = s / (b - a)
			printf "%s axon  threads=%d: " f " steps/s  (%.2fx torch best " f ")\n", n, th, r, r / t, t }'
		if [ $th = 1 ]; then
			awk -v n="$1" -v f="$2" -v s="$STEPS" -v a="$c0" -v b="$c1" -v t="$cpu_ref" 'BEGIN {
				r = s / (b - a)
				printf "%s per CPU-second, 1 thread: axon " f ", torch " f " steps  (%.2fx)\n", n, r, t, r / t }'
		fi
	done
}
