#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "dbus-service-private.h"

#include <glib/gi18n.h>

#include "dbus-errors.h"
#include "manager-facts.h"
#include "hostdev/host-usage.h"

#define BUS_NAME "org.hostdevd1"
/* A GetManagedObjects reply is ~1 KB per device: 1 MiB is a host of about
 * a thousand functions, where one call leaves megabytes behind. */
#define TRIM_AFTER_REPLY_BYTES (1024 * 1024)
#define TRIM_DELAY_MS 1000
/* Device objects made per main-loop iteration at start: about 13 ms. */
#define POPULATE_BATCH 256

G_DEFINE_TYPE (HdDBusService, hd_dbus_service, G_TYPE_OBJECT)

static void
on_device_added (HdInventory *inventory, HdNodeDevice *dev, gpointer data)
{
  HdDBusService *self = data;

  self->counts_changed = TRUE;
  hd_dbus_mark_device (self, dev);
  hd_dbus_schedule_refresh (self);
}

static void
on_device_changed (HdInventory *inventory, HdNodeDevice *dev, gpointer data)
{
  hd_dbus_mark_device (data, dev);
  hd_dbus_schedule_refresh (data);
}

static void
on_device_removed (HdInventory *inventory, HdNodeDevice *dev, gpointer data)
{
  hd_dbus_remove_device (data, dev);
  hd_dbus_schedule_refresh (data);
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
  hd_dbus_release_held (self);
}

/* The operation's device (with its group) and the devices it changed. */
static void
mark_operation (HdDBusService *self, const char *name, GStrv devices)
{
  g_autoptr(HdNodeDevice) dev = hd_inventory_lookup (self->inventory, name);

  if (dev != NULL)
    hd_dbus_mark_device (self, dev);
  for (guint i = 0; devices != NULL && devices[i] != NULL; i++)
    {
      g_autoptr(HdNodeDevice) changed = hd_inventory_lookup (self->inventory, devices[i]);

      if (changed != NULL)
        hd_dbus_mark_device (self, changed);
    }
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
  mark_operation (self, name, devices);
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
      hd_dbus_schedule_refresh (self);
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
  hd_dbus_update_manager (self);
  hd_dbus_update_assignments (self, NULL);
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
        hd_dbus_update_device (self, dev, self->populate_usage);
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
  g_clear_pointer (&self->marked, g_hash_table_unref);
  g_clear_pointer (&self->marked_parents, g_hash_table_unref);
  g_clear_pointer (&self->held, g_hash_table_unref);
  g_clear_pointer (&self->assigned, g_hash_table_unref);
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
  self->marked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->marked_parents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->assigned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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
  hd_dbus_schedule_refresh (data);
}

static void
on_domain_removed (HdDomainSource *source, const char *uri, const char *uuid, const char *name, gpointer data)
{
  hd_dbus_schedule_refresh (data);
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

  g_signal_connect (self->inventory, "device-added", G_CALLBACK (on_device_added), self);
  g_signal_connect (self->inventory, "device-changed", G_CALLBACK (on_device_changed), self);
  g_signal_connect (self->inventory, "device-removed", G_CALLBACK (on_device_removed), self);
  g_signal_connect (self->engine, "operation-finished", G_CALLBACK (on_operation_finished), self);
  g_signal_connect (self->engine, "operations-changed", G_CALLBACK (on_operations_changed), self);
  self->cancellable = g_cancellable_new ();
  g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, on_bus_got, self);
}
