#include "config.h"

#include "pci-ids.h"

#include <pciaccess.h>

void
hd_pci_ids_lookup (guint vendor, guint device,
                   char **vendor_name, char **device_name)
{
  struct pci_id_match m = {
    .vendor_id = vendor,
    .device_id = device,
    .subvendor_id = PCI_MATCH_ANY,
    .subdevice_id = PCI_MATCH_ANY,
  };
  const char *vname = NULL;
  const char *dname = NULL;

  pci_get_strings (&m, &dname, &vname, NULL, NULL);
  *vendor_name = g_strdup (vname);
  *device_name = g_strdup (dname);
}
