#!/bin/sh
# fig-md-geom.sh BIN — the md-geom figure recipe (make fig-md-geom):
# which mirror-descent geometry trained a set of weights (arXiv:2305.19394).
#
# RUN TIME: 9 minutes on 2 cores (17 CPU-minutes; 2026-12-03), one thread a
# run: 960 regressions of 0.2 s (D = 10000, N = 100) to 6-10 s (D = 20000,
# N = 1682) each; fine-tuning 1.4 s (MLP) and 6.5 s (GRU) per potential,
# the learning-rate search (up to 21 fine-tunings) included. The
# regression, robustness and fine-tuning runs go JOBS at a time
# (scripts/jobs.sh; default 2), one thread each.
#
# Scaled down from the paper (30 seeds, q 1 and 2 everywhere, ImageNet
# CNNs): SEEDS seeds (10); regression D = 100, 316, 1000, 3162, 10000, 20000,
# N = D^0.5 and D^0.75; q = 1 for the distance curves, both q for accuracy;
# fine-tuning a 784-64-64-10 MLP and a GRU(32) on 256 Fashion-MNIST test
# images after 1000 SGD steps of pretraining, one seed.
#
# Parts (under out/md-geom/, or $OUT):
#  - regression.png: distance of each candidate (x: p, negentropy drawn at
#    p = 1, its p -> 1 limit) for each true potential, D = 10000, N = 100,
#    median and IQR over seeds (regression.csv);
#  - accuracy.png: fraction of (potential, seed) runs whose inferred
#    geometry is the true one (and within 0.1 in p, negentropy at p = 1),
#    against D, for N = D^0.5, D^0.75 and q = 1, 2 (accuracy.csv, runs.csv);
#  - robustness.png: the same curves for synthetic dual changes of 1000
#    weights from Gaussian and log-normal starts (robustness.csv);
#  - hist-log.png, hist-lin.png: weights after a large dual change (scale 1,
#    from weights of one magnitude, random signs) under negentropy and p2:
#    log10|w| and w histograms; the distance of each to a normal in
#    summary.txt;
#  - finetune-mlp.png, finetune-gru.png: distance of each candidate for each
#    layer, one panel per fine-tuning potential (finetune.csv).
# summary.txt gathers the numbers quoted in md-geom(1) RESULTS.
#
# Measured (2026-12-03, OpenBLAS's own kernel choice on an AVX-512 EPYC;
# summary.txt):
#  - regression D = 10000, N = 100, q = 1: true potential's distance
#    0.0082-0.0087, closest candidate >= 0.25 away in p 0.048-0.050 (p3:
#    0.027, flat above p2.6);
#  - accuracy exact / within 0.1, N = D^0.5, D = 100 .. 20000: q = 1 0.33,
#    0.35, 0.48, 0.58, 0.78, 0.85 / 0.58, 0.60, 0.85, 0.93, 1.00, 1.00;
#    q = 2 0.33, 0.40, 0.58, 0.60, 0.88, 0.85 / 0.55, 0.73, 0.90, 0.90,
#    1.00, 1.00; N = D^0.75 0.13-0.23 / 0.38-0.63 up to D = 3162,
#    0.30-0.40 / 0.75-0.85 at D = 10000 and 20000;
#  - robustness, 1000 weights: true distance 0.025; within 0.1 in p: 100%
#    (log-normal start), 85% (Gaussian);
#  - histograms: distance to a normal of log10|w| 0.006 (negentropy) vs
#    0.26 (p2); of w 0.78 vs 0.050;
#  - fine-tuning: negentropy -> negentropy in all 6 layers, p1.5 -> p1.4-1.5,
#    p2 -> p1.7-1.8 (MLP), p1.8-1.9 (GRU), p3 -> p2.3-2.6; distances
#    0.12-0.39 (heavy-tailed changes).
set -eu
bin=$1
PATH="$(cd "$bin" && pwd):$PATH"; export PATH
OUT=${OUT:-out/md-geom}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
TRUE=${TRUE:-"negentropy p1.5 p2 p3"}
DIMS=${DIMS:-"100 316 1000 3162 10000 20000"}
DIMS_75=${DIMS_75:-$DIMS}                  # N = D^0.75
CORRS=${CORRS:-"1 2"}
CURVE_D=${CURVE_D:-10000}                  # regression.png
SYNTH_D=${SYNTH_D:-1000}
NETS=${NETS:-"mlp gru"}
FT_POTS=${FT_POTS:-"negentropy p1.5 p2 p3"}
FT_MLP=${FT_MLP:-"--pretrain-steps 1000 --hidden 64"}
FT_GRU=${FT_GRU:-"--pretrain-steps 1000 --hidden 32"}
THREADS=${THREADS:-1}
tmp=$OUT/tmp
. "$(dirname "$0")/jobs.sh"

# p of a candidate name, negentropy at 1.
cand_p='function candp(c) { return c == "negentropy" ? 1 : substr(c, 2) + 0 }'

# score_rows W0 W1 PREFIX: score's rows with PREFIX, and the inferred geometry
# (smallest distance) as the last field.
score_rows() {
	md-geom score -q --threads "$THREADS" "$1" "$2" |
	awk -F, -v pre="$3" "$cand_p"'
	NR > 1 { n++; c[n] = $1; d[n] = $2; if (best == "" || $2 + 0 < bd) { best = $1; bd = $2 + 0 } }
	END { for (i = 1; i <= n; i++) printf "%s,%s,%g,%s,%s\n", pre, c[i], candp(c[i]), d[i], best }'
}

# The runs (jobs.sh), each into files of its own under $tmp.
regress() {   # regress Q EXPONENT D POTENTIAL SEED
	r=$tmp/reg-$1-$2-$3-$4-$5
	md-geom train -q --threads "$THREADS" -p "$4" -D "$3" -e "$2" --corr "$1" -s "$5" -o "$r" >/dev/null
	score_rows "$r/w0.npy" "$r/w1.npy" "$3,$2,$1,$4,$5" >"$r.csv"
	rm -rf "$r"
}
robust() {   # robust INIT POTENTIAL SEED
	r=$tmp/rob-$1-$2-$3
	md-geom synth -p "$2" --init "$1" -D "$SYNTH_D" -s "$3" -o "$r"
	score_rows "$r/w0.npy" "$r/w1.npy" "$1,$2,$3" >"$r.csv"
	rm -rf "$r"
}
finetune() {   # finetune NET POTENTIAL
	r=$tmp/ft-$1-$2
	args=$FT_MLP; [ "$1" = gru ] && args=$FT_GRU
	# shellcheck disable=SC2086
	md-geom finetune -q --threads "$THREADS" --net "$1" -p "$2" $args -o "$r" >/dev/null
	md-geom score -q --per-tensor "$r/w0.npy" "$r/w1.npy" |
	awk -F, -v pre="$1,$2" "$cand_p"'
	NR > 1 { k = $1; n[k]++; c[k, n[k]] = $2; d[k, n[k]] = $3
		 if (!(k in bd) || $3 + 0 < bd[k]) { bd[k] = $3 + 0; best[k] = $2 } }
	END { for (k = 0; k in n; k++) for (i = 1; i <= n[k]; i++)
		printf "%s,%d,%s,%g,%s,%s\n", pre, k, c[k, i], candp(c[k, i]), d[k, i], best[k] }' >"$r.csv"
	rm -rf "$r"
	echo "fig-md-geom: finetune $1 $2 done" >&2
}
jobs_worker "$@"

mkdir -p "$OUT"
rm -rf "$tmp"; mkdir -p "$tmp"
t_start=$(date +%s)

# ---- regression: every (D, N, q, true potential, seed) ----
# regress_runs: one line per run, in the order runs.csv lists them.
regress_runs() {
	for q in $CORRS; do
		for e in 0.5 0.75; do
			dims=$DIMS; [ $e = 0.75 ] && dims=$DIMS_75
			for D in $dims; do
				for pot in $TRUE; do
					for s in $SEEDS; do echo "$q $e $D $pot $s"; done
				done
			done
		done
	done
}
regress_runs | sed 's/^/regress /' | jobs_run "$0" "$bin"
echo "D,exponent,q,true,seed,candidate,cand_p,distance,inferred" >"$tmp/runs.csv"
regress_runs | while read -r q e D pot s; do cat "$tmp/reg-$q-$e-$D-$pot-$s.csv"; done >>"$tmp/runs.csv"
echo "fig-md-geom: regression done ($(( $(date +%s) - t_start )) s)" >&2
mv "$tmp/runs.csv" "$OUT/runs.csv"
awk -F, -v D="$CURVE_D" 'NR == 1 || ($1 == D && $2 == 0.5 && $3 == 1)' "$OUT/runs.csv" |
	cut -d, -f4-8 >"$OUT/regression.csv"
ax-plot -x cand_p -y distance -g true --spread seed --xlabel "candidate p (negentropy at 1)" \
	--ylabel "distance" -t "Regression, D = $CURVE_D, N = D^0.5, q = 1" \
	-o "$OUT/regression.png" "$OUT/regression.csv"
# Accuracy: one row per (D, setting) over its (potential, seed) runs:
# inferred = true, and within one grid step (0.1 in p; negentropy counts
# as p = 1, so p1.1 is next to it).
echo "D,setting,accuracy,near" >"$OUT/accuracy.csv"
awk -F, "$cand_p"'
	NR > 1 && $6 == "negentropy" { k = $1 "," $2 "," $3; n[k]++; if ($4 == $9) hit[k]++
		if ((candp($4) - candp($9))^2 < 0.0101) near[k]++ }
	END { for (k in n) { split(k, f, ","); printf "%s,N=D^%s q=%s,%.4g,%.4g\n", f[1], f[2], f[3], hit[k] / n[k], near[k] / n[k] } }' \
	"$OUT/runs.csv" | sort -t, -k2,2 -k1,1n >>"$OUT/accuracy.csv"
ax-plot -x D -y accuracy -y near -g setting --logx --xlabel "D (weights)" \
	--ylabel "fraction of runs" -t "Inferred = true geometry (left), within 0.1 in p (right)" \
	-o "$OUT/accuracy.png" "$OUT/accuracy.csv"

# ---- robustness: synthetic dual changes ----
robust_runs() {
	for init in gauss lognormal; do
		for pot in $TRUE; do
			for s in $SEEDS; do echo "$init $pot $s"; done
		done
	done
}
robust_runs | sed 's/^/robust /' | jobs_run "$0" "$bin"
echo "init,true,seed,candidate,cand_p,distance,inferred" >"$OUT/robustness.csv"
robust_runs | while read -r init pot s; do cat "$tmp/rob-$init-$pot-$s.csv"; done >>"$OUT/robustness.csv"
awk -F, 'NR == 1 { print "true,seed,cand_p,distance"; next } { printf "%s %s,%s,%s,%s\n", $1, $2, $3, $5, $6 }' \
	"$OUT/robustness.csv" >"$tmp/rob.csv"
ax-plot -x cand_p -y distance -g true --spread seed --xlabel "candidate p (negentropy at 1)" \
	--ylabel distance -W 1100 -t "Synthetic dual changes, D = $SYNTH_D" -o "$OUT/robustness.png" "$tmp/rob.csv"

# ---- weight histograms after a large dual change ----
: >"$tmp/hist.txt"
for pot in negentropy p2; do
	md-geom synth -p $pot --init lognormal --sigma 0 --scale 1 -D 20000 -s 1 -o "$tmp/h-$pot"
	for kind in log lin; do
		flag=""; [ $kind = log ] && flag=--log-abs
		md-geom hist -b 50 $flag "$tmp/h-$pot/w1.npy" 2>>"$tmp/hist.txt" |
			awk -F, -v g=$pot 'NR == 1 { print "geometry," $0; next } { print g "," $0 }' >"$tmp/h-$pot-$kind.csv"
		sed -i "\$s/\$/ ($pot, $kind)/" "$tmp/hist.txt"
	done
done
for kind in log lin; do
	{ cat "$tmp/h-negentropy-$kind.csv"; tail -n +2 "$tmp/h-p2-$kind.csv"; } >"$OUT/hist-$kind.csv"
	x="log10 |w|"; [ $kind = lin ] && x=w
	ax-plot -x lo -y density -g geometry --xlabel "$x" --ylabel density \
		-t "Weights after a large dual change" -o "$OUT/hist-$kind.png" "$OUT/hist-$kind.csv"
done

# ---- fine-tuning ----
for net in $NETS; do
	for pot in $FT_POTS; do echo "finetune $net $pot"; done
done | jobs_run "$0" "$bin"
echo "net,potential,tensor,candidate,cand_p,distance,inferred" >"$OUT/finetune.csv"
for net in $NETS; do
	for pot in $FT_POTS; do cat "$tmp/ft-$net-$pot.csv"; done >>"$OUT/finetune.csv"
	# Wide: cand_p, then one column per (potential, layer).
	awk -F, -v net=$net 'NR > 1 && $1 == net { col = $2 ".L" $3; v[$5, col] = $6
		if (!(col in seen)) { seen[col] = 1; cols[++nc] = col } if (!($5 in sp)) { sp[$5] = 1; ps[++np] = $5 } }
	END { printf "cand_p"; for (j = 1; j <= nc; j++) printf ",%s", cols[j]; print ""
	      for (i = 1; i <= np; i++) { printf "%s", ps[i]; for (j = 1; j <= nc; j++) printf ",%s", v[ps[i], cols[j]]; print "" } }' \
		"$OUT/finetune.csv" >"$tmp/ft-$net.csv"
	ys=""
	for pot in $FT_POTS; do ys="$ys -y $pot.L0,$pot.L1,$pot.L2"; done
	# shellcheck disable=SC2086
	ax-plot -x cand_p $ys -W 1400 -H 520 --xlabel "candidate p (negentropy at 1)" --ylabel distance \
		-t "Fine-tuned $net: distance per layer, panel = fine-tuning potential" \
		-o "$OUT/finetune-$net.png" "$tmp/ft-$net.csv"
done

# ---- summary ----
{
	echo "md-geom figure recipe, $(date -u +%Y-%m-%d), $(( $(date +%s) - t_start )) s"
	echo "regression, D=$CURVE_D N=D^0.5 q=1: mean distance of the true potential, and of the"
	echo "closest candidate at least 0.25 away in p (negentropy at p = 1), over seeds"
	awk -F, "$cand_p"'NR > 1 { k = $1 "," $2; if ($3 == $1) { t[$1] += $5; nt[$1]++ }
			else if ((candp($3) - candp($1))^2 > 0.0626 && (!(k in far) || $5 < far[k])) far[k] = $5 }
		END { for (k in far) { split(k, f, ","); o[f[1]] += far[k] }
		      for (k in t) printf "  true %s: %.4f; nearest candidate 0.25 or more away in p: %.4f\n", k,
			t[k] / nt[k], o[k] / nt[k] }' "$OUT/regression.csv" | sort
	echo "accuracy (inferred = true) by D and setting:"
	sed 's/^/  /' "$OUT/accuracy.csv"
	echo "robustness, D=$SYNTH_D: accuracy (exact, within 0.1) and mean true distance per start"
	awk -F, "$cand_p"'NR > 1 && $4 == $2 { n[$1]++; d[$1] += $6; if ($7 == $2) hit[$1]++
			if ((candp($2) - candp($7))^2 < 0.0101) near[$1]++ }
		END { for (k in n) printf "  %s: accuracy %.3f, within 0.1 %.3f, true distance %.4f\n", k,
			hit[k] / n[k], near[k] / n[k], d[k] / n[k] }' "$OUT/robustness.csv"
	echo "histograms after a large dual change (distance to a normal):"
	sed 's/^md-geom: /  /' "$tmp/hist.txt"
	echo "fine-tuning: inferred geometry per layer (distance of the fine-tuning potential)"
	awk -F, 'NR > 1 && $4 == $2 { printf "  %s %s layer %s: inferred %s, true distance %s\n", $1, $2, $3, $7, $6 }' "$OUT/finetune.csv"
} >"$OUT/summary.txt"
rm -rf "$tmp"
cat "$OUT/summary.txt"
