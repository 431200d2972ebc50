/* What the host uses, mapped onto sysfs (see host-usage.h).  A scan reads
 * its sources once and only reads.  Whatever cannot be tied to a device
 * (network and pseudo filesystems, virtual interfaces) is no use. */
#define G_LOG_DOMAIN "HostdevdHostUsage"

#include "config.h"

#include "host-usage.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "nodedev/error.h"
#include "nodedev/sysfs.h"

/* mountinfo grows with every container's mounts: thousands of lines of a
 * few hundred bytes are common, tens of MiB are not. */
#define SOURCE_MAX (8 * 1024 * 1024)
#define LINE_MAX_BYTES (64 * 1024)
/* dm over md over partitions is three deep; a looping tree must still end. */
#define DEPTH_MAX 16

typedef struct ifaddrs HdIfaddrs;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdIfaddrs, freeifaddrs)

struct _HdHostUsage {
  GPtrArray *uses;   /* HdHostUse, sorted by compare_uses, one per kind and holder */
};

typedef struct {
  guint major, minor;
  char *mount_point;   /* unescaped */
  char *fstype;
  char *source;        /* unescaped */
  char *options;       /* super options, still escaped: overlay splits them first */
  GHashTable *holders; /* syspath → name for people (/dev/vda1, a 9p tag); NULL until resolved */
  gboolean resolving;  /* overlays could name each other: stop the loop */
} Mount;

typedef struct {
  GPtrArray *mounts;   /* Mount, in mountinfo order */
  GPtrArray *uses;     /* borrowed from the HdHostUsage */
} Scan;

void
hd_host_use_free (HdHostUse *use)
{
  if (use == NULL)
    return;
  g_free (use->holder);
  g_free (use->description);
  g_free (use);
}

static HdHostUse *
host_use_new (HdHostUseKind kind, const char *holder, const char *description)
{
  HdHostUse *use = g_new0 (HdHostUse, 1);

  use->kind = kind;
  use->holder = g_strdup (holder);
  use->description = g_strdup (description);
  return use;
}

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

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError **error, HdError code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (HD_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

static gboolean
malformed (const char *path, guint line, GError **error)
{
  return fail (error, HD_ERROR_INVALID_DATA, _("%s line %u is malformed"), path, line);
}

/* The lines of @path in @lines, NULL there if the file does not exist (a
 * container may lack /proc/swaps).  FALSE if it cannot be read or is not
 * bounded text. */
static gboolean
read_lines (const char *path, GStrv *lines, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GBytes) bytes = hd_sysfs_read_file (path, 0, SOURCE_MAX + 1, FALSE, NULL, &local);
  g_autofree char *text = NULL;
  gsize len = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  *lines = NULL;
  if (bytes == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return TRUE;
  if (bytes == NULL)
    return fail (error, HD_ERROR_FAILED, "%s", local->message);
  text = g_strndup (g_bytes_get_data (bytes, NULL), len);
  if (len > SOURCE_MAX || strlen (text) != len)
    return fail (error, HD_ERROR_INVALID_DATA, _("%s is not text of at most %d MiB"),
                 path, SOURCE_MAX / (1024 * 1024));
  *lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; (*lines)[i] != NULL; i++)
    if (strlen ((*lines)[i]) > LINE_MAX_BYTES)
      return malformed (path, i + 1, error);
  return TRUE;
}

/* The fields of @line; /proc/swaps and the route tables pad columns with
 * runs of blanks or tabs. */
static GStrv
split_fields (const char *line)
{
  g_auto(GStrv) raw = g_strsplit_set (line, " \t", -1);
  g_autoptr(GStrvBuilder) fields = g_strv_builder_new ();

  for (guint i = 0; raw[i] != NULL; i++)
    if (raw[i][0] != '\0')
      g_strv_builder_add (fields, raw[i]);
  return g_strv_builder_end (fields);
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

  if (!read_lines (path, &lines, error))
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
        return malformed (path, i + 1, error);
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

/* @path resolved, if that is a device directory; whatever the host uses
 * is one, anything else (a dangling link) is not. */
static char *
canonical (const char *path)
{
  g_autofree char *real = realpath (path, NULL);

  return real != NULL && g_str_has_prefix (real, "/sys/devices/") ? g_steal_pointer (&real) : NULL;
}

static char *
block_from_devnum (dev_t devnum)
{
  g_autofree char *link = g_strdup_printf ("/sys/dev/block/%u:%u", major (devnum), minor (devnum));

  return canonical (link);
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
          g_autofree char *lower = canonical (link);

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
        return canonical (device);
    }
  return NULL;
}

static gboolean
is_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  while (len > 1 && dir[len - 1] == '/')
    len--;
  /* "/" holds everything, /mnt holds /mnt/x but not /mnt2 */
  return len > 0 && strncmp (path, dir, len) == 0 &&
         (path[len] == '\0' || path[len] == '/' || dir[len - 1] == '/');
}

/* The mount that holds @path: the longest mount point above it, the later
 * of two at the same place (it is mounted on top). */
static Mount *
mount_containing (Scan *s, const char *path, Mount *except)
{
  Mount *best = NULL;

  for (guint i = 0; i < s->mounts->len; i++)
    {
      Mount *m = g_ptr_array_index (s->mounts, i);

      if (m != except && is_under (path, m->mount_point) &&
          (best == NULL || strlen (m->mount_point) >= strlen (best->mount_point)))
        best = m;
    }
  return best;
}

static GHashTable *mount_holders (Scan *s, Mount *m, guint depth);

/* An overlay lives on whatever holds its layers. */
static void
add_overlay_holders (Scan *s, Mount *m, GHashTable *holders, guint depth)
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
mount_holders (Scan *s, Mount *m, guint depth)
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
add_use (Scan *s, HdHostUseKind kind, const char *holder, char *description)
{
  g_autofree char *text = description;

  /* one use per kind and holder, the first: bind mounts repeat a device */
  for (guint i = 0; i < s->uses->len; i++)
    {
      HdHostUse *use = g_ptr_array_index (s->uses, i);
      if (use->kind == kind && g_str_equal (use->holder, holder))
        return;
    }
  g_ptr_array_add (s->uses, host_use_new (kind, holder, text));
}

static void
scan_mounts (Scan *s)
{
  for (guint i = 0; i < s->mounts->len; i++)
    {
      Mount *m = g_ptr_array_index (s->mounts, i);
      gboolean root = g_str_equal (m->mount_point, "/");
      GHashTableIter iter;
      gpointer syspath, name;

      g_hash_table_iter_init (&iter, mount_holders (s, m, 0));
      while (g_hash_table_iter_next (&iter, &syspath, &name))
        add_use (s, root ? HD_HOST_USE_ROOT_FS : HD_HOST_USE_MOUNT, syspath,
                 root ? g_strdup_printf (_("%s backs the root filesystem"), (char *) name)
                      : g_strdup_printf (_("%s is mounted on %s"), (char *) name, m->mount_point));
    }
}

/* "Filename Type Size Used Priority", a header line first.  A swap file
 * lives on the filesystem with its device number, found in mountinfo so
 * that btrfs' anonymous numbers resolve too. */
static gboolean
scan_swaps (Scan *s, const char *path, GError **error)
{
  g_auto(GStrv) lines = NULL;

  if (!read_lines (path, &lines, error))
    return FALSE;
  for (guint i = 1; lines != NULL && lines[0] != NULL && lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = split_fields (lines[i]);
      g_autoptr(GHashTable) holders = holders_new ();
      GHashTableIter iter;
      gpointer syspath, name;
      g_autofree char *file = NULL;
      g_autofree char *block = NULL;
      struct stat st;

      if (f[0] != NULL && g_strv_length (f) < 5)
        return malformed (path, i + 1, error);
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
        add_use (s, HD_HOST_USE_SWAP, syspath,
                 S_ISBLK (st.st_mode) ? g_strdup_printf (_("%s is active swap"), (char *) name)
                                      : g_strdup_printf (_("%s holds the active swap file %s"), (char *) name, file));
    }
  return TRUE;
}

/* /proc/net/route: a header, then "Iface Destination Gateway …", 11
 * columns.  /proc/net/ipv6_route: no header, 10 columns, the device last;
 * every interface that is up has link-local and multicast routes, so
 * those say nothing about use. */
static gboolean
read_routes (const char *path, gboolean ipv6, GHashTable *routed, GError **error)
{
  g_auto(GStrv) lines = NULL;

  if (!read_lines (path, &lines, error))
    return FALSE;
  for (guint i = ipv6 ? 0 : 1; lines != NULL && lines[0] != NULL && lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = split_fields (lines[i]);
      guint n = g_strv_length (f);

      if (n > 0 && (ipv6 ? n != 10 || strlen (f[0]) != 32 : n != 11))
        return malformed (path, i + 1, error);
      if (n == 0 || (ipv6 && (g_ascii_strncasecmp (f[0], "ff", 2) == 0 ||
                              (g_ascii_strncasecmp (f[0], "fe", 2) == 0 && strchr ("89abAB", f[0][2]) != NULL))))
        continue;
      if (!g_str_equal (f[ipv6 ? 9 : 0], "lo"))
        g_hash_table_add (routed, g_strdup (f[ipv6 ? 9 : 0]));
    }
  return TRUE;
}

/* fe80::/10: every IPv6 interface has one, so it says nothing about use. */
static gboolean
is_link_local (const char *address)
{
  g_autofree char *host = g_strndup (address, strcspn (address, "/%"));
  struct in6_addr a;

  return inet_pton (AF_INET6, host, &a) == 1 && a.s6_addr[0] == 0xfe && (a.s6_addr[1] & 0xc0) == 0x80;
}

/* The default address source: @user_data is getifaddrs(3)'s list. */
static GStrv
host_interface_addresses (const char *ifname, gpointer user_data)
{
  g_autoptr(GStrvBuilder) found = g_strv_builder_new ();

  for (const struct ifaddrs *ifa = user_data; ifa != NULL; ifa = ifa->ifa_next)
    {
      int family = ifa->ifa_addr != NULL ? ifa->ifa_addr->sa_family : AF_UNSPEC;
      gsize offset = family == AF_INET ? G_STRUCT_OFFSET (struct sockaddr_in, sin_addr)
                                       : G_STRUCT_OFFSET (struct sockaddr_in6, sin6_addr);
      const guint8 *mask = ifa->ifa_netmask != NULL ? (const guint8 *) ifa->ifa_netmask + offset : NULL;
      char text[INET6_ADDRSTRLEN];
      g_autofree char *address = NULL;
      guint prefix = 0;

      if ((family != AF_INET && family != AF_INET6) || !g_str_equal (ifa->ifa_name, ifname) ||
          inet_ntop (family, (const guint8 *) ifa->ifa_addr + offset, text, sizeof text) == NULL)
        continue;
      for (guint b = 0; mask != NULL && b < (family == AF_INET ? 4u : 16u); b++)
        prefix += (guint) __builtin_popcount (mask[b]);
      address = g_strdup_printf ("%s/%u", text, prefix);
      g_strv_builder_add (found, address);
    }
  return g_strv_builder_end (found);
}

static gboolean
scan_net (Scan *s, const HdHostUsageSources *src, GError **error)
{
  g_autoptr(GHashTable) routed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(HdIfaddrs) host = NULL;
  g_autoptr(GPtrArray) names = NULL;
  GStrv (*addresses_of) (const char *, gpointer) = src->interface_addresses;
  gpointer data = src->user_data;

  if (!read_routes (src->ipv4_routes ? src->ipv4_routes : "/proc/net/route", FALSE, routed, error) ||
      !read_routes (src->ipv6_routes ? src->ipv6_routes : "/proc/net/ipv6_route", TRUE, routed, error))
    return FALSE;
  /* without addresses every interface would look free: refuse instead */
  if (addresses_of == NULL && getifaddrs (&host) < 0)
    return fail (error, HD_ERROR_FAILED, _("cannot list the network addresses: %s"), g_strerror (errno));
  if (addresses_of == NULL)
    {
      addresses_of = host_interface_addresses;
      data = host;
    }
  names = hd_sysfs_list_dir ("/sys/class/net", NULL);
  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *ifname = g_ptr_array_index (names, i);
      g_autofree char *dir = g_build_filename ("/sys/class/net", ifname, NULL);
      g_autofree char *dev = canonical (dir);
      g_autofree char *master = NULL;
      g_auto(GStrv) addresses = NULL;
      g_autoptr(GString) listed = g_string_new (NULL);

      /* bridges, bonds, tunnels, lo: no hardware to take away */
      if (dev == NULL || g_str_has_prefix (dev, "/sys/devices/virtual/"))
        continue;
      addresses = addresses_of (ifname, data);
      for (guint a = 0; addresses != NULL && addresses[a] != NULL; a++)
        if (!is_link_local (addresses[a]))
          g_string_append_printf (listed, "%s%s", listed->len > 0 ? ", " : "", addresses[a]);
      if (listed->len > 0)
        add_use (s, HD_HOST_USE_NET_ADDRESS, dev,
                 g_strdup_printf (_("network interface %s has addresses %s"), ifname, listed->str));
      if (g_hash_table_contains (routed, ifname))
        add_use (s, HD_HOST_USE_NET_ROUTE, dev,
                 g_strdup_printf (_("network interface %s carries routes"), ifname));
      if ((master = hd_sysfs_read_link_basename (dir, "master")) != NULL)
        add_use (s, HD_HOST_USE_NET_MASTER, dev,
                 g_strdup_printf (_("network interface %s is enslaved to %s"), ifname, master));
    }
  return TRUE;
}

static void
scan_display (Scan *s)
{
  g_autoptr(GPtrArray) pci = hd_sysfs_list_dir ("/sys/bus/pci/devices", NULL);
  g_autoptr(GPtrArray) graphics = hd_sysfs_list_dir ("/sys/class/graphics", NULL);

  for (guint i = 0; pci != NULL && i < pci->len; i++)
    {
      g_autofree char *dir = g_build_filename ("/sys/bus/pci/devices", g_ptr_array_index (pci, i), NULL);
      g_autofree char *boot_vga = hd_sysfs_read_attr (dir, "boot_vga", NULL);
      g_autofree char *dev = NULL;

      if (g_strcmp0 (boot_vga, "1") == 0 && (dev = canonical (dir)) != NULL)
        add_use (s, HD_HOST_USE_BOOT_VGA, dev, g_strdup (_("it is the boot VGA device")));
    }
  for (guint i = 0; graphics != NULL && i < graphics->len; i++)
    {
      const char *fb = g_ptr_array_index (graphics, i);
      g_autofree char *link = g_build_filename ("/sys/class/graphics", fb, "device", NULL);
      g_autofree char *dev = NULL;

      /* fb0, fb1…, not fbcon */
      if (g_str_has_prefix (fb, "fb") && g_ascii_isdigit (fb[2]) && (dev = canonical (link)) != NULL)
        add_use (s, HD_HOST_USE_FRAMEBUFFER, dev,
                 g_strdup_printf (_("framebuffer %s is drawn on it"), fb));
    }
}

static int
compare_uses (gconstpointer a, gconstpointer b)
{
  const HdHostUse *ua = *(HdHostUse *const *) a;
  const HdHostUse *ub = *(HdHostUse *const *) b;

  if (ua->kind != ub->kind)
    return ua->kind < ub->kind ? -1 : 1;
  return strcmp (ua->holder, ub->holder);
}

HdHostUsage *
hd_host_usage_scan (const HdHostUsageSources *sources, GError **error)
{
  static const HdHostUsageSources host = { 0 };
  const HdHostUsageSources *src = sources != NULL ? sources : &host;
  g_autoptr(HdHostUsage) usage = g_new0 (HdHostUsage, 1);
  g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) mount_free);
  Scan s = { mounts, NULL };

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  usage->uses = s.uses = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_host_use_free);
  if (!parse_mountinfo (src->mountinfo ? src->mountinfo : "/proc/self/mountinfo", mounts, error))
    return NULL;
  scan_mounts (&s);
  if (!scan_swaps (&s, src->swaps ? src->swaps : "/proc/swaps", error) || !scan_net (&s, src, error))
    return NULL;
  scan_display (&s);
  g_ptr_array_sort (usage->uses, compare_uses);
  return g_steal_pointer (&usage);
}

void
hd_host_usage_free (HdHostUsage *usage)
{
  if (usage == NULL)
    return;
  g_clear_pointer (&usage->uses, g_ptr_array_unref);
  g_free (usage);
}

/* Copies of the uses on @dir or below it, all of them when @dir is NULL. */
static GPtrArray *
copy_uses (HdHostUsage *usage, const char *dir)
{
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_host_use_free);

  for (guint i = 0; i < usage->uses->len; i++)
    {
      const HdHostUse *use = g_ptr_array_index (usage->uses, i);

      if (dir == NULL || is_under (use->holder, dir))
        g_ptr_array_add (found, host_use_new (use->kind, use->holder, use->description));
    }
  return found;
}

GPtrArray *
hd_host_usage_lookup (HdHostUsage *usage, const char *syspath)
{
  g_return_val_if_fail (usage != NULL, NULL);
  g_return_val_if_fail (syspath != NULL && syspath[0] == '/', NULL);

  return copy_uses (usage, syspath);
}

GPtrArray *
hd_host_usage_list (HdHostUsage *usage)
{
  g_return_val_if_fail (usage != NULL, NULL);

  return copy_uses (usage, NULL);
}
