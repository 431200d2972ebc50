/* The SELinux boolean virt_use_sysfs: read it, and turn it on both for the
 * running policy and persistently.
 *
 * Who calls this, and when: the assignment code calls
 * hd_selinux_virt_use_sysfs_ensure() only when a device is assigned with a
 * non-VFIO driver, pci-stub (`kvm`) or xen-pciback (`xen`), and reports the
 * step to the client ("SELinux: virt_use_sysfs turned on" when @changed).
 * With those drivers QEMU (svirt_t) itself reads and writes the device's
 * sysfs files (config, resource*, rom, reset), which the targeted policy
 * only allows while virt_use_sysfs is on; this is the `setsebool -P
 * virt_use_sysfs 1` of the old passthrough guides.  VFIO never needs it:
 * QEMU then only opens /dev/vfio/N, which libvirt labels for the guest, so a
 * VFIO assignment must not call this (it would change host policy for no
 * reason).  libvirt itself never touches the boolean.
 *
 * Where the values live:
 *  - running ("current") and pending: selinuxfs, booleans/virt_use_sysfs
 *    reads "<current> <pending>"; a new value is written to that file and
 *    takes effect when "1" is written to commit_pending_bools (libselinux's
 *    security_set_boolean() and security_commit_booleans()).  Committing
 *    commits every pending boolean, as setsebool does.
 *  - persistent (the value at the next boot): only libsemanage can set it
 *    (booleans.local in the policy store, /var/lib/selinux/<type>, and a
 *    rebuilt policy in /etc/selinux/<type>/policy).  libselinux 3.4 cannot:
 *    security_set_boolean_list (n, list, permanent=1) sets and commits the
 *    running values and then returns -1, writing nothing persistent.
 *
 * Both functions block (ensure rebuilds the whole policy through libsemanage
 * when the persistent value has to change, like `setsebool -P`: seconds to
 * tens of seconds on a full distribution policy): call them from a worker
 * thread, never the main loop.  They are serialised by a lock of their own,
 * because neither library is thread-safe.  Errors are in HD_ERROR. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HD_SELINUX_VIRT_USE_SYSFS "virt_use_sysfs"

typedef enum {
  HD_SELINUX_VALUE_UNKNOWN = -1,
  HD_SELINUX_VALUE_OFF = 0,
  HD_SELINUX_VALUE_ON = 1,
} HdSelinuxValue;

typedef enum {
  HD_SELINUX_STATUS_ERROR,       /* could not be read: the GError says why */
  HD_SELINUX_STATUS_DISABLED,    /* SELinux is disabled: nothing applies */
  HD_SELINUX_STATUS_NO_BOOLEAN,  /* the loaded policy has no virt_use_sysfs */
  HD_SELINUX_STATUS_PRESENT,     /* the values below are filled in */
} HdSelinuxStatus;

typedef struct {
  HdSelinuxStatus status;
  HdSelinuxValue enforcing;   /* enforcing ON, permissive OFF */
  HdSelinuxValue current;     /* what the kernel enforces now */
  HdSelinuxValue pending;     /* written but not yet committed, if it differs */
  /* The value after a reboot: the policy store's local setting, else the
   * policy's default.  UNKNOWN when the store cannot be read (not root, or
   * the policy is not managed by libsemanage). */
  HdSelinuxValue persistent;
} HdSelinuxState;

/* Reads without changing anything.  With SELinux disabled it touches
 * nothing at all and returns status DISABLED.  A missing boolean is status
 * NO_BOOLEAN, not an error; a failed read of selinuxfs is status ERROR with
 * HD_ERROR_SYSTEM.  Reading the persistent value takes the policy store's
 * read lock, as `semanage boolean -l` does; a store that cannot be read only
 * leaves `persistent` UNKNOWN. */
HdSelinuxState hd_selinux_virt_use_sysfs_get (GError **error);

/* Whether ensure() would turn something on in @state (from get()): the
 * boolean exists and is off now, pending off, or known off after a reboot.
 * An unknown persistent value does not count: ensure() could not change it
 * either (it needs the store), so asking anyone's leave would be for
 * nothing. */
gboolean hd_selinux_state_needs_on (const HdSelinuxState *state);

/* Whether SELinux is enabled with virt_use_sysfs off in the running policy:
 * selinuxfs only, no policy store, so it is cheap enough for the main
 * loop.  FALSE also when it cannot tell (SELinux disabled, no boolean, a
 * read error, or ensure() running in another thread right now: the caller
 * looks again when that is over). */
gboolean hd_selinux_virt_use_sysfs_running_off (void);

/* Makes virt_use_sysfs on, running and persistent.  *@changed (may be NULL)
 * is TRUE when something was changed.
 *  - SELinux disabled: TRUE, nothing touched, *@changed FALSE.
 *  - Already on (current, pending and persistent): TRUE, nothing written.
 *  - Otherwise everything is checked before anything is written: the policy
 *    must have the boolean (else HD_ERROR_NOT_SUPPORTED), the policy store
 *    must be managed by libsemanage (else HD_ERROR_NOT_SUPPORTED) and, when
 *    the persistent value has to change, writable (else HD_ERROR_SYSTEM).
 *    Then the running value is set and committed, then the persistent one
 *    (without reloading the policy: the kernel already has the new value).
 *  - All or nothing: if committing the running value fails, the pending
 *    value is written back; if the persistent step fails after the running
 *    value was turned on, the running value is turned off again (the error
 *    says so, and says if even that failed).  A host never stays on now but
 *    off after a reboot because of this function. */
gboolean hd_selinux_virt_use_sysfs_ensure (gboolean *changed, GError **error);

/* Tests only.  Points libselinux at a fake selinuxfs (@selinuxfs, through
 * set_selinuxmnt()) and libsemanage at a fake root (@policy_root, which must
 * hold etc/selinux/semanage.conf and var/lib/selinux/<store>), and decides
 * whether SELinux counts as enabled (libselinux's is_selinux_enabled() also
 * needs /etc/selinux/config on the real root, so it cannot be faked).  Call
 * it before anything else here; later calls may change @selinuxfs and
 * @enabled but not @policy_root: libsemanage keeps the store paths of its
 * first connection for the life of the process. */
void hd_selinux_redirect_for_tests (const char *selinuxfs, const char *policy_root,
                                    gboolean enabled);

G_END_DECLS
