#!/usr/bin/python3
"""Write a synthetic but realistic PCI topology as a umockdev testbed.

    make-synthetic.py OUTDIR        -> OUTDIR/devices.umockdev

The output is in umockdev-record's text format (P:/E:/A:/H:/L: lines, one
blank line between devices) and is fully deterministic.  The machine looks
like a QEMU q35 guest with real devices passed in:

  00:00.0 host bridge (no driver)          00:01.0 VGA, boot_vga=1
  00:02.0-00:06.0 PCIe root ports          00:07.0 PCI-X 2.0 device: 4096-byte
  00:1f.3 Root Complex Integrated Endpoint          config, no PCIe capability
  01:00.0 SR-IOV PF (igb, 2 of 7 VFs on)   01:10.0, 01:10.2 its VFs
  02:00.0 + 02:00.1 multifunction GPU + audio (one IOMMU group)
  03:00.0 NVMe, numa_node 1, link 8 GT/s x4 capable, 5 GT/s x4 trained
  04:00.0 accelerator, no driver
  05:00.0 PCIe-to-PCI bridge; 06:01.0, 06:02.0 conventional PCI behind it
          (all three in one IOMMU group)

plus /sys/devices/virtual/dmi/id.  Not expressible in the umockdev format and
left to the loader (complete-sysfs.py): /sys/kernel/iommu_groups/N/devices
and /sys/bus/pci/drivers/NAME, the targets of the iommu_group and driver links.
"""
import os
import struct
import sys

# ---------------------------------------------------------------- the table
# addr: device address; parent: upstream bridge (None = root bus)
# ids: vendor, device, subsystem vendor, subsystem device, revision
# cls: 24-bit class code; drv: bound driver or None; grp: IOMMU group
# pcie: (PCIe type, (cap speed, cap width, sta speed, sta width, port)) or
#       (type, None) for no link registers; None = no PCIe capability.
#       Speeds are LNKCAP/LNKSTA codes: 1 2.5, 2 5, 3 8, 4 16 GT/s; type 0
#       endpoint, 1 legacy endpoint, 4 root port, 7 PCIe-to-PCI bridge,
#       9 Root Complex Integrated Endpoint; VFs have all-zero link registers
# caps: standard capabilities besides PCIe, in chain order
# ext: extended capabilities at 0x100 (4096-byte config) or None (256 bytes)
# bars: (BAR index, kind, size), kind io / m32 / m32p / m64 / m64p
#       (p = prefetchable)
# Debian 12's pci.ids knows neither vendor 1234 (QEMU VGA) nor 1b36:000e
# (QEMU PCIe-to-PCI bridge): libvirt prints self-closing <vendor/>/<product/>.
# VF groups are numbered last: the kernel creates VFs after boot.
# reset: sysfs reset_method (None: attribute absent)
ROOT_PORT = dict(ids=(0x1b36, 0x000c, 0x1b36, 0x0000, 0x00), cls=0x060400,
                 drv="pcieport", caps=["ssvid", "msix"], ext=["aer", "acs"],
                 bars=[(0, "m32", 0x1000)], reset=None)
DEVICES = [
    dict(addr="0000:00:00.0", ids=(0x8086, 0x29c0, 0x1af4, 0x1100, 0x00),
         cls=0x060000, drv=None, grp=0, pcie=None, caps=[], ext=None,
         bars=[], reset=None),
    dict(addr="0000:00:01.0", ids=(0x1234, 0x1111, 0x1af4, 0x1100, 0x02),
         cls=0x030000, drv="bochs-drm", grp=1, pcie=None, caps=[], ext=None,
         bars=[(0, "m32p", 0x1000000), (2, "m32", 0x1000)], reset=None,
         boot_vga=1),
    dict(ROOT_PORT, addr="0000:00:02.0", grp=2, pcie=(4, (4, 16, 3, 4, 1))),
    dict(ROOT_PORT, addr="0000:00:03.0", grp=3, pcie=(4, (3, 16, 1, 16, 2))),
    dict(ROOT_PORT, addr="0000:00:04.0", grp=4, pcie=(4, (3, 4, 2, 4, 3))),
    dict(ROOT_PORT, addr="0000:00:05.0", grp=5, pcie=(4, (4, 16, 3, 16, 4))),
    dict(ROOT_PORT, addr="0000:00:06.0", grp=6, pcie=(4, (1, 1, 1, 1, 5))),
    # PCI-X Mode 2 capable, so the kernel gives it 4096 bytes of config
    # space; libvirt then guesses "PCIe" although there is no PCIe cap.
    dict(addr="0000:00:07.0", ids=(0x1000, 0x0054, 0x1000, 0x3060, 0x02),
         cls=0x010000, drv=None, grp=7, pcie=None, caps=["pm", "msi", "pcix"],
         ext=[], bars=[(0, "io", 0x100), (1, "m64", 0x4000)], reset="pm"),
    dict(addr="0000:00:1f.3", ids=(0x8086, 0xa348, 0x8086, 0x7270, 0x10),
         cls=0x040300, drv="snd_hda_intel", grp=8, pcie=(9, None),
         caps=["pm", "msi"], ext=["vc"], bars=[(0, "m64", 0x4000)],
         reset="flr"),
    dict(addr="0000:01:00.0", parent="0000:00:02.0",
         ids=(0x8086, 0x10c9, 0x8086, 0xa03c, 0x01), cls=0x020000, drv="igb",
         grp=9, pcie=(0, (1, 4, 1, 4, 0)), caps=["pm", "msi", "msix"],
         ext=["aer", "dsn", "ari", "sriov"],
         bars=[(0, "m32", 0x20000), (2, "io", 0x20), (3, "m32", 0x4000)],
         reset="flr bus", sriov=dict(total=7, num=2, offset=0x80, stride=2,
                                     vf_dev=0x10ca, vf_bars=[(0, 0x4000), (3, 0x4000)])),
    dict(addr="0000:01:10.0", parent="0000:00:02.0",
         ids=(0x8086, 0x10ca, 0x8086, 0xa03c, 0x01), cls=0x020000, drv="igbvf",
         grp=14, pcie=(0, (0, 0, 0, 0, 0)), caps=["msix"], ext=["aer", "ari"],
         bars=[], reset="flr", physfn="0000:01:00.0"),
    dict(addr="0000:01:10.2", parent="0000:00:02.0",
         ids=(0x8086, 0x10ca, 0x8086, 0xa03c, 0x01), cls=0x020000, drv=None,
         grp=15, pcie=(0, (0, 0, 0, 0, 0)), caps=["msix"], ext=["aer", "ari"],
         bars=[], reset="flr", physfn="0000:01:00.0"),
    dict(addr="0000:02:00.0", parent="0000:00:03.0", mf=True,
         ids=(0x10de, 0x1b80, 0x1458, 0x3702, 0xa1), cls=0x030000, drv="nouveau",
         grp=10, pcie=(1, (3, 16, 1, 16, 0)), caps=["pm", "msi"], ext=["vc", "aer"],
         bars=[(0, "m32", 0x1000000), (1, "m64p", 0x10000000), (3, "m64p", 0x2000000),
               (5, "io", 0x80)], reset="bus", boot_vga=0),
    dict(addr="0000:02:00.1", parent="0000:00:03.0", mf=True,
         ids=(0x10de, 0x10f0, 0x1458, 0x3702, 0xa1), cls=0x040300,
         drv="snd_hda_intel", grp=10, pcie=(0, (3, 16, 1, 16, 0)),
         caps=["pm", "msi"], ext=["aer"], bars=[(0, "m32", 0x4000)], reset="bus"),
    dict(addr="0000:03:00.0", parent="0000:00:04.0",
         ids=(0x144d, 0xa808, 0x144d, 0xa801, 0x00), cls=0x010802, drv="nvme",
         grp=11, pcie=(0, (3, 4, 2, 4, 0)), caps=["pm", "msi", "msix"],
         ext=["aer", "dsn"], bars=[(0, "m64", 0x4000)], reset="flr bus", numa=1),
    dict(addr="0000:04:00.0", parent="0000:00:05.0",
         ids=(0x10ee, 0x5000, 0x10ee, 0x000e, 0x00), cls=0x058000, drv=None,
         grp=12, pcie=(0, (3, 16, 3, 16, 0)), caps=["pm", "msi", "msix"],
         ext=["aer"], bars=[(0, "m32", 0x2000000), (2, "m64", 0x10000)],
         reset="bus"),
    # QEMU's pcie-pci-bridge: PCIe type 7 (PCIe to PCI/PCI-X bridge)
    dict(addr="0000:05:00.0", parent="0000:00:06.0",
         ids=(0x1b36, 0x000e, 0x0000, 0x0000, 0x00), cls=0x060400, drv=None,
         grp=13, pcie=(7, (1, 1, 1, 1, 0)), caps=["msi", "pm", "shpc"],
         ext=["aer"], bars=[(0, "m64", 0x100)], reset=None),
    dict(addr="0000:06:01.0", parent="0000:05:00.0",
         ids=(0x10ec, 0x8139, 0x1af4, 0x1100, 0x20), cls=0x020000, drv="8139too",
         grp=13, pcie=None, caps=["pm"], ext=None,
         bars=[(0, "io", 0x100), (1, "m32", 0x100)], reset="bus"),
    dict(addr="0000:06:02.0", parent="0000:05:00.0",
         ids=(0x8086, 0x100e, 0x8086, 0x001e, 0x03), cls=0x020000, drv="e1000",
         grp=13, pcie=None, caps=[], ext=None,
         bars=[(0, "m32", 0x20000), (1, "io", 0x40)], reset="bus"),
]

# Contains characters that need XML escaping (&, <, >, ', ").
DMI = {
    "bios_date": "04/01/2014", "bios_release": "0.0",
    "bios_vendor": "SeaBIOS & Friends", "bios_version": "1.16.2-debian-1.16.2-1",
    "board_name": "Q35 <ICH9>", "board_vendor": "Synthetic Systems",
    "board_version": "pc-q35-7.2", "chassis_type": "1",
    "chassis_vendor": "QEMU", "chassis_version": "pc-q35-7.2",
    "product_family": "Synthetic", "product_name": "Standard PC (Q35 + ICH9, 2009) <synthetic>",
    "product_serial": "SYN-0001 'rack' \"A\"", "product_sku": "",
    "product_uuid": "5a3e4f1c-7b2d-4c8e-9f10-2b3c4d5e6f70",
    "product_version": "pc-q35-7.2", "sys_vendor": "Synthetic & Sons <Systems>",
}

# ------------------------------------------------------ config space helpers
ARI_PORT = "0000:00:02.0"      # forwards ARI: the SR-IOV PF sits behind it
SPEEDS = {1: "2.5 GT/s PCIe", 2: "5.0 GT/s PCIe", 3: "8.0 GT/s PCIe",
          4: "16.0 GT/s PCIe", 5: "32.0 GT/s PCIe"}


class Config:
    """A config space image with helpers that keep the capability lists linked."""

    def __init__(self, size):
        self.b = bytearray(size)
        self.prev_next = 0x34        # where the pointer to the next cap goes
        self.free = 0x40
        self.prev_ext = None

    def w8(self, off, v):
        struct.pack_into("<B", self.b, off, v)

    def w16(self, off, v):
        struct.pack_into("<H", self.b, off, v)

    def w32(self, off, v):
        struct.pack_into("<I", self.b, off, v)

    def cap(self, cap_id, length):
        off = self.free
        self.w8(self.prev_next, off)
        self.w8(off, cap_id)
        self.prev_next = off + 1
        self.free = (off + length + 3) & ~3
        self.b[0x06] |= 0x10          # status: capabilities list
        return off

    def ext(self, cap_id, version, length):
        off = 0x100 if self.prev_ext is None else self.free_ext
        if self.prev_ext is not None:
            hdr = struct.unpack_from("<I", self.b, self.prev_ext)[0]
            self.w32(self.prev_ext, hdr | off << 20)
        self.w32(off, cap_id | version << 16)
        self.prev_ext = off
        self.free_ext = (off + length + 7) & ~7
        return off


def pcie_cap(c, d):
    ptype, link = d["pcie"]
    port = ptype == 4
    o = c.cap(0x10, 0x3c)
    c.w16(o + 2, 0x2 | ptype << 4 | (0x100 if port else 0))
    devcap = 0x1 | 0x8000 | (0x10000000 if "flr" in (d["reset"] or "") else 0)
    c.w32(o + 4, devcap)
    c.w16(o + 8, 0x2810)                       # MRRS 512, RO, no-snoop
    if link is not None and link[0]:           # VFs: link registers RsvdZ
        cs, cw, ss, sw, pnum = link
        dll = 0x100000 if port else 0
        c.w32(o + 0x0c, pnum << 24 | dll | 0xc00 | cw << 4 | cs)
        c.w16(o + 0x10, 0x0040)                # common clock
        c.w16(o + 0x12, (0x3000 if port else 0x1000) | sw << 4 | ss)
        if port:                               # slot: hot-plug capable, number
            c.w32(o + 0x14, pnum << 19 | 0x40)
        c.w32(o + 0x24, 0x3f if port else 0x10)  # devcap2 (ports: ARI fwd)
        c.w16(o + 0x28, 0x20 if d["addr"] == ARI_PORT else 0)
        c.w32(o + 0x2c, ((1 << cs) - 1) << 1)  # lnkcap2: supported speeds
        c.w16(o + 0x30, cs)                    # lnkctl2: target speed


def std_cap(c, d, name):
    if name == "pm":
        o = c.cap(0x01, 8)
        c.w16(o + 2, 0x0003)                   # version 3
        # PMCSR No_Soft_Reset set unless the kernel offers a "pm" reset
        c.w16(o + 4, 0x0000 if "pm" in (d["reset"] or "").split() else 0x0008)
    elif name == "msi":
        o = c.cap(0x05, 0x18)
        c.w16(o + 2, 0x0180 | (0x0001 if d["drv"] else 0))  # 64-bit, masking
    elif name == "msix":
        o = c.cap(0x11, 0x0c)
        c.w16(o + 2, (0x8000 if d["drv"] else 0) | 0x0009)  # 10 vectors
        c.w32(o + 4, 0x0000 | d["msix_bir"])
        c.w32(o + 8, 0x0800 | d["msix_bir"])
    elif name == "ssvid":
        o = c.cap(0x0d, 8)
        c.w16(o + 4, d["ids"][2])
        c.w16(o + 6, d["ids"][3])
    elif name == "pcix":                       # 64-bit, 133 and 266 MHz capable
        o = c.cap(0x07, 8)
        bus, dev, fn = addr_parts(d["addr"])[1:]
        c.w32(o + 4, 0x40030000 | bus << 8 | dev << 3 | fn)
    elif name == "shpc":
        c.cap(0x0c, 8)
    elif name == "pcie":
        pcie_cap(c, d)


def ext_cap(c, d, name):
    if name == "aer":
        c.ext(0x0001, 2, 0x48)
    elif name == "acs":                        # SV TB RR CR UF, all enabled
        o = c.ext(0x000d, 1, 8)
        c.w16(o + 4, 0x001f)
        c.w16(o + 6, 0x001d)
    elif name == "ari":
        c.ext(0x000e, 1, 8)
    elif name == "dsn":
        o = c.ext(0x0003, 1, 0x0c)
        c.w32(o + 4, 0x00c0ffee ^ d["grp"])
        c.w32(o + 8, 0x0050c2ff)
    elif name == "vc":
        c.ext(0x0002, 1, 0x1c)
    elif name == "sriov":
        s = d["sriov"]
        o = c.ext(0x0010, 1, 0x40)
        c.w16(o + 0x08, 0x0019 if s["num"] else 0)   # VF enable, MSE, ARI
        c.w16(o + 0x0c, s["total"])                  # InitialVFs
        c.w16(o + 0x0e, s["total"])                  # TotalVFs
        c.w16(o + 0x10, s["num"])                    # NumVFs
        c.w16(o + 0x14, s["offset"])
        c.w16(o + 0x16, s["stride"])
        c.w16(o + 0x1a, s["vf_dev"])
        c.w32(o + 0x1c, 0x553)                       # supported page sizes
        c.w32(o + 0x20, 0x1)                         # 4K pages
        for bar, (start, size) in d["vf_res"].items():
            c.w32(o + 0x24 + 4 * bar, (start & 0xfffffff0) | 0xc)
            c.w32(o + 0x28 + 4 * bar, start >> 32)


def build_config(d):
    c = Config(4096 if d["ext"] is not None else 256)
    vendor, device, svendor, sdevice, rev = d["ids"]
    bridge = d["cls"] >> 8 == 0x0604
    is_vf = "physfn" in d
    c.w16(0x00, vendor)
    c.w16(0x02, device)
    cmd = 0 if is_vf else 0x0003
    c.w16(0x04, cmd | (0x0004 if d["drv"] or bridge else 0))
    c.w32(0x08, d["cls"] << 8 | rev)
    c.w8(0x0c, 0x10)
    c.w8(0x0e, (1 if bridge else 0) | (0x80 if d.get("mf") else 0))
    for bar, (kind, start, size) in d["res"].items() if not is_vf else ():
        lo = start & 0xffffffff
        c.w32(0x10 + 4 * bar, lo | {"io": 1, "m32": 0, "m32p": 8,
                                    "m64": 4, "m64p": 0xc}[kind])
        if kind.startswith("m64"):
            c.w32(0x14 + 4 * bar, start >> 32)
    if bridge:
        bus, sec, sub = d["buses"]
        c.w32(0x18, sub << 16 | sec << 8 | bus)
        io, mem, pref = d["windows"]
        c.w16(0x1c, (io[0] >> 8 & 0xf0) | (io[1] >> 8 & 0xf0) << 8 if io else 0x00f0)
        c.w32(0x20, (mem[0] >> 16 & 0xfff0) | (mem[1] >> 16 & 0xfff0) << 16
              if mem else 0x0000fff0)
        c.w32(0x24, (pref[0] >> 16 & 0xfff0 | 1) | ((pref[1] >> 16 & 0xfff0) | 1) << 16
              if pref else 0x0001fff1)
        if pref:
            c.w32(0x28, pref[0] >> 32)
            c.w32(0x2c, pref[1] >> 32)
    else:
        c.w16(0x2c, svendor)
        c.w16(0x2e, sdevice)
    c.w8(0x3c, d["irq"] if not is_vf else 0)
    c.w8(0x3d, 0 if is_vf else 1)
    for name in d["caps"][:1] + (["pcie"] if d["pcie"] else []) + d["caps"][1:]:
        std_cap(c, d, name)
    for name in d["ext"] or []:
        ext_cap(c, d, name)
    return bytes(c.b)


# -------------------------------------------------------- layout and sysfs
def addr_parts(addr):
    dom, bus, rest = addr.split(":")
    slot, fn = rest.split(".")
    return int(dom, 16), int(bus, 16), int(slot, 16), int(fn, 16)


def allocate(devs):
    """Assign BARs (and bridge windows, bus numbers) depth-first, like firmware."""
    by_addr = {d["addr"]: d for d in devs}
    cursor = {"io": 0xc000, "m32": 0xc0000000, "m64": 0x800000000}

    def align(kind, a):
        cursor[kind] = (cursor[kind] + a - 1) & ~(a - 1)

    def place(d):
        d["res"] = {}
        for bar, kind, size in d["bars"]:
            pool = "io" if kind == "io" else "m64" if kind == "m64p" else "m32"
            align(pool, max(size, 0x10))
            d["res"][bar] = (kind, cursor[pool], size)
            cursor[pool] += size
        d["msix_bir"] = next((b for b, k, _ in d["bars"] if k != "io"), 0)
        d["vf_res"] = {}
        for bar, size in d.get("sriov", {}).get("vf_bars", []):
            align("m64", size)
            d["vf_res"][bar] = (cursor["m64"], size * d["sriov"]["total"])
            cursor["m64"] += size * d["sriov"]["total"]
        if d["cls"] >> 8 == 0x0604:
            start = {"io": 0x1000, "m32": 0x100000, "m64": 0x100000}
            for k, a in start.items():
                align(k, a)
            before = dict(cursor)
            children = [c for c in devs if c.get("parent") == d["addr"]]
            sec = addr_parts(children[0]["addr"])[1]
            for ch in children:
                place(ch)
            sub = max([sec] + [c["buses"][2] for c in children if "buses" in c])
            d["buses"] = (addr_parts(d["addr"])[1], sec, sub)
            for k, a in start.items():
                align(k, a)
            d["windows"] = tuple((before[k], cursor[k] - 1) if cursor[k] > before[k]
                                 else None for k in ("io", "m32", "m64"))

    for d in devs:
        if d.get("parent") is None:
            place(d)
        if "physfn" in d:                      # VF BARs come from the PF
            pf = by_addr[d["physfn"]]
            i = (addr_parts(d["addr"])[2] * 8 + addr_parts(d["addr"])[3]
                 - pf["sriov"]["offset"]) // pf["sriov"]["stride"]
            d["res"] = {bar: ("m64p", start + i * (size // pf["sriov"]["total"]),
                              size // pf["sriov"]["total"])
                        for bar, (start, size) in pf["vf_res"].items()}
    for n, d in enumerate(devs):
        d["irq"] = 16 + n % 8


def resource_lines(d):
    """sysfs 'resource': 13 lines (6 BARs, ROM, 6 IOV BARs), 17 for bridges."""
    flags = {"io": 0x40101, "m32": 0x40200, "m32p": 0x42208, "m64": 0x140204,
             "m64p": 0x14220c}
    lines = [(0, 0, 0)] * (17 if "windows" in d else 13)
    for bar, (kind, start, size) in d["res"].items():
        lines[bar] = (start, start + size - 1, flags[kind])
    for bar, (start, size) in d["vf_res"].items():
        lines[7 + bar] = (start, start + size - 1, 0x14220c)
    for i, (w, f) in enumerate(zip(d.get("windows", ()), (0x101, 0x200, 0x102201))):
        if w:
            lines[13 + i] = (w[0], w[1], f)
    return "".join("0x%016x 0x%016x 0x%016x\n" % l for l in lines)


def syspath(d, by_addr):
    parts = [d["addr"]]
    while by_addr[parts[0]].get("parent"):
        parts.insert(0, by_addr[parts[0]]["parent"])
    return "/devices/pci0000:00/" + "/".join(parts)


def escape(s):
    """g_strescape(s, ""), as umockdev-record writes A: values."""
    out = []
    for ch in s.encode():
        c = chr(ch)
        if c in '\b\f\n\r\t\v\\"':
            out.append("\\" + {"\b": "b", "\f": "f", "\n": "n", "\r": "r",
                               "\t": "t", "\v": "v"}.get(c, c))
        elif ch < 0x20 or ch >= 0x7f:
            out.append("\\%03o" % ch)
        else:
            out.append(c)
    return "".join(out)


def record(path, props, attrs):
    """One device block; attrs maps name -> ('A'|'H'|'L', value)."""
    lines = ["P: " + path]
    lines += ["E: %s=%s" % kv for kv in sorted(props.items())]
    for name, (kind, val) in sorted(attrs.items()):
        if kind == "A":
            val = escape(val)
        elif kind == "H":
            val = val.hex().upper()
        lines.append("%s: %s=%s" % (kind, name, val))
    return "\n".join(lines) + "\n"


def pci_block(d, by_addr):
    vendor, device, svendor, sdevice, rev = d["ids"]
    path = syspath(d, by_addr)
    up = "../" * (path.count("/"))                # from the device dir to /sys
    cls = d["cls"]
    bridge = "windows" in d
    if bridge and "ssvid" not in d["caps"]:
        svendor = sdevice = 0
    modalias = "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" % (
        vendor, device, svendor, sdevice, cls >> 16, cls >> 8 & 0xff, cls & 0xff)
    props = {"SUBSYSTEM": "pci", "PCI_CLASS": "%X" % cls,
             "PCI_ID": "%04X:%04X" % (vendor, device),
             "PCI_SUBSYS_ID": "%04X:%04X" % (svendor, sdevice),
             "PCI_SLOT_NAME": d["addr"], "MODALIAS": modalias}
    numa = d.get("numa", -1)
    a = {"class": "0x%06x" % cls, "vendor": "0x%04x" % vendor,
         "device": "0x%04x" % device, "subsystem_vendor": "0x%04x" % svendor,
         "subsystem_device": "0x%04x" % sdevice, "revision": "0x%02x" % rev,
         "numa_node": "%d" % numa, "driver_override": "(null)",
         "enable": "1" if d["drv"] or bridge else "0", "irq": "%d" % d["irq"],
         "local_cpulist": "4-7" if numa == 1 else "0-7",
         "local_cpus": "f0" if numa == 1 else "ff", "modalias": modalias,
         "broken_parity_status": "0", "msi_bus": "1", "d3cold_allowed": "1",
         "dma_mask_bits": "64", "consistent_dma_mask_bits": "64",
         "power_state": "D0",
         "ari_enabled": "1" if d.get("parent") == ARI_PORT else "0"}
    attrs = {k: ("A", v + "\n") for k, v in a.items()}
    attrs["resource"] = ("A", resource_lines(d))
    attrs["config"] = ("H", build_config(d))
    if d["drv"]:
        props["DRIVER"] = d["drv"]
        attrs["driver"] = ("L", up + "bus/pci/drivers/" + d["drv"])
    attrs["iommu_group"] = ("L", up + "kernel/iommu_groups/%d" % d["grp"])
    if d["reset"]:
        attrs["reset_method"] = ("A", d["reset"] + "\n")
    if "boot_vga" in d:
        attrs["boot_vga"] = ("A", "%d\n" % d["boot_vga"])
    if bridge:
        attrs["secondary_bus_number"] = ("A", "%d\n" % d["buses"][1])
        attrs["subordinate_bus_number"] = ("A", "%d\n" % d["buses"][2])
    if d["pcie"] and d["pcie"][1] and d["pcie"][1][0]:
        cs, cw, ss, sw, _ = d["pcie"][1]
        attrs.update({"max_link_speed": ("A", SPEEDS[cs] + "\n"),
                      "max_link_width": ("A", "%d\n" % cw),
                      "current_link_speed": ("A", SPEEDS[ss] + "\n"),
                      "current_link_width": ("A", "%d\n" % sw)})
    if "sriov" in d:
        s = d["sriov"]
        attrs.update({"sriov_totalvfs": ("A", "%d\n" % s["total"]),
                      "sriov_numvfs": ("A", "%d\n" % s["num"]),
                      "sriov_offset": ("A", "%d\n" % s["offset"]),
                      "sriov_stride": ("A", "%d\n" % s["stride"]),
                      "sriov_vf_device": ("A", "%x\n" % s["vf_dev"]),
                      "sriov_drivers_autoprobe": ("A", "1\n")})
        bus = addr_parts(d["addr"])[1]
        for i in range(s["num"]):
            rid = addr_parts(d["addr"])[3] + s["offset"] + i * s["stride"]
            attrs["virtfn%d" % i] = ("L", "../%04x:%02x:%02x.%d" % (
                0, bus + (rid >> 8), (rid & 0xff) >> 3, rid & 7))
    if "physfn" in d:
        attrs["physfn"] = ("L", "../" + d["physfn"])
    return record(path, props, attrs)


def dmi_block():
    def f(s):   # the kernel's dmi modalias filter drops ' ', ':' and non-ASCII
        return "".join(c for c in s if " " < c < "\x7f" and c != ":")
    keys = [("bvn", "bios_vendor"), ("bvr", "bios_version"), ("bd", "bios_date"),
            ("br", "bios_release"), ("svn", "sys_vendor"), ("pn", "product_name"),
            ("pvr", "product_version"), ("rvn", "board_vendor"), ("rn", "board_name"),
            ("rvr", "board_version"), ("cvn", "chassis_vendor"), ("ct", "chassis_type"),
            ("cvr", "chassis_version"), ("sku", "product_sku")]
    modalias = "dmi:" + "".join("%s%s:" % (k, f(DMI[a])) for k, a in keys)
    attrs = {k: ("A", v + "\n") for k, v in DMI.items()}
    attrs["modalias"] = ("A", modalias + "\n")
    return record("/devices/virtual/dmi/id",
                  {"SUBSYSTEM": "dmi", "MODALIAS": modalias}, attrs)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-synthetic.py OUTDIR")
    devs = [dict(d) for d in DEVICES]
    by_addr = {d["addr"]: d for d in devs}
    allocate(devs)
    blocks = [pci_block(d, by_addr) for d in sorted(devs, key=lambda d: syspath(d, by_addr))]
    blocks.append(dmi_block())
    os.makedirs(sys.argv[1], exist_ok=True)
    with open(os.path.join(sys.argv[1], "devices.umockdev"), "w") as out:
        out.write("\n".join(blocks))


if __name__ == "__main__":
    main()
