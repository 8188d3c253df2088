#!/bin/sh
# spike-sim: same seed same bytes; statistics of the simulated data (with
# numpy under /usr/bin/python3 when present); bad usage exits 2; every
# example of spike-sim(1) runs.
. "$AXON_ROOT/tests/cmd/lib.sh"
d=$T
fail() { bad "$*"; }

spike-sim ibl -q -o "$d/a" -n 2 -t 80 -s 7 || fail "ibl run failed"
spike-sim ibl -q -o "$d/b" -n 2 -t 80 -s 7 || fail "ibl rerun failed"
spike-sim ibl -q -o "$d/c" -n 1 -t 80 -s 8 || fail "ibl seed 8 failed"
cmp -s "$d/a/session-000.safetensors" "$d/b/session-000.safetensors" || fail "same seed, different bytes"
cmp -s "$d/a/session-001.safetensors" "$d/b/session-001.safetensors" || fail "same seed, different bytes (session 1)"
cmp -s "$d/a/session-000.safetensors" "$d/c/session-000.safetensors" && fail "different seeds, same bytes"
cmp -s "$d/a/session-000.safetensors" "$d/a/session-001.safetensors" && fail "two sessions are identical"
spike-sim ibl -q -o "$d/t" -n 1 -t 80 -s 7 --tau 100 || fail "ibl --tau 100 failed"
cmp -s "$d/a/session-000.safetensors" "$d/t/session-000.safetensors" || fail "--tau 100 is not the default"
spike-sim ibl -q -o "$d/t40" -n 1 -t 80 -s 7 --tau 40 || fail "ibl --tau 40 failed"
cmp -s "$d/a/session-000.safetensors" "$d/t40/session-000.safetensors" && fail "--tau changes nothing"
spike-sim ibl -q -o "$d/f0" -n 1 -t 80 -s 7 --fast 0 || fail "ibl --fast 0 failed"
spike-sim ibl -q -o "$d/f" -n 1 -t 80 -s 7 --fast 0.8 || fail "ibl --fast 0.8 failed"
cmp -s "$d/a/session-000.safetensors" "$d/f0/session-000.safetensors" || fail "--fast 0 is not the default"
cmp -s "$d/t/session-000.safetensors" "$d/f/session-000.safetensors" && fail "--fast changes nothing"
spike-sim reach -q -o "$d/r" -n 1 -t 10 -u 20 -s 7 || fail "reach run failed"
spike-sim reach -q -o "$d/r2" -n 1 -t 10 -u 20 -s 7 || fail "reach rerun failed"
cmp -s "$d/r/session-000.safetensors" "$d/r2/session-000.safetensors" || fail "reach: same seed, different bytes"

for bad in "" "ibl" "walk -o $d/x" "ibl -o $d/x --regions 0" "ibl -o $d/x --rank 9" "ibl -o $d/x --bogus" "ibl -o $d/x --tau 5" "ibl -o $d/x --fast -1" "ibl -o $d/x --wheel sqrt"; do
	# shellcheck disable=SC2086
	spike-sim $bad >/dev/null 2>"$d/err"; rc=$?
	[ $rc = 2 ] || fail "'spike-sim $bad' exited $rc, not 2"
	grep -q '^spike-sim: ' "$d/err" || fail "'spike-sim $bad': no 'spike-sim:' message"
done
spike-sim --help | grep -q 'Usage: spike-sim' && ok "--help" || fail "--help"
expect_usage "reach: option --regions does not apply" "an ibl option in reach" -- \
	spike-sim reach -o "$d/x" --regions 4
expect_usage "--out: an empty directory name" "-o ''" -- spike-sim ibl -o ''
expect_usage "--seed: a value is needed" "--seed without a value" -- spike-sim ibl -o "$d/x" --seed
expect_usage "--bogus: unknown option" "unknown option" -- spike-sim ibl -o "$d/x" --bogus
expect_exit 1 "standard output" "--help > /dev/full" -- sh -c "spike-sim --help > /dev/full"
if [ -z "${ASAN_OPTIONS:-}" ]; then
	expect_exit 1 "out of memory: .* bytes for" "-t 1000000 --bins 100000 -u 100000: out of memory" -- \
		sh -c "ulimit -v 3000000; spike-sim ibl -q -o \"$d/big\" -n 1 -t 1000000 --bins 100000 -u 100000"
else
	skip "out-of-memory exit (ulimit -v and AddressSanitizer do not mix)"
fi

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 - "$d/a/session-000.safetensors" "$d/r/session-000.safetensors" \
		"$d/f0/session-000.safetensors" "$d/f/session-000.safetensors" <<'PY' || fail "statistics"
import json, struct, sys
import numpy as np
def load(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    hdr = json.loads(raw[8:8 + n]); base = 8 + n; out = {}
    for k, v in hdr.items():
        if k == '__metadata__': continue
        dt = {'F32': np.float32, 'I32': np.int32}[v['dtype']]
        a, b = v['data_offsets']
        out[k] = np.frombuffer(raw[base + a:base + b], dt).reshape(v['shape'])
    return out, hdr.get('__metadata__', {})
s, meta = load(sys.argv[1])
c, r = s['counts'], s['rates']
assert c.shape == r.shape and c.shape[:2] == (80, 100), c.shape
assert (c == np.round(c)).all() and c.min() >= 0
# Poisson: mean count = mean rate, and variance = mean given the rate.
assert abs(c.mean() - r.mean()) / r.mean() < 0.03, (c.mean(), r.mean())
resid = ((c - r) ** 2).mean() / r.mean()
assert 0.9 < resid < 1.1, resid
# Firing rates near the baseline (8 Hz = 0.16 per 20 ms bin), a few-fold range.
assert 0.05 < r.mean() < 0.8, r.mean()
assert s['regions'].shape == (c.shape[2],) and len(meta['region_names'].split(',')) == 4
# Behaviour follows the latents: choice decodable from late latents,
# wheel speed correlates with the latents.
z = s['latents']; late = z[:, 70:, :].mean(1)
X = np.c_[late, np.ones(len(late))]
w = np.linalg.lstsq(X, s['choice'], rcond=None)[0]
acc = ((X @ w > 0.5) == s['choice']).mean()
assert acc > 0.75, acc
zf = np.c_[np.abs(z).reshape(-1, z.shape[2]), z.reshape(-1, z.shape[2]), np.ones(z.shape[0] * z.shape[1])]
wf = np.linalg.lstsq(zf, s['wheel'].ravel(), rcond=None)[0]
r2 = 1 - ((zf @ wf - s['wheel'].ravel()) ** 2).mean() / s['wheel'].var()
assert r2 > 0.3, r2
assert set(np.unique(s['block'])) <= {0, 1}
# Reaching: spikes sorted, unit ids in range, cosine tuning visible.
p, _ = load(sys.argv[2])
t, u = p['spike_times'], p['spike_units']
assert (np.diff(t) >= 0).all() and u.min() >= 0 and u.max() < 20
assert p['hand_vel'].shape == (p['hand_t'].shape[0], 2)
assert abs(np.abs(p['hand_vel']).max() - 0.3) < 0.1
# --fast 0.8 adds to the log rates of the --fast 0 run (same latents) a term
# of std about 0.8, white from bin to bin, shared within regions only.
f0, _ = load(sys.argv[3]); f, _ = load(sys.argv[4])
lo, hi = np.log(1e-4) + 1e-3, np.log(4.0) - 1e-3
l0, l1 = np.log(f0['rates']), np.log(f['rates'])
ok = (l0 > lo) & (l0 < hi) & (l1 > lo) & (l1 < hi)
assert ok.mean() > 0.95, ok.mean()
e = np.where(ok, l1 - l0, 0.0)
assert 0.6 < e[ok].std() < 1.0, e[ok].std()
lag1 = (e[:, 1:] * e[:, :-1]).mean() / (e ** 2).mean()
assert abs(lag1) < 0.05, lag1
reg = f['regions']; cc = np.corrcoef(e.reshape(-1, e.shape[2]).T)
same = reg[:, None] == reg[None, :]; off = ~np.eye(len(reg), dtype=bool)
assert np.abs(cc[same & off]).mean() > 0.3, np.abs(cc[same & off]).mean()
assert np.abs(cc[~same]).mean() < 0.05, np.abs(cc[~same]).mean()
PY
else
	skip "simulator statistics (python3-numpy not installed)"
fi
run_man_examples spike-sim 's/spike-sim ibl -o data -n 5/& -t 60 -u 12/'
finish
