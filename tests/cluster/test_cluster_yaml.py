"""cluster.yaml passes the Ray cluster launcher's own validation, and keeps its promises."""

import copy
import re
from pathlib import Path

import yaml

CLUSTER_YAML = Path(__file__).resolve().parents[2] / "cluster.yaml"


def load():
    return yaml.safe_load(CLUSTER_YAML.read_text())


def test_ray_validates_cluster_yaml():
    from ray.autoscaler._private.util import prepare_config, validate_config

    prepared = prepare_config(copy.deepcopy(load()))
    validate_config(prepared)  # raises on any schema violation
    assert prepared["head_node_type"] == "head"


def test_gpu_node_types_and_bounds():
    config = load()
    types = config["available_node_types"]
    assert types["gpu_a10g"]["resources"]["GPU"] == 1
    assert types["gpu_a100"]["resources"]["GPU"] == 8
    assert "GPU" not in types["head"]["resources"]
    assert sum(t.get("min_workers", 0) for t in types.values()) <= config["max_workers"]
    assert all(t.get("max_workers", 0) >= t.get("min_workers", 0) for t in types.values())


def test_security_of_the_workflow():
    config = load()
    text = CLUSTER_YAML.read_text()
    # no key in the repository: the only assignment reads the cloud's secret store on the node
    assert "AIza" not in text and re.findall(r"GEMINI_API_KEY=(\S{0,4})", text) == ['"$(a'] * 2
    assert all("secretsmanager get-secret-value" in c for c in config["head_start_ray_commands"] + config["worker_start_ray_commands"]
               if "ray start" in c)
    assert any("install-bubblewrap.sh" in c for c in config["setup_commands"])  # the sandbox confines with bwrap
    head = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head and "RAY_AUTH_MODE=token" in head
    assert all("RAY_AUTH_MODE=token" in c for c in config["worker_start_ray_commands"] if "ray start" in c)
    assert any("auth_token" in target for target in config["file_mounts"])
    assert any("arcray[all]" in c for c in config["setup_commands"])
