#!/usr/bin/env python3
"""Proves `fastintent export --format onnx` outside fastintent's code (issue 14).

Trains a small CLINC150 model, exports it to ONNX, checks it with onnx.checker, runs it in ONNX
Runtime (PyPI, pinned in requirements.txt) on the `fastintent featurize` output of the first
--count CLINC150 test texts, and compares with `fastintent predict --json` probabilities: the
same top label for every text and every probability within --tol.

Runs itself in a venv (--venv, built from requirements.txt when missing); exits 77 (CTest's skip
code) when the venv cannot be built, e.g. offline, or the data is absent.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def ensure_venv(venv):
    """Re-executes this script under the venv's python, building the venv first if needed."""
    py = os.path.join(venv, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if not os.path.exists(os.path.join(venv, ".complete")):
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([py, "-m", "pip", "install", "-q", "-r",
                            os.path.join(HERE, "requirements.txt")], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"SKIP: cannot build the venv {venv}: {e}")
            sys.exit(SKIP)
        open(os.path.join(venv, ".complete"), "w").close()
    os.execv(py, [py] + sys.argv)


def run(cmd, stdin=None):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}: {r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fastintent", required=True)
    ap.add_argument("--data", required=True, help="the clinc150 folder")
    ap.add_argument("--venv", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--model", help="use this model instead of training one")
    args = ap.parse_args()
    ensure_venv(args.venv)

    import numpy as np
    import onnx
    import onnxruntime as ort

    test = os.path.join(args.data, "test.jsonl")
    if not os.path.exists(test):
        print(f"SKIP: {test} is absent")
        sys.exit(SKIP)
    with open(test) as f:
        texts = [json.loads(line)["text"] for line in f][: args.count]

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            model = os.path.join(tmp, "clinc.fim")
            run([args.fastintent, "train", os.path.join(args.data, "train.jsonl"), "--valid",
                 os.path.join(args.data, "valid.jsonl"), "-o", model, "--hidden", "64,32",
                 "--epochs", "2", "--buckets", "262144", "--quiet"])
        out = os.path.join(tmp, "clinc.onnx")
        run([args.fastintent, "export", "--format", "onnx", model, "-o", out])
        proto = onnx.load(out)
        onnx.checker.check_model(proto, full_check=True)
        meta = {p.key: p.value for p in proto.metadata_props}
        labels = json.loads(meta["labels"])

        stdin = "\n".join(texts) + "\n"
        feats = [json.loads(l) for l in run([args.fastintent, "featurize", "-m", model],
                                            stdin).splitlines()]
        preds = [json.loads(l) for l in run([args.fastintent, "predict", "-m", model, "--json",
                                             "-k", str(len(labels)), "--threshold", "0"],
                                            stdin).splitlines()]
        assert len(feats) == len(preds) == len(texts), (len(feats), len(preds), len(texts))

        sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        size = feats[0]["size"]
        max_diff, top_mismatch, batch = 0.0, 0, 100
        for start in range(0, len(texts), batch):
            chunk = feats[start:start + batch]
            x = np.zeros((len(chunk), size), dtype=np.float32)
            for i, f in enumerate(chunk):
                assert f["text"] == texts[start + i]
                x[i, f["indices"]] = f["values"]
            probs = sess.run(["probabilities"], {"features": x})[0]
            for i, p in enumerate(probs):
                want = np.zeros(len(labels), dtype=np.float64)
                pred = preds[start + i]
                for ls in pred["labels"]:
                    want[labels.index(ls["label"])] = ls["prob"]
                max_diff = max(max_diff, float(np.max(np.abs(p - want))))
                if labels[int(np.argmax(p))] != pred["labels"][0]["label"]:
                    top_mismatch += 1
        print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}: {len(texts)} texts, "
              f"{size} input rows, {len(labels)} labels: max |p_onnx - p_fastintent| = "
              f"{max_diff:.3g}, top-1 mismatches = {top_mismatch}")
        if max_diff >= args.tol or top_mismatch:
            sys.exit("FAIL")


if __name__ == "__main__":
    main()
