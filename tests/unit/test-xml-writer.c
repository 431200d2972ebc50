#include "config.h"

#include <glib/gstdio.h>

#include "xml/xml-writer.h"
#include "nodedev/sysfs.h"

static void
test_escape (void)
{
  g_autofree char *s = hd_xml_escape ("a<b>&\"'\x01\x19\t\n\r\x1a z");

  /* libvirt drops 0x01-0x19 except tab/LF/CR, and lets 0x1a-0x1f through. */
  g_assert_cmpstr (s, ==, "a&lt;b&gt;&amp;&quot;&apos;\t\n\r\x1a z");
}

static void
test_indent (void)
{
  g_auto(HdXmlWriter) w = { 0 };
  g_autofree char *out = NULL;

  hd_xml_writer_init (&w);
  hd_xml_writer_printf (&w, "<a>\n");
  hd_xml_writer_indent (&w, 2);
  hd_xml_writer_printf (&w, "<b id='%d'", 1);
  hd_xml_writer_escape (&w, ">", "x&y", "</b>\n");
  hd_xml_writer_escape (&w, "<c>", NULL, "</c>\n");
  hd_xml_writer_indent (&w, -2);
  hd_xml_writer_printf (&w, "</a>\n");
  out = hd_xml_writer_finish (&w);
  g_assert_cmpstr (out, ==, "<a>\n  <b id='1'>x&amp;y</b>\n</a>\n");
}

/* kernfs readdir order, checked against directories of a real kernel
 * (tests/data/testbeds/vm-q35/iommu-readdir.txt has the full record). */
static void
test_kernfs_hash_order (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kernfs-XXXXXX", NULL);
  const char *names[] = { "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3" };
  g_autoptr(GPtrArray) listed = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_assert_true (g_file_set_contents (p, "", 0, NULL));
    }
  listed = hd_sysfs_list_dir (dir, NULL);
  g_assert_cmpuint (listed->len, ==, 3);
  for (guint i = 1; i < listed->len; i++)
    g_assert_cmpuint (hd_kernfs_name_hash (g_ptr_array_index (listed, i - 1)), <=,
                      hd_kernfs_name_hash (g_ptr_array_index (listed, i)));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/xml-writer/escape", test_escape);
  g_test_add_func ("/xml-writer/indent", test_indent);
  g_test_add_func ("/sysfs/kernfs-hash-order", test_kernfs_hash_order);
  return g_test_run ();
}
