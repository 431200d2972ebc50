#!/usr/bin/python3
"""HdDomainSource (hostdev/domain-source.h) against a real, private libvirtd.

libvirtd runs as `nobody` in session mode (qemu:///session) with HOME and
XDG_* in a temporary directory, so nothing of this machine's libvirt state
(/etc/libvirt, /run/libvirt, /var/lib/libvirt) is read or written; the
watcher (domain-source-watch, root) reaches it through ?socket=.  Stock
virsh defines, edits (define of a changed document), marks autostart and
undefines domains with <hostdev> elements; no guest is started (that needs
KVM).  Then libvirtd is killed and started again.

Needs root (to become nobody), /usr/sbin/libvirtd, virsh, setpriv and
qemu-system-x86_64 (libvirt's qemu driver refuses domains without an
emulator); skips (77) otherwise.
"""
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

EXIT_SKIP = 77
EMULATOR = "/usr/bin/qemu-system-x86_64"
UUID1 = "11111111-2222-3333-4444-555555555555"
UUID2 = "22222222-3333-4444-5555-666666666666"


def skip(why):
    print("SKIP: " + why)
    sys.exit(EXIT_SKIP)


def domain_xml(name, uuid, hostdevs=(), interfaces=()):
    devs = ""
    for bus, slot, fn in hostdevs:
        devs += f"""
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='{bus:#04x}' slot='{slot:#04x}' function='{fn:#x}'/></source>
    </hostdev>"""
    for bus, slot, fn in interfaces:
        devs += f"""
    <interface type='hostdev' managed='yes'>
      <source><address type='pci' domain='0x0000' bus='{bus:#04x}' slot='{slot:#04x}' function='{fn:#x}'/></source>
    </interface>"""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>{EMULATOR}</emulator>{devs}
  </devices>
</domain>
"""


class Daemon:
    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None
        self.sock = os.path.join(tmp, "run", "libvirt", "libvirt-sock")
        self.uri = "qemu:///session?socket=" + self.sock

    def start(self):
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": os.path.join(self.tmp, "home"),
            "XDG_RUNTIME_DIR": os.path.join(self.tmp, "run"),
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "config"),
            "XDG_CACHE_HOME": os.path.join(self.tmp, "cache"),
        }
        log = open(os.path.join(self.tmp, "libvirtd.log"), "ab")
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             "/usr/sbin/libvirtd"],
            env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=self.tmp)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                skip("libvirtd exited at start: " + self.log_tail())
            if os.path.exists(self.sock) and self.virsh("list", check=False).returncode == 0:
                return
            time.sleep(0.1)
        skip("libvirtd did not answer within 60 s")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def log_tail(self):
        with open(os.path.join(self.tmp, "libvirtd.log"), errors="replace") as f:
            return f.read()[-2000:]

    def virsh(self, *args, check=True):
        r = subprocess.run(["virsh", "-q", "-c", self.uri] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"virsh {' '.join(args)}: {r.stderr.strip()}")
        return r

    def define(self, name, xml):
        path = os.path.join(self.tmp, name + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        self.virsh("define", path)


class Watcher:
    def __init__(self, tmp, uri):
        self.stderr = open(os.path.join(tmp, "watch.err"), "w+")
        self.proc = subprocess.Popen(
            [os.environ["HD_DOMAIN_WATCH"], "--poll-ms", "300", uri],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pred, what, timeout):
        """The first line matching pred within timeout; returns (line, seconds)."""
        t0 = time.monotonic()
        while True:
            left = timeout - (time.monotonic() - t0)
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"no {what} within {timeout} s")
            if line is None:
                raise AssertionError(f"watcher ended while waiting for {what}")
            print("  < " + line)
            if pred(line):
                return line, time.monotonic() - t0

    def list(self):
        self.proc.stdin.write("list\n")
        self.proc.stdin.flush()
        self.expect(lambda l: l == "list-begin", "list-begin", 5)
        out = []
        while True:
            line, _ = self.expect(lambda l: True, "list line", 5)
            if line == "list-end":
                return out
            out.append(line)

    def finish(self):
        self.proc.stdin.close()
        rc = self.proc.wait(30)
        self.stderr.seek(0)
        return rc, self.stderr.read()


def fields(line):
    """changed/domain line → dict (name, uuid, state, and key=value)."""
    parts = line.split(" ", 8)
    d = {"what": parts[0], "uri": parts[1], "name": parts[2], "uuid": parts[3], "state": parts[4]}
    rest = " ".join(parts[5:])
    head, _, err = rest.partition(" error=")
    for kv in head.split():
        k, _, v = kv.partition("=")
        d[k] = v
    d["error"] = err
    return d


def changed(name, **want):
    def pred(line):
        if not line.startswith("changed "):
            return False
        d = fields(line)
        return d["name"] == name and all(d.get(k) == v for k, v in want.items())
    return pred


def main():
    if os.geteuid() != 0:
        skip("needs root to run libvirtd as nobody")
    for prog in ("/usr/sbin/libvirtd", EMULATOR):
        if not os.access(prog, os.X_OK):
            skip(prog + " is not installed")
    for prog in ("virsh", "setpriv"):
        if shutil.which(prog) is None:
            skip(prog + " is not installed")
    if "HD_DOMAIN_WATCH" not in os.environ:
        skip("HD_DOMAIN_WATCH is not set (run through meson test)")

    tmp = tempfile.mkdtemp(prefix="hd-domains-")
    os.chmod(tmp, 0o755)
    for sub in ("home", "run", "config", "cache"):
        os.mkdir(os.path.join(tmp, sub), 0o700)
        shutil.chown(os.path.join(tmp, sub), "nobody", "nogroup")
    daemon = Daemon(tmp)
    watcher = None
    ok = False
    try:
        daemon.start()
        uri = daemon.uri
        daemon.define("hd-one", domain_xml("hd-one", UUID1, hostdevs=[(6, 2, 0)]))

        print("initial list")
        watcher = Watcher(tmp, uri)
        watcher.expect(lambda l: l == "connected " + uri, "connected", 15)
        watcher.expect(changed("hd-one", hostdevs="0000:06:02.0", config="0000:06:02.0",
                               state="defined", autostart="0", persistent="1"), "hd-one", 15)
        listed = [fields(l) for l in watcher.list()]
        assert [d["name"] for d in listed] == ["hd-one"], listed
        assert listed[0]["uuid"] == UUID1 and listed[0]["error"] == "-", listed

        print("define adds within 1 s")
        t0 = time.monotonic()
        daemon.define("hd-two", domain_xml("hd-two", UUID2, hostdevs=[(7, 0, 0)],
                                           interfaces=[(8, 0, 1)]))
        virsh_s = time.monotonic() - t0
        # <interface type='hostdev'> ones first, as libvirt orders them.
        _, s = watcher.expect(changed("hd-two", hostdevs="0000:08:00.1,0000:07:00.0"),
                              "hd-two defined", 5)
        print(f"  virsh define took {virsh_s:.2f} s, the signal came {s:.2f} s after it")
        assert s <= 1.0, f"define showed after {s:.2f} s"

        print("edit (define of a changed document) updates the hostdevs")
        daemon.define("hd-two", domain_xml("hd-two", UUID2, hostdevs=[(7, 0, 0), (9, 0, 0)]))
        _, s = watcher.expect(changed("hd-two", hostdevs="0000:07:00.0,0000:09:00.0",
                                      config="0000:07:00.0,0000:09:00.0"), "hd-two edited", 5)
        assert s <= 1.0, f"edit showed after {s:.2f} s"

        print("autostart follows virsh autostart")
        daemon.virsh("autostart", "hd-two")
        watcher.expect(changed("hd-two", autostart="1"), "autostart on", 5)
        daemon.virsh("autostart", "--disable", "hd-two")
        watcher.expect(changed("hd-two", autostart="0"), "autostart off", 5)

        print("undefine removes within 1 s")
        daemon.virsh("undefine", "hd-two")
        _, s = watcher.expect(lambda l: l == f"removed {uri} hd-two {UUID2}", "hd-two removed", 5)
        assert s <= 1.0, f"undefine showed after {s:.2f} s"
        assert [fields(l)["name"] for l in watcher.list()] == ["hd-one"]

        print("libvirtd killed: disconnected, last view kept, one message")
        daemon.stop()
        watcher.expect(lambda l: l.startswith("disconnected " + uri + " "), "disconnected", 20)
        time.sleep(4)   # a few reconnection attempts (1 s, 2 s)
        assert [fields(l)["name"] for l in watcher.list()] == ["hd-one"]

        print("libvirtd back: connected, list is back")
        daemon.start()
        daemon.define("hd-two", domain_xml("hd-two", UUID2, hostdevs=[(7, 0, 0)]))
        watcher.expect(lambda l: l == "connected " + uri, "reconnected", 40)
        watcher.expect(changed("hd-two", hostdevs="0000:07:00.0"), "hd-two after restart", 5)
        names = [fields(l)["name"] for l in watcher.list()]
        assert names == ["hd-one", "hd-two"], names

        rc, err = watcher.finish()
        watcher = None
        print("watcher stderr:\n" + err)
        cannot = err.count("cannot connect to")
        assert cannot == 1, f"{cannot} 'cannot connect' messages while libvirtd was away"
        assert err.count("lost the connection") == 1, err
        assert rc == 0, f"watcher exited with {rc}"
        ok = True
    finally:
        if watcher is not None:
            watcher.proc.kill()
            watcher.proc.wait()
        daemon.stop()
        if not ok:
            print("libvirtd log:\n" + daemon.log_tail())
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
