"""One pod on the node: sandbox, volumes, init containers, containers, probes, status, deletion.

A ``PodWorker`` runs as one asyncio task per pod, like the kubelet's pod workers. It writes status
through the ``pods/status`` subresource and Events as the real kubelet would, and it finishes a
graceful deletion itself (SIGTERM, grace period, SIGKILL, teardown, delete with grace 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import shutil
import time
from typing import Any

from ..images import ImageEntry
from .api import Obj, is_not_found
from .container_spec import ContainerLaunch, build_launch
from .context import NodeContext
from .envvars import EnvError
from .exec import exec_capture
from .hooks import run_hook
from .podfiles import passwd_and_group, render_hosts, render_resolv_conf, write_in_place
from .podnet import PodNetwork
from .probes import ExecFn, Prober
from .puller import PullFailed
from .recorder import container_field_path, emit
from .runtime import ContainerProcess, ContainerStartError, now_rfc3339
from .status import ContainerRecord, pod_status
from .volumes import PodVolume, VolumeError, VolumeManager

log = logging.getLogger(__name__)
#: how long a volume that cannot be mounted waits before the next attempt
VOLUME_RETRY_SECONDS = 1.0
#: postStart hooks have no timeout of their own on a real kubelet; this only bounds a stuck hook
HOOK_TIMEOUT = 600.0
#: a container that ran this long without failing gets its back-off reset
BACKOFF_RESET_SECONDS = 600.0
#: the PLEG relist period: a pod's first failed sync is retried this soon (its new sandbox is an event)
PLEG_RESYNC_SECONDS = 1.0


class PodWorker:
    def __init__(self, ctx: NodeContext, pod: Obj) -> None:
        self.ctx = ctx
        self.pod = pod
        meta = pod["metadata"]
        self.namespace, self.name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.dir = ctx.pods_dir / self.uid
        self.sandbox: PodNetwork | None = None
        #: the IP the pod had: a finished pod keeps reporting it after its sandbox is gone
        self.last_ip: str | None = None
        self.volumes: dict[str, PodVolume] = {}
        spec = pod["spec"]
        previous = {c["name"]: c for c in (pod.get("status") or {}).get("containerStatuses") or []}
        # the kubelet's default waiting reason for a container not created yet: PodInitializing for
        # every container (init ones too) of a pod that has init containers, else ContainerCreating
        waiting = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"
        self.init = [ContainerRecord.waiting_for(c, waiting) for c in spec.get("initContainers") or []]
        self.containers = [ContainerRecord.waiting_for(c, waiting) for c in spec.get("containers") or []]
        for record in self.containers:  # after a node restart, restarts keep counting
            old = previous.get(record.name)
            if old and (old.get("containerID") or old.get("restartCount")):
                record.restart_count = int(old.get("restartCount", 0)) + 1
        self.procs: dict[str, ContainerProcess] = {}
        self.launches: dict[str, ContainerLaunch] = {}
        self.phase = "Pending"
        self.initialized = not self.init
        self.start_time = (pod.get("status") or {}).get("startTime") or now_rfc3339()
        self.deleting = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._status_lock = asyncio.Lock()
        self._last_status: Obj | None = None
        self._mount_warnings: dict[str, float] = {}
        self._volume_manager: VolumeManager | None = None
        self._sync_wanted = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"pod {self.namespace}/{self.name}")

    def update(self, pod: Obj) -> None:
        if _differs_semantically(self.pod, pod):  # the kubelet syncs the pod, remounting its API volumes
            self._sync_wanted.set()
        self.pod = pod
        if pod["metadata"].get("deletionTimestamp"):
            self.deleting.set()

    @property
    def pod_ip(self) -> str | None:
        return self.sandbox.ip if self.sandbox else None

    async def run(self) -> None:
        """Run the pod until it is deleted. Cancellation (node shutdown) kills it at once.

        ``asyncio.wait`` is used on the inner tasks, never ``await task`` under a suppress: that would
        swallow this task's own cancellation and hang the node's shutdown.
        """
        lifecycle = asyncio.create_task(self._lifecycle())
        deleting = asyncio.create_task(self.deleting.wait())
        try:
            await asyncio.wait({lifecycle, deleting}, return_when=asyncio.FIRST_COMPLETED)
            if lifecycle.done() and not self.deleting.is_set():
                if not lifecycle.cancelled() and lifecycle.exception() is not None:
                    log.error("pod %s/%s failed: %r", self.namespace, self.name, lifecycle.exception())
                await self._release_sandbox()  # a finished pod keeps its status but not its IP
                await asyncio.wait({deleting})
            lifecycle.cancel()
            await asyncio.wait({lifecycle})
            await self._stop_all(self._grace_seconds())
            await self._release_sandbox()
            await self._finish_deletion()
        except asyncio.CancelledError:
            lifecycle.cancel()
            await asyncio.shield(self.kill_now())
            raise
        except Exception:
            log.exception("pod worker %s/%s failed", self.namespace, self.name)
        finally:
            deleting.cancel()

    async def kill_now(self) -> None:
        """Node shutdown: kill every process of the pod and remove its sandbox (no status, no API calls)."""
        for proc in self.procs.values():
            proc.kill()
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
        await self._release_sandbox()

    def _grace_seconds(self) -> float:
        meta = self.pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = self.pod["spec"].get("terminationGracePeriodSeconds", 30)
        return float(grace)

    async def _lifecycle(self) -> None:
        await self.push_status()
        await self._setup_volumes()
        resync = asyncio.create_task(self._resync_volumes(), name=f"volume resync {self.name}")
        try:
            await self._run_pod()
        finally:
            resync.cancel()
            await asyncio.wait({resync})

    async def _run_pod(self) -> None:
        await self._setup_sandbox()
        await self.push_status()
        if not await self._run_init_containers():
            self.phase = "Failed"
            await self.push_status()
            return
        self.initialized = True
        await asyncio.gather(*(self._supervise(c) for c in self.pod["spec"]["containers"]))
        codes = [r.terminated["exitCode"] if r.terminated else 1 for r in self.containers]
        self.phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        await self.push_status()

    # ------------------------------------------------------------------ sandbox
    async def _setup_volumes(self) -> None:
        manager = VolumeManager(self.ctx.registry, self.dir, self.ctx.ca_file)
        self._volume_manager = manager
        while True:
            try:
                self.volumes = await manager.setup(self.pod)
                return
            except VolumeError as exc:
                await self._failed_mount(exc)
                await asyncio.sleep(VOLUME_RETRY_SECONDS)
                await self._refresh_pod()

    async def _failed_mount(self, exc: VolumeError) -> None:
        message = str(exc)
        last = self._mount_warnings.get(message, 0.0)
        if time.monotonic() - last > 60:
            self._mount_warnings[message] = time.monotonic()
            await emit(self.ctx.registry, self.pod, "FailedMount", message, type="Warning")

    async def _resync_volumes(self) -> None:
        """configMap/secret/downwardAPI/projected volumes follow their objects, as the kubelet's pod
        syncs remount them: every sync period (syncFrequency, jitter 0.5) and whenever the pod's spec,
        labels or annotations change. A failure keeps the old files and says FailedMount."""
        assert self._volume_manager is not None
        while True:
            period = self.ctx.sync_period * (1 + random.random() * 0.5)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._sync_wanted.wait(), period)
            self._sync_wanted.clear()
            try:
                await self._volume_manager.refresh(self.pod)
            except VolumeError as exc:
                await self._failed_mount(exc)
            except OSError as exc:  # the pod dir went away under a deletion
                log.debug("volume resync of %s/%s: %s", self.namespace, self.name, exc)

    async def _refresh_pod(self) -> None:
        try:
            self.pod = await self.ctx.registry.get("pods", self.namespace, self.name)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    async def _setup_sandbox(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sandbox = await PodNetwork.create(self.ctx.network, self.ctx.ipam, self.ctx.records, self.uid)
        self.last_ip = self.sandbox.ip
        (self.dir / "network.json").write_text(json.dumps(self.sandbox.__dict__))
        etc = self.dir / "etc"
        etc.mkdir(exist_ok=True)
        self.refresh_hosts()
        write_in_place(
            etc / "resolv.conf",
            render_resolv_conf(self.namespace, self.ctx.network.gateway, self.pod["spec"].get("dnsConfig")),
        )
        write_in_place(etc / "hostname", self._hostname() + "\n")
        entries = [self.ctx.images.find(c["image"]) for c in self._all_container_specs()]
        passwd, group = passwd_and_group(next((e.passwd_user for e in entries if e and e.passwd_user), None))
        write_in_place(etc / "passwd", passwd)
        write_in_place(etc / "group", group)

    def _hostname(self) -> str:
        return str(self.pod["spec"].get("hostname") or self.name)[:63]

    def _all_container_specs(self) -> list[Obj]:
        spec = self.pod["spec"]
        return [*(spec.get("initContainers") or []), *spec["containers"]]

    def refresh_hosts(self) -> None:
        """(Re)write the pod's /etc/hosts in place from the current Services."""
        if self.sandbox is None:
            return
        content = render_hosts(
            self._hostname(),
            self.sandbox.ip,
            self.namespace,
            self.ctx.services.all(),
            self.pod["spec"].get("hostAliases"),
        )
        write_in_place(self.dir / "etc" / "hosts", content)

    async def _release_sandbox(self) -> None:
        if self.sandbox is not None:
            await self.sandbox.teardown(self.ctx.ipam)
            self.sandbox = None

    async def _finish_deletion(self) -> None:
        try:
            await self.ctx.registry.delete("pods", self.namespace, self.name, grace_period_seconds=0)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ containers
    async def _pull(self, spec: Obj, record: ContainerRecord) -> ImageEntry:
        """The container's image, once the node has it: while it cannot be pulled the container waits
        (ErrImagePull / ImagePullBackOff / ErrImageNeverPull) and the pod sync is retried as the
        kubelet's pod worker does after a failed sync: 10-15s later (backOffPeriod, jitter 0.5). The
        first retry comes after 1s, when the new sandbox's PLEG event triggers another sync."""
        retry = PLEG_RESYNC_SECONDS

        async def event(reason: str, message: str, warning: bool) -> None:
            await self._container_event(spec["name"], reason, message, warning=warning)

        while True:
            try:
                return await self.ctx.puller.ensure(self.pod, spec, event)
            except PullFailed as failed:
                record.set_waiting(failed.reason, failed.message)
                await self.push_status()
            await asyncio.sleep(retry)
            retry = self.ctx.backoff_base * (1 + random.random() * 0.5)

    async def _start(self, spec: Obj, record: ContainerRecord) -> ContainerProcess | None:
        """Start one run of a container; on failure record the waiting reason and return None."""
        assert self.sandbox is not None
        entry = await self._pull(spec, record)
        try:
            launch = await build_launch(self.ctx, self.pod, spec, entry, self.sandbox, self.volumes, self.dir)
        except (EnvError, VolumeError) as exc:
            record.set_waiting("CreateContainerConfigError", str(exc))
            await self._container_event(spec["name"], "Failed", f"Error: {exc}", warning=True)
            return None
        except ContainerStartError as exc:
            record.set_waiting(exc.reason, exc.message)
            await self._container_event(spec["name"], "Failed", f"Error: {exc.message}", warning=True)
            return None
        self.launches[spec["name"]] = launch
        run_dir = self.dir / "containers" / spec["name"] / str(record.restart_count)
        shutil.rmtree(run_dir, ignore_errors=True)
        log_path = self.dir / "logs" / spec["name"] / f"{record.restart_count}.log"
        proc = ContainerProcess(run_dir, log_path)
        await self._container_event(spec["name"], "Created", f"Created container {spec['name']}")
        # known before it exists: a deletion or node stop during the start must find (and kill) it
        self.procs[spec["name"]] = proc
        try:
            await proc.start(launch.shim_spec(run_dir / "scratch"), on_spawn=self.ctx.records.add_process)
        except ContainerStartError as exc:
            record.container_id = proc.container_id
            record.set_terminated(128, proc.started_at, proc.finished_at, "StartError", exc.message)
            await self._container_event(spec["name"], "Failed", f"Error: {exc.message}", warning=True)
            return None
        record.set_running(proc.container_id, proc.started_at or now_rfc3339())
        await self._container_event(spec["name"], "Started", f"Started container {spec['name']}")
        post_start = (spec.get("lifecycle") or {}).get("postStart")
        if post_start:  # like the kubelet: the next container starts only after the hook returned
            error = await run_hook(post_start, spec, self.pod_ip or "", self._exec_fn(spec), HOOK_TIMEOUT)
            if error:
                await self._container_event(spec["name"], "FailedPostStartHook", error, warning=True)
                await self._container_event(spec["name"], "Killing", "FailedPostStartHook")
                await proc.stop(self._container_grace(spec))
        return proc

    def _exec_fn(self, spec: Obj) -> ExecFn:
        async def exec_fn(command: list[str], timeout: float) -> tuple[int, bytes]:
            return await self.exec_capture(spec["name"], command, timeout)

        return exec_fn

    def _container_grace(self, spec: Obj) -> float:
        return float(self.pod["spec"].get("terminationGracePeriodSeconds", 30))

    async def _container_event(self, name: str, reason: str, message: str, *, warning: bool = False) -> None:
        """An Event about one container of this pod: ``involvedObject.fieldPath`` names it (init or app
        container), as real."""
        await emit(
            self.ctx.registry,
            self.pod,
            reason,
            message,
            type="Warning" if warning else "Normal",
            field_path=container_field_path(self.pod, name),
        )

    def _restart_policy(self) -> str:
        return str(self.pod["spec"].get("restartPolicy") or "Always")

    async def _backoff(self, spec: Obj, record: ContainerRecord, delay: float) -> float:
        """Wait before a restart and return the next delay: the first restart is immediate, then
        10s, 20s, ... up to 300s (the kubelet's container back-off), shown as CrashLoopBackOff."""
        if delay <= 0:
            return self.ctx.backoff_base
        message = (
            f"back-off {int(delay)}s restarting failed container={spec['name']} "
            f"pod={self.name}_{self.namespace}({self.uid})"
        )
        record.set_waiting("CrashLoopBackOff", message)
        await self.push_status()
        await self._container_event(
            spec["name"], "BackOff", "Back-off restarting failed container", warning=True
        )
        await asyncio.sleep(delay)
        return min(delay * 2, self.ctx.backoff_max)

    async def _run_init_containers(self) -> bool:
        delay = 0.0
        for spec, record in zip(self.pod["spec"].get("initContainers") or [], self.init, strict=True):
            ran = False
            while True:
                if ran:  # restartCount counts new instances of a container that did run, as the kubelet's
                    record.restart_count += 1
                proc = await self._start(spec, record)
                ran = proc is not None
                if proc is not None:
                    await self.push_status()
                    code = await proc.wait()
                    record.set_terminated(code, proc.started_at, proc.finished_at)
                    self.procs.pop(spec["name"], None)
                    await self.push_status()
                    if code == 0:
                        break
                else:
                    await self.push_status()
                if self._restart_policy() == "Never":
                    return False
                delay = await self._backoff(spec, record, delay)
        return True

    async def _supervise(self, spec: Obj) -> None:
        record = next(r for r in self.containers if r.name == spec["name"])
        delay = 0.0
        ran = False
        while True:
            if ran:
                record.restart_count += 1
            proc = await self._start(spec, record)
            ran = proc is not None
            if proc is None:
                await self.push_status()
                if self._restart_policy() == "Never":
                    if not record.terminated:
                        record.set_terminated(
                            128, None, None, "StartError", record.state["waiting"].get("message")
                        )
                    return
            else:
                started = time.monotonic()
                self.phase = "Running"  # the pod runs once one of its containers does
                probes = self._start_probes(spec, record, proc)
                await self.push_status()
                try:
                    code = await proc.wait()
                finally:
                    for task in probes:
                        task.cancel()
                record.set_terminated(code, proc.started_at, proc.finished_at)
                await self.push_status()
                policy = self._restart_policy()
                if policy == "Never" or (policy == "OnFailure" and code == 0):
                    return
                if time.monotonic() - started > BACKOFF_RESET_SECONDS:
                    delay = 0.0
            delay = await self._backoff(spec, record, delay)

    # ------------------------------------------------------------------ probes
    def _start_probes(
        self, spec: Obj, record: ContainerRecord, proc: ContainerProcess
    ) -> list[asyncio.Task[Any]]:
        assert self.sandbox is not None
        tasks: list[asyncio.Task[Any]] = []
        startup, readiness, liveness = (
            spec.get(k) for k in ("startupProbe", "readinessProbe", "livenessProbe")
        )
        started = asyncio.Event()

        async def exec_fn(command: list[str], timeout: float) -> tuple[int, bytes]:
            return await self.exec_capture(spec["name"], command, timeout)

        async def on_startup(ok: bool, message: str, crossed: bool) -> None:
            if not ok:
                await self._unhealthy(spec, "Startup", message)
                if crossed:
                    await self._kill_for_probe(spec, proc, "startup")
            elif crossed:
                record.started = True
                started.set()
                if not readiness:
                    record.ready = True
                await self.push_status()

        async def on_readiness(ok: bool, message: str, crossed: bool) -> None:
            if not ok:
                await self._unhealthy(spec, "Readiness", message)
            if crossed and record.running:
                record.ready = ok
                await self.push_status()

        async def on_liveness(ok: bool, message: str, crossed: bool) -> None:
            if not ok:
                await self._unhealthy(spec, "Liveness", message)
                if crossed:
                    await self._kill_for_probe(spec, proc, "liveness")

        async def after_startup(kind: str, probe: Obj, callback: Any) -> None:
            await started.wait()
            await Prober(kind, probe, spec, self.sandbox.ip if self.sandbox else "", exec_fn, callback).run()

        if startup:
            tasks.append(
                asyncio.create_task(
                    Prober("startup", startup, spec, self.sandbox.ip, exec_fn, on_startup).run()
                )
            )
        else:
            record.started = True
            started.set()
            record.ready = not readiness
        if readiness:
            tasks.append(asyncio.create_task(after_startup("readiness", readiness, on_readiness)))
        if liveness:
            tasks.append(asyncio.create_task(after_startup("liveness", liveness, on_liveness)))
        return tasks

    async def _unhealthy(self, spec: Obj, kind: str, message: str) -> None:
        await self._container_event(
            spec["name"], "Unhealthy", f"{kind} probe failed: {message}", warning=True
        )

    async def _kill_for_probe(self, spec: Obj, proc: ContainerProcess, kind: str) -> None:
        await self._container_event(
            spec["name"], "Killing", f"Container {spec['name']} failed {kind} probe, will be restarted"
        )
        # the probe loop that calls this is cancelled when the container exits: stop in its own task
        task = asyncio.create_task(
            proc.stop(
                float(
                    spec.get("terminationGracePeriodSeconds")
                    or self.pod["spec"].get("terminationGracePeriodSeconds", 30)
                )
            )
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def exec_capture(self, container: str, command: list[str], timeout: float) -> tuple[int, bytes]:
        return await exec_capture(self, container, command, timeout)

    # ------------------------------------------------------------------ stop
    async def _stop_all(self, grace: float) -> None:
        running = [(name, proc) for name, proc in self.procs.items() if proc.running]
        started = time.monotonic()
        await asyncio.gather(*(self._pre_stop(name, grace) for name, _ in running))
        grace = max(grace - (time.monotonic() - started), 2.0)  # the kubelet grants 2s after a slow hook
        for name, _ in running:
            await self._container_event(name, "Killing", f"Stopping container {name}")
        await asyncio.gather(*(proc.stop(grace) for _, proc in running), return_exceptions=True)
        # the final status a kubelet reports before the object goes: containers terminated, not ready
        records = {r.name: r for r in self.init + self.containers}
        for name, proc in running:
            record = records.get(name)
            if record is not None and proc.exit_code is not None:
                record.set_terminated(proc.exit_code, proc.started_at, proc.finished_at)
        if running:
            await self.push_status()

    async def _pre_stop(self, name: str, grace: float) -> None:
        spec = next((c for c in self._all_container_specs() if c["name"] == name), None)
        hook = ((spec or {}).get("lifecycle") or {}).get("preStop")
        if spec is None or not hook:
            return
        error = await run_hook(hook, spec, self.pod_ip or "", self._exec_fn(spec), grace)
        if error:
            await self._container_event(spec["name"], "FailedPreStopHook", error, warning=True)

    # ------------------------------------------------------------------ status
    async def push_status(self) -> None:
        async with self._status_lock:
            if self.deleting.is_set() and not self.pod_ip:
                return
            status = pod_status(
                self.pod,
                phase=self.phase,
                host_ip=self.ctx.network.gateway,
                pod_ip=self.pod_ip or self.last_ip,
                start_time=self.start_time,
                init=self.init,
                containers=self.containers,
                initialized=self.initialized,
            )
            if status == self._last_status:
                return
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "status": status,
            }
            try:
                self.pod = await self.ctx.registry.update("pods", self.namespace, body, subresource="status")
                self._last_status = status
            except Exception as exc:
                if not is_not_found(exc):
                    log.warning("status update of %s/%s failed: %s", self.namespace, self.name, exc)


def _differs_semantically(old: Obj, new: Obj) -> bool:
    """What makes the kubelet's pod config deliver an UPDATE (config.go podsDifferSemantically)."""
    keys = ("labels", "annotations", "deletionTimestamp", "deletionGracePeriodSeconds")
    return old.get("spec") != new.get("spec") or any(
        (old.get("metadata") or {}).get(k) != (new.get("metadata") or {}).get(k) for k in keys
    )
