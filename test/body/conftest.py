"""Shared body/hand models: built (or loaded from the anny cache) once per test session."""
import pytest
import torch

from hoi_perception.body import load_body_model


@pytest.fixture(scope="session")
def body():
    return load_body_model("anny", kind="body")


@pytest.fixture(scope="session")
def hand_left():
    return load_body_model("anny", kind="hand_left")


@pytest.fixture(scope="session")
def hand_right():
    return load_body_model("anny", kind="hand_right")


@pytest.fixture(scope="session")
def body_rest(body):
    with torch.no_grad():
        return body(body.rest_params(1), keypoints=True)
