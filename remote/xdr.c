#include "config.h"

#include "xdr.h"

#include <string.h>

void
hd_xdr_reader_init (HdXdrReader *r, const guint8 *data, gsize len)
{
  r->data = data;
  r->len = len;
  r->pos = 0;
}

gsize
hd_xdr_reader_remaining (const HdXdrReader *r)
{
  return r->len - r->pos;
}

gboolean
hd_xdr_read_u32 (HdXdrReader *r, guint32 *value)
{
  const guint8 *p;

  if (hd_xdr_reader_remaining (r) < 4)
    return FALSE;
  p = r->data + r->pos;
  *value = ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  r->pos += 4;
  return TRUE;
}

gboolean
hd_xdr_read_i32 (HdXdrReader *r, gint32 *value)
{
  guint32 u;

  if (!hd_xdr_read_u32 (r, &u))
    return FALSE;
  *value = (gint32) u;
  return TRUE;
}

gboolean
hd_xdr_read_u64 (HdXdrReader *r, guint64 *value)
{
  guint32 hi, lo;

  if (!hd_xdr_read_u32 (r, &hi) || !hd_xdr_read_u32 (r, &lo))
    return FALSE;
  *value = ((guint64) hi << 32) | lo;
  return TRUE;
}

static gsize
padded (guint32 len)
{
  return ((gsize) len + 3) & ~(gsize) 3;
}

gboolean
hd_xdr_skip_opaque (HdXdrReader *r, guint32 max)
{
  guint32 len;

  if (!hd_xdr_read_u32 (r, &len) || len > max || padded (len) > hd_xdr_reader_remaining (r))
    return FALSE;
  r->pos += padded (len);
  return TRUE;
}

gboolean
hd_xdr_read_string (HdXdrReader *r, guint32 max, char **value)
{
  guint32 len;
  const char *start;

  if (!hd_xdr_read_u32 (r, &len) || len > max || padded (len) > hd_xdr_reader_remaining (r))
    return FALSE;
  start = (const char *) r->data + r->pos;
  if (memchr (start, '\0', len) != NULL)
    return FALSE;
  *value = g_strndup (start, len);
  r->pos += padded (len);
  return TRUE;
}

gboolean
hd_xdr_read_opt_string (HdXdrReader *r, guint32 max, char **value)
{
  guint32 present;

  if (!hd_xdr_read_u32 (r, &present) || present > 1)
    return FALSE;
  if (present == 0)
    {
      *value = NULL;
      return TRUE;
    }
  return hd_xdr_read_string (r, max, value);
}

void
hd_xdr_writer_init (HdXdrWriter *w)
{
  w->buf = g_byte_array_new ();
}

void
hd_xdr_writer_clear (HdXdrWriter *w)
{
  g_clear_pointer (&w->buf, g_byte_array_unref);
}

void
hd_xdr_write_u32 (HdXdrWriter *w, guint32 value)
{
  guint8 b[4] = { value >> 24, value >> 16, value >> 8, value };

  g_byte_array_append (w->buf, b, 4);
}

void
hd_xdr_write_i32 (HdXdrWriter *w, gint32 value)
{
  hd_xdr_write_u32 (w, (guint32) value);
}

void
hd_xdr_write_string (HdXdrWriter *w, const char *value)
{
  static const guint8 zeros[3] = { 0 };
  gsize len = strlen (value);

  hd_xdr_write_u32 (w, (guint32) len);
  g_byte_array_append (w->buf, (const guint8 *) value, (guint) len);
  g_byte_array_append (w->buf, zeros, (guint) (padded ((guint32) len) - len));
}

void
hd_xdr_write_opt_string (HdXdrWriter *w, const char *value)
{
  hd_xdr_write_u32 (w, value != NULL);
  if (value != NULL)
    hd_xdr_write_string (w, value);
}

void
hd_xdr_patch_u32 (HdXdrWriter *w, gsize offset, guint32 value)
{
  g_assert (offset + 4 <= w->buf->len);
  w->buf->data[offset] = value >> 24;
  w->buf->data[offset + 1] = value >> 16;
  w->buf->data[offset + 2] = value >> 8;
  w->buf->data[offset + 3] = value;
}
