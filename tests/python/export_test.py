#!/usr/bin/env python3
"""Proves `fastintent export` outside fastintent's code (issue 14).

Trains a small CLINC150 model and feeds the `fastintent featurize` output of the first --count
CLINC150 test texts to its exports, comparing with `fastintent predict --json` probabilities:
the same top label for every text and every probability within --tol.
- ONNX: checked with onnx.checker (full_check), run in ONNX Runtime.
- Core ML: Core ML itself runs only on Apple systems, so it is NOT run here. coremltools parses
  the file (MLModel(path, skip_model_load=True)), the spec's structure is checked (version 4,
  layer chain, input shape, labels, metadata), and a NumPy evaluator applies the layers as the
  Core ML specification defines them (innerProduct W [out][in] + bias, ReLU, softmaxND/sigmoid)
  to the weights as coremltools parsed them.
PyPI packages are pinned in requirements.txt.

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
    with open(os.path.join(HERE, "requirements.txt")) as f:
        wanted = f.read()
    marker = os.path.join(venv, ".requirements")
    if not os.path.exists(marker) or open(marker).read() != wanted:
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([py, "-m", "pip", "install", "-q", "-r",
                            os.path.join(HERE, "requirements.txt")], check=True)
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"SKIP: cannot build the venv {venv}: {e}")
            sys.exit(SKIP)
        with open(marker, "w") as f:
            f.write(wanted)
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

        want_all = np.zeros((len(texts), len(labels)))
        for t, pred in enumerate(preds):
            for ls in pred["labels"]:
                want_all[t, labels.index(ls["label"])] = ls["prob"]
        ok = check_coreml(args.fastintent, model, tmp, feats, want_all, labels, args.tol)

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
        if max_diff >= args.tol or top_mismatch or not ok:
            sys.exit("FAIL")


def check_coreml(fastintent, model, tmp, feats, want, labels, tol):
    """Core ML export: parsed by coremltools, structure checked, evaluated in NumPy."""
    import numpy as np
    import coremltools as ct

    out = os.path.join(tmp, "clinc.mlmodel")
    run([fastintent, "export", "--format", "coreml", model, "-o", out])
    spec = ct.models.MLModel(out, skip_model_load=True).get_spec()
    assert spec.specificationVersion == 4, spec.specificationVersion
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier", spec.WhichOneof("Type")
    nn = spec.neuralNetworkClassifier
    assert list(nn.stringClassLabels.vector) == labels
    assert nn.labelProbabilityLayerName == "probabilities"
    desc = spec.description
    assert [i.name for i in desc.input] == ["features"]
    arr = desc.input[0].type.multiArrayType
    assert list(arr.shape) == [feats[0]["size"]], list(arr.shape)
    assert arr.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    assert desc.predictedFeatureName == "classLabel"
    assert desc.predictedProbabilitiesName == "probabilities"
    assert {o.name: o.type.WhichOneof("Type") for o in desc.output} == {
        "classLabel": "stringType", "probabilities": "dictionaryType"}
    user = dict(desc.metadata.userDefined)
    assert json.loads(user["labels"]) == labels and "featurizer" in user
    chain = [l.WhichOneof("layer") for l in nn.layers]
    assert chain[-1] == "softmaxND" and nn.layers[-1].softmaxND.axis == -1, chain
    print("coremltools", ct.__version__, "parsed the Core ML export; layers:", " -> ".join(
        f"{l.WhichOneof('layer')}" + (f"[{l.innerProduct.outputChannels}x"
                                      f"{l.innerProduct.inputChannels}]"
                                      if l.WhichOneof("layer") == "innerProduct" else "")
        for l in nn.layers))

    # The layers as the Core ML specification defines them, in float64, on all texts at once.
    x = np.zeros((len(feats), feats[0]["size"]))
    for i, f in enumerate(feats):
        x[i, f["indices"]] = f["values"]
    blobs = {"features": x}
    for l in nn.layers:
        kind, src = l.WhichOneof("layer"), blobs[l.input[0]]
        if kind == "innerProduct":
            p = l.innerProduct
            w = np.array(p.weights.floatValue, dtype=np.float64).reshape(
                p.outputChannels, p.inputChannels)
            y = src @ w.T + (np.array(p.bias.floatValue) if p.hasBias else 0)
        elif kind == "activation" and l.activation.WhichOneof("NonlinearityType") == "ReLU":
            y = np.maximum(src, 0)
        elif kind == "activation" and l.activation.WhichOneof("NonlinearityType") == "sigmoid":
            y = 1 / (1 + np.exp(-src))
        elif kind == "softmaxND":
            e = np.exp(src - src.max(axis=l.softmaxND.axis, keepdims=True))
            y = e / e.sum(axis=l.softmaxND.axis, keepdims=True)
        else:
            sys.exit(f"FAIL: unexpected layer {kind}")
        blobs[l.output[0]] = y
    got = blobs[nn.labelProbabilityLayerName]
    diff = float(np.max(np.abs(got - want)))
    top = int(np.sum(np.argmax(got, axis=1) != np.argmax(want, axis=1)))
    print(f"Core ML spec evaluated in NumPy (Core ML itself not run: no Apple system): "
          f"{len(feats)} texts: max |p_coreml_spec - p_fastintent| = {diff:.3g}, "
          f"top-1 mismatches = {top}")
    return diff < tol and top == 0


if __name__ == "__main__":
    main()
