#include "config.h"

#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#define SYSFS_ATTR_MAX 4096

/* Most callers ask whether an attribute is there and pass no @error: they
 * get no message looked up in the catalogue for each file a device lacks. */
static void
set_read_error (GError **error, int saved, const char *path)
{
  if (error == NULL)
    return;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               _("cannot read %s: %s"), path, g_strerror (saved));
}

static void
set_open_error (GError **error, int saved, const char *path)
{
  if (error == NULL)
    return;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               _("cannot open %s: %s"), path, g_strerror (saved));
}

GBytes *
hd_sysfs_read_file (int dirfd, const char *path, int open_flags, gsize max,
                    gboolean partial_ok, gint64 *file_size, GError **error)
{
  g_autofree guint8 *buf = g_malloc (max);
  gsize len = 0;
  struct stat st;
  int fd;

  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | open_flags);
  if (fd < 0)
    {
      set_read_error (error, errno, path);
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
          set_read_error (error, saved, path);
          return NULL;
        }
      if (n <= 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  return g_bytes_new_take (g_steal_pointer (&buf), len);
}

HdSysfsDir
hd_sysfs_open_dir (const char *path, GError **error)
{
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    set_open_error (error, errno, path);
  return fd;
}

void
hd_sysfs_dir_close (HdSysfsDir dirfd)
{
  close (dirfd);
}

char *
hd_sysfs_read_attr_at (int dirfd, const char *attr, GError **error)
{
  char buf[SYSFS_ATTR_MAX + 1];
  ssize_t n;
  gsize len;
  int fd, saved;

  fd = openat (dirfd, attr, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      set_read_error (error, errno, attr);
      return NULL;
    }
  /* One read(), as systemd's read_virtual_file() does: an attribute hands
   * out its whole value (at most a page) at once, and one whose show()
   * kernfs does not buffer would answer a second read() with a fresh value
   * instead of EOF.  It also spares a syscall per attribute. */
  do
    n = read (fd, buf, SYSFS_ATTR_MAX);
  while (n < 0 && errno == EINTR);
  saved = errno;
  close (fd);
  if (n < 0)
    {
      set_read_error (error, saved, attr);
      return NULL;
    }
  buf[n] = '\0';

  /* libudev (sd_device_get_sysattr_value) strips trailing newlines and
   * carriage returns only; DMI strings keep their trailing blanks. */
  len = strlen (buf);
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
    len--;
  return g_strndup (buf, len);
}

char *
hd_sysfs_read_attr (const char *dir, const char *attr, GError **error)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);

  return hd_sysfs_read_attr_at (AT_FDCWD, path, error);
}

gboolean
hd_sysfs_read_int_at (int dirfd, const char *attr, guint base, gint64 *value)
{
  g_autofree char *text = hd_sysfs_read_attr_at (dirfd, attr, NULL);

  if (text == NULL)
    return FALSE;
  return g_ascii_string_to_signed (text, base, G_MININT64, G_MAXINT64, value, NULL) ||
         /* sysfs spells hex with a 0x prefix that g_ascii_string_to_signed refuses */
         (base == 16 && g_str_has_prefix (text, "0x") &&
          g_ascii_string_to_signed (text + 2, 16, 0, G_MAXINT64, value, NULL));
}

gboolean
hd_sysfs_read_int (const char *dir, const char *attr, guint base, gint64 *value)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);

  return hd_sysfs_read_int_at (AT_FDCWD, path, base, value);
}

char *
hd_sysfs_read_link_basename_at (int dirfd, const char *attr)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (dirfd, attr, target, sizeof target - 1);

  if (n <= 0)
    return NULL;
  target[n] = '\0';
  return g_path_get_basename (target);
}

char *
hd_sysfs_read_link_basename (const char *dir, const char *attr)
{
  g_autofree char *path = g_build_filename (dir, attr, NULL);

  return hd_sysfs_read_link_basename_at (AT_FDCWD, path);
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
hd_sysfs_list_dir_at (int dirfd, const char *path, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  DIR *dir;
  int fd;

  fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      set_open_error (error, errno, path);
      return NULL;
    }
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      int saved = errno;
      close (fd);
      set_open_error (error, saved, path);
      return NULL;
    }
  while ((entry = readdir (dir)) != NULL)
    if (!g_str_equal (entry->d_name, ".") && !g_str_equal (entry->d_name, ".."))
      g_ptr_array_add (names, g_strdup (entry->d_name));
  closedir (dir);
  g_ptr_array_sort (names, compare_kernfs_order);
  return g_steal_pointer (&names);
}

GPtrArray *
hd_sysfs_list_dir (const char *path, GError **error)
{
  return hd_sysfs_list_dir_at (AT_FDCWD, path, error);
}
