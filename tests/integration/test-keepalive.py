#!/usr/bin/python3
"""Idle clients stay connected: 65 s of silence, longer than the ~35 s
after which a client whose keepalive PINGs go unanswered gives up (virsh:
interval 5, count 6).  The one long test of the suite; all clients idle in
the same window:

  - python3-libvirt with the default event loop and virsh's keepalive
    settings (setKeepAlive(5, 6)): it PINGs every 5 s of silence; libvirt's
    own debug log shows the PONGs that came back;
  - python3-libvirt with the default event loop and libvirt's defaults;
  - python3-libvirt without an event loop (no keepalive at all: a PING
    from the server would kill this connection);
  - `virsh nodedev-event --timeout 65`, which must time out normally
    rather than print "Disconnected ... due to keepalive timeout".

    umockdev-wrapper /usr/bin/python3 test-keepalive.py [unittest args]
"""
import os
import re
import shutil
import tempfile
import time
import unittest

import hdtest

TESTBED = "host-virtio"
IDLE = 65


class Keepalive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bed = hdtest.Testbed(TESTBED)
        cls.daemon = hdtest.Daemon(cls.bed)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_idle_clients_stay_connected(self):
        logdir = tempfile.mkdtemp(prefix="hostdevd-it-ka-")
        self.addCleanup(shutil.rmtree, logdir, ignore_errors=True)
        log = os.path.join(logdir, "libvirt-client.log")
        pinging = self.daemon.agent(event_loop=True, keepalive=(5, 6), log=log)
        self.addCleanup(pinging.close)
        default = self.daemon.agent(event_loop=True)
        self.addCleanup(default.close)
        plain = self.daemon.agent()
        self.addCleanup(plain.close)
        virsh = self.daemon.virsh_background("nodedev-event", "--event", "lifecycle", "--timeout", str(IDLE))
        self.addCleanup(virsh.stop)

        start = time.monotonic()
        while time.monotonic() - start < IDLE:
            time.sleep(1)
            if not self.daemon.alive():
                break
        self.assertTrue(self.daemon.alive(),
                        "hostdevd died after %.0f s of idle clients (exit %s)"
                        % (time.monotonic() - start, self.daemon.proc.poll()))

        with open(log, errors="replace") as f:
            client_log = f.read()
        pings = len(re.findall(r"RPC_KEEPALIVE_SEND: .* proc=1\b", client_log))
        pongs = len(re.findall(r"RPC_KEEPALIVE_RECEIVED: .* proc=2\b", client_log))
        for name, agent in (("setKeepAlive(5, 6)", pinging), ("event loop", default), ("no event loop", plain)):
            with self.subTest(client=name):
                self.assertEqual(agent.drain_events(), [], "the connection closed underneath")
                self.assertEqual(agent.conn("isAlive"), 1)
                self.assertIn("computer", agent.conn("listAllDevices", 0))
        print("\nsetKeepAlive(5, 6) client: %d PINGs sent, %d PONGs received in %d s" % (pings, pongs, IDLE))
        with self.subTest(client="setKeepAlive(5, 6)", check="PONGs"):
            # One PING per 5 s of silence, each answered.
            self.assertGreaterEqual(pings, IDLE // 5 - 2, "the client sent %d PINGs" % pings)
            self.assertGreaterEqual(pongs, pings - 1, "%d PINGs, %d PONGs" % (pings, pongs))

        with self.subTest(client="virsh nodedev-event"):
            status = virsh.wait(20)
            self.assertEqual((status, virsh.lines, virsh.stderr()),
                             (1, ["event loop timed out", "events received: 0", ""], ""))


if __name__ == "__main__":
    hdtest.main()
