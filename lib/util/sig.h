/* Process-wide signal dispositions the library needs. Libc only. */
#ifndef FAAS_UTIL_SIG_H
#define FAAS_UTIL_SIG_H

/* Make SIGPIPE ignored if it still has its default action; a disposition
 * the host chose (SIG_IGN, a handler, SA_SIGINFO) is kept. Done once per
 * process, by whichever thread calls first; later calls return at once.
 * Any thread may call it. */
void faas__ignore_sigpipe(void);

#endif /* FAAS_UTIL_SIG_H */
