#!/usr/bin/python3
"""hostdevd's memory around GetManagedObjects on a big SR-IOV machine.

    dbus-memory.py [--hostdevd PATH] [--ports 16] [--vfs 254]

The synthetic SR-IOV testbed of sriov-coldstart.py (--ports PFs with --vfs
VFs each; the default 16 x 254 is 4,096 functions), mounted over /sys in a
private mount namespace; a private dbus-daemon stands in for the system bus
(DBUS_SYSTEM_BUS_ADDRESS).  hostdevd runs with --no-libvirt, once with
GLib's default slice allocator and once with G_SLICE=always-malloc (as
hostdevd.service runs it).  For each: RSS once the D-Bus objects are up,
right after an ObjectManager.GetManagedObjects call (what a GUI does when
it starts), and 2 s later (hostdevd gives the memory of a reply of 1
MiB or more back 1 s after sending it: dbus/reply-trimmer.h).

Run as root (the bind mount, and config space is read only by root).
"""
import argparse
import importlib.util
import os
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("coldstart", os.path.join(HERE, "sriov-coldstart.py"))
coldstart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coldstart)


def rss_mb(pid):
    return coldstart.rss_kb(pid) / 1024


def measure(hostdevd, root, work, address, slice_env):
    with coldstart.running_on_bus(hostdevd, root, work, address, slice_env) as proc:
        coldstart.wait_for_manager(proc, address, work)
        time.sleep(0.5)
        res = {"up": rss_mb(proc.pid)}
        t = time.monotonic()
        size = len(coldstart.gdbus(address, "-o", "/org/hostdevd1", "-m",
                                   "org.freedesktop.DBus.ObjectManager.GetManagedObjects").stdout)
        res["call_s"] = time.monotonic() - t
        res["after"] = rss_mb(proc.pid)
        time.sleep(2)
        res["later"] = rss_mb(proc.pid)
        res["reply_text_bytes"] = size
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hostdevd", default=os.path.join(coldstart.TOP, "build-gcc/daemon/hostdevd"))
    ap.add_argument("--ports", type=int, default=16)
    ap.add_argument("--vfs", type=int, default=254)
    args = ap.parse_args()
    with coldstart.testbed_with_bus("hd-dbus-memory-", args.ports, args.vfs) as (work, root, address):
        rows = [("GLib's slice allocator", measure(args.hostdevd, root, work, address, {})),
                ("G_SLICE=always-malloc", measure(args.hostdevd, root, work, address,
                                                  {"G_SLICE": "always-malloc"}))]
        n = args.ports * (args.vfs + 2)
        print("hostdevd RSS around GetManagedObjects, %s" % time.strftime("%Y-%m-%d %H:%M"))
        print("testbed: %d PCI functions (%d PFs x %d VFs, %d root ports); reply %.1f MB as gdbus text"
              % (n, args.ports, args.vfs, args.ports, rows[0][1]["reply_text_bytes"] / 1e6))
        print()
        print("%-24s %12s %16s %12s %10s" % ("allocator", "objects up", "after the call", "2 s later", "the call"))
        for name, r in rows:
            print("%-24s %9.1f MB %13.1f MB %9.1f MB %8.2f s" % (name, r["up"], r["after"], r["later"], r["call_s"]))


if __name__ == "__main__":
    main()
