#!/usr/bin/python3
"""From a kernel uevent to hostdevd's libvirt event and D-Bus signal.

    event-latency.py [--hostdevd PATH] [--sizes 1x6,64x254] [--rounds 40]

DESIGN.md's target: less than 50 ms from the uevent to the RPC event
(virNodeDeviceEventRegisterAny, VIR_NODE_DEVICE_EVENT_ID_UPDATE) and to the
D-Bus signal (PropertiesChanged of the org.hostdevd1.Device).

For each size (PORTSxVFS, the synthetic SR-IOV testbed of
sriov-coldstart.py): hostdevd runs under umockdev's preload library, which
stands in for the kernel's uevent socket, on a private bus.  This process
plays the kernel for one unbound VF, again and again: it binds it to
vfio-pci (the driver links and DRIVER= in its uevent file, as the kernel's
driver_bound() leaves them), sends the "bind" uevent, waits for both
notifications, then unbinds it the same way.  The uevent is sent the way
umockdev's UMockdevTestbed.uevent() sends it (send_uevent() below): the
testbed is too big for umockdev's own loader, so there is no
UMockdevTestbed to ask.

Printed: median, 90th percentile and worst of each latency over all
rounds (bind and unbind alike).  libvirtd has no D-Bus side, and its udev
backend takes a bind or an unbind only as an "update" without reading the
device again, so there is no libvirtd column.

Run as root (hostdevd parses config space only when privileged).
"""
import argparse
import glob
import importlib.util
import os
import socket
import statistics
import struct
import sys
import threading
import time

import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("coldstart", os.path.join(HERE, "sriov-coldstart.py"))
coldstart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coldstart)
libvirt = coldstart.libvirt

DEVICE_IFACE = "org.hostdevd1.Device"
UDEV_MONITOR_MAGIC = 0xfeedcafe


def murmur2(text):
    """systemd's string_hash32() (MurmurHash2), as umockdev's sender uses it."""
    data = text.encode()
    m, r = 0x5bd1e995, 24
    h = len(data)
    i = 0
    while len(data) - i >= 4:
        k = struct.unpack_from("<I", data, i)[0]
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
        i += 4
    rest = data[i:]
    if len(rest) == 3:
        h ^= rest[2] << 16
    if len(rest) >= 2:
        h ^= rest[1] << 8
    if len(rest) >= 1:
        h ^= rest[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h


class UeventSender:
    """umockdev's uevent_sender_send() (src/uevent_sender.c): a libudev
    monitor message to every event socket the preload library made in the
    testbed root for a process's uevent monitor."""

    def __init__(self, root):
        self.root = root
        self.seqnum = 1

    def send(self, syspath, action):
        devdir = os.path.join(self.root, syspath.lstrip("/"))
        with open(os.path.join(devdir, "uevent")) as f:
            extra = [line for line in f.read().split("\n") if line]
        props = ["ACTION=" + action, "DEVPATH=" + syspath[len("/sys"):], "SUBSYSTEM=pci",
                 "SEQNUM=%d" % self.seqnum] + extra
        self.seqnum += 1
        body = b"".join(p.encode() + b"\0" for p in props)
        header = struct.pack("=8sIIIIIIII", b"libudev", socket.htonl(UDEV_MONITOR_MAGIC), 40, 40, len(body),
                             socket.htonl(murmur2("pci")), 0, 0, 0)
        sent = 0
        for path in glob.glob(os.path.join(self.root, "event[0-9]*")):
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                try:
                    s.connect(path)
                except ConnectionRefusedError:
                    continue
                s.sendmsg([header, body])
                sent += 1
        return sent


class Kernel:
    """Binds and unbinds one function of the testbed, as fakekernel.py's
    _bind() and _unbind() do."""

    def __init__(self, root, addr, sender):
        self.sys = os.path.join(root, "sys")
        self.addr = addr
        self.sender = sender
        self.devdir = os.path.realpath(os.path.join(self.sys, "bus/pci/devices", addr))
        self.syspath = "/sys/" + os.path.relpath(self.devdir, self.sys)

    def _set_uevent_driver(self, driver):
        path = os.path.join(self.devdir, "uevent")
        with open(path) as f:
            lines = [line for line in f.read().split("\n") if line and not line.startswith("DRIVER=")]
        if driver is not None:
            lines.append("DRIVER=" + driver)
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))

    def bind(self, driver):
        ddir = os.path.join(self.sys, "bus/pci/drivers", driver)
        os.makedirs(ddir, exist_ok=True)
        depth = len(os.path.relpath(self.devdir, self.sys).split(os.sep))
        os.symlink("../" * depth + "bus/pci/drivers/" + driver, os.path.join(self.devdir, "driver"))
        os.symlink(os.path.relpath(self.devdir, ddir), os.path.join(ddir, self.addr))
        self._set_uevent_driver(driver)
        return self.sender.send(self.syspath, "bind")

    def unbind(self, driver):
        os.unlink(os.path.join(self.devdir, "driver"))
        os.unlink(os.path.join(self.sys, "bus/pci/drivers", driver, self.addr))
        self._set_uevent_driver(None)
        return self.sender.send(self.syspath, "unbind")


def unbound_vf(root):
    """The first virtual function without a driver."""
    devices = os.path.join(root, "sys/bus/pci/devices")
    for addr in sorted(os.listdir(devices)):
        d = os.path.join(devices, addr)
        if os.path.exists(os.path.join(d, "physfn")) and not os.path.lexists(os.path.join(d, "driver")):
            return addr
    sys.exit("the testbed has no unbound virtual function (--vfs must be at least 2)")


class Listener:
    """Both doors' notifications about one device, each with the time it
    arrived in this process."""

    def __init__(self, address, sock, name):
        self.cond = threading.Condition()
        self.events = []   # (door, perf_counter)
        path = "/org/hostdevd1/devices/" + name
        self.ctx = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.ctx, False)
        ready = threading.Event()

        def run_glib():
            self.ctx.push_thread_default()
            self.bus = Gio.DBusConnection.new_for_address_sync(
                address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
            self.bus.signal_subscribe("org.hostdevd1", "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      path, DEVICE_IFACE, Gio.DBusSignalFlags.NONE, self._on_signal)
            # The match rule is in place once a call through the bus has returned.
            self.bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetId", None, None, Gio.DBusCallFlags.NONE, -1, None)
            ready.set()
            self.loop.run()

        self.glib_thread = threading.Thread(target=run_glib, daemon=True)
        self.glib_thread.start()
        ready.wait(10)
        libvirt.virEventRegisterDefaultImpl()
        self.conn = libvirt.open("nodedev:///system?socket=" + sock)
        self.running = True

        def run_libvirt():
            while self.running:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run_libvirt, daemon=True).start()
        self.cb = self.conn.nodeDeviceEventRegisterAny(self.conn.nodeDeviceLookupByName(name),
                                                       libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE,
                                                       self._on_update, None)

    def _note(self, door):
        with self.cond:
            self.events.append((door, time.perf_counter()))
            self.cond.notify_all()

    def _on_signal(self, _conn, _sender, _path, _iface, _member, params):
        if "Driver" in params.unpack()[1]:
            self._note("dbus")

    def _on_update(self, _conn, _dev, _data):
        self._note("rpc")

    def wait_both(self, since, timeout=10):
        """{door: seconds after @since} for the first notification of each
        door after @since."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                got = {}
                for door, t in self.events:
                    if t >= since and door not in got:
                        got[door] = t - since
                if len(got) == 2 or time.perf_counter() > deadline:
                    return got
                self.cond.wait(0.05)

    def close(self):
        self.running = False
        try:
            self.conn.nodeDeviceEventDeregisterAny(self.cb)
            self.conn.close()
        except libvirt.libvirtError:
            pass
        self.loop.quit()


def measure(hostdevd, ports, vfs, rounds):
    with coldstart.testbed_with_bus("hd-event-latency-", ports, vfs) as (work, root, address):
        npci = len(os.listdir(os.path.join(root, "sys/bus/pci/devices")))
        addr = unbound_vf(root)
        name = "pci_" + addr.replace(":", "_").replace(".", "_")
        with coldstart.running_on_bus(hostdevd, root, work, address, {"G_SLICE": "always-malloc"},
                                      "preload") as proc:
            coldstart.wait_for_manager(proc, address, work, poll=0.1)
            listener = Listener(address, work + "/sock", name)
            kernel = Kernel(root, addr, UeventSender(root))
            lat = {"rpc": [], "dbus": []}
            missed = 0
            try:
                for _ in range(rounds):
                    for step in (lambda: kernel.bind("vfio-pci"), lambda: kernel.unbind("vfio-pci")):
                        time.sleep(0.1)   # nothing else in flight
                        since = time.perf_counter()
                        if step() == 0:
                            raise RuntimeError("no uevent socket in the testbed: is hostdevd listening?")
                        got = listener.wait_both(since)
                        missed += 2 - len(got)
                        for door, t in got.items():
                            lat[door].append(t * 1e3)
            finally:
                listener.close()
            return npci, lat, missed


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hostdevd", default=os.path.join(coldstart.TOP, "build-gcc/daemon/hostdevd"))
    ap.add_argument("--sizes", default="1x6,64x254",
                    help="PORTSxVFS testbeds, comma-separated (default: 8 and 16,384 functions)")
    ap.add_argument("--rounds", type=int, default=40, help="binds and unbinds per size (default 40 each)")
    args = ap.parse_args()
    rows = []
    for size in args.sizes.split(","):
        ports, vfs = (int(x) for x in size.split("x"))
        npci, lat, missed = measure(args.hostdevd, ports, vfs, args.rounds)
        coldstart.log("%d functions: %d notifications missed" % (npci, missed))
        for door, label in (("rpc", "libvirt UPDATE event"), ("dbus", "D-Bus PropertiesChanged")):
            v = lat[door]
            rows.append((npci, label, statistics.median(v), pct(v, 90), max(v), len(v)))
    print("uevent -> notification, %s; hostdevd under umockdev's preload library" % time.strftime("%Y-%m-%d %H:%M"))
    print()
    print("%9s  %-24s %9s %9s %9s %6s  %s" % ("functions", "notification", "median", "p90", "worst", "n", "target"))
    print("-" * 84)
    for npci, label, med, p90, worst, n in rows:
        print("%9d  %-24s %6.1f ms %6.1f ms %6.1f ms %6d  < 50 ms" % (npci, label, med, p90, worst, n))


if __name__ == "__main__":
    main()
