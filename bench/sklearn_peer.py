#!/usr/bin/python3
"""The scikit-learn peer of ../shared/anchors.md, and where its errors meet ours.

    /usr/bin/python3 bench/sklearn_peer.py DATA_DIR [--model MODEL] [--bin FASTINTENT]

DATA_DIR holds train/valid/test.jsonl ({"text", "label"}), e.g. ../shared/data/snips.
Trains LinearSVC on word 1-2 + char_wb 2-5 sublinear TF-IDF (lower-cased) for each C of a
small grid on train, prints validation accuracy per C, picks C on validation only, and prints
its test accuracy. With --model, also runs `fastintent predict --json --threshold 0` on the
test texts and counts the errors each system makes and the ones they share. For CLINC150 the
accuracies are over in-scope examples (gold label not "oos"), as the anchors report them.

Needs Debian's python3-sklearn (apt-get install python3-sklearn), hence /usr/bin/python3.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC


def load(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                texts.append(d["text"])
                labels.append(d["label"])
    return texts, np.array(labels)


def accuracy(pred, gold):
    keep = gold != "oos"
    return 100.0 * float(np.mean(pred[keep] == gold[keep]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--model", help="a fastintent model to compare errors with")
    ap.add_argument("--bin", default="build/release/tools/fastintent", help="the fastintent CLI")
    ap.add_argument("--grid", default="0.1,0.25,0.5,1,2", help="values of C, comma-separated")
    a = ap.parse_args()

    (xtr, ytr), (xva, yva), (xte, yte) = (load(os.path.join(a.data_dir, s + ".jsonl")) for s in ("train", "valid", "test"))
    vec = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
                     TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True))
    tr, va, te = vec.fit_transform(xtr), vec.transform(xva), vec.transform(xte)
    best = None
    for c in (float(x) for x in a.grid.split(",")):
        acc = accuracy(LinearSVC(C=c).fit(tr, ytr).predict(va), yva)
        print(f"LinearSVC C={c:g}: valid {acc:.2f} %")
        if best is None or acc > best[1]:
            best = (c, acc)
    svc_test = LinearSVC(C=best[0]).fit(tr, ytr).predict(te)
    print(f"LinearSVC C={best[0]:g} (chosen on valid): test {accuracy(svc_test, yte):.2f} %")
    if not a.model:
        return 0

    texts = "".join(t.replace("\n", " ").replace("\r", " ") + "\n" for t in xte)
    out = subprocess.run([a.bin, "predict", "-m", a.model, "--json", "--threshold", "0"], input=texts.encode(),
                         stdout=subprocess.PIPE, check=False).stdout.decode().splitlines()
    if len(out) != len(xte):
        sys.exit(f"predict answered {len(out)} lines for {len(xte)} texts")
    ours = np.array([(json.loads(l)["labels"] or [{"label": ""}])[0]["label"] for l in out])
    keep = yte != "oos"
    ours_wrong = (ours != yte) & keep
    svc_wrong = (svc_test != yte) & keep
    print(f"fastintent {a.model}: test {accuracy(ours, yte):.2f} %")
    print(f"test errors: fastintent {int(ours_wrong.sum())}, LinearSVC {int(svc_wrong.sum())}, "
          f"both {int((ours_wrong & svc_wrong).sum())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
