#!/usr/bin/python3
"""man-lint: every manual page formats without a single groff warning, and
its NAME section is one that mandb can index.

    lint.py PAGE...

groff runs with every warning on (-ww), through tbl (-t), for a terminal
(-Tutf8, as man(1) shows the page) and for its default device; any output is
a failure.  lexgrog (man-db) must find "NAME - description" in the page, as
mandb(8) needs for whatis(1) and apropos(1).  Exits 77 (skipped) when groff
or lexgrog is not installed (scripts/install-deps installs them)."""

import os
import shutil
import subprocess
import sys


def run(argv):
    env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="")
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def lint(page):
    problems = []
    for device in (["-Tutf8"], []):
        argv = ["groff", "-man", "-ww", "-z", "-t"] + device + [page]
        status, output = run(argv)
        if status != 0 or output.strip():
            problems.append("%s (exit status %d):\n%s" % (" ".join(argv), status, output))
    status, output = run(["lexgrog", page])
    if status != 0 or " - " not in output:
        problems.append("lexgrog %s (exit status %d): no whatis entry\n%s" % (page, status, output))
    return problems


def main():
    pages = sys.argv[1:]
    if not pages:
        print("usage: lint.py PAGE...", file=sys.stderr)
        return 2
    for tool in ("groff", "lexgrog"):
        if shutil.which(tool) is None:
            print("%s is not installed (groff-base, man-db); skipped" % tool)
            return 77
    failed = False
    for page in pages:
        problems = lint(page)
        for problem in problems:
            print("FAIL %s: %s" % (os.path.basename(page), problem))
        if not problems:
            print("ok %s" % os.path.basename(page))
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
