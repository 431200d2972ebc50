/* hostdevctl set-virt-use-sysfs: SELinux's virt_use_sysfs for domains that
 * use pci-stub or pciback (the `setsebool -P virt_use_sysfs 1` of the old
 * guides).  The daemon decides and does it; polkit guards it. */
#include "config.h"

#include <glib/gi18n.h>

#include "hostdevctl-agent.h"
#include "hostdevctl-format.h"

int
hd_ctl_cmd_set_virt_use_sysfs (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdCtlAgent) agent = NULL;
  HdDBusManager *manager;
  GVariantDict options;
  gboolean no_ask = FALSE;
  gboolean changed = FALSE;
  const GOptionEntry entries[] = {
    { "no-ask", 0, 0, G_OPTION_ARG_NONE, &no_ask,
      N_("Never ask for a password; fail unless already authorized"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 0);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error) || (manager = hd_ctl_get_manager (ctl, &error)) == NULL)
    return hd_ctl_fail (error);
  g_variant_dict_init (&options, NULL);
  if (hd_ctl_agent_start (no_ask, &agent))
    g_variant_dict_insert (&options, "interactive", "b", TRUE);
  if (!hd_dbus_manager_call_enable_virt_use_sysfs_sync (manager, g_variant_dict_end (&options), &changed,
                                                        NULL, &error))
    return hd_ctl_fail (error);
  g_print (changed ? _("SELinux boolean virt_use_sysfs turned on, now and after reboots\n")
                   : _("Nothing to do: virt_use_sysfs is on already, or SELinux is disabled\n"));
  return HD_CTL_EXIT_OK;
}
