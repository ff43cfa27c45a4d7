"""A local server speaking the Confluent Schema Registry REST API, for tests and demos.

No Schema Registry can be fetched here (Confluent's is not served from Maven; Karapace is not
on PyPI), so ``casetrail schemas register`` is tested against this server through the real
``confluent_kafka`` client. It implements the part of the API the client uses to register and
check schemas — ``/config[/{subject}]``, ``/subjects``, ``/subjects/{s}/versions[/{v}]``,
``POST /subjects/{s}`` (lookup), ``/schemas/ids/{id}``, ``/compatibility/subjects/{s}/versions[/{v}]``
— with the registry's semantics: ids shared across subjects for the same schema, re-registering
a schema returns its id, a subject's level falls back to the global one (``BACKWARD``), and a new
version is checked against the latest (``BACKWARD``/``FORWARD``/``FULL``) or every version
(``*_TRANSITIVE``), answering 409 when incompatible. Compatibility is decided by Apache Avro's
own checker (``avro.compatibility``, the Python port of the Java ``SchemaCompatibility`` the
Confluent registry uses), not by anything written here.

    with LocalSchemaRegistry() as registry:   # a free port on 127.0.0.1
        ... registry.url ...
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import unquote, urlsplit

LEVELS = {"BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"}
_JSON = "application/vnd.schemaregistry.v1+json"


class RegistryError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _readable(reader: str, writer: str) -> Optional[str]:
    """None when data written with ``writer`` reads with ``reader``; else the checker's reason."""
    import avro.schema
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    result = ReaderWriterCompatibilityChecker().get_compatibility(avro.schema.parse(reader), avro.schema.parse(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return None
    return "; ".join(sorted(str(message) for message in result.messages)) or "incompatible"


def incompatibilities(level: str, candidate: str, existing: list[str]) -> list[str]:
    """Why ``candidate`` may not follow ``existing`` (oldest first) under ``level``; empty: it may."""
    if level == "NONE" or not existing:
        return []
    against = existing if level.endswith("_TRANSITIVE") else existing[-1:]
    problems = []
    for index, old in enumerate(against):
        if level.startswith(("BACKWARD", "FULL")) and (reason := _readable(candidate, old)):
            problems.append(f"new schema cannot read version {index + 1}: {reason}")
        if level.startswith(("FORWARD", "FULL")) and (reason := _readable(old, candidate)):
            problems.append(f"version {index + 1} cannot read the new schema: {reason}")
    return problems


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.global_level = "BACKWARD"
        self.levels: dict[str, str] = {}
        self.subjects: dict[str, list[int]] = {}  # subject -> schema ids, version = index + 1
        self.schemas: dict[int, str] = {}  # id -> canonical schema text

    def schema_id(self, schema: str) -> int:
        for schema_id, text in self.schemas.items():
            if text == schema:
                return schema_id
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = schema
        return schema_id


def _canonical(schema: str) -> str:
    import avro.schema

    try:
        return json.dumps(json.loads(str(avro.schema.parse(schema))), sort_keys=True)
    except Exception as exc:  # noqa: BLE001 - avro raises several types for bad schemas
        raise RegistryError(422, 42201, f"Invalid schema: {exc}") from None


class _Handler(BaseHTTPRequestHandler):
    state: _State  # set on the subclass the server makes

    def log_message(self, *_):  # quiet: tests read results, not access logs
        pass

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise RegistryError(400, 400, "body is not JSON") from None

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = [unquote(p) for p in parts.path.strip("/").split("/") if p]
        query = dict(re.findall(r"([^&=]+)=([^&]*)", parts.query))
        try:
            with self.state.lock:
                status, body = self._route(method, path, query)
        except RegistryError as exc:
            status, body = exc.status, {"error_code": exc.code, "message": exc.message}
        self._send(status, body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    # -- the API ----------------------------------------------------------------
    def _route(self, method: str, path: list[str], query: dict):
        state = self.state
        if path == ["config"]:
            if method == "PUT":
                state.global_level = self._level(self._body())
                return 200, {"compatibility": state.global_level}
            return 200, {"compatibilityLevel": state.global_level}
        if len(path) == 2 and path[0] == "config":
            subject = path[1]
            if method == "PUT":
                state.levels[subject] = self._level(self._body())
                return 200, {"compatibility": state.levels[subject]}
            if subject in state.levels:
                return 200, {"compatibilityLevel": state.levels[subject]}
            if query.get("defaultToGlobal") == "true":
                return 200, {"compatibilityLevel": state.global_level}
            raise RegistryError(404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured")
        if path == ["subjects"] and method == "GET":
            return 200, sorted(state.subjects)
        if len(path) == 2 and path[0] == "subjects" and method == "POST":
            return 200, self._lookup(path[1], _canonical(self._body().get("schema", "")))
        if len(path) >= 3 and path[0] == "subjects" and path[2] == "versions":
            subject = path[1]
            if len(path) == 3 and method == "POST":
                return 200, {"id": self._register(subject, _canonical(self._body().get("schema", "")))}
            if len(path) == 3 and method == "GET":
                return 200, list(range(1, len(self._ids(subject)) + 1))
            if len(path) == 4 and method == "GET":
                version = self._version(subject, path[3])
                schema_id = self._ids(subject)[version - 1]
                return 200, {"subject": subject, "version": version, "id": schema_id,
                             "schema": state.schemas[schema_id]}
        if len(path) == 3 and path[:2] == ["schemas", "ids"] and method == "GET":
            schema_id = int(path[2]) if path[2].isdigit() else -1
            if schema_id not in state.schemas:
                raise RegistryError(404, 40403, "Schema not found")
            return 200, {"schema": state.schemas[schema_id]}
        if len(path) >= 4 and path[:2] == ["compatibility", "subjects"] and path[3] == "versions" and method == "POST":
            subject, candidate = path[2], _canonical(self._body().get("schema", ""))
            texts = [state.schemas[i] for i in self._ids(subject)]
            if len(path) == 5:  # against one version, whatever the level's transitivity
                texts = [texts[self._version(subject, path[4]) - 1]]
                level = self._level_of(subject).replace("_TRANSITIVE", "")
            else:
                level = self._level_of(subject)
            problems = incompatibilities(level, candidate, texts)
            body = {"is_compatible": not problems}
            if query.get("verbose") in ("true", "True"):
                body["messages"] = problems
            return 200, body
        raise RegistryError(404, 404, f"HTTP 404 Not Found: {method} /{'/'.join(path)}")

    def _level(self, body: dict) -> str:
        level = str(body.get("compatibility") or body.get("compatibilityLevel") or "").upper()
        if level not in LEVELS:
            raise RegistryError(422, 42203, f"Invalid compatibility level: {level!r}")
        return level

    def _level_of(self, subject: str) -> str:
        return self.state.levels.get(subject, self.state.global_level)

    def _ids(self, subject: str) -> list[int]:
        if subject not in self.state.subjects:
            raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
        return self.state.subjects[subject]

    def _version(self, subject: str, label: str) -> int:
        ids = self._ids(subject)
        version = len(ids) if label in ("latest", "-1") else int(label) if label.isdigit() else 0
        if not 1 <= version <= len(ids):
            raise RegistryError(404, 40402, f"Version {label} not found.")
        return version

    def _lookup(self, subject: str, schema: str) -> dict:
        for version, schema_id in enumerate(self._ids(subject), start=1):
            if self.state.schemas[schema_id] == schema:
                return {"subject": subject, "version": version, "id": schema_id, "schema": schema}
        raise RegistryError(404, 40403, "Schema not found")

    def _register(self, subject: str, schema: str) -> int:
        state = self.state
        ids = state.subjects.get(subject, [])
        for schema_id in ids:
            if state.schemas[schema_id] == schema:
                return schema_id  # already a version of this subject: the same id, no new version
        problems = incompatibilities(self._level_of(subject), schema, [state.schemas[i] for i in ids])
        if problems:
            raise RegistryError(409, 409, f"Schema being registered is incompatible with an earlier schema for "
                                          f"subject \"{subject}\": {'; '.join(problems)}")
        schema_id = state.schema_id(schema)
        state.subjects.setdefault(subject, []).append(schema_id)
        return schema_id


class LocalSchemaRegistry:
    """The server on a free loopback port, in a daemon thread; a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        handler = type("Handler", (_Handler,), {"state": _State()})
        self._server = ThreadingHTTPServer((host, port), handler)
        self.state = handler.state
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-schema-registry", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "LocalSchemaRegistry":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()
