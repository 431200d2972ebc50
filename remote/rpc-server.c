#include "config.h"

#define G_LOG_DOMAIN "HostdevdRpc"

#include "rpc-server.h"

#include <unistd.h>

#include <glib/gi18n.h>

#include "rpc-connection.h"
#include "rpc-message.h"
#include "rpc-socket.h"

/* Stop dispatching a client's calls while this much output waits for it:
 * a client that never reads its replies stalls only itself. */
#define OUTPUT_HIGH_WATER (256 * 1024)
/* Events keep coming whether a client reads or not; past this the client
 * is disconnected. */
#define OUTPUT_MAX (8 * 1024 * 1024)
/* Unconsumed input held while dispatching is paused. */
#define INPUT_MAX (HD_RPC_CALL_MAX + 64 * 1024)
#define READ_CHUNK 16384
#define DEFAULT_HANDSHAKE_TIMEOUT 30
/* How long a client may wait for polkit (an admin typing a password into
 * an agent) before it is dropped anyway. */
#define AUTH_MAX_SECONDS 300

typedef struct {
  HdRpcServer *server;       /* not owned */
  GSocket *socket;
  GSource *in_source;
  GSource *out_source;
  HdRpcFramer framer;
  HdRpcConnection *conn;
  GByteArray *input;         /* read but not yet framed */
  GQueue output;             /* GBytes */
  gsize output_offset;       /* into the head */
  gsize output_bytes;
  guint handshake_timeout;
  gint64 accepted;           /* monotonic time */
  gboolean closing;          /* close once the output is written */
  gboolean dispatching;      /* in client_process_input(): its caller flushes */
  guint uid;
} Client;

typedef struct {
  HdRpcServer *server;       /* not owned */
  GSocket *socket;
  GSource *source;           /* NULL while paused */
  guint resume_timeout;
  gboolean readonly;
  char *path;                /* to unlink at exit; NULL for inherited sockets */
} Listener;

struct _HdRpcServer {
  GObject parent_instance;
  HdInventory *inventory;
  HdEngine *engine;          /* NULL: no mutations */
  GPtrArray *listeners;      /* Listener */
  GHashTable *clients;       /* Client set */
  guint handshake_seconds;
  HdRpcAuthorizeFunc authorize;
  gpointer authorize_data;
  gboolean warned_fd_limit;
  gulong handlers[3];
};

G_DEFINE_TYPE (HdRpcServer, hd_rpc_server, G_TYPE_OBJECT)

static void client_update_sources (Client *client);
static GSource *watch (Client *client, GIOCondition condition, GSocketSourceFunc func);
static gboolean on_client_out (GSocket *socket, GIOCondition condition, gpointer user_data);
static void resume_listeners (HdRpcServer *self);

static void
client_free (Client *client)
{
  if (client->in_source != NULL)
    {
      g_source_destroy (client->in_source);
      g_source_unref (client->in_source);
    }
  if (client->out_source != NULL)
    {
      g_source_destroy (client->out_source);
      g_source_unref (client->out_source);
    }
  g_clear_handle_id (&client->handshake_timeout, g_source_remove);
  g_clear_pointer (&client->conn, hd_rpc_connection_free);
  hd_rpc_framer_clear (&client->framer);
  g_clear_pointer (&client->input, g_byte_array_unref);
  g_queue_clear_full (&client->output, (GDestroyNotify) g_bytes_unref);
  if (client->socket != NULL)
    g_socket_close (client->socket, NULL);
  g_clear_object (&client->socket);
  g_free (client);
}

static void
client_drop (Client *client, const char *why)
{
  HdRpcServer *server = client->server;

  g_debug ("dropping client (uid %u): %s", client->uid, why);
  g_hash_table_remove (server->clients, client);
  /* A descriptor is free again. */
  resume_listeners (server);
}

static void
client_send (GBytes *packet, gpointer user_data)
{
  Client *client = user_data;

  g_queue_push_tail (&client->output, g_bytes_ref (packet));
  client->output_bytes += g_bytes_get_size (packet);
  /* A reply that an operation sends long after its call was dispatched
   * has no dispatch pass to flush it.  One sent while dispatching is
   * flushed by the caller right after; a watch for it would only be
   * attached and destroyed again, and each of those wakes the main loop. */
  if (client->out_source == NULL && !client->dispatching)
    client->out_source = watch (client, G_IO_OUT | G_IO_HUP | G_IO_ERR, on_client_out);
}

static gboolean
on_packet (const guint8 *packet, gsize len, gpointer user_data)
{
  Client *client = user_data;

  if (!hd_rpc_connection_dispatch (client->conn, packet, len))
    {
      client->closing = TRUE;
      return FALSE;
    }
  return client->output_bytes < OUTPUT_HIGH_WATER;
}

/* Frames and dispatches buffered input while the client's output is below
 * the high-water mark.  FALSE: the client was dropped. */
static gboolean
client_process_input (Client *client)
{
  g_autoptr(GError) error = NULL;
  gssize used;

  if (client->closing || client->input->len == 0 || client->output_bytes >= OUTPUT_HIGH_WATER)
    return TRUE;
  client->dispatching = TRUE;
  used = hd_rpc_framer_feed (&client->framer, client->input->data, client->input->len,
                             on_packet, client, &error);
  client->dispatching = FALSE;
  if (used < 0)
    {
      client_drop (client, error->message);
      return FALSE;
    }
  g_byte_array_remove_range (client->input, 0, (guint) used);
  return TRUE;
}

static gboolean
client_flush (Client *client)
{
  while (!g_queue_is_empty (&client->output))
    {
      GBytes *head = g_queue_peek_head (&client->output);
      gsize size;
      const guint8 *data = g_bytes_get_data (head, &size);
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (client->socket, (const char *) data + client->output_offset,
                                size - client->output_offset, NULL, &error);

      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return TRUE;
          client_drop (client, error->message);
          return FALSE;
        }
      client->output_offset += (gsize) n;
      client->output_bytes -= (gsize) n;
      if (client->output_offset == size)
        {
          g_bytes_unref (g_queue_pop_head (&client->output));
          client->output_offset = 0;
        }
    }
  if (client->closing)
    {
      client_drop (client, "closed");
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_client_out (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Client *client = user_data;

  if (!client_flush (client) || !client_process_input (client) || !client_flush (client))
    return G_SOURCE_REMOVE;   /* the client is gone, and with it this source */
  client_update_sources (client);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_client_in (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  guint8 buf[READ_CHUNK];
  gssize n;

  n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      client_drop (client, n == 0 ? "end of stream" : error->message);
      return G_SOURCE_REMOVE;
    }
  g_byte_array_append (client->input, buf, (guint) n);
  if (!client_process_input (client) || !client_flush (client))
    return G_SOURCE_REMOVE;
  client_update_sources (client);
  return G_SOURCE_CONTINUE;
}

static GSource *
watch (Client *client, GIOCondition condition, GSocketSourceFunc func)
{
  GSource *source = g_socket_create_source (client->socket, condition, NULL);

  /* GLib blocks a source that cannot recurse while it runs: it takes the
   * socket out of the poll set and puts it back, and each of those writes
   * the main loop's eventfd, so every call cost an extra wakeup and poll().
   * Nothing here runs a nested main loop. */
  g_source_set_can_recurse (source, TRUE);
  g_source_set_callback (source, G_SOURCE_FUNC (func), client, NULL);
  g_source_attach (source, NULL);
  return source;
}

static void
stop_watch (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Reads only while there is room to buffer and reply; writes only while
 * there is something to write. */
static void
client_update_sources (Client *client)
{
  gboolean want_in = !client->closing && client->input->len < INPUT_MAX &&
                     client->output_bytes < OUTPUT_HIGH_WATER;
  gboolean want_out = client->output_bytes > 0;

  if (want_in && client->in_source == NULL)
    client->in_source = watch (client, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_in);
  else if (!want_in)
    stop_watch (&client->in_source);

  if (want_out && client->out_source == NULL)
    client->out_source = watch (client, G_IO_OUT | G_IO_HUP | G_IO_ERR, on_client_out);
  else if (!want_out)
    stop_watch (&client->out_source);
}

static gboolean
on_handshake_timeout (gpointer user_data)
{
  Client *client = user_data;
  HdRpcServer *server = client->server;
  gint64 now = g_get_monotonic_time ();
  gint64 auth = hd_rpc_connection_get_auth_activity (client->conn);

  if (hd_rpc_connection_is_open (client->conn))
    {
      client->handshake_timeout = 0;
      return G_SOURCE_REMOVE;
    }
  /* Waiting for polkit (an agent may be asking for a password), or just
   * answered by it: the deadline starts again, up to AUTH_MAX_SECONDS
   * after the client came. */
  if ((auth == G_MAXINT64 || (auth != 0 && now - auth < (gint64) server->handshake_seconds * G_USEC_PER_SEC)) &&
      now - client->accepted < (gint64) MAX (AUTH_MAX_SECONDS, server->handshake_seconds) * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  client->handshake_timeout = 0;
  client_drop (client, auth == G_MAXINT64 ? "authentication still pending after its deadline"
                                          : "no CONNECT_OPEN before the handshake deadline");
  return G_SOURCE_REMOVE;
}

static void
accept_client (HdRpcServer *self, Listener *listener, GSocket *socket)
{
  Client *client = g_new0 (Client, 1);
  HdRpcPeer peer;

  hd_rpc_socket_peer (socket, &peer);
  client->server = self;
  client->socket = socket;
  client->uid = peer.uid;
  g_socket_set_blocking (socket, FALSE);
  hd_rpc_framer_init (&client->framer, HD_RPC_CALL_MAX);
  client->input = g_byte_array_new ();
  g_queue_init (&client->output);
  client->accepted = g_get_monotonic_time ();
  client->conn = hd_rpc_connection_new (self->inventory, self->engine, listener->readonly, client->uid,
                                        client_send, client);
  /* libvirt's auth_unix_rw = "polkit", and its root bypass
   * (remoteDispatchAuthList).  A peer without credentials is not root. */
  if (!listener->readonly && client->uid != 0)
    {
      if (peer.pid != 0)
        peer.start_time = hd_rpc_socket_process_start_time (peer.pid);
      hd_rpc_connection_require_auth (client->conn, &peer, self->authorize, self->authorize_data);
    }
  client->handshake_timeout = g_timeout_add_seconds (self->handshake_seconds,
                                                     on_handshake_timeout, client);
  g_hash_table_add (self->clients, client);
  client_update_sources (client);
  g_debug ("client connected (uid %u, %s socket), %u clients", client->uid,
           listener->readonly ? "read-only" : "read-write", g_hash_table_size (self->clients));
}

static gboolean on_listener_ready (GSocket *socket, GIOCondition condition, gpointer user_data);

static void
listener_watch (Listener *listener)
{
  listener->source = g_socket_create_source (listener->socket, G_IO_IN, NULL);
  g_source_set_callback (listener->source, G_SOURCE_FUNC (on_listener_ready), listener, NULL);
  g_source_attach (listener->source, NULL);
}

static gboolean
on_resume_timeout (gpointer user_data)
{
  Listener *listener = user_data;

  listener->resume_timeout = 0;
  if (listener->source == NULL)
    listener_watch (listener);
  return G_SOURCE_REMOVE;
}

/* Out of descriptors: the pending connection keeps the socket readable, so
 * watching it would spin.  Stop watching until a client goes away or a
 * second has passed; the kernel's backlog holds the callers meanwhile. */
static void
listener_pause (Listener *listener)
{
  stop_watch (&listener->source);
  if (listener->resume_timeout == 0)
    listener->resume_timeout = g_timeout_add_seconds (1, on_resume_timeout, listener);
}

static void
resume_listeners (HdRpcServer *self)
{
  if (self->listeners == NULL)
    return;
  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *listener = g_ptr_array_index (self->listeners, i);
      if (listener->source == NULL)
        {
          g_clear_handle_id (&listener->resume_timeout, g_source_remove);
          listener_watch (listener);
        }
    }
}

static gboolean
on_listener_ready (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Listener *listener = user_data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      GSocket *conn = g_socket_accept (socket, NULL, &error);

      if (conn != NULL)
        {
          listener->server->warned_fd_limit = FALSE;
          accept_client (listener->server, listener, conn);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        {
          if (!listener->server->warned_fd_limit)
            g_warning (_("Out of file descriptors with %u clients; new clients wait"),
                       g_hash_table_size (listener->server->clients));
          listener->server->warned_fd_limit = TRUE;
        }
      else
        {
          g_warning (_("Cannot accept a client: %s"), error->message);
        }
      /* The source is destroyed here; returning REMOVE lets GLib drop it. */
      listener_pause (listener);
      return G_SOURCE_REMOVE;
    }
}

static void
listener_free (Listener *listener)
{
  stop_watch (&listener->source);
  g_clear_handle_id (&listener->resume_timeout, g_source_remove);
  if (listener->path != NULL)
    unlink (listener->path);
  g_free (listener->path);
  g_clear_object (&listener->socket);
  g_free (listener);
}

static gboolean
add_listener (HdRpcServer *self, GSocket *socket, gboolean readonly, const char *path)
{
  Listener *listener = g_new0 (Listener, 1);

  listener->server = self;
  listener->socket = socket;
  listener->readonly = readonly;
  listener->path = g_strdup (path);
  g_socket_set_blocking (socket, FALSE);
  listener_watch (listener);
  g_ptr_array_add (self->listeners, listener);
  return TRUE;
}

gboolean
hd_rpc_server_listen_fd (HdRpcServer *self, int fd, gboolean readonly, GError **error)
{
  GSocket *socket = g_socket_new_from_fd (fd, error);

  if (socket == NULL)
    return FALSE;
  return add_listener (self, socket, readonly, NULL);
}

gboolean
hd_rpc_server_listen_path (HdRpcServer *self, const char *path, guint mode,
                           gboolean readonly, GError **error)
{
  GSocket *socket = hd_rpc_socket_listen (path, mode, error);

  if (socket == NULL)
    return FALSE;
  return add_listener (self, socket, readonly, path);
}

void
hd_rpc_server_set_authorizer (HdRpcServer *self, HdRpcAuthorizeFunc authorize, gpointer user_data)
{
  self->authorize = authorize;
  self->authorize_data = user_data;
}

void
hd_rpc_server_set_handshake_timeout (HdRpcServer *self, guint seconds)
{
  self->handshake_seconds = MAX (seconds, 1);
}

guint
hd_rpc_server_get_n_clients (HdRpcServer *self)
{
  return g_hash_table_size (self->clients);
}

/* Events go out after the current dispatch; a client over its output
 * bound is dropped rather than buffered without end. */
static void
flush_events (HdRpcServer *self)
{
  GHashTableIter iter;
  gpointer key;
  g_autoptr(GPtrArray) over = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Client *client = key;
      if (client->output_bytes > OUTPUT_MAX)
        g_ptr_array_add (over, client);
      else
        client_update_sources (client);
    }
  for (guint i = 0; i < over->len; i++)
    client_drop (g_ptr_array_index (over, i), "too much unread output");
}

/* @lifecycle: VIR_NODE_DEVICE_EVENT_CREATED or _DELETED, or -1 for an
 * update event. */
static void
broadcast (HdRpcServer *self, HdNodeDevice *dev, int lifecycle)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      HdRpcConnection *conn = ((Client *) key)->conn;
      if (lifecycle < 0)
        hd_rpc_connection_device_update (conn, dev);
      else
        hd_rpc_connection_device_event (conn, dev, lifecycle);
    }
  flush_events (self);
}

static void
on_device_added (HdInventory *inventory, HdNodeDevice *dev, HdRpcServer *self)
{
  broadcast (self, dev, VIR_NODE_DEVICE_EVENT_CREATED);
}

static void
on_device_removed (HdInventory *inventory, HdNodeDevice *dev, HdRpcServer *self)
{
  broadcast (self, dev, VIR_NODE_DEVICE_EVENT_DELETED);
}

static void
on_device_changed (HdInventory *inventory, HdNodeDevice *dev, HdRpcServer *self)
{
  broadcast (self, dev, -1);
}

static void
hd_rpc_server_dispose (GObject *object)
{
  HdRpcServer *self = HD_RPC_SERVER (object);

  for (guint i = 0; i < G_N_ELEMENTS (self->handlers); i++)
    if (self->handlers[i] != 0 && self->inventory != NULL)
      g_clear_signal_handler (&self->handlers[i], self->inventory);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  g_clear_object (&self->inventory);
  g_clear_object (&self->engine);
  G_OBJECT_CLASS (hd_rpc_server_parent_class)->dispose (object);
}

static void
hd_rpc_server_class_init (HdRpcServerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hd_rpc_server_dispose;
}

static void
hd_rpc_server_init (HdRpcServer *self)
{
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  self->clients = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) client_free, NULL);
  self->handshake_seconds = DEFAULT_HANDSHAKE_TIMEOUT;
}

HdRpcServer *
hd_rpc_server_new (HdInventory *inventory, HdEngine *engine)
{
  HdRpcServer *self = g_object_new (HD_TYPE_RPC_SERVER, NULL);

  self->inventory = g_object_ref (inventory);
  self->engine = engine ? g_object_ref (engine) : NULL;
  self->handlers[0] = g_signal_connect (inventory, "device-added", G_CALLBACK (on_device_added), self);
  self->handlers[1] = g_signal_connect (inventory, "device-removed", G_CALLBACK (on_device_removed), self);
  self->handlers[2] = g_signal_connect (inventory, "device-changed", G_CALLBACK (on_device_changed), self);
  return self;
}
