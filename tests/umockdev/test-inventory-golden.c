/* Golden tests: on each testbed under tests/data/testbeds, the inventory
 * must produce exactly the node devices, parents and XML that real
 * libvirtd 9.0 printed for that topology (expected/), and every document
 * must validate against libvirt's nodedev.rng. */
#include "config.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "nodedev/inventory.h"
#include "testbed.h"
#include "xml/nodedev-xml.h"

#define NODEDEV_RNG "/usr/share/libvirt/schemas/nodedev.rng"

typedef struct {
  xmlRelaxNGPtr schema;
} Fixture;

static Fixture fixture;

static void
assert_valid (const char *name, const char *xml)
{
  xmlDocPtr doc = xmlReadMemory (xml, (int) strlen (xml), name, NULL, XML_PARSE_NONET);
  xmlRelaxNGValidCtxtPtr ctxt;
  int rc;

  g_assert_nonnull (doc);
  ctxt = xmlRelaxNGNewValidCtxt (fixture.schema);
  rc = xmlRelaxNGValidateDoc (ctxt, doc);
  xmlRelaxNGFreeValidCtxt (ctxt);
  xmlFreeDoc (doc);
  if (rc != 0)
    g_error ("%s does not validate against %s:\n%s", name, NODEDEV_RNG, xml);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static void
test_golden (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(UMockdevTestbed) bed = hd_test_testbed_load (name, &error);
  g_autoptr(HdInventory) inventory = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *expected_dir = g_build_filename (hd_test_testbeds_dir (), name, "expected", NULL);
  g_autofree char *tree_file = g_build_filename (expected_dir, "tree.txt", NULL);
  g_autofree char *expected_tree = NULL;
  g_autoptr(GString) tree = g_string_new (NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  const char *entry;
  guint n_expected = 0;

  g_assert_no_error (error);
  g_assert_nonnull (bed);
  inventory = hd_inventory_new (TRUE, &error);
  g_assert_no_error (error);

  /* Every device libvirt printed, byte for byte. */
  dir = g_dir_open (expected_dir, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *devname = NULL;
      g_autofree char *path = NULL;
      g_autofree char *expected = NULL;
      g_autofree char *actual = NULL;
      g_autoptr(HdNodeDevice) dev = NULL;

      if (!g_str_has_suffix (entry, ".xml"))
        continue;
      n_expected++;
      devname = g_strndup (entry, strlen (entry) - 4);
      path = g_build_filename (expected_dir, entry, NULL);
      g_assert_true (g_file_get_contents (path, &expected, NULL, NULL));

      dev = hd_inventory_refresh (inventory, devname);
      if (dev == NULL)
        g_error ("%s: libvirt has %s, the inventory does not", name, devname);
      actual = hd_nodedev_xml_format (dev);
      g_assert_cmpstr (actual, ==, expected);
      assert_valid (devname, actual);
    }

  /* …and no device libvirt does not have. */
  g_assert_cmpuint (hd_inventory_get_n_devices (inventory), ==, n_expected);

  devices = hd_inventory_list (inventory);
  for (guint i = 0; i < devices->len; i++)
    {
      HdNodeDevice *dev = g_ptr_array_index (devices, i);
      g_ptr_array_add (lines, g_strdup_printf ("%s %s", dev->name, dev->parent ? dev->parent : "-"));
    }
  g_ptr_array_sort (lines, compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (tree, "%s\n", (char *) g_ptr_array_index (lines, i));
  g_assert_true (g_file_get_contents (tree_file, &expected_tree, NULL, NULL));
  g_assert_cmpstr (tree->str, ==, expected_tree);

  g_assert_cmpuint (hd_inventory_get_n_enumerations (inventory), ==, 1);
}

int
main (int argc, char **argv)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  xmlRelaxNGParserCtxtPtr parser;
  const char *entry;
  int rc;

  g_test_init (&argc, &argv, NULL);

  parser = xmlRelaxNGNewParserCtxt (NODEDEV_RNG);
  fixture.schema = xmlRelaxNGParse (parser);
  xmlRelaxNGFreeParserCtxt (parser);
  g_assert_nonnull (fixture.schema);

  dir = g_dir_open (hd_test_testbeds_dir (), 0, NULL);
  g_assert_nonnull (dir);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *expected = g_build_filename (hd_test_testbeds_dir (), entry, "expected", "tree.txt", NULL);
      g_autofree char *devices = g_build_filename (hd_test_testbeds_dir (), entry, "devices.umockdev", NULL);
      if (g_file_test (expected, G_FILE_TEST_EXISTS) && g_file_test (devices, G_FILE_TEST_EXISTS))
        g_ptr_array_add (names, g_strdup (entry));
    }
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/inventory/golden/%s", (char *) g_ptr_array_index (names, i));
      g_test_add_data_func (path, g_ptr_array_index (names, i), test_golden);
    }

  rc = g_test_run ();
  xmlRelaxNGFree (fixture.schema);
  return rc;
}
