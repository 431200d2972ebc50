"""A fake Linux kernel for the daemon tier of the integration tests.

hostdevd runs in a process of its own, under umockdev's preload: when it
writes /sys/bus/pci/... the bytes land in the testbed's plain files and
nothing else happens.  This module plays the kernel's part from the test
process (which holds the testbed and so can emit its uevents): a thread
watches the control files with inotify (IN_CLOSE_WRITE on the directories
that hold them; IN_OPEN and IN_MODIFY to tell whether what it reads is
still what was written) and reacts as the PCI core of Linux 6.1 does
(drivers/pci/pci-sysfs.c, pci-driver.c, drivers/base/bus.c and dd.c, and
xen-pciback's new_slot/remove_slot):

  devices/ADDR/driver_override  stored as the kernel shows it: "NAME\\n",
                                "(null)\\n" once cleared ("" or "\\n")
  drivers/DRV/unbind ADDR       the device's `driver` link and DRV/ADDR go,
                                DRIVER= leaves its uevent file, "unbind"
  drivers_probe ADDR            an unbound device is bound to its
                                driver_override, or without one to the
                                first that matches: its native driver (the
                                one it had when the fake kernel started),
                                drivers with a matching dynamic ID, pciback
                                for a slot it was given; "bind"
  drivers/DRV/bind ADDR         bound to DRV if DRV matches it
  drivers/DRV/new_id "VVVV DDDD" a dynamic ID, then DRV tries every unbound
                                device (driver_attach)
  drivers/DRV/remove_id         the dynamic ID goes
  pciback/new_slot, remove_slot the slots pciback accepts
  devices/ADDR/reset_method     the method list in effect ("default": all);
                                the file keeps what was written
  devices/ADDR/reset "1"        counted, with the method that was used

Every write is logged (see Write) in the order the kernel saw it.  The
daemon's write() has returned before the reaction (the kernel here is
asynchronous, unlike the real one); hostdevd waits for the `driver` link
anyway.  A write the kernel would refuse (unbind from a driver the device
is not bound to, a bind that does not match) is logged and has no effect;
it cannot fail, since the daemon's write has already succeeded.

Faults: a driver whose probe fails (nothing binds), a delay before every
bind and unbind, and a SIGKILL of the daemon when it writes a given control
file, before or after the kernel's reaction.

Limits of a kernel made of plain files: it never refuses a write, and it
reads what was written when it handles the event.  If the daemon has
written the file again by then (hostdevd's reset writes reset_method,
reset and reset_method again within microseconds), the earlier write is
logged with the value None: its value is lost, and the later write, which
is exact, is the one acted on.  (The inotify events tell which: see
_exact().)
"""
import collections
import ctypes
import ctypes.util
import os
import re
import select
import struct
import threading
import time

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_CLOSE_NOWRITE = 0x00000010
IN_OPEN = 0x00000020
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")

DEVICE_FILES = ("driver_override", "reset", "reset_method")
DRIVER_FILES = ("bind", "unbind", "new_id", "remove_id", "new_slot", "remove_slot")
BUS_FILES = ("drivers_probe",)
PCIBACK = "pciback"
SYNC_FILE = ".fakekernel-sync"
ADDRESS = re.compile(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]")

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]


class Write(collections.namedtuple("Write", "file subject value")):
    """One write the kernel saw: @file is the control file's name
    (driver_override, unbind, drivers_probe, ...), @subject the device
    address for a device's attribute, the driver for a driver's control
    file, None for drivers_probe; @value what was written, without its
    trailing newline, or None if the file was written again before the
    kernel could read it (see the module's docstring)."""

    def __str__(self):
        return "%s%s <- %r" % (self.file, "" if self.subject is None else "[%s]" % self.subject, self.value)


class FakeKernel:
    def __init__(self, testbed):
        """Takes each device's current driver as its native one.  Call
        start() before the daemon starts."""
        self.testbed = testbed
        self.sys = os.path.realpath(os.path.join(testbed.root, "sys"))
        self.native = {addr: self.driver_of(addr) for addr in self.addresses()}
        self.failing_probes = set()
        self.delay = 0.0
        self.dynids = collections.defaultdict(set)    # driver -> {(vendor, device)}
        self.slots = set()                            # pciback's
        self.resets = collections.Counter()           # address -> count
        self.default_resets = {}                      # address -> the methods it has
        for addr in self.addresses():
            try:
                with open(os.path.join(self.device_dir(addr), "reset_method")) as f:
                    self.default_resets[addr] = f.read().split()
            except OSError:
                pass
        self.reset_lists = {a: list(m) for a, m in self.default_resets.items()}
        self.reset_used = {}                          # address -> method of the last reset
        self._log = []
        self._kills = []
        self._sync_sent = 0
        self._synced = 0
        self._cond = threading.Condition()
        self._inotify = -1
        self._fds = {}
        self._stale = []
        self._wds = {}
        self._thread = None
        self._stop_r, self._stop_w = os.pipe()
        self.errors = []                              # exceptions of the thread

    # --- sysfs helpers ------------------------------------------------------

    def addresses(self):
        return sorted(os.listdir(os.path.join(self.sys, "bus", "pci", "devices")))

    def device_dir(self, addr):
        """The device's real directory (sys/devices/...), or None."""
        if not ADDRESS.fullmatch(addr):
            return None
        link = os.path.join(self.sys, "bus", "pci", "devices", addr)
        return os.path.realpath(link) if os.path.exists(link) else None

    def driver_dir(self, driver):
        return os.path.join(self.sys, "bus", "pci", "drivers", driver)

    def driver_loaded(self, driver):
        return os.path.isdir(self.driver_dir(driver))

    def driver_of(self, addr):
        link = os.path.join(self.sys, "bus", "pci", "devices", addr, "driver")
        return os.path.basename(os.readlink(link)) if os.path.islink(link) else None

    def override_of(self, addr):
        """driver_override as the kernel holds it: None when cleared or
        when the device has no such file."""
        text = self._read_control(os.path.join(self.device_dir(addr), "driver_override"))
        if text is None:
            return None
        text = text.split("\n", 1)[0]
        return None if text in ("", "(null)") else text

    # The control files are read and rewritten through descriptors opened
    # before the watches start: opening one while the daemon writes it
    # would queue an IN_OPEN that inotify may merge with the daemon's, and
    # _exact() could not tell a write from a read any more.
    def _control_paths(self):
        paths = [os.path.join(self.sys, "bus", "pci", f) for f in BUS_FILES]
        for addr in self.addresses():
            paths += [os.path.join(self.device_dir(addr), f) for f in DEVICE_FILES]
        for driver in os.listdir(os.path.join(self.sys, "bus", "pci", "drivers")):
            paths += [os.path.join(self.driver_dir(driver), f) for f in DRIVER_FILES]
        return [p for p in paths if os.path.isfile(p)]

    def reopen(self):
        """Opens the control files that are new or were replaced (a test
        that deletes or recreates one calls this while the daemon is
        idle)."""
        for path in self._control_paths():
            fd = self._fds.get(path)
            if fd is not None and os.fstat(fd).st_ino == os.stat(path).st_ino:
                continue
            self._fds[path] = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            if fd is not None:
                # Closing it would queue an IN_CLOSE_WRITE under the
                # file's name: it stays open until stop().
                self._stale.append(fd)

    def _fd(self, path):
        fd = self._fds.get(path)
        try:
            if fd is not None and os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        return None

    def _read_control(self, path):
        """The contents of a control file, None if there is none."""
        fd = self._fd(path)
        if fd is not None:
            return os.pread(fd, 65536, 0).decode(errors="replace")
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return None

    def _read_hex(self, addr, attr):
        with open(os.path.join(self.device_dir(addr), attr)) as f:
            return int(f.read().strip(), 16)

    def _rewrite(self, path, text):
        """Rewrites a control file in place, with no IN_CLOSE_WRITE."""
        data = text.encode()
        fd = self._fd(path)
        if fd is None:
            raise RuntimeError("%s was not open" % path)
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))

    def _syspath(self, addr):
        return "/" + os.path.relpath(self.device_dir(addr), os.path.dirname(self.sys))

    # --- start and stop -------------------------------------------------------

    def start(self):
        self._inotify = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._inotify < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.watch()
        self._thread = threading.Thread(target=self._run, name="fake-kernel", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            os.write(self._stop_w, b"x")
            self._thread.join(10)
            self._thread = None
        if self._inotify >= 0:
            os.close(self._inotify)
            self._inotify = -1
        for fd in list(self._fds.values()) + self._stale:
            os.close(fd)
        self._fds.clear()
        self._stale.clear()
        for fd in (self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def _add_watch(self, directory, kind, name):
        wd = _libc.inotify_add_watch(self._inotify, os.fsencode(directory),
                                     IN_CLOSE_WRITE | IN_MODIFY | IN_OPEN | IN_CLOSE_NOWRITE)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch %s" % directory)
        self._wds[wd] = (kind, name)

    def watch(self):
        """Watches the bus, every device and every driver directory; call
        again after adding a driver or a device."""
        self.reopen()
        self._add_watch(os.path.join(self.sys, "bus", "pci"), "bus", None)
        for addr in self.addresses():
            self._add_watch(self.device_dir(addr), "device", addr)
        for driver in os.listdir(os.path.join(self.sys, "bus", "pci", "drivers")):
            self._add_watch(self.driver_dir(driver), "driver", driver)

    # --- what the tests see -----------------------------------------------

    def sync(self, timeout=10):
        """Returns once the kernel has handled every write made before the
        call (a marker file goes through the same inotify queue)."""
        with self._cond:
            self._sync_sent += 1
            n = self._sync_sent
        path = os.path.join(self.sys, "bus", "pci", SYNC_FILE)
        with open(path, "w") as f:
            f.write("%d\n" % n)
        with self._cond:
            if not self._cond.wait_for(lambda: self._synced >= n, timeout):
                raise AssertionError("the fake kernel is stuck")

    def log(self):
        """Every write so far, once the kernel has handled them."""
        self.sync()
        with self._cond:
            return list(self._log)

    def clear_log(self):
        """Forgets every write so far, once the kernel has handled them."""
        self.sync()
        with self._cond:
            self._log.clear()

    def writes(self, *files):
        """The logged writes to the given control files (all if none)."""
        return [w for w in self.log() if not files or w.file in files]

    def wait_for(self, predicate, timeout=10):
        """Waits until @predicate(log) is true; the log, or None at the
        timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self._log):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return list(self._log)

    def wait_write(self, file, subject=None, value=None, timeout=10, count=1):
        """Waits until @count writes to @file (and @subject, @value if
        given) have been seen; True if they were."""
        def seen(log):
            return len([w for w in log if w.file == file and subject in (None, w.subject)
                        and value in (None, w.value)]) >= count
        return self.wait_for(seen, timeout) is not None

    def quiet(self, settle=0.3, timeout=10):
        """Waits until no write has come for @settle seconds."""
        deadline = time.monotonic() + timeout
        n = len(self.log())
        while time.monotonic() < deadline:
            time.sleep(settle)
            m = len(self.log())
            if m == n:
                return True
            n = m
        return False

    # --- faults -------------------------------------------------------------

    def set_probe_fails(self, driver, fails=True):
        """@driver's probe fails: nothing binds to it (vfio-pci without an
        IOMMU: "probe of ... failed with error -22")."""
        with self._cond:
            (self.failing_probes.add if fails else self.failing_probes.discard)(driver)

    def set_native(self, addr, driver):
        """The driver that takes @addr when it is probed without
        driver_override (its static ID table); None: none."""
        self.native[addr] = driver

    def set_delay(self, seconds):
        """Every bind and unbind takes effect @seconds after the write."""
        self.delay = seconds

    def host_unbind(self, addr):
        """The host takes @addr from its driver on its own (an admin's
        write to unbind, a module unloaded): not a write of the daemon's."""
        self._unbind(addr, self.driver_of(addr))

    def host_bind(self, addr, driver):
        """The host binds @addr to @driver on its own (a module loaded)."""
        self._bind(addr, driver)

    def kill_on(self, daemon, file, subject=None, value=None, after=False):
        """Once: SIGKILL @daemon when it writes @file (matching @subject and
        @value if given), before the kernel's reaction or, with @after,
        right after it."""
        with self._cond:
            self._kills.append((daemon, file, subject, value, after))

    def clear_faults(self):
        with self._cond:
            self.failing_probes.clear()
            self._kills.clear()
        self.delay = 0.0

    # --- the thread ---------------------------------------------------------

    def _read_events(self, queue):
        """Appends what inotify has now to @queue; False if nothing."""
        try:
            data = os.read(self._inotify, 65536)
        except BlockingIOError:
            return False
        off = 0
        while off < len(data):
            wd, mask, cookie, length = _EVENT.unpack_from(data, off)
            name = data[off + _EVENT.size: off + _EVENT.size + length].rstrip(b"\0").decode()
            off += _EVENT.size + length
            if wd in self._wds:
                queue.append((wd, mask, name))
        return True

    def _run(self):
        poller = select.poll()
        poller.register(self._inotify, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        queue = collections.deque()
        while True:
            if not queue:
                ready = dict(poller.poll())
                if self._stop_r in ready:
                    return
                self._read_events(queue)
                continue
            wd, mask, name = queue.popleft()
            if not mask & IN_CLOSE_WRITE:
                continue
            try:
                self._event(wd, name, queue)
            except Exception:   # noqa: BLE001 - reported to the test
                import traceback
                self.errors.append("%s/%s: %s" % (self._wds[wd], name, traceback.format_exc()))

    def _exact(self, wd, name, queue):
        """Whether the contents just read are what the write being handled
        wrote.  Another write to the file queues IN_OPEN before it
        truncates it (O_TRUNC) and IN_MODIFY only after that (after a
        truncation that can take milliseconds on ext4): so the contents are
        exact unless an IN_MODIFY follows, and once every open that
        follows has been closed without one."""
        deadline = time.monotonic() + 0.5
        while True:
            while self._read_events(queue):
                pass
            opened = 0
            for qwd, mask, qname in queue:
                if qwd != wd or qname != name:
                    continue
                if mask & IN_MODIFY:
                    return False
                if mask & IN_OPEN:
                    opened += 1
                if mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE):
                    opened -= 1
            if opened <= 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)

    def _event(self, wd, name, queue):
        kind, owner = self._wds[wd]
        if kind == "device" and name in DEVICE_FILES:
            path = os.path.join(self.device_dir(owner), name)
        elif kind == "driver" and name in DRIVER_FILES:
            path = os.path.join(self.driver_dir(owner), name)
        elif kind == "bus" and name in BUS_FILES:
            path = os.path.join(self.sys, "bus", "pci", name)
        elif kind == "bus" and name == SYNC_FILE:
            with open(os.path.join(self.sys, "bus", "pci", name)) as f:
                n = int(f.read())
            with self._cond:
                self._synced = max(self._synced, n)
                self._cond.notify_all()
            return
        else:
            return
        raw = self._read_control(path)
        if raw is None:
            return
        exact = self._exact(wd, name, queue)
        value = raw[:-1] if raw.endswith("\n") else raw
        write = Write(name, owner, value if exact else None)
        with self._cond:
            kills = [k for k in self._kills if k[1] == name and k[2] in (None, owner) and k[3] in (None, value)]
            for k in kills:
                self._kills.remove(k)
            self._log.append(write)
            self._cond.notify_all()
        for k in kills:
            if not k[4]:
                k[0].kill()
        if exact or name not in ("driver_override", "reset_method"):
            # A state file written again is handled with that write.  A
            # control file written again holds the later value (or nothing
            # yet): the kernel acts on that if it is one, twice then, which
            # does no harm (a second unbind, probe or bind finds the device
            # where the first left it).
            self._react(write._replace(value=value), path)
        for k in kills:
            if k[4]:
                k[0].kill()
        with self._cond:
            self._cond.notify_all()

    def _react(self, w, path):
        if w.file == "driver_override":
            text = w.value.split("\n", 1)[0]
            self._rewrite(path, (text or "(null)") + "\n")
        elif w.file == "reset_method":
            self._store_reset_method(w.subject, w.value)
        elif w.file == "reset":
            if w.value.strip() == "1":
                methods = self.reset_lists.get(w.subject, [])
                self.resets[w.subject] += 1
                self.reset_used[w.subject] = methods[0] if methods else "default"
        elif w.file == "unbind":
            addr = w.value.strip()
            if self.device_dir(addr) and self.driver_of(addr) == w.subject:
                self._pause()
                self._unbind(addr, w.subject)
        elif w.file == "drivers_probe":
            addr = w.value.strip()
            if self.device_dir(addr) and self.driver_of(addr) is None:
                self._attach_device(addr)
        elif w.file == "bind":
            addr = w.value.strip()
            if self.device_dir(addr) and self.driver_of(addr) is None and \
                    self._matches(addr, self.override_of(addr), w.subject) and self._probe(addr, w.subject):
                self._pause()
                self._bind(addr, w.subject)
        elif w.file == "new_id":
            ident = self._pci_id(w.value)
            if ident is not None:
                self.dynids[w.subject].add(ident)
                self._attach_driver(w.subject)
        elif w.file == "remove_id":
            ident = self._pci_id(w.value)
            if ident is not None:
                self.dynids[w.subject].discard(ident)
        elif w.file == "new_slot" and w.subject == PCIBACK:
            self.slots.add(w.value.strip())
        elif w.file == "remove_slot" and w.subject == PCIBACK:
            self.slots.discard(w.value.strip())

    @staticmethod
    def _pci_id(value):
        """(vendor, device) of a new_id/remove_id write, None if malformed
        (the kernel: EINVAL)."""
        try:
            fields = [int(f, 16) for f in value.split()]
        except ValueError:
            return None
        return tuple(fields[:2]) if len(fields) >= 2 else None

    def _pause(self):
        if self.delay:
            time.sleep(self.delay)

    # pci_match_device(): with driver_override only that driver matches;
    # else the dynamic IDs, then the static table (the native driver here;
    # pciback's matches everything and its probe picks by slot).
    def _matches(self, addr, override, driver):
        if override is not None:
            return override == driver
        ident = (self._read_hex(addr, "vendor"), self._read_hex(addr, "device"))
        if ident in self.dynids.get(driver, ()):
            return True
        return self.native.get(addr) == driver or driver == PCIBACK

    def _probe(self, addr, driver):
        with self._cond:
            if driver in self.failing_probes:
                return False
        if driver == PCIBACK:
            # pcistub_probe(): a slot it was given, or driver_override.
            if addr not in self.slots and self.override_of(addr) != PCIBACK:
                return False
            self.slots.add(addr)
        return True

    def _attach_device(self, addr):
        """device_attach(): the first driver that matches and probes."""
        override = self.override_of(addr)
        if override is not None:
            candidates = [override]
        else:
            candidates = ([self.native[addr]] if self.native.get(addr) else []) + \
                sorted(d for d, ids in self.dynids.items() if ids) + [PCIBACK]
        for driver in candidates:
            if self.driver_loaded(driver) and self._matches(addr, override, driver) and self._probe(addr, driver):
                self._pause()
                self._bind(addr, driver)
                return

    def _attach_driver(self, driver):
        """driver_attach(): @driver tries every unbound device."""
        for addr in self.addresses():
            if self.driver_of(addr) is None and self._matches(addr, self.override_of(addr), driver) \
                    and self._probe(addr, driver):
                self._pause()
                self._bind(addr, driver)

    def _set_uevent_driver(self, devdir, driver):
        path = os.path.join(devdir, "uevent")
        try:
            with open(path) as f:
                lines = [line for line in f.read().split("\n") if line and not line.startswith("DRIVER=")]
        except OSError:
            lines = []
        if driver is not None:
            lines.append("DRIVER=" + driver)
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))

    def _bind(self, addr, driver):
        """driver_bound(): the links, DRIVER=, then the "bind" uevent."""
        devdir = self.device_dir(addr)
        if devdir is None or self.driver_of(addr) is not None or not self.driver_loaded(driver):
            return
        rel = os.path.relpath(devdir, self.sys)
        depth = len(rel.split(os.sep))
        os.symlink("../" * depth + "bus/pci/drivers/" + driver, os.path.join(devdir, "driver"))
        try:
            os.symlink("../../../../" + rel, os.path.join(self.driver_dir(driver), addr))
        except FileExistsError:
            pass
        self._set_uevent_driver(devdir, driver)
        self.testbed.uevent(self._syspath(addr), "bind")

    def _unbind(self, addr, driver):
        """__device_release_driver(): links gone, DRIVER= dropped, then
        the "unbind" uevent."""
        devdir = self.device_dir(addr)
        if devdir is None or self.driver_of(addr) != driver:
            return
        os.unlink(os.path.join(devdir, "driver"))
        try:
            os.unlink(os.path.join(self.driver_dir(driver), addr))
        except FileNotFoundError:
            pass
        self._set_uevent_driver(devdir, None)
        self.testbed.uevent(self._syspath(addr), "unbind")

    # reset_method_store(): "default" brings back every method the device
    # has; a list must name only methods it has, else EINVAL and the list
    # in effect stays.  The file is not rewritten (the daemon writes it
    # again right after the reset, and a rewrite here could lose that
    # write): it keeps what was written, without the kernel's newline.
    def _store_reset_method(self, addr, value):
        has = self.default_resets.get(addr, [])
        names = has if value.strip() == "default" else value.split()
        if any(n not in has for n in names):
            return
        self.reset_lists[addr] = list(names)
