/* nwb-fixture PATH [VARIANT] — write the NWB test fixture of
 * tests/unit/nwb_fixture.c (variants listed there; default "good"). Built
 * by tests/cmd/nwb-import.sh with `pkg-config --cflags --libs hdf5`. */
#include <stdio.h>
#include <stdint.h>

#include "../unit/nwb_fixture.c"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: nwb-fixture PATH [VARIANT]\n");
		return 2;
	}
	if (nwbfx_write(argv[1], argc == 3 ? argv[2] : "good")) {
		fprintf(stderr, "nwb-fixture: %s: HDF5 could not write it\n", argv[1]);
		return 1;
	}
	return 0;
}
