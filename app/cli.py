"""The `portico` command: serve, worker, migrate, queue, accounts, api-keys, operators,
export-schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from app.config import Settings
from app.observability import logs
from app.porting.errors import PortingError, PortingErrors, as_list
from app.porting.isotime import format_utc
from app.services import accounts, api_keys, queues, webhook_secrets
from app.services.context import Services
from app.store.migrate import upgrade
from app.wiring import build_services


def _run(fn: Callable[[Services], Awaitable[Any]], *, fast_loop: bool = False) -> Any:
    """`fn(svc)` on a fresh event loop; `fast_loop`: uvloop's, as `portico serve` runs on
    (uvicorn picks it), for the long-running worker."""

    async def go() -> Any:
        svc = build_services(Settings())
        try:
            return await fn(svc)
        finally:
            await svc.close()

    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if fast_loop:
        try:
            import uvloop
        except ImportError:  # (uvicorn's standard extras bring it; the stdlib loop otherwise)
            pass
        else:
            factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(go())


def cmd_migrate(args: argparse.Namespace) -> int:
    upgrade(Settings().database_url)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.main import serve

    settings = Settings()
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if not args.no_migrate:
        upgrade(settings.database_url)
    serve(settings)  # returns after SIGTERM / Ctrl-C, once shut down gracefully
    return 0


async def _until_gone(parent: int, stop: asyncio.Event) -> None:
    """Set `stop` once `parent` is no longer our parent (it died, even by SIGKILL: we were
    handed to init), checked every 0.2 s."""
    while os.getppid() == parent:  # noqa: ASYNC110 -- nothing to wait on but the parent id
        await asyncio.sleep(0.2)
    stop.set()


def cmd_worker(args: argparse.Namespace) -> int:
    """Deliveries only (status callbacks, email), for deployments that separate them from
    the HTTP servers (then set PORTICO_DELIVERY_WORKER=false on the servers)."""
    from app.runners.worker import DeliveryWorker

    async def go(svc: Services) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.parent:
            watch = asyncio.create_task(_until_gone(args.parent, stop))
        await svc.start()
        await DeliveryWorker(svc, name=args.name, concurrency=args.concurrency).run_until(stop)
        if args.parent:
            watch.cancel()

    settings = Settings()
    if not args.no_migrate:
        upgrade(settings.database_url)
    _run(go, fast_loop=True)
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    """Backlog (due now), the oldest due item's age and the dead items, per kind."""
    snap: queues.Snapshot = _run(queues.snapshot)
    rows = [
        {
            "kind": q.kind,
            "backlog": q.backlog,
            "oldest_age_seconds": round(q.oldest_age_seconds, 1),
            "dead": q.dead,
        }
        for q in snap.queues
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'kind':<14}{'backlog':>9}{'oldest due':>12}{'dead':>8}")
    for r in rows:
        age = f"{r['oldest_age_seconds']:.1f} s" if r["backlog"] else "-"
        print(f"{r['kind']:<14}{r['backlog']:>9}{age:>12}{r['dead']:>8}")
    return 0


def cmd_accounts_create(args: argparse.Namespace) -> int:
    account, creds = _run(lambda svc: accounts.create_account(svc, args.friendly_name, args.parent))
    data = {
        "sid": creds.sid,
        "auth_token": creds.secret,
        "friendly_name": account.friendly_name,
        "parent_sid": account.parent_sid,
        "date_created": format_utc(account.date_created),
    }
    if args.json:
        print(json.dumps(data))
    else:
        print(f"Account SID: {creds.sid}\nAuth token:  {creds.secret}")
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    rows = _run(accounts.list_accounts)
    for a in rows:
        parent = f"  (subaccount of {a.parent_sid})" if a.parent_sid else ""
        print(f"{a.sid}  {a.friendly_name}{parent}")
    return 0


def cmd_accounts_dev(args: argparse.Namespace) -> int:
    creds = _run(accounts.ensure_dev_account)
    print(json.dumps({"sid": creds.sid, "auth_token": creds.secret}))
    return 0


def cmd_accounts_webhook_secret(args: argparse.Namespace) -> int:
    print(_run(lambda svc: webhook_secrets.get_webhook_secret(svc, None, args.sid)))
    return 0


def cmd_accounts_rotate_webhook_secret(args: argparse.Namespace) -> int:
    print(_run(lambda svc: webhook_secrets.rotate_webhook_secret(svc, None, args.sid)))
    return 0


def _key_json(key: api_keys.ApiKey) -> dict[str, Any]:
    return {
        "sid": key.sid,
        "account_sid": key.account_sid,
        "friendly_name": key.friendly_name,
        "read_only": key.read_only,
        "date_created": format_utc(key.date_created),
        "date_revoked": format_utc(key.date_revoked),
    }


def cmd_api_keys_create(args: argparse.Namespace) -> int:
    made = _run(
        lambda svc: api_keys.create_api_key(
            svc, None, args.account, read_only=args.read_only, friendly_name=args.friendly_name
        )
    )
    if args.json:
        print(json.dumps({**_key_json(made.key), "secret": made.secret}))
    else:
        mode = "read-only" if made.key.read_only else "read and write"
        print(f"API key SID: {made.key.sid}  ({mode})\nSecret:      {made.secret}")
        print("The secret is shown once: keep it now.")
    return 0


def cmd_api_keys_list(args: argparse.Namespace) -> int:
    rows = [_key_json(k) for k in _run(lambda svc: api_keys.list_api_keys(svc, args.account))]
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        state = f"revoked {r['date_revoked']}" if r["date_revoked"] else "active"
        mode = "read-only" if r["read_only"] else "read-write"
        print(f"{r['sid']}  {r['account_sid']}  {mode:<10}  {state}  {r['friendly_name']}")
    return 0


def cmd_api_keys_revoke(args: argparse.Namespace) -> int:
    key = _run(lambda svc: api_keys.revoke_api_key(svc, None, args.sid))
    print(f"{key.sid} revoked")
    return 0


def cmd_operators_create(args: argparse.Namespace) -> int:
    creds = _run(lambda svc: accounts.create_operator(svc, args.friendly_name))
    if args.json:
        print(json.dumps({"sid": creds.sid, "token": creds.secret}))
    else:
        print(f"Operator SID: {creds.sid}\nToken:        {creds.secret}")
    return 0


def cmd_deliveries_dead(args: argparse.Namespace) -> int:
    from app.services import deliveries

    records = _run(lambda svc: deliveries.dead_deliveries(svc, args.limit))
    rows = [
        {
            "sid": r.delivery.sid,
            "kind": r.delivery.kind,
            "channel": r.delivery.channel,
            "port_order_sid": r.delivery.port_order_sid,
            "loa_sid": r.delivery.loa_sid,
            "attempts": len(r.attempts),
            "last_error": r.attempts[-1].error if r.attempts else None,
            "date_updated": r.delivery.date_updated.isoformat(),
        }
        for r in records
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no dead deliveries")
    for row in rows:
        print(
            f"{row['sid']}  {row['kind']:<15} {row['attempts']:>3} attempts  "
            f"{row['port_order_sid'] or row['loa_sid']}  {row['last_error'] or ''}"
        )
    return 0


def cmd_deliveries_retry(args: argparse.Namespace) -> int:
    from app.services import deliveries

    d = _run(lambda svc: deliveries.retry_delivery(svc, args.sid))
    print(f"{d.sid} is due again (the worker sends it next)")
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    from app.graphql.schema import sdl

    print(sdl(), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="portico", description="Portico porting service")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the HTTP server")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    s.set_defaults(fn=cmd_serve)

    w = sub.add_parser("worker", help="run the delivery worker (status callbacks, email)")
    w.add_argument("--name", default="worker", help="shown in log lines")
    w.add_argument("--concurrency", type=int, help="sends in flight at once")
    w.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    w.add_argument(
        "--parent",
        type=int,
        help="stop when this process (a `portico serve` running its workers) is gone",
    )
    w.set_defaults(fn=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)

    q = sub.add_parser(
        "queue", help="print the work queue: backlog, oldest due age and dead items per kind"
    )
    q.add_argument("--json", action="store_true", help="one JSON list of {kind, backlog, ...}")
    q.set_defaults(fn=cmd_queue)

    acc = sub.add_parser("accounts", help="manage accounts").add_subparsers(
        dest="action", required=True
    )
    c = acc.add_parser("create", help="create an account and print its credentials")
    c.add_argument("--friendly-name")
    c.add_argument("--parent", help="parent account SID (creates a subaccount)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(fn=cmd_accounts_create)
    acc.add_parser("list", help="list accounts").set_defaults(fn=cmd_accounts_list)
    acc.add_parser(
        "dev", help="ensure the development account exists; print its credentials as JSON"
    ).set_defaults(fn=cmd_accounts_dev)
    ws = acc.add_parser("webhook-secret", help="print an account's webhook signing secret")
    ws.add_argument("sid")
    ws.set_defaults(fn=cmd_accounts_webhook_secret)
    rw = acc.add_parser(
        "rotate-webhook-secret",
        help="replace an account's webhook signing secret (the old one signs for 24 more hours)",
    )
    rw.add_argument("sid")
    rw.set_defaults(fn=cmd_accounts_rotate_webhook_secret)

    keys = sub.add_parser("api-keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    kc = keys.add_parser("create", help="create an API key and print its secret (once)")
    kc.add_argument("--account", required=True, help="the account SID the key acts as")
    kc.add_argument("--read-only", action="store_true", help="the key cannot change anything")
    kc.add_argument("--friendly-name")
    kc.add_argument("--json", action="store_true")
    kc.set_defaults(fn=cmd_api_keys_create)
    kl = keys.add_parser("list", help="list API keys (never their secrets)")
    kl.add_argument("--account", help="only this account's keys")
    kl.add_argument("--json", action="store_true")
    kl.set_defaults(fn=cmd_api_keys_list)
    kr = keys.add_parser("revoke", help="revoke an API key (on every replica at once)")
    kr.add_argument("sid")
    kr.set_defaults(fn=cmd_api_keys_revoke)

    ops = sub.add_parser("operators", help="manage porting operators").add_subparsers(
        dest="action", required=True
    )
    o = ops.add_parser("create", help="create an operator and print its credentials")
    o.add_argument("--friendly-name")
    o.add_argument("--json", action="store_true")
    o.set_defaults(fn=cmd_operators_create)

    dl = sub.add_parser("deliveries", help="status callbacks and email").add_subparsers(
        dest="action", required=True
    )
    dd = dl.add_parser("dead", help="list deliveries that used up their attempts")
    dd.add_argument("--limit", type=int, default=100)
    dd.add_argument("--json", action="store_true")
    dd.set_defaults(fn=cmd_deliveries_dead)
    dr = dl.add_parser("retry", help="send a dead delivery again (same delivery SID)")
    dr.add_argument("sid")
    dr.set_defaults(fn=cmd_deliveries_retry)

    sub.add_parser(
        "export-schema", help="print the GraphQL schema (SDL); schema.graphql holds it"
    ).set_defaults(fn=cmd_export_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except (PortingError, PortingErrors) as exc:  # bad input: a clear message, no traceback
        for e in as_list(exc):
            print(f"portico: error {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
