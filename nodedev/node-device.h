/* The node-device model: `computer` and PCI functions, as libvirt sees them.
 *
 * An HdNodeDevice is an immutable, reference-counted snapshot.  The
 * inventory replaces a device's snapshot when the kernel reports a change
 * and refreshes the dynamic parts (driver, SR-IOV, IOMMU group) on demand,
 * as libvirt does before it formats XML; readers on any thread keep the
 * snapshot they hold. */
#pragma once

#include <glib.h>

#include "pci-address.h"
#include "pci-config.h"

G_BEGIN_DECLS

typedef enum {
  HD_NODE_DEVICE_SYSTEM,
  HD_NODE_DEVICE_PCI,
} HdNodeDeviceKind;

typedef struct {
  char *product_name;
  char *hardware_vendor;
  char *hardware_version;
  char *hardware_serial;
  guint8 uuid[16];
  char *firmware_vendor;
  char *firmware_version;
  char *firmware_release_date;
} HdSystemInfo;

typedef struct {
  HdPciAddress address;
  int klass;                 /* udev PCI_CLASS, -1 if missing */
  guint vendor;
  guint product;
  guint subsystem_vendor;
  guint subsystem_device;
  char *vendor_name;         /* pci.ids, as libpciaccess resolves it */
  char *product_name;
  int numa_node;             /* -1: none */

  /* From config space; only read when privileged, like libvirt. */
  gboolean config_read;
  HdPciConfigInfo config;

  /* Dynamic: re-read on refresh. */
  gboolean has_phys_function;
  HdPciAddress phys_function;
  GArray *virt_functions;    /* HdPciAddress, virtfnN order */
  guint sriov_totalvfs;      /* libvirt's maxCount */
  guint sriov_numvfs;
  int iommu_group;           /* -1: no group */
  GArray *iommu_group_members; /* HdPciAddress, kernel readdir order */

  /* Facts the engine needs. */
  char *driver_override;     /* NULL when "(null)" or absent */
  char **reset_methods;      /* reset_method attribute, NULL if absent */
  gboolean boot_vga;
  gboolean is_virtfn;
} HdPciInfo;

typedef struct _HdNodeDevice HdNodeDevice;
struct _HdNodeDevice {
  HdNodeDeviceKind kind;
  char *name;
  char *syspath;             /* NULL for computer */
  char *parent;              /* NULL for computer */
  char *driver;              /* NULL: no driver bound */
  HdSystemInfo *system;      /* kind == SYSTEM */
  HdPciInfo *pci;            /* kind == PCI */
};

HdNodeDevice *hd_node_device_ref (HdNodeDevice *dev);
void hd_node_device_unref (HdNodeDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdNodeDevice, hd_node_device_unref)

/* The `computer` device, from the DMI data under @dmi_dir (which need not
 * exist: libvirt then prints an all-zero UUID and nothing else). */
HdNodeDevice *hd_node_device_new_computer (const char *dmi_dir);

/* A PCI function read from its sysfs directory, not yet complete.
 * @pci_class is its udev property PCI_CLASS (NULL if missing);
 * @privileged: read config space (libvirt does so only as root).  Safe to
 * call on several threads at once: the inventory reads a host's devices in
 * parallel at start. */
HdNodeDevice *hd_node_device_read_pci (const char *syspath,
                                       const char *pci_class,
                                       gboolean privileged,
                                       GError **error);

/* Completes a device from hd_node_device_read_pci() with what needs the
 * other devices (@parent, its parent's node-device name) and what needs one
 * thread (the pci.ids names: libpciaccess keeps a global cache).  Called
 * once, on the inventory's thread, before the device is shared. */
void hd_node_device_finish_pci (HdNodeDevice *dev, const char *parent);

/* A new snapshot with the driver and the dynamic PCI capabilities
 * (SR-IOV, IOMMU group, driver_override, reset methods) re-read from sysfs. */
HdNodeDevice *hd_node_device_refresh (HdNodeDevice *dev);

/* Capability names as libvirt's ListCaps returns them. */
GPtrArray *hd_node_device_list_caps (HdNodeDevice *dev);

G_END_DECLS
