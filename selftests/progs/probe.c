// SPDX-License-Identifier: GPL-2.0
/*
 * An interpreter for the exec selftests: prints what exec handed it, one
 * "key=value" line each, then exits 0.
 *
 *   argv=<argv[0]>|<argv[1]>|...
 *   execfd=none | execfd=yes          (getauxval(AT_EXECFD))
 *   execfd_head=<first line of the fd's file, at most 63 bytes> | execfd_head=!<errno>
 *   execfd_same=1|0                   (the fd is the file argv[1] names)
 *   open1=ok | open1=<errno> | open1=-  (open(argv[1], O_RDONLY))
 *   cred=<ruid>:<euid>:<rgid>:<egid>
 *
 * With BMTEST_PROBE=quiet in the environment it prints nothing; with
 * BMTEST_PROBE=wait it prints "waiting" first and reads stdin until EOF
 * before the rest.  Linked statically, so it runs in a chroot too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_execfd(int argc, char **argv)
{
	struct stat fst, pst;
	unsigned long fd;
	char head[64];
	ssize_t n;
	char *nl;

	errno = 0;
	fd = getauxval(AT_EXECFD);
	if (errno == ENOENT) {
		printf("execfd=none\n");
		return;
	}
	printf("execfd=yes\n");
	n = pread((int)fd, head, sizeof(head) - 1, 0);
	if (n < 0) {
		printf("execfd_head=!%d\n", errno);
	} else {
		head[n] = '\0';
		nl = strchr(head, '\n');
		if (nl)
			*nl = '\0';
		printf("execfd_head=%s\n", head);
	}
	printf("execfd_same=%d\n", argc > 1 && !fstat((int)fd, &fst) &&
	       !stat(argv[1], &pst) && fst.st_dev == pst.st_dev &&
	       fst.st_ino == pst.st_ino);
}

int main(int argc, char **argv)
{
	const char *mode = getenv("BMTEST_PROBE");
	char c;
	int i, fd;

	if (mode && !strcmp(mode, "quiet"))
		return 0;
	if (mode && !strcmp(mode, "wait")) {
		printf("waiting\n");
		fflush(stdout);
		while (read(STDIN_FILENO, &c, 1) > 0)
			;
	}

	printf("argv=");
	for (i = 0; i < argc; i++)
		printf("%s%s", i ? "|" : "", argv[i]);
	printf("\n");

	print_execfd(argc, argv);

	if (argc < 2) {
		printf("open1=-\n");
	} else {
		fd = open(argv[1], O_RDONLY);
		if (fd < 0) {
			printf("open1=%d\n", errno);
		} else {
			printf("open1=ok\n");
			close(fd);
		}
	}
	printf("cred=%u:%u:%u:%u\n", getuid(), geteuid(), getgid(), getegid());
	return 0;
}
