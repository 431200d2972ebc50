/* libvirt RPC packets: the framer (remote/rpc-message.c) on streams split
 * anywhere and on bad length words, the header and error encoders, and
 * the dispatcher (remote/rpc-connection.c) answering what a hostile or
 * confused client sends, on this machine's real PCI tree (read-only). */
#include "config.h"

#include <string.h>

#include "nodedev/error.h"
#include "nodedev/inventory.h"
#include "remote/rpc-connection.h"
#include "remote/rpc-message.h"
#include "remote/rpc-protocol.h"
#include "remote/xdr.h"
#include "test-hex.h"

/* libvirt-rpc.md §6.2 */
#define AUTH_LIST_CALL "0000001c 20008086 00000001 00000042 00000000 00000000 00000000"
#define AUTH_LIST_REPLY_NONE \
  "00000024 20008086 00000001 00000042 00000001 00000000 00000000 00000001 00000000"
#define CONNECT_OPEN_PAYLOAD \
  "00000001 00000011 6e6f64656465763a2f2f2f73797374656d 000000 00000000"
#define LIST_ALL_PAYLOAD "00000001 80000000"
#define PING "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"
#define PONG "0000001c 6b656570 00000001 00000002 00000002 00000000 00000000"

static HdInventory *inventory;

static GBytes *
hex (const char *text)
{
  return g_byte_array_free_to_bytes (hex_array (text));
}

static void
assert_bytes_hex (GBytes *got, const char *expected)
{
  g_autoptr(GBytes) want = hex (expected);

  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                   g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

/* A whole packet (length word included) from a header and payload. */
static GBytes *
packet (guint32 prog, guint32 vers, gint32 proc, guint32 type, guint32 serial,
        const char *payload_hex)
{
  g_auto(HdXdrWriter) w = { 0 };
  HdRpcHeader h = { prog, vers, proc, type, serial, HD_RPC_OK };

  hd_xdr_writer_init (&w);
  hd_rpc_packet_begin (&w, &h);
  if (payload_hex != NULL)
    {
      g_autoptr(GByteArray) p = hex_array (payload_hex);
      g_byte_array_append (w.buf, p->data, p->len);
    }
  return hd_rpc_packet_finish (&w);
}

static GBytes *
call (gint32 proc, guint32 serial, const char *payload_hex)
{
  return packet (HD_RPC_REMOTE_PROGRAM, HD_RPC_REMOTE_VERSION, proc, HD_RPC_CALL, serial, payload_hex);
}

/* --- framer ---------------------------------------------------------------- */

typedef struct {
  GPtrArray *packets;   /* GBytes, without the length word */
  guint stop_after;     /* return FALSE after this many packets (0: never) */
} Collector;

static gboolean
collect (const guint8 *data, gsize len, gpointer user_data)
{
  Collector *col = user_data;

  g_ptr_array_add (col->packets, g_bytes_new (data, len));
  return col->stop_after == 0 || col->packets->len % col->stop_after != 0;
}

static void
collector_init (Collector *col)
{
  col->packets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  col->stop_after = 0;
}

/* Three real packets back to back: AUTH_LIST, CONNECT_OPEN, LIST_ALL. */
static GByteArray *
session_stream (GPtrArray *expected)
{
  GBytes *parts[] = {
    hex (AUTH_LIST_CALL),
    call (HD_PROC_CONNECT_OPEN, 2, CONNECT_OPEN_PAYLOAD),
    call (HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, 3, LIST_ALL_PAYLOAD),
  };
  GByteArray *stream = g_byte_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      gsize n;
      const guint8 *d = g_bytes_get_data (parts[i], &n);

      g_byte_array_append (stream, d, (guint) n);
      g_ptr_array_add (expected, g_bytes_new (d + 4, n - 4));
      g_bytes_unref (parts[i]);
    }
  return stream;
}

static void
assert_same_packets (GPtrArray *got, GPtrArray *expected)
{
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < got->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (got, i), g_ptr_array_index (expected, i)));
}

static void
test_framer_auth_list (void)
{
  g_autoptr(GBytes) b = hex (AUTH_LIST_CALL);
  g_autoptr(GError) error = NULL;
  HdRpcFramer f;
  Collector col;
  HdXdrReader r;
  HdRpcHeader h;
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);

  collector_init (&col);
  hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
  g_assert_cmpint (hd_rpc_framer_feed (&f, d, n, collect, &col, &error), ==, (gssize) n);
  g_assert_no_error (error);
  g_assert_cmpuint (col.packets->len, ==, 1);
  g_assert_cmpuint (g_bytes_get_size (g_ptr_array_index (col.packets, 0)), ==, 24);

  hd_xdr_reader_init (&r, g_bytes_get_data (g_ptr_array_index (col.packets, 0), NULL), 24);
  g_assert_true (hd_rpc_header_decode (&r, &h));
  g_assert_cmphex (h.prog, ==, HD_RPC_REMOTE_PROGRAM);
  g_assert_cmpuint (h.vers, ==, 1);
  g_assert_cmpint (h.proc, ==, HD_PROC_AUTH_LIST);
  g_assert_cmpuint (h.type, ==, HD_RPC_CALL);
  g_assert_cmpuint (h.serial, ==, 0);
  g_assert_cmpuint (h.status, ==, HD_RPC_OK);
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);

  hd_rpc_framer_clear (&f);
  g_ptr_array_unref (col.packets);
}

static void
test_framer_one_chunk (void)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) stream = session_stream (expected);
  g_autoptr(GError) error = NULL;
  HdRpcFramer f;
  Collector col;

  collector_init (&col);
  hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
  g_assert_cmpint (hd_rpc_framer_feed (&f, stream->data, stream->len, collect, &col, &error),
                   ==, (gssize) stream->len);
  g_assert_no_error (error);
  assert_same_packets (col.packets, expected);
  hd_rpc_framer_clear (&f);
  g_ptr_array_unref (col.packets);
}

/* Every way of cutting the stream into two and into three chunks, and one
 * byte at a time, gives the same packets. */
static void
test_framer_split_everywhere (void)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) stream = session_stream (expected);
  guint len = stream->len;

  for (guint i = 0; i <= len; i++)
    for (guint j = i; j <= len; j++)
      {
        g_autoptr(GError) error = NULL;
        guint cuts[] = { 0, i, j, len };
        HdRpcFramer f;
        Collector col;

        collector_init (&col);
        hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
        for (guint k = 0; k + 1 < G_N_ELEMENTS (cuts); k++)
          {
            gsize n = cuts[k + 1] - cuts[k];
            g_assert_cmpint (hd_rpc_framer_feed (&f, stream->data + cuts[k], n, collect, &col, &error),
                             ==, (gssize) n);
            g_assert_no_error (error);
          }
        assert_same_packets (col.packets, expected);
        hd_rpc_framer_clear (&f);
        g_ptr_array_unref (col.packets);
      }

  {
    g_autoptr(GError) error = NULL;
    HdRpcFramer f;
    Collector col;

    collector_init (&col);
    hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
    for (guint i = 0; i < len; i++)
      {
        g_assert_cmpint (hd_rpc_framer_feed (&f, stream->data + i, 1, collect, &col, &error), ==, 1);
        g_assert_no_error (error);
      }
    assert_same_packets (col.packets, expected);
    hd_rpc_framer_clear (&f);
    g_ptr_array_unref (col.packets);
  }
}

/* A callback that says "stop" leaves the rest of the chunk unconsumed;
 * feeding it again later continues where it stopped. */
static void
test_framer_stop (void)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) stream = session_stream (expected);
  g_autoptr(GError) error = NULL;
  HdRpcFramer f;
  Collector col;
  gsize pos = 0;
  guint rounds = 0;

  collector_init (&col);
  col.stop_after = 1;
  hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
  while (pos < stream->len)
    {
      gssize used = hd_rpc_framer_feed (&f, stream->data + pos, stream->len - pos, collect, &col, &error);
      g_assert_no_error (error);
      g_assert_cmpint (used, >, 0);
      pos += (gsize) used;
      rounds++;
      /* each round ends exactly at the end of a packet */
      g_assert_cmpuint (col.packets->len, ==, rounds);
    }
  g_assert_cmpuint (rounds, ==, 3);
  assert_same_packets (col.packets, expected);
  hd_rpc_framer_clear (&f);
  g_ptr_array_unref (col.packets);
}

static void
test_framer_bad_length (void)
{
  const struct {
    const char *bytes;
    guint32 max;
  } bad[] = {
    { "00000000", HD_RPC_CALL_MAX },
    { "00000004", HD_RPC_CALL_MAX },
    { "00000018", HD_RPC_CALL_MAX },
    { "0000001b", HD_RPC_CALL_MAX },                       /* 27: one short of a header */
    { "ffffffff", HD_RPC_CALL_MAX },
    { "80000000", HD_RPC_CALL_MAX },
    { "04000000", HD_RPC_CALL_MAX },                       /* 64 MiB */
    { "02000000", HD_RPC_CALL_MAX },                       /* VIR_NET_MESSAGE_MAX: over our bound */
    { "00040001", HD_RPC_CALL_MAX },                       /* HD_RPC_CALL_MAX + 1 */
    { "00000021", 32 },
    /* a good packet, then a bad length word in the same chunk */
    { AUTH_LIST_CALL " 00000001", HD_RPC_CALL_MAX },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GByteArray) b = hex_array (bad[i].bytes);
      g_autoptr(GError) error = NULL;
      HdRpcFramer f;
      Collector col;

      g_test_message ("length %s max %u", bad[i].bytes, bad[i].max);
      collector_init (&col);
      hd_rpc_framer_init (&f, bad[i].max);
      /* refused as soon as the length word is complete: no payload needed */
      g_assert_cmpint (hd_rpc_framer_feed (&f, b->data, b->len, collect, &col, &error), ==, -1);
      g_assert_error (error, HD_ERROR, HD_ERROR_INVALID_DATA);
      g_assert_cmpuint (col.packets->len, <=, 1);
      /* nothing was buffered for the announced length */
      g_assert_cmpuint (f.packet->len, ==, 0);
      hd_rpc_framer_clear (&f);
      g_ptr_array_unref (col.packets);
    }

  /* the same length words split over several chunks */
  {
    g_autoptr(GError) error = NULL;
    static const guint8 ff[] = { 0xff, 0xff, 0xff, 0xff };
    HdRpcFramer f;
    Collector col;

    collector_init (&col);
    hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
    for (guint i = 0; i < 3; i++)
      g_assert_cmpint (hd_rpc_framer_feed (&f, ff + i, 1, collect, &col, &error), ==, 1);
    g_assert_cmpint (hd_rpc_framer_feed (&f, ff + 3, 1, collect, &col, &error), ==, -1);
    g_assert_nonnull (error);
    hd_rpc_framer_clear (&f);
    g_ptr_array_unref (col.packets);
  }
}

static void
test_framer_limits_inclusive (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  HdRpcFramer f;
  Collector col;
  guint8 word[4] = { 0, 0, 0, 28 };
  guint8 zeros[64] = { 0 };

  /* 28 bytes: a header with an empty payload */
  g_byte_array_append (stream, word, 4);
  g_byte_array_append (stream, zeros, 24);
  /* exactly max (64) */
  word[3] = 64;
  g_byte_array_append (stream, word, 4);
  g_byte_array_append (stream, zeros, 60);

  collector_init (&col);
  hd_rpc_framer_init (&f, 64);
  g_assert_cmpint (hd_rpc_framer_feed (&f, stream->data, stream->len, collect, &col, &error),
                   ==, (gssize) stream->len);
  g_assert_no_error (error);
  g_assert_cmpuint (col.packets->len, ==, 2);
  g_assert_cmpuint (g_bytes_get_size (g_ptr_array_index (col.packets, 0)), ==, 24);
  g_assert_cmpuint (g_bytes_get_size (g_ptr_array_index (col.packets, 1)), ==, 60);
  hd_rpc_framer_clear (&f);
  g_ptr_array_unref (col.packets);
}

/* A truncated packet is held, not delivered, and costs no more than what
 * actually arrived. */
static void
test_framer_truncated (void)
{
  g_autoptr(GError) error = NULL;
  static const guint8 head[] = { 0x00, 0x04, 0x00, 0x00, 0x20, 0x00, 0x80, 0x86 };
  HdRpcFramer f;
  Collector col;

  collector_init (&col);
  hd_rpc_framer_init (&f, HD_RPC_CALL_MAX);
  g_assert_cmpint (hd_rpc_framer_feed (&f, head, sizeof head, collect, &col, &error), ==, sizeof head);
  g_assert_no_error (error);
  g_assert_cmpuint (col.packets->len, ==, 0);
  g_assert_cmpuint (f.packet->len, ==, 4);
  hd_rpc_framer_clear (&f);
  g_ptr_array_unref (col.packets);
}

/* --- encoders ------------------------------------------------------------ */

static void
test_packet_encode (void)
{
  g_auto(HdXdrWriter) w = { 0 };
  g_autoptr(GBytes) b = NULL;
  HdRpcHeader h = { HD_RPC_REMOTE_PROGRAM, 1, HD_PROC_AUTH_LIST, HD_RPC_REPLY, 0, HD_RPC_OK };

  hd_xdr_writer_init (&w);
  hd_rpc_packet_begin (&w, &h);
  hd_xdr_write_u32 (&w, 1);
  hd_xdr_write_i32 (&w, HD_RPC_AUTH_NONE);
  b = hd_rpc_packet_finish (&w);
  assert_bytes_hex (b, AUTH_LIST_REPLY_NONE);
}

static void
test_error_encode (void)
{
  g_auto(HdXdrWriter) w = { 0 };

  hd_xdr_writer_init (&w);
  hd_rpc_write_error (&w, VIR_ERR_RPC, VIR_FROM_RPC, "unknown procedure: 7");
  {
    g_autoptr(GBytes) want = hex ("00000027 00000007 00000001 00000014"
                                  "756e6b6e6f776e2070726f6365647572653a2037"
                                  "00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000");
    g_assert_cmpmem (w.buf->data, w.buf->len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
  }
}

/* --- dispatcher ------------------------------------------------------------ */

typedef struct {
  HdRpcConnection *conn;
  GPtrArray *sent;      /* GBytes, whole packets */
} Session;

static void
on_send (GBytes *p, gpointer user_data)
{
  Session *s = user_data;

  g_ptr_array_add (s->sent, g_bytes_ref (p));
}

static void
session_init (Session *s, gboolean readonly)
{
  s->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s->conn = hd_rpc_connection_new (inventory, NULL, readonly, 1000, on_send, s);
}

static void
session_clear (Session *s)
{
  g_clear_pointer (&s->conn, hd_rpc_connection_free);
  g_clear_pointer (&s->sent, g_ptr_array_unref);
}

/* Dispatches a whole packet (length word included), as the server does
 * after framing. */
static gboolean
session_send (Session *s, GBytes *whole)
{
  gsize n;
  const guint8 *d = g_bytes_get_data (whole, &n);

  g_assert_cmpuint (n, >=, 4);
  return hd_rpc_connection_dispatch (s->conn, d + 4, n - 4);
}

static gboolean
session_call (Session *s, gint32 proc, guint32 serial, const char *payload_hex)
{
  g_autoptr(GBytes) p = call (proc, serial, payload_hex);

  return session_send (s, p);
}

typedef struct {
  HdRpcHeader h;
  GBytes *whole;
  HdXdrReader r;        /* positioned at the payload */
} Reply;

/* Takes the one packet the last call produced. */
static void
take_reply (Session *s, Reply *out)
{
  gsize n;
  const guint8 *d;
  HdXdrReader lr;
  guint32 len;

  g_assert_cmpuint (s->sent->len, ==, 1);
  out->whole = g_ptr_array_steal_index (s->sent, 0);
  d = g_bytes_get_data (out->whole, &n);
  g_assert_cmpuint (n, >=, 28);
  hd_xdr_reader_init (&lr, d, n);
  g_assert_true (hd_xdr_read_u32 (&lr, &len));
  g_assert_cmpuint (len, ==, n);     /* the length word counts itself */
  hd_xdr_reader_init (&out->r, d + 4, n - 4);
  g_assert_true (hd_rpc_header_decode (&out->r, &out->h));
}

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->whole, g_bytes_unref);
}

/* Checks a REPLY/ERROR with a fully decoded remote_error. */
static void
assert_error_reply (Session *s, gint32 proc, guint32 serial, int code, int domain, const char *message)
{
  Reply rep = { 0 };
  gint32 c, d, level, i1, i2;
  guint32 dom, s1, s2, s3, net;
  g_autofree char *msg = NULL;

  take_reply (s, &rep);
  g_assert_cmpuint (rep.h.type, ==, HD_RPC_REPLY);
  g_assert_cmpuint (rep.h.status, ==, HD_RPC_ERROR);
  g_assert_cmpint (rep.h.proc, ==, proc);
  g_assert_cmpuint (rep.h.serial, ==, serial);
  g_assert_true (hd_xdr_read_i32 (&rep.r, &c));
  g_assert_true (hd_xdr_read_i32 (&rep.r, &d));
  g_assert_true (hd_xdr_read_opt_string (&rep.r, HD_RPC_STRING_MAX, &msg));
  g_assert_true (hd_xdr_read_i32 (&rep.r, &level));
  g_assert_true (hd_xdr_read_u32 (&rep.r, &dom));
  g_assert_true (hd_xdr_read_u32 (&rep.r, &s1));
  g_assert_true (hd_xdr_read_u32 (&rep.r, &s2));
  g_assert_true (hd_xdr_read_u32 (&rep.r, &s3));
  g_assert_true (hd_xdr_read_i32 (&rep.r, &i1));
  g_assert_true (hd_xdr_read_i32 (&rep.r, &i2));
  g_assert_true (hd_xdr_read_u32 (&rep.r, &net));
  g_assert_cmpuint (hd_xdr_reader_remaining (&rep.r), ==, 0);
  g_assert_cmpint (c, ==, code);
  g_assert_cmpint (d, ==, domain);
  g_assert_cmpstr (msg, ==, message);
  g_assert_cmpint (level, ==, VIR_ERR_ERROR);
  g_assert_cmpuint (dom | s1 | s2 | s3 | net, ==, 0);
  g_assert_cmpint (i1 | i2, ==, 0);
  reply_clear (&rep);
}

/* Takes an OK reply; the caller decodes the payload from rep->r. */
static void
take_ok_reply (Session *s, gint32 proc, guint32 serial, Reply *rep)
{
  take_reply (s, rep);
  g_assert_cmpuint (rep->h.type, ==, HD_RPC_REPLY);
  g_assert_cmpuint (rep->h.status, ==, HD_RPC_OK);
  g_assert_cmpint (rep->h.proc, ==, proc);
  g_assert_cmpuint (rep->h.serial, ==, serial);
  g_assert_cmphex (rep->h.prog, ==, HD_RPC_REMOTE_PROGRAM);
  g_assert_cmpuint (rep->h.vers, ==, HD_RPC_REMOTE_VERSION);
}

static void
assert_void_ok (Session *s, gint32 proc, guint32 serial)
{
  Reply rep = { 0 };

  take_ok_reply (s, proc, serial, &rep);
  g_assert_cmpuint (hd_xdr_reader_remaining (&rep.r), ==, 0);
  reply_clear (&rep);
}

static void
session_open (Session *s)
{
  g_assert_true (session_call (s, HD_PROC_CONNECT_OPEN, 2, CONNECT_OPEN_PAYLOAD));
  assert_void_ok (s, HD_PROC_CONNECT_OPEN, 2);
  g_assert_true (hd_rpc_connection_is_open (s->conn));
}

/* A LIST_ALL that works: the connection is alive and open. */
static void
assert_list_all_works (Session *s, guint32 serial)
{
  Reply rep = { 0 };
  guint32 n, ret;

  g_assert_true (session_call (s, HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, serial, LIST_ALL_PAYLOAD));
  take_ok_reply (s, HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, serial, &rep);
  g_assert_true (hd_xdr_read_u32 (&rep.r, &n));
  g_assert_cmpuint (n, >=, 1);   /* computer, at least */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = NULL;
      g_assert_true (hd_xdr_read_string (&rep.r, HD_RPC_STRING_MAX, &name));
      if (i == 0)
        g_assert_cmpstr (name, ==, "computer");
    }
  g_assert_true (hd_xdr_read_u32 (&rep.r, &ret));
  g_assert_cmpuint (ret, ==, n);
  g_assert_cmpuint (hd_xdr_reader_remaining (&rep.r), ==, 0);
  reply_clear (&rep);
}

static void
test_dispatch_auth_list (void)
{
  Session s;
  g_autoptr(GBytes) c = hex (AUTH_LIST_CALL);

  session_init (&s, FALSE);
  g_assert_true (session_send (&s, c));
  g_assert_cmpuint (s.sent->len, ==, 1);
  assert_bytes_hex (g_ptr_array_index (s.sent, 0), AUTH_LIST_REPLY_NONE);
  session_clear (&s);
}

static void
test_dispatch_echo_header (void)
{
  Session s;
  Reply rep = { 0 };

  session_init (&s, FALSE);
  g_assert_true (session_call (&s, HD_PROC_AUTH_LIST, 0xdeadbeef, NULL));
  take_ok_reply (&s, HD_PROC_AUTH_LIST, 0xdeadbeef, &rep);
  reply_clear (&rep);

  session_open (&s);
  g_assert_true (session_call (&s, HD_PROC_CONNECT_SUPPORTS_FEATURE, 0x7fffffff, "0000000a"));
  take_ok_reply (&s, HD_PROC_CONNECT_SUPPORTS_FEATURE, 0x7fffffff, &rep);
  {
    gint32 supported;
    g_assert_true (hd_xdr_read_i32 (&rep.r, &supported));
    g_assert_cmpint (supported, ==, 1);
  }
  reply_clear (&rep);
  /* errors echo the header too */
  g_assert_true (session_call (&s, HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME, 0xfffffffe, "00000001 78000000"));
  assert_error_reply (&s, HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME, 0xfffffffe, VIR_ERR_NO_NODE_DEVICE,
                      VIR_FROM_NODEDEV, "Node device not found: no node device with matching name 'x'");
  session_clear (&s);
}

/* Regression: hd_rpc_connection_dispatch() once declared its
 * `g_auto(HdXdrWriter) ret;` without an initialiser, and every early return
 * (unknown procedure or program, "connection not open", keepalive, a
 * non-CALL packet) ran the cleanup on stack garbage: hostdevd died with
 * SIGSEGV on one 28-byte packet (fixed in 9ed880d). */
static void
test_dispatch_unknown_procedure (void)
{
  const gint32 procs[] = { 0, 3, 9999, -1, G_MININT32, G_MAXINT32, HD_PROC_NODE_DEVICE_EVENT_LIFECYCLE };
  Session s;

  session_init (&s, FALSE);
  for (int pass = 0; pass < 2; pass++)
    {
      for (guint i = 0; i < G_N_ELEMENTS (procs); i++)
        {
          g_autofree char *msg = g_strdup_printf ("unknown procedure: %d", procs[i]);

          g_assert_true (session_call (&s, procs[i], 100 + i, NULL));
          assert_error_reply (&s, procs[i], 100 + i, VIR_ERR_RPC, VIR_FROM_RPC, msg);
        }
      /* still usable: before the open, the open itself; after it, a list */
      if (pass == 0)
        session_open (&s);
      else
        assert_list_all_works (&s, 5);
    }
  session_clear (&s);
}

static void
test_dispatch_not_open (void)
{
  const gint32 procs[] = {
    HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME,
    HD_PROC_NODE_DEVICE_GET_XML_DESC, HD_PROC_NODE_DEVICE_DETTACH,
    HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, HD_PROC_CONNECT_SET_IDENTITY,
  };
  Session s;

  session_init (&s, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (procs); i++)
    {
      /* the payload is not even looked at */
      g_assert_true (session_call (&s, procs[i], i, "00000001"));
      assert_error_reply (&s, procs[i], i, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC,
                          "internal error: connection not open");
      g_assert_false (hd_rpc_connection_is_open (s.conn));
    }
  /* the connection stays: the handshake still works after all that */
  session_open (&s);
  assert_list_all_works (&s, 9);
  session_clear (&s);
}

static void
test_dispatch_bad_payload (void)
{
  const struct {
    gint32 proc;
    const char *payload;
    gboolean needs_open;
  } bad[] = {
    { HD_PROC_CONNECT_OPEN, NULL, FALSE },
    { HD_PROC_CONNECT_OPEN, "00000001", FALSE },
    { HD_PROC_CONNECT_OPEN, "00000002 00000000 00000000", FALSE },     /* pointer flag 2 */
    { HD_PROC_CONNECT_OPEN, "00000001 00000011 6e6f6465", FALSE },     /* string past the end */
    { HD_PROC_CONNECT_OPEN, "00000001 00400001 00000000", FALSE },     /* over REMOTE_STRING_MAX */
    { HD_PROC_CONNECT_OPEN, "00000001 ffffffff 00000000", FALSE },
    { HD_PROC_CONNECT_OPEN, "00000001 00000003 6e006400 00000000", FALSE },  /* embedded NUL */
    { HD_PROC_CONNECT_SUPPORTS_FEATURE, "000000", FALSE },
    { HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, NULL, TRUE },
    { HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, "00000001", TRUE },
    { HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME, "ffffffff", TRUE },
    { HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME, "00000010 636f6d70", TRUE },
    { HD_PROC_NODE_DEVICE_GET_XML_DESC, "00000008 636f6d7075746572", TRUE },   /* flags missing */
    { HD_PROC_NODE_DEVICE_DETACH_FLAGS, "00000009 636f6d7075746572", TRUE },
    /* a known device, but the driver name and flags are missing or bad */
    { HD_PROC_NODE_DEVICE_DETACH_FLAGS, "00000008 636f6d7075746572", TRUE },
    { HD_PROC_NODE_DEVICE_DETACH_FLAGS, "00000008 636f6d7075746572 00000002", TRUE },
    { HD_PROC_NODE_DEVICE_DETACH_FLAGS, "00000008 636f6d7075746572 00000001 00000004 7666696f", TRUE },
    { HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, "00000000 00000002", TRUE },
    { HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, "00000000 00000001 7fffffff", TRUE },
    { HD_PROC_NODE_LIST_DEVICES, "00000003", TRUE },
    { HD_PROC_CONNECT_SET_IDENTITY, "00000015", TRUE },                 /* 21 params > 20 */
    { HD_PROC_CONNECT_SET_IDENTITY, "00000001 00000001 61000000 00000063 00000000", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      Session s;

      g_test_message ("proc %d payload %s", bad[i].proc, bad[i].payload);
      session_init (&s, FALSE);
      if (bad[i].needs_open)
        session_open (&s);
      g_assert_true (session_call (&s, bad[i].proc, 77, bad[i].payload));
      assert_error_reply (&s, bad[i].proc, 77, VIR_ERR_RPC, VIR_FROM_RPC,
                          "Unable to decode message payload");
      /* and the connection carries on */
      if (!bad[i].needs_open)
        session_open (&s);
      assert_list_all_works (&s, 78);
      session_clear (&s);
    }
}

static void
test_dispatch_open_twice (void)
{
  Session s;

  session_init (&s, FALSE);
  session_open (&s);
  g_assert_true (session_call (&s, HD_PROC_CONNECT_OPEN, 3, CONNECT_OPEN_PAYLOAD));
  assert_error_reply (&s, HD_PROC_CONNECT_OPEN, 3, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC,
                      "internal error: connection already open");
  assert_list_all_works (&s, 4);
  session_clear (&s);
}

static void
test_dispatch_ping (void)
{
  g_autoptr(GBytes) ping = hex (PING);
  Session s;

  session_init (&s, FALSE);
  /* before the open, and after it */
  for (int i = 0; i < 2; i++)
    {
      g_assert_true (session_send (&s, ping));
      g_assert_cmpuint (s.sent->len, ==, 1);
      assert_bytes_hex (g_ptr_array_index (s.sent, 0), PONG);
      g_ptr_array_set_size (s.sent, 0);
      if (i == 0)
        session_open (&s);
    }
  /* a PONG, or a keepalive CALL, needs no answer and breaks nothing */
  {
    g_autoptr(GBytes) pong = hex (PONG);
    g_autoptr(GBytes) kcall = packet (HD_RPC_KEEPALIVE_PROGRAM, 1, 1, HD_RPC_CALL, 5, NULL);
    g_autoptr(GBytes) kv2 = packet (HD_RPC_KEEPALIVE_PROGRAM, 2, 1, HD_RPC_MESSAGE, 0, NULL);
    g_assert_true (session_send (&s, pong));
    g_assert_true (session_send (&s, kcall));
    g_assert_true (session_send (&s, kv2));
    g_assert_cmpuint (s.sent->len, ==, 0);
  }
  assert_list_all_works (&s, 6);
  session_clear (&s);
}

static void
test_dispatch_unknown_program (void)
{
  Session s;
  g_autoptr(GBytes) qemu = packet (0x20008087, 1, 1, HD_RPC_CALL, 11, NULL);
  g_autoptr(GBytes) vers2 = packet (HD_RPC_REMOTE_PROGRAM, 2, HD_PROC_AUTH_LIST, HD_RPC_CALL, 12, NULL);
  g_autoptr(GBytes) junk = packet (0x12345678, 0xffffffff, -5, HD_RPC_CALL, 13, NULL);

  session_init (&s, FALSE);
  g_assert_true (session_send (&s, qemu));
  assert_error_reply (&s, 1, 11, VIR_ERR_RPC, VIR_FROM_RPC, "Cannot find program 536903815 version 1");
  g_assert_true (session_send (&s, vers2));
  assert_error_reply (&s, HD_PROC_AUTH_LIST, 12, VIR_ERR_RPC, VIR_FROM_RPC,
                      "Cannot find program 536903814 version 2");
  g_assert_true (session_send (&s, junk));
  assert_error_reply (&s, -5, 13, VIR_ERR_RPC, VIR_FROM_RPC, "Cannot find program 305419896 version -1");
  session_open (&s);
  assert_list_all_works (&s, 14);
  session_clear (&s);
}

static void
test_dispatch_other_types (void)
{
  Session s;
  const guint32 silent[] = { HD_RPC_REPLY, HD_RPC_MESSAGE, HD_RPC_STREAM, HD_RPC_REPLY_WITH_FDS, 6, 7, 0xffffffff };

  session_init (&s, FALSE);
  session_open (&s);
  for (guint i = 0; i < G_N_ELEMENTS (silent); i++)
    {
      g_autoptr(GBytes) p = packet (HD_RPC_REMOTE_PROGRAM, 1, HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES,
                                    silent[i], 20 + i, LIST_ALL_PAYLOAD);
      g_assert_true (session_send (&s, p));
      g_assert_cmpuint (s.sent->len, ==, 0);
    }
  {
    g_autoptr(GBytes) fds = packet (HD_RPC_REMOTE_PROGRAM, 1, HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES,
                                    HD_RPC_CALL_WITH_FDS, 30, LIST_ALL_PAYLOAD);
    g_assert_true (session_send (&s, fds));
    assert_error_reply (&s, HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, 30, VIR_ERR_RPC, VIR_FROM_RPC,
                        "Unexpected message type 4");
  }
  assert_list_all_works (&s, 31);
  session_clear (&s);
}

static void
test_dispatch_short_header (void)
{
  static const guint8 zeros[24] = { 0 };
  Session s;

  session_init (&s, FALSE);
  for (gsize n = 0; n < 24; n++)
    {
      /* the framer never delivers this; the dispatcher still refuses it */
      g_assert_false (hd_rpc_connection_dispatch (s.conn, zeros, n));
      g_assert_cmpuint (s.sent->len, ==, 0);
    }
  session_clear (&s);
}

static void
test_dispatch_trailing_bytes (void)
{
  Session s;
  Reply rep = { 0 };

  /* Extra bytes after the arguments are tolerated, as libvirt's own
   * decoder tolerates them. */
  session_init (&s, FALSE);
  g_assert_true (session_call (&s, HD_PROC_AUTH_LIST, 1, "deadbeef"));
  take_ok_reply (&s, HD_PROC_AUTH_LIST, 1, &rep);
  reply_clear (&rep);
  session_clear (&s);
}

static void
test_dispatch_close (void)
{
  Session s;

  session_init (&s, FALSE);
  session_open (&s);
  /* CONNECT_CLOSE is answered, then the connection is to be closed */
  g_assert_false (session_call (&s, HD_PROC_CONNECT_CLOSE, 8, NULL));
  assert_void_ok (&s, HD_PROC_CONNECT_CLOSE, 8);
  session_clear (&s);
}

/* Many calls, one connection: every call gets exactly one reply, in order,
 * and nothing accumulates in the connection. */
static void
test_dispatch_many (void)
{
  Session s;

  session_init (&s, FALSE);
  session_open (&s);
  for (guint i = 0; i < 2000; i++)
    {
      Reply rep = { 0 };

      if (i % 2)
        {
          g_assert_true (session_call (&s, HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, i,
                                       "00000000 00000000"));
          take_reply (&s, &rep);
          g_assert_cmpuint (rep.h.serial, ==, i);
          /* at most a bounded number of registrations succeed */
          reply_clear (&rep);
        }
      else
        assert_list_all_works (&s, i);
    }
  session_clear (&s);
}

/* --- authentication (remote/rpc-auth.c) ------------------------------------ */

/* AUTH_LIST's answer with REMOTE_AUTH_POLKIT. */
#define AUTH_LIST_REPLY_POLKIT \
  "00000024 20008086 00000001 00000042 00000001 00000000 00000000 00000001 00000002"

/* A fake authority: answers at once (or holds the task when @hold), and
 * records what it was asked. */
typedef struct {
  gboolean hold;
  int answer;                /* an HdRpcAuthResult, or -1: fail to ask */
  guint calls;
  HdRpcPeer peer;
  char *action;
  GTask *held;
} FakeAuthority;

static void
fake_authorize (const HdRpcPeer *peer, const char *action_id, GTask *task, gpointer user_data)
{
  FakeAuthority *fa = user_data;

  fa->calls++;
  fa->peer = *peer;
  g_free (fa->action);
  fa->action = g_strdup (action_id);
  if (fa->hold)
    {
      g_assert_null (fa->held);
      fa->held = task;
      return;
    }
  if (fa->answer < 0)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "The name is not activatable");
  else
    g_task_return_int (task, fa->answer);
  g_object_unref (task);
}

static void
fake_authority_clear (FakeAuthority *fa)
{
  g_clear_pointer (&fa->action, g_free);
  g_assert_null (fa->held);
}

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
auth_session_init (Session *s, FakeAuthority *fa)
{
  const HdRpcPeer peer = { 1000, 4242, 987654321 };

  session_init (s, FALSE);
  hd_rpc_connection_require_auth (s->conn, &peer, fa != NULL ? fake_authorize : NULL, fa);
}

/* AUTH_POLKIT, answered (after the main loop has turned) with an error. */
static void
assert_auth_polkit_error (Session *s, guint32 serial, int code, int domain, const char *message)
{
  g_assert_true (session_call (s, HD_PROC_AUTH_POLKIT, serial, NULL));
  drain_main_context ();
  assert_error_reply (s, HD_PROC_AUTH_POLKIT, serial, code, domain, message);
}

static void
assert_auth_required (Session *s, gint32 proc, guint32 serial, const char *payload)
{
  g_assert_true (session_call (s, proc, serial, payload));
  assert_error_reply (s, proc, serial, VIR_ERR_RPC, VIR_FROM_RPC, "authentication required");
}

static void
test_auth_list (void)
{
  FakeAuthority fa = { 0 };
  g_autoptr(GBytes) c = hex (AUTH_LIST_CALL);
  Session s;

  auth_session_init (&s, &fa);
  g_assert_true (session_send (&s, c));
  g_assert_cmpuint (s.sent->len, ==, 1);
  assert_bytes_hex (g_ptr_array_index (s.sent, 0), AUTH_LIST_REPLY_POLKIT);
  g_assert_cmpuint (fa.calls, ==, 0);   /* listing asks nobody */
  session_clear (&s);
  fake_authority_clear (&fa);
}

/* Before authentication only AUTH_LIST, AUTH_POLKIT and keepalives are
 * served; everything else, the handshake included, is libvirt's
 * "authentication required" (VIR_ERR_RPC), and an unknown procedure is
 * still unknown first. */
static void
test_auth_required (void)
{
  const gint32 procs[] = {
    HD_PROC_CONNECT_OPEN, HD_PROC_CONNECT_SUPPORTS_FEATURE, HD_PROC_CONNECT_CLOSE,
    HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME,
    HD_PROC_NODE_DEVICE_GET_XML_DESC, HD_PROC_NODE_DEVICE_DETTACH, HD_PROC_NODE_DEVICE_DETACH_FLAGS,
    HD_PROC_NODE_DEVICE_RE_ATTACH, HD_PROC_NODE_DEVICE_RESET,
    HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, HD_PROC_CONNECT_SET_IDENTITY,
  };
  FakeAuthority fa = { 0 };
  g_autoptr(GBytes) ping = hex (PING);
  Session s;

  auth_session_init (&s, &fa);
  for (guint i = 0; i < G_N_ELEMENTS (procs); i++)
    {
      g_test_message ("proc %d", procs[i]);
      /* the payload is not even looked at */
      assert_auth_required (&s, procs[i], 10 + i, i == 0 ? CONNECT_OPEN_PAYLOAD : "00000001");
    }
  g_assert_false (hd_rpc_connection_is_open (s.conn));
  g_assert_true (session_call (&s, 9999, 50, NULL));
  assert_error_reply (&s, 9999, 50, VIR_ERR_RPC, VIR_FROM_RPC, "unknown procedure: 9999");
  g_assert_true (session_send (&s, ping));
  g_assert_cmpuint (s.sent->len, ==, 1);
  assert_bytes_hex (g_ptr_array_index (s.sent, 0), PONG);
  g_ptr_array_set_size (s.sent, 0);
  g_assert_cmpuint (fa.calls, ==, 0);
  session_clear (&s);
  fake_authority_clear (&fa);
}

static void
test_auth_allowed (void)
{
  FakeAuthority fa = { .answer = HD_RPC_AUTH_ALLOWED };
  Reply rep = { 0 };
  g_autoptr(GBytes) c = hex (AUTH_LIST_CALL);
  gint32 complete;
  Session s;

  auth_session_init (&s, &fa);
  g_assert_true (session_call (&s, HD_PROC_AUTH_POLKIT, 1, NULL));
  g_assert_cmpint (hd_rpc_connection_get_auth_activity (s.conn), ==, G_MAXINT64);
  /* answered from the main loop, never from inside the dispatch */
  g_assert_cmpuint (s.sent->len, ==, 0);
  drain_main_context ();
  take_ok_reply (&s, HD_PROC_AUTH_POLKIT, 1, &rep);
  g_assert_true (hd_xdr_read_i32 (&rep.r, &complete));
  g_assert_cmpint (complete, ==, 1);
  g_assert_cmpuint (hd_xdr_reader_remaining (&rep.r), ==, 0);
  reply_clear (&rep);
  g_assert_cmpint (hd_rpc_connection_get_auth_activity (s.conn), >, 0);
  g_assert_cmpint (hd_rpc_connection_get_auth_activity (s.conn), <, G_MAXINT64);

  /* libvirt's action, and the peer as the server saw it */
  g_assert_cmpuint (fa.calls, ==, 1);
  g_assert_cmpstr (fa.action, ==, "org.libvirt.unix.manage");
  g_assert_cmpuint (fa.peer.uid, ==, 1000);
  g_assert_cmpuint (fa.peer.pid, ==, 4242);
  g_assert_cmpuint (fa.peer.start_time, ==, 987654321);

  /* authenticated: AUTH_LIST says NONE now, the handshake and calls work,
   * and another AUTH_POLKIT asks nobody */
  g_assert_true (session_send (&s, c));
  assert_bytes_hex (g_ptr_array_index (s.sent, 0), AUTH_LIST_REPLY_NONE);
  g_ptr_array_set_size (s.sent, 0);
  session_open (&s);
  assert_list_all_works (&s, 3);
  g_assert_true (session_call (&s, HD_PROC_AUTH_POLKIT, 4, NULL));
  drain_main_context ();
  take_ok_reply (&s, HD_PROC_AUTH_POLKIT, 4, &rep);
  reply_clear (&rep);
  g_assert_cmpuint (fa.calls, ==, 1);
  session_clear (&s);
  fake_authority_clear (&fa);
}

/* Each refusal as libvirt's virPolkitCheckAuth words and codes it, and
 * the client stays unauthenticated (and may try again). */
static void
test_auth_refused (void)
{
  const struct {
    int answer;
    int code;
    int domain;
    const char *message;
  } cases[] = {
    { HD_RPC_AUTH_DENIED, VIR_ERR_AUTH_FAILED, VIR_FROM_POLKIT,
      "authentication failed: access denied by policy" },
    { HD_RPC_AUTH_CHALLENGE, VIR_ERR_AUTH_UNAVAILABLE, VIR_FROM_POLKIT,
      "authentication unavailable: no polkit agent available to authenticate action 'org.libvirt.unix.manage'" },
    { HD_RPC_AUTH_DISMISSED, VIR_ERR_AUTH_CANCELLED, VIR_FROM_POLKIT,
      "authentication cancelled: user cancelled authentication process" },
    { -1, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC,
      "authentication failed: polkit could not be asked whether uid 1000 may use the read-write socket "
      "(The name is not activatable)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      FakeAuthority fa = { .answer = cases[i].answer };
      Reply rep = { 0 };
      Session s;

      g_test_message ("answer %d", cases[i].answer);
      auth_session_init (&s, &fa);
      assert_auth_polkit_error (&s, 1, cases[i].code, cases[i].domain, cases[i].message);
      assert_auth_required (&s, HD_PROC_CONNECT_OPEN, 2, CONNECT_OPEN_PAYLOAD);
      /* again, and this time polkit says yes */
      fa.answer = HD_RPC_AUTH_ALLOWED;
      g_assert_true (session_call (&s, HD_PROC_AUTH_POLKIT, 3, NULL));
      drain_main_context ();
      take_ok_reply (&s, HD_PROC_AUTH_POLKIT, 3, &rep);
      reply_clear (&rep);
      session_open (&s);
      g_assert_cmpuint (fa.calls, ==, 2);
      session_clear (&s);
      fake_authority_clear (&fa);
    }
}

static void
test_auth_no_authority (void)
{
  Session s;

  auth_session_init (&s, NULL);
  assert_auth_polkit_error (&s, 1, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC,
                            "authentication failed: hostdevd has no polkit to authorize uid 1000 on the "
                            "read-write socket; connect as root, or use the read-only socket");
  assert_auth_required (&s, HD_PROC_CONNECT_OPEN, 2, CONNECT_OPEN_PAYLOAD);
  session_clear (&s);
}

/* libvirt refuses a peer whose start time it could not read. */
static void
test_auth_no_start_time (void)
{
  const HdRpcPeer peer = { 1000, 4242, 0 };
  FakeAuthority fa = { .answer = HD_RPC_AUTH_ALLOWED };
  Session s;

  session_init (&s, FALSE);
  hd_rpc_connection_require_auth (s.conn, &peer, fake_authorize, &fa);
  assert_auth_polkit_error (&s, 1, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC,
                            "authentication failed: the start time of process 4242 is unknown");
  g_assert_cmpuint (fa.calls, ==, 0);
  session_clear (&s);
  fake_authority_clear (&fa);
}

/* AUTH_POLKIT where AUTH_LIST said NONE (root, the read-only socket). */
static void
test_auth_not_required (void)
{
  Session s;

  session_init (&s, TRUE);
  assert_auth_polkit_error (&s, 1, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC,
                            "internal error: client tried invalid PolicyKit init request");
  session_open (&s);
  assert_list_all_works (&s, 2);
  session_clear (&s);
}

/* One check at a time; calls meanwhile are refused; a keepalive is still
 * answered. */
static void
test_auth_pending (void)
{
  FakeAuthority fa = { .hold = TRUE };
  g_autoptr(GBytes) ping = hex (PING);
  Reply rep = { 0 };
  Session s;

  auth_session_init (&s, &fa);
  g_assert_true (session_call (&s, HD_PROC_AUTH_POLKIT, 1, NULL));
  drain_main_context ();
  g_assert_cmpuint (s.sent->len, ==, 0);
  g_assert_nonnull (fa.held);
  assert_auth_polkit_error (&s, 2, VIR_ERR_RPC, VIR_FROM_RPC,
                            "an authentication check is already in progress on this connection");
  assert_auth_required (&s, HD_PROC_CONNECT_OPEN, 3, CONNECT_OPEN_PAYLOAD);
  g_assert_true (session_send (&s, ping));
  assert_bytes_hex (g_ptr_array_index (s.sent, 0), PONG);
  g_ptr_array_set_size (s.sent, 0);
  g_assert_cmpuint (fa.calls, ==, 1);

  g_task_return_int (fa.held, HD_RPC_AUTH_ALLOWED);
  g_clear_object (&fa.held);
  drain_main_context ();
  take_ok_reply (&s, HD_PROC_AUTH_POLKIT, 1, &rep);
  reply_clear (&rep);
  session_open (&s);
  session_clear (&s);
  fake_authority_clear (&fa);
}

/* The client goes while polkit is still thinking: the check is cancelled,
 * and its answer, whenever it comes, goes nowhere. */
static void
test_auth_disconnect_pending (void)
{
  const int answers[] = { HD_RPC_AUTH_ALLOWED, HD_RPC_AUTH_DENIED, -1 };

  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      FakeAuthority fa = { .hold = TRUE };
      GCancellable *cancellable;
      Session s;

      auth_session_init (&s, &fa);
      g_assert_true (session_call (&s, HD_PROC_AUTH_POLKIT, 1, NULL));
      drain_main_context ();
      g_assert_nonnull (fa.held);
      cancellable = g_task_get_cancellable (fa.held);
      g_assert_false (g_cancellable_is_cancelled (cancellable));
      session_clear (&s);       /* frees the connection and what it sent */
      g_assert_true (g_cancellable_is_cancelled (cancellable));
      if (answers[i] < 0)
        g_task_return_new_error (fa.held, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
      else
        g_task_return_int (fa.held, answers[i]);
      g_clear_object (&fa.held);
      drain_main_context ();
      fake_authority_clear (&fa);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/framer/auth-list", test_framer_auth_list);
  g_test_add_func ("/framer/one-chunk", test_framer_one_chunk);
  g_test_add_func ("/framer/split-everywhere", test_framer_split_everywhere);
  g_test_add_func ("/framer/stop", test_framer_stop);
  g_test_add_func ("/framer/bad-length", test_framer_bad_length);
  g_test_add_func ("/framer/limits-inclusive", test_framer_limits_inclusive);
  g_test_add_func ("/framer/truncated", test_framer_truncated);
  g_test_add_func ("/packet/encode", test_packet_encode);
  g_test_add_func ("/packet/error", test_error_encode);

  /* The dispatcher runs on this machine's devices, read-only. */
  inventory = hd_inventory_new (FALSE, &error);
  if (inventory == NULL)
    g_printerr ("# no inventory (%s): dispatcher tests skipped\n", error->message);
  else
    {
      g_test_add_func ("/dispatch/auth-list", test_dispatch_auth_list);
      g_test_add_func ("/dispatch/echo-header", test_dispatch_echo_header);
      g_test_add_func ("/dispatch/unknown-procedure", test_dispatch_unknown_procedure);
      g_test_add_func ("/dispatch/not-open", test_dispatch_not_open);
      g_test_add_func ("/dispatch/bad-payload", test_dispatch_bad_payload);
      g_test_add_func ("/dispatch/open-twice", test_dispatch_open_twice);
      g_test_add_func ("/dispatch/ping", test_dispatch_ping);
      g_test_add_func ("/dispatch/unknown-program", test_dispatch_unknown_program);
      g_test_add_func ("/dispatch/other-types", test_dispatch_other_types);
      g_test_add_func ("/dispatch/short-header", test_dispatch_short_header);
      g_test_add_func ("/dispatch/trailing-bytes", test_dispatch_trailing_bytes);
      g_test_add_func ("/dispatch/close", test_dispatch_close);
      g_test_add_func ("/dispatch/many", test_dispatch_many);
      g_test_add_func ("/auth/list", test_auth_list);
      g_test_add_func ("/auth/required", test_auth_required);
      g_test_add_func ("/auth/allowed", test_auth_allowed);
      g_test_add_func ("/auth/refused", test_auth_refused);
      g_test_add_func ("/auth/no-authority", test_auth_no_authority);
      g_test_add_func ("/auth/no-start-time", test_auth_no_start_time);
      g_test_add_func ("/auth/not-required", test_auth_not_required);
      g_test_add_func ("/auth/pending", test_auth_pending);
      g_test_add_func ("/auth/disconnect-pending", test_auth_disconnect_pending);
    }
  {
    int ret = g_test_run ();
    g_clear_object (&inventory);
    return ret;
  }
}
