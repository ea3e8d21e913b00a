/*
 * Privilege drop: after every socket and netlink handle is open, switch to
 * run_as keeping only CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE
 * (libcap-ng), with supplementary groups and the bounding set cleared.
 */
#include <errno.h>
#include <pwd.h>
#include <sys/prctl.h>

#include <cap-ng.h>

#include "daemon.h"
#include "log.h"

int
privdrop_run_as(const char *user)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return errno ? -errno : -ENOENT;
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_updatev(CAPNG_ADD,
	        CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
	        CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, -1) != 0)
		return -EPERM;
	/* Narrow the bounding set while still root (needs CAP_SETPCAP). */
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		return -EPERM;
	if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
	        CAPNG_DROP_SUPP_GRP) != 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	log_debug("dropped privileges to %s (uid %u)", user,
	    (unsigned)pw->pw_uid);
	return 0;
}
