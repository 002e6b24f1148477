"""What every stage runs on, below both the Ray Data pipelines and training: run directories and
their records (``rundir``), storage URIs mirrored locally (``storage``), and joining or starting
Ray with the driver's secrets kept out of what Ray writes (``ray_setup``)."""
