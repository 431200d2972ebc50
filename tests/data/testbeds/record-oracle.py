#!/usr/bin/python3
"""Record what real libvirtd prints for the PCI node devices and `computer`.

Run with Debian's /usr/bin/python3 (it needs python3-libvirt) against a
running libvirtd:

    record-oracle.py --uri qemu:///system --out tests/data/testbeds/NAME/expected

Writes one NAME.xml per device with the exact string virNodeDeviceGetXMLDesc
returned (no trailing newline added, unlike `virsh nodedev-dumpxml`), and
tree.txt with one "NAME PARENT" line per device, sorted by name ("-" for
no parent).  Only `computer` and PCI devices are recorded: those are the node
devices hostdevd serves.
"""
import argparse
import os
import sys

import libvirt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", default="qemu:///system")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    conn = libvirt.openReadOnly(args.uri)
    if conn is None:
        sys.exit("cannot connect to %s" % args.uri)
    os.makedirs(args.out, exist_ok=True)
    tree = []
    for dev in conn.listAllDevices(0):
        caps = dev.listCaps()
        if "pci" not in caps and "system" not in caps:
            continue
        name = dev.name()
        with open(os.path.join(args.out, name + ".xml"), "w") as f:
            f.write(dev.XMLDesc(0))
        try:
            parent = dev.parent() or "-"
        except libvirt.libvirtError:
            parent = "-"
        tree.append("%s %s" % (name, parent))
    with open(os.path.join(args.out, "tree.txt"), "w") as f:
        f.write("\n".join(sorted(tree)) + "\n")
    conn.close()


if __name__ == "__main__":
    main()
