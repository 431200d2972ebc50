#include "config.h"

#define G_LOG_DOMAIN "HostdevdInventory"

#include "inventory.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#include "error.h"
#include "sysfs.h"
#include "udev-autoptr.h"

#define DMI_SYSPATH "/sys/devices/virtual/dmi/id"
#define PCI_DEVICES_DIR "/sys/bus/pci/devices"

/* More threads than this only contend for the kernel's locks. */
#define COLDPLUG_MAX_THREADS 8

/* bolt's choice: a burst of SR-IOV VF creation must not overflow the socket. */
#define MONITOR_RCVBUF (128 * 1024 * 1024)

struct _HdInventory {
  GObject parent_instance;

  gboolean privileged;
  struct udev *udev;
  struct udev_monitor *monitor;
  guint monitor_source;
  guint n_enumerations;

  GHashTable *by_name;     /* name -> HdNodeDevice */
  GHashTable *by_syspath;  /* syspath -> name (owned by by_name's device) */
};

enum { SIGNAL_ADDED, SIGNAL_REMOVED, SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void hd_inventory_initable_iface_init (GInitableIface *iface);

G_DEFINE_TYPE_WITH_CODE (HdInventory, hd_inventory, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                hd_inventory_initable_iface_init))

enum { PROP_0, PROP_PRIVILEGED, N_PROPS };

/* libvirt's udevGetDeviceType: a PCI device has PCI_CLASS and no DEVTYPE.
 * Returns that class, or NULL for anything else. */
static const char *
pci_function_class (struct udev_device *udevice)
{
  if (g_strcmp0 (udev_device_get_subsystem (udevice), "pci") != 0 ||
      udev_device_get_devtype (udevice) != NULL)
    return NULL;
  return udev_device_get_property_value (udevice, "PCI_CLASS");
}

/* libvirt's udevSetParent: the nearest ancestor that is a node device,
 * else `computer`.  Decided when the device is added.  Every ancestor
 * directory of a sysfs device path is its udev parent chain, so the
 * known syspaths are looked up directly, without asking libudev to
 * resolve each parent. */
static char *
find_parent (HdInventory *self, const char *syspath)
{
  g_autofree char *path = g_strdup (syspath);
  char *slash;

  while ((slash = strrchr (path, '/')) != NULL && slash != path)
    {
      const char *name;

      *slash = '\0';
      name = g_hash_table_lookup (self->by_syspath, path);
      if (name != NULL)
        return g_strdup (name);
    }
  return g_strdup ("computer");
}

static void
store (HdInventory *self, HdNodeDevice *dev)
{
  HdNodeDevice *old = g_hash_table_lookup (self->by_name, dev->name);

  /* A device that reuses a name replaces the old definition in place, as
   * in libvirt's hash of devices; drop the old syspath alias first. */
  if (old != NULL && old->syspath != NULL)
    g_hash_table_remove (self->by_syspath, old->syspath);
  g_hash_table_replace (self->by_name, dev->name, hd_node_device_ref (dev));
  if (dev->syspath != NULL)
    g_hash_table_replace (self->by_syspath, dev->syspath, dev->name);
}

/* The node device for a udev device, or NULL when it is no PCI function
 * (or cannot be read: said in a warning).  Thread-safe. */
static HdNodeDevice *
read_device (struct udev_device *udevice, gboolean privileged)
{
  const char *pci_class = pci_function_class (udevice);
  g_autoptr(GError) error = NULL;
  HdNodeDevice *dev;

  if (pci_class == NULL)
    return NULL;
  dev = hd_node_device_read_pci (udev_device_get_syspath (udevice), pci_class, privileged, &error);
  if (dev == NULL)
    g_warning (_("Ignoring %s: %s"), udev_device_get_syspath (udevice), error->message);
  return dev;
}

/* Completes @dev and makes it the inventory's: TRUE if it replaced a
 * device of the same name. */
static gboolean
add_device (HdInventory *self, HdNodeDevice *dev)
{
  g_autofree char *parent = find_parent (self, dev->syspath);
  gboolean existed = g_hash_table_contains (self->by_name, dev->name);

  hd_node_device_finish_pci (dev, parent);
  store (self, dev);
  return existed;
}

static void
add_or_change (HdInventory *self, struct udev_device *udevice)
{
  g_autoptr(HdNodeDevice) dev = read_device (udevice, self->privileged);
  gboolean existed;

  if (dev == NULL)
    return;
  existed = add_device (self, dev);
  g_debug ("%s %s", existed ? "changed" : "added", dev->name);
  g_signal_emit (self, signals[existed ? SIGNAL_CHANGED : SIGNAL_ADDED], 0, dev);
}

static void
remove_syspath (HdInventory *self, const char *syspath)
{
  g_autoptr(HdNodeDevice) dev = NULL;
  const char *name = g_hash_table_lookup (self->by_syspath, syspath);

  if (name == NULL)
    return;
  dev = hd_node_device_ref (g_hash_table_lookup (self->by_name, name));
  g_hash_table_remove (self->by_syspath, syspath);
  g_hash_table_remove (self->by_name, dev->name);
  g_debug ("removed %s", dev->name);
  g_signal_emit (self, signals[SIGNAL_REMOVED], 0, dev);
}

/* bind/unbind: libvirt ignores them and notices the new driver only when
 * asked for XML; we refresh at once so every door sees the change. */
static void
driver_changed (HdInventory *self, struct udev_device *udevice)
{
  const char *name = g_hash_table_lookup (self->by_syspath, udev_device_get_syspath (udevice));
  g_autoptr(HdNodeDevice) dev = NULL;

  if (name == NULL)
    return;
  dev = hd_inventory_refresh (self, name);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, dev);
}

static gboolean
on_uevent (int fd, GIOCondition condition, gpointer user_data)
{
  HdInventory *self = user_data;
  g_autoptr(HdUdevDevice) udevice = udev_monitor_receive_device (self->monitor);
  const char *action;

  if (udevice == NULL)
    return G_SOURCE_CONTINUE;

  action = udev_device_get_action (udevice);
  g_debug ("uevent %s %s", action, udev_device_get_syspath (udevice));
  if (g_strcmp0 (action, "add") == 0 || g_strcmp0 (action, "change") == 0)
    add_or_change (self, udevice);
  else if (g_strcmp0 (action, "remove") == 0)
    remove_syspath (self, udev_device_get_syspath (udevice));
  else if (g_strcmp0 (action, "move") == 0)
    {
      const char *old = udev_device_get_property_value (udevice, "DEVPATH_OLD");
      if (old != NULL)
        {
          g_autofree char *old_syspath = g_strconcat ("/sys", old, NULL);
          remove_syspath (self, old_syspath);
        }
      add_or_change (self, udevice);
    }
  else if (g_strcmp0 (action, "bind") == 0 || g_strcmp0 (action, "unbind") == 0)
    driver_changed (self, udevice);

  return G_SOURCE_CONTINUE;
}

static gboolean
start_monitor (HdInventory *self, GError **error)
{
  /* The kernel's own events, not udevd's re-broadcast: hosts and test
   * guests without udevd still report hotplug, and nothing hostdevd reads
   * depends on udev rules having run. */
  self->monitor = udev_monitor_new_from_netlink (self->udev, "kernel");
  if (self->monitor == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot create a udev monitor"));
      return FALSE;
    }
  udev_monitor_set_receive_buffer_size (self->monitor, MONITOR_RCVBUF);
  if (udev_monitor_filter_add_match_subsystem_devtype (self->monitor, "pci", NULL) < 0 ||
      udev_monitor_enable_receiving (self->monitor) < 0)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot listen to udev events"));
      return FALSE;
    }
  self->monitor_source = g_unix_fd_add (udev_monitor_get_fd (self->monitor), G_IO_IN,
                                        on_uevent, self);
  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The syspaths of the PCI functions: the targets of the links in
 * /sys/bus/pci/devices, sorted so that parents come before children and
 * find_parent() sees them, as libvirt's enumeration (sorted by libudev)
 * does.  udev_enumerate reads the same directory, but builds a device for
 * every entry only to hand back its syspath, resolving the link and then
 * the parent one component at a time: that was about half of the syscalls
 * of a cold start (bench/README.md).  Each device is still made by libudev,
 * from its syspath. */
static GPtrArray *
list_pci_syspaths (GError **error)
{
  g_autoptr(GError) local = NULL;
  g_auto(HdSysfsDir) dirfd = hd_sysfs_open_dir (PCI_DEVICES_DIR, &local);
  g_autoptr(GPtrArray) syspaths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) names = NULL;

  /* The directory comes with the PCI bus: a machine without one (or a
   * container without it) has no functions, as udev_enumerate would say. */
  if (dirfd < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return g_steal_pointer (&syspaths);
  if (dirfd < 0)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  names = hd_sysfs_list_dir_at (dirfd, ".", error);
  if (names == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      char target[PATH_MAX];
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);
      g_autofree char *syspath = NULL;

      if (n <= 0)
        continue;   /* gone since the listing, or not a link: not a device */
      target[n] = '\0';
      /* The links are relative and sysfs has no symlinked directories on
       * the way, so resolving ".." by name is what the kernel does. */
      syspath = g_canonicalize_filename (target, PCI_DEVICES_DIR);
      if (g_str_has_prefix (syspath, "/sys/devices/"))
        g_ptr_array_add (syspaths, g_steal_pointer (&syspath));
    }
  g_ptr_array_sort (syspaths, compare_strings);
  return g_steal_pointer (&syspaths);
}

typedef struct {
  GPtrArray *syspaths;       /* sorted */
  HdNodeDevice **devices;    /* one per syspath; NULL: no PCI function */
  gboolean privileged;
  gint next;                 /* atomic: the next syspath to read */
} ColdplugWork;

static void
coldplug_read (ColdplugWork *work, struct udev *udev)
{
  gint i;

  while ((i = g_atomic_int_add (&work->next, 1)) < (gint) work->syspaths->len)
    {
      g_autoptr(HdUdevDevice) udevice =
        udev_device_new_from_syspath (udev, g_ptr_array_index (work->syspaths, i));
      if (udevice != NULL)
        work->devices[i] = read_device (udevice, work->privileged);
    }
}

static gpointer
coldplug_thread (gpointer data)
{
  /* libudev objects must not be shared between threads: a context each. */
  g_autoptr(HdUdev) udev = udev_new ();

  if (udev != NULL)
    coldplug_read (data, udev);
  return NULL;
}

/* Reading a device is about 70 syscalls, most of them path lookups that the
 * kernel serves in parallel; with 16,384 functions a single thread took
 * 1.6 s, and the devices do not depend on each other until their parents
 * are found.  So they are read on one thread per processor (the main
 * thread among them, which alone could do all the work), then added in
 * syspath order on this thread. */
static gboolean
coldplug (HdInventory *self, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) syspaths = list_pci_syspaths (&local);
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  g_autofree HdNodeDevice **devices = NULL;
  ColdplugWork work = { 0 };
  guint n_threads;

  if (syspaths == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot enumerate PCI devices: %s"),
                   local->message);
      return FALSE;
    }
  self->n_enumerations++;

  /* GLib's number parsers make their C locale on first use, in a g_once
   * whose waiters can come back with errno set (2.74 waits on a raw futex
   * syscall); g_ascii_string_to_signed() then takes a good number for a
   * bad one.  The VM tier saw "invalid PCI_CLASS '60000'" for the first
   * devices read.  So the locale is made here, before the threads. */
  g_ascii_strtoll ("0", NULL, 10);

  devices = g_new0 (HdNodeDevice *, MAX (syspaths->len, 1));
  work.syspaths = syspaths;
  work.devices = devices;
  work.privileged = self->privileged;
  n_threads = MIN (MIN ((guint) g_get_num_processors (), COLDPLUG_MAX_THREADS), syspaths->len);
  for (guint i = 1; i < n_threads; i++)
    {
      GThread *thread = g_thread_try_new ("hd-coldplug", coldplug_thread, &work, NULL);
      if (thread != NULL)
        g_ptr_array_add (threads, thread);
    }
  coldplug_read (&work, self->udev);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));

  for (guint i = 0; i < syspaths->len; i++)
    if (devices[i] != NULL)
      {
        g_autoptr(HdNodeDevice) dev = devices[i];
        add_device (self, dev);
      }
  return TRUE;
}

static gboolean
hd_inventory_initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  HdInventory *self = HD_INVENTORY (initable);
  g_autoptr(HdNodeDevice) computer = NULL;

  self->udev = udev_new ();
  if (self->udev == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot initialise libudev"));
      return FALSE;
    }

  computer = hd_node_device_new_computer (DMI_SYSPATH);
  store (self, computer);

  /* Listen before enumerating, so that nothing added in between is lost. */
  return start_monitor (self, error) && coldplug (self, error);
}

static void
hd_inventory_initable_iface_init (GInitableIface *iface)
{
  iface->init = hd_inventory_initable_init;
}

static void
hd_inventory_finalize (GObject *object)
{
  HdInventory *self = HD_INVENTORY (object);

  g_clear_handle_id (&self->monitor_source, g_source_remove);
  g_clear_pointer (&self->monitor, udev_monitor_unref);
  g_clear_pointer (&self->udev, udev_unref);
  g_clear_pointer (&self->by_syspath, g_hash_table_unref);
  g_clear_pointer (&self->by_name, g_hash_table_unref);
  G_OBJECT_CLASS (hd_inventory_parent_class)->finalize (object);
}

static void
hd_inventory_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  HdInventory *self = HD_INVENTORY (object);

  switch (prop_id)
    {
    case PROP_PRIVILEGED:
      self->privileged = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hd_inventory_class_init (HdInventoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hd_inventory_finalize;
  object_class->set_property = hd_inventory_set_property;

  g_object_class_install_property (object_class, PROP_PRIVILEGED,
    g_param_spec_boolean ("privileged", NULL, NULL, TRUE,
                          G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  signals[SIGNAL_ADDED] = g_signal_new ("device-added", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_REMOVED] = g_signal_new ("device-removed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_CHANGED] = g_signal_new ("device-changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
hd_inventory_init (HdInventory *self)
{
  self->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) hd_node_device_unref);
  self->by_syspath = g_hash_table_new (g_str_hash, g_str_equal);
}

HdInventory *
hd_inventory_new (gboolean privileged, GError **error)
{
  return g_initable_new (HD_TYPE_INVENTORY, NULL, error, "privileged", privileged, NULL);
}

HdNodeDevice *
hd_inventory_lookup (HdInventory *self, const char *name)
{
  HdNodeDevice *dev;

  g_return_val_if_fail (HD_IS_INVENTORY (self), NULL);
  if (name == NULL)
    return NULL;
  dev = g_hash_table_lookup (self->by_name, name);
  return dev ? hd_node_device_ref (dev) : NULL;
}

HdNodeDevice *
hd_inventory_lookup_address (HdInventory *self, const HdPciAddress *addr)
{
  g_autofree char *name = hd_pci_address_to_nodedev_name (addr);

  return hd_inventory_lookup (self, name);
}

HdNodeDevice *
hd_inventory_refresh (HdInventory *self, const char *name)
{
  HdNodeDevice *dev = g_hash_table_lookup (self->by_name, name);
  HdNodeDevice *fresh;

  if (dev == NULL)
    return NULL;
  fresh = hd_node_device_refresh (dev);
  if (fresh != dev)
    store (self, fresh);
  return fresh;
}

static int
compare_devices (gconstpointer a, gconstpointer b)
{
  const HdNodeDevice *da = *(HdNodeDevice *const *) a;
  const HdNodeDevice *db = *(HdNodeDevice *const *) b;

  if (da->kind != db->kind)
    return da->kind == HD_NODE_DEVICE_SYSTEM ? -1 : 1;
  if (da->kind == HD_NODE_DEVICE_SYSTEM)
    return 0;
  return hd_pci_address_compare (&da->pci->address, &db->pci->address);
}

GPtrArray *
hd_inventory_list (HdInventory *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_node_device_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_name);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, hd_node_device_ref (value));
  g_ptr_array_sort (list, compare_devices);
  return list;
}

guint
hd_inventory_get_n_devices (HdInventory *self)
{
  return g_hash_table_size (self->by_name);
}

guint
hd_inventory_get_n_enumerations (HdInventory *self)
{
  return self->n_enumerations;
}

HdNodeDevice *
hd_inventory_refresh_pci (HdInventory *self, const char *name, GError **error)
{
  g_autoptr(HdNodeDevice) dev = hd_inventory_refresh (self, name);

  if (dev == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_NO_DEVICE, _("no node device with matching name '%s'"), name);
      return NULL;
    }
  if (dev->pci == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, _("device %s is not a PCI device"), name);
      return NULL;
    }
  return g_steal_pointer (&dev);
}
