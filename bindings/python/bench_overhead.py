"""Per-call overhead of the Python binding (issue 12, "Must show"), measured side by side in one
run on one model and one set of texts:

  C++         Model::Probabilities + Decide (k=1) on one Session   (bench/capi_bench)
  C API       fi_model_classify (k=1) through libfastintent.so     (bench/capi_bench)
  Python      model.predict(text)                                  (this process)
  batch       model.predict_batch(texts), per text, vs the C++ loop over the same texts
  fastText    fasttext's own Python binding, model.predict(text), trained on the same data
              (Debian's python3-fasttext belongs to /usr/bin/python3, so that part runs there
              as a subprocess; PyPI's fasttext in this interpreter is used when importable)

Every figure is the best of --rounds rounds over all texts (the first round warms up).

    python bench_overhead.py --model clinc.fim --texts ../shared/data/clinc150/test.jsonl \\
        --train ../shared/data/clinc150/train.jsonl --capi-bench build/release/bench/capi_bench
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import fastintent

# Runs in the interpreter that has fasttext: trains on the fastText-format file argv[1] (the
# same training data), then times model.predict per text over the texts in argv[2] (JSON
# list), best of argv[3] rounds. Prints {"ns_per_text": ..., "version": ...}.
FASTTEXT_CODE = r"""
import json, sys, time
import fasttext
train, texts_file, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = json.load(open(texts_file))
model = fasttext.train_supervised(train, epoch=25, lr=0.5, wordNgrams=2, verbose=0, thread=2)
best = float("inf")
for r in range(rounds + 1):
    t = time.perf_counter_ns()
    for text in texts:
        model.predict(text)
    if r:
        best = min(best, (time.perf_counter_ns() - t) / len(texts))
print(json.dumps({"ns_per_text": best, "module": fasttext.__file__}))
"""


def read_texts(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def best_ns(fn, calls: int, rounds: int) -> float:
    best = float("inf")
    for r in range(rounds + 1):
        t = time.perf_counter_ns()
        fn()
        if r:
            best = min(best, (time.perf_counter_ns() - t) / calls)
    return best


def run_capi_bench(binary: str, model: str, texts: str, rounds: int) -> Dict[str, float]:
    out = subprocess.run([binary, model, texts, "--rounds", str(rounds)], check=True,
                         capture_output=True, text=True).stdout
    figures = {}
    for key, pattern in (("cpp", r"C\+\+ Probabilities \+ Decide\s+([\d.]+)"),
                         ("capi", r"C API fi_model_classify\s+([\d.]+)")):
        m = re.search(pattern, out)
        if not m:
            raise SystemExit(f"capi_bench: unexpected output:\n{out}")
        figures[key] = float(m.group(1))
    return figures


def run_fasttext(train_jsonl: str, texts: List[str], rounds: int) -> Optional[Dict[str, object]]:
    """fastText's Python binding, or None with the reason printed when none can be run."""
    candidates = []
    try:
        import fasttext  # noqa: F401  (PyPI's, in this interpreter)
        candidates.append(sys.executable)
    except ImportError:
        pass
    candidates.append("/usr/bin/python3")
    with tempfile.TemporaryDirectory() as tmp:
        train_txt = os.path.join(tmp, "train.txt")
        with open(train_jsonl, encoding="utf-8") as f, open(train_txt, "w", encoding="utf-8") as o:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    text = " ".join(row["text"].split())
                    o.write(f"__label__{row['label']} {text}\n")
        texts_file = os.path.join(tmp, "texts.json")
        with open(texts_file, "w", encoding="utf-8") as o:
            json.dump([" ".join(t.split()) for t in texts], o)
        for python in candidates:
            if not os.path.exists(python):
                continue
            proc = subprocess.run([python, "-c", FASTTEXT_CODE, train_txt, texts_file,
                                   str(rounds)], capture_output=True, text=True)
            if proc.returncode == 0:
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                result["python"] = python
                return result
            print(f"fastText via {python}: {proc.stderr.strip().splitlines()[-1:]}",
                  file=sys.stderr)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True, help="JSON Lines with a text field (test split)")
    ap.add_argument("--train", required=True, help="the model's training data (for fastText)")
    ap.add_argument("--capi-bench", required=True, help="path of bench/capi_bench")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()

    texts = read_texts(args.texts)
    n = len(texts)
    model = fastintent.Model.load(args.model)
    native = run_capi_bench(args.capi_bench, args.model, args.texts, args.rounds)

    def predict_all() -> None:
        predict = model.predict
        for text in texts:
            predict(text)

    py_ns = best_ns(predict_all, n, args.rounds)
    batch_ns = best_ns(lambda: model.predict_batch(texts), n, args.rounds)
    ft = run_fasttext(args.train, texts, args.rounds)

    cpp = native["cpp"]
    print(f"{n} texts from {args.texts}, model {args.model} ({len(model.labels)} labels), "
          f"best of {args.rounds} rounds; {fastintent.LIBRARY_VERSION}")
    print(f"{'path':44s} {'ns/text':>10s} {'vs C++':>10s}")
    rows = [("C++ Probabilities + Decide (capi_bench)", cpp),
            ("C API fi_model_classify (capi_bench)", native["capi"]),
            ("Python model.predict(text)", py_ns),
            ("Python model.predict_batch(texts), per text", batch_ns)]
    for name, ns in rows:
        print(f"{name:44s} {ns:10.1f} {ns - cpp:+10.1f}")
    print(f"C API overhead: {native['capi'] - cpp:+.1f} ns/call (target <= +50)")
    print(f"Python predict overhead: {py_ns - cpp:+.1f} ns/call (target <= +1000)")
    print(f"predict_batch / C++ loop: {batch_ns / cpp:.3f}x (target <= 1.25x)")
    if ft is None:
        print("fastText Python binding: not available (see stderr)")
    else:
        ns = float(ft["ns_per_text"])
        print(f"{'fastText model.predict(text) (' + os.path.basename(str(ft['python'])) + ')':44s} "
              f"{ns:10.1f}")
        print(f"fastText predict / fastintent predict: {ns / py_ns:.1f}x (target >= 10x); "
              f"fasttext from {ft['module']} run by {ft['python']}")


if __name__ == "__main__":
    main()
