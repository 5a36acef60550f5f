"""What `chaos status` shows: instances and their health, links and their faults, where to look.

An on-call engineer reads this before and after every fault, so everything a
fault can change is on one screen: a paused or disconnected instance, a cut
link, a toxic, and the URLs of Flower, the lb's stats and the fault proxy.
"""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from chaos.cluster.controller import Cluster
from chaos.cluster.readiness import running_for
from chaos.compose import health
from chaos.nemesis.heal import active_faults


def show(cluster: Cluster, console: Console) -> None:
    instances = Table(title=f"stack {cluster.run_id}: {len(cluster.of('api'))} api + "
                            f"{len(cluster.of('worker'))} workers", title_justify="left")
    for column in ("instance", "health", "up", "reach it at (from this machine)"):
        instances.add_column(column)
    urls = cluster.api_urls()
    for name in [*cluster.fixed, *(i.name for s in ("api", "worker") for i in cluster.of(s))]:
        container = cluster.container(name)
        status = health(container)   # reloads the container, so the start time below is current
        instances.add_row(name, status, running_for(container.attrs["State"]), urls.get(name, ""))
    console.print(instances)

    assert cluster.toxiproxy is not None
    links = Table(title="links (Toxiproxy)", title_justify="left")
    for column in ("link", "upstream", "state", "toxics"):
        links.add_column(column)
    for name, proxy in sorted(cluster.toxiproxy.proxies().items()):
        toxics = ", ".join(f"{t['type']}({', '.join(f'{k}={v}' for k, v in t['attributes'].items())})"
                           for t in proxy.get("toxics") or [])
        links.add_row(name, proxy["upstream"], "up" if proxy["enabled"] else "[red]cut[/red]", toxics)
    console.print(links)

    faults = active_faults(cluster)
    console.print(f"active faults: {', '.join(map(str, faults)) if faults else 'none'}"
                  + ("   (heal them with `chaos heal --all`)" if faults else ""))
    console.print(f"lb {cluster.lb_url}   lb stats {cluster.lb_stats_url}/stats   flower {cluster.flower_url}   "
                  f"toxiproxy {cluster.toxiproxy_url}")
