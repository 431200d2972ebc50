/* SELinux's virt_use_sysfs through the D-Bus door: the worker that turns
 * it on (Assign() uses it too), and Manager.EnableVirtUseSysfs, the
 * polkit-guarded way for libvirt's own domains that use pci-stub or
 * pciback (Conflicts warns about them: "virt-use-sysfs-off"). */
#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "dbus-service-private.h"
#include "dbus-options.h"

#include <glib/gi18n.h>

#include "hostdev/selinux-boolean.h"

static void
ensure_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean changed = FALSE;

  if (!hd_selinux_virt_use_sysfs_ensure (&changed, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, changed);
}

void
hd_dbus_selinux_ensure_async (GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, callback, user_data);

  /* libsemanage rebuilds the policy: seconds, never on the main loop. */
  g_task_run_in_thread (task, ensure_thread);
}

gboolean
hd_dbus_selinux_ensure_finish (GAsyncResult *result, gboolean *changed, GError **error)
{
  GError *local_error = NULL;

  *changed = g_task_propagate_boolean (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  HdDBusService *service;
  GDBusMethodInvocation *invocation;
} Call;

static void
call_free (Call *call)
{
  g_object_unref (call->service);
  g_object_unref (call->invocation);
  g_free (call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static void
enabled (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Call) call = data;
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;

  if (!hd_dbus_selinux_ensure_finish (result, &changed, &error))
    {
      hd_dbus_return_error (call->invocation, g_steal_pointer (&error));
      return;
    }
  if (changed)
    g_message (_("SELinux boolean virt_use_sysfs turned on, now and after reboots"));
  /* The warnings it answers go with the reply. */
  hd_dbus_service_refresh (call->service);
  g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(b)", changed));
}

static void
authorized (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Call) call = data;
  g_autoptr(GError) error = NULL;

  if (!hd_polkit_gate_check_finish (call->service->gate, result, &error))
    {
      hd_dbus_return_error (call->invocation, g_steal_pointer (&error));
      return;
    }
  hd_dbus_selinux_ensure_async (enabled, g_steal_pointer (&call));
}

static gboolean
on_enable_virt_use_sysfs (HdDBusManager *manager, GDBusMethodInvocation *invocation, GVariant *options,
                          HdDBusService *self)
{
  g_autoptr(GError) error = NULL;
  g_auto(HdDBusOptions) o = { 0 };
  g_autoptr(GHashTable) details = g_hash_table_new (g_str_hash, g_str_equal);
  Call *call;

  if (!hd_dbus_options_parse (options, HD_DBUS_OPT_INTERACTIVE, &o, &error))
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  call = g_new0 (Call, 1);
  call->service = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  g_hash_table_insert (details, "boolean", (char *) HD_SELINUX_VIRT_USE_SYSFS);
  hd_polkit_gate_check_async (self->gate, invocation, "org.hostdevd1.set-selinux-boolean", details,
                              o.interactive, authorized, call);
  return TRUE;
}

void
hd_dbus_selinux_connect (HdDBusService *self, HdDBusManager *manager)
{
  g_signal_connect (manager, "handle-enable-virt-use-sysfs", G_CALLBACK (on_enable_virt_use_sysfs), self);
}
