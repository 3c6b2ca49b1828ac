"""The LOA signing page: GET /loa/sign/{token} shows the letter, POST signs it.

Plain HTML forms, no JavaScript. The token in the path is the only credential (it comes from
the signature-request email), so responses are never cached, never framed, and send no
Referer. Every rule lives in app/services/loa_signing.py; this module only renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from app.services import loa_signing
from app.services.context import Services
from app.services.letters import Letter
from app.services.loa_signing import Problem, SigningInputError, SigningLinkError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

PROBLEMS: dict[Problem, tuple[int, str, str]] = {
    Problem.INVALID: (
        404,
        "This link is not valid",
        "The signing link is incomplete or has been altered. Open the link from the email "
        "again, or ask for a new signature request.",
    ),
    Problem.EXPIRED: (
        410,
        "This link has expired",
        "Signing links work for a limited time. Ask for a new signature request and use the "
        "link in the new email.",
    ),
    Problem.USED: (
        409,
        "This letter is already signed",
        "The Letter of Authorization was signed already; there is nothing more to do here.",
    ),
    Problem.CLOSED: (
        409,
        "This letter can no longer be signed",
        "The port orders it covered were canceled or are being reviewed by our porting team.",
    ),
}


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    static_url = request.scope.get("root_path", "") + "/static/sign.css"
    return templates.TemplateResponse(
        request,
        name,
        {**context, "static_url": static_url},
        status_code=status_code,
        headers=HEADERS,
    )


def _problem(request: Request, exc: SigningLinkError) -> Response:
    status, heading, message = PROBLEMS[exc.problem]
    if exc.problem is Problem.USED and exc.letter and exc.letter.signed_date:
        when = exc.letter.signed_date.strftime("%d %B %Y at %H:%M UTC")
        message = f"The Letter of Authorization was signed on {when}; there is nothing more to do."
    return _page(request, "problem.html", {"heading": heading, "message": message}, status)


def _form(
    request: Request,
    letter: Letter,
    messages: list[str] | None = None,
    signer_name: str = "",
    agreed: bool = False,
) -> Response:
    context = {
        "letter": letter,
        "messages": messages or [],
        "signer_name": signer_name,
        "agreed": agreed,
    }
    return _page(request, "sign.html", context, 422 if messages else 200)


async def sign_page(request: Request) -> Response:
    svc: Services = request.app.state.services
    token = str(request.path_params["token"])
    if request.method == "GET":
        try:
            letter = await loa_signing.open_letter(svc, token)
        except SigningLinkError as exc:
            return _problem(request, exc)
        return _form(request, letter)
    async with request.form(max_files=0, max_fields=10, max_part_size=4096) as form:
        name = str(form.get("signer_name") or "")
        agreed = form.get("agree") == "yes"
        shown = str(form.get("text_sha256") or "")
    try:
        letter = await loa_signing.sign_letter(
            svc,
            token,
            signer_name=name,
            agreed=agreed,
            shown_sha256=shown,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
    except SigningLinkError as exc:
        return _problem(request, exc)
    except SigningInputError as exc:
        return _form(request, exc.letter, exc.messages, name[:200], agreed)
    return _page(request, "signed.html", {"letter": letter})


routes: list[BaseRoute] = [
    Route("/sign/{token}", sign_page, methods=["GET", "POST"]),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]
