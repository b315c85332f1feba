// SPDX-License-Identifier: GPL-2.0
/*
 * What binfmt_misc's search costs an exec that no entry matches:
 *   bench_miss SECONDS PATH STATUS
 * execve()s PATH, a file no binary format accepts, in a loop for SECONDS (each
 * call fails with ENOEXEC: no new process, so the search is a large part of
 * the call), writing "0" and "1" to STATUS (a binfmt_misc instance's status
 * file) every twentieth of a second, so that the instance is disabled in every
 * other slice. Prints the median, over each enabled slice and the disabled
 * slice after it, of the time a call takes enabled less the time it takes
 * disabled, in microseconds: the search of the entries. The two kinds of slice
 * alternate within the same seconds, so a drift of the machine's speed (under
 * emulation, the host's other load) falls on both alike and cancels, and the
 * median leaves out the pairs a pause of the machine fell into.
 * PATH's first four bytes must be printable, or the kernel runs modprobe for a
 * "binfmt-XXXX" module after every call. Leaves the instance enabled.
 * scripts/guest-bench.sh runs it with STATUS /dev/null, for its calls only,
 * and times binfmt_misc's part of each in the kernel (kprobes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>

#define MAX_PAIRS 1000
#define SLICE 0.05

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set_enabled(int fd, int on)
{
	return write(fd, on ? "1" : "0", 1) == 1 ? 0 : -1;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static double diffs[MAX_PAIRS];
	double seconds, start, slice, t, enabled_call = 0;
	unsigned long in_slice = 0, pairs = 0;
	char *args[2] = { NULL, NULL }, *env[] = { NULL };
	int fd, on = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SECONDS PATH STATUS\n", argv[0]);
		return 2;
	}
	seconds = atof(argv[1]);
	args[0] = argv[2];
	fd = open(argv[3], O_WRONLY);
	if (fd < 0 || set_enabled(fd, on)) {
		perror(argv[3]);
		return 1;
	}
	start = slice = now();
	while ((t = now()) - start < seconds) {
		if (t - slice >= SLICE) {
			double per_call = (t - slice) / (in_slice ? in_slice : 1);

			if (on)
				enabled_call = per_call;
			else if (pairs < MAX_PAIRS)
				diffs[pairs++] = enabled_call - per_call;
			on = !on;
			if (set_enabled(fd, on)) {
				perror(argv[3]);
				return 1;
			}
			in_slice = 0;
			slice = now();
		}
		execve(args[0], args, env);
		if (errno != ENOEXEC) {
			perror(args[0]);
			return 1;
		}
		in_slice++;
	}
	if (set_enabled(fd, 1) || !pairs) {
		fprintf(stderr, "bench_miss: not one pair of slices\n");
		return 1;
	}
	qsort(diffs, pairs, sizeof(*diffs), by_value);
	printf("%.1f\n", (pairs % 2 ? diffs[pairs / 2] :
			    (diffs[pairs / 2 - 1] + diffs[pairs / 2]) / 2) * 1e6);
	return 0;
}
