#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "reply-trimmer.h"

#include <malloc.h>

/* Shared between the main context and GDBus's worker thread, where
 * filters run; freed when both are done with it. */
typedef struct {
  GMainContext *context;
  gsize threshold;
  guint delay_ms;
  int pending;                 /* atomic: a trim is scheduled */
  int n_trims;                 /* atomic */
} Shared;

struct _HdReplyTrimmer {
  GDBusConnection *connection;
  guint filter_id;
  Shared *shared;
};

static void
shared_clear (Shared *shared)
{
  g_main_context_unref (shared->context);
}

static void
shared_release (gpointer shared)
{
  g_atomic_rc_box_release_full (shared, (GDestroyNotify) shared_clear);
}

static gboolean
on_trim (gpointer data)
{
  Shared *shared = data;

  g_atomic_int_set (&shared->pending, 0);
  malloc_trim (0);
  g_atomic_int_inc (&shared->n_trims);
  g_debug ("gave the memory of a large reply back");
  return G_SOURCE_REMOVE;
}

/* In GDBus's worker thread: only look, and schedule. */
static GDBusMessage *
on_message (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer data)
{
  Shared *shared = data;
  GVariant *body;
  GSource *source;

  if (incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_RETURN)
    return message;
  body = g_dbus_message_get_body (message);
  if (body == NULL || g_variant_get_size (body) < shared->threshold ||
      !g_atomic_int_compare_and_exchange (&shared->pending, 0, 1))
    return message;
  source = g_timeout_source_new (shared->delay_ms);
  g_source_set_callback (source, on_trim, g_atomic_rc_box_acquire (shared), shared_release);
  g_source_attach (source, shared->context);
  g_source_unref (source);
  return message;
}

HdReplyTrimmer *
hd_reply_trimmer_new (GDBusConnection *connection, gsize threshold, guint delay_ms)
{
  HdReplyTrimmer *trimmer = g_new0 (HdReplyTrimmer, 1);

  trimmer->shared = g_atomic_rc_box_new0 (Shared);
  trimmer->shared->context = g_main_context_ref_thread_default ();
  trimmer->shared->threshold = threshold;
  trimmer->shared->delay_ms = delay_ms;
  trimmer->connection = g_object_ref (connection);
  /* The filter may still run after it is removed: it holds a reference. */
  trimmer->filter_id = g_dbus_connection_add_filter (connection, on_message,
                                                     g_atomic_rc_box_acquire (trimmer->shared),
                                                     shared_release);
  return trimmer;
}

void
hd_reply_trimmer_free (HdReplyTrimmer *trimmer)
{
  if (trimmer == NULL)
    return;
  g_dbus_connection_remove_filter (trimmer->connection, trimmer->filter_id);
  g_object_unref (trimmer->connection);
  shared_release (trimmer->shared);
  g_free (trimmer);
}

guint
hd_reply_trimmer_get_n_trims (HdReplyTrimmer *trimmer)
{
  return (guint) g_atomic_int_get (&trimmer->shared->n_trims);
}
