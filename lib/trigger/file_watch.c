/* The inotify layer of the file trigger: the watch table, recursive scans,
 * rename pairing and the loss of the watched root. See file_watch.h.
 *
 * Why inotify and not uv_fs_event: libuv's Linux backend is not recursive,
 * and a recursive watch needs the events' wd to path mapping kept here
 * anyway. The table is an array sorted by wd; the kernel hands wds out in
 * increasing order, so an insert is almost always an append. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faas/trigger.h"
#include "file_watch.h"

/* The largest inotify event: its header and a name of NAME_MAX bytes. */
#define FW_EVENT_MAX (sizeof(struct inotify_event) + NAME_MAX + 1)

#define DIR_MASK                                                                                 \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE |      \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

int faas__fw_init(faas__fw *fw, const char *path, bool recursive, faas__fw_cb cb, void *arg)
{
	size_t len = strlen(path);
	char *slash;

	fw->fd = -1;
	fw->cb = cb;
	fw->arg = arg;
	fw->recursive = recursive;
	fw->root_wd = -1;
	while (len > 1 && path[len - 1] == '/')
		len--;
	fw->path = malloc(len + 1);
	fw->dir = malloc(len + 2);
	if (!fw->path || !fw->dir)
		return -ENOMEM;
	memcpy(fw->path, path, len);
	fw->path[len] = '\0';
	slash = strrchr(fw->path, '/');
	fw->name = slash ? slash + 1 : fw->path;
	fw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fw->fd < 0)
		return -errno;
	return 0;
}

/* ---- the table ---- */

static size_t table_pos(const faas__fw *fw, int wd)
{
	size_t lo = 0, hi = fw->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fw->watches[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static faas__fw_watch *table_find(faas__fw *fw, int wd)
{
	size_t i = table_pos(fw, wd);

	return i < fw->n && fw->watches[i].wd == wd ? &fw->watches[i] : NULL;
}

static void table_remove_at(faas__fw *fw, size_t i)
{
	free(fw->watches[i].rel);
	memmove(&fw->watches[i], &fw->watches[i + 1], (fw->n - i - 1) * sizeof(*fw->watches));
	fw->n--;
}

/* Drop every watch: the kernel's and the table's. */
static void table_clear(faas__fw *fw)
{
	for (size_t i = 0; i < fw->n; i++) {
		inotify_rm_watch(fw->fd, fw->watches[i].wd);
		free(fw->watches[i].rel);
	}
	fw->n = 0;
	fw->root_wd = -1;
}

static void report_error(faas__fw *fw)
{
	fw->cb(fw->arg, FAAS__FW_ERROR, "", NULL);
}

/* Join the watched directory and a relative path; false if too long. */
static bool full_path(const faas__fw *fw, const char *rel, char out[PATH_MAX])
{
	int n = rel[0] ? snprintf(out, PATH_MAX, "%s/%s", fw->dir, rel)
		       : snprintf(out, PATH_MAX, "%s", fw->dir);

	return n >= 0 && n < PATH_MAX;
}

/* Watch the directory rel (relative to the root). Returns 0 for a new
 * watch, 1 if the directory was already watched, or -errno. */
static int watch_dir(faas__fw *fw, const char *rel, bool root)
{
	char path[PATH_MAX];
	uint32_t mask = DIR_MASK;
	size_t i;
	char *copy;
	int wd;

	if (!full_path(fw, rel, path))
		return -ENAMETOOLONG;
	if (fw->n >= FAAS__FILE_MAX_WATCHES)
		return -ENOSPC;
	/* The root may be a symbolic link the user chose; below it, links are
	 * entries, never directories to descend into. */
	if (!root)
		mask |= IN_DONT_FOLLOW;
	copy = strdup(rel);
	if (!copy)
		return -ENOMEM;
	wd = inotify_add_watch(fw->fd, path, mask);
	if (wd < 0) {
		int err = -errno;

		free(copy);
		return err;
	}
	if (table_find(fw, wd)) {
		/* The same directory reached twice (an event and a scan, or a bind
		 * mount looping back): one watch, and no second descent. */
		free(copy);
		return 1;
	}
	if (fw->n == fw->cap) {
		size_t cap = fw->cap ? fw->cap * 2 : 16;
		faas__fw_watch *grown = realloc(fw->watches, cap * sizeof(*grown));

		if (!grown) {
			inotify_rm_watch(fw->fd, wd);
			free(copy);
			return -ENOMEM;
		}
		fw->watches = grown;
		fw->cap = cap;
	}
	i = table_pos(fw, wd);
	memmove(&fw->watches[i + 1], &fw->watches[i], (fw->n - i) * sizeof(*fw->watches));
	fw->watches[i].wd = wd;
	fw->watches[i].rel = copy;
	fw->n++;
	if (root)
		fw->root_wd = wd;
	return 0;
}

static bool under(const char *rel, const char *prefix, size_t plen)
{
	return strncmp(rel, prefix, plen) == 0 && (rel[plen] == '\0' || rel[plen] == '/');
}

/* A directory left the tree: stop watching it and everything below it. */
static void unwatch_tree(faas__fw *fw, const char *rel)
{
	size_t plen = strlen(rel), j = 0;

	for (size_t i = 0; i < fw->n; i++) {
		if (fw->watches[i].wd != fw->root_wd && under(fw->watches[i].rel, rel, plen)) {
			inotify_rm_watch(fw->fd, fw->watches[i].wd);
			free(fw->watches[i].rel);
		} else {
			fw->watches[j++] = fw->watches[i];
		}
	}
	fw->n = j;
}

/* A directory moved inside the tree: its watches keep their wds, only
 * their paths change. */
static void rename_tree(faas__fw *fw, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = strlen(to);

	for (size_t i = 0; i < fw->n; i++) {
		faas__fw_watch *w = &fw->watches[i];
		size_t rest;
		char *rel;

		if (w->wd == fw->root_wd || !under(w->rel, from, flen))
			continue;
		rest = strlen(w->rel + flen);
		if (tlen + rest >= PATH_MAX || !(rel = malloc(tlen + rest + 1))) {
			/* A stale path would misname events: give the watch up. */
			inotify_rm_watch(fw->fd, w->wd);
			table_remove_at(fw, i--);
			report_error(fw);
			continue;
		}
		memcpy(rel, to, tlen);
		memcpy(rel + tlen, w->rel + flen, rest + 1);
		free(w->rel);
		w->rel = rel;
	}
}

/* ---- scans ---- */

typedef struct dir_queue {
	char **items;
	size_t head, len, cap;
} dir_queue;

static int queue_push(dir_queue *q, const char *rel)
{
	char *copy;

	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		char **grown = realloc(q->items, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		q->items = grown;
		q->cap = cap;
	}
	if (!(copy = strdup(rel)))
		return -ENOMEM;
	q->items[q->len++] = copy;
	return 0;
}

static bool is_dir_entry(const faas__fw *fw, const struct dirent *de, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return full_path(fw, rel, path) && lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Breadth first from the already watched directory start: watch each
 * subdirectory and, if emit, report every entry as created. One directory
 * stream is open at a time, whatever the depth. */
static void scan(faas__fw *fw, const char *start, bool emit)
{
	dir_queue q = {0};
	char path[PATH_MAX], rel[PATH_MAX + 1];

	if (queue_push(&q, start) != 0) {
		report_error(fw);
		return;
	}
	for (; q.head < q.len; free(q.items[q.head++])) {
		const char *d = q.items[q.head];
		struct dirent *de;
		DIR *dir;

		if (!full_path(fw, d, path) || !(dir = opendir(path)))
			continue;
		while ((de = readdir(dir)) != NULL) {
			bool is_dir;
			int n;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			n = d[0] ? snprintf(rel, PATH_MAX, "%s/%s", d, de->d_name)
				 : snprintf(rel, PATH_MAX, "%s", de->d_name);
			if (n < 0 || n >= PATH_MAX - 1) {
				report_error(fw);
				continue;
			}
			is_dir = is_dir_entry(fw, de, rel);
			if (is_dir && fw->recursive) {
				int rc = watch_dir(fw, rel, false);

				if (rc < 0 || (rc == 0 && queue_push(&q, rel) != 0))
					report_error(fw);
			}
			if (emit) {
				if (is_dir)
					strcat(rel, "/");
				fw->cb(fw->arg, FAAS_FILE_CREATED, rel, NULL);
			}
		}
		closedir(dir);
	}
	free(q.items);
}

int faas__fw_arm(faas__fw *fw)
{
	struct stat st;
	int rc;

	if (fw->armed)
		return 0;
	if (stat(fw->path, &st) != 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	/* Decided at every arm: the path may come back as the other type. In
	 * file mode the parent is watched: "a/b" -> "a", "/b" -> "/", "b" -> ".". */
	fw->file_mode = !S_ISDIR(st.st_mode);
	if (!fw->file_mode) {
		strcpy(fw->dir, fw->path);
	} else if (fw->name == fw->path) {
		strcpy(fw->dir, ".");
	} else {
		size_t dlen = fw->name - 1 == fw->path ? 1 : (size_t)(fw->name - 1 - fw->path);

		memcpy(fw->dir, fw->path, dlen);
		fw->dir[dlen] = '\0';
	}
	rc = watch_dir(fw, "", true);
	if (rc < 0)
		return rc;
	fw->armed = true;
	fw->move_pending = false;
	if (!fw->file_mode && fw->recursive)
		scan(fw, "", false);
	return 0;
}

/* ---- events ---- */

static void lose_root(faas__fw *fw)
{
	if (!fw->armed)
		return;
	fw->armed = false;
	fw->move_pending = false;
	table_clear(fw);
	fw->cb(fw->arg, FAAS__FW_LOST, "", NULL);
}

/* An IN_MOVED_FROM that no IN_MOVED_TO followed: the entry left the tree. */
static void flush_move(faas__fw *fw)
{
	if (!fw->move_pending)
		return;
	fw->move_pending = false;
	if (fw->move_is_dir && fw->recursive && !fw->file_mode) {
		size_t len = strlen(fw->move_key);

		fw->move_key[len - 1] = '\0';
		unwatch_tree(fw, fw->move_key);
		fw->move_key[len - 1] = '/';
	}
	fw->cb(fw->arg, FAAS_FILE_DELETED, fw->move_key, NULL);
}

/* A directory appeared in the tree (created or moved in). */
static void dir_arrived(faas__fw *fw, char *key, size_t len)
{
	int rc;

	fw->cb(fw->arg, FAAS_FILE_CREATED, key, NULL);
	if (!fw->recursive || fw->file_mode)
		return;
	key[len - 1] = '\0';
	rc = watch_dir(fw, key, false);
	if (rc == 0)
		scan(fw, key, true);
	else if (rc < 0)
		report_error(fw);
	key[len - 1] = '/';
}

static void handle(faas__fw *fw, const struct inotify_event *ev)
{
	char key[PATH_MAX + 1];
	bool is_dir = (ev->mask & IN_ISDIR) != 0;
	faas__fw_watch *w;
	size_t len, rlen, nlen;

	if (ev->mask & IN_Q_OVERFLOW) {
		fw->cb(fw->arg, FAAS__FW_OVERFLOW, "", NULL);
		return;
	}
	if (!fw->armed || !(w = table_find(fw, ev->wd)))
		return; /* a watch already dropped: its last events are stale */
	if (ev->len == 0 || ev->name[0] == '\0') {
		if (ev->wd == fw->root_wd &&
		    (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) {
			flush_move(fw);
			lose_root(fw);
		} else if (ev->mask & IN_IGNORED) {
			table_remove_at(fw, (size_t)(w - fw->watches));
		}
		return;
	}
	if (fw->file_mode && strcmp(ev->name, fw->name) != 0)
		return;
	/* Joined by hand, not by snprintf: this is on every event's way to a
	 * handler, and the formatter's code is large and cold by then. */
	rlen = strlen(w->rel);
	nlen = strlen(ev->name);
	len = (rlen ? rlen + 1 : 0) + nlen + (is_dir ? 1 : 0);
	if (len >= PATH_MAX) {
		report_error(fw);
		return;
	}
	if (rlen) {
		memcpy(key, w->rel, rlen);
		key[rlen++] = '/';
	}
	memcpy(key + rlen, ev->name, nlen);
	if (is_dir)
		key[rlen + nlen++] = '/';
	key[rlen + nlen] = '\0';
	if (fw->move_pending && !((ev->mask & IN_MOVED_TO) && ev->cookie == fw->move_cookie))
		flush_move(fw);

	if (ev->mask & IN_MOVED_FROM) {
		fw->move_pending = true;
		fw->move_is_dir = is_dir;
		fw->move_cookie = ev->cookie;
		memcpy(fw->move_key, key, len + 1);
	} else if (ev->mask & IN_MOVED_TO) {
		if (fw->move_pending) {
			fw->move_pending = false;
			if (is_dir && fw->recursive && !fw->file_mode) {
				size_t olen = strlen(fw->move_key);

				fw->move_key[olen - 1] = '\0';
				key[len - 1] = '\0';
				rename_tree(fw, fw->move_key, key);
				fw->move_key[olen - 1] = '/';
				key[len - 1] = '/';
			}
			fw->cb(fw->arg, FAAS_FILE_RENAMED, key, fw->move_key);
		} else if (is_dir) {
			dir_arrived(fw, key, len);
		} else {
			fw->cb(fw->arg, FAAS_FILE_CREATED, key, NULL);
		}
	} else if (ev->mask & IN_CREATE) {
		if (is_dir)
			dir_arrived(fw, key, len);
		else
			fw->cb(fw->arg, FAAS_FILE_CREATED, key, NULL);
	} else if (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE)) {
		if (!is_dir)
			fw->cb(fw->arg, FAAS_FILE_MODIFIED, key, NULL);
	} else if (ev->mask & IN_DELETE) {
		fw->cb(fw->arg, FAAS_FILE_DELETED, key, NULL);
	}
}

void faas__fw_read(faas__fw *fw)
{
	for (int i = 0; i < FAAS__FILE_READS_PER_WAKE; i++) {
		ssize_t n = read(fw->fd, fw->buf, sizeof(fw->buf));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (off + sizeof(struct inotify_event) <= (size_t)n) {
			const struct inotify_event *ev = (const void *)(fw->buf + off);

			off += sizeof(*ev) + ev->len;
			if (off > (size_t)n)
				break;
			handle(fw, ev);
		}
		/* A read with room to spare took all the kernel had: the poll calls
		 * again for what comes later, so save the system call that would
		 * only say EAGAIN. Unless a rename's first half waits for its
		 * second. */
		if ((size_t)n <= sizeof(fw->buf) - FW_EVENT_MAX && !fw->move_pending)
			break;
	}
	/* The kernel queues a rename's two halves together; one left alone at
	 * the end of what was read has no partner coming. */
	flush_move(fw);
}

void faas__fw_free(faas__fw *fw)
{
	for (size_t i = 0; i < fw->n; i++)
		free(fw->watches[i].rel);
	free(fw->watches);
	fw->watches = NULL;
	fw->n = fw->cap = 0;
	if (fw->fd >= 0)
		close(fw->fd);
	fw->fd = -1;
	free(fw->path);
	free(fw->dir);
	fw->path = fw->dir = NULL;
	fw->armed = false;
}
