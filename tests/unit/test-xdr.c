/* XDR reader and writer (remote/xdr.c): every length word is bounded by
 * the data that is really there and by the caller's limit, optional
 * pointers take only 0 or 1, and the writer pads to 4 bytes with zeros. */
#include "config.h"

#include <string.h>

#include "remote/rpc-protocol.h"
#include "remote/xdr.h"
#include "test-hex.h"

static GBytes *
hex (const char *text)
{
  return g_byte_array_free_to_bytes (hex_array (text));
}

static void
assert_writer_hex (HdXdrWriter *w, const char *expected)
{
  g_autoptr(GBytes) want = hex (expected);
  gsize n;
  const guint8 *d = g_bytes_get_data (want, &n);

  g_assert_cmpmem (w->buf->data, w->buf->len, d, n);
}

static void
test_read_words (void)
{
  static const guint8 data[] = {
    0x12, 0x34, 0x56, 0x78,  0xff, 0xff, 0xff, 0xfe,
    0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x02,  0xaa, 0xbb, 0xcc,
  };
  HdXdrReader r;
  guint32 u = 0;
  gint32 i = 0;
  guint64 h = 0;

  hd_xdr_reader_init (&r, data, sizeof data);
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 19);
  g_assert_true (hd_xdr_read_u32 (&r, &u));
  g_assert_cmphex (u, ==, 0x12345678);
  g_assert_true (hd_xdr_read_i32 (&r, &i));
  g_assert_cmpint (i, ==, -2);
  /* hyper: high word first */
  g_assert_true (hd_xdr_read_u64 (&r, &h));
  g_assert_cmphex (h, ==, G_GUINT64_CONSTANT (0x0000000180000002));
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 3);

  /* three bytes are not a word */
  u = 7;
  g_assert_false (hd_xdr_read_u32 (&r, &u));
  g_assert_cmpuint (u, ==, 7);
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 3);
  g_assert_false (hd_xdr_read_i32 (&r, &i));

  /* a hyper needs eight */
  hd_xdr_reader_init (&r, data, 7);
  g_assert_false (hd_xdr_read_u64 (&r, &h));

  /* nothing at all */
  hd_xdr_reader_init (&r, NULL, 0);
  g_assert_false (hd_xdr_read_u32 (&r, &u));
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);
}

static void
test_read_string (void)
{
  g_autoptr(GBytes) b = hex ("00000003 616263 00  00000004 64656667  00000000  00000001 7a 000000");
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  HdXdrReader r;
  g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;

  hd_xdr_reader_init (&r, d, n);
  g_assert_true (hd_xdr_read_string (&r, 100, &s1));
  g_assert_cmpstr (s1, ==, "abc");
  /* the padding is consumed: the next word starts on a 4-byte boundary */
  g_assert_cmpuint (r.pos, ==, 8);
  g_assert_true (hd_xdr_read_string (&r, 4, &s2));   /* length == max is allowed */
  g_assert_cmpstr (s2, ==, "defg");
  g_assert_cmpuint (r.pos, ==, 16);
  g_assert_true (hd_xdr_read_string (&r, 0, &s3));   /* the empty string */
  g_assert_cmpstr (s3, ==, "");
  g_assert_true (hd_xdr_read_string (&r, 1, &s4));
  g_assert_cmpstr (s4, ==, "z");
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);
}

static void
assert_refused (const char *bytes, guint32 max, gboolean opaque_too)
{
  g_autoptr(GBytes) b = hex (bytes);
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  HdXdrReader r;
  char *s = (char *) "untouched";

  g_test_message ("refuse %s (max %u)", bytes, max);
  hd_xdr_reader_init (&r, d, n);
  g_assert_false (hd_xdr_read_string (&r, max, &s));
  g_assert_cmpstr (s, ==, "untouched");
  if (opaque_too)
    {
      hd_xdr_reader_init (&r, d, n);
      g_assert_false (hd_xdr_skip_opaque (&r, max));
    }
}

/* Refused as a string and as opaque data: bounds. */
static void
assert_string_refused (const char *bytes, guint32 max)
{
  assert_refused (bytes, max, TRUE);
}

static void
test_read_string_bounds (void)
{
  /* length word past the end of the data */
  assert_string_refused ("00000005 6162636465", 100);          /* padding missing */
  assert_string_refused ("00000008 61626364", 100);
  assert_string_refused ("00000001", 100);
  assert_string_refused ("000000", 100);                       /* not even a length word */
  assert_string_refused ("7fffffff 61626364", G_MAXUINT32);
  assert_string_refused ("ffffffff 61626364", G_MAXUINT32);
  assert_string_refused ("fffffffd 61626364", G_MAXUINT32);    /* padded length wraps in 32 bits */
  assert_string_refused ("fffffffe", G_MAXUINT32);
  /* over the limit although the bytes are there */
  assert_string_refused ("00000005 6162636465 000000", 4);
  assert_string_refused ("00000001 61 000000", 0);
}

static void
put_u32 (guint8 *d, guint32 v)
{
  d[0] = (guint8) (v >> 24);
  d[1] = (guint8) (v >> 16);
  d[2] = (guint8) (v >> 8);
  d[3] = (guint8) v;
}

static void
test_read_string_limit (void)
{
  /* REMOTE_STRING_MAX itself is accepted, one byte more is not; the
   * length word is checked before anything is allocated. */
  gsize n = 4 + HD_RPC_STRING_MAX;
  g_autofree guint8 *d = g_malloc (n + 4);
  HdXdrReader r;
  g_autofree char *s = NULL;

  memset (d + 4, 'x', n);
  put_u32 (d, HD_RPC_STRING_MAX);
  hd_xdr_reader_init (&r, d, n);
  g_assert_true (hd_xdr_read_string (&r, HD_RPC_STRING_MAX, &s));
  g_assert_cmpuint (strlen (s), ==, HD_RPC_STRING_MAX);

  put_u32 (d, HD_RPC_STRING_MAX + 1);
  hd_xdr_reader_init (&r, d, n + 4);
  g_clear_pointer (&s, g_free);
  g_assert_false (hd_xdr_read_string (&r, HD_RPC_STRING_MAX, &s));
  g_assert_null (s);
}

static void
test_read_string_nul (void)
{
  /* No name, URI or driver of this protocol can hold a NUL: a string
   * that carries one would be cut short in C and must be refused. */
  assert_refused ("00000004 61006263", 100, FALSE);
  assert_refused ("00000001 00 000000", 100, FALSE);
  assert_refused ("00000003 616200 00", 100, FALSE);
  assert_refused ("00000004 00000000", 100, FALSE);
  /* opaque data may hold NULs */
  {
    g_autoptr(GBytes) b = hex ("00000004 61006263");
    HdXdrReader r;

    hd_xdr_reader_init (&r, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
    g_assert_true (hd_xdr_skip_opaque (&r, 4));
    g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);
  }
}

static void
test_read_string_padding (void)
{
  /* The padding may be anything: glibc's xdr_opaque, which libvirt uses,
   * does not look at it either.  What matters is that it is skipped. */
  g_autoptr(GBytes) b = hex ("00000001 61 ffffff 00000002");
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  HdXdrReader r;
  g_autofree char *s = NULL;
  guint32 next;

  hd_xdr_reader_init (&r, d, n);
  g_assert_true (hd_xdr_read_string (&r, 10, &s));
  g_assert_cmpstr (s, ==, "a");
  g_assert_true (hd_xdr_read_u32 (&r, &next));
  g_assert_cmpuint (next, ==, 2);

  /* skip_opaque skips the same amount */
  hd_xdr_reader_init (&r, d, n);
  g_assert_true (hd_xdr_skip_opaque (&r, 10));
  g_assert_cmpuint (r.pos, ==, 8);
}

static void
test_read_opt_string (void)
{
  struct {
    const char *bytes;
    gboolean ok;
    const char *value;
  } cases[] = {
    { "00000000", TRUE, NULL },
    { "00000001 00000002 6869 0000", TRUE, "hi" },
    { "00000001 00000000", TRUE, "" },
    /* flag values other than 0/1 */
    { "00000002 00000002 6869 0000", FALSE, NULL },
    { "ffffffff 00000002 6869 0000", FALSE, NULL },
    { "80000000", FALSE, NULL },
    { "00000100 00000000", FALSE, NULL },
    /* present, but the string is missing or truncated */
    { "00000001", FALSE, NULL },
    { "00000001 00000003 6869", FALSE, NULL },
    { "000000", FALSE, NULL },
    { "", FALSE, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) b = hex (cases[i].bytes);
      gsize n;
      const guint8 *d = g_bytes_get_data (b, &n);
      HdXdrReader r;
      g_autofree char *s = NULL;

      g_test_message ("opt string %s", cases[i].bytes);
      hd_xdr_reader_init (&r, d, n);
      g_assert_cmpint (hd_xdr_read_opt_string (&r, 10, &s), ==, cases[i].ok);
      if (cases[i].ok)
        {
          g_assert_cmpstr (s, ==, cases[i].value);
          g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);
        }
    }
}

static void
test_connect_open_payload (void)
{
  /* libvirt-rpc.md §6.2: the CONNECT_OPEN payload as the 9.0 clients send it */
  g_autoptr(GBytes) b = hex ("00000001 00000011 6e6f64656465763a2f2f2f73797374656d 000000 00000000");
  gsize n;
  const guint8 *d = g_bytes_get_data (b, &n);
  HdXdrReader r;
  g_autofree char *name = NULL;
  guint32 flags = 99;
  g_auto(HdXdrWriter) w = { 0 };

  hd_xdr_reader_init (&r, d, n);
  g_assert_true (hd_xdr_read_opt_string (&r, HD_RPC_STRING_MAX, &name));
  g_assert_cmpstr (name, ==, "nodedev:///system");
  g_assert_true (hd_xdr_read_u32 (&r, &flags));
  g_assert_cmpuint (flags, ==, 0);
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);

  /* and the writer produces the same bytes */
  hd_xdr_writer_init (&w);
  hd_xdr_write_opt_string (&w, "nodedev:///system");
  hd_xdr_write_u32 (&w, 0);
  g_assert_cmpmem (w.buf->data, w.buf->len, d, n);
}

static void
test_write_padding (void)
{
  const char *expected[] = {
    "00000000",
    "00000001 61000000",
    "00000002 61620000",
    "00000003 61626300",
    "00000004 61626364",
    "00000005 6162636465 000000",
    "00000008 6162636465666768",
  };
  const char *values[] = { "", "a", "ab", "abc", "abcd", "abcde", "abcdefgh" };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_auto(HdXdrWriter) w = { 0 };

      hd_xdr_writer_init (&w);
      hd_xdr_write_string (&w, values[i]);
      g_assert_cmpuint (w.buf->len % 4, ==, 0);
      assert_writer_hex (&w, expected[i]);
    }
}

static void
test_write_words (void)
{
  g_auto(HdXdrWriter) w = { 0 };

  hd_xdr_writer_init (&w);
  hd_xdr_write_u32 (&w, 0x20008086);
  hd_xdr_write_i32 (&w, -1);
  hd_xdr_write_opt_string (&w, NULL);
  hd_xdr_write_opt_string (&w, "x");
  hd_xdr_write_u32 (&w, 0);
  hd_xdr_patch_u32 (&w, w.buf->len - 4, 0x0000001c);
  assert_writer_hex (&w, "20008086 ffffffff 00000000 00000001 00000001 78000000 0000001c");
}

static void
test_round_trip (void)
{
  const char *values[] = { "computer", "pci_0000_00_1f_3", "nodedev:///system", "", "vfio" };
  g_auto(HdXdrWriter) w = { 0 };
  HdXdrReader r;

  hd_xdr_writer_init (&w);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      hd_xdr_write_string (&w, values[i]);
      hd_xdr_write_opt_string (&w, i % 2 ? NULL : values[i]);
      hd_xdr_write_i32 (&w, -(gint32) i);
    }

  hd_xdr_reader_init (&r, w.buf->data, w.buf->len);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *s = NULL;
      g_autofree char *o = NULL;
      gint32 v;

      g_assert_true (hd_xdr_read_string (&r, HD_RPC_STRING_MAX, &s));
      g_assert_cmpstr (s, ==, values[i]);
      g_assert_true (hd_xdr_read_opt_string (&r, HD_RPC_STRING_MAX, &o));
      g_assert_cmpstr (o, ==, i % 2 ? NULL : values[i]);
      g_assert_true (hd_xdr_read_i32 (&r, &v));
      g_assert_cmpint (v, ==, -(gint32) i);
    }
  g_assert_cmpuint (hd_xdr_reader_remaining (&r), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/xdr/read/words", test_read_words);
  g_test_add_func ("/xdr/read/string", test_read_string);
  g_test_add_func ("/xdr/read/string-bounds", test_read_string_bounds);
  g_test_add_func ("/xdr/read/string-limit", test_read_string_limit);
  g_test_add_func ("/xdr/read/string-nul", test_read_string_nul);
  g_test_add_func ("/xdr/read/string-padding", test_read_string_padding);
  g_test_add_func ("/xdr/read/opt-string", test_read_opt_string);
  g_test_add_func ("/xdr/connect-open-payload", test_connect_open_payload);
  g_test_add_func ("/xdr/write/padding", test_write_padding);
  g_test_add_func ("/xdr/write/words", test_write_words);
  g_test_add_func ("/xdr/round-trip", test_round_trip);
  return g_test_run ();
}
