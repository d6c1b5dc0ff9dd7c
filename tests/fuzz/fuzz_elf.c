// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: ELF files (symbols, segments, build-id notes). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "symbolizer_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct elf_file *ef;
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ef = elf_file__open(path);
		if (ef) {
			for (size_t i = 0; i < ef->nr_segs; i++)
				elf_file__lookup(ef, ef->segs[i].offset + 1);
			elf_file__lookup(ef, 0);
			elf_file__free(ef);
		}
	}
	close(fd);
	return 0;
}
