#!/bin/bash
# Runs inside the demo guest: loads binfmt_misc_rs, then, as an unprivileged user
# in a user namespace of its own, mounts binfmt_misc, registers a handler and runs
# a file through it.
set -eu
module_ko=$1

insmod "$module_ko"
echo "== loaded: $(grep binfmt_misc /proc/filesystems | tr '\t' ' ')"

dir=$(mktemp -d /tmp/bmrs-demo.XXXXXX)
chmod 755 "$dir"
mkdir -m 777 "$dir/mnt"
# No #! line: only a binfmt_misc handler can make this file run. Shells and
# execvp() run such a file with /bin/sh themselves when exec fails, so the demo
# calls execve() directly, through Python's os.execv().
exec_direct='import os, sys; os.execv(sys.argv[1], sys.argv[1:])'
printf 'echo "hello from $0, run by /bin/sh: uid $(id -u) here, $(awk "{print \$2}" /proc/self/uid_map) outside"\n' >"$dir/hello.demo"
chmod 755 "$dir/hello.demo"

echo "== as uid 65534 in a new user namespace: mount, register, exec"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare --user --map-root-user --mount sh -eu -c '
	dir=$1
	mount -t binfmt_misc binfmt_misc "$dir/mnt"
	echo "status: $(cat "$dir/mnt/status")"
	echo ":demo:E::demo::/bin/sh:" >"$dir/mnt/register"
	echo "--- $dir/mnt/demo:"
	cat "$dir/mnt/demo"
	echo "---"
	/usr/bin/python3 -c "$2" "$dir/hello.demo"
	echo -1 >"$dir/mnt/demo"
	umount "$dir/mnt"
' sh "$dir" "$exec_direct"

echo "== back in the initial namespace, the handler is not there:"
/usr/bin/python3 -c "$exec_direct" "$dir/hello.demo" 2>&1 | tail -n 1 || true
rmmod binfmt_misc_rs
echo "== unloaded"
