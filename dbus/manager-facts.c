#include "config.h"

#include "manager-facts.h"

void
hd_dbus_manager_update_readiness (HdDBusManager *m, const HdReadiness *r)
{
  g_object_freeze_notify (G_OBJECT (m));
  hd_dbus_manager_set_ready (m, (guint) hd_readiness_verdict (r));
  hd_dbus_manager_set_cpu_virtualization (m, r->cpu_virtualization);
  hd_dbus_manager_set_xen_dom0 (m, r->xen_dom0);
  hd_dbus_manager_set_iommu_firmware (m, r->iommu_acpi_table);
  hd_dbus_manager_set_iommu_active (m, r->iommu_active);
  hd_dbus_manager_set_interrupt_remapping (m, r->interrupt_remapping);
  hd_dbus_manager_set_unsafe_interrupts (m, r->unsafe_interrupts);
  hd_dbus_manager_set_acs_override (m, r->acs_override);
  hd_dbus_manager_set_vfio_available (m, r->vfio_available);
  hd_dbus_manager_set_selinux_mode (m, r->selinux_mode != NULL ? r->selinux_mode : "disabled");
  hd_dbus_manager_set_virt_use_sysfs (m, r->virt_use_sysfs);
  hd_dbus_manager_set_kernel_command_line (m, r->kernel_cmdline != NULL ? r->kernel_cmdline : "");
  g_object_thaw_notify (G_OBJECT (m));
}

GVariant *
hd_dbus_readiness_to_variant (const HdReadiness *r)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sssss)"));
  for (guint i = 0; i < r->checks->len; i++)
    {
      HdReadinessCheck *c = g_ptr_array_index (r->checks, i);

      g_variant_builder_add (&b, "(sssss)", c->id, hd_readiness_status_to_string (c->status),
                             c->title, c->detail != NULL ? c->detail : "", c->fix != NULL ? c->fix : "");
    }
  return g_variant_new ("(u@a(sssss))", (guint) hd_readiness_verdict (r), g_variant_builder_end (&b));
}
