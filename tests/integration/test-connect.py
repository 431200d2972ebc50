#!/usr/bin/python3
"""Opening connections with the stock clients: the URIs they rebuild and
send (libvirt-rpc.md 2.3), what virtnodedevd answers for the wrong ones,
and many clients at once.

    umockdev-wrapper /usr/bin/python3 test-connect.py [unittest args]
"""
import subprocess
import unittest

import hdtest

TESTBED = "host-virtio"


class Connect(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bed = hdtest.Testbed(TESTBED)
        cls.daemon = hdtest.Daemon(cls.bed)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def tearDown(self):
        self.assertTrue(self.daemon.alive(), "hostdevd died:\n" + self.daemon.read_log())

    def virsh_uri(self, uri, *args):
        return subprocess.run(["virsh", "-c", uri] + list(args), env=hdtest.client_env(),
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    def test_uris_that_reach_nodedev_system(self):
        """The client sends "nodedev:///system", plus the parameters it does
        not consume itself."""
        sock = self.daemon.sock
        for uri in ("nodedev:///system?socket=" + sock,
                    "nodedev+unix:///system?socket=" + sock,
                    "nodedev:///system?socket=%s&foo=bar%%20baz" % sock,
                    "nodedev:///system?socket=%s&mode=direct" % sock):
            with self.subTest(uri=uri):
                r = self.virsh_uri(uri, "nodedev-list", "--cap", "system")
                self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "computer\n\n", ""))

    def test_session_path(self):
        """virtnodedevd runs privileged: virConnectValidateURIPath refuses
        /session."""
        r = self.virsh_uri("nodedev:///session?socket=" + self.daemon.sock, "nodedev-list")
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "error: failed to connect to the hypervisor\n"
                                 "error: internal error: unexpected nodedev URI path '/session', "
                                 "try nodedev:///system\n"))

    def test_other_driver(self):
        """A virtnodedevd has no qemu driver."""
        r = self.virsh_uri("qemu:///system?socket=" + self.daemon.sock, "nodedev-list")
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "error: failed to connect to the hypervisor\n"
                                 "error: no connection driver available for qemu:///system\n"))

    def test_python_open_variants(self):
        for ro_socket in (False, True):
            for readonly in (False, True):
                with self.subTest(ro_socket=ro_socket, readonly=readonly):
                    agent = self.daemon.agent(ro_socket=ro_socket, readonly=readonly)
                    try:
                        self.assertIn("computer", agent.conn("listAllDevices", 0))
                        self.assertEqual(agent.conn("isAlive"), 1)
                    finally:
                        self.assertEqual(agent.close(), 0, "\n".join(agent.stderr_lines))

    def test_many_clients_at_once(self):
        """Twenty virsh processes and ten python connections at the same
        time, on both sockets: every one gets the whole list."""
        expected = "".join(n + "\n" for n in hdtest.virsh_sorted(self.bed.expected_parents())) + "\n"
        agents = [self.daemon.agent(ro_socket=i % 2 == 1) for i in range(10)]
        try:
            procs = [subprocess.Popen(["virsh", "-c", self.daemon.ro_uri if i % 2 else self.daemon.uri,
                                       "nodedev-list"], env=hdtest.client_env(), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for i in range(20)]
            for i, p in enumerate(procs):
                out, err = p.communicate(timeout=60)
                with self.subTest(virsh=i):
                    self.assertEqual((p.returncode, out, err), (0, expected, ""))
            for i, agent in enumerate(agents):
                with self.subTest(python=i):
                    self.assertEqual(sorted(agent.conn("listAllDevices", 0)),
                                     sorted(self.bed.expected_parents()))
        finally:
            for agent in agents:
                agent.close()


if __name__ == "__main__":
    hdtest.main()
