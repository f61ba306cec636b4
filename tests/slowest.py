#!/usr/bin/env python3
"""Prints the test classes that kept the suite busy longest, from the TRX files dotnet test wrote.

Why: the suite has a 20-minute aim on two cores; this table, printed at the end of every run, shows which class to
batch, split or move to its own collection next, without re-running anything.
Usage: slowest.py RESULTS_DIR [COUNT]
"""
import glob
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def parse_time(text: str) -> datetime:
    # TRX writes seven fractional digits, more than fromisoformat takes before Python 3.11 on every platform.
    head, _, rest = text.partition(".")
    fraction, offset = rest[:7], rest[7:]
    return datetime.fromisoformat(f"{head}.{fraction[:6]}{offset}")


def main() -> int:
    folder = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    classes: dict[str, list] = {}
    for path in glob.glob(f"{folder}/**/*.trx", recursive=True):
        for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", NS):
            name = result.get("testName", "").split("(")[0]
            owner = name.rsplit(".", 1)[0]
            start, end = parse_time(result.get("startTime")), parse_time(result.get("endTime"))
            entry = classes.setdefault(owner, [start, end, 0.0, 0])
            entry[0], entry[1] = min(entry[0], start), max(entry[1], end)
            entry[2] += (end - start).total_seconds()
            entry[3] += 1
    if not classes:
        return 0
    print(f"slowest test classes (span = first start to last end; busy = sum of test durations):")
    ranked = sorted(classes.items(), key=lambda kv: (kv[1][1] - kv[1][0]).total_seconds(), reverse=True)
    for owner, (start, end, busy, tests) in ranked[:count]:
        span = (end - start).total_seconds()
        print(f"  {span:7.1f} s span {busy:7.1f} s busy {tests:4d} tests  {owner.replace('ControlPlane.', '')}")
    # When each long class ran, from the assembly's first test: shows what ran beside what, and which chain of
    # classes (one collection runs its classes one after another) is the critical path of the run.
    long = [(owner, v) for owner, v in classes.items() if (v[1] - v[0]).total_seconds() >= 20]
    if long:
        print("timeline of the classes of 20 s or more (minutes:seconds from the first test of their assembly):")
        firsts: dict[str, datetime] = {}
        for owner, (start, _, _, _) in classes.items():
            assembly = owner.split(".")[1]
            firsts[assembly] = min(firsts.get(assembly, start), start)
        for owner, (start, end, _, _) in sorted(long, key=lambda kv: kv[1][0]):
            origin = firsts[owner.split(".")[1]]
            print(f"  {clock(start - origin)} → {clock(end - origin)}  {owner.replace('ControlPlane.', '')}")
    return 0


def clock(delta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60:3d}:{seconds % 60:02d}"


if __name__ == "__main__":
    sys.exit(main())
