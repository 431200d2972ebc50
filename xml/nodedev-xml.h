/* Node-device XML exactly as libvirt 9.0's virNodeDeviceDefFormat writes
 * it, for `computer` and PCI devices. */
#pragma once

#include <glib.h>

#include "nodedev/node-device.h"

G_BEGIN_DECLS

char *hd_nodedev_xml_format (const HdNodeDevice *dev);

G_END_DECLS
