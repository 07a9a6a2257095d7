#!/usr/bin/env bats
# ecg-noise: ecg-synth's noises at a stated SNR, checked with numpy on
# ecg-dump -a output (SNR, spectra, lead relations), determinism, bad input.

load test_helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	# 12 leads, 500 Hz, 10 s, int16 with gain: the records the SNRs are measured on
	ecg-synth -n 3 -s 7 > syn.ecgz
	ecg-dump -a syn.ecgz > syn.jsonl
	cat > ref.py <<'EOF'
# The reference: SNR and spectra from ecg-dump -a JSON lines, in double.
import json, sys
import numpy as np

def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]

def mv(d):
    """The record's signal in mV (NaN where invalid), from the JSON alone."""
    s = d["sig"]
    x = np.array([float(v) for v in s["data"]]).reshape(s["shape"])
    if s["dtype"] in ("int16", "int32"):
        bad = x == (-32768 if s["dtype"] == "int16" else -2**31)
        g = np.array(d["gain"], float)[:, None]
        b = np.array(d.get("baseline") or [0] * len(x), float)[:, None]
        x = (x - b) / g
        x[bad] = np.nan
    return x

def present(d, x):
    miss = set(d.get("missing") or [])
    leads = d.get("leads") or [None] * len(x)
    return [l for l in range(len(x)) if leads[l] not in miss and np.isfinite(x[l]).any()]

def snr(x, n, rows):
    """10 log10(Ps / Pn): Ps the mean over rows of each lead's variance, Pn of
    the noise's mean square, both over the lead's finite samples."""
    ps = np.mean([np.var(x[l][np.isfinite(x[l])]) for l in rows])
    pn = np.mean([np.mean(n[l][np.isfinite(x[l])] ** 2) for l in rows])
    return 10 * np.log10(ps / pn)

def pairs(a, b):
    """(input record, output record, input mV, added noise) for each record."""
    A, B = load(a), load(b)
    assert len(A) == len(B) and len(A) > 0, (len(A), len(B))
    for d, e in zip(A, B):
        assert d["id"] == e["id"]
        assert e["sig"]["dtype"] == "float32", e["sig"]["dtype"]
        x, y = mv(d), mv(e)
        yield d, e, x, y - x

def check(cond, *msg):
    if not cond:
        print("FAIL:", *msg)
        sys.exit(1)

def check_snr(a, b, want, key=None):
    for d, e, x, n in pairs(a, b):
        got = snr(x, n, present(d, x))
        check(abs(got - want) < 1e-3, d["id"], "SNR", got, "want", want)
        if key is not None:
            check(abs(e["noise"][key] - want) < 1e-9, d["id"], "noise." + key, e["noise"][key])
        print(d["id"], "%.6f" % got)

def band_fraction(n, fs, lo, hi):
    """Fraction of the Hann-windowed power of the rows of n in [lo, hi) Hz."""
    w = np.hanning(n.shape[1])
    p = np.abs(np.fft.rfft((n - n.mean(axis=1, keepdims=True)) * w, axis=1)) ** 2
    f = np.fft.rfftfreq(n.shape[1], 1 / fs)
    return p[:, (f >= lo) & (f < hi)].sum() / p.sum(), f[np.argmax(p.sum(axis=0))]
EOF
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR"/{syn.ecgz,syn.jsonl,ref.py} .
}

py() { PYTHONPATH=. /usr/bin/python3 -c "from ref import *; $1"; }

@test "each kind alone reaches the stated SNR to 1e-3 dB on every record" {
	for arg in "--bw 10" "--emg 20" "--mains 30" "--em 0" "--bw -10" "--emg 60" "--mains 17.25"; do
		set -- $arg
		ecg-noise -s 3 "$1" "$2" syn.ecgz | ecg-dump -a > out.jsonl
		run py "check_snr('syn.jsonl', 'out.jsonl', $2, '${1#--}')"
		assert_success
		[ "${#lines[@]}" -eq 3 ]
	done
}

@test "several kinds: each at its own SNR, the noise is the sum of each alone" {
	ecg-noise -s 3 --bw 10 --emg 20 --mains 25 syn.ecgz | ecg-dump -a > all.jsonl
	ecg-noise -s 3 --bw 10 syn.ecgz | ecg-dump -a > bw.jsonl
	ecg-noise -s 3 --emg 20 syn.ecgz | ecg-dump -a > emg.jsonl
	ecg-noise -s 3 --mains 25 syn.ecgz | ecg-dump -a > mains.jsonl
	run py "
for (d, e, x, n), (_, _, _, a), (_, _, _, b), (_, _, _, c) in zip(pairs('syn.jsonl', 'all.jsonl'),
        pairs('syn.jsonl', 'bw.jsonl'), pairs('syn.jsonl', 'emg.jsonl'), pairs('syn.jsonl', 'mains.jsonl')):
    err = np.abs(n - (a + b + c)).max()
    check(err < 1e-6, d['id'], 'sum of the kinds off by', err)
    # noise.snr: what all of it achieves, measured
    got = snr(x, n, present(d, x))
    check(abs(got - e['noise']['snr']) < 1e-3, d['id'], got, e['noise'])
    check(e['noise']['bw'] == 10 and e['noise']['emg'] == 20 and e['noise']['mains'] == 25, e['noise'])
    check(e['noise']['mains_hz'] == 50 and e['noise']['seed'] == 3, e['noise'])
    check(got < 10, d['id'], 'total SNR', got, 'not below the loudest kind')
print('ok')"
	assert_success
	assert_output ok
}

@test "--kind mixes the kinds at equal power and the sum at --snr" {
	ecg-noise -s 4 --kind bw,emg,mains --snr 5 syn.ecgz | ecg-dump -a > mix.jsonl
	run py "check_snr('syn.jsonl', 'mix.jsonl', 5, 'snr')"
	assert_success
	# each kind's share is that kind alone at the SNR noise.<kind> states
	read -r b m p < <(head -n 1 mix.jsonl | jq -r '"\(.noise.bw) \(.noise.emg) \(.noise.mains)"')
	[ "$b" = "$m" ] && [ "$m" = "$p" ]
	head -n 1 syn.jsonl > one.jsonl
	ecg-pack one.jsonl | ecg-noise -s 4 --bw "$b" --emg "$m" --mains "$p" | ecg-dump -a > sep.jsonl
	run py "
(_, _, _, a), = pairs('one.jsonl', 'sep.jsonl')
(_, e, _, b), = list(pairs('syn.jsonl', 'mix.jsonl'))[:1]
check(np.abs(a - b).max() < 1e-6, 'mix vs separate', np.abs(a - b).max())
check(sorted(e['noise']) == ['bw', 'emg', 'mains', 'mains_hz', 'seed', 'snr'], sorted(e['noise']))
print('ok')"
	assert_output ok
	# all: the four kinds
	[ "$(ecg-noise --kind all --snr 0 syn.ecgz | ecg-dump | jq -c '.noise | keys' | sort -u)" = \
	    '["bw","em","emg","mains","mains_hz","seed","snr"]' ]
}

@test "spectra: mains a line at 50 or 60 Hz, wander below 1 Hz, EMG broadband, motion slow" {
	for hz in 50 60; do
		ecg-noise --mains 20 --mains-hz $hz syn.ecgz | ecg-dump -a > m.jsonl
		run py "
for d, e, x, n in pairs('syn.jsonl', 'm.jsonl'):
    fr, peak = band_fraction(n, 500, $hz - 0.5, $hz + 0.5)
    check(abs(peak - $hz) < 0.15 and fr > 0.999, d['id'], 'peak', peak, 'fraction', fr)
    check(e['noise']['mains_hz'] == $hz, e['noise'])
print('ok')"
		assert_output ok
	done
	ecg-noise --bw 0 syn.ecgz | ecg-dump -a > b.jsonl
	run py "
for d, e, x, n in pairs('syn.jsonl', 'b.jsonl'):
    fr, peak = band_fraction(n, 500, 0, 1)
    check(fr > 0.999 and peak < 0.4, d['id'], 'below 1 Hz', fr, 'peak', peak)
print('ok')"
	assert_output ok
	ecg-noise --emg 0 syn.ecgz | ecg-dump -a > e.jsonl
	run py "
for d, e, x, n in pairs('syn.jsonl', 'e.jsonl'):
    # y = y/2 + white: power density 1 / (1.25 - cos w), whose integral from 0
    # is F(w) = (8 / 3) atan(3 tan(w / 2)); the fraction in each 50 Hz band
    F = lambda hz: 8 / 3 * np.arctan(3 * np.tan(np.pi * hz / 500)) if hz < 250 else 4 / 3 * np.pi
    for lo in range(0, 250, 50):
        got, want = band_fraction(n, 500, lo, lo + 50)[0], (F(lo + 50) - F(lo)) / F(250)
        check(abs(got - want) < 0.02, d['id'], lo, 'Hz: band fraction', got, 'want', want)
print('ok')"
	assert_output ok
	ecg-noise --em 0 syn.ecgz | ecg-dump -a > m.jsonl
	run py "
for d, e, x, n in pairs('syn.jsonl', 'm.jsonl'):
    check(band_fraction(n, 500, 0, 10)[0] > 0.99, d['id'], 'motion below 10 Hz')
    # 1 to 3 events, each on one electrode: the noise [12, S] has rank 3 at most
    sv = np.linalg.svd(n, compute_uv=False)
    check(sv[3] < 1e-5 * sv[0], d['id'], 'singular values', sv[:5])
print('ok')"
	assert_output ok
}

@test "the added noise keeps Einthoven's and Goldberger's relations to float precision" {
	# an input that satisfies them: I and II of a clean record, the rest derived
	ecg-synth -n 2 -s 9 -N none | ecg-dump -a | py "
for d in map(json.loads, sys.stdin):
    x = mv(d)
    I, II = x[0], x[1]
    x[2], x[3], x[4], x[5] = II - I, -(I + II) / 2, I - II / 2, II - I / 2
    x = x.astype(np.float32)
    d['sig'] = {'dtype': 'float32', 'shape': list(x.shape), 'data': [float(v) for v in x.ravel()]}
    d['gain'] = [1.0] * 12; d['baseline'] = [0] * 12
    print(json.dumps(d))" > rel.jsonl
	ecg-pack rel.jsonl | ecg-noise -s 2 --bw 5 --emg 10 --mains 15 --em 20 | ecg-dump -a > out.jsonl
	run py "
def rel(v):
    I, II = v[0], v[1]
    return max(np.abs(v[2] - (II - I)).max(), np.abs(v[3] + (I + II) / 2).max(),
               np.abs(v[4] - (I - II / 2)).max(), np.abs(v[5] - (II - I / 2)).max())
for d, e, x, n in pairs('rel.jsonl', 'out.jsonl'):
    check(rel(x) < 1e-6, 'input relations', rel(x))
    check(rel(n) < 2e-6, d['id'], 'noise relations off by', rel(n))
    check(rel(mv(e)) < 2e-6, d['id'], 'output relations off by', rel(mv(e)))
    check(np.abs(n).max() > 0.01, 'no noise added')
    # the chest leads carry their own electrodes' noise: not a limb combination
    A = np.stack([n[0], n[1]], 1)
    res = n[6] - A @ np.linalg.lstsq(A, n[6], rcond=None)[0]
    check(np.mean(res ** 2) > 0.1 * np.mean(n[6] ** 2), 'V1 noise is a limb combination')
print('ok')"
	assert_output ok
}

@test "missing leads stay missing and zero; SNR over the present leads; leads by name" {
	head -n 1 syn.jsonl | jq -c '.missing = ["V1","V2"] | .sig.data[6*5000:8*5000] = [range(10000) | 0]' > m.jsonl
	ecg-pack m.jsonl | ecg-noise -s 1 --emg 12 | ecg-dump -a > out.jsonl
	run py "
(d, e, x, n), = pairs('m.jsonl', 'out.jsonl')
check(e['missing'] == ['V1', 'V2'], e['missing'])
check(np.all(mv(e)[6:8] == 0), 'missing rows not zero')
check(present(d, x) == [0, 1, 2, 3, 4, 5, 8, 9, 10, 11], present(d, x))
check_snr('m.jsonl', 'out.jsonl', 12)
"
	assert_success
	# rows in another order (and a subset) get each lead's own noise
	head -n 1 syn.jsonl | jq -c '.leads = (.leads | [.[11], .[1], .[0], .[6]]) |
	    .sig.shape = [4, 5000] | .sig.data = (.sig.data | [.[55000:60000], .[5000:10000], .[0:5000], .[30000:35000]] | add) |
	    .gain = .gain[0:4] | .baseline = .baseline[0:4]' > p.jsonl
	head -n 1 syn.jsonl | jq -c '.leads = (.leads | [.[0], .[1], .[6], .[11]]) |
	    .sig.shape = [4, 5000] | .sig.data = (.sig.data | [.[0:5000], .[5000:10000], .[30000:35000], .[55000:60000]] | add) |
	    .gain = .gain[0:4] | .baseline = .baseline[0:4]' > q.jsonl
	ecg-pack p.jsonl | ecg-noise --mains 20 --emg 20 | ecg-dump -a > po.jsonl
	ecg-pack q.jsonl | ecg-noise --mains 20 --emg 20 | ecg-dump -a > qo.jsonl
	run py "
(d, e, x, n), = pairs('p.jsonl', 'po.jsonl')
(_, _, _, m), = pairs('q.jsonl', 'qo.jsonl')
err = np.abs(n[[2, 1, 3, 0]] - m).max()
check(err < 1e-6, 'by name', err)
check_snr('p.jsonl', 'po.jsonl', e['noise']['snr'])
print('ok')"
	assert_success
	assert_line ok
}

@test "motion noise on one present lead: a draw the lead does not see is drawn again" {
	# lead I sees RA and LA only: 1 to 3 motion events elsewhere left it
	# without noise, an error ("the em noise drawn is zero") at record 2
	ecg-synth -n 40 -s 3 --fs 100 | ecg-dump -a |
	    jq -c '.missing = ["II","III","aVR","aVL","aVF","V1","V2","V3","V4","V5","V6"]' > one.jsonl
	ecg-pack one.jsonl | ecg-noise -s 1 --em 6 | ecg-dump -a > one-out.jsonl
	run py "
for d, e, x, n in pairs('one.jsonl', 'one-out.jsonl'):
    check(np.abs(n[0]).max() > 0, d['id'], 'no noise on lead I')
    check(np.all(n[1:] == 0), d['id'], 'noise on a missing lead')
check_snr('one.jsonl', 'one-out.jsonl', 6)
print('ok')"
	assert_success
	assert_line ok
	# the same bits again, and a 12-lead record's noise as before
	ecg-pack one.jsonl | ecg-noise -s 1 --em 6 | ecg-dump -a | cmp - one-out.jsonl
}

@test "NaN samples stay NaN and are left out of both powers" {
	# int16 invalid samples (-32768) in lead II and a whole invalid lead V6
	head -n 2 syn.jsonl | jq -c '.sig.data[5000:5100] = [range(100) | -32768] |
	    .sig.data[55000:60000] = [range(5000) | -32768]' > nan.jsonl
	ecg-pack nan.jsonl | ecg-noise --bw 3 --emg 3 | ecg-dump -a > out.jsonl
	run py "
for d, e, x, n in pairs('nan.jsonl', 'out.jsonl'):
    y = mv(e)
    check(np.isnan(y[1, :100]).all() and np.isfinite(y[1, 100:]).all(), 'lead II')
    check(np.isnan(y[11]).all(), 'lead V6')
    check(np.isfinite(y[[0] + list(range(2, 11))]).all(), 'other leads')
    check(present(d, x) == list(range(11)), present(d, x))
    got = snr(x, n, present(d, x))
    check(abs(got - e['noise']['snr']) < 1e-3, d['id'], got, e['noise'])
print('ok')"
	assert_success
	assert_line ok
	# float32 NaN in, NaN out
	head -n 1 syn.jsonl | py "
d = json.loads(sys.stdin.readline()); x = mv(d); x[3, 7] = np.nan
d['sig'] = {'dtype': 'float32', 'shape': list(x.shape), 'data': ['NaN' if v != v else float(v) for v in x.ravel()]}
print(json.dumps(d))" | ecg-pack | ecg-noise --mains 0 | ecg-dump -a | jq -c '[.sig.data[3*5000+6:3*5000+9][] | type]' > t.txt
	[ "$(cat t.txt)" = '["number","string","number"]' ]
}

@test "a record whose signal power is zero is an error naming it, no output left" {
	{ head -n 1 syn.jsonl; sed -n 2p syn.jsonl | jq -c '.sig.data |= map(0 * . + 100)'; } > z.jsonl
	ecg-pack z.jsonl > z.ecgz
	run --separate-stderr ecg-noise --bw 10 -o out.ecgz z.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: z.ecgz: record 2: signal power is zero (no present lead varies): no SNR to scale the noise to"
	[ ! -e out.ecgz ]; refute_leftovers .
	# every lead missing: the same
	head -n 1 syn.jsonl | jq -c '.missing = .leads' | ecg-pack > m.ecgz
	run --separate-stderr ecg-noise --emg 10 m.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: m.ecgz: record 1: signal power is zero (no present lead varies): no SNR to scale the noise to"
}

@test "deterministic from (seed, id, kind): order, sharding and other kinds do not matter" {
	ecg-noise -s 5 --bw 10 --emg 10 syn.ecgz > a.ecgz
	ecg-noise -s 5 --bw 10 --emg 10 syn.ecgz > b.ecgz
	cmp a.ecgz b.ecgz
	sigs() { ecg-dump -a "$1" | jq -c '[.id, .sig.data]' | sort; }
	ecg-shuffle -s 2 syn.ecgz | ecg-noise -s 5 --bw 10 --emg 10 > c.ecgz
	[ "$(sigs a.ecgz)" = "$(sigs c.ecgz)" ]
	ecg-split -p part- syn.ecgz
	for p in part-*.ecgz; do ecg-noise -s 5 --bw 10 --emg 10 "$p"; done | ecg-cat > d.ecgz
	[ "$(sigs a.ecgz)" = "$(sigs d.ecgz)" ]
	ecg-noise -s 6 --bw 10 --emg 10 syn.ecgz > e.ecgz
	[ "$(sigs a.ecgz)" != "$(sigs e.ecgz)" ]
	# records differ from each other: the noise is not one draw for all
	ecg-dump -a a.ecgz > a.jsonl
	run py "
ns = [n for d, e, x, n in pairs('syn.jsonl', 'a.jsonl')]
c = np.corrcoef(ns[0].ravel(), ns[1].ravel())[0, 1]
check(abs(c) < 0.5, 'records share their noise', c)
print('ok')"
	assert_output ok
}

@test "every other field is kept; sig float32 mV, gain 1, baseline 0, a noise map" {
	ecg-noise -s 8 --mains 40 --mains-hz 60 syn.ecgz | ecg-dump -a > out.jsonl
	[ "$(jq -c 'del(.sig, .gain, .baseline)' syn.jsonl)" = "$(jq -c 'del(.sig, .gain, .baseline, .noise)' out.jsonl)" ]
	run bash -c "jq -c '[.sig.dtype, .sig.shape, (.gain | unique), (.baseline | unique), (.noise.snr * 1e6 | round), (.noise | del(.snr))]' out.jsonl | sort -u"
	assert_output '["float32",[12,5000],[1],[0],40000000,{"mains":40,"mains_hz":60,"seed":8}]'
}

@test "bad options: SNR out of range, not a number, no noise, conflicting modes" {
	for a in "--bw 60.5" "--emg -10.01" "--snr 61 --kind bw" "--mains 1e3"; do
		set -- $a
		run --separate-stderr ecg-noise -o out.ecgz $a syn.ecgz
		assert_failure 1
		[ -z "$output" ]
		[[ "$stderr" == "ecg-noise: $1: out of range [-10, 60]: "* ]] || [[ "$stderr" == "ecg-noise: --snr: out of range [-10, 60]: 61" ]]
		[ ! -e out.ecgz ]; refute_leftovers .
	done
	run --separate-stderr ecg-noise --bw loud syn.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: --bw: not a number: loud"
	[ -z "$output" ]
	run --separate-stderr ecg-noise syn.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: no noise to add (--bw, --emg, --mains, --em, or --kind and --snr)"
	run --separate-stderr ecg-noise --kind bw syn.ecgz
	assert_equal "$stderr" "ecg-noise: --kind: no --snr for the mix"
	run --separate-stderr ecg-noise --snr 3 syn.ecgz
	assert_equal "$stderr" "ecg-noise: --snr: no --kind to mix"
	run --separate-stderr ecg-noise --kind bw --snr 3 --emg 4 syn.ecgz
	assert_equal "$stderr" "ecg-noise: --kind and --snr: not with --bw, --emg, --mains or --em"
	run --separate-stderr ecg-noise --kind bw,hum --snr 3 syn.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: --kind: unknown noise hum (bw, emg, mains, em, all)"
	run --separate-stderr ecg-noise --mains 3 --mains-hz 55 syn.ecgz
	assert_equal "$stderr" "ecg-noise: --mains-hz: not 50 or 60: 55"
	run --separate-stderr ecg-noise -s -1 --bw 3 syn.ecgz
	assert_failure 1
	[[ "$stderr" == "ecg-noise: --seed: out of range"* ]]
}

@test "usage: -h and --help on stdout, unknown options on stderr with exit 2, --version" {
	run --separate-stderr ecg-noise -h
	assert_success
	[[ "$output" == "usage: ecg-noise [-f] [-o file] [-s seed] [--bw dB] "* ]]
	[ -z "$stderr" ]
	run --separate-stderr ecg-noise --help
	assert_success
	[[ "$output" == "usage: ecg-noise "* ]]
	run --separate-stderr ecg-noise --loud 3 syn.ecgz
	assert_failure 2
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "ecg-noise: unknown option '--loud'" ]
	[[ "$stderr" == *$'\n'"usage: ecg-noise "* ]]
	run --separate-stderr ecg-noise --bw
	assert_failure 2
	[ "${stderr%%$'\n'*}" = "ecg-noise: option '--bw' needs an argument" ]
	run --separate-stderr ecg-noise --bw 3 a b
	assert_failure 2
	run --separate-stderr ecg-noise --version
	assert_success
	assert_output "ecg-noise (merit) 0.2"
	# long names of the shared options
	ecg-noise --seed 3 --force --output o.ecgz --emg 9 syn.ecgz
	ecg-noise -s 3 -o p.ecgz --emg 9 syn.ecgz
	cmp o.ecgz p.ecgz
}

@test "bad records: no id, no fs, noise twice, unknown lead, mains at or above Nyquist" {
	sed -n 1p syn.jsonl | jq -c 'del(.id)' | ecg-pack > a.ecgz
	run --separate-stderr ecg-noise --bw 3 -o out.ecgz a.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: a.ecgz: record 1: no string field id (the noise is drawn from it)"
	[ ! -e out.ecgz ]; refute_leftovers .
	sed -n 1p syn.jsonl | jq -c 'del(.fs)' | ecg-pack > b.ecgz
	run --separate-stderr ecg-noise --bw 3 b.ecgz
	assert_equal "$stderr" "ecg-noise: b.ecgz: record 1: no positive number field fs (the sampling rate)"
	ecg-noise --bw 3 syn.ecgz > once.ecgz
	run --separate-stderr ecg-noise --emg 3 -o out.ecgz once.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: once.ecgz: record 1: already has noise (a field noise)"
	[ ! -e out.ecgz ]
	sed -n 1p syn.jsonl | jq -c '.leads[3] = "MLII"' | ecg-pack > c.ecgz
	run --separate-stderr ecg-noise --bw 3 c.ecgz
	assert_equal "$stderr" "ecg-noise: c.ecgz: record 1: lead MLII is not one of the 12 standard leads"
	sed -n 1p syn.jsonl | jq -c '.missing = ["V7"]' | ecg-pack > d.ecgz
	run --separate-stderr ecg-noise --bw 3 d.ecgz
	assert_equal "$stderr" "ecg-noise: d.ecgz: record 1: missing lead V7 is not in leads"
	sed -n 1p syn.jsonl | jq -c '.sig.shape = [6, 10000] | del(.leads) | .gain = .gain[0:6] | .baseline = .baseline[0:6]' | ecg-pack > e.ecgz
	run --separate-stderr ecg-noise --bw 3 e.ecgz
	assert_equal "$stderr" "ecg-noise: e.ecgz: record 1: no field leads naming the 6 rows of sig"
	ecg-synth -n 1 --fs 100 | ecg-noise --bw 3 --emg 3 > /dev/null
	ecg-synth -n 1 --fs 100 > f.ecgz
	run --separate-stderr ecg-noise --mains 10 -o out.ecgz f.ecgz
	assert_failure 1
	assert_equal "$stderr" "ecg-noise: f.ecgz: record 1: mains at 50 Hz needs a sampling rate above 100 Hz (fs is 100)"
	[ ! -e out.ecgz ]; refute_leftovers .
	echo '{"id":"x","fs":500.0}' | ecg-pack > g.ecgz
	run --separate-stderr ecg-noise --bw 3 g.ecgz
	assert_equal "$stderr" "ecg-noise: g.ecgz: record 1: no field sig of shape [leads, samples] (1 to 64 leads)"
}

@test "-h, --help and an unknown option, as every filter answers them" {
	check_help_and_bad_option ecg-noise
}
