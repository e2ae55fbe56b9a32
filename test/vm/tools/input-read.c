// SPDX-License-Identifier: GPL-2.0
/*
 * Reads key presses from an evdev node and prints the text a US keyboard
 * typed with them, so a scenario can compare it with what it typed (evtest
 * may not exist in the guest).
 *
 *   input-read /dev/input/eventN COUNT TIMEOUT_S
 *
 * Prints characters as they arrive (shift and caps lock applied; key repeats
 * ignored) and exits 0 after COUNT characters, 1 when TIMEOUT_S seconds pass
 * without reaching it, 2 on usage or I/O errors. Keys without a character
 * print as <code>.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Plain and shifted character of each key, by Linux key code. */
static const char *const keys[KEY_CNT] = {
	[KEY_1] = "1!", [KEY_2] = "2@", [KEY_3] = "3#", [KEY_4] = "4$", [KEY_5] = "5%",
	[KEY_6] = "6^", [KEY_7] = "7&", [KEY_8] = "8*", [KEY_9] = "9(", [KEY_0] = "0)",
	[KEY_MINUS] = "-_", [KEY_EQUAL] = "=+", [KEY_TAB] = "\t\t",
	[KEY_Q] = "qQ", [KEY_W] = "wW", [KEY_E] = "eE", [KEY_R] = "rR", [KEY_T] = "tT",
	[KEY_Y] = "yY", [KEY_U] = "uU", [KEY_I] = "iI", [KEY_O] = "oO", [KEY_P] = "pP",
	[KEY_LEFTBRACE] = "[{", [KEY_RIGHTBRACE] = "]}", [KEY_ENTER] = "\n\n",
	[KEY_A] = "aA", [KEY_S] = "sS", [KEY_D] = "dD", [KEY_F] = "fF", [KEY_G] = "gG",
	[KEY_H] = "hH", [KEY_J] = "jJ", [KEY_K] = "kK", [KEY_L] = "lL",
	[KEY_SEMICOLON] = ";:", [KEY_APOSTROPHE] = "'\"", [KEY_GRAVE] = "`~",
	[KEY_BACKSLASH] = "\\|", [KEY_Z] = "zZ", [KEY_X] = "xX", [KEY_C] = "cC",
	[KEY_V] = "vV", [KEY_B] = "bB", [KEY_N] = "nN", [KEY_M] = "mM",
	[KEY_COMMA] = ",<", [KEY_DOT] = ".>", [KEY_SLASH] = "/?", [KEY_SPACE] = "  ",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct input_event ev;
	int fd, count, shift = 0, caps = 0, got = 0;
	double deadline;

	if (argc != 4) {
		fprintf(stderr, "usage: %s /dev/input/eventN COUNT TIMEOUT_S\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	count = atoi(argv[2]);
	deadline = now() + atof(argv[3]);
	while (got < count) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - now();
		int n;

		if (left <= 0)
			return 1;
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("poll");
			return 2;
		}
		if (n == 0)
			return 1;
		if (read(fd, &ev, sizeof(ev)) != (ssize_t)sizeof(ev)) {
			perror("read");
			return 2;
		}
		if (ev.type != EV_KEY || ev.code >= KEY_CNT)
			continue;
		if (ev.code == KEY_LEFTSHIFT || ev.code == KEY_RIGHTSHIFT) {
			shift = ev.value != 0;
			continue;
		}
		if (ev.value != 1) /* releases and autorepeat */
			continue;
		if (ev.code == KEY_CAPSLOCK) {
			caps = !caps;
			continue;
		}
		if (keys[ev.code]) {
			int upper = shift;

			if (caps && keys[ev.code][0] >= 'a' && keys[ev.code][0] <= 'z')
				upper = !upper;
			putchar(keys[ev.code][upper]);
		} else {
			printf("<%u>", ev.code);
		}
		fflush(stdout);
		got++;
	}
	return 0;
}
