#!/usr/bin/env python3
"""Counts test cases of one or more meson build directories and prints `N passed, N failed`.

    summarize.py BUILD_DIR [BUILD_DIR...]

A Boost.Test executable counts as its test cases: it writes an XML report (the test() in
test/meson.build sets BOOST_TEST_REPORT_* in its environment) whose top suite carries
test_cases_passed / test_cases_failed / test_cases_aborted. Every other meson test (examples,
compile-fail cases, header checks) counts as one case. An executable that meson saw fail while its
report shows no failed case (a crash after the report, a sanitizer report at exit, a timeout, no
report at all) adds one failed case, so nothing that failed is lost in the count. A meson test that
skipped (exit code 77: e.g. an optional tool is missing) is neither passed nor failed: it is
counted and listed as skipped, on a line before the last.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

GOOD = {"OK", "EXPECTEDFAIL"}


def count(build):
    passed = failed = 0
    failures = []
    skipped = []
    log = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        return 0, 1, [f"{build}: no test log (the build or the test run did not happen)"], []
    with open(log) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    for r in runs:
        if r["result"] == "SKIP":
            skipped.append(f"{build}: {r['name']}")
            continue
        ok = r["result"] in GOOD
        report = (r.get("env") or {}).get("BOOST_TEST_REPORT_SINK")
        p = fl = 0
        if report and os.path.exists(report):
            try:
                top = ET.parse(report).getroot().find("TestSuite")
                p = int(top.get("test_cases_passed", 0))
                fl = int(top.get("test_cases_failed", 0)) + int(top.get("test_cases_aborted", 0))
            except (ET.ParseError, AttributeError, ValueError):
                p, fl = 0, 0
            if not ok and fl == 0:
                fl = 1
        else:
            p, fl = (1, 0) if ok else (0, 1)
        passed += p
        failed += fl
        if fl:
            failures.append(f"{build}: {r['name']} ({r['result']}, {fl} failed)")
    return passed, failed, failures, skipped


def main():
    total_p = total_f = 0
    all_failures = []
    all_skipped = []
    for build in sys.argv[1:]:
        p, f, failures, skipped = count(build)
        print(f"{build}: {p} passed, {f} failed, {len(skipped)} skipped")
        all_skipped += skipped
        total_p += p
        total_f += f
        all_failures += failures
    for line in all_skipped:
        print("  skipped:", line)
    for line in all_failures:
        print("  failed:", line)
    if all_skipped:
        print(f"{len(all_skipped)} skipped (not counted below)")
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
