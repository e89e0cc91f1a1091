/*
 * libfaas — the inotify layer of the file trigger (file_watch.c), used by
 * trigger/file.c. It owns the inotify descriptor and the table of watched
 * directories, turns raw inotify events into keyed changes relative to the
 * watched root, and knows nothing of records, batching or rules.
 *
 * Keys are paths relative to the watched root ("a.txt", "sub/b.txt"); a
 * directory's key ends with '/' ("sub/"), the S3 convention for folders. In
 * file mode (the watched path is not a directory) the parent directory is
 * watched and only the path's own name is reported, so a file replaced by a
 * rename, or deleted and created again, keeps being watched.
 *
 * Everything here runs on the loop thread. The callback may be called from
 * faas__fw_read() and, for FAAS__FW_ERROR only, from faas__fw_arm().
 */
#ifndef FAAS_FILE_WATCH_H
#define FAAS_FILE_WATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many directories are watched per trigger; more are refused
 * (FAAS__FW_ERROR each). inotify's own per-user limit may be lower. */
#define FAAS__FILE_MAX_WATCHES 8192
/* One read() takes at most this many bytes of events. */
#define FAAS__FILE_READ_BUF (64 * 1024)
/* Reads per wake-up, so that a flood of events cannot starve the loop: the
 * descriptor stays readable and the loop comes back to it. */
#define FAAS__FILE_READS_PER_WAKE 16

/* Kinds passed to the callback: the FAAS_FILE_* bits, and these. */
#define FAAS__FW_LOST 0x10u     /* the root went away; the watch is disarmed */
#define FAAS__FW_OVERFLOW 0x20u /* the kernel dropped events (IN_Q_OVERFLOW) */
#define FAAS__FW_ERROR 0x40u    /* a directory could not be watched or a path was too long */

/* key: the changed entry; old_key: the previous key for FAAS_FILE_RENAMED,
 * else NULL. Both borrowed for the call. */
typedef void (*faas__fw_cb)(void *arg, unsigned int kind, const char *key, const char *old_key);

typedef struct faas__fw_watch {
	int wd;
	char *rel; /* "" for the root, else "sub" or "sub/deeper" (no trailing '/') */
} faas__fw_watch;

typedef struct faas__fw {
	int fd;
	char *path;       /* the watched path as given, trailing '/'s removed */
	char *dir;        /* what inotify watches at the top: path, or its parent */
	const char *name; /* file mode: the last component of path (inside path) */
	bool file_mode;
	bool recursive;
	bool armed;
	int root_wd;
	faas__fw_watch *watches; /* sorted by wd */
	size_t n, cap;
	faas__fw_cb cb;
	void *arg;
	/* The last IN_MOVED_FROM, waiting for an IN_MOVED_TO with its cookie. */
	bool move_pending;
	bool move_is_dir;
	uint32_t move_cookie;
	char move_key[PATH_MAX + 1]; /* after the fields every event uses */
	_Alignas(8) char buf[FAAS__FILE_READ_BUF];
} faas__fw;

/* Open the inotify descriptor (non-blocking, close-on-exec) and copy path.
 * Returns 0, -ENOMEM, or the negative errno of inotify_init1. */
int faas__fw_init(faas__fw *fw, const char *path, bool recursive, faas__fw_cb cb, void *arg);
/* Watch the path if it exists (a directory, recursively if asked, or a
 * file through its parent). Reports nothing for what is already there.
 * Returns 0; -ENOENT or -ENOTDIR while the path (or, for a file, its parent)
 * does not exist; another negative errno if it cannot be watched. */
int faas__fw_arm(faas__fw *fw);
/* Read what the kernel has queued and report it through the callback. */
void faas__fw_read(faas__fw *fw);
/* Close the descriptor and free the table. Safe to call twice. */
void faas__fw_free(faas__fw *fw);

#endif /* FAAS_FILE_WATCH_H */
