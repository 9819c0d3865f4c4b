"""The container "runtime shim": builds a container's sandbox and execs its command (stdlib only).

Run by the kubelet as ``python container_init.py run SPEC.json`` (or ``exec SPEC.json``) as root.

``run``: join the pod's netns, unshare mount/PID/UTS/IPC namespaces and fork. The child is PID 1 of
the new PID namespace: it builds a fresh root (a tmpfs whose top-level entries are bind mounts of the
host's, except fresh tmpfs on /tmp, /home, /run and /dev/shm and a new /proc), pivots into it, mounts
the volumes, drops to the container's uid/gids and execs the command. Paths that do not exist on the
host are created inside an overlay, so nothing the pod does shows up on the host outside volumes.
The parent stays outside the new PID namespace, writes the child's host PID to ``pid_file`` once the
exec succeeded, forwards signals and exits with the child's status; if the parent is killed, the
child (and so the whole PID namespace) is killed too.

``exec``: enter the namespaces of a running container's PID 1 and run a command there (kubectl exec).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import sys
import termios
from typing import Any

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

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
#: Top-level dirs that get a fresh, empty tmpfs instead of the host's content.
FRESH_TMPFS = {"tmp": 0o1777, "home": 0o755, "run": 0o755}
#: Top-level host dirs that stay writable (device nodes); all other host binds are read-only.
WRITABLE_HOST = {"dev"}
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
    """Assembles the container's root file system inside the (already private) mount namespace."""

    def __init__(self, scratch: str) -> None:
        self.scratch = scratch
        self.overlays = 0
        #: mount point -> "tmpfs" | "host" | "volume" | "overlay": decides how missing paths are made.
        self.kinds: dict[str, str] = {"/": "tmpfs"}

    def build(self) -> None:
        root = os.path.join(self.scratch, "root")
        os.makedirs(root, exist_ok=True)
        mount("tmpfs", root, "tmpfs", MS_NOSUID, "mode=0755")
        for name in sorted(os.listdir("/")):
            host_path, new_path = "/" + name, os.path.join(root, name)
            if os.path.islink(host_path):
                os.symlink(os.readlink(host_path), new_path)
            elif name in FRESH_TMPFS:
                os.mkdir(new_path)
                mount("tmpfs", new_path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={FRESH_TMPFS[name]:o}")
                self.kinds[host_path] = "tmpfs"
            elif name == "proc":
                os.mkdir(new_path)
            elif os.path.isdir(host_path):
                os.mkdir(new_path)
                mount(host_path, new_path, None, MS_BIND | MS_REC)
                if name not in WRITABLE_HOST:
                    mount(None, new_path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
                self.kinds[host_path] = "host"
        os.makedirs(os.path.join(root, "proc"), exist_ok=True)
        mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        shm = os.path.join(root, "dev", "shm")
        if os.path.isdir(shm):
            mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
        os.makedirs(root + OLD_ROOT, exist_ok=True)
        pivot_root(root, root + OLD_ROOT)
        os.chdir("/")

    def _covering(self, path: str) -> tuple[str, str]:
        best = "/"
        for point in self.kinds:
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
                best = point
        return best, self.kinds[best]

    def prepare(self, paths: list[str]) -> None:
        """Overlay, before anything is bind-mounted, each host dir in which one of ``paths`` must be made.

        An overlay mounted later would hide every bind already made below it (the pod's /etc/hosts
        under an /etc overlaid for /etc/jupyterhub/x, say), so all of them come first.
        """
        for path in sorted(paths, key=lambda p: p.rstrip("/").count("/")):
            if os.path.lexists(path):
                continue
            ancestor = os.path.dirname(path)
            while not os.path.isdir(ancestor):
                ancestor = os.path.dirname(ancestor)
            if self._covering(os.path.realpath(ancestor))[1] == "host":
                self._overlay(ancestor)

    def ensure(self, target: str, is_dir: bool) -> None:
        """Create ``target`` (dir or empty file) without ever writing to the host's file system."""
        if os.path.lexists(target):
            return
        ancestor = os.path.dirname(target)
        while not os.path.isdir(ancestor):
            ancestor = os.path.dirname(ancestor)
        _, kind = self._covering(os.path.realpath(ancestor))
        if kind == "host":
            self._overlay(ancestor)
        os.makedirs(target if is_dir else os.path.dirname(target), exist_ok=True)
        if not is_dir:
            open(target, "a").close()

    def _overlay(self, path: str) -> None:
        self.overlays += 1
        base = os.path.join(OLD_ROOT + self.scratch, f"overlay{self.overlays}")
        upper, work = base + "/upper", base + "/work"
        os.makedirs(upper, exist_ok=True)
        os.makedirs(work, exist_ok=True)
        mount("overlay", path, "overlay", 0, f"lowerdir={path},upperdir={upper},workdir={work}")
        self.kinds[os.path.realpath(path)] = "overlay"

    def bind(self, source: str, target: str, readonly: bool) -> None:
        host_source = OLD_ROOT + source
        self.ensure(target, os.path.isdir(host_source))
        mount(host_source, target, None, MS_BIND | MS_REC)
        if readonly:
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        self.kinds[os.path.realpath(target)] = "volume"

    def finish(self) -> None:
        mount(None, OLD_ROOT, None, MS_REC | MS_PRIVATE)
        _check(_libc.umount2(_b(OLD_ROOT), MNT_DETACH), "umount old root")
        os.rmdir(OLD_ROOT)


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
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, signum)


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
        socket.sethostname(spec["hostname"])
        builder = RootBuilder(spec["scratch"])
        builder.build()
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
