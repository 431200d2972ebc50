#!/usr/bin/python3
"""The VM tier's checks, run INSIDE the QEMU test VM by test-vm.py as
`checks-guest.py /out`.  /out/config.json names the hostdevd to test.

Real kernel, real IOMMU groups (emulated VT-d), real libvirtd 9.0 in the
same guest as the oracle, the stock clients (virsh, python3-libvirt)
talking to hostdevd on virtnodedevd's sockets.  Each check is numbered and
recorded in /out/results.tap; a failing one prints its traceback, the tail
of hostdevd's log, the kernel's last messages and every PCI function's
driver on the serial console.  The checks run in this order because they
share one guest: each one leaves the devices as it found them.
"""
import difflib
import json
import os
import re
import sys
import time

import libvirt

import dbuschecks

from guestlib import (HD_URI, LV_URI, PCI, Background, Checks, expect, Hostdevd, Qmp, events, driver_of, iommu_group,
                      lifecycle_line, log, net_interfaces, override_of, pci_name, pci_state, run,
                      settle, start_system_daemons, virsh, virsh_tree, vfio_node, wait_driver, wait_for)

E1000E = "0000:01:00.0"     # PCIe, alone in its group
E1000 = "0000:02:01.0"      # conventional PCI behind the PCIe-to-PCI bridge ...
RTL = "0000:02:02.0"        # ... with an rtl8139 (8139cp): one group with the bridge
BRIDGE = "0000:00:04.0"
ROOT_9P = "0000:00:02.0"    # virtio-9p under the guest's root filesystem
OUT_9P = "0000:00:07.0"     # virtio-9p under /out
NVME = "0000:03:00.0"       # SR-IOV physical function
VFS = ("0000:03:00.1", "0000:03:00.2")
HOTPLUG = "0000:04:00.0"    # what device_add on root port rp3 creates

DETACH_GROUP = 1 << 30      # hostdevd's own detachFlags bits (README)
DETACH_FORCE = 1 << 29

out = sys.argv[1]
with open(os.path.join(out, "config.json")) as f:
    config = json.load(f)
state_dir = "/run/hostdevd"
daemon = Hostdevd(config["hostdevd"], state_dir, os.path.join(out, "hostdevd.log"), config.get("env"))


def diagnostics():
    lines = ["--- hostdevd's log (last lines):", daemon.log_tail(30).rstrip(),
             "--- kernel (last lines):"] + run("dmesg").stdout.rstrip().split("\n")[-15:] + [
             "--- PCI functions: driver, driver_override"]
    for addr in sorted(os.listdir(PCI)):
        try:
            lines.append("%s %s %s" % (addr, driver_of(addr), override_of(addr)))
        except OSError as e:
            lines.append("%s %s" % (addr, e))
    return "\n".join(lines)


checks = Checks(out, diagnostics)
check = checks.check


def diff(a, b, a_name="hostdevd", b_name="libvirtd"):
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), a_name, b_name))


def same_as_libvirtd(*args, libvirtd_args=None, timeout=30):
    """`virsh ARGS` against hostdevd prints what `virsh ARGS` (or
    @libvirtd_args) prints against libvirtd (each daemon follows the
    kernel's uevents at its own pace: retried until @timeout); that
    output."""
    deadline = time.monotonic() + timeout
    while True:
        a = virsh(HD_URI, *args)
        b = virsh(LV_URI, *(libvirtd_args or args))
        if (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr) and a.returncode == 0:
            return a.stdout
        if time.monotonic() > deadline:
            raise AssertionError("virsh %s differs (hostdevd exit %d, libvirtd exit %d):\n%s%s%s" % (
                " ".join(args), a.returncode, b.returncode, diff(a.stdout, b.stdout),
                a.stderr, b.stderr))
        time.sleep(0.5)


# hostdevd's node devices are libvirt's `computer` and PCI functions; the
# oracle is libvirtd's view of the same (its net_*, storage ... devices
# are outside hostdevd's inventory).
OURS = ("--cap", "system,pci")
LIST_OURS = libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM | libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV


def libvirtd_tree():
    """What virsh --tree prints for libvirtd's computer and PCI functions,
    with libvirtd's parents (virsh's tree printer, transcribed in hdtest)."""
    conn = libvirt.openReadOnly(LV_URI)
    try:
        parents = {d.name(): d.parent() for d in conn.listAllDevices(LIST_OURS)}
    finally:
        conn.close()
    return virsh_tree(parents) + "\n"


def same_tree_as_libvirtd(timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        ours, theirs = hd("nodedev-list", "--tree").stdout, libvirtd_tree()
        if ours == theirs:
            return
        if time.monotonic() > deadline:
            raise AssertionError("trees differ:\n" + diff(ours, theirs))
        time.sleep(0.5)


def hd(*args):
    return virsh(HD_URI, *args)


def expect_virsh(r, rc, stdout=None, stderr_has=()):
    expect(r.returncode == rc, "exit %d, wanted %d:\n%s%s" % (r.returncode, rc, r.stdout, r.stderr))
    if stdout is not None:
        expect(r.stdout == stdout, "stdout %r, wanted %r" % (r.stdout, stdout))
    for text in stderr_has:
        expect(text in r.stderr, "%r not in stderr:\n%s" % (text, r.stderr))


def detach(addr, *extra):
    expect_virsh(hd("nodedev-detach", pci_name(addr), *extra), 0, "Device %s detached\n\n" % pci_name(addr))


def reattach(addr):
    expect_virsh(hd("nodedev-reattach", pci_name(addr)), 0, "Device %s re-attached\n\n" % pci_name(addr))


def driver_in_xml(addr, uri=HD_URI):
    r = virsh(uri, "nodedev-dumpxml", pci_name(addr))
    m = re.search(r"<driver>\s*<name>([^<]*)</name>", r.stdout)
    return m.group(1) if m else None


def wait_xml_driver(addr, driver, timeout=15):
    wait_for(lambda: driver_in_xml(addr) == driver, timeout,
             "hostdevd's XML of %s to show driver %s (shows %s)" % (addr, driver, driver_in_xml(addr)))


def all_names():
    return [n for n in hd("nodedev-list").stdout.split("\n") if n]


# --- the guest's daemons -------------------------------------------------------

initial = {}

with check("system daemons: systemd-udevd (coldplug), dbus-daemon, real libvirtd"):
    dbuschecks.install_bus_policy()
    start_system_daemons()
    log(run("/usr/sbin/libvirtd", "--version").stdout.strip())

with check("hostdevd starts on virtnodedevd's sockets and answers virsh -c nodedev:///system"):
    daemon.start()
    initial = {a: driver_of(a) for a in os.listdir(PCI)}
    log("initial drivers: %s" % sorted(initial.items()))

# --- the inventory against libvirtd ----------------------------------------------

with check("nodedev-list is libvirtd's (its computer and PCI functions)"):
    names = [n for n in same_as_libvirtd("nodedev-list", libvirtd_args=("nodedev-list",) + OURS,
                                         timeout=60).split("\n") if n]
    expect(pci_name(E1000E) in names and "computer" in names, "unexpected list: %s" % names)
    log("%d node devices" % len(names))
    same_as_libvirtd("nodedev-list", *OURS)
    same_as_libvirtd("nodedev-list", "--cap", "pci")
    same_as_libvirtd("nodedev-list", "--cap", "system")

with check("nodedev-list --tree is libvirtd's tree of its computer and PCI functions"):
    same_tree_as_libvirtd()

with check("nodedev-dumpxml of every device is libvirtd's, byte for byte"):
    bad = []
    for name in all_names():
        a, b = hd("nodedev-dumpxml", name), virsh(LV_URI, "nodedev-dumpxml", name)
        if (a.returncode, a.stdout) != (b.returncode, b.stdout) or a.returncode != 0:
            bad.append("%s:\n%s%s" % (name, diff(a.stdout, b.stdout), a.stderr))
    expect(not bad, "\n".join(bad))

with check("python3-libvirt: listAllDevices, XMLDesc, listCaps and parent are libvirtd's"):
    ours, theirs = libvirt.open(HD_URI), libvirt.openReadOnly(LV_URI)
    try:
        mine = {d.name(): (d.XMLDesc(0), d.listCaps(), d.parent()) for d in ours.listAllDevices(0)}
        ref = {d.name(): (d.XMLDesc(0), d.listCaps(), d.parent()) for d in theirs.listAllDevices(LIST_OURS)}
        expect(sorted(mine) == sorted(ref), "names differ:\n" + diff("\n".join(sorted(mine)) + "\n",
                                                                      "\n".join(sorted(ref)) + "\n"))
        bad = [n for n in mine if mine[n] != ref[n]]
        expect(not bad, "differ: %s\n%s" % (bad, "".join(diff(mine[n][0], ref[n][0]) for n in bad)))
    finally:
        ours.close()
        theirs.close()

# --- detach, reset, reattach of the e1000e ------------------------------------------

with check("e1000e: detach to vfio-pci, /dev/vfio/GROUP, reset, reattach to e1000e"):
    group = iommu_group(E1000E)
    expect(driver_of(E1000E) == "e1000e" and not vfio_node(E1000E), "not on e1000e: %s" % pci_state(E1000E))
    detach(E1000E)
    expect(driver_of(E1000E) == "vfio-pci", "driver %s" % driver_of(E1000E))
    wait_for(lambda: vfio_node(E1000E), 10, "/dev/vfio/" + group)
    expect(override_of(E1000E) == "vfio-pci", "driver_override %s" % override_of(E1000E))
    wait_xml_driver(E1000E, "vfio-pci")
    expect_virsh(hd("nodedev-reset", pci_name(E1000E)), 0, "Device %s reset\n\n" % pci_name(E1000E))
    expect(driver_of(E1000E) == "vfio-pci", "reset changed the driver")
    reattach(E1000E)
    expect(driver_of(E1000E) == "e1000e" and override_of(E1000E) is None, "after reattach: %s" % pci_state(E1000E))
    wait_for(lambda: not vfio_node(E1000E), 10, "/dev/vfio/%s to go away" % group)
    wait_for(lambda: net_interfaces(E1000E), 15, "the e1000e's interface to come back")
    wait_xml_driver(E1000E, "e1000e")

with check("e1000e: detach to pci-stub (--driver kvm), no VFIO node, reattach to e1000e"):
    detach(E1000E, "--driver", "kvm")
    expect(pci_state(E1000E)["driver"] == "pci-stub" and not vfio_node(E1000E), "state %s" % pci_state(E1000E))
    wait_xml_driver(E1000E, "pci-stub")
    reattach(E1000E)
    wait_driver(E1000E, "e1000e")

with check("e1000e: --driver xen outside Xen fails naming xen-pciback, device untouched"):
    # The reattach above brings eth0 back; udevd renames it to enp1s0 on its
    # own time, which is not hostdevd's doing (a CI run once saw it between
    # the two snapshots). Once the interface exists its uevent is queued, so
    # settle waits for the rename.
    wait_for(lambda: net_interfaces(E1000E), 15, "the e1000e's interface")
    settle()
    before = pci_state(E1000E)
    r = hd("nodedev-detach", pci_name(E1000E), "--driver", "xen")
    expect_virsh(r, 1, stderr_has=("xen-pciback",))
    expect(pci_state(E1000E) == before, "changed: %s -> %s" % (before, pci_state(E1000E)))

with check("e1000e: libvirtd's own detach and reattach leave the same sysfs state as hostdevd's"):
    wait_for(lambda: net_interfaces(E1000E), 15, "the e1000e's interface")
    detach(E1000E)
    ours_detached = pci_state(E1000E)
    reattach(E1000E)
    wait_for(lambda: net_interfaces(E1000E), 15, "the e1000e's interface")
    settle()   # udevd renames the new interface (eth0 -> enp1s0) on its own time
    ours_back = pci_state(E1000E)
    r = virsh(LV_URI, "nodedev-detach", pci_name(E1000E))
    expect(r.returncode == 0, "libvirtd's detach: %s%s" % (r.stdout, r.stderr))
    wait_for(lambda: vfio_node(E1000E), 10, "/dev/vfio node after libvirtd's detach")
    theirs_detached = pci_state(E1000E)
    # hostdevd follows a change it did not make, as libvirtd does.
    same_as_libvirtd("nodedev-dumpxml", pci_name(E1000E))
    r = virsh(LV_URI, "nodedev-reattach", pci_name(E1000E))
    expect(r.returncode == 0, "libvirtd's reattach: %s%s" % (r.stdout, r.stderr))
    wait_for(lambda: net_interfaces(E1000E) and not vfio_node(E1000E), 15, "the e1000e back on the host")
    settle()
    theirs_back = pci_state(E1000E)
    log("detached: ours %s, libvirtd's %s" % (ours_detached, theirs_detached))
    expect(ours_detached == theirs_detached, "detached: ours %s, libvirtd's %s" % (ours_detached, theirs_detached))
    expect(ours_back == theirs_back, "reattached: ours %s, libvirtd's %s" % (ours_back, theirs_back))
    same_as_libvirtd("nodedev-dumpxml", pci_name(E1000E))

# --- the conventional PCI group --------------------------------------------------

with check("e1000 behind the PCIe-to-PCI bridge: a single detach is refused, naming its group"):
    r = hd("nodedev-detach", pci_name(E1000))
    expect_virsh(r, 1, stderr_has=("PCI device %s cannot be detached alone" % E1000, "%s (driver 8139cp)" % RTL,
                                   "detach the whole group"))
    expect((driver_of(E1000), driver_of(RTL)) == ("e1000", "8139cp"), "drivers changed")

with check("group detach (python3-libvirt, detachFlags 1<<30) takes e1000 and rtl8139, not the bridge"):
    group = iommu_group(E1000)
    expect(iommu_group(RTL) == group == iommu_group(BRIDGE), "not one group")
    conn = libvirt.open(HD_URI)
    try:
        conn.nodeDeviceLookupByName(pci_name(E1000)).detachFlags(None, DETACH_GROUP)
    finally:
        conn.close()
    expect((driver_of(E1000), driver_of(RTL), driver_of(BRIDGE)) == ("vfio-pci", "vfio-pci", None),
           "drivers %s %s %s" % (driver_of(E1000), driver_of(RTL), driver_of(BRIDGE)))
    wait_for(lambda: vfio_node(E1000), 10, "/dev/vfio/" + group)
    j = daemon.journal()
    expect(sorted(j) == [E1000, RTL], "journal %s" % j)
    expect(j[E1000]["transaction"] == j[RTL]["transaction"], "two transactions: %s" % j)

with check("group reattach: e1000 and rtl8139 back to e1000 and 8139cp"):
    reattach(E1000)
    reattach(RTL)
    wait_driver(E1000, "e1000")
    wait_driver(RTL, "8139cp")
    expect(daemon.journal() == {}, "journal left: %s" % daemon.journal())

# --- what the host uses ------------------------------------------------------------

with check("the virtio-9p devices under / and /out: detach and reset refused as in use by the host"):
    for addr, what in ((ROOT_9P, "root filesystem"), (OUT_9P, "/out")):
        r = hd("nodedev-detach", pci_name(addr))
        expect_virsh(r, 1, stderr_has=("PCI device %s is in use by the host" % addr, what, "use force"))
        r = hd("nodedev-reset", pci_name(addr))
        expect_virsh(r, 1, stderr_has=("PCI device %s is in use by the host" % addr,))
        expect(driver_of(addr) == "virtio-pci", "%s lost its driver" % addr)

with check("a NIC with an address: refused, then detached with force (detachFlags 1<<29), reattached"):
    ifname = wait_for(lambda: net_interfaces(E1000E), 15, "the e1000e's interface")[0]
    run("ip", "link", "set", ifname, "up", check=True)
    run("ip", "addr", "add", "192.0.2.10/24", "dev", ifname, check=True)
    r = hd("nodedev-detach", pci_name(E1000E))
    expect_virsh(r, 1, stderr_has=("PCI device %s is in use by the host" % E1000E, ifname, "192.0.2.10/24"))
    expect(driver_of(E1000E) == "e1000e", "detached although refused")
    conn = libvirt.open(HD_URI)
    try:
        conn.nodeDeviceLookupByName(pci_name(E1000E)).detachFlags(None, DETACH_FORCE)
    finally:
        conn.close()
    expect(driver_of(E1000E) == "vfio-pci", "forced detach: %s" % pci_state(E1000E))
    reattach(E1000E)
    wait_driver(E1000E, "e1000e")
    wait_for(lambda: net_interfaces(E1000E), 15, "the e1000e's interface to come back")

# --- the D-Bus door and hostdevctl ------------------------------------------------------

dbuschecks.run_checks(check, daemon, config.get("hostdevctl"), E1000E, E1000, RTL)

# --- SR-IOV ------------------------------------------------------------------------

watch = events(daemon)
with check("SR-IOV: 2 VFs on the NVMe: Created events, virt_functions / phys_function as libvirtd's"):
    with open(os.path.join(PCI, NVME, "sriov_numvfs"), "w") as f:
        f.write("2")
    for vf in VFS:
        expect(watch.wait_line(lifecycle_line(pci_name(vf), "Created"), timeout=30) is not None,
               "no Created event for %s; events: %s" % (vf, watch.lines))
    # nvme probes each VF and gives up (QEMU's secondary controllers are
    # offline): wait until that is over.
    for vf in VFS:
        wait_for(lambda: driver_of(vf) is None, 60, "nvme's probe of %s to end" % vf, 0.2)
    settle()
    pf_xml = same_as_libvirtd("nodedev-dumpxml", pci_name(NVME))
    expect("<capability type='virt_functions' maxCount='4'>" in pf_xml, pf_xml)
    for vf in VFS:
        b, s, fn = vf[5:7], vf[8:10], vf[11]
        expect("<address domain='0x0000' bus='0x%s' slot='0x%s' function='0x%s'/>" % (b, s, fn) in pf_xml, pf_xml)
        vf_xml = same_as_libvirtd("nodedev-dumpxml", pci_name(vf))
        expect("<capability type='phys_function'>\n      <address domain='0x0000' bus='0x03' slot='0x00' "
               "function='0x0'/>" in vf_xml, vf_xml)
    same_tree_as_libvirtd()

with check("SR-IOV: a VF detached to vfio-pci and reattached to no driver, as it was"):
    vf = VFS[0]
    detach(vf)
    expect(driver_of(vf) == "vfio-pci", "driver %s" % driver_of(vf))
    wait_for(lambda: vfio_node(vf), 10, "/dev/vfio/" + iommu_group(vf))
    reattach(vf)
    wait_for(lambda: driver_of(vf) is None, 60, "%s back on no driver (now %s)" % (vf, driver_of(vf)), 0.2)
    expect(override_of(vf) is None and daemon.journal() == {}, "state %s, journal %s" % (pci_state(vf),
                                                                                      daemon.journal()))

with check("SR-IOV: VFs removed: Deleted events, the PF's XML is libvirtd's again"):
    start = len(watch.lines)
    with open(os.path.join(PCI, NVME, "sriov_numvfs"), "w") as f:
        f.write("0")
    for vf in VFS:
        expect(watch.wait_line(lifecycle_line(pci_name(vf), "Deleted"), timeout=30, start=start) is not None,
               "no Deleted event for %s; events: %s" % (vf, watch.lines[start:]))
    same_as_libvirtd("nodedev-dumpxml", pci_name(NVME))

# --- hotplug ---------------------------------------------------------------------

with check("hotplug over QMP: device_add / device_del on root port rp3 reach virsh nodedev-event"):
    qmp = Qmp(out)
    start = len(watch.lines)
    qmp(("netdev_add", {"type": "user", "id": "hp-net"}),
        ("device_add", {"driver": "e1000e", "bus": "rp3", "netdev": "hp-net", "id": "hp1"}))
    expect(watch.wait_line(lifecycle_line(pci_name(HOTPLUG), "Created"), timeout=30, start=start) is not None,
           "no Created event for %s; events: %s" % (HOTPLUG, watch.lines[start:]))
    settle()
    same_as_libvirtd("nodedev-dumpxml", pci_name(HOTPLUG))
    start = len(watch.lines)
    qmp(("device_del", {"id": "hp1"}))
    # pciehp waits 5 s after the attention button before it removes.
    expect(watch.wait_line(lifecycle_line(pci_name(HOTPLUG), "Deleted"), timeout=40, start=start) is not None,
           "no Deleted event for %s; events: %s" % (HOTPLUG, watch.lines[start:]))
    expect_virsh(hd("nodedev-dumpxml", pci_name(HOTPLUG)), 1)
watch.stop()

# --- kill -9 in the middle ------------------------------------------------------------


def interrupt(command, pred, what, undo):
    """Runs `virsh COMMAND` on the e1000e in the background and SIGKILLs
    hostdevd as soon as the e1000e's journal record satisfies @pred; the
    record the killed daemon left.  The kill lands a little after the poll
    (1 ms): when the operation had ended by then (the record is no longer
    in progress) or ended before the record was seen, what it left must be
    consistent too; a new daemon checks that, @undo puts the device back,
    and it is tried again."""
    in_progress = "detaching" if command == "nodedev-detach" else "reattaching"
    for attempt in range(1, 6):
        client = Background(["virsh", "-c", HD_URI, command, pci_name(E1000E)])
        killed = False
        while client.proc.poll() is None and not killed:
            rec = daemon.journal().get(E1000E)
            if rec is not None and pred(rec):
                daemon.kill9()
                killed = True
            else:
                time.sleep(0.001)
        client.wait(30)
        left = daemon.journal().get(E1000E)
        log("attempt %d: %s, record left %s; sysfs %s" % (attempt, "killed" if killed else "not killed",
                                                         left, pci_state(E1000E)))
        if killed and left is not None and left["state"] == in_progress:
            return left
        if killed:
            # Done before the signal landed: a new daemon keeps a finished
            # detach (or forgets a finished reattach) as it is.
            daemon.start()
            want = "vfio-pci" if command == "nodedev-detach" else "e1000e"
            wait_driver(E1000E, want)
            expect((daemon.journal().get(E1000E) or {}).get("state") ==
                   ("detached" if want == "vfio-pci" else None), "journal %s" % daemon.journal())
        undo()
    raise AssertionError("no kill landed during %s (at %s) in 5 attempts" % (command, what))


def recovered_to_e1000e():
    """A new hostdevd on the same state directory finishes what the killed
    one left: nothing in the journal, the e1000e on e1000e."""
    daemon.start()
    wait_for(lambda: daemon.journal() == {}, 30, "the restarted daemon's recovery")
    wait_driver(E1000E, "e1000e")
    expect(override_of(E1000E) is None, "driver_override left: %s" % override_of(E1000E))
    wait_xml_driver(E1000E, "e1000e")


def ensure_daemon():
    """A check that failed half-way may have left hostdevd killed."""
    if not daemon.alive():
        daemon.start()


DETACH_STEPS = ("override", "unbind", "probe")
for target in DETACH_STEPS:
    with check("kill -9 during a detach (first record at or after step %s): restart rolls it back; "
               "then detach and reattach restore e1000e" % target):
        ensure_daemon()
        wait_driver(E1000E, "e1000e")
        rank = DETACH_STEPS.index(target)
        interrupt("nodedev-detach", lambda r: r["state"] == "detaching" and r.get("step") in DETACH_STEPS
                  and DETACH_STEPS.index(r["step"]) >= rank, "step " + target, lambda: reattach(E1000E))
        recovered_to_e1000e()
        detach(E1000E)
        reattach(E1000E)
        wait_driver(E1000E, "e1000e")

with check("kill -9 during a reattach: restart completes it to e1000e"):
    ensure_daemon()
    detach(E1000E)
    interrupt("nodedev-reattach", lambda r: r["state"] == "reattaching", "state reattaching",
              lambda: detach(E1000E))
    recovered_to_e1000e()

# --- the end ---------------------------------------------------------------------------

with check("at the end: every device on its first driver, the list still libvirtd's, SIGTERM stops hostdevd"):
    was_alive = daemon.alive()
    ensure_daemon()
    now = {a: driver_of(a) for a in os.listdir(PCI)}
    expect(now == initial, "drivers moved:\n%s" % "\n".join(
        "%s: %s -> %s" % (a, initial.get(a), now.get(a)) for a in sorted(set(now) | set(initial))
        if initial.get(a) != now.get(a)))
    same_tree_as_libvirtd()
    expect(was_alive, "hostdevd was not running at the end:\n" + daemon.log_tail())
    rc = daemon.stop()
    expect(rc == 0, "hostdevd exited with status %d on SIGTERM" % rc)

sys.exit(checks.finish())
