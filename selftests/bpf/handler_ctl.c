// SPDX-License-Identifier: GPL-2.0
/*
 * Registers the binfmt_misc_ops handlers of a BPF object and keeps them
 * registered after it exits, for the demo and for people trying 'B' entries:
 * bpftool 7.5 registers a module's struct_ops but then crashes printing it
 * (it looks the type up in vmlinux's BTF only).
 *
 *   handler_ctl register OBJ.bpf.o PIN_DIR
 *
 * Each struct_ops map of OBJ is registered; a SEC(".struct_ops.link") map's link
 * is pinned as PIN_DIR/<map name> (a bpffs directory): `rm` of the pin
 * unregisters the handler. A SEC(".struct_ops") map stays registered until the
 * map is deleted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_map *map;
	char pin[4096];
	int err, n = 0;

	if (argc != 4 || strcmp(argv[1], "register")) {
		fprintf(stderr, "usage: %s register OBJ.bpf.o PIN_DIR\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "%s: load: %s\n", argv[2], strerror(-err));
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		struct bpf_link *link;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		link = bpf_map__attach_struct_ops(map);
		if (!link) {
			fprintf(stderr, "%s: register: %s\n", bpf_map__name(map), strerror(errno));
			return 1;
		}
		if (bpf_map__map_flags(map) & BPF_F_LINK) {
			snprintf(pin, sizeof(pin), "%s/%s", argv[3], bpf_map__name(map));
			err = bpf_link__pin(link, pin);
			if (err) {
				fprintf(stderr, "%s: pin %s: %s\n", bpf_map__name(map), pin,
					strerror(-err));
				return 1;
			}
			printf("registered %s (rm %s unregisters it)\n", bpf_map__name(map), pin);
		} else {
			printf("registered %s\n", bpf_map__name(map));
		}
		n++;
	}
	if (!n) {
		fprintf(stderr, "%s: no struct_ops map\n", argv[2]);
		return 1;
	}
	return 0;
}
