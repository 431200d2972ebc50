/* PCI configuration space, parsed the way libvirt's virpci.c reads it.
 *
 * The parser works on the bytes the kernel let us read (64 for an
 * unprivileged reader, 256 or 4096 for root) and never looks past them:
 * a read beyond the end yields zeros, exactly as libvirt's short reads do.
 * Capability chains come from the device and are not trusted: every walk is
 * bounded and stops at loops and at pointers outside the readable range. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_PCI_CONFIG_MAX 4096

typedef enum {
  HD_PCI_HEADER_ENDPOINT = 0,
  HD_PCI_HEADER_PCI_BRIDGE = 1,
  HD_PCI_HEADER_CARDBUS_BRIDGE = 2,
} HdPciHeaderType;

/* PCI Express device/port type (PCI_EXP_FLAGS_TYPE). */
typedef enum {
  HD_PCIE_TYPE_ENDPOINT = 0x0,
  HD_PCIE_TYPE_LEGACY_ENDPOINT = 0x1,
  HD_PCIE_TYPE_ROOT_PORT = 0x4,
  HD_PCIE_TYPE_UPSTREAM = 0x5,
  HD_PCIE_TYPE_DOWNSTREAM = 0x6,
  HD_PCIE_TYPE_PCIE_TO_PCI_BRIDGE = 0x7,
  HD_PCIE_TYPE_PCI_TO_PCIE_BRIDGE = 0x8,
  HD_PCIE_TYPE_ROOT_INTEGRATED_ENDPOINT = 0x9,
  HD_PCIE_TYPE_ROOT_EVENT_COLLECTOR = 0xa,
} HdPcieType;

typedef struct {
  int port;     /* -1: not reported (the status register has none) */
  guint speed;  /* libvirt's enum: 1 = 2.5 GT/s … 6 = 64 GT/s, 0 unknown */
  guint width;
} HdPcieLink;

typedef struct {
  /* -1 when the header type is not one libvirt knows (0..2). */
  int header_type;
  gboolean multifunction;

  /* libvirt's verdict, including its guess: without a PCIe capability in
   * what it could read, a config file whose size is not 256 counts as
   * PCI Express. */
  gboolean is_pcie;
  guint pcie_cap;     /* offset of the PCIe capability, 0 if none */
  guint pcie_type;    /* HdPcieType, valid when pcie_cap != 0 */
  gboolean has_link;  /* PCIe with a link (not an RCiEP or RC event collector) */
  HdPcieLink link_cap;
  HdPcieLink link_sta;

  guint pm_cap;       /* offset of the power-management capability, 0 if none */
  gboolean has_pm_reset;  /* PM cap present and No_Soft_Reset clear */
  gboolean has_flr;   /* PCIe DevCap FLR or AF FLR (VFs are added by sysfs) */

  guint acs_cap;      /* offset of the ACS extended capability, 0 if none */
  guint16 acs_ctrl;
  guint sriov_cap;    /* offset of the SR-IOV extended capability, 0 if none */
} HdPciConfigInfo;

/* @data/@len: the bytes read from the config file; @file_size: that file's
 * st_size as stat() reports it (-1 when unknown), used only for libvirt's
 * is-PCIe guess. */
void hd_pci_config_parse (const guint8 *data, gsize len, gint64 file_size,
                          HdPciConfigInfo *info);

/* libvirt's spelling of a link speed ("2.5", "5", …), NULL for values it
 * has no name for. */
const char *hd_pcie_link_speed_to_string (guint speed);

/* Reads the config space at @path (relative to @dirfd, or AT_FDCWD; at
 * most HD_PCI_CONFIG_MAX bytes) and its size. */
GBytes *hd_pci_config_read (int dirfd, const char *path, gint64 *file_size, GError **error);

G_END_DECLS
