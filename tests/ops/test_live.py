"""The operations view of a real `portico serve` (SQLite, JSON logs) after a sandbox run.

One server and one run for the module: an order created over REST that completes in the
sandbox (its callbacks answered 200), an order rejected at creation over GraphQL whose
callbacks get 410 (dead at once), REST errors, GraphQL operations that succeed or are invalid,
one refused as unauthorized before its document is read, and one websocket subscription held
open while /metrics is scraped. Then: each
metric is there with the counts the run made, the text parses with prometheus_client's parser,
every log line is a JSON object carrying the request id its response returned, no log line
holds a secret or personal data, and `portico queue` and the README's alert rules agree.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from app.services import accounts
from app.store.migrate import upgrade
from app.wiring import build_services
from tests.builders import basic
from tests.conftest import SECRET
from tests.delivery.receiver import Receiver
from tests.operators.live import _signing_link
from tests.ops.live import Served, serve, wait_for
from tests.test_serve import PORTICO

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "+14159872001"  # completes
REJECTED = "+14159870001"  # not portable: rejected at creation
FIRST, LAST = "Wilhelmina", "Quargleton"
EMAIL = "wilhelmina.q@example.org"
STREET = "1 Zyzzyva Lane"
SHOWN = re.compile(r'name="text_sha256" value="([0-9a-f]{64})"')
SIGNING = re.compile(r"/loa/sign/([A-Za-z0-9_\-.]+)")
MINTED = re.compile(r"[0-9a-f]{32}")

ORDER = "query OpsOrder($sid: ID!) { portOrder(sid: $sid) { sid status } }"
CREATE = """mutation OpsCreate($input: CreatePortOrderInput!) {
  createPortOrder(input: $input) { portOrder { sid status loaSid } userErrors { code } } }"""
SIGN = "mutation OpsSign($sid: ID!) { signLoa(sid: $sid) { loa { status } userErrors { code } } }"
LIST = "query OpsList { portOrders(first: 50) { edges { node { sid number loa { sid } } } } }"
SUBSCRIBE = "subscription OpsWatch($sid: ID) { portOrderStatusChanged(sid: $sid) { status } }"


@dataclass
class Run:
    served: Served
    database_url: str
    account_sid: str
    auth_token: str
    order_sid: str = ""
    signing_token: str = ""
    http: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # method, route, status
    graphql: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # op, type, outcome
    request_ids: dict[str, str] = field(default_factory=dict)  # what the test sent -> returned
    metrics_text: str = ""

    @property
    def auth(self) -> tuple[str, str]:
        return (self.account_sid, self.auth_token)


def order_fields(number: str, callback: str, **more: str) -> dict[str, str]:
    return {
        "number": number,
        "iso_country": "US",
        "region": "CA",
        "city": "San Francisco",
        "postal_code": "94107",
        "street": STREET,
        "first_name": FIRST,
        "last_name": LAST,
        "email": EMAIL,
        "status_callback": callback,
        **more,
    }


def camel(raw: dict[str, str]) -> dict[str, str]:
    return {
        k.split("_")[0] + "".join(p.title() for p in k.split("_")[1:]): v for k, v in raw.items()
    }


class Client:
    """Every request the run makes, counted by (method, route template, status)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.http = httpx.Client(base_url=run.served.url, timeout=10)

    def call(self, method: str, route: str, path: str, **kw: Any) -> httpx.Response:
        response = self.http.request(method, path, **kw)
        self.run.http[(method, route, str(response.status_code))] += 1
        return response

    def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        op: tuple[str, str, str] | None,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        response = self.call(
            "POST",
            "/graphql",
            "/graphql",
            json={"query": query, "variables": variables or {}},
            auth=auth or self.run.auth,
            headers=headers,
        )
        if op is not None:
            self.run.graphql[op] += 1
        return response


def sign_from_the_email(run: Run, client: Client, mail_dir: Path) -> None:
    link = wait_for(lambda: _signing_link(mail_dir), "no signature request in the outbox")
    token = SIGNING.search(link)
    assert token is not None
    run.signing_token = token.group(1)
    path = f"/loa/sign/{run.signing_token}"
    page = client.call("GET", "/loa/sign/{token}", path)
    assert page.status_code == 200, page.text
    shown = SHOWN.search(page.text)
    assert shown is not None
    form = {"signer_name": f"{FIRST} {LAST}", "agree": "yes", "text_sha256": shown.group(1)}
    assert client.call("POST", "/loa/sign/{token}", path, data=form).status_code == 200


def scrape(served: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{served.url}/metrics", timeout=10).text
    return samples(text)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def _sandbox_run(run: Run, receiver: Receiver, mail_dir: Path) -> None:
    client = Client(run)
    ok, gone = receiver.url("/ok"), receiver.url("/gone")

    # REST: a create (with our own request id), a read, a 404, a 401, a 405.
    created = client.call(
        "POST",
        "/porting/PortOrders",
        "/porting/PortOrders",
        json=order_fields(NUMBER, ok),
        auth=run.auth,
        headers={"X-Request-Id": "ops-test.create-1"},
    )
    assert created.status_code == 201, created.text
    run.request_ids["ops-test.create-1"] = created.headers["x-request-id"]
    run.order_sid = created.json()["sid"]
    order_path = f"/porting/PortOrders/{run.order_sid}"
    assert (
        client.call("GET", "/porting/PortOrders/{sid}", order_path, auth=run.auth).status_code
        == 200
    )
    missing = "/porting/PortOrders/PO" + "0" * 32
    assert (
        client.call("GET", "/porting/PortOrders/{sid}", missing, auth=run.auth).status_code == 404
    )
    assert client.call("GET", "/porting/PortOrders", "/porting/PortOrders").status_code == 401
    assert client.call("PATCH", "/porting/Loas", "/porting/Loas", auth=run.auth).status_code == 405

    # GraphQL: a create rejected by the sandbox (its callbacks get 410), signing, a list,
    # an invalid document, wrong credentials, an unsafe request id.
    rejected = client.gql(
        CREATE,
        {"input": camel(order_fields(REJECTED, gone, first_name="Other"))},
        op=("OpsCreate", "mutation", "ok"),
    ).json()["data"]["createPortOrder"]["portOrder"]
    assert rejected["status"] == "REJECTED"
    loa_sid = created.json()["loa_sid"]
    signed = client.gql(SIGN, {"sid": loa_sid}, op=("OpsSign", "mutation", "ok")).json()
    assert signed["data"]["signLoa"]["loa"]["status"] == "SIGNING"
    sign_from_the_email(run, client, mail_dir)
    listed = client.gql(LIST, op=("OpsList", "query", "ok"), headers={"X-Request-Id": "bad id!"})
    run.request_ids["bad id!"] = listed.headers["x-request-id"]
    assert client.gql("{ nope }", op=("anonymous", "query", "invalid")).status_code in (200, 400)
    denied = client.gql(
        ORDER,
        {"sid": run.order_sid},
        op=None,  # refused before its document is read: no GraphQL operation (HTTP's 401)
        auth=(run.account_sid, "0" * 32),
    )
    assert denied.status_code == 401

    def completed() -> bool:
        got = client.gql(ORDER, {"sid": run.order_sid}, op=("OpsOrder", "query", "ok"))
        return bool(got.json()["data"]["portOrder"]["status"] == "COMPLETED")

    wait_for(completed, "the order never completed")

    # Every delivery settled: 5 callbacks of the completed order delivered, 2 of the rejected
    # one dead, and nothing due.
    def settled() -> dict[Any, float] | None:
        found = scrape(run.served)
        attempts = "portico_delivery_attempts_total"
        done = (
            value(found, attempts, channel="callback", outcome="delivered") == 5
            and value(found, attempts, channel="callback", outcome="dead") == 2
            and all(value(found, "portico_queue_backlog", kind=k) == 0 for k in KINDS)
        )
        return found if done else None

    wait_for(settled, "the deliveries never settled")


KINDS = ("carrier_step", "callback", "email")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("ops")
    database_url = f"sqlite+aiosqlite:///{tmp / 'portico.db'}"
    upgrade(database_url)
    receiver = Receiver(answer=lambda r: 410 if "/gone" in r.url else 200).start()

    async def new_account() -> tuple[str, str]:
        from app.config import Settings

        svc = build_services(Settings(database_url=database_url, secret_key=SECRET))
        try:
            _, creds = await accounts.create_account(svc, "ops", None)
            return creds.sid, creds.secret
        finally:
            await svc.close()

    sid, token = asyncio.run(new_account())
    served = serve(
        tmp,
        database_url,
        log_format="json",
        sandbox_step_seconds="0.2",
        callback_allowed_networks="127.0.0.0/8",
        callback_retry_schedule="0.05,0.05",
        delivery_poll_seconds="0.05",
    )
    run = Run(served, database_url, sid, token)
    try:
        _sandbox_run(run, receiver, tmp / "var" / "mail")
        # One websocket with one subscription open while /metrics is scraped.
        with connect(
            served.url.replace("http", "ws") + "/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
        ) as ws:
            ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": basic(sid, token)}}
                )
            )
            assert json.loads(ws.recv(10))["type"] == "connection_ack"
            query = {"query": SUBSCRIBE, "variables": {"sid": run.order_sid}}
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))

            def subscribed() -> str | None:
                text = httpx.get(f"{served.url}/metrics").text
                return text if "portico_subscriptions_active 1.0" in text else None

            run.metrics_text = wait_for(subscribed, "the subscription never showed in /metrics")
        yield run
    finally:
        served.stop()
        receiver.stop()


def test_metrics_count_what_the_run_did(run: Run) -> None:
    found = samples(run.metrics_text)  # parses with prometheus_client's parser

    for (method, route, status), n in run.http.items():
        labels = {"method": method, "route": route, "status": status}
        assert value(found, "portico_http_request_duration_seconds_count", **labels) == n, labels
    for (op, kind, outcome), n in run.graphql.items():
        labels = {"operation": op, "type": kind, "outcome": outcome}
        assert value(found, "portico_graphql_operation_duration_seconds_count", **labels) == n
    assert run.graphql[("anonymous", "query", "invalid")] == 1
    polled = run.graphql[("OpsOrder", "query", "ok")]
    assert (
        value(found, "portico_graphql_operation_cost_count", operation="OpsOrder", type="query")
        == polled
    )
    # portOrders(first: 50) { edges { node { sid number loa { sid } } } }: 50 nodes (the page)
    assert (
        value(found, "portico_graphql_operation_cost_sum", operation="OpsList", type="query") == 50
    )

    assert value(found, "portico_rest_errors_total", code="20404", status="404") == 1
    assert value(found, "portico_rest_errors_total", code="20003", status="401") == 1
    assert value(found, "portico_rest_errors_total", code="20004", status="405") == 1

    emails = len(list((Path(run.served.env["PORTICO_VAR_DIR"]) / "mail").glob("*.eml")))
    attempts = "portico_delivery_attempts_total"
    assert value(found, attempts, channel="callback", outcome="delivered") == 5
    assert value(found, attempts, channel="callback", outcome="dead") == 2
    assert value(found, attempts, channel="email", outcome="delivered") == emails > 0
    assert (
        value(found, "portico_carrier_steps_total", outcome="done") == 3
    )  # submit, accept, complete

    for kind in KINDS:
        assert value(found, "portico_queue_backlog", kind=kind) == 0
        assert value(found, "portico_queue_oldest_due_age_seconds", kind=kind) == 0
    assert value(found, "portico_queue_dead", kind="callback") == 2
    assert value(found, "portico_queue_dead", kind="email") == 0
    assert value(found, "portico_queue_dead", kind="carrier_step") == 0

    assert value(found, "portico_websockets_open") == 1
    assert value(found, "portico_subscriptions_active") == 1
    assert value(found, "portico_event_hub_lag_events") == 0
    assert (value(found, "portico_event_log_newest_id") or 0) > 0
    assert value(found, "portico_database_up") == 1
    assert value(found, "portico_bus_listening") == 1
    for pool in ("read", "write"):
        assert (value(found, "portico_db_pool_size", pool=pool) or 0) >= 1
        assert value(found, "portico_db_pool_connections_in_use", pool=pool) is not None
    assert value(found, "portico_build_info", version=version()) == 1


def version() -> str:
    from app.observability.metrics import VERSION

    return VERSION


def test_no_label_holds_a_sid_a_number_or_an_email(run: Run) -> None:
    labels = {v for (_, pairs) in samples(run.metrics_text) for _, v in pairs}
    for label in labels:
        assert not re.search(r"(AC|PO|PX|PN|OP)[0-9a-f]{32}", label), label
        assert "@" not in label and "+1" not in label, label
    assert run.signing_token not in run.metrics_text


def test_every_log_line_is_json_with_the_request_id_the_response_returned(run: Run) -> None:
    lines = run.served.lines()
    records = [json.loads(line) for line in lines]  # every line parses
    for r in records:
        assert {"time", "level", "logger", "message"} <= set(r), r

    assert run.request_ids["ops-test.create-1"] == "ops-test.create-1"  # a safe id is kept
    minted = run.request_ids["bad id!"]
    assert MINTED.fullmatch(minted)  # an unsafe one is replaced

    access = [r for r in records if r["logger"] == "app.access"]
    create = [r for r in access if r.get("request_id") == "ops-test.create-1"]
    assert len(create) == 1
    assert create[0]["route"] == "/porting/PortOrders" and create[0]["status"] == 201
    assert create[0]["account_sid"] == run.account_sid
    assert isinstance(create[0]["duration_ms"], float)
    (listed,) = [r for r in access if r.get("request_id") == minted]
    assert listed["operation"] == "OpsList" and listed["account_sid"] == run.account_sid
    ids = [r["request_id"] for r in access if r["route"] != "/healthz"]
    assert len(ids) == len(set(ids))  # one access line per request, each its own id

    (start,) = [r for r in records if r["message"].startswith("portico ")]
    assert start["logger"] == "app.main"
    assert version() in start["message"]
    assert (
        "database sqlite" in start["message"] and "workers: scheduler, delivery" in start["message"]
    )


def test_no_log_line_holds_a_secret_or_personal_data(run: Run) -> None:
    text = run.served.log.read_text()
    for secret in (
        run.auth_token,
        run.signing_token,
        NUMBER,
        REJECTED,
        NUMBER[2:],
        FIRST,
        LAST,
        EMAIL,
        STREET,
        SECRET,
    ):
        assert secret and secret not in text, secret


def test_portico_queue_prints_the_same_numbers(run: Run) -> None:
    env = {**run.served.env, "PORTICO_LOG_FORMAT": "text"}
    out = subprocess.run(
        [str(PORTICO), "queue", "--json"], env=env, capture_output=True, text=True, check=True
    ).stdout
    rows = {r["kind"]: r for r in json.loads(out)}
    assert set(rows) == set(KINDS)
    assert [rows[k]["backlog"] for k in KINDS] == [0, 0, 0]
    assert rows["callback"]["dead"] == 2
    table = subprocess.run(
        [str(PORTICO), "queue"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert table.splitlines()[0].split() == ["kind", "backlog", "oldest", "due", "dead"]
    assert table.splitlines()[2].split() == ["callback", "0", "-", "2"]


def operations_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_scrape_config_and_alert_rules_use_these_metrics(run: Run) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", operations_section(), re.S)
    docs = [yaml.safe_load(b) for b in blocks]
    scrape = next(d for d in docs if "scrape_configs" in d)
    assert scrape["scrape_configs"][0]["metrics_path"] == "/metrics"
    rules = [r for d in docs if "groups" in d for g in d["groups"] for r in g["rules"]]
    assert len(rules) == 3
    names = {name for name, _ in samples(run.metrics_text)}
    families = {n.removesuffix(s) for n in names for s in ("_total", "_count", "_sum", "_bucket")}
    for rule in rules:
        used = set(re.findall(r"portico_[a-z_]+", rule["expr"]))
        assert used and used <= names | families, (rule["alert"], used - names)
