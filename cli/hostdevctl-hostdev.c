/* hostdevctl hostdev-xml: what to put in a VM's configuration for a
 * device — libvirt's <hostdev> element, an xl.cfg pci line, or QEMU's
 * -device argument.  The daemon writes it (Device.GetHostdev). */
#include "config.h"

#include <glib/gi18n.h>

#include "hostdevctl.h"

int
hd_ctl_cmd_hostdev_xml (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDBusDevice) dev = NULL;
  g_autofree char *text = NULL;
  g_autofree char *format = NULL;
  g_autofree char *driver = NULL;
  gboolean unmanaged = FALSE;
  GVariantDict options;
  const GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      N_("libvirt (the <hostdev> element, the default), xl (an xl.cfg pci line) or qemu (a -device argument)"),
      N_("FORMAT") },
    { "driver", 0, 0, G_OPTION_ARG_STRING, &driver,
      N_("The driver the VM's host uses: vfio (the default), kvm or xen"), N_("NAME") },
    { "unmanaged", 0, 0, G_OPTION_ARG_NONE, &unmanaged,
      N_("managed='no': libvirt will not detach the device itself when the VM starts"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 1);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error) || (dev = hd_ctl_find_device (ctl, argv[1], &error)) == NULL)
    return hd_ctl_fail (error);
  g_variant_dict_init (&options, NULL);
  if (format != NULL)
    g_variant_dict_insert (&options, "format", "s", format);
  if (driver != NULL)
    g_variant_dict_insert (&options, "driver", "s", driver);
  if (unmanaged)
    g_variant_dict_insert (&options, "managed", "b", FALSE);
  if (!hd_dbus_device_call_get_hostdev_sync (dev, g_variant_dict_end (&options), &text, NULL, &error))
    return hd_ctl_fail (error);
  g_print ("%s%s", text, g_str_has_suffix (text, "\n") ? "" : "\n");
  return HD_CTL_EXIT_OK;
}
