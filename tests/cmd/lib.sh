# lib.sh — what every tests/cmd/*.sh shares; source it first:
#   . "$AXON_ROOT/tests/cmd/lib.sh"
# tests/run.sh puts the built commands first on PATH and gives each script a
# fresh scratch folder $AXON_TMP (here also $T). Each check prints one line,
# "ok - WHAT" or "not ok - WHAT (why)"; a failed check does not stop the
# script; end it with `finish`, which exits 1 if any check failed.
set -u
T=${AXON_TMP:?run through tests/run.sh (make test)}
lib_fail=0

ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; lib_fail=1; }
# skip WHAT: a check that cannot run here (and why, in WHAT)
skip() { echo "skip - $1"; }
finish() { exit $lib_fail; }

# check WHAT -- command...: the command exits 0 (stdout in $T/out, stderr in $T/err)
check() {
	what=$1; shift 2
	if "$@" >"$T/out" 2>"$T/err"; then ok "$what"
	else bad "$what (exit $?: $(head -c 300 "$T/err"))"; fi
}

# expect_exit CODE PATTERN WHAT -- command...: exit status CODE and a line
# matching PATTERN (grep) on stderr; stdout in $T/out, stderr in $T/err.
expect_exit() {
	code=$1 pat=$2 what=$3; shift 4
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ $rc = "$code" ] && grep -q -- "$pat" "$T/err"; then ok "$what"
	else bad "$what (exit $rc, not $code; stderr: $(head -c 300 "$T/err"))"; fi
}

# expect_usage PATTERN WHAT -- command...: exit 2, stderr one line
# "prog: ..." matching PATTERN, then "Try 'prog --help'." or nothing.
expect_usage() {
	pat=$1 what=$2; shift 3
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	prog=$(basename "$1")
	if [ $rc = 2 ] && head -1 "$T/err" | grep -q -- "^$prog: .*$pat" &&
	   [ "$(grep -vc "^Try '$prog --help'.$" "$T/err")" = 1 ]; then ok "$what"
	else bad "$what (exit $rc; stderr: $(head -c 300 "$T/err"))"; fi
}

# expect_stderr PATTERN WHAT -- command...: any exit status, PATTERN on stderr
expect_stderr() {
	pat=$1 what=$2; shift 3
	"$@" >"$T/out" 2>"$T/err"
	if grep -q -- "$pat" "$T/err"; then ok "$what"
	else bad "$what (stderr: $(head -c 300 "$T/err"))"; fi
}

# expect_same A B WHAT: the two files are byte-identical and not empty (two
# failed runs that wrote nothing do not pass).
expect_same() {
	if [ ! -s "$1" ]; then bad "$3 ($1 is empty or missing)"
	elif cmp -s "$1" "$2"; then ok "$3"
	else bad "$3 ($1 and $2 differ: $(diff "$1" "$2" | head -4 | tr '\n' ' '))"; fi
}

# close A B TOL WHAT: every numeric field of two CSVs within TOL (relative;
# fields below 1e-3 in size compared absolutely), header row skipped. The
# two must have the same rows and fields, and at least one row below the
# header (two empty outputs of failed runs do not pass).
close() {
	if awk -F, -v tol="$3" 'NR == FNR { a[FNR] = $0; na = FNR; next }
		FNR > 1 { nb = FNR
		if (split(a[FNR], x, ",") != NF) { print "row " FNR ": fields differ"; bad = 1; next }
		for (i = 1; i <= NF; i++) {
			a1 = x[i]; b = $i
			if (a1 "" == b "") continue
			d = a1 - b; if (d < 0) d = -d
			m = a1 < 0 ? -a1 : a1
			if (d > tol * (m > 1e-3 ? m : 1e-3)) { print "row " FNR " col " i ": " a1 " vs " b; bad = 1 }
		} } END { if (na < 2 || nb != na) { print na + 0 " and " nb + 0 " lines"; bad = 1 }
		exit bad }' "$1" "$2" > "$T/close.err"; then ok "$4"
	else bad "$4 ($(head -2 "$T/close.err" | tr '\n' ' '))"; fi
}

# ckpt_set_meta IN KEY VALUE OUT: copy a safetensors checkpoint with one
# __metadata__ value replaced (or added); VALUE is written as a JSON string
# (no quotes or backslashes in it). ckpt_del_meta IN KEY OUT removes KEY.
# The header keeps its length when it can (padded with spaces, which the
# format allows) so the tensors stay where they were.
ckpt_set_meta() { lib_ckpt_edit "$1" "$2" "$3" "$4" set; }
ckpt_del_meta() { lib_ckpt_edit "$1" "$2" "" "$3" del; }
lib_ckpt_edit() {
	in=$1 key=$2 val=$3 out=$4 mode=$5
	n=$(od -An -tu8 -N8 "$in" | tr -d ' ')
	dd if="$in" bs=1 skip=8 count="$n" 2>/dev/null | awk -v key="$key" -v val="$val" -v mode="$mode" '
	{ h = h $0 }
	END {
		sub(/ +$/, "", h)
		k = "\"" key "\":\""
		i = index(h, k)
		if (i) {   # drop the old pair, with the comma on one side
			rest = substr(h, i + length(k)); j = index(rest, "\"")
			pre = substr(h, 1, i - 1); post = substr(rest, j + 1)
			if (substr(post, 1, 1) == ",") post = substr(post, 2)
			else sub(/,$/, "", pre)
			h = pre post
		} else if (mode == "del") { print "no key " key > "/dev/stderr"; exit 1 }
		if (mode == "set") {
			m = index(h, "\"__metadata__\":{")
			if (!m) { print "no __metadata__" > "/dev/stderr"; exit 1 }
			m += length("\"__metadata__\":{") - 1
			sep = substr(h, m + 1, 1) == "}" ? "" : ","
			h = substr(h, 1, m) "\"" key "\":\"" val "\"" sep substr(h, m + 1)
		}
		printf "%s", h
	}' >"$T/lib-hdr" || return 1
	len=$(wc -c <"$T/lib-hdr")
	if [ "$len" -le "$n" ]; then new=$n; else new=$(( (len + 7) / 8 * 8 )); fi
	while [ "$len" -lt "$new" ]; do printf ' ' >>"$T/lib-hdr"; len=$((len + 1)); done
	{
		for s in 0 8 16 24 32 40 48 56; do
			printf "\\$(printf '%03o' $(( (new >> s) & 255 )))"
		done
		cat "$T/lib-hdr"
		tail -c +$((9 + n)) "$in"
	} >"$out"
}

# st_fill_i32 IN NAME VALUE OUT: copy a safetensors file with every element
# of its int32 tensor NAME set to VALUE (-2^31..2^31-1): an edited data file
# or checkpoint tensor, byte for byte otherwise.
st_fill_i32() {
	in=$1 name=$2 val=$3 out=$4
	n=$(od -An -tu8 -N8 "$in" | tr -d ' ')
	off=$(dd if="$in" bs=1 skip=8 count="$n" 2>/dev/null | tr -d '\n' |
		sed -n "s/.*\"$name\":{\"dtype\":\"I32\",\"shape\":\[[0-9,]*\],\"data_offsets\":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/p")
	[ -n "$off" ] || { echo "st_fill_i32: no int32 tensor $name in $in" >&2; return 1; }
	set -- $off
	u=$(( val & 0xffffffff ))
	word=""
	for s in 0 8 16 24; do word="$word\\$(printf '%03o' $(( (u >> s) & 255 )))"; done
	cp "$in" "$out"
	i=$1
	while [ "$i" -lt "$2" ]; do printf "$word"; i=$((i + 4)); done |
		dd of="$out" bs=1 seek=$((8 + n + $1)) conv=notrunc 2>/dev/null
}

# run_man_examples PAGE [SED]: run every example of man/man1/PAGE.1's EXAMPLES
# section, in order, in one scratch folder ($T/examples-PAGE; define a
# function examples_setup to prepare it, e.g. copy input files). A literal
# block (.Bd -literal) whose lines start with "$ " is a session: each such
# line is a command whose standard output must equal the lines that follow
# it. Other blocks and .Dl lines are commands that must exit 0. Training
# runs are cut to AXON_TEST_STEPS steps (3 unless set): the commands treat it
# as --stop-at (lib/ax_run.h), so a page can show a paper-scale run. SED, if
# given, is a sed script applied to the examples first: the one documented
# way to shrink what AXON_TEST_STEPS does not (an evaluation's size), e.g.
# 's/^mod-lm eval .*/& --max-bytes 4096/'; it may only add size options.
run_man_examples() {
	page="$AXON_ROOT/man/man1/$1.1"
	dir="$T/examples-$1"
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	awk '
	function unesc(s) {
		gsub(/\\e/, "\\", s); gsub(/\\-/, "-", s); gsub(/\\&/, "", s)
		gsub(/\\\(aq/, "\047", s); gsub(/\\\(dq/, "\"", s); return s
	}
	/^\.Sh / { ex = ($0 == ".Sh EXAMPLES"); next }
	!ex { next }
	/^\.Bd -literal/ { inb = 1; n++; print "#block " n; next }
	/^\.Ed/ { inb = 0; next }
	inb { print unesc($0); next }
	/^\.Dl / { n++; print "#block " n; print unesc(substr($0, 5)) }
	' "$page" | sed -e "${2:-}" >"$T/examples.txt"
	[ -s "$T/examples.txt" ] || { bad "$1(1) has no EXAMPLES"; return 1; }
	(cd "$dir" && if command -v examples_setup >/dev/null 2>&1; then examples_setup; fi)
	AXON_TEST_STEPS=${AXON_TEST_STEPS:-3}; export AXON_TEST_STEPS
	nb=$(grep -c '^#block ' "$T/examples.txt")
	b=1
	while [ $b -le "$nb" ]; do
		awk -v b="$b" '/^#block /{ cur = $2; next } cur == b' "$T/examples.txt" >"$T/block"
		lib_run_block "$1" "$b" "$dir"
		b=$((b + 1))
	done
	unset AXON_TEST_STEPS
}

# Examples run under bash -e -o pipefail, so a failing command inside a
# pipeline fails the example too.
lib_sh() { bash -e -o pipefail "$@"; }

# One example block: a session ("$ " lines, output compared) or a script.
lib_run_block() {
	if grep -q '^\$ ' "$T/block"; then
		awk '/^\$ /{ n++; print substr($0, 3) > (T "/cmd." n); next }
		     { print > (T "/want." n) }' T="$T" "$T/block"
		i=1
		while [ -f "$T/cmd.$i" ]; do
			[ -f "$T/want.$i" ] || : >"$T/want.$i"
			if (cd "$3" && lib_sh "$T/cmd.$i") >"$T/got" 2>"$T/err"; then
				if [ -s "$T/want.$i" ] && ! cmp -s "$T/got" "$T/want.$i"; then
					bad "$1(1) example $2: '$(cat "$T/cmd.$i")' prints otherwise: $(diff "$T/want.$i" "$T/got" | head -4 | tr '\n' ' ')"
				else ok "$1(1) example $2: $(cat "$T/cmd.$i")"; fi
			else bad "$1(1) example $2: '$(cat "$T/cmd.$i")' exit $?: $(head -c 300 "$T/err")"; fi
			rm -f "$T/cmd.$i" "$T/want.$i"
			i=$((i + 1))
		done
	elif (cd "$3" && lib_sh "$T/block") >"$T/got" 2>"$T/err"; then
		ok "$1(1) example $2: $(head -1 "$T/block")"
	else
		bad "$1(1) example $2 exit $?: $(head -1 "$T/block"): $(tail -c 300 "$T/err")"
	fi
}

# nwb_fixture OUT.nwb [VARIANT]: the NWB test fixture of
# tests/unit/nwb_fixture.c (four units, four trials, a wheel and a hand
# series; variants listed there), through a writer built once per script
# with the system's libhdf5.
nwb_fixture() {
	if [ ! -x "$T/nwb-fixture" ]; then
		cc -std=c11 -o "$T/nwb-fixture" "$AXON_ROOT/tests/cmd/nwb-fixture.c" \
			$(pkg-config --cflags --libs hdf5) || return 1
	fi
	"$T/nwb-fixture" "$@"
}

# nwb_reach_bundle OUT: the fixture in the reach layout (spike times, hand
# velocity at 100 Hz, target per trial), as poyo-train reads it.
nwb_reach_bundle() {
	nwb_fixture "$T/reach-fixture.nwb" &&
	nwb-import -q --layout reach --trial target=reach_dir \
		--behavior /processing/behavior/hand_vel -o "$1" "$T/reach-fixture.nwb"
}

# nwb_binned_bundle OUT: the fixture in the binned layout (12 bins of
# 62.5 ms around stimulus onset, good units, choice 0/1 with no-go trials
# left out, the wheel, "split" marking trial 1 as the test trial), as
# mtm-train reads it.
nwb_binned_bundle() {
	nwb_fixture "$T/binned-fixture.nwb" &&
	nwb-import -q --layout binned --units-where quality=good \
		--trial 'choice=choice:-1=0,1=1,0=drop' --trial 'split=outcome:hit=0,miss=1' \
		--align stimOn_times --window -0.25:0.5 --bin 0.0625 \
		--behavior /acquisition/wheel_velocity -o "$1" "$T/binned-fixture.nwb"
}
