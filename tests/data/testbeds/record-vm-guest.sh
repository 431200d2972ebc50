#!/bin/sh
# The guest half of record-vm.sh: runs INSIDE the QEMU test VM as
# `record-vm-guest.sh OUT` and writes the vm-q35 testbed files into OUT.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../vm/guest-lib.sh"

# 2 of the NVMe's 4 VFs: 0000:03:00.1 and 0000:03:00.2.
vm_enable_vfs 0000:03:00.0 2
vm_start_udevd
vm_start_dbus
vm_start_libvirtd

/usr/bin/python3 "$here/record-oracle.py" --uri qemu:///system --out "$out/expected"
"$here/record-sysfs.sh" "$out/devices.umockdev"

# Members of each IOMMU group in readdir order (`ls -f`, "." and ".." dropped).
for g in $(ls /sys/kernel/iommu_groups | sort -n); do
    printf '%s:' "$g"
    ls -f "/sys/kernel/iommu_groups/$g/devices" | grep -v '^\.\.\?$' | sed 's/^/ /' | tr -d '\n'
    echo
done > "$out/iommu-readdir.txt"

# reset_method of every PCI function ("-" when the file is absent or empty).
for d in /sys/bus/pci/devices/*; do
    m=$(cat "$d/reset_method" 2>/dev/null || true)
    echo "${d##*/}: ${m:--}"
done > "$out/reset-methods.txt"

{
    echo "kernel: $(uname -r)"
    echo "libvirtd: $(/usr/sbin/libvirtd --version)"
    echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
    echo "umockdev: $(dpkg-query -W -f '${Version}' umockdev 2>/dev/null || echo '?')"
    echo "drivers:"
    for d in /sys/bus/pci/devices/*; do
        drv=$(readlink "$d/driver" 2>/dev/null || true)
        echo "  ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") ${drv##*/}"
    done
} > "$out/guest-info.txt"

virsh -c qemu:///system nodedev-list --tree > "$out/nodedev-tree.txt"
vm_log "recorded $(ls "$out/expected" | wc -l) files in expected/"
