#!/bin/sh
# Record this machine's PCI tree (and DMI data, for `computer`) as a umockdev
# testbed.  Read-only: umockdev-record only reads sysfs attributes.
#   record-sysfs.sh OUT.umockdev
set -eu
out=$1
set -- /sys/bus/pci/devices/*
[ -d /sys/devices/virtual/dmi/id ] && set -- "$@" /sys/devices/virtual/dmi/id
umockdev-record "$@" > "$out"
