#include "config.h"

#include "assignment-store.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "nodedev/error.h"

#define GROUP "assignment"
#define MAX_NAME 200

/* The records are read once, when the store opens, and then kept in step
 * with every put and remove: listing them, which happens on every burst
 * of kernel events, reads no file. */
struct _HdAssignmentStore {
  char *dir;
  GHashTable *xml;        /* domain name → the XML it was given */
  GPtrArray *domains;     /* HdAssignmentDomain, sorted by name */
};

static void load (HdAssignmentStore *store, GPtrArray *bad);
static void remember (HdAssignmentStore *store, const char *domain, const char *xml, GPtrArray *hostdevs);
static void forget (HdAssignmentStore *store, const char *domain);

HdAssignmentStore *
hd_assignment_store_open (const char *dir, GPtrArray *bad, GError **error)
{
  HdAssignmentStore *store;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int e = errno;

      g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM, _("cannot create %s: %s"), dir, g_strerror (e));
      return NULL;
    }
  store = g_new0 (HdAssignmentStore, 1);
  store->dir = g_strdup (dir);
  store->xml = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  store->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_assignment_domain_free);
  load (store, bad);
  return store;
}

void
hd_assignment_store_free (HdAssignmentStore *store)
{
  if (store == NULL)
    return;
  g_free (store->dir);
  g_hash_table_unref (store->xml);
  g_ptr_array_unref (store->domains);
  g_free (store);
}

gboolean
hd_assignment_store_check_name (const char *domain, GError **error)
{
  gsize len = strlen (domain);

  for (const char *p = domain; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._+-", *p) == NULL)
      len = 0;
  if (len == 0 || len > MAX_NAME || domain[0] == '.')
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                   _("'%s' is not a domain name hostdevd accepts (1 to %d letters, digits and ._+-, "
                     "not starting with '.')"), domain, MAX_NAME);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
hd_assignment_store_parse (const char *domain, const char *xml, GError **error)
{
  g_autoptr(GPtrArray) hostdevs = NULL;
  g_autofree char *wrapped = NULL;
  g_autofree char *name = NULL;
  g_autofree char *uuid = NULL;
  const char *start = xml;

  if (!hd_assignment_store_check_name (domain, error))
    return NULL;
  while (g_ascii_isspace (*start))
    start++;
  /* A bare list of <hostdev> elements is read as the devices of a domain,
   * so that one parser, libvirt's rules, reads both forms. */
  if (g_str_has_prefix (start, "<domain"))
    hostdevs = hd_hostdev_parse_domain (xml, &name, &uuid, error);
  else
    {
      wrapped = g_strdup_printf ("<domain><name>%s</name><devices>%s</devices></domain>", domain, xml);
      hostdevs = hd_hostdev_parse_domain (wrapped, &name, &uuid, error);
    }
  if (hostdevs == NULL)
    return NULL;
  if (hostdevs->len == 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                   _("no <hostdev mode='subsystem' type='pci'> for domain %s"), domain);
      return NULL;
    }
  return g_steal_pointer (&hostdevs);
}

static char *
path_of (HdAssignmentStore *store, const char *domain)
{
  g_autofree char *file = g_strconcat (domain, ".assignment", NULL);

  return g_build_filename (store->dir, file, NULL);
}

gboolean
hd_assignment_store_put (HdAssignmentStore *store, const char *domain, const char *xml, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) hostdevs = hd_assignment_store_parse (domain, xml, error);
  gsize len;

  if (hostdevs == NULL)
    return FALSE;
  path = path_of (store, domain);
  g_key_file_set_string (kf, GROUP, "domain", domain);
  g_key_file_set_string (kf, GROUP, "xml", xml);
  data = g_key_file_to_data (kf, &len, NULL);
  if (!g_file_set_contents_full (path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &local))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM, _("cannot record the assignment: %s"), local->message);
      return FALSE;
    }
  remember (store, domain, xml, g_steal_pointer (&hostdevs));
  return TRUE;
}

gboolean
hd_assignment_store_remove (HdAssignmentStore *store, const char *domain, GError **error)
{
  g_autofree char *path = NULL;

  if (!hd_assignment_store_check_name (domain, error))
    return FALSE;
  path = path_of (store, domain);
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      int e = errno;

      g_set_error (error, HD_ERROR, HD_ERROR_SYSTEM, _("cannot remove %s: %s"), path, g_strerror (e));
      return FALSE;
    }
  forget (store, domain);
  return TRUE;
}

char *
hd_assignment_store_get (HdAssignmentStore *store, const char *domain)
{
  return g_strdup (g_hash_table_lookup (store->xml, domain));
}

static char *
read_record (HdAssignmentStore *store, const char *domain)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = NULL;
  g_autofree char *stored = NULL;

  if (!hd_assignment_store_check_name (domain, NULL))
    return NULL;
  path = path_of (store, domain);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  /* The file's name is the key; a record that says otherwise is not it. */
  stored = g_key_file_get_string (kf, GROUP, "domain", NULL);
  if (g_strcmp0 (stored, domain) != 0)
    return NULL;
  return g_key_file_get_string (kf, GROUP, "xml", NULL);
}

static int
compare_domains (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 ((*(HdAssignmentDomain *const *) a)->name, (*(HdAssignmentDomain *const *) b)->name);
}

static void
forget (HdAssignmentStore *store, const char *domain)
{
  for (guint i = 0; i < store->domains->len; i++)
    if (g_str_equal (((HdAssignmentDomain *) g_ptr_array_index (store->domains, i))->name, domain))
      g_ptr_array_remove_index (store->domains, i--);
  g_hash_table_remove (store->xml, domain);
}

static void
remember (HdAssignmentStore *store, const char *domain, const char *xml, GPtrArray *hostdevs)
{
  HdAssignmentDomain *d = hd_assignment_domain_new (domain, "hostdevd", FALSE, TRUE);

  forget (store, domain);
  g_ptr_array_extend_and_steal (d->hostdevs, hostdevs);
  g_ptr_array_add (store->domains, d);
  g_ptr_array_sort (store->domains, compare_domains);
  g_hash_table_insert (store->xml, g_strdup (domain), g_strdup (xml));
}

static void
load (HdAssignmentStore *store, GPtrArray *bad)
{
  g_autoptr(GDir) dir = g_dir_open (store->dir, 0, NULL);
  const char *file;

  while (dir != NULL && (file = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *domain = NULL;
      g_autofree char *xml = NULL;
      g_autoptr(GPtrArray) hostdevs = NULL;
      g_autoptr(GError) error = NULL;

      if (!g_str_has_suffix (file, ".assignment"))
        continue;   /* temporary files of an interrupted write */
      domain = g_strndup (file, strlen (file) - strlen (".assignment"));
      xml = read_record (store, domain);
      hostdevs = xml != NULL ? hd_assignment_store_parse (domain, xml, &error) : NULL;
      if (hostdevs == NULL)
        {
          if (bad != NULL)
            g_ptr_array_add (bad, g_strdup_printf (_("%s: %s"), file,
                                                   error != NULL ? error->message : _("not a valid record")));
          continue;
        }
      remember (store, domain, xml, g_steal_pointer (&hostdevs));
    }
}

GPtrArray *
hd_assignment_store_list (HdAssignmentStore *store)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_assignment_domain_free);

  for (guint i = 0; i < store->domains->len; i++)
    {
      HdAssignmentDomain *d = g_ptr_array_index (store->domains, i);
      HdAssignmentDomain *copy = hd_assignment_domain_new (d->name, d->uri, d->running, d->autostart);

      for (guint j = 0; j < d->hostdevs->len; j++)
        g_ptr_array_add (copy->hostdevs, hd_hostdev_copy (g_ptr_array_index (d->hostdevs, j)));
      g_ptr_array_add (out, copy);
    }
  return out;
}
