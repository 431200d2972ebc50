#!/usr/bin/python3
"""Side-by-side benchmark: hostdevd against libvirtd 9.0, same clients, one run.

    rpc-bench.py [--hostdevd PATH] [--rounds N] [--quick] [--json FILE]

Run as root (libvirtd reads PCI config space and opens its system state only
as root; so does hostdevd, for the same XML).  Not a test: the numbers
depend on the machine; see bench/README.md for what each row means.

Every daemon gets the same treatment, in rounds (daemons alternate within a
round, so drift on a noisy VM hits both):

  start   exec the daemon, poll with python3-libvirt (open + listAllDevices,
          every 2 ms) until the first successful answer -> cold start time;
          close, idle 0.5 s -> VmRSS idle
  python  one python3-libvirt connection, warmed up, then samples of
          - listAllDevices + XMLDesc of every device       (per call)
          - listAllDevices alone, XMLDesc alone            (per call)
          - 1,000 x nodeDeviceLookupByName                  (per call)
          wall time per call, and the daemon's CPU time per call (the sum
          of /proc/PID/task/*/schedstat, all threads, ns resolution)
  virsh   `virsh -c URI nodedev-list`, `virsh -c URI nodedev-dumpxml NAME`
          for every device, whole command timed (process start included)
  after   idle 0.5 s after the workloads -> VmRSS after, VmHWM (peak),
          RssAnon (heap and stacks; the rest of VmRSS is shared libraries)

Medians over all samples of all rounds.  "Every device" is the set both
daemons serve (computer and the PCI functions): libvirtd also lists net and
block devices, which hostdevd does not serve; listAllDevices itself is
unfiltered, each daemon answering with its own list.

libvirtd: a private instance (its own socket directory, auth none, pid file
in a temporary directory, as tests/integration/libvirtd-oracle.sh), reached
as qemu:///system?socket=DIR/libvirt-sock.  If the system already runs a
libvirtd, that one is used (no cold start then: it is already running).
Unless --no-nodedev-only, a second private libvirtd that loads only the
node-device driver (LIBVIRT_DRIVER_DIR) is measured too, as a reference
for the resident-memory comparison; it cannot run beside the full one (both
lock /run/libvirt/nodedev/driver.pid), so daemons run one at a time.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

try:
    import libvirt
except ImportError:
    sys.exit("python3-libvirt is missing: run with Debian's /usr/bin/python3 "
             "(apt install python3-libvirt)")

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
LIBVIRTD = "/usr/sbin/libvirtd"
VIRSH = shutil.which("virsh") or "/usr/bin/virsh"

# libvirt prints every failed probe on stderr otherwise
libvirt.registerErrorHandler(lambda ctx, err: None, None)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------ /proc readers
def proc_status(pid, key):
    """VmRSS / VmHWM of @pid in kB, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_ns(pid):
    """CPU time of every live thread of @pid, in ns (schedstat field 1)."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def peer_pid(path):
    """The pid of the process listening on unix socket @path (SO_PEERCRED)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("3i"))
        return struct.unpack("3i", cred)[0]
    finally:
        s.close()


# ------------------------------------------------------------------ daemons
class Daemon:
    """One daemon under test.  Subclasses know how to start and reach it."""
    label = "?"

    def __init__(self):
        self.proc = None
        self.pid = None
        self.tmp = None
        self.uri = None
        self.note = ""

    def spawn(self):
        raise NotImplementedError

    def start(self, timeout=60.0):
        """Exec the daemon; returns seconds from exec to the first answer."""
        self.tmp = tempfile.mkdtemp(prefix="hd-bench-")
        t0 = time.perf_counter()
        self.spawn()
        deadline = t0 + timeout
        while True:
            try:
                conn = libvirt.open(self.uri)
                try:
                    conn.listAllDevices(0)
                    t1 = time.perf_counter()
                finally:
                    conn.close()
                return t1 - t0
            except libvirt.libvirtError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with status %s:\n%s" % (
                    self.label, self.proc.returncode, self.log_tail()))
            if time.perf_counter() > deadline:
                raise RuntimeError("%s did not answer within %.0f s:\n%s" % (
                    self.label, timeout, self.log_tail()))
            time.sleep(0.002)

    def log_tail(self):
        try:
            with open(os.path.join(self.tmp, "log")) as f:
                return "".join(f.readlines()[-15:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Hostdevd(Daemon):
    label = "hostdevd"

    def __init__(self, binary):
        super().__init__()
        self.binary = binary

    def spawn(self):
        sock = os.path.join(self.tmp, "sock")
        self.uri = "nodedev:///system?socket=" + sock
        self.proc = subprocess.Popen(
            [self.binary, "--socket", sock, "--ro-socket", sock + "-ro"],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(self.tmp, "log"), "w"),
            stderr=subprocess.STDOUT)
        self.pid = self.proc.pid


class PrivateLibvirtd(Daemon):
    """libvirtd with its sockets in a temporary directory, auth none."""
    label = "libvirtd"

    def __init__(self, nodedev_only=False):
        super().__init__()
        self.nodedev_only = nodedev_only
        if nodedev_only:
            self.label = "libvirtd-nodedev"

    def spawn(self):
        sockdir = os.path.join(self.tmp, "run")
        os.mkdir(sockdir)
        conf = os.path.join(self.tmp, "libvirtd.conf")
        with open(conf, "w") as f:
            f.write('unix_sock_dir = "%s"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n'
                    % sockdir)
        env = dict(os.environ)
        if self.nodedev_only:
            mods = glob.glob("/usr/lib/*/libvirt/connection-driver/libvirt_driver_nodedev.so")
            if not mods:
                raise RuntimeError("libvirt's nodedev driver module not found")
            drivers = os.path.join(self.tmp, "drivers")
            os.mkdir(drivers)
            os.symlink(mods[0], os.path.join(drivers, os.path.basename(mods[0])))
            env["LIBVIRT_DRIVER_DIR"] = drivers
            self.uri = "nodedev:///system?socket=%s/libvirt-sock" % sockdir
        else:
            self.uri = "qemu:///system?socket=%s/libvirt-sock" % sockdir
        self.proc = subprocess.Popen(
            [LIBVIRTD, "--config", conf, "--pid-file", os.path.join(self.tmp, "pid")],
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(self.tmp, "log"), "w"),
            stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid


class SystemLibvirtd(Daemon):
    """A libvirtd the system already runs: measured as it is, never restarted."""
    label = "libvirtd"

    def __init__(self, uri, sock):
        super().__init__()
        self.uri = uri
        self.pid = peer_pid(sock)
        self.note = "the system's running libvirtd (pid %d): no cold start" % self.pid

    def start(self, timeout=60.0):
        return None

    def stop(self):
        pass

    def alive(self):
        return os.path.exists("/proc/%d" % self.pid)


def find_system_libvirtd():
    """(uri, socket) of a running system libvirtd, or None."""
    for sock, uri in (("/run/libvirt/libvirt-sock", "qemu:///system"),
                      ("/run/libvirt/virtnodedevd-sock", "nodedev:///system")):
        if not os.path.exists(sock):
            continue
        try:
            libvirt.open(uri).close()
            return uri, sock
        except libvirt.libvirtError:
            continue
    return None


# ---------------------------------------------------------------- workloads
def timed(daemon, calls, fn):
    """Run fn(); returns (wall us per call, daemon CPU us per call)."""
    c0 = cpu_ns(daemon.pid)
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    c1 = cpu_ns(daemon.pid)
    return (t1 - t0) / calls * 1e6, (c1 - c0) / calls / 1e3


def python_workloads(daemon, names, args, res):
    conn = libvirt.open(daemon.uri)
    try:
        devs = {d.name(): d for d in conn.listAllDevices(0)}
        xml_devs = [devs[n] for n in names if n in devs]
        lookup_names = [names[i % len(names)] for i in range(args.lookups)]

        def list_and_xml():
            for _ in range(args.iterations):
                for d in conn.listAllDevices(0):
                    if d.name() in names:
                        d.XMLDesc(0)

        def list_only():
            for _ in range(args.iterations * 4):
                conn.listAllDevices(0)

        def xml_only():
            for _ in range(args.iterations):
                for d in xml_devs:
                    d.XMLDesc(0)

        def lookups():
            for n in lookup_names:
                conn.nodeDeviceLookupByName(n)

        # warm up: caches, page faults, the daemon's worker threads
        for _ in range(3):
            list_and_xml()
            lookups()
        for _ in range(args.samples):
            for key, calls, fn in (
                    ("py_list_xml", args.iterations * (1 + len(xml_devs)), list_and_xml),
                    ("py_list", args.iterations * 4, list_only),
                    ("py_xml", args.iterations * len(xml_devs), xml_only),
                    ("py_lookup", len(lookup_names), lookups)):
                wall, cpu = timed(daemon, calls, fn)
                res.setdefault(key, []).append(wall)
                res.setdefault(key + "_cpu", []).append(cpu)
        res["n_listed"] = [len(devs)]
        res["n_xml"] = [len(xml_devs)]
    finally:
        conn.close()


def virsh(uri, *cmd):
    t0 = time.perf_counter()
    p = subprocess.run([VIRSH, "-q", "-c", uri] + list(cmd),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t1 = time.perf_counter()
    if p.returncode != 0:
        raise RuntimeError("virsh %s: %s" % (" ".join(cmd), p.stderr.decode().strip()))
    return (t1 - t0) * 1e3, p.stdout


def virsh_workloads(daemon, names, args, res):
    virsh(daemon.uri, "nodedev-list")                       # warm up
    for _ in range(args.virsh_repeats):
        ms, out = virsh(daemon.uri, "nodedev-list")
        res.setdefault("virsh_list", []).append(ms)
        total = 0.0
        for n in names:
            ms, out = virsh(daemon.uri, "nodedev-dumpxml", n)
            res.setdefault("virsh_dumpxml", []).append(ms)
            total += ms
        res.setdefault("virsh_dumpxml_all", []).append(total)


def virsh_floor(args):
    """`virsh --version`: process start and library load, no daemon."""
    out = []
    subprocess.run([VIRSH, "--version"], stdout=subprocess.DEVNULL)
    for _ in range(args.virsh_repeats * 3):
        t0 = time.perf_counter()
        subprocess.run([VIRSH, "--version"], stdout=subprocess.DEVNULL)
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out)


def one_round(daemon, names, args, res):
    cold = daemon.start()
    if cold is not None:
        res.setdefault("cold_ms", []).append(cold * 1e3)
    time.sleep(0.5)
    res.setdefault("rss_idle", []).append(proc_status(daemon.pid, "VmRSS"))
    python_workloads(daemon, names, args, res)
    virsh_workloads(daemon, names, args, res)
    time.sleep(0.5)
    res.setdefault("rss_after", []).append(proc_status(daemon.pid, "VmRSS"))
    res.setdefault("rss_peak", []).append(proc_status(daemon.pid, "VmHWM"))
    res.setdefault("rss_anon", []).append(proc_status(daemon.pid, "RssAnon"))
    if not daemon.alive():
        raise RuntimeError("%s died during the workloads:\n%s" % (daemon.label, daemon.log_tail()))
    daemon.stop()


def device_names(daemon):
    """computer and PCI functions, as the daemon lists them."""
    conn = libvirt.open(daemon.uri)
    try:
        return sorted(d.name() for d in conn.listAllDevices(0)
                      if d.name() == "computer" or d.name().startswith("pci_"))
    finally:
        conn.close()


# -------------------------------------------------------------------- table
ROWS = [
    # key, label, unit, scale, target ratio (None: information only)
    ("py_list_xml", "python: listAllDevices + XMLDesc of every device", "us/call", 1, 1 / 3),
    ("py_list", "python: listAllDevices", "us/call", 1, 1 / 3),
    ("py_xml", "python: XMLDesc", "us/call", 1, 1 / 3),
    ("py_lookup", "python: nodeDeviceLookupByName (1,000)", "us/call", 1, 1 / 3),
    ("py_list_xml_cpu", "  daemon CPU: listAllDevices + XMLDesc", "us/call", 1, None),
    ("py_list_cpu", "  daemon CPU: listAllDevices", "us/call", 1, None),
    ("py_xml_cpu", "  daemon CPU: XMLDesc", "us/call", 1, None),
    ("py_lookup_cpu", "  daemon CPU: nodeDeviceLookupByName", "us/call", 1, None),
    ("virsh_list", "virsh nodedev-list (whole command)", "ms", 1, None),
    ("virsh_dumpxml", "virsh nodedev-dumpxml NAME (whole command)", "ms", 1, None),
    ("virsh_dumpxml_all", "virsh nodedev-dumpxml, every device (sum)", "ms", 1, None),
    ("rss_idle", "daemon RSS, idle after start", "MB", 1 / 1024, 1 / 4),
    ("rss_after", "daemon RSS, idle after the workloads", "MB", 1 / 1024, 1 / 4),
    ("rss_peak", "daemon peak RSS (VmHWM)", "MB", 1 / 1024, None),
    ("rss_anon", "  of it anonymous (RssAnon; the rest: mapped files)", "MB", 1 / 1024, None),
    ("cold_ms", "cold start: exec to first listAllDevices answer", "ms", 1, None),
]


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def median(res, key, scale):
    vals = [v for v in res.get(key, []) if v is not None]
    return statistics.median(vals) * scale if vals else None


def print_table(results, order, notes):
    """measure | unit | libvirtd | hostdevd | ratio | target | met [| reference | ratio]"""
    main = [c for c in ("libvirtd", "hostdevd") if c in order]
    extra = [c for c in order if c not in main]
    head = ["measure", "unit"] + main + ["ratio", "target", "met"]
    for e in extra:
        head += [e, "hd/" + e]
    rows = []
    for key, label, unit, scale, target in ROWS:
        vals = {c: median(results[c], key, scale) for c in order}
        if all(v is None for v in vals.values()):
            continue
        hd = vals.get("hostdevd")
        ratio = hd / vals["libvirtd"] if vals.get("libvirtd") and hd is not None else None
        row = [label, unit] + [fmt(vals[c]) for c in main]
        row.append("%.2f" % ratio if ratio is not None else "-")
        if target is None:
            row += ["info", ""]
        else:
            row.append("<= 1/%d" % round(1 / target))
            row.append("-" if ratio is None else ("yes" if ratio <= target else "NO"))
        for e in extra:
            row += [fmt(vals[e]),
                    "%.2f" % (hd / vals[e]) if vals[e] and hd is not None else "-"]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]

    def render(r):
        return "  ".join("%-*s" % (widths[0], v) if i == 0 else "%*s" % (widths[i], v)
                         for i, v in enumerate(r)).rstrip()
    print(render(head))
    print("-" * len(render(head)))
    for r in rows:
        print(render(r))
    print()
    for n in notes:
        print(n)


def machine_summary():
    cpus = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    npci = len(os.listdir("/sys/bus/pci/devices")) if os.path.isdir("/sys/bus/pci/devices") else 0
    virt = []
    if shutil.which("systemd-detect-virt"):
        for kind in ("--vm", "--container"):
            v = subprocess.run(["systemd-detect-virt", kind], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL).stdout.decode().strip()
            if v and v != "none":
                virt.append(("VM: " if kind == "--vm" else "container: ") + v)
    return "%d CPUs (%s), %s, %d PCI functions, kernel %s, libvirt %s" % (
        cpus, model, ", ".join(virt) or "bare metal", npci, os.uname().release,
        ".".join(str(libvirt.getVersion() // d % 1000) for d in (1000000, 1000, 1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hostdevd", default=os.path.join(TOP, "build-gcc/daemon/hostdevd"))
    ap.add_argument("--rounds", type=int, default=5,
                    help="daemon starts per daemon (default 5)")
    ap.add_argument("--samples", type=int, default=3,
                    help="python samples per round (default 3)")
    ap.add_argument("--iterations", type=int, default=50,
                    help="list+XML iterations per sample (default 50)")
    ap.add_argument("--lookups", type=int, default=1000)
    ap.add_argument("--virsh-repeats", type=int, default=1,
                    help="virsh passes per round (default 1)")
    ap.add_argument("--no-nodedev-only", dest="nodedev_only", action="store_false",
                    help="skip the reference libvirtd that loads only the node-device driver")
    ap.add_argument("--no-libvirtd", action="store_true", help="measure hostdevd alone")
    ap.add_argument("--quick", action="store_true", help="2 rounds, fewer iterations")
    ap.add_argument("--json", help="write every raw sample here")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.samples, args.iterations = 2, 2, 20

    if os.geteuid() != 0:
        sys.exit("run as root: libvirtd and hostdevd read PCI config space only as root")
    if not os.access(args.hostdevd, os.X_OK):
        sys.exit("%s is not built (bench/run builds it)" % args.hostdevd)

    notes = []
    daemons = []
    if args.no_libvirtd:
        notes.append("libvirtd: not measured (--no-libvirtd)")
    elif not os.access(LIBVIRTD, os.X_OK):
        notes.append("libvirtd: skipped, %s is not installed" % LIBVIRTD)
    else:
        system = find_system_libvirtd()
        if system:
            daemons.append(SystemLibvirtd(*system))
            notes.append("libvirtd: " + daemons[-1].note)
        else:
            daemons.append(PrivateLibvirtd())
            if args.nodedev_only:
                daemons.append(PrivateLibvirtd(nodedev_only=True))
    daemons.append(Hostdevd(args.hostdevd))

    # Probe each daemon once: can it start, which devices does it serve?
    served = {}
    for d in list(daemons):
        try:
            d.start()
            served[d.label] = device_names(d)
        except (RuntimeError, libvirt.libvirtError) as e:
            if d.label == "hostdevd":
                d.stop()
                sys.exit("hostdevd cannot start: %s" % e)
            lines = [l.strip() for l in str(e).splitlines() if l.strip()] or ["?"]
            why = lines[0].rstrip(":") + ("; last log line: " + lines[-1] if len(lines) > 1 else "")
            notes.append("%s: skipped, it cannot start here (%s)" % (d.label, why))
            daemons.remove(d)
        finally:
            d.stop()
    names = sorted(set.intersection(*(set(v) for v in served.values())))
    for label, v in served.items():
        log("%s serves %d of those devices: %s" % (label, len(v), " ".join(v)))
    log("workloads use the %d both serve" % len(names))

    results = {d.label: {} for d in daemons}
    t_start = time.perf_counter()
    for r in range(args.rounds):
        for d in daemons:
            log("round %d/%d: %s" % (r + 1, args.rounds, d.label))
            try:
                one_round(d, names, args, results[d.label])
            finally:
                d.stop()
    floor = virsh_floor(args)
    elapsed = time.perf_counter() - t_start

    order = [d.label for d in daemons]
    print("hostdevd vs libvirtd, %s" % time.strftime("%Y-%m-%d %H:%M"))
    print("machine: " + machine_summary())
    for d in daemons:
        res = results[d.label]
        print("%s: %s; lists %d devices, XML workload on %d" % (
            d.label, d.uri.split("?")[0], res["n_listed"][0], res["n_xml"][0]))
    print("rounds %d x samples %d, %d list+XML iterations and %d lookups per sample; "
          "medians; %.0f s" % (args.rounds, args.samples, args.iterations, args.lookups, elapsed))
    print()
    notes.append("virsh --version (process start, no daemon): %.1f ms" % floor)
    notes.append("ratio = hostdevd / libvirtd; time targets <= 1/3, memory <= 1/4 "
                 "(DESIGN.md, Targets); 'info' rows have no target")
    print_table(results, order, notes)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_summary(), "args": vars(args), "devices": names,
                       "results": results, "notes": notes}, f, indent=1)


if __name__ == "__main__":
    main()
