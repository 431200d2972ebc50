#!/usr/bin/python3
"""hostdevd's D-Bus API (dbus/org.hostdevd1.xml) on the vm-q35 testbed, with
the fake kernel, a private system bus and python3-dbusmock's polkitd.

Introspection against the API's XML; the ObjectManager's objects against
the testbed's recorded tree; property values and types; GetXMLDesc against
the XML recorded from libvirtd; LookupByName/LookupByAddress with good, bad
and strange input; Preview (nothing written); Detach, ReAttach and Reset as
root (uid 0: no polkit) with the exact kernel writes, the journal,
PropertiesChanged and OperationFinished; option validation; the group
transaction; error names and texts, the texts compared with what virsh
prints for the same refusal through the libvirt door; polkit for callers
that are not root (run as user nobody): denied by default, allowed per
action, detach-in-use for a forced detach of a device the host uses, the
interactive flag, no polkit on the bus at all; reading needs no polkit.

    umockdev-wrapper /usr/bin/python3 test-dbus.py [unittest args]
"""
import contextlib
import os
import subprocess
import threading
import time

import dbustest
from dbustest import (ACTION_DETACH, ACTION_DETACH_IN_USE, ACTION_REATTACH, ACTION_RESET, ADDR, BRIDGE,
                      BRIDGE_REFUSAL, BUS_NAME, BUS_RESET_REFUSAL, DEVICE_IFACE, DEVICES_PATH, E1000, ERROR,
                      GROUP_REFUSAL, MANAGER_IFACE, MANAGER_PATH, NAME, NOBODY, PATH, PF, ROOT_PATH, RTL,
                      SETTLE_MS, VGA, VGA_REFUSAL, W, DBusError, detach_writes, device_path, gvariant_options,
                      options, pci_name, reattach_writes)
import hdtest

F = None          # the fixture: testbed, fake kernel, bus, polkit, hostdevd
MONITOR = None    # busctl monitor on the bus
SIGNALS = None    # hostdevd's signals, received in this process


def setUpModule():
    global F, MONITOR, SIGNALS
    F = dbustest.fixture()
    MONITOR = dbustest.Monitor(F.bus)
    SIGNALS = dbustest.Signals(F.bus)


def tearDownModule():
    SIGNALS.stop()
    MONITOR.stop()
    F.stop()   # hdtest.main() reports a daemon that a SIGTERM did not end with 0


class Base(dbustest.TestCase):
    @contextlib.contextmanager
    def assert_error(self, name, message=None):
        """The block raises DBusError @name (ERROR prefixed if it has no
        dot), with @message if given; yields assertRaises' context."""
        full = name if "." in name else ERROR + name
        with self.assertRaises(DBusError) as cm:
            yield cm
        self.assertEqual(cm.exception.name, full, cm.exception.message)
        if message is not None:
            self.assertEqual(cm.exception.message, message)

    def call_manager(self, method, name, user=None, **opts):
        """Manager.METHOD(name, options): from this process (root), or
        with gdbus as @user; the reply's values."""
        if user is None:
            return F.manager(method, name, options(**opts), signature="(sa{sv})")
        return F.gdbus_call(MANAGER_PATH, MANAGER_IFACE + "." + method, name, gvariant_options(**opts),
                            user=user).unpack()

    def detach(self, name, user=None, **opts):
        """Manager.Detach; the object paths it returns."""
        return self.call_manager("Detach", name, user, **opts)[0]

    def reattach(self, name, user=None, **opts):
        return self.call_manager("ReAttach", name, user, **opts)

    def reset(self, name, user=None, **opts):
        """Manager.Reset; the method the kernel used."""
        return self.call_manager("Reset", name, user, **opts)[0]

    def preview(self, name, **opts):
        return self.call_manager("Preview", name, **opts)

    def wait_prop(self, path, prop, value, timeout=5, iface=DEVICE_IFACE):
        """Polls property @prop until it is @value; its last value."""
        deadline = time.monotonic() + timeout
        while True:
            got = F.prop(path, prop, iface)
            if got == value or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def wait_finished(self, operation, path, start, timeout=10):
        """The OperationFinished signal of @operation on @path after
        SIGNALS mark @start."""
        return SIGNALS.wait(lambda e: e[1:3] == (MANAGER_IFACE, "OperationFinished") and
                            e[3][0] == operation and e[3][1] == path, timeout, start)


# --- introspection and inventory -------------------------------------------

class Inventory(Base):
    def introspect(self, path, user=None):
        if user is None:
            xml = F.call(path, "org.freedesktop.DBus.Introspectable", "Introspect")[0]
        else:
            xml = F.gdbus_call(path, "org.freedesktop.DBus.Introspectable.Introspect", user=user).unpack()[0]
        return dbustest.introspection_interfaces(xml)

    def test_hotplug(self):
        """A function that appears gets its object (InterfacesAdded) and
        counts in Manager.Devices; when it goes, its object goes
        (InterfacesRemoved) and the count comes back."""
        new = "0000:00:09.0"
        path = device_path(pci_name(new))
        before = F.prop(MANAGER_PATH, "Devices", MANAGER_IFACE)
        sig = SIGNALS.mark()
        F.bed.add(hdtest.pci_record(new))
        try:
            added = SIGNALS.wait(lambda e: e[2] == "InterfacesAdded" and e[3][0] == path, 5, sig)
            self.assertIsNotNone(added, SIGNALS.since(sig))
            self.assertEqual(self.wait_prop(MANAGER_PATH, "Devices", before + 1, iface=MANAGER_IFACE), before + 1)
            self.assertEqual((F.prop(path, "Name"), F.prop(path, "Driver"), F.prop(path, "Verdict")),
                             (pci_name(new), "", "detachable"))
        finally:
            sig = SIGNALS.mark()
            F.bed.remove("/sys/devices/pci0000:00/" + new)
        removed = SIGNALS.wait(lambda e: e[2] == "InterfacesRemoved" and e[3][0] == path, 5, sig)
        self.assertIsNotNone(removed, SIGNALS.since(sig))
        self.assertEqual(self.wait_prop(MANAGER_PATH, "Devices", before, iface=MANAGER_IFACE), before)
        self.assertNotIn(path, F.managed_objects())

    def test_introspection_matches_the_api(self):
        """The Manager and Device interfaces on the bus are exactly the
        API's: methods with their arguments, signals, properties and their
        access; the root has the ObjectManager."""
        api = dbustest.api_interfaces()
        live = self.introspect(MANAGER_PATH)
        self.assertEqual(live.get(MANAGER_IFACE), api[MANAGER_IFACE])
        for iface in ("org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable"):
            self.assertIn(iface, live)
        for name in (NAME, "computer", pci_name(BRIDGE)):
            with self.subTest(device=name):
                live = self.introspect(device_path(name), user=NOBODY)
                self.assertEqual(live.get(DEVICE_IFACE), api[DEVICE_IFACE])
        self.assertIn("org.freedesktop.DBus.ObjectManager", self.introspect(ROOT_PATH))

    def test_object_manager_lists_every_node_device(self):
        """GetManagedObjects: one object per node device of the testbed
        (expected/tree.txt, recorded from libvirtd), each with its Name and
        Parent; Manager.Devices counts them."""
        parents = F.bed.expected_parents()
        objects = F.managed_objects()
        devices = {p: ifaces for p, ifaces in objects.items() if p.startswith(DEVICES_PATH + "/")}
        self.assertEqual(sorted(devices), sorted(device_path(n) for n in parents))
        for name, parent in parents.items():
            with self.subTest(device=name):
                props = devices[device_path(name)][DEVICE_IFACE]
                self.assertEqual(props["Name"], name)
                self.assertEqual(props["Parent"], "/" if parent is None else device_path(parent))
        # Whatever else it lists is the Manager.
        self.assertLessEqual(set(objects) - set(devices), {MANAGER_PATH})
        self.assertEqual(F.prop(MANAGER_PATH, "Devices", MANAGER_IFACE), len(parents))

    def test_busctl_tree_as_nobody(self):
        r = F.busctl("tree", "--list", BUS_NAME, user=NOBODY)
        self.assertEqual(r.returncode, 0, r.stderr)
        paths = set(r.stdout.split())
        want = {device_path(n) for n in F.bed.expected_parents()} | {ROOT_PATH, MANAGER_PATH}
        self.assertLessEqual(want, paths)
        self.assertEqual({p for p in paths if p.startswith(DEVICES_PATH + "/")},
                         {device_path(n) for n in F.bed.expected_parents()})

    def test_property_types(self):
        """Every property of the API, with the API's type, on every object."""
        api = dbustest.api_interfaces()
        want = {n: t for n, (t, _access) in api[DEVICE_IFACE]["properties"].items()}
        for name in F.bed.expected_parents():
            with self.subTest(device=name):
                got = {n: v.get_type_string() for n, v in F.property_variants(device_path(name)).items()}
                self.assertEqual(got, want)
        want = {n: t for n, (t, _access) in api[MANAGER_IFACE]["properties"].items()}
        got = {n: v.get_type_string() for n, v in F.property_variants(MANAGER_PATH, MANAGER_IFACE).items()}
        self.assertEqual(got, want)

    def test_manager_properties(self):
        props = F.properties(MANAGER_PATH, MANAGER_IFACE)
        version = subprocess.run([hdtest.HOSTDEVD, "--version"], capture_output=True, text=True,
                                 env=hdtest.client_env())
        self.assertTrue(props["Version"])
        self.assertIn(props["Version"], version.stdout)
        groups = os.listdir(os.path.join(F.bed.sys, "kernel", "iommu_groups"))
        self.assertEqual(props["IommuGroups"], len(groups))
        self.assertEqual(props["Devices"], len(F.bed.expected_parents()))
        self.assertEqual(props["Operations"], 0)

    def test_properties_e1000e(self):
        p = F.properties(PATH)
        self.assertEqual(p, {
            "Name": NAME,
            "Parent": device_path("pci_0000_00_03_0"),
            "SysfsPath": "/sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0",
            "Address": ADDR,
            "VendorId": 0x8086,
            "ProductId": 0x10d3,
            "VendorName": "Intel Corporation",
            "ProductName": "82574L Gigabit Network Connection",
            "Class": 0x020000,
            "Driver": "e1000e",
            "OriginalDriver": "",
            "Detached": False,
            "DriverOverride": "",
            "IommuGroup": 9,
            "IommuGroupMembers": [PATH],
            "PhysFunction": "/",
            "VirtFunctions": [],
            "MaxVirtFunctions": 0,
            "NumaNode": -1,
            "ResetMethods": ["pm", "bus"],
            "AssignedTo": [],
            "BootVga": False,
            "Verdict": "detachable",
            "VerdictReasons": ["a detach to vfio-pci would take %s (driver e1000e)" % ADDR],
        })

    def test_properties_computer(self):
        p = F.properties(device_path("computer"))
        self.assertEqual((p["Name"], p["Parent"], p["Address"], p["VendorId"], p["ProductId"], p["Class"],
                          p["Driver"], p["IommuGroup"], p["IommuGroupMembers"], p["NumaNode"], p["Verdict"],
                          p["PhysFunction"], p["VirtFunctions"], p["Detached"]),
                         ("computer", "/", "", 0, 0, -1, "", -1, [], -1, "", "/", [], False))

    def test_properties_conventional_pci_needs_group(self):
        """The e1000 shares group 4 with the rtl8139 and the bridge: its
        verdict names the rtl8139, in the text the libvirt door refuses a
        detach with."""
        p = F.properties(device_path(pci_name(E1000)))
        self.assertEqual((p["Driver"], p["IommuGroup"], p["Verdict"], p["VerdictReasons"], p["ResetMethods"]),
                         ("e1000", 4, "needs-group", [GROUP_REFUSAL], ["bus"]))
        self.assertEqual(sorted(p["IommuGroupMembers"]),
                         sorted(device_path(pci_name(a)) for a in (BRIDGE, E1000, RTL)))
        self.assertEqual(F.virsh_error("nodedev-detach", pci_name(E1000)), (ERROR + "InUse", GROUP_REFUSAL))

    def test_properties_bridge_and_boot_vga(self):
        p = F.properties(device_path(pci_name(BRIDGE)))
        self.assertEqual((p["Verdict"], p["VerdictReasons"], p["Driver"]),
                         ("not-assignable", [BRIDGE_REFUSAL], ""))
        p = F.properties(device_path(pci_name(VGA)))
        self.assertEqual((p["BootVga"], p["Verdict"], p["VerdictReasons"], p["Driver"]),
                         (True, "in-use-by-host", [VGA_REFUSAL], ""))

    def test_properties_sriov(self):
        pf = device_path(pci_name(PF))
        vfs = [device_path(pci_name(a)) for a in ("0000:03:00.1", "0000:03:00.2")]
        p = F.properties(pf)
        self.assertEqual((p["PhysFunction"], sorted(p["VirtFunctions"]), p["MaxVirtFunctions"], p["Driver"],
                          p["ResetMethods"]),
                         ("/", vfs, 4, "nvme", ["flr", "bus"]))
        for vf in vfs:
            p = F.properties(vf)
            self.assertEqual((p["PhysFunction"], p["VirtFunctions"], p["MaxVirtFunctions"], p["ResetMethods"]),
                             (pf, [], 0, ["flr"]))

    def test_get_xml_desc(self):
        """Every device's XML is the one recorded from libvirtd (which ends
        in one newline, as virNodeDeviceGetXMLDesc returns it)."""
        for name in F.bed.expected_parents():
            with self.subTest(device=name):
                self.assertEqual(F.call(device_path(name), DEVICE_IFACE, "GetXMLDesc")[0],
                                 F.bed.expected_xml(name))
        # The same through gdbus as nobody and busctl.
        reply = F.gdbus_call(PATH, DEVICE_IFACE + ".GetXMLDesc", user=NOBODY)
        self.assertEqual(reply.unpack()[0], F.bed.expected_xml(NAME))
        got = F.busctl_json("call", BUS_NAME, PATH, DEVICE_IFACE, "GetXMLDesc", user=NOBODY)
        self.assertEqual(got, {"type": "s", "data": [F.bed.expected_xml(NAME)]})

    # --- lookups -------------------------------------------------------------

    def test_lookup_by_name(self):
        for name in F.bed.expected_parents():
            with self.subTest(name=name):
                self.assertEqual(F.manager("LookupByName", name, signature="(s)")[0], device_path(name))

    def test_lookup_by_name_unknown_and_strange(self):
        """Names that are not node devices, however strange, are NoDevice
        with libvirt's text (virsh nodedev-dumpxml of the same name)."""
        for name in ("nosuch", "", "../x", "pci_0000_01_00_0/../computer", "PCI_0000_01_00_0", " computer",
                     "pci_0000_01_00_0\n", "x" * 5000, "computer'\"<>&", "pci_0000_99_00_0"):
            with self.subTest(name=name[:40]):
                with self.assert_error("NoDevice") as cm:
                    F.manager("LookupByName", name, signature="(s)")
                if len(name) < 100 and name.strip() == name and name:
                    self.assertEqual((cm.exception.name, cm.exception.message),
                                     F.virsh_error("nodedev-dumpxml", name))
                else:
                    self.assertEqual(cm.exception.message, "no node device with matching name '%s'" % name)
        self.assertTrue(F.daemon.alive())

    def test_lookup_by_address(self):
        for name in F.bed.expected_parents():
            if name == "computer":
                continue
            addr = F.properties(device_path(name))["Address"]
            with self.subTest(address=addr):
                self.assertEqual(F.manager("LookupByAddress", addr, signature="(s)")[0], device_path(name))
                self.assertEqual(F.manager("LookupByAddress", addr[5:], signature="(s)")[0], device_path(name))

    def test_lookup_by_address_bad_and_unknown(self):
        for addr in ("", "zz:00.0", "01:00", "0000:01:00.8", "0000:01:20.0", "1:0:0", "0000:01:00.0.0",
                     "pci_0000_01_00_0", "../01:00.0", " 01:00.0", "0000:01:00.0\n", "x" * 5000):
            with self.subTest(address=addr[:40]):
                with self.assert_error("InvalidArgument") as cm:
                    F.manager("LookupByAddress", addr, signature="(s)")
                self.assertTrue(cm.exception.message)
        for addr in ("0000:09:00.0", "09:00.0", "0001:01:00.0", "0000:01:00.1"):
            with self.subTest(address=addr):
                with self.assert_error("NoDevice"):
                    F.manager("LookupByAddress", addr, signature="(s)")
        self.assertTrue(F.daemon.alive())

    # --- preview -------------------------------------------------------------

    def test_preview_group_case(self):
        """The e1000 alone: needs-group, blocked by the rtl8139, the bridge
        stays; with group: both taken.  Nothing is written."""
        e1000, rtl, bridge = (device_path(pci_name(a)) for a in (E1000, RTL, BRIDGE))
        self.assertEqual(self.preview(pci_name(E1000)), (
            "needs-group", "vfio-pci",
            [(e1000, E1000, "e1000", "requested")],
            [(rtl, RTL, "8139cp", "IOMMU group 4")],
            [(bridge, BRIDGE, "", "IOMMU group 4")],
            [],
            [GROUP_REFUSAL]))
        verdict, stub, takes, blockers, stays, uses, reasons = self.preview(pci_name(E1000), group=True)
        self.assertEqual((verdict, stub, takes, stays, uses), (
            "detachable", "vfio-pci",
            [(e1000, E1000, "e1000", "requested"), (rtl, RTL, "8139cp", "IOMMU group 4")],
            [(bridge, BRIDGE, "", "IOMMU group 4")], []))
        self.assertEqual(reasons, ["a detach to vfio-pci would take %s (driver e1000), %s (driver 8139cp)"
                                   % (E1000, RTL)])
        self.assert_nothing_written()

    def test_preview_other_cases(self):
        self.assertEqual(self.preview(NAME, driver="kvm"), (
            "detachable", "pci-stub", [(PATH, ADDR, "e1000e", "requested")], [], [], [],
            ["a detach to pci-stub would take %s (driver e1000e)" % ADDR]))
        self.assertEqual(self.preview(NAME, driver="xen")[:2], ("detachable", "pciback"))
        verdict, _stub, takes, blockers, _stays, _uses, reasons = self.preview(pci_name(BRIDGE))
        self.assertEqual((verdict, takes, blockers, reasons), ("not-assignable", [], [], [BRIDGE_REFUSAL]))
        verdict, _stub, takes, _b, _s, uses, reasons = self.preview(pci_name(VGA))
        self.assertEqual((verdict, uses, reasons), ("in-use-by-host", ["it is the boot VGA device"], [VGA_REFUSAL]))
        verdict, _stub, takes, _b, _s, uses, reasons = self.preview(pci_name(VGA), force=True)
        self.assertEqual((verdict, takes, uses), ("detachable", [(device_path(pci_name(VGA)), VGA, "", "requested")],
                                                  ["it is the boot VGA device"]))
        self.assertEqual(reasons, ["a detach to vfio-pci would take %s" % VGA,
                                   "forced although the host uses it: it is the boot VGA device"])
        for bad in ({"driver": "foo"}, {"bogus": True}, {"group": "yes"}):
            with self.subTest(options=bad):
                with self.assert_error("InvalidArgument"):
                    self.preview(NAME, **bad)
        with self.assert_error("NoDevice"):
            self.preview("nosuch")
        self.assert_nothing_written()

    def test_no_dbus_option(self):
        """hostdevd --no-dbus, given a bus where the name is free, never
        connects to it.  (The test's daemon stops first: two daemons on one
        testbed at once would share umockdev's uevent socket, and the first
        would hear no more uevents.)"""
        self.assertEqual(F.daemon.stop(), 0)
        F.bus.wait_name_gone(BUS_NAME)
        d = hdtest.Daemon(F.bed, args=("--no-dbus",), bus_address=F.bus.address)
        try:
            time.sleep(0.3)
            self.assertIsNone(F.bus.name_owner(BUS_NAME))
            pids = set()
            for n in F.bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "ListNames")[0]:
                if n.startswith(":"):
                    try:
                        pids.add(F.bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "GetConnectionUnixProcessID", (n,), "(s)")[0])
                    except DBusError:
                        pass
            self.assertNotIn(d.proc.pid, pids)
        finally:
            self.assertEqual(d.stop(), 0, d.read_log())
            F.start_daemon()


# --- operations as root ----------------------------------------------------

class RootOperations(Base):
    """uid 0 needs no polkit: polkit (denying everything) is never asked."""

    def test_detach_reattach(self):
        mark, sig = MONITOR.mark(), SIGNALS.mark()
        self.assertEqual(self.detach(NAME), [PATH])
        self.assertEqual(F.kernel.log(), detach_writes("vfio-pci"))
        self.assert_detached("vfio-pci")
        finished = self.wait_finished("detach", PATH, sig)
        self.assertEqual(finished and finished[3], ("detach", PATH, [PATH], "", ""))
        changed = SIGNALS.wait(lambda e: e[0] == PATH and e[2] == "PropertiesChanged" and
                               e[3][0] == DEVICE_IFACE and e[3][1].get("Driver") == "vfio-pci", 5, sig)
        self.assertIsNotNone(changed, "no PropertiesChanged with Driver 'vfio-pci': %s" % SIGNALS.since(sig))
        p = F.properties(PATH)
        self.assertEqual((p["Driver"], p["OriginalDriver"], p["Detached"], p["DriverOverride"], p["Verdict"]),
                         ("vfio-pci", "e1000e", True, "vfio-pci", "already-detached"))
        self.assertEqual(F.call(PATH, DEVICE_IFACE, "GetXMLDesc")[0],
                         F.bed.expected_xml(NAME).replace("<name>e1000e</name>", "<name>vfio-pci</name>"))

        # Already there: nothing to do, nothing returned.
        F.kernel.clear_log()
        self.assertEqual(self.detach(NAME), [])
        self.assert_detached("vfio-pci")
        F.kernel.quiet(0.2)
        self.assertEqual(F.kernel.log(), [])

        sig = SIGNALS.mark()
        self.assertEqual(self.reattach(NAME), ())
        self.assertEqual(F.kernel.log(), reattach_writes("vfio-pci"))
        self.assert_on_host()
        finished = self.wait_finished("reattach", PATH, sig)
        self.assertEqual(finished and finished[3], ("reattach", PATH, [PATH], "", ""))
        self.assertEqual(self.wait_prop(PATH, "Driver", "e1000e"), "e1000e")
        p = F.properties(PATH)
        self.assertEqual((p["OriginalDriver"], p["Detached"], p["DriverOverride"], p["Verdict"]),
                         ("", False, "", "detachable"))
        self.assertEqual(MONITOR.authorization_checks(mark), [])

    def test_device_object_methods_and_driver_kvm(self):
        """Device.Detach/ReAttach/Reset do what the Manager's do."""
        mark = MONITOR.mark()
        self.assertEqual(F.call(PATH, DEVICE_IFACE, "Detach", (options(driver="kvm"),), "(a{sv})")[0], [PATH])
        self.assertEqual(F.kernel.log(), detach_writes("pci-stub"))
        self.assert_detached("pci-stub")
        self.assertEqual(self.wait_prop(PATH, "Driver", "pci-stub"), "pci-stub")
        F.kernel.clear_log()
        self.assertEqual(F.call(PATH, DEVICE_IFACE, "ReAttach", ({},), "(a{sv})"), ())
        self.assertEqual(F.kernel.log(), reattach_writes("pci-stub"))
        self.assert_on_host()
        F.kernel.clear_log()
        self.assertEqual(F.call(PATH, DEVICE_IFACE, "Reset", ({},), "(a{sv})"), ("pm",))
        self.assertEqual([w.file for w in F.kernel.log()], ["reset_method", "reset", "reset_method"])
        self.assertEqual(MONITOR.authorization_checks(mark), [])

    def test_detach_driver_xen(self):
        self.assertEqual(self.detach(NAME, driver="xen"), [PATH])
        self.assertEqual(F.kernel.log(), detach_writes("pciback"))
        self.assert_detached("pciback")
        F.kernel.clear_log()
        self.reattach(NAME)
        self.assertEqual(F.kernel.log(), reattach_writes("pciback"))
        self.assert_on_host()

    def test_reset(self):
        """"pm bus": no other function on bus 01, PM first; the admin's
        list is put back."""
        before = F.kernel.resets[ADDR]
        sig = SIGNALS.mark()
        self.assertEqual(self.reset(NAME), "pm")
        log = F.kernel.log()
        self.assertIn(log[:1], ([W("reset_method", ADDR, "pm")], [W("reset_method", ADDR, None)]), log)
        self.assertEqual(log[1:], [W("reset", ADDR, "1"), W("reset_method", ADDR, "pm bus")])
        self.assertEqual((F.kernel.resets[ADDR] - before, F.kernel.reset_used[ADDR]), (1, "pm"))
        finished = self.wait_finished("reset", PATH, sig)
        self.assertEqual(finished and finished[3], ("reset", PATH, [PATH], "", ""))
        self.assert_on_host()

    def test_group_detach(self):
        """group: the e1000 and the rtl8139 (not the bridge) in one
        transaction; each reattached on its own."""
        e1000, rtl = device_path(pci_name(E1000)), device_path(pci_name(RTL))
        sig = SIGNALS.mark()
        self.assertEqual(sorted(self.detach(pci_name(E1000), group=True)), sorted([e1000, rtl]))
        self.assertEqual((F.kernel.driver_of(E1000), F.kernel.driver_of(RTL), F.kernel.driver_of(BRIDGE)),
                         ("vfio-pci", "vfio-pci", None))
        j = F.journal()
        self.assertEqual(sorted(j), [E1000, RTL])
        self.assertEqual(j[E1000]["transaction"], j[RTL]["transaction"])
        finished = self.wait_finished("detach", e1000, sig)
        self.assertIsNotNone(finished)
        self.assertEqual((sorted(finished[3][2]), finished[3][3:]), (sorted([e1000, rtl]), ("", "")))
        self.assertEqual(self.wait_prop(rtl, "Driver", "vfio-pci"), "vfio-pci")
        for addr, driver in ((E1000, "e1000"), (RTL, "8139cp")):
            self.reattach(pci_name(addr))
            self.assertEqual(F.kernel.driver_of(addr), driver)
        self.assertEqual(F.journal(), {})

    def test_forced_detach_of_boot_vga(self):
        vga = pci_name(VGA)
        with self.assert_error("InUse", VGA_REFUSAL):
            self.detach(vga)
        self.assertEqual(F.virsh_error("nodedev-detach", vga), (ERROR + "InUse", VGA_REFUSAL))
        self.assert_nothing_written()
        self.assertEqual(self.detach(vga, force=True), [device_path(vga)])
        self.assert_detached("vfio-pci", VGA, None)
        self.reattach(vga)
        self.assertEqual(F.kernel.driver_of(VGA), None)
        self.assertEqual(F.journal(), {})

    def test_operations_property(self):
        """Operations counts a detach while it runs: here while the kernel
        takes 0.6 s to react to the unbind (before any uevent)."""
        F.kernel.set_delay(0.6)
        result = {}
        t = threading.Thread(target=lambda: result.update(paths=self.detach(NAME)))
        t.start()
        try:
            self.assertTrue(F.kernel.wait_write("unbind", "e1000e"))
            self.assertEqual(self.wait_prop(MANAGER_PATH, "Operations", 1, 0.3, MANAGER_IFACE), 1)
        finally:
            t.join(15)
        self.assertEqual(result.get("paths"), [PATH])
        self.assertEqual(self.wait_prop(MANAGER_PATH, "Operations", 0, 5, MANAGER_IFACE), 0)
        F.kernel.set_delay(0)
        self.reattach(NAME)

    def test_group_follows_a_member(self):
        """The host unbinds the rtl8139 on its own: the e1000, which
        needed the whole IOMMU group, is detachable alone from the
        rtl8139's uevent on, and needs the group again when the rtl8139 is
        bound again.  The e1000 itself has no event."""
        e1000 = device_path(pci_name(E1000))
        self.assertEqual(F.prop(e1000, "Verdict"), "needs-group")
        F.kernel.host_unbind(RTL)
        try:
            self.assertEqual(self.wait_prop(e1000, "Verdict", "detachable"), "detachable")
            self.assertEqual(F.prop(device_path(pci_name(RTL)), "Driver"), "")
        finally:
            F.kernel.host_bind(RTL, "8139cp")
        self.assertEqual(self.wait_prop(e1000, "Verdict", "needs-group"), "needs-group")
        self.assertEqual(F.prop(e1000, "VerdictReasons"), [GROUP_REFUSAL])

    def test_no_intermediate_state(self):
        """While the kernel takes 0.3 s for each of unbind and bind (six
        times the 50 ms in which hostdevd re-reads a burst of uevents),
        the device's Driver goes from e1000e straight to vfio-pci and
        back: never the empty driver between the two steps."""
        F.kernel.set_delay(0.3)
        for method, before, after in (("detach", "e1000e", "vfio-pci"), ("reattach", "vfio-pci", "e1000e")):
            with self.subTest(method=method):
                sig = SIGNALS.mark()
                getattr(self, method)(NAME)
                self.assertEqual(F.prop(PATH, "Driver"), after)
                SIGNALS.wait(lambda e: e[0] == PATH and e[2] == "PropertiesChanged" and
                             e[3][1].get("Driver") == after, 5, sig)
                drivers = [e[3][1]["Driver"] for e in SIGNALS.since(sig)
                           if e[0] == PATH and e[2] == "PropertiesChanged" and e[3][0] == DEVICE_IFACE and
                           "Driver" in e[3][1]]
                self.assertEqual(drivers, [after], "Driver went %s -> %s" % (before, " -> ".join(drivers)))
        F.kernel.set_delay(0)

    def test_probe_fails_timed_out(self):
        """vfio-pci refuses the device: TimedOut after the settle timeout,
        with the libvirt door's text; rolled back; OperationFinished
        carries the error."""
        F.kernel.set_probe_fails("vfio-pci")
        sig = SIGNALS.mark()
        text = ("the kernel did not bind PCI device %s to vfio-pci within %d ms (the driver's probe may have "
                "failed; see the kernel log); rolled back: the devices are on their previous drivers again"
                % (ADDR, SETTLE_MS))
        with self.assert_error("TimedOut", text):
            self.detach(NAME)
        finished = self.wait_finished("detach", PATH, sig)
        self.assertIsNotNone(finished)
        self.assertEqual(finished[3][3:], (ERROR + "TimedOut", text))
        self.assert_on_host()


# --- options and errors ---------------------------------------------------

class Errors(Base):
    def test_options_validation(self):
        from gi.repository import GLib
        cases = [
            ("Detach", {"bogus": GLib.Variant("b", True)}),
            ("Detach", {"driver": GLib.Variant("i", 1)}),
            ("Detach", {"group": GLib.Variant("s", "true")}),
            ("Detach", {"force": GLib.Variant("i", 1)}),
            ("Detach", {"interactive": GLib.Variant("s", "no")}),
            ("ReAttach", {"driver": GLib.Variant("s", "vfio")}),
            ("ReAttach", {"group": GLib.Variant("b", True)}),
            ("ReAttach", {"force": GLib.Variant("b", True)}),
            ("Reset", {"driver": GLib.Variant("s", "vfio")}),
            ("Reset", {"group": GLib.Variant("b", True)}),
            ("Reset", {"force": GLib.Variant("s", "yes")}),
        ]
        for method, opts in cases:
            with self.subTest(method=method, options=opts):
                with self.assert_error("InvalidArgument") as cm:
                    F.manager(method, NAME, opts, signature="(sa{sv})")
                self.assertTrue(cm.exception.message)
        with self.assert_error("InvalidArgument", "unknown driver name 'foo'"):
            self.detach(NAME, driver="foo")
        self.assertEqual(F.virsh_error("nodedev-detach", "--driver", "foo", NAME),
                         (ERROR + "InvalidArgument", "unknown driver name 'foo'"))
        self.assert_nothing_written()

    def test_refusals_read_as_through_libvirt(self):
        """Each refusal has the class and the text virsh shows for it
        through the libvirt door, after libvirt's prefix."""
        cases = [
            (("Detach", pci_name(E1000)), ("nodedev-detach", pci_name(E1000)), "InUse"),
            (("Detach", pci_name(BRIDGE)), ("nodedev-detach", pci_name(BRIDGE)), "InvalidArgument"),
            (("Detach", pci_name(VGA)), ("nodedev-detach", pci_name(VGA)), "InUse"),
            (("Detach", "nosuch"), ("nodedev-detach", "nosuch"), "NoDevice"),
            (("ReAttach", "nosuch"), ("nodedev-reattach", "nosuch"), "NoDevice"),
            (("Reset", "nosuch"), ("nodedev-reset", "nosuch"), "NoDevice"),
            (("Reset", pci_name(E1000)), ("nodedev-reset", pci_name(E1000)), "Failed"),
            (("Reset", pci_name(BRIDGE)), ("nodedev-reset", pci_name(BRIDGE)), "Failed"),
            (("Detach", "computer"), ("nodedev-detach", "computer"), None),
            (("Reset", "computer"), ("nodedev-reset", "computer"), None),
        ]
        for (method, name), virsh, cls in cases:
            with self.subTest(method=method, device=name):
                vname, vtext = F.virsh_error(*virsh)
                if cls is not None:
                    self.assertEqual(vname, ERROR + cls, vtext)
                with self.assert_error(vname or "Failed", vtext):
                    F.manager(method, name, {}, signature="(sa{sv})")
        self.assert_nothing_written()

    def test_bus_reset_refusal_text(self):
        """virPCIDeviceReset's wrapped internal error, as libvirt 9.0 says it."""
        with self.assert_error("Failed", BUS_RESET_REFUSAL):
            self.reset(pci_name(E1000))
        self.assertEqual(F.kernel.resets[E1000], 0)

    def test_wrong_signature(self):
        """Arguments of the wrong type are refused by GDBus itself."""
        with self.assert_error("org.freedesktop.DBus.Error.InvalidArgs"):
            F.manager("Detach", NAME, signature="(s)")
        with self.assert_error("org.freedesktop.DBus.Error.InvalidArgs"):
            F.manager("LookupByName", 5, signature="(u)")
        self.assert_nothing_written()


# --- polkit: callers that are not root ------------------------------------

class Polkit(Base):
    def checks(self, mark):
        return MONITOR.authorization_checks(mark)

    def test_reading_needs_no_polkit(self):
        mark = MONITOR.mark()
        objects = F.gdbus_call(ROOT_PATH, "org.freedesktop.DBus.ObjectManager.GetManagedObjects",
                               user=NOBODY).unpack()[0]
        self.assertIn(PATH, objects)
        r = F.busctl("get-property", BUS_NAME, PATH, DEVICE_IFACE, "Driver", user=NOBODY)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, 's "e1000e"\n', ""))
        self.assertEqual(F.busctl_json("get-property", BUS_NAME, PATH, DEVICE_IFACE, "ResetMethods", user=NOBODY),
                         {"type": "as", "data": ["pm", "bus"]})
        self.assertEqual(F.gdbus_call(MANAGER_PATH, MANAGER_IFACE + ".LookupByName", NAME, user=NOBODY).unpack(),
                         (PATH,))
        self.assertEqual(F.gdbus_call(MANAGER_PATH, MANAGER_IFACE + ".LookupByAddress", "01:00.0",
                                      user=NOBODY).unpack(), (PATH,))
        verdict = F.gdbus_call(MANAGER_PATH, MANAGER_IFACE + ".Preview", pci_name(E1000), "@a{sv} {}",
                               user=NOBODY).unpack()
        self.assertEqual(verdict[0], "needs-group")
        self.assertEqual(F.gdbus_call(PATH, DEVICE_IFACE + ".GetXMLDesc", user=NOBODY).unpack()[0],
                         F.bed.expected_xml(NAME))
        self.assertEqual(self.checks(mark), [])
        self.assert_nothing_written()

    def test_denied_by_default(self):
        """polkit allows nothing: every mutation through both objects is
        NotAuthorized, writes nothing, and asked polkit with the right
        action about the caller."""
        mark = MONITOR.mark()
        calls = [
            (MANAGER_PATH, MANAGER_IFACE + ".Detach", (NAME, "@a{sv} {}"), ACTION_DETACH),
            (MANAGER_PATH, MANAGER_IFACE + ".ReAttach", (NAME, "@a{sv} {}"), ACTION_REATTACH),
            (MANAGER_PATH, MANAGER_IFACE + ".Reset", (NAME, "@a{sv} {}"), ACTION_RESET),
            (PATH, DEVICE_IFACE + ".Detach", ("@a{sv} {}",), ACTION_DETACH),
            (PATH, DEVICE_IFACE + ".ReAttach", ("@a{sv} {}",), ACTION_REATTACH),
            (PATH, DEVICE_IFACE + ".Reset", ("@a{sv} {}",), ACTION_RESET),
        ]
        for path, method, args, _action in calls:
            with self.subTest(method=method, path=path):
                with self.assert_error("NotAuthorized") as cm:
                    F.gdbus_call(path, method, *args, user=NOBODY)
                self.assertTrue(cm.exception.message)
        self.assert_nothing_written()
        checks = self.checks(mark)
        self.assertEqual([c[2] for c in checks], [c[3] for c in calls])
        # One gdbus process per call, one after the other: the callers in
        # the order of the calls, each asked about once.
        callers = [m["sender"] for m in MONITOR.messages(mark, type="method_call", destination=BUS_NAME)
                   if m["member"] in ("Detach", "ReAttach", "Reset")]
        self.assertEqual([(kind, subject.get("name")) for kind, subject, *_ in checks],
                         [("system-bus-name", c) for c in callers])
        for _kind, _subject, _action, details, flags, sender in checks:
            self.assertEqual(sender, F.owner, "polkit was asked by someone else than hostdevd")
            self.assertEqual(flags, 0)
            self.assertEqual((details.get("device"), details.get("address")), (NAME, ADDR), details)
            self.assertLessEqual({"device", "address", "vendor", "product", "driver"}, set(details), details)
        self.assertEqual((checks[0][3].get("driver"), checks[0][3].get("stub")), ("e1000e", "vfio-pci"))

    def test_allowed_per_action(self):
        """detach allowed: the detach works as nobody, the reattach is still
        denied until reattach is allowed too."""
        F.polkit.set_allowed([ACTION_DETACH])
        self.assertEqual(self.detach(NAME, user=NOBODY), [PATH])
        self.assertEqual(F.kernel.log(), detach_writes("vfio-pci"))
        self.assert_detached("vfio-pci")
        F.kernel.clear_log()
        with self.assert_error("NotAuthorized"):
            self.reattach(NAME, user=NOBODY)
        with self.assert_error("NotAuthorized"):
            self.reset(NAME, user=NOBODY)
        F.kernel.quiet(0.2)
        self.assertEqual(F.kernel.log(), [])
        self.assert_detached("vfio-pci")
        F.polkit.set_allowed([ACTION_DETACH, ACTION_REATTACH])
        self.assertEqual(self.reattach(NAME, user=NOBODY), ())
        self.assertEqual(F.kernel.log(), reattach_writes("vfio-pci"))
        self.assert_on_host()
        F.polkit.set_allowed([ACTION_RESET])
        F.kernel.clear_log()
        self.assertEqual(self.reset(NAME, user=NOBODY), "pm")
        self.assertEqual([w.file for w in F.kernel.log()], ["reset_method", "reset", "reset_method"])

    def test_allow_unknown(self):
        """AllowUnknown(true) is polkit saying yes to everything."""
        F.polkit.allow_unknown(True)
        self.assertEqual(F.gdbus_call(PATH, DEVICE_IFACE + ".Detach", "{'driver': <'kvm'>}",
                                      user=NOBODY).unpack(), ([PATH],))
        self.assert_detached("pci-stub")
        self.reattach(NAME, user=NOBODY)
        self.assert_on_host()

    def test_interactive_flag(self):
        """interactive: polkit may ask the caller (AllowUserInteraction, 1)."""
        mark = MONITOR.mark()
        with self.assert_error("NotAuthorized"):
            self.detach(NAME, user=NOBODY, interactive=True)
        with self.assert_error("NotAuthorized"):
            self.detach(NAME, user=NOBODY, interactive=False)
        self.assertEqual([c[4] for c in self.checks(mark)], [1, 0])
        self.assert_nothing_written()

    def test_polkit_answers_in_the_message(self):
        """Each of polkit's answers says why in NotAuthorized's message: a
        challenge points at the interactive option, a dismissed dialog and
        a plain no do not, a polkit that is not there is named."""
        denied = "Not authorized for " + ACTION_DETACH
        answers = [
            ("(False, True, {})",
             denied + ": authentication is required (ask with the interactive option)"),
            ("(False, False, {'polkit.dismissed': 'true'})", denied),
            ("(False, False, {})", denied),
        ]
        for ret, message in answers:
            with self.subTest(answer=ret):
                F.polkit.answer(ret)
                with self.assert_error("NotAuthorized", message):
                    self.detach(NAME, user=NOBODY, interactive=True)
        F.polkit.stop()
        with self.assert_error("NotAuthorized") as cm:
            self.detach(NAME, user=NOBODY)
        self.assertTrue(cm.exception.message.startswith(denied + ": polkit could not be asked ("),
                        cm.exception.message)
        self.assert_nothing_written()

    def test_detach_in_use_needs_its_own_action(self):
        """A forced detach of the boot VGA device is detach-in-use; a forced
        detach of a device the host does not use is a plain detach."""
        vga = pci_name(VGA)
        F.polkit.set_allowed([ACTION_DETACH])
        mark = MONITOR.mark()
        with self.assert_error("NotAuthorized"):
            self.detach(vga, user=NOBODY, force=True)
        self.assertIn(ACTION_DETACH_IN_USE, [c[2] for c in self.checks(mark)])
        self.assert_nothing_written()
        # Not forced: the verdict's refusal, whoever asks.
        with self.assert_error("InUse", VGA_REFUSAL):
            self.detach(vga, user=NOBODY)
        self.assert_nothing_written()
        F.polkit.set_allowed([ACTION_DETACH, ACTION_DETACH_IN_USE])
        self.assertEqual(self.detach(vga, user=NOBODY, force=True), [device_path(vga)])
        self.assert_detached("vfio-pci", VGA, None)
        self.reattach(vga)
        F.polkit.set_allowed([ACTION_DETACH])
        mark = MONITOR.mark()
        self.assertEqual(self.detach(NAME, user=NOBODY, force=True), [PATH])
        self.assertEqual([c[2] for c in self.checks(mark)], [ACTION_DETACH])
        self.assert_detached("vfio-pci")
        self.reattach(NAME)
        self.assert_on_host()

    def test_enable_virt_use_sysfs(self):
        """EnableVirtUseSysfs is guarded by set-selinux-boolean (denied:
        NotAuthorized); allowed, on a host where SELinux is disabled, it
        changes nothing and says so.  (The boolean itself, on a fake
        selinuxfs: tests/unit/test-selinux-boolean.c.)"""
        method = MANAGER_IFACE + ".EnableVirtUseSysfs"
        mark = MONITOR.mark()
        with self.assert_error("NotAuthorized"):
            F.gdbus_call(MANAGER_PATH, method, "@a{sv} {}", user=NOBODY)
        checks = self.checks(mark)
        self.assertEqual([c[2] for c in checks], ["org.hostdevd1.set-selinux-boolean"])
        self.assertEqual(checks[0][3].get("boolean"), "virt_use_sysfs")
        with self.assert_error("InvalidArgument"):
            F.gdbus_call(MANAGER_PATH, method, "{'force': <true>}", user=NOBODY)
        if os.path.exists("/sys/fs/selinux/enforce"):
            self.skipTest("SELinux is enabled on this machine: the allowed call would change its policy")
        F.polkit.set_allowed(["org.hostdevd1.set-selinux-boolean"])
        self.assertEqual(F.gdbus_call(MANAGER_PATH, method, "@a{sv} {}", user=NOBODY).unpack(), (False,))
        self.assert_nothing_written()

    def test_no_polkit_on_the_bus(self):
        """Without polkit a caller that is not root is NotAuthorized, at
        once; root is still served."""
        F.polkit.stop()
        start = time.monotonic()
        with self.assert_error("NotAuthorized"):
            self.detach(NAME, user=NOBODY)
        self.assertLess(time.monotonic() - start, 5)
        self.assert_nothing_written()
        self.assertEqual(self.detach(NAME), [PATH])
        self.assert_detached("vfio-pci")
        self.reattach(NAME)
        self.assert_on_host()
        F.polkit.start()

    def test_error_classes_as_nobody(self):
        """Refusals that need no authorization read the same for nobody."""
        F.polkit.set_allowed([ACTION_DETACH, ACTION_REATTACH, ACTION_RESET])
        with self.assert_error("InUse", GROUP_REFUSAL):
            self.detach(pci_name(E1000), user=NOBODY)
        with self.assert_error("InvalidArgument", "unknown driver name 'foo'"):
            self.detach(NAME, user=NOBODY, driver="foo")
        with self.assert_error("NoDevice", "no node device with matching name 'nosuch'"):
            self.detach("nosuch", user=NOBODY)
        self.assert_nothing_written()


if __name__ == "__main__":
    dbustest.main()
