#!/usr/bin/python3
"""Manager.Assign and Manager.Release (assignments without libvirt domains)
on the vm-q35 testbed with the fake kernel, a private system bus and
dbusmock's polkitd: the managed devices detached (a conventional-PCI group
as one transaction when the assignment names all of it), the record in the
assignments directory, the Assignments / Conflicts / AssignedTo properties,
a restart that keeps it, Release that gives the devices back; refusals
that change nothing (bad names, libvirt's XML errors, a device another
domain has, a missing device); a failed detach undone; polkit for callers
that are not root.

    umockdev-wrapper /usr/bin/python3 test-assign.py [unittest args]
"""
import os

import dbustest
from dbustest import (ADDR, E1000, MANAGER_IFACE, MANAGER_PATH, NAME, NOBODY, RTL, DBusError, device_path,
                      gvariant_options)

F = None

HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='%s'><source>"
           "<address domain='0' bus='%s' slot='%s' function='%s'/></source></hostdev>")


def hostdev(addr, managed="yes", driver=None):
    dom, bus, slot_fn = addr.split(":")
    slot, fn = slot_fn.split(".")
    xml = HOSTDEV % (managed, "0x" + bus, "0x" + slot, fn)
    if driver:
        xml = xml.replace("<source>", "<driver name='%s'/><source>" % driver)
    return xml


def setUpModule():
    global F
    F = dbustest.fixture()


def tearDownModule():
    F.stop()


class Assign(dbustest.TestCase):
    def tearDown(self):
        for name in os.listdir(F.daemon.assignments_dir):
            if name.endswith(".assignment"):
                try:
                    self.release(name[:-len(".assignment")])
                except DBusError:
                    pass
        super().tearDown()

    def assign(self, domain, xml, user=None):
        if user is None:
            return F.manager("Assign", domain, xml, {}, signature="(ssa{sv})")
        return F.gdbus_call(MANAGER_PATH, MANAGER_IFACE + ".Assign", domain, xml, gvariant_options(),
                            user=user).unpack()

    def release(self, domain, user=None):
        if user is None:
            return F.manager("Release", domain, {}, signature="(sa{sv})")[0]
        return F.gdbus_call(MANAGER_PATH, MANAGER_IFACE + ".Release", domain, gvariant_options(),
                            user=user).unpack()[0]

    def records(self):
        return sorted(n for n in os.listdir(F.daemon.assignments_dir) if not n.startswith("."))

    def assignments(self):
        return F.prop(MANAGER_PATH, "Assignments", MANAGER_IFACE)

    def conflicts(self):
        return F.prop(MANAGER_PATH, "Conflicts", MANAGER_IFACE)

    def test_assign_release(self):
        devices, notes = self.assign("vm1", hostdev(ADDR))
        self.assertEqual((devices, notes), ([device_path(NAME)], []))
        self.assertEqual(F.kernel.driver_of(ADDR), "vfio-pci")
        self.assertEqual(self.records(), ["vm1.assignment"])
        self.assertEqual(self.assignments(),
                         [("vm1", "hostdevd", "defined", device_path(NAME), True, "vfio", True)])
        self.assertEqual(F.prop(device_path(NAME), "AssignedTo"), ["vm1"])
        self.assertEqual(self.conflicts(), [])
        r = F.hostdevctl("assignments")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual([line.split() for line in r.stdout.splitlines()],
                         [["DOMAIN", "SOURCE", "STATE", "DEVICE", "MANAGED", "DRIVER", "AUTOSTART"],
                          ["vm1", "hostdevd", "defined", NAME, "yes", "vfio", "yes"]])
        self.assertEqual(self.release("vm1"), [device_path(NAME)])
        r = F.hostdevctl("assignments")
        self.assertEqual((r.returncode, r.stdout), (0, "No domain names a PCI device.\n"))
        self.assertEqual(F.kernel.driver_of(ADDR), "e1000e")
        self.assertEqual((self.records(), self.assignments()), ([], []))
        self.assertEqual(F.prop(device_path(NAME), "AssignedTo"), [])

    def test_kept_across_a_restart(self):
        self.assign("keep", hostdev(ADDR, driver="kvm"))
        self.assertEqual(F.kernel.driver_of(ADDR), "pci-stub")
        F.daemon.stop()
        F.daemon = dbustest.hdtest.Daemon(F.bed, bus_address=F.bus.address, state_dir=F.daemon.state_dir,
                                          assignments_dir=F.daemon.assignments_dir)
        F.bus.wait_name(dbustest.BUS_NAME, 10, F.daemon.proc, F.daemon.read_log)
        self.assertEqual(self.assignments(),
                         [("keep", "hostdevd", "defined", device_path(NAME), True, "kvm", True)])
        self.assertEqual(self.release("keep"), [device_path(NAME)])
        self.assertEqual(F.kernel.driver_of(ADDR), "e1000e")

    def test_group(self):
        """The e1000 goes only with the rtl8139: named together, they go as
        one group transaction."""
        devices, _ = self.assign("router", hostdev(E1000) + hostdev(RTL))
        self.assertEqual(sorted(devices), sorted([device_path(dbustest.pci_name(E1000)),
                                                  device_path(dbustest.pci_name(RTL))]))
        self.assertEqual((F.kernel.driver_of(E1000), F.kernel.driver_of(RTL)), ("vfio-pci", "vfio-pci"))
        self.release("router")
        self.assertEqual((F.kernel.driver_of(E1000), F.kernel.driver_of(RTL)), ("e1000", "8139cp"))

    def test_unmanaged_and_conflicts(self):
        """managed='no' detaches nothing; two domains with one group's
        devices split it; an unmanaged device left on its host driver is a
        warning."""
        self.assertEqual(self.assign("a", hostdev(E1000, managed="no")), ([], []))
        self.assertEqual(self.assign("b", hostdev(RTL, managed="no")), ([], []))
        self.assert_nothing_written()
        kinds = [(c[0], c[1], c[3]) for c in self.conflicts()]
        self.assertEqual(kinds, [("split-group", True, ["a", "b"]),
                                 ("unmanaged-on-host", False, ["a"]),
                                 ("unmanaged-on-host", False, ["b"])])
        self.assertIn("IOMMU group 4 is split across a, b", self.conflicts()[0][4])
        r = F.hostdevctl("assignments")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertEqual([line.split(":")[0] for line in r.stdout.splitlines()[3:]],
                         ["conflict", "warning", "warning"])
        self.assertIn("conflict: IOMMU group 4 is split across a, b", r.stdout)

    def assert_nothing_written(self):
        F.kernel.quiet(0.3)
        self.assertEqual(F.kernel.log(), [])

    def test_refusals_change_nothing(self):
        self.assign("owner", hostdev(ADDR))
        F.kernel.clear_log()
        for domain, xml, name, text in (
                ("other", hostdev(ADDR), "InUse", "PCI device 0000:01:00.0 is assigned to domain owner"),
                ("owner", hostdev(E1000), "InvalidArgument", "domain owner has an assignment already"),
                ("../etc", hostdev(E1000), "InvalidArgument", "'../etc' is not a domain name"),
                ("", hostdev(E1000), "InvalidArgument", "'' is not a domain name"),
                ("x", "<hostdev mode='subsystem' type='pci'><source><address bus='0x100'/></source></hostdev>",
                 "InvalidXML", "Invalid PCI address bus='0x100', must be <= 0xFF"),
                ("x", "<hostdev mode='x' type='pci'><source><address bus='1'/></source></hostdev>",
                 "ConfigUnsupported", "unknown hostdev mode 'x'"),
                ("x", "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
                      "<product id='0x5678'/></source></hostdev>", "InvalidArgument",
                 "no <hostdev mode='subsystem' type='pci'> for domain x"),
                ("x", "<hostdev", "InvalidXML", None),
                ("x", hostdev("0000:09:00.0"), "NoDevice", "no PCI device at 0000:09:00.0")):
            with self.subTest(domain=domain, xml=xml[:40]):
                with self.assertRaises(DBusError) as cm:
                    self.assign(domain, xml)
                self.assertEqual(cm.exception.name, "org.hostdevd1.Error." + name, cm.exception.message)
                if text is not None:
                    self.assertIn(text, cm.exception.message)
        self.assert_nothing_written()
        self.assertEqual(self.records(), ["owner.assignment"])
        with self.assertRaises(DBusError) as cm:
            self.release("nobody-assigned-this")
        self.assertEqual(cm.exception.name, "org.hostdevd1.Error.InvalidArgument")

    def test_failure_undone(self):
        """The second device's probe fails: the first is given back and the
        record forgotten."""
        F.kernel.set_probe_fails("pci-stub")
        try:
            with self.assertRaises(DBusError) as cm:
                self.assign("half", hostdev(ADDR) + hostdev("0000:03:00.1", driver="kvm"))
            self.assertEqual(cm.exception.name, "org.hostdevd1.Error.TimedOut", cm.exception.message)
        finally:
            F.kernel.clear_faults()
        self.assertEqual(F.kernel.driver_of(ADDR), "e1000e")
        self.assertEqual(self.records(), [])
        self.assertEqual(self.assignments(), [])

    def test_polkit(self):
        F.polkit.deny_all()
        with self.assertRaises(DBusError) as cm:
            self.assign("np", hostdev(ADDR), user=NOBODY)
        self.assertEqual(cm.exception.name, "org.hostdevd1.Error.NotAuthorized")
        self.assertEqual((F.kernel.driver_of(ADDR), self.records()), ("e1000e", []))
        F.polkit.set_allowed(["org.hostdevd1.assign"])
        try:
            self.assertEqual(self.assign("np", hostdev(ADDR), user=NOBODY)[0], [device_path(NAME)])
            self.assertEqual(self.release("np", user=NOBODY), [device_path(NAME)])
        finally:
            F.polkit.deny_all()


if __name__ == "__main__":
    dbustest.main()
