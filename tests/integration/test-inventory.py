#!/usr/bin/python3
"""hostdevd's inventory as stock virsh and python3-libvirt see it, on one
testbed, against what real libvirtd 9.0 printed for that topology
(tests/data/testbeds/NAME/expected).

    umockdev-wrapper /usr/bin/python3 test-inventory.py TESTBED [unittest args]
"""
import sys
import unittest
import xml.etree.ElementTree as ET

import hdtest
from hdtest import LibvirtError

TESTBED = sys.argv.pop(1) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "host-virtio"


def expected_caps(xml):
    """virNodeDeviceCapsListExport: each top-level capability, and for PCI
    the nested mdev_types and vpd ones."""
    caps = []
    for cap in ET.fromstring(xml).findall("capability"):
        caps.append(cap.get("type"))
        if cap.get("type") == "pci":
            caps += [c.get("type") for c in cap.findall("capability")
                     if c.get("type") in ("mdev_types", "vpd")]
    return caps


def lines(names):
    """A virsh listing: one name per line, then virsh's blank line."""
    return "".join(n + "\n" for n in names) + "\n"


class Inventory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bed = hdtest.Testbed(TESTBED)
        cls.parents = cls.bed.expected_parents()
        cls.names = hdtest.virsh_sorted(cls.parents)
        cls.xml = {n: cls.bed.expected_xml(n) for n in cls.names}
        cls.caps = {n: expected_caps(cls.xml[n]) for n in cls.names}
        cls.pci = [n for n in cls.names if "pci" in cls.caps[n]]
        cls.system = [n for n in cls.names if "system" in cls.caps[n]]
        cls.daemon = hdtest.Daemon(cls.bed)
        cls.py = cls.daemon.agent()

    @classmethod
    def tearDownClass(cls):
        cls.py.close()
        cls.status = cls.daemon.stop()

    def virsh_ok(self, *args, **kw):
        r = self.daemon.virsh(*args, **kw)
        self.assertEqual((r.returncode, r.stderr), (0, ""), "virsh %s" % " ".join(args))
        return r.stdout

    def assert_error(self, call, code, domain, message):
        with self.assertRaises(LibvirtError) as cm:
            call()
        self.assertEqual((cm.exception.code, cm.exception.domain, cm.exception.message),
                         (code, domain, message))

    # --- sanity of the expected data and of the tree renderer -------------

    def test_00_expected_data(self):
        self.assertIn("computer", self.names)
        self.assertEqual(self.system, ["computer"])
        self.assertEqual(len(self.pci) + 1, len(self.names))

    def test_00_tree_renderer_reproduces_real_virsh(self):
        """virsh_tree() printed vm-q35/nodedev-tree.txt, which real virsh
        printed in the test VM (net devices included), byte for byte."""
        with open(hdtest.TESTBEDS + "/vm-q35/nodedev-tree.txt") as f:
            real = f.read()
        self.assertEqual(hdtest.virsh_tree(hdtest.parse_virsh_tree(real)) + "\n", real)

    # --- virsh nodedev-list ----------------------------------------------

    def test_virsh_list(self):
        self.assertEqual(self.virsh_ok("nodedev-list"), lines(self.names))

    def test_virsh_list_all(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--all"), lines(self.names))

    def test_virsh_list_inactive(self):
        # udev devices and `computer` are all active.
        self.assertEqual(self.virsh_ok("nodedev-list", "--inactive"), lines([]))

    def test_virsh_list_cap_pci(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--cap", "pci"), lines(self.pci))

    def test_virsh_list_cap_system(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--cap", "system"), lines(["computer"]))

    def test_virsh_list_cap_pci_and_system(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--cap", "system,pci"), lines(self.names))

    def test_virsh_list_cap_net(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--cap", "net"), lines([]))

    def test_virsh_list_read_only_socket(self):
        self.assertEqual(self.virsh_ok("nodedev-list", ro_socket=True, readonly=True), lines(self.names))
        self.assertEqual(self.virsh_ok("nodedev-list", "--cap", "pci", ro_socket=True), lines(self.pci))

    def test_virsh_tree(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--tree"), hdtest.virsh_tree(self.parents) + "\n")

    def test_virsh_tree_read_only_socket(self):
        self.assertEqual(self.virsh_ok("nodedev-list", "--tree", ro_socket=True),
                         hdtest.virsh_tree(self.parents) + "\n")

    # --- virsh nodedev-dumpxml / nodedev-info -----------------------------

    def test_virsh_dumpxml(self):
        for name in self.names:
            with self.subTest(device=name):
                self.assertEqual(self.virsh_ok("nodedev-dumpxml", name), self.xml[name] + "\n")

    def test_virsh_dumpxml_read_only(self):
        for name in self.names:
            with self.subTest(device=name):
                self.assertEqual(self.virsh_ok("nodedev-dumpxml", name, ro_socket=True, readonly=True),
                                 self.xml[name] + "\n")

    def test_virsh_info(self):
        for name in self.names:
            with self.subTest(device=name):
                mine = "yes" if name == "computer" else "no"
                self.assertEqual(self.virsh_ok("nodedev-info", name),
                                 "Name:           %s\n"
                                 "Parent:         %s\n"
                                 "Active:         yes\n"
                                 "Persistent:     %s\n"
                                 "Autostart:      %s\n\n"
                                 % (name, self.parents[name] or "", mine, mine))

    def test_virsh_unknown_device(self):
        for cmd in ("nodedev-dumpxml", "nodedev-info"):
            with self.subTest(command=cmd):
                r = self.daemon.virsh(cmd, "nosuch")
                self.assertEqual((r.returncode, r.stdout, r.stderr),
                                 (1, "\n",
                                  "error: Could not find matching device 'nosuch'\n"
                                  "error: Node device not found: no node device with matching name 'nosuch'\n"))

    # --- python3-libvirt ---------------------------------------------------

    def test_python_list_all(self):
        got = self.py.conn("listAllDevices", 0)
        self.assertEqual(sorted(got), sorted(self.names))
        self.assertEqual(len(got), len(set(got)))

    def test_python_list_all_flags(self):
        cases = {
            "CAP_PCI_DEV": (hdtest.LIST_CAP_PCI_DEV, self.pci),
            "CAP_SYSTEM": (hdtest.LIST_CAP_SYSTEM, ["computer"]),
            "CAP_SYSTEM|CAP_PCI_DEV": (hdtest.LIST_CAP_SYSTEM | hdtest.LIST_CAP_PCI_DEV, self.names),
            "CAP_NET": (hdtest.LIST_CAP_NET, []),
            "ACTIVE": (hdtest.LIST_ACTIVE, self.names),
            "INACTIVE": (hdtest.LIST_INACTIVE, []),
            "ACTIVE|INACTIVE": (hdtest.LIST_ACTIVE | hdtest.LIST_INACTIVE, self.names),
            "CAP_PCI_DEV|ACTIVE": (hdtest.LIST_CAP_PCI_DEV | hdtest.LIST_ACTIVE, self.pci),
            "CAP_SYSTEM|INACTIVE": (hdtest.LIST_CAP_SYSTEM | hdtest.LIST_INACTIVE, []),
        }
        for label, (flags, expected) in cases.items():
            with self.subTest(flags=label):
                self.assertEqual(sorted(self.py.conn("listAllDevices", flags)), sorted(expected))

    def test_python_list_all_unknown_flag(self):
        self.assert_error(lambda: self.py.conn("listAllDevices", 1 << 29),
                          hdtest.VIR_ERR_INVALID_ARG, hdtest.VIR_FROM_NODEDEV,
                          "invalid argument: unsupported flags (0x20000000) in function "
                          "nodeConnectListAllNodeDevices")

    def test_python_legacy_list(self):
        for cap, expected in ((None, self.names), ("pci", self.pci), ("system", ["computer"]), ("net", [])):
            with self.subTest(cap=cap):
                self.assertEqual(self.py.conn("numOfDevices", cap, 0), len(expected))
                self.assertEqual(sorted(self.py.conn("listDevices", cap, 0)), sorted(expected))

    def test_python_devices(self):
        for name in self.names:
            with self.subTest(device=name):
                self.assertEqual(self.py.conn("nodeDeviceLookupByName", name), name)
                self.assertEqual(self.py.dev(name, "name"), name)
                self.assertEqual(self.py.dev(name, "XMLDesc", 0), self.xml[name])
                self.assertEqual(self.py.dev(name, "parent"), self.parents[name])
                self.assertEqual(self.py.dev(name, "listCaps"), self.caps[name])
                self.assertEqual(self.py.dev(name, "numOfCaps"), len(self.caps[name]))
                mine = 1 if name == "computer" else 0
                self.assertEqual(self.py.dev(name, "isActive"), 1)
                self.assertEqual(self.py.dev(name, "isPersistent"), mine)
                self.assertEqual(self.py.dev(name, "autostart"), mine)

    def test_python_xml_flags(self):
        for name in ("computer", self.pci[0]):
            with self.subTest(device=name):
                self.assert_error(lambda: self.py.dev(name, "XMLDesc", 1),
                                  hdtest.VIR_ERR_INVALID_ARG, hdtest.VIR_FROM_NODEDEV,
                                  "invalid argument: unsupported flags (0x1) in function nodeDeviceGetXMLDesc")

    def test_python_unknown_device(self):
        self.assert_error(lambda: self.py.conn("nodeDeviceLookupByName", "nosuch"),
                          hdtest.VIR_ERR_NO_NODE_DEVICE, hdtest.VIR_FROM_NODEDEV,
                          "Node device not found: no node device with matching name 'nosuch'")

    def test_python_read_only_socket(self):
        ro = self.daemon.agent(ro_socket=True, readonly=True)
        try:
            self.assertEqual(sorted(ro.conn("listAllDevices", 0)), sorted(self.names))
            for name in self.names:
                with self.subTest(device=name):
                    self.assertEqual(ro.dev(name, "XMLDesc", 0), self.xml[name])
                    self.assertEqual(ro.dev(name, "parent"), self.parents[name])
        finally:
            ro.close()

    # Last: the daemon served everything without dying.
    def test_zz_daemon_alive(self):
        self.assertTrue(self.daemon.alive(), "hostdevd died:\n" + self.daemon.read_log())


if __name__ == "__main__":
    hdtest.main()
