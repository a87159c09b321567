"""What the spawn-audit program and its policy pack share: the compliance-profile table
(``profiles``), the CloudWatch monitoring controls (``monitoring``) and the regulation clauses
(``clauses``).

Standard library only, and nothing here imports ``pulumi`` or ``pulumi_policy``: the policy pack
imports these modules from its own directory, and the Pulumi program through its one bridge,
``components/compliance.py``.
"""
