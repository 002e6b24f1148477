"""arcray: a Ray-based platform for distilling reasoning into small open models."""

__version__ = "0.1.0"

from arcray.redaction import install_log_scrubber as _install_log_scrubber

_install_log_scrubber()  # no log record of any arcray process carries a key
