#!/bin/sh
# ax-bench: a tiny run of each benchmark prints well-formed rows; bad input
# exits 2 with one line; the man page's examples run.
. "$AXON_ROOT/tests/cmd/lib.sh"
unset OPENBLAS_CORETYPE

for b in block gru sgemm; do
	case $b in block) o="--batch 2 --seq 8 --heads 2" ;; gru) o="--batch 2 --seq 8" ;; *) o="" ;; esac
	check "$b: a tiny run" -- ax-bench $b $o --dim 16 \
		--iters 1 --threads 1
	if [ "$(head -1 "$T/out")" = "bench,threads,batch,seq,dim,ms_per_iter,gflops" ] &&
	   tail -1 "$T/out" | grep -Eq "^$b,1,[0-9]+,[0-9]+,16,[0-9.]+,[0-9.]+$"
	then ok "$b: header and row"; else bad "$b: output $(tr '\n' ' ' <"$T/out")"; fi
done

check "ops: a tiny run" -- ax-bench ops -T 512 -C 1 -n 1 -j 1
rows=$(grep -Ec '^[a-z_]+,(fwd|bwd|step),1,[0-9]+,[0-9.]+,[0-9.]+$' "$T/out")
# 16 ops forward and backward, and the AdamW step, at two sizes
[ "$rows" = 66 ] && ok "ops: 66 rows" || bad "ops: $rows well-formed rows"
grep -q '^gelu,bwd,1,1048576,' "$T/out" && ok "ops: the large size" || bad "ops: no 1Mi row"

check "attn: one length" -- ax-bench attn -T 32 -n 1 -j 1
[ "$(grep -Ec '^attn,1,64,32,4,(16|32|64)(,[0-9.]+){5}$' "$T/out")" = 3 ] &&
	ok "attn: three head dims" || bad "attn: $(tr '\n' ' ' <"$T/out")"

check "machine" -- ax-bench machine
grep -q '^blas: .*(core ' "$T/out" && grep -q '^cores: [0-9]' "$T/out" &&
	ok "machine: cores and BLAS core" || bad "machine: $(tr '\n' ' ' <"$T/out")"

# OpenBLAS falls back to pre-AVX2 kernels on CPUs newer than it knows; a
# command then restarts itself with OPENBLAS_CORETYPE set (lib/cli.c). On a
# CPU with AVX2 and FMA the core must be an AVX2 one; a user's setting stands;
# the arguments survive the restart whole.
core=$(sed -n 's/^blas:.*(core \(.*\))$/\1/p' "$T/out")
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
	case $core in
	Haswell | Zen | SkylakeX | Cooperlake | SapphireRapids) ok "machine: AVX2 kernels ($core)" ;;
	*) bad "machine: core '$core' on an AVX2 CPU" ;;
	esac
else
	skip "machine: the CPU has no AVX2 and FMA"
fi
check "machine: OPENBLAS_CORETYPE stands" -- env OPENBLAS_CORETYPE=Prescott ax-bench machine
grep -q '(core Prescott)$' "$T/out" && ok "machine: Prescott as asked" ||
	bad "machine: $(grep blas "$T/out")"
check "--version names the BLAS kernels" -- mod-lm --version
grep -q "^BLAS: OpenBLAS .*(core $core)$" "$T/out" && ok "--version: BLAS core $core" ||
	bad "--version: $(tr '\n' ' ' <"$T/out")"
expect_usage "'two  words'" "an argument with spaces survives the restart" -- \
	ax-bench gru --batch 'two  words'

expect_usage "unknown sub-command 'conv'" "unknown benchmark" -- ax-bench conv
expect_usage "a sub-command is needed" "no benchmark" -- ax-bench
expect_usage "not divisible" "dim not divisible by heads" -- ax-bench block --dim 10 --heads 4
expect_usage "not an integer" "batch not a number" -- ax-bench gru --batch zero
expect_usage "does not apply" "an option the benchmark does not use" -- ax-bench sgemm --heads 2
check "--help" -- ax-bench --help
grep -q "^Usage: ax-bench" "$T/out" && ok "--help text" || bad "--help text"

run_man_examples ax-bench
finish
