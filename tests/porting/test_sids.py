import pytest

from app.porting import sids


def test_minted_sids_have_the_shape_and_prefix() -> None:
    sid = sids.mint(sids.PORT_ORDER)
    assert len(sid) == 34 and sids.is_sid(sid, sids.PORT_ORDER)
    assert not sids.is_sid(sid, sids.LOA)
    assert sids.prefix_of(sid) == "PO"


@pytest.mark.parametrize(
    "value",
    [
        "PO" + "0" * 32 + "\n",  # a trailing newline is not part of a SID
        "PO" + "A" * 32,  # upper-case hex
        "po" + "0" * 32,
        "PO" + "0" * 31,
        " PO" + "0" * 32,
        "",
        None,
        34,
    ],
)
def test_anything_else_is_not_a_sid(value: object) -> None:
    assert not sids.is_sid(value)
