/* The libvirt door's authorizer (remote/rpc-auth.h): libvirt's polkit
 * check of a client process, through the D-Bus door's polkit gate, which
 * works without the D-Bus service (--no-dbus) too. */
#pragma once

#include "dbus/polkit-gate.h"
#include "remote/rpc-auth.h"

G_BEGIN_DECLS

/* An HdRpcAuthorizeFunc; @gate is an HdPolkitGate. */
void hd_rpc_authorize_with_polkit (const HdRpcPeer *peer, const char *action_id, GTask *task, gpointer gate);

G_END_DECLS
