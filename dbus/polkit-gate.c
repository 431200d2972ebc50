#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "polkit-gate.h"

#include <glib/gi18n.h>
#include <polkit/polkit.h>

#include "nodedev/error.h"


struct _HdPolkitGate {
  GCancellable *cancellable;   /* cancelled when the gate goes */
};

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

/* --- the one question to polkit, whoever the subject is ------------------- */

typedef struct {
  PolkitSubject *subject;
  char *action_id;
  PolkitDetails *details;      /* may be NULL */
  gboolean interactive;
} Question;

static void
question_free (Question *q)
{
  g_clear_object (&q->subject);
  g_free (q->action_id);
  g_clear_object (&q->details);
  g_free (q);
}

static void
on_answered (GObject *source, GAsyncResult *res, gpointer user_data)
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
on_authority (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Question *q = g_task_get_task_data (task);
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
  polkit_authority_check_authorization (authority, q->subject, q->action_id, q->details,
                                        q->interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                                       : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                                        cancellable, on_answered, g_steal_pointer (&task));
}

/* Takes @subject and @details (may be NULL).  Finish with ask_finish. */
static void
ask_async (PolkitSubject *subject, const char *action_id, PolkitDetails *details, gboolean interactive,
           GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Question *q = g_new0 (Question, 1);

  q->subject = subject;
  q->action_id = g_strdup (action_id);
  q->details = details;
  q->interactive = interactive;
  g_task_set_task_data (task, q, (GDestroyNotify) question_free);
  g_task_set_source_tag (task, ask_async);
  polkit_authority_get_async (cancellable, on_authority, task);
}

/* An HdPolkitAnswer, or -1 with @error when polkit could not be asked. */
static int
ask_finish (GAsyncResult *result, GError **error)
{
  return (int) g_task_propagate_int (G_TASK (result), error);
}

/* --- a D-Bus sender as the subject (the D-Bus door) ----------------------- */

static void
deny (GTask *task, char *message)
{
  g_task_return_error (task, g_error_new_literal (HD_ERROR, HD_ERROR_NOT_AUTHORIZED, message));
  g_free (message);
}

static void
on_sender_answered (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  const char *action_id = ((Question *) g_task_get_task_data (task))->action_id;
  g_autoptr(GError) error = NULL;
  int answer = ask_finish (res, &error);

  switch (answer)
    {
    case HD_POLKIT_ALLOWED:
      g_task_return_boolean (task, TRUE);
      break;
    case HD_POLKIT_CHALLENGE:
      deny (task, g_strdup_printf (_("Not authorized for %s: authentication is required (ask with the interactive option)"),
                                   action_id));
      break;
    case HD_POLKIT_DENIED:
    case HD_POLKIT_DISMISSED:
      deny (task, g_strdup_printf (_("Not authorized for %s"), action_id));
      break;
    default:
      deny (task, g_strdup_printf (_("Not authorized for %s: polkit could not be asked (%s)"),
                                   action_id, error->message));
      break;
    }
}

static void
on_uid (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Question *q = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  GCancellable *cancellable;
  guint32 uid;

  if (reply == NULL)
    {
      deny (task, g_strdup_printf (_("Not authorized for %s: the caller is unknown (%s)"),
                                   q->action_id, error->message));
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  if (uid == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  ask_async (g_object_ref (q->subject), q->action_id, g_object_ref (q->details), q->interactive,
             cancellable, on_sender_answered, g_steal_pointer (&task));
}

void
hd_polkit_gate_check_async (HdPolkitGate *gate, GDBusMethodInvocation *invocation,
                            const char *action_id, GHashTable *details, gboolean interactive,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, gate->cancellable, callback, user_data);
  Question *q = g_new0 (Question, 1);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  GHashTableIter iter;
  gpointer key, value;

  q->subject = polkit_system_bus_name_new (sender);
  q->action_id = g_strdup (action_id);
  q->interactive = interactive;
  q->details = polkit_details_new ();
  if (details != NULL)
    {
      g_hash_table_iter_init (&iter, details);
      while (g_hash_table_iter_next (&iter, &key, &value))
        polkit_details_insert (q->details, key, value);
    }
  g_task_set_task_data (task, q, (GDestroyNotify) question_free);
  g_task_set_source_tag (task, hd_polkit_gate_check_async);
  /* The bus daemon, not the message, says who the caller is. */
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetConnectionUnixUser", g_variant_new ("(s)", sender),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          gate->cancellable, on_uid, task);
}

gboolean
hd_polkit_gate_check_finish (HdPolkitGate *gate, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- a process as the subject (the libvirt door) ------------------------- */

void
hd_polkit_gate_check_process_async (HdPolkitGate *gate, guint32 pid, guint64 start_time, guint32 uid,
                                    const char *action_id, gboolean interactive,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr(GTask) task = NULL;

  if (cancellable == NULL)
    cancellable = gate->cancellable;
  if (uid != 0)
    {
      ask_async (polkit_unix_process_new_for_owner ((gint) pid, start_time, (gint) uid), action_id, NULL,
                 interactive, cancellable, callback, user_data);
      return;
    }
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ask_async);
  g_task_return_int (task, HD_POLKIT_ALLOWED);
}

int
hd_polkit_gate_check_process_finish (HdPolkitGate *gate, GAsyncResult *result, GError **error)
{
  return ask_finish (result, error);
}
