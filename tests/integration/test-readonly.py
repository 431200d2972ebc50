#!/usr/bin/python3
"""Detach, reattach and reset through the stock clients, refused on the
read-only socket (and by `virsh -r` on either socket) with libvirt's
"operation forbidden" error; unknown names are not found on both sockets.
Nothing in the testbed's sysfs changes.  What these calls do on a
read-write connection is test-detach.py's subject.

    umockdev-wrapper /usr/bin/python3 test-readonly.py [unittest args]
"""
import os
import unittest

import hdtest
from hdtest import LibvirtError, VIR_ERR_NO_NODE_DEVICE, VIR_ERR_OPERATION_DENIED, VIR_FROM_NODEDEV

TESTBED = "host-virtio"
DEVICE = "pci_0000_00_03_0"

# virsh command -> (its own failure line, the public API the server names)
VIRSH = {
    ("nodedev-detach",): ("Failed to detach device", "virNodeDeviceDettach"),
    ("nodedev-dettach",): ("Failed to detach device", "virNodeDeviceDettach"),
    ("nodedev-detach", "--driver", "vfio"): ("Failed to detach device", "virNodeDeviceDetachFlags"),
    ("nodedev-reattach",): ("Failed to re-attach device", "virNodeDeviceReAttach"),
    ("nodedev-reset",): ("Failed to reset device", "virNodeDeviceReset"),
}

# python call -> the public API
PYTHON = {
    ("dettach",): "virNodeDeviceDettach",
    ("detachFlags", None, 0): "virNodeDeviceDetachFlags",
    ("detachFlags", "vfio", 0): "virNodeDeviceDetachFlags",
    ("reAttach",): "virNodeDeviceReAttach",
    ("reset",): "virNodeDeviceReset",
}


def forbidden(api):
    return "operation forbidden: read only access prevents " + api


class ReadOnly(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bed = hdtest.Testbed(TESTBED)
        cls.sysfs_before = cls.snapshot()
        cls.daemon = hdtest.Daemon(cls.bed)
        cls.xml_before = cls.bed.expected_xml(DEVICE)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    @classmethod
    def snapshot(cls):
        """Contents of the files a detach writes, and the driver links."""
        sysdir = os.path.join(cls.bed.root, "sys")
        state = {}
        for top, dirs, files in os.walk(os.path.join(sysdir, "bus", "pci")):
            for f in files:
                if f in ("bind", "unbind", "new_id", "remove_id", "drivers_probe"):
                    path = os.path.join(top, f)
                    with open(path) as fh:
                        state[path] = fh.read()
        for top, dirs, files in os.walk(os.path.join(sysdir, "devices")):
            if "driver_override" in files:
                with open(os.path.join(top, "driver_override")) as fh:
                    state[top + "/driver_override"] = fh.read()
            link = os.path.join(top, "driver")
            if os.path.islink(link):
                state[link] = os.readlink(link)
        return state

    def assert_virsh_refused(self, args, line, message, **kw):
        r = self.daemon.virsh(*args, **kw)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "\n", "error: %s %s\nerror: %s\n" % (line, DEVICE, message)))

    def assert_python_error(self, agent, call, code, message):
        with self.assertRaises(LibvirtError) as cm:
            agent.dev(DEVICE, *call)
        self.assertEqual((cm.exception.code, cm.exception.domain, cm.exception.message),
                         (code, VIR_FROM_NODEDEV, message))

    # --- virsh -------------------------------------------------------------

    def test_virsh_read_only_socket(self):
        """The -ro socket makes the connection read-only whatever the
        client asked for: the server refuses."""
        for cmd, (line, api) in VIRSH.items():
            with self.subTest(command=cmd):
                self.assert_virsh_refused(cmd + (DEVICE,), line, forbidden(api), ro_socket=True)

    def test_virsh_r_read_only_socket(self):
        for cmd, (line, api) in VIRSH.items():
            with self.subTest(command=cmd):
                self.assert_virsh_refused(cmd + (DEVICE,), line, forbidden(api), ro_socket=True,
                                          readonly=True)

    def test_virsh_r_read_write_socket(self):
        for cmd, (line, api) in VIRSH.items():
            with self.subTest(command=cmd):
                self.assert_virsh_refused(cmd + (DEVICE,), line, forbidden(api), readonly=True)

    def test_virsh_unknown_device(self):
        for cmd in VIRSH:
            for ro in (False, True):
                with self.subTest(command=cmd, ro_socket=ro):
                    r = self.daemon.virsh(*(cmd + ("nosuch",)), ro_socket=ro)
                    self.assertEqual((r.returncode, r.stdout, r.stderr),
                                     (1, "\n", "error: Could not find matching device 'nosuch'\n"
                                               "error: Node device not found: no node device with "
                                               "matching name 'nosuch'\n"))

    # --- python3-libvirt ---------------------------------------------------

    def test_python_read_only_socket(self):
        agent = self.daemon.agent(ro_socket=True)   # libvirt.open(), not openReadOnly
        self.addCleanup(agent.close)
        for call, api in PYTHON.items():
            with self.subTest(call=call):
                self.assert_python_error(agent, call, VIR_ERR_OPERATION_DENIED, forbidden(api))
        # Reading is allowed there.
        self.assertEqual(agent.dev(DEVICE, "XMLDesc", 0), self.xml_before)

    def test_python_open_read_only(self):
        for ro_socket in (False, True):
            agent = self.daemon.agent(ro_socket=ro_socket, readonly=True)
            self.addCleanup(agent.close)
            for call, api in PYTHON.items():
                with self.subTest(call=call, ro_socket=ro_socket):
                    self.assert_python_error(agent, call, VIR_ERR_OPERATION_DENIED, forbidden(api))

    def test_python_unknown_device(self):
        for ro_socket in (False, True):
            agent = self.daemon.agent(ro_socket=ro_socket)
            self.addCleanup(agent.close)
            with self.subTest(ro_socket=ro_socket):
                with self.assertRaises(LibvirtError) as cm:
                    agent.conn("nodeDeviceLookupByName", "nosuch")
                self.assertEqual((cm.exception.code, cm.exception.domain, cm.exception.message),
                                 (VIR_ERR_NO_NODE_DEVICE, VIR_FROM_NODEDEV,
                                  "Node device not found: no node device with matching name 'nosuch'"))

    # Last: nothing was written, nothing changed.
    def test_zz_nothing_changed(self):
        self.assertEqual(self.snapshot(), self.sysfs_before)
        r = self.daemon.virsh("nodedev-dumpxml", DEVICE)
        self.assertEqual(r.stdout, self.xml_before + "\n")
        self.assertTrue(self.daemon.alive(), "hostdevd died:\n" + self.daemon.read_log())


if __name__ == "__main__":
    hdtest.main()
