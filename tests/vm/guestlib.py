"""The guest half of the VM tier (test-vm.py): what a check running INSIDE
the QEMU test VM needs.  The daemons (systemd-udevd, dbus-daemon, real
libvirtd, the freshly built hostdevd), sysfs state of a PCI function, the
stock clients, QMP requests to the host half, and the TAP record that the
host half reads back.

Importing this module outside the test VM exits: everything here writes to
sysfs or starts system daemons.
"""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import hdtest  # noqa: E402  (Background, pci_name, client_env)

if os.environ.get("HOSTDEVD_VM_GUEST") != "1" or socket.gethostname() != "hostdevd-vm":
    sys.stderr.write("guestlib.py: not inside the hostdevd test VM; refusing\n")
    sys.exit(1)

HD_URI = "nodedev:///system"       # hostdevd, on virtnodedevd's socket
LV_URI = "qemu:///system"          # real libvirtd (monolithic), the oracle
HD_SOCKET = "/run/libvirt/virtnodedevd-sock"
PCI = "/sys/bus/pci/devices"
GUEST_LIB_SH = os.path.join(HERE, "guest-lib.sh")

pci_name = hdtest.pci_name
virsh_tree = hdtest.virsh_tree
Background = hdtest.Background


def log(msg):
    print("hostdevd-vm: " + msg, flush=True)


def run(*cmd, timeout=120, check=False):
    """A command with the clients' environment (C locale); its
    CompletedProcess with text output."""
    r = subprocess.run(cmd, env=hdtest.client_env(), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def virsh(uri, *args, timeout=120):
    return run("virsh", "-c", uri, *args, timeout=timeout)


def guest_lib(function):
    """Runs a function of guest-lib.sh (the shell helpers of the VM)."""
    r = subprocess.run(["sh", "-c", '. "$0"; ' + function, GUEST_LIB_SH], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError("guest-lib.sh %s failed:\n%s%s" % (function, r.stdout, r.stderr))


def expect(cond, message):
    """A check's assertion: fails with @message unless @cond."""
    if not cond:
        raise AssertionError(message)


def wait_for(predicate, timeout, what, interval=0.05):
    """Polls @predicate until it returns something true; that value.
    AssertionError naming @what at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(interval)


# --- a PCI function's state in sysfs ------------------------------------------

def driver_of(addr):
    link = os.path.join(PCI, addr, "driver")
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def override_of(addr):
    with open(os.path.join(PCI, addr, "driver_override")) as f:
        value = f.read().strip()
    return None if value == "(null)" else value


def iommu_group(addr):
    return os.path.basename(os.readlink(os.path.join(PCI, addr, "iommu_group")))


def vfio_node(addr):
    return os.path.exists("/dev/vfio/" + iommu_group(addr))


def net_interfaces(addr):
    d = os.path.join(PCI, addr, "net")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def pci_state(addr):
    """What a detach or reattach leaves: driver, driver_override, the VFIO
    group node and the network interfaces."""
    return {"driver": driver_of(addr), "driver_override": override_of(addr),
            "/dev/vfio/GROUP": vfio_node(addr), "net": net_interfaces(addr)}


def wait_driver(addr, driver, timeout=20):
    """The driver link (and the VFIO node that goes with vfio-pci) settle
    after uevents; waits for both."""
    wait_for(lambda: driver_of(addr) == driver and vfio_node(addr) == (driver == "vfio-pci"), timeout,
             "%s on driver %s (now %s)" % (addr, driver, driver_of(addr)))


# --- daemons -------------------------------------------------------------------

def start_system_daemons():
    """systemd-udevd with a coldplug (the udev database libvirt reads),
    dbus-daemon --system, real libvirtd."""
    guest_lib("vm_start_udevd")
    guest_lib("vm_start_dbus")
    guest_lib("vm_start_libvirtd")


def settle():
    run("udevadm", "settle", "--timeout=60")


class Hostdevd:
    """The freshly built hostdevd, on virtnodedevd's default sockets (so
    `virsh -c nodedev:///system` reaches it, as on a host), with its
    journal in @state_dir."""

    def __init__(self, binary, state_dir, log_path, env=None):
        self.binary = binary
        self.state_dir = state_dir
        self.log_path = log_path
        self.env = dict(os.environ, **(env or {}))
        self.proc = None

    def start(self):
        if os.path.exists(HD_SOCKET):
            os.unlink(HD_SOCKET)    # left by a daemon killed with SIGKILL
        logf = open(self.log_path, "a")
        logf.write("=== hostdevd started at %.3f\n" % time.monotonic())
        logf.flush()
        self.proc = subprocess.Popen([self.binary, "--state-dir", self.state_dir, "--verbose"],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                     env=self.env)
        logf.close()
        # Until its socket exists, nodedev:///system would reach libvirtd's
        # (the client falls back to the monolithic daemon): wait for the
        # socket itself, then for an answer on it.
        wait_for(lambda: self.proc.poll() is not None or os.path.exists(HD_SOCKET), 60,
                 "hostdevd to create " + HD_SOCKET, interval=0.1)
        mark = self.log_mark()
        wait_for(lambda: self.proc.poll() is not None or virsh(HD_URI, "nodedev-list").returncode == 0, 60,
                 "hostdevd to answer on " + HD_SOCKET, interval=0.2)
        if self.proc.poll() is not None:
            raise AssertionError("hostdevd exited with status %d:\n%s" % (self.proc.returncode, self.log_tail()))
        self.wait_log("client connected", mark, 10)

    def log_mark(self):
        """Where the log ends now, for wait_log()."""
        return os.path.getsize(self.log_path)

    def wait_log(self, text, mark, timeout):
        """Waits until @text appears in the log after @mark."""
        def seen():
            with open(self.log_path, errors="replace") as f:
                f.seek(mark)
                return text in f.read()
        wait_for(seen, timeout, "%r in hostdevd's log" % text, 0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM, as systemd stops it; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("hostdevd did not stop within 20 s of SIGTERM")
        return self.proc.returncode

    def journal(self):
        """{address: {key: value}} of the journal's records."""
        out = {}
        for name in sorted(os.listdir(self.state_dir)):
            if not re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", name):
                continue   # temporary files of a write, .bad records
            rec = {}
            try:
                with open(os.path.join(self.state_dir, name)) as f:
                    for line in f:
                        key, sep, value = line.rstrip("\n").partition("=")
                        if sep:
                            rec[key] = value
            except FileNotFoundError:
                continue
            out[name] = rec
        return out

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError as e:
            return str(e)


def events(daemon):
    """`virsh nodedev-event --loop --event lifecycle` against @daemon,
    lines collected; returns once the daemon has its registration (virsh
    itself says nothing until an event comes)."""
    mark = daemon.log_mark()
    bg = Background(["virsh", "-c", HD_URI, "nodedev-event", "--loop", "--event", "lifecycle"])
    daemon.wait_log("registered event callback", mark, 30)
    return bg


def lifecycle_line(name, what):
    return "event 'lifecycle' for node device %s: %s" % (name, what)


# --- QMP, performed by the host half -------------------------------------------

class Qmp:
    """Asks the host half (test-vm.py) to send QMP commands to this VM's
    QEMU: a request file in /out/qmp, answered by a reply file."""

    def __init__(self, out):
        self.dir = os.path.join(out, "qmp")
        os.makedirs(self.dir, exist_ok=True)
        self.n = 0

    def __call__(self, *commands, timeout=60):
        """Each command is (name, arguments); the list of QMP replies.
        A QMP error fails."""
        self.n += 1
        req = os.path.join(self.dir, "%d.req" % self.n)
        with open(req + ".tmp", "w") as f:
            json.dump([{"execute": c, "arguments": a} for c, a in commands], f)
        os.rename(req + ".tmp", req)
        rep = os.path.join(self.dir, "%d.rep" % self.n)
        wait_for(lambda: os.path.exists(rep), timeout, "the host to answer QMP request %d" % self.n, 0.1)
        with open(rep) as f:
            replies = json.load(f)
        for (c, _), r in zip(commands, replies):
            if "return" not in r:
                raise AssertionError("QMP %s failed: %s" % (c, r))
        return replies


# --- the TAP record ----------------------------------------------------------

class Checks:
    """Numbered checks.  Each one is announced on the serial console
    between markers (the host half cuts a failing check's part of the
    serial log out by them) and recorded as a TAP line in /out/results.tap,
    written through at once so a guest that dies still leaves what it did."""

    BEGIN = "=== hostdevd-vm check %d begin: %s"
    END = "=== hostdevd-vm check %d end: %s"

    def __init__(self, out, diagnostics):
        self.path = os.path.join(out, "results.tap")
        self.n = 0
        self.failed = 0
        self.diagnostics = diagnostics
        with open(self.path, "w"):
            pass

    def _record(self, line):
        with open(self.path, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    @contextlib.contextmanager
    def check(self, name):
        self.n += 1
        n = self.n
        print(self.BEGIN % (n, name), flush=True)
        start = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        except Exception:
            print(traceback.format_exc(), flush=True)
            print(self.diagnostics(), flush=True)
        took = time.monotonic() - start
        if not ok:
            self.failed += 1
        self._record("%s %d - %s # %.1fs" % ("ok" if ok else "not ok", n, name, took))
        print(self.END % (n, "ok" if ok else "FAILED") + " (%.1fs)" % took, flush=True)

    def finish(self):
        self._record("1..%d" % self.n)
        return 1 if self.failed else 0
