#!/usr/bin/python3
"""Add to a loaded umockdev testbed what devices.umockdev cannot describe.

    complete-sysfs.py TESTBED_ROOT     (the directory holding sys/, i.e. the
                                        testbed's $UMOCKDEV_DIR)

The umockdev format only holds devices under /sys/devices.  This creates:
  /sys/kernel/iommu_groups/N/devices/ADDR -> ../../../../devices/...  for
      every PCI device whose iommu_group link points to group N (the kernel's
      semantics), and /sys/kernel/iommu_groups/N/type ("DMA");
  /sys/bus/pci/drivers/NAME/{bind,unbind,new_id,remove_id} and NAME/ADDR
      links for every driver named by a device's driver link (without that
      directory the link dangles and libvirt prints no <driver>);
  /sys/bus/pci/drivers_probe and drivers_autoprobe.

Directory order: libvirt prints a group's members in readdir() order.  On a
real kernel sysfs (kernfs) returns entries sorted by kernfs_name_hash(), so
the members are created here such that readdir() returns that same order:
in hash order on a file system that lists in creation order, reversed on one
that lists newest first (tmpfs since Linux 6.14, and before 6.6).  On a
hash-ordered file system (ext4) the order cannot be controlled; a warning
is printed.
"""
import os
import sys

MASK = (1 << 64) - 1


def kernfs_name_hash(name):
    """fs/kernfs/dir.c kernfs_name_hash() with ns == NULL, 64-bit kernel."""
    h = 0
    for c in name.encode():
        h = ((h + (c << 4) + (c >> 4)) * 11) & MASK       # partial_name_hash
    h = ((h * 0x61C8864680B583EB) & MASK) >> 32           # hash_long(h, 32)
    h &= 0x7fffffff
    if h < 2:
        h += 2
    return min(h, 0x7fffffff - 1)


def kernfs_order(names):
    return sorted(names, key=lambda n: (kernfs_name_hash(n), n))


def readdir_direction(where):
    """'fwd' if readdir lists in creation order, 'rev' if newest first."""
    probe = os.path.join(where, ".readdir-probe")
    os.mkdir(probe)
    names = ["%02d" % i for i in (3, 1, 4, 0, 2)]
    for n in names:
        open(os.path.join(probe, n), "w").close()
    seen = os.listdir(probe)
    for n in names:
        os.unlink(os.path.join(probe, n))
    os.rmdir(probe)
    return {tuple(names): "fwd", tuple(reversed(names)): "rev"}.get(tuple(seen))


def populate(directory, links, direction):
    """links: name -> target; created so that readdir gives kernfs order."""
    order = kernfs_order(links)
    if direction == "rev":
        order.reverse()
    for name in order:
        os.symlink(links[name], os.path.join(directory, name))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: complete-sysfs.py TESTBED_ROOT")
    sysdir = os.path.realpath(os.path.join(sys.argv[1], "sys"))
    pcidevs = os.path.join(sysdir, "bus/pci/devices")
    groups, drivers = {}, {}
    for addr in sorted(os.listdir(pcidevs)):
        dev = os.path.join(pcidevs, addr)
        rel = os.path.relpath(os.path.realpath(dev), sysdir)  # devices/pci...
        for link, table in (("iommu_group", groups), ("driver", drivers)):
            if os.path.islink(os.path.join(dev, link)):
                key = os.path.basename(os.readlink(os.path.join(dev, link)))
                table.setdefault(key, {})[addr] = "../../../../" + rel

    direction = readdir_direction(sysdir)
    if direction is None:
        print("complete-sysfs.py: %s lists directories in hash order; the "
              "order of IOMMU group members is not the kernel's" % sysdir,
              file=sys.stderr)
    for group, links in sorted(groups.items(), key=lambda g: int(g[0])):
        gdir = os.path.join(sysdir, "kernel/iommu_groups", group)
        os.makedirs(os.path.join(gdir, "devices"))
        with open(os.path.join(gdir, "type"), "w") as f:
            f.write("DMA\n")
        populate(os.path.join(gdir, "devices"), links, direction)
    for driver, links in sorted(drivers.items()):
        ddir = os.path.join(sysdir, "bus/pci/drivers", driver)
        os.makedirs(ddir)
        for f in ("bind", "unbind", "new_id", "remove_id"):
            open(os.path.join(ddir, f), "w").close()
        populate(ddir, links, direction)
    with open(os.path.join(sysdir, "bus/pci/drivers_probe"), "w"):
        pass
    with open(os.path.join(sysdir, "bus/pci/drivers_autoprobe"), "w") as f:
        f.write("1\n")


if __name__ == "__main__":
    main()
