"""bench/peers/available.py — checks, before a benchmark starts, that the peer's interpreter has
PyTorch and NumPy, so that a missing package stops the run at once with what to install rather
than with a traceback after the first gammacl timings; and keeps the peers' BLAS from being held
to older kernels than the CPU has."""
import os
import subprocess
import sys


def missing_peer(python):
    """Returns None when `python` imports torch and numpy, else a message saying what to do."""
    try:
        p = subprocess.run([python, "-c", "import numpy, torch"], capture_output=True, text=True)
    except OSError as e:
        return f"cannot run the peer's interpreter {python}: {e.strerror}"
    if p.returncode == 0:
        return None
    last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
    return (f"the peer's interpreter {python} cannot import PyTorch and NumPy ({last}); on Debian "
            f"install python3-torch (source scripts/setup.sh; gammacl_install_packages python3-torch), "
            f"or name another interpreter with --python")


def free_openblas_kernels(prog):
    """Drops OPENBLAS_CORETYPE from the environment the benchmark's processes inherit: forced to
    an older core (Haswell: 256-bit kernels on an AVX-512 CPU), OpenBLAS, and the PyTorch that
    calls it, would run slower than they can, and every ratio against them would flatter gammacl."""
    forced = os.environ.pop("OPENBLAS_CORETYPE", None)
    if forced:
        print(f"{prog}: OPENBLAS_CORETYPE={forced} dropped, so that OpenBLAS picks its own kernels "
              f"for the peers", file=sys.stderr, flush=True)
