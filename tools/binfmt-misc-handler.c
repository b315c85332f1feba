// SPDX-License-Identifier: GPL-2.0
/*
 * binfmt-misc-handler: registers, lists and unregisters the BPF handlers
 * (binfmt_misc_ops struct_ops) that binfmt_misc's 'B' entries name.
 *
 * bpftool cannot do it for a module's struct_ops: it looks the value type up in
 * vmlinux's BTF only (and crashes). This tool finds the type in the BTF of the
 * module that registered it (bpf_map_info.btf_vmlinux_id), so it works whichever
 * module provides binfmt_misc_ops. `help` prints the manual.
 */
#define _GNU_SOURCE /* setns(), CLONE_NEWUSER */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define OPS_TYPE "binfmt_misc_ops"
/* The value type the kernel's struct_ops registration derives from it. */
#define OPS_VALUE_TYPE "bpf_struct_ops_" OPS_TYPE
#define DEFAULT_PIN_DIR "/sys/fs/bpf/binfmt_misc"
/* enum bpf_struct_ops_state, which is not UAPI: a registered plain map. */
#define STRUCT_OPS_STATE_INUSE 1

#define EXIT_USAGE 2

static const char *prog = "binfmt-misc-handler";
static const char *pin_dir = DEFAULT_PIN_DIR;
static const char *userns;
static bool quiet, verbose;

static const char manual[] =
"NAME\n"
"    binfmt-misc-handler - register, list and unregister BPF binfmt_misc handlers\n"
"\n"
"SYNOPSIS\n"
"    binfmt-misc-handler register OBJ.bpf.o [--userns PID|PATH] [--pin-dir DIR]\n"
"    binfmt-misc-handler list [-q] [--pin-dir DIR]\n"
"    binfmt-misc-handler unregister NAME [--pin-dir DIR]\n"
"    binfmt-misc-handler help | --help\n"
"\n"
"DESCRIPTION\n"
"    A binfmt_misc 'B' entry (\":name:B::::HANDLER:flags\") runs the BPF handler\n"
"    named HANDLER: a struct_ops map of type binfmt_misc_ops, whose `name` member\n"
"    is the handler's name. This tool loads such handlers from a compiled BPF\n"
"    object, keeps them registered after it exits by pinning them in bpffs, shows\n"
"    which are registered, and unregisters them. Handlers are registered in the\n"
"    caller's user namespace. It needs CAP_SYS_ADMIN (run it as root), and\n"
"    bpffs mounted (mount -t bpf bpf /sys/fs/bpf) to register.\n"
"\n"
"    An entry keeps running its handler after the handler is unregistered,\n"
"    until the entry itself is removed; new 'B' entries cannot name it any more.\n"
"\n"
"COMMANDS\n"
"    register OBJ.bpf.o\n"
"        Loads OBJ and registers every struct_ops map of type binfmt_misc_ops in\n"
"        it (maps of other struct_ops types are left out, with a warning). A\n"
"        SEC(\".struct_ops.link\") map is registered through a BPF link, pinned\n"
"        as DIR/NAME: removing that pin (rm) unregisters the handler once nothing\n"
"        else holds the link. A plain SEC(\".struct_ops\") map is registered by\n"
"        itself and stays registered until `unregister` (or anything else)\n"
"        deletes its element, even if its pin, DIR/NAME as well, is removed.\n"
"        DIR is created if missing. Prints one line per handler:\n"
"            registered NAME map MAP_ID link LINK_ID|- pin PATH\n"
"        If one of the handlers cannot be registered, those registered before it\n"
"        are unregistered again.\n"
"        With --userns, the handlers are registered in that user namespace\n"
"        instead of the caller's: the object is loaded first, with the caller's\n"
"        privileges, then the tool joins the namespace (setns(2)) and registers\n"
"        them there, where that namespace's binfmt_misc instances can name them.\n"
"        This is how a sandbox without privileges gets a handler. Pins are\n"
"        DIR/NAME whatever the namespace: handlers of one name for two\n"
"        namespaces need a --pin-dir each.\n"
"\n"
"    list\n"
"        Prints the binfmt_misc_ops handlers registered in the kernel, one per\n"
"        line, as whitespace-separated columns after a header line:\n"
"            NAME MAP_ID LINK_ID PIN\n"
"        LINK_ID is - for a plain map, PIN is - unless a pin of the handler's\n"
"        link (or plain map) is in DIR. Prints nothing when none is registered.\n"
"\n"
"    unregister NAME\n"
"        Unregisters handler NAME at once: removes its pin DIR/NAME and detaches\n"
"        its link (BPF_LINK_DETACH), so that handles on the link held elsewhere\n"
"        do not keep it registered; for a plain map, deletes its element. A\n"
"        handler registered without a pin in DIR is found by name in the kernel.\n"
"\n"
"    help\n"
"        Prints this manual.\n"
"\n"
"OPTIONS\n"
"    -u, --userns PID|PATH\n"
"        register: the user namespace to register in, as a process in it\n"
"        (/proc/PID/ns/user) or a namespace file.\n"
"    -d, --pin-dir DIR\n"
"        The bpffs directory of the pins (default " DEFAULT_PIN_DIR ").\n"
"    -q, --quiet\n"
"        list: no header line.\n"
"    -v, --verbose\n"
"        libbpf's informational messages too (the verifier's log on failures).\n"
"    -h, --help\n"
"        Prints this manual.\n"
"\n"
"EXIT STATUS\n"
"    0 success, 1 failure (the reason on standard error), 2 bad usage.\n"
"\n"
"EXAMPLES\n"
"    mount -t bpf bpf /sys/fs/bpf     # unless mounted already\n"
"    binfmt-misc-handler register demo_foreign.bpf.o\n"
"    echo ':foreign:B::::demo_foreign:' >/proc/sys/fs/binfmt_misc/register\n"
"    binfmt-misc-handler list\n"
"    echo -1 >/proc/sys/fs/binfmt_misc/foreign\n"
"    binfmt-misc-handler unregister demo_foreign\n"
"\n"
"SEE ALSO\n"
"    bpftool(8), bpf(2), the kernel's Documentation/admin-guide/binfmt-misc.rst,\n"
"    README.md and DESIGN.md of binfmt_misc_rs.\n";

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage(const char *why)
{
	err("%s", why);
	fprintf(stderr, "usage: %s register OBJ.bpf.o [--userns PID|PATH] | list [-q] | unregister NAME | help"
		" [--pin-dir DIR]\n", prog);
	return EXIT_USAGE;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !verbose))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* libbpf's calls return -errno or set errno; this says which as text. */
static const char *errstr(int ret)
{
	return strerror(ret < 0 ? -ret : errno);
}

static const char *perm_hint(int e)
{
	return e == EPERM || e == EACCES ? " (needs CAP_SYS_ADMIN: run as root)" : "";
}

/*
 * The byte offset of member NAME in struct TYPE_ID, and the member's type with
 * modifiers and typedefs skipped. Bitfields are not expected here.
 */
static int find_member(const struct btf *btf, __u32 type_id, const char *name,
		       __u32 *off, __u32 *member_type)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, type_id));
	const struct btf_member *m;
	int i;

	if (!t || !btf_is_struct(t))
		return -EINVAL;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), name))
			continue;
		*off = btf_member_bit_offset(t, i) / 8;
		*member_type = btf__resolve_type(btf, m->type);
		return 0;
	}
	return -ENOENT;
}

/* Where the `name` member of struct binfmt_misc_ops is, and its size. */
static int ops_name_member(const struct btf *btf, __u32 ops_type, __u32 *off, __u32 *size)
{
	const struct btf_type *t;
	__u32 type;
	int ret;

	ret = find_member(btf, ops_type, "name", off, &type);
	if (ret)
		return ret;
	t = btf__type_by_id(btf, type);
	if (!t || !btf_is_array(t))
		return -EINVAL;
	*size = btf_array(t)->nelems;
	return 0;
}

/* Copies a NUL-terminated name of at most SIZE bytes at DATA, or fails. */
static int copy_name(char *out, size_t out_size, const char *data, __u32 size)
{
	size_t len = strnlen(data, size);

	if (len == size || len >= out_size || !len)
		return -EINVAL;
	memcpy(out, data, len);
	out[len] = 0;
	return 0;
}

static int pin_path(char *out, size_t size, const char *name)
{
	if ((size_t)snprintf(out, size, "%s/%s", pin_dir, name) >= size) {
		err("%s/%s: path too long", pin_dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * Checks that DIR (or, while it does not exist, its nearest existing ancestor)
 * is on bpffs, then creates the missing directories.
 */
static int prepare_pin_dir(void)
{
	char path[PATH_MAX], *slash;
	struct statfs st;
	size_t len;

	if (strlen(pin_dir) >= sizeof(path)) {
		err("%s: path too long", pin_dir);
		return -1;
	}
	strcpy(path, pin_dir);
	while (statfs(path, &st)) {
		if (errno != ENOENT || !(slash = strrchr(path, '/')) || slash == path) {
			err("%s: %s", path, strerror(errno));
			return -1;
		}
		*slash = 0;
	}
	if (st.f_type != BPF_FS_MAGIC) {
		err("%s is not on bpffs (mount it first: mount -t bpf bpf /sys/fs/bpf)", path);
		return -1;
	}
	/* Create each missing component, from the existing ancestor on. */
	len = strlen(path);
	while (len < strlen(pin_dir)) {
		slash = strchr(pin_dir + len + 1, '/');
		len = slash ? (size_t)(slash - pin_dir) : strlen(pin_dir);
		memcpy(path, pin_dir, len);
		path[len] = 0;
		if (mkdir(path, 0700) && errno != EEXIST) {
			err("mkdir %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- register */

struct registered {
	char name[BPF_OBJ_NAME_LEN];
	char pin[PATH_MAX];
	struct bpf_link *link;
	bool plain;
};

static void unregister_loaded(struct registered *r)
{
	unlink(r->pin);
	/* A plain map's libbpf "link" deletes its element: that unregisters it too. */
	bpf_link__destroy(r->link);
}

static int join_userns(const char *ns)
{
	struct stat target, self;
	char path[PATH_MAX];
	int fd;

	if (ns[strspn(ns, "0123456789")] == '\0')
		snprintf(path, sizeof(path), "/proc/%s/ns/user", ns);
	else if ((size_t)snprintf(path, sizeof(path), "%s", ns) >= sizeof(path)) {
		err("%s: path too long", ns);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err("--userns %s: %s", path, strerror(errno));
		return -1;
	}
	/* setns() into one's own user namespace is EINVAL; there is nothing to do. */
	if (!fstat(fd, &target) && !stat("/proc/self/ns/user", &self) &&
	    target.st_dev == self.st_dev && target.st_ino == self.st_ino) {
		close(fd);
		return 0;
	}
	if (setns(fd, CLONE_NEWUSER)) {
		err("--userns %s: joining it: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int cmd_register(const char *file)
{
	struct registered *done = NULL;
	struct bpf_object *obj;
	struct bpf_map *map;
	const struct btf *btf;
	int n = 0, nmaps = 0, ret, i;

	obj = bpf_object__open_file(file, NULL);
	if (!obj) {
		err("%s: %s", file, strerror(errno));
		return 1;
	}
	btf = bpf_object__btf(obj);
	bpf_object__for_each_map(map, obj) {
		const struct btf_type *t;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		t = btf ? btf__type_by_id(btf, btf__resolve_type(btf, bpf_map__btf_value_type_id(map))) : NULL;
		if (!t || strcmp(btf__name_by_offset(btf, t->name_off), OPS_TYPE)) {
			err("%s: map %s is not a struct " OPS_TYPE ": left out", file,
			    bpf_map__name(map));
			bpf_map__set_autocreate(map, false);
			continue;
		}
		nmaps++;
	}
	if (!nmaps) {
		err("%s: no struct_ops map of type " OPS_TYPE, file);
		goto fail;
	}
	done = calloc(nmaps, sizeof(*done));
	if (!done) {
		err("%s", strerror(errno));
		goto fail;
	}
	/* Before loading: the name is in the object's copy of the value. */
	bpf_object__for_each_map(map, obj) {
		struct registered *r = &done[n];
		__u32 off, size;
		size_t vsize;
		const char *data;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS || !bpf_map__autocreate(map))
			continue;
		data = bpf_map__initial_value(map, &vsize);
		if (ops_name_member(btf, bpf_map__btf_value_type_id(map), &off, &size) ||
		    !data || off + size > vsize ||
		    copy_name(r->name, sizeof(r->name), data + off, size)) {
			err("%s: map %s: no valid handler name (struct " OPS_TYPE "'s `name`)",
			    file, bpf_map__name(map));
			goto fail;
		}
		if (pin_path(r->pin, sizeof(r->pin), r->name))
			goto fail;
		r->plain = !(bpf_map__map_flags(map) & BPF_F_LINK);
		n++;
	}
	if (prepare_pin_dir())
		goto fail;
	for (i = 0; i < n; i++) {
		if (!access(done[i].pin, F_OK)) {
			err("%s exists: a handler %s is registered already (or its pin is stale:"
			    " `%s unregister %s`)", done[i].pin, done[i].name, prog, done[i].name);
			goto fail;
		}
	}
	ret = bpf_object__load(obj);
	if (ret) {
		err("%s: load: %s%s%s", file, errstr(ret), perm_hint(-ret),
		    verbose ? "" : " (-v shows the verifier's log)");
		goto fail;
	}
	/*
	 * Loading needs privileges in the initial user namespace; registering
	 * needs none, and the module files a handler under the registering
	 * task's user namespace. So join the target namespace only now.
	 */
	if (userns && join_userns(userns))
		goto fail;

	i = 0;
	bpf_object__for_each_map(map, obj) {
		struct registered *r = &done[i];
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		struct bpf_link_info linfo = {};
		__u32 llen = sizeof(linfo);

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS || !bpf_map__autocreate(map))
			continue;
		r->link = bpf_map__attach_struct_ops(map);
		if (!r->link) {
			ret = -errno;
			err("register %s: %s%s", r->name, strerror(-ret),
			    ret == -EEXIST ? " (a handler of that name is registered already)" : "");
			goto unwind;
		}
		ret = r->plain ? bpf_map__pin(map, r->pin) : bpf_link__pin(r->link, r->pin);
		if (ret) {
			err("pin %s: %s", r->pin, errstr(ret));
			/* Not ours to unlink: another may have pinned that name since. */
			bpf_link__destroy(r->link);
			goto unwind;
		}
		i++;
		bpf_map_get_info_by_fd(bpf_map__fd(map), &info, &len);
		if (r->plain) {
			printf("registered %s map %u link - pin %s\n", r->name, info.id, r->pin);
		} else {
			bpf_link_get_info_by_fd(bpf_link__fd(r->link), &linfo, &llen);
			printf("registered %s map %u link %u pin %s\n", r->name, info.id, linfo.id,
			       r->pin);
		}
	}
	/*
	 * Exit without closing anything: the pins and, for plain maps, the
	 * registration itself keep the handlers.
	 */
	fflush(stdout);
	return 0;

unwind:
	while (i-- > 0)
		unregister_loaded(&done[i]);
fail:
	free(done);
	bpf_object__close(obj);
	return 1;
}

/* ------------------------------------------------------------- kernel walk */

struct handler {
	char name[BPF_OBJ_NAME_LEN];
	__u32 map_id, link_id;
	bool plain;
	char pin[PATH_MAX];
};

struct handlers {
	struct handler *v;
	size_t n;
};

/* A struct_ops map's module BTF, kept by BTF object id. */
struct btf_cache {
	struct btf *vmlinux;
	__u32 ids[16];
	struct btf *btfs[16];
	size_t n;
};

static struct btf *module_btf(struct btf_cache *c, __u32 id)
{
	struct btf *btf;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->ids[i] == id)
			return c->btfs[i];
	if (!c->vmlinux) {
		c->vmlinux = btf__load_vmlinux_btf();
		if (!c->vmlinux)
			return NULL;
	}
	btf = btf__load_from_kernel_by_id_split(id, c->vmlinux);
	if (!btf)
		return NULL;
	if (c->n == sizeof(c->ids) / sizeof(c->ids[0])) {
		/* Beyond what any kernel has: no caching for the rest, just leak. */
		return btf;
	}
	c->ids[c->n] = id;
	c->btfs[c->n++] = btf;
	return btf;
}

static void btf_cache_free(struct btf_cache *c)
{
	while (c->n)
		btf__free(c->btfs[--c->n]);
	btf__free(c->vmlinux);
}

/*
 * If map FD is a binfmt_misc_ops struct_ops map, its handler's name (from the
 * value the kernel keeps) and whether it is registered by itself (a plain map in
 * use): 1; 0 for another map.
 */
static int ops_map(int fd, struct btf_cache *cache, char *name, size_t name_size,
		   bool *plain, bool *inuse)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), data_off, data_type, common_off, common_type, state_off,
	      state_type, name_off, name_size_btf;
	const struct btf_type *t;
	struct btf *btf;
	char *value;
	int ret, key = 0;
	__u32 state;

	if (bpf_map_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_STRUCT_OPS || !info.btf_vmlinux_id)
		return 0;
	btf = module_btf(cache, info.btf_vmlinux_id);
	if (!btf)
		return -errno;
	t = btf__type_by_id(btf, info.btf_vmlinux_value_type_id);
	if (!t || strcmp(btf__name_by_offset(btf, t->name_off), OPS_VALUE_TYPE))
		return 0;
	if (find_member(btf, info.btf_vmlinux_value_type_id, "data", &data_off, &data_type) ||
	    find_member(btf, info.btf_vmlinux_value_type_id, "common", &common_off,
			&common_type) ||
	    find_member(btf, common_type, "state", &state_off, &state_type) ||
	    ops_name_member(btf, data_type, &name_off, &name_size_btf) ||
	    data_off + name_off + name_size_btf > info.value_size ||
	    common_off + state_off + sizeof(state) > info.value_size)
		return -EINVAL;
	value = calloc(1, info.value_size);
	if (!value)
		return -errno;
	ret = bpf_map_lookup_elem(fd, &key, value) ? -errno : 0;
	if (!ret) {
		memcpy(&state, value + common_off + state_off, sizeof(state));
		*plain = !(info.map_flags & BPF_F_LINK);
		*inuse = state == STRUCT_OPS_STATE_INUSE;
		ret = copy_name(name, name_size, value + data_off + name_off, name_size_btf);
		/* A map not updated yet has no name: not a handler either. */
		ret = ret ? 0 : 1;
	}
	free(value);
	return ret;
}

/* Whether FD is a bpf link (or else a map), by the anon inode's name. */
static int fd_kind(int fd, bool *is_link)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	/* bpf_link_prime() names it bpf_link, bpf_link_new_fd() bpf-link. */
	*is_link = !strcmp(target, "anon_inode:bpf_link") || !strcmp(target, "anon_inode:bpf-link");
	if (!*is_link && strcmp(target, "anon_inode:bpf-map"))
		return -EINVAL;
	return 0;
}

/* The id of the link or map pinned at PATH. */
static int pinned_id(const char *path, bool *is_link, __u32 *id)
{
	int fd = bpf_obj_get(path), ret;

	if (fd < 0)
		return -errno;
	ret = fd_kind(fd, is_link);
	if (!ret && *is_link) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		ret = bpf_link_get_info_by_fd(fd, &info, &len) ? -errno : 0;
		*id = info.id;
	} else if (!ret) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		ret = bpf_map_get_info_by_fd(fd, &info, &len) ? -errno : 0;
		*id = info.id;
	}
	close(fd);
	return ret;
}

/* Finds each handler's pin among DIR's entries (a pin of its link or plain map). */
static void find_pins(struct handlers *hs)
{
	struct dirent *de;
	DIR *dir = opendir(pin_dir);
	char path[PATH_MAX];
	size_t i;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		bool is_link = false;
		__u32 id = 0;

		if (de->d_name[0] == '.' || pin_path(path, sizeof(path), de->d_name) ||
		    pinned_id(path, &is_link, &id))
			continue;
		for (i = 0; i < hs->n; i++) {
			struct handler *h = &hs->v[i];

			if (h->pin[0] || (is_link ? h->link_id : (h->plain ? h->map_id : 0)) != id)
				continue;
			snprintf(h->pin, sizeof(h->pin), "%s", path);
		}
	}
	closedir(dir);
}

static int add_handler(struct handlers *hs, const struct handler *h)
{
	struct handler *v = realloc(hs->v, (hs->n + 1) * sizeof(*v));

	if (!v)
		return -errno;
	hs->v = v;
	hs->v[hs->n++] = *h;
	return 0;
}

/*
 * The registered binfmt_misc_ops handlers: each struct_ops link whose map is
 * one, and each plain map in use. Errors are reported here.
 */
static int walk_handlers(struct handlers *hs)
{
	struct btf_cache cache = {};
	__u32 id = 0;
	int ret = 0, fd;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		struct handler h = {};
		bool plain, inuse;

		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			ret = -errno;
			err("link %u: %s%s", id, strerror(-ret), perm_hint(-ret));
			goto out;
		}
		if (bpf_link_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_STRUCT_OPS ||
		    !info.struct_ops.map_id) {
			close(fd);
			continue;
		}
		close(fd);
		fd = bpf_map_get_fd_by_id(info.struct_ops.map_id);
		if (fd < 0)
			continue;
		ret = ops_map(fd, &cache, h.name, sizeof(h.name), &plain, &inuse);
		close(fd);
		if (ret < 0) {
			err("map %u: %s", info.struct_ops.map_id, strerror(-ret));
			goto out;
		}
		if (!ret)
			continue;
		h.map_id = info.struct_ops.map_id;
		h.link_id = info.id;
		ret = add_handler(hs, &h);
		if (ret)
			goto out;
	}
	if (errno != ENOENT) {
		ret = -errno;
		err("listing bpf links: %s%s", strerror(-ret), perm_hint(-ret));
		goto out;
	}
	id = 0;
	while (!bpf_map_get_next_id(id, &id)) {
		struct handler h = {};
		bool plain, inuse;

		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			ret = -errno;
			err("map %u: %s%s", id, strerror(-ret), perm_hint(-ret));
			goto out;
		}
		ret = ops_map(fd, &cache, h.name, sizeof(h.name), &plain, &inuse);
		close(fd);
		if (ret < 0) {
			err("map %u: %s", id, strerror(-ret));
			goto out;
		}
		if (!ret || !plain || !inuse)
			continue;
		h.map_id = id;
		h.plain = true;
		ret = add_handler(hs, &h);
		if (ret)
			goto out;
	}
	if (errno != ENOENT) {
		ret = -errno;
		err("listing bpf maps: %s%s", strerror(-ret), perm_hint(-ret));
		goto out;
	}
	ret = 0;
	find_pins(hs);
out:
	btf_cache_free(&cache);
	return ret;
}

static int cmd_list(void)
{
	struct handlers hs = {};
	size_t i;

	if (walk_handlers(&hs))
		return 1;
	if (hs.n && !quiet)
		printf("NAME MAP_ID LINK_ID PIN\n");
	for (i = 0; i < hs.n; i++) {
		struct handler *h = &hs.v[i];

		printf("%s %u ", h->name, h->map_id);
		if (h->plain)
			printf("-");
		else
			printf("%u", h->link_id);
		printf(" %s\n", h->pin[0] ? h->pin : "-");
	}
	free(hs.v);
	return 0;
}

/* ------------------------------------------------------------- unregister */

/* Unregisters the handler whose link or plain map FD is: at once. */
static int unregister_fd(int fd, bool is_link, const char *name)
{
	int key = 0;

	if (is_link ? bpf_link_detach(fd) : bpf_map_delete_elem(fd, &key)) {
		/* Detached or deleted already by someone else: gone all the same. */
		if (errno == ENOLINK || errno == ENOENT)
			return 0;
		err("unregister %s: %s%s", name, strerror(errno), perm_hint(errno));
		return -1;
	}
	return 0;
}

static int cmd_unregister(const char *name)
{
	struct handlers hs = {};
	char path[PATH_MAX];
	struct handler *found = NULL;
	struct stat st;
	size_t i;
	int fd, ret = 1;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return usage("unregister: NAME is a handler's name, not a path");
	if (pin_path(path, sizeof(path), name))
		return 1;
	if (!lstat(path, &st)) {
		bool is_link;

		fd = bpf_obj_get(path);
		if (fd < 0) {
			err("%s: %s%s", path, strerror(errno), perm_hint(errno));
			return 1;
		}
		if (fd_kind(fd, &is_link)) {
			err("%s: neither a bpf link nor a map", path);
			close(fd);
			return 1;
		}
		/* Detach first: a pin removed before would lose the handler's last handle. */
		if (unregister_fd(fd, is_link, name)) {
			close(fd);
			return 1;
		}
		close(fd);
		if (unlink(path)) {
			err("rm %s: %s", path, strerror(errno));
			return 1;
		}
		printf("unregistered %s (removed %s)\n", name, path);
		return 0;
	}
	if (errno != ENOENT) {
		err("%s: %s", path, strerror(errno));
		return 1;
	}
	/* Not pinned in DIR: registered some other way, look for it by name. */
	if (walk_handlers(&hs))
		return 1;
	for (i = 0; i < hs.n; i++) {
		if (strcmp(hs.v[i].name, name))
			continue;
		if (found) {
			err("%s: more than one handler of that name (in other user namespaces):"
			    " maps %u and %u; none unregistered", name, found->map_id,
			    hs.v[i].map_id);
			goto out;
		}
		found = &hs.v[i];
	}
	if (!found) {
		err("%s: no such handler registered (`%s list` shows them)", name, prog);
		goto out;
	}
	fd = found->plain ? bpf_map_get_fd_by_id(found->map_id) :
			    bpf_link_get_fd_by_id(found->link_id);
	if (fd < 0) {
		/* Gone since the walk. */
		ret = 0;
		goto out;
	}
	if (!unregister_fd(fd, !found->plain, name)) {
		printf("unregistered %s\n", name);
		ret = 0;
	}
	close(fd);
out:
	free(hs.v);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "userns", required_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cmd;
	int c, nargs;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:u:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!optarg[0])
				return usage("--pin-dir: empty directory");
			pin_dir = optarg;
			break;
		case 'u':
			if (!optarg[0])
				return usage("--userns: empty");
			userns = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(manual, stdout);
			return 0;
		case ':':
			return usage("an option needs an argument");
		default:
			return usage("unknown option");
		}
	}
	libbpf_set_print(libbpf_print);
	if (optind >= argc)
		return usage("no command");
	cmd = argv[optind++];
	nargs = argc - optind;
	if (!strcmp(cmd, "help")) {
		if (nargs)
			return usage("help: no arguments");
		fputs(manual, stdout);
		return 0;
	}
	if (!strcmp(cmd, "register")) {
		if (nargs != 1)
			return usage("register: one OBJ.bpf.o");
		return cmd_register(argv[optind]);
	}
	if (userns) {
		return usage("--userns: only for register");
	}
	if (!strcmp(cmd, "list")) {
		if (nargs)
			return usage("list: no arguments");
		return cmd_list();
	}
	if (!strcmp(cmd, "unregister")) {
		if (nargs != 1)
			return usage("unregister: one NAME");
		return cmd_unregister(argv[optind]);
	}
	return usage("unknown command");
}
