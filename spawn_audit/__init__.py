"""spawn-audit's evidence tools: query, download, verify and price the CloudTrail archive.

Run as ``python -m spawn_audit <command> ...``. Each subcommand lives in its own module, listed in
``spawn_audit.__main__.COMMANDS``, and exposes ``add_parser(subparsers)`` and ``run(args) -> int`` so
tests can call it as a function.
"""
