/* Vendor and device names from the pci.ids database, resolved exactly as
 * libvirt resolves them: libpciaccess's pci_get_strings() with the
 * subsystem ids left as wildcards. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Not thread-safe (libpciaccess keeps a global cache): call from the
 * inventory's thread only. */
void hd_pci_ids_lookup (guint vendor, guint device,
                        char **vendor_name, char **device_name);

G_END_DECLS
