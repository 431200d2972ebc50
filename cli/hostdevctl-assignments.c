/* hostdevctl assignments: which domain has which device — from libvirt's
 * domains and from Assign() — and what is wrong with that. */
#include "config.h"

#include <glib/gi18n.h>

#include "hostdevctl-format.h"

int
hd_ctl_cmd_assignments (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdTable) table = NULL;
  HdDBusManager *manager;
  GVariant *assignments, *conflicts;
  GVariantIter iter;
  const char *domain, *uri, *state, *path, *driver, *kind, *message;
  gboolean managed, autostart, is_error;
  g_autofree char **domains = NULL;
  int status = hd_ctl_parse_options (ctl, NULL, &argc, &argv, 0);
  guint n_errors = 0;

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error) || (manager = hd_ctl_get_manager (ctl, &error)) == NULL)
    return hd_ctl_fail (error);
  assignments = hd_dbus_manager_dup_assignments (manager);
  conflicts = hd_dbus_manager_dup_conflicts (manager);
  if (assignments == NULL || conflicts == NULL)
    {
      g_clear_pointer (&assignments, g_variant_unref);
      g_clear_pointer (&conflicts, g_variant_unref);
      g_printerr (_("hostdevctl: this hostdevd does not report assignments\n"));
      return HD_CTL_EXIT_NOT_SUPPORTED;
    }
  if (g_variant_n_children (assignments) == 0)
    g_print (_("No domain names a PCI device.\n"));
  else
    {
      table = hd_table_new (7, _("DOMAIN"), _("SOURCE"), _("STATE"), _("DEVICE"), _("MANAGED"), _("DRIVER"),
                            _("AUTOSTART"));
      g_variant_iter_init (&iter, assignments);
      while (g_variant_iter_next (&iter, "(&s&s&s&ob&sb)", &domain, &uri, &state, &path, &managed, &driver,
                                  &autostart))
        {
          g_autofree char *device = hd_ctl_name_of (ctl, path);

          hd_table_add (table, HD_STYLE_NONE, domain);
          hd_table_add (table, HD_STYLE_NONE, uri);
          hd_table_add (table, g_str_equal (state, "running") ? HD_STYLE_GREEN : HD_STYLE_NONE, state);
          hd_table_add (table, HD_STYLE_NONE, device);
          hd_table_add (table, HD_STYLE_NONE, managed ? _("yes") : _("no"));
          hd_table_add (table, HD_STYLE_NONE, driver);
          hd_table_add (table, HD_STYLE_NONE, autostart ? _("yes") : _("no"));
        }
      hd_table_print (table, ctl);
    }
  g_variant_iter_init (&iter, conflicts);
  while (g_variant_iter_next (&iter, "(&sb&o^a&s&s)", &kind, &is_error, &path, &domains, &message))
    {
      HdStyle style = is_error ? HD_STYLE_RED : HD_STYLE_YELLOW;

      g_clear_pointer (&domains, g_free);
      n_errors += is_error;
      g_print ("%s%s%s: %s\n", hd_style_on (ctl, style), is_error ? _("conflict") : _("warning"),
               hd_style_off (ctl, style), message);
    }
  g_variant_unref (assignments);
  g_variant_unref (conflicts);
  /* A conflict means a domain will not start: say so in the status. */
  return n_errors > 0 ? HD_CTL_EXIT_IN_USE : HD_CTL_EXIT_OK;
}
