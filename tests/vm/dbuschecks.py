"""The VM tier's D-Bus checks: org.hostdevd1 on the guest's system bus
(real dbus-daemon, with hostdevd's own bus policy installed in the guest's
overlay), gdbus and python's Gio as clients, and hostdevctl.  checks-guest.py
calls install_bus_policy() before dbus-daemon starts and run_checks() after
its libvirt checks; each check leaves the devices as it found them."""
import json
import os
import re
import subprocess

import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

from guestlib import (LV_URI, Background, driver_of, expect, iommu_group, pci_name, run, virsh,  # noqa: E402
                      wait_driver, wait_for)

BUS_POLICY_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "systemd",
                              "org.hostdevd1.conf")
DEST = "org.hostdevd1"
MANAGER = "/org/hostdevd1/Manager"


def install_bus_policy():
    """What `meson install` puts in place, in the guest's (overlay) /usr:
    before dbus-daemon starts, so that root may own org.hostdevd1."""
    target = "/usr/share/dbus-1/system.d/org.hostdevd1.conf"
    with open(BUS_POLICY_SRC) as src, open(target, "w") as dst:
        dst.write(src.read())


def device_path(addr):
    return "/org/hostdevd1/devices/" + pci_name(addr)


def bus():
    return Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def managed_objects():
    """{path: {interface: {property: value}}} from the ObjectManager."""
    reply = bus().call_sync(DEST, "/org/hostdevd1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                            None, GLib.VariantType("(a{oa{sa{sv}}})"), Gio.DBusCallFlags.NONE, 30000, None)
    return reply.unpack()[0]


def prop(addr, name):
    return managed_objects()[device_path(addr)]["org.hostdevd1.Device"][name]


def gdbus(*args, user=None):
    cmd = ["gdbus", "call", "--system", "--dest", DEST] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    return run(*cmd)


def run_checks(check, daemon, hostdevctl, E1000E, E1000, RTL):
    with check("D-Bus: org.hostdevd1's ObjectManager has every node device, its properties and XML are the kernel's "
               "and libvirtd's"):
        objects = managed_objects()
        names = sorted(ifaces["org.hostdevd1.Device"]["Name"] for ifaces in objects.values()
                       if "org.hostdevd1.Device" in ifaces)
        listed = sorted(n for n in virsh("nodedev:///system", "nodedev-list").stdout.split("\n") if n)
        expect(names == listed, "D-Bus %s, virsh %s" % (names, listed))
        for path, ifaces in objects.items():
            dev = ifaces.get("org.hostdevd1.Device")
            if dev is None or not dev["Address"]:
                continue
            expect(dev["Driver"] == (driver_of(dev["Address"]) or ""),
                   "%s: Driver %r, sysfs %r" % (path, dev["Driver"], driver_of(dev["Address"])))
            xml = bus().call_sync(DEST, path, "org.hostdevd1.Device", "GetXMLDesc", None, None,
                                  Gio.DBusCallFlags.NONE, 30000, None).unpack()[0]
            ref = virsh(LV_URI, "nodedev-dumpxml", dev["Name"]).stdout
            expect(xml + "\n" == ref, "%s: GetXMLDesc differs from libvirtd's" % dev["Name"])
        m = objects[MANAGER]["org.hostdevd1.Manager"]
        expect(m["IommuGroups"] == len(os.listdir("/sys/kernel/iommu_groups")) and m["Devices"] == len(names),
               "Manager: %s" % m)
        expect(prop(E1000E, "Verdict") == "detachable" and prop(E1000, "Verdict") == "needs-group",
               "verdicts %s %s" % (prop(E1000E, "Verdict"), prop(E1000, "Verdict")))

    with check("D-Bus: Detach / Reset / ReAttach of the e1000e as root; PropertiesChanged and "
               "OperationFinished seen by gdbus monitor"):
        mon = Background(["gdbus", "monitor", "--system", "--dest", DEST])
        wait_for(lambda: mon.lines, 10, "gdbus monitor to start")
        r = gdbus("--object-path", MANAGER, "--method", "org.hostdevd1.Manager.Detach", pci_name(E1000E), "{}")
        expect(r.returncode == 0 and device_path(E1000E) in r.stdout, "Detach: %s%s" % (r.stdout, r.stderr))
        expect(driver_of(E1000E) == "vfio-pci", "driver %s" % driver_of(E1000E))
        expect((prop(E1000E, "Driver"), prop(E1000E, "Detached"), prop(E1000E, "OriginalDriver")) ==
               ("vfio-pci", True, "e1000e"), "properties after Detach")
        r = gdbus("--object-path", device_path(E1000E), "--method", "org.hostdevd1.Device.Reset", "{}")
        expect(r.returncode == 0 and re.fullmatch(r"\('(flr|pm|bus)',\)\n", r.stdout), "Reset: %s%s" % (r.stdout,
                                                                                                          r.stderr))
        r = gdbus("--object-path", MANAGER, "--method", "org.hostdevd1.Manager.ReAttach", pci_name(E1000E), "{}")
        expect(r.returncode == 0, "ReAttach: %s" % r.stderr)
        wait_driver(E1000E, "e1000e")
        wait_for(lambda: sum("OperationFinished" in line for line in mon.lines) >= 3, 10,
                 "3 OperationFinished signals")
        wait_for(lambda: any("PropertiesChanged" in line and "'Driver': <'vfio-pci'>" in line for line in mon.lines),
                 10, "PropertiesChanged with Driver vfio-pci")
        mon.stop()

    with check("D-Bus: Preview of the e1000 names its group; Detach with group takes both conventional "
               "functions; ReAttach gives them back"):
        r = gdbus("--object-path", MANAGER, "--method", "org.hostdevd1.Manager.Preview", pci_name(E1000), "{}")
        expect(r.returncode == 0 and r.stdout.startswith("('needs-group', 'vfio-pci',") and RTL in r.stdout,
               "Preview: %s%s" % (r.stdout, r.stderr))
        r = gdbus("--object-path", MANAGER, "--method", "org.hostdevd1.Manager.Detach", pci_name(E1000), "{}")
        expect(r.returncode != 0 and "org.hostdevd1.Error.InUse" in r.stderr and RTL in r.stderr,
               "lone Detach: %s%s" % (r.stdout, r.stderr))
        r = gdbus("--object-path", MANAGER, "--method", "org.hostdevd1.Manager.Detach", pci_name(E1000),
                  "{'group': <true>}")
        expect(r.returncode == 0 and device_path(RTL) in r.stdout, "group Detach: %s%s" % (r.stdout, r.stderr))
        expect((driver_of(E1000), driver_of(RTL)) == ("vfio-pci", "vfio-pci"), "not both on vfio-pci")
        for addr in (E1000, RTL):
            r = gdbus("--object-path", device_path(addr), "--method", "org.hostdevd1.Device.ReAttach", "{}")
            expect(r.returncode == 0, "ReAttach %s: %s" % (addr, r.stderr))
        # The group's VFIO node goes only when both have left vfio-pci.
        wait_driver(E1000, "e1000")
        wait_driver(RTL, "8139cp")

    with check("D-Bus: a caller that is not root is refused (no polkit in the guest: deny), and reading is free"):
        r = gdbus("--object-path", MANAGER, "--method", "org.hostdevd1.Manager.Detach", pci_name(E1000E), "{}",
                  user=65534)
        expect(r.returncode != 0 and "org.hostdevd1.Error.NotAuthorized" in r.stderr, "as nobody: %s%s"
               % (r.stdout, r.stderr))
        expect(driver_of(E1000E) == "e1000e", "the e1000e moved")
        r = gdbus("--object-path", device_path(E1000E), "--method", "org.hostdevd1.Device.GetXMLDesc", user=65534)
        expect(r.returncode == 0 and "<name>pci_0000_01_00_0</name>" in r.stdout, "GetXMLDesc as nobody: %s"
               % r.stderr)

    with check("assignments follow real libvirtd: virsh define / autostart / undefine of domains with a <hostdev> "
               "appear in Manager.Assignments and Conflicts"):
        def assignments():
            return [tuple(a) for a in managed_objects()[MANAGER]["org.hostdevd1.Manager"]["Assignments"]
                    if a[1] == "qemu:///system"]

        def conflicts():
            return managed_objects()[MANAGER]["org.hostdevd1.Manager"]["Conflicts"]

        xml = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><os><type arch='x86_64' "
               "machine='q35'>hvm</type></os><devices><hostdev mode='subsystem' type='pci' managed='yes'>"
               "<source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
               "</devices></domain>")
        path = "/tmp/hostdevd-vm-domain.xml"
        for name in ("hd-a", "hd-b"):
            with open(path, "w") as f:
                f.write(xml % name)
            r = virsh(LV_URI, "define", path)
            expect(r.returncode == 0, "virsh define %s: %s%s" % (name, r.stdout, r.stderr))
        want = [("hd-a", "qemu:///system", "defined", device_path(E1000E), True, "vfio", False),
                ("hd-b", "qemu:///system", "defined", device_path(E1000E), True, "vfio", False)]
        wait_for(lambda: assignments() == want, 5, "the defined domains in Assignments (%s)" % assignments())
        expect(prop(E1000E, "AssignedTo") == ["hd-a", "hd-b"], "AssignedTo %s" % prop(E1000E, "AssignedTo"))
        expect(conflicts() == [], "conflicts before autostart: %s" % conflicts())
        for name in ("hd-a", "hd-b"):
            expect(virsh(LV_URI, "autostart", name).returncode == 0, "virsh autostart " + name)
        # libvirt sends no event for autostart: hostdevd polls every 5 s.
        wait_for(lambda: [c[0] for c in conflicts()] == ["shared-device"], 15,
                 "a shared-device conflict (%s)" % conflicts())
        expect(conflicts()[0][3] == ["hd-a", "hd-b"] and conflicts()[0][1], "conflict: %s" % conflicts())
        for name in ("hd-a", "hd-b"):
            expect(virsh(LV_URI, "undefine", name).returncode == 0, "virsh undefine " + name)
        wait_for(lambda: assignments() == [] and conflicts() == [], 5, "the domains gone from Assignments")

    if hostdevctl is None:
        return
    with check("hostdevctl: list, show, detach --driver kvm by address, reattach, reset, on the real kernel"):
        r = run(hostdevctl, "list")
        expect(r.returncode == 0 and pci_name(E1000E) in r.stdout and "\x1b[" not in r.stdout,
               "list: %s%s" % (r.stdout, r.stderr))
        row = [line for line in r.stdout.split("\n") if pci_name(E1000E) in line][0]
        expect("e1000e" in row and "detachable" in row, "list row: %s" % row)
        r = run(hostdevctl, "show", pci_name(E1000))
        expect(r.returncode == 0 and RTL in r.stdout, "show: %s%s" % (r.stdout, r.stderr))
        r = run(hostdevctl, "detach", E1000E[5:], "--driver", "kvm")
        expect(r.returncode == 0 and driver_of(E1000E) == "pci-stub", "detach: %s%s" % (r.stdout, r.stderr))
        r = run(hostdevctl, "reset", pci_name(E1000E))
        expect(r.returncode == 0, "reset: %s%s" % (r.stdout, r.stderr))
        r = run(hostdevctl, "reattach", E1000E)
        expect(r.returncode == 0, "reattach: %s%s" % (r.stdout, r.stderr))
        wait_driver(E1000E, "e1000e")
        r = run(hostdevctl, "detach", pci_name(E1000))
        expect(r.returncode == 5 and driver_of(E1000) == "e1000", "lone detach of the e1000: exit %d %s%s"
               % (r.returncode, r.stdout, r.stderr))
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", hostdevctl, "detach",
                            "--no-ask", pci_name(E1000E)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        expect(r.returncode == 4 and driver_of(E1000E) == "e1000e", "as nobody: exit %d %s%s"
               % (r.returncode, r.stdout, r.stderr))

    with check("hostdevctl validate on the real kernel: DMAR, the kernel's IOMMU, interrupt remapping and the "
               "conventional-PCI group are found, as the Manager's properties say"):
        r = run(hostdevctl, "validate", "--json")
        data = json.loads(r.stdout)
        status = {c["id"]: c["status"] for c in data["checks"]}
        expect(r.returncode == data["ready"], "exit %d, ready %d" % (r.returncode, data["ready"]))
        for cid in ("iommu-acpi-table", "iommu-kernel", "interrupt-remapping", "vfio-device"):
            expect(status.get(cid) == "pass", "%s: %s\n%s" % (cid, status.get(cid), r.stdout))
        group = [c for c in data["checks"] if c["id"] == "iommu-group-" + iommu_group(E1000)]
        expect(group and "bridge" in group[0]["detail"] + group[0]["title"], "group check: %s" % group)
        m = managed_objects()[MANAGER]["org.hostdevd1.Manager"]
        expect((m["IommuFirmware"], m["IommuActive"], m["InterruptRemapping"], m["Ready"]) ==
               (True, True, True, data["ready"]), "Manager properties: %s" % m)
        r = run(hostdevctl, "validate")
        expect(r.returncode == data["ready"] and "DMAR" in r.stdout, "human output: %s%s" % (r.stdout, r.stderr))
        # libvirt's virt-host-validate in the same guest: its PASS is ours.
        # It picks the IOMMU by the CPU's flags, so QEMU's AMD CPU model
        # (svm) beside Intel's VT-d makes it look for IVRS and fail.
        vhv = run("virt-host-validate", "qemu").stdout
        print(vhv, flush=True)
        for line in vhv.splitlines():
            for what, cid in (("device assignment IOMMU support", "iommu-acpi-table"),
                              ("if IOMMU is enabled by kernel", "iommu-kernel")):
                if what not in line:
                    continue
                if line.rsplit(":", 1)[1].strip().startswith("PASS"):
                    expect(status[cid] == "pass", "%s: virt-host-validate PASS, ours %s" % (cid, status[cid]))
                else:
                    expect("IVRS" in line and status[cid] == "pass" and
                           os.path.exists("/sys/firmware/acpi/tables/DMAR"), "unexplained: %s" % line)
