/*
 * The cloud-init NoCloud seed: an ISO 9660 image with volume label
 * "cidata" holding user-data, meta-data and network-config, made with
 * libisofs (Rock Ridge and Joliet, so the guest sees the names as written).
 * Written to a temporary file and renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>
#include <sys/types.h>

/* libisofs declares struct burn_source itself only when told libburn is absent.
 */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "cli.h"

static int
iso_ready(void)
{
	static int done;

	if (!done) {
		if (iso_init() < 0)
			return -EIO;
		done = 1;
	}
	return 0;
}

static int
add_file(IsoImage *img, const struct prov_iso_file *f)
{
	size_t len = strlen(f->content);
	unsigned char *copy = malloc(len ? len : 1);
	IsoStream *st;

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, f->content, len);
	if (iso_memory_stream_new(copy, len, &st) < 0) {
		free(copy);
		return -ENOMEM;
	}
	if (iso_tree_add_new_file(iso_image_get_root(img), f->name, st, NULL) <
	    0) {
		iso_stream_unref(st);
		return -EINVAL;
	}
	return 0;
}

static int
write_image(IsoImage *img, int fd)
{
	IsoWriteOpts *opts = NULL;
	struct burn_source *bs = NULL;
	unsigned char buf[2048];
	int n, r = 0;

	if (iso_write_opts_new(&opts, 0) < 0)
		return -ENOMEM;
	iso_write_opts_set_rockridge(opts, 1);
	iso_write_opts_set_joliet(opts, 1);
	/* Keep the label lower case ("cidata"), as genisoimage -V writes it. */
	iso_write_opts_set_relaxed_vol_atts(opts, 1);
	if (iso_image_create_burn_source(img, opts, &bs) < 0) {
		iso_write_opts_free(opts);
		return -EIO;
	}
	while ((n = bs->read_xt(bs, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			if (bs->cancel != NULL)
				bs->cancel(bs);
			break;
		}
	if (n < 0 && r == 0)
		r = -EIO;
	bs->free_data(bs);
	free(bs);
	iso_write_opts_free(opts);
	return r;
}

int
prov_iso_write(const char *path, const char *label,
    const struct prov_iso_file *files, size_t n)
{
	IsoImage *img = NULL;
	char tmp[4096];
	int fd, r;

	if ((r = iso_ready()) != 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (iso_image_new(label, &img) < 0)
		return -ENOMEM;
	iso_image_set_volume_id(img, label);
	for (size_t i = 0; i < n; i++)
		if ((r = add_file(img, &files[i])) != 0) {
			iso_image_unref(img);
			return r;
		}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		iso_image_unref(img);
		return -errno;
	}
	r = write_image(img, fd);
	if (close(fd) != 0 && r == 0)
		r = -errno;
	iso_image_unref(img);
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r != 0)
		unlink(tmp);
	return r;
}
