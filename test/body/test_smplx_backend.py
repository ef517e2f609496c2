import importlib.util

import pytest

from hoi_perception.body import load_body_model


@pytest.mark.skipif(importlib.util.find_spec("smplx") is not None, reason="smplx is installed here")
def test_missing_smplx_package_raises_a_clear_error():
    with pytest.raises(ImportError, match="smplx"):
        load_body_model("smplx", kind="body")


@pytest.mark.skipif(importlib.util.find_spec("smplx") is None, reason="needs the optional smplx package")
def test_missing_model_files_raise_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="SMPLX_NEUTRAL"):
        load_body_model("smplx", kind="body", model_dir=str(tmp_path))
