"""The ``preview`` command: arguments, the order of the steps, where output goes, and exit codes.

Exit codes: 0 when no mandatory policy is violated (advisory violations allowed), 1 on any
mandatory violation, 2 on a usage, project, stack-config or policy-config error, a policy pack that
cannot start, or an exception in the program. User errors are printed as one clear ``error:``
message, never as a Python traceback; a program exception prints the program's own traceback under
"error: Program failed with an unhandled exception:", as the CLI does.

Relative paths (``--policy-pack``, ``--policy-pack-config``, ``--output`` excepted) are resolved
against ``--cwd``, because the Pulumi CLI changes into ``--cwd`` before it reads anything.

Signals end the preview, and every policy pack it started, at once and without a traceback: exit
130 on SIGINT, 143 on SIGTERM and 129 on SIGHUP (128 + the signal number, what a shell reports for
a process the signal ended, so a CI log reads the same either way).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pulumi

from .pack_client import launch_pack, terminate_live_processes
from .pack_config import PolicyError
from .pack_run import AnalysisStream, run_policy_pack
from .project import ProjectError, load_project, load_stack_config, set_config_path
from .render import (
    FORMATS,
    PreviewReport,
    make_stable,
    policy_summary,
    program_logs,
    render,
    render_early_error,
)
from .runner import DEFAULT_PROGRAM_TIMEOUT, ProgramTimeout, ResourceRecord, run_program
from .state import StateError, load_state

EXIT_OK, EXIT_MANDATORY, EXIT_ERROR = 0, 1, 2
# 128 + the signal number, as a shell reports a process a signal ended.
SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
TIMEOUT_MAX = 3600.0


def _on_signal(signum: int, _frame: object) -> None:
    """End the packs, say why in one line and leave now: no traceback, no half-written report, no
    orphan (the program runs in this process and ends with it)."""
    for sig in SIGNAL_EXIT_CODES:
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
    terminate_live_processes()
    name = signal.Signals(signum).name
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"error: interrupted by {name}; the preview and its policy packs were stopped\n")
        sys.stderr.flush()
    os._exit(SIGNAL_EXIT_CODES.get(signum, 128 + signum))


def install_signal_handlers() -> None:
    for sig in SIGNAL_EXIT_CODES:
        signal.signal(sig, _on_signal)


def _seconds(text: str) -> float:
    """--pack-timeout, --program-timeout: seconds, above 0 and at most an hour (inf, nan, 0 and
    negatives are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= TIMEOUT_MAX):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a usable number of seconds; use a number above 0 and at most "
            f"{TIMEOUT_MAX:.0f}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code for usage errors is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m offline_preview",
        description="Run a Pulumi Python program and its policy pack as `pulumi preview --policy-pack` "
                    "would, with no Pulumi CLI, cloud credentials or network.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("preview", help="preview a stack and evaluate policy packs offline")
    p.add_argument("-s", "--stack", required=True, help="stack name; reads Pulumi.<stack>.yaml")
    p.add_argument("-C", "--cwd", default=".", metavar="DIR",
                   help="run as if started in DIR: the project (Pulumi.yaml) and relative paths are "
                        "found there (default: .)")
    p.add_argument("--policy-pack", action="append", default=[], metavar="DIR",
                   help="a Python policy pack directory; may be repeated")
    p.add_argument("--policy-pack-config", action="append", default=[], metavar="FILE",
                   help="JSON config for the policy pack in the same position; may be repeated")
    p.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE",
                   help="set a stack config value, as `pulumi preview --config` does: the value is a string")
    p.add_argument("--config-path", action="store_true",
                   help="read each --config key as a path, as `pulumi preview --config-path` does: "
                        "'key[0]=value' sets a list item, 'key.sub=value' a map key")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    p.add_argument("--repo-root", metavar="DIR",
                   help="root that report paths are relative to (default: the enclosing git checkout)")
    p.add_argument("--pack-timeout", type=_seconds, default=60.0, metavar="SECONDS",
                   help=f"how long a policy pack may take to start or to answer one call, above 0 and at "
                        f"most {TIMEOUT_MAX:.0f} (default: 60)")
    p.add_argument("--program-timeout", type=_seconds, default=DEFAULT_PROGRAM_TIMEOUT, metavar="SECONDS",
                   help=f"how long the program may run, above 0 and at most {TIMEOUT_MAX:.0f} "
                        f"(default: {DEFAULT_PROGRAM_TIMEOUT:g})")
    p.add_argument("--state", metavar="FILE",
                   help="a `pulumi stack export` of the stack: plan same/update/replace/delete against it")
    p.add_argument("--no-durations", action="store_true",
                   help="report every duration as 0, so that identical runs give identical bytes")
    return parser


def _parse_overrides(items: list[str], path: bool = False) -> dict[str, Any]:
    """``-c KEY=VALUE`` as the CLI's ``ParseConfig``: every value a string (``config.NewValue``), or
    with ``--config-path`` a path set (``config.Map.Set`` with path=true); each key then replaces the
    stack file's whole value of that key."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ProjectError(f"--config expects KEY=VALUE; got {item!r}")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:  # bytes that were not UTF-8 reach Python as surrogates
            shown = item.encode("utf-8", "backslashreplace").decode("utf-8")
            raise ProjectError(f"--config '{shown}' is not UTF-8 text; stack config keys and values "
                               "are UTF-8 strings") from None
        if not path:
            overrides[key] = value
            continue
        try:
            set_config_path(overrides, key, value)
        except ValueError as exc:
            raise ProjectError(f"--config-path --config {item!r}: {exc}") from None
    return overrides


def find_repo_root(start: Path) -> Path:
    """The enclosing git checkout (by its ``.git``), else ``start`` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def _under(base: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else base / p


def _emit(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ReportWriteError(f"cannot write the report to {output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


class ReportWriteError(Exception):
    """--output names a file that cannot be written."""


def _early_error(message: str, fmt: str, output: str | None, stack: str) -> int:
    """An error before the program ran: one message on stderr, and a report body where a report is
    expected (so a job summary or an uploaded file still says what went wrong)."""
    print(f"error: {message}", file=sys.stderr)
    if fmt == "markdown":
        _emit(f"### Offline preview of `{stack}`: ❌ error\n\n```text\n{message}\n```\n", output)
    elif fmt == "json":
        _emit(json.dumps({"version": 1, "stack": stack, "error": message,
                          "summary": {"exit_code": EXIT_ERROR}}, indent=2) + "\n", output)
    elif (body := render_early_error(message, fmt, stack)) is not None:
        _emit(body, output)
    return EXIT_ERROR


def _stack_names(directory: Path) -> list[str]:
    names = []
    for path in sorted(directory.glob("Pulumi.*.y*ml")):
        parts = path.name.split(".")
        if len(parts) == 3 and parts[2] in ("yaml", "yml"):
            names.append(parts[1])
    return names


def preview(args: argparse.Namespace) -> int:
    base = Path(args.cwd)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", args.stack):
        # pulumi's tokens.ValidateStackName; an org/project/stack name has no stack file of its own.
        return _early_error(
            f"--stack {args.stack!r}: a stack name may only contain alphanumeric, hyphens, underscores, "
            "or periods (at most 100); give the stack's own name, whose Pulumi.<stack>.yaml is read",
            args.format, args.output, args.stack)
    if len(args.policy_pack_config) > len(args.policy_pack):
        return _early_error("each --policy-pack-config needs a --policy-pack in the same position",
                            args.format, args.output, args.stack)
    try:
        project = load_project(base)
        overrides = _parse_overrides(args.config, args.config_path)
        stack_file = project.stack_config_dir / f"Pulumi.{args.stack}.yaml"
        if not stack_file.exists() and not stack_file.with_suffix(".yml").exists():
            known = ", ".join(_stack_names(project.stack_config_dir)) or "none"
            raise ProjectError(
                f"no stack named '{args.stack}': {stack_file.name} does not exist in "
                f"{project.stack_config_dir} (stacks with a file: {known})"
            )
        stack_config = load_stack_config(project, args.stack, overrides)
        state = (load_state(_under(base, args.state), project=project.name, stack=args.stack)
                 if args.state else None)
    except (ProjectError, StateError) as exc:
        return _early_error(str(exc), args.format, args.output, args.stack)
    except ValueError as exc:  # a file that is not UTF-8, a number too long to convert
        return _early_error(f"could not read the project or stack {args.stack!r} in {base}: {exc}",
                            args.format, args.output, args.stack)

    # Packs boot in their own processes while the program runs here (both take a few hundred ms), and
    # as the engine does, each is configured once it answers and analyzes each resource as the
    # program registers it.
    processes = [
        launch_pack(_under(base, d), stack_config, project.name, args.stack, timeout=args.pack_timeout)
        for d in args.policy_pack
    ]
    missing = len(args.policy_pack) - len(args.policy_pack_config)
    configs = list(args.policy_pack_config) + [None] * missing
    streams = [AnalysisStream(process, _under(base, config_file) if config_file else None)
               for process, config_file in zip(processes, configs, strict=False)]

    def recorded(record: ResourceRecord) -> None:
        for stream in streams:
            stream.add(record)

    run = None
    try:
        # The program's own prints must never corrupt a machine-readable report on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            run = run_program(project.directory, args.stack, preview=True, stack_config=stack_config,
                              state=state, timeout=args.program_timeout, on_record=recorded)
        # Registrations complete in an order that varies between runs; the packs and every report see
        # them in program order instead.
        make_stable(run)
        repo_root = Path(args.repo_root).resolve() if args.repo_root else find_repo_root(project.directory)
        report = PreviewReport(run=run, repo_root=repo_root, durations=not args.no_durations)
        if run.error is None:
            for pack_dir, config_file, stream in zip(args.policy_pack, configs, streams, strict=True):
                try:
                    result = run_policy_pack(
                        run, _under(base, pack_dir), _under(base, config_file) if config_file else None,
                        timeout=args.pack_timeout, stream=stream,
                    )
                except PolicyError as exc:
                    message = str(exc)
                    report.error = message if message.startswith("error: ") else f"error: {message}"
                    break
                result.pack.display_path = pack_dir
                result.config_file = config_file  # as the user wrote it
                report.packs.append(result)
    finally:
        for process in processes:
            process.close()
        if run is None or not isinstance(run.error, ProgramTimeout):
            for stream in streams:  # each ends once its process is closed
                stream.finish()

    if isinstance(run.error, ProgramTimeout):
        # The program's thread is stuck and the SDK's worker threads would hold the interpreter at
        # exit: report once and leave at once.
        print(f"error: {run.error}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_ERROR)
    if report.error and args.format == "text":
        # As the CLI: a policy-config or pack error stops everything before any preview output.
        print(report.error, file=sys.stderr)
        return report.exit_code
    _emit(render(report, args.format), args.output)
    if args.format != "text":  # the text report shows them under Diagnostics
        for level, message in program_logs(report):
            print(f"{level}: {message}", file=sys.stderr)
    if report.error:
        print(report.error, file=sys.stderr)
    elif run.error is not None and args.format != "text":
        if isinstance(run.error, pulumi.RunError):
            print(f"error: {run.error}", file=sys.stderr)
        else:
            print(f"error: Program failed with an unhandled exception: {type(run.error).__name__}: "
                  f"{run.error}", file=sys.stderr)
    if args.output or args.format != "text":
        print(policy_summary(report), file=sys.stderr)
    return report.exit_code


def _close_idle_event_loops() -> None:
    """Close the event loops the Pulumi SDK opened in worker threads and never closed.

    Left to the interpreter's teardown they are collected after their selectors, and asyncio then
    prints "Exception ignored ... Invalid file descriptor: -1" on stderr.
    """
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop) and not obj.is_running() and not obj.is_closed():
            obj.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "preview":
        try:
            return preview(args)
        except ReportWriteError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except PolicyError as exc:  # a pack that cannot start before any report exists
            message = str(exc)
            print(message if message.startswith("error: ") else f"error: {message}", file=sys.stderr)
            return EXIT_ERROR
    parser.error(f"unknown command {args.command}")
    return EXIT_ERROR


def entry_point() -> None:
    """The ``offline-preview`` console script and ``python -m offline_preview``."""
    install_signal_handlers()
    try:
        code = main()
    except BaseException:
        # Leaving through the interpreter's teardown (a traceback, a usage error's SystemExit): close
        # the loops first. Only when the process is about to end: in a longer-lived process (tests
        # calling main()) the SDK's loops are still in use.
        _close_idle_event_loops()
        raise
    # Everything the command writes has been written (``--output`` files are closed, the packs
    # stopped); the interpreter's own teardown of the Pulumi SDK, gRPC and the program's modules then
    # takes longer than the whole policy step, so leave without it once stdout and stderr are flushed.
    # Without a teardown, idle event loops need no closing either (looking for them among the
    # process's objects took about 20 ms).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


__all__ = ["build_parser", "entry_point", "find_repo_root", "install_signal_handlers", "main", "preview"]
