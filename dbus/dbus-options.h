/* The a{sv} options of org.hostdevd1's methods, read by one parser: each
 * method names the options it takes; an unknown option, or one of the
 * wrong type, is HD_ERROR_INVALID_ARGUMENT with the same words for every
 * method. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  HD_DBUS_OPT_DRIVER = 1 << 0,       /* s: vfio, kvm, xen */
  HD_DBUS_OPT_GROUP = 1 << 1,        /* b */
  HD_DBUS_OPT_FORCE = 1 << 2,        /* b */
  HD_DBUS_OPT_INTERACTIVE = 1 << 3,  /* b */
  HD_DBUS_OPT_FORMAT = 1 << 4,       /* s: libvirt, xl, qemu */
  HD_DBUS_OPT_MANAGED = 1 << 5,      /* b, TRUE unless given */
} HdDBusOption;

typedef struct {
  char *driver;
  char *format;
  gboolean group;
  gboolean force;
  gboolean interactive;
  gboolean managed;
} HdDBusOptions;

/* Fills @out (cleared first) from @options, taking only those in @allowed. */
gboolean hd_dbus_options_parse (GVariant *options, guint allowed, HdDBusOptions *out, GError **error);
void hd_dbus_options_clear (HdDBusOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdDBusOptions, hd_dbus_options_clear)

/* Replies @error (consumed) to @invocation; TRUE, as a handler returns. */
gboolean hd_dbus_return_error (GDBusMethodInvocation *invocation, GError *error);

G_END_DECLS
