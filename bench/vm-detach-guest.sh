#!/bin/sh
# Detach + reattach of the test VM's e1000e, hostdevd against libvirtd 9.0
# in the same guest, through the same virsh (DESIGN.md's target: "no
# slower than libvirtd").  Run by bench/vm-detach:
#   tests/vm/run-guest.sh bench/vm-detach-guest.sh OUTDIR
out=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/vm/guest-lib.sh"
hostdevd=${HOSTDEVD:-$here/../build-gcc/daemon/hostdevd}
rounds=${ROUNDS:-7}
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# One round: detach then reattach, in milliseconds, as virsh sees it.
round() {
    t0=$(ms)
    virsh -c "$1" nodedev-detach pci_0000_01_00_0 > /dev/null || return 1
    virsh -c "$1" nodedev-reattach pci_0000_01_00_0 > /dev/null || return 1
    echo $(( $(ms) - t0 ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The daemon's own time: detach and reattach on one python3-libvirt
# connection, no process start-up; "DETACH_MS REATTACH_MS" per round.
calls() {
    /usr/bin/python3 - "$1" "$rounds" <<'PY'
import sys, time
import libvirt
conn = libvirt.open(sys.argv[1])
dev = conn.nodeDeviceLookupByName("pci_0000_01_00_0")
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    dev.dettach()
    t1 = time.perf_counter()
    dev.reAttach()
    t2 = time.perf_counter()
    print("%.1f %.1f" % ((t1 - t0) * 1e3, (t2 - t1) * 1e3))
PY
}

mkdir -p /tmp/hd
"$hostdevd" --socket /tmp/hd/s --ro-socket /tmp/hd/s-ro --state-dir /tmp/hd/state > /tmp/hd/log 2>&1 &
for _ in $(seq 50); do [ -S /tmp/hd/s-ro ] && break; sleep 0.1; done
round "nodedev:///system?socket=/tmp/hd/s" > /dev/null   # loads vfio-pci once
for _ in $(seq "$rounds"); do round "nodedev:///system?socket=/tmp/hd/s"; done > "$out/hostdevd.ms"
calls "nodedev:///system?socket=/tmp/hd/s" > "$out/hostdevd-calls.ms"
kill %1

vm_start_dbus
vm_start_libvirtd
round qemu:///system > /dev/null
for _ in $(seq "$rounds"); do round qemu:///system; done > "$out/libvirtd.ms"
calls qemu:///system > "$out/libvirtd-calls.ms"

row() {   # label, libvirtd ms, hostdevd ms
    echo "| $1 | $2 ms | $3 ms | $(awk "BEGIN { printf \"%.2f\", $3 / $2 }") |"
}
{
    echo "| measure (TCG guest, median of $rounds) | libvirtd 9.0 | hostdevd | ratio |"
    echo "|---|---|---|---|"
    row "virsh nodedev-detach + nodedev-reattach, e1000e" "$(median < "$out/libvirtd.ms")" \
        "$(median < "$out/hostdevd.ms")"
    row "python3-libvirt dettach(), one connection" "$(cut -d' ' -f1 "$out/libvirtd-calls.ms" | median)" \
        "$(cut -d' ' -f1 "$out/hostdevd-calls.ms" | median)"
    row "python3-libvirt reAttach(), one connection" "$(cut -d' ' -f2 "$out/libvirtd-calls.ms" | median)" \
        "$(cut -d' ' -f2 "$out/hostdevd-calls.ms" | median)"
} > "$out/table.md"
cat "$out/table.md"
