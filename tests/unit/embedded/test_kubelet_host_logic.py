"""Pure host-side logic of the kubelet: subnet choice, IP allocation, /etc files, log format."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from pathlib import Path

import pytest

from harness.clusters.embedded.kubelet.ipam import IPAM
from harness.clusters.embedded.kubelet.logs import read_log, render_line
from harness.clusters.embedded.kubelet.network import SUPERNET, choose_subnets
from harness.clusters.embedded.kubelet.podfiles import (
    passwd_and_group,
    render_hosts,
    render_resolv_conf,
    write_in_place,
)

Net = ipaddress.IPv4Network


def test_subnets_avoid_everything_taken_and_kind_defaults() -> None:
    taken = [Net("10.213.1.0/24"), Net("10.213.3.0/24"), Net("10.0.0.0/8")]
    pod, svc = choose_subnets(taken[:2])
    assert pod.subnet_of(SUPERNET) and svc.subnet_of(SUPERNET)
    assert not any(pod.overlaps(t) or svc.overlaps(t) for t in taken[:2])
    assert pod != svc
    assert not pod.overlaps(Net("10.244.0.0/16")) and not svc.overlaps(Net("10.96.0.0/12"))
    with pytest.raises(RuntimeError):
        choose_subnets(taken)  # the whole supernet is inside 10/8


def test_previous_subnets_are_reused_only_when_free() -> None:
    previous = ("10.213.7.0/24", "10.213.9.0/24")
    assert choose_subnets([], previous) == (Net(previous[0]), Net(previous[1]))
    pod, _ = choose_subnets([Net("10.213.7.0/24")], previous)
    assert pod != Net("10.213.7.0/24")


def test_a_restart_keeps_its_service_subnet_when_only_the_pod_subnet_was_taken() -> None:
    previous = ("10.213.7.0/24", "10.213.9.0/24")
    pod, svc = choose_subnets([Net("10.213.7.0/24")], previous)
    assert svc == Net("10.213.9.0/24"), "the Services' ClusterIPs come from the service /24"
    assert pod not in (Net("10.213.7.0/24"), svc)


def test_fresh_subnets_are_not_always_the_lowest_free_ones() -> None:
    # a cluster starting while another restarts must not take the pair that one just released
    picks = {choose_subnets([]) for _ in range(20)}
    assert len(picks) > 1
    assert all(pod != svc and pod.network_address.packed[2] != 0 for pod, svc in picks)


def test_ipam_hands_out_round_robin_and_never_twice(tmp_path: Path) -> None:
    ipam = IPAM(tmp_path, Net("10.213.5.0/29"), "10.213.5.1")
    first = [ipam.allocate(f"pod{i}") for i in range(5)]
    assert first == [f"10.213.5.{i}" for i in range(2, 7)]
    with pytest.raises(RuntimeError):
        ipam.allocate("one too many")
    ipam.release("10.213.5.3")
    assert ipam.allocate("again") == "10.213.5.3"
    ipam.reset()
    assert ipam.allocate("after reboot") == "10.213.5.4"  # continues after the last reserved one


def test_hosts_file_maps_short_names_only_in_own_namespace() -> None:
    services = [
        {"metadata": {"name": "hub", "namespace": "jh"}, "spec": {"clusterIP": "10.213.2.10"}},
        {"metadata": {"name": "db", "namespace": "other"}, "spec": {"clusterIP": "10.213.2.11"}},
        {"metadata": {"name": "headless", "namespace": "jh"}, "spec": {"clusterIP": "None"}},
    ]
    hosts = render_hosts("jupyter-alice", "10.213.1.5", "jh", services)
    lines = {line.split("\t")[0]: line.split("\t")[1].split() for line in hosts.splitlines()[1:]}
    assert lines["10.213.1.5"] == ["jupyter-alice"]
    assert "hub" in lines["10.213.2.10"] and "hub.jh.svc.cluster.local" in lines["10.213.2.10"]
    assert "db" not in lines["10.213.2.11"] and "db.other" in lines["10.213.2.11"]
    assert "headless" not in hosts
    assert render_resolv_conf("jh", "10.213.1.1").startswith(
        "search jh.svc.cluster.local svc.cluster.local cluster.local\n"
    )


def test_write_in_place_keeps_the_inode_bind_mounts_follow(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    write_in_place(path, "a much longer first version\n")
    inode = path.stat().st_ino
    write_in_place(path, "short\n")
    assert path.stat().st_ino == inode and path.read_text() == "short\n"


def test_image_user_is_added_to_passwd() -> None:
    passwd, group = passwd_and_group("jovyan")
    assert "jovyan:x:1000:100::/home/jovyan:/bin/bash" in passwd.splitlines()
    assert sum(1 for line in passwd.splitlines() if line.split(":")[2] == "1000") == 1
    assert any(line.split(":")[2] == "100" for line in group.splitlines())
    assert passwd_and_group(None)[0] == Path("/etc/passwd").read_text()


def test_cri_log_lines_render_with_and_without_timestamps() -> None:
    assert render_line(b"2026-01-01T00:00:00.000000001Z stdout F hello world\n", False) == b"hello world\n"
    assert render_line(b"2026-01-01T00:00:00.000000001Z stderr P part", True) == (
        b"2026-01-01T00:00:00.000000001Z part"
    )


def test_read_log_tails_and_follows_until_the_writer_stops(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"".join(f"2026-01-01T00:00:0{i}.0Z stdout F line{i}\n".encode() for i in range(3)))
    writing = {"on": True}

    async def scenario() -> list[bytes]:
        out: list[bytes] = []

        async def consume() -> None:
            async for chunk in read_log(
                path, follow=True, still_writing=lambda: writing["on"], tail_lines=1, timestamps=False
            ):
                out.append(chunk)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.15)
        with open(path, "ab") as fh:
            fh.write(b"2026-01-01T00:00:09.0Z stdout F late\n")
        await asyncio.sleep(0.25)
        writing["on"] = False
        await asyncio.wait_for(task, 2)
        return out

    assert asyncio.run(scenario()) == [b"line2\n", b"late\n"]


def test_ipam_files_are_leases_named_by_ip(tmp_path: Path) -> None:
    ipam = IPAM(tmp_path, Net("10.213.6.0/24"), "10.213.6.1")
    ip = ipam.allocate("uid-1")
    assert (tmp_path / ip).read_text() == "uid-1"
    assert oct((tmp_path / ip).stat().st_mode & 0o777) == oct(0o644 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_proxy_listens_on_cluster_ip_and_node_ports_and_picks_named_endpoints() -> None:
    from harness.clusters.embedded.kubelet.context import ServiceCache
    from harness.clusters.embedded.kubelet.network import ClusterNetwork
    from harness.clusters.embedded.kubelet.service_proxy import ServiceProxy, endpoint_targets

    network = ClusterNetwork("10.213.1.0/24", "10.213.2.0/24", "10.213.1.1", "jhsc-x", Path("/nonexistent"))
    proxy = ServiceProxy(None, network, ServiceCache(), lambda: None)  # type: ignore[arg-type]
    svc = {
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.213.2.9",
            "ports": [
                {"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        }
    }
    assert proxy._wanted(svc) == {("10.213.2.9", 80): "http", ("10.213.1.1", 30080): "http"}
    assert proxy._wanted({"spec": {"clusterIP": "None", "ports": [{"port": 1}]}}) == {}
    endpoints = {
        "subsets": [
            {
                "addresses": [{"ip": "10.213.1.5"}, {"ip": "10.213.1.6"}],
                "ports": [{"name": "http", "port": 8000}, {"name": "api", "port": 8001}],
            },
            {"notReadyAddresses": [{"ip": "10.213.1.7"}], "ports": [{"name": "http", "port": 8000}]},
        ]
    }
    assert endpoint_targets(endpoints, "api") == [("10.213.1.5", 8001), ("10.213.1.6", 8001)]
    assert endpoint_targets(endpoints, "http") == [("10.213.1.5", 8000), ("10.213.1.6", 8000)]
    assert endpoint_targets(None, "") == []


def test_only_claims_of_dead_clusters_without_data_dir_are_abandoned(tmp_path: Path) -> None:
    import subprocess

    from harness.clusters.embedded.kubelet.host import process_start_time
    from harness.clusters.embedded.kubelet.network import _abandoned

    dead = subprocess.Popen(["true"])
    dead.wait()
    me = {"pid": os.getpid(), "pid_start": process_start_time(os.getpid())}
    gone = str(tmp_path / "deleted")
    assert _abandoned({"pid": dead.pid, "pid_start": 1, "data_dir": gone})
    assert not _abandoned({**me, "data_dir": gone})  # owner alive
    assert not _abandoned(
        {"pid": dead.pid, "pid_start": 1, "data_dir": str(tmp_path)}
    )  # `up` there cleans it
    assert not _abandoned({"data_dir": gone})  # no owner recorded: not ours to judge


def test_host_aliases_and_dns_config_are_rendered() -> None:
    hosts = render_hosts("p", "10.213.1.5", "ns", [], [{"ip": "192.0.2.9", "hostnames": ["a.example", "b"]}])
    assert hosts.splitlines()[-1] == "192.0.2.9\ta.example b"
    resolv = render_resolv_conf(
        "ns",
        "10.213.1.1",
        {"searches": ["corp.example"], "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]},
    )
    assert resolv.splitlines() == [
        "search ns.svc.cluster.local svc.cluster.local cluster.local corp.example",
        "nameserver 10.213.1.1",
        "options ndots:2 edns0",
    ]
