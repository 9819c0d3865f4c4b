"""Execute one scenario against one matrix row: deploy (or attach to) a hub, run the steps, clean up.

The plugin calls ``run_scenario``; this module owns the order of things: version gates per step
(evaluated against the versions the hub runs *now*, since ``restart_hub`` may upgrade it), one
progress line per step, ``finally`` steps after a failure too, diagnostics on the first failure,
and cleanup on every exit path including Ctrl-C.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks import files, mount, pvc
from harness.checks.errors import CheckFailed, CheckSkipped
from harness.clusters.base import Cluster, HubVersions
from harness.hub.deploy import namespace_name
from harness.hub.driver import HubApiError, HubClient, SpawnFailed
from harness.hub.k8s import Kube
from harness.hub.target import DeployedHub, ExistingHub, HubTarget
from harness.options import HarnessOptions
from harness.reports import format_exception, safe_dirname, write_bundle
from harness.versions import default_jupyterhub_for


@dataclass
class RunContext:
    cluster: Cluster
    versions: HubVersions
    options: HarnessOptions
    report: Callable[[str], None]


class ScenarioFailure(Exception):
    """A scenario failed; ``summary`` is short and human, ``bundle`` the diagnostics directory."""

    def __init__(self, summary: str, bundle: Path | None = None) -> None:
        super().__init__(summary + (f"\ndiagnostics: {bundle}" if bundle else ""))
        self.summary = summary
        self.bundle = bundle


class StepSkipped(Exception):
    """A step cannot run here; the message is the reason shown on its progress line."""


@dataclass
class _State:
    """What the steps share while a scenario runs."""

    target: HubTarget
    versions: HubVersions
    tokens: dict[str, str] = field(default_factory=dict)
    spawn_times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: Diagnostics written at the first failure (the cluster as that step left it).
    bundle: Path | None = None

    @property
    def hub(self) -> HubClient:
        return self.target.hub


def scenario_id(scenario: Any, ctx: RunContext) -> str:
    return f"{scenario.name}[{ctx.versions.slug}-{ctx.cluster.backend}]"


def _server_label(user: str, server: str) -> str:
    return f"{user}/{server}"


def describe_step(step: Any) -> str:
    """``start alice/`` / ``expect_pvc claim-alice``: the step in a few words."""
    body = step.body
    if hasattr(body, "user") and hasattr(body, "server"):
        extra = f" {body.path}" if hasattr(body, "path") else ""
        return f"{step.kind} {_server_label(body.user, body.server)}{extra}"
    if hasattr(body, "user"):
        return f"{step.kind} {body.user}"
    if hasattr(body, "name"):
        return f"{step.kind} {body.name}"
    if step.kind == "restart_hub" and (body.kubespawner or body.jupyterhub):
        parts = [f"{k} {getattr(body, k)}" for k in ("kubespawner", "jupyterhub") if getattr(body, k)]
        return "restart_hub -> " + ", ".join(parts)
    return step.kind


def _make_target(scenario: Any, ctx: RunContext) -> HubTarget:
    options = ctx.options
    kube = Kube.from_kubeconfig(ctx.cluster.kubeconfig, ctx.cluster.context)
    if options.hub_url:
        hub_ns = options.hub_namespace
        return ExistingHub(
            url=options.hub_url,
            token=options.hub_token or "",
            namespace_=hub_ns,
            kube_=kube,
            images_=ctx.cluster.images(ctx.versions) if hub_ns else None,
            scenario_users=tuple(u.name for u in scenario.users),
            scenario_servers=_server_names(scenario),
        )
    return DeployedHub(
        cluster=ctx.cluster,
        versions=ctx.versions,
        kube_=kube,
        namespace_=namespace_name(scenario.name),
        kubespawner_config=dict(scenario.kubespawner),
        hub_config=dict(scenario.hub_config),
    )


def _server_names(scenario: Any) -> tuple[str, ...]:
    """Every server name the scenario's steps use, the default server ("") first."""
    names = {getattr(step.body, "server", "") for step in [*scenario.steps, *scenario.finally_]}
    return ("", *sorted(names - {""}))


# ------------------------------------------------------------------------------------------ steps
def _token(state: _State, user: str) -> str:
    if user not in state.tokens:
        state.tokens[user] = state.hub.create_token(user)
    return state.tokens[user]


def _need_cluster(state: _State, kind: str) -> tuple[Kube, str]:
    reason = state.target.unsupported_reason(kind)
    if reason or state.target.kube is None or state.target.namespace is None:
        raise StepSkipped(reason or f"{kind} needs the hub's namespace")
    return state.target.kube, state.target.namespace


def _run_step(step: Any, state: _State, scenario: Any, ctx: RunContext) -> str:
    """Execute one step; return a short note for the progress line. Raises on failure."""
    body, kind, target = step.body, step.kind, state.target
    reason = target.unsupported_reason(kind)
    if reason:
        raise StepSkipped(reason)
    user = target.user_name(body.user) if hasattr(body, "user") else ""
    server = getattr(body, "server", "")
    if kind == "start":
        t0 = time.monotonic()
        try:
            state.hub.start_server(user, server, timeout=body.timeout)
        except SpawnFailed as exc:
            raise CheckFailed(f"server {_server_label(user, server)} failed to start: {exc}") from exc
        spawn = time.monotonic() - t0
        state.spawn_times.append(spawn)
        return f"spawned in {spawn:.1f}s"
    if kind == "stop":
        state.hub.stop_server(user, server)
        return ""
    if kind == "delete_server":
        state.hub.stop_server(user, server, remove=True)
        return ""
    if kind == "delete_user":
        state.hub.delete_user(user)
        state.tokens.pop(user, None)
        return ""
    if kind == "write_file":
        files.write_file(state.hub, user, server, body.path, body.content, _token(state, user))
        return ""
    if kind == "expect_file":
        mapped = body.model_copy(update={"user": user})
        on_cluster = target.kube is not None and target.namespace is not None
        return files.expect_file(
            target.kube if on_cluster else None,
            target.namespace,
            state.hub,
            mapped,
            _token(state, user),
            target.images,
            notebook_dir=scenario.kubespawner.get("notebook_dir"),
        )
    if kind == "expect_pvc":
        kube, ns = _need_cluster(state, kind)
        name = target.resolve_name(body.name)
        try:
            found = pvc.expect_pvc(kube, ns, body.model_copy(update={"name": name.hub}))
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}{name.failure_note()}") from exc
        if found is None:
            return "absent" + name.progress_note()
        phase = (found.get("status") or {}).get("phase")
        return f"{phase}, {found['spec'].get('volumeName')}{name.progress_note()}"
    if kind == "expect_mount":
        kube, ns = _need_cluster(state, kind)
        update: dict[str, Any] = {"user": user}
        claim = target.resolve_name(body.claim) if body.claim is not None else None
        if claim is not None:
            update["claim"] = claim.hub
        try:
            mount.expect_mount(
                kube, ns, state.hub, body.model_copy(update=update), scenario.kubespawner.get("working_dir")
            )
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}{claim.failure_note() if claim else ''}") from exc
        return claim.progress_note().lstrip("; ") if claim else ""
    if kind == "expect_spawn_failure":
        try:
            state.hub.start_server(user, server, timeout=body.timeout)
        except SpawnFailed as exc:
            if body.message not in str(exc):
                raise CheckFailed(
                    f"spawn failed, but with {str(exc)!r}, expected a message containing {body.message!r}"
                ) from exc
            return "failed as expected"
        raise CheckFailed(f"server {_server_label(user, server)} started, expected the spawn to fail")
    if kind == "restart_hub":
        _restart_hub(step, state, ctx)
        return _running_servers(state, scenario)
    if kind == "restart_cluster":
        reason = ctx.cluster.restart_unsupported_reason()
        if reason:
            raise StepSkipped(reason)
        ctx.cluster.restart()
        target.reconnect()
        return _running_servers(state, scenario)
    raise CheckFailed(f"the runner does not know step {kind!r}")


def _running_servers(state: _State, scenario: Any) -> str:
    running = []
    for u in scenario.users:
        model = state.hub.get_user(state.target.user_name(u.name)) or {}
        running += [
            _server_label(u.name, s) for s, m in (model.get("servers") or {}).items() if m.get("ready")
        ]
    return f"{state.target.description}; running after restart: " + (", ".join(running) or "none")


def _restart_hub(step: Any, state: _State, ctx: RunContext) -> None:
    body = step.body
    versions = None
    if body.kubespawner or body.jupyterhub:
        ks = body.kubespawner or state.versions.kubespawner
        jh = body.jupyterhub or (
            default_jupyterhub_for(ks) if body.kubespawner else state.versions.jupyterhub
        )
        versions = HubVersions(kubespawner=ks, jupyterhub=jh)
    state.target.restart_hub(versions)
    if versions is not None:
        state.versions = versions


# ----------------------------------------------------------------------------------------- runner
def _run_list(
    steps: list[Any], prefix: str, state: _State, scenario: Any, ctx: RunContext, stop_on_fail: bool
) -> None:
    for index, step in enumerate(steps, start=1):
        label = f"{prefix}{index} {describe_step(step)}"
        if not step.applies_to(state.versions.kubespawner, state.versions.jupyterhub):
            gates = ", ".join(
                f"{k} {getattr(step, k)}" for k in ("kubespawner", "jupyterhub") if getattr(step, k)
            )
            ctx.report(f"  - {label}  (not for kubespawner {state.versions.kubespawner}: {gates})")
            continue
        t0 = time.monotonic()
        try:
            note = _run_step(step, state, scenario, ctx)
        except (StepSkipped, CheckSkipped) as exc:
            ctx.report(f"  ↷ {label}  skipped: {exc}")
            continue
        except (CheckFailed, HubApiError, TimeoutError, SpawnFailed) as exc:
            ctx.report(f"  ✗ {label}  ({time.monotonic() - t0:.1f}s): {exc}")
            state.failures.append(f"{step.location}: {label}: {exc}")
        except Exception as exc:  # an unexpected error is a failed step, with its traceback in the bundle
            ctx.report(f"  ✗ {label}  ({time.monotonic() - t0:.1f}s): {type(exc).__name__}: {exc}")
            state.failures.append(
                f"{step.location}: {label}: {type(exc).__name__}: {exc}\n{format_exception(exc)}"
            )
        else:
            ctx.report(f"  ✓ {label}  ({time.monotonic() - t0:.1f}s){'  ' + note if note else ''}")
            continue
        if state.bundle is None:
            state.bundle = _collect(scenario, ctx, state)
        if stop_on_fail:
            return


def run_scenario(scenario: Any, ctx: RunContext) -> None:
    """Run ``scenario`` for ``ctx.versions`` on ``ctx.cluster``; raise ScenarioFailure on any failed step."""
    started = time.monotonic()
    keep = ctx.options.keep_cluster
    target = _make_target(scenario, ctx)
    state = _State(target=target, versions=ctx.versions)
    failures = state.failures
    try:
        t0 = time.monotonic()
        try:
            target.setup()
            gates_note = ""
            if target.running_versions is not None and target.running_versions != state.versions:
                gates_note = (
                    f"  (version gates follow the hub's kubespawner {target.running_versions.kubespawner}, "
                    f"jupyterhub {target.running_versions.jupyterhub}, not the options' "
                    f"{state.versions.kubespawner}/{state.versions.jupyterhub})"
                )
                state.versions = target.running_versions
            for user in scenario.users:
                state.hub.create_user(target.user_name(user.name))
        except Exception as exc:
            ctx.report(f"  ✗ deploy hub  ({time.monotonic() - t0:.1f}s): {type(exc).__name__}: {exc}")
            failures.append(f"deploy hub: {type(exc).__name__}: {exc}\n{format_exception(exc)}")
        else:
            ctx.report(f"  ✓ deploy {target.description}  ({time.monotonic() - t0:.1f}s)")
            if gates_note:
                ctx.report(gates_note)
            if isinstance(target, ExistingHub) and (scenario.kubespawner or scenario.hub_config):
                ctx.report(
                    "  (the scenario's kubespawner/hub_config settings are not applied: the existing hub's "
                    "own configuration is what the steps test)"
                )
            _run_list(list(scenario.steps), "", state, scenario, ctx, stop_on_fail=True)
        if failures and state.bundle is None:
            state.bundle = _collect(scenario, ctx, state)
        collected = len(failures)
        if target_ready(target):
            _run_list(list(scenario.finally_), "finally ", state, scenario, ctx, stop_on_fail=False)
        if state.bundle is not None and len(failures) > collected:
            # logs and failures as they are after `finally`, next to the first-failure snapshot
            _collect(scenario, ctx, state, subdir="after-finally")
            (state.bundle / "failures.txt").write_text("\n\n".join(failures) + "\n")
    finally:
        t0 = time.monotonic()
        try:
            target.teardown(keep)
            ctx.report(
                f"  ✓ cleanup{' (kept: --keep-cluster)' if keep else ''}  ({time.monotonic() - t0:.1f}s)"
            )
        except Exception as exc:
            ctx.report(f"  ✗ cleanup: {type(exc).__name__}: {exc}")
            failures.append(f"cleanup: {type(exc).__name__}: {exc}")
    spawns = ", ".join(f"{t:.1f}s" for t in state.spawn_times)
    ctx.report(f"  {scenario.name}: {time.monotonic() - started:.1f}s wall; spawns: {spawns or 'none'}")
    if failures:
        summary = failures[0].splitlines()[0]
        if len(failures) > 1:
            summary += f" (+{len(failures) - 1} more failure(s))"
        raise ScenarioFailure(summary, state.bundle)


def target_ready(target: HubTarget) -> bool:
    try:
        _ = target.hub
    except RuntimeError:
        return False
    return True


def object_user(obj: dict[str, Any]) -> str | None:
    """The hub user a pod or PVC belongs to, per KubeSpawner's annotation (else its user label)."""
    meta = obj.get("metadata") or {}
    for kind in ("annotations", "labels"):
        user = (meta.get(kind) or {}).get("hub.jupyter.org/username")
        if user is not None:
            return str(user)
    return None


def _collect(scenario: Any, ctx: RunContext, state: _State, subdir: str = "") -> Path | None:
    target, failures = state.target, state.failures
    directory = Path(ctx.options.reports_dir) / safe_dirname(scenario_id(scenario, ctx))
    if subdir:
        directory = directory / subdir
    elif directory.is_dir():
        shutil.rmtree(directory)  # a bundle of an earlier run of the same matrix cell would mislead
    extra = {"failures.txt": "\n\n".join(failures) + "\n"}
    if isinstance(target, DeployedHub) and target.deployment is not None:
        extra["jupyterhub_config.py"] = target.deployment.config_text
    try:
        return write_bundle(
            directory,
            summary=f"{scenario_id(scenario, ctx)}\n{target.description}\n" + failures[0],
            kube=target.kube,
            namespace=target.namespace,
            extra_files=extra,
            hub_state=(
                (lambda: [u for u in state.hub.list_users() if target.in_diagnostics(u.get("name"))])
                if target_ready(target)
                else None
            ),
            include=lambda obj: target.in_diagnostics(object_user(obj)),
        )
    except Exception as exc:
        ctx.report(f"  (could not write diagnostics: {exc})")
        return None
