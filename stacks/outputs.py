"""Reading another stack's outputs by name, so values are final when the consumer is built."""

from __future__ import annotations

import aws_cdk as cdk


def stack_output(stack: cdk.Stack, output: str) -> str:
    """One of ``stack``'s outputs, for another stack in the same account and region.

    An explicit ``Fn::GetStackOutput`` rather than CDK's automatic reference, so the value is
    final when the consumer is built: its cdk-nag acknowledgments can name it. Consumers must
    depend on ``stack``.
    """
    if stack.node.try_find_child(output) is None:
        raise ValueError(f"{stack.node.path} has no output {output!r}")
    return cdk.Fn.get_stack_output(stack.stack_name, output, cdk.Aws.REGION)


class SharedOutputs:
    """For a stack whose outputs other stacks read: ``shared(output)``."""

    def shared(self, output: str) -> str:
        """One of this stack's outputs, for another stack (see ``stack_output``)."""
        assert isinstance(self, cdk.Stack)
        return stack_output(self, output)
