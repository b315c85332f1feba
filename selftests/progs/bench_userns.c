// SPDX-License-Identifier: GPL-2.0
/*
 * binfmt_misc instances in fresh user namespaces, for scripts/guest-bench.sh:
 *
 *   bench_userns mounts SECONDS DIR MOUNT
 *	For SECONDS, one child after the other unshares a user and a mount
 *	namespace and, if MOUNT is 1, mounts binfmt_misc on DIR and unmounts
 *	it; prints the children per second. MOUNT 0 is the cost of the
 *	namespaces alone.
 *   bench_userns hold COUNT DIR MOUNT
 *	Starts COUNT such children that stay in their namespaces (with a
 *	mounted instance if MOUNT is 1), prints "ready" and keeps them until
 *	its standard input closes: the caller reads the slab in between.
 *
 * Run as root: each namespace maps root to root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* In a child: a fresh user and mount namespace, optionally an instance on dir. */
static int enter(const char *dir, int do_mount)
{
	int tries;

	/* Released namespaces are uncounted asynchronously: ENOSPC for a while. */
	for (tries = 0; unshare(CLONE_NEWUSER | CLONE_NEWNS); tries++) {
		if (errno != ENOSPC || tries == 200) {
			perror("bench_userns: unshare");
			return -1;
		}
		usleep(20000);
	}
	if (write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/gid_map", "0 0 1") ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		perror("bench_userns: namespace setup");
		return -1;
	}
	if (do_mount && mount("binfmt_misc", dir, "binfmt_misc", 0, NULL)) {
		perror("bench_userns: mount binfmt_misc");
		return -1;
	}
	return 0;
}

static int mounts(double seconds, const char *dir, int do_mount)
{
	unsigned long count = 0;
	double start = now();

	while (now() - start < seconds) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			if (enter(dir, do_mount))
				_exit(1);
			if (do_mount && umount2(dir, 0)) {
				perror("bench_userns: umount");
				_exit(1);
			}
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			return 1;
		count++;
	}
	printf("%.1f\n", count / (now() - start));
	return 0;
}

static int hold(int count, const char *dir, int do_mount)
{
	pid_t *pids = calloc(count, sizeof(*pids));
	int ready[2], park[2], i, failed = 0;
	char c;

	if (!pids || pipe(ready) || pipe(park))
		return 1;
	for (i = 0; i < count; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 1;
		if (pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			close(ready[0]);
			close(park[1]);
			c = enter(dir, do_mount) ? 'x' : 'k';
			if (write(ready[1], &c, 1) != 1 || c != 'k')
				_exit(1);
			/* Never written: stays until killed. */
			while (read(park[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
	}
	close(ready[1]);
	for (i = 0; i < count; i++)
		if (read(ready[0], &c, 1) != 1 || c != 'k')
			failed = 1;
	printf("%s\n", failed ? "failed" : "ready");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < count; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < count; i++)
		waitpid(pids[i], NULL, 0);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "mounts"))
		return mounts(atof(argv[2]), argv[3], atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "hold"))
		return hold(atoi(argv[2]), argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: %s mounts SECONDS DIR MOUNT | hold COUNT DIR MOUNT\n", argv[0]);
	return 2;
}
