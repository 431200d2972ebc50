#!/bin/sh
# Record the vm-q35 testbed: boot the QEMU test VM (tests/vm/run-guest.sh) once,
# enable 2 SR-IOV VFs on its NVMe, start udevd, dbus-daemon and real libvirtd
# in the guest, and record the PCI tree (umockdev), libvirtd's XML for every
# PCI device and `computer` (the oracle), the IOMMU groups' readdir order and
# the reset methods.  See tests/vm/README.md.
#
#   record-vm.sh [DEST]      (default: tests/data/testbeds/vm-q35)
#
# DEST is replaced by: devices.umockdev, expected/*.xml, expected/tree.txt,
# iommu-readdir.txt, reset-methods.txt, guest-info.txt, nodedev-tree.txt.
# Exit status 77: no QEMU or no bootable kernel.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/vm-q35}

work=$(mktemp -d "${TMPDIR:-/tmp}/hostdevd-record-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
rc=0
"$here/../../vm/run-guest.sh" "$here/record-vm-guest.sh" "$work" || rc=$?
if [ $rc -ne 0 ]; then
    [ $rc -eq 77 ] || echo "record-vm: the guest run failed; serial log: $work/serial.log (kept)" >&2
    [ $rc -eq 77 ] || trap - EXIT
    exit $rc
fi

rm -rf "$dest"
mkdir -p "$dest"
cp -r "$work/expected" "$dest/"
for f in devices.umockdev iommu-readdir.txt reset-methods.txt guest-info.txt nodedev-tree.txt; do
    cp "$work/$f" "$dest/"
done
echo "record-vm: wrote $dest"
