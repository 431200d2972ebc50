/* The core's one error domain.  Each front door maps it once: dbus/ to
 * org.hostdevd1.Error.*, remote/ to libvirt's code, domain and message. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_ERROR (hd_error_quark ())
GQuark hd_error_quark (void);

typedef enum {
  HD_ERROR_FAILED,            /* anything else; libvirt: internal error */
  HD_ERROR_NO_DEVICE,         /* no node device by that name */
  HD_ERROR_INVALID_ARGUMENT,  /* a malformed name, address or option */
  HD_ERROR_INVALID_DATA,      /* the kernel or a file gave data we cannot parse */
  HD_ERROR_NOT_SUPPORTED,     /* not possible on this host */
  HD_ERROR_ARGUMENT_UNSUPPORTED, /* a valid option this host cannot honour (no VFIO, …) */
  HD_ERROR_IN_USE,            /* refused by a safety verdict: the host or the group needs it */
  HD_ERROR_BUSY,              /* another operation holds the device or its group */
  HD_ERROR_TIMED_OUT,         /* the kernel did not do what was asked in time */
  HD_ERROR_SYSTEM,            /* a write to the kernel failed; the text carries strerror */
  HD_ERROR_NOT_AUTHORIZED,    /* the caller may not do this (polkit said no) */
  HD_ERROR_XML,               /* a document breaks libvirt's XML rules; libvirt: XML error */
  HD_ERROR_CONFIG_UNSUPPORTED, /* well-formed XML asking for what libvirt does not support */
} HdError;

#define HD_ERROR_LAST (HD_ERROR_CONFIG_UNSUPPORTED + 1)

G_END_DECLS
