// SPDX-License-Identifier: GPL-2.0
/*
 * Shared by the selftests that load bpf handlers (binfmt_misc_bpf_test and
 * binfmt_misc_stress_test): what libbpf says, kept for their failure reports.
 * Include it after common.h; like it, it is not a library.
 */
#ifndef BMTEST_BPF_COMMON_H
#define BMTEST_BPF_COMMON_H

#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

/* libbpf's messages since the last bpf_log_reset(), up to the buffer's size. */
static char bpf_log[32768];
static size_t bpf_log_len;

/* The libbpf_set_print() callback: keeps all but the debug messages. */
static int bpf_log_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG || bpf_log_len + 1 >= sizeof(bpf_log))
		return 0;
	n = vsnprintf(bpf_log + bpf_log_len, sizeof(bpf_log) - bpf_log_len, fmt, ap);
	if (n > 0)
		bpf_log_len += n;
	if (bpf_log_len >= sizeof(bpf_log))
		bpf_log_len = sizeof(bpf_log) - 1;
	return 0;
}

/* Forgets what was said: the next report shows only what follows. */
static void bpf_log_reset(void)
{
	bpf_log_len = 0;
	bpf_log[0] = '\0';
}

/* The last 3000 characters of what libbpf said. */
static const char *bpf_log_tail(void)
{
	return bpf_log_len > 3000 ? bpf_log + bpf_log_len - 3000 : bpf_log;
}

#endif /* BMTEST_BPF_COMMON_H */
