"""spawn-audit compliance rules and the profile table they share with the Pulumi program.

Deliberately empty of imports: the Pulumi program imports ``audit_policies.profiles`` without having
``pulumi_policy`` installed, so nothing here may pull the policy SDK in. The policies are collected in
``audit_policies.pack``.
"""
