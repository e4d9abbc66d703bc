#!/usr/bin/env python3
"""Print keytrail's precision, recall and F1 on a CredData-style corpus.

    accuracy.py --labels LABELS --scorer score_creddata.py FINDINGS.json [--default LEVEL]

FINDINGS.json is a `keytrail scan --format json --min-confidence low` report.
The scorer (the corpus's own score_creddata.py) is run once per confidence
level on the findings at or above it; per-category precision is TP / (TP +
FP) over the spans of that category (CredData's "A:B" categories count for
both). Only the Python standard library is used.
"""
import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys
import tempfile

LEVELS = ("low", "medium", "high")
RANK = {l: i for i, l in enumerate(LEVELS)}


def score(scorer, labels, findings, tmp, root=None):
    fpath = os.path.join(tmp, "findings.json")
    jpath = os.path.join(tmp, "score.json")
    lpath = os.path.join(tmp, "list.jsonl")
    with open(fpath, "w", encoding="utf-8") as f:
        json.dump(findings, f)
    cmd = [sys.executable, scorer, "--labels", labels, "--exclude", "UUID",
           "--json", jpath, "--list", lpath, fpath]
    if root:
        cmd[2:2] = ["--root", root]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    res = json.load(open(jpath, encoding="utf-8"))
    fp_cat = collections.Counter()
    for line in open(lpath, encoding="utf-8"):
        row = json.loads(line)
        if row["kind"] == "FP":
            for c in row["category"].split(":"):
                if c:
                    fp_cat[c] += 1
    return res, fp_cat


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("findings")
    ap.add_argument("--labels", required=True)
    ap.add_argument("--scorer", required=True)
    ap.add_argument("--default", default="low", choices=LEVELS,
                    help="the confidence level the per-category table is for")
    ap.add_argument("--min-spans", type=int, default=5,
                    help="categories with fewer T spans are summed into 'other'")
    ap.add_argument("--halves", action="store_true",
                    help="also score two halves of the repositories (A: first byte of "
                         "sha1(repo) even, B: odd), to check a change made while looking "
                         "at one half holds on the other")
    args = ap.parse_args()

    all_findings = json.load(open(args.findings, encoding="utf-8")) or []
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lvl in LEVELS:
            fs = [f for f in all_findings if RANK.get(f.get("confidence"), 0) >= RANK[lvl]]
            results[lvl] = score(args.scorer, args.labels, fs, tmp)

    print("Overall, by --min-confidence (UUID spans excluded):")
    print()
    print("| --min-confidence | TP | FP | FN | precision | recall | F1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lvl in LEVELS:
        r, _ = results[lvl]
        mark = " (default)" if lvl == args.default else ""
        print("| %s%s | %d | %d | %d | %.3f | %.3f | %.3f |" % (
            lvl, mark, r["TP"], r["FP"], r["FN"], r["precision"], r["recall"], r["f1"]))
    r, fp_cat = results[args.default]
    print()
    print("By category at --min-confidence %s (T spans; precision over the category's T and F spans):" % args.default)
    print()
    print("| category | T spans | TP | FP | precision | recall | F1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    other = [0, 0, 0, 0]
    cats = r["recall_by_category"]
    for c, v in cats.items():
        tp, tot, fp = v["hit"], v["T"], fp_cat.get(c, 0)
        if tot < args.min_spans or c == "UUID":  # mixed-category UUID spans only
            other = [other[0] + tot, other[1] + tp, other[2] + fp, other[3] + 1]
            continue
        p, rc, f = prf(tp, fp, tot - tp)
        print("| %s | %d | %d | %d | %.3f | %.3f | %.3f |" % (c, tot, tp, fp, p, rc, f))
    if other[3]:
        p, rc, f = prf(other[1], other[2], other[0] - other[1])
        print("| other (%d categories) | %d | %d | %d | %.3f | %.3f | %.3f |" % (
            other[3], other[0], other[1], other[2], p, rc, f))
    print()
    print("X spans flagged (not scored): %d/%d; unlabelled lines flagged: %d" % (
        r["X_spans_flagged"], r["spans"]["X"], r["unlabelled_lines_flagged"]))
    if args.halves:
        print_halves(args, all_findings)
    return 0


def print_halves(args, all_findings):
    root = os.path.join(os.path.dirname(os.path.abspath(args.labels)), "files")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {h: os.path.join(tmp, "labels_%s.jsonl" % h) for h in "AB"}
        outs = {h: open(p, "w", encoding="utf-8") for h, p in paths.items()}
        for line in open(args.labels, encoding="utf-8"):
            if line.strip():
                repo = json.loads(line).get("repo") or ""
                h = "A" if hashlib.sha1(repo.encode()).digest()[0] % 2 == 0 else "B"
                outs[h].write(line)
        for f in outs.values():
            f.close()
        print()
        print("By half of the repositories (A: sha1(repo)[0] even, B: odd):")
        print()
        print("| half | --min-confidence | TP | FP | FN | precision | recall | F1 |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for h in "AB":
            for lvl in LEVELS:
                fs = [f for f in all_findings if RANK.get(f.get("confidence"), 0) >= RANK[lvl]]
                r, _ = score(args.scorer, paths[h], fs, tmp, root)
                print("| %s | %s | %d | %d | %d | %.3f | %.3f | %.3f |" % (
                    h, lvl, r["TP"], r["FP"], r["FN"], r["precision"], r["recall"], r["f1"]))


if __name__ == "__main__":
    sys.exit(main())
