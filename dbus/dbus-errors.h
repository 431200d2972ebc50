/* The D-Bus door's error names: one org.hostdevd1.Error.* per HdError
 * code, registered for HD_ERROR so that a GError returned to a caller
 * carries the name and the core's text unchanged (the same text the
 * libvirt RPC door prints after libvirt's prefix). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HD_DBUS_ERROR_PREFIX "org.hostdevd1.Error."

/* Idempotent; call before the first reply.  Clients call it too, so that
 * g_dbus_error_get_remote_error() gives them back HD_ERROR codes. */
void hd_dbus_errors_register (void);

G_END_DECLS
