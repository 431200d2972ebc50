/* libFuzzer entry point for the RPC door: the input is the byte stream a
 * client writes to the socket.  It goes through the framer (bounded by
 * HD_RPC_CALL_MAX, as in the server) into one connection's dispatcher on
 * this machine's real PCI inventory (read-only).
 *
 * Each input runs three times: once as one chunk, once cut into small
 * chunks with the framer told to stop after every packet (what the
 * server's backpressure does), both as root on the read-write socket; the
 * two must produce the same replies.  The third run is a non-root peer on
 * the read-only socket.  Every reply must be a well-formed packet that
 * echoes the call it answers. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodedev/inventory.h"
#include "remote/rpc-connection.h"
#include "remote/rpc-message.h"
#include "remote/rpc-protocol.h"
#include "remote/xdr.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  HdRpcConnection *conn;
  GChecksum *sent;        /* every byte the daemon sent, in order */
  guint n_sent;
  HdRpcHeader call;       /* the packet being dispatched */
  gboolean have_call;
  gboolean closing;       /* the dispatcher asked to close */
  guint stop_every;       /* tell the framer to stop after this many packets (0: never) */
  guint n_packets;
} Run;

static void
check (gboolean ok, const char *what)
{
  if (!ok)
    {
      fprintf (stderr, "fuzz-rpc: check failed: %s\n", what);
      abort ();
    }
}

/* A reply or message the daemon sends: length word right, header sane, a
 * REPLY echoes prog/vers/proc/serial of the call, an error decodes. */
static void
check_sent (Run *run, const guint8 *p, gsize n)
{
  HdXdrReader r;
  HdRpcHeader h;
  guint32 len = 0;

  hd_xdr_reader_init (&r, p, n);
  check (n >= HD_RPC_LEN_SIZE + HD_RPC_HEADER_SIZE, "packet shorter than a header");
  check (n <= HD_RPC_MESSAGE_MAX, "packet over VIR_NET_MESSAGE_MAX");
  check (hd_xdr_read_u32 (&r, &len) && len == n, "length word does not match");
  check (hd_rpc_header_decode (&r, &h), "header does not decode");

  if (h.prog == HD_RPC_KEEPALIVE_PROGRAM)
    {
      check (h.type == HD_RPC_MESSAGE && h.proc == HD_RPC_KEEPALIVE_PONG && h.serial == 0 &&
             hd_xdr_reader_remaining (&r) == 0, "bad keepalive packet");
      check (run->have_call && run->call.prog == HD_RPC_KEEPALIVE_PROGRAM &&
             run->call.proc == HD_RPC_KEEPALIVE_PING, "PONG without a PING");
      return;
    }

  check (h.type == HD_RPC_REPLY, "the daemon sent something other than a reply");
  check (run->have_call, "reply outside a dispatch");
  check (h.prog == run->call.prog && h.vers == run->call.vers && h.proc == run->call.proc &&
         h.serial == run->call.serial, "reply does not echo the call's header");
  check (h.status == HD_RPC_OK || h.status == HD_RPC_ERROR, "bad status");
  if (h.status == HD_RPC_ERROR)
    {
      gint32 code = 0, domain = 0, level = 0, i1 = 0, i2 = 0;
      guint32 dom = 0, s1 = 0, s2 = 0, s3 = 0, net = 0;
      g_autofree char *message = NULL;

      check (hd_xdr_read_i32 (&r, &code) && hd_xdr_read_i32 (&r, &domain) &&
             hd_xdr_read_opt_string (&r, HD_RPC_STRING_MAX, &message) &&
             hd_xdr_read_i32 (&r, &level) && hd_xdr_read_u32 (&r, &dom) &&
             hd_xdr_read_u32 (&r, &s1) && hd_xdr_read_u32 (&r, &s2) && hd_xdr_read_u32 (&r, &s3) &&
             hd_xdr_read_i32 (&r, &i1) && hd_xdr_read_i32 (&r, &i2) && hd_xdr_read_u32 (&r, &net),
             "remote_error does not decode");
      check (hd_xdr_reader_remaining (&r) == 0, "bytes after remote_error");
      check (message != NULL && *message != '\0', "error without a message");
      check (code > 0 && level == VIR_ERR_ERROR, "error code or level");
      check ((dom | s1 | s2 | s3 | net) == 0, "optional error fields present");
    }
}

static void
on_send (GBytes *packet, gpointer user_data)
{
  Run *run = user_data;
  gsize n;
  const guint8 *p = g_bytes_get_data (packet, &n);

  check_sent (run, p, n);
  g_checksum_update (run->sent, p, (gssize) n);
  run->n_sent++;
}

static gboolean
on_packet (const guint8 *packet, gsize len, gpointer user_data)
{
  Run *run = user_data;
  HdXdrReader r;
  gboolean more;

  check (len >= HD_RPC_HEADER_SIZE && len <= HD_RPC_CALL_MAX - HD_RPC_LEN_SIZE,
         "framer delivered a packet outside its bounds");
  hd_xdr_reader_init (&r, packet, len);
  run->have_call = hd_rpc_header_decode (&r, &run->call);
  more = hd_rpc_connection_dispatch (run->conn, packet, len);
  run->have_call = FALSE;
  run->n_packets++;
  if (!more)
    {
      run->closing = TRUE;
      return FALSE;
    }
  return run->stop_every == 0 || run->n_packets % run->stop_every != 0;
}

static HdInventory *
get_inventory (void)
{
  static HdInventory *inventory;

  if (inventory == NULL)
    {
      g_autoptr(GError) error = NULL;

      inventory = hd_inventory_new (FALSE, &error);
      if (inventory == NULL)
        {
          fprintf (stderr, "fuzz-rpc: cannot enumerate devices: %s\n", error->message);
          abort ();
        }
    }
  return inventory;
}

/* Feeds @data in chunks of the sizes in @chunks (cycled; NULL: one chunk),
 * as the server does: stop at a framing error or once the connection is
 * closing; when the framer stops early, feed the rest again. */
static char *
run_stream (const guint8 *data, gsize size, gboolean readonly, guint uid,
            const gsize *chunks, guint n_chunks, guint stop_every,
            guint *n_sent, gboolean *framing_error)
{
  Run run = { 0 };
  HdRpcFramer framer;
  gsize pos = 0;
  guint c = 0;
  char *digest;

  run.sent = g_checksum_new (G_CHECKSUM_SHA256);
  run.stop_every = stop_every;
  run.conn = hd_rpc_connection_new (get_inventory (), NULL, readonly, uid, on_send, &run);
  hd_rpc_framer_init (&framer, HD_RPC_CALL_MAX);
  *framing_error = FALSE;

  while (pos < size && !run.closing)
    {
      gsize chunk = chunks == NULL ? size : chunks[c++ % n_chunks];
      gsize end = MIN (size, pos + chunk);

      while (pos < end && !run.closing)
        {
          g_autoptr(GError) error = NULL;
          gssize used = hd_rpc_framer_feed (&framer, data + pos, end - pos, on_packet, &run, &error);

          if (used < 0)
            {
              check (error != NULL, "framing error without a GError");
              *framing_error = TRUE;
              goto out;
            }
          check ((gsize) used <= end - pos, "framer consumed more than it was given");
          check (used > 0 || run.closing, "framer made no progress");
          pos += (gsize) used;
        }
    }

out:
  /* the framer never holds more than one bounded packet */
  check (framer.packet->len < HD_RPC_CALL_MAX, "framer buffer over its bound");
  hd_rpc_framer_clear (&framer);
  hd_rpc_connection_free (run.conn);
  digest = g_strdup (g_checksum_get_string (run.sent));
  g_checksum_free (run.sent);
  *n_sent = run.n_sent;
  return digest;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const gsize chunks[] = { 1, 3, 2, 7, 4, 64, 5, 28, 1, 1000 };
  g_autofree char *whole = NULL;
  g_autofree char *split = NULL;
  g_autofree char *readonly = NULL;
  guint n_whole, n_split, n_readonly;
  gboolean err_whole, err_split, err_readonly;

  whole = run_stream (data, size, FALSE, 0, NULL, 0, 0, &n_whole, &err_whole);
  split = run_stream (data, size, FALSE, 0, chunks, G_N_ELEMENTS (chunks), 1, &n_split, &err_split);
  readonly = run_stream (data, size, TRUE, 1000, NULL, 0, 0, &n_readonly, &err_readonly);
  check (n_whole == n_split, "a split stream got a different number of replies");
  check (g_str_equal (whole, split), "a split stream got different replies");
  check (err_whole == err_split, "a split stream framed differently");
  /* framing does not depend on who is asking */
  check (err_whole == err_readonly, "a read-only stream framed differently");
  return 0;
}
