/* hostdevctl monitor: one line per event, flushed at once (tests and
 * scripts read it through a pipe).  Property changes are reported against
 * a snapshot of what was last reported, because by the time a proxy says
 * that a property changed its cache holds the new value only. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "hostdevctl-format.h"

typedef struct {
  HdCtl *ctl;
  GMainLoop *loop;
  GHashTable *snapshots;   /* object path → GHashTable (property name → GVariant) */
  gboolean stopped;        /* the daemon left the bus and has not come back */
} Monitor;

static void G_GNUC_PRINTF (1, 2)
emit (const char *format, ...)
{
  g_autofree char *line = NULL;
  va_list ap;

  va_start (ap, format);
  line = g_strdup_vprintf (format, ap);
  va_end (ap);
  fputs (line, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static GHashTable *
snapshot_of (HdDBusDevice *dev)
{
  GDBusInterfaceInfo *info = hd_dbus_device_interface_info ();
  GHashTable *props = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_variant_unref);

  for (guint i = 0; info->properties[i] != NULL; i++)
    {
      GVariant *value = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (dev), info->properties[i]->name);

      if (value != NULL)
        g_hash_table_insert (props, info->properties[i]->name, value);
    }
  return props;
}

/* A property's value in a line of its own: names for object paths,
 * "(none)" for what does not apply (the contract's "", -1 and "/"). */
static char *
format_value (Monitor *m, const char *property, GVariant *value)
{
  if (value == NULL)
    return g_strdup (_("(unknown)"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      const char *s = g_variant_get_string (value, NULL);

      return g_strdup (s[0] != '\0' ? s : _("(none)"));
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH))
    {
      const char *path = g_variant_get_string (value, NULL);

      return g_str_equal (path, "/") ? g_strdup (_("(none)")) : hd_ctl_name_of (m->ctl, path);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? _("yes") : _("no"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    return g_strdup_printf ("%04x", (guint) g_variant_get_uint16 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    {
      gint32 n = g_variant_get_int32 (value);

      if (n < 0)
        return g_strdup (_("(none)"));
      return g_str_equal (property, "Class") ? g_strdup_printf ("0x%06x", (guint) n) : g_strdup_printf ("%d", n);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_strdup_printf ("%u", g_variant_get_uint32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY) ||
      g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH_ARRAY))
    {
      g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
      gboolean paths = g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH_ARRAY);

      for (gsize i = 0; i < g_variant_n_children (value); i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
          const char *s = g_variant_get_string (child, NULL);

          g_ptr_array_add (items, paths ? hd_ctl_name_of (m->ctl, s) : g_strdup (s));
        }
      if (items->len == 0)
        return g_strdup (_("(none)"));
      g_ptr_array_add (items, NULL);
      /* Sentences (VerdictReasons) need a stronger separator than words. */
      return g_strjoinv (g_str_equal (property, "VerdictReasons") ? "; " : " ", (char **) items->pdata);
    }
  return g_variant_print (value, FALSE);
}

/* Prints every property of @dev that differs from its snapshot, in the
 * interface's order, and takes the new values as the snapshot. */
static void
report_changes (Monitor *m, HdDBusDevice *dev, GHashTable *old)
{
  GDBusInterfaceInfo *info = hd_dbus_device_interface_info ();
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (dev));
  g_autofree char *name = hd_dbus_device_dup_name (dev);
  GHashTable *now = snapshot_of (dev);

  for (guint i = 0; info->properties[i] != NULL; i++)
    {
      const char *property = info->properties[i]->name;
      GVariant *before = g_hash_table_lookup (old, property);
      GVariant *after = g_hash_table_lookup (now, property);
      g_autofree char *before_text = NULL;
      g_autofree char *after_text = NULL;

      if (before == after || (before != NULL && after != NULL && g_variant_equal (before, after)))
        continue;
      before_text = format_value (m, property, before);
      after_text = format_value (m, property, after);
      emit ("%s: %s %s -> %s", name, property, before_text, after_text);
    }
  g_hash_table_replace (m->snapshots, g_strdup (path), now);
}

static void
on_object_added (GDBusObjectManager *objects, GDBusObject *object, gpointer user_data)
{
  Monitor *m = user_data;
  HdDBusDevice *dev = hd_dbus_object_peek_device (HD_DBUS_OBJECT (object));
  const char *path = g_dbus_object_get_object_path (object);
  GHashTable *old;

  if (dev == NULL)
    return;
  if (m->stopped)
    {
      emit (_("hostdevd: started"));
      m->stopped = FALSE;
    }
  /* Back after a restart of the daemon: only what changed meanwhile. */
  old = g_hash_table_lookup (m->snapshots, path);
  if (old != NULL)
    {
      g_hash_table_ref (old);
      report_changes (m, dev, old);
      g_hash_table_unref (old);
      return;
    }
  emit (_("%s: added"), hd_dbus_device_get_name (dev));
  g_hash_table_insert (m->snapshots, g_strdup (path), snapshot_of (dev));
}

static void
on_object_removed (GDBusObjectManager *objects, GDBusObject *object, gpointer user_data)
{
  Monitor *m = user_data;
  HdDBusDevice *dev = hd_dbus_object_peek_device (HD_DBUS_OBJECT (object));
  g_autofree char *owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (objects));

  /* GLib drops every object when the daemon leaves the bus (name owner
   * already unset): the devices are not gone, the daemon is. */
  if (dev == NULL || owner == NULL)
    return;
  emit (_("%s: removed"), hd_dbus_device_get_name (dev));
  g_hash_table_remove (m->snapshots, g_dbus_object_get_object_path (object));
}

static void
on_properties_changed (GDBusObjectManagerClient *objects, GDBusObjectProxy *object, GDBusProxy *proxy,
                       GVariant *changed, const char *const *invalidated, gpointer user_data)
{
  Monitor *m = user_data;
  GHashTable *old;

  if (!HD_DBUS_IS_DEVICE (proxy))
    return;
  old = g_hash_table_lookup (m->snapshots, g_dbus_proxy_get_object_path (proxy));
  if (old == NULL)
    return;
  g_hash_table_ref (old);
  report_changes (m, HD_DBUS_DEVICE (proxy), old);
  g_hash_table_unref (old);
}

/* The daemon left (owner unset before GLib drops the objects) or came back
 * (set after GLib added them again): devices that did not come back with
 * it are gone. */
static void
on_name_owner (GObject *objects, GParamSpec *pspec, gpointer user_data)
{
  Monitor *m = user_data;
  g_autofree char *owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (objects));
  g_autoptr(GList) paths = NULL;

  /* GLib notifies twice when the owner goes: once before it drops the
   * objects, once after. */
  if (owner == NULL && m->stopped)
    return;
  if (owner == NULL)
    {
      emit (_("hostdevd: stopped"));
      m->stopped = TRUE;
      return;
    }
  if (m->stopped)
    {
      emit (_("hostdevd: started"));
      m->stopped = FALSE;
    }
  paths = g_list_sort (g_hash_table_get_keys (m->snapshots), (GCompareFunc) g_strcmp0);
  for (GList *l = paths; l != NULL; l = l->next)
    {
      g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (G_DBUS_OBJECT_MANAGER (objects), l->data);
      GHashTable *props = g_hash_table_lookup (m->snapshots, l->data);
      GVariant *name = g_hash_table_lookup (props, "Name");

      if (object != NULL)
        continue;
      emit (_("%s: removed"), name != NULL ? g_variant_get_string (name, NULL) : (const char *) l->data);
      g_hash_table_remove (m->snapshots, l->data);
    }
}

static void
on_operation_finished (GDBusConnection *bus, const char *sender, const char *path, const char *interface,
                       const char *signal, GVariant *parameters, gpointer user_data)
{
  Monitor *m = user_data;
  const char *operation, *device, *error_name, *error_message;
  g_autofree const char **devices = NULL;
  g_autofree char *name = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(soaoss)")))
    return;
  g_variant_get (parameters, "(&s&o^a&o&s&s)", &operation, &device, &devices, &error_name, &error_message);
  name = hd_ctl_name_of (m->ctl, device);
  if (error_name[0] != '\0')
    {
      const char *dot = strrchr (error_name, '.');

      emit (_("%s: %s failed (%s): %s"), name, operation, dot != NULL ? dot + 1 : error_name, error_message);
    }
  else if (devices[0] == NULL)
    emit (_("%s: %s succeeded, changed nothing"), name, operation);
  else
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *list = NULL;

      for (guint i = 0; devices[i] != NULL; i++)
        g_ptr_array_add (names, hd_ctl_name_of (m->ctl, devices[i]));
      g_ptr_array_add (names, NULL);
      list = g_strjoinv (" ", (char **) names->pdata);
      emit (_("%s: %s succeeded, changed %s"), name, operation, list);
    }
}

static gboolean
on_quit (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
hd_ctl_cmd_monitor (HdCtl *ctl, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GHashTable) snapshots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                           (GDestroyNotify) g_hash_table_unref);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GVariant) pong = NULL;
  Monitor m = { ctl, loop, snapshots, FALSE };
  guint subscription, sigint, sigterm;
  int status = hd_ctl_parse_options (ctl, NULL, &argc, &argv, 0);

  if (status >= 0)
    return status;
  if (!hd_ctl_connect (ctl, &error))
    return hd_ctl_fail (error);

  devices = hd_ctl_list_devices (ctl, TRUE);
  for (guint i = 0; i < devices->len; i++)
    g_hash_table_insert (snapshots, g_strdup (g_dbus_proxy_get_object_path (devices->pdata[i])),
                         snapshot_of (devices->pdata[i]));
  g_signal_connect (ctl->objects, "object-added", G_CALLBACK (on_object_added), &m);
  g_signal_connect (ctl->objects, "object-removed", G_CALLBACK (on_object_removed), &m);
  g_signal_connect (ctl->objects, "interface-proxy-properties-changed", G_CALLBACK (on_properties_changed), &m);
  g_signal_connect (ctl->objects, "notify::name-owner", G_CALLBACK (on_name_owner), &m);
  /* Straight from the bus: the Manager need not be in the object manager,
   * and this way no proxy is needed for one signal. */
  subscription = g_dbus_connection_signal_subscribe (ctl->bus, HD_CTL_BUS_NAME, HD_CTL_MANAGER_IFACE,
                                                     "OperationFinished", HD_CTL_MANAGER_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_operation_finished, &m, NULL);
  /* The match rule goes to the bus ahead of this call, so once the bus
   * answers, no event can be missed: then say that we are ready. */
  pong = g_dbus_connection_call_sync (ctl->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (pong == NULL)
    {
      g_dbus_connection_signal_unsubscribe (ctl->bus, subscription);
      return hd_ctl_fail (error);
    }

  sigint = g_unix_signal_add (SIGINT, on_quit, loop);
  sigterm = g_unix_signal_add (SIGTERM, on_quit, loop);
  emit (_("Monitoring hostdevd (Ctrl-C to stop)"));
  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handlers_disconnect_by_data (ctl->objects, &m);
  g_dbus_connection_signal_unsubscribe (ctl->bus, subscription);
  return HD_CTL_EXIT_OK;
}
