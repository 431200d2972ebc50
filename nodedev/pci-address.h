/* PCI addresses and the libvirt node-device names derived from them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint domain;   /* 0..0xffff (sysfs allows up to 0xffffffff with VMD; kept wide) */
  guint bus;      /* 0..0xff */
  guint slot;     /* 0..0x1f */
  guint function; /* 0..7 */
} HdPciAddress;

/* Strict "DDDD:BB:SS.F" (lower- or upper-case hex), the form sysfs uses for
 * device directories.  Nothing else is accepted: no whitespace, no path
 * separators, no missing fields. */
gboolean hd_pci_address_parse (const char *str, HdPciAddress *addr);

/* "DDDD:BB:SS.F" in sysfs's own spelling. */
char *hd_pci_address_to_string (const HdPciAddress *addr);

/* libvirt's node-device name: "pci_DDDD_BB_SS_F". */
char *hd_pci_address_to_nodedev_name (const HdPciAddress *addr);

/* The reverse of the above; FALSE for anything that is not exactly a name
 * libvirt would generate for a PCI function. */
gboolean hd_pci_address_from_nodedev_name (const char *name, HdPciAddress *addr);

gboolean hd_pci_address_equal (const HdPciAddress *a, const HdPciAddress *b);
int hd_pci_address_compare (const HdPciAddress *a, const HdPciAddress *b);

/* libvirt's generic name rule (nodeDeviceGenerateName): subsystem + "_" +
 * sysname, every byte that is not ASCII alphanumeric replaced by '_'. */
char *hd_nodedev_name_generate (const char *subsystem, const char *sysname);

G_END_DECLS
