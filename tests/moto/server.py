#!/usr/bin/env python3
"""moto, with a thin front that makes its ECS behave like AWS where ecsmon's correctness depends on it.

ecsmon talks to AWS only through the official Rust SDK, and its tests run that SDK over HTTP against
moto (moto[server] 5.2.x, started in this process). Plain moto is too forgiving in ways that hide
real bugs: its ECS List calls never page, ListTasks ignores `serviceName`, and Describe calls take
any number of ARNs. A client that stops at page one, or sends 300 ARNs in one DescribeTasks, passes
against moto and breaks against AWS. This front sits between the SDK and moto and closes those gaps:

* Paging: ListClusters, ListServices, ListTasks, ListContainerInstances, ListTaskDefinitions and
  ListTaskDefinitionFamilies return pages of `maxResults` (default 100, ListServices 10, at most
  100) with an opaque, signed `nextToken`; a garbled or foreign token is an InvalidParameterException.
* ListTasks filters as AWS does: exact cluster, `serviceName` (a task's `group` is
  `service:<name>`; an unknown service is a ServiceNotFoundException), `containerInstance`,
  `family`, `startedBy`, `launchType`, and `desiredStatus` (RUNNING unless told otherwise).
* Batch limits: DescribeServices takes at most 10 services, DescribeTasks, DescribeContainerInstances
  and DescribeClusters at most 100, else HTTP 400 InvalidParameterException.
* Smaller fixes, each marked where it is done: tasks no longer decay to STOPPED merely by being
  described (moto's default state machine), DescribeTasks is scoped to its cluster and reports
  MISSING tasks, tasks carry AWS's timestamps, availability zone and one container per container
  definition, services' and clusters' counts come from their contents, ListContainerInstances and
  ListServices respect the cluster, RunTask reports the tasks it could not place.
* CloudWatch: the Rust SDK speaks Smithy RPC v2 CBOR to it, which moto 5.2 does not; the front
  translates each call to moto's JSON 1.0 and the answer back to CBOR (`CloudWatchBridge`).
* CloudWatch Logs FilterLogEvents (`LogsFront`): at most 100 `logStreamNames`, a named stream that
  does not exist fails the call, and events of several streams come interleaved by time.
* ECS Exec and Session Manager, which moto 5.2 lacks: ECS `ExecuteCommand`
  (`EcsFront.execute_command`) checks the cluster, the task (it must exist, be RUNNING and have
  been run with `enableExecuteCommand`) and the container, and answers with a session as AWS does;
  tasks run with `enableExecuteCommand` say so in DescribeTasks and carry a RUNNING
  `ExecuteCommandAgent`, and started containers carry a `runtimeId`. SSM `StartSession`
  (`SsmFront`) on an EC2 instance that exists and is running, or on a task's container
  (`ecs:<cluster>_<task-id>_<runtime-id>`, ECS Exec's target: the task RUNNING and the container's
  ExecuteCommandAgent RUNNING), answers with a session too, else `TargetNotConnected`; the port
  forwarding documents (`AWS-StartPortForwardingSession`, `...ToRemoteHost`) must come with their
  parameters. `TerminateSession` ends a session. `GET /_ecsmon/sessions` lists the sessions
  started (target, document, parameters, whether terminated). Nothing listens behind a session.
* CloudWatch GetMetricData extended statistics (`p95`...), which moto answers with nulls: computed
  from the values put (`take_percentiles`, `answer_percentiles`).
* EC2 CPU credit modes (`CreditFront`): T3/T3a/T4g launch `unlimited`, T2 `standard`, RunInstances'
  `CreditSpecification` and ModifyInstanceCreditSpecification change it, and
  DescribeInstanceCreditSpecifications reports it (moto says `standard` for all).
* SSM's public ECS-optimized AMI parameters come back as JSON, as AWS's do (moto: Python reprs),
  and DescribeImages dates AWS's ECS-optimized images by the day in their name, as AWS does
  (moto: the moment it started).
* StopTask of a task the cluster does not hold is AWS's InvalidParameterException (moto: HTTP 500).
* Counting: every request is counted by operation (`ecs:ListTasks`, `ec2:DescribeInstances`, ...).
  `GET /_ecsmon/stats` returns the counts as JSON, `GET /_ecsmon/stats?by=context` the same per
  `"<account> <region>"`, `POST /_ecsmon/reset` zeroes them, so tests can assert what a refresh
  costs.
* Accounts and regions: moto keeps each account's and each region's resources apart, the account
  being the one of the request's access key (an AssumeRole into `arn:aws:iam::222222222222:role/x`
  returns keys whose calls land in 222222222222; any other key is in 123456789012), the region the
  one its signature names. The front keeps them apart too: what it remembers is keyed by ARNs
  (which name both), a paging token is good only in the account and region that issued it, and
  counts and faults can be told apart by both.
* Faults (`Faults`), for tests of how ecsmon copes when AWS struggles: `POST /_ecsmon/faults` with
  `{"op": "ecs:ListClusters" | "ecs:*" | "*", "kind": ..., "seconds": S, "count": N}` makes the
  matching requests fail, for S seconds or N requests or until `DELETE /_ecsmon/faults`. Kinds:
  `throttle` (the protocol's own throttling error: JSON `ThrottlingException`, EC2
  `RequestLimitExceeded` with 503, Query and CBOR `Throttling`), `http429` (a bare 429 with no AWS
  error code, as a proxy or gateway sends), `5xx` (`status`, default 500, with the protocol's
  internal-error shape), `slow` (answers normally after `delay` seconds), `reset` (the connection is
  reset once the request is read), `hang` (read, never answered: held until the fault ends, then
  reset), `lost` (carried out by moto, but the answer never leaves: held for the rule's
  `seconds`, or `delay` seconds when it counts requests, then reset; `delay` 0 resets at once),
  `malformed` (HTTP 200 whose body cannot be parsed), `answer` (this `body_b64`, byte for byte,
  with `status`, default 200), `poison` (moto's answer with escape sequences and control
  characters added to its names and free text, see `HOSTILE`), `denied` (AWS's access-denied error
  in the request's protocol). `"account"` and `"region"` in a rule limit it to requests in that
  account or region (one context failing while the others answer). `GET /_ecsmon/faults` lists the
  rules with the requests each has hit. Faulted requests are counted in the stats like any other.
* Big clusters, at test speed: `POST /_ecsmon/run-tasks` with `{"cluster", "taskDefinition", "count",
  "groups", "startedBy", "region", "account"}` starts `count` FARGATE tasks in one go, inside moto
  (the groups, `service:<name>`, given to the tasks in turn)
  (no per-call HTTP or serialising: 10,000 tasks in seconds), and answers their `taskArns`. moto's
  DescribeTasks compares every task of every cluster with every ARN asked (seconds a call at 10,000
  tasks): the front gives it a set lookup. The pages after the first of one listing are cut from
  the list the first page read, unless something that may change lists (any call other than an
  ECS List/Describe) came in between, so 100 pages do not ask moto 100 times.

Everything else is forwarded to moto verbatim. Run: `server.py [--port N]`; it prints one line
`READY http://127.0.0.1:<port>` and serves until killed or until its stdin reaches end of file (so a
test process that dies never leaves it behind).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import hmac
import http.client
import json
import logging
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from xml.etree import ElementTree
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import cbor2
from botocore.model import OperationNotFoundError, Shape

ECS_TARGET = "AmazonEC2ContainerServiceV20141113"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect", "te", "upgrade"}

# The list operations the front pages: result field and default page size.
LIST_OPS = {
    "ListClusters": ("clusterArns", 100),
    "ListServices": ("serviceArns", 10),
    "ListTasks": ("taskArns", 100),
    "ListContainerInstances": ("containerInstanceArns", 100),
    "ListTaskDefinitions": ("taskDefinitionArns", 100),
    "ListTaskDefinitionFamilies": ("families", 100),
}
MAX_PAGE = 100

# AWS's batch limits on Describe calls: request field and the most it may hold.
BATCH_LIMITS = {
    "DescribeServices": ("services", 10),
    "DescribeTasks": ("tasks", 100),
    "DescribeContainerInstances": ("containerInstances", 100),
    "DescribeClusters": ("clusters", 100),
}


# --------------------------------------------------------------------------------------------------
# HTTP values


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def signing_service(self) -> str | None:
        """The service named in the SigV4 credential scope (`ecs`, `ec2`, `sts`, `monitoring`...)."""
        auth = self.header("authorization") or ""
        for part in auth.replace(",", " ").split():
            if part.startswith("Credential="):
                scope = part[len("Credential=") :].split("/")
                if len(scope) >= 5:
                    return scope[3]
        return None

    def signing_region(self) -> str:
        """The region named in the SigV4 credential scope (`us-east-1` when there is none)."""
        auth = self.header("authorization") or ""
        for part in auth.replace(",", " ").split():
            if part.startswith("Credential="):
                scope = part[len("Credential=") :].split("/")
                if len(scope) >= 5:
                    return scope[2]
        return "us-east-1"

    def access_key(self) -> str | None:
        """The access key id named in the SigV4 credential scope."""
        auth = self.header("authorization") or ""
        for part in auth.replace(",", " ").split():
            if part.startswith("Credential="):
                return part[len("Credential=") :].split("/")[0] or None
        return None

    def account(self) -> str:
        """The account moto serves this request in: an assumed role's credentials land in the
        role's account, any other key in moto's default account (123456789012)."""
        from moto.iam.models import get_account_id_from

        return get_account_id_from(self.access_key() or "")

    def where(self) -> str:
        """`<account> <region>`: what AWS keeps apart (resources, paging tokens, limits)."""
        return f"{self.account()} {self.signing_region()}"

    def form_action(self) -> str | None:
        """`Action=` of a query-protocol call (EC2, STS...), from the body or the query string."""
        query = urllib.parse.urlsplit(self.path).query
        candidates = [query]
        if "x-www-form-urlencoded" in (self.header("content-type") or ""):
            candidates.insert(0, self.body.decode("utf-8", "replace"))
        for text in candidates:
            action = urllib.parse.parse_qs(text).get("Action")
            if action:
                return action[0]
        return None


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_response(obj: object, status: int = 200) -> Response:
    headers = [("Content-Type", JSON_CONTENT_TYPE), ("x-amzn-RequestId", str(uuid.uuid4()))]
    return Response(status, headers, json.dumps(obj).encode())


class AwsError(Exception):
    """An error the front answers itself, in the JSON shape AWS uses: HTTP 400 and `__type`."""

    def __init__(self, kind: str, message: str, status: int = 400):
        super().__init__(f"{kind}: {message}")
        self.kind, self.message, self.status = kind, message, status

    def response(self) -> Response:
        return json_response({"__type": self.kind, "message": self.message}, self.status)


class MotoError(Exception):
    """moto answered an internal call with an error: the caller gets moto's response as is."""

    def __init__(self, response: Response):
        super().__init__(f"moto answered {response.status}")
        self.response = response


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


# --------------------------------------------------------------------------------------------------
# moto itself


class Moto:
    """moto's server in this process, and plain HTTP to it. Calls are serialised: moto's backends
    are not thread-safe, and one at a time keeps concurrent tests deterministic."""

    def __init__(self) -> None:
        from moto.moto_api import state_manager
        from moto.server import ThreadedMotoServer

        # moto's ECS tasks step RUNNING -> DEACTIVATING -> ... -> STOPPED each time they are
        # described, so a task polled four times would be STOPPED with desiredStatus RUNNING.
        # AWS tasks stay RUNNING until stopped: freeze that state machine (StopTask still stops).
        # A test may set its own transition through moto's /moto-api/state-manager/set-transition.
        state_manager.set_transition("ecs::task", {"progression": "manual", "times": 2**62})
        patch_describe_tasks()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        self._lock = threading.Lock()

    def forward(self, req: Request) -> Response:
        headers = [(k, v) for k, v in req.headers if k.lower() not in HOP_BY_HOP]
        with self._lock:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                conn.request(req.method, req.path, body=req.body, headers=dict(headers))
                resp = conn.getresponse()
                body = resp.read()
                out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                return Response(resp.status, out, body)
            finally:
                conn.close()


def patch_describe_tasks() -> None:
    """moto's DescribeTasks compares every task of every cluster with every reference asked for
    (by substring): seconds a call at 10,000 tasks. The same answer (a task matches by its ARN or
    its id) from set lookups."""
    from moto.ecs import models
    from moto.ecs.exceptions import InvalidParameterException

    def describe_tasks(self, cluster_str: str, tasks: list[str]) -> list:
        self._get_cluster(cluster_str)
        if not tasks:
            raise InvalidParameterException("Tasks cannot be empty.")
        refs = set(tasks)
        ids = {last_segment(t) for t in tasks}
        response = []
        for cluster_tasks in self.tasks.values():
            for task_arn, task in cluster_tasks.items():
                if task_arn in refs or last_segment(task_arn) in ids:
                    task.advance()
                    response.append(task)
        return response

    models.EC2ContainerServiceBackend.describe_tasks = describe_tasks


class Ecs:
    """Internal ECS JSON calls to moto, signed like (and so in the account and region of) the
    request being served."""

    def __init__(self, moto: Moto, origin: Request):
        self._moto = moto
        self._auth = origin.header("authorization") or ""
        self.region = origin.signing_region()

    @property
    def caller(self) -> str:
        """Whose lists these are: the access key and region the request was signed with."""
        key = re.search(r"Credential=([^/]*)/", self._auth)
        return f"{key.group(1) if key else ''} {self.region}"

    def call(self, op: str, payload: dict) -> dict:
        req = Request(
            "POST",
            "/",
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("X-Amz-Target", f"{ECS_TARGET}.{op}"),
                ("Authorization", self._auth),
            ],
            json.dumps(payload).encode(),
        )
        resp = self._moto.forward(req)
        if resp.status >= 300:
            raise MotoError(resp)
        return json.loads(resp.body or b"{}")


# --------------------------------------------------------------------------------------------------
# Counting


class Stats:
    """Requests by operation, and by account and region (`GET /_ecsmon/stats?by=context`: AWS's
    limits are per account and region, so is what a context costs)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._by_where: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def count(self, op: str, where: str) -> None:
        with self._lock:
            self._counts[op] += 1
            self._by_where.setdefault(where, Counter())[op] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def by_where(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {w: dict(sorted(c.items())) for w, c in sorted(self._by_where.items())}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._by_where.clear()


SERVICE_BY_TARGET_PREFIX = {ECS_TARGET: "ecs", "Logs_20140328": "logs", "GraniteServiceVersion20100801": "monitoring"}


def operation_name(req: Request) -> str:
    """`<service>:<Operation>`: JSON protocols by X-Amz-Target, query protocols by Action=, Smithy
    RPC v2 by its path, anything else (REST) by method and path."""
    target = req.header("x-amz-target")
    service = req.signing_service()
    if target and "." in target:
        prefix, op = target.split(".", 1)
        return f"{service or SERVICE_BY_TARGET_PREFIX.get(prefix, prefix)}:{op}"
    path = urllib.parse.urlsplit(req.path).path
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "service" and parts[2] == "operation":
        return f"{service or SERVICE_BY_TARGET_PREFIX.get(parts[1], parts[1])}:{parts[3]}"
    action = req.form_action()
    if action:
        return f"{service or 'unknown'}:{action}"
    return f"{service or 'unknown'}:{req.method} {path}"


# --------------------------------------------------------------------------------------------------
# Paging


class Pager:
    """Pages a full list. A token names the request it belongs to (operation and filters), the
    position reached and the last item returned, and is signed, so a garbled or foreign token is
    rejected as AWS does. The next page starts after the last item returned if it is still listed
    (items that disappear meanwhile don't shift the rest), else at the position reached."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def page(self, op: str, payload: dict, items: list[str], where: str = "") -> dict:
        """`where` (account and region) is part of the token's scope: AWS rejects a token
        another account or region issued."""
        field_name, default_size = LIST_OPS[op]
        size = self._page_size(payload.get("maxResults"), default_size)
        scope = self._scope(op, payload, where)
        start = self._start(payload.get("nextToken"), scope, items)
        page = items[start : start + size]
        out: dict = {field_name: page}
        end = start + len(page)
        if end < len(items):
            out["nextToken"] = self._token({"s": scope, "i": end, "a": page[-1] if page else None})
        return out

    @staticmethod
    def _page_size(value: object, default: int) -> int:
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PAGE:
            raise invalid(f"maxResults must be between 1 and {MAX_PAGE}, got {value!r}.")
        return value

    @staticmethod
    def _scope(op: str, payload: dict, where: str) -> str:
        filters = {k: v for k, v in payload.items() if k not in ("maxResults", "nextToken")}
        canonical = json.dumps([op, filters, where], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def _start(self, token: object, scope: str, items: list[str]) -> int:
        if token is None or token == "":
            return 0
        state = self._read(token)
        if state.get("s") != scope:
            raise invalid("The nextToken does not belong to this request (operation or filters differ).")
        last, offset = state.get("a"), state.get("i")
        if not isinstance(offset, int) or offset < 0:
            raise invalid("Invalid nextToken.")
        if last is not None:
            try:
                return items.index(last) + 1
            except ValueError:
                pass
        return min(offset, len(items))

    def _token(self, state: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()
        return f"{body}.{self._sign(body)}"

    def _read(self, token: object) -> dict:
        try:
            body, sig = str(token).rsplit(".", 1)
            if not hmac.compare_digest(sig, self._sign(body)):
                raise ValueError("bad signature")
            state = json.loads(base64.urlsafe_b64decode(body.encode()))
            if not isinstance(state, dict):
                raise ValueError("not an object")
            return state
        except (ValueError, TypeError) as exc:
            raise invalid("Invalid nextToken.") from exc

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:24]


# --------------------------------------------------------------------------------------------------
# What the front remembers about ECS objects: only what never changes once created.


def last_segment(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def cluster_name(ref: str | None) -> str:
    return last_segment(ref or "default")


@dataclass
class TaskFacts:
    cluster_arn: str
    group: str
    started_by: str
    container_instance_arn: str
    task_definition_arn: str
    launch_type: str
    created_at: float
    stopped_at: float | None = None
    # moto ignores RunTask's enableExecuteCommand: the front remembers it (set from the request).
    enable_execute_command: bool = False

    @property
    def family(self) -> str:
        return last_segment(self.task_definition_arn).rsplit(":", 1)[0]


class Memory:
    """Immutable facts about tasks, task definitions and container instances, learnt from moto's
    answers (RunTask, StartTask, DescribeTasks...) or fetched from moto in batches when missing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tasks: dict[str, TaskFacts] = {}
        self.task_definitions: dict[str, dict] = {}
        self.instance_zones: dict[str, str] = {}

    def learn_task(self, task: dict) -> TaskFacts:
        arn = task["taskArn"]
        with self._lock:
            facts = self.tasks.get(arn)
            if facts is None:
                facts = TaskFacts(
                    cluster_arn=task.get("clusterArn", ""),
                    group=task.get("group", ""),
                    started_by=task.get("startedBy", ""),
                    container_instance_arn=task.get("containerInstanceArn") or "",
                    task_definition_arn=task.get("taskDefinitionArn", ""),
                    launch_type=task.get("launchType", ""),
                    created_at=time.time(),
                    enable_execute_command=bool(task.get("enableExecuteCommand")),
                )
                self.tasks[arn] = facts
            if task.get("lastStatus") == "STOPPED" and facts.stopped_at is None:
                facts.stopped_at = time.time()
            return facts

    def task_facts(self, ecs: Ecs, cluster: str, arns: list[str]) -> dict[str, TaskFacts]:
        unknown = [a for a in arns if a not in self.tasks]
        for i in range(0, len(unknown), 100):
            described = ecs.call("DescribeTasks", {"cluster": cluster, "tasks": unknown[i : i + 100]})
            for task in described.get("tasks", []):
                self.learn_task(task)
        return {a: self.tasks[a] for a in arns if a in self.tasks}

    def task_definition(self, ecs: Ecs, arn: str) -> dict:
        if arn not in self.task_definitions:
            described = ecs.call("DescribeTaskDefinition", {"taskDefinition": arn})
            self.task_definitions[arn] = described.get("taskDefinition", {})
        return self.task_definitions[arn]

    def zone_of(self, ecs: Ecs, cluster: str, instance_arn: str) -> str | None:
        if instance_arn and instance_arn not in self.instance_zones:
            described = ecs.call("DescribeContainerInstances", {"cluster": cluster, "containerInstances": [instance_arn]})
            for ci in described.get("containerInstances", []):
                zone = next((a.get("value") for a in ci.get("attributes", []) if a.get("name") == "ecs.availability-zone"), None)
                if zone:
                    self.instance_zones[ci["containerInstanceArn"]] = zone
        return self.instance_zones.get(instance_arn)


# --------------------------------------------------------------------------------------------------
# CloudWatch: Smithy RPC v2 CBOR <-> moto's JSON 1.0

CLOUDWATCH_TARGET = "GraniteServiceVersion20100801"
CBOR_OPERATION_PATH = f"/service/{CLOUDWATCH_TARGET}/operation/"


class CloudWatchBridge:
    """The Rust SDK calls CloudWatch in Smithy RPC v2 CBOR (`POST /service/<target>/operation/<Op>`,
    `smithy-protocol: rpc-v2-cbor`); moto 5.2 serves CloudWatch only in Query and JSON 1.0. Every
    operation goes to moto as JSON 1.0: moto 5.2.5 accepts it for all of them (checked for
    PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics, PutMetricAlarm, DescribeAlarms,
    DeleteDashboards), so there is no Query fallback. Answers are encoded back to CBOR following
    botocore's CloudWatch model (the one moto serves): timestamps become tag 1 (epoch seconds) and
    doubles stay floats (the SDK rejects a CBOR integer where it expects a double)."""

    def __init__(self, moto: Moto) -> None:
        self._moto = moto
        self._model = botocore.session.get_session().get_service_model("cloudwatch")

    def handle(self, req: Request) -> Response | None:
        path = urllib.parse.urlsplit(req.path).path
        if req.method != "POST" or not path.startswith(CBOR_OPERATION_PATH):
            return None
        op = path[len(CBOR_OPERATION_PATH) :]
        body = req.body
        if (req.header("content-encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)  # the SDK gzips PutMetricData from 10 KiB (@requestCompression)
        payload = cbor_to_json(cbor2.loads(body)) if body else {}
        # moto routes to CloudWatch by the SigV4 scope's service (`monitoring`, the SDK's signing
        # name), and takes the account and region from it: keep the caller's Authorization.
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", f"{CLOUDWATCH_TARGET}.{op}")]
        headers.append(("Authorization", req.header("authorization") or ""))
        percentiles = take_percentiles(payload) if op == "GetMetricData" else {}
        resp = self._moto.forward(Request("POST", "/", headers, json.dumps(payload).encode()))
        if percentiles and resp.status < 300:
            resp = answer_percentiles(resp, payload, percentiles, req.signing_region())
        try:
            answer = json.loads(resp.body or b"{}")
        except ValueError:
            answer = None  # moto failed outside its serializer (e.g. a 500 page)
        out = Response(resp.status, [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")])
        out.headers += [(k, v) for k, v in resp.headers if k.lower() in ("x-amzn-requestid", "x-amzn-query-error")]
        if resp.status >= 300:
            out.body = cbor2.dumps(cloudwatch_error(resp, answer))
        else:
            try:
                shape = self._model.operation_model(op).output_shape
            except OperationNotFoundError:
                shape = None
            out.body = cbor2.dumps(json_to_cbor(answer if isinstance(answer, dict) else {}, shape))
        return out


def take_percentiles(payload: dict) -> dict[str, float]:
    """Extended statistics (`p95`, `p99.9`) in GetMetricData, which moto 5.2 answers with nulls:
    each such query is sent to moto as `SampleCount` (so the periods with data come back) and
    its values are computed here (`answer_percentiles`). Returns query id -> percentile."""
    out: dict[str, float] = {}
    for query in payload.get("MetricDataQueries") or []:
        stat = (query.get("MetricStat") or {}).get("Stat") or ""
        if len(stat) > 1 and stat[0] == "p":
            try:
                pct = float(stat[1:])
            except ValueError:
                continue
            if 0 < pct <= 100:
                out[query.get("Id", "")] = pct
                query["MetricStat"]["Stat"] = "SampleCount"
    return out


def answer_percentiles(resp: Response, payload: dict, percentiles: dict[str, float], region: str) -> Response:
    """Replaces the SampleCount values of percentile queries by the percentile (nearest rank, as
    CloudWatch computes it over raw values) of the values put in each period, read from moto's
    CloudWatch backend in this process."""
    from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

    answer = json.loads(resp.body or b"{}")
    queries = {q.get("Id"): q for q in payload.get("MetricDataQueries") or []}
    data = []
    for account in list(cloudwatch_backends.keys()):
        data.extend(m for m in cloudwatch_backends[account][region].get_all_metrics() if isinstance(m, MetricDatum))
    for result in answer.get("MetricDataResults") or []:
        pct = percentiles.get(result.get("Id"))
        if pct is None:
            continue
        stat = queries[result["Id"]]["MetricStat"]
        metric = stat["Metric"]
        dims = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or [])
        period = float(stat["Period"])
        values = []
        for ts in result.get("Timestamps") or []:
            start = epoch_seconds(ts)
            sample = sorted(
                m.value
                for m in data
                if m.namespace == metric.get("Namespace")
                and m.name == metric.get("MetricName")
                and sorted((d.name, d.value) for d in m.dimensions) == dims
                and start <= m.timestamp.replace(tzinfo=m.timestamp.tzinfo or timezone.utc).timestamp() < start + period
            )
            rank = max(1, -(-len(sample) * pct // 100))
            values.append(float(sample[int(rank) - 1]) if sample else 0.0)
        result["Values"] = values
    return Response(resp.status, resp.headers, json.dumps(answer).encode())


def cloudwatch_error(resp: Response, answer: object) -> dict:
    """rpcv2Cbor's error body: `__type` (the code the SDK matches on) and `message`. CloudWatch is
    awsQueryCompatible: the SDK matches the Query code (`InvalidParameterValue`, `ResourceNotFound`),
    which moto gives in `x-amzn-query-error` (its `__type` is the namespaced shape name)."""
    fields = answer if isinstance(answer, dict) else {}
    query_error = next((v for k, v in resp.headers if k.lower() == "x-amzn-query-error"), "")
    code = query_error.split(";")[0] or str(fields.get("__type", "")).rsplit("#", 1)[-1]
    code = code or ("InternalFailure" if resp.status >= 500 else "ValidationError")
    message = fields.get("message") or fields.get("Message")
    if not message:  # moto raised outside its serializer: unsupported operation or parameter value
        message = f"moto failed with HTTP {resp.status}; its traceback is on the front's stderr"
    return {"__type": code, "message": str(message)}


def cbor_to_json(value: object) -> object:
    """A decoded CBOR request as JSON 1.0 sends it: timestamps in epoch seconds, blobs in base64."""
    if isinstance(value, datetime):  # cbor2 decodes tag 1 to an aware datetime
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: cbor_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cbor_to_json(v) for v in value]
    return value


def json_to_cbor(value: object, shape: Shape | None, key: str = "") -> object:
    """moto's JSON answer as CBOR, typed by the model's `shape`; where there is none (an unmodelled
    member), keys ending in `Timestamp(s)` are still taken for timestamps."""
    kind = shape.type_name if shape is not None else None
    by_name = kind is None and key.endswith(("Timestamp", "Timestamps"))
    if (kind == "timestamp" or by_name) and isinstance(value, (int, float, str, datetime)):
        return cbor2.CBORTag(1, epoch_seconds(value))
    if kind in ("double", "float") and isinstance(value, (int, float, str)):
        return float(value)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if isinstance(value, dict):
        if kind == "structure":
            members = shape.members  # type: ignore[union-attr]
            return {k: json_to_cbor(v, members.get(k), k) for k, v in value.items() if v is not None}
        value_shape = shape.value if kind == "map" else None  # type: ignore[union-attr]
        return {k: json_to_cbor(v, value_shape, k) for k, v in value.items()}
    if isinstance(value, list):
        member = shape.member if kind == "list" else None  # type: ignore[union-attr]
        return [json_to_cbor(v, member, key) for v in value]
    return value


def epoch_seconds(value: int | float | str | datetime) -> float:
    """Epoch seconds from a number, a numeric string or an ISO 8601 time (UTC when no zone)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


# --------------------------------------------------------------------------------------------------
# CloudWatch Logs, like AWS

LOGS_TARGET = "Logs_20140328"
MAX_LOG_STREAM_NAMES = 100


class LogsFront:
    """moto's FilterLogEvents differs from AWS's where a client depends on it: it takes any number
    of `logStreamNames` (AWS: at most 100), it skips names of streams that do not exist (AWS fails
    the whole call: ResourceNotFoundException, "The specified log stream does not exist."), and it
    returns one stream's events after another's unless `interleaved` is set (AWS has ignored that
    flag since 2019 and always interleaves by time). The front checks the first two and sets the
    flag; moto does the rest (time range, paging at `limit`, 10,000 by default)."""

    def __init__(self, moto: Moto) -> None:
        self._moto = moto

    def handle(self, op: str, req: Request) -> Response | None:
        if op != "logs:FilterLogEvents":
            return None
        try:
            payload = json.loads(req.body or b"{}")
        except ValueError:
            return None
        if not isinstance(payload, dict):
            return None
        names = payload.get("logStreamNames") or []
        if len(names) > MAX_LOG_STREAM_NAMES:
            return invalid(
                f"1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_LOG_STREAM_NAMES}"
            ).response()
        existing = self.stream_names(req, payload.get("logGroupName")) if names else None
        if existing is not None and not set(names) <= existing:
            return AwsError("ResourceNotFoundException", "The specified log stream does not exist.").response()
        payload["interleaved"] = True
        return self._moto.forward(Request(req.method, req.path, req.headers, json.dumps(payload).encode()))

    def stream_names(self, origin: Request, group: object) -> set[str] | None:
        """Every stream of `group`, or None when moto cannot list them (no such group: the
        forwarded call then fails as AWS does)."""
        names: set[str] = set()
        token = None
        while True:
            payload = {"logGroupName": group, **({"nextToken": token} if token else {})}
            headers = [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("X-Amz-Target", f"{LOGS_TARGET}.DescribeLogStreams"),
                ("Authorization", origin.header("authorization") or ""),
            ]
            resp = self._moto.forward(Request("POST", "/", headers, json.dumps(payload).encode()))
            if resp.status >= 300:
                return None
            out = json.loads(resp.body or b"{}")
            names.update(s["logStreamName"] for s in out.get("logStreams", []))
            token = out.get("nextToken")
            if not token:
                return names


# --------------------------------------------------------------------------------------------------
# SSM Session Manager, which moto lacks

EC2_API_VERSION = "2016-11-15"


class SsmFront:
    """`StartSession` (moto 5.2 has none): an EC2 instance that exists and is running gets a
    session of the shape AWS returns; anything else is `TargetNotConnected`, as AWS answers for a
    target whose SSM agent is not connected. The rest of SSM goes to moto."""

    # Documents a session may name, with the parameters each needs.
    DOCUMENTS = {
        "AWS-StartPortForwardingSession": ("portNumber", "localPortNumber"),
        "AWS-StartPortForwardingSessionToRemoteHost": ("host", "portNumber", "localPortNumber"),
        "AWS-StartInteractiveCommand": ("command",),
    }

    def __init__(self, moto: Moto) -> None:
        self._moto = moto
        # Set by the front: ECS targets are checked against its view of the tasks.
        self.ecs_front: EcsFront | None = None
        self._sessions: list[dict] = []
        self._lock = threading.Lock()

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [dict(s) for s in self._sessions]

    def handle(self, op: str, req: Request) -> Response | None:
        if op == "ssm:TerminateSession":
            return self.terminate(req)
        if op != "ssm:StartSession":
            return None
        try:
            payload = json.loads(req.body or b"{}")
        except ValueError:
            return None
        target = payload.get("Target") if isinstance(payload, dict) else None
        if not target:
            message = "1 validation error detected: Value null at 'target' failed to satisfy constraint"
            return AwsError("ValidationException", message).response()
        document = payload.get("DocumentName")
        parameters = payload.get("Parameters") or {}
        if document is not None:
            needed = self.DOCUMENTS.get(document)
            if needed is None:
                return AwsError("InvalidDocument", f"Document {document} does not exist.").response()
            missing = [p for p in needed if not parameters.get(p)]
            bad = [k for k, v in parameters.items() if not isinstance(v, list) or not all(isinstance(x, str) for x in v)]
            if missing or bad:
                message = f"Parameters {missing or bad} are missing or not lists of strings for {document}."
                return AwsError("InvalidParameters", message).response()
        if target.startswith("ecs:"):
            why = self.task_target_problem(req, target)
            if why is not None:
                return AwsError("TargetNotConnected", why).response()
        elif self.instance_state(req, target) != "running":
            return AwsError("TargetNotConnected", f"{target} is not connected.").response()
        region = req.signing_region()
        session_id = f"ecsmon-test-{secrets.token_hex(9)}"
        with self._lock:
            self._sessions.append(
                {
                    "SessionId": session_id,
                    "Target": target,
                    "DocumentName": document,
                    "Parameters": parameters,
                    "Terminated": False,
                }
            )
        return json_response(
            {
                "SessionId": session_id,
                "TokenValue": base64.b64encode(secrets.token_bytes(48)).decode(),
                "StreamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{session_id}"
                "?role=publish_subscribe&cell-number=AAEAAQ",
            }
        )

    def terminate(self, req: Request) -> Response:
        try:
            payload = json.loads(req.body or b"{}")
        except ValueError:
            payload = {}
        session_id = payload.get("SessionId") if isinstance(payload, dict) else None
        if not session_id:
            message = "1 validation error detected: Value null at 'sessionId' failed to satisfy constraint"
            return AwsError("ValidationException", message).response()
        with self._lock:
            for session in self._sessions:
                if session["SessionId"] == session_id:
                    session["Terminated"] = True
        # AWS answers the same for a session that already ended.
        return json_response({"SessionId": session_id})

    def task_target_problem(self, origin: Request, target: str) -> str | None:
        """None when `ecs:<cluster>_<task-id>_<runtime-id>` names a RUNNING task's container whose
        ExecuteCommandAgent runs, else why the session cannot reach it."""
        cluster, _, rest = target[len("ecs:") :].partition("_")
        task_id, _, runtime_id = rest.partition("_")
        if self.ecs_front is None or not (cluster and task_id and runtime_id):
            return f"{target} is not a valid ECS target."
        auth = (origin.header("authorization") or "").replace("/ssm/aws4_request", "/ecs/aws4_request")
        ecs = Ecs(self._moto, Request("POST", "/", [("Authorization", auth)], b""))
        try:
            described = self.ecs_front.describe_tasks(ecs, "DescribeTasks", {"cluster": cluster, "tasks": [task_id]})
        except (AwsError, MotoError):
            return f"{target} is not connected."
        tasks = described.get("tasks", [])
        if not tasks or tasks[0].get("lastStatus") != "RUNNING":
            return f"{target} is not connected."
        for container in tasks[0].get("containers", []):
            if container.get("runtimeId") == runtime_id:
                agents = {a.get("name"): a.get("lastStatus") for a in container.get("managedAgents", [])}
                if agents.get("ExecuteCommandAgent") == "RUNNING":
                    return None
        return f"{target} is not connected."

    def instance_state(self, origin: Request, instance_id: str) -> str | None:
        """The instance's state name from moto's EC2 (`running`, `stopped`...), None if unknown.
        moto routes by the SigV4 scope's service: the caller's Authorization, rescoped to ec2."""
        auth = (origin.header("authorization") or "").replace("/ssm/aws4_request", "/ec2/aws4_request")
        query = {"Action": "DescribeInstances", "Version": EC2_API_VERSION, "InstanceId.1": instance_id}
        body = urllib.parse.urlencode(query)
        headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Authorization", auth)]
        resp = self._moto.forward(Request("POST", "/", headers, body.encode()))
        if resp.status >= 300:
            return None
        root = ElementTree.fromstring(resp.body)
        for elem in root.iter():
            if elem.tag.endswith("instanceState"):
                name = next((c.text for c in elem if c.tag.endswith("name")), None)
                return name
        return None


class CreditFront:
    """EC2 CPU credit modes as AWS keeps them (moto 5.2 answers `standard` for every instance and
    has no ModifyInstanceCreditSpecification): an instance launches in its family's default (T2
    `standard`; T3, T3a, T4g `unlimited`) unless RunInstances names `CreditSpecification.CpuCredits`;
    ModifyInstanceCreditSpecification switches it; DescribeInstanceCreditSpecifications (forwarded
    to moto, which checks the ids) reports it."""

    def __init__(self, moto: Moto) -> None:
        self._moto = moto
        self._modes: dict[str, str] = {}
        self._lock = threading.Lock()

    def before(self, op: str, req: Request) -> Response | None:
        if op != "ec2:ModifyInstanceCreditSpecification":
            return None
        form = urllib.parse.parse_qs(req.body.decode("utf-8", "replace"))
        done = []
        with self._lock:
            for key, ids in form.items():
                if key.startswith("InstanceCreditSpecification.") and key.endswith(".InstanceId"):
                    mode = form.get(key[: -len("InstanceId")] + "CpuCredits", ["standard"])[0]
                    self._modes[ids[0]] = mode
                    done.append(ids[0])
        items = "".join(f"<item><instanceId>{i}</instanceId></item>" for i in done)
        body = (
            f'<ModifyInstanceCreditSpecificationResponse xmlns="http://ec2.amazonaws.com/doc/{EC2_API_VERSION}/">'
            f"<requestId>{uuid.uuid4()}</requestId>"
            f"<successfulInstanceCreditSpecificationSet>{items}</successfulInstanceCreditSpecificationSet>"
            "<unsuccessfulInstanceCreditSpecificationSet/></ModifyInstanceCreditSpecificationResponse>"
        )
        return Response(200, [("Content-Type", "text/xml")], body.encode())

    def after(self, op: str, req: Request, resp: Response) -> Response:
        if resp.status >= 300:
            return resp
        if op == "ec2:RunInstances":
            form = urllib.parse.parse_qs(req.body.decode("utf-8", "replace"))
            asked = form.get("CreditSpecification.CpuCredits", [None])[0]
            root = ElementTree.fromstring(resp.body)
            with self._lock:
                for item in root.iter():
                    if item.tag.endswith("item"):
                        iid = next((c.text for c in item if c.tag.endswith("instanceId")), None)
                        itype = next((c.text for c in item if c.tag.endswith("instanceType")), None)
                        if iid and itype:
                            self._modes.setdefault(iid, asked or default_credit_mode(itype))
            return resp
        if op == "ec2:DescribeInstanceCreditSpecifications":
            # Rewritten as text: re-serialising the tree would rename moto's XML namespace.
            with self._lock:
                modes = dict(self._modes)

            def item(m: re.Match) -> str:
                block = m.group(0)
                iid = re.search(r"<instanceId>([^<]+)</instanceId>", block)
                if iid is None or iid.group(1) not in modes:
                    return block
                return re.sub(r"<cpuCredits>[^<]*</cpuCredits>", f"<cpuCredits>{modes[iid.group(1)]}</cpuCredits>", block)

            body = re.sub(r"<item>.*?</item>", item, resp.body.decode("utf-8"), flags=re.S)
            return Response(resp.status, resp.headers, body.encode())
        return resp


def default_credit_mode(instance_type: str) -> str:
    return "unlimited" if instance_type.split(".")[0] in ("t3", "t3a", "t4g") else "standard"


# --------------------------------------------------------------------------------------------------
# Hooks for later work


class Hooks:
    """The place where later work plugs in.

    * The CloudWatch bridge (Smithy RPC v2 CBOR <-> moto's JSON 1.0): `before` answers requests to
      `/service/GraniteServiceVersion20100801/operation/<Op>` itself (`CloudWatchBridge`).
    * CloudWatch Logs' FilterLogEvents checks (`LogsFront`).
    * SSM StartSession (`SsmFront`).
    * Fault injection is not a hook: `Front.handle` asks `Faults` first (`/_ecsmon/faults`).
    `after` may rewrite any response before it is sent."""

    def __init__(self, moto: Moto) -> None:
        self.cloudwatch = CloudWatchBridge(moto)
        self.logs = LogsFront(moto)
        self.ssm = SsmFront(moto)
        self.credits = CreditFront(moto)

    def before(self, op: str, req: Request) -> Response | None:
        return (
            self.cloudwatch.handle(req)
            or self.logs.handle(op, req)
            or self.ssm.handle(op, req)
            or self.credits.before(op, req)
        )

    def after(self, op: str, req: Request, resp: Response) -> Response:
        if op in ("ssm:GetParameter", "ssm:GetParameters") and resp.status < 300:
            resp = json_public_parameters(resp)
        if op == "ec2:DescribeImages" and resp.status < 300:
            resp = dated_public_ecs_images(resp)
        return self.credits.after(op, req, resp)


AMAZON_ECS_AMI_OWNER = "591542846629"


def dated_public_ecs_images(resp: Response) -> Response:
    """moto dates every preloaded image at its own start; AWS's ECS-optimized images were created
    on the day their name carries (`amzn2-ami-ecs-hvm-2.0.20250422-x86_64-ebs`: 2025-04-22).
    Re-dates the public ECS-optimized images so their age is what it is on AWS. Rewritten as text
    (re-serialising the tree would rename moto's XML namespace): each image has one `imageId` and
    one `creationDate`, so the k-th of each belong together."""
    root = ElementTree.fromstring(resp.body)
    dates = []
    for image in root.iter():
        if not image.tag.endswith("item"):
            continue
        field = {c.tag.rsplit("}", 1)[-1]: c.text or "" for c in image}
        if "imageId" not in field or "creationDate" not in field:
            continue
        name = re.fullmatch(r"(?:amzn2|al2023)-ami-ecs-.*?\.(\d{4})(\d{2})(\d{2})-.*", field.get("name", ""))
        if field.get("imageOwnerId") == AMAZON_ECS_AMI_OWNER and name:
            dates.append(f"{name.group(1)}-{name.group(2)}-{name.group(3)}T00:00:00.000Z")
        else:
            dates.append(None)
    counter = iter(dates)

    def redate(m: re.Match) -> str:
        date = next(counter, None)
        return f"<creationDate>{date}</creationDate>" if date else m.group(0)

    body = re.sub(r"<creationDate>[^<]*</creationDate>", redate, resp.body.decode("utf-8"))
    return Response(resp.status, resp.headers, body.encode())


def json_public_parameters(resp: Response) -> Response:
    """moto 5.2 stores the public ECS-optimized AMI parameters' values as Python reprs
    (`{'image_id': ...}`); AWS's are JSON. Re-encodes them."""
    import ast

    answer = json.loads(resp.body or b"{}")
    params = answer.get("Parameters") or ([answer["Parameter"]] if "Parameter" in answer else [])
    for param in params:
        value = param.get("Value")
        if str(param.get("Name", "")).startswith("/aws/service/ecs/") and isinstance(value, str) and value.startswith("{'"):
            try:
                param["Value"] = json.dumps(ast.literal_eval(value))
            except (ValueError, SyntaxError):
                pass
    return Response(resp.status, resp.headers, json.dumps(answer).encode())


# --------------------------------------------------------------------------------------------------
# ECS, like AWS


class EcsFront:
    def __init__(self, moto: Moto) -> None:
        self.moto = moto
        self.pager = Pager()
        self.memory = Memory()
        # Bumped by every call that may change what a list holds (see `changed`).
        self.generation = 0
        # (op, request, caller) -> (generation, full list) of the last first page read.
        self._lists: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
        self._lists_lock = threading.Lock()

    def changed(self) -> None:
        """Something that may change a list came in: later pages read moto again."""
        with self._lists_lock:
            self.generation += 1
            self._lists.clear()

    def paged_list(self, ecs: Ecs, op: str, payload: dict) -> list[str]:
        """The full list a page is cut from: read from moto for a first page, and for later
        pages unless nothing changed since the listing's first page (then the list it read)."""
        request = {k: v for k, v in payload.items() if k not in ("maxResults", "nextToken")}
        key = (op, json.dumps(request, sort_keys=True), ecs.caller)
        with self._lists_lock:
            generation = self.generation
            cached = self._lists.get(key)
        if payload.get("nextToken") and cached is not None and cached[0] == generation:
            return cached[1]
        items = self.full_list(ecs, op, payload)
        with self._lists_lock:
            if self.generation == generation:
                self._lists[key] = (generation, items)
        return items

    def run_tasks(self, body: dict) -> dict:
        """`count` FARGATE tasks started inside moto at once (seeding big clusters)."""
        from moto.ecs.models import ecs_backends

        account = body.get("account") or "123456789012"
        region = body.get("region") or "us-east-1"
        with self.moto._lock:
            backend = ecs_backends[account][region]
            tasks = backend.run_task(
                body["cluster"],
                body["taskDefinition"],
                int(body.get("count") or 1),
                None,
                body.get("startedBy") or "",
                None,
                "FARGATE",
            )
            groups = body.get("groups") or []
            for i, task in enumerate(tasks):
                if groups:
                    task.group = groups[i % len(groups)]
        for task in tasks:
            self.memory.learn_task(
                {
                    "taskArn": task.task_arn,
                    "clusterArn": task.cluster_arn,
                    "group": task.group or "",
                    "startedBy": task.started_by or "",
                    "taskDefinitionArn": task.task_definition_arn,
                    "launchType": "FARGATE",
                }
            )
        self.changed()
        return {"taskArns": [t.task_arn for t in tasks]}

    def handle(self, op: str, req: Request) -> Response:
        try:
            payload = json.loads(req.body or b"{}")
        except ValueError:
            return self.moto.forward(req)
        if not isinstance(payload, dict):
            return self.moto.forward(req)
        ecs = Ecs(self.moto, req)
        try:
            check_batch_limit(op, payload)
            if op in LIST_OPS:
                items = self.paged_list(ecs, op, payload)
                return json_response(self.pager.page(op, payload, items, req.where()))
            special = {
                "DescribeTasks": self.describe_tasks,
                "DescribeServices": self.describe_services,
                "DescribeClusters": self.describe_clusters,
                "RunTask": self.tasks_call,
                "StartTask": self.tasks_call,
                "StopTask": self.tasks_call,
                "ExecuteCommand": self.execute_command,
            }.get(op)
            if special is None:
                return self.moto.forward(req)
            return json_response(special(ecs, op, payload))
        except AwsError as err:
            return err.response()
        except MotoError as err:
            return err.response

    # ---- List calls: the full list from moto, with the filters moto lacks

    def full_list(self, ecs: Ecs, op: str, payload: dict) -> list[str]:
        field_name, _ = LIST_OPS[op]
        request = {k: v for k, v in payload.items() if k not in ("maxResults", "nextToken")}
        if op == "ListTasks":
            return self.list_tasks(ecs, request)
        if op == "ListContainerInstances":
            require_cluster(ecs, request.get("cluster"))
        items = list(ecs.call(op, request).get(field_name, []))
        if op == "ListServices":
            # moto matches the cluster by substring: `prod` also lists `preprod`'s services.
            name = cluster_name(request.get("cluster"))
            items = [a for a in items if len(a.split("/")) < 3 or a.split("/")[-2] == name]
        if op == "ListTaskDefinitions":
            items = sort_task_definitions(items, request.get("sort", "ASC"))
            prefix = request.get("familyPrefix")
            if prefix:
                # moto matches the family exactly; AWS by prefix (`cart` lists `cart-api` too).
                unfiltered = {k: v for k, v in request.items() if k != "familyPrefix"}
                items = sort_task_definitions(
                    list(ecs.call(op, unfiltered).get(field_name, [])), request.get("sort", "ASC")
                )
                items = [a for a in items if last_segment(a).rpartition(":")[0].startswith(prefix)]
        return items

    def list_tasks(self, ecs: Ecs, request: dict) -> list[str]:
        cluster = request.get("cluster") or "default"
        desired = request.get("desiredStatus") or "RUNNING"
        if desired not in ("RUNNING", "PENDING", "STOPPED"):
            raise invalid(f"desiredStatus must be one of RUNNING, PENDING, STOPPED, got {desired!r}.")
        service = request.get("serviceName")
        if service:
            require_service(ecs, cluster, service)
        if desired == "PENDING":
            ecs.call("ListTasks", {"cluster": cluster})  # still fails on an unknown cluster
            return []  # AWS: filtering on PENDING never returns anything
        # moto filters cluster (by substring) and desiredStatus; the rest happens here.
        arns = ecs.call("ListTasks", {"cluster": cluster, "desiredStatus": desired}).get("taskArns", [])
        facts = self.memory.task_facts(ecs, cluster, arns)
        wanted = task_filter(cluster, request)
        return [a for a in arns if a in facts and wanted(facts[a])]

    # ---- Describe calls and calls returning tasks

    def describe_tasks(self, ecs: Ecs, op: str, payload: dict) -> dict:
        out = ecs.call(op, payload)
        cluster = cluster_name(payload.get("cluster"))
        # moto returns the tasks of any cluster and never reports failures.
        tasks = [t for t in out.get("tasks", []) if cluster_name(t.get("clusterArn")) == cluster]
        found = {last_segment(t["taskArn"]) for t in tasks}
        failures = [
            {"arn": ref, "reason": "MISSING"} for ref in payload.get("tasks", []) if last_segment(ref) not in found
        ]
        for task in tasks:
            self.normalise_task(ecs, task)
        out["tasks"] = tasks
        out["failures"] = out.get("failures", []) + failures
        return out

    def tasks_call(self, ecs: Ecs, op: str, payload: dict) -> dict:
        if op == "StopTask":
            # moto fails with HTTP 500 (a bare Exception) on a task the cluster does not hold.
            require_cluster(ecs, payload.get("cluster"))
            cluster = payload.get("cluster") or "default"
            described = ecs.call("DescribeTasks", {"cluster": cluster, "tasks": [payload.get("task") or ""]})
            wanted = cluster_name(payload.get("cluster"))
            if not any(cluster_name(t.get("clusterArn")) == wanted for t in described.get("tasks", [])):
                raise invalid("The referenced task was not found.")
        out = ecs.call(op, payload)
        for task in out.get("tasks", []) + ([out["task"]] if "task" in out else []):
            if op in ("RunTask", "StartTask"):
                task["enableExecuteCommand"] = bool(payload.get("enableExecuteCommand"))
            self.normalise_task(ecs, task)
        if op == "RunTask":
            # moto places what fits and silently drops the rest; AWS reports each unplaced task.
            unplaced = int(payload.get("count") or 1) - len(out.get("tasks", []))
            out["failures"] = out.get("failures", []) + [
                {"reason": "RESOURCE:MEMORY", "detail": "no container instance has the CPU and memory the task needs"}
            ] * max(unplaced, 0)
        return out

    def execute_command(self, ecs: Ecs, op: str, payload: dict) -> dict:
        """ECS Exec, which moto lacks: the checks AWS makes before it opens a session, then a
        session of the shape AWS returns (nothing listens at its stream URL)."""
        if not payload.get("command"):
            raise invalid("command must be specified.")
        if payload.get("interactive") is not True:
            raise invalid("Interactive is the only mode supported currently.")
        cluster = payload.get("cluster") or "default"
        require_cluster(ecs, cluster)
        request = {"cluster": cluster, "tasks": [payload.get("task") or ""]}
        described = self.describe_tasks(ecs, "DescribeTasks", request)
        tasks = described.get("tasks", [])
        if not tasks:
            raise invalid("The referenced task was not found.")
        task = tasks[0]
        if task.get("lastStatus") != "RUNNING" or not task.get("enableExecuteCommand"):
            raise invalid(
                "The execute command failed because execute command was not enabled when the task was run "
                "or the execute command agent isn't running. Wait and try again or run a new task with "
                "execute command enabled and try again."
            )
        containers = task.get("containers", [])
        name = payload.get("container")
        if name:
            container = next((c for c in containers if c.get("name") == name), None)
            if container is None:
                raise invalid(f"The container {name} does not exist in the task.")
        elif len(containers) == 1:
            container = containers[0]
        else:
            raise invalid("Container name must be specified when the task has more than one container.")
        region = ecs.region
        session_id = f"ecs-execute-command-{secrets.token_hex(8)}"
        return {
            "clusterArn": task["clusterArn"],
            "containerArn": container["containerArn"],
            "containerName": container["name"],
            "interactive": True,
            "session": {
                "sessionId": session_id,
                "streamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{session_id}"
                "?role=publish_subscribe&cell-number=AAEAAQ",
                "tokenValue": base64.b64encode(secrets.token_bytes(48)).decode(),
            },
            "taskArn": task["taskArn"],
        }

    def describe_services(self, ecs: Ecs, op: str, payload: dict) -> dict:
        out = ecs.call(op, payload)
        if out.get("services"):
            cluster = payload.get("cluster") or "default"
            running = self.running_by_group(ecs, cluster)
            for service in out["services"]:
                derive_service_counts(service, running.get(f"service:{service.get('serviceName')}", 0))
        return out

    def describe_clusters(self, ecs: Ecs, op: str, payload: dict) -> dict:
        """moto never counts a cluster's services (activeServicesCount stays 0) and counts only
        the EC2 tasks it placed itself; count both from the cluster's contents, as AWS does."""
        out = ecs.call(op, payload)
        for cluster in out.get("clusters", []):
            arn = cluster.get("clusterArn", "")
            cluster["activeServicesCount"] = len(self.full_list(ecs, "ListServices", {"cluster": arn}))
            cluster["runningTasksCount"] = sum(self.running_by_group(ecs, arn).values())
        return out

    def running_by_group(self, ecs: Ecs, cluster: str) -> Counter[str]:
        arns = ecs.call("ListTasks", {"cluster": cluster, "desiredStatus": "RUNNING"}).get("taskArns", [])
        facts = self.memory.task_facts(ecs, cluster, arns)
        name = cluster_name(cluster)
        return Counter(f.group for f in facts.values() if cluster_name(f.cluster_arn) == name)

    def normalise_task(self, ecs: Ecs, task: dict) -> None:
        """Fill what AWS returns and moto doesn't: timestamps, stop code, zone, launch type, task
        size, and one container per container definition (moto makes one, PENDING, for the first)."""
        facts = self.memory.learn_task(task)
        status = task.get("lastStatus")
        task.setdefault("createdAt", facts.created_at)
        task.setdefault("connectivity", "CONNECTED")
        task.setdefault("connectivityAt", facts.created_at)
        if status in ("RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"):
            task.setdefault("pullStartedAt", facts.created_at)
            task.setdefault("pullStoppedAt", facts.created_at)
            task.setdefault("startedAt", facts.created_at)
        if status == "STOPPED":
            stopped = facts.stopped_at or time.time()
            task.setdefault("stoppingAt", stopped)
            task.setdefault("executionStoppedAt", stopped)
            task.setdefault("stoppedAt", stopped)
            if not task.get("stopCode"):
                task["stopCode"] = "UserInitiated"
        if not task.get("launchType") and task.get("containerInstanceArn"):
            task["launchType"] = "EC2"
        cluster = task.get("clusterArn") or "default"
        zone = self.memory.zone_of(ecs, cluster, task.get("containerInstanceArn") or "")
        if zone:
            task.setdefault("availabilityZone", zone)
        definition = self.memory.task_definition(ecs, task.get("taskDefinitionArn", ""))
        task.setdefault("healthStatus", "UNKNOWN")
        for key in ("cpu", "memory"):
            if definition.get(key):
                task.setdefault(key, str(definition[key]))
        task["enableExecuteCommand"] = facts.enable_execute_command
        task["containers"] = [
            container_of(task, d, status, facts) for d in definition.get("containerDefinitions", [])
        ] or task.get("containers", [])


def check_batch_limit(op: str, payload: dict) -> None:
    if op in BATCH_LIMITS:
        field_name, limit = BATCH_LIMITS[op]
        given = payload.get(field_name) or []
        if len(given) > limit:
            raise invalid(f"{field_name} can have at most {limit} items, got {len(given)}.")


def require_cluster(ecs: Ecs, cluster: str | None) -> None:
    out = ecs.call("DescribeClusters", {"clusters": [cluster or "default"]})
    if not any(c.get("status") != "INACTIVE" for c in out.get("clusters", [])):
        raise AwsError("ClusterNotFoundException", "Cluster not found.")


def require_service(ecs: Ecs, cluster: str, service: str) -> None:
    out = ecs.call("DescribeServices", {"cluster": cluster, "services": [service]})
    if not out.get("services"):
        raise AwsError("ServiceNotFoundException", "Service not found.")


def task_filter(cluster: str, request: dict):
    name = cluster_name(cluster)
    service = request.get("serviceName")
    instance = request.get("containerInstance")
    family = request.get("family")
    started_by = request.get("startedBy")
    launch_type = request.get("launchType")

    def wanted(f: TaskFacts) -> bool:
        return (
            cluster_name(f.cluster_arn) == name
            and (not service or f.group == f"service:{last_segment(service)}")
            and (not instance or last_segment(f.container_instance_arn) == last_segment(instance))
            and (not family or f.family == family)
            and (not started_by or f.started_by == started_by)
            and (not launch_type or (f.launch_type or ("EC2" if f.container_instance_arn else "")) == launch_type)
        )

    return wanted


def sort_task_definitions(arns: list[str], order: str) -> list[str]:
    def key(arn: str) -> tuple[str, int]:
        family, _, revision = last_segment(arn).rpartition(":")
        return (family, int(revision) if revision.isdigit() else 0)

    return sorted(arns, key=key, reverse=(order == "DESC"))


def derive_service_counts(service: dict, running: int) -> None:
    """moto never counts a service's tasks (runningCount stays 0, pendingCount = desiredCount);
    AWS counts them. Tasks here start RUNNING, so pending is 0."""
    desired = service.get("desiredCount", 0)
    service["runningCount"], service["pendingCount"] = running, 0
    for deployment in service.get("deployments", []):
        if deployment.get("status") == "PRIMARY":
            deployment["runningCount"], deployment["pendingCount"] = running, 0
            done = running >= deployment.get("desiredCount", desired)
            deployment["rolloutState"] = "COMPLETED" if done else "IN_PROGRESS"
            verb = "completed" if done else "in progress"
            deployment["rolloutStateReason"] = f"ECS deployment {deployment.get('id', '')} {verb}."


def container_of(task: dict, definition: dict, status: str | None, facts: TaskFacts) -> dict:
    task_arn = task["taskArn"]
    arn_prefix = task_arn.split(":task/")[0]
    cluster = cluster_name(task.get("clusterArn"))
    container_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{task_arn}#{definition.get('name')}")
    container = {
        "containerArn": f"{arn_prefix}:container/{cluster}/{last_segment(task_arn)}/{container_id}",
        "taskArn": task_arn,
        "name": definition.get("name", ""),
        "image": definition.get("image", ""),
        "lastStatus": status or "PENDING",
        "networkInterfaces": [],
        "healthStatus": "HEALTHY" if definition.get("healthCheck") else "UNKNOWN",
    }
    for key in ("cpu", "memory", "memoryReservation"):
        if definition.get(key) is not None:
            container[key] = str(definition[key])
    if status in ("RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"):
        # A started container's Docker id (EC2 launch type: 64 hex digits).
        container["runtimeId"] = hashlib.sha256(container["containerArn"].encode()).hexdigest()
    if facts.enable_execute_command:
        agent_status = "RUNNING" if status == "RUNNING" else ("STOPPED" if status == "STOPPED" else "PENDING")
        container["managedAgents"] = [
            {"name": "ExecuteCommandAgent", "lastStatus": agent_status, "lastStartedAt": facts.created_at}
        ]
    if status == "STOPPED":
        container["exitCode"] = 0  # moto cannot set exit codes
    return container


# --------------------------------------------------------------------------------------------------
# Faults: AWS having a bad day, on demand


class DropConnection(Exception):
    """Raised by a fault to end the connection with a TCP reset instead of an answer."""


FAULT_KINDS = ("throttle", "http429", "5xx", "slow", "reset", "hang", "lost", "malformed", "answer", "poison", "denied")

# `poison`: what is added to strings of an answer. Names the console calls AWS with again get only
# what sanitizing removes entirely (escape sequences, bidi and zero-width characters), so they
# still name the same object once cleaned; free text also gets what is drawn as a visible marker
# (tab, line breaks, BEL, DEL, a C1 control). The payloads (PWNED, 2J, 31m) must never be seen.
ERASABLE = "\x1b[2J\x1b]0;PWNED\x07\u202e\u200b\x9b31m\x1bP1$qPWNED\x1b\\"
HOSTILE = ERASABLE + "\tTAB\nNL\rCR\x07BEL\x7fDEL\x84C1\u2066ISO\u2069"
POISON_NAMES = {
    "clusterName", "serviceName", "name", "group",
    # Values the console compares (and the SDK's enums, passed on as sent when unknown).
    "status", "lastStatus", "desiredStatus", "launchType", "healthStatus", "rolloutState", "stopCode",
    "networkMode", "requiresCompatibilities", "protocol", "appProtocol", "connectivity", "type",
    # Identifiers the console draws and also sends back (task definitions, target groups,
    # container instances, SSM sessions, log streams).
    "taskDefinition", "taskDefinitionArn", "targetGroupArn", "containerInstanceArn", "SessionId",
    "logStreamName",
}
POISON_TEXT = {
    "startedBy", "stoppedReason", "reason", "message", "image", "value", "key", "family",
    "rolloutStateReason", "availabilityZone", "platformVersion", "agentVersion", "dockerVersion",
}


@dataclass
class FaultRule:
    op: str  # `ecs:ListClusters`, `ecs:*` or `*`
    kind: str
    until: float | None  # time.monotonic() after which the rule is gone
    count: int | None  # requests left to fault
    status: int
    delay: float
    code: str | None
    body: bytes | None = None
    # Only requests in this account / region (None: any): one context failing, the others not.
    account: str | None = None
    region: str | None = None
    hits: int = 0
    ended: threading.Event = field(default_factory=threading.Event)

    def matches(self, op: str, req: Request | None = None) -> bool:
        if self.region is not None and (req is None or req.signing_region() != self.region):
            return False
        if self.account is not None and (req is None or req.account() != self.account):
            return False
        if self.op == "*" or self.op == op:
            return True
        return self.op.endswith(":*") and op.startswith(self.op[:-1])

    def live(self, now: float) -> bool:
        over = (self.until is not None and now >= self.until) or (self.count is not None and self.count <= 0)
        if over:
            self.ended.set()
        return not over


class Faults:
    """Rules set by tests through `/_ecsmon/faults`; the first live rule matching a request's
    operation decides what happens to it (see the module's docstring)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, spec: object) -> None:
        if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"a fault needs a kind, one of {FAULT_KINDS}: {spec!r}")
        seconds = spec.get("seconds")
        rule = FaultRule(
            op=str(spec.get("op", "*")),
            kind=spec["kind"],
            until=time.monotonic() + float(seconds) if seconds is not None else None,
            count=int(spec["count"]) if spec.get("count") is not None else None,
            status=int(spec.get("status", 200 if spec["kind"] == "answer" else 500)),
            delay=float(spec.get("delay", 3.0)),
            code=spec.get("code"),
            body=base64.b64decode(spec["body_b64"]) if spec.get("body_b64") else None,
            account=str(spec["account"]) if spec.get("account") is not None else None,
            region=str(spec["region"]) if spec.get("region") is not None else None,
        )
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            for rule in self._rules:
                rule.ended.set()
            self._rules.clear()

    def snapshot(self) -> list[dict]:
        now = time.monotonic()
        with self._lock:
            return [
                {"op": r.op, "kind": r.kind, "account": r.account, "region": r.region, "hits": r.hits, "live": r.live(now)}
                for r in self._rules
            ]

    def pick(self, op: str, req: Request | None = None) -> FaultRule | None:
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                if rule.live(now) and rule.matches(op, req):
                    rule.hits += 1
                    if rule.count is not None:
                        rule.count -= 1
                    return rule
        return None

    def lose(self, rule: FaultRule) -> None:
        """`lost`: the request was carried out, but its answer never leaves. The connection is
        held until the rule's time is up (or `delay` seconds when it is a number of requests:
        other requests keep their answers meanwhile) or the faults are cleared, then reset."""
        end = rule.until if rule.until is not None else time.monotonic() + rule.delay
        while time.monotonic() < end:
            with self._lock:
                if all(r is not rule for r in self._rules):
                    break
            time.sleep(0.05)
        raise DropConnection()

    @staticmethod
    def apply(rule: FaultRule, req: Request) -> Response | None:
        """The answer instead of moto's, or None to go on to moto (after a delay). Raises
        DropConnection for a reset."""
        if rule.kind == "slow":
            time.sleep(rule.delay)
            return None
        if rule.kind in ("poison", "lost"):
            return None  # applied to moto's answer: see `poison` and `lose`
        if rule.kind == "answer":
            # A fixed answer, byte for byte (invalid UTF-8, odd JSON), in the protocol's content type.
            content_type = {"cbor": "application/cbor", "ec2": "text/xml", "query": "text/xml"}.get(protocol(req), JSON_CONTENT_TYPE)
            return Response(rule.status, [("Content-Type", content_type)], rule.body or b"")
        if rule.kind == "reset":
            raise DropConnection()
        if rule.kind == "hang":
            # Read, never answered: held until the fault is over (its time is up, or it is
            # cleared), or for `delay` seconds when it is a number of requests; then reset.
            hold = rule.until - time.monotonic() if rule.until is not None else rule.delay
            rule.ended.wait(timeout=max(hold, 0.0))
            raise DropConnection()
        if rule.kind == "throttle":
            return protocol_error(req, rule.code or "", 400, throttling=True)
        if rule.kind == "http429":
            # What a proxy or API gateway in front of AWS sends: no AWS error code at all.
            return Response(429, [("Content-Type", "application/json")], b'{"message":"Too Many Requests"}')
        if rule.kind == "5xx":
            return protocol_error(req, rule.code or "", rule.status, throttling=False)
        if rule.kind == "denied":
            return access_denied(req)
        return malformed(req)


def protocol(req: Request) -> str:
    """`cbor` (CloudWatch), `ec2` (EC2 Query), `query` (STS, ELBv2...), else `json`."""
    if urllib.parse.urlsplit(req.path).path.startswith(CBOR_OPERATION_PATH):
        return "cbor"
    if req.header("x-amz-target"):
        return "json"
    if req.signing_service() == "ec2":
        return "ec2"
    return "query" if req.form_action() else "json"


def protocol_error(req: Request, code: str, status: int, throttling: bool) -> Response:
    """An error in the shape the request's protocol uses, as AWS sends it."""
    kind = protocol(req)
    request_id = str(uuid.uuid4())
    if kind == "ec2":
        # EC2 answers throttling with 503 RequestLimitExceeded.
        code = code or ("RequestLimitExceeded" if throttling else "InternalError")
        status = 503 if throttling else status
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>injected fault</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return Response(status, [("Content-Type", "text/xml")], body.encode())
    if kind == "query":
        code = code or ("Throttling" if throttling else "InternalFailure")
        side = "Sender" if status < 500 else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{side}</Type><Code>{code}</Code><Message>Rate exceeded</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode())
    if kind == "cbor":
        # CloudWatch is awsQueryCompatible: its codes are the Query ones.
        code = code or ("Throttling" if throttling else "InternalFailure")
        headers = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
        return Response(status, headers, cbor2.dumps({"__type": code, "message": "Rate exceeded"}))
    code = code or ("ThrottlingException" if throttling else "ServerException")
    message = "Rate exceeded" if throttling else "Service encountered an internal error"
    return json_response({"__type": code, "message": message}, status)


def access_denied(req: Request) -> Response:
    """What AWS answers a principal whose policies do not allow the call, in the request's
    protocol (JSON `AccessDeniedException`, EC2 `UnauthorizedOperation`, Query `AccessDenied`)."""
    kind = protocol(req)
    request_id = str(uuid.uuid4())
    message = f"User: arn:aws:sts::{req.account()}:assumed-role/ReadOnly/ecsmon is not authorized to perform: {operation_name(req)}"
    if kind == "ec2":
        body = (
            f"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return Response(403, [("Content-Type", "text/xml")], body.encode())
    if kind == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(403, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode())
    if kind == "cbor":
        headers = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
        return Response(403, headers, cbor2.dumps({"__type": "AccessDenied", "message": message}))
    return json_response({"__type": "AccessDeniedException", "message": message}, 400)


def poison(resp: Response) -> Response:
    """moto's JSON answer with hostile text added to its names and free text (see HOSTILE), and a
    hostile event on every service; anything else is left as it is."""
    if resp.status != 200:
        return resp
    try:
        answer = json.loads(resp.body or b"{}")
    except ValueError:
        return resp

    def walk(value: object, key: str = "") -> object:
        if isinstance(value, str):
            if key in POISON_NAMES:
                return value + ERASABLE
            return value + HOSTILE if key in POISON_TEXT else value
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, dict):
            # An attachment's details are found by name: only their values are poisoned.
            out = {k: v if key == "details" and k == "name" else walk(v, k) for k, v in value.items()}
            if "serviceArn" in out and "serviceName" in out:
                event = {"id": str(uuid.uuid4()), "createdAt": time.time(), "message": "(service x) " + HOSTILE}
                out["events"] = [event] + list(out.get("events") or [])
                # Subnets too (moto's services on EC2 have none).
                if not (out.get("networkConfiguration") or {}).get("awsvpcConfiguration"):
                    out["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": ["subnet-0a1" + HOSTILE]}}
            if "taskArn" in out and "containers" in out and not out.get("attachments"):
                # A private IP too (moto's bridge-mode tasks have none).
                detail = {"name": "privateIPv4Address", "value": "10.0.9.9" + HOSTILE}
                out["attachments"] = [{"id": "eni-attach", "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": [detail]}]
            return out
        return value

    return Response(resp.status, resp.headers, json.dumps(walk(answer)).encode())


def malformed(req: Request) -> Response:
    """HTTP 200 whose body the protocol's parser cannot read."""
    kind = protocol(req)
    if kind == "cbor":
        return Response(200, [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")], b"\xff\x00\x9f garbage")
    if kind in ("ec2", "query"):
        return Response(200, [("Content-Type", "text/xml")], b"<Response><unterminated")
    return Response(200, [("Content-Type", JSON_CONTENT_TYPE)], b'{"clusterArns": ["arn:aws:ecs:trunc')


# --------------------------------------------------------------------------------------------------
# The HTTP front


class Front:
    def __init__(self, moto: Moto) -> None:
        self.moto = moto
        self.stats = Stats()
        self.hooks = Hooks(moto)
        self.ecs = EcsFront(moto)
        self.hooks.ssm.ecs_front = self.ecs
        self.faults = Faults()

    def handle(self, req: Request) -> Response:
        admin = self.admin(req)
        if admin is not None:
            return admin
        op = operation_name(req)
        self.stats.count(op, req.where())
        if not re.match(r"ecs:(List|Describe)", op):
            self.ecs.changed()
        fault = self.faults.pick(op, req)
        if fault is not None:
            faulted = self.faults.apply(fault, req)
            if faulted is not None:
                return faulted
        resp = self.hooks.before(op, req)
        if resp is None:
            target = req.header("x-amz-target") or ""
            if target.startswith(ECS_TARGET + "."):
                resp = self.ecs.handle(target.split(".", 1)[1], req)
            else:
                resp = self.moto.forward(req)
        if fault is not None and fault.kind == "poison":
            resp = poison(resp)
        resp = self.hooks.after(op, req, resp)
        if fault is not None and fault.kind == "lost":
            self.faults.lose(fault)
        return resp

    def admin(self, req: Request) -> Response | None:
        path = urllib.parse.urlsplit(req.path).path
        if path == "/_ecsmon/stats" and req.method == "GET":
            by = urllib.parse.parse_qs(urllib.parse.urlsplit(req.path).query).get("by")
            if by == ["context"]:
                return json_response(self.stats.by_where())
            return json_response(self.stats.snapshot())
        if path == "/_ecsmon/sessions" and req.method == "GET":
            return json_response(self.hooks.ssm.snapshot())
        if path == "/_ecsmon/run-tasks" and req.method == "POST":
            try:
                return json_response(self.ecs.run_tasks(json.loads(req.body or b"{}")))
            except (ValueError, TypeError, KeyError) as exc:
                return json_response({"message": f"{type(exc).__name__}: {exc}"}, 400)
        if path == "/_ecsmon/reset" and req.method == "POST":
            self.stats.reset()
            return json_response({})
        if path == "/_ecsmon/faults":
            if req.method == "POST":
                try:
                    self.faults.add(json.loads(req.body or b"{}"))
                except (ValueError, TypeError) as exc:
                    return json_response({"message": str(exc)}, 400)
                return json_response({})
            if req.method == "DELETE":
                self.faults.clear()
                return json_response({})
            if req.method == "GET":
                return json_response(self.faults.snapshot())
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    front: Front  # set on the subclass made in serve()

    def do_any(self) -> None:
        try:
            req = Request(self.command, self.path, list(self.headers.items()), self.read_body())
            resp = self.front.handle(req)
        except DropConnection:
            # SO_LINGER 0, then close: the peer gets a TCP reset, not an answer or a clean end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        except Exception as exc:  # a bug in the front: say so, as a 500 the test will see
            logging.exception("front failed")
            resp = json_response({"__type": "InternalFailure", "message": f"ecsmon moto front: {exc!r}"}, 500)
        self.send_all(resp)

    def send_all(self, resp: Response) -> None:
        """Status line, headers and body in one write (several small writes would each wait for
        the peer's delayed ACK)."""
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {resp.status} {reason}"]
        lines += [f"{key}: {value}" for key, value in resp.headers]
        lines.append(f"Content-Length: {len(resp.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + resp.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_any

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def serve(port: int) -> ThreadingHTTPServer:
    moto = Moto()
    handler = type("BoundHandler", (Handler,), {"front": Front(moto)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def exit_at_end_of_stdin() -> None:
    while sys.stdin.buffer.read(65536):
        pass
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port of the front (0: any free port)")
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="keep running when stdin closes (for use by hand)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="moto-front: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = serve(args.port)
    print(f"READY http://127.0.0.1:{server.server_address[1]}", flush=True)
    if args.ignore_stdin:
        threading.Event().wait()
    exit_at_end_of_stdin()


if __name__ == "__main__":
    main()
