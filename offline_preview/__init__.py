"""Offline ``pulumi preview --policy-pack``: the compliance gate that needs no CLI, cloud or network.

``python -m offline_preview preview --stack prod --policy-pack policy`` reads the project and stack
files as the CLI does (``project``), runs the Pulumi Python program under the SDK's mock runtime and
records every registration (``runner``), launches the policy pack as the CLI does
(``pack_client``), configures it as the engine does (``pack_config``, checked in a process of its
own by ``config_check``) and drives it over its gRPC protocol (``pack_run``), and prints the result
in the layout of ``pulumi preview`` or as JSON, Markdown, SARIF or JUnit (``render``). ``cli`` ties
these together and owns the exit codes: 0 clean or advisory only, 1 a mandatory violation, 2 an
error.
"""

__version__ = "0.1.0"
