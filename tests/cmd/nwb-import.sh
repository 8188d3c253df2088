#!/bin/sh
# nwb-import: the NWB fixture written through libhdf5 and the same file
# written by h5py (tests/ref/nwb-h5py.nwb) convert in both layouts to the
# same arrays (exact values are checked in tests/unit/test-nwb-import.c);
# malformed files exit 2 naming the path inside the file; usage errors;
# mtm-train trains on the binned bundle; every example of nwb-import(1) runs.
. "$AXON_ROOT/tests/cmd/lib.sh"
cd "$T"
tab=$(printf '\t')
h5py_file="$AXON_ROOT/tests/ref/nwb-h5py.nwb"

check "--help" -- nwb-import --help
grep -q '^Usage: nwb-import' "$T/out" || bad "--help text"
check "the fixture writer (libhdf5)" -- nwb_fixture good.nwb
check "binned layout" -- nwb_binned_bundle binned.safetensors
check "reach layout" -- nwb_reach_bundle reach.safetensors
# A file with a user block (HDF5 puts the signature at byte 512 then) reads
# as the same file.
nwb_fixture ub.nwb userblock
check "user block: reach layout" -- nwb-import --layout reach -o ub.safetensors ub.nwb
check "user block: the good file's reach layout" -- nwb-import --layout reach -o ub-good.safetensors good.nwb
ax-info ub.safetensors | sed '/^$/q' > ub.arrays
ax-info ub-good.safetensors | sed '/^$/q' > ub-good.arrays
[ -s ub.arrays ] && expect_same ub-good.arrays ub.arrays "user block: the same arrays"
check "user block: ax-info describes it" -- ax-info ub.nwb
grep -q "units" "$T/out" && ok "user block: ax-info sees the units table" ||
	bad "user block: ax-info: $(head -3 "$T/out" | tr '\n' ' ')"

# expect_arrays BUNDLE WHAT: its arrays, as ax-info sees them (the lines
# up to the metadata), are the lines on stdin, '|' standing for a tab.
expect_arrays() {
	ax-info "$1" | sed '/^$/q' > got
	tr '|' '\t' > want
	expect_same want got "$2"
}
expect_arrays binned.safetensors "binned arrays" <<'END'
name|dtype|shape|min|max|mean
counts|float32|3x12x3|0|2|0.0925926
wheel|float32|3x12|-0.15625|19.9062|8.875
align_time|float32|3|0.5|6.5|3.16667
trial_start|float32|3|0|6|2.66667
trial_end|float32|3|1.5|7.5|4.16667
choice|int32|3|0|1|0.666667
split|int32|3|0|1|0.333333
regions|int32|3|0|1|0.333333
unit_ids|int32|3|10|13|11.3333

END
expect_arrays reach.safetensors "reach arrays" <<'END'
name|dtype|shape|min|max|mean
spike_times|float32|13|0.1|6.9|3.16308
spike_units|int32|13|0|3|0.692308
hand_t|float32|799|0.01|7.99|4
hand_vel|float32|799x2|-2.995|7.99|1.5
trial_start|float32|4|0|6|3
trial_end|float32|4|1.5|7.5|4.5
target|int32|4|0|7|3.75
regions|int32|4|0|2|0.75
unit_ids|int32|4|10|13|11.5

END
ax-info binned.safetensors | grep -q '^region_names=CA1,DG$' && ok "binned: region names" ||
	bad "binned: region names"
for kv in axon.kind=nwb-import.binned "source=$T/binned-fixture.nwb" source.identifier=fixture-0001 \
	  units_where=quality=good trials_dropped=1 align=stimOn_times window=-0.25:0.5 bins=12; do
	ax-info binned.safetensors | grep -qx "$kv" && ok "binned metadata $kv" ||
		bad "binned metadata lacks $kv"
done

# The h5py-written file gives the same bundles (but for the source's name).
cp "$h5py_file" h5py.nwb
same_as_fixture() {   # LAYOUT-BUNDLE OPTIONS...: convert h5py.nwb like the fixture
	ref=$1; shift
	nwb-import -q "$@" -o h5py.safetensors h5py.nwb || { bad "h5py file: nwb-import $*"; return; }
	ax-info "$ref" | grep -v '^source=\|^command=' > a
	ax-info h5py.safetensors | grep -v '^source=\|^command=' > b
	expect_same a b "h5py file, $ref: same arrays and metadata"
}
same_as_fixture binned.safetensors --layout binned --units-where quality=good \
	--trial 'choice=choice:-1=0,1=1,0=drop' --trial 'split=outcome:hit=0,miss=1' \
	--align stimOn_times --window -0.25:0.5 --bin 0.0625 --behavior /acquisition/wheel_velocity
same_as_fixture reach.safetensors --layout reach --trial target=reach_dir \
	--behavior /processing/behavior/hand_vel

# mtm-train reads the binned bundle, poyo-train the reach bundle.
check "mtm-train trains on the binned bundle" -- mtm-train train -q --threads 1 -n 3 --batch 2 \
	--dim 16 --layers 1 --heads 2 -c m.ckpt binned.safetensors
[ "$(grep -c '^[0-9]' "$T/out")" -ge 1 ] && ok "mtm-train logged its steps" ||
	bad "mtm-train logged no step: $(cat "$T/out")"
check "poyo-train trains on the reach bundle" -- poyo-train train -q --threads 1 -n 3 \
	--dim 16 --depth 1 --cross-heads 2 --self-heads 2 --latents 2 --batch 2 \
	-c p.ckpt reach.safetensors
[ "$(grep -c '^[0-9]' "$T/out")" -ge 1 ] && ok "poyo-train logged its steps" ||
	bad "poyo-train logged no step: $(cat "$T/out")"
check "poyo-train evaluates the reach bundle" -- poyo-train eval -q -m p.ckpt reach.safetensors
grep -q '^session,r2,r2_x,r2_y,n$' "$T/out" && ok "poyo-train eval wrote its CSV" ||
	bad "poyo-train eval: $(cat "$T/out")"

# Malformed files: exit 2, the path inside the file named; no output left.
for c in "no-units|/units: no such group" \
	 "index-past-end|/units/spike_times_index: offset 3 (15) is past the end of /units/spike_times" \
	 "index-decreasing|/units/spike_times_index: offset 2 (8) is less than the one before" \
	 "spikes-unordered|/units/spike_times: spike times out of order within unit 1 (id 11)"; do
	v=${c%%|*} msg=${c#*|}
	nwb_fixture "$v.nwb" "$v"
	expect_usage "$v.nwb: $msg" "$v: exit 2 naming the path" -- \
		nwb-import --layout reach -o "$v.safetensors" "$v.nwb"
	[ ! -e "$v.safetensors" ] && ok "$v: no output" || bad "$v: output left behind"
	[ "$v" = no-units ] ||   # a file without units is fine to describe
		expect_exit 2 "$msg" "ax-info $v: exit 2" -- ax-info "$v.nwb"
done
printf 'not an HDF5 file\n' > text.nwb
expect_usage "text.nwb: not an HDF5 file" "a text file" -- nwb-import --layout reach -o x text.nwb
expect_usage "absent.nwb: No such file" "a missing file" -- nwb-import --layout reach -o x absent.nwb
expect_usage "good.nwb: /intervals/trials/nope: not in the file" "--align: missing column" -- \
	nwb-import --layout binned --align nope -o x good.nwb
expect_usage "good.nwb: /acquisition/nothing: no such TimeSeries" "--behavior: missing series" -- \
	nwb-import --layout reach --behavior /acquisition/nothing -o x good.nwb
expect_usage "good.nwb: /units/nope: not in the file" "--units-where: missing column" -- \
	nwb-import --layout reach --units-where nope=1 -o x good.nwb
expect_usage "no unit left" "--units-where: nothing matches" -- \
	nwb-import --layout reach --units-where quality=great -o x good.nwb
expect_usage "'hit' is not in the map" "--trial: a text value the map lacks" -- \
	nwb-import --layout reach --trial 'o=outcome:miss=1' -o x good.nwb
expect_usage "not NAME=COLUMN" "--trial: no column" -- nwb-import --layout reach --trial choice -o x good.nwb
expect_usage "2 columns; the binned layout" "binned: a two-column series as the wheel" -- \
	nwb-import --layout binned --behavior /processing/behavior/hand_vel -o x good.nwb
[ ! -e x ] && ok "failed runs write nothing" || bad "a failed run wrote x"

# Usage errors.
expect_usage "--layout reach|binned is required" "no --layout" -- nwb-import -o x good.nwb
expect_usage "--align applies to --layout binned only" "--align with reach" -- \
	nwb-import --layout reach --align stimOn_times -o x good.nwb
expect_usage "not a whole number of --bin" "--window not a multiple of --bin" -- \
	nwb-import --layout binned --window 0:1 --bin 0.3 -o x good.nwb
expect_usage "missing FILE.nwb" "no FILE" -- nwb-import --layout reach -o x
cp good.nwb same.nwb
expect_usage "--out same.nwb is the input file" "the input as --out" -- \
	nwb-import --layout reach -o same.nwb same.nwb
cmp -s good.nwb same.nwb && ok "the input is left as it was" || bad "the input was overwritten"

# ax-info describes the NWB file: its tables, series and what to map.
check "ax-info on an NWB file" -- ax-info good.nwb
grep -q "^/units/spike_times${tab}float64${tab}14${tab}0.1${tab}8${tab}" "$T/out" &&
	ok "ax-info: spike times line" || bad "ax-info: spike times line: $(head -5 "$T/out")"
for kv in units=4 units.spikes=14 units.quality=good,mua trials=4 trials.outcome=hit,miss \
	  electrodes.location=CA1,DG,PO /acquisition/wheel_velocity.rate=64 \
	  timeseries=/acquisition/wheel_velocity,/processing/behavior/hand_vel; do
	grep -qx "$kv" "$T/out" && ok "ax-info: $kv" || bad "ax-info lacks $kv"
done

examples_setup() {
	nwb_fixture ibl-session.nwb && nwb_fixture reach-session.nwb
}
run_man_examples nwb-import
finish
