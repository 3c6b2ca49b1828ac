"""Port order input validation: codes, fields, normalization (CONTRACT.md §2, 5 and 7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import phonenumbers
import pytest

from app.porting.errors import PortingErrors
from app.porting.statuses import PortType
from app.porting.validation import (
    WRITE_ONLY,
    PortOrderFields,
    detect_port_type,
    validate_create,
    validate_update,
)

US_NUMBER = "+14155552671"  # San Francisco, FIXED_LINE_OR_MOBILE
US_NUMBER_2 = "+12125551234"
US_TOLL_FREE = "+18002345678"
GB_MOBILE = "+447400123456"
GB_LANDLINE = "+442079460958"

VALID: dict[str, object] = {
    "number": US_NUMBER,
    "iso_country": "US",
    "region": "CA",
    "city": "San Francisco",
    "postal_code": "94107",
    "street": "1 Main St",
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@example.com",
}
MOBILE_EXTRAS: dict[str, object] = {
    "ssn_last_four": "1234",
    "account_number": "ACC-42",
    "pin_number": "0000",
}
GB_ADDRESS: dict[str, object] = {
    "iso_country": "GB",
    "region": "England",
    "city": "London",
    "postal_code": "SW1A 1AA",
}


def order(**changes: object) -> dict[str, object]:
    return {**VALID, **changes}


def failures(raw: Mapping[str, object]) -> list[tuple[int, str | None]]:
    with pytest.raises(PortingErrors) as info:
        validate_create(raw)
    return [(e.code, e.field) for e in info.value.errors]


def test_fixture_numbers_are_real() -> None:
    for n in (US_NUMBER, US_NUMBER_2, US_TOLL_FREE, GB_MOBILE, GB_LANDLINE):
        assert phonenumbers.is_valid_number(phonenumbers.parse(n, None)), n


def test_valid_order_is_normalized() -> None:
    fields = validate_create(
        order(
            number=" +1 (415) 555-2671 ",
            iso_country="us",
            region="us-ca",
            city="  SAN FRANCISCO ",
            email="Jane.Doe@Example.COM",
            status_updates_email="Ops@Example.COM",
            billing_phone_number="+1 212 555 1234",
            activation_date="2026-05-01T10:00:00+02:00",
            cc_emails=["a@Example.com", " b@example.org "],
            status_callback="https://hooks.example.com/porting?x=1",
            company_name=" Acme ",
            port_type="landline",
        )
    )
    assert fields == PortOrderFields(
        number=US_NUMBER,
        port_type=PortType.LANDLINE,
        friendly_name="(415) 555-2671",
        iso_country="US",
        region="CA",
        city="SAN FRANCISCO",
        postal_code="94107",
        street="1 Main St",
        first_name="Jane",
        last_name="Doe",
        email="Jane.Doe@example.com",
        company_name="Acme",
        status_updates_email="Ops@example.com",
        billing_phone_number=US_NUMBER_2,
        activation_date=datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
        status_callback="https://hooks.example.com/porting?x=1",
        cc_emails=["a@example.com", "b@example.org"],
    )


def test_empty_request_reports_every_missing_field_at_once() -> None:
    # With no number the port type is unknown, so the MOBILE-only 21809/21810 do not apply.
    assert failures({}) == [
        (21801, "number"),
        (21802, "iso_country"),
        (21803, "region"),
        (21804, "city"),
        (21805, "postal_code"),
        (21806, "street"),
        (21807, "first_name"),
        (21808, "last_name"),
        (21811, "email"),
    ]


def test_blank_and_none_count_as_missing_and_unknown_keys_are_ignored() -> None:
    raw = order(city="   ", street=None, sid="PO123", Number="ignored")
    assert failures(raw) == [(21804, "city"), (21806, "street")]


def test_errors_are_ordered_by_field() -> None:
    raw = order(
        cc_emails=["nope"],
        number="+1",
        email="bad@",
        first_name="J4ne",
        status_callback="ftp://x.example.com",
    )
    assert failures(raw) == [
        (21812, "number"),
        (21828, "first_name"),
        (21818, "email"),
        (21819, "status_callback"),
        (21820, "cc_emails"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("number", "+1415555", 21812),
        ("number", "14155552671", 21812),  # no "+"
        ("number", "+19999999999", 21812),  # well formed, not a valid number
        ("number", "+1 415 555 2671 ext. 9", 21812),
        ("number", ["+14155552671"], 21812),
        ("iso_country", "USA", 21813),
        ("iso_country", "ZZ", 21813),
        ("iso_country", "U1", 21813),
        ("first_name", "J4ne", 21828),
        ("first_name", "Ja\x00ne", 21861),  # a control character: the character policy
        ("last_name", "D" * 65, 21828),
        ("last_name", "Doe!", 21828),
        ("last_name", "---", 21828),
        ("email", "jane@", 21818),
        ("email", "jane@localhost", 21818),
        ("email", "Jane <jane@example.com>", 21818),
        ("status_updates_email", "no-at-sign", 21818),
        ("cc_emails", ["ok@example.com", "bad@"], 21820),
        ("cc_emails", "a@example.com,b@example.com", 21820),
        ("cc_emails", {"a": "a@example.com"}, 21820),
        ("cc_emails", [42], 21820),
        ("cc_emails", [f"u{i}@example.com" for i in range(21)], 21820),
        ("billing_phone_number", "+1555", 21815),
        ("billing_phone_number", "2125551234", 21815),
        ("activation_date", "2026-05-01", 21814),
        ("activation_date", "2026-05-01T10:00:00", 21814),
        ("activation_date", "next tuesday", 21814),
        ("activation_date", datetime(2026, 5, 1, 10, 0), 21814),
        ("activation_date", 1777629600, 21814),
        ("status_callback", "ftp://example.com/cb", 21819),
        ("status_callback", "javascript:alert(1)", 21819),
        ("status_callback", "/relative/path", 21819),
        ("status_callback", "https://exa mple.com/cb", 21819),
        ("status_callback", "https:///no-host", 21819),
        ("status_callback", "https://example.com:99999/", 21819),
        ("status_callback", "https://example.com/" + "a" * 2048, 21819),
        ("ssn_last_four", "123", 21817),
        ("ssn_last_four", "12345", 21817),
        ("ssn_last_four", "12a4", 21817),
        ("ssn_last_four", "١٢٣٤", 21817),  # non-ASCII digits
        ("pin_number", "12-34", 21816),
        ("pin_number", "x" * 21, 21816),
        ("friendly_name", "x" * 65, 20002),
        ("port_type", "satellite", 20001),
        ("port_type", 3, 20001),
        ("city", ["San Francisco"], 20001),
    ],
)
def test_invalid_value_reports_its_code_and_field(field: str, value: object, code: int) -> None:
    assert failures(order(**{field: value})) == [(code, field)]


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("number", 21801),
        ("iso_country", 21802),
        ("region", 21803),
        ("city", 21804),
        ("postal_code", 21805),
        ("street", 21806),
        ("first_name", 21807),
        ("last_name", 21808),
        ("email", 21811),
    ],
)
def test_missing_required_field(field: str, code: int) -> None:
    raw = order()
    del raw[field]
    assert failures(raw) == [(code, field)]
    assert failures(order(**{field: ""})) == [(code, field)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # decomposed accent, NFC-normalized
        ("O'Brien", "O'Brien"),
        ("O\u2019Brien", "O\u2019Brien"),
        ("Mary-Jane", "Mary-Jane"),
        ("J. R. R.", "J. R. R."),
        ("山田", "山田"),
        ("Иванов", "Иванов"),
        ("देवनागरी", "देवनागरी"),
        ("x" * 64, "x" * 64),
    ],
)
def test_signer_names_of_any_script_are_accepted(name: str, expected: str) -> None:
    assert validate_create(order(first_name=name)).first_name == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10, 0, tzinfo=UTC)),
        ("2026-05-01T10:00:00+02:00", datetime(2026, 5, 1, 8, 0, tzinfo=UTC)),
        ("2026-05-01 10:00-07:00", datetime(2026, 5, 1, 17, 0, tzinfo=UTC)),
        (
            datetime(2026, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=9))),
            datetime(2026, 5, 1, 1, 0, tzinfo=UTC),
        ),
    ],
)
def test_activation_date_is_aware_and_converted_to_utc(value: object, expected: datetime) -> None:
    result = validate_create(order(activation_date=value)).activation_date
    assert result == expected
    assert result is not None and result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ([], []),
        ("one@example.com", ["one@example.com"]),
        (("a@example.com", "B@Example.com"), ["a@example.com", "B@example.com"]),
    ],
)
def test_cc_emails_shapes(value: object, expected: list[str]) -> None:
    assert validate_create(order(cc_emails=value)).cc_emails == expected


def test_twenty_cc_emails_are_allowed() -> None:
    emails = [f"u{i}@example.com" for i in range(20)]
    assert validate_create(order(cc_emails=emails)).cc_emails == emails


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (94107, "94107"),
        (94107.0, "94107"),
        ("94107-1234", "94107-1234"),
        ("941071234", "94107-1234"),
    ],
)
def test_postal_code_may_be_a_number(value: object, expected: str) -> None:
    assert validate_create(order(postal_code=value)).postal_code == expected


def test_us_postal_code_number_gets_its_leading_zero_back() -> None:
    raw = order(region="MA", city="Cambridge", postal_code=2139)
    assert validate_create(raw).postal_code == "02139"


@pytest.mark.parametrize("url", ["http://example.com", "https://hooks.example.com:8443/a?b=c#d"])
def test_status_callback_accepts_http_urls(url: str) -> None:
    assert validate_create(order(status_callback=url)).status_callback == url


def test_write_only_values_are_accepted_and_not_echoed_in_messages() -> None:
    assert WRITE_ONLY == ("ssn_last_four", "account_number", "pin_number")
    fields = validate_create(order(ssn_last_four=1234, pin_number="Ab12", account_number=987))
    assert (fields.ssn_last_four, fields.pin_number, fields.account_number) == (
        "1234",
        "Ab12",
        "987",
    )
    with pytest.raises(PortingErrors) as info:
        validate_create(order(ssn_last_four="98x7", pin_number="se-cret"))
    assert all("98x7" not in str(e) and "se-cret" not in str(e) for e in info.value.errors)


# --- port type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (US_NUMBER, PortType.UNKNOWN),  # the NANP does not separate mobile from fixed
        (US_TOLL_FREE, PortType.TOLL_FREE),
        ("+18882345678", PortType.TOLL_FREE),
        (GB_MOBILE, PortType.MOBILE),
        (GB_LANDLINE, PortType.LANDLINE),
        ("+33612345678", PortType.MOBILE),
        ("not a number", PortType.UNKNOWN),
    ],
)
def test_detect_port_type(number: str, expected: PortType) -> None:
    assert detect_port_type(number) is expected


def test_port_type_is_detected_on_create() -> None:
    assert validate_create(order(number=US_TOLL_FREE)).port_type is PortType.TOLL_FREE
    gb = validate_create(order(number=GB_LANDLINE, **GB_ADDRESS))
    assert gb.port_type is PortType.LANDLINE


@pytest.mark.parametrize("value", ["mobile", "Mobile", " MOBILE ", PortType.MOBILE])
def test_stated_port_type_in_any_case_wins(value: object) -> None:
    fields = validate_create(order(port_type=value, **MOBILE_EXTRAS))
    assert fields.port_type is PortType.MOBILE


@pytest.mark.parametrize(
    ("value", "expected"), [("toll-free", "TOLL_FREE"), ("Toll Free", "TOLL_FREE")]
)
def test_port_type_spelling_variants(value: str, expected: str) -> None:
    assert validate_create(order(port_type=value)).port_type == expected


# --- MOBILE requirements ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ((), []),
        (("account_number", "ssn_last_four"), [(21836, "account_number")]),
        (("account_number",), [(21809, "account_number")]),
        (("ssn_last_four",), [(21824, "ssn_last_four")]),
        (("pin_number",), [(21810, "pin_number")]),
        (
            ("account_number", "ssn_last_four", "pin_number"),
            [(21836, "account_number"), (21810, "pin_number")],
        ),
    ],
)
def test_mobile_orders_need_carrier_credentials(
    missing: tuple[str, ...], expected: list[tuple[int, str]]
) -> None:
    raw = order(number=GB_MOBILE, **GB_ADDRESS, **MOBILE_EXTRAS)
    for name in missing:
        raw[name] = None
    if expected:
        assert failures(raw) == expected
    else:
        assert validate_create(raw).port_type is PortType.MOBILE


def test_mobile_with_invalid_ssn_reports_the_format_not_missing() -> None:
    raw = order(port_type="MOBILE", **{**MOBILE_EXTRAS, "ssn_last_four": "12"})
    assert failures(raw) == [(21817, "ssn_last_four")]


@pytest.mark.parametrize(
    ("number", "extra"),
    [(GB_LANDLINE, GB_ADDRESS), (US_TOLL_FREE, {}), (US_NUMBER, {})],
)
def test_non_mobile_orders_do_not_need_carrier_credentials(
    number: str, extra: dict[str, object]
) -> None:
    fields = validate_create(order(number=number, **extra))
    assert fields.port_type is not PortType.MOBILE
    assert (fields.ssn_last_four, fields.account_number, fields.pin_number) == (None, None, None)


def test_non_mobile_credentials_are_still_format_checked() -> None:
    raw = order(number=GB_LANDLINE, **GB_ADDRESS, ssn_last_four="1", pin_number="!")
    assert failures(raw) == [(21817, "ssn_last_four"), (21816, "pin_number")]


# --- US service addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region": "XX"}, "region"),
        ({"region": "California"}, "region"),
        ({"postal_code": "9410"}, "postal_code"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"postal_code": "00000"}, "postal_code"),  # no such ZIP
        ({"postal_code": "10001"}, "postal_code"),  # a New York ZIP in CA
        ({"region": "NY"}, "postal_code"),  # a CA ZIP in NY
        ({"city": "Oakland"}, "city"),
        ({"city": "New York", "region": "NY", "postal_code": "10001", "number": US_NUMBER_2}, None),
        ({"city": "Manhattan", "region": "NY", "postal_code": "10001"}, "city"),
    ],
)
def test_us_address_must_hang_together(changes: dict[str, object], field: str | None) -> None:
    raw = order(**changes)
    if field is None:
        validate_create(raw)
        return
    assert failures(raw) == [(21834, field)]
    with pytest.raises(PortingErrors) as info:
        validate_create(raw)
    for error in info.value.errors:  # no value that was sent comes back in the message
        for sent in (raw["postal_code"], raw["region"], raw["city"]):
            assert str(sent).lower() not in str(error.message).lower(), error.message


@pytest.mark.parametrize(
    ("city", "region", "postal_code"),
    [
        ("SAN FRANCISCO", "CA", "94107"),
        ("san   francisco.", "ca", "94107"),
        ("St. Louis", "MO", "63101"),
        ("Cañon City", "CO", "81212"),
        ("Brookside", "CO", "81212"),  # one of the ZIP's acceptable city names
        ("Old San Juan", "PR", "00901"),
        ("Washington", "US-DC", "20500"),
    ],
)
def test_us_city_matching_is_lenient(city: str, region: str, postal_code: str) -> None:
    fields = validate_create(order(city=city, region=region, postal_code=postal_code))
    assert fields.region == region.upper().removeprefix("US-")
    assert fields.city == city.strip()


def test_non_us_addresses_skip_postal_checks() -> None:
    fields = validate_create(order(iso_country="de", region="Berlin", city="X", postal_code=1))
    assert (fields.iso_country, fields.region, fields.postal_code) == ("DE", "Berlin", "1")


def test_missing_us_region_reports_only_missing() -> None:
    assert failures(order(region=None)) == [(21803, "region")]


# --- defaults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "extra", "expected"),
    [
        (US_NUMBER, {}, "(415) 555-2671"),
        (GB_LANDLINE, GB_ADDRESS, "020 7946 0958"),
    ],
)
def test_default_friendly_name_is_the_national_format(
    number: str, extra: dict[str, object], expected: str
) -> None:
    assert validate_create(order(number=number, **extra)).friendly_name == expected
    assert (
        validate_create(order(number=number, friendly_name="", **extra)).friendly_name == expected
    )


def test_explicit_friendly_name_is_kept() -> None:
    assert validate_create(order(friendly_name=" Main line ")).friendly_name == "Main line"


# --- update -------------------------------------------------------------------------------


@pytest.fixture
def current() -> PortOrderFields:
    return validate_create(
        order(
            company_name="Acme",
            cc_emails=["a@example.com"],
            activation_date="2026-05-01T10:00:00Z",
            account_number="ACC-1",
        )
    )


def test_update_with_nothing_changes_nothing(current: PortOrderFields) -> None:
    assert validate_update(current, {}) == current


def test_update_overrides_present_keys_only(current: PortOrderFields) -> None:
    updated = validate_update(current, {"street": " 2 Main St ", "unknown": 1})
    assert updated == replace(current, street="2 Main St")
    assert updated is not current


@pytest.mark.parametrize(
    "field", ["company_name", "cc_emails", "activation_date", "account_number"]
)
@pytest.mark.parametrize("empty", [None, ""])
def test_update_clears_optional_fields(current: PortOrderFields, field: str, empty: object) -> None:
    updated = validate_update(current, {field: empty})
    assert getattr(updated, field) == ([] if field == "cc_emails" else None)


def test_update_clearing_required_fields_reports_missing(current: PortOrderFields) -> None:
    with pytest.raises(PortingErrors) as info:
        validate_update(current, {"city": None, "email": "", "street": "ok"})
    assert [(e.code, e.field) for e in info.value.errors] == [(21804, "city"), (21811, "email")]


def test_update_validates_with_create_rules(current: PortOrderFields) -> None:
    with pytest.raises(PortingErrors) as info:
        validate_update(current, {"postal_code": "10001", "pin_number": "?"})
    assert [(e.code, e.field) for e in info.value.errors] == [
        (21834, "postal_code"),
        (21816, "pin_number"),
    ]


def test_update_number_change_redetects_port_type_and_default_name(
    current: PortOrderFields,
) -> None:
    updated = validate_update(current, {"number": US_TOLL_FREE})
    assert updated.number == US_TOLL_FREE
    assert updated.port_type is PortType.TOLL_FREE
    assert updated.friendly_name == "(800) 234-5678"


def test_update_number_change_keeps_a_custom_friendly_name(current: PortOrderFields) -> None:
    named = replace(current, friendly_name="Front desk")
    assert validate_update(named, {"number": US_TOLL_FREE}).friendly_name == "Front desk"


def test_update_number_change_with_stated_port_type(current: PortOrderFields) -> None:
    updated = validate_update(current, {"number": US_TOLL_FREE, "port_type": "landline"})
    assert updated.port_type is PortType.LANDLINE


def test_update_without_number_change_keeps_stated_port_type(current: PortOrderFields) -> None:
    landline = replace(current, port_type=PortType.LANDLINE)
    assert validate_update(landline, {"number": US_NUMBER}).port_type is PortType.LANDLINE
    assert validate_update(landline, {"city": "San Francisco"}).port_type is PortType.LANDLINE


def test_update_to_mobile_enforces_mobile_rules(current: PortOrderFields) -> None:
    with pytest.raises(PortingErrors) as info:
        validate_update(current, {"port_type": "MOBILE"})
    # account_number is already on the order, so only the SSN and PIN are missing.
    assert [(e.code, e.field) for e in info.value.errors] == [
        (21824, "ssn_last_four"),
        (21810, "pin_number"),
    ]


def test_update_invalid_number_is_21812(current: PortOrderFields) -> None:
    with pytest.raises(PortingErrors) as info:
        validate_update(current, {"number": "+1"})
    assert [(e.code, e.field) for e in info.value.errors] == [(21812, "number")]
