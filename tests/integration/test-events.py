#!/usr/bin/python3
"""Node device events, as `virsh nodedev-event` and python3-libvirt's
nodeDeviceEventRegisterAny receive them, when devices come and go in a
umockdev testbed (the kernel's uevents reach the daemon's monitor); the
tree and the XML virsh prints while the testbed changes.

    umockdev-wrapper /usr/bin/python3 test-events.py [unittest args]
"""
import os
import time
import unittest

import hdtest
from hdtest import EVENT_CREATED, EVENT_DELETED, EVENT_ID_LIFECYCLE, EVENT_ID_UPDATE, LibvirtError

TESTBED = "host-virtio"
# Devices the testbed does not have.
NEW = "0000:00:09.0"
NEW2 = "0000:00:0a.0"
PROBE = "0000:00:1e.0"
# Devices it has.
WATCHED = "0000:00:03.0"
OTHER = "0000:00:04.0"


def syspath(address):
    return "/sys/devices/pci0000:00/" + address


def lifecycle_line(address, what):
    return "event 'lifecycle' for node device %s: %s" % (hdtest.pci_name(address), what)


def update_line(address):
    return "event 'update' for node device %s" % hdtest.pci_name(address)


class Events(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bed = hdtest.Testbed(TESTBED)
        cls.daemon = hdtest.Daemon(cls.bed)
        cls.bed.add(hdtest.pci_record(PROBE, device="0x2922", pci_class="0x010601"))

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), "hostdevd died:\n" + self.daemon.read_log())

    def start_virsh(self, *args, ro_socket=False):
        bg = self.daemon.virsh_background("nodedev-event", *args, ro_socket=ro_socket)
        self.addCleanup(bg.stop)
        return bg

    def sync_lifecycle(self, bg):
        """Returns once @bg has its registration in place: virsh says
        nothing until an event comes, so the probe device goes away and
        comes back until virsh reports it.  Returns the index of the next
        line."""
        for _ in range(40):
            self.bed.uevent(syspath(PROBE), "remove")
            self.bed.uevent(syspath(PROBE), "add")
            i = bg.wait_line(lifecycle_line(PROBE, "Created"), timeout=0.25)
            if i is not None:
                return i + 1
        self.fail("virsh never reported the probe device: stdout %r stderr %r" % (bg.stdout(), bg.stderr()))

    def sync_update(self, bg, address):
        for _ in range(40):
            self.bed.uevent(syspath(address), "change")
            i = bg.wait_line(update_line(address), timeout=0.25)
            if i is not None:
                return i + 1
        self.fail("virsh never reported an update of %s: stdout %r stderr %r"
                  % (address, bg.stdout(), bg.stderr()))

    def names(self):
        r = self.daemon.virsh("nodedev-list")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    # --- virsh -------------------------------------------------------------

    def test_virsh_lifecycle_loop(self):
        bg = self.start_virsh("--event", "lifecycle", "--loop")
        start = self.sync_lifecycle(bg)

        self.bed.add(hdtest.pci_record(NEW))
        self.assertIsNotNone(bg.wait_line(lifecycle_line(NEW, "Created"), start=start),
                             "no Created event: %r" % bg.stdout())
        self.assertIn(hdtest.pci_name(NEW), self.names())
        r = self.daemon.virsh("nodedev-dumpxml", hdtest.pci_name(NEW))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("<parent>computer</parent>", r.stdout)
        self.assertIn("<vendor id='0x8086'>Intel Corporation</vendor>", r.stdout)

        self.bed.remove(syspath(NEW))
        self.assertIsNotNone(bg.wait_line(lifecycle_line(NEW, "Deleted"), start=start),
                             "no Deleted event: %r" % bg.stdout())
        self.assertNotIn(hdtest.pci_name(NEW), self.names())

        self.assertEqual(bg.stop(), 0, bg.stderr())
        self.assertEqual(bg.lines[start:], [
            lifecycle_line(NEW, "Created"),
            lifecycle_line(NEW, "Deleted"),
            "event loop interrupted",
            "events received: %d" % (start + 2),
            "",
        ])
        self.assertEqual(bg.stderr(), "")

    def test_virsh_update_once(self):
        """Without --loop virsh stops after the first event."""
        bg = self.start_virsh("--event", "update")
        for _ in range(40):
            self.bed.uevent(syspath(WATCHED), "change")
            if bg.wait_line(update_line(WATCHED), timeout=0.25) is not None:
                break
        self.assertEqual(bg.wait(timeout=10), 0, "virsh did not end after its event: %r" % bg.stderr())
        self.assertEqual(bg.lines, [update_line(WATCHED), "events received: 1", ""])
        self.assertEqual(bg.stderr(), "")

    def test_virsh_update_device_filter_read_only(self):
        """--device on the read-only socket: events of other devices never
        reach the client."""
        bg = self.start_virsh("--event", "update", "--device", hdtest.pci_name(WATCHED), "--loop",
                              ro_socket=True)
        start = self.sync_update(bg, WATCHED)
        self.bed.uevent(syspath(OTHER), "change")
        self.bed.uevent(syspath(WATCHED), "change")
        self.assertIsNotNone(bg.wait_line(update_line(WATCHED), start=start))
        # virsh prints an event before it counts it (vshEventGenericPrint):
        # an interrupt right after the line would race its own counter.
        time.sleep(0.3)
        self.assertEqual(bg.stop(), 0, bg.stderr())
        # virsh's stdout is a pipe, so the sync above may have sent more
        # than one change before virsh's first line showed: count events
        # instead of trusting line positions.  Every event is the watched
        # device's, and virsh's own count agrees.
        events = [line for line in bg.lines if line.startswith("event '")]
        self.assertTrue(events)
        self.assertEqual(set(events), {update_line(WATCHED)}, bg.stdout())
        self.assertEqual(bg.lines[-3:], ["event loop interrupted",
                                         "events received: %d" % len(events), ""])

    def test_virsh_lifecycle_device_filter(self):
        bg = self.start_virsh("--event", "lifecycle", "--device", hdtest.pci_name(WATCHED), "--loop")
        # Sync: the watched device goes and comes back until virsh says so.
        for _ in range(40):
            self.bed.uevent(syspath(WATCHED), "remove")
            self.bed.uevent(syspath(WATCHED), "add")
            i = bg.wait_line(lifecycle_line(WATCHED, "Created"), timeout=0.25)
            if i is not None:
                break
        self.assertIsNotNone(i, bg.stdout())
        start = i + 1
        self.bed.add(hdtest.pci_record(NEW2))
        self.bed.remove(syspath(NEW2))
        self.bed.uevent(syspath(WATCHED), "remove")
        self.bed.uevent(syspath(WATCHED), "add")
        self.assertIsNotNone(bg.wait_line(lifecycle_line(WATCHED, "Created"), start=start))
        bg.stop()
        self.assertEqual(bg.lines[start:start + 2],
                         [lifecycle_line(WATCHED, "Deleted"), lifecycle_line(WATCHED, "Created")])

    def test_virsh_tree_follows_hotplug(self):
        """A bridge and a device behind it arrive: both are announced, and
        the tree virsh prints has the new branch; after they go, the tree
        is the recorded one again."""
        bridge, child = "0000:00:0b.0", "0000:07:00.0"
        bridge_name, child_name = hdtest.pci_name(bridge), hdtest.pci_name(child)
        parents = self.bed.expected_parents()
        parents[hdtest.pci_name(PROBE)] = "computer"
        bg = self.start_virsh("--event", "lifecycle", "--loop")
        start = self.sync_lifecycle(bg)

        self.bed.add(hdtest.pci_record(bridge, vendor="0x1b36", device="0x000c", pci_class="0x060400"))
        self.bed.add(hdtest.pci_record(child, parent="pci0000:00/" + bridge))
        for line in (lifecycle_line(bridge, "Created"), lifecycle_line(child, "Created")):
            self.assertIsNotNone(bg.wait_line(line, start=start), "%r not in %r" % (line, bg.stdout()))
        grown = dict(parents, **{bridge_name: "computer", child_name: bridge_name})
        r = self.daemon.virsh("nodedev-list", "--tree")
        self.assertEqual((r.returncode, r.stdout), (0, hdtest.virsh_tree(grown) + "\n"))
        r = self.daemon.virsh("nodedev-info", child_name)
        self.assertIn("Parent:         %s\n" % bridge_name, r.stdout)

        self.bed.remove(syspath(bridge + "/" + child))
        self.bed.remove(syspath(bridge))
        for line in (lifecycle_line(child, "Deleted"), lifecycle_line(bridge, "Deleted")):
            self.assertIsNotNone(bg.wait_line(line, start=start), "%r not in %r" % (line, bg.stdout()))
        r = self.daemon.virsh("nodedev-list", "--tree")
        self.assertEqual((r.returncode, r.stdout), (0, hdtest.virsh_tree(parents) + "\n"))
        bg.stop()
        self.assertEqual(bg.lines[start:start + 4], [
            lifecycle_line(bridge, "Created"), lifecycle_line(child, "Created"),
            lifecycle_line(child, "Deleted"), lifecycle_line(bridge, "Deleted")])

    def test_virsh_dumpxml_follows_driver(self):
        """The driver link changes as the kernel changes it; libvirt reads
        the link again for every XML request (nodeDeviceUpdateDriverName),
        with or without a uevent, and prints no <driver> while none is
        bound."""
        address = "0000:00:05.0"
        name = hdtest.pci_name(address)
        recorded = self.bed.expected_xml(name)
        driver_block = "  <driver>\n    <name>virtio-pci</name>\n  </driver>\n"
        self.assertIn(driver_block, recorded)
        link = os.path.join(self.bed.root, "sys", "devices", "pci0000:00", address, "driver")
        vfio = os.path.join(self.bed.root, "sys", "bus", "pci", "drivers", "vfio-pci")
        os.makedirs(vfio, exist_ok=True)

        def dumpxml():
            r = self.daemon.virsh("nodedev-dumpxml", name)
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            return r.stdout

        def relink(target):
            if os.path.lexists(link):
                os.unlink(link)
            if target is not None:
                os.symlink(target, link)

        try:
            relink(None)   # unbound, and no uevent yet
            self.assertEqual(dumpxml(), recorded.replace(driver_block, "") + "\n")
            self.bed.uevent(syspath(address), "unbind")
            self.assertEqual(dumpxml(), recorded.replace(driver_block, "") + "\n")
            relink("../../../bus/pci/drivers/vfio-pci")
            self.bed.uevent(syspath(address), "bind")
            self.assertEqual(dumpxml(), recorded.replace("virtio-pci", "vfio-pci") + "\n")
        finally:
            relink("../../../bus/pci/drivers/virtio-pci")
        # Back to the recorded driver, without a uevent.
        self.assertEqual(dumpxml(), recorded + "\n")

    def test_virsh_unknown_device(self):
        r = self.daemon.virsh("nodedev-event", "--event", "lifecycle", "--device", "nosuch", "--timeout", "5")
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "\n", "error: Could not find matching device 'nosuch'\n"
                                   "error: Node device not found: no node device with matching name 'nosuch'\n"))

    # --- python3-libvirt ---------------------------------------------------

    def expect_events(self, agent, expected, sentinel=None, timeout=10):
        """Collects events until the multiset @expected arrived; anything
        else that arrives meanwhile (or until the update of @sentinel, if
        given, which the agent must be registered for) fails the test."""
        want = sorted(expected, key=repr)
        got = []
        if sentinel is not None:
            self.bed.uevent(syspath(sentinel), "change")
            want = sorted(want + [("update", "sentinel", hdtest.pci_name(sentinel), None)], key=repr)
        while len(got) < len(want):
            ev = agent.next_event(timeout)
            if ev is None:
                break
            got.append((ev["event"], ev.get("tag"), ev.get("device"), ev.get("type")))
            if ev["event"] == "lifecycle":
                self.assertEqual(ev["detail"], 0)
        got += [(ev["event"], ev.get("tag"), ev.get("device"), ev.get("type"))
                for ev in agent.drain_events(0.2)]
        self.assertEqual(sorted(got, key=repr), want)

    def test_python_events(self):
        py = self.daemon.agent(event_loop=True)
        self.addCleanup(py.close)
        watched, other, new = (hdtest.pci_name(a) for a in (WATCHED, OTHER, NEW))
        all_lc = py.register(EVENT_ID_LIFECYCLE, None, "all")
        watched_lc = py.register(EVENT_ID_LIFECYCLE, watched, "watched")
        all_up = py.register(EVENT_ID_UPDATE, None, "sentinel")
        watched_up = py.register(EVENT_ID_UPDATE, watched, "watched-update")
        self.assertEqual(len({all_lc, watched_lc, all_up, watched_up}), 4)

        # A new device: only the unfiltered callback hears of it.
        self.bed.add(hdtest.pci_record(NEW))
        self.expect_events(py, [("lifecycle", "all", new, EVENT_CREATED)])
        # Updates: the filtered callback only for its device.
        self.bed.uevent(syspath(OTHER), "change")
        self.expect_events(py, [("update", "sentinel", other, None)])
        self.bed.uevent(syspath(WATCHED), "change")
        self.expect_events(py, [("update", "sentinel", watched, None),
                                ("update", "watched-update", watched, None)])
        # The watched device goes and comes back: both lifecycle callbacks.
        self.bed.uevent(syspath(WATCHED), "remove")
        self.bed.uevent(syspath(WATCHED), "add")
        self.expect_events(py, [("lifecycle", "all", watched, EVENT_DELETED),
                                ("lifecycle", "watched", watched, EVENT_DELETED),
                                ("lifecycle", "all", watched, EVENT_CREATED),
                                ("lifecycle", "watched", watched, EVENT_CREATED)])

        # Deregistration: the unfiltered lifecycle callback hears nothing
        # more; the filtered one still does.
        py.deregister(all_lc)
        self.bed.remove(syspath(NEW))
        self.expect_events(py, [], sentinel=OTHER)
        self.bed.uevent(syspath(WATCHED), "remove")
        self.bed.uevent(syspath(WATCHED), "add")
        self.expect_events(py, [("lifecycle", "watched", watched, EVENT_DELETED),
                                ("lifecycle", "watched", watched, EVENT_CREATED)], sentinel=OTHER)
        py.deregister(watched_lc)
        py.deregister(watched_up)
        self.bed.uevent(syspath(WATCHED), "remove")
        self.bed.uevent(syspath(WATCHED), "add")
        self.bed.uevent(syspath(WATCHED), "change")
        self.expect_events(py, [("update", "sentinel", watched, None)], sentinel=OTHER)
        py.deregister(all_up)
        self.bed.uevent(syspath(WATCHED), "change")
        self.bed.add(hdtest.pci_record(NEW))
        self.bed.remove(syspath(NEW))
        self.assertEqual(py.drain_events(1.0), [])
        # A callback id that is gone.
        with self.assertRaises(LibvirtError):
            py.deregister(all_up)
        # The connection is still good.
        self.assertIn(watched, py.conn("listAllDevices", 0))

    def test_python_events_read_only_socket(self):
        py = self.daemon.agent(ro_socket=True, readonly=True, event_loop=True)
        self.addCleanup(py.close)
        py.register(EVENT_ID_LIFECYCLE, None, "all")
        py.register(EVENT_ID_UPDATE, None, "sentinel")
        self.bed.add(hdtest.pci_record(NEW2))
        self.bed.remove(syspath(NEW2))
        new2 = hdtest.pci_name(NEW2)
        self.expect_events(py, [("lifecycle", "all", new2, EVENT_CREATED),
                                ("lifecycle", "all", new2, EVENT_DELETED)], sentinel=OTHER)

    def test_python_filter_on_device_that_is_gone(self):
        """libvirt registers a per-device callback by name without looking
        the device up (remoteDispatchConnectNodeDeviceEventRegisterAny:
        get_nonnull_node_device is virGetNodeDevice), so a client may wait
        for a device that is not there right now."""
        py = self.daemon.agent(event_loop=True)
        self.addCleanup(py.close)
        watched = hdtest.pci_name(WATCHED)
        py.conn("nodeDeviceLookupByName", watched)
        self.bed.uevent(syspath(WATCHED), "remove")
        try:
            py.register(EVENT_ID_UPDATE, None, "sentinel")
            self.expect_events(py, [], sentinel=OTHER)   # the removal is through
            try:
                py.register(EVENT_ID_LIFECYCLE, watched, "watched")
            except LibvirtError as e:
                self.fail("registering for the absent %s was refused (%s); libvirt 9.0 accepts it"
                          % (watched, e))
        finally:
            self.bed.uevent(syspath(WATCHED), "add")
        self.expect_events(py, [("lifecycle", "watched", watched, EVENT_CREATED)], sentinel=OTHER)


if __name__ == "__main__":
    hdtest.main()
