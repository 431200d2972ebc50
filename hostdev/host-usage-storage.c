/* Filesystems and swap, down to the physical devices they live on (see
 * host-usage-private.h). */
#define G_LOG_DOMAIN "HostdevdHostUsage"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "host-usage-private.h"
#include "nodedev/sysfs.h"

/* dm over md over partitions is three deep; a looping tree must still end. */
#define DEPTH_MAX 16

typedef struct {
  guint major, minor;
  char *mount_point;   /* unescaped */
  char *fstype;
  char *source;        /* unescaped */
  char *options;       /* super options, still escaped: overlay splits them first */
  GHashTable *holders; /* syspath → name for people (/dev/vda1, a 9p tag); NULL until resolved */
  gboolean resolving;  /* overlays could name each other: stop the loop */
} Mount;

static void
mount_free (Mount *m)
{
  g_free (m->mount_point);
  g_free (m->fstype);
  g_free (m->source);
  g_free (m->options);
  g_clear_pointer (&m->holders, g_hash_table_unref);
  g_free (m);
}

/* @s cut at each @sep no backslash escapes, empty pieces dropped, and the
 * pieces unescaped (the kernel writes a blank as \040) if @unescape. */
static GPtrArray *
split_escaped (const char *s, char sep, gboolean unescape)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func (g_free);
  const char *start = s;

  for (const char *p = s;; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        p++;
      else if (*p == sep || *p == '\0')
        {
          g_autofree char *raw = g_strndup (start, (gsize) (p - start));

          if (raw[0] != '\0')
            g_ptr_array_add (pieces, unescape ? g_strcompress (raw) : g_steal_pointer (&raw));
          if (*p == '\0')
            return pieces;
          start = p + 1;
        }
    }
}

/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER",
 * split at single blanks: an empty source is an empty field. */
static gboolean
parse_mountinfo (const char *path, GPtrArray *mounts, GError **error)
{
  g_auto(GStrv) lines = NULL;

  if (!hd_usage_read_lines (path, &lines, error))
    return FALSE;
  for (guint i = 0; lines != NULL && lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", -1);
      guint n = g_strv_length (f), sep = 6, maj, min;
      Mount *m;

      if (lines[i][0] == '\0')
        continue;
      while (sep < n && !g_str_equal (f[sep], "-"))
        sep++;
      if (sep + 3 >= n || f[4][0] != '/' || sscanf (f[2], "%u:%u", &maj, &min) != 2)
        return hd_usage_malformed (path, i + 1, error);
      m = g_new0 (Mount, 1);
      m->major = maj;
      m->minor = min;
      m->mount_point = g_strcompress (f[4]);
      m->fstype = g_strdup (f[sep + 1]);
      m->source = g_strcompress (f[sep + 2]);
      m->options = g_strdup (f[sep + 3]);
      g_ptr_array_add (mounts, m);
    }
  return TRUE;
}

static char *
block_from_devnum (dev_t devnum)
{
  g_autofree char *link = g_strdup_printf ("/sys/dev/block/%u:%u", major (devnum), minor (devnum));

  return hd_usage_canonical (link);
}

static char *
dev_name (const char *syspath)
{
  g_autofree char *base = g_path_get_basename (syspath);

  /* sysfs spells the / of a kernel name (cciss/c0d0) as ! */
  return g_strconcat ("/dev/", g_strdelimit (base, "!", '/'), NULL);
}

static GHashTable *
holders_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* Each device once, with its first name: an overlay's layers tend to
 * share a disk. */
static void
add_holder (GHashTable *holders, const char *syspath, char *name)
{
  if (g_hash_table_contains (holders, syspath))
    g_free (name);
  else
    g_hash_table_insert (holders, g_strdup (syspath), name);
}

static void
add_holders (GHashTable *holders, GHashTable *from)
{
  GHashTableIter iter;
  gpointer syspath, name;

  if (from == NULL)
    return;
  g_hash_table_iter_init (&iter, from);
  while (g_hash_table_iter_next (&iter, &syspath, &name))
    add_holder (holders, syspath, g_strdup (name));
}

/* The physical devices under the block device @syspath (named @top, NULL
 * at first): itself, or all that its slaves/ (device-mapper, md) or
 * multipath/ (an NVMe namespace's paths) lead to.  A partition's are its
 * disk's (md0p1 lives on what md0 lives on). */
static void
add_block (GHashTable *holders, const char *syspath, const char *top, guint depth)
{
  static const char *const stacked[] = { "slaves", "multipath" };
  gboolean partition = hd_sysfs_exists (syspath, "partition");
  g_autofree char *owner = partition ? g_path_get_dirname (syspath) : g_strdup (syspath);
  g_autofree char *name = dev_name (syspath);
  guint followed = 0;

  for (guint k = 0; k < G_N_ELEMENTS (stacked) && depth < DEPTH_MAX; k++)
    {
      g_autofree char *dir = g_build_filename (owner, stacked[k], NULL);
      g_autoptr(GPtrArray) names = hd_sysfs_list_dir (dir, NULL);

      for (guint i = 0; names != NULL && i < names->len; i++)
        {
          g_autofree char *link = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
          g_autofree char *lower = hd_usage_canonical (link);

          if (lower != NULL)
            add_block (holders, lower, top != NULL ? top : name, depth + 1);
          followed += lower != NULL;
        }
    }
  if (followed == 0)
    add_holder (holders, syspath, depth == 0 ? g_strdup (name)
                                             : g_strdup_printf (_("%s (under %s)"), name, top));
}

/* Shared folders name their virtio device by tag. */
static const struct {
  const char *fstype, *dir, *attr, *link;
} shares[] = {
  { "9p", "/sys/bus/virtio/devices", "mount_tag", NULL },
  /* Linux 6.9 lists virtiofs tags in /sys/fs/virtiofs/N/{tag,device} */
  { "virtiofs", "/sys/fs/virtiofs", "tag", "device" },
  { "virtiofs", "/sys/bus/virtio/devices", "tag", NULL },
};

static char *
virtio_by_tag (const char *dir, const char *attr, const char *link, const char *tag)
{
  g_autoptr(GPtrArray) names = hd_sysfs_list_dir (dir, NULL);

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      g_autofree char *entry = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      /* older kernels end mount_tag with a NUL, newer ones with a newline */
      g_autofree char *value = hd_sysfs_read_attr (entry, attr, NULL);
      g_autofree char *device = g_build_filename (entry, link, NULL);

      if (value != NULL && g_str_equal (value, tag))
        return hd_usage_canonical (device);
    }
  return NULL;
}

/* The mount that holds @path: the longest mount point above it, the later
 * of two at the same place (it is mounted on top). */
static Mount *
mount_containing (HdUsageScan *s, const char *path, Mount *except)
{
  Mount *best = NULL;

  for (guint i = 0; i < s->mounts->len; i++)
    {
      Mount *m = g_ptr_array_index (s->mounts, i);

      if (m != except && hd_usage_is_under (path, m->mount_point) &&
          (best == NULL || strlen (m->mount_point) >= strlen (best->mount_point)))
        best = m;
    }
  return best;
}

static GHashTable *mount_holders (HdUsageScan *s, Mount *m, guint depth);

/* An overlay lives on whatever holds its layers. */
static void
add_overlay_holders (HdUsageScan *s, Mount *m, GHashTable *holders, guint depth)
{
  static const char *const keys[] = { "lowerdir=", "upperdir=", "lowerdir+=", "datadir+=" };
  g_autoptr(GPtrArray) options = split_escaped (m->options, ',', FALSE);

  for (guint i = 0; i < options->len; i++)
    for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
      {
        const char *option = g_ptr_array_index (options, i);
        g_autoptr(GPtrArray) dirs = NULL;

        if (!g_str_has_prefix (option, keys[k]))
          continue;
        dirs = split_escaped (option + strlen (keys[k]), ':', TRUE);
        for (guint d = 0; d < dirs->len; d++)
          {
            Mount *under = mount_containing (s, g_ptr_array_index (dirs, d), m);

            if (under != NULL)
              add_holders (holders, mount_holders (s, under, depth + 1));
          }
      }
}

/* What @m lives on, worked out once. */
static GHashTable *
mount_holders (HdUsageScan *s, Mount *m, guint depth)
{
  g_autoptr(GHashTable) holders = NULL;
  g_autofree char *dev = NULL;
  struct stat st;

  if (m->holders != NULL || m->resolving || depth > DEPTH_MAX)
    return m->holders;
  m->resolving = TRUE;
  holders = holders_new ();
  if (m->major != 0)
    dev = block_from_devnum (makedev (m->major, m->minor));
  /* filesystems with an anonymous device number (btrfs): the node's own */
  if (dev == NULL && g_str_has_prefix (m->source, "/dev/") && stat (m->source, &st) == 0 && S_ISBLK (st.st_mode))
    dev = block_from_devnum (st.st_rdev);
  if (dev != NULL)
    add_block (holders, dev, NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (shares) && dev == NULL; i++)
    if (g_str_equal (m->fstype, shares[i].fstype))
      dev = virtio_by_tag (shares[i].dir, shares[i].attr, shares[i].link, m->source);
  if (g_hash_table_size (holders) == 0 && dev != NULL)
    add_holder (holders, dev, g_strdup (m->source));
  if (g_str_equal (m->fstype, "overlay"))
    add_overlay_holders (s, m, holders, depth);
  m->holders = g_steal_pointer (&holders);
  m->resolving = FALSE;
  return m->holders;
}

static void
scan_mounts (HdUsageScan *s)
{
  for (guint i = 0; i < s->mounts->len; i++)
    {
      Mount *m = g_ptr_array_index (s->mounts, i);
      gboolean root = g_str_equal (m->mount_point, "/");
      GHashTableIter iter;
      gpointer syspath, name;

      g_hash_table_iter_init (&iter, mount_holders (s, m, 0));
      while (g_hash_table_iter_next (&iter, &syspath, &name))
        hd_usage_add (s, root ? HD_HOST_USE_ROOT_FS : HD_HOST_USE_MOUNT, syspath,
                      root ? g_strdup_printf (_("%s backs the root filesystem"), (char *) name)
                           : g_strdup_printf (_("%s is mounted on %s"), (char *) name, m->mount_point));
    }
}

/* "Filename Type Size Used Priority", a header line first.  A swap file
 * lives on the filesystem with its device number, found in mountinfo so
 * that btrfs' anonymous numbers resolve too. */
static gboolean
scan_swaps (HdUsageScan *s, const char *path, GError **error)
{
  g_auto(GStrv) lines = NULL;

  if (!hd_usage_read_lines (path, &lines, error))
    return FALSE;
  for (guint i = 1; lines != NULL && lines[0] != NULL && lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = hd_usage_split_fields (lines[i]);
      g_autoptr(GHashTable) holders = holders_new ();
      GHashTableIter iter;
      gpointer syspath, name;
      g_autofree char *file = NULL;
      g_autofree char *block = NULL;
      struct stat st;

      if (f[0] != NULL && g_strv_length (f) < 5)
        return hd_usage_malformed (path, i + 1, error);
      file = f[0] != NULL ? g_strcompress (f[0]) : NULL;
      /* a deleted swap file reads "/swapfile\040(deleted)": nothing to stat */
      if (file == NULL || stat (file, &st) < 0)
        continue;
      if (S_ISBLK (st.st_mode) && (block = block_from_devnum (st.st_rdev)) != NULL)
        add_block (holders, block, NULL, 0);
      for (guint m = s->mounts->len; !S_ISBLK (st.st_mode) && m > 0 && g_hash_table_size (holders) == 0; m--)
        {
          Mount *mount = g_ptr_array_index (s->mounts, m - 1);

          if (makedev (mount->major, mount->minor) == st.st_dev)
            add_holders (holders, mount_holders (s, mount, 0));
        }
      if (!S_ISBLK (st.st_mode) && g_hash_table_size (holders) == 0 &&
          (block = block_from_devnum (st.st_dev)) != NULL)
        add_block (holders, block, NULL, 0);
      g_hash_table_iter_init (&iter, holders);
      while (g_hash_table_iter_next (&iter, &syspath, &name))
        hd_usage_add (s, HD_HOST_USE_SWAP, syspath,
                      S_ISBLK (st.st_mode) ? g_strdup_printf (_("%s is active swap"), (char *) name)
                                           : g_strdup_printf (_("%s holds the active swap file %s"), (char *) name, file));
    }
  return TRUE;
}

gboolean
hd_usage_scan_storage (HdUsageScan *s, const char *mountinfo, const char *swaps, GError **error)
{
  g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) mount_free);
  gboolean ok;

  if (!parse_mountinfo (mountinfo, mounts, error))
    return FALSE;
  s->mounts = mounts;
  scan_mounts (s);
  ok = scan_swaps (s, swaps, error);
  s->mounts = NULL;
  return ok;
}
