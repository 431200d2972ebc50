#include "config.h"

#include "journal.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nodedev/error.h"

#define GROUP "device"
/* A record is a few hundred bytes; anything much larger is not ours. */
#define RECORD_MAX (64 * 1024)

struct _HdJournal {
  char *dir;
};

static const char *const state_names[] = { "detaching", "detached", "reattaching" };

const char *
hd_journal_state_to_string (HdJournalState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), "invalid");
  return state_names[state];
}

HdJournalRecord *
hd_journal_record_new (const HdPciAddress *address)
{
  HdJournalRecord *r = g_new0 (HdJournalRecord, 1);

  r->address = *address;
  return r;
}

HdJournalRecord *
hd_journal_record_copy (const HdJournalRecord *src)
{
  HdJournalRecord *r = g_new0 (HdJournalRecord, 1);

  *r = *src;
  r->step = g_strdup (src->step);
  r->stub = g_strdup (src->stub);
  r->original_driver = g_strdup (src->original_driver);
  r->original_override = g_strdup (src->original_override);
  r->owner = g_strdup (src->owner);
  r->transaction = g_strdup (src->transaction);
  return r;
}

void
hd_journal_record_free (HdJournalRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->step);
  g_free (r->stub);
  g_free (r->original_driver);
  g_free (r->original_override);
  g_free (r->owner);
  g_free (r->transaction);
  g_free (r);
}

HdJournal *
hd_journal_open (const char *dir, GError **error)
{
  g_autoptr(HdJournal) j = g_new0 (HdJournal, 1);

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved = errno;

      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot create the state directory %s: %s"),
                   dir, g_strerror (saved));
      return NULL;
    }
  j->dir = g_strdup (dir);
  return g_steal_pointer (&j);
}

void
hd_journal_free (HdJournal *j)
{
  if (j == NULL)
    return;
  g_free (j->dir);
  g_free (j);
}

const char *
hd_journal_get_dir (HdJournal *j)
{
  return j->dir;
}

static char *
record_path (HdJournal *j, const HdPciAddress *address)
{
  g_autofree char *addr = hd_pci_address_to_string (address);

  return g_build_filename (j->dir, addr, NULL);
}

static void
set_opt (GKeyFile *kf, const char *key, const char *value)
{
  if (value != NULL)
    g_key_file_set_string (kf, GROUP, key, value);
}

gboolean
hd_journal_write (HdJournal *j, const HdJournalRecord *r, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = record_path (j, &r->address);
  g_autofree char *addr = hd_pci_address_to_string (&r->address);
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  g_key_file_set_string (kf, GROUP, "address", addr);
  g_key_file_set_string (kf, GROUP, "state", hd_journal_state_to_string (r->state));
  set_opt (kf, "step", r->step);
  set_opt (kf, "stub", r->stub);
  set_opt (kf, "original-driver", r->original_driver);
  set_opt (kf, "original-override", r->original_override);
  g_key_file_set_boolean (kf, GROUP, "new-id-route", r->new_id_route);
  set_opt (kf, "owner", r->owner);
  set_opt (kf, "transaction", r->transaction);
  g_key_file_set_int64 (kf, GROUP, "updated", r->updated ? r->updated : g_get_real_time ());
  data = g_key_file_to_data (kf, &len, NULL);
  /* CONSISTENT + DURABLE: a temporary file, fsync, rename.  A reader
   * after a crash sees the old record or the new one, never a torn one. */
  if (!g_file_set_contents_full (path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot write the state journal: %s"),
                   local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
hd_journal_remove (HdJournal *j, const HdPciAddress *address, GError **error)
{
  g_autofree char *path = record_path (j, address);

  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot remove %s from the state journal: %s"),
                   path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_state (const char *s, HdJournalState *state)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (s, state_names[i]) == 0)
      {
        *state = (HdJournalState) i;
        return TRUE;
      }
  return FALSE;
}

static char *
get_opt (GKeyFile *kf, const char *key)
{
  return g_key_file_get_string (kf, GROUP, key, NULL);
}

static HdJournalRecord *
parse_record (const char *path, const char *name, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *addr = NULL;
  g_autofree char *state = NULL;
  g_autoptr(HdJournalRecord) r = NULL;
  HdPciAddress address;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  if (len > RECORD_MAX || !g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, error))
    {
      if (error && *error == NULL)
        g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA, _("too large"));
      return NULL;
    }
  addr = get_opt (kf, "address");
  state = get_opt (kf, "state");
  if (addr == NULL || !hd_pci_address_parse (addr, &address) || !g_str_equal (addr, name))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA, _("the address does not match the file name"));
      return NULL;
    }
  r = hd_journal_record_new (&address);
  if (!parse_state (state, &r->state))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA, _("unknown state '%s'"), state ? state : "");
      return NULL;
    }
  r->step = get_opt (kf, "step");
  r->stub = get_opt (kf, "stub");
  r->original_driver = get_opt (kf, "original-driver");
  r->original_override = get_opt (kf, "original-override");
  r->new_id_route = g_key_file_get_boolean (kf, GROUP, "new-id-route", NULL);
  r->owner = get_opt (kf, "owner");
  r->transaction = get_opt (kf, "transaction");
  r->updated = g_key_file_get_int64 (kf, GROUP, "updated", NULL);
  if (r->stub == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA, _("no stub driver"));
      return NULL;
    }
  return g_steal_pointer (&r);
}

static gint
compare_records (gconstpointer a, gconstpointer b)
{
  const HdJournalRecord *ra = *(HdJournalRecord *const *) a;
  const HdJournalRecord *rb = *(HdJournalRecord *const *) b;

  return hd_pci_address_compare (&ra->address, &rb->address);
}

GPtrArray *
hd_journal_load (HdJournal *j, GPtrArray *bad, GError **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_journal_record_free);
  g_autoptr(GDir) dir = g_dir_open (j->dir, 0, error);
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (j->dir, name, NULL);
      g_autofree char *bad_path = NULL;
      g_autoptr(GError) local = NULL;
      HdPciAddress address;
      HdJournalRecord *r;

      if (!hd_pci_address_parse (name, &address))
        {
          const char *dot = strrchr (name, '.');
          g_autofree char *base = dot ? g_strndup (name, dot - name) : NULL;

          /* "ADDR.XXXXXX": the temporary file of a write that was
           * interrupted before its rename; the record it would have
           * replaced is still there.  Records set aside (.bad) stay. */
          if (base != NULL && strlen (dot + 1) == 6 && hd_pci_address_parse (base, &address))
            g_unlink (path);
          continue;
        }
      r = parse_record (path, name, &local);
      if (r != NULL)
        {
          g_ptr_array_add (records, r);
          continue;
        }
      bad_path = g_strconcat (path, ".bad", NULL);
      if (g_rename (path, bad_path) < 0)
        g_unlink (path);
      if (bad != NULL)
        g_ptr_array_add (bad, g_strdup_printf (_("%s: %s (set aside as %s)"), path, local->message, bad_path));
    }
  g_ptr_array_sort (records, compare_records);
  return g_steal_pointer (&records);
}
