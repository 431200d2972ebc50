/* g_autoptr support for libudev's reference-counted types. */
#pragma once

#include <glib.h>
#include <libudev.h>

typedef struct udev HdUdev;
typedef struct udev_device HdUdevDevice;
typedef struct udev_monitor HdUdevMonitor;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdUdev, udev_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdUdevDevice, udev_device_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdUdevMonitor, udev_monitor_unref)
