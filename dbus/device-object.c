#include "config.h"

#include "device-object.h"

static gboolean
is_path_element (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && *s != '_')
      return FALSE;
  return TRUE;
}

char *
hd_dbus_device_path (const char *name)
{
  g_autofree char *escaped = NULL;

  if (is_path_element (name))
    return g_strconcat (HD_DBUS_DEVICES_PATH "/", name, NULL);
  escaped = g_dbus_escape_object_path (name);
  return g_strconcat (HD_DBUS_DEVICES_PATH "/", escaped, NULL);
}

char *
hd_dbus_device_path_for_address (const HdPciAddress *address)
{
  g_autofree char *name = hd_pci_address_to_nodedev_name (address);

  return hd_dbus_device_path (name);
}

GStrv
hd_dbus_device_paths (char *const *names, guint n_names)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; i < n_names; i++)
    {
      g_autofree char *path = hd_dbus_device_path (names[i]);

      g_strv_builder_add (b, path);
    }
  return g_strv_builder_end (b);
}

/* A NULL-terminated array of device paths for @addresses (HdPciAddress). */
static GStrv
paths_of (GArray *addresses)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; addresses != NULL && i < addresses->len; i++)
    {
      g_autofree char *path = hd_dbus_device_path_for_address (&g_array_index (addresses, HdPciAddress, i));

      g_strv_builder_add (b, path);
    }
  return g_strv_builder_end (b);
}

static GStrv
strv_of (GPtrArray *strings)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; strings != NULL && i < strings->len; i++)
    g_strv_builder_add (b, g_ptr_array_index (strings, i));
  return g_strv_builder_end (b);
}

static void
update_pci (HdDBusDevice *iface, HdPciInfo *pci)
{
  static const char *const none[] = { NULL };
  g_autofree char *address = hd_pci_address_to_string (&pci->address);
  g_auto(GStrv) members = paths_of (pci->iommu_group_members);
  g_auto(GStrv) vfs = paths_of (pci->virt_functions);
  g_autofree char *pf = pci->has_phys_function ? hd_dbus_device_path_for_address (&pci->phys_function)
                                               : g_strdup ("/");

  hd_dbus_device_set_address (iface, address);
  hd_dbus_device_set_vendor_id (iface, (guint16) pci->vendor);
  hd_dbus_device_set_product_id (iface, (guint16) pci->product);
  hd_dbus_device_set_vendor_name (iface, pci->vendor_name != NULL ? pci->vendor_name : "");
  hd_dbus_device_set_product_name (iface, pci->product_name != NULL ? pci->product_name : "");
  hd_dbus_device_set_class (iface, pci->klass);
  hd_dbus_device_set_driver_override (iface, pci->driver_override != NULL ? pci->driver_override : "");
  hd_dbus_device_set_iommu_group (iface, pci->iommu_group);
  hd_dbus_device_set_iommu_group_members (iface, (const char *const *) members);
  hd_dbus_device_set_phys_function (iface, pf);
  hd_dbus_device_set_virt_functions (iface, (const char *const *) vfs);
  hd_dbus_device_set_max_virt_functions (iface, pci->sriov_totalvfs);
  hd_dbus_device_set_numa_node (iface, pci->numa_node);
  hd_dbus_device_set_reset_methods (iface, pci->reset_methods != NULL
                                    ? (const char *const *) pci->reset_methods : none);
  hd_dbus_device_set_boot_vga (iface, pci->boot_vga);
}

void
hd_dbus_device_update (HdDBusDevice *iface, HdNodeDevice *dev, const HdVerdict *verdict,
                       const char *original_driver, gboolean detached)
{
  static const char *const none[] = { NULL };
  g_auto(GStrv) reasons = strv_of (verdict != NULL ? verdict->reasons : NULL);
  g_autofree char *parent = dev->parent != NULL ? hd_dbus_device_path (dev->parent) : g_strdup ("/");

  /* Several properties change together (a detach moves Driver,
   * DriverOverride and Detached): one PropertiesChanged for them all. */
  g_object_freeze_notify (G_OBJECT (iface));
  hd_dbus_device_set_name (iface, dev->name);
  hd_dbus_device_set_parent (iface, parent);
  hd_dbus_device_set_sysfs_path (iface, dev->syspath != NULL ? dev->syspath : "");
  hd_dbus_device_set_driver (iface, dev->driver != NULL ? dev->driver : "");
  hd_dbus_device_set_original_driver (iface, detached && original_driver != NULL ? original_driver : "");
  hd_dbus_device_set_detached (iface, detached);
  if (dev->pci != NULL)
    update_pci (iface, dev->pci);
  else
    {
      hd_dbus_device_set_class (iface, -1);
      hd_dbus_device_set_iommu_group (iface, -1);
      hd_dbus_device_set_numa_node (iface, -1);
      hd_dbus_device_set_phys_function (iface, "/");
      hd_dbus_device_set_iommu_group_members (iface, none);
      hd_dbus_device_set_virt_functions (iface, none);
      hd_dbus_device_set_reset_methods (iface, none);
    }
  hd_dbus_device_set_verdict (iface, verdict != NULL ? hd_verdict_kind_to_string (verdict->kind) : "");
  hd_dbus_device_set_verdict_reasons (iface, (const char *const *) reasons);
  g_object_thaw_notify (G_OBJECT (iface));
}
