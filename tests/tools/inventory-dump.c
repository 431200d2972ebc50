/* Writes what hostdevd's inventory serves, in the layout
 * tests/data/testbeds/record-oracle.py uses for real libvirtd: one NAME.xml
 * per node device and tree.txt ("NAME PARENT", sorted).  The two
 * directories can then be compared with diff -r. */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>

#include "nodedev/inventory.h"
#include "xml/nodedev-xml.h"

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdInventory) inventory = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) tree = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) tree_text = g_string_new (NULL);
  g_autofree char *tree_path = NULL;

  /* "--help" is no directory to write into */
  if (argc != 2 || argv[1][0] == '-')
    {
      g_printerr ("usage: %s OUTDIR\n", argv[0]);
      return 2;
    }
  if (g_mkdir_with_parents (argv[1], 0755) < 0)
    {
      g_printerr ("cannot create %s\n", argv[1]);
      return 1;
    }

  inventory = hd_inventory_new (geteuid () == 0, &error);
  if (inventory == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  devices = hd_inventory_list (inventory);
  for (guint i = 0; i < devices->len; i++)
    {
      HdNodeDevice *dev = g_ptr_array_index (devices, i);
      g_autoptr(HdNodeDevice) fresh = hd_inventory_refresh (inventory, dev->name);
      g_autofree char *xml = hd_nodedev_xml_format (fresh);
      g_autofree char *file = g_strdup_printf ("%s/%s.xml", argv[1], dev->name);

      if (!g_file_set_contents (file, xml, -1, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      g_ptr_array_add (tree, g_strdup_printf ("%s %s", dev->name, dev->parent ? dev->parent : "-"));
    }
  g_ptr_array_sort (tree, compare_strings);
  for (guint i = 0; i < tree->len; i++)
    g_string_append_printf (tree_text, "%s\n", (char *) g_ptr_array_index (tree, i));
  tree_path = g_build_filename (argv[1], "tree.txt", NULL);
  if (!g_file_set_contents (tree_path, tree_text->str, -1, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  return 0;
}
