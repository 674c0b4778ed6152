"""Which device torch runs on, and how many CPU threads it (and ONNX Runtime) may use."""

from __future__ import annotations

import logging
import threading

from ml.settings import MLSettings

logger = logging.getLogger(__name__)
_threads_lock = threading.Lock()
_threads_set: int | None = None


def torch_device(settings: MLSettings) -> str:
    """``cuda`` (or ``cuda:N``) when asked for or, with ``auto``, when present; else ``cpu``.

    On CPU the process's torch thread count is set to ``ML_NUM_THREADS`` once.
    """
    import torch

    wanted = settings.device
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    elif wanted.startswith("cuda") and not torch.cuda.is_available():
        logger.warning("ml.device_fallback wanted=%s used=cpu reason=no_cuda", wanted)
        wanted = "cpu"
    if wanted == "cpu":
        set_cpu_threads(settings.num_threads)
    return wanted


def set_cpu_threads(count: int) -> None:
    global _threads_set
    if _threads_set == count:
        return
    with _threads_lock:
        import torch

        torch.set_num_threads(count)
        _threads_set = count
