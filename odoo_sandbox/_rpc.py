"""The JSON-RPC routes of Odoo 18 and 19 (and 19's JSON-2, ``_json2``) that the sandbox answers (any transport)."""

from __future__ import annotations

import inspect
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from odoo_sandbox._data import Dataset, Store, load_dataset
from odoo_sandbox._env import Env
from odoo_sandbox._journal import Journal
from odoo_sandbox._json2 import JSON2_PREFIX, handle_json2
from odoo_sandbox._methods import execute_kw
from odoo_sandbox._releases import Release, release_for
from odoo_sandbox._security import RpcError, SandboxUser, access_denied, error_payload

__all__ = ["Backend", "Reply"]

_SESSION_EXPIRED = RpcError("odoo.http.SessionExpiredException", "Session expired")
_MAX_SESSIONS = 10_000


@dataclass
class Reply:
    """What to send back: HTTP status, JSON body, and whether to (re)issue the session cookie."""

    status: int
    body: Any
    new_session: str | None = None
    content_type: str = "application/json; charset=utf-8"
    #: extra response headers (JSON-2's ``WWW-Authenticate``)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Session:
    sid: str
    db: str | None = None
    uid: int | None = None
    login: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


def _bind(func: Callable[..., Any], name: str, args: Any, kwargs: dict[str, Any] | None = None) -> Any:
    """Call ``func`` like Odoo calls ``exp_<method>``: wrong arguments become a TypeError payload."""
    positional = list(args) if isinstance(args, list | tuple) else []
    try:
        inspect.signature(func).bind(*positional, **(kwargs or {}))
    except TypeError as exc:
        raise RpcError("builtins.TypeError", f"{name}() {exc}") from None
    return func(*positional, **(kwargs or {}))


class Backend:
    """One sandbox's state (records, sessions) and its JSON-RPC routes."""

    def __init__(
        self,
        users: Iterable[SandboxUser],
        now: datetime,
        db: str,
        dataset: Dataset | None = None,
        journal: Journal | None = None,
        release: Release | None = None,
    ) -> None:
        #: the Odoo version served (18 unless told)
        self.release = release or release_for("odoo18")
        self.dataset = dataset or load_dataset()
        self.store = Store(self.dataset, journal)
        self.users = tuple(users)
        self.now = now
        self.db = db
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- helpers

    def _unknown_db(self, db: Any) -> RpcError:
        return RpcError(
            "psycopg2.OperationalError",
            'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
            f'FATAL:  database "{db}" does not exist\n',
        )

    def _check_db(self, db: Any) -> None:
        if db != self.db:
            raise self._unknown_db(db)

    def authenticate(self, login: Any, password: Any) -> SandboxUser | None:
        """The user with this login and password (active users only), or None."""
        for user in self.users:
            if user.login == login and user.password == password:
                record = self.store.get("res.users", user.uid)
                if record is not None and not record.get("active", True):
                    return None
                return user
        return None

    def user_by_uid(self, uid: Any, password: Any) -> SandboxUser:
        """``security.check``: the user for ``uid`` if ``password`` is theirs, else AccessDenied."""
        try:
            uid_int = int(uid)
        except (TypeError, ValueError):
            raise RpcError("builtins.ValueError", f"invalid literal for int() with base 10: {uid!r}") from None
        for user in self.users:
            if user.uid == uid_int and user.password == password:
                return user
        raise access_denied()

    def _user(self, uid: int) -> SandboxUser | None:
        return next((u for u in self.users if u.uid == uid), None)

    # ----------------------------------------------------------------- services

    def _common(self, method: Any, args: Any) -> Any:
        def exp_login(db: Any, login: Any, password: Any) -> Any:
            return exp_authenticate(db, login, password, None)

        def exp_authenticate(db: Any, login: Any, password: Any, user_agent_env: Any) -> Any:
            self._check_db(db)
            user = self.authenticate(login, password)
            return user.uid if user else False

        def exp_version() -> Any:
            return dict(self.dataset.version_info)

        def exp_about(extended: Any = False) -> Any:
            info = "See http://openerp.com"
            return [info, self.dataset.version_info["server_version"]] if extended else info

        services: dict[str, Callable[..., Any]] = {
            "login": exp_login,
            "authenticate": exp_authenticate,
            "version": exp_version,
            "about": exp_about,
        }
        if method not in services:
            raise RpcError("builtins.KeyError", f"'exp_{method}'", [f"exp_{method}"])
        return _bind(services[method], f"exp_{method}", args)

    def _db(self, method: Any, args: Any) -> Any:
        def exp_list(document: Any = False) -> Any:
            if not self.release.list_db:
                raise access_denied()
            return [self.db]

        def exp_server_version() -> Any:
            return self.dataset.version_info["server_version"]

        def exp_db_exist(db_name: Any) -> Any:
            return db_name == self.db

        services: dict[str, Callable[..., Any]] = {
            "list": exp_list,
            "server_version": exp_server_version,
            "db_exist": exp_db_exist,
        }
        if method not in services:
            raise RpcError("builtins.KeyError", f"'exp_{method}'", [f"exp_{method}"])
        return _bind(services[method], f"exp_{method}", args)

    def _object(self, method: Any, args: Any) -> Any:
        params = list(args) if isinstance(args, list | tuple) else []
        if len(params) < 3:
            raise RpcError("builtins.IndexError", "list index out of range")
        db, uid, password = params[0], params[1], params[2]
        self._check_db(db)
        user = self.user_by_uid(uid, password)
        rest = params[3:]
        if method == "execute":
            if len(rest) < 2:
                raise RpcError("builtins.TypeError", "execute() missing required positional arguments: 'obj', 'method'")
            return execute_kw(self.store, user, self.now, rest[0], rest[1], rest[2:], {})
        if method == "execute_kw":
            if len(rest) < 3:
                raise RpcError("builtins.TypeError", "execute_kw() missing required positional arguments")
            kwargs = rest[3] if len(rest) > 3 and isinstance(rest[3], dict) else {}
            return execute_kw(self.store, user, self.now, rest[0], rest[1], rest[2], kwargs)
        raise RpcError("builtins.NameError", f"Method not available {method}")

    def jsonrpc(self, params: dict[str, Any]) -> Any:
        """``/jsonrpc``: ``dispatch_rpc(service, method, args)``."""
        service = params.get("service")
        method = params.get("method")
        args = params.get("args") or []
        if service == "common":
            return self._common(method, args)
        if service == "db":
            return self._db(method, args)
        if service == "object":
            return self._object(method, args)
        raise RpcError("builtins.KeyError", repr(service), [service])

    # ----------------------------------------------------------------- sessions

    def _session(self, sid: str | None) -> tuple[_Session, bool]:
        with self._lock:
            if sid and sid in self._sessions:
                return self._sessions[sid], False
            session = _Session(secrets.token_hex(20))
            self._sessions[session.sid] = session
            while len(self._sessions) > _MAX_SESSIONS:  # clients without a cookie jar make one per call
                self._sessions.pop(next(iter(self._sessions)))
            return session, True

    def _rotate(self, session: _Session) -> _Session:
        with self._lock:
            self._sessions.pop(session.sid, None)
            fresh = _Session(secrets.token_hex(20), session.db, session.uid, session.login, dict(session.context))
            self._sessions[fresh.sid] = fresh
            return fresh

    def session_info(self, session: _Session) -> dict[str, Any]:
        """The ``session_info`` Odoo returns after ``/web/session/authenticate`` (main keys)."""
        user = self._user(session.uid or 0)
        if user is None:
            raise _SESSION_EXPIRED
        env = Env(self.store, user, {}, self.now)
        record = env.user_record()
        context = execute_kw(self.store, user, self.now, "res.users", "context_get", [], {})
        companies = {}
        for cid in record.get("company_ids") or []:
            company = self.store.get("res.company", cid) or {"id": cid}
            companies[str(cid)] = {
                "id": cid,
                "name": env.display_name("res.company", cid),
                "sequence": company.get("sequence", 10),
                "child_ids": company.get("child_ids") or [],
                "parent_id": company.get("parent_id") or False,
                "currency_id": company.get("currency_id") or 1,
            }
        partner_id = record.get("partner_id") or False
        return {
            "uid": user.uid,
            "is_system": user.is_admin,
            "is_admin": user.is_admin,
            "is_public": False,
            "is_internal_user": user.role != "portal",
            "user_context": context,
            "db": session.db,
            "server_version": self.dataset.version_info["server_version"],
            "server_version_info": self.dataset.version_info["server_version_info"],
            "support_url": "https://www.odoo.com/help",
            "name": env.user_name(),
            "username": user.login,
            "partner_display_name": env.display_name("res.partner", partner_id) if partner_id else False,
            "partner_id": partner_id,
            "company_id": record.get("company_id") or False,
            "user_companies": {
                "current_company": record.get("company_id") or False,
                "allowed_companies": companies,
                "disallowed_ancestor_companies": {},
            },
            "display_switch_company_menu": len(companies) > 1,
            "currencies": {"1": {"symbol": "$", "position": "before", "digits": [69, 2]}},
            "max_file_upload_size": 134217728,
            "home_action_id": False,
            "active_ids_limit": 20000,
            "test_mode": False,
        }

    # ----------------------------------------------------------------- routing

    def handle(
        self,
        method: str,
        path: str,
        body: Any,
        sid: str | None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        """Answer one HTTP request (already parsed; JSON-2 reads ``headers``, lower-case, and ``raw``) as Odoo
        of the served release would."""
        if method == "GET" and path == "/web/health":
            return Reply(200, {"status": "pass"})
        if self.release.json2 and (path.startswith(JSON2_PREFIX) or path == "/web/version"):
            return handle_json2(self, method, path, headers or {}, raw or b"")
        routes: dict[str, Callable[[dict[str, Any], _Session], tuple[Any, _Session]]] = {
            "/web/webclient/version_info": lambda p, s: (dict(self.dataset.version_info), s),
            "/jsonrpc": lambda p, s: (self.jsonrpc(p), s),
            "/web/session/authenticate": self._route_authenticate,
            "/web/session/get_session_info": lambda p, s: (self.session_info(s), s),
            "/web/session/destroy": self._route_destroy,
            "/web/dataset/call_kw": self._route_call_kw,
        }
        route = routes.get(path)
        if route is None and path.startswith("/web/dataset/call_kw/"):
            route = self._route_call_kw
        if route is None:
            return Reply(
                404,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": error_payload(
                        RpcError(
                            "werkzeug.exceptions.NotFound",
                            "404 Not Found: The requested URL was not found on the server.",
                        ),
                        code=404,
                        message="404: Not Found",
                    ),
                },
            )
        if method != "POST":
            return Reply(
                405,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": error_payload(
                        RpcError("werkzeug.exceptions.MethodNotAllowed", "405 Method Not Allowed"),
                        code=405,
                        message="405: Method Not Allowed",
                    ),
                },
            )
        if not isinstance(body, dict):
            return Reply(
                400,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": error_payload(
                        RpcError("werkzeug.exceptions.BadRequest", "400 Bad Request: Invalid JSON data"),
                        code=400,
                        message="400: Bad Request",
                    ),
                },
            )
        request_id = body.get("id")
        params = body.get("params") if isinstance(body.get("params"), dict) else {}
        # /jsonrpc does not save sessions; the other routes create one when the client has none
        if path == "/jsonrpc":
            session, created = _Session(""), False
        else:
            session, created = self._session(sid)
        try:
            try:
                result, session_after = route(params, session)
            except RpcError:
                raise
            except Exception as exc:  # an unexpected failure still answers like Odoo does
                raise RpcError(f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc), exc.args) from exc
        except RpcError as err:
            if err is _SESSION_EXPIRED:
                code, message = 100, "Odoo Session Expired"
            else:
                code, message, err = self.release.rpc_error_code, "Odoo Server Error", self.release.relabel(err)
            reply = Reply(200, {"jsonrpc": "2.0", "id": request_id, "error": error_payload(err, code, message)})
            reply.new_session = session.sid if created else None
            return reply
        new_sid = session_after.sid if (created or session_after is not session) else None
        return Reply(200, {"jsonrpc": "2.0", "id": request_id, "result": result}, new_sid)

    def _route_authenticate(self, params: dict[str, Any], session: _Session) -> tuple[Any, _Session]:
        db, login, password = params.get("db"), params.get("login"), params.get("password")
        if db != self.db:
            raise RpcError("odoo.exceptions.AccessError", "Database not found.")
        user = self.authenticate(login, password)
        if user is None:
            raise access_denied()
        session.db, session.uid, session.login = db, user.uid, user.login
        fresh = self._rotate(session)
        return self.session_info(fresh), fresh

    def _route_destroy(self, params: dict[str, Any], session: _Session) -> tuple[Any, _Session]:
        session.uid = session.db = session.login = None
        return None, self._rotate(session)

    def _route_call_kw(self, params: dict[str, Any], session: _Session) -> tuple[Any, _Session]:
        user = self._user(session.uid) if session.uid is not None else None
        if user is None or session.db != self.db:
            raise _SESSION_EXPIRED
        model, method = params.get("model"), params.get("method")
        if isinstance(method, str) and method.startswith("_"):
            raise RpcError(
                "odoo.exceptions.AccessError",
                f"Private methods (such as '{model}.{method}') cannot be called remotely.",
            )
        if not isinstance(model, str) or not self.dataset.has_model(model):
            raise RpcError("builtins.KeyError", repr(model), [model])
        kwargs = params.get("kwargs") if isinstance(params.get("kwargs"), dict) else {}
        return execute_kw(self.store, user, self.now, model, method, params.get("args") or [], kwargs), session
