#!/bin/sh
# ipd-learn end to end on tiny settings: usage errors exit 2 with a message,
# COALA-PG learns against naive learners, --resume continues bit-exactly,
# --policy-out writes a whole NPY, the analytic mode reproduces its claims.
set -u
T=${AXON_TMP:-$(mktemp -d)}
fail() { echo "ipd-learn.sh: $*" >&2; exit 1; }

# ---- usage errors: exit 2 and a message naming the problem ----
expect_usage() {
	ipd-learn "$@" > "$T/out" 2> "$T/err"; rc=$?
	[ $rc = 2 ] || fail "'ipd-learn $*' exited $rc, want 2"
	grep -q "ipd-learn: " "$T/err" || fail "'ipd-learn $*': no message: $(cat "$T/err")"
	[ -s "$T/out" ] && fail "'ipd-learn $*' wrote to stdout"
	return 0
}
expect_usage --estimator lola
expect_usage --lanes 0
expect_usage --iters -3
expect_usage --payoff 1,2,3
expect_usage --payoff 1,x,2,0
expect_usage --p-naive 1.5
expect_usage --env chess
expect_usage --meta-agents 4 --meta-batch 2
expect_usage --no-such-option
expect_usage extra-argument
expect_usage analytic --lanes 4
expect_usage --lookahead 2
expect_usage --env cleanup --start-defect 2
expect_usage --entropy -0.1
expect_usage analytic --entropy 0.01
expect_usage --fixed 1,2,0,1,0
expect_usage --fixed 1,1,0,1
expect_usage --fixed 1,1,0,1,0 --naive-vs-naive
expect_usage --env cleanup --fixed 1,1,0,1,0
expect_usage --fixed 1,1,0,1,0 --p-naive 0.5
expect_usage --naive-vs-naive --p-naive 0.5
expect_usage --resume "$T/missing.safetensors"
# payoffs whose sums overflow float are refused, not aborted on
expect_usage --payoff 1e300,-1e300,1e300,0
expect_usage analytic --payoff 1e30,0,0,0
ipd-learn --help | grep -q "estimator" || fail "--help"

# ---- naive learners defect; a COALA-PG meta agent learns against them ----
# Naive vs naive, averaged over the meta-trajectory (20 episodes, learners
# start near 50% cooperation): well below mutual cooperation's 1 per step.
ipd-learn --naive-vs-naive --iters 3 --meta-batch 4 --threads 1 -q -s 3 > "$T/nn.csv" || fail "naive run"
awk -F, 'NR > 1 { r += $4 + $5; c += $6 + $7; n += 2 } END {
	printf "naive vs naive: reward %.3f coop %.3f\n", r / n, c / n > "/dev/stderr"
	exit !(r / n < 0.3 && c / n < 0.3) }' "$T/nn.csv" || fail "naive learners did not defect"
# Shaping is worth it against these naive learners (the premise of the
# COALA-PG result): a fixed tit-for-tat seat 0 teaches them to cooperate and
# earns far more per step than always-defect, which they learn to defect
# against. Always-defect never cooperates; tit for tat opens with C.
ipd-learn --fixed 1,1,0,1,0 --iters 2 --meta-batch 8 --threads 1 -q -s 3 > "$T/tft.csv" || fail "tft run"
ipd-learn --fixed 0,0,0,0,0 --iters 2 --meta-batch 8 --threads 1 -q -s 3 > "$T/alld.csv" || fail "alld run"
grep -q ",fixed," "$T/tft.csv" || fail "fixed runs are not labelled"
awk -F, 'NR == FNR && FNR > 1 { t = $4; tc = $7 } NR != FNR && FNR > 1 { d = $4; dm = $6; dc = $7 } END {
	printf "vs naive learners: tit for tat %.3f (co-player coop %.3f), always-defect %.3f (%.3f)\n", t, tc, d, dc > "/dev/stderr"
	exit !(t > 0.8 && tc > 0.8 && d < 0.2 && dm == 0 && dc < 0.1) }' "$T/tft.csv" "$T/alld.csv" ||
	fail "tit for tat does not shape the naive learners"
# Pinned short COALA-PG run (meta-batch 32, 10 inner episodes, 40
# iterations; about 10 s): the meta agent starts uniform and is exploited,
# then learns to shape its naive co-players. Over the last 5 iterations it
# earns more per step than naive learners earn against each other on the
# same settings (0.15 here) by over 0.2; seeds 1-3 end at 0.49-0.60. The
# paper's extortion (> 1) needs far longer (man page RESULTS).
short="--iters 40 --meta-batch 32 --episodes 10 --threads 1 -q -s 3"
# shellcheck disable=SC2086
ipd-learn $short --naive-vs-naive --iters 3 > "$T/nn10.csv" || fail "short naive run"
# shellcheck disable=SC2086
ipd-learn $short > "$T/coala.csv" || fail "coala run failed"
[ "$(wc -l < "$T/coala.csv")" = 41 ] || fail "coala.csv has $(wc -l < "$T/coala.csv") lines"
awk -F, 'NR == FNR { if (FNR > 1) { nn += $4 + $5; n += 2 }; next }
	FNR > 1 && FNR <= 6 { a += $4 } FNR > 36 { b += $4 } END {
	printf "coala meta reward: first 5 %.3f, last 5 %.3f; naive vs naive %.3f\n", a / 5, b / 5, nn / n > "/dev/stderr"
	exit !(b / 5 > a / 5 + 0.1 && b / 5 > nn / n + 0.2) }' "$T/nn10.csv" "$T/coala.csv" ||
	fail "COALA-PG meta agent did not beat naive vs naive"

# ---- checkpoint and bit-exact resume ----
args="--iters 4 --meta-batch 2 --lanes 4 --episodes 3 --steps 5 --threads 1 -q -s 5"
ipd-learn $args > "$T/full.csv" || fail "full run"
ipd-learn $args --iters 2 --checkpoint "$T/ck.safetensors" > "$T/part1.csv" || fail "part 1"
[ -s "$T/ck.safetensors" ] || fail "no checkpoint written"
ipd-learn $args --resume "$T/ck.safetensors" > "$T/part2.csv" || fail "resume"
# every column but the wall clock
cut -d, -f1-11 "$T/full.csv" > "$T/a"
{ cut -d, -f1-11 "$T/part1.csv"; tail -n +2 "$T/part2.csv" | cut -d, -f1-11; } > "$T/b"
cmp -s "$T/a" "$T/b" || { diff "$T/a" "$T/b" >&2; fail "resumed run differs"; }
# a checkpoint of other settings is refused
ipd-learn $args --lanes 3 --resume "$T/ck.safetensors" > /dev/null 2> "$T/err"
[ $? = 2 ] && grep -q "other settings" "$T/err" || fail "mismatched resume not refused"
# two meta agents whose Adam step counts differ (agent 1 has one row, fewer
# than --minibatches): each agent's count must be restored, not a shared one
args2="--iters 4 --meta-agents 2 --meta-batch 3 --lanes 1 --minibatches 3 --episodes 3 --steps 5 --threads 1 -q -s 5"
ipd-learn $args2 > "$T/full2.csv" || fail "two-agent full run"
ipd-learn $args2 --iters 2 --checkpoint "$T/ck2.safetensors" > "$T/part1.csv" || fail "two-agent part 1"
ipd-learn $args2 --resume "$T/ck2.safetensors" > "$T/part2.csv" || fail "two-agent resume"
cut -d, -f1-11 "$T/full2.csv" > "$T/a"
{ cut -d, -f1-11 "$T/part1.csv"; tail -n +2 "$T/part2.csv" | cut -d, -f1-11; } > "$T/b"
cmp -s "$T/a" "$T/b" || { diff "$T/a" "$T/b" >&2; fail "two-agent resumed run differs"; }

# a checkpoint with a NaN weight stops with a message, not an abort
poison() {   # FILE NAME: the first float of tensor NAME becomes NaN
	n=$(od -An -t u8 -N 8 "$1" | tr -d ' ')
	off=$(head -c $((8 + n)) "$1" | tail -c "$n" |
		sed -n "s/.*\"$2\":{[^}]*\"data_offsets\":\[\([0-9]*\),.*/\1/p")
	[ -n "$off" ] || fail "poison: no tensor $2 in $1"
	printf '\000\000\300\177' | dd of="$1" bs=1 seek=$((8 + n + off)) conv=notrunc 2>/dev/null
}
cp "$T/ck.safetensors" "$T/nan.safetensors"
poison "$T/nan.safetensors" agent0.pi.weight
ipd-learn $args --resume "$T/nan.safetensors" > /dev/null 2> "$T/err"; rc=$?
{ [ $rc = 1 ] || [ $rc = 2 ]; } && grep -q "^ipd-learn: " "$T/err" ||
	fail "NaN weight: exit $rc, $(cat "$T/err")"

# ---- policy output: an NPY of shape (2, M, 5), written whole ----
ipd-learn $args --policy-out "$T/pol.npy" > /dev/null || fail "policy-out run"
ls "$T"/pol.npy.tmp.* > /dev/null 2>&1 && fail "temporary file left behind"
head -c 6 "$T/pol.npy" | od -c | grep -q "N   U   M   P   Y" || fail "pol.npy is not NPY"
head -c 128 "$T/pol.npy" | grep -a -q "'shape': (2, 3, 5)" || fail "pol.npy shape"

# ---- CleanUp-lite runs, with its columns ----
ipd-learn --env cleanup --iters 1 --meta-batch 2 --lanes 2 --episodes 2 --steps 8 --threads 1 -q \
	> "$T/cl.csv" || fail "cleanup run"
head -1 "$T/cl.csv" | grep -q "meta_zap_rate,coplayer_zap_rate,apples,clean_share" || fail "cleanup columns"

# ---- analytic IPD: naive learners defect, look-ahead 1 cooperates ----
ipd-learn analytic --lookahead 0 --iters 200 > "$T/a0.csv" || fail "analytic K=0"
ipd-learn analytic --lookahead 1 --iters 200 > "$T/a1.csv" || fail "analytic K=1"
tail -1 "$T/a0.csv" | awk -F, '{ exit !($5 < 0.1 && $6 < 0.1) }' || fail "naive learners did not defect"
tail -1 "$T/a1.csv" | awk -F, '{ exit !($5 > 0.9 && $6 > 0.9) }' || fail "look-ahead 1 did not cooperate"
exit 0
