/* The drivers a device is detached to, by the names libvirt uses:
 * `vfio` (vfio-pci, the default), `kvm` (pci-stub, the old KVM guides'
 * path) and `xen` (xen-pciback, whose PCI driver calls itself pciback). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *name;     /* libvirt's driver name */
  const char *driver;   /* the PCI driver in /sys/bus/pci/drivers */
  const char *module;   /* the kernel module that provides it */
  gboolean vfio;        /* VFIO: needs an IOMMU and /dev/vfio/vfio */
} HdStubDriver;

/* @name NULL or "" is the default (vfio).  Anything else, the PCI driver
 * names included: HD_ERROR_INVALID_ARGUMENT with libvirt's "unknown
 * driver name '%s'" (libvirt 9.0 accepts only its own names). */
const HdStubDriver *hd_stub_driver_lookup (const char *name, GError **error);

/* The stub a PCI driver name belongs to, NULL if it is a host driver. */
const HdStubDriver *hd_stub_driver_find_by_driver (const char *driver);

/* TRUE for drivers that leave an IOMMU group viable for VFIO: the stubs
 * and pcieport (both manage no DMA of their own). */
gboolean hd_stub_driver_keeps_group_viable (const char *driver);

G_END_DECLS
