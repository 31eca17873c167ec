"""Step Functions' AWS SDK integrations as AWS runs them, where moto's interpreter differs.

A task ``arn:aws:states:::aws-sdk:<service>:<action>`` takes its parameters and returns its
result in PascalCase whatever the service's own casing (AWS maps them onto the API's
members). moto's interpreter passes the names through as written, so a call to a camelCase
API (Step Functions' own ``listExecutions``) fails in the emulator and would in no account.
Here the parameters are mapped onto the operation's members and the result back to
PascalCase, by botocore's service model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import botocore.session


def _operation(task: Any, boto_service_name: str | None) -> Any:
    service = task._get_boto_service_name(boto_service_name)
    action = task.resource.api_action
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(action[0].upper() + action[1:])


def _parameters(
    task: Any,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    members = _operation(task, boto_service_name).input_shape.members
    by_lower = {member.lower(): member for member in members}
    for key in list(parameters):
        if key not in members and key.lower() in by_lower:
            parameters[by_lower[key.lower()]] = parameters.pop(key)


def _response(
    task: Any,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    output = _operation(task, boto_service_name).output_shape
    if output is not None:
        task._from_boto_response(response, output)


@contextlib.contextmanager
def sdk_integrations_as_in_aws(port: int) -> Iterator[None]:
    """Map the SDK integrations' names while the block runs; moto's interpreter calls the
    server on ``port`` (``MOTO_PORT``), the rehearsal's."""
    import os

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as sdk,
    )

    task = sdk.StateTaskServiceAwsSdk
    saved = task._normalise_parameters, task._normalise_response, os.environ.get("MOTO_PORT")
    task._normalise_parameters = _parameters  # type: ignore[method-assign,assignment]
    task._normalise_response = _response  # type: ignore[method-assign,assignment]
    os.environ["MOTO_PORT"] = str(port)
    try:
        yield
    finally:
        task._normalise_parameters, task._normalise_response = saved[:2]  # type: ignore[method-assign]
        if saved[2] is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = saved[2]
