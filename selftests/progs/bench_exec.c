// SPDX-License-Identifier: GPL-2.0
/*
 * Exec throughput:  bench_exec [-n] SECONDS WORKERS PATH
 * WORKERS processes each vfork()+execve() PATH (no arguments) in a loop for
 * SECONDS; prints the total number of completed execs per second. PATH must
 * exit 0 at once (bench_true, directly or through a binfmt_misc handler).
 * With -n, PATH is a file no binary format accepts: each worker execve()s it
 * itself, with no fork, and counts the calls failing with ENOEXEC. That times
 * opening the file, reading its first bytes and asking every format, without
 * the new process an exec makes, so what the formats cost is not lost in the
 * noise of the rest. Its first four bytes must be printable, or the kernel
 * runs modprobe for a "binfmt-XXXX" module after every call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Set once, before any vfork(): a global, which vfork() cannot clobber. */
static int unknown;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long *counts;
	double seconds, start;
	unsigned long total = 0;
	char *path;
	int workers, i, failed = 0;

	unknown = argc == 5 && !strcmp(argv[1], "-n");
	if (argc != 4 + unknown) {
		fprintf(stderr, "usage: %s [-n] SECONDS WORKERS PATH\n", argv[0]);
		return 2;
	}
	seconds = atof(argv[1 + unknown]);
	workers = atoi(argv[2 + unknown]);
	path = argv[3 + unknown];
	counts = mmap(NULL, workers * sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		return 1;
	start = now();
	for (i = 0; i < workers; i++) {
		if (fork() == 0) {
			char *const args[] = { path, NULL }, *const env[] = { NULL };

			while (unknown && now() - start < seconds) {
				execve(path, args, env);
				if (errno != ENOEXEC)
					_exit(1);
				counts[i]++;
			}
			while (!unknown && now() - start < seconds) {
				int st;
				pid_t pid = vfork();

				if (pid == 0) {
					execve(path, args, env);
					_exit(127);
				}
				if (pid < 0 || waitpid(pid, &st, 0) < 0 ||
				    !WIFEXITED(st) || WEXITSTATUS(st))
					_exit(1);
				counts[i]++;
			}
			/* Not 0: an exec that succeeded in -n mode would exit 0. */
			_exit(3);
		}
	}
	for (i = 0; i < workers; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 3)
			failed = 1;
	}
	for (i = 0; i < workers; i++)
		total += counts[i];
	if (failed) {
		fprintf(stderr, "bench_exec: %s did not %s\n", path,
			unknown ? "fail with ENOEXEC" : "run cleanly");
		return 1;
	}
	printf("%.0f\n", total / (now() - start));
	return 0;
}
