/* The node-device procedures of libvirt's remote program, on the
 * inventory.  Argument checks, flag checks and error texts follow
 * libvirt 9.0's nodedev driver and remote dispatcher. */
#include "config.h"

#include "rpc-connection-private.h"

#include "nodedev/error.h"
#include "rpc-protocol.h"
#include "xml/nodedev-xml.h"

/* libvirt 9.0's VIR_CONNECT_LIST_NODE_DEVICES_FILTERS_ALL. */
#define LIST_FILTERS_CAP ((VIR_CONNECT_LIST_NODE_DEVICES_CAP_VPD << 1) - 1)
#define LIST_FILTERS_ALL (LIST_FILTERS_CAP | VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE | \
                          VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)

static gboolean
no_such_device (HdRpcError *err, const char *name)
{
  hd_rpc_error_set (err, VIR_ERR_NO_NODE_DEVICE, VIR_FROM_NODEDEV,
                    "no node device with matching name '%s'", name);
  return FALSE;
}

/* Reads a remote_nonnull_node_device (just its name) and looks it up. */
static HdNodeDevice *
read_device (HdRpcConnection *c, HdXdrReader *args, HdRpcError *err)
{
  g_autofree char *name = NULL;
  HdNodeDevice *dev;

  if (!hd_xdr_read_string (args, HD_RPC_STRING_MAX, &name))
    {
      hd_rpc_decode_failed (err);
      return NULL;
    }
  dev = hd_inventory_lookup (c->inventory, name);
  if (dev == NULL)
    no_such_device (err, name);
  return dev;
}

static gboolean
has_cap (HdNodeDevice *dev, const char *cap)
{
  g_autoptr(GPtrArray) caps = hd_node_device_list_caps (dev);

  for (guint i = 0; i < caps->len; i++)
    if (g_str_equal (g_ptr_array_index (caps, i), cap))
      return TRUE;
  return FALSE;
}

/* virNodeDeviceObjMatch: with any CAP bit set, the device needs one of
 * them; every device here is active. */
static gboolean
matches_flags (HdNodeDevice *dev, guint32 flags)
{
  guint32 caps = flags & LIST_FILTERS_CAP;
  guint32 mine = dev->kind == HD_NODE_DEVICE_SYSTEM ? VIR_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM
                                                    : VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV;

  if (caps != 0 && !(caps & mine))
    return FALSE;
  if ((flags & (VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE | VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)) &&
      !(flags & VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE))
    return FALSE;
  return TRUE;
}

static gboolean
proc_list_all (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) matching = g_ptr_array_new ();
  gint32 need_results;
  guint32 flags;

  if (!hd_xdr_read_i32 (args, &need_results) || !hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  if (flags & ~LIST_FILTERS_ALL)
    return hd_rpc_unsupported_flags (err, flags & ~LIST_FILTERS_ALL, "nodeConnectListAllNodeDevices");

  devices = hd_inventory_list (c->inventory);
  for (guint i = 0; i < devices->len; i++)
    if (matches_flags (g_ptr_array_index (devices, i), flags))
      g_ptr_array_add (matching, g_ptr_array_index (devices, i));
  if (matching->len > HD_RPC_NODE_DEVICE_LIST_MAX)
    {
      hd_rpc_error_set (err, VIR_ERR_RPC, VIR_FROM_RPC,
                        "Too many node devices '%u' for limit '%d'",
                        matching->len, HD_RPC_NODE_DEVICE_LIST_MAX);
      return FALSE;
    }

  /* The client takes `ret` as the array's length: they must agree. */
  if (need_results)
    {
      hd_xdr_write_u32 (ret, matching->len);
      for (guint i = 0; i < matching->len; i++)
        hd_xdr_write_string (ret, ((HdNodeDevice *) g_ptr_array_index (matching, i))->name);
    }
  else
    {
      hd_xdr_write_u32 (ret, 0);
    }
  hd_xdr_write_u32 (ret, matching->len);
  return TRUE;
}

/* The legacy pair counts and lists by capability name. */
static GPtrArray *
devices_with_cap (HdRpcConnection *c, const char *cap)
{
  g_autoptr(GPtrArray) devices = hd_inventory_list (c->inventory);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < devices->len; i++)
    {
      HdNodeDevice *dev = g_ptr_array_index (devices, i);
      if (cap == NULL || has_cap (dev, cap))
        g_ptr_array_add (names, g_strdup (dev->name));
    }
  return names;
}

static gboolean
proc_num_of_devices (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autofree char *cap = NULL;
  g_autoptr(GPtrArray) names = NULL;
  guint32 flags;

  if (!hd_xdr_read_opt_string (args, HD_RPC_STRING_MAX, &cap) || !hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  if (flags != 0)
    return hd_rpc_unsupported_flags (err, flags, "nodeNumOfDevices");
  names = devices_with_cap (c, cap);
  hd_xdr_write_i32 (ret, (gint32) names->len);
  return TRUE;
}

static gboolean
proc_list_devices (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autofree char *cap = NULL;
  g_autoptr(GPtrArray) names = NULL;
  gint32 maxnames;
  guint32 flags;
  guint n;

  if (!hd_xdr_read_opt_string (args, HD_RPC_STRING_MAX, &cap) ||
      !hd_xdr_read_i32 (args, &maxnames) || !hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  if (maxnames > HD_RPC_NODE_DEVICE_LIST_MAX)
    {
      hd_rpc_error_set (err, VIR_ERR_RPC, VIR_FROM_RPC, "maxnames > REMOTE_NODE_DEVICE_LIST_MAX");
      return FALSE;
    }
  if (maxnames < 0)
    {
      hd_rpc_error_set (err, VIR_ERR_INVALID_ARG, VIR_FROM_NODEDEV,
                        "maxnames in virNodeListDevices must be greater than or equal to 0");
      return FALSE;
    }
  if (flags != 0)
    return hd_rpc_unsupported_flags (err, flags, "nodeListDevices");
  names = devices_with_cap (c, cap);
  n = MIN (names->len, (guint) maxnames);
  hd_xdr_write_u32 (ret, n);
  for (guint i = 0; i < n; i++)
    hd_xdr_write_string (ret, g_ptr_array_index (names, i));
  return TRUE;
}

static gboolean
proc_lookup_by_name (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);

  if (dev == NULL)
    return FALSE;
  hd_xdr_write_string (ret, dev->name);
  return TRUE;
}

static gboolean
proc_get_xml_desc (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);
  g_autoptr(HdNodeDevice) fresh = NULL;
  g_autofree char *xml = NULL;
  guint32 flags;

  if (dev == NULL)
    return FALSE;
  if (!hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  if (flags != 0)
    return hd_rpc_unsupported_flags (err, flags, "nodeDeviceGetXMLDesc");
  /* libvirt re-reads the driver and the dynamic capabilities first. */
  fresh = hd_inventory_refresh (c->inventory, dev->name);
  xml = hd_nodedev_xml_format (fresh ? fresh : dev);
  hd_xdr_write_string (ret, xml);
  return TRUE;
}

static gboolean
proc_get_parent (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);

  if (dev == NULL)
    return FALSE;
  hd_xdr_write_opt_string (ret, dev->parent);
  return TRUE;
}

static gboolean
proc_num_of_caps (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);
  g_autoptr(GPtrArray) caps = NULL;

  if (dev == NULL)
    return FALSE;
  caps = hd_node_device_list_caps (dev);
  hd_xdr_write_i32 (ret, (gint32) caps->len);
  return TRUE;
}

static gboolean
proc_list_caps (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);
  g_autoptr(GPtrArray) caps = NULL;
  gint32 maxnames;
  guint n;

  if (dev == NULL)
    return FALSE;
  if (!hd_xdr_read_i32 (args, &maxnames))
    return hd_rpc_decode_failed (err);
  if (maxnames > HD_RPC_CAPS_LIST_MAX)
    {
      hd_rpc_error_set (err, VIR_ERR_RPC, VIR_FROM_RPC, "maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX");
      return FALSE;
    }
  caps = hd_node_device_list_caps (dev);
  n = maxnames < 0 ? 0 : MIN (caps->len, (guint) maxnames);
  hd_xdr_write_u32 (ret, n);
  for (guint i = 0; i < n; i++)
    hd_xdr_write_string (ret, g_ptr_array_index (caps, i));
  return TRUE;
}

static gboolean
proc_is_active (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);

  if (dev == NULL)
    return FALSE;
  hd_xdr_write_i32 (ret, 1);
  return TRUE;
}

/* udev-discovered devices are transient and not autostarted in libvirt;
 * only `computer` is both persistent and autostarted. */
static gboolean
proc_is_persistent (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);

  if (dev == NULL)
    return FALSE;
  hd_xdr_write_i32 (ret, dev->kind == HD_NODE_DEVICE_SYSTEM);
  return TRUE;
}

static gboolean
proc_get_autostart (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  return proc_is_persistent (c, args, ret, err);
}

/* The gate of detach, reattach and reset: the device must exist, the
 * connection must be read-write, and there must be an engine. */
static HdNodeDevice *
mutation (HdRpcConnection *c, HdXdrReader *args, HdRpcError *err, const char *api)
{
  g_autoptr(HdNodeDevice) dev = read_device (c, args, err);

  if (dev == NULL)
    return NULL;
  if (c->readonly)
    {
      hd_rpc_error_set (err, VIR_ERR_OPERATION_DENIED, VIR_FROM_NODEDEV,
                        "read only access prevents %s", api);
      return NULL;
    }
  if (c->engine == NULL)
    {
      hd_rpc_error_set (err, VIR_ERR_NO_SUPPORT, VIR_FROM_NODEDEV, "%s", api);
      return NULL;
    }
  return g_steal_pointer (&dev);
}

static char *
owner_of (HdRpcConnection *c)
{
  return g_strdup_printf ("libvirt client uid=%u", c->peer_uid);
}

static void
finish_call (HdRpcPendingCall *call, const GError *error)
{
  g_auto(HdRpcError) err = { 0 };

  if (error == NULL)
    {
      hd_rpc_pending_call_return (call);
      return;
    }
  hd_rpc_error_from_gerror (&err, error);
  hd_rpc_pending_call_error (call, &err);
}

static void
detach_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) taken = hd_engine_detach_finish (HD_ENGINE (source), result, &error);

  if (taken != NULL)
    g_debug ("detached %u device(s)", taken->len);
  finish_call (user_data, error);
}

static gboolean
start_detach (HdRpcConnection *c, HdNodeDevice *dev, const char *driver, guint32 flags,
              HdRpcPendingCall *call)
{
  g_autofree char *owner = owner_of (c);
  HdDetachOptions options = {
    driver, (flags & HD_RPC_DETACH_GROUP) != 0, (flags & HD_RPC_DETACH_FORCE) != 0, owner
  };

  hd_engine_detach_async (c->engine, dev->name, &options, detach_done, call);
  return TRUE;
}

static gboolean
proc_dettach (HdRpcConnection *c, HdXdrReader *args, HdRpcPendingCall *call, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = mutation (c, args, err, "virNodeDeviceDettach");

  return dev != NULL && start_detach (c, dev, NULL, 0, call);
}

static gboolean
proc_detach_flags (HdRpcConnection *c, HdXdrReader *args, HdRpcPendingCall *call, HdRpcError *err)
{
  g_autofree char *name = NULL;
  g_autofree char *driver = NULL;
  g_autoptr(HdNodeDevice) dev = NULL;
  guint32 flags;
  HdXdrReader whole = *args;

  /* The whole of {name, driverName, flags} must decode before anything
   * else is said about the call. */
  if (!hd_xdr_read_string (args, HD_RPC_STRING_MAX, &name) ||
      !hd_xdr_read_opt_string (args, HD_RPC_STRING_MAX, &driver) ||
      !hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  dev = mutation (c, &whole, err, "virNodeDeviceDetachFlags");
  if (dev == NULL)
    return FALSE;
  if ((flags & ~(HD_RPC_DETACH_GROUP | HD_RPC_DETACH_FORCE)) != 0)
    return hd_rpc_unsupported_flags (err, flags & ~(HD_RPC_DETACH_GROUP | HD_RPC_DETACH_FORCE),
                                     "qemuNodeDeviceDetachFlags");
  return start_detach (c, dev, driver, flags, call);
}

static void
reattach_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  hd_engine_reattach_finish (HD_ENGINE (source), result, &error);
  finish_call (user_data, error);
}

static gboolean
proc_re_attach (HdRpcConnection *c, HdXdrReader *args, HdRpcPendingCall *call, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = mutation (c, args, err, "virNodeDeviceReAttach");
  g_autofree char *owner = NULL;

  if (dev == NULL)
    return FALSE;
  owner = owner_of (c);
  hd_engine_reattach_async (c->engine, dev->name, owner, reattach_done, call);
  return TRUE;
}

static void
reset_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *method = hd_engine_reset_finish (HD_ENGINE (source), result, &error);

  if (method != NULL)
    g_debug ("reset through %s", method);
  finish_call (user_data, error);
}

static gboolean
proc_reset (HdRpcConnection *c, HdXdrReader *args, HdRpcPendingCall *call, HdRpcError *err)
{
  g_autoptr(HdNodeDevice) dev = mutation (c, args, err, "virNodeDeviceReset");
  g_autofree char *owner = NULL;

  if (dev == NULL)
    return FALSE;
  owner = owner_of (c);
  /* libvirt's API has no force: a device the host uses is never reset
   * from this door. */
  hd_engine_reset_async (c->engine, dev->name, FALSE, owner, reset_done, call);
  return TRUE;
}

static gboolean
proc_event_register (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autofree char *device = NULL;
  gint32 event_id, callback_id;
  guint32 present;

  if (!hd_xdr_read_i32 (args, &event_id) || !hd_xdr_read_u32 (args, &present) || present > 1)
    return hd_rpc_decode_failed (err);
  if (present && !hd_xdr_read_string (args, HD_RPC_STRING_MAX, &device))
    return hd_rpc_decode_failed (err);
  if (event_id != VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE && event_id != VIR_NODE_DEVICE_EVENT_ID_UPDATE)
    {
      hd_rpc_error_set (err, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC,
                        "unsupported node device event ID %d", event_id);
      return FALSE;
    }
  /* libvirt registers a filter by name without a lookup: a device that
   * is gone now may come back, and its Created event is what the client
   * waits for. */
  if (!hd_rpc_connection_add_event (c, event_id, device, &callback_id, err))
    return FALSE;
  hd_xdr_write_i32 (ret, callback_id);
  return TRUE;
}

static gboolean
proc_event_deregister (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  gint32 callback_id;

  if (!hd_xdr_read_i32 (args, &callback_id))
    return hd_rpc_decode_failed (err);
  return hd_rpc_connection_remove_event (c, callback_id, err);
}

static const HdRpcProcedureDef nodedev_procedures[] = {
  { HD_PROC_NODE_NUM_OF_DEVICES, proc_num_of_devices, FALSE },
  { HD_PROC_NODE_LIST_DEVICES, proc_list_devices, FALSE },
  { HD_PROC_NODE_DEVICE_LOOKUP_BY_NAME, proc_lookup_by_name, FALSE },
  { HD_PROC_NODE_DEVICE_GET_XML_DESC, proc_get_xml_desc, FALSE },
  { HD_PROC_NODE_DEVICE_GET_PARENT, proc_get_parent, FALSE },
  { HD_PROC_NODE_DEVICE_NUM_OF_CAPS, proc_num_of_caps, FALSE },
  { HD_PROC_NODE_DEVICE_LIST_CAPS, proc_list_caps, FALSE },
  { HD_PROC_NODE_DEVICE_DETTACH, NULL, FALSE, proc_dettach },
  { HD_PROC_NODE_DEVICE_RE_ATTACH, NULL, FALSE, proc_re_attach },
  { HD_PROC_NODE_DEVICE_RESET, NULL, FALSE, proc_reset },
  { HD_PROC_CONNECT_LIST_ALL_NODE_DEVICES, proc_list_all, FALSE },
  { HD_PROC_NODE_DEVICE_DETACH_FLAGS, NULL, FALSE, proc_detach_flags },
  { HD_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, proc_event_register, FALSE },
  { HD_PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, proc_event_deregister, FALSE },
  { HD_PROC_NODE_DEVICE_GET_AUTOSTART, proc_get_autostart, FALSE },
  { HD_PROC_NODE_DEVICE_IS_PERSISTENT, proc_is_persistent, FALSE },
  { HD_PROC_NODE_DEVICE_IS_ACTIVE, proc_is_active, FALSE },
};

const HdRpcProcedureDef *
hd_rpc_nodedev_procedures (guint *n)
{
  *n = G_N_ELEMENTS (nodedev_procedures);
  return nodedev_procedures;
}
