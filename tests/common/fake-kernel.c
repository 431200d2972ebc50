#include "config.h"

#define G_LOG_DOMAIN "HostdevdFakeKernel"

#include "fake-kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#define PCIBACK "pciback"
#define VFIO_PCI "vfio-pci"
#define SYS_BUS_PCI "/sys/bus/pci/"
#define PCI_ANY_ID 0xffffffffu
/* PCI_NUM_RESET_METHODS - 1: the most a reset_method list can hold. */
#define MAX_RESET_METHODS 6
/* driver_set_override() keeps one character less than a page. */
#define OVERRIDE_MAX (4096 - 1)
/* How long a worker waits for the main context before it checks
 * whether anybody iterates it at all. */
#define HANDOVER_POLL_US 5000

typedef struct {
  guint32 vendor, device, subvendor, subdevice, klass, class_mask;
} DynId;

typedef struct {
  char *native;           /* the driver whose static ids match, NULL: none */
  GStrv default_resets;   /* NULL: the device has no reset at all */
  GStrv resets;           /* the reset_method list in effect */
  guint n_resets;
  char *last_reset;
} FakeDevice;

typedef struct {
  char *suffix;
  int errno_value;
  gboolean once;
} Refusal;

typedef enum { EFFECT_BIND, EFFECT_UNBIND } EffectKind;

typedef struct {
  HdFakeKernel *self;
  EffectKind kind;
  char *addr;
  char *driver;
  GSource *source;
} Effect;

struct _HdFakeKernel {
  GObject parent_instance;

  UMockdevTestbed *bed;
  char *root_dir;
  char *sys_dir;
  GMainContext *context;

  /* Held for every change to the testbed and to the tables below, as the
   * kernel's device lock: effects never interleave. */
  GMutex lock;
  GCond hang_cond;
  GHashTable *devices;      /* address -> FakeDevice */
  GHashTable *dynids;       /* driver -> GArray of DynId */
  GHashTable *slots;        /* pciback's slot list, "dddd:bb:ss.f" */
  GHashTable *probe_fails;  /* driver names */
  GPtrArray *refusals;
  GPtrArray *hangs;         /* path suffixes */
  guint n_hung;
  guint release_generation;
  guint async_ms;
  GPtrArray *pending;       /* Effect, delayed */
  GPtrArray *log;
};

static void hd_fake_kernel_writer_iface_init (HdSysfsWriterInterface *iface);

G_DEFINE_TYPE_WITH_CODE (HdFakeKernel, hd_fake_kernel, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (HD_TYPE_SYSFS_WRITER,
                                                hd_fake_kernel_writer_iface_init))

static void
fake_device_free (FakeDevice *dev)
{
  g_free (dev->native);
  g_strfreev (dev->default_resets);
  g_strfreev (dev->resets);
  g_free (dev->last_reset);
  g_free (dev);
}

static void
refusal_free (Refusal *r)
{
  g_free (r->suffix);
  g_free (r);
}

static void
effect_free (Effect *e)
{
  g_free (e->addr);
  g_free (e->driver);
  g_free (e);
}

/* ---- reading the testbed -------------------------------------------------- */

/* A device or driver name as the kernel could hold it: one path
 * component, so that nothing written can reach outside the testbed. */
static gboolean
valid_name (const char *name)
{
  return name != NULL && name[0] != '\0' && strchr (name, '/') == NULL &&
         !g_str_equal (name, ".") && !g_str_equal (name, "..");
}

/* sysfs_streq(): the kernel compares names ignoring one trailing newline. */
static char *
sysfs_name (const char *data)
{
  gsize len = strlen (data);

  if (len > 0 && data[len - 1] == '\n')
    len--;
  return g_strndup (data, len);
}

/* "devices/pci0000:00/…/ADDR", relative to the sys directory, or NULL if
 * there is no such device (its /sys/bus/pci/devices link is gone). */
static char *
device_relpath (HdFakeKernel *self, const char *addr)
{
  g_autofree char *bus_dir = NULL;
  g_autofree char *link = NULL;
  g_autofree char *target = NULL;
  g_autofree char *path = NULL;

  if (!valid_name (addr))
    return NULL;
  bus_dir = g_build_filename (self->sys_dir, "bus", "pci", "devices", NULL);
  link = g_build_filename (bus_dir, addr, NULL);
  target = g_file_read_link (link, NULL);
  if (target == NULL)
    return NULL;
  /* Lexical, so that a symlinked temporary directory stays a prefix. */
  path = g_canonicalize_filename (target, bus_dir);
  if (!g_str_has_prefix (path, self->sys_dir) || path[strlen (self->sys_dir)] != '/' ||
      !g_file_test (path, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_strdup (path + strlen (self->sys_dir) + 1);
}

static char *
device_file (HdFakeKernel *self, const char *relpath, const char *name)
{
  return g_build_filename (self->sys_dir, relpath, name, NULL);
}

static char *
driver_dir (HdFakeKernel *self, const char *driver)
{
  return g_build_filename (self->sys_dir, "bus", "pci", "drivers", driver, NULL);
}

static gboolean
driver_loaded (HdFakeKernel *self, const char *driver)
{
  g_autofree char *dir = NULL;

  if (!valid_name (driver))
    return FALSE;
  dir = driver_dir (self, driver);
  return g_file_test (dir, G_FILE_TEST_IS_DIR);
}

static char *
read_driver (HdFakeKernel *self, const char *relpath)
{
  g_autofree char *link = device_file (self, relpath, "driver");
  g_autofree char *target = g_file_read_link (link, NULL);

  return target ? g_path_get_basename (target) : NULL;
}

static char *
read_text (HdFakeKernel *self, const char *relpath, const char *name)
{
  g_autofree char *path = device_file (self, relpath, name);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

/* driver_override as the kernel holds it: NULL when the file says (null). */
static char *
read_override (HdFakeKernel *self, const char *relpath)
{
  g_autofree char *text = read_text (self, relpath, "driver_override");

  if (text == NULL || text[0] == '\0' || g_str_equal (text, "(null)"))
    return NULL;
  return g_steal_pointer (&text);
}

static guint32
read_hex (HdFakeKernel *self, const char *relpath, const char *name)
{
  g_autofree char *text = read_text (self, relpath, name);

  return text ? (guint32) g_ascii_strtoull (text, NULL, 16) : 0;
}

static gboolean
write_file (const char *path, const char *contents)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, contents, -1, &error))
    {
      g_warning ("fake kernel: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* What an open(O_WRONLY) + write() does to a plain testbed file: the
 * attributes the fake kernel does not emulate. */
static int
plain_write (HdFakeKernel *self, const char *path, const char *data)
{
  g_autofree char *real = g_build_filename (self->sys_dir, path + strlen ("/sys/"), NULL);
  size_t len = strlen (data);
  ssize_t n;
  int fd;
  int saved;

  fd = open (real, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno;
  do
    n = write (fd, data, len);
  while (n < 0 && errno == EINTR);
  saved = n < 0 ? errno : ((size_t) n == len ? 0 : EIO);
  close (fd);
  return saved;
}

/* The fake kernel's record of @addr, made on first sight for devices
 * that were added after it started. */
static FakeDevice *
lookup_device (HdFakeKernel *self, const char *addr, const char *relpath)
{
  FakeDevice *dev = g_hash_table_lookup (self->devices, addr);
  g_autofree char *methods = NULL;

  if (dev != NULL)
    return dev;
  dev = g_new0 (FakeDevice, 1);
  dev->native = read_driver (self, relpath);
  /* Without any reset method the kernel shows neither reset_method nor
   * reset (pci_dev_reset_method_attr_is_visible). */
  methods = read_text (self, relpath, "reset_method");
  if (methods != NULL)
    {
      dev->default_resets = g_strsplit (methods, " ", -1);
      if (methods[0] == '\0')
        g_clear_pointer (&dev->default_resets, g_strfreev);
    }
  dev->resets = g_strdupv (dev->default_resets);
  g_hash_table_insert (self->devices, g_strdup (addr), dev);
  return dev;
}

/* ---- binding and unbinding ------------------------------------------------ */

/* "DRIVER=" in the device's uevent file, which umockdev sends as the
 * event's properties: the kernel's dev_uevent() adds it while bound. */
static void
set_uevent_driver (HdFakeKernel *self, const char *relpath, const char *driver)
{
  g_autofree char *path = device_file (self, relpath, "uevent");
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    text = g_strdup ("");
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (lines[i][0] != '\0' && !g_str_has_prefix (lines[i], "DRIVER="))
      g_string_append_printf (out, "%s\n", lines[i]);
  if (driver != NULL)
    g_string_append_printf (out, "DRIVER=%s\n", driver);
  write_file (path, out->str);
}

static char *
iommu_group (HdFakeKernel *self, const char *relpath)
{
  g_autofree char *link = device_file (self, relpath, "iommu_group");
  g_autofree char *target = g_file_read_link (link, NULL);

  return target ? g_path_get_basename (target) : NULL;
}

/* vfio-pci registers the device's IOMMU group with VFIO: /dev/vfio/N
 * exists while any member is bound to it.  A plain file in the testbed's
 * /dev, which umockdev's preload shows in place of the real one. */
static void
update_vfio_group (HdFakeKernel *self, const char *relpath)
{
  g_autofree char *group = iommu_group (self, relpath);
  g_autofree char *members = NULL;
  g_autofree char *node = NULL;
  g_autoptr(GDir) dir = NULL;
  gboolean held = FALSE;
  const char *name;

  if (group == NULL)
    return;
  members = g_build_filename (self->sys_dir, "kernel", "iommu_groups", group, "devices", NULL);
  dir = g_dir_open (members, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && !held)
    {
      g_autofree char *member = device_relpath (self, name);
      g_autofree char *driver = member ? read_driver (self, member) : NULL;

      held = g_strcmp0 (driver, VFIO_PCI) == 0;
    }
  node = g_build_filename (self->root_dir, "dev", "vfio", group, NULL);
  if (held)
    {
      g_autofree char *vfio_dir = g_path_get_dirname (node);

      if (g_mkdir_with_parents (vfio_dir, 0755) == 0 && !g_file_test (node, G_FILE_TEST_EXISTS))
        write_file (node, "");
    }
  else
    unlink (node);
}

static void
emit_uevent (HdFakeKernel *self, const char *relpath, const char *action)
{
  g_autofree char *syspath = g_strconcat ("/sys/", relpath, NULL);

  umockdev_testbed_uevent (self->bed, syspath, action);
}

/* driver_bound(): the links first, then the uevent, so that whoever the
 * event wakes reads the new driver. */
static void
commit_bind (HdFakeKernel *self, const char *addr, const char *driver)
{
  g_autofree char *relpath = device_relpath (self, addr);
  g_autofree char *current = NULL;
  g_autofree char *link = NULL;
  g_autofree char *member = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GString) target = g_string_new (NULL);
  g_auto(GStrv) parts = NULL;

  /* A delayed bind finds the device gone, taken, or its driver unloaded. */
  if (relpath == NULL || !driver_loaded (self, driver))
    return;
  current = read_driver (self, relpath);
  if (current != NULL)
    return;

  parts = g_strsplit (relpath, "/", -1);
  for (guint i = 0; parts[i]; i++)
    g_string_append (target, "../");
  g_string_append_printf (target, "bus/pci/drivers/%s", driver);
  link = device_file (self, relpath, "driver");
  if (symlink (target->str, link) < 0)
    {
      g_warning ("fake kernel: cannot link %s: %s", link, g_strerror (errno));
      return;
    }
  dir = driver_dir (self, driver);
  member = g_build_filename (dir, addr, NULL);
  {
    g_autofree char *back = g_strconcat ("../../../../", relpath, NULL);
    if (symlink (back, member) < 0 && errno != EEXIST)
      g_warning ("fake kernel: cannot link %s: %s", member, g_strerror (errno));
  }
  set_uevent_driver (self, relpath, driver);
  if (g_str_equal (driver, VFIO_PCI))
    update_vfio_group (self, relpath);
  g_debug ("bound %s to %s", addr, driver);
  emit_uevent (self, relpath, "bind");
}

/* __device_release_driver(): links gone, DRIVER dropped, then "unbind". */
static void
commit_unbind (HdFakeKernel *self, const char *addr, const char *driver)
{
  g_autofree char *relpath = device_relpath (self, addr);
  g_autofree char *current = NULL;
  g_autofree char *link = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *member = NULL;

  if (relpath == NULL)
    return;
  current = read_driver (self, relpath);
  if (g_strcmp0 (current, driver) != 0)
    return;
  link = device_file (self, relpath, "driver");
  unlink (link);
  dir = driver_dir (self, driver);
  member = g_build_filename (dir, addr, NULL);
  unlink (member);
  set_uevent_driver (self, relpath, NULL);
  if (g_str_equal (driver, VFIO_PCI))
    update_vfio_group (self, relpath);
  g_debug ("unbound %s from %s", addr, driver);
  emit_uevent (self, relpath, "unbind");
}

static void
commit (HdFakeKernel *self, EffectKind kind, const char *addr, const char *driver)
{
  if (kind == EFFECT_BIND)
    commit_bind (self, addr, driver);
  else
    commit_unbind (self, addr, driver);
}

static gboolean
on_delayed_effect (gpointer user_data)
{
  Effect *effect = user_data;
  HdFakeKernel *self = effect->self;

  g_mutex_lock (&self->lock);
  commit (self, effect->kind, effect->addr, effect->driver);
  /* Frees @effect; its source is being dispatched and stays alive. */
  g_ptr_array_remove (self->pending, effect);
  g_mutex_unlock (&self->lock);
  return G_SOURCE_REMOVE;
}

static void
schedule_effect (HdFakeKernel *self, EffectKind kind, const char *addr, const char *driver)
{
  Effect *e;

  if (self->async_ms == 0)
    {
      commit (self, kind, addr, driver);
      return;
    }
  e = g_new0 (Effect, 1);
  e->self = self;
  e->kind = kind;
  e->addr = g_strdup (addr);
  e->driver = g_strdup (driver);
  e->source = g_timeout_source_new (self->async_ms);
  g_source_set_callback (e->source, on_delayed_effect, e, NULL);
  g_source_attach (e->source, self->context);
  g_ptr_array_add (self->pending, e);
}

static void
pending_effect_free (Effect *e)
{
  g_source_destroy (e->source);
  g_source_unref (e->source);
  effect_free (e);
}

/* ---- matching and probing ------------------------------------------------- */

static gboolean
dynid_matches (const DynId *id, guint32 vendor, guint32 device, guint32 subvendor,
               guint32 subdevice, guint32 klass)
{
  return (id->vendor == PCI_ANY_ID || id->vendor == vendor) &&
         (id->device == PCI_ANY_ID || id->device == device) &&
         (id->subvendor == PCI_ANY_ID || id->subvendor == subvendor) &&
         (id->subdevice == PCI_ANY_ID || id->subdevice == subdevice) &&
         !((id->klass ^ klass) & id->class_mask);
}

static gboolean
dynids_match (HdFakeKernel *self, const char *driver, const char *relpath)
{
  GArray *ids = g_hash_table_lookup (self->dynids, driver);
  guint32 vendor, device, subvendor, subdevice, klass;

  if (ids == NULL || ids->len == 0)
    return FALSE;
  vendor = read_hex (self, relpath, "vendor");
  device = read_hex (self, relpath, "device");
  subvendor = read_hex (self, relpath, "subsystem_vendor");
  subdevice = read_hex (self, relpath, "subsystem_device");
  klass = read_hex (self, relpath, "class");
  for (guint i = 0; i < ids->len; i++)
    if (dynid_matches (&g_array_index (ids, DynId, i), vendor, device, subvendor, subdevice, klass))
      return TRUE;
  return FALSE;
}

/* pci_match_device(): with driver_override set only that driver matches
 * (and always does); else the dynamic ids, then the static table, which
 * is the device's native driver here, and pciback's, which matches
 * everything (its probe picks by slot). */
static gboolean
driver_matches (HdFakeKernel *self, const char *addr, const char *relpath,
                const char *override, const char *driver)
{
  FakeDevice *dev;

  if (override != NULL)
    return g_str_equal (override, driver);
  if (dynids_match (self, driver, relpath))
    return TRUE;
  dev = lookup_device (self, addr, relpath);
  if (g_strcmp0 (dev->native, driver) == 0)
    return TRUE;
  return g_str_equal (driver, PCIBACK);
}

/* The driver's probe(): 0 or the errno it fails with. */
static int
driver_probe (HdFakeKernel *self, const char *addr, const char *override, const char *driver)
{
  if (g_hash_table_contains (self->probe_fails, driver))
    return EINVAL;
  if (g_str_equal (driver, PCIBACK))
    {
      /* pcistub_probe(): a listed slot, or driver_override, which then
       * lists the slot. */
      if (!g_hash_table_contains (self->slots, addr) && g_strcmp0 (override, PCIBACK) != 0)
        return ENODEV;
      g_hash_table_add (self->slots, g_strdup (addr));
    }
  return 0;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* device_attach() for an unbound device: the first driver that matches
 * and whose probe succeeds takes it.  The kernel tries drivers in the
 * order they registered; here the host driver (registered at boot) comes
 * first, then drivers with dynamic ids by name, then pciback. */
static void
attach_device (HdFakeKernel *self, const char *addr, const char *relpath)
{
  g_autofree char *override = read_override (self, relpath);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  FakeDevice *dev = lookup_device (self, addr, relpath);

  if (override != NULL)
    g_ptr_array_add (candidates, g_strdup (override));
  else
    {
      g_autoptr(GPtrArray) dynamic = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer key;

      if (dev->native != NULL)
        g_ptr_array_add (candidates, g_strdup (dev->native));
      g_hash_table_iter_init (&iter, self->dynids);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (dynamic, key);
      g_ptr_array_sort (dynamic, compare_strings);
      for (guint i = 0; i < dynamic->len; i++)
        g_ptr_array_add (candidates, g_strdup (g_ptr_array_index (dynamic, i)));
      g_ptr_array_add (candidates, g_strdup (PCIBACK));
    }

  for (guint i = 0; i < candidates->len; i++)
    {
      const char *driver = g_ptr_array_index (candidates, i);

      if (!driver_loaded (self, driver) ||
          !driver_matches (self, addr, relpath, override, driver) ||
          driver_probe (self, addr, override, driver) != 0)
        continue;
      schedule_effect (self, EFFECT_BIND, addr, driver);
      return;
    }
}

/* driver_attach(): @driver tries every unbound device it matches. */
static void
attach_driver (HdFakeKernel *self, const char *driver)
{
  g_autofree char *bus_dir = g_build_filename (self->sys_dir, "bus", "pci", "devices", NULL);
  g_autoptr(GDir) dir = g_dir_open (bus_dir, 0, NULL);
  g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (addrs, g_strdup (name));
  g_ptr_array_sort (addrs, compare_strings);
  for (guint i = 0; i < addrs->len; i++)
    {
      const char *addr = g_ptr_array_index (addrs, i);
      g_autofree char *relpath = device_relpath (self, addr);
      g_autofree char *current = relpath ? read_driver (self, relpath) : NULL;
      g_autofree char *override = NULL;

      if (relpath == NULL || current != NULL)
        continue;
      override = read_override (self, relpath);
      if (driver_matches (self, addr, relpath, override, driver) &&
          driver_probe (self, addr, override, driver) == 0)
        schedule_effect (self, EFFECT_BIND, addr, driver);
    }
}

/* ---- the attributes ------------------------------------------------------- */

/* driver_set_override() */
static int
store_driver_override (HdFakeKernel *self, const char *relpath, const char *data)
{
  g_autofree char *path = device_file (self, relpath, "driver_override");
  g_autofree char *contents = NULL;
  const char *newline = strchr (data, '\n');
  gsize len = strlen (data);

  if (len >= OVERRIDE_MAX)
    return EINVAL;
  if (newline != NULL)
    len = newline - data;
  if (len == 0)
    contents = g_strdup ("(null)\n");   /* "" or "\n": cleared */
  else
    contents = g_strdup_printf ("%.*s\n", (int) len, data);
  return write_file (path, contents) ? 0 : EIO;
}

/* kstrtoul(buf, 0, …), which takes one trailing newline. */
static gboolean
parse_ulong (const char *data, guint64 *value)
{
  g_autofree char *s = sysfs_name (data);
  const char *p = s[0] == '+' ? s + 1 : s;
  char *end = NULL;

  if (!g_ascii_isdigit (p[0]))
    return FALSE;
  errno = 0;
  *value = g_ascii_strtoull (p, &end, p[0] == '0' && (p[1] == 'x' || p[1] == 'X') ? 16 :
                                      p[0] == '0' ? 8 : 10);
  return errno == 0 && end != NULL && *end == '\0';
}

/* reset_store() + pci_reset_function() */
static int
store_reset (HdFakeKernel *self, const char *addr, const char *relpath, const char *data)
{
  FakeDevice *dev = lookup_device (self, addr, relpath);
  guint64 value;

  if (dev->default_resets == NULL)
    return ENOENT;
  if (!parse_ulong (data, &value) || value != 1)
    return EINVAL;
  if (dev->resets == NULL || dev->resets[0] == NULL)
    return ENOTTY;
  dev->n_resets++;
  g_free (dev->last_reset);
  dev->last_reset = g_strdup (dev->resets[0]);
  g_debug ("reset %s by %s", addr, dev->last_reset);
  return 0;
}

/* reset_method_store() */
static int
store_reset_method (HdFakeKernel *self, const char *addr, const char *relpath, const char *data)
{
  FakeDevice *dev = lookup_device (self, addr, relpath);
  g_autofree char *whole = sysfs_name (data);
  g_autofree char *path = device_file (self, relpath, "reset_method");
  g_autofree char *joined = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) methods = g_ptr_array_new_with_free_func (g_free);

  if (dev->default_resets == NULL)
    return ENOENT;
  if (whole[0] == '\0')
    {
      /* "All device reset methods disabled by user" */
    }
  else if (g_str_equal (whole, "default"))
    {
      for (guint i = 0; dev->default_resets[i]; i++)
        g_ptr_array_add (methods, g_strdup (dev->default_resets[i]));
    }
  else
    {
      g_auto(GStrv) names = g_strsplit (data, " ", -1);

      for (guint i = 0; names[i]; i++)
        {
          char *name = names[i];

          if (name[0] == '\0' || g_str_equal (name, "\n"))
            continue;
          g_strstrip (name);
          /* Unknown and unsupported methods alike, and a list too long:
           * EINVAL, and the previous list stays. */
          if (!g_strv_contains ((const char *const *) dev->default_resets, name) ||
              methods->len == MAX_RESET_METHODS)
            return EINVAL;
          g_ptr_array_add (methods, g_strdup (name));
        }
    }
  g_ptr_array_add (methods, NULL);
  g_strfreev (dev->resets);
  dev->resets = (GStrv) g_ptr_array_free (g_steal_pointer (&methods), FALSE);
  joined = g_strjoinv (" ", dev->resets);
  contents = joined[0] ? g_strconcat (joined, "\n", NULL) : g_strdup ("");
  return write_file (path, contents) ? 0 : EIO;
}

static int
store_device_attr (HdFakeKernel *self, const char *addr, const char *attr,
                   const char *path, const char *data)
{
  g_autofree char *relpath = device_relpath (self, addr);

  /* The device's directory is gone, and with it every attribute. */
  if (relpath == NULL)
    return ENOENT;
  if (g_str_equal (attr, "driver_override"))
    return store_driver_override (self, relpath, data);
  if (g_str_equal (attr, "reset"))
    return store_reset (self, addr, relpath, data);
  if (g_str_equal (attr, "reset_method"))
    return store_reset_method (self, addr, relpath, data);
  return plain_write (self, path, data);
}

/* bus.c unbind_store() */
static int
store_unbind (HdFakeKernel *self, const char *driver, const char *data)
{
  g_autofree char *addr = sysfs_name (data);
  g_autofree char *relpath = device_relpath (self, addr);
  g_autofree char *current = relpath ? read_driver (self, relpath) : NULL;

  if (g_strcmp0 (current, driver) != 0)
    return ENODEV;
  schedule_effect (self, EFFECT_UNBIND, addr, driver);
  return 0;
}

/* bus.c bind_store() + device_driver_attach() */
static int
store_bind (HdFakeKernel *self, const char *driver, const char *data)
{
  g_autofree char *addr = sysfs_name (data);
  g_autofree char *relpath = device_relpath (self, addr);
  g_autofree char *override = NULL;
  g_autofree char *current = NULL;
  int r;

  if (relpath == NULL)
    return ENODEV;
  override = read_override (self, relpath);
  if (!driver_matches (self, addr, relpath, override, driver))
    return ENODEV;
  current = read_driver (self, relpath);
  if (current != NULL)
    return EBUSY;
  /* Since 5.14 a failed probe's error reaches the writer. */
  r = driver_probe (self, addr, override, driver);
  if (r != 0)
    return r;
  schedule_effect (self, EFFECT_BIND, addr, driver);
  return 0;
}

/* bus.c drivers_probe_store(): 0 whether or not a driver took it. */
static int
store_drivers_probe (HdFakeKernel *self, const char *data)
{
  g_autofree char *addr = sysfs_name (data);
  g_autofree char *relpath = device_relpath (self, addr);
  g_autofree char *current = NULL;

  if (relpath == NULL)
    return ENODEV;
  current = read_driver (self, relpath);
  if (current == NULL)
    attach_device (self, addr, relpath);
  return 0;
}

/* pci-driver.c new_id_store() */
static int
store_new_id (HdFakeKernel *self, const char *driver, const char *data)
{
  DynId id = { 0, 0, PCI_ANY_ID, PCI_ANY_ID, 0, 0 };
  GArray *ids;
  int fields;

  fields = sscanf (data, "%x %x %x %x %x %x", &id.vendor, &id.device, &id.subvendor,
                   &id.subdevice, &id.klass, &id.class_mask);
  if (fields < 2)
    return EINVAL;
  /* The kernel refuses an id the driver already matches: its dynamic ids,
   * or its static table (pciback's takes everything; a host driver's
   * holds its devices' ids). */
  ids = g_hash_table_lookup (self->dynids, driver);
  for (guint i = 0; ids && i < ids->len; i++)
    if (dynid_matches (&g_array_index (ids, DynId, i), id.vendor, id.device,
                       id.subvendor, id.subdevice, id.klass))
      return EEXIST;
  if (g_str_equal (driver, PCIBACK))
    return EEXIST;
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, self->devices);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        FakeDevice *dev = value;
        g_autofree char *relpath = NULL;

        if (g_strcmp0 (dev->native, driver) != 0 || (relpath = device_relpath (self, key)) == NULL)
          continue;
        if (read_hex (self, relpath, "vendor") == id.vendor &&
            read_hex (self, relpath, "device") == id.device)
          return EEXIST;
      }
  }
  if (ids == NULL)
    {
      ids = g_array_new (FALSE, FALSE, sizeof (DynId));
      g_hash_table_insert (self->dynids, g_strdup (driver), ids);
    }
  g_array_append_val (ids, id);
  attach_driver (self, driver);
  return 0;
}

/* pci-driver.c remove_id_store(): the first matching id; devices stay. */
static int
store_remove_id (HdFakeKernel *self, const char *driver, const char *data)
{
  guint32 vendor, device, subvendor = PCI_ANY_ID, subdevice = PCI_ANY_ID, klass = 0, class_mask = 0;
  GArray *ids = g_hash_table_lookup (self->dynids, driver);

  if (sscanf (data, "%x %x %x %x %x %x", &vendor, &device, &subvendor, &subdevice,
              &klass, &class_mask) < 2)
    return EINVAL;
  for (guint i = 0; ids && i < ids->len; i++)
    {
      DynId *id = &g_array_index (ids, DynId, i);

      if (id->vendor == vendor && id->device == device &&
          (subvendor == PCI_ANY_ID || id->subvendor == subvendor) &&
          (subdevice == PCI_ANY_ID || id->subdevice == subdevice) &&
          !((id->klass ^ klass) & class_mask))
        {
          g_array_remove_index (ids, i);
          return 0;
        }
    }
  return ENODEV;
}

/* xen-pciback's str_to_slot(): "DDDD:BB:SS.F" or "BB:SS.F", with `*`
 * for the slot and/or function (-1). */
static gboolean
str_to_slot (const char *buf, int *domain, int *bus, int *slot, int *func)
{
  int parsed = 0;

  switch (sscanf (buf, " %x:%x:%x.%x %n", domain, bus, slot, func, &parsed))
    {
    case 3:
      *func = -1;
      sscanf (buf, " %x:%x:%x.* %n", domain, bus, slot, &parsed);
      break;
    case 2:
      *slot = *func = -1;
      sscanf (buf, " %x:%x:*.* %n", domain, bus, &parsed);
      break;
    default:
      break;
    }
  if (parsed && !buf[parsed])
    return TRUE;

  *domain = 0;
  parsed = 0;
  switch (sscanf (buf, " %x:%x.%x %n", bus, slot, func, &parsed))
    {
    case 2:
      *func = -1;
      sscanf (buf, " %x:%x.* %n", bus, slot, &parsed);
      break;
    case 1:
      *slot = *func = -1;
      sscanf (buf, " %x:*.* %n", bus, &parsed);
      break;
    default:
      break;
    }
  return parsed && !buf[parsed];
}

/* pcistub_device_id_add(): wildcards stand for every slot/function. */
static int
slot_add (HdFakeKernel *self, int domain, int bus, int slot, int func)
{
  if (slot < 0)
    {
      for (slot = 0; slot < 32; slot++)
        slot_add (self, domain, bus, slot, func);
      return 0;
    }
  if (func < 0)
    {
      for (func = 0; func < 8; func++)
        slot_add (self, domain, bus, slot, func);
      return 0;
    }
  if (domain < 0 || domain > 0xffff || bus < 0 || bus > 0xff || slot > 0x1f || func > 7)
    return EINVAL;
  g_hash_table_add (self->slots, g_strdup_printf ("%04x:%02x:%02x.%d", domain, bus, slot, func));
  return 0;
}

static int
store_new_slot (HdFakeKernel *self, const char *data)
{
  int domain, bus, slot, func;

  if (!str_to_slot (data, &domain, &bus, &slot, &func))
    return EINVAL;
  return slot_add (self, domain, bus, slot, func);
}

/* pcistub_device_id_remove(): every entry that matches; ENOENT if none. */
static int
store_remove_slot (HdFakeKernel *self, const char *data)
{
  int domain, bus, slot, func;
  GHashTableIter iter;
  gpointer key;
  int r = ENOENT;

  if (!str_to_slot (data, &domain, &bus, &slot, &func))
    return EINVAL;
  g_hash_table_iter_init (&iter, self->slots);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      int d, b, s, f;

      if (sscanf (key, "%x:%x:%x.%d", &d, &b, &s, &f) == 4 && d == domain && b == bus &&
          (slot < 0 || s == slot) && (func < 0 || f == func))
        {
          g_hash_table_iter_remove (&iter);
          r = 0;
        }
    }
  return r;
}

static int
store_driver_attr (HdFakeKernel *self, const char *driver, const char *attr,
                   const char *path, const char *data)
{
  gboolean pciback = g_str_equal (driver, PCIBACK);

  if (!driver_loaded (self, driver))
    return ENOENT;
  if (g_str_equal (attr, "bind"))
    return store_bind (self, driver, data);
  if (g_str_equal (attr, "unbind"))
    return store_unbind (self, driver, data);
  if (g_str_equal (attr, "new_id"))
    return store_new_id (self, driver, data);
  if (g_str_equal (attr, "remove_id"))
    return store_remove_id (self, driver, data);
  if (pciback && g_str_equal (attr, "new_slot"))
    return store_new_slot (self, data);
  if (pciback && g_str_equal (attr, "remove_slot"))
    return store_remove_slot (self, data);
  return plain_write (self, path, data);
}

/* One write's effect, with the lock held and the main context owned. */
static int
apply (HdFakeKernel *self, const char *path, const char *data)
{
  g_auto(GStrv) parts = g_strsplit (path + strlen (SYS_BUS_PCI), "/", -1);
  guint n = g_strv_length (parts);

  if (n == 1 && g_str_equal (parts[0], "drivers_probe"))
    return store_drivers_probe (self, data);
  if (n == 3 && g_str_equal (parts[0], "drivers"))
    return store_driver_attr (self, parts[1], parts[2], path, data);
  if (n == 3 && g_str_equal (parts[0], "devices"))
    return store_device_attr (self, parts[1], parts[2], path, data);
  if (n == 4 && g_str_equal (parts[0], "devices") && g_str_equal (parts[2], "driver"))
    {
      /* devices/ADDR/driver/unbind (libvirt's way): through the link. */
      g_autofree char *relpath = device_relpath (self, parts[1]);
      g_autofree char *driver = relpath ? read_driver (self, relpath) : NULL;

      if (driver == NULL)
        return ENOENT;
      return store_driver_attr (self, driver, parts[3], path, data);
    }
  return plain_write (self, path, data);
}

/* ---- handing a write to the main context ---------------------------------- */

typedef struct {
  GMutex lock;
  GCond cond;
  HdFakeKernel *self;
  const char *path;
  const char *data;
  int result;
  gboolean taken;
  gboolean done;
} Call;

static void
call_clear (gpointer data)
{
  Call *call = data;

  g_mutex_clear (&call->lock);
  g_cond_clear (&call->cond);
}

static void
call_unref (gpointer call)
{
  g_atomic_rc_box_release_full (call, call_clear);
}

/* Whoever takes the call first runs it: the main context's dispatch or
 * the waiting worker. */
static gboolean
call_take (Call *call)
{
  gboolean mine;

  g_mutex_lock (&call->lock);
  mine = !call->taken;
  call->taken = TRUE;
  g_mutex_unlock (&call->lock);
  return mine;
}

static void
call_run (Call *call)
{
  int result;

  g_mutex_lock (&call->self->lock);
  result = apply (call->self, call->path, call->data);
  g_mutex_unlock (&call->self->lock);

  g_mutex_lock (&call->lock);
  call->result = result;
  call->done = TRUE;
  g_cond_broadcast (&call->cond);
  g_mutex_unlock (&call->lock);
}

static gboolean
on_call (gpointer user_data)
{
  Call *call = user_data;

  if (call_take (call))
    call_run (call);
  return G_SOURCE_REMOVE;
}

static int
apply_in_context (HdFakeKernel *self, const char *path, const char *data)
{
  Call *call;
  GSource *source;
  int result;

  /* The main thread itself, or a worker while nobody iterates. */
  if (g_main_context_acquire (self->context))
    {
      g_mutex_lock (&self->lock);
      result = apply (self, path, data);
      g_mutex_unlock (&self->lock);
      g_main_context_release (self->context);
      return result;
    }

  call = g_atomic_rc_box_new0 (Call);
  g_mutex_init (&call->lock);
  g_cond_init (&call->cond);
  call->self = self;
  call->path = path;
  call->data = data;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, on_call, g_atomic_rc_box_acquire (call), call_unref);
  g_source_attach (source, self->context);

  g_mutex_lock (&call->lock);
  while (!call->done)
    {
      gint64 deadline = g_get_monotonic_time () + HANDOVER_POLL_US;

      if (call->taken)
        {
          g_cond_wait (&call->cond, &call->lock);
          continue;
        }
      if (g_cond_wait_until (&call->cond, &call->lock, deadline) || call->taken)
        continue;
      /* Nobody dispatched it: the owner may have stopped iterating (a test
       * that joins this thread).  Take the context and run it here. */
      g_mutex_unlock (&call->lock);
      if (g_main_context_acquire (self->context))
        {
          if (call_take (call))
            call_run (call);
          g_main_context_release (self->context);
        }
      g_mutex_lock (&call->lock);
    }
  result = call->result;
  g_mutex_unlock (&call->lock);

  g_source_destroy (source);
  g_source_unref (source);
  call_unref (call);
  return result;
}

/* ---- the writer ----------------------------------------------------------- */

static char *
log_line (const char *path, const char *data)
{
  GString *line = g_string_new (path);

  g_string_append (line, " <- ");
  g_string_append (line, data);
  if (g_str_has_suffix (line->str, "\n"))
    {
      g_string_truncate (line, line->len - 1);
      g_string_append (line, "\\n");
    }
  return g_string_free (line, FALSE);
}

static gboolean
matches_suffix (GPtrArray *suffixes, const char *path)
{
  for (guint i = 0; i < suffixes->len; i++)
    if (g_str_has_suffix (path, g_ptr_array_index (suffixes, i)))
      return TRUE;
  return FALSE;
}

static int
fake_kernel_write (HdSysfsWriter *writer, const char *path, const char *data)
{
  HdFakeKernel *self = HD_FAKE_KERNEL (writer);
  gboolean refused = FALSE;
  int errno_value = 0;

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->log, log_line (path, data));

  if (matches_suffix (self->hangs, path))
    {
      guint generation = self->release_generation;

      self->n_hung++;
      while (generation == self->release_generation)
        g_cond_wait (&self->hang_cond, &self->lock);
      self->n_hung--;
    }

  for (guint i = 0; i < self->refusals->len && !refused; i++)
    {
      Refusal *r = g_ptr_array_index (self->refusals, i);

      if (!g_str_has_suffix (path, r->suffix))
        continue;
      refused = TRUE;
      errno_value = r->errno_value;
      if (r->once)
        g_ptr_array_remove_index (self->refusals, i);
    }
  g_mutex_unlock (&self->lock);

  /* As the kernel writer: nothing outside /sys/bus/pci is written. */
  if (!hd_sysfs_writer_path_allowed (path))
    return EACCES;
  if (refused)
    return errno_value;
  return apply_in_context (self, path, data);
}

static void
hd_fake_kernel_writer_iface_init (HdSysfsWriterInterface *iface)
{
  iface->write = fake_kernel_write;
}

/* ---- the object ----------------------------------------------------------- */

static void
hd_fake_kernel_dispose (GObject *object)
{
  HdFakeKernel *self = HD_FAKE_KERNEL (object);

  g_ptr_array_set_size (self->pending, 0);
  G_OBJECT_CLASS (hd_fake_kernel_parent_class)->dispose (object);
}

static void
hd_fake_kernel_finalize (GObject *object)
{
  HdFakeKernel *self = HD_FAKE_KERNEL (object);

  g_clear_object (&self->bed);
  g_free (self->root_dir);
  g_free (self->sys_dir);
  g_main_context_unref (self->context);
  g_hash_table_unref (self->devices);
  g_hash_table_unref (self->dynids);
  g_hash_table_unref (self->slots);
  g_hash_table_unref (self->probe_fails);
  g_ptr_array_unref (self->refusals);
  g_ptr_array_unref (self->hangs);
  g_ptr_array_unref (self->pending);
  g_ptr_array_unref (self->log);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->hang_cond);
  G_OBJECT_CLASS (hd_fake_kernel_parent_class)->finalize (object);
}

static void
hd_fake_kernel_class_init (HdFakeKernelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hd_fake_kernel_dispose;
  object_class->finalize = hd_fake_kernel_finalize;
}

static void
hd_fake_kernel_init (HdFakeKernel *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->hang_cond);
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) fake_device_free);
  self->dynids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_array_unref);
  self->slots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->probe_fails = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->refusals = g_ptr_array_new_with_free_func ((GDestroyNotify) refusal_free);
  self->hangs = g_ptr_array_new_with_free_func (g_free);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_effect_free);
  self->log = g_ptr_array_new_with_free_func (g_free);
}

HdFakeKernel *
hd_fake_kernel_new (UMockdevTestbed *bed)
{
  HdFakeKernel *self;
  g_autofree char *bus_dir = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *addr;

  g_return_val_if_fail (UMOCKDEV_IS_TESTBED (bed), NULL);
  self = g_object_new (HD_TYPE_FAKE_KERNEL, NULL);
  self->bed = g_object_ref (bed);
  self->root_dir = umockdev_testbed_get_root_dir (bed);
  self->sys_dir = umockdev_testbed_get_sys_dir (bed);
  /* The one guard that matters on this machine, its disk being one of
   * its PCI devices: never the real /sys, even with asserts compiled out. */
  if (g_str_equal (self->sys_dir, "/sys") || g_str_has_prefix (self->sys_dir, "/sys/"))
    g_error ("fake kernel: the testbed's sys directory is the real %s", self->sys_dir);
  self->context = g_main_context_ref_thread_default ();

  bus_dir = g_build_filename (self->sys_dir, "bus", "pci", "devices", NULL);
  dir = g_dir_open (bus_dir, 0, NULL);
  while (dir != NULL && (addr = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *relpath = device_relpath (self, addr);
      FakeDevice *dev;

      if (relpath == NULL)
        continue;
      dev = lookup_device (self, addr, relpath);
      if (dev->default_resets != NULL)
        {
          g_autofree char *reset = device_file (self, relpath, "reset");
          if (!g_file_test (reset, G_FILE_TEST_EXISTS))
            write_file (reset, "");
        }
    }
  return self;
}

static gboolean
create_file (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS) || g_file_set_contents (path, "", 0, error);
}

gboolean
hd_fake_kernel_add_driver (HdFakeKernel *self, const char *driver, GError **error)
{
  static const char *const control[] = { "bind", "unbind", "new_id", "remove_id" };
  g_autofree char *dir = NULL;
  gboolean ok = TRUE;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), FALSE);
  g_return_val_if_fail (valid_name (driver), FALSE);

  g_mutex_lock (&self->lock);
  dir = driver_dir (self, driver);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_mutex_unlock (&self->lock);
      return TRUE;
    }
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s", dir);
      ok = FALSE;
    }
  for (guint i = 0; ok && i < G_N_ELEMENTS (control); i++)
    ok = create_file (dir, control[i], error);
  if (ok && g_str_equal (driver, PCIBACK))
    ok = create_file (dir, "new_slot", error) && create_file (dir, "remove_slot", error);
  if (ok && g_str_equal (driver, VFIO_PCI))
    {
      g_autofree char *vfio = g_build_filename (self->root_dir, "dev", "vfio", NULL);
      ok = g_mkdir_with_parents (vfio, 0755) == 0 && create_file (vfio, "vfio", error);
    }
  if (ok)
    attach_driver (self, driver);
  g_mutex_unlock (&self->lock);
  return ok;
}

void
hd_fake_kernel_set_native_driver (HdFakeKernel *self, const char *addr, const char *driver)
{
  g_autofree char *relpath = NULL;
  FakeDevice *dev;

  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  relpath = device_relpath (self, addr);
  if (relpath != NULL)
    {
      dev = lookup_device (self, addr, relpath);
      g_free (dev->native);
      dev->native = g_strdup (driver);
    }
  g_mutex_unlock (&self->lock);
  g_return_if_fail (relpath != NULL);
}

static void
add_refusal (HdFakeKernel *self, const char *path_suffix, int errno_value, gboolean once)
{
  Refusal *r = g_new0 (Refusal, 1);

  r->suffix = g_strdup (path_suffix);
  r->errno_value = errno_value;
  r->once = once;
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->refusals, r);
  g_mutex_unlock (&self->lock);
}

void
hd_fake_kernel_refuse (HdFakeKernel *self, const char *path_suffix, int errno_value)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  add_refusal (self, path_suffix, errno_value, FALSE);
}

void
hd_fake_kernel_refuse_once (HdFakeKernel *self, const char *path_suffix, int errno_value)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  add_refusal (self, path_suffix, errno_value, TRUE);
}

void
hd_fake_kernel_set_probe_fails (HdFakeKernel *self, const char *driver, gboolean fails)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  if (fails)
    g_hash_table_add (self->probe_fails, g_strdup (driver));
  else
    g_hash_table_remove (self->probe_fails, driver);
  g_mutex_unlock (&self->lock);
}

void
hd_fake_kernel_set_async (HdFakeKernel *self, guint delay_ms)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  self->async_ms = delay_ms;
  g_mutex_unlock (&self->lock);
}

guint
hd_fake_kernel_get_n_pending (HdFakeKernel *self)
{
  guint n;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), 0);
  g_mutex_lock (&self->lock);
  n = self->pending->len;
  g_mutex_unlock (&self->lock);
  return n;
}

void
hd_fake_kernel_hang (HdFakeKernel *self, const char *path_suffix)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->hangs, g_strdup (path_suffix));
  g_mutex_unlock (&self->lock);
}

static void
release_locked (HdFakeKernel *self)
{
  g_ptr_array_set_size (self->hangs, 0);
  self->release_generation++;
  g_cond_broadcast (&self->hang_cond);
}

void
hd_fake_kernel_release (HdFakeKernel *self)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  release_locked (self);
  g_mutex_unlock (&self->lock);
}

guint
hd_fake_kernel_get_n_hung (HdFakeKernel *self)
{
  guint n;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), 0);
  g_mutex_lock (&self->lock);
  n = self->n_hung;
  g_mutex_unlock (&self->lock);
  return n;
}

void
hd_fake_kernel_clear_faults (HdFakeKernel *self)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  g_ptr_array_set_size (self->refusals, 0);
  g_hash_table_remove_all (self->probe_fails);
  release_locked (self);
  g_mutex_unlock (&self->lock);
}

GStrv
hd_fake_kernel_get_log (HdFakeKernel *self)
{
  GStrv log;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), NULL);
  g_mutex_lock (&self->lock);
  log = g_new0 (char *, self->log->len + 1);
  for (guint i = 0; i < self->log->len; i++)
    log[i] = g_strdup (g_ptr_array_index (self->log, i));
  g_mutex_unlock (&self->lock);
  return log;
}

void
hd_fake_kernel_clear_log (HdFakeKernel *self)
{
  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  g_ptr_array_set_size (self->log, 0);
  g_mutex_unlock (&self->lock);
}

guint
hd_fake_kernel_get_n_resets (HdFakeKernel *self, const char *addr)
{
  FakeDevice *dev;
  guint n;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), 0);
  g_mutex_lock (&self->lock);
  dev = g_hash_table_lookup (self->devices, addr);
  n = dev ? dev->n_resets : 0;
  g_mutex_unlock (&self->lock);
  return n;
}

char *
hd_fake_kernel_dup_last_reset_method (HdFakeKernel *self, const char *addr)
{
  FakeDevice *dev;
  char *method;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), NULL);
  g_mutex_lock (&self->lock);
  dev = g_hash_table_lookup (self->devices, addr);
  method = dev ? g_strdup (dev->last_reset) : NULL;
  g_mutex_unlock (&self->lock);
  return method;
}

void
hd_fake_kernel_reset_counters (HdFakeKernel *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (HD_IS_FAKE_KERNEL (self));
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FakeDevice *dev = value;

      dev->n_resets = 0;
      g_clear_pointer (&dev->last_reset, g_free);
    }
  g_mutex_unlock (&self->lock);
}

char *
hd_fake_kernel_dup_driver (HdFakeKernel *self, const char *addr)
{
  g_autofree char *relpath = NULL;
  char *driver;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), NULL);
  g_mutex_lock (&self->lock);
  relpath = device_relpath (self, addr);
  driver = relpath ? read_driver (self, relpath) : NULL;
  g_mutex_unlock (&self->lock);
  return driver;
}

gboolean
hd_fake_kernel_has_pciback_slot (HdFakeKernel *self, const char *slot)
{
  gboolean has;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), FALSE);
  g_mutex_lock (&self->lock);
  has = g_hash_table_contains (self->slots, slot);
  g_mutex_unlock (&self->lock);
  return has;
}

/* device_del(): children first; a bound device unbinds (its "unbind"
 * uevent) before the "remove" one.  pciback keeps its slot list. */
static void
remove_device_locked (HdFakeKernel *self, const char *addr, const char *relpath)
{
  g_autofree char *dir_path = g_build_filename (self->sys_dir, relpath, NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *driver = NULL;
  g_autofree char *group = NULL;
  g_autofree char *syspath = NULL;
  const char *name;

  /* Collected first: removing a child changes the directory. */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_relpath = device_relpath (self, name);
      g_autofree char *expected = g_build_filename (relpath, name, NULL);

      if (child_relpath != NULL && g_str_equal (child_relpath, expected))
        g_ptr_array_add (children, g_strdup (name));
    }
  for (guint i = 0; i < children->len; i++)
    {
      const char *child = g_ptr_array_index (children, i);
      g_autofree char *child_relpath = g_build_filename (relpath, child, NULL);

      remove_device_locked (self, child, child_relpath);
    }

  driver = read_driver (self, relpath);
  if (driver != NULL)
    commit_unbind (self, addr, driver);
  emit_uevent (self, relpath, "remove");

  group = iommu_group (self, relpath);
  if (group != NULL)
    {
      g_autofree char *member = g_build_filename (self->sys_dir, "kernel", "iommu_groups",
                                                  group, "devices", addr, NULL);
      unlink (member);
    }
  syspath = g_strconcat ("/sys/", relpath, NULL);
  umockdev_testbed_remove_device (self->bed, syspath);
  g_hash_table_remove (self->devices, addr);
}

gboolean
hd_fake_kernel_remove_device (HdFakeKernel *self, const char *addr, GError **error)
{
  g_autofree char *relpath = NULL;

  g_return_val_if_fail (HD_IS_FAKE_KERNEL (self), FALSE);
  g_mutex_lock (&self->lock);
  relpath = device_relpath (self, addr);
  if (relpath != NULL)
    remove_device_locked (self, addr, relpath);
  g_mutex_unlock (&self->lock);
  if (relpath == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no PCI device %s", addr);
      return FALSE;
    }
  return TRUE;
}
