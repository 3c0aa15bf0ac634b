from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class OrganisationOut(Schema):
    id: int
    code: str
    iso3: str
    name: str
    name_long: str
    kind: str
    colour: str
    flag: str
    languages: list[str]
    joined: date | None


class MeOut(Schema):
    username: str
    organisation: OrganisationOut | None
    roles: list[str]
    two_factor: bool


class SharingGroupIn(Schema):
    name: str
    description: str = ""
    member_codes: list[str] = []


class SharingGroupOut(Schema):
    id: int
    name: str
    description: str
    owner: str
    members: list[str]


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    link: str
    module: str
    thread: str
    severity: int | None
    tlp: str
    states: list[str]
    created: datetime
    read_at: datetime | None


class ReadAllOut(Schema):
    marked: int


class AuditEntryOut(Schema):
    seq: int
    time: datetime
    actor_name: str
    request_id: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    message: str
    hash: str


class AuditVerifyOut(Schema):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str


class ShareIn(Schema):
    distribution: str
    tlp: str
    shared_with: list[str] = Field(default=[], description="codes of named organisations")
    sharing_group_id: int | None = None


class ShareOut(Schema):
    type: str
    id: int
    distribution: str
    tlp: str
    shared_with: list[str]
    sharing_group_id: int | None
