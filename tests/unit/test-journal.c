/* The state journal: records survive a reload field for field, removal
 * forgets them, files that are not records are set aside, leftovers of an
 * interrupted write are ignored. */
#include "config.h"

#include <glib/gstdio.h>

#include "hostdev/journal.h"

typedef struct {
  char *dir;
  HdJournal *journal;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("hostdevd-journal-XXXXXX", &error);

  g_assert_no_error (error);
  f->dir = g_build_filename (tmp, "state", "nested", NULL);
  f->journal = hd_journal_open (f->dir, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *top = g_path_get_dirname (f->dir);
  g_autofree char *tmp = g_path_get_dirname (top);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", tmp);

  hd_journal_free (f->journal);
  g_assert_cmpint (system (rm), ==, 0);
  g_free (f->dir);
}

static HdJournalRecord *
sample (const char *addr, HdJournalState state)
{
  HdPciAddress a;
  HdJournalRecord *r;

  g_assert_true (hd_pci_address_parse (addr, &a));
  r = hd_journal_record_new (&a);
  r->state = state;
  r->step = g_strdup ("unbind");
  r->stub = g_strdup ("vfio-pci");
  r->original_driver = g_strdup ("e1000e");
  r->owner = g_strdup ("libvirt client uid=0");
  r->transaction = g_strdup ("t1");
  r->updated = 1234;
  return r;
}

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  g_autoptr(HdJournalRecord) a = sample ("0000:02:01.0", HD_JOURNAL_DETACHING);
  g_autoptr(HdJournalRecord) b = sample ("0000:01:00.0", HD_JOURNAL_DETACHED);
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  HdJournalRecord *r;

  g_assert_cmpint (g_stat (f->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  b->new_id_route = TRUE;
  g_clear_pointer (&b->original_driver, g_free);
  b->original_override = g_strdup ("igb");
  g_assert_true (hd_journal_write (f->journal, a, &error));
  g_assert_true (hd_journal_write (f->journal, b, &error));

  records = hd_journal_load (f->journal, bad, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bad->len, ==, 0);
  g_assert_cmpuint (records->len, ==, 2);
  r = g_ptr_array_index (records, 0);   /* address order */
  g_assert_cmpuint (r->address.bus, ==, 1);
  g_assert_cmpint (r->state, ==, HD_JOURNAL_DETACHED);
  g_assert_null (r->original_driver);
  g_assert_cmpstr (r->original_override, ==, "igb");
  g_assert_true (r->new_id_route);
  r = g_ptr_array_index (records, 1);
  g_assert_cmpint (r->state, ==, HD_JOURNAL_DETACHING);
  g_assert_cmpstr (r->step, ==, "unbind");
  g_assert_cmpstr (r->stub, ==, "vfio-pci");
  g_assert_cmpstr (r->original_driver, ==, "e1000e");
  g_assert_cmpstr (r->owner, ==, "libvirt client uid=0");
  g_assert_cmpstr (r->transaction, ==, "t1");
  g_assert_cmpint (r->updated, ==, 1234);
  g_assert_false (r->new_id_route);

  g_assert_true (hd_journal_remove (f->journal, &a->address, &error));
  g_assert_true (hd_journal_remove (f->journal, &a->address, &error));   /* twice is fine */
  g_clear_pointer (&records, g_ptr_array_unref);
  records = hd_journal_load (f->journal, bad, &error);
  g_assert_cmpuint (records->len, ==, 1);
}

static void
put (Fixture *f, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
}

static void
test_bad_records (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *aside = g_build_filename (f->dir, "0000:00:01.0.bad", NULL);

  put (f, "0000:00:01.0", "not a key file");
  put (f, "0000:00:02.0", "[device]\naddress=0000:00:03.0\nstate=detached\nstub=vfio-pci\n");
  put (f, "0000:00:04.0", "[device]\naddress=0000:00:04.0\nstate=sideways\nstub=vfio-pci\n");
  put (f, "0000:00:05.0", "[device]\naddress=0000:00:05.0\nstate=detached\n");
  put (f, "0000:00:06.0.ABC123", "[device]\naddress=0000:00:06.0\n");   /* a temporary file */
  put (f, "0000:00:08.0.bad", "set aside earlier");
  put (f, "../escape", "x");
  put (f, "0000:00:07.0", "[device]\naddress=0000:00:07.0\nstate=detached\nstub=pci-stub\n");

  records = hd_journal_load (f->journal, bad, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpuint (((HdJournalRecord *) g_ptr_array_index (records, 0))->address.slot, ==, 7);
  g_assert_cmpuint (bad->len, ==, 4);
  g_assert_true (g_file_test (aside, G_FILE_TEST_EXISTS));
  {
    g_autofree char *tmp = g_build_filename (f->dir, "0000:00:06.0.ABC123", NULL);
    g_autofree char *old_bad = g_build_filename (f->dir, "0000:00:08.0.bad", NULL);

    g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));   /* removed */
    g_assert_true (g_file_test (old_bad, G_FILE_TEST_EXISTS)); /* kept for the admin */
  }
  /* Set aside once, not reported again. */
  g_ptr_array_set_size (bad, 0);
  g_clear_pointer (&records, g_ptr_array_unref);
  records = hd_journal_load (f->journal, bad, &error);
  g_assert_cmpuint (bad->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/journal/roundtrip", Fixture, NULL, setup, test_roundtrip, teardown);
  g_test_add ("/journal/bad-records", Fixture, NULL, setup, test_bad_records, teardown);
  return g_test_run ();
}
