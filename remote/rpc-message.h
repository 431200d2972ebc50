/* libvirt RPC packets: the length-prefixed framing, the six-word header,
 * and the remote_error payload. */
#pragma once

#include <glib.h>

#include "rpc-protocol.h"
#include "xdr.h"

G_BEGIN_DECLS

typedef struct {
  guint32 prog;
  guint32 vers;
  gint32 proc;
  guint32 type;
  guint32 serial;
  guint32 status;
} HdRpcHeader;

gboolean hd_rpc_header_decode (HdXdrReader *r, HdRpcHeader *header);

/* Starts a packet: a placeholder length word and @header.  The payload
 * follows; hd_rpc_packet_finish() fills in the length. */
void hd_rpc_packet_begin (HdXdrWriter *w, const HdRpcHeader *header);
GBytes *hd_rpc_packet_finish (HdXdrWriter *w);

/* remote_error: code, domain, message, level ERROR, and every optional
 * field absent. */
void hd_rpc_write_error (HdXdrWriter *w, int code, int domain, const char *message);

/* Reassembles packets from a byte stream that may split them anywhere.
 * A length word below the header size or above @max is a protocol
 * violation: the stream cannot be resynchronised and must be closed. */
typedef struct {
  guint8 len_word[HD_RPC_LEN_SIZE];
  gsize len_have;
  guint32 need;          /* bytes of the packet after the length word */
  GByteArray *packet;
  guint32 max;
} HdRpcFramer;

typedef gboolean (*HdRpcPacketFunc) (const guint8 *packet, gsize len, gpointer user_data);

void hd_rpc_framer_init (HdRpcFramer *f, guint32 max);
void hd_rpc_framer_clear (HdRpcFramer *f);
/* Feeds @len bytes; calls @func for each complete packet (without its
 * length word).  Returns the bytes consumed: fewer than @len when @func
 * returned FALSE (stop; keep the rest for later).  Sets @error and returns
 * -1 on a bad length word. */
gssize hd_rpc_framer_feed (HdRpcFramer *f, const guint8 *data, gsize len,
                           HdRpcPacketFunc func, gpointer user_data, GError **error);

G_END_DECLS
