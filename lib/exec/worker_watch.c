/* What the kernel says of a process worker, which is all the host believes
 * about a call's accounting: the whole process's CPU clock, its memory peaks
 * and address-space limit, its threads and its children. A worker's handler
 * shares the worker's memory and its channel, so anything the worker could
 * report, the handler could forge.
 *
 * The files are opened once per worker (at READY) and read with pread and
 * pwrite at offset 0: a call then costs two clock reads, a write of
 * clear_refs and one read of status (about 3 µs in all on the machine this
 * was written on), where walking /proc by path would cost several times
 * that. Loop thread only. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "process_internal.h"

static int open_proc(int pid, const char *file, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return open(path, flags | O_CLOEXEC);
}

void faas__proc_watch_open(faas__proc_worker *w)
{
	int pid = w->proc.pid;
	struct rlimit rl;

	if (w->status_fd < 0)
		w->status_fd = open_proc(pid, "status", O_RDONLY);
	if (w->clear_refs_fd < 0)
		w->clear_refs_fd = open_proc(pid, "clear_refs", O_WRONLY);
	if (w->children_fd < 0) {
		char file[48];

		snprintf(file, sizeof(file), "task/%d/children", pid);
		w->children_fd = open_proc(pid, file, O_RDONLY);
	}
	w->has_cpu_clock = clock_getcpuclockid((pid_t)pid, &w->cpu_clock) == 0;
	/* The limit the worker set on itself before its handler's init ran:
	 * read back, not taken from what it says. */
	w->as_limit = 0;
	if (prlimit((pid_t)pid, RLIMIT_AS, NULL, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		w->as_limit = (uint64_t)rl.rlim_cur;
}

void faas__proc_watch_close(faas__proc_worker *w)
{
	int *fds[] = {&w->status_fd, &w->clear_refs_fd, &w->children_fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static uint64_t cpu_ns(const faas__proc_worker *w)
{
	struct timespec ts;

	if (!w->has_cpu_clock || clock_gettime(w->cpu_clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void faas__proc_watch_begin(faas__proc_worker *w)
{
	/* "5" resets VmHWM to the current RSS: Max Memory Used is this call's. */
	if (w->clear_refs_fd >= 0)
		(void)!pwrite(w->clear_refs_fd, "5", 1, 0);
	w->call_start_ns = faas__now_ns();
	w->cpu0_ns = cpu_ns(w);
}

/* "Name:   123 kB" (or a bare count) in status text; 0 if absent. */
static uint64_t field(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

void faas__proc_watch_end(faas__proc_worker *w, faas__proc_usage *u)
{
	char text[FAAS__PROC_STATUS_MAX];
	uint64_t cpu = cpu_ns(w);
	ssize_t got = w->status_fd >= 0 ? pread(w->status_fd, text, sizeof(text) - 1, 0) : -1;

	u->cpu_ns = cpu > w->cpu0_ns ? cpu - w->cpu0_ns : 0;
	u->peak_bytes = u->vm_peak_bytes = 0;
	u->threads = -1;
	if (got <= 0)
		return;
	text[got] = '\0';
	u->peak_bytes = field(text, "\nVmHWM:") * 1024u;
	u->vm_peak_bytes = field(text, "\nVmPeak:") * 1024u;
	if (strstr(text, "\nThreads:"))
		u->threads = (int)field(text, "\nThreads:");
}

int faas__proc_children(int pid, int *pids, int max)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;
	bool unknown = false;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char file[320];
		long child;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(file, sizeof(file), "/proc/%d/task/%s/children", pid, e->d_name);
		f = fopen(file, "re");
		if (!f) {
			unknown = true; /* a thread that just ended, or no such file */
			continue;
		}
		while (fscanf(f, "%ld", &child) == 1) {
			if (n < max)
				pids[n] = (int)child;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n > 0 ? n : unknown ? -1 : 0;
}

int faas__proc_watch_children(faas__proc_worker *w, int threads, int *pids, int max)
{
	char text[1024], *p = text, *end;
	ssize_t got;
	int n = 0;

	/* With one thread, the main thread's list is the whole list. */
	if (threads != 1 || w->children_fd < 0 ||
	    (got = pread(w->children_fd, text, sizeof(text) - 1, 0)) < 0)
		return faas__proc_children(w->proc.pid, pids, max);
	text[got] = '\0';
	for (long child; (child = strtol(p, &end, 10)) > 0 && end != p; p = end) {
		if (n < max)
			pids[n] = (int)child;
		n++;
	}
	return n;
}
