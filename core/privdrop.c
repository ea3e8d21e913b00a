/*
 * Privilege drop (libcap-ng). Capabilities, the bounding set and
 * no_new_privs are per thread, and modules start worker threads while
 * they open their sockets, so the drop has two steps: before the modules
 * are created, the bounding set is narrowed and no_new_privs set (what
 * the threads then inherit); after, the process switches to run_as (glibc
 * changes every thread's user, which clears the workers' capabilities)
 * keeping only CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE, with
 * supplementary groups cleared.
 */
#include <errno.h>
#include <pwd.h>
#include <sys/prctl.h>

#include <cap-ng.h>

#include "daemon.h"
#include "log.h"

/* The capabilities kept, in capng's state for the next apply. */
static int
keep_three(void)
{
	capng_clear(CAPNG_SELECT_ALL);
	return capng_updatev(CAPNG_ADD,
	           CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
	           CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE, -1) == 0 ?
	    0 :
	    -EPERM;
}

int
privdrop_prepare(void)
{
	/* Narrow the bounding set while still root (needs CAP_SETPCAP). */
	if (keep_three() != 0 || capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	return 0;
}

int
privdrop_run_as(const char *user)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return errno ? -errno : -ENOENT;
	if (keep_three() != 0 ||
	    capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
	        CAPNG_DROP_SUPP_GRP) != 0)
		return -EPERM;
	log_debug("dropped privileges to %s (uid %u)", user,
	    (unsigned)pw->pw_uid);
	return 0;
}
