#include "config.h"

#include "dbus-errors.h"

#include "nodedev/error.h"

static const GDBusErrorEntry entries[] = {
  { HD_ERROR_FAILED, HD_DBUS_ERROR_PREFIX "Failed" },
  { HD_ERROR_NO_DEVICE, HD_DBUS_ERROR_PREFIX "NoDevice" },
  { HD_ERROR_INVALID_ARGUMENT, HD_DBUS_ERROR_PREFIX "InvalidArgument" },
  { HD_ERROR_INVALID_DATA, HD_DBUS_ERROR_PREFIX "InvalidData" },
  { HD_ERROR_NOT_SUPPORTED, HD_DBUS_ERROR_PREFIX "NotSupported" },
  { HD_ERROR_ARGUMENT_UNSUPPORTED, HD_DBUS_ERROR_PREFIX "ArgumentUnsupported" },
  { HD_ERROR_IN_USE, HD_DBUS_ERROR_PREFIX "InUse" },
  { HD_ERROR_BUSY, HD_DBUS_ERROR_PREFIX "Busy" },
  { HD_ERROR_TIMED_OUT, HD_DBUS_ERROR_PREFIX "TimedOut" },
  { HD_ERROR_SYSTEM, HD_DBUS_ERROR_PREFIX "System" },
  { HD_ERROR_NOT_AUTHORIZED, HD_DBUS_ERROR_PREFIX "NotAuthorized" },
  { HD_ERROR_XML, HD_DBUS_ERROR_PREFIX "InvalidXML" },
  { HD_ERROR_CONFIG_UNSUPPORTED, HD_DBUS_ERROR_PREFIX "ConfigUnsupported" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (entries) == HD_ERROR_LAST);

void
hd_dbus_errors_register (void)
{
  static gsize registered = 0;

  /* The domain's quark name must be HD_ERROR's own, so that errors of the
   * core map without a translation step. */
  g_dbus_error_register_error_domain (g_quark_to_string (HD_ERROR), &registered,
                                      entries, G_N_ELEMENTS (entries));
}
