"""Harness of the integration tests: hostdevd on a umockdev testbed, driven
by the stock clients (Debian's virsh and python3-libvirt).

A test script runs as `umockdev-wrapper /usr/bin/python3 test-X.py`: this
process holds the testbed (and emits its uevents); hostdevd inherits the
preload and gets the testbed's UMOCKDEV_DIR; virsh and python3-libvirt run
as child processes with the preload stripped, so they talk to the daemon
over plain unix sockets exactly as on a real host.  python3-libvirt runs in
libvirt-agent.py, which performs the libvirt calls this process asks for.
Tests that detach, reattach or reset add fakekernel.py, which reacts to
what the daemon writes as the kernel would.

Paths come from meson (HD_HOSTDEVD, HD_SOURCE_ROOT); run by hand they
default to build-gcc/ of the checkout holding this file.
"""
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

EXIT_SKIP = 77
EXIT_ERROR = 99
DEBIAN_PYTHON = "/usr/bin/python3"

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("HD_SOURCE_ROOT", os.path.normpath(os.path.join(HERE, "..", "..")))
HOSTDEVD = os.environ.get("HD_HOSTDEVD", os.path.join(SOURCE_ROOT, "build-gcc", "daemon", "hostdevd"))
TESTBEDS = os.path.join(SOURCE_ROOT, "tests", "data", "testbeds")
AGENT = os.path.join(HERE, "libvirt-agent.py")

# libvirt's numbers (include/libvirt/virterror.h, libvirt-nodedev.h).
VIR_ERR_NO_SUPPORT = 3
VIR_ERR_INVALID_ARG = 8
VIR_ERR_OPERATION_DENIED = 29
VIR_ERR_NO_NODE_DEVICE = 53
VIR_FROM_NODEDEV = 22
LIST_CAP_SYSTEM = 1 << 0
LIST_CAP_PCI_DEV = 1 << 1
LIST_CAP_NET = 1 << 4
LIST_INACTIVE = 1 << 30
LIST_ACTIVE = 1 << 31
EVENT_ID_LIFECYCLE = 0
EVENT_ID_UPDATE = 1
EVENT_CREATED = 0
EVENT_DELETED = 1

# Logs of every daemon this process started, printed if a test fails.
_daemon_logs = []


def skip(why):
    print("SKIP: " + why)
    sys.exit(EXIT_SKIP)


def client_env():
    """The environment of virsh and python3-libvirt: no umockdev preload,
    C locale (the messages compared are libvirt's untranslated ones)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "UMOCKDEV_DIR", "LIBVIRT_DEFAULT_URI", "VIRSH_DEFAULT_CONNECT_URI")
           and not k.startswith("LIBVIRT_LOG") and k != "LIBVIRT_DEBUG"}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def require_tools():
    """Skips (77) unless umockdev's introspection data, python3-libvirt,
    virsh and a built hostdevd are present; refuses to run at all outside
    umockdev's preload, where hostdevd would read this machine's /sys."""
    try:
        import gi
        gi.require_version("UMockdev", "1.0")
        from gi.repository import UMockdev  # noqa: F401
    except (ImportError, ValueError) as e:
        skip("umockdev's GObject introspection (gir1.2-umockdev-1.0, python3-gi) is missing: %s" % e)
    if not os.path.exists(DEBIAN_PYTHON):
        skip("%s is missing" % DEBIAN_PYTHON)
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import libvirt"], env=client_env(),
                           capture_output=True, text=True)
    if probe.returncode != 0:
        skip("python3-libvirt is not installed for %s: %s" % (DEBIAN_PYTHON, probe.stderr.strip()))
    if shutil.which("virsh", path=client_env().get("PATH")) is None:
        skip("virsh (libvirt-clients) is not installed")
    if not os.access(HOSTDEVD, os.X_OK):
        skip("hostdevd is not built at %s" % HOSTDEVD)
    if "umockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
        print("ERROR: run under umockdev-wrapper: without the preload hostdevd would read this "
              "machine's /sys", file=sys.stderr)
        sys.exit(EXIT_ERROR)


# --- testbeds --------------------------------------------------------------

# The stub drivers hostdevd detaches to, and their control files.  If one
# of these directories were missing from a testbed, hostdevd would load the
# module through libkmod into the kernel of the machine running the tests.
STUB_DRIVERS = {
    "vfio-pci": ("bind", "unbind", "new_id", "remove_id"),
    "pci-stub": ("bind", "unbind", "new_id", "remove_id"),
    "pciback": ("bind", "unbind", "new_id", "remove_id", "new_slot", "remove_slot"),
}


class Testbed:
    """A umockdev testbed loaded from tests/data/testbeds/NAME and
    completed by complete-sysfs.py (IOMMU groups, driver directories),
    then by complete_for_daemon(): the stub drivers' directories, and the
    write-only `reset` file the kernel shows for devices that have reset
    methods (umockdev cannot record it).

    Calls into umockdev go through self.lock: its uevent sender is not
    thread-safe, and the fake kernel (fakekernel.py) emits uevents from a
    thread of its own."""

    def __init__(self, name):
        import gi
        gi.require_version("UMockdev", "1.0")
        from gi.repository import UMockdev
        self.name = name
        self.dir = os.path.join(TESTBEDS, name)
        self.bed = UMockdev.Testbed.new()
        self.bed.add_from_file(os.path.join(self.dir, "devices.umockdev"))
        self.root = self.bed.get_root_dir()
        done = subprocess.run([DEBIAN_PYTHON, os.path.join(TESTBEDS, "complete-sysfs.py"), self.root],
                              env=client_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("complete-sysfs.py failed: %s" % done.stderr)
        self.lock = threading.RLock()
        self.sys = os.path.join(self.root, "sys")
        self.complete_for_daemon()

    def close(self):
        """Drops the umockdev testbed, which removes its directory.  Left
        to the end of the interpreter, it was not always finalized, and
        /tmp kept a umockdev.XXXXXX per run (test-dbus.py's, whose GDBus
        thread kept it alive)."""
        with self.lock:
            self.bed = None

    def complete_for_daemon(self):
        """The stub driver directories (see STUB_DRIVERS) and the `reset`
        files; idempotent."""
        for driver, files in STUB_DRIVERS.items():
            ddir = os.path.join(self.sys, "bus", "pci", "drivers", driver)
            os.makedirs(ddir, exist_ok=True)
            for f in files:
                path = os.path.join(ddir, f)
                if not os.path.exists(path):
                    open(path, "w").close()
        pcidevs = os.path.join(self.sys, "bus", "pci", "devices")
        for addr in os.listdir(pcidevs):
            dev = os.path.join(pcidevs, addr)
            if os.path.exists(os.path.join(dev, "reset_method")) and \
                    not os.path.exists(os.path.join(dev, "reset")):
                open(os.path.join(dev, "reset"), "w").close()

    def add(self, record):
        """Adds a device from a umockdev record; emits its 'add' uevent."""
        with self.lock:
            self.bed.add_from_string(record)

    def uevent(self, syspath, action):
        with self.lock:
            self.bed.uevent(syspath, action)

    def remove(self, syspath):
        """What the kernel does when a device goes: the uevent, then the
        directory is gone."""
        with self.lock:
            self.bed.uevent(syspath, "remove")
            self.bed.remove_device(syspath)

    # The expected data recorded from real libvirtd.
    def expected_parents(self):
        """{name: parent or None} from expected/tree.txt."""
        parents = {}
        with open(os.path.join(self.dir, "expected", "tree.txt")) as f:
            for line in f:
                if not line.strip():
                    continue
                name, parent = line.split()
                parents[name] = None if parent == "-" else parent
        return parents

    def expected_xml(self, name):
        with open(os.path.join(self.dir, "expected", name + ".xml")) as f:
            return f.read()


def pci_record(address, vendor="0x8086", device="0x10d3", pci_class="0x020000", parent="pci0000:00"):
    """A umockdev record of a PCI function with no driver bound."""
    return ("P: /devices/%s/%s\n"
            "E: SUBSYSTEM=pci\n"
            "E: PCI_CLASS=%X\n"
            "E: PCI_ID=%s:%s\n"
            "E: PCI_SLOT_NAME=%s\n"
            "A: vendor=%s\\n\n"
            "A: device=%s\\n\n"
            "A: class=%s\\n\n"
            "A: numa_node=-1\\n\n"
            "A: driver_override=(null)\\n\n"
            % (parent, address, int(pci_class, 16), vendor[2:].upper(), device[2:].upper(),
               address, vendor, device, pci_class))


def pci_name(address):
    """libvirt's node device name of a PCI address: pci_0000_00_09_0."""
    return "pci_" + re.sub(r"[:.]", "_", address)


# --- what virsh prints, computed from libvirt's own code -------------------

def virsh_sorted(names):
    """virshNodeDeviceSorter: case-insensitive."""
    return sorted(names, key=lambda n: (n.lower(), n))


def virsh_tree(parents):
    """What `virsh nodedev-list --tree` prints for {name: parent}, without
    virsh's final blank line: cmdNodeListDevices + vshTreePrintInternal
    (tools/vsh.c) transcribed.  `computer` is always a root; a device whose
    parent is not listed is never printed."""
    names = virsh_sorted(parents)
    pars = [None if n == "computer" else parents[n] for n in names]
    out = []

    def walk(devid, lastdev, root, indent):
        dev = names[devid]
        out.append(indent + ("" if root else "+- ") + dev)
        if not root:
            indent += (" " if devid == lastdev else "|") + " "
        children = [i for i, p in enumerate(pars) if p == dev]
        nextlast = children[-1] if children else -1
        if children:
            out.append(indent + "  |")
        for i in children:
            walk(i, nextlast, False, indent + "  ")
        if nextlast == -1 and devid == lastdev:
            out.append(indent)

    for i, p in enumerate(pars):
        if p is None:
            walk(i, i, True, "")
    return "".join(line + "\n" for line in out)


def parse_virsh_tree(text):
    """{name: parent} from a `virsh nodedev-list --tree` listing."""
    parents, stack = {}, []
    for line in text.splitlines():
        m = re.match(r"^([ |]*)\+- (\S+)$", line)
        if m:
            depth = (len(m.group(1)) - 2) // 4 + 1
            del stack[depth:]
            parents[m.group(2)] = stack[depth - 1]
            stack.append(m.group(2))
        elif line.strip() and "|" not in line:
            stack = [line.strip()]
            parents[line.strip()] = None
    return parents


# --- the daemon ------------------------------------------------------------

class Daemon:
    """hostdevd on @testbed, with its two sockets in a private directory.
    Its journal goes to @state_dir if given (a later daemon can take over
    the state of one that was killed), else to a new directory.  Without
    @bus_address it runs with --no-dbus; with one, that bus is its system
    bus (where it owns org.hostdevd1 and asks polkit)."""

    def __init__(self, testbed, args=(), state_dir=None, bus_address=None, assignments_dir=None):
        self.testbed = testbed
        self.killed = False
        self.dir = tempfile.mkdtemp(prefix="hostdevd-it-")
        self.sock = os.path.join(self.dir, "virtnodedevd-sock")
        self.ro_sock = self.sock + "-ro"
        self.uri = "nodedev:///system?socket=" + self.sock
        self.ro_uri = "nodedev:///system?socket=" + self.ro_sock
        self.log_path = os.path.join(self.dir, "hostdevd.log")
        env = dict(os.environ)
        env["UMOCKDEV_DIR"] = testbed.root
        env["G_DEBUG"] = "fatal-criticals"
        env["LC_ALL"] = "C"
        # This machine's libvirt domains are not the testbed's.
        args = ("--no-libvirt",) + tuple(args)
        if bus_address is None:
            args = ("--no-dbus",) + tuple(args)
        else:
            env["DBUS_SYSTEM_BUS_ADDRESS"] = bus_address
        self.log = open(self.log_path, "w")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        self.assignments_dir = assignments_dir or os.path.join(self.dir, "assignments")
        self.proc = subprocess.Popen([HOSTDEVD, "--socket", self.sock, "--ro-socket", self.ro_sock,
                                      "--state-dir", self.state_dir, "--assignments-dir", self.assignments_dir,
                                      "--verbose"] + list(args),
                                     env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        _daemon_logs.append(self)
        self._wait_ready(10)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        pending = [self.sock, self.ro_sock]
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError("hostdevd exited with %d before listening:\n%s"
                                   % (self.proc.returncode, self.read_log()))
            if time.monotonic() > deadline:
                raise RuntimeError("hostdevd did not accept on %s within %d s:\n%s"
                                   % (pending, timeout, self.read_log()))
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(pending[0])
                pending.pop(0)
            except OSError:
                time.sleep(0.02)
            finally:
                s.close()

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL, on purpose: main() does not count its exit status as
        a failure.  Safe to call from any thread; see reap()."""
        self.killed = True
        try:
            self.proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self, timeout=10):
        """Waits for a killed daemon to be gone; its exit status."""
        self.proc.wait(timeout)
        return self.proc.returncode

    def stop(self):
        """SIGTERM; returns the exit status (0: a clean shutdown)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def virsh(self, *args, ro_socket=False, readonly=False, timeout=60):
        """Runs virsh against this daemon; returns the CompletedProcess."""
        cmd = ["virsh"] + (["-r"] if readonly else []) + \
              ["-c", self.ro_uri if ro_socket else self.uri] + list(args)
        return subprocess.run(cmd, env=client_env(), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def virsh_background(self, *args, ro_socket=False):
        cmd = ["virsh", "-c", self.ro_uri if ro_socket else self.uri] + list(args)
        return Background(cmd)

    def agent(self, ro_socket=False, readonly=False, event_loop=False, keepalive=None, log=None):
        """A python3-libvirt connection in libvirt-agent.py."""
        return Agent(self.ro_uri if ro_socket else self.uri, readonly=readonly,
                     event_loop=event_loop, keepalive=keepalive, log=log)


class Background:
    """A client process whose stdout lines are collected as they come."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, env=client_env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._cond = threading.Condition()
        self._stderr = []
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self._stderr), daemon=True)]
        for t in self._readers:
            t.start()

    def _read(self, stream, into):
        for line in stream:
            with self._cond:
                into.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_line(self, predicate, timeout=10, start=0):
        """The index of the first line from @start on that satisfies
        @predicate (a string means equality), or None at the timeout."""
        if isinstance(predicate, str):
            wanted = predicate
            predicate = lambda line: line == wanted  # noqa: E731
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self.lines)):
                    if predicate(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._more_possible()):
                    return None
                self._cond.wait(min(left, 0.1))

    def _more_possible(self):
        return any(t.is_alive() for t in self._readers)

    def wait(self, timeout=10):
        """Waits for the process to end by itself; its exit status, or
        None if it still runs after @timeout."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self._finish()

    def stop(self, sig=signal.SIGINT, timeout=10):
        """Sends @sig (virsh nodedev-event ends its loop on SIGINT) and
        waits; kills it if it does not end.  Its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self._finish()

    def _finish(self):
        for t in self._readers:
            t.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def stdout(self):
        with self._cond:
            return "\n".join(self.lines)

    def stderr(self):
        with self._cond:
            return "\n".join(self._stderr)


class LibvirtError(Exception):
    """A libvirtError raised in the agent: code, domain, message."""

    def __init__(self, code, domain, message):
        super().__init__("libvirtError code=%s domain=%s: %s" % (code, domain, message))
        self.code, self.domain, self.message = code, domain, message


class Agent:
    """Remote control of python3-libvirt in a child process (see
    libvirt-agent.py for the protocol).  Calls return the result or raise
    LibvirtError; events are queued."""

    def __init__(self, uri, readonly=False, event_loop=False, keepalive=None, log=None):
        cmd = [DEBIAN_PYTHON, AGENT, "--uri", uri]
        if readonly:
            cmd.append("--readonly")
        if event_loop:
            cmd.append("--event-loop")
        if keepalive:
            cmd += ["--keepalive", "%d,%d" % keepalive]
        env = client_env()
        if log:
            # libvirt's own debug log of the client, for what it received.
            env["LIBVIRT_LOG_FILTERS"] = "1:rpc.keepalive 1:rpc.netclient 4:*"
            env["LIBVIRT_LOG_OUTPUTS"] = "1:file:" + log
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.replies = queue.Queue()
        self.events = queue.Queue()
        self.stderr_lines = []
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._readers:
            t.start()
        hello = self._reply(30)
        if "error" in hello:
            e = hello["error"]
            raise LibvirtError(e["code"], e["domain"], e["message"])

    def _read(self):
        for line in self.proc.stdout:
            msg = json.loads(line)
            (self.events if "event" in msg else self.replies).put(msg)
        self.replies.put({"eof": True})

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def _reply(self, timeout):
        try:
            msg = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("python3-libvirt agent did not answer within %d s" % timeout)
        if "eof" in msg:
            raise AssertionError("python3-libvirt agent died:\n" + "\n".join(self.stderr_lines))
        return msg

    def request(self, req, timeout=30):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        msg = self._reply(timeout)
        if "error" in msg:
            e = msg["error"]
            raise LibvirtError(e["code"], e["domain"], e["message"])
        return msg["reply"]

    def conn(self, method, *args):
        """conn.METHOD(*args); node devices come back as their names."""
        return self.request({"op": "call", "on": None, "method": method, "args": list(args)})

    def dev(self, name, method, *args):
        """dev.METHOD(*args) on the virNodeDevice looked up as @name (the
        object from the agent's first lookup of that name is reused)."""
        return self.request({"op": "call", "on": name, "method": method, "args": list(args)})

    def register(self, event_id, device=None, tag="cb"):
        return self.request({"op": "register", "event": event_id, "device": device, "tag": tag})

    def deregister(self, callback_id):
        return self.request({"op": "deregister", "id": callback_id})

    def next_event(self, timeout=10):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain_events(self, wait=0.0):
        time.sleep(wait)
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def close(self):
        if self.proc.poll() is None:
            try:
                self.request({"op": "close"}, timeout=15)
            except (AssertionError, LibvirtError, BrokenPipeError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._readers:
            t.join(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        return self.proc.returncode


# --- running ---------------------------------------------------------------

def main():
    """Runs the unittest cases of the calling script; on failure prints the
    logs of the daemons it started.  Exit 0 (pass), 1 (fail), 77 (skip)."""
    require_tools()
    program = unittest.main(exit=False, verbosity=2, buffer=False)
    result = program.result
    ok = result.wasSuccessful()
    for d in _daemon_logs:
        status = d.stop()
        if status != 0 and not (d.killed and status == -signal.SIGKILL):
            print("FAIL: hostdevd (testbed %s) exited with status %s; a SIGTERM must end it with 0"
                  % (d.testbed.name, status))
            ok = False
    for d in _daemon_logs:
        if not ok:
            print("\n===== hostdevd log (%s, testbed %s) =====" % (d.log_path, d.testbed.name))
            print(d.read_log())
        shutil.rmtree(d.dir, ignore_errors=True)
    if not ok:
        sys.exit(1)
    if result.testsRun == len(result.skipped):
        sys.exit(EXIT_SKIP)
    sys.exit(0)
