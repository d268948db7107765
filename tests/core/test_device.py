"""Device choice: the spellings accepted, devices this machine lacks, out-of-memory errors."""
from __future__ import annotations

import pytest
import torch

from workbench.core.device import choose_device, is_out_of_memory
from workbench.core.errors import WorkbenchError


@pytest.mark.parametrize("name", ["cpu", "CPU", " Cpu ", torch.device("cpu")])
def test_cpu_in_any_case(name):
    assert choose_device(name) == torch.device("cpu")


def test_auto_and_none_pick_cuda_when_there_is_one():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device(None).type == choose_device("auto").type == expected


@pytest.mark.parametrize("name", ["gpu", "cuda:abc", "cpu:0", "mps:1", "", "cuda:-1"])
def test_unknown_names_list_the_accepted_spellings(name):
    with pytest.raises(WorkbenchError, match=r"unknown device .*cpu, cuda, cuda:N, mps or auto"):
        choose_device(name)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine offers MPS")
def test_mps_is_refused_where_pytorch_does_not_offer_it():
    with pytest.raises(WorkbenchError, match="MPS .* no MPS device"):
        choose_device("mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_is_refused_without_cuda():
    with pytest.raises(WorkbenchError, match="no CUDA device"):
        choose_device("CUDA:0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_index_beyond_the_devices_is_refused():
    with pytest.raises(WorkbenchError, match="there is no CUDA device"):
        choose_device(f"cuda:{torch.cuda.device_count()}")


def test_out_of_memory_errors_are_recognised_through_their_causes():
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    if hasattr(torch, "OutOfMemoryError"):
        assert is_out_of_memory(torch.OutOfMemoryError("x"))
    try:
        try:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate; out of memory")
        except RuntimeError as error:
            raise WorkbenchError("model does not accept input") from error
    except WorkbenchError as wrapped:
        assert is_out_of_memory(wrapped)
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of range"))
