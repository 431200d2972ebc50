#!/usr/bin/python3
"""Detach, reattach and reset through the stock clients, on the vm-q35
testbed, with a fake kernel (fakekernel.py) that reacts to what hostdevd
writes as Linux 6.1's PCI core does.

virsh nodedev-detach [--driver vfio|kvm|xen], nodedev-reattach and
nodedev-reset, and python3-libvirt's dettach, detachFlags, reAttach and
reset: the exact writes the kernel sees and their order (driver_override,
unbind, drivers_probe; new_id, unbind, [new_slot,] bind, remove_id where
the device has no driver_override), the driver link afterwards, the XML,
and the state journal.  Refusals (unknown stub, a conventional PCI device
that shares its bridge, a bridge, an unknown name, a bus reset with an
active neighbour) write nothing.  A probe that fails is rolled back after
the settle timeout.  A daemon killed (SIGKILL) at each step of a detach or
a reattach leaves a journal from which the next daemon on the same state
directory restores the device; a device fully detached before the kill
stays detached and known.  Concurrent detaches of one device make one
sequence of writes, and a detach waiting on a slow kernel does not hold
up other clients.

    umockdev-wrapper /usr/bin/python3 test-detach.py [unittest args]
"""
import configparser
import os
import re
import time
import unittest

import fakekernel
import hdtest
from hdtest import LibvirtError, VIR_ERR_INVALID_ARG, VIR_FROM_NODEDEV

TESTBED = "vm-q35"
ADDR = "0000:01:00.0"            # e1000e, alone in IOMMU group 9
NAME = hdtest.pci_name(ADDR)
E1000 = "0000:02:01.0"           # conventional PCI behind the PCIe-to-PCI bridge 00:04.0 ...
RTL = "0000:02:02.0"             # ... with an rtl8139 (8139cp); group 4
BRIDGE = "0000:00:04.0"
ID = "8086 10d3"
SETTLE_MS = 5000                 # the engine's default settle timeout

W = fakekernel.Write
VIR_ERR_OPERATION_INVALID = 55


def detach_writes(stub, driver="e1000e", addr=ADDR):
    return [W("driver_override", addr, stub), W("unbind", driver, addr), W("drivers_probe", None, addr)]


def reattach_writes(stub, addr=ADDR):
    return [W("driver_override", addr, ""), W("unbind", stub, addr), W("drivers_probe", None, addr)]


def failed(what, name, message):
    """virsh's two error lines."""
    return "error: Failed to %s %s\nerror: %s\n" % (what, name, message)


class Detach(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bed = hdtest.Testbed(TESTBED)
        cls.kernel = fakekernel.FakeKernel(cls.bed).start()
        cls.daemon = hdtest.Daemon(cls.bed)
        cls.state_dir = cls.daemon.state_dir
        cls.recorded = cls.bed.expected_xml(NAME)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.kernel.stop()

    def setUp(self):
        self.kernel.clear_faults()
        self.assert_on_host()
        self.kernel.clear_log()

    def tearDown(self):
        """Checks the daemon and the fake kernel, and puts things back for
        the next test if this one failed half-way."""
        errors = list(self.kernel.errors)
        del self.kernel.errors[:]
        self.kernel.clear_faults()
        died = None if self.daemon.alive() else self.daemon.read_log()
        if died is not None:
            self.restart()
        if self.kernel.driver_of(ADDR) != "e1000e" or self.journal():
            self.virsh("nodedev-reattach", NAME)
        self.assertEqual(errors, [], "the fake kernel failed")
        if died is not None:
            self.fail("hostdevd died:\n" + died)

    # --- helpers -------------------------------------------------------------

    def virsh(self, *args, **kw):
        return self.daemon.virsh(*args, **kw)

    def assert_virsh(self, args, stdout, stderr="", rc=None):
        r = self.virsh(*args)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1 if stderr else 0, stdout, stderr) if rc is None else (rc, stdout, stderr),
                         "virsh " + " ".join(args))

    def journal(self):
        """{address: {key: value}} of the records in the state directory."""
        out = {}
        for f in sorted(os.listdir(self.state_dir)):
            if not re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", f):
                continue   # temporary files of an interrupted write
            kf = configparser.ConfigParser(interpolation=None)
            kf.read(os.path.join(self.state_dir, f))
            out[f] = dict(kf["device"]) if kf.has_section("device") else None
        return out

    def override_file(self, addr=ADDR):
        with open(os.path.join(self.kernel.device_dir(addr), "driver_override")) as f:
            return f.read()

    def assert_on_host(self, addr=ADDR, driver="e1000e"):
        self.assertEqual(self.kernel.driver_of(addr), driver)
        self.assertEqual(self.override_file(addr), "(null)\n")
        self.assertEqual(self.journal(), {})

    def assert_detached(self, stub, original="e1000e", new_id_route=False, addr=ADDR):
        self.assertEqual(self.kernel.driver_of(addr), stub)
        j = self.journal()
        self.assertEqual(list(j), [addr])
        rec = j[addr]
        self.assertEqual((rec["address"], rec["state"], rec["stub"], rec.get("original-driver"),
                          rec["new-id-route"]),
                         (addr, "detached", stub, original, "true" if new_id_route else "false"))

    def assert_nothing_written(self):
        self.kernel.quiet(0.3)
        self.assertEqual(self.kernel.log(), [])

    def assert_reset_writes(self):
        """The e1000e's reset: PM selected (its list is "pm bus" and no
        other function shares bus 01), the reset, the list put back."""
        log = self.kernel.log()
        # The selection is rewritten within microseconds of the reset: the
        # fake kernel may have lost its value (None), never a wrong one.
        self.assertIn(log[:1], ([W("reset_method", ADDR, "pm")], [W("reset_method", ADDR, None)]), log)
        self.assertEqual(log[1:], [W("reset", ADDR, "1"), W("reset_method", ADDR, "pm bus")])

    def dumpxml(self, name=NAME):
        r = self.virsh("nodedev-dumpxml", name)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        return r.stdout

    def xml_with_driver(self, driver):
        return self.recorded.replace("<name>e1000e</name>", "<name>%s</name>" % driver) + "\n"

    def reattach(self, stub):
        """nodedev-reattach, and the device is the host's again."""
        self.kernel.clear_log()
        self.assert_virsh(("nodedev-reattach", NAME), "Device %s re-attached\n\n" % NAME)
        self.assertEqual(self.kernel.log(), reattach_writes(stub))
        self.assert_on_host()

    def restart(self):
        """A new daemon on the same testbed and state directory (the old
        one is gone); returns once its recovery has nothing left to do."""
        if self.daemon.alive():
            self.daemon.stop()
        type(self).daemon = hdtest.Daemon(self.bed, state_dir=self.state_dir)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if all(r is not None and r["state"] == "detached" for r in self.journal().values()):
                break
            time.sleep(0.05)
        self.kernel.quiet(0.3)
        self.assertTrue(self.daemon.alive(), self.daemon.read_log())

    def kill_during(self, args, file, subject=None, value=None, after=False):
        """Runs `virsh ARGS` and SIGKILLs the daemon when it writes @file;
        returns the journal as the killed daemon left it, and virsh's exit
        status."""
        self.kernel.kill_on(self.daemon, file, subject, value, after)
        bg = self.daemon.virsh_background(*args)
        self.daemon.reap(15)
        rc = bg.wait(15)
        self.kernel.quiet(0.3)
        return self.journal(), rc

    # --- virsh: detach and reattach -----------------------------------------

    def test_virsh_detach_reattach(self):
        self.assert_virsh(("nodedev-detach", NAME), "Device %s detached\n\n" % NAME)
        self.assertEqual(self.kernel.log(), detach_writes("vfio-pci"))
        self.assertEqual(self.override_file(), "vfio-pci\n")
        self.assert_detached("vfio-pci")
        self.assertEqual(self.dumpxml(), self.xml_with_driver("vfio-pci"))
        self.reattach("vfio-pci")
        self.assertEqual(self.dumpxml(), self.recorded + "\n")

    def test_virsh_dettach_alias_and_driver_vfio(self):
        for args in (("nodedev-dettach", NAME), ("nodedev-detach", "--driver", "vfio", NAME)):
            with self.subTest(args=args):
                self.kernel.clear_log()
                self.assert_virsh(args, "Device %s detached\n\n" % NAME)
                self.assertEqual(self.kernel.log(), detach_writes("vfio-pci"))
                self.assert_detached("vfio-pci")
                self.reattach("vfio-pci")

    def test_virsh_detach_driver_kvm_xen(self):
        for name, stub in (("kvm", "pci-stub"), ("xen", "pciback")):
            with self.subTest(driver=name):
                self.kernel.clear_log()
                self.assert_virsh(("nodedev-detach", "--driver", name, NAME), "Device %s detached\n\n" % NAME)
                self.assertEqual(self.kernel.log(), detach_writes(stub))
                self.assert_detached(stub)
                self.assertEqual(self.dumpxml(), self.xml_with_driver(stub))
                self.reattach(stub)

    def test_virsh_detach_twice(self):
        """A device already on the stub: success, nothing written."""
        self.assert_virsh(("nodedev-detach", NAME), "Device %s detached\n\n" % NAME)
        self.kernel.clear_log()
        self.assert_virsh(("nodedev-detach", NAME), "Device %s detached\n\n" % NAME)
        self.assert_nothing_written()
        self.assert_detached("vfio-pci")
        self.reattach("vfio-pci")

    def test_virsh_reattach_on_host_driver(self):
        """A device the host driver holds: nothing to give back, nothing
        written (libvirt would unbind and reprobe it)."""
        self.assert_virsh(("nodedev-reattach", NAME), "Device %s re-attached\n\n" % NAME)
        self.assert_nothing_written()
        self.assert_on_host()

    def test_virsh_unknown_driver(self):
        self.assert_virsh(("nodedev-detach", "--driver", "foo", NAME), "\n",
                          failed("detach device", NAME, "invalid argument: unknown driver name 'foo'"))
        self.assert_nothing_written()
        self.assert_on_host()

    def test_virsh_new_id_route(self):
        """Without driver_override (kernels before 3.16) the stub learns the
        device's ID, the host driver lets go, pciback learns the slot, the
        stub binds it, and the ID is removed again."""
        path = os.path.join(self.kernel.device_dir(ADDR), "driver_override")
        os.unlink(path)

        def restore():
            with open(path + ".tmp", "w") as f:
                f.write("(null)\n")
            os.rename(path + ".tmp", path)
            self.kernel.reopen()
        self.addCleanup(restore)
        for name, stub in (("vfio", "vfio-pci"), ("kvm", "pci-stub"), ("xen", "pciback")):
            with self.subTest(driver=name):
                self.kernel.clear_log()
                self.assert_virsh(("nodedev-detach", "--driver", name, NAME), "Device %s detached\n\n" % NAME)
                slot = [W("new_slot", stub, ADDR)] if stub == "pciback" else []
                self.assertEqual(self.kernel.log(),
                                 [W("new_id", stub, ID), W("unbind", "e1000e", ADDR)] + slot +
                                 [W("bind", stub, ADDR), W("remove_id", stub, ID)])
                self.assertFalse(os.path.exists(path))
                self.assert_detached(stub, new_id_route=True)
                self.kernel.clear_log()
                self.assert_virsh(("nodedev-reattach", NAME), "Device %s re-attached\n\n" % NAME)
                slot = [W("remove_slot", stub, ADDR)] if stub == "pciback" else []
                self.assertEqual(self.kernel.log(),
                                 [W("remove_id", stub, ID), W("unbind", stub, ADDR)] + slot +
                                 [W("bind", "e1000e", ADDR)])
                self.assertEqual(self.kernel.driver_of(ADDR), "e1000e")
                self.assertEqual(self.journal(), {})
                self.assertFalse(self.kernel.dynids[stub])

    # --- refusals -------------------------------------------------------------

    def test_virsh_conventional_pci_behind_bridge(self):
        name = hdtest.pci_name(E1000)
        self.assert_virsh(("nodedev-detach", name), "\n", failed(
            "detach device", name,
            "Requested operation is not valid: PCI device %s cannot be detached alone: it must go "
            "together with %s (driver 8139cp); detach the whole group" % (E1000, RTL)))
        self.assert_nothing_written()
        self.assertEqual((self.kernel.driver_of(E1000), self.kernel.driver_of(RTL)), ("e1000", "8139cp"))

    def test_virsh_bridge(self):
        name = hdtest.pci_name(BRIDGE)
        self.assert_virsh(("nodedev-detach", name), "\n", failed(
            "detach device", name,
            "invalid argument: PCI device %s is a bridge: only endpoint devices can be detached" % BRIDGE))
        self.assert_nothing_written()

    def test_virsh_unknown_device(self):
        for args, what in ((("nodedev-detach",), "detach device"), (("nodedev-reattach",), "re-attach device"),
                           (("nodedev-reset",), "reset device")):
            with self.subTest(command=args[0]):
                self.assert_virsh(args + ("nosuch",), "\n",
                                  "error: Could not find matching device 'nosuch'\n"
                                  "error: Node device not found: no node device with matching name 'nosuch'\n")
        self.assert_nothing_written()

    def test_virsh_probe_fails_rolled_back(self):
        """vfio-pci refuses the device: after the settle timeout the error
        names the step and says it was rolled back; the host driver has
        the device again."""
        self.kernel.set_probe_fails("vfio-pci")
        start = time.monotonic()
        self.assert_virsh(("nodedev-detach", NAME), "\n", failed(
            "detach device", NAME,
            "Timed out during operation: the kernel did not bind PCI device %s to vfio-pci within %d ms "
            "(the driver's probe may have failed; see the kernel log); rolled back: the devices are on "
            "their previous drivers again" % (ADDR, SETTLE_MS)))
        self.assertGreaterEqual(time.monotonic() - start, SETTLE_MS / 1000.0)
        self.assertEqual(self.kernel.log(), detach_writes("vfio-pci") +
                         [W("driver_override", ADDR, ""), W("drivers_probe", None, ADDR)])
        self.assert_on_host()
        self.assertEqual(self.dumpxml(), self.recorded + "\n")

    # --- reset ------------------------------------------------------------------

    def test_virsh_reset(self):
        """reset_method "pm bus": no other function on bus 01, PM is
        first; the admin's list is put back."""
        before = self.kernel.resets[ADDR]
        self.assert_virsh(("nodedev-reset", NAME), "Device %s reset\n\n" % NAME)
        self.assert_reset_writes()
        self.assertEqual((self.kernel.resets[ADDR] - before, self.kernel.reset_used[ADDR]), (1, "pm"))
        with open(os.path.join(self.kernel.device_dir(ADDR), "reset_method")) as f:
            self.assertEqual(f.read().strip(), "pm bus")
        self.assert_on_host()

    BUS_RESET_REFUSED = "Active %s devices on bus with %s, not doing bus reset" % (RTL, E1000)

    def test_virsh_reset_active_bus_neighbour(self):
        """The e1000 has only a bus reset, and the rtl8139 on its bus is
        bound to a host driver: refused, nothing written."""
        name = hdtest.pci_name(E1000)
        r = self.virsh("nodedev-reset", name)
        self.assertEqual((r.returncode, r.stdout), (1, "\n"))
        self.assertTrue(r.stderr.startswith("error: Failed to reset device %s\nerror: " % name), r.stderr)
        self.assertTrue(r.stderr.endswith(": %s\n" % self.BUS_RESET_REFUSED), r.stderr)
        self.assert_nothing_written()
        self.assertEqual(self.kernel.resets[E1000], 0)

    def test_virsh_reset_active_bus_neighbour_libvirt_text(self):
        """libvirt 9.0 reports this one as an internal error, wrapped by
        virPCIDeviceReset in "Unable to reset PCI device X: " followed by
        the message of virPCIDeviceTrySecondaryBusReset's own error, prefix
        included; hostdevd says the same."""
        name = hdtest.pci_name(E1000)
        r = self.virsh("nodedev-reset", name)
        self.assertEqual(r.stderr, failed("reset device", name,
                                          "internal error: Unable to reset PCI device %s: internal error: %s"
                                          % (E1000, self.BUS_RESET_REFUSED)))

    # --- python3-libvirt --------------------------------------------------------

    def test_python(self):
        py = self.daemon.agent()
        self.addCleanup(py.close)
        for call, stub in ((("dettach",), "vfio-pci"), (("detachFlags", "vfio", 0), "vfio-pci"),
                           (("detachFlags", None, 0), "vfio-pci"), (("detachFlags", "kvm", 0), "pci-stub"),
                           (("detachFlags", "xen", 0), "pciback")):
            with self.subTest(call=call):
                self.kernel.clear_log()
                self.assertEqual(py.dev(NAME, *call), 0)
                self.assertEqual(self.kernel.log(), detach_writes(stub))
                self.assert_detached(stub)
                self.assertEqual(py.dev(NAME, "XMLDesc", 0), self.xml_with_driver(stub)[:-1])
                self.kernel.clear_log()
                self.assertEqual(py.dev(NAME, "reAttach"), 0)
                self.assertEqual(self.kernel.log(), reattach_writes(stub))
                self.assert_on_host()

        self.kernel.clear_log()
        for call, message in ((("detachFlags", None, 1),
                               "invalid argument: unsupported flags (0x1) in function qemuNodeDeviceDetachFlags"),
                              (("detachFlags", "foo", 0), "invalid argument: unknown driver name 'foo'")):
            with self.subTest(call=call):
                with self.assertRaises(LibvirtError) as cm:
                    py.dev(NAME, *call)
                self.assertEqual((cm.exception.code, cm.exception.domain, cm.exception.message),
                                 (VIR_ERR_INVALID_ARG, VIR_FROM_NODEDEV, message))
        with self.assertRaises(LibvirtError) as cm:
            py.dev(hdtest.pci_name(E1000), "dettach")
        self.assertEqual((cm.exception.code, cm.exception.domain, cm.exception.message),
                         (VIR_ERR_OPERATION_INVALID, VIR_FROM_NODEDEV,
                          "Requested operation is not valid: PCI device %s cannot be detached alone: it must go "
                          "together with %s (driver 8139cp); detach the whole group" % (E1000, RTL)))
        self.assert_nothing_written()

        self.assertEqual(py.dev(NAME, "reset"), 0)
        self.assert_reset_writes()
        self.assert_on_host()

    def test_python_group_and_force_flags(self):
        """hostdevd's own detachFlags bits: 1 << 30 takes the whole group
        (both conventional devices, not the bridge) in one transaction;
        1 << 29 (force) is accepted; other bits are refused by name."""
        py = self.daemon.agent()
        self.addCleanup(py.close)
        with self.assertRaises(LibvirtError) as cm:
            py.dev(hdtest.pci_name(E1000), "detachFlags", None, (1 << 30) | (1 << 29) | 0x6)
        self.assertEqual(cm.exception.message,
                         "invalid argument: unsupported flags (0x6) in function qemuNodeDeviceDetachFlags")
        self.assert_nothing_written()

        self.assertEqual(py.dev(hdtest.pci_name(E1000), "detachFlags", None, 1 << 30), 0)
        self.addCleanup(self.virsh, "nodedev-reattach", hdtest.pci_name(RTL))
        self.addCleanup(self.virsh, "nodedev-reattach", hdtest.pci_name(E1000))
        self.assertEqual((self.kernel.driver_of(E1000), self.kernel.driver_of(RTL), self.kernel.driver_of(BRIDGE)),
                         ("vfio-pci", "vfio-pci", None))
        j = self.journal()
        self.assertEqual(sorted(j), [E1000, RTL])
        self.assertEqual([(j[a]["state"], j[a]["original-driver"]) for a in (E1000, RTL)],
                         [("detached", "e1000"), ("detached", "8139cp")])
        self.assertEqual(j[E1000]["transaction"], j[RTL]["transaction"])
        self.assertEqual(sorted(w.file for w in self.kernel.log()),
                         sorted(["driver_override", "unbind", "drivers_probe"] * 2))
        for addr, driver in ((E1000, "e1000"), (RTL, "8139cp")):
            self.assertEqual(py.dev(hdtest.pci_name(addr), "reAttach"), 0)
            self.assertEqual(self.kernel.driver_of(addr), driver)
        self.assertEqual(self.journal(), {})

        self.kernel.clear_log()
        self.assertEqual(py.dev(NAME, "detachFlags", "kvm", 1 << 29), 0)
        self.assertEqual(self.kernel.log(), detach_writes("pci-stub"))
        self.assert_detached("pci-stub")
        self.reattach("pci-stub")

    # --- kill -9 and the journal ------------------------------------------------

    def test_kill_during_detach_rolled_back(self):
        """SIGKILL when the daemon writes each step, before the kernel
        reacts and right after: the next daemon on the same state directory
        rolls the detach back."""
        for file, subject, after in (("driver_override", ADDR, False), ("driver_override", ADDR, True),
                                     ("unbind", "e1000e", False), ("unbind", "e1000e", True),
                                     ("drivers_probe", None, False), ("drivers_probe", None, True)):
            with self.subTest(step=file, after_reaction=after):
                self.kernel.clear_log()
                left, rc = self.kill_during(("nodedev-detach", NAME), file, subject, after=after)
                self.assertEqual(list(left), [ADDR], "the killed daemon left no record")
                rec = left[ADDR]
                if rec["state"] == "detached":
                    # The daemon saw the bind and noted it before the kill
                    # (it may even have answered): a complete detach, which
                    # stays.
                    self.assertEqual((file, after), ("drivers_probe", True), rec)
                    self.restart()
                    self.assert_detached("vfio-pci")
                    self.reattach("vfio-pci")
                    continue
                self.assertNotEqual(rc, 0, "virsh reported success for an interrupted detach")
                self.assertEqual((rec["state"], rec["stub"], rec["original-driver"]),
                                 ("detaching", "vfio-pci", "e1000e"))
                self.kernel.clear_log()
                self.restart()
                self.assert_on_host()
                # The rollback: the override cleared, and the host driver
                # probed back unless it never let go.
                log = self.kernel.log()
                self.assertEqual(log[0], W("driver_override", ADDR, ""), log)
                self.assertIn(log[1:], ([], [W("drivers_probe", None, ADDR)],
                                        [W("unbind", "vfio-pci", ADDR), W("drivers_probe", None, ADDR)]))
                self.assertEqual(self.dumpxml(), self.recorded + "\n")

    def test_kill_during_reattach_completed(self):
        """SIGKILL while a reattach unbinds the stub: the next daemon
        completes it."""
        self.assert_virsh(("nodedev-detach", NAME), "Device %s detached\n\n" % NAME)
        self.kernel.clear_log()
        left, rc = self.kill_during(("nodedev-reattach", NAME), "unbind", "vfio-pci")
        self.assertNotEqual(rc, 0)
        self.assertEqual(left[ADDR]["state"], "reattaching")
        self.kernel.clear_log()
        self.restart()
        self.assert_on_host()
        self.assertEqual(self.kernel.log()[-1], W("drivers_probe", None, ADDR))

    def test_kill_after_detach_stays_detached(self):
        """A detach that finished before the kill stays: the next daemon
        writes nothing, knows the device as its own, and gives it back to
        its original driver on reattach."""
        self.assert_virsh(("nodedev-detach", NAME), "Device %s detached\n\n" % NAME)
        self.daemon.kill()
        self.daemon.reap()
        self.kernel.clear_log()
        self.restart()
        self.assert_nothing_written()
        self.assert_detached("vfio-pci")
        self.assertEqual(self.dumpxml(), self.xml_with_driver("vfio-pci"))
        self.reattach("vfio-pci")

    # --- concurrency ------------------------------------------------------------

    def test_concurrent_detaches(self):
        """Two clients detach the device at once: one does it, the other
        finds it done (or is told clearly why not); the kernel sees one
        sequence of writes."""
        self.kernel.set_delay(0.3)
        a = self.daemon.virsh_background("nodedev-detach", NAME)
        b = self.daemon.virsh_background("nodedev-detach", NAME)
        results = [(bg.wait(30), bg.stdout(), bg.stderr()) for bg in (a, b)]
        ok = [r for r in results if r[0] == 0]
        self.assertTrue(ok, results)
        for rc, out, err in results:
            if rc == 0:
                self.assertEqual((out, err), ("Device %s detached\n" % NAME, ""))
            else:
                self.assertRegex(err, r"^error: Failed to detach device %s\nerror: .*busy" % NAME)
        self.kernel.set_delay(0)
        self.kernel.quiet()
        self.assertEqual(self.kernel.log(), detach_writes("vfio-pci"))
        self.assert_detached("vfio-pci")
        self.reattach("vfio-pci")

    def test_slow_kernel_does_not_block_others(self):
        """While a detach waits on a kernel that takes 2 s per bind and
        unbind, other clients are answered at once."""
        py = self.daemon.agent()
        self.addCleanup(py.close)
        self.kernel.set_delay(2.0)
        bg = self.daemon.virsh_background("nodedev-detach", NAME)
        self.assertTrue(self.kernel.wait_write("unbind", "e1000e"))
        start = time.monotonic()
        r = self.virsh("nodedev-list")
        took = time.monotonic() - start
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(NAME, r.stdout.split())
        self.assertLess(took, 0.5, "nodedev-list took %.2f s during a detach" % took)
        start = time.monotonic()
        self.assertIn(NAME, py.conn("listAllDevices", 0))
        self.assertIn("<name>%s</name>" % NAME, py.dev(NAME, "XMLDesc", 0))
        self.assertLess(time.monotonic() - start, 0.5)
        self.assertIsNone(bg.wait(0), "the detach did not wait for the slow kernel")
        self.assertEqual(bg.wait(30), 0, bg.stderr())
        self.assertEqual(bg.stdout(), "Device %s detached\n" % NAME)
        self.kernel.set_delay(0)
        self.assert_detached("vfio-pci")
        self.reattach("vfio-pci")


if __name__ == "__main__":
    hdtest.main()
