/* replay.c — a main for the fuzz targets without libFuzzer: runs the target
 * once on each file named, so the test suite (and `make asan`) replays
 * every seed corpus and every input a fuzzing run kept. */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t cap = 1 << 16, n = 0, got;
		unsigned char *buf = malloc(cap);
		while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
			if ((n += got) == cap)
				buf = realloc(buf, cap *= 2);
		fclose(f);
		if (!buf)
			return 1;
		LLVMFuzzerTestOneInput(buf, n);
		free(buf);
	}
	return 0;
}
