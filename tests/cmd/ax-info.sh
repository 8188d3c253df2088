#!/bin/sh
# ax-info: exact lines for known arrays, streams and bundles; stdin and
# gzip; exit status and messages for bad input; numpy agreement if present.
. "$AXON_ROOT/tests/cmd/lib.sh"
ref="$AXON_ROOT/tests/ref/io"
t="$T"
cd "$ref"   # so FILE names in the output are short and stable
tab=$(printf '\t')
hdr="name${tab}dtype${tab}shape${tab}min${tab}max${tab}mean"

# expect WHAT: compare $t/out with the lines on stdin, '|' standing for a tab.
expect() {
	tr '|' '\t' > "$t/want"
	expect_same "$t/want" "$t/out" "output of $1"
}

# --help, --version, usage errors.
ax-info --help > "$t/out" || bad "--help exit $?"
grep -q '^Usage: ax-info' "$t/out" || bad "--help text"
ax-info -h | grep -q 'FILE' || bad "-h text"
ax-info --version | grep -q '^ax-info (axon) ' || bad "--version"
rc=0; ax-info 2> "$t/err" || rc=$?
[ $rc = 2 ] && grep -q '^ax-info: missing FILE' "$t/err" || bad "no FILE: exit $rc"
rc=0; ax-info --bogus x.npy 2> "$t/err" || rc=$?
[ $rc = 2 ] && grep -q "Try 'ax-info --help'" "$t/err" || bad "bad option: exit $rc"

# One numpy-written array.
ax-info numpy-2x3.npy > "$t/out"
expect numpy-2x3.npy <<END
$hdr
numpy-2x3.npy[0]|float32|2x3|1|6.5|3.58333
END

# A stream of three arrays: FILE[i]; a scalar's shape is "scalar", an
# empty array's statistics are nan.
ax-info numpy-stream.npy > "$t/out"
expect numpy-stream.npy <<END
$hdr
numpy-stream.npy[0]|int32|4|0|3|1.5
numpy-stream.npy[1]|float64|scalar|2.5|2.5|2.5
numpy-stream.npy[2]|uint8|0x2|nan|nan|nan
END

# Like numpy, a NaN anywhere makes min, max and mean nan (58-byte dict,
# the floats 1 and NaN).
q="'"
printf '\223NUMPY\001\000\072\000' > "$t/nan.npy"
printf '{%sdescr%s: %s<f4%s, %sfortran_order%s: False, %sshape%s: (2,), }\n' \
	$q $q $q $q $q $q $q $q >> "$t/nan.npy"
printf '\000\000\200\077\000\000\300\177' >> "$t/nan.npy"
ax-info "$t/nan.npy" > "$t/out"
expect nan.npy <<END
$hdr
$t/nan.npy[0]|float32|2|nan|nan|nan
END

# A bundle: tensor names, then its metadata after a blank line.
ax-info bundle.safetensors > "$t/out"
expect bundle.safetensors <<END
$hdr
layer.bias|float32|2|-1|1|0
layer.weight|float32|2x2|1|4|2.5

format=pt
step=100
END

# Standard input, gzip-compressed input, and several files: metadata lines
# then say whose they are.
gzip -c numpy-2x3.npy > "$t/a.npy.gz"
ax-info - "$t/a.npy.gz" axon.safetensors < numpy-stream.npy > "$t/out"
expect "stdin, gzip, several files" <<END
$hdr
-[0]|int32|4|0|3|1.5
-[1]|float64|scalar|2.5|2.5|2.5
-[2]|uint8|0x2|nan|nan|nan
$t/a.npy.gz[0]|float32|2x3|1|6.5|3.58333
w|float32|2x3|-1|4|1.41683
n|int64|scalar|-7|-7|-7
m|bool|2|0|1|0.5

axon.safetensors:note=made by axon
axon.safetensors:config={"d": 8}
END
gzip -c bundle.safetensors | ax-info - > "$t/out"
grep -q "^layer.weight${tab}float32${tab}2x2${tab}" "$t/out" || bad "gzip bundle on stdin"

# Bad input: exit 2 and 'ax-info: FILE: detail' on stderr.
check_bad() {   # check_bad FILE PATTERN
	expect_exit 2 "^ax-info: $2" "$1 refused" -- ax-info "$1"
}
check_bad "$t/nosuch.npy" "$t/nosuch.npy: No such file or directory"
head -c 140 numpy-2x3.npy > "$t/cut.npy"
check_bad "$t/cut.npy" "$t/cut.npy: truncated at byte 140: 12 more bytes expected"
head -c 60 bundle.safetensors > "$t/cut.st"
check_bad "$t/cut.st" "$t/cut.st: safetensors header length 176 exceeds the file (60 bytes)"
printf 'hello, world\n' > "$t/text.txt"
check_bad "$t/text.txt" "$t/text.txt: safetensors header length [0-9]* is implausible"
: > "$t/empty"
check_bad "$t/empty" "$t/empty: empty input"
check_bad "$t" "$t: is a directory"
# Fortran order, the header built byte by byte (57-byte dict, 1 float).
printf '\223NUMPY\001\000\071\000' > "$t/f.npy"
printf '{%sdescr%s: %s<f4%s, %sfortran_order%s: True, %sshape%s: (1,), }\n' \
	$q $q $q $q $q $q $q $q >> "$t/f.npy"
printf '\000\000\200\077' >> "$t/f.npy"
check_bad "$t/f.npy" "$t/f.npy: fortran_order True is not supported"

# Header names must be UTF-8 (the format says so): a stray 0xff byte is bad input.
st_file() {   # st_file FILE JSON: a safetensors file of that header and 16 zero bytes
	printf '%s' "$2" > "$t/json"
	n=$(wc -c < "$t/json")
	printf "$(printf '\\%03o' $((n % 256)) $((n / 256 % 256)) $((n / 65536 % 256)))\000\000\000\000\000" > "$1"
	cat "$t/json" >> "$1"
	head -c 16 /dev/zero >> "$1"
}
st_file "$t/utf8.st" "$(printf '{"ok\303\251":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}')"
ax-info "$t/utf8.st" > "$t/out" || bad "a UTF-8 name: exit $?"
st_file "$t/latin1.st" "$(printf '{"caf\351":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}')"
check_bad "$t/latin1.st" "$t/latin1.st: bad safetensors header at byte 13: invalid UTF-8"
# 3,000 tensors over the same 16 bytes: refused at once (overlapping data
# would make a small file ask for memory without bound).
awk 'BEGIN { printf "{"; for (i = 0; i < 3000; i++) printf "%s\"t%d\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}", i ? "," : "", i; printf "}" }' > "$t/json3k"
st_file "$t/overlap.st" "$(cat "$t/json3k")"
check_bad "$t/overlap.st" "$t/overlap.st: tensors 't0' and 't1' overlap"

# Good files before and after a bad one are still described.
rc=0; ax-info numpy-2x3.npy "$t/nosuch" numpy-2x3.npy > "$t/out" 2> "$t/err" || rc=$?
[ $rc = 2 ] || bad "mixed good and bad: exit $rc"
[ "$(grep -c '^numpy-2x3.npy\[0\]' "$t/out")" = 2 ] || bad "mixed: rows of good files"

# A stream followed by junk: its arrays, then the error at the junk's offset.
{ cat numpy-2x3.npy; printf 'junk'; } > "$t/junk.npy"
rc=0; ax-info "$t/junk.npy" > "$t/out" 2> "$t/err" || rc=$?
[ $rc = 2 ] && grep -q 'not an NPY array at byte 152' "$t/err" || bad "junk after a stream"
grep -q 'junk.npy\[0\]' "$t/out" || bad "junk: the good array is listed"

# A full disk or a closed standard output: exit 1 with a message.
ax-info numpy-2x3.npy >/dev/full 2>"$t/err"; rc=$?
[ $rc = 1 ] && grep -q "^ax-info: standard output: write error" "$t/err" &&
	ok "stdout on /dev/full" || bad "stdout on /dev/full: exit $rc: $(cat "$t/err")"
ax-info numpy-2x3.npy >&- 2>"$t/err"; rc=$?
[ $rc = 1 ] && ok "stdout closed" || bad "stdout closed: exit $rc: $(cat "$t/err")"

# The man page's examples, run as written: each literal display in EXAMPLES
# is '$ command' and then its exact output.
examples_setup() {
	cp "$ref"/* .
	cp bundle.safetensors model.safetensors
	cp "$AXON_ROOT/tests/ref/nwb-h5py.nwb" session.nwb
}
run_man_examples ax-info

# numpy, where installed: numpy reads what axon wrote (tests/ref/io/axon.*,
# which test-io checks are byte for byte what the writers produce), and
# ax-info agrees with numpy's statistics on arrays numpy wrote.
py=/usr/bin/python3
if [ -x "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then
	"$py" - "$t" <<'END' || bad "numpy checks"
import json, struct, subprocess, sys
import numpy as np
t = sys.argv[1]
a = np.load("axon.npy")
assert a.dtype == np.float32 and a.shape == (2, 3), a
assert (a == np.array([[0.5, -1, 2], [3, 4, 0.001]], np.float32)).all()
raw = open("axon.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
assert n % 8 == 0
hdr, data = json.loads(raw[8:8 + n]), raw[8 + n:]
assert hdr["__metadata__"] == {"note": "made by axon", "config": '{"d": 8}'}
dt = {"F32": np.float32, "I64": np.int64, "BOOL": np.bool_}
got = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dt[v["dtype"]])
       .reshape(v["shape"]) for k, v in hdr.items() if k != "__metadata__"}
assert (got["w"] == a).all() and got["n"] == -7 and list(got["m"]) == [True, False]

rng = np.random.default_rng(1)
arrays = [rng.normal(size=(3, 5)).astype(np.float32), rng.normal(size=7),
          rng.integers(-1000, 1000, size=(2, 2, 2)).astype(np.int32),
          rng.integers(-2**40, 2**40, size=4), rng.integers(0, 256, size=9).astype(np.uint8),
          rng.random(6) > 0.5]
with open(t + "/np.npy", "wb") as f:
    for x in arrays:
        np.save(f, x)
out = subprocess.run(["ax-info", t + "/np.npy"], check=True, capture_output=True,
                     text=True).stdout.splitlines()[1:]
assert len(out) == len(arrays), out
for line, x in zip(out, arrays):
    name, dtype, shape, lo, hi, mean = line.split("\t")
    assert dtype == str(x.dtype), (dtype, x.dtype)
    assert shape == "x".join(map(str, x.shape))
    for s, v in ((lo, x.min()), (hi, x.max()), (mean, x.mean(dtype=np.float64))):
        assert s == "%.6g" % v, (line, s, v)
END
else
	skip "numpy checks (python3-numpy not installed)"
fi
finish
