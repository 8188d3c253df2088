#!/bin/sh
# ax-plot end to end: every plot kind writes a PNG of the asked size, layout
# and histogram counts are what the data imply, bad input exits 2 with a
# clear message and leaves no output file behind.
. "$AXON_ROOT/tests/cmd/lib.sh"

# PNG width and height from the IHDR chunk (big-endian at bytes 16..23).
png_size() {
	od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
is_png() { [ "$(od -An -c -N4 "$1" | tr -d ' ')" = "211PNG" ]; }

# refused PATTERN ARGS...: exit 2 with "ax-plot: ...PATTERN" on stderr, and
# no output file (nor a temporary one) left behind.
refused() {
	want=$1; shift
	rm -f "$T/bad.png"
	expect_exit 2 "^ax-plot: .*$want" "refused: ax-plot $*" -- ax-plot "$@" -o "$T/bad.png"
	[ ! -e "$T/bad.png" ] || bad "ax-plot $* left $T/bad.png behind"
	ls "$T" | grep -q '\.tmp\.' && bad "temporary file left in $T"
}

# ---- data: training curves of 3 estimators x 4 seeds ----
awk 'BEGIN { print "step,estimator,seed,loss,acc"
	n = split("reinforce,gumbel,rebar", E, ",")
	for (e = 1; e <= n; e++) for (s = 0; s < 4; s++) for (t = 0; t <= 100; t += 10)
		printf "%d,%s,%d,%.4f,%.3f\n", t, E[e], s, e + exp(-t / 30) + 0.01 * s, 0.5 + t / 250 }' \
	>"$T/runs.csv"
# histogram data: 0..9 -> with 5 bins over [0, 9] each bin holds 2
printf 'v,w\n0,1\n1,1\n2,1\n3,1\n4,1\n5,1\n6,1\n7,1\n8,1\n9,100\n' >"$T/h.csv"
printf 'model,task,score,lo,hi\nadam,a,0.9,0.85,0.95\nsgd,a,0.7,0.6,0.8\nadam,b,0.8,0.7,0.85\nsgd,b,0.6,0.5,0.7\n' >"$T/bar.csv"

# NPY arrays written byte by byte: float32 little-endian, v1.0 header padded to 128 bytes.
npy() { # npy FILE SHAPE BYTES: SHAPE like "(4,)" or "(2, 2)"
	h="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
	{ printf '\223NUMPY\001\000\166\000'; printf '%-117s\n' "$h"; printf "$3"; } >"$1"
}
ONE='\000\000\200\077' TWO='\000\000\000\100' THREE='\000\000\100\100' FOUR='\000\000\200\100'
npy "$T/v.npy" "(4,)" "$ONE$TWO$TWO$THREE"
npy "$T/m.npy" "(2, 2)" "$ONE$TWO$THREE$FOUR"
npy "$T/c.npy" "(1, 2, 2)" "$ONE$TWO$THREE$FOUR"
npy "$T/cube.npy" "(2, 1, 2, 1, 2)" "$ONE$TWO$THREE$FOUR$ONE$TWO$THREE$FOUR"

# ---- help, version ----
ax-plot --help >"$T/help" || bad "--help exit $?"
grep -q "^Usage: ax-plot" "$T/help" || bad "--help lacks usage"
ax-plot -h | grep -q -- "--print-counts" || bad "-h lacks --print-counts"
ax-plot --version | grep -q "ax-plot (axon)" || bad "--version"

# ---- line: size, layout of the data range ----
ax-plot -x step -y loss --group estimator --spread seed --title "spread" \
	-W 640 -H 480 --print-layout "$T/runs.csv" -o "$T/line.png" >"$T/layout" 2>"$T/err" ||
	bad "line plot exit $?: $(cat "$T/err")"
is_png "$T/line.png" || bad "not a PNG: "$T/line.png""
[ "$(png_size "$T/line.png")" = 640x480 ] || bad "line size $(png_size "$T/line.png")"
[ -s "$T/err" ] && bad "line plot warned: $(cat "$T/err")"
# one panel; x limits around [0, 100]; y around [1, 4.03]; area inside the image
awk -F, 'NR == 2 { ok = $1 == 1 && $6 < 0 && $6 > -10 && $7 > 100 && $7 < 110 &&
	$8 < 1 && $8 > 0.8 && $9 > 4.03 && $9 < 4.3 && $2 > 30 && $3 > 30 &&
	$2 + $4 < 640 && $3 + $5 < 480 && $10 == 0 && $11 == 0 }
	END { exit !(ok && NR == 2) }' "$T/layout" || bad "layout: $(cat "$T/layout")"

# stdin, default size, log axis recorded
ax-plot -x step -y loss --logy --print-layout -o "$T/stdin.png" <"$T/runs.csv" >"$T/layout" ||
	bad "stdin input"
[ "$(png_size "$T/stdin.png")" = 800x600 ] || bad "default size $(png_size "$T/stdin.png")"
awk -F, 'NR == 2 { ok = $11 == 1 && $8 > 0 } END { exit !ok }' "$T/layout" || bad "logy layout"

# two -y: two panels side by side; --dpi 200 doubles the default size
ax-plot -x step -y loss -y acc --dpi 200 --print-layout "$T/runs.csv" -o "$T/two.png" \
	>"$T/layout" 2>/dev/null || bad "two panels"
[ "$(png_size "$T/two.png")" = 2000x1200 ] || bad "two-panel size $(png_size "$T/two.png")"
awk -F, 'NR == 2 { r1 = $2 + $4 } NR == 3 { ok = $2 > r1 } END { exit !(ok && NR == 3) }' \
	"$T/layout" || bad "panels overlap: $(cat "$T/layout")"
ax-plot -x step -y loss -y acc -l 2x1 --print-layout "$T/runs.csv" -o "$T/two.png" >"$T/layout" ||
	bad "--layout 2x1"
awk -F, 'NR == 2 { b1 = $3 + $5 } NR == 3 { ok = $3 > b1 } END { exit !ok }' "$T/layout" ||
	bad "2x1 panels not stacked: $(cat "$T/layout")"
# three panels on a 2x2 grid: the fourth cell stays empty
ax-plot -x step -y loss -y acc -y seed -l 2x2 --print-layout "$T/runs.csv" -o "$T/three.png" \
	>"$T/layout" || bad "3 panels on 2x2"
awk -F, 'NR == 4 { ok = $2 < 400 && $3 > 400 } END { exit !(ok && NR == 4) }' "$T/layout" ||
	bad "3 panels on 2x2: $(cat "$T/layout")"
# --band columns are left out of the default y by name (loss is not loss_lo)
printf 'step,loss,loss_lo,loss_hi\n0,3,2,4\n1,2,1.5,2.5\n2,1,0.5,1.5\n' >"$T/band.csv"
ax-plot -x step --band loss_lo,loss_hi --print-layout "$T/band.csv" -o "$T/band.png" \
	>"$T/layout" || bad "--band with the default y"
awk -F, 'NR == 2 { ok = $8 < 0.5 && $9 > 4 } END { exit !ok }' "$T/layout" ||
	bad "--band range: $(cat "$T/layout")"

# ---- histograms: counts ----
ax-plot -k hist -y v -b 5 --print-counts "$T/h.csv" -o "$T/h.png" >"$T/counts" ||
	bad "hist exit $?"
[ "$(head -1 "$T/counts")" = "panel,series,lo,hi,count" ] || bad "counts header"
[ "$(tail -n +2 "$T/counts" | cut -d, -f5 | tr '\n' ' ')" = "2 2 2 2 2 " ] ||
	bad "hist counts: $(cat "$T/counts")"
[ "$(sed -n 2p "$T/counts" | cut -d, -f3,4)" = "0,1.8" ] || bad "first bin edges"
# two columns overlaid share bins; w's 100 stretches the range
ax-plot -k hist -y v,w -b 2 --print-counts "$T/h.csv" -o "$T/h2.png" >"$T/counts" ||
	bad "overlaid hist"
[ "$(grep -c '^1,' "$T/counts")" = 4 ] || bad "overlaid series: $(cat "$T/counts")"
grep -q '^1,v,0,50,10$' "$T/counts" || bad "overlaid v counts: $(cat "$T/counts")"
grep -q '^1,w,50,100,1$' "$T/counts" || bad "overlaid w counts: $(cat "$T/counts")"
# log-spaced bins: 1, 10, 100 -> [1,10) [10,100]
ax-plot -k hist -y w --logx -b 2 --print-counts "$T/h.csv" -o "$T/h3.png" >"$T/counts" ||
	bad "log hist"
[ "$(tail -n +2 "$T/counts" | cut -d, -f3-5 | tr '\n' ' ')" = "1,10,9 10,100,1 " ] ||
	bad "log bins: $(cat "$T/counts")"
# NPY: every value of the array
ax-plot -k hist -b 3 --print-counts "$T/v.npy" -o "$T/hv.png" >"$T/counts" || bad "npy hist"
[ "$(tail -n +2 "$T/counts" | cut -d, -f5 | tr '\n' ' ')" = "1 2 1 " ] ||
	bad "npy hist counts: $(cat "$T/counts")"
# NPY on standard input, gzip-compressed: sniffed without a temporary file
gzip -c "$T/v.npy" | ax-plot -k hist -b 3 --print-counts -o "$T/hz.png" >"$T/counts" ||
	bad "gzip npy on stdin"
[ "$(tail -n +2 "$T/counts" | cut -d, -f5 | tr '\n' ' ')" = "1 2 1 " ] ||
	bad "gzip npy stdin counts: $(cat "$T/counts")"
# all values of a 3-D array count
ax-plot -k hist -b 2 --print-counts "$T/cube.npy" -o "$T/hc.png" >"$T/counts" || bad "cube hist"
[ "$(tail -n +2 "$T/counts" | cut -d, -f5 | tr '\n' ' ')" = "4 4 " ] || bad "cube counts"

# ---- heatmap, bar, scatter, NPY line ----
ax-plot "$T/m.npy" --clabel w -o "$T/heat.png" -W 300 -H 240 || bad "heatmap (default for 2-D)"
[ "$(png_size "$T/heat.png")" = 300x240 ] || bad "heatmap size"
ax-plot -k heatmap "$T/c.npy" -o "$T/heat1.png" || bad "heatmap of (1, 2, 2)"
ax-plot -k bar -x model -y score --group task --band lo,hi "$T/bar.csv" -o "$T/bar.png" ||
	bad "bar"
ax-plot -k scatter -x loss -y acc --group estimator "$T/runs.csv" -o "$T/sc.png" || bad "scatter"
ax-plot "$T/v.npy" -o "$T/vline.png" || bad "npy line"
ax-plot -x step -y loss -o - "$T/runs.csv" >"$T/stdout.png" || bad "-o -"
is_png "$T/stdout.png" || bad "not a PNG: "$T/stdout.png""

# ---- warnings: NaN/inf skipped, still drawn ----
printf 'x,y\n1,2\n2,nan\n3,inf\n4,3\n' | ax-plot -x x -y y -o "$T/nan.png" 2>"$T/err" ||
	bad "NaN rows should only warn"
grep -q "warning: y: 2 rows with NaN/inf" "$T/err" || bad "NaN warning: $(cat "$T/err")"

# ---- bad input: exit 2, clear message, no file ----
printf 'a,b\n1,2\n3\n' >"$T/ragged.csv"
refused "line 3" "$T/ragged.csv"
refused "y column 'nope' not found" -y nope "$T/runs.csv"
refused "x column 'time' not found (columns: step" -x time -y loss "$T/runs.csv"
printf 'x,y\n1,nan\n2,\n' >"$T/empty.csv"
refused "nothing to draw" -x x -y y "$T/empty.csv"
printf 'x,y\n' >"$T/header.csv"
refused "no data rows" "$T/header.csv"
refused "has no numbers" -x step -y estimator "$T/runs.csv"
refused "needs a 2-D array, got shape (2, 1, 2, 1, 2)" -k heatmap "$T/cube.npy"
refused "heatmap needs a 2-D NPY" -k heatmap "$T/runs.csv"
refused "scatter needs an (n, 2)" -k scatter "$T/v.npy"
refused "no finite positive" -k hist --logx -y y -b 2 "$T/empty.csv"
refused "unknown value 'pie'" -k pie "$T/runs.csv"
refused "expected RxC" --layout 3 "$T/runs.csv"
refused "room for 1 panels" --layout 1x1 -x step -y loss -y acc "$T/runs.csv"
refused "too small" -W 60 -H 60 -x step -y loss "$T/runs.csv"
refused "expected LOW,HIGH" --band lo -k bar -x model -y score "$T/bar.csv"
refused "--frobnicate: unknown option" --frobnicate "$T/runs.csv"
refused "needs -x" -k bar -y score "$T/bar.csv"
printf 'not an npy' | ax-plot -f npy -o "$T/x.png" 2>"$T/err"
[ $? = 2 ] || bad "garbage as npy: exit not 2"

# --print-layout into a full disk: exit 1 and no PNG
rm -f "$T/full.png"
ax-plot -x step -y loss --print-layout "$T/runs.csv" -o "$T/full.png" >/dev/full 2>"$T/err"
rc=$?
[ $rc = 1 ] && grep -q "^ax-plot: standard output: write error" "$T/err" ||
	bad "--print-layout on /dev/full: exit $rc: $(cat "$T/err")"
[ ! -e "$T/full.png" ] || bad "--print-layout on /dev/full still wrote the PNG"

# a failed run keeps the old file
printf 'old' >"$T/keep.png"
ax-plot -y nope "$T/runs.csv" -o "$T/keep.png" 2>/dev/null && bad "-y nope: exit 0"
[ "$(cat "$T/keep.png")" = old ] || bad "failed run overwrote its output"

# ---- an output that is not a regular file is written in place ----
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fromfifo.png" &
ax-plot -x step -y loss "$T/runs.csv" -o "$T/fifo" || bad "-o FIFO: exit $?"
wait
[ -p "$T/fifo" ] || bad "-o FIFO replaced the FIFO"
is_png "$T/fromfifo.png" || bad "not a PNG: "$T/fromfifo.png""
rm -f "$T/fifo" "$T/fromfifo.png"
# a character device (a copy of /dev/null, where the system lets us make one)
if mknod "$T/null" c 1 3 2>/dev/null && echo x >"$T/null" 2>/dev/null; then
	ax-plot -x step -y loss "$T/runs.csv" -o "$T/null" || bad "-o chardev: exit $?"
	[ -c "$T/null" ] || bad "-o chardev replaced the device"
else
	echo "ax-plot.sh: no character device can be made here; that check skipped"
fi
rm -f "$T/null"

# ---- the input named as the output: refused, the input intact ----
cp "$T/runs.csv" "$T/same.csv"
ax-plot -x step -y loss "$T/same.csv" -o "$T/same.csv" 2>"$T/err"
[ $? = 2 ] || bad "input as output: exit not 2"
grep -q "same.csv: is also an input" "$T/err" || bad "input as output: $(cat "$T/err")"
cmp -s "$T/runs.csv" "$T/same.csv" || bad "input as output: the input changed"

# ---- a temp file of the same target left by a killed run goes ----
sh -c 'exit 0' &
dead=$!
wait
: >"$T/st.png.tmp.$dead"
: >"$T/other.png.tmp.$dead"
ax-plot -x step -y loss "$T/runs.csv" -o "$T/st.png" || bad "stale temp: exit $?"
[ ! -e "$T/st.png.tmp.$dead" ] || bad "stale temp file of st.png left"
[ -e "$T/other.png.tmp.$dead" ] || bad "another target's temp file removed"
rm -f "$T/other.png.tmp.$dead"

# ---- log axes at the ends of the double range; a linear range too wide ----
printf 'x,y\n1,1e-300\n2,1e308\n3,5\n' >"$T/big.csv"
ax-plot -x x -y y --logy --print-layout "$T/big.csv" -o "$T/big.png" >"$T/layout" ||
	bad "--logy 1e-300..1e308: exit $?"
awk -F, 'NR == 2 { ok = $8 ~ /e-30[78]$/ && $9 ~ /e[+]30[78]$/ } END { exit !ok }' "$T/layout" ||
	bad "--logy limits: $(cat "$T/layout")"
printf 'x,y\n-1e308,1\n1e308,2\n5,3\n' >"$T/bigx.csv"
ax-plot -x x -y y --logx "$T/bigx.csv" -o "$T/bigx.png" 2>/dev/null || bad "--logx +-1e308: exit $?"
refused "too wide a range to draw" -x x -y y "$T/bigx.csv"

# ---- bar axis: from 0, or near the data when the values are far from 0 ----
printf 'label,bpb\ndense,3.912\ntopk,3.874\naux,3.951\nrandom,4.010\n' >"$T/near.csv"
ax-plot -k bar -x label -y bpb --print-layout "$T/near.csv" -o "$T/near.png" >"$T/layout" ||
	bad "bar near the data"
awk -F, 'NR == 2 { ok = $8 > 3.8 && $8 < 3.874 } END { exit !ok }' "$T/layout" ||
	bad "bars of 3.87..4.01 should start near the data: $(cat "$T/layout")"
ax-plot -k bar -x model -y score --print-layout "$T/bar.csv" -o "$T/bar0.png" >"$T/layout" ||
	bad "bar from 0"
awk -F, 'NR == 2 { ok = $8 == 0 } END { exit !ok }' "$T/layout" ||
	bad "bars of 0.6..0.9 should start at 0: $(cat "$T/layout")"

# ---- every example of ax-plot(1) runs (data made up to fit) ----
examples_setup() {
	cp "$T/runs.csv" runs.csv
	cp "$T/v.npy" weights.npy; cp "$T/v.npy" before.npy; cp "$T/cube.npy" after.npy
	cp "$T/m.npy" attn.npy
	printf 'optimizer,task,acc,lo,hi\nadam,a,0.9,0.85,0.95\nsgd,a,0.7,0.6,0.8\n' >results.csv
}
# mod-lm for the first example at a tiny size (AXON_TEST_STEPS cuts its steps):
# what the example shows is that its CSV has the column ax-plot is asked for.
run_man_examples ax-plot \
	's/^mod-lm train |/mod-lm train --dim 16 --layers 1 --heads 2 --ctx 16 -b 2 --val-bytes 64 --threads 1 -q |/'

finish
