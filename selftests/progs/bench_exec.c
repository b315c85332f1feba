// SPDX-License-Identifier: GPL-2.0
/*
 * Exec throughput:  bench_exec SECONDS WORKERS PATH
 * WORKERS processes each vfork()+execve() PATH (no arguments) in a loop for
 * SECONDS; prints the total number of completed execs per second. PATH must
 * exit 0 at once (bench_true, directly or through a binfmt_misc handler).
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
	int workers, i, failed = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SECONDS WORKERS PATH\n", argv[0]);
		return 2;
	}
	seconds = atof(argv[1]);
	workers = atoi(argv[2]);
	counts = mmap(NULL, workers * sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		return 1;
	start = now();
	for (i = 0; i < workers; i++) {
		if (fork() == 0) {
			char *const args[] = { argv[3], NULL }, *const env[] = { NULL };

			while (now() - start < seconds) {
				int st;
				pid_t pid = vfork();

				if (pid == 0) {
					execve(argv[3], args, env);
					_exit(127);
				}
				if (pid < 0 || waitpid(pid, &st, 0) < 0 ||
				    !WIFEXITED(st) || WEXITSTATUS(st))
					_exit(1);
				counts[i]++;
			}
			_exit(0);
		}
	}
	for (i = 0; i < workers; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			failed = 1;
	}
	for (i = 0; i < workers; i++)
		total += counts[i];
	if (failed) {
		fprintf(stderr, "bench_exec: %s did not run cleanly\n", argv[3]);
		return 1;
	}
	printf("%.0f\n", total / (now() - start));
	return 0;
}
