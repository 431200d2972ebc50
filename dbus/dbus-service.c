#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "dbus-service-private.h"

#include <glib/gi18n.h>

#include "dbus-errors.h"
#include "manager-facts.h"
#include "hostdev/host-usage.h"
#include "hostdev/selinux-boolean.h"
#include "hostdev/stub-driver.h"

#define BUS_NAME "org.hostdevd1"
/* Kernel events come in bursts (a detach is an unbind and a bind, a PF's
 * VFs come together): re-evaluate once per burst. */
#define REFRESH_DELAY_MS 50
/* A GetManagedObjects reply is ~1 KB per device: 1 MiB is a host of about
 * a thousand functions, where one call leaves megabytes behind. */
#define TRIM_AFTER_REPLY_BYTES (1024 * 1024)
#define TRIM_DELAY_MS 1000
/* Device objects made per main-loop iteration at start: about 13 ms. */
#define POPULATE_BATCH 256

G_DEFINE_TYPE (HdDBusService, hd_dbus_service, G_TYPE_OBJECT)

static void flush_properties (HdDBusService *self);

static guint
count_iommu_groups (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/sys/kernel/iommu_groups", 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
update_manager (HdDBusService *self)
{
  hd_dbus_manager_set_version (self->manager, PACKAGE_VERSION);
  hd_dbus_manager_set_iommu_groups (self->manager, count_iommu_groups ());
  hd_dbus_manager_set_devices (self->manager, hd_inventory_get_n_devices (self->inventory));
  hd_dbus_manager_set_operations (self->manager, hd_engine_get_n_operations (self->engine));
}

static void
update_device (HdDBusService *self, HdNodeDevice *dev, HdHostUsage *usage)
{
  HdDBusObjectSkeleton *object = g_hash_table_lookup (self->objects, dev->name);
  g_autoptr(HdDBusDevice) iface = NULL;
  g_autoptr(HdVerdict) verdict = NULL;
  g_autofree char *original = NULL;
  gboolean detached;
  gboolean fresh = object == NULL;

  if (fresh)
    {
      g_autofree char *path = hd_dbus_device_path (dev->name);

      object = hd_dbus_object_skeleton_new (path);
      iface = hd_dbus_device_skeleton_new ();
      hd_dbus_object_skeleton_set_device (object, iface);
      hd_dbus_methods_connect_device (self, iface);
      g_hash_table_insert (self->objects, g_strdup (dev->name), object);
    }
  else if (dev->pci != NULL && hd_engine_is_claimed (self->engine, &dev->pci->address))
    {
      /* Mid-operation the kernel shows steps (a detach leaves the device
       * without a driver between unbind and bind): clients see the state
       * before, then the outcome, once the operation lets go of it. */
      self->held = TRUE;
      return;
    }
  else
    iface = hd_dbus_object_get_device (HD_DBUS_OBJECT (object));
  if (dev->pci != NULL)
    verdict = hd_verdict_compute (self->inventory, usage, dev, hd_stub_driver_lookup (NULL, NULL), FALSE, FALSE);
  detached = hd_engine_lookup_owned (self->engine, dev->name, &original);
  hd_dbus_device_update (iface, dev, verdict, original, detached);
  if (fresh)
    g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (object));
}

static void
remove_device (HdDBusService *self, const char *name)
{
  HdDBusObjectSkeleton *object = g_hash_table_lookup (self->objects, name);

  if (object == NULL)
    return;
  g_dbus_object_manager_server_unexport (self->server,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
  g_hash_table_remove (self->objects, name);
}

static void
facts_of (const HdPciAddress *address, HdAssignmentFacts *facts, gpointer data)
{
  HdDBusService *self = data;
  g_autoptr(HdNodeDevice) dev = hd_inventory_lookup_address (self->inventory, address);

  if (dev == NULL)
    return;
  facts->present = TRUE;
  facts->iommu_group = dev->pci->iommu_group;
  /* The lookup's answer lives as long as the inventory's snapshot. */
  facts->driver = dev->driver != NULL ? g_intern_string (dev->driver) : NULL;
  facts->on_stub = dev->driver != NULL && hd_stub_driver_find_by_driver (dev->driver) != NULL;
}

/* libvirt's domains as the assignment rules see them: what a running
 * domain uses now, what a defined one will use when it starts. */
static void
add_libvirt_domains (HdDBusService *self, GPtrArray *out)
{
  g_autoptr(GPtrArray) domains = NULL;

  if (self->domains == NULL)
    return;
  domains = hd_domain_source_list (self->domains);
  for (guint i = 0; i < domains->len; i++)
    {
      HdDomain *d = g_ptr_array_index (domains, i);
      HdAssignmentDomain *a = hd_assignment_domain_new (d->name, d->uri, d->state == HD_DOMAIN_RUNNING,
                                                        d->autostart);

      for (guint j = 0; j < d->hostdevs->len; j++)
        g_ptr_array_add (a->hostdevs, hd_hostdev_copy (g_ptr_array_index (d->hostdevs, j)));
      g_ptr_array_add (out, a);
    }
}

/* The assignments (libvirt's domains and Assign()'s) and their conflicts,
 * on the Manager and each Device. */
static void
update_assignments (HdDBusService *self)
{
  g_autoptr(GPtrArray) domains = hd_assignment_store_list (self->store);
  g_autoptr(GPtrArray) assignments = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  g_autoptr(GHashTable) assigned_to = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                             (GDestroyNotify) g_ptr_array_unref);
  GVariantBuilder a, c;
  GHashTableIter iter;
  gpointer name, object;

  add_libvirt_domains (self, domains);
  assignments = hd_assignments_collect (domains);
  conflicts = hd_assignments_check (assignments, facts_of, self);
  hd_assignments_check_virt_use_sysfs (assignments, hd_selinux_virt_use_sysfs_running_off (), conflicts);
  g_variant_builder_init (&a, G_VARIANT_TYPE ("a(sssobsb)"));
  for (guint i = 0; i < assignments->len; i++)
    {
      HdAssignment *x = g_ptr_array_index (assignments, i);
      g_autofree char *path = hd_dbus_device_path (x->device);
      GPtrArray *list = g_hash_table_lookup (assigned_to, x->device);

      g_variant_builder_add (&a, "(sssobsb)", x->domain, x->uri, hd_assignment_state_to_string (x->state), path,
                             x->managed, x->driver, x->autostart);
      if (list == NULL)
        {
          list = g_ptr_array_new ();
          g_hash_table_insert (assigned_to, x->device, list);
        }
      g_ptr_array_add (list, x->domain);
    }
  g_variant_builder_init (&c, G_VARIANT_TYPE ("a(sboass)"));
  for (guint i = 0; i < conflicts->len; i++)
    {
      HdConflict *x = g_ptr_array_index (conflicts, i);
      g_autofree char *path = hd_dbus_device_path (x->device);

      g_variant_builder_add (&c, "(sbo^ass)", hd_conflict_kind_to_string (x->kind), x->error, path,
                             x->domains, x->message);
    }
  hd_dbus_manager_set_assignments (self->manager, g_variant_builder_end (&a));
  hd_dbus_manager_set_conflicts (self->manager, g_variant_builder_end (&c));
  g_hash_table_iter_init (&iter, self->objects);
  while (g_hash_table_iter_next (&iter, &name, &object))
    {
      g_autoptr(HdDBusDevice) iface = hd_dbus_object_get_device (HD_DBUS_OBJECT (object));
      GPtrArray *list = g_hash_table_lookup (assigned_to, name);
      static const char *const none[] = { NULL };

      if (list != NULL)
        g_ptr_array_add (list, NULL);
      hd_dbus_device_set_assigned_to (iface, list != NULL ? (const char *const *) list->pdata : none);
    }
}

/* Every device's properties and verdict from the inventory as it is now,
 * with one look at the host's use of devices for all of them. */
static void
refresh_all (HdDBusService *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdHostUsage) usage = hd_host_usage_scan (NULL, &error);
  g_autoptr(GPtrArray) devices = hd_inventory_list (self->inventory);
  g_autoptr(GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer name, object;

  if (usage == NULL)
    g_warning (_("Cannot tell which devices the host uses: %s"), error->message);
  self->held = FALSE;
  for (guint i = 0; i < devices->len; i++)
    {
      HdNodeDevice *dev = g_ptr_array_index (devices, i);

      g_hash_table_add (present, dev->name);
      update_device (self, dev, usage);
    }
  g_hash_table_iter_init (&iter, self->objects);
  while (g_hash_table_iter_next (&iter, &name, &object))
    if (!g_hash_table_contains (present, name))
      {
        g_dbus_object_manager_server_unexport (self->server, g_dbus_object_get_object_path (object));
        g_hash_table_iter_remove (&iter);
      }
  update_manager (self);
  update_assignments (self);
  g_debug ("re-evaluated %u devices", devices->len);
}

void
hd_dbus_service_refresh (HdDBusService *self)
{
  if (!self->on_bus)
    return;
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  refresh_all (self);
  flush_properties (self);
}

static gboolean
on_refresh_due (gpointer data)
{
  HdDBusService *self = data;

  self->refresh_id = 0;
  refresh_all (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (HdDBusService *self)
{
  /* Without a bus there is nobody to tell. */
  if (!self->on_bus)
    return;
  if (self->populate_id != 0)
    {
      self->refresh_after_populate = TRUE;
      return;
    }
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, on_refresh_due, self);
}

static void
on_device_event (HdInventory *inventory, HdNodeDevice *dev, gpointer data)
{
  schedule_refresh (data);
}

static void
on_device_removed (HdInventory *inventory, HdNodeDevice *dev, gpointer data)
{
  remove_device (data, dev->name);
  schedule_refresh (data);
}

static void
on_operations_changed (HdEngine *engine, gpointer data)
{
  HdDBusService *self = data;

  if (!self->on_bus)
    return;
  hd_dbus_manager_set_operations (self->manager, hd_engine_get_n_operations (engine));
  /* An operation that ends without OperationFinished (the watchdog gave
   * up on it first) still owes the devices it held their state. */
  if (self->held)
    {
      self->held = FALSE;
      schedule_refresh (self);
    }
}

/* Sends the PropertiesChanged that the skeletons hold back for an idle
 * moment, so that they reach the bus before the reply that follows. */
static void
flush_properties (HdDBusService *self)
{
  GHashTableIter iter;
  gpointer object;

  g_hash_table_iter_init (&iter, self->objects);
  while (g_hash_table_iter_next (&iter, NULL, &object))
    {
      g_autoptr(HdDBusDevice) iface = hd_dbus_object_get_device (HD_DBUS_OBJECT (object));

      g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (iface));
    }
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self->manager));
}

static void
on_operation_finished (HdEngine *engine, const char *kind, const char *name, GStrv devices,
                       const GError *error, gpointer data)
{
  HdDBusService *self = data;
  g_autofree char *path = hd_dbus_device_path (name);
  g_auto(GStrv) paths = NULL;
  g_autofree char *error_name = NULL;

  if (!self->on_bus)
    return;
  error_name = error != NULL ? g_dbus_error_encode_gerror (error) : g_strdup ("");
  paths = hd_dbus_device_paths (devices, devices != NULL ? g_strv_length (devices) : 0);
  /* Now, not after the usual delay: the caller's reply follows this
   * signal, and what it reads next must already be the new state. */
  hd_dbus_service_refresh (self);
  hd_dbus_manager_emit_operation_finished (self->manager, kind, path, (const char *const *) paths,
                                           error_name, error != NULL ? error->message : "");
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer data)
{
  g_debug ("owning %s on the system bus", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer data)
{
  /* GDBus ends the process (SIGTERM, a clean stop) when the shared system
   * bus connection closes: under systemd, the sockets and D-Bus activation
   * start hostdevd again for the next client, with a fresh connection.
   * The handler then gets no connection. */
  if (connection == NULL || g_dbus_connection_is_closed (connection))
    g_warning (_("Lost the system bus (dbus-daemon stopped): hostdevd stops; its sockets and D-Bus "
                 "activation start it again"));
  else
    g_warning (_("Cannot own %s on the system bus (another hostdevd, or no bus policy for it): "
                 "the D-Bus API is not available"), name);
}

/* Once every object is made and the host's readiness is known: the
 * objects go on the bus, then the name is requested, so that a client that
 * sees the name finds them all. */
static void
maybe_go_public (HdDBusService *self)
{
  if (self->populating != NULL || !self->probed || self->owner_id != 0)
    return;
  /* Exported before, each object would have been announced with an
   * InterfacesAdded signal of its own: 16,384 of them took 1.4 s more. */
  g_dbus_object_manager_server_set_connection (self->server, self->connection);
  self->owner_id = g_bus_own_name_on_connection (self->connection, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                                 on_name_acquired, on_name_lost, self, NULL);
  g_debug ("%u device objects on the bus", g_hash_table_size (self->objects));
  if (self->refresh_after_populate)
    {
      self->refresh_after_populate = FALSE;
      schedule_refresh (self);
    }
}

static void
on_start_probed (GObject *source, GAsyncResult *result, gpointer data)
{
  HdDBusService *self = HD_DBUS_SERVICE (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdReadiness) readiness = hd_dbus_readiness_probe_finish (result, &error);

  if (readiness != NULL)
    hd_dbus_manager_update_readiness (self->manager, readiness);
  else
    g_warning (_("Cannot tell whether this host is ready for passthrough: %s"), error->message);
  self->probed = TRUE;
  maybe_go_public (self);
}

/* The last batch is made: what needs every object. */
static void
populated (HdDBusService *self)
{
  g_clear_pointer (&self->populating, g_ptr_array_unref);
  g_clear_pointer (&self->populate_usage, hd_host_usage_free);
  update_manager (self);
  update_assignments (self);
  maybe_go_public (self);
}

static gboolean
populate_batch (gpointer data)
{
  HdDBusService *self = data;
  guint end = MIN (self->populating->len, self->populated + POPULATE_BATCH);

  for (; self->populated < end; self->populated++)
    {
      HdNodeDevice *listed = g_ptr_array_index (self->populating, self->populated);
      /* The inventory's snapshot now: a device removed since the list was
       * made gets no object, one changed gets its new state. */
      g_autoptr(HdNodeDevice) dev = hd_inventory_lookup (self->inventory, listed->name);

      if (dev != NULL)
        update_device (self, dev, self->populate_usage);
    }
  if (self->populated < self->populating->len)
    return G_SOURCE_CONTINUE;
  self->populate_id = 0;
  populated (self);
  return G_SOURCE_REMOVE;
}

static void
on_bus_got (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = g_bus_get_finish (res, &error);
  HdDBusService *self = data;

  /* Cancelled: the service is gone, and @self with it. */
  if (connection == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (connection == NULL)
    {
      g_warning (_("Cannot connect to the system bus: the D-Bus API is not available"));
      return;
    }
  /* The objects are made now, not at start: a daemon without a bus never
   * builds them.  They are made in batches at idle priority, so that the
   * main loop serves the libvirt door in between (16,384 functions: 0.5 s
   * of batches, bench/dbus-coldstart.py), while a worker thread probes the
   * host's readiness.  Then maybe_go_public(). */
  self->connection = connection;
  self->on_bus = TRUE;
  hd_dbus_readiness_probe_async (self, on_start_probed, NULL);
  self->trimmer = hd_reply_trimmer_new (connection, TRIM_AFTER_REPLY_BYTES, TRIM_DELAY_MS);
  self->populating = hd_inventory_list (self->inventory);
  self->populated = 0;
  self->populate_usage = hd_host_usage_scan (NULL, &error);
  if (self->populate_usage == NULL)
    g_warning (_("Cannot tell which devices the host uses: %s"), error->message);
  self->populate_id = g_idle_add (populate_batch, self);
}

static void
hd_dbus_service_dispose (GObject *object)
{
  HdDBusService *self = HD_DBUS_SERVICE (object);

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->populate_id, g_source_remove);
  g_clear_pointer (&self->populating, g_ptr_array_unref);
  g_clear_pointer (&self->populate_usage, hd_host_usage_free);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_pointer (&self->trimmer, hd_reply_trimmer_free);
  if (self->inventory != NULL)
    g_signal_handlers_disconnect_by_data (self->inventory, self);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  if (self->domains != NULL)
    g_signal_handlers_disconnect_by_data (self->domains, self);
  g_clear_object (&self->domains);
  g_clear_pointer (&self->objects, g_hash_table_unref);
  g_clear_object (&self->server);
  g_clear_object (&self->manager);
  g_clear_pointer (&self->gate, hd_polkit_gate_free);
  g_clear_pointer (&self->store, hd_assignment_store_free);
  g_clear_object (&self->engine);
  g_clear_object (&self->inventory);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (hd_dbus_service_parent_class)->dispose (object);
}

static void
hd_dbus_service_class_init (HdDBusServiceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hd_dbus_service_dispose;
}

static void
hd_dbus_service_init (HdDBusService *self)
{
  self->objects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

HdDBusService *
hd_dbus_service_new (HdInventory *inventory, HdEngine *engine, const char *assignments_dir, GError **error)
{
  g_autoptr(HdDBusService) self = g_object_new (HD_TYPE_DBUS_SERVICE, NULL);
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);

  hd_dbus_errors_register ();
  self->store = hd_assignment_store_open (assignments_dir, bad, error);
  if (self->store == NULL)
    return NULL;
  for (guint i = 0; i < bad->len; i++)
    g_warning (_("Ignoring an assignment record: %s"), (const char *) g_ptr_array_index (bad, i));
  self->inventory = g_object_ref (inventory);
  self->engine = g_object_ref (engine);
  self->gate = hd_polkit_gate_new ();
  return g_steal_pointer (&self);
}

static void
on_domain_event (HdDomainSource *source, gpointer arg, gpointer data)
{
  schedule_refresh (data);
}

static void
on_domain_removed (HdDomainSource *source, const char *uri, const char *uuid, const char *name, gpointer data)
{
  schedule_refresh (data);
}

void
hd_dbus_service_set_domain_source (HdDBusService *self, HdDomainSource *source)
{
  g_return_if_fail (self->domains == NULL);
  self->domains = g_object_ref (source);
  g_signal_connect (source, "domain-changed", G_CALLBACK (on_domain_event), self);
  g_signal_connect (source, "domain-removed", G_CALLBACK (on_domain_removed), self);
}

void
hd_dbus_service_start (HdDBusService *self)
{
  g_autoptr(HdDBusObjectSkeleton) manager_object = hd_dbus_object_skeleton_new (HD_DBUS_MANAGER_PATH);

  g_return_if_fail (self->server == NULL);
  self->server = g_dbus_object_manager_server_new (HD_DBUS_PATH);
  self->manager = hd_dbus_manager_skeleton_new ();
  hd_dbus_object_skeleton_set_manager (manager_object, self->manager);
  hd_dbus_methods_connect_manager (self, self->manager);
  hd_dbus_assign_connect (self, self->manager);
  hd_dbus_selinux_connect (self, self->manager);
  g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (manager_object));

  g_signal_connect (self->inventory, "device-added", G_CALLBACK (on_device_event), self);
  g_signal_connect (self->inventory, "device-changed", G_CALLBACK (on_device_event), self);
  g_signal_connect (self->inventory, "device-removed", G_CALLBACK (on_device_removed), self);
  g_signal_connect (self->engine, "operation-finished", G_CALLBACK (on_operation_finished), self);
  g_signal_connect (self->engine, "operations-changed", G_CALLBACK (on_operations_changed), self);
  self->cancellable = g_cancellable_new ();
  g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, on_bus_got, self);
}
