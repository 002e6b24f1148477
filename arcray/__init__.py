"""arcray: a Ray-based platform for distilling reasoning into small open models."""

__version__ = "0.1.0"

from arcray.redaction import install_log_scrubber as _install_log_scrubber

_install_log_scrubber()  # no log record of any arcray process carries a key

# bitsandbytes warns on import, in every process that imports it (PEFT does whenever it is installed), that it found
# no CPU kernel on the hub (through the `kernels` package, which says so again offline): noise on every Ray worker of a
# run that asks for no 4-bit model. Levels, set before any arcray code can import them; arcray.llm.loading's
# quiet_libraries does the rest where models load.
import logging as _logging  # noqa: E402 (after the scrubber, which must come first)

for _name in ("bitsandbytes", "kernels"):
    _logging.getLogger(_name).setLevel(_logging.ERROR)
del _name
