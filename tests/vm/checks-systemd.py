#!/usr/bin/python3
"""The VM tier's systemd checks, run INSIDE the QEMU test VM as the service
hostdevd-vm.service, with systemd as PID 1 (test-vm.py --systemd).

hostdevd is installed as a package would be (`meson install` laid over
the root: units in /lib/systemd/system, D-Bus activation and bus policy,
polkit actions, tmpfiles, man pages), its sockets enabled through their
[Install] sections, and nothing started it.  The checks: the sockets
listen with libvirt's paths and modes; a stock `virsh -c nodedev:///system`
starts hostdevd through them; inside its sandbox it detaches and
reattaches a real device; the watchdog is fed; `systemctl stop` ends it
cleanly; a D-Bus call starts it again; a restart of the system bus stops
it cleanly and the next client starts it again; stopping everything
removes the sockets.  Results in /out/results.tap as for checks-guest.py.
"""
import json
import os
import re
import stat
import sys

from guestlib import Checks, expect, log, run, virsh, wait_driver, wait_for

E1000E = "0000:01:00.0"
E1000E_NAME = "pci_0000_01_00_0"
RW = "/run/libvirt/virtnodedevd-sock"
RO = "/run/libvirt/virtnodedevd-sock-ro"
UNITS = ("hostdevd.service", "hostdevd.socket", "hostdevd-ro.socket")
HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
           "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>")
OUT = sys.argv[1]


def show(unit, *props):
    r = run("systemctl", "show", unit, *("-p" + p for p in props), check=True)
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def active(unit):
    return run("systemctl", "is-active", unit).stdout.strip()


def diagnostics():
    parts = [run("systemctl", "status", "--no-pager", "-l", *UNITS).stdout,
             run("journalctl", "--no-pager", "-n", "60", "-u", "hostdevd.service").stdout]
    return "\n".join(parts)


def sanitizer_dropin():
    """A sanitizer build runs with the options the suite gave it.  Its
    runtime needs system calls the unit's filter refuses (LeakSanitizer
    traces the process with ptrace): that build runs without the filter;
    the gcc build checks the filter as shipped."""
    with open(os.path.join(OUT, "config.json")) as f:
        env = json.load(f).get("env", {})
    if "ASAN_OPTIONS" not in env and "UBSAN_OPTIONS" not in env:
        return
    os.makedirs("/etc/systemd/system/hostdevd.service.d", exist_ok=True)
    with open("/etc/systemd/system/hostdevd.service.d/sanitizer.conf", "w") as f:
        f.write("[Service]\nSystemCallFilter=\n")
        for k, v in env.items():
            f.write('Environment="%s=%s"\n' % (k, v))
    run("systemctl", "daemon-reload", check=True)
    log("sanitizer build: hostdevd.service runs without its system-call filter")


with open("/proc/uptime") as f:
    # how long the guest's boot took (TCG): the bulk of this test's time
    log("the checks begin %.0f s after the kernel started" % float(f.read().split()[0]))
checks = Checks(OUT, diagnostics)
check = checks.check
sanitizer_dropin()

with check("systemd is PID 1; hostdevd.socket and hostdevd-ro.socket listen on virtnodedevd's paths "
           "(enabled by their [Install]); tmpfiles made its directories; nothing has started hostdevd.service"):
    with open("/proc/1/comm") as f:
        expect(f.read().strip() == "systemd", "PID 1 is not systemd")
    for unit in ("hostdevd.socket", "hostdevd-ro.socket"):
        expect(run("systemctl", "is-enabled", unit).stdout.strip() == "enabled", unit + " is not enabled")
        expect(active(unit) == "active", unit + " is " + active(unit))
    expect(active("hostdevd.service") == "inactive", "hostdevd.service is " + active("hostdevd.service"))
    rw_mode = stat.S_IMODE(os.stat(RW).st_mode)
    with open("/lib/systemd/system/hostdevd.socket") as f:
        unit_mode = int(re.search(r"^SocketMode=(\d+)$", f.read(), re.M).group(1), 8)
    expect(rw_mode == unit_mode, "%s has mode %o, its unit says %o" % (RW, rw_mode, unit_mode))
    expect(stat.S_IMODE(os.stat(RO).st_mode) == 0o666, "%s is not 0666" % RO)
    # made at boot by systemd-tmpfiles from hostdevd.conf, before hostdevd ever ran
    for d in ("/run/hostdevd", "/var/lib/hostdevd", "/var/lib/hostdevd/assignments"):
        expect(os.path.isdir(d) and stat.S_IMODE(os.stat(d).st_mode) == 0o700,
               "tmpfiles did not make %s 0700" % d)

with check("systemd-analyze verify on the installed units, man pages included; the sandbox's exposure <= 2.0"):
    r = run("systemd-analyze", "verify", *("/lib/systemd/system/" + u for u in UNITS))
    expect(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
           "systemd-analyze verify:\n" + r.stdout + r.stderr)
    r = run("systemd-analyze", "security", "--threshold=20", "--no-pager", "hostdevd.service")
    overall = [line for line in r.stdout.splitlines() if "Overall exposure" in line]
    log(overall[0] if overall else r.stdout[-300:])
    expect(r.returncode == 0, "exposure above 2.0:\n" + r.stdout[-400:] + r.stderr)

with check("virsh -c nodedev:///system nodedev-list starts hostdevd through its socket"):
    r = virsh("nodedev:///system", "nodedev-list", "--cap", "pci")
    expect(r.returncode == 0, "virsh: %s%s" % (r.stdout, r.stderr))
    expect(E1000E_NAME in r.stdout.split(), "no %s in:\n%s" % (E1000E_NAME, r.stdout))
    expect(active("hostdevd.service") == "active", "hostdevd.service is " + active("hostdevd.service"))
    props = show("hostdevd.service", "Type", "NRestarts", "StatusErrno")
    expect(props["Type"] == "notify" and props["NRestarts"] == "0", str(props))
    journal = run("journalctl", "--no-pager", "-u", "hostdevd.service").stdout
    expect("node devices" in journal, "hostdevd's start is not in the journal:\n" + journal[-1000:])

with check("in the sandbox: detach to vfio-pci (loaded by modprobe@vfio_pci.service) and reattach the "
           "e1000e; hostdevctl list and validate through the bus"):
    expect(os.path.isdir("/sys/module/vfio_pci"), "vfio_pci is not loaded")
    r = virsh("nodedev:///system", "nodedev-detach", E1000E_NAME)
    expect(r.returncode == 0, "detach: %s%s" % (r.stdout, r.stderr))
    wait_driver(E1000E, "vfio-pci")
    r = virsh("nodedev:///system", "nodedev-reattach", E1000E_NAME)
    expect(r.returncode == 0, "reattach: %s%s" % (r.stdout, r.stderr))
    wait_driver(E1000E, "e1000e")
    r = run("hostdevctl", "list")
    expect(r.returncode == 0 and E1000E_NAME in r.stdout, "hostdevctl list: %s%s" % (r.stdout, r.stderr))
    r = run("hostdevctl", "validate", "--json")
    expect(r.returncode in (0, 1), "hostdevctl validate exit %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
    # The sandbox must show hostdevd the host as it is: its VFIO checks
    # say what this (unsandboxed) check sees.
    vfio = {c["id"]: c["status"] for c in json.loads(r.stdout)["checks"] if "vfio" in c["id"]}
    node = os.path.exists("/dev/vfio/vfio")
    log("/dev/vfio/vfio %s outside the sandbox; hostdevd's VFIO checks: %s" % ("exists" if node else "is missing", vfio))
    expect(vfio.get("module-vfio-pci") == "pass", "vfio-pci not seen loaded from the sandbox: %s" % vfio)
    # DevicePolicy=closed once made the daemon's access(F_OK) fail on the
    # device node (the device cgroup is asked even then).
    expect((vfio.get("vfio-device") == "pass") == node,
           "the sandbox sees /dev/vfio/vfio differently (%s outside): %s" % ("present" if node else "missing", vfio))

with check("the watchdog is armed (WatchdogSec=30s) and fed"):
    expect(show("hostdevd.service", "WatchdogUSec")["WatchdogUSec"] == "30s", "no watchdog")
    wait_for(lambda: show("hostdevd.service", "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"]
             not in ("", "0"), 40, "a watchdog ping")

with check("systemctl stop hostdevd.service: a clean exit, the sockets stay"):
    run("systemctl", "stop", "hostdevd.service", check=True)
    props = show("hostdevd.service", "ActiveState", "Result", "ExecMainStatus", "ExecMainCode")
    expect(props == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0",
                     "ExecMainCode": "1"}, "after stop: %s" % props)
    expect(active("hostdevd.socket") == "active" and os.path.exists(RW), "the socket went with the service")

with check("a D-Bus call to org.hostdevd1 starts hostdevd.service (D-Bus activation)"):
    r = run("busctl", "get-property", "org.hostdevd1", "/org/hostdevd1/Manager", "org.hostdevd1.Manager",
            "Version", timeout=120)
    expect(r.returncode == 0 and r.stdout.startswith('s "'), "busctl: %s%s" % (r.stdout, r.stderr))
    expect(active("hostdevd.service") == "active", "hostdevd.service is " + active("hostdevd.service"))

with check("Assign in the sandbox: the e1000e detached for a domain, the assignment kept in "
           "StateDirectory= (/var/lib/hostdevd) across a restart; Release gives it back"):
    def manager(method, signature, *args):
        r = run("busctl", "call", "--json=short", "org.hostdevd1", "/org/hostdevd1/Manager",
                "org.hostdevd1.Manager", method, signature, *args, timeout=120)
        expect(r.returncode == 0, "%s: %s%s" % (method, r.stdout, r.stderr))
        return json.loads(r.stdout)["data"]

    def assigned():
        r = run("busctl", "get-property", "--json=short", "org.hostdevd1", "/org/hostdevd1/Manager",
                "org.hostdevd1.Manager", "Assignments", check=True)
        return sorted((a[0], a[1]) for a in json.loads(r.stdout)["data"])

    record = "/var/lib/hostdevd/assignments/hd-sd.assignment"
    manager("Assign", "ssa{sv}", "hd-sd", HOSTDEV, "0")
    wait_driver(E1000E, "vfio-pci")
    expect(os.path.exists(record), "no %s: %s" % (record, os.listdir("/var/lib/hostdevd")))
    run("systemctl", "restart", "hostdevd.service", check=True)
    wait_for(lambda: ("hd-sd", "hostdevd") in assigned(), 30, "hd-sd in Assignments after the restart")
    manager("Release", "sa{sv}", "hd-sd", "0")
    wait_driver(E1000E, "e1000e")
    expect(not os.path.exists(record), record + " is still there after Release")

with check("the system bus restarts: hostdevd says so and stops cleanly, its sockets stay; the next virsh "
           "call starts it again, on the new bus"):
    expect(active("hostdevd.service") == "active", "hostdevd.service is " + active("hostdevd.service"))
    before = show("hostdevd.service", "InvocationID")["InvocationID"]
    run("systemctl", "restart", "dbus.service", check=True, timeout=120)
    wait_for(lambda: active("hostdevd.service") == "inactive", 30, "hostdevd.service to stop")
    props = show("hostdevd.service", "Result", "ExecMainStatus", "NRestarts")
    expect(props == {"Result": "success", "ExecMainStatus": "0", "NRestarts": "0"},
           "after the bus went: %s" % props)
    journal = run("journalctl", "--no-pager", "-u", "hostdevd.service", "_SYSTEMD_INVOCATION_ID=" + before).stdout
    expect("Lost the system bus" in journal, "no word of the lost bus in the journal:\n" + journal[-1000:])
    expect(active("hostdevd.socket") == "active" and os.path.exists(RW), "the socket went with the service")
    r = virsh("nodedev:///system", "nodedev-list", "--cap", "pci")
    expect(r.returncode == 0 and E1000E_NAME in r.stdout.split(), "virsh: %s%s" % (r.stdout, r.stderr))
    expect(active("hostdevd.service") == "active", "hostdevd.service is " + active("hostdevd.service"))
    # the new hostdevd owns its name on the new dbus-daemon
    wait_for(lambda: run("busctl", "get-property", "org.hostdevd1", "/org/hostdevd1/Manager",
                         "org.hostdevd1.Manager", "Version", timeout=60).returncode == 0,
             30, "org.hostdevd1 on the new bus")

with check("stopping the service and its sockets: a clean exit, the sockets removed"):
    run("systemctl", "stop", *UNITS, check=True)
    props = show("hostdevd.service", "Result", "ExecMainStatus")
    expect(props == {"Result": "success", "ExecMainStatus": "0"}, "after stop: %s" % props)
    wait_for(lambda: not os.path.exists(RW) and not os.path.exists(RO), 10, "the sockets to go")
    wait_driver(E1000E, "e1000e")

sys.exit(checks.finish())
