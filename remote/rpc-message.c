#include "config.h"

#include "rpc-message.h"

#include <string.h>

#include "nodedev/error.h"

gboolean
hd_rpc_header_decode (HdXdrReader *r, HdRpcHeader *h)
{
  return hd_xdr_read_u32 (r, &h->prog) &&
         hd_xdr_read_u32 (r, &h->vers) &&
         hd_xdr_read_i32 (r, &h->proc) &&
         hd_xdr_read_u32 (r, &h->type) &&
         hd_xdr_read_u32 (r, &h->serial) &&
         hd_xdr_read_u32 (r, &h->status);
}

void
hd_rpc_packet_begin (HdXdrWriter *w, const HdRpcHeader *h)
{
  hd_xdr_write_u32 (w, 0);
  hd_xdr_write_u32 (w, h->prog);
  hd_xdr_write_u32 (w, h->vers);
  hd_xdr_write_i32 (w, h->proc);
  hd_xdr_write_u32 (w, h->type);
  hd_xdr_write_u32 (w, h->serial);
  hd_xdr_write_u32 (w, h->status);
}

GBytes *
hd_rpc_packet_finish (HdXdrWriter *w)
{
  hd_xdr_patch_u32 (w, 0, w->buf->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&w->buf));
}

void
hd_rpc_write_error (HdXdrWriter *w, int code, int domain, const char *message)
{
  hd_xdr_write_i32 (w, code);
  hd_xdr_write_i32 (w, domain);
  hd_xdr_write_opt_string (w, message);
  hd_xdr_write_i32 (w, VIR_ERR_ERROR);
  hd_xdr_write_u32 (w, 0);   /* dom */
  hd_xdr_write_u32 (w, 0);   /* str1 */
  hd_xdr_write_u32 (w, 0);   /* str2 */
  hd_xdr_write_u32 (w, 0);   /* str3 */
  hd_xdr_write_i32 (w, 0);   /* int1 */
  hd_xdr_write_i32 (w, 0);   /* int2 */
  hd_xdr_write_u32 (w, 0);   /* net */
}

void
hd_rpc_framer_init (HdRpcFramer *f, guint32 max)
{
  memset (f, 0, sizeof *f);
  f->max = max;
  f->packet = g_byte_array_new ();
}

void
hd_rpc_framer_clear (HdRpcFramer *f)
{
  g_clear_pointer (&f->packet, g_byte_array_unref);
}

gssize
hd_rpc_framer_feed (HdRpcFramer *f, const guint8 *data, gsize len,
                    HdRpcPacketFunc func, gpointer user_data, GError **error)
{
  gsize pos = 0;

  while (pos < len)
    {
      if (f->len_have < HD_RPC_LEN_SIZE)
        {
          gsize take = MIN (HD_RPC_LEN_SIZE - f->len_have, len - pos);
          guint32 total;

          memcpy (f->len_word + f->len_have, data + pos, take);
          f->len_have += take;
          pos += take;
          if (f->len_have < HD_RPC_LEN_SIZE)
            break;

          total = ((guint32) f->len_word[0] << 24) | ((guint32) f->len_word[1] << 16) |
                  ((guint32) f->len_word[2] << 8) | f->len_word[3];
          if (total < HD_RPC_LEN_SIZE + HD_RPC_HEADER_SIZE || total > f->max)
            {
              g_set_error (error, HD_ERROR, HD_ERROR_INVALID_DATA,
                           "packet length %u outside %u..%u", total,
                           HD_RPC_LEN_SIZE + HD_RPC_HEADER_SIZE, f->max);
              return -1;
            }
          f->need = total - HD_RPC_LEN_SIZE;
          g_byte_array_set_size (f->packet, 0);
        }

      {
        gsize take = MIN ((gsize) f->need - f->packet->len, len - pos);
        g_byte_array_append (f->packet, data + pos, (guint) take);
        pos += take;
      }

      if (f->packet->len == f->need)
        {
          gboolean more;

          f->len_have = 0;
          more = func (f->packet->data, f->packet->len, user_data);
          g_byte_array_set_size (f->packet, 0);
          if (!more)
            break;
        }
    }
  return (gssize) pos;
}
