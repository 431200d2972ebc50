/* HdReplyTrimmer on a real bus (GTestDBus: a private dbus-daemon): it
 * trims after a large method return, not after a small one, and once for
 * a burst. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "dbus/reply-trimmer.h"

#define IFACE "org.hostdevd1.Test"
#define THRESHOLD (64 * 1024)

static const char introspection[] =
  "<node><interface name='" IFACE "'>"
  "<method name='Echo'><arg type='u' direction='in'/><arg type='s' direction='out'/></method>"
  "</interface></node>";

typedef struct {
  GTestDBus *bus;
  GDBusConnection *server;
  GDBusConnection *client;
  guint registration;
  int replies;
} Fixture;

/* Answers a string of the asked length. */
static void
on_call (GDBusConnection *connection, const char *sender, const char *path, const char *iface,
         const char *method, GVariant *parameters, GDBusMethodInvocation *invocation, gpointer data)
{
  g_autofree char *text = NULL;
  guint32 size;

  g_variant_get (parameters, "(u)", &size);
  text = g_malloc (size + 1);
  memset (text, 'x', size);
  text[size] = '\0';
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
}

static GDBusConnection *
connect_to (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *c = g_dbus_connection_new_for_address_sync (
    g_test_dbus_get_bus_address (f->bus),
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);

  g_assert_no_error (error);
  return c;
}

static void
setup (Fixture *f, gconstpointer data)
{
  static const GDBusInterfaceVTable vtable = { on_call, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (introspection, NULL);
  g_autoptr(GError) error = NULL;

  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->bus);
  f->server = connect_to (f);
  f->client = connect_to (f);
  f->registration = g_dbus_connection_register_object (f->server, "/test", node->interfaces[0], &vtable,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_dbus_connection_unregister_object (f->server, f->registration);
  g_dbus_connection_close_sync (f->client, NULL, NULL);
  g_dbus_connection_close_sync (f->server, NULL, NULL);
  g_clear_object (&f->client);
  g_clear_object (&f->server);
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *f = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  f->replies++;
}

static void
call_echo (Fixture *f, guint32 size)
{
  g_dbus_connection_call (f->client, g_dbus_connection_get_unique_name (f->server), "/test", IFACE, "Echo",
                          g_variant_new ("(u)", size), G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                          -1, NULL, on_reply, f);
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context for @ms milliseconds. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_timeout, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
wait_replies (Fixture *f, int n)
{
  while (f->replies < n)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs the main context until @trimmer has trimmed once, for at most 5 s. */
static void
wait_trim (HdReplyTrimmer *trimmer)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (5, on_timeout, &expired);

  while (hd_reply_trimmer_get_n_trims (trimmer) == 0 && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (expired);
  if (!expired)
    g_source_remove (id);
}

static void
test_small_reply (Fixture *f, gconstpointer data)
{
  g_autoptr(HdReplyTrimmer) trimmer = hd_reply_trimmer_new (f->server, THRESHOLD, 10);

  call_echo (f, THRESHOLD / 2);
  wait_replies (f, 1);
  run_for (200);
  g_assert_cmpuint (hd_reply_trimmer_get_n_trims (trimmer), ==, 0);
}

static void
test_large_reply (Fixture *f, gconstpointer data)
{
  g_autoptr(HdReplyTrimmer) trimmer = hd_reply_trimmer_new (f->server, THRESHOLD, 10);

  call_echo (f, THRESHOLD);
  wait_replies (f, 1);
  wait_trim (trimmer);
  run_for (200);
  g_assert_cmpuint (hd_reply_trimmer_get_n_trims (trimmer), ==, 1);
}

/* Two large replies at once: one trim after both.  The delay is long, so
 * that a slow machine still sends both inside it. */
static void
test_burst (Fixture *f, gconstpointer data)
{
  g_autoptr(HdReplyTrimmer) trimmer = hd_reply_trimmer_new (f->server, THRESHOLD, 1500);

  call_echo (f, THRESHOLD * 2);
  call_echo (f, THRESHOLD * 2);
  wait_replies (f, 2);
  g_assert_cmpuint (hd_reply_trimmer_get_n_trims (trimmer), ==, 0);
  wait_trim (trimmer);
  run_for (200);
  g_assert_cmpuint (hd_reply_trimmer_get_n_trims (trimmer), ==, 1);
}

/* Freed with a trim still scheduled: the trim runs on its own reference. */
static void
test_free_while_pending (Fixture *f, gconstpointer data)
{
  HdReplyTrimmer *trimmer = hd_reply_trimmer_new (f->server, THRESHOLD, 50);

  call_echo (f, THRESHOLD);
  wait_replies (f, 1);
  hd_reply_trimmer_free (trimmer);
  run_for (200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* A failed check must still reach teardown: GTestDBus's watcher only
   * stops the bus from g_test_dbus_down(), an abort leaves it behind. */
  g_test_set_nonfatal_assertions ();
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/reply-trimmer/small-reply", test_small_reply);
  ADD ("/reply-trimmer/large-reply", test_large_reply);
  ADD ("/reply-trimmer/burst", test_burst);
  ADD ("/reply-trimmer/free-while-pending", test_free_while_pending);
  return g_test_run ();
}
