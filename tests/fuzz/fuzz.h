/* fuzz.h — shared by the libFuzzer targets: bytes as a file path.
 * The readers take paths (they open, sniff gzip, name the file in errors),
 * so bytes go to a reused memfd and are read back through /proc/self/fd/N,
 * which opens it afresh at offset 0. Slot 0 holds the fuzz input, slot 1
 * what a target wrote back for a round trip. */
#ifndef AX_FUZZ_H
#define AX_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *fuzz_path(int slot, const void *data, size_t n)
{
	static int fd[2] = {-1, -1};
	static char path[2][64];
	if (fd[slot] < 0) {
		fd[slot] = memfd_create("fuzz", 0);
		if (fd[slot] < 0)
			abort();
		snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
	}
	if (ftruncate(fd[slot], 0) || (n && pwrite(fd[slot], data, n, 0) != (ssize_t)n))
		abort();
	return path[slot];
}

#endif
