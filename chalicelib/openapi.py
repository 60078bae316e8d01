"""The OpenAPI 3.1 document of the organizer JSON API, built from the app's own routes.

Every route under /groups/ that the Chalice app serves is in it (walked from `app.routes`, so a
new route cannot be left out); what each takes and answers comes from OPERATIONS, with the
schemas generated from the pydantic models (`models_json_schema`). Every error is the one shape
of routes/http.py. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from chalicelib import models

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {
    400: "The body, a path or query value is not valid; `field` names it.",
    401: "The bearer key is missing, unknown or revoked.",
    404: "No such resource in this group (another group's look the same).",
    405: "The path exists, not for this method.",
    409: "The request clashes with the current state.",
    413: "The body is over 1 MB.",
    415: "The body is not application/json.",
    503: "DynamoDB kept throttling after bounded retries; try again.",
}


# ---------------------------------------------------------------- answer shapes with no stored model


class ErrorDetail(BaseModel):
    field: str | None
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    field: str | None
    errors: list[ErrorDetail]


class Error(BaseModel):
    """Every error answer of the API (routes/http.py `error_body`)."""

    error: ErrorInfo


class JobAccepted(BaseModel):
    """202: the work was handed to a background job; its progress is at the Location header."""

    job_id: str
    status: str


class JobOut(BaseModel):
    job_id: str
    kind: str
    meetup_id: str | None
    status: str
    total: int
    recorded: int
    sent: int
    skipped: int
    failed: int
    created: int = Field(description="import.members: members added")
    existed: int = Field(description="import.members: addresses already in the group")
    problems: int = Field(description="import.members: rows not imported")
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class MembersAdded(BaseModel):
    created: list[models.Member]
    existed: list[models.Member]


class NetworkNode(BaseModel):
    member_id: str
    name: str
    lunches: int = Field(description="lunches at which they met someone")
    partners: int = Field(description="distinct members they met")
    betweenness: float = Field(description="normalized betweenness, 0..1")
    connector: bool
    x: float
    y: float


class NetworkEdge(BaseModel):
    """Two members linked: "lunch" (they met at `lunches` lunches) or "intro" (an introduction
    both said yes to, made by `connector_id`: a member id or "organizer"; `lunches` is 0)."""

    a: str
    b: str
    kind: Literal["lunch", "intro", "meetup"]  # meetup: they said they met at one (`lunches` is 0)
    lunches: int
    connector_id: str | None


class NamedMember(BaseModel):
    member_id: str
    name: str


class NetworkTotals(BaseModel):
    """The whole group's network, whatever the answer holds."""

    members: int = Field(description="current members")
    nodes: int = Field(description="members who met someone or were introduced")
    edges: int = Field(description="edges of every kind")
    never_met: int = Field(description="members who never met anyone")


class NetworkOut(BaseModel):
    """Members who met someone or were introduced as nodes; lunches that happened and
    introductions both accepted as edges (by `kind`); the connectors (highest betweenness) and
    the members who never met anyone.

    A big group's answer is cut, and says so with `truncated`: `nodes` holds at most 1,500
    members, the most connected (the connectors, up to 20 partners of each, then whoever is
    linked to the most of those already chosen), `edges` at most 6,000 edges
    between them (the most lunches first), `never_met` the first 1,000 by name (all of them:
    GET .../network/never-met, a page at a time). `totals` counts the whole group; connectors and
    betweenness are worked out on the whole group."""

    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    connectors: list[NamedMember]
    never_met: list[NamedMember]
    betweenness_sampled: bool
    truncated: bool = Field(description="nodes, edges or never_met hold fewer than `totals`")
    totals: NetworkTotals


ANY_OBJECT: dict[str, Any] = {"type": "object"}


class IntroOut(BaseModel):
    intro_id: str
    connector_id: str  # a member id, or "organizer"
    member_ids: list[str]
    note: str
    status: str
    created_at: str
    expires_at: str


def _page_of(item: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    """routes/http.py `page`: one page of a list and the cursor of the next (null at the end)."""
    return {"type": "object", "required": ["items", "next_cursor"],
            "properties": {"items": {"type": "array", "items": _schema(item)},
                           "next_cursor": {"type": ["string", "null"]}}}
PAGE_PARAMS = ("limit", "cursor")


@dataclass(frozen=True)
class Op:
    summary: str
    body: tuple[type[BaseModel], ...] = ()  # one model, or several accepted shapes (oneOf)
    body_optional: bool = False
    ok: Mapping[int, type[BaseModel] | dict[str, Any] | None] = field(default_factory=lambda: {200: None})
    query: tuple[str, ...] = ()


def _ops() -> dict[tuple[str, str], Op]:
    from chalicelib.routes.organizer_rsvps import InvitationsIn
    from chalicelib.services.intros import IntroIn

    g, m = "/groups/{group_id}", "/groups/{group_id}/meetups/{meetup_id}"
    edit_in = getattr(models, "LunchRoundEditIn", None)
    return {
        ("GET", g): Op("The group", ok={200: models.Group}),
        ("PATCH", g): Op("Change the group's settings", (models.GroupPatch,), ok={200: models.Group}),
        ("GET", f"{g}/jobs/{{job_id}}"): Op("A background job's progress", ok={200: JobOut}),
        ("POST", f"{g}/members"): Op("Add one member, or up to 500 ({\"members\": [...]})",
                                     (models.MemberIn, models.MembersIn), ok={200: MembersAdded, 201: MembersAdded}),
        ("GET", f"{g}/members"): Op("Members, a page at a time", ok={200: _page_of(models.Member)}, query=PAGE_PARAMS),
        ("GET", f"{g}/members/{{member_id}}"): Op("A member", ok={200: models.Member}),
        ("PATCH", f"{g}/members/{{member_id}}"): Op("Change a member", (models.MemberPatch,), ok={200: models.Member}),
        ("DELETE", f"{g}/members/{{member_id}}"): Op("Erase a member and everything about them", ok={204: None}),
        ("POST", f"{g}/meetups"): Op("Create a meetup", (models.MeetupIn,), ok={201: models.Meetup}),
        ("GET", f"{g}/meetups"): Op("Upcoming or past meetups", ok={200: _page_of(models.Meetup)},
                                    query=("when", *PAGE_PARAMS)),
        ("GET", m): Op("A meetup", ok={200: models.Meetup}),
        ("PATCH", m): Op("Change a meetup (attendees are told)", (models.MeetupPatch,), ok={200: models.Meetup}),
        ("POST", f"{m}/cancel"): Op("Cancel a meetup (attendees are told)", ok={200: models.Meetup}),
        ("POST", f"{m}/invitations"): Op("Invite members to RSVP (a background job)", (InvitationsIn,),
                                         body_optional=True, ok={202: JobAccepted}),
        ("GET", f"{m}/rsvps"): Op("A meetup's RSVPs", ok={200: _page_of(ANY_OBJECT)}, query=("status", *PAGE_PARAMS)),
        ("GET", f"{m}/rsvps.csv"): Op("A meetup's RSVPs as CSV", ok={200: {"csv": True}}, query=("status",)),
        ("POST", f"{m}/rsvps/{{member_id}}/check-in"): Op("Check a member in", ok={200: ANY_OBJECT}),
        ("GET", f"{g}/lunch-program"): Op("The lunch programme", ok={200: models.LunchProgram}),
        ("PUT", f"{g}/lunch-program"): Op("Create or replace the lunch programme", (models.LunchProgramIn,),
                                          ok={200: models.LunchProgram, 201: models.LunchProgram}),
        ("POST", f"{g}/lunch-program/invitations"): Op("Invite members to lunch pairing (a background job)",
                                                       (models.LunchInvitesIn,), body_optional=True,
                                                       ok={202: JobAccepted}),
        ("POST", f"{g}/lunch-rounds"): Op("Start a lunch round now", (models.LunchRoundIn,), body_optional=True,
                                          ok={202: models.LunchRound}),
        ("GET", f"{g}/lunch-rounds"): Op("Lunch rounds, newest first", ok={200: _page_of(models.LunchRound)},
                                         query=PAGE_PARAMS),
        ("GET", f"{g}/lunch-rounds/{{round_id}}"): Op("A round with its pairs and reasons", ok={200: ANY_OBJECT}),
        ("PATCH", f"{g}/lunch-rounds/{{round_id}}"): Op("Edit a round in review: swap two members or take a pair out",
                                                        (edit_in,) if edit_in else (), ok={200: ANY_OBJECT}),
        ("POST", f"{g}/lunch-rounds/{{round_id}}/approve"): Op("Approve a round in review: its intros go out",
                                                               ok={200: ANY_OBJECT}),
        ("GET", f"{g}/stats"): Op("Lunch programme figures (README defines each)", ok={200: ANY_OBJECT}),
        ("GET", f"{g}/network"): Op("The relationship network: who met whom at lunch", ok={200: NetworkOut}),
        ("GET", f"{g}/network/never-met"): Op("Members who never met anyone, by name, a page at a time",
                                              ok={200: _page_of(NamedMember)}, query=PAGE_PARAMS),
        ("POST", f"{g}/intros"): Op("Introduce two members: each is asked, without the other's address",
                                    (IntroIn,), ok={201: IntroOut}),
    }


QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "string", "pattern": "^[0-9]+$", "description": "1 to 200 (default 50)"},
    "cursor": {"type": "string", "description": "next_cursor of the previous page"},
    "when": {"type": "string", "enum": ["upcoming", "past"]},
    "status": {"type": "string", "enum": ["going", "waitlisted", "not_going"]},
}


def organizer_routes(routes: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(method, path) of every organizer JSON route the app serves."""
    return sorted((method, path) for path, methods in routes.items() if path.startswith("/groups/")
                  for method in methods)


def document(routes: Mapping[str, Mapping[str, Any]], *, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `app.routes`."""
    ops = _ops()
    wanted: list[tuple[type[BaseModel], Any]] = [(Error, "serialization")]
    for op in ops.values():
        wanted += [(b, "validation") for b in op.body]
        wanted += [(o, "serialization") for o in op.ok.values() if isinstance(o, type)]
    seen: dict[type[BaseModel], Any] = {}
    for model, mode in wanted:
        seen.setdefault(model, mode)
    _, schemas = models_json_schema(list(seen.items()), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for method, path in organizer_routes(routes):
        op = ops.get((method, path)) or Op(f"{method} {path}")
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, op)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "powerlunch organizer API", "version": "1",
                 "description": "Meetups, RSVPs and lunch pairing of one group, with the group's bearer key. "
                                "Every error answers {\"error\": {code, message, field, errors}}."},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "The group's API key"}}},
        "security": [{"bearer": []}],
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _schema(answer: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    return {"$ref": REF.format(model=answer.__name__)} if isinstance(answer, type) else answer


def _operation(method: str, path: str, op: Op) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)}", path)]
    params += [{"name": name, "in": "query", "required": False, "schema": QUERY_SCHEMAS[name]}
               for name in op.query]
    responses: dict[str, Any] = {}
    for status, answer in op.ok.items():
        if answer is None:
            responses[str(status)] = {"description": "Done" if status == 204 else "OK"}
        elif isinstance(answer, dict) and answer.get("csv"):
            responses[str(status)] = {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
        else:
            responses[str(status)] = {"description": "OK",
                                      "content": {"application/json": {"schema": _schema(answer)}}}
    for status, words in ERROR_STATUSES.items():
        responses[str(status)] = {"description": words,
                                  "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    operation: dict[str, Any] = {
        "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"{method.lower()}{path}").strip("_"),
        "summary": op.summary, "parameters": params, "responses": responses}
    if op.body:
        schema = _schema(op.body[0]) if len(op.body) == 1 else {"oneOf": [_schema(b) for b in op.body]}
        operation["requestBody"] = {"required": not op.body_optional,
                                    "content": {"application/json": {"schema": schema}}}
    return operation
