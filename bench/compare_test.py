#!/usr/bin/python3
"""CTest for bench/compare.py and bench/fasttext_peer on a tiny synthetic task.

    compare_test.py --bin FASTINTENT --peer FASTTEXT_PEER

Trains a small fastintent model, runs compare.py --json (fastText trained in-process by the
peer), and checks that both sides report the fields the table is built from under the same
names, with sane values, and that the peer refuses test data with a label its model lacks.
Registered only where the peer is built (Debian's libfasttext-dev installed).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INTENTS = {
    "weather": ["what's the weather", "will it rain", "show the forecast", "is it going to be sunny",
                "how cold is it outside", "do i need an umbrella", "will it snow", "how windy is it"],
    "music": ["play some jazz", "put on my playlist", "skip this song", "play the new album",
              "shuffle my music", "play something relaxing", "turn the music up", "next track"],
    "alarm": ["set an alarm", "wake me up early", "snooze the alarm", "cancel my alarm",
              "set an alarm for six", "change my wake up time", "turn off the alarm", "ring an alarm"],
}
FRAMES = ["{}", "{} tonight", "please {} now"]
FIELDS = ["accuracy", "featurize_p50_us", "single_p50_us", "single_p90_us", "single_p99_us",
          "single_mean_us", "batch_per_s_1t", "batch_per_s_2t", "peak_rss_mb", "timer_overhead_ns",
          "model_mb"]

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--peer", required=True)
    a = ap.parse_args()
    rows = [(frame.format(p), label) for label, phrases in INTENTS.items() for p in phrases for frame in FRAMES]
    with tempfile.TemporaryDirectory(prefix="compare-test-") as tmp:
        data = os.path.join(tmp, "intents.jsonl")
        write_jsonl(data, rows)
        model = os.path.join(tmp, "intents.fim")
        code, _, err = run([a.bin, "train", data, "-o", model, "--valid", data, "--hidden", "16",
                            "--epochs", "8", "--patience", "2", "--threads", "1", "--buckets", "65536",
                            "--lr", "0.1", "--dropout", "0.1", "-q"])
        if code != 0:
            sys.exit(f"fastintent train failed: {err}")

        code, out, err = run([sys.executable, os.path.join(HERE, "compare.py"), data, "--model", model,
                              "--train", data, "--settings", "-dim 10 -epoch 20 -thread 1",
                              "--seconds", "0.05", "--bin", a.bin, "--peer", a.peer, "--json"])
        if code != 0:
            sys.exit(f"compare.py failed: {err}")
        j = json.loads(out)
        ours, theirs, adv = j["fastintent"], j["fasttext"], j["fastintent_advantage"]
        for side, d in (("fastintent", ours), ("fasttext", theirs)):
            for key in FIELDS:
                check(isinstance(d.get(key), (int, float)), f"{side}: {key} missing or not a number")
            check(d.get("examples") == len(rows), f"{side}: examples {d.get('examples')} != {len(rows)}")
            check(0.5 <= d.get("accuracy", 0) <= 1, f"{side}: training-set accuracy {d.get('accuracy')}")
            check(0 < d.get("single_p50_us", 0) <= d.get("single_p90_us", 0) <= d.get("single_p99_us", 0),
                  f"{side}: single-call percentiles out of order")
            check(d.get("batch_per_s_1t", 0) > 0 and d.get("batch_per_s_2t", 0) > 0, f"{side}: no throughput")
        check(theirs.get("train_s", 0) > 0, "fasttext: train_s missing")
        check(theirs.get("settings") == "-dim 10 -epoch 20 -thread 1", "fasttext: settings not passed on")
        r = adv.get("single_p50_us")
        check(isinstance(r, float) and abs(r - theirs["single_p50_us"] / ours["single_p50_us"]) < 1e-9,
              "advantage for single_p50_us is not fastText's p50 / ours")

        # The text table names every row.
        code, out, err = run([sys.executable, os.path.join(HERE, "compare.py"), data, "--model", model,
                              "--train", data, "--settings", "-dim 10 -epoch 5 -thread 1",
                              "--seconds", "0.05", "--bin", a.bin, "--peer", a.peer])
        check(code == 0, f"compare.py (table) failed: {err}")
        for row in ("top-1 accuracy", "single p50 (us)", "batch 2 threads (texts/s)", "fastintent advantage"):
            check(row in out, f"table lacks '{row}': {out}")

        # The peer alone: saving, loading, and refusing labels its model does not know.
        ft = os.path.join(tmp, "ft.bin")
        code, _, err = run([a.peer, "--train", data, "--settings", "-dim 10 -epoch 5 -thread 1", "-o", ft])
        check(code == 0 and os.path.getsize(ft) > 0, f"peer -o failed: {err}")
        other = os.path.join(tmp, "other.jsonl")
        write_jsonl(other, [("make pasta", "cooking")])
        code, _, err = run([a.peer, "--model", ft, other, "--seconds", "0.05"])
        check(code == 1 and "other.jsonl:1: label 'cooking' is not one of the model's labels" in err,
              f"unknown label: exit {code}, {err}")
        code, _, err = run([a.peer, "--model", os.path.join(tmp, "missing.bin"), data])
        check(code == 1 and "missing.bin" in err, f"missing model: exit {code}, {err}")
        code, _, err = run([a.peer, "--model", ft, data, "--seconds", "nan"])
        check(code == 1 and "--seconds" in err, f"--seconds nan: exit {code}, {err}")

    for f in failures:
        print("FAILED:", f)
    print("ok" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
