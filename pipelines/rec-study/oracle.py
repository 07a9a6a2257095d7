#!/usr/bin/python3
"""L_rec references for the reconstruction study (docs/rec-study.md).

Reads `ecg-dump -a` JSON lines of masked records (from ecg-mask, and from
`ecg-encode --recon` when --model is given) and prints one JSON object:

  patches     masked, non-missing patches scored
  zero        L_rec of predicting 0 (the predict-zero floor)
  model       L_rec of the model's `recon` (with --model)
  oracle_pop  L_rec of the best linear predictor of each hidden patch from
              the visible leads at the same time step, with the 12x12 lead
              covariance fitted on --fit records (achievable: it learns from
              training data only)
  oracle_rec  the same with each record's own lead covariance (an oracle: it
              knows the record's lead geometry, not its hidden samples)

Targets as merit-step computes them (../shared/MODEL.md): leads normalised
by (x - mean) / (std + 1e-6); with --target norm each patch normalised the
same way (the predictions too), with --target raw the lead-normalised patch.
"""
import argparse
import json
import sys

import numpy as np

EPS = 1e-6


def records(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def tensor(t):
    return np.asarray(t["data"], dtype=np.float64).reshape(t["shape"])


def lead_normalised(r):
    """The record's leads in mV, normalised per lead; missing leads zero."""
    sig = tensor(r["sig"])
    if r["sig"]["dtype"] != "float32":
        gain = np.asarray(r.get("gain", [1000.0] * sig.shape[0]), dtype=np.float64)
        base = np.asarray(r.get("baseline", [0] * sig.shape[0]), dtype=np.float64)
        sig = (sig - base[:, None]) / gain[:, None]
    miss = set(r.get("missing", []))
    names = r["leads"]
    x = np.zeros_like(sig)
    for l in range(sig.shape[0]):
        if names[l] in miss:
            continue
        v = sig[l]
        fin = np.isfinite(v)
        if not fin.any():
            continue
        m = v[fin].mean()
        s = v[fin].std()
        x[l] = np.where(fin, (v - m) / (s + EPS), 0.0)
    present = np.array([n not in miss for n in names])
    return x, present


def patch_norm(p):
    return (p - p.mean(axis=-1, keepdims=True)) / (p.std(axis=-1, keepdims=True) + EPS)


def predict(cov, vis, hid, xv):
    """Conditional mean of the hidden leads given the visible ones."""
    if not vis:
        return np.zeros((len(hid), xv.shape[1]))
    svv = cov[np.ix_(vis, vis)] + 1e-6 * np.eye(len(vis))
    shv = cov[np.ix_(hid, vis)]
    return shv @ np.linalg.solve(svv, xv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("masked", help="ecg-dump -a of the masked evaluation records")
    ap.add_argument("--fit", help="ecg-dump -a of training records for oracle_pop")
    ap.add_argument("--patch", type=int, default=50)
    ap.add_argument("--target", choices=("norm", "raw"), default="norm")
    ap.add_argument("--model", action="store_true", help="score the records' recon")
    a = ap.parse_args()

    cov_pop = None
    if a.fit:
        acc = np.zeros((12, 12))
        n = 0
        for r in records(a.fit):
            x, _ = lead_normalised(r)
            acc += x @ x.T
            n += x.shape[1]
        cov_pop = acc / max(n, 1)

    sums = {"zero": 0.0, "model": 0.0, "oracle_pop": 0.0, "oracle_rec": 0.0}
    count = 0
    P = a.patch
    for r in records(a.masked):
        x, present = lead_normalised(r)
        mask = tensor(r["mask"]).astype(bool)          # [leads, NT], 1 = hidden
        nt = mask.shape[1]
        rec = tensor(r["recon"]) if a.model else None
        cov_rec = x @ x.T / x.shape[1]
        for t in range(nt):
            sl = slice(t * P, (t + 1) * P)
            hid = [l for l in range(12) if mask[l, t] and present[l]]
            vis = [l for l in range(12) if not mask[l, t] and present[l]]
            if not hid:
                continue
            tgt = x[hid, sl]
            if a.target == "norm":
                tgt = patch_norm(tgt)
            preds = {"zero": np.zeros_like(tgt)}
            if a.model:
                preds["model"] = rec[hid, sl]
            preds["oracle_rec"] = predict(cov_rec, vis, hid, x[vis, sl])
            if cov_pop is not None:
                preds["oracle_pop"] = predict(cov_pop, vis, hid, x[vis, sl])
            for k, p in preds.items():
                if a.target == "norm" and k.startswith("oracle"):
                    p = patch_norm(p)
                sums[k] += float(((p - tgt) ** 2).mean(axis=1).sum())
            count += len(hid)
    out = {"patches": count, "target": a.target}
    for k, v in sums.items():
        if k == "model" and not a.model or k == "oracle_pop" and cov_pop is None:
            continue
        out[k] = round(v / max(count, 1), 6)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
