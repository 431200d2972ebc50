/* hostdevctl validate: is this host ready for PCI passthrough, and if
 * not, what exactly to do.  The daemon reads the host (Manager.Validate);
 * this file only writes the answer, for people or as JSON. */
#include "config.h"

#include <glib/gi18n.h>

#include "hostdevctl-format.h"

static HdStyle
status_style (const char *status)
{
  if (g_str_equal (status, "pass"))
    return HD_STYLE_GREEN;
  if (g_str_equal (status, "warn"))
    return HD_STYLE_YELLOW;
  if (g_str_equal (status, "fail"))
    return HD_STYLE_RED;
  return HD_STYLE_BLUE;
}

/* "PASS", "INFO", "WARN", "FAIL": the tokens of virt-host-validate. */
static char *
status_label (const char *status)
{
  return g_ascii_strup (status, -1);
}

static void
print_indented (const char *label, const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  /* Continuation lines line up under the first, however wide the
   * translated label is. */
  for (guint i = 0; lines[i] != NULL; i++)
    g_print ("        %s%*s%s\n", i == 0 ? label : "", i == 0 ? 0 : (int) hd_text_width (label), "", lines[i]);
}

static void
print_human (HdCtl *ctl, guint ready, GVariant *checks)
{
  GVariantIter iter;
  const char *id, *status, *title, *detail, *fix;

  g_variant_iter_init (&iter, checks);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &id, &status, &title, &detail, &fix))
    {
      g_autofree char *label = status_label (status);
      HdStyle style = status_style (status);

      g_print ("%s%-4s%s  %s", hd_style_on (ctl, style), label, hd_style_off (ctl, style), title);
      g_print (*detail != '\0' ? ": %s\n" : "%s\n", detail);
      if (*fix != '\0')
        /* TRANSLATORS: followed by the remedy, on the same line */
        print_indented (_("fix: "), fix);
    }
  g_print ("\n");
  if (ready == 0)
    g_print (_("This host is ready for PCI passthrough.\n"));
  else if (ready == 1)
    g_print (_("PCI passthrough works on this host, with the warnings above.\n"));
  else
    g_print (_("PCI passthrough cannot work on this host until the failures above are fixed.\n"));
}

static void
print_json (guint ready, GVariant *checks)
{
  static const char *const keys[] = { "id", "status", "title", "detail", "fix" };
  g_autoptr(GString) out = g_string_new ("{\n");
  gsize n = g_variant_n_children (checks);

  g_string_append_printf (out, "  \"ready\": %u,\n  \"checks\": [", ready);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) check = g_variant_get_child_value (checks, i);
      gboolean first = i == 0;

      g_string_append (out, first ? "\n    {" : ",\n    {");
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          g_autoptr(GVariant) field = g_variant_get_child_value (check, k);

          g_string_append_printf (out, "%s\n      \"%s\": ", k == 0 ? "" : ",", keys[k]);
          hd_json_append_string (out, g_variant_get_string (field, NULL));
        }
      g_string_append (out, "\n    }");
    }
  g_string_append (out, n == 0 ? "]\n}\n" : "\n  ]\n}\n");
  g_print ("%s", out->str);
}

int
hd_ctl_cmd_validate (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) checks = NULL;
  gboolean json = FALSE;
  guint ready = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the checks as a JSON object"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 0);
  HdDBusManager *manager;

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error) || (manager = hd_ctl_get_manager (ctl, &error)) == NULL ||
      !hd_dbus_manager_call_validate_sync (manager, &ready, &checks, NULL, &error))
    return hd_ctl_fail (error);
  if (json)
    print_json (ready, checks);
  else
    print_human (ctl, ready, checks);
  /* The readiness is the exit status: 0 ready, 1 warnings, 2 cannot work. */
  return (int) MIN (ready, 2);
}
