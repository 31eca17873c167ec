"""Resource types that moto's CloudFormation does not create, created through moto's own APIs.

moto's CloudFormation creates buckets, keys, roles, functions, queues, topics, state machines
and rules, and silently skips every other type: a ``Ref`` to a skipped resource becomes
nothing and the property holding it disappears. Here each type the app uses and moto skips
gets an adapter: a ``CloudFormationModel`` whose creation calls the emulated service's API
(boto3, against the same moto server) with the template's properties, as CloudFormation's
resource handler would, and whose deletion calls its delete API. botocore validates each
call against the service model, so a property of the wrong shape fails the rehearsal.

A type with neither moto support nor an adapter is *not rehearsed*: a placeholder stands in,
so that references to it stay visible (``not-rehearsed:<the name moto gives it>``) instead
of vanishing, and the report lists it by type. It is never counted as deployed.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import boto3
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

# Adapters by CloudFormation type, filled by ``adapter`` below.
ADAPTERS: dict[str, type[Adapter]] = {}
# (logical id, type, error) of each resource whose creation failed since the last ``clear``:
# the emulator answers a failed CreateStack with an opaque error 500, the cause is here.
FAILURES: list[tuple[str, str, str]] = []
NOT_REHEARSED_PREFIX = "not-rehearsed:"
# Error codes that mean "no such resource" besides the ``...NotFound...`` ones.
_GONE = {"NoSuchBucket", "NoSuchEntity", "404"}


@functools.cache
def _client(service: str, region: str, endpoint: str) -> Any:
    return boto3.session.Session(region_name=region).client(service, endpoint_url=endpoint)


def client(service: str, region: str) -> Any:
    """A client of the emulated ``service``, through the server the environment names (one
    per service: making a client costs more than most calls)."""
    return _client(service, region, os.environ["AWS_ENDPOINT_URL"])


class Adapter(CloudFormationModel):
    """One resource of a type moto's CloudFormation skips, made through the service's API.

    Subclasses set ``TYPE`` and ``SERVICE`` and implement ``make`` (which returns the physical
    id CloudFormation's ``Ref`` gives, and the ``GetAtt`` attributes) and ``remove``."""

    TYPE: ClassVar[str] = ""
    SERVICE: ClassVar[str] = ""

    def __init__(
        self, physical_id: str, attributes: Mapping[str, str], props: dict[str, Any], region: str
    ) -> None:
        self.physical_id = physical_id
        self.attributes = dict(attributes)
        self.props = props
        self.region = region

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def remove(self, api: Any) -> None:
        raise NotImplementedError

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name not in self.attributes:
            raise KeyError(f"{self.TYPE} {self.physical_id} has no attribute {attribute_name}")
        return self.attributes[attribute_name]

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Adapter:
        props = dict(cloudformation_json.get("Properties") or {})
        api = client(cls.SERVICE, region_name) if cls.SERVICE else None
        physical_id, attributes = cls.make(api, props, resource_name)
        return cls(physical_id, attributes, props, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the resource; one that is already gone counts as deleted, as in
        CloudFormation (a function's invoke settings go with the function)."""
        from botocore.exceptions import ClientError

        try:
            self.remove(client(self.SERVICE, region_name) if self.SERVICE else None)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in _GONE and "NotFound" not in code:
                raise

    def is_created(self) -> bool:
        return True


class NotRehearsed(Adapter):
    """A type with no emulation: nothing is created; references to it stay visible."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        return NOT_REHEARSED_PREFIX + name, {}  # the name moto makes holds the logical id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return f"{self.physical_id}.{attribute_name}"

    def remove(self, api: Any) -> None:
        return None


def adapter(type_: str, service: str = "") -> Callable[[type[Adapter]], type[Adapter]]:
    """Register the decorated class as the adapter of CloudFormation type ``type_``."""

    def register(cls: type[Adapter]) -> type[Adapter]:
        cls.TYPE, cls.SERVICE = type_, service
        ADAPTERS[type_] = cls
        return cls

    return register


def moto_types() -> set[str]:
    """The types moto's CloudFormation creates by itself."""
    return set(parsing.get_model_map())


def how_rehearsed(type_: str) -> str:
    """``moto``, ``adapter`` or ``not rehearsed``: how a resource of ``type_`` is deployed."""
    if type_ in ADAPTERS:
        return "adapter"
    if type_ in moto_types():
        return "moto"
    return "not rehearsed"


_original = parsing.resource_class_from_type
_original_create = parsing.parse_and_create_resource


def _recording_failures(
    logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any
) -> Any:
    try:
        return _original_create(logical_id, resource_json, *args, **kwargs)
    except Exception as error:
        FAILURES.append(
            (logical_id, str(resource_json.get("Type")), f"{type(error).__name__}: {error}")
        )
        raise


def _with_adapters(resource_type: str) -> type[CloudFormationModel]:
    if resource_type in ADAPTERS:
        return ADAPTERS[resource_type]
    if resource_type in moto_types() or resource_type in parsing.NULL_MODELS:
        return _original(resource_type)
    return NotRehearsed


def _no_delivery(backend: Any, request: Any, bucket_name: str) -> None:
    return None


def _neutral(bucket: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import PermissionResult

    return PermissionResult.NEUTRAL


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """moto's CloudFormation routed through the adapters for a while, then restored. The
    adapter modules register themselves on import.

    Bucket policies are stored (and read back by the checks) but not enforced: moto evaluates
    a policy's statements for ``*`` without their conditions, so the TLS-only deny and the
    deny of another encryption key would refuse every request, which AWS would not. The
    rehearsal proves what is created, not who may use it.

    Server access logs are not delivered: AWS delivers them best-effort, minutes to hours
    later; moto writes each at once, so whether the access-logs bucket is empty when its
    stack deletes it would depend on the order moto happens to delete resources in.

    Step Functions runs executions (moto's ``execute_state_machine``), so that a deployed
    pipeline can be started."""
    from moto.core.config import default_user_config
    from moto.s3.models import FakeBucket, S3Backend

    from deploy import (  # noqa: F401 - each registers its adapters on import
        adapters_catalog,
        adapters_monitoring,
        adapters_operations,
        adapters_storage,
    )

    patches: list[tuple[Any, str, Any]] = [
        (parsing, "resource_class_from_type", _with_adapters),
        (parsing, "parse_and_create_resource", _recording_failures),
        (FakeBucket, "get_permission", _neutral),
        (S3Backend, "log_incoming_request", _no_delivery),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    executes = default_user_config["stepfunctions"]["execute_state_machine"]
    for owner, name, value in patches:
        setattr(owner, name, value)
    FAILURES.clear()  # nothing of an earlier rehearsal in this process carries over
    adapters_storage.PENDING_LOGGING.clear()
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
        default_user_config["stepfunctions"]["execute_state_machine"] = executes
