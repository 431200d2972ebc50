"""Harness of the D-Bus tests: hostdevd on a umockdev testbed (vm-q35, with
the fake kernel of tests/integration/fakekernel.py) attached to a private
system-like bus, polkit played by python3-dbusmock's polkitd template on
the same bus, and the clients an admin or a GUI would use: busctl, gdbus,
hostdevctl and GDBus in this process.

The bus (Bus) is a dbus-daemon of its own with a system-bus-like policy
that lets any uid connect, so that clients can run as root (uid 0, which
hostdevd allows without asking polkit) or as user nobody (which it must
authorize through polkit).  Its socket sits in a 0755 directory of its own;
DBUS_SYSTEM_BUS_ADDRESS points the daemon and the clients at it.

A test script runs as `umockdev-wrapper /usr/bin/python3 test-X.py`, like
tests/integration's (hdtest.py explains the split between this process,
which holds the testbed, and the daemon and clients, which are children);
meson passes HD_HOSTDEVD, HD_HOSTDEVCTL and HD_SOURCE_ROOT, and run by hand
they default to build-gcc/ of this checkout.
"""
import atexit
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import fakekernel  # noqa: E402
import hdtest  # noqa: E402

SOURCE_ROOT = hdtest.SOURCE_ROOT
HOSTDEVCTL = os.environ.get("HD_HOSTDEVCTL", os.path.join(SOURCE_ROOT, "build-gcc", "cli", "hostdevctl"))
API_XML = os.path.join(SOURCE_ROOT, "dbus", "org.hostdevd1.xml")
GOLDEN = os.path.join(HERE, "golden")

_fixtures = []      # every Fixture made, the current one last
_children = []      # every process the harness started (hostdevd aside: see hdtest)

BUS_NAME = "org.hostdevd1"
ROOT_PATH = "/org/hostdevd1"
MANAGER_PATH = ROOT_PATH + "/Manager"
DEVICES_PATH = ROOT_PATH + "/devices"
MANAGER_IFACE = "org.hostdevd1.Manager"
DEVICE_IFACE = "org.hostdevd1.Device"
ERROR = "org.hostdevd1.Error."
POLKIT_NAME = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
POLKIT_IFACE = "org.freedesktop.PolicyKit1.Authority"
ACTION_DETACH = "org.hostdevd1.detach"
ACTION_DETACH_IN_USE = "org.hostdevd1.detach-in-use"
ACTION_REATTACH = "org.hostdevd1.reattach"
ACTION_RESET = "org.hostdevd1.reset"

NOBODY = "nobody"
TESTBED = "vm-q35"

# libvirt's message prefixes (virerror.c virErrorMsg) and the D-Bus error
# that carries the same failure class (dbus/org.hostdevd1.xml; the core's
# HD_ERROR codes map to both, see remote/rpc-error.c).
LIBVIRT_PREFIXES = (
    ("Node device not found: ", "NoDevice"),
    ("invalid argument: ", "InvalidArgument"),
    ("Requested operation is not valid: ", "InUse"),
    ("resource busy: ", "Busy"),
    ("Timed out during operation: ", "TimedOut"),
    ("argument unsupported: ", "ArgumentUnsupported"),
    ("this function is not supported by the connection driver: ", "NotSupported"),
    ("internal error: ", "Failed"),
)


# --- vm-q35: the devices the tests use, and what hostdevd says about them --

ADDR = "0000:01:00.0"            # e1000e, alone in IOMMU group 9; reset methods "pm bus"
NAME = "pci_0000_01_00_0"
PATH = DEVICES_PATH + "/" + NAME
E1000 = "0000:02:01.0"           # conventional PCI behind the PCIe-to-PCI bridge 00:04.0 ...
RTL = "0000:02:02.0"             # ... with an rtl8139 (8139cp); all three in IOMMU group 4
BRIDGE = "0000:00:04.0"
VGA = "0000:00:01.0"             # the boot VGA device (boot_vga=1), no driver: in use by the host
PF = "0000:03:00.0"              # nvme with SR-IOV: VFs 03:00.1 and 03:00.2, sriov_totalvfs 4
SETTLE_MS = 5000                 # the engine's default wait for the kernel's bind

# The core's texts (hostdev/verdict.c), which both doors print.
GROUP_REFUSAL = ("PCI device %s cannot be detached alone: it must go together with %s (driver 8139cp); "
                 "detach the whole group" % (E1000, RTL))
BRIDGE_REFUSAL = "PCI device %s is a bridge: only endpoint devices can be detached" % BRIDGE
VGA_REFUSAL = ("PCI device %s is in use by the host (it is the boot VGA device); use force to detach it anyway"
               % VGA)
BUS_RESET_REFUSAL = ("Unable to reset PCI device %s: internal error: Active %s devices on bus with %s, not doing "
                     "bus reset" % (E1000, RTL, E1000))

W = fakekernel.Write


def detach_writes(stub, driver="e1000e", addr=ADDR):
    """What the kernel sees of a detach by driver_override."""
    return [W("driver_override", addr, stub), W("unbind", driver, addr), W("drivers_probe", None, addr)]


def reattach_writes(stub, addr=ADDR):
    return [W("driver_override", addr, ""), W("unbind", stub, addr), W("drivers_probe", None, addr)]


def device_path(name):
    """The object of a node device: /org/hostdevd1/devices/NAME (the names
    of vm-q35 need no escaping)."""
    return DEVICES_PATH + "/" + name


def pci_name(address):
    return hdtest.pci_name(address)


def require_tools():
    """Skips (77) without what the D-Bus tests need on top of the
    integration tier's tools."""
    for tool in ("dbus-daemon", "busctl", "gdbus", "setpriv"):
        if shutil.which(tool, path=hdtest.client_env().get("PATH")) is None:
            hdtest.skip("%s is not installed" % tool)
    probe = subprocess.run([hdtest.DEBIAN_PYTHON, "-c", "import dbusmock, dbusmock.templates.polkitd"],
                           env=hdtest.client_env(), capture_output=True, text=True)
    if probe.returncode != 0:
        hdtest.skip("python3-dbusmock is not installed for %s: %s" % (hdtest.DEBIAN_PYTHON, probe.stderr.strip()))
    try:
        pwd.getpwnam(NOBODY)
    except KeyError:
        hdtest.skip("there is no user %s to run unprivileged clients as" % NOBODY)
    if os.getuid() != 0:
        hdtest.skip("the polkit tests run clients as %s: they need root" % NOBODY)
    hdtest.require_tools()


# --- running clients ------------------------------------------------------

def as_user(argv, user):
    """@argv run as @user (its uid, gid, no supplementary groups)."""
    if user is None:
        return list(argv)
    pw = pwd.getpwnam(user)
    return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups"] + list(argv)


# Variables of this process's environment that a client must not inherit.
CLIENT_UNSET = ("DBUS_SESSION_BUS_ADDRESS", "DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE", "NO_COLOR",
                "XDG_RUNTIME_DIR", "DBUS_SYSTEM_BUS_ADDRESS")


def client_argv(argv, address, user=None, env=None):
    """@argv as a client of the bus at @address (None: no bus), run as
    @user (None: this process's), with hdtest.client_env() (no umockdev
    preload, C locale) changed by `env`: the bus address set, variables
    that would point elsewhere dropped, @env's added."""
    setting = dict(env or {})
    if address is not None:
        setting["DBUS_SYSTEM_BUS_ADDRESS"] = address
    if user is not None:
        setting.setdefault("HOME", "/")
        setting.setdefault("USER", user)
        setting.setdefault("LOGNAME", user)
    cmd = ["env"]
    for k in CLIENT_UNSET:
        if k not in setting:
            cmd += ["-u", k]
    cmd += ["%s=%s" % kv for kv in setting.items()]
    return as_user(cmd + list(argv), user)


def run(argv, address, user=None, env=None, timeout=30, stdin=None):
    return subprocess.run(client_argv(argv, address, user, env), env=hdtest.client_env(), capture_output=True,
                          text=True, timeout=timeout, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def background(argv, address, user=None, env=None):
    """A client whose output lines are collected as they come."""
    return hdtest.Background(client_argv(argv, address, user, env))


class DBusError(Exception):
    """A D-Bus error reply: its name and message."""

    def __init__(self, name, message):
        super().__init__("%s: %s" % (name, message))
        self.name, self.message = name, message


GDBUS_ERROR = re.compile(r"^(?:Error: )?GDBus\.Error:([A-Za-z0-9_.\-]+): (.*)$", re.S)


def parse_gdbus_error(text):
    """(name, message) from a GError's message or gdbus's stderr."""
    m = GDBUS_ERROR.match(text.strip("\n"))
    if m is None:
        return None, text
    return m.group(1), m.group(2)


def terminate(proc, timeout=10):
    """SIGTERM, and SIGKILL if @proc is still there after @timeout s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the bus ----------------------------------------------------------------

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


class Bus:
    """A private dbus-daemon standing in for the system bus."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hostdevd-dbus-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "system_bus_socket")
        self.config = os.path.join(self.dir, "bus.conf")
        with open(self.config, "w") as f:
            f.write(BUS_CONFIG.format(socket=self.socket))
        self.log_path = os.path.join(self.dir, "dbus-daemon.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["dbus-daemon", "--config-file=" + self.config, "--nofork", "--nopidfile",
                                      "--print-address=1"],
                                     env=hdtest.client_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        _children.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError("dbus-daemon did not start:\n" + self.read_log())
        self.address = "unix:path=" + self.socket
        self._conn = None

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def connection(self):
        """A new GDBus connection of this process (uid 0) to the bus."""
        from gi.repository import Gio
        return Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)

    @property
    def conn(self):
        """This process's shared connection."""
        if self._conn is None:
            self._conn = self.connection()
        return self._conn

    def call(self, dest, path, iface, method, args=None, signature=None, timeout=30, conn=None):
        """A method call from this process (uid 0); the reply's values as a
        tuple, or DBusError."""
        from gi.repository import Gio, GLib
        if args is not None and not isinstance(args, GLib.Variant):
            args = GLib.Variant(signature, tuple(args))
        try:
            reply = (conn or self.conn).call_sync(dest, path, iface, method, args, None,
                                                  Gio.DBusCallFlags.NO_AUTO_START, int(timeout * 1000), None)
        except GLib.Error as e:
            name, message = parse_gdbus_error(e.message)
            raise DBusError(name or "%s.%d" % (e.domain, e.code), message) from None
        return reply.unpack()

    def name_owner(self, name):
        try:
            return self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                             "GetNameOwner", (name,), "(s)")[0]
        except DBusError:
            return None

    def wait_name(self, name, timeout=10, proc=None, log=None):
        deadline = time.monotonic() + timeout
        while True:
            owner = self.name_owner(name)
            if owner is not None:
                return owner
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("the owner-to-be of %s exited with %s:\n%s" % (name, proc.returncode,
                                                                                  log() if log else ""))
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not appear on the bus within %d s%s" % (name, timeout,
                                                                                   ":\n" + log() if log else ""))
            time.sleep(0.02)

    def wait_name_gone(self, name, timeout=10):
        deadline = time.monotonic() + timeout
        while self.name_owner(name) is not None:
            if time.monotonic() > deadline:
                raise RuntimeError("%s is still owned after %d s" % (name, timeout))
            time.sleep(0.02)

    def stop(self):
        if self._conn is not None:
            try:
                self._conn.close_sync(None)
            except Exception:   # noqa: BLE001 - the bus may be gone
                pass
            self._conn = None
        terminate(self.proc)
        self.proc.stdout.close()
        self.log.close()

    def remove(self):
        """The directory of the socket and the logs (after stop())."""
        shutil.rmtree(self.dir, ignore_errors=True)


class Polkit:
    """python3-dbusmock's polkitd template on @bus: denies everything until
    told otherwise (SetAllowed, AllowUnknown)."""

    def __init__(self, bus):
        self.bus = bus
        self.proc = None
        self.answered = False
        self.log_path = os.path.join(bus.dir, "polkitd-mock.log")
        self.start()

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(client_argv([hdtest.DEBIAN_PYTHON, "-m", "dbusmock", "--system", "--template",
                                                  "polkitd"], self.bus.address),
                                     env=hdtest.client_env(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        _children.append(self.proc)
        self.bus.wait_name(POLKIT_NAME, 15, self.proc, self.read_log)

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Polkit gone from the bus."""
        if self.proc is None:
            return
        terminate(self.proc)
        self.proc = None
        self.log.close()
        self.bus.wait_name_gone(POLKIT_NAME)

    def _mock(self, method, args, signature):
        self.bus.call(POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", method, args, signature)

    def set_allowed(self, actions):
        self._mock("SetAllowed", (list(actions),), "(as)")

    def allow_unknown(self, allow):
        self._mock("AllowUnknown", (bool(allow),), "(b)")

    def deny_all(self):
        self.allow_unknown(False)
        self.set_allowed([])

    def answer(self, ret):
        """CheckAuthorization answers @ret (python text of a (bba{ss})
        tuple: authorized, challenge, details) until restore()."""
        self._mock("AddMethod", (POLKIT_IFACE, "CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})",
                                 "ret = " + ret), "(sssss)")
        self.answered = True

    def restore(self):
        """The template's own CheckAuthorization again, if answer() replaced
        it (a mock cannot take back a method it was given: restart it)."""
        if self.answered:
            self.stop()
            self.answered = False
            self.start()


class Monitor:
    """Every message on the bus, as `busctl monitor --json=short` shows it
    (one JSON object per message: type, sender, destination, path,
    interface, member, payload {type, data})."""

    def __init__(self, bus):
        self.bus = bus
        # busctl writes to a pipe through a full stdio buffer.
        self.bg = background(["stdbuf", "-oL", "busctl", "--address=" + bus.address, "monitor", "--json=short"],
                             None)
        _children.append(self.bg.proc)
        self._marks = 0
        # It sees nothing until it has become a monitor: mark until it
        # sees a mark.
        deadline = time.monotonic() + 10
        while not self.sync(0.2):
            if time.monotonic() > deadline or self.bg.proc.poll() is not None:
                raise RuntimeError("busctl monitor did not start: %s" % self.bg.stderr())

    def sync(self, timeout=10):
        """Waits until the monitor has seen a call made now (so it has
        seen everything sent before)."""
        self._marks += 1
        mark = "monitor.mark%d.hostdevd.test" % self._marks
        self.bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                      (mark,), "(s)")
        return self.bg.wait_line(lambda line: mark in line, timeout) is not None

    def mark(self):
        """A position in the stream; messages(since=mark) are the later ones."""
        self.sync()
        return len(self.bg.lines)

    def messages(self, since=0, **match):
        """The messages after @since whose fields equal @match's."""
        self.sync()
        out = []
        for line in list(self.bg.lines)[since:]:
            if not line.startswith("{"):
                continue
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if all(m.get(k) == v for k, v in match.items()):
                out.append(m)
        return out

    def authorization_checks(self, since=0):
        """The CheckAuthorization calls to polkit after @since, as
        (subject kind, subject details, action, details, flags)."""
        out = []
        for m in self.messages(since, type="method_call", interface=POLKIT_IFACE, member="CheckAuthorization"):
            subject, action, details, flags, _cancel = m["payload"]["data"]
            kind, sdetails = subject
            out.append((kind, {k: v.get("data") for k, v in sdetails.items()}, action, details, flags, m["sender"]))
        return out

    def stop(self):
        self.bg.stop(signal.SIGTERM)


class Signals:
    """Signals from hostdevd, received by a GDBus connection of this process
    in a thread of its own (as a GUI would), unpacked: (path, interface,
    member, args)."""

    def __init__(self, bus, sender=BUS_NAME):
        import gi
        gi.require_version("Gio", "2.0")
        from gi.repository import GLib
        self.bus = bus
        self.sender = sender
        self.events = []
        self._cond = threading.Condition()
        self._ctx = GLib.MainContext.new()
        self._loop = GLib.MainLoop.new(self._ctx, False)
        self._ready = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="dbus-signals", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def _run(self):
        from gi.repository import Gio
        self._ctx.push_thread_default()
        try:
            conn = self.bus.connection()
            sub = conn.signal_subscribe(self.sender, None, None, None, None, Gio.DBusSignalFlags.NONE,
                                        self._on_signal, None)
        except Exception as e:   # noqa: BLE001 - reported to the constructor's caller
            self._error = e
            self._ready.set()
            self._ctx.pop_thread_default()
            return
        # The AddMatch must be in place before the constructor returns.
        conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Peer", "Ping",
                       None, None, Gio.DBusCallFlags.NONE, 5000, None)
        self._ready.set()
        self._loop.run()
        conn.signal_unsubscribe(sub)
        conn.close_sync(None)
        self._ctx.pop_thread_default()

    def _on_signal(self, _conn, _sender, path, iface, member, params, _data):
        with self._cond:
            self.events.append((path, iface, member, params.unpack()))
            self._cond.notify_all()

    def wait(self, predicate, timeout=10, start=0):
        """The first event from index @start on satisfying @predicate, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events[start:]:
                    if predicate(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def mark(self):
        with self._cond:
            return len(self.events)

    def since(self, start):
        with self._cond:
            return list(self.events[start:])

    def stop(self):
        self._loop.quit()
        self._thread.join(10)


# --- the API description --------------------------------------------------

def api_interfaces():
    """{interface: {"methods": {name: [(direction, type)]}, "signals": {name: [types]},
    "properties": {name: (type, access)}}} from dbus/org.hostdevd1.xml."""
    with open(API_XML) as f:
        return introspection_interfaces(f.read())


def introspection_interfaces(text):
    root = ET.fromstring(text)
    out = {}
    for iface in root.findall("interface"):
        d = {"methods": {}, "signals": {}, "properties": {}}
        for m in iface.findall("method"):
            d["methods"][m.get("name")] = [(a.get("direction", "in"), a.get("type")) for a in m.findall("arg")]
        for s in iface.findall("signal"):
            d["signals"][s.get("name")] = [a.get("type") for a in s.findall("arg")]
        for p in iface.findall("property"):
            d["properties"][p.get("name")] = (p.get("type"), p.get("access"))
        out[iface.get("name")] = d
    return out


# --- the fixture ------------------------------------------------------------

class Fixture:
    """Everything a test class needs: testbed, fake kernel, bus, polkit,
    hostdevd on that bus."""

    def __init__(self, testbed=TESTBED, polkit=True):
        self.bed = hdtest.Testbed(testbed)
        self.kernel = fakekernel.FakeKernel(self.bed).start()
        self.bus = Bus()
        self.polkit = None
        self.daemon = None
        _fixtures.append(self)     # main() shows the logs of one that failed to start
        if polkit:
            self.polkit = Polkit(self.bus)
        self.start_daemon()

    def start_daemon(self):
        self.daemon = hdtest.Daemon(self.bed, bus_address=self.bus.address)
        self.owner = self.bus.wait_name(BUS_NAME, 10, self.daemon.proc, self.daemon.read_log)
        return self.daemon

    def stop(self):
        status = self.daemon.stop() if self.daemon is not None else 0
        if self.polkit is not None:
            self.polkit.stop()
        self.bus.stop()
        self.kernel.stop()
        self.bed.close()
        return status

    # Calls from this process (root).
    def call(self, path, iface, method, args=None, signature=None, timeout=30):
        return self.bus.call(BUS_NAME, path, iface, method, args, signature, timeout)

    def manager(self, method, *args, signature=None, timeout=30):
        return self.call(MANAGER_PATH, MANAGER_IFACE, method, args if signature else None, signature, timeout)

    def properties(self, path, iface=DEVICE_IFACE):
        """{name: value} of GetAll."""
        return self.call(path, "org.freedesktop.DBus.Properties", "GetAll", (iface,), "(s)")[0]

    def property_variants(self, path, iface=DEVICE_IFACE):
        """{name: GLib.Variant} of GetAll (to check the types)."""
        from gi.repository import Gio
        reply = self.bus.conn.call_sync(BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                                        _variant("(s)", (iface,)), None, Gio.DBusCallFlags.NONE, 10000, None)
        d = reply.get_child_value(0)
        return {d.get_child_value(i).get_child_value(0).get_string():
                d.get_child_value(i).get_child_value(1).get_variant() for i in range(d.n_children())}

    def prop(self, path, name, iface=DEVICE_IFACE):
        return self.call(path, "org.freedesktop.DBus.Properties", "Get", (iface, name), "(ss)")[0]

    def managed_objects(self):
        return self.call(ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")[0]

    # Clients in child processes.
    def busctl(self, *args, user=None, timeout=30):
        return run(["busctl", "--address=" + self.bus.address] + list(args), None, user, timeout=timeout)

    def busctl_json(self, *args, user=None):
        """busctl --json=short ...: the parsed output, or DBusError(None, stderr)."""
        r = self.busctl("--json=short", *args, user=user)
        if r.returncode != 0:
            raise DBusError(None, r.stderr)
        return json.loads(r.stdout)

    def gdbus(self, *args, user=None, timeout=30):
        return run(["gdbus"] + list(args), self.bus.address, user, timeout=timeout)

    def gdbus_call(self, path, method, *args, user=None, timeout=30, dest=BUS_NAME):
        """`gdbus call --system` of IFACE.METHOD (@method in full) as
        @user: the reply as a GLib.Variant tuple, or DBusError."""
        from gi.repository import GLib
        r = self.gdbus("call", "--system", "--dest", dest, "--object-path", path, "--method", method,
                       "--timeout", str(timeout), *args, user=user, timeout=timeout + 5)
        if r.returncode != 0:
            name, message = parse_gdbus_error(r.stderr)
            raise DBusError(name, message)
        return GLib.Variant.parse(None, r.stdout.strip(), None, None)

    def hostdevctl(self, *args, user=None, env=None, address=None, timeout=60):
        return run([HOSTDEVCTL] + list(args), self.bus.address if address is None else address, user, env,
                   timeout=timeout)

    def hostdevctl_background(self, *args, user=None, env=None):
        return background([HOSTDEVCTL] + list(args), self.bus.address, user, env)

    # State.
    def journal(self):
        """{address: {key: value}} of the daemon's state records."""
        import configparser
        out = {}
        d = self.daemon.state_dir
        if not os.path.isdir(d):
            return out
        for f in sorted(os.listdir(d)):
            if not fakekernel.ADDRESS.fullmatch(f):
                continue
            kf = configparser.ConfigParser(interpolation=None)
            kf.read(os.path.join(d, f))
            out[f] = dict(kf["device"]) if kf.has_section("device") else None
        return out

    def virsh_error(self, *args):
        """The message a refused virsh command prints on its last line,
        split into (the D-Bus error name of its class, the text after
        libvirt's prefix)."""
        r = self.daemon.virsh(*args)
        if r.returncode == 0:
            raise AssertionError("virsh %s succeeded: %s" % (" ".join(args), r.stdout))
        last = r.stderr.rstrip("\n").split("\n")[-1]
        if not last.startswith("error: "):
            raise AssertionError("virsh %s: unexpected stderr %r" % (" ".join(args), r.stderr))
        text = last[len("error: "):]
        for prefix, name in LIBVIRT_PREFIXES:
            if text.startswith(prefix):
                return ERROR + name, text[len(prefix):]
        return None, text


class TestCase(unittest.TestCase):
    """The tests of one script share one Fixture (made by fixture() in its
    setUpModule): each test starts with polkit denying everything, no
    fault in the fake kernel, an empty kernel log and journal; a test that
    fails half-way leaves no device detached and no daemon dead behind."""
    maxDiff = None

    @property
    def f(self):
        return _fixtures[-1]

    def setUp(self):
        f = self.f
        f.kernel.clear_faults()
        if f.polkit is not None and f.polkit.running():
            f.polkit.deny_all()
        self.assertEqual(f.journal(), {})
        self.assertEqual(f.kernel.driver_of(ADDR), "e1000e")
        f.kernel.clear_log()

    def tearDown(self):
        f = self.f
        errors = list(f.kernel.errors)
        del f.kernel.errors[:]
        f.kernel.clear_faults()
        if f.polkit is not None:
            f.polkit.restore()
            if not f.polkit.running():
                f.polkit.start()
        died = None if f.daemon.alive() else f.daemon.read_log()
        if died is not None:
            f.start_daemon()
        for addr in list(f.journal()):
            try:
                f.manager("ReAttach", pci_name(addr), {}, signature="(sa{sv})")
            except DBusError:
                pass
        self.assertEqual(errors, [], "the fake kernel failed")
        if died is not None:
            self.fail("hostdevd died:\n" + died)

    def assert_nothing_written(self):
        self.f.kernel.quiet(0.3)
        self.assertEqual(self.f.kernel.log(), [])
        self.assertEqual(self.f.journal(), {})

    def assert_detached(self, stub, addr=ADDR, original="e1000e"):
        """@addr on @stub, and the journal says hostdevd holds it."""
        self.assertEqual(self.f.kernel.driver_of(addr), stub)
        rec = self.f.journal().get(addr)
        self.assertIsNotNone(rec, "no journal record for %s" % addr)
        self.assertEqual((rec["state"], rec["stub"], rec.get("original-driver")), ("detached", stub, original))

    def assert_on_host(self, addr=ADDR, driver="e1000e"):
        self.assertEqual(self.f.kernel.driver_of(addr), driver)
        self.assertNotIn(addr, self.f.journal())


def _variant(signature, value):
    from gi.repository import GLib
    return GLib.Variant(signature, value)


def options(**opts):
    """An a{sv} of options as a dict of GLib.Variant for this process's calls."""
    from gi.repository import GLib
    out = {}
    for k, v in opts.items():
        if isinstance(v, GLib.Variant):
            out[k] = v
        elif isinstance(v, bool):
            out[k] = GLib.Variant("b", v)
        elif isinstance(v, int):
            out[k] = GLib.Variant("i", v)
        else:
            out[k] = GLib.Variant("s", v)
    return out


def gvariant_options(**opts):
    """The same options in GVariant text, for gdbus call."""
    if not opts:
        return "@a{sv} {}"
    parts = []
    for k, v in opts.items():
        if isinstance(v, bool):
            parts.append("'%s': <%s>" % (k, "true" if v else "false"))
        elif isinstance(v, int):
            parts.append("'%s': <int32 %d>" % (k, v))
        else:
            parts.append("'%s': <'%s'>" % (k, v))
    return "{" + ", ".join(parts) + "}"


# --- running ----------------------------------------------------------------

def fixture(**kw):
    return Fixture(**kw)


@atexit.register
def _clean_up():
    """After main() has shown the logs: the processes of a run that ended
    without stopping them (a setUpModule that failed, an interrupted run),
    and the fixtures' directories."""
    for proc in _children:
        terminate(proc, 5)
    for f in _fixtures:
        f.bus.remove()


def main():
    """require_tools(), then hdtest.main() (which prints the daemons' logs
    if a test fails); the bus's and polkit mock's logs too on failure."""
    require_tools()
    try:
        hdtest.main()
    except SystemExit as e:
        if e.code not in (0, hdtest.EXIT_SKIP):
            for f in _fixtures:
                for what, path in (("dbus-daemon", f.bus.log_path),
                                   ("polkitd mock", os.path.join(f.bus.dir, "polkitd-mock.log"))):
                    try:
                        with open(path, errors="replace") as fh:
                            print("\n===== %s log =====\n%s" % (what, fh.read()))
                    except OSError:
                        pass
        raise
