#!/usr/bin/env python3
"""Build the fastintent assistant routing dataset from its hand-written sources.

Sources: data/assistant/src/*.txt (UTF-8). Format, one item per line:

    # comment                      ignored, as are blank lines
    @ vision,voice                 sets the labels for the lines that follow
    @ -                            empty label set (the command needs no component)
    look at this error and read the fix out loud
    vision,voice | read my screen to me   per-line override: "<labels> | <text>"

The per-line override form is only recognised when everything before the first
" | " is a comma-separated list of known component names (or "-").

Validation (any failure exits non-zero and writes nothing):
  * every label is a component in components.json, no label repeated in one line
  * every text is valid UTF-8, has no tab/control characters, 1..25 words
  * no text occurs twice, compared case-insensitively with whitespace collapsed
    and trailing punctuation ignored
  * every file sets labels before its first text

Split: deterministic and stratified. Items are grouped by their exact label set;
inside a group they are ordered by SHA-1 of the normalised text, and the first
round(VALID_FRACTION * n) of them (at least one when n >= 3) go to valid. The
output files are written in SHA-1 order too, so they are shuffled but stable.
Adding one sentence moves at most one other sentence of its group between splits.

Usage:
    /usr/bin/python3 data/assistant/build.py            # validate + write train/valid
    /usr/bin/python3 data/assistant/build.py --check    # validate, verify outputs up to date
    /usr/bin/python3 data/assistant/build.py --stats    # also print markdown count tables
"""
import argparse
import hashlib
import json
import os
import re
import sys
import unicodedata
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.path.join(HERE, "src")
REGISTRY = os.path.join(HERE, "components.json")
TRAIN = os.path.join(HERE, "train.jsonl")
VALID = os.path.join(HERE, "valid.jsonl")
VALID_FRACTION = 0.11
MAX_WORDS = 25


def load_components():
    with open(REGISTRY, encoding="utf-8") as f:
        reg = json.load(f)
    names = [c["name"] for c in reg["components"]]
    if len(set(names)) != len(names):
        sys.exit("components.json: duplicate component name")
    return names


def norm_key(text):
    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"\s+", " ", t).strip()
    return t.rstrip(" .!?,;:…")


def parse_labels(spec, known, where, errors):
    spec = spec.strip()
    if spec in ("-", ""):
        return ()
    labels = [s.strip() for s in spec.split(",")]
    bad = [l for l in labels if l not in known]
    if bad:
        errors.append(f"{where}: unknown label(s) {bad}")
        return None
    if len(set(labels)) != len(labels):
        errors.append(f"{where}: repeated label in {spec!r}")
        return None
    order = {n: i for i, n in enumerate(known)}
    return tuple(sorted(labels, key=order.__getitem__))


def is_label_spec(s, known):
    s = s.strip()
    return s == "-" or all(p.strip() in known for p in s.split(",")) and s != ""


def read_sources(known):
    errors = []
    items = []  # (text, labels, where)
    files = sorted(f for f in os.listdir(SRC_DIR) if f.endswith(".txt"))
    if not files:
        sys.exit(f"no sources in {SRC_DIR}")
    for fn in files:
        path = os.path.join(SRC_DIR, fn)
        raw = open(path, "rb").read()
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.append(f"{fn}: not valid UTF-8 ({e})")
            continue
        current = None
        for ln, line in enumerate(content.splitlines(), 1):
            where = f"{fn}:{ln}"
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if s.startswith("@"):
                current = parse_labels(s[1:], known, where, errors)
                continue
            labels = current
            text = s
            if " | " in s:
                head, tail = s.split(" | ", 1)
                if is_label_spec(head, known):
                    labels = parse_labels(head, known, where, errors)
                    text = tail.strip()
            if labels is None:
                errors.append(f"{where}: no labels set before text")
                continue
            if "\t" in text or any(unicodedata.category(ch) == "Cc" for ch in text):
                errors.append(f"{where}: control character in text")
            n_words = len(text.split())
            if not 1 <= n_words <= MAX_WORDS:
                errors.append(f"{where}: {n_words} words (allowed 1..{MAX_WORDS}): {text!r}")
            items.append((text, labels, where))
    seen = {}
    for text, labels, where in items:
        k = norm_key(text)
        if k in seen:
            errors.append(f"{where}: duplicate of {seen[k]}: {text!r}")
        else:
            seen[k] = where
    if errors:
        for e in errors:
            print("error:", e, file=sys.stderr)
        sys.exit(f"{len(errors)} error(s); nothing written")
    return items


def h(text):
    return hashlib.sha1(norm_key(text).encode("utf-8")).hexdigest()


def split(items):
    groups = defaultdict(list)
    for text, labels, _ in items:
        groups[labels].append(text)
    train, valid = [], []
    for labels, texts in groups.items():
        texts.sort(key=h)
        n = len(texts)
        k = round(VALID_FRACTION * n)
        if n >= 3:
            k = max(k, 1)
        valid += [(t, labels) for t in texts[:k]]
        train += [(t, labels) for t in texts[k:]]
    train.sort(key=lambda x: h(x[0]))
    valid.sort(key=lambda x: h(x[0]))
    return train, valid


def render(rows):
    return "".join(
        json.dumps({"text": t, "labels": list(l)}, ensure_ascii=False) + "\n" for t, l in rows
    )


def stats_md(known, train, valid):
    out = ["| label | train (all) | train (single-label) | valid (all) | valid (single-label) |",
           "|---|---:|---:|---:|---:|"]
    for name in known:
        def cnt(rows, single):
            return sum(1 for _, l in rows if name in l and (not single or len(l) == 1))
        out.append(f"| {name} | {cnt(train, False)} | {cnt(train, True)} | "
                   f"{cnt(valid, False)} | {cnt(valid, True)} |")
    out.append("")
    out.append("| number of labels | train | valid |")
    out.append("|---|---:|---:|")
    ct = Counter(len(l) for _, l in train)
    cv = Counter(len(l) for _, l in valid)
    for k in sorted(set(ct) | set(cv)):
        out.append(f"| {k} | {ct[k]} ({100*ct[k]/len(train):.1f}%) | "
                   f"{cv[k]} ({100*cv[k]/len(valid):.1f}%) |")
    out.append(f"| total | {len(train)} | {len(valid)} |")
    out.append("")
    out.append("| label combination (multi-label) | train | valid |")
    out.append("|---|---:|---:|")
    mt = Counter(l for _, l in train if len(l) > 1)
    mv = Counter(l for _, l in valid if len(l) > 1)
    for combo, _ in sorted((mt + mv).items(), key=lambda x: (-x[1], x[0])):
        out.append(f"| {' + '.join(combo)} | {mt[combo]} | {mv[combo]} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="do not write; fail if outputs are stale")
    ap.add_argument("--stats", action="store_true", help="print markdown count tables")
    args = ap.parse_args()

    known = load_components()
    items = read_sources(known)
    train, valid = split(items)
    missing = [n for n in known if not any(n in l for _, l in valid)]
    if missing:
        sys.exit(f"labels missing from valid: {missing}")
    t_txt, v_txt = render(train), render(valid)
    if args.check:
        stale = [p for p, txt in ((TRAIN, t_txt), (VALID, v_txt))
                 if not os.path.exists(p) or open(p, encoding="utf-8").read() != txt]
        if stale:
            sys.exit(f"stale: {stale}; run build.py")
    else:
        for p, txt in ((TRAIN, t_txt), (VALID, v_txt)):
            with open(p, "w", encoding="utf-8", newline="\n") as f:
                f.write(txt)
    print(f"{len(items)} sentences from {SRC_DIR}: train {len(train)}, valid {len(valid)}")
    if args.stats:
        print(stats_md(known, train, valid))


if __name__ == "__main__":
    main()
