"""The whole job on one host, for a converge and for a disaster rebuild alike:
the firewall first, the web door, then the GCS store or the Ray node, then monitoring."""

from seedcore.plan import plan_for
from seedcore.tasks.converge import converge
from seedcore.tasks.firewall import install_firewall
from seedcore.tasks.gcs_store import install_gcs_store
from seedcore.tasks.monitoring import watch_cluster
from seedcore.tasks.web import install_web_door
from seedcore.topology import role_of, settings_for
from seedcore.web import doors


def whole_cluster(host, inventory) -> None:
    # The host firewall first, on every host: no Ray port is ever open to the world.
    if settings_for(host)["firewall_manage"]:
        install_firewall(inventory)
    # The web door (nginx: TLS and a password) on the head and the monitoring host, the one way
    # people reach the dashboard and Prometheus; before the checks that knock on it.
    if doors(host, settings_for(host)):
        install_web_door(inventory)
    # The GCS store host (head fault tolerance) is not a Ray node; its Redis is up
    # before the head starts.
    if role_of(host) == "store":
        install_gcs_store(inventory)
    elif role_of(host) != "monitoring":
        converge(plan_for(host, inventory))
    # Monitoring (optional): Prometheus on the host in group `monitoring` (it may
    # also be a Ray node), once the nodes are up; Ray's Grafana dashboards from the head.
    # A lost monitoring host comes back with its Prometheus, like any other.
    watch_cluster(inventory)
