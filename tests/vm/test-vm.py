#!/usr/bin/python3
"""The VM tier: hostdevd against a real kernel with emulated VT-d, with
real libvirtd as the oracle, in ONE QEMU (TCG) guest.

    test-vm.py HOSTDEVD [--hostdevctl HOSTDEVCTL] [--keep DIR]

Boots the guest of run-guest.sh with checks-guest.py, which runs every
check inside it and records them in DIR/results.tap.  Meanwhile this host
half answers the guest's QMP requests (hotplug: device_add / device_del)
on the VM's QMP socket.  Prints the checks as TAP lines; for each failing
one, the part of the guest's serial log between that check's markers
(its traceback, hostdevd's log, the kernel's messages).  Exit status 0 when
every check passed, 77 (skip) only when run-guest.sh says this machine
cannot run QEMU or has no kernel to boot, 1 otherwise.  DIR (a temporary
directory unless --keep) is kept when something failed.

Environment: HOSTDEVD_VM_TIMEOUT (seconds for the whole guest; default
540, the tier's budget), and everything run-guest.sh reads.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_GUEST = os.path.join(HERE, "run-guest.sh")
GUEST = os.path.join(HERE, "checks-guest.py")
GUEST_SYSTEMD = os.path.join(HERE, "checks-systemd.py")
# systemd as PID 1 in the guest: no fstab of this machine, none of its
# services that want its own disks or hardware; the name guestlib expects.
SYSTEMD_APPEND = ("hostdevd.systemd=1 fstab=no systemd.hostname=hostdevd-vm systemd.show_status=0 "
                  "systemd.mask=apparmor.service systemd.mask=lvm2-monitor.service "
                  "systemd.mask=lvm2-lvmpolld.socket systemd.mask=blk-availability.service "
                  "systemd.mask=dm-event.socket systemd.mask=systemd-timesyncd.service "
                  "systemd.mask=systemd-pstore.service")
EXIT_SKIP = 77
# Passed on to hostdevd in the guest, so a sanitizer build keeps its options.
ENV_FOR_DAEMON = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "G_DEBUG", "G_SLICE")


def qmp_session(path, commands, timeout=30):
    """Sends @commands (QMP dicts) on a fresh connection after the
    capabilities handshake; one reply (return or error) per command."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        f = s.makefile("rw")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise ConnectionError("QMP connection closed")
                msg = json.loads(line)
                if "return" in msg or "error" in msg:
                    return msg

        json.loads(f.readline())            # the greeting
        f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        f.flush()
        reply()
        replies = []
        for c in commands:
            f.write(json.dumps(c) + "\n")
            f.flush()
            replies.append(reply())
        return replies


# TCG now and then stops delivering a guest CPU's timer interrupts: the
# idle tasks lock up and RCU stalls (seen once in a clean-clone CI, during
# check 1, before hostdevd ran), and the guest crawls to the timeout.  No
# program the guest runs causes a lockup of the idle task.
STALL = re.compile(r"watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s! \[swapper/\d+:0\]"
                   r"|rcu: rcu_preempt kthread timer wakeup didn't happen")


class StallWatch(threading.Thread):
    """Stops QEMU (QMP quit) when the serial log shows the emulator's
    timer stall; .stall is then the line that said so."""

    def __init__(self, outdir):
        super().__init__(daemon=True)
        self.log = os.path.join(outdir, "serial.log")
        self.sock = os.path.join(outdir, "qmp.sock")
        self.stopping = threading.Event()
        self.stall = None

    def run(self):
        seen = 0
        while not self.stopping.wait(1):
            try:
                with open(self.log, "rb") as f:
                    f.seek(seen)
                    data = f.read()
            except FileNotFoundError:
                continue
            # only whole lines: the rest is read again next time
            data = data[:data.rfind(b"\n") + 1]
            seen += len(data)
            m = STALL.search(data.decode(errors="replace"))
            if m:
                self.stall = m.group(0)
                try:
                    qmp_session(self.sock, [{"execute": "quit"}])
                except (OSError, ValueError):
                    pass
                return


class QmpAgent(threading.Thread):
    """Answers DIR/qmp/N.req (a JSON list of QMP commands) with N.rep."""

    def __init__(self, outdir):
        super().__init__(daemon=True)
        self.dir = os.path.join(outdir, "qmp")
        self.sock = os.path.join(outdir, "qmp.sock")
        self.stopping = threading.Event()
        self.answered = set()
        self.errors = []

    def run(self):
        while not self.stopping.wait(0.1):
            try:
                names = os.listdir(self.dir)
            except FileNotFoundError:
                continue
            for name in sorted(n for n in names if n.endswith(".req") and n not in self.answered):
                self.answered.add(name)
                self.answer(name)

    def answer(self, name):
        with open(os.path.join(self.dir, name)) as f:
            commands = json.load(f)
        try:
            replies = qmp_session(self.sock, commands)
        except (OSError, ValueError) as e:
            self.errors.append("%s: %s" % (name, e))
            replies = [{"error": {"class": "HostError", "desc": str(e)}}] * len(commands)
        rep = os.path.join(self.dir, name[:-4] + ".rep")
        with open(rep + ".tmp", "w") as f:
            json.dump(replies, f)
        os.rename(rep + ".tmp", rep)


def read_tap(path):
    """[(ok, number, text)] and the plan's count (None if the guest never
    wrote one)."""
    results, plan = [], None
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return results, plan
    for line in lines:
        m = re.fullmatch(r"(ok|not ok) (\d+) - (.*)", line)
        if m:
            results.append((m.group(1) == "ok", int(m.group(2)), m.group(3)))
        m = re.fullmatch(r"1\.\.(\d+)", line)
        if m:
            plan = int(m.group(1))
    return results, plan


def serial_excerpt(serial, n, tail=60):
    """The serial log from check @n's begin marker to its end marker (to
    the end of the log if it never ended)."""
    begin = "=== hostdevd-vm check %d begin:" % n
    end = "=== hostdevd-vm check %d end:" % n
    out, inside = [], False
    for line in serial:
        if line.startswith(begin):
            inside = True
        if inside:
            out.append(line)
            if line.startswith(end):
                break
    if not inside:
        return serial[-tail:]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hostdevd")
    ap.add_argument("--hostdevctl", help="also check hostdevctl in the guest")
    ap.add_argument("--keep", metavar="DIR", help="the guest's /out (default: a temporary directory)")
    ap.add_argument("--systemd", metavar="BUILDDIR",
                    help="install BUILDDIR into the guest (meson install --destdir) and run "
                         "checks-systemd.py there with systemd as PID 1")
    args = ap.parse_args()

    outdir = args.keep or tempfile.mkdtemp(prefix="hostdevd-vm-")
    os.makedirs(outdir, exist_ok=True)
    for stale in ("results.tap", "hostdevd.log", "config.json"):
        if os.path.exists(os.path.join(outdir, stale)):
            os.unlink(os.path.join(outdir, stale))
    shutil.rmtree(os.path.join(outdir, "qmp"), ignore_errors=True)
    with open(os.path.join(outdir, "config.json"), "w") as f:
        json.dump({"hostdevd": os.path.realpath(args.hostdevd),
                   "hostdevctl": os.path.realpath(args.hostdevctl) if args.hostdevctl else None,
                   "env": {k: os.environ[k] for k in ENV_FOR_DAEMON if k in os.environ}}, f)

    env = dict(os.environ)
    env.setdefault("HOSTDEVD_VM_TIMEOUT", "540")
    guest = GUEST
    if args.systemd:
        dest = os.path.join(outdir, "dest")
        shutil.rmtree(dest, ignore_errors=True)
        r = subprocess.run(["meson", "install", "-C", args.systemd, "--no-rebuild", "--quiet",
                            "--destdir", dest], capture_output=True, text=True)
        if r.returncode != 0:
            print("not ok - meson install --destdir failed:\n" + r.stdout + r.stderr)
            return 1
        env["HOSTDEVD_VM_APPEND"] = SYSTEMD_APPEND
        guest = GUEST_SYSTEMD
    for attempt in (1, 2):
        agent, watch = QmpAgent(outdir), StallWatch(outdir)
        agent.start()
        watch.start()
        start = time.monotonic()
        rc = subprocess.call([RUN_GUEST, guest, outdir], env=env, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - start
        for t in (agent, watch):
            t.stopping.set()
            t.join(5)
        if watch.stall is None or attempt == 2:
            break
        # Once: a second stall is reported as the failure it then is.
        print("# the guest's CPUs stalled in the emulator after %.0f s (%s); booting it again"
              % (elapsed, watch.stall))
        for stale in ("results.tap", "hostdevd.log", "exit-status", "serial.log"):
            if os.path.exists(os.path.join(outdir, stale)):
                os.unlink(os.path.join(outdir, stale))
        shutil.rmtree(os.path.join(outdir, "qmp"), ignore_errors=True)
    if rc == EXIT_SKIP:
        print("SKIP: the VM tier needs QEMU and a bootable kernel (see run-guest.sh's message above)")
        shutil.rmtree(outdir, ignore_errors=True) if not args.keep else None
        return EXIT_SKIP

    results, plan = read_tap(os.path.join(outdir, "results.tap"))
    try:
        with open(os.path.join(outdir, "serial.log"), errors="replace") as f:
            serial = f.read().splitlines()
    except FileNotFoundError:
        serial = []
    for ok, n, text in results:
        print("%s %d - %s" % ("ok" if ok else "not ok", n, text))
    failed = [(n, text) for ok, n, text in results if not ok]
    problems = []
    if plan is None:
        problems.append("the guest did not finish its checks (run-guest.sh exit %d)" % rc)
    elif plan != len(results):
        problems.append("the guest planned %d checks and recorded %d" % (plan, len(results)))
    if rc != 0 and not failed and plan is not None:
        problems.append("run-guest.sh exited with status %d" % rc)
    problems += ["QMP: " + e for e in agent.errors]
    if watch.stall is not None:
        problems.append("the guest's CPUs stalled in the emulator twice (%s)" % watch.stall)

    for n, text in failed:
        print("\n--- serial log of failed check %d (%s):" % (n, text), file=sys.stderr)
        print("\n".join(serial_excerpt(serial, n)), file=sys.stderr)
    if plan is None:
        last = len(results) + 1
        print("\n--- serial log from check %d on (the one running when the guest stopped):" % last,
              file=sys.stderr)
        print("\n".join(serial_excerpt(serial, last)), file=sys.stderr)
    for p in problems:
        print("not ok - " + p)

    good = not failed and not problems
    print("# %d checks, %d failed, guest ran %.0f s" % (len(results), len(failed), elapsed))
    if good and not args.keep:
        shutil.rmtree(outdir, ignore_errors=True)
    elif not good:
        print("# the guest's files are in " + outdir, file=sys.stderr)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
