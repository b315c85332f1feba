// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in interpreter for binfmt_misc handlers: prints the argv it was
 * given, one "argv[N]=..." line each, then whether the kernel passed it an
 * open file of the binary (AT_EXECFD, what the O and C flags ask for).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/auxv.h>

int main(int argc, char *argv[])
{
	unsigned long fd;
	int i;

	for (i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	errno = 0;
	fd = getauxval(AT_EXECFD);
	printf("execfd: %s\n", fd == 0 && errno == ENOENT ? "no" : "yes");
	return 0;
}
