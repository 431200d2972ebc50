#!/usr/bin/python3
"""hostdevd's cold start on a big SR-IOV machine with a system bus.

    dbus-coldstart.py [--hostdevd PATH] [--ports 64] [--vfs 254] [--rounds 3]

sriov-coldstart.py measures the cold start without a bus.  A host has one,
and hostdevd then also builds a D-Bus object for every device (its
properties and verdict) and exports them all when it acquires the bus.
This runs hostdevd (--no-libvirt) on the synthetic testbed of
sriov-coldstart.py (bind mode) with a private dbus-daemon standing in for
the system bus, and prints, from exec: the first python3-libvirt
listAllDevices answer, the moment org.hostdevd1's Manager answers, and the
longest nodeDeviceLookupByName a client polling every 5 ms saw while that
happened (the main loop is busy meanwhile).

Run as root (the bind mount, and config space is read only by root).
"""
import argparse
import importlib.util
import os
import statistics
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("coldstart", os.path.join(HERE, "sriov-coldstart.py"))
coldstart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coldstart)
libvirt = coldstart.libvirt


def one_start(hostdevd, root, work, address):
    t0 = time.perf_counter()
    # G_SLICE as hostdevd.service runs it
    with coldstart.running_on_bus(hostdevd, root, work, address, {"G_SLICE": "always-malloc"}) as proc:
        return watch_start(proc, work, address, t0)


def watch_start(proc, work, address, t0):
    """one_start()'s measurements of PROC, started at T0."""
    bus_up = {}

    def watch():
        while "t" not in bus_up and proc.poll() is None and time.perf_counter() - t0 < 300:
            if coldstart.manager_answers(address):
                bus_up["t"] = time.perf_counter() - t0
            time.sleep(0.02)

    conn = None
    while conn is None:
        try:
            conn = libvirt.open("nodedev:///system?socket=" + work + "/sock")
            conn.listAllDevices(0)
        except libvirt.libvirtError:
            conn = None
            if proc.poll() is not None or time.perf_counter() - t0 > 300:
                raise RuntimeError("hostdevd did not answer (see %s/hostdevd.log)" % work)
            time.sleep(0.005)
    first = time.perf_counter() - t0
    watcher = threading.Thread(target=watch)
    watcher.start()
    worst = 0.0
    # Poll until the bus side has been up for 1 s.
    while "t" not in bus_up or time.perf_counter() - t0 < bus_up["t"] + 1:
        if not watcher.is_alive() and "t" not in bus_up:
            raise RuntimeError("org.hostdevd1 did not come up (see %s/hostdevd.log)" % work)
        a = time.perf_counter()
        conn.nodeDeviceLookupByName("computer")
        worst = max(worst, time.perf_counter() - a)
        time.sleep(0.005)
    watcher.join()
    return {"first_rpc_s": first, "bus_up_s": bus_up["t"], "worst_lookup_ms": worst * 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hostdevd", default=os.path.join(coldstart.TOP, "build-gcc/daemon/hostdevd"))
    ap.add_argument("--ports", type=int, default=64)
    ap.add_argument("--vfs", type=int, default=254)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with coldstart.testbed_with_bus("hd-dbus-coldstart-", args.ports, args.vfs) as (work, root, address):
        runs = [one_start(args.hostdevd, root, work, address) for _ in range(args.rounds)]
        n = args.ports * (args.vfs + 2)
        print("hostdevd cold start with a system bus, %s" % time.strftime("%Y-%m-%d %H:%M"))
        print("testbed: %d PCI functions (%d PFs x %d VFs, %d root ports), bind mode; %d rounds, medians"
              % (n, args.ports, args.vfs, args.ports, args.rounds))
        print()
        for key, label, unit in (("first_rpc_s", "exec -> first listAllDevices answer", "s"),
                                 ("bus_up_s", "exec -> org.hostdevd1 Manager answers", "s"),
                                 ("worst_lookup_ms", "longest lookup meanwhile (polled every 5 ms)", "ms")):
            values = [r[key] for r in runs]
            print("%-48s %8.3f %s   (%s)" % (label, statistics.median(values), unit,
                                             ", ".join("%.3f" % v for v in values)))


if __name__ == "__main__":
    main()
