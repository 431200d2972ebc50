#!/usr/bin/python3
"""man-complete: the manual pages document what the built programs offer.

    check-complete.py HOSTDEVD HOSTDEVD_PAGE HOSTDEVCTL HOSTDEVCTL_PAGE

Runs the programs' --help (and 'hostdevctl COMMAND --help' for every command
that 'hostdevctl --help' lists), formats the pages with groff, and fails on
anything one side has and the other lacks:

  hostdevd(8)    every option of 'hostdevd --help' is an item of OPTIONS,
                 and every item of OPTIONS is an option;
  hostdevctl(1)  every command is an item of COMMANDS (and every item there a
                 command, 'help' included); each command's own options are
                 items inside its item and appear in its synopsis, with
                 DEVICE when it takes one; the options every command takes
                 (--no-color, --help) and the tool's own are items of
                 OPTIONS; every exit status of 'hostdevctl --help' is an item
                 of EXIT STATUS;
  both           the version in the page's footer is the program's.

So a new option, command or exit status without documentation fails here,
and so does documentation left behind when one goes.  The pages are read as
formatted text, 200 columns wide so that no item's tag wraps: the tag of a
top-level item starts a paragraph at column 7, the tag of an item inside it
at 14."""

import os
import re
import shutil
import subprocess
import sys

ENV = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="", NO_COLOR="1")
ENV.pop("HOSTDEVD_LOCALEDIR", None)

failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message)


def run(argv):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=ENV, check=False)
    if proc.returncode != 0:
        raise SystemExit("%s: exit status %d\n%s" % (" ".join(argv), proc.returncode,
                                                    proc.stderr.decode("utf-8", "replace")))
    return proc.stdout.decode("utf-8", "replace")


def render(page):
    """The page as man(1) shows it, without bold/underline overstrikes and
    with every kind of dash as '-'."""
    text = run(["groff", "-man", "-t", "-Tutf8", "-P-c", "-rLL=200n", page])
    text = re.sub(r".\x08", "", text)
    for dash in ("\u2010", "\u2011", "\u2012", "\u2013", "\u2212"):
        text = text.replace(dash, "-")
    return text.replace("\u2019", "'")


def sections(text):
    """{NAME: [lines]} of a formatted page."""
    result = {}
    current = None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = line.strip()
            result.setdefault(current, [])
        elif current is not None:
            result[current].append(line)
    return result


def indent(line):
    return len(line) - len(line.lstrip(" "))


def items(lines, column):
    """[(tag line, [body lines])] of the items whose tag starts at @column:
    the first line of a paragraph there (after a blank line), not a line
    that continues one (a paragraph's second line starts at the same
    column)."""
    result = []
    previous = ""
    for line in lines:
        if line.strip() and not previous.strip() and indent(line) == column:
            result.append((line.strip(), []))
        elif result:
            result[-1][1].append(line)
        previous = line
    return result


OPTION = r"(--?[A-Za-z0-9][\w-]*)(?:=\S+)?"


def tag_options(tag):
    """Options named at the start of an item's tag: '-v, --verbose' ->
    {-v, --verbose}; '--format=FORMAT' -> {--format}.  Only the tag, not a
    body that shares its line ('--json Print a JSON array...')."""
    match = re.match(OPTION + r"(?:,\s+" + OPTION + r")?(?:\s|$)", tag)
    return {name for name in match.groups() if name} if match else set()


def help_options(help_text, headers):
    """The options listed under any of @headers ('Options:') in a --help."""
    result = set()
    inside = False
    for line in help_text.splitlines():
        if not line.strip():
            inside = False
        elif not line[0].isspace():
            inside = line.strip() in headers
        elif inside:
            spec = re.split(r"\s{2,}", line.strip())[0]
            if spec.startswith("-"):
                result |= set(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", spec))
    return result


def help_section(help_text, header):
    """The lines under @header in a --help, up to the next blank line."""
    lines = help_text.splitlines()
    if header not in lines:
        return []
    result = []
    for line in lines[lines.index(header) + 1:]:
        if not line.strip():
            break
        result.append(line)
    return result


def compare(what, documented, offered):
    for name in sorted(offered - documented):
        fail("%s: %s is not documented" % (what, name))
    for name in sorted(documented - offered):
        fail("%s: %s is documented but does not exist" % (what, name))


def check_version(program, page, text):
    """The footer says "hostdevd VERSION" on both pages."""
    version = run([program, "--version"]).split()[-1]
    if "hostdevd " + version not in text:
        fail("%s: the page is not of version %s" % (os.path.basename(page), version))


def check_hostdevd(program, page):
    text = render(page)
    pages = sections(text)
    check_version(program, page, text)
    offered = help_options(run([program, "--help"]), ("Help Options:", "Application Options:"))
    documented = set()
    for tag, _ in items(pages.get("OPTIONS", []), 7):
        documented |= tag_options(tag)
    compare("hostdevd(8) OPTIONS", documented, offered)


def check_hostdevctl(program, page):
    text = render(page)
    pages = sections(text)
    check_version(program, page, text)
    main_help = run([program, "--help"])

    # The tool's own options, and those every command takes.
    documented = set()
    for tag, _ in items(pages.get("OPTIONS", []), 7):
        documented |= tag_options(tag)
    offered = help_options(main_help, ("Options:",))

    # one command per line at two spaces; its wrapped summary is indented further
    commands = [line.split()[0] for line in help_section(main_help, "Commands:") if not line.startswith("   ")]
    if not commands:
        fail("hostdevctl --help lists no commands")
    blocks = {}
    for tag, body in items(pages.get("COMMANDS", []), 7):
        blocks[tag.split()[0]] = (tag, body)
    # 'help' is not in the command list, but is a command all the same.
    run([program, "help"])
    compare("hostdevctl(1) COMMANDS", set(blocks), set(commands) | {"help"})

    common = set()
    for command in commands:
        command_help = run([program, command, "--help"])
        options = help_options(command_help, ("Options:",))
        # --no-color and --help: the same for every command, under OPTIONS.
        shared = options & offered
        common |= shared
        own = options - shared
        if command not in blocks:
            continue
        tag, body = blocks[command]
        nested = set()
        for sub_tag, _ in items(body, 14):
            nested |= tag_options(sub_tag)
        compare("hostdevctl(1) COMMANDS %s" % command, nested, own)
        synopsis = set(re.findall(r"(?<![\w-])(--[A-Za-z0-9][\w-]*)", tag))
        for option in sorted(o for o in own if o.startswith("--") and o not in synopsis):
            fail("hostdevctl(1) COMMANDS %s: %s is not in its synopsis (%s)" % (command, option, tag))
        usage = command_help.splitlines()[0]
        if usage.endswith(" DEVICE") != tag.endswith(" DEVICE"):
            fail("hostdevctl(1) COMMANDS %s: the synopsis '%s' does not match '%s'" % (command, tag, usage))
    compare("hostdevctl(1) OPTIONS", documented, offered | common)

    statuses = set()
    for line in help_section(main_help, "Exit status:"):
        match = re.match(r"\s+(\d+)\s", line)
        if match:
            statuses.add(match.group(1))
    if not statuses:
        fail("hostdevctl --help lists no exit status")
    documented = {tag.split()[0] for tag, _ in items(pages.get("EXIT STATUS", []), 7)
                  if tag.split()[0].isdigit()}
    compare("hostdevctl(1) EXIT STATUS", documented, statuses)


def main():
    if len(sys.argv) != 5:
        print(__doc__.splitlines()[2].strip(), file=sys.stderr)
        return 2
    if shutil.which("groff") is None:
        print("groff is not installed (groff-base); skipped")
        return 77
    hostdevd, hostdevd_page, hostdevctl, hostdevctl_page = sys.argv[1:]
    check_hostdevd(hostdevd, hostdevd_page)
    check_hostdevctl(hostdevctl, hostdevctl_page)
    if failures:
        print("%d problem(s): document them in man/, or remove what is documented but gone" % len(failures))
        return 1
    print("ok: the pages document every option, command and exit status")
    return 0


if __name__ == "__main__":
    sys.exit(main())
