/* SIGPIPE. A write to a socket whose peer is gone (an HTTP client that hung
 * up) or to a pipe whose reader died (a crashed worker process) raises
 * SIGPIPE, whose default action kills the process: an embedded library must
 * not let a peer kill its host, and the write's EPIPE already says what
 * happened. libuv leaves the signal to the application, so the library sets
 * it, but only when the host left the default: a host with a handler of its
 * own chose what a broken pipe means and keeps it. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "sig.h"

static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

static void ignore_sigpipe_once(void)
{
	struct sigaction sa;

	/* Look, then set: once per process, so two of our own threads cannot
	 * race here (pthread_once); a host thread changing SIGPIPE at the same
	 * moment is the host's race. */
	if (sigaction(SIGPIPE, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL ||
	    (sa.sa_flags & SA_SIGINFO))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

void faas__ignore_sigpipe(void)
{
	pthread_once(&sigpipe_once, ignore_sigpipe_once);
}
