/* The node-device inventory: one libudev coldplug at start, then a udev
 * monitor on the main loop keeps it current.  Requests never rescan the
 * tree; they read the device they ask about. */
#pragma once

#include <gio/gio.h>

#include "node-device.h"

G_BEGIN_DECLS

#define HD_TYPE_INVENTORY (hd_inventory_get_type ())
G_DECLARE_FINAL_TYPE (HdInventory, hd_inventory, HD, INVENTORY, GObject)

/* Signals (all carry the HdNodeDevice snapshot as a pointer):
 *   "device-added"    a node device appeared (libvirt: CREATED)
 *   "device-removed"  it went away (libvirt: DELETED)
 *   "device-changed"  the kernel changed it: a `change` uevent, or a driver
 *                     bound or unbound (libvirt: UPDATE)
 */

/* @privileged: read config space as libvirt does when it runs as root.
 * hd_inventory_new_default() decides from the effective uid. */
HdInventory *hd_inventory_new (gboolean privileged, GError **error);

/* A reference to the current snapshot, NULL if there is no such device. */
HdNodeDevice *hd_inventory_lookup (HdInventory *self, const char *name);
HdNodeDevice *hd_inventory_lookup_address (HdInventory *self, const HdPciAddress *addr);

/* Re-reads the dynamic parts of one device (driver, SR-IOV, IOMMU group),
 * stores and returns the new snapshot: what libvirt does before every
 * GetXMLDesc. */
HdNodeDevice *hd_inventory_refresh (HdInventory *self, const char *name);

/* The same for a PCI function, with the errors every door gives (the
 * texts are libvirt's): HD_ERROR_NO_DEVICE when there is no such device,
 * HD_ERROR_INVALID_ARGUMENT when it is not a PCI function. */
HdNodeDevice *hd_inventory_refresh_pci (HdInventory *self, const char *name, GError **error);

/* Every device, `computer` first, then PCI functions in address order. */
GPtrArray *hd_inventory_list (HdInventory *self);

guint hd_inventory_get_n_devices (HdInventory *self);

/* How many times the sysfs tree was enumerated (once, at start). */
guint hd_inventory_get_n_enumerations (HdInventory *self);

G_END_DECLS
