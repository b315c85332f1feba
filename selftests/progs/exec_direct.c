// SPDX-License-Identifier: GPL-2.0
/*
 * exec_direct PATH ARGV0 [ARG...]
 *
 * execve(PATH, {ARGV0, ARG...}, environ) and nothing else.  Shells, env(1)
 * and libc's execvp() run a file the kernel refused with ENOEXEC through
 * /bin/sh themselves; this helper does not, so whatever runs was chosen by
 * the kernel (here: by a binfmt_misc handler).  On failure it prints
 * "execve: <strerror>" to stdout and exits 127.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH ARGV0 [ARG...]\n", argv[0]);
		return 2;
	}
	execve(argv[1], &argv[2], environ);
	printf("execve: %s\n", strerror(errno));
	return 127;
}
