#!/usr/bin/python3
"""Cold start of hostdevd on a synthetic SR-IOV machine with 16,384 PCI functions.

    sriov-coldstart.py [--hostdevd PATH] [--ports 64] [--vfs 254] [--rounds 3]

1. make-sriov-testbed.py writes devices.umockdev (umockdev-record format).
2. The testbed is loaded into a directory on tmpfs (/dev/shm: in memory, as
   sysfs is).  Not with `umockdev-run -d`: its loader is quadratic in the
   number of devices (78 s for 516 devices and 320 s for 1,032 here;
   16,384 would take hours), so load_testbed() below writes the same tree
   umockdev-run writes (attributes, uevent, subsystem and bus links; checked
   against umockdev-run on a small testbed with --check-loader), then
   tests/data/testbeds/complete-sysfs.py adds /sys/kernel/iommu_groups and
   the driver directories, as for the test suite's testbeds.
3. Bare cost: a loop that reads, for every PCI function, uevent, vendor,
   device, class, subsystem_vendor, subsystem_device, revision and config,
   and resolves the driver, iommu_group and physfn links (os.open/os.read,
   no Python file objects).  Twice: through umockdev's preload library and
   /sys paths (the way hostdevd reads them here) and directly in the testbed
   directory (no interposer).
4. hostdevd runs under umockdev's preload (umockdev-wrapper's LD_PRELOAD,
   UMOCKDEV_DIR = the testbed); a python3-libvirt client outside it polls
   every 5 ms (open + listAllDevices) from exec to the first successful
   answer.  Then RSS, and a few calls on the big inventory.

Run as root (hostdevd parses config space only when privileged).
"""
import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
COMPLETE = os.path.join(TOP, "tests/data/testbeds/complete-sysfs.py")
PRELOAD = "libumockdev-preload.so.0"

libvirt.registerErrorHandler(lambda ctx, err: None, None)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------- the loader
def g_strcompress(s):
    """Inverse of g_strescape(): how umockdev reads A: values."""
    out = bytearray()
    i, n = 0, len(s)
    simple = {"b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
    while i < n:
        c = s[i]
        if c != "\\" or i + 1 == n:
            out += c.encode()
            i += 1
            continue
        c = s[i + 1]
        if "0" <= c <= "7":
            j = i + 1
            while j < n and j < i + 4 and "0" <= s[j] <= "7":
                j += 1
            out.append(int(s[i + 1:j], 8) & 0xff)
            i = j
        else:
            out.append(simple.get(c, ord(c)))
            i += 2
    return bytes(out)


def load_testbed(umockdev_file, root):
    """Materialise @umockdev_file under @root/sys as umockdev-run -d does."""
    sysdir = os.path.join(root, "sys")
    n = 0
    with open(umockdev_file) as f:
        text = f.read()
    for block in text.split("\n\n"):
        lines = [l for l in block.split("\n") if l]
        if not lines:
            continue
        assert lines[0].startswith("P: "), lines[0]
        devpath = lines[0][3:]
        d = sysdir + devpath
        os.makedirs(d, exist_ok=True)
        props = []
        for line in lines[1:]:
            kind, rest = line[0], line[3:]
            name, _, val = rest.partition("=")
            if kind == "E":
                props.append(rest)
                continue
            path = os.path.join(d, name)
            if "/" in name:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            if kind == "A":
                with open(path, "wb") as out:
                    out.write(g_strcompress(val))
            elif kind == "H":
                with open(path, "wb") as out:
                    out.write(bytes.fromhex(val))
            elif kind == "L":
                os.symlink(val, path)
        subsystem = next((p.split("=", 1)[1] for p in props if p.startswith("SUBSYSTEM=")), None)
        with open(os.path.join(d, "uevent"), "w") as out:
            out.write("".join(p + "\n" for p in props))
        if subsystem:
            depth = devpath.count("/")
            bus = os.path.join(sysdir, "bus", subsystem)
            kind = "bus" if subsystem in ("pci", "usb", "platform") else "class"
            up = "../" * depth
            os.symlink(up + "%s/%s" % (kind, subsystem), os.path.join(d, "subsystem"))
            if kind == "bus":
                os.makedirs(os.path.join(bus, "devices"), exist_ok=True)
                os.symlink("../../.." + devpath, os.path.join(bus, "devices", os.path.basename(d)))
            else:
                cls = os.path.join(sysdir, "class", subsystem)
                os.makedirs(cls, exist_ok=True)
                os.symlink("../.." + devpath, os.path.join(cls, os.path.basename(d)))
        n += 1
    return n


def check_loader(umockdev_file):
    """Diff load_testbed() against umockdev-run -d on @umockdev_file."""
    work = tempfile.mkdtemp(prefix="hd-loader-", dir="/dev/shm")
    try:
        ref = os.path.join(work, "ref")
        subprocess.run(["umockdev-run", "-d", umockdev_file, "--", "sh", "-c",
                        'cp -a "$UMOCKDEV_DIR/sys" "$0"', ref], check=True,
                       env=dict(os.environ, TMPDIR=work))
        mine = os.path.join(work, "mine")
        load_testbed(umockdev_file, mine)
        r = subprocess.run(["diff", "-r", "--no-dereference", ref, os.path.join(mine, "sys")])
        print("loader matches umockdev-run" if r.returncode == 0 else "loader DIFFERS")
        return r.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------- bare cost
BARE_READER = r'''
import os, sys, time
sysfs = sys.argv[1]
FILES = ("uevent", "vendor", "device", "class", "subsystem_vendor",
         "subsystem_device", "revision", "config")
LINKS = ("driver", "iommu_group", "physfn")
t0 = time.perf_counter()
base = sysfs + "/bus/pci/devices"
n = 0
for name in os.listdir(base):
    d = os.path.realpath(base + "/" + name)
    for f in FILES:
        fd = os.open(d + "/" + f, os.O_RDONLY)
        os.read(fd, 4096)
        os.close(fd)
    for l in LINKS:
        try:
            os.readlink(d + "/" + l)
        except OSError:
            pass
    n += 1
print(n, time.perf_counter() - t0)
'''


def build_testbed(work, ports, vfs):
    """Generates, loads and completes the testbed under WORK/bed (the
    devices.umockdev file is gone afterwards).  Returns (number of devices,
    {step: seconds})."""
    steps = {}
    t = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "make-sriov-testbed.py"),
                    "--ports", str(ports), "--vfs", str(vfs), work],
                   check=True, stdout=subprocess.DEVNULL)
    steps["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    nblocks = load_testbed(os.path.join(work, "devices.umockdev"), os.path.join(work, "bed"))
    steps["load"] = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, COMPLETE, os.path.join(work, "bed")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    steps["complete"] = time.perf_counter() - t
    os.unlink(os.path.join(work, "devices.umockdev"))
    return nblocks, steps


@contextlib.contextmanager
def private_bus():
    """A dbus-daemon standing in for the system bus; yields its address."""
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield bus.stdout.readline().strip()
    finally:
        bus.terminate()
        bus.wait()


def gdbus(address, *args):
    """gdbus call to org.hostdevd1 on the private bus at ADDRESS."""
    return subprocess.run(["gdbus", "call", "--system", "-d", "org.hostdevd1"] + list(args),
                          env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address),
                          capture_output=True, text=True)


def manager_answers(address):
    """org.hostdevd1 is on the bus at ADDRESS, with its Manager."""
    return gdbus(address, "-o", "/org/hostdevd1/Manager", "-m", "org.freedesktop.DBus.Properties.Get",
                 "org.hostdevd1.Manager", "Version").returncode == 0


@contextlib.contextmanager
def running_on_bus(hostdevd, root, work, address, extra_env, mode="bind"):
    """hostdevd (--no-libvirt) on the testbed ROOT in MODE (see in_mode()),
    on the private bus at ADDRESS, logging to WORK/hostdevd.log; G_SLICE
    only as EXTRA_ENV says.  Yields the process; stops it afterwards."""
    cmd, env = in_mode([hostdevd, "--no-libvirt", "--socket", work + "/sock",
                        "--ro-socket", work + "/sock-ro", "--state-dir", work + "/state",
                        "--assignments-dir", work + "/assignments"], root, mode)
    env["DBUS_SYSTEM_BUS_ADDRESS"] = address
    env.pop("G_SLICE", None)
    env.update(extra_env)
    with open(os.path.join(work, "hostdevd.log"), "w") as logf:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for_manager(proc, address, work, poll=0.05):
    """Until org.hostdevd1's Manager answers on the bus at ADDRESS (at
    most 300 s, and only while PROC runs)."""
    deadline = time.monotonic() + 300
    while not manager_answers(address):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("hostdevd did not come up on the bus (see %s/hostdevd.log)" % work)
        time.sleep(poll)


@contextlib.contextmanager
def testbed_with_bus(prefix, ports, vfs):
    """For the D-Bus benchmarks: a testbed and a private bus, removed
    afterwards; yields (work directory, testbed root, bus address)."""
    if os.geteuid() != 0:
        sys.exit("run as root: the bind mount, and hostdevd parses config space only when privileged")
    work = tempfile.mkdtemp(prefix=prefix, dir="/dev/shm")
    try:
        build_testbed(work, ports, vfs)
        with private_bus() as address:
            yield work, os.path.join(work, "bed"), address
    finally:
        shutil.rmtree(work, ignore_errors=True)


def in_mode(cmd, root, mode):
    """@cmd made to see the testbed as /sys: (argv, env)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("UMOCKDEV_DIR", None)
    if mode == "preload":
        env.update(LD_PRELOAD=PRELOAD, UMOCKDEV_DIR=root)
    elif mode == "bind":
        # libudev checks that /sys is a sysfs mount; a bind-mounted tmpfs
        # is accepted only with this (as record-umockdev-oracle.sh does)
        env["SYSTEMD_DEVICE_VERIFY_SYSFS"] = "0"
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount --bind "$0/sys" /sys && exec "$@"', root] + cmd
    return cmd, env


def bare_cost(root, mode):
    """mode: preload (umockdev's interposer), bind (testbed mounted over
    /sys in a private mount namespace) or direct (the testbed's own paths)."""
    sysfs = os.path.join(root, "sys") if mode == "direct" else "/sys"
    cmd, env = in_mode([sys.executable, "-c", BARE_READER, sysfs], root, mode)
    out = subprocess.run(cmd, env=env, check=True,
                         stdout=subprocess.PIPE).stdout.decode().split()
    return int(out[0]), float(out[1])


# ----------------------------------------------------------- hostdevd
def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cold_start(hostdevd, root, work, mode, extra):
    sock = os.path.join(work, "sock")
    uri = "nodedev:///system?socket=" + sock
    cmd, env = in_mode([hostdevd, "--socket", sock, "--ro-socket", sock + "-ro",
                          "--state-dir", os.path.join(work, "state")], root, mode)
    logf = open(os.path.join(work, "hostdevd.log"), "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=logf,
                            stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                conn = libvirt.open(uri)
                names = [d.name() for d in conn.listAllDevices(0)]
                n = len(names)
                t1 = time.perf_counter()
                break
            except libvirt.libvirtError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("hostdevd exited with %d" % proc.returncode)
            if time.perf_counter() - t0 > 300:
                raise RuntimeError("hostdevd did not answer within 300 s")
            time.sleep(0.005)
        res = {"first_answer_s": t1 - t0, "devices": n}
        try:
            with open("/proc/%d/stat" % proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            res["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
        time.sleep(0.5)
        res["rss_kb"] = rss_kb(proc.pid)
        if extra:
            def per_call(fn, k):
                s = time.perf_counter()
                for _ in range(k):
                    fn()
                return (time.perf_counter() - s) / k
            pf = conn.nodeDeviceLookupByName("pci_0000_01_00_0")
            vf = conn.nodeDeviceLookupByName("pci_0000_01_00_1")
            res["list_all_ms"] = per_call(lambda: conn.listAllDevices(0), 5) * 1e3
            res["xml_pf_us"] = per_call(lambda: pf.XMLDesc(0), 100) * 1e6
            res["xml_vf_us"] = per_call(lambda: vf.XMLDesc(0), 200) * 1e6
            res["lookup_us"] = per_call(
                lambda: conn.nodeDeviceLookupByName(names[-1]), 1000) * 1e6
            res["rss_after_kb"] = rss_kb(proc.pid)
        conn.close()
        return res
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logf.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hostdevd", default=os.path.join(TOP, "build-gcc/daemon/hostdevd"))
    ap.add_argument("--ports", type=int, default=64)
    ap.add_argument("--vfs", type=int, default=254)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tmpdir", default="/dev/shm",
                    help="where the testbed goes (default /dev/shm: tmpfs, like sysfs)")
    ap.add_argument("--keep", action="store_true", help="keep the testbed directory")
    ap.add_argument("--modes", default="bind,preload",
                    help="how hostdevd sees the testbed: bind, preload or both (default)")
    ap.add_argument("--check-loader", metavar="UMOCKDEV_FILE",
                    help="only compare the loader with umockdev-run -d on a small testbed")
    args = ap.parse_args()
    if args.check_loader:
        sys.exit(check_loader(args.check_loader))
    if os.geteuid() != 0:
        sys.exit("run as root: hostdevd parses config space only when privileged")

    work = tempfile.mkdtemp(prefix="hd-sriov-", dir=args.tmpdir)
    root = os.path.join(work, "bed")
    try:
        nblocks, steps = build_testbed(work, args.ports, args.vfs)
        log("testbed: %d devices, generated in %.1f s, loaded in %.1f s, completed in %.1f s"
            % (nblocks, steps["generate"], steps["load"], steps["complete"]))

        modes = [m for m in ("bind", "preload") if m in args.modes]
        bare = {m: [] for m in ("direct",) + tuple(modes)}
        runs = {m: [] for m in modes}
        npci = 0
        for r in range(args.rounds):
            for m in bare:
                npci, t = bare_cost(root, m)
                bare[m].append(t)
            for m in modes:
                runs[m].append(cold_start(args.hostdevd, root, work, m,
                                          extra=(r == args.rounds - 1)))
            log("round %d: " % (r + 1) + ", ".join(
                "%s first answer %.3f s" % (m, runs[m][-1]["first_answer_s"]) for m in modes) +
                "; bare " + ", ".join("%s %.3f s" % (m, bare[m][-1]) for m in bare))

        med = statistics.median
        print("hostdevd cold start, synthetic SR-IOV testbed, %s" % time.strftime("%Y-%m-%d %H:%M"))
        print("testbed: %d PCI functions (%d root ports, %d PFs x %d VFs) + DMI, on %s; "
              "%d rounds, medians" % (npci, args.ports, args.ports, args.vfs, args.tmpdir,
                                      args.rounds))
        print("bind: the testbed mounted over /sys in a private mount namespace, no "
              "interposer;\npreload: umockdev's LD_PRELOAD library redirecting /sys "
              "(umockdev-wrapper)")
        print()
        rows = []
        for m in modes:
            first = med(x["first_answer_s"] for x in runs[m])
            rows += [
                ("[%s] exec -> first listAllDevices answer (%d devices)"
                 % (m, runs[m][-1]["devices"]), "%.3f s" % first, "< 1 s"),
                ("[%s]   hostdevd CPU time until then" % m,
                 "%.3f s" % med(x["cpu_s"] for x in runs[m]), ""),
                ("[%s] bare read of the same functions' files" % m, "%.3f s" % med(bare[m]), ""),
                ("[%s] first answer / bare read" % m, "%.2f" % (first / med(bare[m])), "<= 2"),
                ("[%s] RSS idle after start" % m,
                 "%.1f MB" % (med(x["rss_kb"] for x in runs[m]) / 1024), ""),
            ]
            last = runs[m][-1]
            if "list_all_ms" in last:
                rows += [
                    ("[%s] listAllDevices, %d devices (one call)" % (m, last["devices"]),
                     "%.1f ms" % last["list_all_ms"], ""),
                    ("[%s] XMLDesc of a PF (%d virt_functions)" % (m, args.vfs),
                     "%.0f us" % last["xml_pf_us"], ""),
                    ("[%s] XMLDesc of a VF" % m, "%.0f us" % last["xml_vf_us"], ""),
                    ("[%s] nodeDeviceLookupByName" % m, "%.0f us" % last["lookup_us"], ""),
                    ("[%s] RSS after those calls" % m,
                     "%.1f MB" % (last["rss_after_kb"] / 1024), ""),
                ]
        rows.append(("bare read, directly in the testbed directory",
                     "%.3f s" % med(bare["direct"]), ""))
        w = max(len(r[0]) for r in rows)
        print("%-*s  %10s  %s" % (w, "measure", "hostdevd", "target"))
        print("-" * (w + 20))
        for r in rows:
            print("%-*s  %10s  %s" % (w, r[0], r[1], r[2]))
        print()
        for m in modes:
            print("%s first answers: %s s" % (m, ", ".join(
                "%.3f" % x["first_answer_s"] for x in runs[m])))
        print("bare read: per function, uevent vendor device class subsystem_vendor "
              "subsystem_device revision config\n  read, driver iommu_group physfn readlink; "
              "python os.open/os.read (an upper bound of the syscalls' own cost)")
    finally:
        if args.keep:
            log("kept " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
