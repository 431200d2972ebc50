/* hostdevctl list and tree: every device from one GetManagedObjects. */
#include "config.h"

#include <stdio.h>

#include <glib/gi18n.h>

#include "hostdevctl-format.h"

static void
print_table (HdCtl *ctl, GPtrArray *devices)
{
  /* The column names are left untranslated, like ps's and lsblk's: scripts
   * cut on them. */
  g_autoptr(HdTable) table = hd_table_new (7, "NAME", "ADDRESS", "ID", "DRIVER", "GROUP", "VERDICT", "DEVICE");

  for (guint i = 0; i < devices->len; i++)
    {
      HdDBusDevice *dev = devices->pdata[i];
      const char *verdict = hd_dbus_device_get_verdict (dev);
      g_autofree char *ids = g_strdup_printf ("%04x:%04x", hd_dbus_device_get_vendor_id (dev),
                                              hd_dbus_device_get_product_id (dev));
      g_autofree char *group = hd_dbus_device_get_iommu_group (dev) < 0 ? NULL
                               : g_strdup_printf ("%d", hd_dbus_device_get_iommu_group (dev));

      hd_table_add (table, HD_STYLE_NONE, hd_dbus_device_get_name (dev));
      hd_table_add (table, HD_STYLE_NONE, hd_dbus_device_get_address (dev));
      hd_table_add (table, HD_STYLE_NONE, ids);
      hd_table_add (table, HD_STYLE_NONE, hd_dbus_device_get_driver (dev));
      hd_table_add (table, HD_STYLE_NONE, group);
      hd_table_add (table, hd_verdict_style (verdict), verdict);
      hd_table_add (table, HD_STYLE_NONE, hd_dbus_device_get_product_name (dev));
    }
  hd_table_print (table, ctl);
}

static void
print_json (GPtrArray *devices)
{
  g_autoptr(GString) out = g_string_new ("[");

  for (guint i = 0; i < devices->len; i++)
    {
      g_string_append (out, i > 0 ? ",\n  " : "\n  ");
      hd_json_append_device (out, devices->pdata[i], 2);
    }
  g_string_append (out, devices->len > 0 ? "\n]\n" : "]\n");
  fputs (out->str, stdout);
}

int
hd_ctl_cmd_list (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  gboolean json = FALSE;
  gboolean brief = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print a JSON array of the devices' properties"), NULL },
    { "brief", 0, 0, G_OPTION_ARG_NONE, &brief,
      N_("Print only each device's name and address, one device per line, without a header (for scripts and "
         "shell completion)"), NULL },
    { NULL }
  };
  int status = hd_ctl_parse_options (ctl, entries, &argc, &argv, 0);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error))
    return hd_ctl_fail (error);

  /* computer has no address, ids or driver: the table is about the PCI
   * functions (tree and show have computer). */
  devices = hd_ctl_list_devices (ctl, FALSE);
  if (json)
    print_json (devices);
  else if (brief)
    for (guint i = 0; i < devices->len; i++)
      g_print ("%s %s\n", hd_dbus_device_get_name (devices->pdata[i]),
               hd_dbus_device_get_address (devices->pdata[i]));
  else
    print_table (ctl, devices);
  return HD_CTL_EXIT_OK;
}

/* The node of a device in the tree: its children in address order. */
typedef struct {
  HdDBusDevice *device;
  GPtrArray *children;   /* Node */
} Node;

static void
node_free (gpointer data)
{
  Node *node = data;

  g_ptr_array_unref (node->children);
  g_free (node);
}

static char *
node_label (HdDBusDevice *dev)
{
  const char *driver = hd_dbus_device_get_driver (dev);

  if (hd_dbus_device_get_detached (dev))
    return g_strdup_printf (_("%s (%s, detached)"), hd_dbus_device_get_name (dev), hd_or_dash (driver));
  if (driver != NULL && driver[0] != '\0')
    return g_strdup_printf ("%s (%s)", hd_dbus_device_get_name (dev), driver);
  return g_strdup (hd_dbus_device_get_name (dev));
}

/* virsh's vshTreePrintInternal, line for line, so that the picture is the
 * one an admin knows from `virsh nodedev-list --tree`: "+- " before each
 * child, "|" continuing a parent's line while it has more children, a
 * "|" line before a device's children and an empty line after the last
 * device of a subtree. */
static void
print_node (GString *out, GString *indent, Node *node, gboolean root, gboolean last)
{
  g_autofree char *label = node_label (node->device);

  g_string_append_printf (out, "%s%s%s\n", indent->str, root ? "" : "+- ", label);
  if (!root)
    g_string_append (indent, last ? "  " : "| ");
  if (node->children->len > 0)
    g_string_append_printf (out, "%s  |\n", indent->str);
  g_string_append (indent, "  ");
  for (guint i = 0; i < node->children->len; i++)
    print_node (out, indent, node->children->pdata[i], FALSE, i + 1 == node->children->len);
  g_string_truncate (indent, indent->len - 2);
  if (node->children->len == 0 && last)
    {
      /* virsh ends the line with the indent's blanks; they would only
       * trouble diffs and editors. */
      g_autofree char *line = g_strdup (indent->str);

      g_string_append_printf (out, "%s\n", g_strchomp (line));
    }
  if (!root)
    g_string_truncate (indent, indent->len - 2);
}

int
hd_ctl_cmd_tree (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(GPtrArray) roots = NULL;
  g_autoptr(GHashTable) by_path = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) indent = g_string_new (NULL);
  int status = hd_ctl_parse_options (ctl, NULL, &argc, &argv, 0);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error))
    return hd_ctl_fail (error);

  devices = hd_ctl_list_devices (ctl, TRUE);
  nodes = g_ptr_array_new_with_free_func (node_free);
  roots = g_ptr_array_new ();
  by_path = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < devices->len; i++)
    {
      Node *node = g_new0 (Node, 1);

      node->device = devices->pdata[i];
      node->children = g_ptr_array_new ();
      g_ptr_array_add (nodes, node);
      g_hash_table_insert (by_path, (gpointer) g_dbus_proxy_get_object_path (G_DBUS_PROXY (node->device)), node);
    }
  /* devices is in address order, so every children array is too.  A
   * device whose parent is not a node device is a root, as in virsh. */
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = nodes->pdata[i];
      Node *parent = g_hash_table_lookup (by_path, hd_dbus_device_get_parent (node->device));

      g_ptr_array_add (parent != NULL && parent != node ? parent->children : roots, node);
    }
  for (guint i = 0; i < roots->len; i++)
    print_node (out, indent, roots->pdata[i], TRUE, TRUE);
  fputs (out->str, stdout);
  return HD_CTL_EXIT_OK;
}
