#include "config.h"

#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#define SYSFS_ATTR_MAX 4096

GBytes *
hd_sysfs_read_file (const char *path, int open_flags, gsize max,
                    gboolean partial_ok, gint64 *file_size, GError **error)
{
  g_autofree guint8 *buf = g_malloc (max);
  gsize len = 0;
  struct stat st;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | open_flags);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("cannot read %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  if (file_size != NULL)
    *file_size = fstat (fd, &st) == 0 ? (gint64) st.st_size : -1;

  while (len < max)
    {
      ssize_t n = read (fd, buf + len, max - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && !partial_ok)
        {
          int saved = errno;
          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("cannot read %s: %s"), path, g_strerror (saved));
          return NULL;
        }
      if (n <= 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  return g_bytes_new_take (g_steal_pointer (&buf), len);
}

char *
hd_sysfs_read_attr (const char *dir, const char *attr, GError **error)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);
  g_autoptr(GBytes) bytes = hd_sysfs_read_file (path, 0, SYSFS_ATTR_MAX, FALSE, NULL, error);
  const char *data;
  gsize len;
  char *buf;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  buf = g_strndup (data, len);
  len = strlen (buf);

  /* libudev (sd_device_get_sysattr_value) strips trailing newlines and
   * carriage returns only; DMI strings keep their trailing blanks. */
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
    len--;
  buf[len] = '\0';
  return buf;
}

gboolean
hd_sysfs_read_int (const char *dir, const char *attr, guint base, gint64 *value)
{
  g_autofree char *text = hd_sysfs_read_attr (dir, attr, NULL);

  if (text == NULL)
    return FALSE;
  return g_ascii_string_to_signed (text, base, G_MININT64, G_MAXINT64, value, NULL) ||
         /* sysfs spells hex with a 0x prefix that g_ascii_string_to_signed refuses */
         (base == 16 && g_str_has_prefix (text, "0x") &&
          g_ascii_string_to_signed (text + 2, 16, 0, G_MAXINT64, value, NULL));
}

char *
hd_sysfs_read_link_basename (const char *dir, const char *attr)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);
  g_autofree char *target = g_file_read_link (path, NULL);

  if (target == NULL)
    return NULL;
  return g_path_get_basename (target);
}

gboolean
hd_sysfs_exists (const char *dir, const char *attr)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);

  return access (path, F_OK) == 0;
}

guint
hd_kernfs_name_hash (const char *name)
{
  /* include/linux/stringhash.h: init_name_hash(NULL), partial_name_hash()
   * per byte, end_name_hash() = hash_long(hash, 32) on 64-bit kernels. */
  guint64 hash = 0;
  guint32 h;

  for (const char *p = name; *p; p++)
    {
      guint64 c = (guint64) (guchar) *p;
      hash = (hash + (c << 4) + (c >> 4)) * 11;
    }
  h = (guint32) ((hash * G_GUINT64_CONSTANT (0x61C8864680B583EB)) >> 32);
  h &= 0x7fffffffU;
  /* kernfs reserves 0, 1 and INT_MAX for "." and ".." */
  if (h < 2)
    h += 2;
  if (h >= INT_MAX)
    h = INT_MAX - 1;
  return h;
}

static int
compare_kernfs_order (gconstpointer a, gconstpointer b)
{
  const char *na = *(const char *const *) a;
  const char *nb = *(const char *const *) b;
  guint ha = hd_kernfs_name_hash (na);
  guint hb = hd_kernfs_name_hash (nb);

  if (ha != hb)
    return ha < hb ? -1 : 1;
  return strcmp (na, nb);
}

GPtrArray *
hd_sysfs_list_dir (const char *path, GError **error)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_kernfs_order);
  return g_steal_pointer (&names);
}
