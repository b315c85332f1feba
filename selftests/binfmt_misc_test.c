// SPDX-License-Identifier: GPL-2.0
/*
 * Behavioural tests for binfmt_misc: the filesystem (register/status/entry
 * files) and the binary format handler.  They are meant to pass unchanged
 * against the kernel's fs/binfmt_misc.c and against a drop-in replacement.
 *
 * Run as root inside a disposable test VM: they mount binfmt_misc, register
 * and remove handlers of the init user namespace, and "status_minus_one"
 * removes every handler of that instance.
 *
 * Scratch files go to $BMTEST_TMPDIR (default /tmp), which must allow exec.
 */
#include "common.h"

TEST(filesystem_registered)
{
	char buf[16384], *line, *save = NULL;
	bool found = false;

	ASSERT_LT(0, read_file("/proc/filesystems", buf, sizeof(buf)));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strcmp(line, "nodev\tbinfmt_misc"))
			found = true;
	EXPECT_TRUE(found) TH_LOG("no 'nodev\\tbinfmt_misc' line in /proc/filesystems");
}


TEST_F(bm, mount_and_statfs)
{
	char path[PATH_MAX], buf[16];
	struct statfs sfs;
	struct stat st;
	int fd;

	ASSERT_EQ(0, statfs(self->mnt, &sfs)) TH_LOG("statfs: %s", strerror(errno));
	EXPECT_EQ(BINFMTFS_MAGIC, sfs.f_type);
	/* simple_statfs() */
	EXPECT_EQ(NAME_MAX, sfs.f_namelen);
	EXPECT_EQ(sysconf(_SC_PAGESIZE), sfs.f_bsize);

	ASSERT_EQ(0, stat(self->mnt, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ((mode_t)0755, st.st_mode & 07777);

	ASSERT_EQ(0, stat(self->reg, &st)) TH_LOG("register: %s", strerror(errno));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ((mode_t)0200, st.st_mode & 07777);

	ASSERT_EQ(0, stat(self->status, &st)) TH_LOG("status: %s", strerror(errno));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ((mode_t)0644, st.st_mode & 07777);

	/* register has no read method: read(2) is EINVAL (root may open it). */
	fd = open(self->reg, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open register O_RDONLY: %s", strerror(errno));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	close(fd);

	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_nonexistent"));
	EXPECT_ABSENT(path);
}

TEST_F(bm, status_reads_enabled)
{
	EXPECT_FILE(self->status, "enabled\n");
}

TEST_F(bm, extension_handler_runs_script)
{
	char script[PATH_MAX], entry[PATH_MAX], want[PATH_MAX + 64];

	MAKE_SCRIPT(script, "hello.bmtestext", SCRIPT_BODY);
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_ext"));

	/* No #!: nothing but binfmt_misc can run this. */
	EXPECT_EXEC_ERR(script, ENOEXEC);

	REGISTER(":bmtest_ext:E::bmtestext::/bin/sh:");
	/* Without P the original argv[0] is dropped: sh <path> arg1. */
	EXPECT_EXEC_OK(script, "bmargv0", ran(want, sizeof(want), script, "arg1"));
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));

	ASSERT_EQ(2, write_str(entry, "-1"));
	EXPECT_EXEC_ERR(script, ENOEXEC);

	/* Same again, registered with a trailing newline. */
	REGISTER(":bmtest_ext:E::bmtestext::/bin/sh:\n");
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
	ASSERT_EQ(2, write_str(entry, "-1"));
	EXPECT_EXEC_ERR(script, ENOEXEC);
}

TEST_F(bm, entry_file_format)
{
	char path[PATH_MAX];
	struct stat st;
	bool listed = false;
	struct dirent *de;
	DIR *d;

	REGISTER(":bmtest_fmt:E::bmtestfmt::/bin/sh:");
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_fmt"));
	EXPECT_FILE(path, "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestfmt\n");
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ((mode_t)0644, st.st_mode & 07777);

	d = opendir(self->mnt);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d)))
		if (!strcmp(de->d_name, "bmtest_fmt"))
			listed = true;
	closedir(d);
	EXPECT_TRUE(listed);

	/* entry_status(): flags in P,O,C,F order; magic/mask as lowercase hex. */
	REGISTER(":bmtest_mag:M:2:\\x12\\x34:\\xff\\x0f:/bin/sh:PF");
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_mag"));
	EXPECT_FILE(path, "enabled\ninterpreter /bin/sh\nflags: PF\noffset 2\n"
			  "magic 1234\nmask ff0f\n");
}

TEST_F(bm, register_valid_variants)
{
	static const struct {
		const char *reg, *name, *want;
	} t[] = {
		/* Any delimiter; E ignores the offset and mask fields. */
		{ "|bmtest_var1|E|junk|bmtvar1|junk|/bin/sh|P\n", "bmtest_var1",
		  "enabled\ninterpreter /bin/sh\nflags: P\nextension .bmtvar1\n" },
		/* Empty offset is 0, empty mask means no mask line. */
		{ ":bmtest_var2:M::ab::/bin/sh:", "bmtest_var2",
		  "enabled\ninterpreter /bin/sh\nflags: \noffset 0\nmagic 6162\n" },
		/* Flags print in fixed P,O,C,F order whatever the input order. */
		{ ":bmtest_var3:E::bmtvar3::/bin/sh:FCP", "bmtest_var3",
		  "enabled\ninterpreter /bin/sh\nflags: POCF\nextension .bmtvar3\n" },
		/* C implies O. */
		{ ":bmtest_var4:E::bmtvar4::/bin/sh:C", "bmtest_var4",
		  "enabled\ninterpreter /bin/sh\nflags: OC\nextension .bmtvar4\n" },
		/* kstrtoint() takes a '+'; \x00 bytes are fine; hex any case. */
		{ ":bmtest_var5:M:+3:\\x7fELF\\x00:\\xff\\xFF\\xff\\xff\\x00:/bin/sh:",
		  "bmtest_var5",
		  "enabled\ninterpreter /bin/sh\nflags: \noffset 3\n"
		  "magic 7f454c4600\nmask ffffffff00\n" },
		/* A backslash not followed by x stays literal; \x3a is the delimiter char. */
		{ ":bmtest_var6:M::a\\qb\\x3a::/bin/sh:", "bmtest_var6",
		  "enabled\ninterpreter /bin/sh\nflags: \noffset 0\nmagic 615c71623a\n" },
		/* The interpreter is taken verbatim, and need not exist without F. */
		{ ":bmtest_var7:E::bmtvar7::/no such/interp:", "bmtest_var7",
		  "enabled\ninterpreter /no such/interp\nflags: \nextension .bmtvar7\n" },
		/* The delimiter can be anything but a flag letter. */
		{ "#bmtest_var8-x.y#E##bmt:var8##/bin/sh#", "bmtest_var8-x.y",
		  "enabled\ninterpreter /bin/sh\nflags: \nextension .bmt:var8\n" },
		/* "-0" is a valid int, and not negative. */
		{ ":bmtest_var10:M:-0:ab::/bin/sh:", "bmtest_var10",
		  "enabled\ninterpreter /bin/sh\nflags: \noffset 0\nmagic 6162\n" },
		/* Magic ending exactly at BINPRM_BUF_SIZE. */
		{ ":bmtest_var9:M:246:0123456789::/bin/sh:", "bmtest_var9",
		  "enabled\ninterpreter /bin/sh\nflags: \noffset 246\n"
		  "magic 30313233343536373839\n" },
	};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		REGISTER(t[i].reg);
		ASSERT_NE(NULL, pjoin(path, self->mnt, t[i].name));
		EXPECT_FILE(path, t[i].want);
	}
}

TEST_F(bm, register_length_limits)
{
	char buf[4096], want[4096], path[PATH_MAX];
	size_t len;
	ssize_t r;
	int i;

	/* A 256-byte magic (the whole BINPRM_BUF_SIZE) at offset 0 is fine... */
	len = snprintf(buf, sizeof(buf), ":bmtest_m256:M::");
	memset(buf + len, 'a', BINPRM_BUF_SIZE);
	len += BINPRM_BUF_SIZE;
	snprintf(buf + len, sizeof(buf) - len, "::/bin/sh:");
	REGISTER(buf);
	len = snprintf(want, sizeof(want),
		       "enabled\ninterpreter /bin/sh\nflags: \noffset 0\nmagic ");
	for (i = 0; i < BINPRM_BUF_SIZE; i++)
		len += snprintf(want + len, sizeof(want) - len, "61");
	snprintf(want + len, sizeof(want) - len, "\n");
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_m256"));
	EXPECT_FILE(path, want);

	/* ...257 bytes is not. */
	len = snprintf(buf, sizeof(buf), ":bmtest_m257:M::");
	memset(buf + len, 'a', BINPRM_BUF_SIZE + 1);
	len += BINPRM_BUF_SIZE + 1;
	snprintf(buf + len, sizeof(buf) - len, "::/bin/sh:");
	EXPECT_EQ(-EINVAL, write_str(self->reg, buf));
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_m257"));
	EXPECT_ABSENT(path);

	/* Exactly MAX_REGISTER_LENGTH bytes is accepted (a long interpreter path)... */
	len = snprintf(buf, sizeof(buf), ":bmtest_len1920:E::bmtlen::/bin");
	memset(buf + len, '/', MAX_REGISTER_LENGTH - len - 4);
	snprintf(buf + MAX_REGISTER_LENGTH - 4, 5, "/sh:");
	ASSERT_EQ((size_t)(MAX_REGISTER_LENGTH), strlen(buf));
	REGISTER(buf);
	/* The interpreter is everything between "bmtlen::" and the final ':'. */
	i = strlen(":bmtest_len1920:E::bmtlen::");
	snprintf(want, sizeof(want), "enabled\ninterpreter %.*s\nflags: \nextension .bmtlen\n",
		 (int)(MAX_REGISTER_LENGTH - i - 1), buf + i);
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_len1920"));
	EXPECT_FILE(path, want);

	/* ...one more byte is not, whatever the content. */
	len = snprintf(buf, sizeof(buf), ":bmtest_len1921:E::bmtlen2::/bin");
	memset(buf + len, '/', MAX_REGISTER_LENGTH + 1 - len - 4);
	snprintf(buf + MAX_REGISTER_LENGTH + 1 - 4, 5, "/sh:");
	ASSERT_EQ((size_t)(MAX_REGISTER_LENGTH + 1), strlen(buf));
	r = write_str(self->reg, buf);
	EXPECT_EQ(-EINVAL, r);
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_len1921"));
	EXPECT_ABSENT(path);
}

TEST_F(bm, register_name_length)
{
	char buf[1024], name[NAME_MAX + 2], path[PATH_MAX];

	/* NAME_MAX characters are fine. */
	memset(name, 'n', NAME_MAX);
	memcpy(name, "bmtest_", 7);
	name[NAME_MAX] = '\0';
	snprintf(buf, sizeof(buf), ":%s:E::bmtname::/bin/sh:", name);
	REGISTER(buf);
	ASSERT_NE(NULL, pjoin(path, self->mnt, name));
	EXPECT_EQ(0, access(path, F_OK));

	/* One more: the dentry lookup (simple_lookup) fails with ENAMETOOLONG. */
	name[NAME_MAX] = 'n';
	name[NAME_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), ":%s:E::bmtname2::/bin/sh:", name);
	EXPECT_EQ(-ENAMETOOLONG, write_str(self->reg, buf));
}

TEST_F(bm, magic_handler_runs_script)
{
	char script[PATH_MAX], other[PATH_MAX], entry[PATH_MAX];
	char want[PATH_MAX + 64];

	MAKE_SCRIPT(script, "magic_script", "#bmtest\n" SCRIPT_BODY);
	MAKE_SCRIPT(other, "magic_other", "#bmtesX\n" SCRIPT_BODY);
	EXPECT_EXEC_ERR(script, ENOEXEC);

	/* "#bmtest", partly escaped. */
	REGISTER(":bmtest_magic:M:0:\\x23bm\\x74est::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_magic"));
	EXPECT_FILE(entry, "enabled\ninterpreter /bin/sh\nflags: \noffset 0\n"
			   "magic 23626d74657374\n");

	EXPECT_EXEC_OK(script, "bmargv0", ran(want, sizeof(want), script, "arg1"));
	EXPECT_EXEC_ERR(other, ENOEXEC);

	ASSERT_EQ(2, write_str(entry, "-1"));
	EXPECT_EXEC_ERR(script, ENOEXEC);
}

TEST_F(bm, magic_mask_and_offset)
{
	char upper[PATH_MAX], lower[PATH_MAX], wrong[PATH_MAX], at0[PATH_MAX];
	char want[PATH_MAX + 64];

	/* mask \xdf on the 2nd byte ignores the ASCII case bit. */
	MAKE_SCRIPT(upper, "mask_upper", "#bMtq\n" SCRIPT_BODY);
	MAKE_SCRIPT(lower, "mask_lower", "#bmtq\n" SCRIPT_BODY);
	MAKE_SCRIPT(wrong, "mask_wrong", "#bNtq\n" SCRIPT_BODY);
	/* Right bytes at the wrong offset. */
	MAKE_SCRIPT(at0, "mask_at0", "bmtq\n" SCRIPT_BODY);

	REGISTER(":bmtest_mask:M:1:bmtq:\\xff\\xdf\\xff\\xff:/bin/sh:");
	EXPECT_EXEC_OK(upper, upper, ran(want, sizeof(want), upper, "arg1"));
	EXPECT_EXEC_OK(lower, lower, ran(want, sizeof(want), lower, "arg1"));
	EXPECT_EXEC_ERR(wrong, ENOEXEC);
	EXPECT_EXEC_ERR(at0, ENOEXEC);
}

TEST_F(bm, flag_preserve_argv0)
{
	char script[PATH_MAX], want[PATH_MAX + 64];

	MAKE_SCRIPT(script, "argv0.bmtestpa", SCRIPT_BODY);
	REGISTER(":bmtest_pa:E::bmtestpa::/bin/sh:P");
	/* With P: sh <path> <original argv[0]> arg1. */
	EXPECT_EXEC_OK(script, "bmargv0", ran(want, sizeof(want), script, "bmargv0 arg1"));
}

TEST_F(bm, register_open_file_flag)
{
	char script[PATH_MAX], path[PATH_MAX];

	/* F opens the interpreter at registration: a missing one fails there. */
	EXPECT_EQ(-ENOENT, write_str(self->reg,
				     ":bmtest_fbad:E::bmtestfbad::/nonexistent/bmtest-interp:F"));
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_fbad"));
	EXPECT_ABSENT(path);

	/* Without F it registers, and exec fails opening the interpreter. */
	REGISTER(":bmtest_fbad:E::bmtestfbad::/nonexistent/bmtest-interp:");
	EXPECT_EQ(0, access(path, F_OK));
	MAKE_SCRIPT(script, "x.bmtestfbad", SCRIPT_BODY);
	EXPECT_EXEC_ERR(script, ENOENT);
}

TEST_F(bm, entry_disable_enable)
{
	char script[PATH_MAX], entry[PATH_MAX], want[PATH_MAX + 64];

	MAKE_SCRIPT(script, "dis.bmtestdis", SCRIPT_BODY);
	REGISTER(":bmtest_dis:E::bmtestdis::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_dis"));
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));

	EXPECT_EQ(1, write_str(entry, "0"));
	EXPECT_FILE(entry, "disabled\ninterpreter /bin/sh\nflags: \nextension .bmtestdis\n");
	EXPECT_EXEC_ERR(script, ENOEXEC);
	/* Disabling twice is fine. */
	EXPECT_EQ(2, write_str(entry, "0\n"));
	EXPECT_EXEC_ERR(script, ENOEXEC);

	EXPECT_EQ(2, write_str(entry, "1\n"));
	EXPECT_FILE(entry, "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestdis\n");
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
}

/*
 * DIFFERS FROM 6.12 ON PURPOSE: upstream 7.3's 'D' registers an entry disabled
 * and out of the search list until its first '1'; D is never printed, and
 * status -1 removes such entries too. Being a flag letter, D cannot be the
 * delimiter either. 6.12 (the C module) knows no D: the flag is EINVAL, and 'D'
 * is an ordinary delimiter there.
 */
TEST_F(bm, disabled_flag_d)
{
	char script[PATH_MAX], entry[PATH_MAX], entry2[PATH_MAX];
	char delim_entry[PATH_MAX], want[PATH_MAX + 64];
	const char *staged = ":bmtest_d:E::bmtestd::/bin/sh:D";
	const char *d_delimiter = "DbmtestdelimDEDDbmtestxDD/bin/shD";

	MAKE_SCRIPT(script, "d.bmtestd", SCRIPT_BODY);
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_d"));
	ASSERT_NE(NULL, pjoin(entry2, self->mnt, "bmtest_d2"));
	ASSERT_NE(NULL, pjoin(delim_entry, self->mnt, "bmtestdelim"));
	if (impl_is_c()) {
		EXPECT_EQ(-EINVAL, write_str(self->reg, staged));
		EXPECT_EQ(-ENOENT, access(entry, F_OK) ? -errno : 0);
		REGISTER(d_delimiter);
		EXPECT_EQ(2, write_str(delim_entry, "-1"));
		return;
	}
	EXPECT_EQ(-EINVAL, write_str(self->reg, d_delimiter));
	EXPECT_EQ(-ENOENT, access(delim_entry, F_OK) ? -errno : 0);

	REGISTER(staged);
	EXPECT_FILE(entry, "disabled\ninterpreter /bin/sh\nflags: \nextension .bmtestd\n");
	EXPECT_EXEC_ERR(script, ENOEXEC);
	/* A '0' leaves it staged; the first '1' publishes it. */
	EXPECT_EQ(1, write_str(entry, "0"));
	EXPECT_EXEC_ERR(script, ENOEXEC);
	EXPECT_EQ(1, write_str(entry, "1"));
	EXPECT_FILE(entry, "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestd\n");
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
	/* From then on it toggles like any entry. */
	EXPECT_EQ(1, write_str(entry, "0"));
	EXPECT_EXEC_ERR(script, ENOEXEC);
	EXPECT_EQ(1, write_str(entry, "1"));
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));

	/* D composes with other flags and is not printed. */
	REGISTER(":bmtest_d2:E::bmtestd2::/bin/sh:PD");
	EXPECT_FILE(entry2, "disabled\ninterpreter /bin/sh\nflags: P\nextension .bmtestd2\n");
	/* status -1 removes published and staged entries alike. */
	EXPECT_EQ(2, write_str(self->status, "-1"));
	EXPECT_EQ(-ENOENT, access(entry, F_OK) ? -errno : 0);
	EXPECT_EQ(-ENOENT, access(entry2, F_OK) ? -errno : 0);
	EXPECT_EXEC_ERR(script, ENOEXEC);
}

TEST_F(bm, entry_removal)
{
	char script[PATH_MAX], entry[PATH_MAX], want[PATH_MAX + 64], buf[256];
	ssize_t n;
	int fd;

	MAKE_SCRIPT(script, "rm.bmtestrm", SCRIPT_BODY);
	REGISTER(":bmtest_rm:E::bmtestrm::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_rm"));
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));

	/* Keep an fd open across the removal. */
	fd = open(entry, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", entry, strerror(errno));

	EXPECT_EQ(2, write_str(entry, "-1"));
	EXPECT_EQ(-1, open(entry, O_RDONLY));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EXEC_ERR(script, ENOEXEC);

	/*
	 * The stale fd still works: reads show the entry, and commands are
	 * accepted but cannot bring it back (bm_entry_write() only removes
	 * it if it is still on the list).
	 */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	EXPECT_LT(0, n);
	if (n > 0) {
		buf[n] = '\0';
		EXPECT_STREQ("enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestrm\n", buf);
	}
	EXPECT_EQ(2, write(fd, "-1", 2));
	EXPECT_EQ(1, write(fd, "1", 1));
	close(fd);
	EXPECT_EXEC_ERR(script, ENOEXEC);
	EXPECT_ABSENT(entry);

	/* The name is free again. */
	REGISTER(":bmtest_rm:E::bmtestrm::/bin/sh:");
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
}

TEST_F(bm, read_offsets)
{
	char entry[PATH_MAX], buf[256];
	const char *full = "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestoff\n";
	size_t len = 0;
	ssize_t n;
	int fd;

	/* status read one byte at a time. */
	fd = open(self->status, O_RDONLY);
	ASSERT_LE(0, fd);
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, 1)) > 0)
		len += n;
	buf[len] = '\0';
	EXPECT_STREQ("enabled\n", buf);
	EXPECT_EQ(3, pread(fd, buf, 3, 4));
	EXPECT_EQ(0, memcmp(buf, "led", 3));
	EXPECT_EQ(0, pread(fd, buf, 3, 8));
	close(fd);

	REGISTER(":bmtest_off:E::bmtestoff::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_off"));
	fd = open(entry, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, read(fd, buf, 3));
	EXPECT_EQ(0, memcmp(buf, "ena", 3));
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_EQ((ssize_t)strlen(full) - 3, n);
	buf[n] = '\0';
	EXPECT_STREQ(full + 3, buf);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(8, lseek(fd, 8, SEEK_SET));
	n = read(fd, buf, 11);
	ASSERT_EQ(11, n);
	EXPECT_EQ(0, memcmp(buf, "interpreter", 11));

	/*
	 * DIFFERS FROM 6.12 ON PURPOSE: newer upstream's entry files are seq_files,
	 * which refuse SEEK_END; 6.12's seek past their size of 0.
	 */
	errno = 0;
	if (impl_is_c()) {
		EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	} else {
		EXPECT_EQ(-1, lseek(fd, 0, SEEK_END));
		EXPECT_EQ(EINVAL, errno);
	}
	close(fd);

	/*
	 * DIFFERS FROM 6.12 ON PURPOSE: each open reads one text, made by its first
	 * read, as newer upstream's seq_files; 6.12 makes the text again for every
	 * read, so a change between two reads tears it.
	 */
	fd = open(entry, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, read(fd, buf, 3));
	EXPECT_EQ(1, write_str(entry, "0"));
	n = read(fd, buf + 3, sizeof(buf) - 4);
	ASSERT_LT(0, n);
	buf[n + 3] = '\0';
	if (impl_is_c()) {
		EXPECT_EQ(0, strncmp(buf, "enaabled\n", 9)) TH_LOG("%s", buf);
	} else {
		EXPECT_STREQ(full, buf);
	}
	close(fd);

	/* Commands are taken at any offset: pwrite(2) works too. */
	fd = open(entry, O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, pwrite(fd, "1", 1, 5)) TH_LOG("pwrite: %s", strerror(errno));
	close(fd);
	ASSERT_LT(0, read_file(entry, buf, sizeof(buf)));
	EXPECT_STREQ(full, buf);
}

TEST_F(bm, status_disable_enable)
{
	char script[PATH_MAX], script2[PATH_MAX], entry[PATH_MAX];
	char want[PATH_MAX + 64];

	MAKE_SCRIPT(script, "st.bmtestst", SCRIPT_BODY);
	MAKE_SCRIPT(script2, "st.bmtestst2", SCRIPT_BODY);
	REGISTER(":bmtest_st:E::bmtestst::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_st"));
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));

	EXPECT_EQ(1, write_str(self->status, "0"));
	EXPECT_FILE(self->status, "disabled\n");
	EXPECT_EXEC_ERR(script, ENOEXEC);
	/* The entry's own flag is untouched. */
	EXPECT_FILE(entry, "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestst\n");
	/* Registering still works while disabled, but does not run either. */
	REGISTER(":bmtest_st2:E::bmtestst2::/bin/sh:");
	EXPECT_EXEC_ERR(script2, ENOEXEC);

	EXPECT_EQ(1, write_str(self->status, "1"));
	EXPECT_FILE(self->status, "enabled\n");
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
	EXPECT_EXEC_OK(script2, script2, ran(want, sizeof(want), script2, "arg1"));

	EXPECT_EQ(2, write_str(self->status, "0\n"));
	EXPECT_FILE(self->status, "disabled\n");
	EXPECT_EQ(2, write_str(self->status, "1\n"));
	EXPECT_FILE(self->status, "enabled\n");
}

TEST_F(bm, status_minus_one_removes_all)
{
	char e1[PATH_MAX], e2[PATH_MAX], s1[PATH_MAX], want[PATH_MAX + 64];

	MAKE_SCRIPT(s1, "all.bmtestall1", SCRIPT_BODY);
	REGISTER(":bmtest_all1:E::bmtestall1::/bin/sh:");
	REGISTER(":bmtest_all2:M::bmtestall2::/bin/sh:");
	ASSERT_NE(NULL, pjoin(e1, self->mnt, "bmtest_all1"));
	ASSERT_NE(NULL, pjoin(e2, self->mnt, "bmtest_all2"));
	EXPECT_EQ(0, access(e1, F_OK));
	EXPECT_EQ(0, access(e2, F_OK));
	EXPECT_EXEC_OK(s1, s1, ran(want, sizeof(want), s1, "arg1"));

	EXPECT_EQ(3, write_str(self->status, "-1\n"));
	EXPECT_ABSENT(e1);
	EXPECT_ABSENT(e2);
	EXPECT_EXEC_ERR(s1, ENOEXEC);
	/* The fixed files stay, still enabled, and registering works again. */
	EXPECT_FILE(self->status, "enabled\n");
	EXPECT_EQ(0, access(self->reg, F_OK));
	REGISTER(":bmtest_all1:E::bmtestall1::/bin/sh:");
	EXPECT_EXEC_OK(s1, s1, ran(want, sizeof(want), s1, "arg1"));
	/* Without a trailing newline too. */
	EXPECT_EQ(2, write_str(self->status, "-1"));
	EXPECT_ABSENT(e1);
}

TEST_F(bm, register_duplicate_eexist)
{
	char entry[PATH_MAX];
	const char *first = ":bmtest_dup:E::bmtestdup::/bin/sh:";
	const char *want = "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestdup\n";

	REGISTER(first);
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_dup"));
	EXPECT_EQ(-EEXIST, write_str(self->reg, first));
	EXPECT_EQ(-EEXIST, write_str(self->reg, ":bmtest_dup:M::xy::/bin/false:P"));
	/* The first registration is untouched. */
	EXPECT_FILE(entry, want);

	/* The fixed files' names are taken too. */
	EXPECT_EQ(-EEXIST, write_str(self->reg, ":status:E::bmtestdup2::/bin/sh:"));
	EXPECT_EQ(-EEXIST, write_str(self->reg, ":register:E::bmtestdup2::/bin/sh:"));
	EXPECT_FILE(self->status, "enabled\n");

	/* After removal the name can be registered again. */
	EXPECT_EQ(2, write_str(entry, "-1"));
	REGISTER(first);
	EXPECT_FILE(entry, want);
}

TEST_F(bm, register_invalid_einval)
{
	static const struct {
		const char *desc, *reg, *name;	/* name: must not appear */
	} t[] = {
		{ "empty write", "", NULL },
		{ "too short", ":b:E::x::i", "b" },
		{ "unknown type", ":bmtest_inv1:X::bmtinv::/bin/sh:", "bmtest_inv1" },
		{ "lowercase type", ":bmtest_inv2:e::bmtinv::/bin/sh:", "bmtest_inv2" },
		{ "two-char type", ":bmtest_inv3:EM::bmtinv::/bin/sh:", "bmtest_inv3" },
		{ "name .", ":.:E::bmtinv::/bin/sh:", NULL },
		{ "name ..", ":..:E::bmtinv::/bin/sh:", NULL },
		{ "name with /", ":bmtest_inv/4:E::bmtinv::/bin/sh:", "bmtest_inv" },
		{ "empty name", "::E::bmtinv::/bin/sh:", NULL },
		{ "empty extension", ":bmtest_inv5:E::::/bin/sh:", "bmtest_inv5" },
		{ "extension with /", ":bmtest_inv6:E::bmt/inv::/bin/sh:", "bmtest_inv6" },
		{ "empty magic", ":bmtest_inv7:M::::/bin/sh:", "bmtest_inv7" },
		{ "mask shorter", ":bmtest_inv8:M::\\x12\\x34:\\xff:/bin/sh:", "bmtest_inv8" },
		{ "mask longer", ":bmtest_inv9:M::ab:abc:/bin/sh:", "bmtest_inv9" },
		{ "negative offset", ":bmtest_inv10:M:-1:ab::/bin/sh:", "bmtest_inv10" },
		{ "non-numeric offset", ":bmtest_inv11:M:x1:ab::/bin/sh:", "bmtest_inv11" },
		{ "offset trailing junk", ":bmtest_inv12:M:1x:ab::/bin/sh:", "bmtest_inv12" },
		{ "offset leading space", ":bmtest_inv13:M: 1:ab::/bin/sh:", "bmtest_inv13" },
		{ "offset overflows int", ":bmtest_inv14:M:99999999999:ab::/bin/sh:", "bmtest_inv14" },
		/* kstrtoint() skips a '+' only where there is no '-'. */
		{ "offset minus plus", ":bmtest_inv14b:M:-+0:ab::/bin/sh:", "bmtest_inv14b" },
		{ "offset 250 + 10-byte magic", ":bmtest_inv15:M:250:0123456789::/bin/sh:", "bmtest_inv15" },
		{ "offset 247 + 10-byte magic", ":bmtest_inv16:M:247:0123456789::/bin/sh:", "bmtest_inv16" },
		{ "magic \\x with one digit", ":bmtest_inv17:M::\\x4::/bin/sh:", "bmtest_inv17" },
		{ "magic \\x non-hex", ":bmtest_inv18:M::\\xg0::/bin/sh:", "bmtest_inv18" },
		{ "mask \\x non-hex", ":bmtest_inv19:M::ab:\\xfz:/bin/sh:", "bmtest_inv19" },
		{ "empty interpreter", ":bmtest_inv20:E::bmtinv:::", "bmtest_inv20" },
		{ "unknown flag", ":bmtest_inv21:E::bmtinv::/bin/sh:Z", "bmtest_inv21" },
		{ "lowercase flag", ":bmtest_inv22:E::bmtinv::/bin/sh:p", "bmtest_inv22" },
		{ "flag then junk", ":bmtest_inv23:E::bmtinv::/bin/sh:PZ", "bmtest_inv23" },
		{ "delimiter P", "Pbmtest_inv24PEPPbmtinvPP/bin/shP", "bmtest_inv24" },
		{ "delimiter O", "Obmtest_inv25OEOObmtinvOO/bin/shO", "bmtest_inv25" },
		{ "delimiter C", "Cbmtest_inv26CECCbmtinvCC/bin/shC", "bmtest_inv26" },
		{ "delimiter F", "Fbmtest_inv27FEFFbmtinvFF/bin/shF", "bmtest_inv27" },
		{ "no delimiter after interpreter", ":bmtest_inv28:E::bmtinv::/bin/sh", "bmtest_inv28" },
		{ "two newlines", ":bmtest_inv29:E::bmtinv::/bin/sh:\n\n", "bmtest_inv29" },
		{ "flags after newline", ":bmtest_inv30:E::bmtinv::/bin/sh:\nP", "bmtest_inv30" },
		{ "extra field", ":bmtest_inv31:E::bmtinv::/bin/sh::", "bmtest_inv31" },
		{ "extra field after flags", ":bmtest_inv32:E::bmtinv::/bin/sh:P:", "bmtest_inv32" },
		{ "E missing fields", ":bmtest_inv33:E::bmtinv", "bmtest_inv33" },
		{ "M missing fields", ":bmtest_inv34:M:0", "bmtest_inv34" },
		{ "name only", ":bmtest_inv35", "bmtest_inv35" },
		{ "name and type only", ":bmtest_inv36:E:", "bmtest_inv36" },
	};
	char path[PATH_MAX], buf[MAX_REGISTER_LENGTH + 64];
	size_t i, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		EXPECT_EQ(-EINVAL, write_str(self->reg, t[i].reg))
			TH_LOG("case '%s': '%s'", t[i].desc, t[i].reg);
		if (t[i].name) {
			ASSERT_NE(NULL, pjoin(path, self->mnt, t[i].name));
			EXPECT_ABSENT(path);
		}
	}

	/* Longer than MAX_REGISTER_LENGTH, otherwise valid. */
	len = snprintf(buf, sizeof(buf), ":bmtest_inv40:E::bmtinv::/bin");
	memset(buf + len, '/', MAX_REGISTER_LENGTH + 40 - len);
	snprintf(buf + MAX_REGISTER_LENGTH + 40, sizeof(buf) - MAX_REGISTER_LENGTH - 40, "/sh:");
	EXPECT_EQ(-EINVAL, write_str(self->reg, buf));
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_inv40"));
	EXPECT_ABSENT(path);

	/* Nothing got enabled/disabled along the way. */
	EXPECT_FILE(self->status, "enabled\n");
}

/*
 * register_table: malformed and edge-case register strings, each with what
 * the kernel's own fs/binfmt_misc.c (6.12) does with it: the errno of the
 * write(2), or the full text of the entry file it creates.  The expected
 * values were recorded from the C module in the test guest.
 */
#define R2(s)		s s
#define R4(s)		R2(R2(s))
#define R8(s)		R2(R4(s))
#define R16(s)		R2(R8(s))
#define R32(s)		R2(R16(s))
#define R64(s)		R2(R32(s))
#define R128(s)		R2(R64(s))
#define R256(s)		R2(R128(s))
#define R512(s)		R2(R256(s))
#define R1024(s)	R2(R512(s))

/* "bmtest_" plus 248 characters: a NAME_MAX (255) byte name. */
#define NAME_255	"bmtest_" R128("n") R64("n") R32("n") R16("n") R8("n")
/* Interpreter paths that make a register string exactly 1920 and 1921 bytes. */
#define PATH_1895	"/bin" R1024("/") R512("/") R256("/") R64("/") R32("/") "/sh"
#define PATH_1896	PATH_1895 "/"
#define REG_1920	":bmtest_t52:E::bmtt52::" PATH_1895 ":\n"
#define REG_1921	":bmtest_t53:E::bmtt53::" PATH_1896 ":\n"
_Static_assert(sizeof(REG_1920) - 1 == MAX_REGISTER_LENGTH, "REG_1920");
_Static_assert(sizeof(REG_1921) - 1 == MAX_REGISTER_LENGTH + 1, "REG_1921");

/* A string literal and its length, for buffers with NUL bytes in them. */
#define NB(s)		s, sizeof(s) - 1

/* Entry file texts. */
#define EXT(interp, flags, ext) \
	"enabled\ninterpreter " interp "\nflags: " flags "\nextension ." ext "\n"
#define MAG(interp, flags, off, magic) \
	"enabled\ninterpreter " interp "\nflags: " flags "\noffset " off \
	"\nmagic " magic "\n"
#define MAGM(interp, flags, off, magic, mask) \
	"enabled\ninterpreter " interp "\nflags: " flags "\noffset " off \
	"\nmagic " magic "\nmask " mask "\n"

struct reg_case {
	const char *reg;	/* what is written to register */
	size_t len;		/* bytes written; 0: strlen(reg) */
	int err;		/* expected errno; 0: write returns len */
	const char *name;	/* accepted: the entry's name */
	const char *want;	/* accepted: the entry file's full text */
};

static const struct reg_case reg_cases[] = {
	/* Delimiters: any byte but a flag letter, NUL included. */
	{ "|bmtest_t01|E||bmtt01||/bin/sh|", 0, 0, "bmtest_t01",
	  EXT("/bin/sh", "", "bmtt01") },
	{ "\001bmtest_t02\001E\001\001bmtt02\001\001/bin/sh\001P", 0, 0, "bmtest_t02",
	  EXT("/bin/sh", "P", "bmtt02") },
	{ " bmtest_t03 M 0 \\x7fELF  /bin/sh O", 0, 0, "bmtest_t03",
	  MAG("/bin/sh", "O", "0", "7f454c46") },
	{ "#bmtest_t04#M#1#ab#\\xff\\xdf#/bin/sh#", 0, 0, "bmtest_t04",
	  MAGM("/bin/sh", "", "1", "6162", "ffdf") },
	{ NB("\0bmtest_t05\0E\0\0bmtt05\0\0/bin/sh\0"), 0, "bmtest_t05",
	  EXT("/bin/sh", "", "bmtt05") },
	{ "\nbmtest_t06\nE\n\nbmtt06\n\n/bin/sh\nP\n", 0, 0, "bmtest_t06",
	  EXT("/bin/sh", "P", "bmtt06") },
	/* Delimiter 'x': scanarg() still reads "\x" as an escape. */
	{ "xbmtest_t07xMx0x\\x41\\x42xx/bin/shx", 0, 0, "bmtest_t07",
	  MAG("/bin/sh", "", "0", "4142") },
	{ "xbmtest_t08xMx0xab\\xxx/bin/shx", 0, EINVAL, NULL, NULL },
	{ "Obmtest_t09OMO0OabOO/bin/shO", 0, EINVAL, NULL, NULL },
	/* A hex digit as delimiter: the escape takes "aa", the next 'a' ends it. */
	{ "abmtest_t90aMa0a\\xaaaa/bin/sha", 0, 0, "bmtest_t90",
	  MAG("/bin/sh", "", "0", "aa") },
	/* The type letters as delimiters. */
	{ "Ebmtest_t91EEEEbmtt91EE/bin/shE", 0, 0, "bmtest_t91",
	  EXT("/bin/sh", "", "bmtt91") },
	{ "Mbmtest_t92MMM3MabMM/bin/shM", 0, 0, "bmtest_t92",
	  MAG("/bin/sh", "", "3", "6162") },
	/* '/' as delimiter: only a relative interpreter, "/bin/sh" ends in flags "sh/". */
	{ "/bmtest_t93/E//bmtt93//sh/", 0, 0, "bmtest_t93",
	  EXT("sh", "", "bmtt93") },
	{ "/bmtest_t94/E//bmtt94///bin/sh/", 0, EINVAL, NULL, NULL },
	{ "\\bmtest_t10\\M\\0\\ab\\\\/bin/sh\\", 0, 0, "bmtest_t10",
	  MAG("/bin/sh", "", "0", "6162") },

	/* \xHH escapes in magic and mask. */
	{ ":bmtest_t12:M::\\xAB\\xcD\\xEf:\\xFf\\xfF\\x0F:/bin/sh:", 0, 0, "bmtest_t12",
	  MAGM("/bin/sh", "", "0", "abcdef", "ffff0f") },
	{ ":bmtest_t13:M::\\X41::/bin/sh:", 0, 0, "bmtest_t13",
	  MAG("/bin/sh", "", "0", "5c583431") },
	{ ":bmtest_t14:M::\\\\x41::/bin/sh:", 0, 0, "bmtest_t14",
	  MAG("/bin/sh", "", "0", "5c5c783431") },
	{ ":bmtest_t15:M::ab\\x::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t16:M::\\x00\\x00:\\x00\\xff:/bin/sh:", 0, 0, "bmtest_t16",
	  MAGM("/bin/sh", "", "0", "0000", "00ff") },
	{ ":bmtest_t17:E::\\x00::/bin/sh:", 0, 0, "bmtest_t17",
	  EXT("/bin/sh", "", "\\x00") },
	{ ":bmtest_t18:M::ab\\::/bin/sh:", 0, 0, "bmtest_t18",
	  MAG("/bin/sh", "", "0", "61625c") },
	{ ":bmtest_t19:M::ab:\\xff\\xff\\xff:/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t20:M::\\x41B:a\\xff:/bin/sh:", 0, 0, "bmtest_t20",
	  MAGM("/bin/sh", "", "0", "4142", "61ff") },
	{ ":bmtest_t21:M::ab:\\x4g:/bin/sh:", 0, EINVAL, NULL, NULL },
	/* Two hex digits at most: the third byte is literal. */
	{ ":bmtest_t95:M::\\x414:\\xff\\xfe:/bin/sh:", 0, 0, "bmtest_t95",
	  MAGM("/bin/sh", "", "0", "4134", "fffe") },

	/* NUL bytes in the written buffer. */
	{ NB(":bmtest_t22:M::ab\0cd::/bin/sh:"), 0, "bmtest_t22",
	  MAG("/bin/sh", "", "0", "6162") },
	{ NB(":bmtest_t23:M::ab:\0zzz:/bin/sh:"), 0, "bmtest_t23",
	  MAG("/bin/sh", "", "0", "6162") },
	{ NB(":bmtest_t24:M::ab:\\xff\\xff\0zz:/bin/sh:"), 0, "bmtest_t24",
	  MAGM("/bin/sh", "", "0", "6162", "ffff") },
	{ NB(":bmtest_t25:M::\0ab::/bin/sh:"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t26\0x:E::bmtt26::/bin/sh:"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t27:E::bmtt27::/bin/sh\0x:"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t28:E::bmtt28::/bin/sh:\0"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t29:E:\0:bmtt29::/bin/sh:"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t31:E::bmtt31:\0:/bin/sh:"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t32:E::bmtt32::/bin/sh:\n\0"), EINVAL, NULL, NULL },
	{ NB(":bmtest_t33:M:1\0:ab::/bin/sh:"), EINVAL, NULL, NULL },
	/* Only the first len bytes count. */
	{ ":bmtest_t30:E::bmtt30::/bin/sh:JUNK",
	  sizeof(":bmtest_t30:E::bmtt30::/bin/sh:") - 1, 0, "bmtest_t30",
	  EXT("/bin/sh", "", "bmtt30") },

	/* Types. */
	{ ":bmtest_t34:::bmtt34::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t35: E::bmtt35::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t36:Mx:0:ab::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t37:m::ab::/bin/sh:", 0, EINVAL, NULL, NULL },

	/* Offsets (kstrtoint(), base 10). */
	{ ":bmtest_t38:M:+5:ab::/bin/sh:", 0, 0, "bmtest_t38",
	  MAG("/bin/sh", "", "5", "6162") },
	{ ":bmtest_t39:M:5\n:ab::/bin/sh:", 0, 0, "bmtest_t39",
	  MAG("/bin/sh", "", "5", "6162") },
	{ ":bmtest_t40:M:0000000000000000000007:ab::/bin/sh:", 0, 0, "bmtest_t40",
	  MAG("/bin/sh", "", "7", "6162") },
	{ ":bmtest_t41:M:255:a::/bin/sh:", 0, 0, "bmtest_t41",
	  MAG("/bin/sh", "", "255", "61") },
	{ ":bmtest_t42:M:256:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t43:M:2147483647:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t44:M:2147483648:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t45:M:-2147483648:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t46:M:+:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t47:M:0x10:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t48:M:+-1:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t49:M:1 :a::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t96:M:1\n\n:a::/bin/sh:", 0, EINVAL, NULL, NULL },
	/* E ignores whatever is in the offset and mask fields. */
	{ ":bmtest_t50:E:-junk+:bmtt50:\\xzz:/bin/sh:", 0, 0, "bmtest_t50",
	  EXT("/bin/sh", "", "bmtt50") },

	/* Magic and mask sizes against BINPRM_BUF_SIZE. */
	{ ":bmtest_t51:M:0:" R256("\\xff") "::/bin/sh:", 0, 0, "bmtest_t51",
	  MAG("/bin/sh", "", "0", R256("ff")) },
	{ ":bmtest_t54:M:0:" R256("\\x41") "\\x41::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t55:M::" R256("a") ":" R256("b") ":/bin/sh:", 0, 0, "bmtest_t55",
	  MAGM("/bin/sh", "", "0", R256("61"), R256("62")) },
	{ ":bmtest_t56:M:200:" R32("A") R16("A") R8("A") ":"
	  R32("\\xF0") R16("\\xF0") R8("\\xF0") ":/bin/sh:", 0, 0, "bmtest_t56",
	  MAGM("/bin/sh", "", "200", R32("41") R16("41") R8("41"),
	       R32("f0") R16("f0") R8("f0")) },
	{ ":bmtest_t57:M:201:" R32("A") R16("A") R8("A") ":"
	  R32("\\xF0") R16("\\xF0") R8("\\xF0") ":/bin/sh:", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t58:M:1:" R256("a") "::/bin/sh:", 0, EINVAL, NULL, NULL },

	/* MAX_REGISTER_LENGTH and the 11-byte minimum. */
	{ REG_1920, 0, 0, "bmtest_t52", EXT(PATH_1895, "", "bmtt52") },
	{ REG_1921, 0, EINVAL, NULL, NULL },
	{ ":a:E::b::c", 0, EINVAL, NULL, NULL },
	/* The only name here not starting with bmtest_: 11 bytes leave one byte. */
	{ ":a:E::b::c:", 0, 0, "a", EXT("c", "", "b") },

	/* Names. */
	{ ":" NAME_255 ":E::bmtt59::/bin/sh:", 0, 0, NAME_255,
	  EXT("/bin/sh", "", "bmtt59") },
	{ ":" NAME_255 "n:E::bmtt60::/bin/sh:", 0, ENAMETOOLONG, NULL, NULL },
	{ ":bmtest_...:E::bmtt61::/bin/sh:", 0, 0, "bmtest_...",
	  EXT("/bin/sh", "", "bmtt61") },
	{ ":bmtest_t62 a\nb:E::bmtt62::/bin/sh:", 0, 0, "bmtest_t62 a\nb",
	  EXT("/bin/sh", "", "bmtt62") },
	{ ":bmtest_t63/:E::bmtt63::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ "#..#E##bmtt64##/bin/sh#", 0, EINVAL, NULL, NULL },
	{ "#.#M##ab##/bin/sh#", 0, EINVAL, NULL, NULL },
	{ "|/|E||bmtt66||/bin/sh|", 0, EINVAL, NULL, NULL },
	{ "||E||bmtt67||/bin/sh|", 0, EINVAL, NULL, NULL },
	{ ":status:E::bmtt68::/bin/sh:", 0, EEXIST, NULL, NULL },

	/* Extensions (never unescaped). */
	{ ":bmtest_t69:E::/bmtt69::/bin/sh:", 0, EINVAL, NULL, NULL },
	{ "|bmtest_t70|E||||/bin/sh|", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t71:E::.bmt.t71::/bin/sh:", 0, 0, "bmtest_t71",
	  EXT("/bin/sh", "", ".bmt.t71") },

	/* Interpreters. */
	{ ":bmtest_t72:E::bmtt72:::P", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t73:E::bmtt73::/bin/sh -x:", 0, 0, "bmtest_t73",
	  EXT("/bin/sh -x", "", "bmtt73") },
	{ ":bmtest_t74:M::ab::sh:P", 0, 0, "bmtest_t74",
	  MAG("sh", "P", "0", "6162") },

	/* Flags, printed once each in P, O, C, F order. */
	{ ":bmtest_t75:E::bmtt75::/bin/sh:O", 0, 0, "bmtest_t75",
	  EXT("/bin/sh", "O", "bmtt75") },
	{ ":bmtest_t76:E::bmtt76::/bin/sh:F", 0, 0, "bmtest_t76",
	  EXT("/bin/sh", "F", "bmtt76") },
	{ ":bmtest_t77:E::bmtt77::/bin/sh:CO", 0, 0, "bmtest_t77",
	  EXT("/bin/sh", "OC", "bmtt77") },
	{ ":bmtest_t78:E::bmtt78::/bin/sh:PP", 0, 0, "bmtest_t78",
	  EXT("/bin/sh", "P", "bmtt78") },
	{ ":bmtest_t79:E::bmtt79::/bin/sh:CCFFOOPP", 0, 0, "bmtest_t79",
	  EXT("/bin/sh", "POCF", "bmtt79") },
	{ ":bmtest_t80:M::ab::/bin/sh:POCF\n", 0, 0, "bmtest_t80",
	  MAG("/bin/sh", "POCF", "0", "6162") },
	{ ":bmtest_t81:E::bmtt81::/bin/sh:CF", 0, 0, "bmtest_t81",
	  EXT("/bin/sh", "OCF", "bmtt81") },
	{ ":bmtest_t82:E::bmtt82::/bin/sh:\n", 0, 0, "bmtest_t82",
	  EXT("/bin/sh", "", "bmtt82") },
	{ ":bmtest_t83:E::bmtt83::/bin/sh:P\r\n", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t84:E::bmtt84::/bin/sh:P ", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t85:E::bmtt85::/bin/sh:\t", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t86:E::bmtt86::/bin/sh:Fx", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t87:E::bmtt87::/bin/sh:p", 0, EINVAL, NULL, NULL },
	{ ":bmtest_t88:E::bmtt88::/bin/sh:P\nP", 0, EINVAL, NULL, NULL },
	/* F opens the interpreter now: a directory is no executable. */
	{ ":bmtest_t89:E::bmtt89::/:F", 0, EACCES, NULL, NULL },
};

#define MAX_NAMES	64

struct name_list {
	int n;
	char name[MAX_NAMES][NAME_MAX + 1];
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The sorted names in dir; returns 0 or -errno (-ENOSPC if too many). */
static int list_names(const char *dir, struct name_list *l)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	l->n = 0;
	while ((de = readdir(d))) {
		if (l->n == MAX_NAMES) {
			closedir(d);
			return -ENOSPC;
		}
		snprintf(l->name[l->n++], NAME_MAX + 1, "%s", de->d_name);
	}
	closedir(d);
	qsort(l->name, l->n, sizeof(l->name[0]), cmp_name);
	return 0;
}

static bool in_list(const struct name_list *l, const char *name)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name))
			return true;
	return false;
}

/* buf as a C string literal (truncated to fit out), for the logs. */
static const char *c_escape(const char *buf, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = buf[i];

		if (c == '\n')
			o += snprintf(out + o, size - o, "\\n");
		else if (c == '\\' || c == '"')
			o += snprintf(out + o, size - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(out + o, size - o, "\\%03o", c);
		else
			out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

TEST_F(bm, register_table)
{
	struct name_list *before, *after;
	char path[PATH_MAX], buf[8192], shown[512];
	size_t i, len;
	ssize_t r, n;
	int j, added;

	before = malloc(sizeof(*before));
	after = malloc(sizeof(*after));
	ASSERT_NE(NULL, before);
	ASSERT_NE(NULL, after);

	for (i = 0; i < sizeof(reg_cases) / sizeof(reg_cases[0]); i++) {
		const struct reg_case *c = &reg_cases[i];

		len = c->len ? c->len : strlen(c->reg);
		c_escape(c->reg, len, shown, sizeof(shown));
		ASSERT_EQ(0, list_names(self->mnt, before));
		r = write_buf(self->reg, c->reg, len);
		ASSERT_EQ(0, list_names(self->mnt, after));
		added = after->n - before->n;

		if (c->err) {
			EXPECT_EQ(-c->err, r)
				TH_LOG("row %zu \"%s\": expected %s, got %s", i, shown,
				       strerror(c->err), r < 0 ? strerror(-r) : "success");
			EXPECT_EQ(0, added)
				TH_LOG("row %zu \"%s\": rejected, yet %d new files",
				       i, shown, added);
		} else {
			EXPECT_EQ((ssize_t)len, r)
				TH_LOG("row %zu \"%s\": %s", i, shown,
				       r < 0 ? strerror(-r) : "short write");
			EXPECT_EQ(1, added)
				TH_LOG("row %zu \"%s\": %d new files", i, shown, added);
			ASSERT_NE(NULL, pjoin(path, self->mnt, c->name));
			n = read_file(path, buf, sizeof(buf));
			EXPECT_LE(0, n)
				TH_LOG("row %zu \"%s\": reading the entry: %s", i, shown,
				       strerror(-n));
			if (n >= 0) {
				EXPECT_STREQ(c->want, buf)
					TH_LOG("row %zu \"%s\"", i, shown);
			}
		}

		/* Remove whatever the row added, expected or not. */
		for (j = 0; j < after->n; j++) {
			if (in_list(before, after->name[j]))
				continue;
			if (pjoin(path, self->mnt, after->name[j])) {
				EXPECT_EQ(2, write_str(path, "-1"))
					TH_LOG("removing '%s'", after->name[j]);
			}
		}
	}
	EXPECT_EQ(0, list_names(self->mnt, after));
	EXPECT_EQ(before->n, after->n);
	EXPECT_FILE(self->status, "enabled\n");
	free(before);
	free(after);
}

TEST_F(bm, command_parsing)
{
	static const char *const bad[] = {
		"2", "11", "-2", "0000", "1\n\n", "-1\n\n", "\n", " 1", "1 ", "01", "+1", "-0",
	};
	const char *want = "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestcmd\n";
	char entry[PATH_MAX];
	size_t i;
	int fd;

	REGISTER(":bmtest_cmd:E::bmtestcmd::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_cmd"));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, write_str(self->status, bad[i]))
			TH_LOG("status <- '%s'", bad[i]);
		EXPECT_EQ(-EINVAL, write_str(entry, bad[i]))
			TH_LOG("entry <- '%s'", bad[i]);
	}
	EXPECT_FILE(self->status, "enabled\n");
	EXPECT_FILE(entry, want);

	/* A zero-length write is accepted and does nothing. */
	EXPECT_EQ(0, write_buf(self->status, "", 0));
	EXPECT_EQ(0, write_buf(entry, "", 0));
	EXPECT_FILE(self->status, "enabled\n");
	EXPECT_FILE(entry, want);

	/* Only the first count bytes matter. */
	EXPECT_EQ(1, write_buf(entry, "0garbage", 1));
	EXPECT_FILE(entry, "disabled\ninterpreter /bin/sh\nflags: \nextension .bmtestcmd\n");
	EXPECT_EQ(1, write_buf(entry, "1garbage", 1));
	EXPECT_FILE(entry, want);

	/* Several commands through one fd (the file offset is ignored). */
	fd = open(self->status, O_WRONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "0", 1));
	EXPECT_EQ(1, write(fd, "1", 1));
	close(fd);
	EXPECT_FILE(self->status, "enabled\n");
}

TEST_F(bm, mounts_share_instance)
{
	char mnt2[PATH_MAX], e1[PATH_MAX], e2[PATH_MAX], st2[PATH_MAX];
	const char *want = "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestshare\n";
	struct stat a, b;
	int ret;

	ASSERT_NE(NULL, pjoin(mnt2, self->tmp, "mnt2"));
	ASSERT_EQ(0, mkdir(mnt2, 0755));
	ret = mount_binfmt_misc(mnt2);
	ASSERT_EQ(0, ret) TH_LOG("second mount: %s", strerror(-ret));
	ASSERT_NE(NULL, pjoin(e1, self->mnt, "bmtest_share"));
	ASSERT_NE(NULL, pjoin(e2, mnt2, "bmtest_share"));
	ASSERT_NE(NULL, pjoin(st2, mnt2, "status"));

	/* Same superblock. */
	ASSERT_EQ(0, stat(self->mnt, &a));
	ASSERT_EQ(0, stat(mnt2, &b));
	EXPECT_EQ(a.st_dev, b.st_dev);

	REGISTER(":bmtest_share:E::bmtestshare::/bin/sh:");
	EXPECT_FILE(e2, want);

	EXPECT_EQ(1, write_str(st2, "0"));
	EXPECT_FILE(self->status, "disabled\n");
	EXPECT_EQ(1, write_str(self->status, "1"));
	EXPECT_FILE(st2, "enabled\n");

	EXPECT_EQ(2, write_str(e2, "-1"));
	EXPECT_ABSENT(e1);

	EXPECT_EQ(0, umount2(mnt2, 0)) TH_LOG("umount %s: %s", mnt2, strerror(errno));
	/* The first mount is unaffected by the second going away. */
	EXPECT_FILE(self->status, "enabled\n");
}

/*
 * An unprivileged user (nobody) creates a user + mount namespace, mounts its
 * own binfmt_misc instance and registers a handler there.
 */
static void userns_mount_child(const char *dir, const char *script)
{
	char path[PATH_MAX], buf[512], want[PATH_MAX + 64];
	const char *reg = ":bmtest_uns:E::bmtestuns::/bin/sh:";
	ssize_t n;
	int ret;

	child_enter_userns(true, CLONE_NEWNS);
	ret = mount_binfmt_misc(dir);
	if (ret)
		CHILD_FAIL("mount binfmt_misc in userns: %s", strerror(-ret));
	n = read_file(pjoin(path, dir, "status"), buf, sizeof(buf));
	if (n < 0 || strcmp(buf, "enabled\n"))
		CHILD_FAIL("status: %zd '%s'", n, n < 0 ? strerror(-n) : buf);
	n = write_str(pjoin(path, dir, "register"), reg);
	if (n != (ssize_t)strlen(reg))
		CHILD_FAIL("register: %zd %s", n, n < 0 ? strerror(-n) : "");
	n = read_file(pjoin(path, dir, "bmtest_uns"), buf, sizeof(buf));
	if (n < 0 || strcmp(buf, "enabled\ninterpreter /bin/sh\nflags: \nextension .bmtestuns\n"))
		CHILD_FAIL("entry: %zd '%s'", n, n < 0 ? strerror(-n) : buf);
	CHILD_EXEC(script, 0, ran(want, sizeof(want), script, "arg1"));
	_exit(0);
}

TEST_F(bm, userns_unprivileged_mount)
{
	char dir[PATH_MAX], script[PATH_MAX], path[PATH_MAX];
	pid_t pid;
	int code;

	ASSERT_NE(NULL, pjoin(dir, self->tmp, "uns_mnt"));
	ASSERT_EQ(0, mkdir(dir, 0777));
	ASSERT_EQ(0, chmod(dir, 0777));
	MAKE_SCRIPT(script, "uns.bmtestuns", SCRIPT_BODY);
	EXPECT_EXEC_ERR(script, ENOEXEC);

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		userns_mount_child(dir, script);
	code = wait_exit(pid);
	if (code == KSFT_SKIP)
		SKIP(return, "cannot create an unprivileged user namespace");
	EXPECT_EQ(0, code);

	/* The handler lived in the child's instance only. */
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_uns"));
	EXPECT_ABSENT(path);
	EXPECT_EXEC_ERR(script, ENOEXEC);
	EXPECT_FILE(self->status, "enabled\n");
}

/* Exec script from a new user namespace that has no binfmt_misc mount. */
static void userns_exec_child(const char *script, int want_errno)
{
	char want[PATH_MAX + 64];

	child_enter_userns(false, 0);
	CHILD_EXEC(script, want_errno, ran(want, sizeof(want), script, "arg1"));
	_exit(0);
}

TEST_F(bm, userns_inherits_parent_handlers)
{
	char script[PATH_MAX], entry[PATH_MAX];
	pid_t pid;
	int code;

	MAKE_SCRIPT(script, "inh.bmtestinh", SCRIPT_BODY);
	REGISTER(":bmtest_inh:E::bmtestinh::/bin/sh:");
	ASSERT_NE(NULL, pjoin(entry, self->mnt, "bmtest_inh"));

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		userns_exec_child(script, 0);
	code = wait_exit(pid);
	if (code == KSFT_SKIP)
		SKIP(return, "cannot create a user namespace");
	EXPECT_EQ(0, code) TH_LOG("handler not used from the child user namespace");

	/* Once removed, the child namespace loses it too. */
	EXPECT_EQ(2, write_str(entry, "-1"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		userns_exec_child(script, ENOEXEC);
	EXPECT_EQ(0, wait_exit(pid));
}

/*
 * Once a user namespace has its own instance, exec looks only there: the
 * parent's handlers stop applying, also while the instance is disabled or
 * unmounted.  A fresh mount after the last umount starts empty and enabled.
 */
static void userns_shadow_child(const char *dir, const char *script)
{
	char path[PATH_MAX], buf[512], want[PATH_MAX + 64];
	const char *reg = ":bmtest_shd_child:E::bmtestshd::/bin/sh:";
	ssize_t n;
	int ret;

	child_enter_userns(true, CLONE_NEWNS);
	/* No instance of its own yet: the init namespace's handler applies. */
	CHILD_EXEC(script, 0, ran(want, sizeof(want), script, "arg1"));

	ret = mount_binfmt_misc(dir);
	if (ret)
		CHILD_FAIL("mount binfmt_misc in userns: %s", strerror(-ret));
	CHILD_EXEC(script, ENOEXEC, NULL);
	if (!access(pjoin(path, dir, "bmtest_shadow"), F_OK))
		CHILD_FAIL("parent's entry visible in the child's instance");

	n = write_str(pjoin(path, dir, "register"), reg);
	if (n != (ssize_t)strlen(reg))
		CHILD_FAIL("register: %zd %s", n, n < 0 ? strerror(-n) : "");
	CHILD_EXEC(script, 0, ran(want, sizeof(want), script, "arg1"));

	/* Disabled instance: no fallback to the parent's. */
	n = write_str(pjoin(path, dir, "status"), "0");
	if (n != 1)
		CHILD_FAIL("status <- 0: %zd", n);
	CHILD_EXEC(script, ENOEXEC, NULL);

	if (umount2(dir, 0))
		CHILD_FAIL("umount: %s", strerror(errno));
	CHILD_EXEC(script, ENOEXEC, NULL);

	ret = mount_binfmt_misc(dir);
	if (ret)
		CHILD_FAIL("second mount in userns: %s", strerror(-ret));
	n = read_file(pjoin(path, dir, "status"), buf, sizeof(buf));
	if (n < 0 || strcmp(buf, "enabled\n"))
		CHILD_FAIL("status after remount: %zd '%s'", n, n < 0 ? strerror(-n) : buf);
	if (!access(pjoin(path, dir, "bmtest_shd_child"), F_OK))
		CHILD_FAIL("entry survived the last umount");
	CHILD_EXEC(script, ENOEXEC, NULL);
	_exit(0);
}

TEST_F(bm, userns_own_instance_shadows_parent)
{
	char dir[PATH_MAX], script[PATH_MAX], path[PATH_MAX], want[PATH_MAX + 64];
	pid_t pid;
	int code;

	ASSERT_NE(NULL, pjoin(dir, self->tmp, "shd_mnt"));
	ASSERT_EQ(0, mkdir(dir, 0777));
	ASSERT_EQ(0, chmod(dir, 0777));
	MAKE_SCRIPT(script, "shd.bmtestshd", SCRIPT_BODY);
	REGISTER(":bmtest_shadow:E::bmtestshd::/bin/sh:");

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		userns_shadow_child(dir, script);
	code = wait_exit(pid);
	if (code == KSFT_SKIP)
		SKIP(return, "cannot create an unprivileged user namespace");
	EXPECT_EQ(0, code);

	/* Nothing the child did reached the init namespace's instance. */
	EXPECT_FILE(self->status, "enabled\n");
	ASSERT_NE(NULL, pjoin(path, self->mnt, "bmtest_shd_child"));
	EXPECT_ABSENT(path);
	EXPECT_EXEC_OK(script, script, ran(want, sizeof(want), script, "arg1"));
}

/*
 * How many more user namespaces uid 0 can create now (at most `most`):
 * children unshare one each and hold it until one fails (ENOSPC at the
 * limit), then all are released.
 */
static int userns_headroom(int most)
{
	pid_t pids[64];
	int hold[2], forked = 0, created = 0;

	if (most > 64 || pipe(hold))
		return -1;
	while (forked < most) {
		int rep[2];
		char c = 0;

		if (pipe(rep))
			break;
		pids[forked] = fork();
		if (pids[forked] == 0) {
			close(hold[1]);
			close(rep[0]);
			c = unshare(CLONE_NEWUSER) ? 'n' : 'y';
			if (write(rep[1], &c, 1) == 1 && c == 'y')
				(void)!read(hold[0], &c, 1); /* hold it until released */
			_exit(0);
		}
		close(rep[1]);
		if (pids[forked] < 0) {
			close(rep[0]);
			break;
		}
		forked++;
		if (read(rep[0], &c, 1) != 1 || c != 'y') {
			close(rep[0]);
			break;
		}
		close(rep[0]);
		created++;
	}
	close(hold[0]);
	close(hold[1]);
	while (forked--)
		wait_exit(pids[forked]);
	return created;
}

/*
 * A user namespace that mounted binfmt_misc is freed once its last user is
 * gone, also after an unmount: nothing keeps it (or its ucount) alive. The
 * C module frees the instance with the namespace; a module that kept the
 * namespace referenced shows here as one namespace less of headroom.
 */
TEST_F_TIMEOUT(bm, userns_freed_after_last_user, 120)
{
	const char *limit = "/proc/sys/user/max_user_namespaces";
	char dir[PATH_MAX], saved[64];
	int before = -1, prev = -2, after = -1, tries;
	pid_t pid;

	ASSERT_NE(NULL, pjoin(dir, self->tmp, "free_mnt"));
	ASSERT_EQ(0, mkdir(dir, 0777));
	ASSERT_LT(0, read_file(limit, saved, sizeof(saved)));
	ASSERT_LT(0, write_str(limit, "16"));

	/* Namespaces of earlier tests are freed from a work item: settle first. */
	for (tries = 0; tries < 50 && before != prev; tries++) {
		prev = before;
		usleep(100000);
		before = userns_headroom(20);
	}
	EXPECT_LT(0, before);

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Stay uid 0: the limit counts namespaces per creating user. */
		child_enter_userns(false, CLONE_NEWNS);
		if (mount_binfmt_misc(dir))
			CHILD_FAIL("mount: %s", strerror(errno));
		if (umount2(dir, 0))
			CHILD_FAIL("umount: %s", strerror(errno));
		_exit(0);
	}
	EXPECT_EQ(0, wait_exit(pid));

	/* Give the namespace's release time, not forever. */
	for (tries = 0; tries < 100; tries++) {
		after = userns_headroom(20);
		if (after >= before)
			break;
		usleep(200000);
	}
	EXPECT_LE(before, after) TH_LOG("a user namespace stayed alive after its last user");
	EXPECT_LT(0, write_str(limit, saved));
}

TEST_HARNESS_MAIN
