#!/bin/sh
# Data parallelism over MPI (mod-lm, mtm-train, teb-fit, agent-probe): two
# ranks give the losses and parameters of one rank (to rounding), two-rank
# runs repeat bit for bit, checkpoints resume with another rank count, a job
# stopped by SIGTERM leaves a checkpoint that resumes with one or two ranks, and a
# build without MPI still trains as one rank.
. "$AXON_ROOT/tests/cmd/lib.sh"
cd "$T"

if ! mod-lm --version | grep -q 'built with MPI'; then
	skip "built without MPI: data-parallel checks not run"
	finish
fi
# Open MPI refuses root without these; --oversubscribe allows more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# (Started in the background, mpirun is called directly: the job's pid is mpirun's.)
run2() { mpirun -np 2 "$@"; }

# The largest peak resident size (kB) of the two ranks running "$@".
peak_kb() {
	rm -f rss.txt
	run2 /usr/bin/time -a -o rss.txt -f %M "$@" > /dev/null && sort -n rss.txt | tail -n 1
}
# Columns without the wall-clock rate (tokens_per_s, the last).
nofreq() { sed 's/,[^,]*$//' "$1"; }
A="--layers 2 --dim 32 --heads 2 --ctx 32 -b 16 -n 12 --log-every 4 --val-bytes 1500 -q --threads 1"
check "mod-lm, one rank" -- mod-lm train $A --checkpoint one.ckpt
nofreq "$T/out" > one.csv
check "mod-lm, two ranks" -- run2 mod-lm train $A --checkpoint two.ckpt
nofreq "$T/out" > two.csv
# Summation order differs between one and two ranks (each rank's mean over
# its shard, then the sum): float32 rounding, amplified over 12 Adam steps.
close one.csv two.csv 1e-4 "mod-lm: two ranks log the losses of one rank (1e-4)"
mod-lm eval -m one.ckpt --max-bytes 3000 -q > e1.csv
mod-lm eval -m two.ckpt --max-bytes 3000 -q > e2.csv
close e1.csv e2.csv 1e-4 "mod-lm: two ranks end with the parameters of one (held-out loss, 1e-4)"
check "mod-lm, two ranks again" -- run2 mod-lm train $A --checkpoint two-b.ckpt
nofreq "$T/out" > two-b.csv
expect_same two.csv two-b.csv "mod-lm: two-rank runs repeat bit for bit (CSV)"
mod-lm eval -m two-b.ckpt --max-bytes 3000 -q > e2b.csv
expect_same e2.csv e2b.csv "mod-lm: two-rank runs repeat bit for bit (parameters)"
expect_exit 2 "^mod-lm: --batch 1 is less than the 2 ranks" \
	"mod-lm: a batch smaller than the rank count" -- run2 mod-lm train $A -b 1

# Data: one text file is mapped, not read whole by every rank; each rank
# touches only the windows of its rows (and rank 0 the held-out bytes it
# scores), so its peak memory grows by far less than the file's 61 MB
# (reading it whole would add at least that much to each rank).
if [ -x /usr/bin/time ]; then
	yes 'the quick brown fox jumps over the lazy dog' | head -c 200000 > small.txt
	yes 'the quick brown fox jumps over the lazy dog' | head -c 64000000 > big.txt
	s=$(peak_kb mod-lm train $A -n 3 small.txt) b=$(peak_kb mod-lm train $A -n 3 big.txt)
	[ -n "$s" ] && [ -n "$b" ] && [ $((b - s)) -lt 16000 ] &&
		ok "mod-lm: ranks map a 61 MB text, peak memory +$((b - s)) kB each" ||
		bad "mod-lm: peak memory per rank $s kB with a small text, $b kB with a 61 MB one"
	rm -f big.txt
else
	skip "no /usr/bin/time: per-rank memory of a mapped text not measured"
fi

# mtm-train: the loss is a mean over masked entries, so each rank's share
# is its share of them. Dropout draws per rank: 0 for the comparison.
spike-sim ibl -q -o d -n 2 -t 40 -r 2 -u 8 --bins 30 -s 3
M="--dim 32 --layers 1 --heads 2 --batch 8 --threads 1 -q -n 12 --log-every 4"
check "mtm-train, one rank" -- mtm-train train $M --dropout 0 -c m1.ckpt d/*.safetensors
cp "$T/out" m1.csv
check "mtm-train, two ranks" -- run2 mtm-train train $M --dropout 0 -c m2.ckpt d/*.safetensors
cp "$T/out" m2.csv
close m1.csv m2.csv 1e-4 "mtm-train: two ranks log the losses of one rank (1e-4)"
mtm-train eval -q --threads 1 -c m1.ckpt d/*.safetensors > me1.csv
mtm-train eval -q --threads 1 -c m2.ckpt d/*.safetensors > me2.csv
close me1.csv me2.csv 1e-3 "mtm-train: two ranks end with the parameters of one (metrics, 1e-3)"
check "mtm-train, two ranks with dropout" -- run2 mtm-train train $M -c m3.ckpt d/*.safetensors
cp "$T/out" m3.csv
check "mtm-train, two ranks with dropout again" -- run2 mtm-train train $M -c m4.ckpt d/*.safetensors
cp "$T/out" m4.csv
expect_same m3.csv m4.csv "mtm-train: two-rank runs (with dropout) repeat bit for bit"

# Data: a session bundle is mapped, not read whole by every rank. Pages a
# rank touches count in its peak memory (shared with the other ranks, but
# counted), so the large session is made large by an array mtm-train never
# reads ("latents", 20 MB of the file's 22 MB): mapped, its pages are never
# read; read whole, the bundle would add at least 22 MB to each rank.
if [ -x /usr/bin/time ]; then
	spike-sim ibl -q -o ms -n 1 -t 20 -r 2 -u 3 -k 64 -s 3
	spike-sim ibl -q -o mb -n 1 -t 400 -r 2 -u 3 -k 64 -s 3
	s=$(peak_kb mtm-train train $M -n 3 -c ms.ckpt ms/session-000.safetensors)
	b=$(peak_kb mtm-train train $M -n 3 -c mb.ckpt mb/session-000.safetensors)
	[ -n "$s" ] && [ -n "$b" ] && [ $((b - s)) -lt 8000 ] &&
		ok "mtm-train: ranks map a 22 MB session, peak memory +$((b - s)) kB each" ||
		bad "mtm-train: peak memory per rank $s kB with a small session, $b kB with a 22 MB one"
	rm -rf mb
else
	skip "no /usr/bin/time: per-rank memory of a mapped session not measured"
fi

# teb-fit: the latent noise is drawn for the whole batch on every rank (each
# keeps its rows), so two ranks follow one rank to rounding.
teb-fit gen lingauss --coupling 2 -n 3000 -s 3 -o c2.st 2>/dev/null
E="--latent 8 --width 32 --threads 1 -q -n 40 -b 16 --log-every 10"
check "teb-fit, one rank" -- teb-fit train $E --checkpoint t1.ck c2.st
cp "$T/out" t1.csv
check "teb-fit, two ranks" -- run2 teb-fit train $E --checkpoint t2.ck c2.st
cp "$T/out" t2.csv
close t1.csv t2.csv 1e-4 "teb-fit: two ranks log the losses of one rank (1e-4)"
teb-fit te -q -m t1.ck --boot 10 c2.st > te1.csv
teb-fit te -q -m t2.ck --boot 10 c2.st > te2.csv
close te1.csv te2.csv 1e-4 "teb-fit: two ranks end with the parameters of one (TE estimate, 1e-4)"
run2 teb-fit train $E --checkpoint t2b.ck c2.st > t2b.csv
expect_same t2.ck t2b.ck "teb-fit: two-rank runs repeat bit for bit (checkpoint)"
# A checkpoint written by two ranks continues with one, and one rank's with two.
run2 teb-fit train $E --checkpoint th.ck --stop-at 20 c2.st > th.csv
teb-fit train --resume th.ck --threads 1 -q c2.st | tail -n +2 >> th.csv
close t2.csv th.csv 1e-4 "teb-fit: a two-rank checkpoint resumed with one rank (1e-4)"
teb-fit train $E --checkpoint th1.ck --stop-at 20 c2.st > th1.csv
run2 teb-fit train --resume th1.ck --threads 1 -q c2.st | tail -n +2 >> th1.csv
close t1.csv th1.csv 1e-4 "teb-fit: a one-rank checkpoint resumed with two ranks (1e-4)"
expect_exit 2 "teb-fit: --batch 1 is less than the 2 ranks" \
	"teb-fit: a batch smaller than the rank count" -- run2 teb-fit train $E -b 1 c2.st

# agent-probe: the loss is a mean over the episodes' labelled steps, so each
# rank's share is its share of them.
P="--dim 32 --layers 1 --heads 2 --steps 20 --batch 8 --eval-episodes 8 --log-every 5 --threads 1 -q"
check "agent-probe, one rank" -- agent-probe train $P -c a1.ck
nofreq "$T/out" > a1.csv
check "agent-probe, two ranks" -- run2 agent-probe train $P -c a2.ck
nofreq "$T/out" > a2.csv
close a1.csv a2.csv 1e-4 "agent-probe: two ranks log the losses of one rank (1e-4)"
agent-probe attention -m a1.ck -n 8 --threads 1 > at1.csv
agent-probe attention -m a2.ck -n 8 --threads 1 > at2.csv
close at1.csv at2.csv 1e-5 "agent-probe: two ranks end with the parameters of one (attention shares, 1e-5)"
run2 agent-probe train $P -c a2b.ck > /dev/null
expect_same a2.ck a2b.ck "agent-probe: two-rank runs repeat bit for bit (checkpoint)"
run2 agent-probe train $P -c ah.ck --stop-at 10 > ah.out
agent-probe train --resume ah.ck --threads 1 -q >> ah.out
nofreq ah.out > ah.csv
close a2.csv ah.csv 1e-4 "agent-probe: a two-rank checkpoint resumed with one rank (1e-4)"
agent-probe train $P -c ah1.ck --stop-at 10 > ah1.out
run2 agent-probe train --resume ah1.ck --threads 1 -q >> ah1.out
nofreq ah1.out > ah1.csv
close a1.csv ah1.csv 1e-4 "agent-probe: a one-rank checkpoint resumed with two ranks (1e-4)"
expect_exit 2 "agent-probe: --batch 1 is less than the 2 ranks" \
	"agent-probe: a batch smaller than the rank count" -- run2 agent-probe train $P --batch 1

# The batch scripts: syntax, and their command lines run here with mpirun.
for f in "$AXON_ROOT"/scripts/slurm/*.sbatch "$AXON_ROOT"/scripts/slurm/common.sh; do
	bash -n "$f" && ok "bash -n $(basename "$f")" || bad "bash -n $(basename "$f")"
done
check "slurm/mod-lm.sbatch runs locally" -- env OUT="$T/sl" NP=2 \
	bash "$AXON_ROOT/scripts/slurm/mod-lm.sbatch" $A
[ "$(wc -l < "$T/sl/train.csv")" = 4 ] && ok "mod-lm.sbatch: rank 0's CSV" ||
	bad "mod-lm.sbatch CSV: $(cat "$T/sl/train.csv")"
check "slurm/mod-lm.sbatch resumes from its checkpoint" -- env OUT="$T/sl" NP=2 \
	bash "$AXON_ROOT/scripts/slurm/mod-lm.sbatch"
check "slurm/mtm-train.sbatch runs locally" -- env OUT="$T/slm" DATA=d NP=2 \
	bash "$AXON_ROOT/scripts/slurm/mtm-train.sbatch" $M
check "slurm/teb-fit.sbatch runs locally" -- env OUT="$T/slt" DATA=c2.st NP=2 \
	bash "$AXON_ROOT/scripts/slurm/teb-fit.sbatch" $E
[ "$(wc -l < "$T/slt/train.csv")" = 5 ] && [ -s "$T/slt/model.ckpt" ] &&
	ok "teb-fit.sbatch: rank 0's CSV and a checkpoint" || bad "teb-fit.sbatch CSV: $(cat "$T/slt/train.csv")"
check "slurm/teb-fit.sbatch resumes from its checkpoint" -- env OUT="$T/slt" DATA=c2.st NP=2 \
	bash "$AXON_ROOT/scripts/slurm/teb-fit.sbatch"
check "slurm/agent-probe.sbatch runs locally" -- env OUT="$T/sla" NP=2 \
	bash "$AXON_ROOT/scripts/slurm/agent-probe.sbatch" $P
[ "$(wc -l < "$T/sla/train.csv")" = 5 ] && [ -s "$T/sla/model.ckpt" ] &&
	ok "agent-probe.sbatch: rank 0's CSV and a checkpoint" || bad "agent-probe.sbatch CSV: $(cat "$T/sla/train.csv")"
for task in 0 1; do
	check "slurm/sweep.sbatch task $task" -- env OUT="$T/sw" TASK=$task \
		bash "$AXON_ROOT/scripts/slurm/sweep.sbatch" mod-lm train $A
done
[ -s "$T/sw/seed-1.csv" ] && [ -s "$T/sw/seed-2.ckpt" ] && ! cmp -s "$T/sw/seed-1.csv" "$T/sw/seed-2.csv" &&
	ok "sweep: one seed per task" || bad "sweep outputs: $(ls "$T/sw")"

# SIGTERM to the job (what Slurm sends before it kills or requeues): every
# rank stops at the same step, rank 0 saves, one message. mpirun itself
# exits 1 after forwarding the signal; each rank exits 143.
B="--layers 2 --dim 32 --heads 2 --ctx 32 -b 8 -n 100000 --log-every 5 --val-bytes 1500 --threads 1"
mpirun -np 2 mod-lm train $B --checkpoint term.ckpt --every 10 > term.csv 2> term.err &
job=$!
i=0; while [ ! -s term.ckpt ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $job; wait $job
stopped=$(sed -n 's/.*interrupted at step \([0-9]*\).*/\1/p' term.err)
if [ -n "$stopped" ] && [ "$(grep -c 'interrupted at step' term.err)" = 1 ] &&
   mod-lm eval -m term.ckpt --max-bytes 500 -q > /dev/null; then
	ok "SIGTERM under mpirun: one message, a loadable checkpoint at step $stopped"
else bad "SIGTERM under mpirun ($(tail -3 term.err | tr '\n' ' '))"; stopped=0; fi
check "resume a two-rank checkpoint with one rank" -- \
	mod-lm train --resume term.ckpt -q --threads 1 --stop-at $((stopped + 2))
check "resume it with two ranks" -- \
	run2 mod-lm train --resume term.ckpt -q --threads 1 --stop-at $((stopped + 2))

# A killed rank takes the job down; the last checkpoint rank 0 finished loads.
mpirun -np 2 mod-lm train $B --checkpoint kill.ckpt --every 2 > kill.csv 2> kill.err &
job=$!
i=0; while [ ! -s kill.ckpt ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
pkill -KILL -f -n "mod-lm train $B --checkpoint kill.ckpt"
wait $job; rc=$?
[ $rc != 0 ] && ok "a killed rank ends the job (mpirun exit $rc)" || bad "killed rank: mpirun exit 0"
check "the checkpoint left by a killed job loads" -- mod-lm eval -m kill.ckpt --max-bytes 500 -q

# Without MPI: the same sources build and train as one rank.
if make -s -C "$AXON_ROOT" MPI=0 BUILD="$T/nompi" OPT=-O1 "$T/nompi/bin/mod-lm" \
	> make.log 2>&1; then
	check "built without MPI: --version says so" -- "$T/nompi/bin/mod-lm" --version
	grep -q 'built without MPI' "$T/out" && ok "--version: built without MPI" ||
		bad "--version without MPI: $(cat "$T/out")"
	check "built without MPI: mod-lm trains" -- "$T/nompi/bin/mod-lm" train $A
else
	bad "make MPI=0 ($(tail -3 make.log | tr '\n' ' '))"
fi
finish
