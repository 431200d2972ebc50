/* XDR (RFC 4506) as libvirt's RPC uses it: big-endian 4-byte words,
 * length-prefixed strings padded to 4 bytes, optional pointers as a 0/1
 * word.  The reader is bounded by its buffer and by the caller's limits:
 * a length word can never make it read past the data or allocate more
 * than the limit allows. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const guint8 *data;
  gsize len;
  gsize pos;
} HdXdrReader;

void hd_xdr_reader_init (HdXdrReader *r, const guint8 *data, gsize len);
gboolean hd_xdr_read_u32 (HdXdrReader *r, guint32 *value);
gboolean hd_xdr_read_i32 (HdXdrReader *r, gint32 *value);
gboolean hd_xdr_read_u64 (HdXdrReader *r, guint64 *value);
/* A non-null string of at most @max bytes.  Embedded NULs are refused: no
 * name, URI or driver in this protocol can hold one. */
gboolean hd_xdr_read_string (HdXdrReader *r, guint32 max, char **value);
/* An optional string: *value is NULL when the pointer was absent. */
gboolean hd_xdr_read_opt_string (HdXdrReader *r, guint32 max, char **value);
/* Skips variable-length opaque data of at most @max bytes. */
gboolean hd_xdr_skip_opaque (HdXdrReader *r, guint32 max);
gsize hd_xdr_reader_remaining (const HdXdrReader *r);

typedef struct {
  GByteArray *buf;
} HdXdrWriter;

void hd_xdr_writer_init (HdXdrWriter *w);
void hd_xdr_writer_clear (HdXdrWriter *w);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdXdrWriter, hd_xdr_writer_clear)

void hd_xdr_write_u32 (HdXdrWriter *w, guint32 value);
void hd_xdr_write_i32 (HdXdrWriter *w, gint32 value);
void hd_xdr_write_string (HdXdrWriter *w, const char *value);
void hd_xdr_write_opt_string (HdXdrWriter *w, const char *value);
/* Overwrites a word written earlier (the packet length). */
void hd_xdr_patch_u32 (HdXdrWriter *w, gsize offset, guint32 value);

G_END_DECLS
