/* What the host uses, mapped onto sysfs (see host-usage.h): the scan, its
 * shared readers, the uses that are PCI functions themselves, and the
 * look-ups.  A scan reads its sources once and only reads.  Whatever
 * cannot be tied to a device (network and pseudo filesystems, virtual
 * interfaces) is no use. */
#define G_LOG_DOMAIN "HostdevdHostUsage"

#include "config.h"

#include "host-usage.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "host-usage-private.h"
#include "nodedev/error.h"
#include "nodedev/sysfs.h"

/* mountinfo grows with every container's mounts: thousands of lines of a
 * few hundred bytes are common, tens of MiB are not. */
#define SOURCE_MAX (8 * 1024 * 1024)
#define LINE_MAX_BYTES (64 * 1024)

struct _HdHostUsage {
  GPtrArray *uses;   /* HdHostUse, sorted by compare_uses, one per kind and holder */
};


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

gboolean
hd_usage_fail (GError **error, HdError code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (HD_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

gboolean
hd_usage_malformed (const char *path, guint line, GError **error)
{
  return hd_usage_fail (error, HD_ERROR_INVALID_DATA, _("%s line %u is malformed"), path, line);
}

gboolean
hd_usage_read_lines (const char *path, GStrv *lines, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GBytes) bytes = hd_sysfs_read_file (AT_FDCWD, path, 0, SOURCE_MAX + 1, FALSE, NULL, &local);
  g_autofree char *text = NULL;
  gsize len = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  *lines = NULL;
  if (bytes == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return TRUE;
  if (bytes == NULL)
    return hd_usage_fail (error, HD_ERROR_FAILED, "%s", local->message);
  text = g_strndup (g_bytes_get_data (bytes, NULL), len);
  if (len > SOURCE_MAX || strlen (text) != len)
    return hd_usage_fail (error, HD_ERROR_INVALID_DATA, _("%s is not text of at most %d MiB"),
                          path, SOURCE_MAX / (1024 * 1024));
  *lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; (*lines)[i] != NULL; i++)
    if (strlen ((*lines)[i]) > LINE_MAX_BYTES)
      return hd_usage_malformed (path, i + 1, error);
  return TRUE;
}

GStrv
hd_usage_split_fields (const char *line)
{
  g_auto(GStrv) raw = g_strsplit_set (line, " \t", -1);
  g_autoptr(GStrvBuilder) fields = g_strv_builder_new ();

  for (guint i = 0; raw[i] != NULL; i++)
    if (raw[i][0] != '\0')
      g_strv_builder_add (fields, raw[i]);
  return g_strv_builder_end (fields);
}

char *
hd_usage_canonical (const char *path)
{
  g_autofree char *real = realpath (path, NULL);

  return real != NULL && g_str_has_prefix (real, "/sys/devices/") ? g_steal_pointer (&real) : NULL;
}

gboolean
hd_usage_is_under (const char *path, const char *dir)
{
  gsize len = strlen (dir);

  while (len > 1 && dir[len - 1] == '/')
    len--;
  /* "/" holds everything, /mnt holds /mnt/x but not /mnt2 */
  return len > 0 && strncmp (path, dir, len) == 0 &&
         (path[len] == '\0' || path[len] == '/' || dir[len - 1] == '/');
}

void
hd_usage_add (HdUsageScan *s, HdHostUseKind kind, const char *holder, char *description)
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

/* @dir (a PCI function) is the firmware's boot display.  Read per function
 * when it is looked up, not for every function at each scan: with 16,384
 * functions that was 16,384 reads per kernel event (bench/event-latency.py). */
static void
add_boot_vga (HdUsageScan *s, const char *dir)
{
  g_autofree char *boot_vga = hd_sysfs_read_attr (dir, "boot_vga", NULL);
  g_autofree char *dev = NULL;

  if (g_strcmp0 (boot_vga, "1") == 0 && (dev = hd_usage_canonical (dir)) != NULL)
    hd_usage_add (s, HD_HOST_USE_BOOT_VGA, dev, g_strdup (_("it is the boot VGA device")));
}

/* The framebuffers: PCI functions that the host draws its console on. */
static void
scan_framebuffers (HdUsageScan *s)
{
  g_autoptr(GPtrArray) graphics = hd_sysfs_list_dir ("/sys/class/graphics", NULL);

  for (guint i = 0; graphics != NULL && i < graphics->len; i++)
    {
      const char *fb = g_ptr_array_index (graphics, i);
      g_autofree char *link = g_build_filename ("/sys/class/graphics", fb, "device", NULL);
      g_autofree char *dev = NULL;

      /* fb0, fb1…, not fbcon */
      if (g_str_has_prefix (fb, "fb") && g_ascii_isdigit (fb[2]) && (dev = hd_usage_canonical (link)) != NULL)
        hd_usage_add (s, HD_HOST_USE_FRAMEBUFFER, dev,
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
  HdUsageScan s = { NULL, NULL };

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  usage->uses = s.uses = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_host_use_free);
  if (!hd_usage_scan_storage (&s, src->mountinfo ? src->mountinfo : "/proc/self/mountinfo",
                              src->swaps ? src->swaps : "/proc/swaps", error) ||
      !hd_usage_scan_net (&s, src, error))
    return NULL;
  scan_framebuffers (&s);
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

      if (dir == NULL || hd_usage_is_under (use->holder, dir))
        g_ptr_array_add (found, host_use_new (use->kind, use->holder, use->description));
    }
  return found;
}

GPtrArray *
hd_host_usage_lookup (HdHostUsage *usage, const char *syspath)
{
  HdUsageScan s = { NULL, NULL };

  g_return_val_if_fail (usage != NULL, NULL);
  g_return_val_if_fail (syspath != NULL && syspath[0] == '/', NULL);

  s.uses = copy_uses (usage, syspath);
  add_boot_vga (&s, syspath);
  g_ptr_array_sort (s.uses, compare_uses);
  return s.uses;
}

GPtrArray *
hd_host_usage_list (HdHostUsage *usage)
{
  HdUsageScan s = { NULL, NULL };
  g_autoptr(GPtrArray) pci = hd_sysfs_list_dir ("/sys/bus/pci/devices", NULL);

  g_return_val_if_fail (usage != NULL, NULL);

  s.uses = copy_uses (usage, NULL);
  for (guint i = 0; pci != NULL && i < pci->len; i++)
    {
      g_autofree char *dir = g_build_filename ("/sys/bus/pci/devices", g_ptr_array_index (pci, i), NULL);

      add_boot_vga (&s, dir);
    }
  g_ptr_array_sort (s.uses, compare_uses);
  return s.uses;
}
