"""What every stage runs on, below both the Ray Data pipelines and training: run directories and
their records (``rundir``), the stage artifact and its provenance (``manifest``), a stage's claim on
its run directory (``stage``), the resumable Ray Data loop (``resumable``) and its progress reporter
(``progress``), storage URIs mirrored locally (``storage``), and joining or starting Ray with the
driver's secrets kept out of what Ray writes (``ray_setup``)."""
