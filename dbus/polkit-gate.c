#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "polkit-gate.h"

#include <glib/gi18n.h>
#include <polkit/polkit.h>

#include "nodedev/error.h"


struct _HdPolkitGate {
  GCancellable *cancellable;   /* cancelled when the gate goes */
};

typedef struct {
  char *sender;
  char *action_id;
  PolkitDetails *details;
  gboolean interactive;
} Check;

static void
check_free (Check *c)
{
  g_free (c->sender);
  g_free (c->action_id);
  g_clear_object (&c->details);
  g_free (c);
}

HdPolkitGate *
hd_polkit_gate_new (void)
{
  HdPolkitGate *gate = g_new0 (HdPolkitGate, 1);

  gate->cancellable = g_cancellable_new ();
  return gate;
}

void
hd_polkit_gate_free (HdPolkitGate *gate)
{
  g_cancellable_cancel (gate->cancellable);
  g_object_unref (gate->cancellable);
  g_free (gate);
}

static void
deny (GTask *task, char *message)
{
  g_task_return_error (task, g_error_new_literal (HD_ERROR, HD_ERROR_NOT_AUTHORIZED, message));
  g_free (message);
}

static const char *
action_of (GTask *task)
{
  return ((Check *) g_task_get_task_data (task))->action_id;
}

static void
on_checked (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthorizationResult) result =
    polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);

  if (result == NULL)
    deny (task, g_strdup_printf (_("Not authorized for %s: polkit could not be asked (%s)"),
                                 action_of (task), error->message));
  else if (polkit_authorization_result_get_is_authorized (result))
    g_task_return_boolean (task, TRUE);
  else if (polkit_authorization_result_get_is_challenge (result))
    deny (task, g_strdup_printf (_("Not authorized for %s: authentication is required (ask with the interactive option)"),
                                 action_of (task)));
  else
    deny (task, g_strdup_printf (_("Not authorized for %s"), action_of (task)));
}

static void
on_authority (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Check *c = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthority) authority = polkit_authority_get_finish (res, &error);
  g_autoptr(PolkitSubject) subject = NULL;
  PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
  GCancellable *cancellable;

  if (authority == NULL)
    {
      deny (task, g_strdup_printf (_("Not authorized for %s: polkit could not be asked (%s)"),
                                   action_of (task), error->message));
      return;
    }
  if (c->interactive)
    flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
  subject = polkit_system_bus_name_new (c->sender);
  /* Arguments are evaluated in no set order: nothing may read @task in
   * the call that takes it. */
  cancellable = g_task_get_cancellable (task);
  polkit_authority_check_authorization (authority, subject, c->action_id, c->details, flags,
                                        cancellable, on_checked, g_steal_pointer (&task));
}

static void
on_uid (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  GCancellable *cancellable;
  guint32 uid;

  if (reply == NULL)
    {
      deny (task, g_strdup_printf (_("Not authorized for %s: the caller is unknown (%s)"),
                                   action_of (task), error->message));
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  if (uid == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  polkit_authority_get_async (cancellable, on_authority, g_steal_pointer (&task));
}

void
hd_polkit_gate_check_async (HdPolkitGate *gate, GDBusMethodInvocation *invocation,
                            const char *action_id, GHashTable *details, gboolean interactive,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, gate->cancellable, callback, user_data);
  Check *c = g_new0 (Check, 1);
  GHashTableIter iter;
  gpointer key, value;

  c->sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  c->action_id = g_strdup (action_id);
  c->interactive = interactive;
  c->details = polkit_details_new ();
  if (details != NULL)
    {
      g_hash_table_iter_init (&iter, details);
      while (g_hash_table_iter_next (&iter, &key, &value))
        polkit_details_insert (c->details, key, value);
    }
  g_task_set_task_data (task, c, (GDestroyNotify) check_free);
  g_task_set_source_tag (task, hd_polkit_gate_check_async);
  /* The bus daemon, not the message, says who the caller is. */
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionUnixUser", g_variant_new ("(s)", c->sender),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          gate->cancellable, on_uid, task);
}

gboolean
hd_polkit_gate_check_finish (HdPolkitGate *gate, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- a process as the subject (the libvirt door) ------------------------- */

typedef struct {
  PolkitSubject *subject;
  char *action_id;
  gboolean interactive;
} ProcessCheck;

static void
process_check_free (ProcessCheck *p)
{
  g_clear_object (&p->subject);
  g_free (p->action_id);
  g_free (p);
}

static void
on_process_checked (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(PolkitAuthorizationResult) result =
    polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else if (polkit_authorization_result_get_is_authorized (result))
    g_task_return_int (task, HD_POLKIT_ALLOWED);
  else if (polkit_authorization_result_get_dismissed (result))
    g_task_return_int (task, HD_POLKIT_DISMISSED);
  else if (polkit_authorization_result_get_is_challenge (result))
    g_task_return_int (task, HD_POLKIT_CHALLENGE);
  else
    g_task_return_int (task, HD_POLKIT_DENIED);
}

static void
on_process_authority (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  ProcessCheck *p = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(PolkitAuthority) authority = polkit_authority_get_finish (res, &error);
  GCancellable *cancellable;

  if (authority == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Arguments are evaluated in no set order: nothing may read @task in
   * the call that takes it. */
  cancellable = g_task_get_cancellable (task);
  polkit_authority_check_authorization (authority, p->subject, p->action_id, NULL,
                                        p->interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                                       : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                                        cancellable, on_process_checked, g_steal_pointer (&task));
}

void
hd_polkit_gate_check_process_async (HdPolkitGate *gate, guint32 pid, guint64 start_time, guint32 uid,
                                    const char *action_id, gboolean interactive,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable != NULL ? cancellable : gate->cancellable, callback, user_data);
  ProcessCheck *p;

  g_task_set_source_tag (task, hd_polkit_gate_check_process_async);
  if (uid == 0)
    {
      g_task_return_int (task, HD_POLKIT_ALLOWED);
      g_object_unref (task);
      return;
    }
  p = g_new0 (ProcessCheck, 1);
  p->subject = polkit_unix_process_new_for_owner ((gint) pid, start_time, (gint) uid);
  p->action_id = g_strdup (action_id);
  p->interactive = interactive;
  g_task_set_task_data (task, p, (GDestroyNotify) process_check_free);
  polkit_authority_get_async (g_task_get_cancellable (task), on_process_authority, task);
}

int
hd_polkit_gate_check_process_finish (HdPolkitGate *gate, GAsyncResult *result, GError **error)
{
  return (int) g_task_propagate_int (G_TASK (result), error);
}
