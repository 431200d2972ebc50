/* Wire constants of libvirt's RPC protocol that its public headers do not
 * carry (they live in libvirt's private remote_protocol.x and
 * virnetprotocol.x).  Error codes, error domains, list flags and event ids
 * come from libvirt's public headers. */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define HD_RPC_REMOTE_PROGRAM        0x20008086u
#define HD_RPC_REMOTE_VERSION        1u
#define HD_RPC_KEEPALIVE_PROGRAM     0x6b656570u
#define HD_RPC_KEEPALIVE_VERSION     1u
#define HD_RPC_KEEPALIVE_PING        1
#define HD_RPC_KEEPALIVE_PONG        2

typedef enum {
  HD_RPC_CALL = 0,
  HD_RPC_REPLY = 1,
  HD_RPC_MESSAGE = 2,
  HD_RPC_STREAM = 3,
  HD_RPC_CALL_WITH_FDS = 4,
  HD_RPC_REPLY_WITH_FDS = 5,
} HdRpcType;

typedef enum {
  HD_RPC_OK = 0,
  HD_RPC_ERROR = 1,
} HdRpcStatus;

/* Procedures of REMOTE_PROGRAM that a node-device daemon serves. */
typedef enum {
  HD_PROC_CONNECT_OPEN = 1,
  HD_PROC_CONNECT_CLOSE = 2,
  HD_PROC_CONNECT_SUPPORTS_FEATURE = 60,
  HD_PROC_AUTH_LIST = 66,
  HD_PROC_AUTH_POLKIT = 70,
  HD_PROC_NODE_NUM_OF_DEVICES = 111,
  HD_PROC_NODE_LIST_DEVICES = 112,
  HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME = 113,
  HD_PROC_NODE_DEVICE_GET_XML_DESC = 114,
  HD_PROC_NODE_DEVICE_GET_PARENT = 115,
  HD_PROC_NODE_DEVICE_NUM_OF_CAPS = 116,
  HD_PROC_NODE_DEVICE_LIST_CAPS = 117,
  HD_PROC_NODE_DEVICE_DETTACH = 118,
  HD_PROC_NODE_DEVICE_RE_ATTACH = 119,
  HD_PROC_NODE_DEVICE_RESET = 120,
  HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES = 285,
  HD_PROC_NODE_DEVICE_DETACH_FLAGS = 301,
  HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY = 374,
  HD_PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY = 375,
  HD_PROC_NODE_DEVICE_EVENT_LIFECYCLE = 376,
  HD_PROC_NODE_DEVICE_EVENT_UPDATE = 377,
  HD_PROC_CONNECT_SET_IDENTITY = 419,
  HD_PROC_NODE_DEVICE_GET_AUTOSTART = 433,
  HD_PROC_NODE_DEVICE_IS_PERSISTENT = 435,
  HD_PROC_NODE_DEVICE_IS_ACTIVE = 436,
} HdRpcProcedure;

/* hostdevd's own flags of virNodeDeviceDetachFlags (libvirt defines none
 * and refuses any).  The high bits keep clear of flags libvirt may define
 * from bit 0 up.  Stock virsh cannot send them; python3-libvirt can:
 * dev.detachFlags("vfio", 1 << 30). */
#define HD_RPC_DETACH_GROUP  (1u << 30)  /* the whole IOMMU group, as one transaction */
#define HD_RPC_DETACH_FORCE  (1u << 29)  /* even though the host uses the device */

/* virnetprotocol.x / remote_protocol.x limits. */
#define HD_RPC_HEADER_SIZE           24
#define HD_RPC_LEN_SIZE              4
#define HD_RPC_MESSAGE_MAX           33554432u  /* VIR_NET_MESSAGE_MAX */
#define HD_RPC_STRING_MAX            4194304u   /* REMOTE_STRING_MAX */
#define HD_RPC_NODE_DEVICE_LIST_MAX  65536
#define HD_RPC_CAPS_LIST_MAX         65536
#define HD_RPC_IDENTITY_PARAMS_MAX   20
#define HD_RPC_TYPED_PARAM_FIELD_LENGTH 80      /* VIR_TYPED_PARAM_FIELD_LENGTH */

/* Our own bound on a call: no node-device call comes near it, and it
 * keeps a thousand clients that each send a huge length word from
 * claiming gigabytes between them. */
#define HD_RPC_CALL_MAX              (256 * 1024)

/* VIR_DRV_FEATURE_* values clients ask about. */
#define HD_RPC_FEATURE_PROGRAM_KEEPALIVE 10

/* remote_auth_type */
#define HD_RPC_AUTH_NONE             0
#define HD_RPC_AUTH_POLKIT           2
