from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def hand_model():
    from hoi_perception.body.anny_model import AnnyBodyModel

    return AnnyBodyModel("hand_right")


@pytest.fixture(scope="session")
def body():
    from hoi_perception.assets import body_model

    return body_model()
