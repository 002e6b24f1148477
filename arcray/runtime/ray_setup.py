"""Starting or joining Ray: a local instance of the run's own by default, the cluster in RAY_ADDRESS
when it is set; and how the driver's secrets reach Ray workers."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager

from arcray.errors import ArcrayError


# The driver's settings that Ray workers need (API keys among them). Never through a config,
# Tune's param_space, Train's train_loop_config or a runtime_env: Ray writes those into result
# folders or shows them in the dashboard. Ray Data actors get them as constructor arguments
# (kept in memory, shown nowhere); Train workers and Tune trials as a SecretEnv.
FORWARDED_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "ARCRAY_CACHE_DIR", "HF_HOME", "HF_HUB_OFFLINE")


def use_cpu_threads(cpus: float | None, device: object = None) -> None:
    """On CPU (``device``'s type, or no CUDA when not given), compute with as many torch threads as
    CPUs the actor or worker holds: Ray's OMP_NUM_THREADS may say 1."""
    try:
        import torch
    except ImportError:
        return
    on_cpu = torch.device(device).type == "cpu" if device is not None else not torch.cuda.is_available()
    if on_cpu:
        torch.set_num_threads(max(1, int(cpus or 1)))


def forwarded_env() -> dict[str, str]:
    """The driver's settings that actors need (API key, endpoint, caches), for an actor's constructor.

    Not a SecretEnv there: an actor that Ray may restart, with an object-store reference among its
    constructor arguments, makes every core worker log an error line about it."""
    return {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}


class SecretEnv:
    """The driver's :data:`FORWARDED_ENV`, handed to Ray workers by object-store reference.

    What pickles (into a Train function, a Tune trainable, or a file Ray writes) is only the
    reference; the values (a few hundred bytes) live in Ray's object store until a worker calls
    :meth:`apply`. tests/tuning/test_secrets.py checks that no file of a run or of Ray's temp
    folder holds them. Needs Ray to be initialised when made.
    """

    def __init__(self) -> None:
        import ray

        self._ref = ray.put(forwarded_env())

    def apply(self) -> None:
        """Set the driver's values in this worker's environment."""
        import ray

        os.environ.update(ray.get(self._ref))

    def __repr__(self) -> str:
        return "SecretEnv(<in Ray's object store>)"


def ensure_ray(*, num_cpus: int | None = None, quiet: bool = True) -> None:
    """Connect to the cluster in RAY_ADDRESS (as `ray job submit` sets it) or start a local Ray of this run's own."""
    try:
        import ray
    except ImportError:
        raise ArcrayError("this command needs Ray: pip install 'arcray[ray]'") from None
    if ray.is_initialized():
        return
    kwargs = {"ignore_reinit_error": True, "log_to_driver": True}
    if quiet:
        kwargs["logging_level"] = "ERROR"
    address = os.environ.get("RAY_ADDRESS") or None
    try:
        if address is None:
            # Ray Train's preemption watcher follows node drains (spot reclaims, autoscaler scale-down) on a cluster;
            # this run's own local instance is one node that nothing drains, and the watcher's start logs a Ray core
            # error line in every training run's console ("constructor arguments in the object store"). Its workers
            # inherit the environment Ray starts with; a value the user set stays.
            os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")
            with _own_local_instance():
                context = ray.init(address="local", **kwargs, **({"num_cpus": num_cpus} if num_cpus is not None else {}))
        else:
            context = ray.init(address=address, **kwargs)
    except ConnectionError as error:
        raise ArcrayError(
            f"cannot reach the Ray cluster at {address!r} ({error}); start it with "
            "`ray start --head` or unset RAY_ADDRESS to run locally"
        ) from None
    _say_where_the_dashboard_is(getattr(context, "dashboard_url", None))
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False  # arcray draws its own, with solved counts and tokens
    context.print_on_execution_start = False
    # ...so Ray Data's warning that its bars are off (arcray's choice) and its line per finished dataset (arcray's
    # progress line says it) go too; its other warnings stay.
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    logging.getLogger("ray.data._internal.execution.streaming_executor").setLevel(logging.WARNING)


def _say_where_the_dashboard_is(url: str | None) -> None:
    """One line on stderr: where this run's dashboard is, and where its token comes from when Ray asks for one."""
    if not url:
        return  # Ray without its dashboard (ray[default] not installed)
    address = url if "://" in url else f"http://{url}"
    token = " (it asks for the token `ray get-auth-token` prints)" if os.environ.get("RAY_AUTH_MODE") == "token" else ""
    print(f"Ray dashboard: {address}{token}", file=sys.stderr, flush=True)


@contextmanager
def _own_local_instance():
    """Around ray.init: a new local instance that only this run uses.

    Without an address, ray.init() joins whatever `ray start` left running, and Ray's own
    helpers that look the cluster up (Train's placement-group cleaner, the State API) fail with
    "Found multiple active Ray instances" when two runs share a machine. So the GCS port is
    chosen here and RAY_ADDRESS names it while the instance starts: its processes, and every
    worker they start, inherit it and find this instance and no other. The driver's own
    environment is left as it was (a later subprocess starts its own instance, as before).
    """
    import socket

    from ray.util import get_node_ip_address

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Ray starts only as many workers at once as there are CPUs; a pool of I/O-bound actors
    # (API teachers at a fraction of a CPU each) would then come up two at a time here.
    os.environ.setdefault("RAY_worker_maximum_startup_concurrency", "16")
    os.environ["RAY_GCS_SERVER_PORT"] = str(port)
    os.environ["RAY_ADDRESS"] = f"{get_node_ip_address()}:{port}"
    try:
        yield
    finally:
        os.environ.pop("RAY_GCS_SERVER_PORT", None)
        os.environ.pop("RAY_ADDRESS", None)
