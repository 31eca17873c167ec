"""The common floor: cdk-nag acknowledgments, removal policies, managed roles, keys, log groups
and queues that constructs of every stage share. It imports no stage."""
