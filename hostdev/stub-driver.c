#include "config.h"

#include "stub-driver.h"

#include <glib/gi18n.h>

#include "nodedev/error.h"

static const HdStubDriver stubs[] = {
  { "vfio", "vfio-pci", "vfio-pci", TRUE },
  { "kvm", "pci-stub", "pci-stub", FALSE },
  { "xen", "pciback", "xen-pciback", FALSE },
};

const HdStubDriver *
hd_stub_driver_lookup (const char *name, GError **error)
{
  if (name == NULL || name[0] == '\0')
    return &stubs[0];
  for (guint i = 0; i < G_N_ELEMENTS (stubs); i++)
    if (g_str_equal (name, stubs[i].name))
      return &stubs[i];
  g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, _("unknown driver name '%s'"), name);
  return NULL;
}

const HdStubDriver *
hd_stub_driver_find_by_driver (const char *driver)
{
  if (driver == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (stubs); i++)
    if (g_str_equal (driver, stubs[i].driver))
      return &stubs[i];
  return NULL;
}

gboolean
hd_stub_driver_keeps_group_viable (const char *driver)
{
  /* Since Linux 5.19 the kernel asks drivers whether they do DMA on their
   * own (driver_managed_dma); pci-stub and pcieport say no, so VFIO accepts
   * a group where they are bound.  pciback holds a device for Xen, which
   * keeps it away from the host just as well. */
  return driver == NULL || hd_stub_driver_find_by_driver (driver) != NULL ||
         g_str_equal (driver, "pcieport");
}
