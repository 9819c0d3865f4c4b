"""The container "runtime shim": builds a container's sandbox and execs its command (stdlib only).

Run by the kubelet as ``python container_init.py run SPEC.json`` (or ``exec SPEC.json``) as root.

``run``: join the pod's netns, unshare mount/PID/UTS/IPC namespaces and fork. The child is PID 1 of
the new PID namespace: it builds a fresh root (an overlay of the host's tree under a writable layer of
its own, see ``RootBuilder``), pivots into it, mounts the volumes, drops to the container's uid/gids
and execs the command. Nothing the pod writes outside its volumes shows up on the host, and nothing
of it survives the container.
The parent stays outside the new PID namespace, writes the child's host PID to ``pid_file`` once the
exec succeeded, forwards signals and exits with the child's status; if the parent is killed, the
child (and so the whole PID namespace) is killed too.

``exec``: enter the namespaces of a running container's PID 1 and run a command there (kubectl exec).
"""

from __future__ import annotations

# Every container start and every exec imports this module first: only what it needs, nothing heavy
# (typing, contextlib and socket cost about as much as the interpreter's own start). But everything
# used after the namespaces are entered and the privileges dropped must be imported here: the stdlib
# may not be readable by the container's uid there (os.execvpe imports warnings when it runs).
import ctypes
import json
import os
import signal
import stat
import sys
import termios
import warnings  # noqa: F401 - for os.execvpe (os.get_exec_path), see above

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: libc through the interpreter's own symbols (dlopen(NULL)): ctypes.util.find_library("c") would run
#: ``ldconfig -p`` at every container start and every exec
_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
OLD_ROOT = "/.oldroot"
#: Top-level dirs that start empty in every container (mode as in an image), whatever the host has there.
FRESH_DIRS = {"tmp": 0o1777, "home": 0o755, "run": 0o755}
#: overlayfs: an upper dir with this xattr hides the lower dir's entries
OPAQUE_XATTR = "trusted.overlay.opaque"
FORWARDED_SIGNALS = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    _check(
        _libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)),
        f"mount {source} on {target} ({fstype})",
    )


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def pivot_root(new_root: str, put_old: str) -> None:
    number = SYS_PIVOT_ROOT[os.uname().machine]
    _check(_libc.syscall(number, _b(new_root), _b(put_old)), "pivot_root")


class RootBuilder:
    """Assembles the container's root file system inside the (already private) mount namespace.

    The root is an overlay: the host's tree is the lower layer (what an image's layers are to a real
    container) and a tmpfs made for this container run is the upper one, so the container may write
    wherever the files' permissions let it (root anywhere), the host never sees it, and the next run
    starts from the "image" again. /tmp, /home and /run start empty (opaque dirs), as an image has
    them; ``hidden`` host dirs (the node's own data dir) are opaque too. /proc is new, /dev and /sys
    are the host's, /dev/shm is fresh.
    """

    def __init__(self, scratch: str) -> None:
        self.scratch = scratch
        self.layer_fs = os.path.join(scratch, "layers")
        self.layers = 0
        #: mount point -> "layer" | "host" | "volume": "host" ones need an overlay before paths are made
        self.kinds: dict[str, str] = {"/": "layer"}

    def build(self, image_layers: list[str], hidden: list[str], image_files: list[dict[str, Any]]) -> None:
        root = os.path.join(self.scratch, "root")
        os.makedirs(root, exist_ok=True)
        os.makedirs(self.layer_fs, exist_ok=True)
        mount("tmpfs", self.layer_fs, "tmpfs", 0, "mode=0700")
        upper, work = self._new_layer()
        _copy_attrs("/", upper)
        for name, mode in FRESH_DIRS.items():
            _opaque(upper, "/" + name, mode)
        for path in hidden:
            if os.path.isdir(path) and path.split("/")[1] not in FRESH_DIRS:
                _opaque(upper, path, None)
        mount("overlay", root, "overlay", 0, f"lowerdir=/,upperdir={upper},workdir={work}")
        mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        for name, writable in (("dev", True), ("sys", False)):
            target = os.path.join(root, name)
            mount("/" + name, target, None, MS_BIND | MS_REC)
            if not writable:
                mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            self.kinds["/" + name] = "host"
        shm = os.path.join(root, "dev", "shm")
        if os.path.isdir(shm):
            mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
        for path in image_layers:  # image files the root overlay cannot show (under /tmp, another fs)
            target = root + path
            os.makedirs(target, exist_ok=True)
            layer_upper, layer_work = self._new_layer()
            _copy_attrs(path, layer_upper)
            mount(
                "overlay",
                target,
                "overlay",
                0,
                f"lowerdir={path},upperdir={layer_upper},workdir={layer_work}",
            )
        for f in image_files:  # files the image has (its /etc/passwd), in the writable layer like any other
            with open(f["source"], "rb") as src, open(root + f["path"], "wb") as dst:
                dst.write(src.read())
            os.chmod(root + f["path"], int(f.get("mode", 0o644)))
        os.makedirs(root + OLD_ROOT, exist_ok=True)
        pivot_root(root, root + OLD_ROOT)
        os.chdir("/")

    def _new_layer(self, prefix: str = "") -> tuple[str, str]:
        """A fresh upper+work dir pair on this container's tmpfs (invisible once the old root is gone);
        ``prefix`` is OLD_ROOT once the root was pivoted."""
        self.layers += 1
        base = prefix + os.path.join(self.layer_fs, str(self.layers))
        os.makedirs(base + "/upper")
        os.makedirs(base + "/work")
        return base + "/upper", base + "/work"

    def _covering(self, path: str) -> tuple[str, str]:
        best = "/"
        for point in self.kinds:
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
                best = point
        return best, self.kinds[best]

    def prepare(self, paths: list[str]) -> None:
        """Overlay, before anything is bind-mounted, each host dir (/dev, /sys) in which one of ``paths``
        must be made: an overlay mounted later would hide every bind already made below it."""
        for path in sorted(paths, key=lambda p: p.rstrip("/").count("/")):
            if not os.path.lexists(path):
                self._writable_parent(path)

    def ensure(self, target: str, is_dir: bool) -> None:
        """Create ``target`` (dir or empty file) without ever writing to the host's file system."""
        if os.path.lexists(target):
            return
        self._writable_parent(target)
        os.makedirs(target if is_dir else os.path.dirname(target), exist_ok=True)
        if not is_dir:
            open(target, "a").close()

    def _writable_parent(self, path: str) -> None:
        """Give the nearest existing dir above ``path`` a layer of its own if it is a host bind."""
        ancestor = os.path.dirname(path)
        while not os.path.isdir(ancestor):
            ancestor = os.path.dirname(ancestor)
        if self._covering(os.path.realpath(ancestor))[1] == "host":
            self._overlay(ancestor)

    def _overlay(self, path: str) -> None:
        upper, work = self._new_layer(OLD_ROOT)
        mount("overlay", path, "overlay", 0, f"lowerdir={path},upperdir={upper},workdir={work}")
        self.kinds[os.path.realpath(path)] = "layer"

    def bind(self, source: str, target: str, readonly: bool) -> None:
        host_source = OLD_ROOT + source
        # like runc, a mount point that is a symlink in the image is followed inside the container's root
        target = os.path.realpath(target)
        self.ensure(target, os.path.isdir(host_source))
        mount(host_source, target, None, MS_BIND | MS_REC)
        if readonly:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        self.kinds[target] = "volume"

    def finish(self) -> None:
        mount(None, OLD_ROOT, None, MS_REC | MS_PRIVATE)
        _check(_libc.umount2(_b(OLD_ROOT), MNT_DETACH), "umount old root")
        os.rmdir(OLD_ROOT)


def _copy_attrs(host_path: str, layer_path: str) -> None:
    """A dir of the upper layer gives the merged dir its owner and mode: take the host's."""
    st = os.stat(host_path)
    os.chown(layer_path, st.st_uid, st.st_gid)
    os.chmod(layer_path, stat.S_IMODE(st.st_mode))


def _opaque(upper: str, path: str, mode: int | None) -> None:
    """Make ``path`` an empty dir in the merged root (an opaque upper dir hides the lower one's
    entries); its parents keep the host's owners and modes."""
    current = upper
    for part in path.strip("/").split("/"):
        host = os.path.join(current[len(upper) :] or "/", part)
        current = os.path.join(current, part)
        if not os.path.isdir(current):
            os.mkdir(current)
            if os.path.isdir(host):
                _copy_attrs(host, current)
    if mode is not None:
        os.chown(current, 0, 0)
        os.chmod(current, mode)
    os.setxattr(current, OPAQUE_XATTR, b"y")


def drop_privileges_and_exec(spec: dict[str, Any]) -> None:
    os.setgroups([int(g) for g in spec.get("groups", [])])
    os.setgid(int(spec["gid"]))
    os.setuid(int(spec["uid"]))
    cwd = spec.get("cwd") or "/"
    os.chdir(cwd)
    argv = spec["argv"]
    if spec.get("exec_path"):
        os.execve(spec["exec_path"], argv, spec["env"])
    try:
        os.execvpe(argv[0], argv, spec["env"])  # searches the container's PATH, like runc exec
    except FileNotFoundError:
        raise OSError(f'exec: "{argv[0]}": executable file not found in $PATH') from None


def _become_tty_leader() -> None:
    os.setsid()
    import fcntl

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _supervise(child: int, ready_fd: int, spec: dict[str, Any]) -> int:
    """Parent side: wait for exec success, publish the child PID, forward signals, relay the status."""
    for sig in FORWARDED_SIGNALS:
        signal.signal(sig, lambda signum, _frame: _forward(child, signum))
    error = b""
    while chunk := os.read(ready_fd, 4096):
        error += chunk
    os.close(ready_fd)
    if error and spec.get("error_file"):
        with open(spec["error_file"], "wb") as fh:
            fh.write(error)
    elif error:  # exec mode: the caller sees the reason on stderr, like "OCI runtime exec failed"
        os.write(2, b"exec failed: " + error + b"\n")
    elif spec.get("pid_file"):
        tmp = spec["pid_file"] + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(child))
        os.replace(tmp, spec["pid_file"])
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if error and not spec.get("error_file"):
        return 126
    return os.WEXITSTATUS(status)


def _forward(child: int, signum: int) -> None:
    try:  # noqa: SIM105 - contextlib is not imported here (start-up cost)
        os.kill(child, signum)
    except ProcessLookupError:
        pass


def _report_and_exit(write_fd: int, exc: BaseException) -> None:
    try:
        os.write(write_fd, str(exc).encode() or type(exc).__name__.encode())
    finally:
        os._exit(128)


def run(spec: dict[str, Any]) -> int:
    with open(spec["netns"]) as netns:
        setns(netns.fileno(), CLONE_NEWNET)
    # The mount namespace is unshared by the child only: pivot_root would move the parent's root too.
    unshare(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC)
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child:
        os.close(write_fd)
        return _supervise(child, read_fd, spec)
    os.close(read_fd)
    try:
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        unshare(CLONE_NEWNS)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        hostname = spec["hostname"].encode()
        _check(_libc.sethostname(hostname, len(hostname)), "sethostname")
        builder = RootBuilder(spec["scratch"])
        builder.build(spec.get("image_layers", []), spec.get("hidden", []), spec.get("image_files", []))
        image_dirs, mounts, cwd = spec.get("image_dirs", []), spec.get("mounts", []), spec.get("cwd") or "/"
        builder.prepare([d["path"] for d in image_dirs] + [m["target"] for m in mounts] + [cwd])
        for d in image_dirs:  # the image's own dirs, e.g. /home/jovyan owned by jovyan
            builder.ensure(d["path"], True)
            os.chown(d["path"], int(d["uid"]), int(d["gid"]))
            os.chmod(d["path"], int(d["mode"]))
        for m in mounts:  # in the kubelet's order: shallow mount points first (containerd's sort)
            builder.bind(m["source"], m["target"], bool(m.get("readonly")))
        builder.ensure(cwd, True)  # runc creates a missing working dir
        builder.finish()
        drop_privileges_and_exec(spec)
    except BaseException as exc:
        _report_and_exit(write_fd, exc)
    return 0  # not reached: exec replaced the process


def exec_in(spec: dict[str, Any]) -> int:
    pid = int(spec["pid"])
    order = [
        ("ipc", CLONE_NEWIPC),
        ("uts", CLONE_NEWUTS),
        ("net", CLONE_NEWNET),
        ("pid", CLONE_NEWPID),
        ("mnt", CLONE_NEWNS),
    ]
    fds = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY), flag) for name, flag in order]
    for fd, flag in fds:
        setns(fd, flag)
        os.close(fd)
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child:
        os.close(write_fd)
        return _supervise(child, read_fd, {"error_file": None, "pid_file": None, **spec})
    os.close(read_fd)
    try:
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
        if spec.get("tty"):
            _become_tty_leader()
        drop_privileges_and_exec(spec)
    except BaseException as exc:
        _report_and_exit(write_fd, exc)
    return 0


def main(argv: list[str]) -> int:
    mode, spec_path = argv[1], argv[2]
    with open(spec_path) as fh:
        spec = json.load(fh)
    if mode == "run":
        return run(spec)
    if mode == "exec":
        return exec_in(spec)
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
