// SPDX-License-Identifier: MIT
#include "outfile.h"
#include "fs.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "not a regular file";
	}
}

int outfile_check_target(const char *path, struct perr *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		int e = errno;
		perr_set(err, path, 0, 0, "cannot write: %s", strerror(e));
		return -e;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	/* a symlink too: replacing the link would surprise whoever made it, and
	 * writing through it is how a planted link overwrites someone's file */
	perr_set(err, path, 0, 0, "refusing to replace %s, only a regular file",
		 kind_of(st.st_mode));
	return S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
}

/* OF->tmp: "DIR/.BASE.XXXXXX", DIR being PATH's own (rename stays in it). */
static int tmp_name(struct outfile *of, const char *path, struct perr *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int n;

	if ((size_t)snprintf(of->path, sizeof(of->path), "%s", path) >= sizeof(of->path))
		n = -1;
	else
		n = snprintf(of->tmp, sizeof(of->tmp), "%.*s.%s.XXXXXX", dirlen, path, base);
	if (n < 0 || (size_t)n >= sizeof(of->tmp)) {
		perr_set(err, path, 0, 0, "cannot write: %s", strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	return 0;
}

int outfile_open(struct outfile *of, const char *path, struct perr *err)
{
	memset(of, 0, sizeof(*of));
	int rc = outfile_check_target(path, err);
	if (rc == 0)
		rc = tmp_name(of, path, err);
	if (rc < 0) {
		of->tmp[0] = 0;
		return rc;
	}
	/* mkostemp: O_CREAT|O_EXCL, a fresh random name, never through a link */
	int fd = mkostemp(of->tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		perr_set(err, of->tmp, 0, 0, "cannot create: %s", strerror(-rc));
		of->tmp[0] = 0;
		return rc;
	}
	/* mkstemp makes 0600; an output file is for others to read, as before */
	if (fchmod(fd, 0644) < 0 || !(of->f = fdopen(fd, "w"))) {
		rc = -errno;
		perr_set(err, of->tmp, 0, 0, "cannot create: %s", strerror(-rc));
		close(fd);
		unlink(of->tmp);
		of->tmp[0] = 0;
		return rc;
	}
	return 0;
}

static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fs_sync_dir(dir); /* the new name, on disk; the data already is */
}

/* Flush, error check, fsync and close of OF->f: 0 or -errno, with ERR set. */
static int finish_data(struct outfile *of, struct perr *err)
{
	FILE *f = of->f;
	int rc = 0;
	const char *what = "write";

	of->f = NULL;
	if (fflush(f) != 0)
		rc = -errno;
	else if (ferror(f))
		rc = -EIO; /* an earlier write failed; its errno is gone */
	if (rc == 0 && !of->no_sync && fsync(fileno(f)) < 0) {
		rc = -errno;
		what = "fsync";
	}
	if (fclose(f) != 0 && rc == 0) {
		rc = -errno;
		what = "close";
	}
	if (rc < 0)
		perr_set(err, of->path, 0, 0, "cannot %s: %s", what, strerror(-rc));
	return rc;
}

int outfile_commit(struct outfile *of, struct perr *err)
{
	if (!of->f) {
		perr_set(err, of->path, 0, 0, "cannot write: not open");
		return -EBADF;
	}
	int rc = finish_data(of, err);
	/* again: the target may have changed since outfile_open */
	if (rc == 0)
		rc = outfile_check_target(of->path, err);
	if (rc == 0 && rename(of->tmp, of->path) < 0) {
		rc = -errno;
		perr_set(err, of->path, 0, 0, "cannot rename %s into place: %s", of->tmp,
			 strerror(-rc));
	}
	if (rc < 0) {
		outfile_abort(of);
		return rc;
	}
	of->tmp[0] = 0;
	if (!of->no_sync)
		sync_dir(of->path);
	return 0;
}

void outfile_abort(struct outfile *of)
{
	if (of->f)
		fclose(of->f);
	of->f = NULL;
	if (of->tmp[0])
		unlink(of->tmp);
	of->tmp[0] = 0;
}
