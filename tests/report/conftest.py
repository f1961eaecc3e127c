"""The writers' tests share one small hand-built pack."""

import pytest
from hand_packs import small_pack


@pytest.fixture
def pack():
    return small_pack()
