/* One failure, libvirt's way: error code, error domain and the full
 * message text, prefix included, exactly as libvirt's virerror.c builds
 * it, so virsh prints against hostdevd what it prints against libvirt. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int code;
  int domain;
  char *message;
} HdRpcError;

void hd_rpc_error_clear (HdRpcError *e);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdRpcError, hd_rpc_error_clear)

/* @code, @domain and a message that gets libvirt's prefix for @code. */
void hd_rpc_error_set (HdRpcError *e, int code, int domain, const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Maps a core error (HD_ERROR) onto libvirt's code in the node-device
 * domain; anything else is an internal error. */
void hd_rpc_error_from_gerror (HdRpcError *e, const GError *error);

G_END_DECLS
