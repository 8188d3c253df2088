# ax-bench: a tiny run of each benchmark prints one well-formed row; bad
# input exits 2 with a message.
set -eu
out=$AXON_TMP/out.csv err=$AXON_TMP/err

for b in block gru sgemm; do
	ax-bench $b --batch 2 --seq 8 --dim 16 --heads 2 --iters 1 --threads 1 > "$out"
	[ "$(head -1 "$out")" = "bench,threads,batch,seq,dim,ms_per_iter,gflops" ]
	tail -1 "$out" | grep -Eq "^$b,1,[0-9]+,[0-9]+,16,[0-9.]+,[0-9.]+$"
done

fails() { # expect exit 2 and a message naming the problem
	rc=0; ax-bench "$@" > /dev/null 2> "$err" || rc=$?
	[ $rc = 2 ] || { echo "ax-bench $*: exit $rc, not 2" >&2; exit 1; }
}
fails conv;               grep -q "unknown value 'conv'" "$err"
fails;                    grep -q "expected one benchmark" "$err"
fails block --dim 10 --heads 4; grep -q "not divisible" "$err"
fails gru --batch zero;   grep -q "not an integer" "$err"
ax-bench --help | grep -q "usage: ax-bench"
