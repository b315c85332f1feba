// SPDX-License-Identifier: GPL-2.0
/* The cheapest program to exec, for bench_exec: exits at once. */
int main(void)
{
	return 0;
}
