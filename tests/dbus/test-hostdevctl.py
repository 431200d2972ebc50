#!/usr/bin/python3
"""hostdevctl, the admin command, against hostdevd on the vm-q35 testbed
(fake kernel, private system bus, python3-dbusmock's polkitd).

list, tree and show against golden files (golden/, recorded from the tool
and checked against the testbed's facts: see README.md), and against what
the daemon says over D-Bus (list --json is the properties; tree is virsh's
tree of the recorded parents); dumpxml against the XML recorded from
libvirtd; detach, reattach and reset with --driver, --group and --force,
devices named by libvirt name or PCI address, with the exact kernel writes;
the exit status of each class of failure, as `hostdevctl --help` lists
them; polkit for a caller that is not root; monitor; no colour in piped
output; a daemon that cannot be reached.

    umockdev-wrapper /usr/bin/python3 test-hostdevctl.py [unittest args]

HD_REGENERATE=1 rewrites the golden files from the tool's output instead
of comparing (check the diff by eye before committing it).
"""
import json
import os
import pty
import re
import signal
import subprocess

import dbustest
from dbustest import (ACTION_DETACH, ACTION_REATTACH, ADDR, BRIDGE, BRIDGE_REFUSAL, BUS_RESET_REFUSAL, E1000,
                      GOLDEN, GROUP_REFUSAL, NAME, NOBODY, RTL, VGA, VGA_REFUSAL, DBusError, detach_writes,
                      device_path, pci_name, reattach_writes)
import hdtest

# hostdevctl's exit statuses (hostdevctl --help).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_DEVICE, EXIT_NOT_AUTHORIZED, EXIT_IN_USE, EXIT_BUSY, \
    EXIT_NOT_SUPPORTED, EXIT_UNREACHABLE = range(9)

REGENERATE = os.environ.get("HD_REGENERATE") == "1"
ESC = "\x1b"

F = None


def setUpModule():
    global F
    F = dbustest.fixture()


def tearDownModule():
    F.stop()   # hdtest.main() reports a daemon that a SIGTERM did not end with 0


def strip_trailing(text):
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def ctl(*args, **kw):
    return F.hostdevctl(*args, **kw)


class Base(dbustest.TestCase):
    def run_ok(self, *args, **kw):
        r = ctl(*args, **kw)
        self.assertEqual((r.returncode, r.stderr), (EXIT_OK, ""), "hostdevctl %s: %s" % (" ".join(args), r.stdout))
        self.assertNotIn(ESC, r.stdout, "colour codes in piped output")
        return r.stdout

    def run_fails(self, status, message, *args, **kw):
        """hostdevctl ARGS exits with @status and says @message (a string
        that its stderr must contain, or a compiled regex) on stderr,
        nothing on stdout."""
        r = ctl(*args, **kw)
        self.assertEqual(r.returncode, status, "hostdevctl %s: %r %r" % (" ".join(args), r.stdout, r.stderr))
        if isinstance(message, str):
            self.assertIn(message, r.stderr)
        elif message is not None:
            self.assertRegex(r.stderr, message)
        self.assertTrue(r.stderr.startswith("hostdevctl: "), r.stderr)
        self.assertNotIn(ESC, r.stderr)
        self.assertEqual(r.stdout, "")
        return r

    def golden(self, filename, text):
        """@text equals golden/@filename (or becomes it with HD_REGENERATE=1)."""
        path = os.path.join(GOLDEN, filename)
        if REGENERATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            print("\n  regenerated %s" % path)
            return
        with open(path) as f:
            self.assertEqual(text, f.read(), "hostdevctl's output differs from %s" % path)


# --- reading ----------------------------------------------------------------

class Reading(Base):
    def test_help_lists_the_exit_statuses(self):
        """The statuses this file expects are the ones the tool documents."""
        out = self.run_ok("--help")
        section = out.split("Exit status:", 1)[1]
        lines = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\s+(\d)\s+(.*)$", section, re.M)}
        self.assertEqual(sorted(lines), list(range(9)), out)
        for status, words in ((EXIT_OK, "success"), (EXIT_FAILED, "failed"), (EXIT_USAGE, "usage"),
                              (EXIT_NO_DEVICE, "no such device"), (EXIT_NOT_AUTHORIZED, "not authorized"),
                              (EXIT_IN_USE, "uses"), (EXIT_BUSY, "busy"), (EXIT_NOT_SUPPORTED, "not supported"),
                              (EXIT_UNREACHABLE, "not running")):
            self.assertIn(words, lines[status].lower(), lines[status])
        for command in ("list", "tree", "show", "dumpxml", "detach", "reattach", "reset", "monitor"):
            with self.subTest(command=command):
                self.assertIn("  " + command, out)
                sub = self.run_ok(command, "--help")
                self.assertTrue(sub.startswith("Usage: hostdevctl %s" % command), sub)

    def test_usage_errors(self):
        for args in ((), ("nosuchcommand",), ("list", "extra"), ("show",), ("show", "a", "b"), ("detach",),
                     ("list", "--bogus"), ("detach", NAME, "--driver"), ("tree", NAME)):
            with self.subTest(args=args):
                r = ctl(*args)
                self.assertEqual(r.returncode, EXIT_USAGE, (r.stdout, r.stderr))
                self.assertTrue(r.stderr.strip(), "a usage error says what is wrong")
        self.assert_nothing_written()

    def test_version(self):
        out = self.run_ok("--version")
        self.assertIn(F.prop(dbustest.MANAGER_PATH, "Version", dbustest.MANAGER_IFACE), out)

    def test_list(self):
        out = self.run_ok("list")
        self.golden("list.txt", out)
        # One line per PCI function, in address order, after a header.
        addresses = sorted(F.properties(device_path(n))["Address"] for n in F.bed.expected_parents()
                           if n != "computer")
        rows = [line for line in out.splitlines() if re.match(r"^pci_", line)]
        self.assertEqual([r.split()[0] for r in rows], [pci_name(a) for a in addresses])
        for row in rows:
            p = F.properties(device_path(row.split()[0]))
            with self.subTest(device=p["Name"]):
                self.assertIn(p["Address"], row)
                self.assertIn("%04x:%04x" % (p["VendorId"], p["ProductId"]), row)
                self.assertIn(p["Verdict"], row.split())
                if p["Driver"]:
                    self.assertIn(p["Driver"], row.split())

    def test_list_json_is_the_properties(self):
        out = self.run_ok("list", "--json")
        self.golden("list.json", out)
        devices = json.loads(out)
        self.assertEqual([d["Name"] for d in devices],
                         [pci_name(a) for a in sorted(F.properties(device_path(n))["Address"]
                                                      for n in F.bed.expected_parents() if n != "computer")])
        for d in devices:
            with self.subTest(device=d["Name"]):
                self.assertEqual(d, F.properties(device_path(d["Name"])))

    def test_tree(self):
        """virsh's tree of the parents recorded from libvirtd (trailing
        blanks aside), each PCI function followed by its driver."""
        out = self.run_ok("tree")
        self.golden("tree.txt", out)
        drivers = {}
        for m in re.finditer(r"(\S+) \(([^)]*)\)$", out, re.M):
            drivers[m.group(1)] = m.group(2)
        self.assertEqual(drivers, {n: F.prop(device_path(n), "Driver") for n in F.bed.expected_parents()
                                   if n != "computer" and F.prop(device_path(n), "Driver")})
        bare = re.sub(r" \([^)]*\)$", "", out, flags=re.M)
        self.assertEqual(strip_trailing(bare), strip_trailing(hdtest.virsh_tree(F.bed.expected_parents())))

    def test_show(self):
        for name in (NAME, pci_name(E1000)):
            with self.subTest(device=name):
                out = self.run_ok("show", name)
                self.golden("show-%s.txt" % name, out)
                addr = F.properties(device_path(name))["Address"]
                self.assertEqual(self.run_ok("show", addr), out)
                self.assertEqual(self.run_ok("show", addr[5:]), out)
        e1000 = self.run_ok("show", pci_name(E1000))
        for fact in (GROUP_REFUSAL, RTL, "8139cp", "e1000", "--group"):
            self.assertIn(fact, e1000)
        e1000e = self.run_ok("show", NAME)
        for fact in ("detachable", "e1000e", "82574L Gigabit Network Connection", "Intel Corporation", "pm"):
            self.assertIn(fact, e1000e)
        self.assert_nothing_written()

    def test_show_json(self):
        for name in (NAME, pci_name(E1000), pci_name(BRIDGE)):
            with self.subTest(device=name):
                self.assertEqual(json.loads(self.run_ok("show", "--json", name)), F.properties(device_path(name)))

    def test_dumpxml(self):
        for name in F.bed.expected_parents():
            with self.subTest(device=name):
                self.assertEqual(self.run_ok("dumpxml", name), F.bed.expected_xml(name) + "\n")
        self.assertEqual(self.run_ok("dumpxml", "01:00.0"), F.bed.expected_xml(NAME) + "\n")
        # What virsh prints.
        self.assertEqual(self.run_ok("dumpxml", NAME), F.daemon.virsh("nodedev-dumpxml", NAME).stdout)

    def test_unknown_device(self):
        for command in ("show", "dumpxml", "detach", "reattach", "reset"):
            with self.subTest(command=command):
                self.run_fails(EXIT_NO_DEVICE, "nosuch", command, "nosuch")
                self.run_fails(EXIT_NO_DEVICE, None, command, "0000:09:00.0")
        self.assert_nothing_written()

    def test_reading_as_nobody(self):
        """Reading needs no authorization."""
        self.assertEqual(self.run_ok("list", user=NOBODY), self.run_ok("list"))
        self.assertEqual(self.run_ok("show", NAME, user=NOBODY), self.run_ok("show", NAME))
        self.assertEqual(self.run_ok("dumpxml", NAME, user=NOBODY), F.bed.expected_xml(NAME) + "\n")

    def test_colour_only_on_a_terminal(self):
        """Piped output has no escape sequences (see run_ok); on a terminal
        there is colour, but not with --no-color or NO_COLOR."""
        for args, env, coloured in ((("list",), {}, True), (("--no-color", "list"), {}, False),
                                   (("list", "--no-color"), {}, False), (("list",), {"NO_COLOR": "1"}, False)):
            with self.subTest(args=args, env=env):
                out = self.on_terminal(args, env)
                self.assertIn(NAME, out)
                # list colours its verdicts on a terminal: the pty is one,
                # so the cases without colour are not so by accident.
                self.assertEqual(ESC in out, coloured, out)

    def on_terminal(self, args, env):
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(dbustest.client_argv([dbustest.HOSTDEVCTL] + list(args), F.bus.address,
                                                         env=dict(env, TERM="xterm")),
                                    env=hdtest.client_env(), stdin=slave, stdout=slave, stderr=slave)
            os.close(slave)
            slave = None
            chunks = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
            self.assertEqual(proc.wait(30), 0)
            return b"".join(chunks).decode(errors="replace")
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)


# --- operations -------------------------------------------------------------

class Validate(Base):
    """hostdevctl validate and Manager.Validate.  The readiness core is
    tested on fixture hosts (tests/unit/test-host-readiness.c); here the
    door: the daemon reads this host's /proc and the testbed's /sys (13
    IOMMU groups), so only what does not depend on this machine is fixed."""

    IDS = ["cpu-virtualization", "xen-dom0", "iommu-acpi-table", "iommu-kernel", "iommu-cmdline", "xen-iommu",
           "interrupt-remapping", "unsafe-interrupts", "acs-override", "module-vfio", "module-vfio-pci",
           "module-vfio-iommu-type1", "module-pci-stub", "module-xen-pciback", "vfio-device", "selinux",
           "selinux-virt-use-sysfs"]

    def test_json_and_exit_status(self):
        r = ctl("validate", "--json")
        data = json.loads(r.stdout)
        self.assertEqual(r.returncode, data["ready"], r.stderr)
        self.assertIn(data["ready"], (0, 1, 2))
        ids = [c["id"] for c in data["checks"]]
        self.assertEqual([i for i in ids if not i.startswith("iommu-group-")], self.IDS)
        by_id = {c["id"]: c for c in data["checks"]}
        self.assertEqual((by_id["iommu-kernel"]["status"], by_id["iommu-kernel"]["detail"]),
                         ("pass", "13 IOMMU groups"))
        # The testbed's shared groups: the ICH9 functions and the bridge set.
        group4 = by_id["iommu-group-4"]
        self.assertEqual(group4["status"], "info")
        self.assertIn("PCIe-to-PCI bridge", group4["detail"])
        for c in data["checks"]:
            self.assertIn(c["status"], ("pass", "info", "warn", "fail"), c)
            self.assertEqual(c["fix"] == "", c["status"] == "pass" or (c["status"] == "info" and not c["fix"]), c)
        worst = max({"pass": 0, "info": 0, "warn": 1, "fail": 2}[c["status"]] for c in data["checks"])
        self.assertEqual(data["ready"], worst)

    def test_human_output_and_dbus(self):
        r = ctl("validate")
        data = json.loads(ctl("validate", "--json").stdout)
        self.assertEqual(r.returncode, data["ready"])
        self.assertNotIn(ESC, r.stdout)
        for c in data["checks"]:
            self.assertIn("%-4s  %s" % (c["status"].upper(), c["title"]), r.stdout)
        self.assertTrue(r.stdout.rstrip().endswith((".")), r.stdout)
        ready, checks = F.gdbus_call("/org/hostdevd1/Manager", "org.hostdevd1.Manager.Validate")
        self.assertEqual((ready, [tuple(c) for c in checks]),
                         (data["ready"], [(c["id"], c["status"], c["title"], c["detail"], c["fix"])
                                          for c in data["checks"]]))
        props = [F.busctl_json("get-property", "org.hostdevd1", "/org/hostdevd1/Manager", "org.hostdevd1.Manager",
                               name)["data"] for name in ("Ready", "IommuActive")]
        self.assertEqual(props, [data["ready"], True])

    def test_as_nobody(self):
        """Reading the host's readiness needs no authorization."""
        self.assertEqual(ctl("validate", "--json", user=NOBODY).stdout, ctl("validate", "--json").stdout)


class HostdevXml(Base):
    """hostdevctl hostdev-xml (Device.GetHostdev): the guides' last step."""

    def test_formats(self):
        self.assertEqual(self.run_ok("hostdev-xml", "01:00.0"),
                         "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                         "  <driver name='vfio'/>\n"
                         "  <source>\n"
                         "    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
                         "  </source>\n"
                         "</hostdev>\n")
        self.assertEqual(self.run_ok("hostdev-xml", "pci_0000_02_01_0", "--unmanaged", "--driver", "kvm"),
                         "<hostdev mode='subsystem' type='pci' managed='no'>\n"
                         "  <driver name='kvm'/>\n"
                         "  <source>\n"
                         "    <address domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>\n"
                         "  </source>\n"
                         "</hostdev>\n")
        self.assertEqual(self.run_ok("hostdev-xml", "0000:03:00.2", "--format", "xl"), 'pci = [ "0000:03:00.2" ]\n')
        self.assertEqual(self.run_ok("hostdev-xml", NAME, "--format", "qemu"), "vfio-pci,host=0000:01:00.0\n")
        self.assert_nothing_written()

    def test_refusals(self):
        self.run_fails(EXIT_USAGE, "host doesn't support legacy PCI passthrough",
                       "hostdev-xml", NAME, "--format", "qemu", "--driver", "kvm")
        self.run_fails(EXIT_USAGE, "unknown format 'bogus' (libvirt, xl or qemu)",
                       "hostdev-xml", NAME, "--format", "bogus")
        self.run_fails(EXIT_USAGE, "unknown driver name 'pci-stub'", "hostdev-xml", NAME, "--driver", "pci-stub")
        self.run_fails(EXIT_NO_DEVICE, "nosuch", "hostdev-xml", "nosuch")
        with self.assertRaises(dbustest.DBusError) as cm:
            F.gdbus_call("/org/hostdevd1/devices/" + NAME, "org.hostdevd1.Device.GetHostdev", "{'managed': <'yes'>}")
        self.assertEqual(cm.exception.name, "org.hostdevd1.Error.InvalidArgument")
        with self.assertRaises(dbustest.DBusError) as cm:
            F.gdbus_call("/org/hostdevd1/devices/computer", "org.hostdevd1.Device.GetHostdev", "{}")
        self.assertEqual(cm.exception.name, "org.hostdevd1.Error.InvalidArgument")


class Operations(Base):
    def test_detach_reattach(self):
        out = self.run_ok("detach", NAME)
        self.assertIn(NAME, out)
        self.assertEqual(F.kernel.log(), detach_writes("vfio-pci"))
        self.assertEqual(F.kernel.driver_of(ADDR), "vfio-pci")
        self.assertEqual(F.journal()[ADDR]["state"], "detached")
        self.assertRegex(self.run_ok("tree"), r"(?m)^ .*\+- %s \(vfio-pci\b.*\bdetached\b" % NAME)
        self.assertRegex(self.run_ok("list"), r"(?m)^%s .* vfio-pci .* already-detached " % NAME)
        # Already detached: success, nothing written.
        F.kernel.clear_log()
        self.run_ok("detach", NAME)
        F.kernel.quiet(0.2)
        self.assertEqual(F.kernel.log(), [])
        F.kernel.clear_log()
        self.run_ok("reattach", NAME)
        self.assertEqual(F.kernel.log(), reattach_writes("vfio-pci"))
        self.assertEqual(F.kernel.driver_of(ADDR), "e1000e")
        self.assertEqual(F.journal(), {})

    def test_detach_by_address_driver_kvm(self):
        for addr in ("01:00.0", "0000:01:00.0"):
            with self.subTest(address=addr):
                F.kernel.clear_log()
                self.assertIn(NAME, self.run_ok("detach", addr, "--driver", "kvm"))
                self.assertEqual(F.kernel.log(), detach_writes("pci-stub"))
                self.assertEqual(F.kernel.driver_of(ADDR), "pci-stub")
                F.kernel.clear_log()
                self.run_ok("reattach", addr)
                self.assertEqual(F.kernel.log(), reattach_writes("pci-stub"))
        self.run_ok("detach", "--driver=xen", NAME)
        self.assertEqual(F.kernel.driver_of(ADDR), "pciback")
        self.run_ok("reattach", NAME)
        self.assertEqual(F.kernel.driver_of(ADDR), "e1000e")

    def test_group(self):
        self.run_fails(EXIT_IN_USE, GROUP_REFUSAL, "detach", pci_name(E1000))
        self.assert_nothing_written()
        out = self.run_ok("detach", "02:01.0", "--group")
        self.assertIn(pci_name(E1000), out)
        self.assertIn(pci_name(RTL), out)
        self.assertNotIn(pci_name(BRIDGE), out)
        self.assertEqual((F.kernel.driver_of(E1000), F.kernel.driver_of(RTL), F.kernel.driver_of(BRIDGE)),
                         ("vfio-pci", "vfio-pci", None))
        self.run_ok("reattach", pci_name(E1000))
        self.run_ok("reattach", RTL)
        self.assertEqual((F.kernel.driver_of(E1000), F.kernel.driver_of(RTL)), ("e1000", "8139cp"))

    def test_force(self):
        self.run_fails(EXIT_IN_USE, VGA_REFUSAL, "detach", VGA)
        self.assert_nothing_written()
        self.assertIn(pci_name(VGA), self.run_ok("detach", VGA, "--force"))
        self.assertEqual(F.kernel.driver_of(VGA), "vfio-pci")
        self.run_ok("reattach", VGA)
        self.assertEqual(F.kernel.driver_of(VGA), None)

    def test_refusals(self):
        self.run_fails(EXIT_USAGE, BRIDGE_REFUSAL, "detach", pci_name(BRIDGE))
        self.run_fails(EXIT_USAGE, "unknown driver name 'foo'", "detach", NAME, "--driver", "foo")
        self.run_fails(EXIT_FAILED, BUS_RESET_REFUSAL, "reset", E1000)
        self.assert_nothing_written()

    def test_reset(self):
        out = self.run_ok("reset", NAME)
        self.assertRegex(out, r"\bpm\b")
        self.assertEqual([w.file for w in F.kernel.log()], ["reset_method", "reset", "reset_method"])
        self.assertEqual(F.kernel.reset_used[ADDR], "pm")

    def test_not_authorized(self):
        """As nobody, polkit allowing nothing: 4, nothing written; with
        detach allowed the detach works and the reattach is still 4."""
        for args in (("detach", NAME), ("reattach", NAME), ("reset", NAME), ("detach", NAME, "--no-ask")):
            with self.subTest(args=args):
                self.run_fails(EXIT_NOT_AUTHORIZED, None, *args, user=NOBODY)
        self.assert_nothing_written()
        F.polkit.set_allowed([ACTION_DETACH])
        self.run_ok("detach", NAME, user=NOBODY)
        self.assertEqual(F.kernel.driver_of(ADDR), "vfio-pci")
        self.run_fails(EXIT_NOT_AUTHORIZED, None, "reattach", NAME, user=NOBODY)
        self.assertEqual(F.kernel.driver_of(ADDR), "vfio-pci")
        F.polkit.set_allowed([ACTION_DETACH, ACTION_REATTACH])
        self.run_ok("reattach", NAME, user=NOBODY)
        self.assertEqual(F.kernel.driver_of(ADDR), "e1000e")

    def test_monitor(self):
        """monitor says it is ready, then prints a line when the device
        changes driver ("NAME: Driver OLD -> NEW", as its --help shows)
        and one for each operation that ends, refusals included; one line
        at a time through a pipe; SIGINT ends it with 0.  The kernel takes
        0.2 s for each bind and unbind, so that a device without a driver
        between the two would be seen (it must not be)."""
        F.kernel.set_delay(0.2)
        mon = F.hostdevctl_background("monitor")
        try:
            self.assertEqual(mon.wait_line(lambda line: True, 10), 0, mon.stderr())
            start = len(mon.lines)
            F.manager("Detach", NAME, {}, signature="(sa{sv})")
            self.assertIsNotNone(mon.wait_line("%s: Driver e1000e -> vfio-pci" % NAME, 10, start), mon.lines)
            self.assertIsNotNone(mon.wait_line(lambda line: line.startswith("%s: detach " % NAME), 10, start),
                                 mon.lines)
            start = len(mon.lines)
            F.manager("ReAttach", NAME, {}, signature="(sa{sv})")
            self.assertIsNotNone(mon.wait_line("%s: Driver vfio-pci -> e1000e" % NAME, 10, start), mon.lines)
            self.assertEqual([line for line in mon.lines if line.startswith("%s: Driver " % NAME) and "(none)" in line],
                             [])
            self.assertIsNotNone(mon.wait_line(lambda line: line.startswith("%s: reattach " % NAME), 10, start),
                                 mon.lines)
            start = len(mon.lines)
            with self.assertRaises(DBusError):
                F.manager("Detach", pci_name(E1000), {}, signature="(sa{sv})")
            self.assertIsNotNone(mon.wait_line(lambda line: line.startswith("%s: detach " % pci_name(E1000)) and
                                               GROUP_REFUSAL in line, 10, start), mon.lines)
        finally:
            status = mon.stop(signal.SIGINT)
        self.assertEqual(status, 0, mon.stderr())
        self.assertNotIn(ESC, mon.stdout())


# --- reaching the daemon ----------------------------------------------------

class Unreachable(Base):
    def test_no_bus(self):
        r = F.hostdevctl("list", address="unix:path=/nonexistent/hostdevd-test/system_bus_socket")
        self.assertEqual(r.returncode, EXIT_UNREACHABLE, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr, r"^hostdevctl: .*(system bus|D-Bus)")

    def test_name_not_owned(self):
        """A bus where nothing owns org.hostdevd1."""
        bus = dbustest.Bus()
        try:
            for args in (("list",), ("show", NAME), ("detach", NAME), ("monitor",)):
                with self.subTest(args=args):
                    r = F.hostdevctl(*args, address=bus.address, timeout=30)
                    self.assertEqual(r.returncode, EXIT_UNREACHABLE, (r.stdout, r.stderr))
                    self.assertRegex(r.stderr, r"^hostdevctl: .*(hostdevd|org\.hostdevd1)")
        finally:
            bus.stop()
            bus.remove()
        self.assert_nothing_written()


if __name__ == "__main__":
    if not os.access(dbustest.HOSTDEVCTL, os.X_OK):
        hdtest.skip("hostdevctl is not built at %s" % dbustest.HOSTDEVCTL)
    dbustest.main()
