"""spawn-audit's compliance rules for any Pulumi AWS program.

The policies are collected in ``audit_policies.pack``; the tables they share with the Pulumi program
(profiles, monitoring controls, regulation clauses) are in the sibling package ``spawn_compliance``.
"""
