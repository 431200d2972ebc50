#!/usr/bin/python3
"""Write a large synthetic SR-IOV machine as a umockdev testbed.

    make-sriov-testbed.py [--ports N] [--vfs M] OUTDIR   -> OUTDIR/devices.umockdev

Default: 64 PCIe root ports (00:01.0-00:08.7), each with one SR-IOV physical
function (an E810-like NIC, driver "ice") at BB:00.0 on its own bus and 254
of its virtual functions enabled (BB:00.1-BB:1f.6, ARI, offset 1, stride 1,
half bound to "iavf", half unbound), every VF in its own IOMMU group:
64 + 64 + 64 * 254 = 16,384 PCI functions, plus the DMI node.

The device records (sysfs attributes, 4096-byte config spaces with linked
capability lists, BARs, VF BARs from the PF's SR-IOV capability, physfn /
virtfnN links) come from tests/data/testbeds/make-synthetic.py, which this
imports: the same format as the testbeds the test suite uses.  As there,
what umockdev's format cannot hold (/sys/kernel/iommu_groups, the driver
directories) is added after loading by tests/data/testbeds/complete-sysfs.py.

The output is large (about 140 MB for 16,384 functions: every config space
is 8 KiB of hex) and deterministic.
"""
import argparse
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SYNTH = os.path.join(os.path.dirname(HERE), "tests/data/testbeds/make-synthetic.py")


def load_synthetic():
    spec = importlib.util.spec_from_file_location("make_synthetic", SYNTH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class AnyOf(str):
    """make-synthetic.py knows one ARI-forwarding port; here every root port is one."""

    def __new__(cls, members):
        self = super().__new__(cls, "ari-ports")
        self.members = frozenset(members)
        return self

    def __eq__(self, other):
        return other in self.members

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


def build(syn, ports, vfs):
    if not 1 <= ports <= 256 - 32 or not 0 <= vfs <= 255:
        sys.exit("--ports must be 1..224 (bus 0 slots 1..28) and --vfs 0..255")
    devs = []
    group = 0
    port_addrs = []
    for i in range(ports):
        slot, fn = 1 + i // 8, i % 8
        port = "0000:00:%02x.%d" % (slot, fn)
        port_addrs.append(port)
        devs.append(dict(syn.ROOT_PORT, addr=port, grp=group, mf=(fn == 0),
                         pcie=(4, (4, 16, 4, 16, i + 1))))
        group += 1
    pfs = []
    for i, port in enumerate(port_addrs):
        bus = i + 1
        pf = "0000:%02x:00.0" % bus
        pfs.append(pf)
        devs.append(dict(
            addr=pf, parent=port, ids=(0x8086, 0x1592, 0x8086, 0x0002, 0x02),
            cls=0x020000, drv="ice", grp=group, pcie=(0, (4, 16, 4, 16, 0)),
            caps=["pm", "msi", "msix"], ext=["aer", "dsn", "ari", "sriov"],
            bars=[(0, "m64p", 0x2000000), (3, "m64p", 0x10000)], reset="flr bus",
            sriov=dict(total=vfs, num=vfs, offset=1, stride=1, vf_dev=0x1889,
                       vf_bars=[(0, 0x20000), (3, 0x4000)]),
            numa=i % 2))
        group += 1
    # VFs get their IOMMU groups last, as the kernel creates them after boot.
    for i, pf in enumerate(pfs):
        bus = i + 1
        for v in range(vfs):
            devfn = 1 + v
            devs.append(dict(
                addr="0000:%02x:%02x.%d" % (bus, devfn >> 3, devfn & 7), parent=port_addrs[i],
                ids=(0x8086, 0x1889, 0x8086, 0x0000, 0x02), cls=0x020000,
                drv="iavf" if v % 2 == 0 else None, grp=group,
                pcie=(0, (0, 0, 0, 0, 0)), caps=["msix"], ext=["aer", "ari"],
                bars=[], reset="flr", physfn=pf, numa=i % 2))
            group += 1
    if vfs == 0:
        for d in devs:
            d.pop("sriov", None)
    syn.ARI_PORT = AnyOf(port_addrs)
    return devs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ports", type=int, default=64, help="root ports = PFs (default 64)")
    ap.add_argument("--vfs", type=int, default=254, help="enabled VFs per PF (default 254)")
    ap.add_argument("outdir")
    args = ap.parse_args()

    syn = load_synthetic()
    devs = build(syn, args.ports, args.vfs)
    by_addr = {d["addr"]: d for d in devs}
    syn.allocate(devs)
    devs.sort(key=lambda d: syn.syspath(d, by_addr))
    os.makedirs(args.outdir, exist_ok=True)
    out_path = os.path.join(args.outdir, "devices.umockdev")
    with open(out_path + ".tmp", "w") as out:
        for d in devs:
            out.write(syn.pci_block(d, by_addr))
            out.write("\n")
        out.write(syn.dmi_block())
    os.rename(out_path + ".tmp", out_path)
    print("%s: %d PCI functions (%d root ports, %d PFs, %d VFs)" % (
        out_path, len(devs), args.ports, args.ports, args.ports * args.vfs))


if __name__ == "__main__":
    main()
