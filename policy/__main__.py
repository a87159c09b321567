"""Entry point the Pulumi CLI runs (``python -m pulumi.policy <engine> <this dir>``).

Only builds the pack: ``PolicyPack`` starts the gRPC Analyzer server and never returns, so nothing may
import this module (tests and generators import ``audit_policies.pack`` instead).
"""

from audit_policies import servicer
from audit_policies.pack import ALL_POLICIES, PACK_DESCRIPTION, PACK_NAME
from pulumi_policy import EnforcementLevel, PolicyPack

# Serve through the SDK's servicer with each request decoded once (audit_policies/servicer.py).
servicer.install()

PolicyPack(
    PACK_NAME,
    policies=ALL_POLICIES,
    # Every policy sets its own level; this default only covers a policy that forgot to.
    enforcement_level=EnforcementLevel.MANDATORY,
    description=PACK_DESCRIPTION,
    display_name="spawn-audit compliance (HIPAA, PCI DSS, SOC 2)",
    provider="aws",
    tags=["aws", "cloudtrail", "hipaa", "pci-dss", "soc2", "cis"],
)
