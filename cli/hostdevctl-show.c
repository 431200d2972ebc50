/* hostdevctl show and dumpxml: one device, and why it can or cannot be
 * detached (Manager.Preview, which changes nothing). */
#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "hostdevctl-format.h"

/* "Label:" and its value lines, printed with the values aligned. */
typedef struct {
  char *label;
  GPtrArray *lines;   /* char * */
} Field;

static void
field_free (gpointer data)
{
  Field *field = data;

  g_free (field->label);
  g_ptr_array_unref (field->lines);
  g_free (field);
}

static Field *
add_field (GPtrArray *fields, const char *label, const char *value)
{
  Field *field = g_new0 (Field, 1);

  field->label = g_strdup_printf ("%s:", label);
  field->lines = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (field->lines, g_strdup (hd_or_dash (value)));
  g_ptr_array_add (fields, field);
  return field;
}

static void
print_fields (GPtrArray *fields)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint width = 0;

  for (guint i = 0; i < fields->len; i++)
    width = MAX (width, hd_text_width (((Field *) fields->pdata[i])->label));
  for (guint i = 0; i < fields->len; i++)
    {
      Field *field = fields->pdata[i];

      for (guint j = 0; j < field->lines->len; j++)
        {
          const char *label = j == 0 ? field->label : "";

          g_string_append_printf (out, "%s%*s  %s\n", label, (int) (width - hd_text_width (label)), "",
                                  (const char *) field->lines->pdata[j]);
        }
    }
  fputs (out->str, stdout);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Names of the devices at @paths, sorted (names sort as addresses do). */
static char *
names_of (HdCtl *ctl, const char *const *paths, const char *separator)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
    g_ptr_array_add (names, hd_ctl_name_of (ctl, paths[i]));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (separator, (char **) names->pdata);
}

static const char *
yes_no (gboolean value)
{
  return value ? _("yes") : _("no");
}

static void
add_identity (HdCtl *ctl, GPtrArray *fields, HdDBusDevice *dev)
{
  const char *vendor = hd_dbus_device_get_vendor_name (dev);
  const char *product = hd_dbus_device_get_product_name (dev);
  const char *class_label = hd_pci_class_label (hd_dbus_device_get_class (dev));
  g_autofree char *parent = hd_ctl_name_of (ctl, hd_dbus_device_get_parent (dev));
  g_autofree char *vendor_text = g_strdup_printf ("%s%s[%04x]", vendor, vendor[0] ? " " : "",
                                                  hd_dbus_device_get_vendor_id (dev));
  g_autofree char *product_text = g_strdup_printf ("%s%s[%04x]", product, product[0] ? " " : "",
                                                   hd_dbus_device_get_product_id (dev));
  g_autofree char *class_text = NULL;

  if (hd_dbus_device_get_class (dev) >= 0)
    class_text = g_strdup_printf ("0x%06x%s%s%s", (guint) hd_dbus_device_get_class (dev),
                                  class_label ? " (" : "", class_label ? class_label : "", class_label ? ")" : "");
  add_field (fields, _("Address"), hd_dbus_device_get_address (dev));
  add_field (fields, _("Parent"), g_str_equal (hd_dbus_device_get_parent (dev), "/") ? NULL : parent);
  add_field (fields, _("Vendor"), vendor_text);
  add_field (fields, _("Product"), product_text);
  add_field (fields, _("Class"), class_text);
}

static void
add_drivers (GPtrArray *fields, HdDBusDevice *dev)
{
  const char *original = hd_dbus_device_get_original_driver (dev);
  g_autofree char *detached = NULL;

  if (hd_dbus_device_get_detached (dev) && original[0] != '\0')
    detached = g_strdup_printf (_("yes, from %s"), original);
  add_field (fields, _("Driver"), hd_dbus_device_get_driver (dev));
  add_field (fields, _("Driver override"), hd_dbus_device_get_driver_override (dev));
  add_field (fields, _("Detached"), detached ? detached : yes_no (hd_dbus_device_get_detached (dev)));
}

static void
add_topology (HdCtl *ctl, GPtrArray *fields, HdDBusDevice *dev)
{
  g_autofree char *members = names_of (ctl, hd_dbus_device_get_iommu_group_members (dev), ", ");
  g_autofree char *group = NULL;
  g_autofree char *numa = NULL;
  g_autofree char *resets = NULL;
  const char *const *vfs = hd_dbus_device_get_virt_functions (dev);
  guint n_vfs = vfs != NULL ? g_strv_length ((char **) vfs) : 0;
  const char *pf = hd_dbus_device_get_phys_function (dev);
  Field *sriov;

  if (hd_dbus_device_get_iommu_group (dev) >= 0)
    group = g_strdup_printf ("%d (%s)", hd_dbus_device_get_iommu_group (dev), members);
  if (hd_dbus_device_get_numa_node (dev) >= 0)
    numa = g_strdup_printf ("%d", hd_dbus_device_get_numa_node (dev));
  resets = g_strjoinv (" ", (char **) hd_dbus_device_get_reset_methods (dev));
  add_field (fields, _("IOMMU group"), group);
  add_field (fields, _("NUMA node"), numa);

  if (hd_dbus_device_get_max_virt_functions (dev) > 0)
    {
      g_autofree char *text = g_strdup_printf (_("physical function, %u of %u virtual functions enabled"),
                                               n_vfs, hd_dbus_device_get_max_virt_functions (dev));
      g_autofree char *names = names_of (ctl, vfs, "\n");
      g_auto(GStrv) lines = n_vfs > 0 ? g_strsplit (names, "\n", -1) : NULL;

      sriov = add_field (fields, _("SR-IOV"), text);
      for (guint i = 0; lines != NULL && lines[i] != NULL; i++)
        g_ptr_array_add (sriov->lines, g_strdup (lines[i]));
    }
  else if (pf != NULL && !g_str_equal (pf, "/"))
    {
      g_autofree char *name = hd_ctl_name_of (ctl, pf);
      g_autofree char *text = g_strdup_printf (_("virtual function of %s"), name);

      add_field (fields, _("SR-IOV"), text);
    }
  else
    add_field (fields, _("SR-IOV"), _("no"));
  add_field (fields, _("Reset methods"), resets);
  add_field (fields, _("Boot VGA"), yes_no (hd_dbus_device_get_boot_vga (dev)));
}

/* What Manager.Preview said for one set of options. */
typedef struct {
  char *verdict;
  char *stub;
  GVariant *takes;
  GVariant *blockers;
  GVariant *stays;
  char **host_uses;
  char **reasons;
} Preview;

static void
preview_clear (Preview *p)
{
  g_clear_pointer (&p->verdict, g_free);
  g_clear_pointer (&p->stub, g_free);
  g_clear_pointer (&p->takes, g_variant_unref);
  g_clear_pointer (&p->blockers, g_variant_unref);
  g_clear_pointer (&p->stays, g_variant_unref);
  g_clear_pointer (&p->host_uses, g_strfreev);
  g_clear_pointer (&p->reasons, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Preview, preview_clear)

static gboolean
preview (HdCtl *ctl, HdDBusDevice *dev, gboolean group, Preview *p, GError **error)
{
  HdDBusManager *manager = hd_ctl_get_manager (ctl, error);
  GVariantDict options;

  if (manager == NULL)
    return FALSE;
  g_variant_dict_init (&options, NULL);
  if (group)
    g_variant_dict_insert (&options, "group", "b", TRUE);
  return hd_dbus_manager_call_preview_sync (manager, hd_dbus_device_get_name (dev), g_variant_dict_end (&options),
                                            &p->verdict, &p->stub, &p->takes, &p->blockers, &p->stays,
                                            &p->host_uses, &p->reasons, NULL, error);
}

static void
add_verdict (const HdCtl *ctl, GPtrArray *fields, const char *verdict, const char *const *reasons)
{
  HdStyle style = hd_verdict_style (verdict);
  g_autofree char *text = g_strdup_printf ("%s%s%s", hd_style_on (ctl, style), hd_verdict_label (verdict),
                                           hd_style_off (ctl, style));
  Field *field = add_field (fields, _("Verdict"), text);

  for (guint i = 0; reasons != NULL && reasons[i] != NULL; i++)
    g_ptr_array_add (field->lines, g_strdup (reasons[i]));
}

/* Preview's (object, address, driver, why) lists, under @heading, with
 * columns as wide as their widest cell. */
static void
append_members (HdCtl *ctl, GString *out, const char *heading, GVariant *members)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint widths[3] = { 0, 0, 0 };
  gsize n = members != NULL ? g_variant_n_children (members) : 0;

  if (n == 0)
    return;
  for (gsize i = 0; i < n; i++)
    {
      const char *path, *address, *driver, *why;

      g_variant_get_child (members, i, "(&o&s&s&s)", &path, &address, &driver, &why);
      g_ptr_array_add (names, hd_ctl_name_of (ctl, path));
      widths[0] = MAX (widths[0], (guint) strlen (names->pdata[i]));
      widths[1] = MAX (widths[1], (guint) strlen (address));
      widths[2] = MAX (widths[2], (guint) g_utf8_strlen (hd_or_dash (driver), -1));
    }
  g_string_append_printf (out, "\n%s\n", heading);
  for (gsize i = 0; i < n; i++)
    {
      const char *path, *address, *driver, *why;

      g_variant_get_child (members, i, "(&o&s&s&s)", &path, &address, &driver, &why);
      g_string_append_printf (out, "  %-*s  %-*s  %s%*s  %s\n", (int) widths[0], (const char *) names->pdata[i],
                              (int) widths[1], address, hd_or_dash (driver),
                              (int) (widths[2] - (guint) g_utf8_strlen (hd_or_dash (driver), -1)), "", why);
    }
}

static void
append_lines (GString *out, const char *heading, const char *const *lines)
{
  if (lines == NULL || lines[0] == NULL)
    return;
  g_string_append_printf (out, "\n%s\n", heading);
  for (guint i = 0; lines[i] != NULL; i++)
    g_string_append_printf (out, "  %s\n", lines[i]);
}

static gboolean
can_go (const char *verdict)
{
  return g_strcmp0 (verdict, "detachable") == 0 || g_strcmp0 (verdict, "in-use-by-host") == 0;
}

/* The sections under the fields: what a detach would do, and the command
 * line that would do it. */
static void
append_preview (HdCtl *ctl, GString *out, GPtrArray *fields, HdDBusDevice *dev, Preview *alone, Preview *group)
{
  /* When the device cannot go alone but its group can, the group's
   * preview is the one that tells what to do. */
  Preview *chosen = g_strcmp0 (alone->verdict, "needs-group") == 0 && can_go (group->verdict) ? group : alone;
  g_autofree char *takes = NULL;

  if (can_go (chosen->verdict))
    {
      gboolean force = g_str_equal (chosen->verdict, "in-use-by-host");
      g_autofree char *options = g_strdup_printf ("%s%s", chosen == group ? " --group" : "", force ? " --force" : "");

      /* A command line to copy is offered only for what is safe: --force
       * takes a device from the host (its root disk, say), and that
       * should be typed by someone who read why. */
      if (!force)
        {
          g_autofree char *command = g_strdup_printf ("hostdevctl detach%s %s", options,
                                                      hd_dbus_device_get_name (dev));

          add_field (fields, _("Detach with"), command);
          takes = g_strdup_printf (_("The detach would move these to %s:"), chosen->stub);
        }
      else
        takes = g_strdup_printf (_("With%s, a detach would move these to %s:"), options, chosen->stub);
      append_members (ctl, out, takes, chosen->takes);
    }
  append_members (ctl, out, _("A detach of the device alone would leave these on host drivers:"), alone->blockers);
  append_members (ctl, out, _("These stay where they are:"), chosen->stays);
  append_lines (out, _("The host uses:"), (const char *const *) chosen->host_uses);
}

static int
show_json (HdDBusDevice *dev)
{
  g_autoptr(GString) out = g_string_new (NULL);

  hd_json_append_device (out, dev, 0);
  g_string_append_c (out, '\n');
  fputs (out->str, stdout);
  return HD_CTL_EXIT_OK;
}

int
hd_ctl_cmd_show (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDBusDevice) dev = NULL;
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (field_free);
  g_autoptr(GString) sections = g_string_new (NULL);
  g_auto(Preview) alone = { 0 };
  g_auto(Preview) group = { 0 };
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the device's properties as a JSON object"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 1);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error))
    return hd_ctl_fail (error);
  dev = hd_ctl_find_device (ctl, argv[1], &error);
  if (dev == NULL)
    return hd_ctl_fail (error);
  if (json)
    return show_json (dev);

  add_field (fields, _("Name"), hd_dbus_device_get_name (dev));
  /* computer is the root of the tree and nothing more. */
  if (hd_dbus_device_get_address (dev)[0] == '\0')
    {
      add_field (fields, _("Sysfs path"), hd_dbus_device_get_sysfs_path (dev));
      print_fields (fields);
      return HD_CTL_EXIT_OK;
    }
  add_identity (ctl, fields, dev);
  add_drivers (fields, dev);
  add_topology (ctl, fields, dev);
  add_field (fields, _("Sysfs path"), hd_dbus_device_get_sysfs_path (dev));

  /* The Verdict property is re-evaluated on changes; Preview is computed
   * now, and says what a detach would take.  Without it (an older daemon,
   * say), the property still answers. */
  if (!preview (ctl, dev, FALSE, &alone, &error))
    {
      g_dbus_error_strip_remote_error (error);
      add_verdict (ctl, fields, hd_dbus_device_get_verdict (dev), hd_dbus_device_get_verdict_reasons (dev));
      g_string_append_printf (sections, "\n%s\n  %s\n", _("What a detach would do is not known:"), error->message);
    }
  else
    {
      add_verdict (ctl, fields, alone.verdict, (const char *const *) alone.reasons);
      if (g_str_equal (alone.verdict, "needs-group") && !preview (ctl, dev, TRUE, &group, &error))
        {
          g_dbus_error_strip_remote_error (error);
          g_string_append_printf (sections, "\n%s\n  %s\n", _("What a detach of the group would do is not known:"),
                                  error->message);
          g_clear_error (&error);
        }
      append_preview (ctl, sections, fields, dev, &alone, &group);
    }
  print_fields (fields);
  fputs (sections->str, stdout);
  return HD_CTL_EXIT_OK;
}

int
hd_ctl_cmd_dumpxml (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdDBusDevice) dev = NULL;
  g_autofree char *xml = NULL;
  int status = hd_ctl_parse_options (ctl, NULL, &argc, &argv, 1);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error))
    return hd_ctl_fail (error);
  dev = hd_ctl_find_device (ctl, argv[1], &error);
  if (dev == NULL)
    return hd_ctl_fail (error);
  if (!hd_dbus_device_call_get_xmldesc_sync (dev, &xml, NULL, &error))
    return hd_ctl_fail (error);
  /* The method leaves the final newline to the printer, as virsh does. */
  g_print ("%s\n", xml);
  return HD_CTL_EXIT_OK;
}
