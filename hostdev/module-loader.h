/* Making sure a stub driver exists in the running kernel: when
 * /sys/bus/pci/drivers/NAME is missing, its module is loaded through
 * libkmod (what `modprobe` does, without running a program).  Loading can
 * take a while; call it off the main loop. */
#pragma once

#include <glib.h>

#include "stub-driver.h"

G_BEGIN_DECLS

/* How the engine gets a driver: the real loader below, or a test's. */
typedef gboolean (*HdDriverLoadFunc) (const HdStubDriver *stub, gpointer user_data, GError **error);

/* TRUE if the PCI driver is registered. */
gboolean hd_module_loader_driver_present (const HdStubDriver *stub);

/* Loads @stub->module with libkmod unless the driver is present; the
 * error names the module and why it could not be loaded. */
gboolean hd_module_loader_load (const HdStubDriver *stub, gpointer user_data, GError **error);

G_END_DECLS
