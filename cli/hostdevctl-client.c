/* hostdevctl: the connection to hostdevd, finding devices, and what each
 * failure means for the exit status. */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "hostdevctl.h"

G_DEFINE_QUARK (hostdevctl-error-quark, hd_ctl_error)

void
hd_ctl_clear (HdCtl *ctl)
{
  g_clear_object (&ctl->manager);
  g_clear_object (&ctl->objects);
  g_clear_object (&ctl->bus);
}

/* The daemon's error classes, by the suffix of org.hostdevd1.Error.NAME. */
static const struct {
  const char *name;
  HdCtlExit status;
} daemon_errors[] = {
  { "Failed", HD_CTL_EXIT_FAILED },
  { "System", HD_CTL_EXIT_FAILED },
  { "InvalidData", HD_CTL_EXIT_FAILED },
  { "TimedOut", HD_CTL_EXIT_FAILED },
  { "InvalidArgument", HD_CTL_EXIT_USAGE },
  { "ArgumentUnsupported", HD_CTL_EXIT_USAGE },
  { "InvalidXML", HD_CTL_EXIT_USAGE },
  { "ConfigUnsupported", HD_CTL_EXIT_USAGE },
  { "NoDevice", HD_CTL_EXIT_NO_DEVICE },
  { "NotAuthorized", HD_CTL_EXIT_NOT_AUTHORIZED },
  { "InUse", HD_CTL_EXIT_IN_USE },
  { "Busy", HD_CTL_EXIT_BUSY },
  { "NotSupported", HD_CTL_EXIT_NOT_SUPPORTED },
};

static HdCtlExit
status_for_dbus_error (const GError *error)
{
  switch ((GDBusError) error->code)
    {
    case G_DBUS_ERROR_ACCESS_DENIED:
    case G_DBUS_ERROR_AUTH_FAILED:
      return HD_CTL_EXIT_NOT_AUTHORIZED;
    /* Nobody owns the name, the daemon went away mid-call (no reply: the
     * bus has no reply timeout of its own, and ours is infinite), or there
     * is no bus to speak of. */
    case G_DBUS_ERROR_NO_REPLY:
    case G_DBUS_ERROR_SERVICE_UNKNOWN:
    case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
    case G_DBUS_ERROR_NO_SERVER:
    case G_DBUS_ERROR_DISCONNECTED:
    case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
    case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
    case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
    case G_DBUS_ERROR_SPAWN_FAILED:
      return HD_CTL_EXIT_UNREACHABLE;
    /* A daemon older than this client. */
    case G_DBUS_ERROR_UNKNOWN_METHOD:
    case G_DBUS_ERROR_UNKNOWN_INTERFACE:
    case G_DBUS_ERROR_UNKNOWN_PROPERTY:
    case G_DBUS_ERROR_NOT_SUPPORTED:
      return HD_CTL_EXIT_NOT_SUPPORTED;
    /* The device's object went away between the lookup and the call. */
    case G_DBUS_ERROR_UNKNOWN_OBJECT:
      return HD_CTL_EXIT_NO_DEVICE;
    case G_DBUS_ERROR_INVALID_ARGS:
      return HD_CTL_EXIT_USAGE;
    default:
      return HD_CTL_EXIT_FAILED;
    }
}

HdCtlExit
hd_ctl_exit_status_for_error (const GError *error)
{
  g_autofree char *remote = NULL;

  if (error->domain == HD_CTL_ERROR)
    return (HdCtlExit) error->code;
  remote = g_dbus_error_get_remote_error (error);
  if (remote != NULL && g_str_has_prefix (remote, "org.hostdevd1.Error."))
    {
      const char *name = remote + strlen ("org.hostdevd1.Error.");

      for (guint i = 0; i < G_N_ELEMENTS (daemon_errors); i++)
        if (g_str_equal (name, daemon_errors[i].name))
          return daemon_errors[i].status;
      return HD_CTL_EXIT_FAILED;
    }
  if (error->domain == G_DBUS_ERROR)
    return status_for_dbus_error (error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    return HD_CTL_EXIT_UNREACHABLE;
  return HD_CTL_EXIT_FAILED;
}

int
hd_ctl_fail (GError *error)
{
  HdCtlExit status = hd_ctl_exit_status_for_error (error);

  /* "GDBus.Error:org.hostdevd1.Error.InUse: PCI device …" is for programs;
   * a person wants the daemon's sentence. */
  g_dbus_error_strip_remote_error (error);
  g_printerr ("hostdevctl: %s\n", error->message);
  return status;
}

gboolean
hd_ctl_connect (HdCtl *ctl, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *owner = NULL;

  ctl->bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &local_error);
  if (ctl->bus == NULL)
    {
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, HD_CTL_ERROR, HD_CTL_EXIT_UNREACHABLE,
                   _("Cannot connect to the system bus: %s"), local_error->message);
      return FALSE;
    }
  /* One GetManagedObjects gives every device with every property: list,
   * tree and show need nothing else.  (It also starts hostdevd if the bus
   * can activate it.) */
  ctl->objects = hd_dbus_object_manager_client_new_sync (ctl->bus,
                                                         G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                         HD_CTL_BUS_NAME, HD_CTL_ROOT_PATH,
                                                         NULL, &local_error);
  if (ctl->objects == NULL)
    {
      HdCtlExit status = hd_ctl_exit_status_for_error (local_error);

      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, HD_CTL_ERROR, status == HD_CTL_EXIT_FAILED ? HD_CTL_EXIT_UNREACHABLE : status,
                   _("Cannot reach hostdevd: %s"), local_error->message);
      return FALSE;
    }
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (ctl->objects));
  if (owner == NULL)
    {
      g_set_error (error, HD_CTL_ERROR, HD_CTL_EXIT_UNREACHABLE,
                   _("hostdevd is not running (nothing owns %s on the system bus)"), HD_CTL_BUS_NAME);
      return FALSE;
    }
  return TRUE;
}

HdDBusManager *
hd_ctl_get_manager (HdCtl *ctl, GError **error)
{
  g_autoptr(GDBusObject) object = NULL;

  if (ctl->manager != NULL)
    return ctl->manager;
  object = g_dbus_object_manager_get_object (ctl->objects, HD_CTL_MANAGER_PATH);
  if (object != NULL && hd_dbus_object_peek_manager (HD_DBUS_OBJECT (object)) != NULL)
    ctl->manager = hd_dbus_object_get_manager (HD_DBUS_OBJECT (object));
  else
    {
      /* The contract puts the Manager at a fixed path; the object manager
       * need not list it. */
      ctl->manager = hd_dbus_manager_proxy_new_sync (ctl->bus,
                                                     G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                     G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                     HD_CTL_BUS_NAME, HD_CTL_MANAGER_PATH, NULL, error);
      if (ctl->manager == NULL)
        return NULL;
    }
  /* A detach waits for its turn (up to 30 s), for the kernel, and perhaps
   * for a person typing a password: no client-side timeout would be right,
   * and Ctrl-C still ends the wait. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (ctl->manager), G_MAXINT);
  return ctl->manager;
}

static gboolean
parse_hex (const char **p, guint max_digits, guint *value)
{
  guint n = 0;

  *value = 0;
  for (; n < max_digits && g_ascii_isxdigit (**p); n++, (*p)++)
    *value = *value * 16 + (guint) g_ascii_xdigit_value (**p);
  return n > 0;
}

/* "0000:01:00.0" (or "01:00.0" if @allow_short: domain 0, as lspci and
 * libvirt write it) → domain, bus, slot, function; FALSE for anything
 * else, computer's "" included. */
static gboolean
parse_address (const char *address, gboolean allow_short, guint parts[4])
{
  const char *p = address;
  guint first, second;

  if (address == NULL || !parse_hex (&p, 8, &first) || *p++ != ':' || !parse_hex (&p, 2, &second))
    return FALSE;
  if (*p == ':')
    {
      p++;
      parts[0] = first;
      parts[1] = second;
      if (!parse_hex (&p, 2, &parts[2]))
        return FALSE;
    }
  else if (allow_short && first <= 0xff)
    {
      parts[0] = 0;
      parts[1] = first;
      parts[2] = second;
    }
  else
    return FALSE;
  return *p++ == '.' && parse_hex (&p, 1, &parts[3]) && *p == '\0' && parts[2] <= 0x1f && parts[3] <= 7;
}

/* computer first, then PCI functions in address order (numerically, so a
 * 5-digit VMD domain such as 10000 comes after 0000). */
int
hd_ctl_compare_devices (gconstpointer a, gconstpointer b)
{
  HdDBusDevice *da = *(HdDBusDevice *const *) a;
  HdDBusDevice *db = *(HdDBusDevice *const *) b;
  guint pa[4], pb[4];
  gboolean ha = parse_address (hd_dbus_device_get_address (da), FALSE, pa);
  gboolean hb = parse_address (hd_dbus_device_get_address (db), FALSE, pb);

  if (ha != hb)
    return ha ? 1 : -1;
  for (guint i = 0; ha && i < 4; i++)
    if (pa[i] != pb[i])
      return pa[i] < pb[i] ? -1 : 1;
  return g_strcmp0 (hd_dbus_device_get_name (da), hd_dbus_device_get_name (db));
}

GPtrArray *
hd_ctl_list_devices (HdCtl *ctl, gboolean with_computer)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  GList *objects = g_dbus_object_manager_get_objects (ctl->objects);

  for (GList *l = objects; l != NULL; l = l->next)
    {
      HdDBusDevice *dev = hd_dbus_object_peek_device (HD_DBUS_OBJECT (l->data));
      const char *address;

      if (dev == NULL)
        continue;
      address = hd_dbus_device_get_address (dev);
      if (!with_computer && (address == NULL || address[0] == '\0'))
        continue;
      g_ptr_array_add (devices, g_object_ref (dev));
    }
  g_list_free_full (objects, g_object_unref);
  g_ptr_array_sort (devices, hd_ctl_compare_devices);
  return devices;
}

/* "01:00.0" is "0000:01:00.0", as lspci and libvirt write domain 0. */
static char *
normalize_address (const char *what)
{
  guint parts[4];

  if (!parse_address (what, TRUE, parts))
    return NULL;
  return g_strdup_printf ("%04x:%02x:%02x.%x", parts[0], parts[1], parts[2], parts[3]);
}

HdDBusDevice *
hd_ctl_find_device (HdCtl *ctl, const char *what, GError **error)
{
  g_autoptr(GPtrArray) devices = hd_ctl_list_devices (ctl, TRUE);
  g_autofree char *address = normalize_address (what);

  for (guint i = 0; i < devices->len; i++)
    {
      HdDBusDevice *dev = devices->pdata[i];

      if (g_strcmp0 (hd_dbus_device_get_name (dev), what) == 0 ||
          (address != NULL && g_ascii_strcasecmp (hd_dbus_device_get_address (dev), address) == 0))
        return g_object_ref (dev);
    }
  if (address != NULL)
    g_set_error (error, HD_CTL_ERROR, HD_CTL_EXIT_NO_DEVICE, _("no PCI device at %s"), address);
  else
    g_set_error (error, HD_CTL_ERROR, HD_CTL_EXIT_NO_DEVICE, _("no node device with matching name '%s'"), what);
  return NULL;
}

HdDBusDevice *
hd_ctl_device_at (HdCtl *ctl, const char *object_path)
{
  g_autoptr(GDBusObject) object = g_dbus_object_manager_get_object (ctl->objects, object_path);

  if (object == NULL)
    return NULL;
  return hd_dbus_object_get_device (HD_DBUS_OBJECT (object));
}

char *
hd_ctl_name_of (HdCtl *ctl, const char *object_path)
{
  g_autoptr(HdDBusDevice) dev = hd_ctl_device_at (ctl, object_path);
  const char *slash;

  if (dev != NULL)
    return hd_dbus_device_dup_name (dev);
  /* Gone already (a monitor hears of removals after the fact): the path's
   * last element is the name unless it had to be escaped. */
  slash = strrchr (object_path, '/');
  return g_strdup (slash != NULL ? slash + 1 : object_path);
}
