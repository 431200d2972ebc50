/* hostdevctl detach, reattach and reset: the daemon does the work (and
 * decides whether it may); this file builds the options and reports. */
#include "config.h"

#include <glib/gi18n.h>

#include "hostdevctl-agent.h"
#include "hostdevctl-format.h"

/* The kernel driver behind each of libvirt's stub names, for the report
 * only: the daemon decides, and refuses a name it does not know. */
static const char *
stub_driver (const char *name)
{
  if (name == NULL || g_str_equal (name, "vfio"))
    return "vfio-pci";
  if (g_str_equal (name, "kvm"))
    return "pci-stub";
  if (g_str_equal (name, "xen"))
    return "pciback";
  return name;
}

static GVariant *
build_options (const char *driver, gboolean group, gboolean force, gboolean interactive)
{
  GVariantDict options;

  /* Only what was asked for: the daemon's defaults stay the daemon's. */
  g_variant_dict_init (&options, NULL);
  if (driver != NULL)
    g_variant_dict_insert (&options, "driver", "s", driver);
  if (group)
    g_variant_dict_insert (&options, "group", "b", TRUE);
  if (force)
    g_variant_dict_insert (&options, "force", "b", TRUE);
  if (interactive)
    g_variant_dict_insert (&options, "interactive", "b", TRUE);
  return g_variant_dict_end (&options);
}

/* Connects, finds the device and the Manager: what every operation needs
 * first.  Returns the device's name, or NULL with @error set. */
static char *
prepare (HdCtl *ctl, const char *what, HdDBusDevice **device, GError **error)
{
  g_autoptr(HdDBusDevice) dev = NULL;

  if (!hd_ctl_connect (ctl, error))
    return NULL;
  dev = hd_ctl_find_device (ctl, what, error);
  if (dev == NULL || hd_ctl_get_manager (ctl, error) == NULL)
    return NULL;
  *device = g_steal_pointer (&dev);
  return hd_dbus_device_dup_name (*device);
}

int
hd_ctl_cmd_detach (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDBusDevice) dev = NULL;
  g_autoptr(HdCtlAgent) agent = NULL;
  g_auto(GStrv) devices = NULL;
  g_autofree char *name = NULL;
  g_autofree char *driver = NULL;
  gboolean group = FALSE;
  gboolean force = FALSE;
  gboolean no_ask = FALSE;
  gboolean interactive;
  const GOptionEntry entries[] = {
    { "driver", 0, 0, G_OPTION_ARG_STRING, &driver,
      N_("The stub driver: vfio (vfio-pci, the default), kvm (pci-stub) or xen (xen-pciback)"), N_("NAME") },
    { "group", 0, 0, G_OPTION_ARG_NONE, &group,
      N_("Detach the device's whole IOMMU group with it, all or nothing"), NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      N_("Detach even though the host uses the device (its disks, network, display)"), NULL },
    { "no-ask", 0, 0, G_OPTION_ARG_NONE, &no_ask,
      N_("Never ask for a password; fail unless already authorized"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 1);

  if (status >= 0)
    return status;
  name = prepare (ctl, argv[1], &dev, &error);
  if (name == NULL)
    return hd_ctl_fail (error);
  interactive = hd_ctl_agent_start (no_ask, &agent);
  if (!hd_dbus_manager_call_detach_sync (ctl->manager, name,
                                         build_options (driver, group, force, interactive),
                                         &devices, NULL, &error))
    return hd_ctl_fail (error);

  if (devices == NULL || devices[0] == NULL)
    g_print (_("%s was detached already (on %s); nothing changed\n"), name,
             hd_or_dash (hd_dbus_device_get_driver (dev)));
  for (guint i = 0; devices != NULL && devices[i] != NULL; i++)
    {
      g_autofree char *detached = hd_ctl_name_of (ctl, devices[i]);

      g_print (_("Detached %s (to %s)\n"), detached, stub_driver (driver));
    }
  return HD_CTL_EXIT_OK;
}

int
hd_ctl_cmd_reattach (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDBusDevice) dev = NULL;
  g_autoptr(HdCtlAgent) agent = NULL;
  g_autofree char *name = NULL;
  gboolean no_ask = FALSE;
  gboolean interactive;
  const GOptionEntry entries[] = {
    { "no-ask", 0, 0, G_OPTION_ARG_NONE, &no_ask,
      N_("Never ask for a password; fail unless already authorized"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 1);
  g_autofree char *original = NULL;

  if (status >= 0)
    return status;
  name = prepare (ctl, argv[1], &dev, &error);
  if (name == NULL)
    return hd_ctl_fail (error);
  /* Read before the call: the daemon forgets it once the device is back. */
  if (hd_dbus_device_get_detached (dev))
    original = hd_dbus_device_dup_original_driver (dev);
  interactive = hd_ctl_agent_start (no_ask, &agent);
  if (!hd_dbus_manager_call_re_attach_sync (ctl->manager, name,
                                            build_options (NULL, FALSE, FALSE, interactive),
                                            NULL, &error))
    return hd_ctl_fail (error);

  if (original != NULL && original[0] != '\0')
    g_print (_("Reattached %s (to %s)\n"), name, original);
  else
    g_print (_("Reattached %s\n"), name);
  return HD_CTL_EXIT_OK;
}

int
hd_ctl_cmd_reset (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDBusDevice) dev = NULL;
  g_autoptr(HdCtlAgent) agent = NULL;
  g_autofree char *name = NULL;
  g_autofree char *method = NULL;
  gboolean force = FALSE;
  gboolean no_ask = FALSE;
  gboolean interactive;
  const GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      N_("Reset even though the host uses the device"), NULL },
    { "no-ask", 0, 0, G_OPTION_ARG_NONE, &no_ask,
      N_("Never ask for a password; fail unless already authorized"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 1);

  if (status >= 0)
    return status;
  name = prepare (ctl, argv[1], &dev, &error);
  if (name == NULL)
    return hd_ctl_fail (error);
  interactive = hd_ctl_agent_start (no_ask, &agent);
  if (!hd_dbus_manager_call_reset_sync (ctl->manager, name,
                                        build_options (NULL, FALSE, force, interactive),
                                        &method, NULL, &error))
    return hd_ctl_fail (error);

  g_print (_("Reset %s (method: %s)\n"), name, hd_or_dash (method));
  return HD_CTL_EXIT_OK;
}
