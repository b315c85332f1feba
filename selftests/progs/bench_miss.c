// SPDX-License-Identifier: GPL-2.0
/*
 * The calls scripts/guest-bench.sh times binfmt_misc's search in (miss-cost):
 *   bench_miss SECONDS PATH
 * execve()s PATH, a file no binary format accepts, in a loop for SECONDS; each
 * call fails with ENOEXEC and starts no process. The bench times binfmt_misc's
 * part of each call in the kernel (kprobes); this prints only how many calls
 * it made. PATH's first four bytes must be printable, or the kernel runs
 * modprobe for a "binfmt-XXXX" module after every call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char *args[2] = { NULL, NULL }, *env[] = { NULL };
	unsigned long calls = 0;
	double seconds, start;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SECONDS PATH\n", argv[0]);
		return 2;
	}
	seconds = atof(argv[1]);
	args[0] = argv[2];
	start = now();
	while (now() - start < seconds) {
		execve(args[0], args, env);
		if (errno != ENOEXEC) {
			perror(args[0]);
			return 1;
		}
		calls++;
	}
	printf("%lu\n", calls);
	return 0;
}
