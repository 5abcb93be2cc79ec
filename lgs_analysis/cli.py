"""Command line: each subcommand parses options and makes one call into the library."""

from __future__ import annotations

import logging
import sys

import click

from .escape import terminal_text
from .exceptions import BatchError, LgsError
from .log import logger


def printable(text: str) -> str:
    """Text for the terminal: control, bidi and zero-width characters (escape sequences
    from file names or data) shown as ``\\xNN`` or ``\\uNNNN``, so they cannot move the
    cursor, recolour, retitle or reorder the terminal; our own line breaks are kept."""
    return terminal_text(text, newlines=True)


class _PrintableFormatter(logging.Formatter):
    """One record, one line: a newline inside a message (a file name, a value) is shown as
    ``\\x0a``, so it cannot forge a log line; a traceback below it keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's API
        return terminal_text(super().formatMessage(record))


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())


@click.group()
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def cli(log_level: str) -> None:
    """LGS Reports: RFM reports for London Gift Shop."""
    _configure_logging(log_level)


@cli.command()
@click.argument("source", required=False, type=click.Path(), envvar="LGS_SOURCE")
def load(source: str | None) -> None:
    """Load a CSV, CSV.GZ, XLSX, Parquet file (or a folder of them) or OLTP SQL dump into
    the warehouse."""
    if not source:
        raise click.UsageError(
            "SOURCE is required, e.g. make load SOURCE=../shared/data/online_retail.csv.gz "
            "(or lgs load <file>)"
        )
    from .ingest.loaders import load_file

    result = load_file(source)
    click.echo(printable(result.summary()))


@cli.command("drop-demo")
def drop_demo() -> None:
    """Remove the generated demo data from the warehouse (real loads do this themselves)."""
    from .ingest.demo import remove_demo

    removed = remove_demo()
    click.echo(f"removed {removed:,} demo lines" if removed else "the warehouse holds no demo data")


@cli.command()
@click.option("--source-url", default=None, hidden=True, help="Default: LGS_SOURCE_URL.")
@click.option(
    "--overlap-days",
    default=3,
    show_default=True,
    type=click.IntRange(min=0),
    help="Days before the watermark read again each run (late lines, cancellations).",
)
@click.option(
    "--new-source",
    is_flag=True,
    envvar="LGS_NEW_SOURCE",
    help="Accept a second, different source database beside the one already synced.",
)
def etl(source_url: str | None, overlap_days: int, new_source: bool) -> None:
    """Sync new and changed lines from the OLTP database (LGS_SOURCE_URL) into the warehouse."""
    from .ingest.etl import run_etl

    result = run_etl(source_url=source_url, overlap_days=overlap_days, new_source=new_source)
    click.echo(printable(result.summary()))


@cli.command("etl-status")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1))
def etl_status(limit: int) -> None:
    """Show the last ETL runs recorded in the warehouse."""
    from .ingest.etl import etl_status as read_etl_status
    from .ingest.etl import format_etl_status

    click.echo(printable(format_etl_status(read_etl_status(limit=limit))))


@cli.command()
@click.option("--period", envvar="LGS_PERIOD", help="YYYY, YYYY-Qn or YYYY-MM (or LGS_PERIOD).")
@click.option(
    "--force",
    is_flag=True,
    envvar="LGS_FORCE",
    help="Publish a new version even if up to date.",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a report parameter (repeatable).",
)
@click.option(
    "--params",
    "params_text",
    envvar="LGS_PARAMS",
    default="",
    metavar="'NAME=VALUE ...'",
    help="Overrides in one string, split like a shell line but never run (or LGS_PARAMS).",
)
@click.option("--template", default="rfm_report", show_default=True)
def report(
    period: str | None, force: bool, params: tuple[str, ...], params_text: str, template: str
) -> None:
    """Build the versioned HTML + PDF report for a period."""
    if not period:
        raise click.UsageError(
            "PERIOD is required, e.g. make report PERIOD=2011 (forms: YYYY, YYYY-Qn, YYYY-MM; "
            "or lgs report --period 2011)"
        )
    from .report.build import build_report
    from .report.params import parse_overrides, split_overrides

    pairs = [*split_overrides(params_text), *params]
    result = build_report(period, overrides=parse_overrides(pairs), force=force, template=template)
    click.echo(printable(result.summary()))


@cli.command()
@click.option(
    "--periods",
    envvar="LGS_PERIODS",
    help="Periods, ranges and wildcards: '2011-01..2011-12', '2011-Q1 2011-Q2', '2011-*' "
    "(or LGS_PERIODS).",
)
@click.option(
    "--jobs",
    envvar="LGS_JOBS",
    default=None,
    type=click.IntRange(min=1),
    help="Reports built at once (default: one per core; or LGS_JOBS).",
)
@click.option("--force", is_flag=True, envvar="LGS_FORCE", help="Publish even if up to date.")
@click.option(
    "--params",
    "params_text",
    envvar="LGS_PARAMS",
    default="",
    metavar="'NAME=VALUE ...'",
    help="Overrides for every period, as for `report` (or LGS_PARAMS).",
)
@click.option("--template", default="rfm_report", show_default=True)
def reports(
    periods: str | None, jobs: int | None, force: bool, params_text: str, template: str
) -> None:
    """Build the reports of many periods in parallel; the index is written once, at the end."""
    if not periods:
        raise click.UsageError(
            'PERIODS is required, e.g. make reports PERIODS="2011-01..2011-12" '
            "(also '2011-Q1 2011-Q2', '2011-*'; or lgs reports --periods ...)"
        )
    from .report.batch import build_reports
    from .report.params import parse_overrides, split_overrides

    result = build_reports(
        periods,
        overrides=parse_overrides(split_overrides(params_text)),
        force=force,
        template=template,
        jobs=jobs,
    )
    click.echo(printable(result.summary()))


@cli.command()
@click.option(
    "--period",
    default=None,
    envvar="LGS_PERIOD",
    help="YYYY-MM; default: the last complete month (or LGS_PERIOD).",
)
@click.option(
    "--resend",
    is_flag=True,
    envvar="LGS_RESEND",
    help="Email it even if it was already emailed.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    envvar="LGS_DRY_RUN",
    help="Write the .eml under reports/_outbox instead.",
)
def monthly(period: str | None, resend: bool, dry_run: bool) -> None:
    """Build the last complete month's report and email it (once)."""
    from .delivery.monthly import run_monthly

    click.echo(printable(run_monthly(period=period, resend=resend, dry_run=dry_run).summary()))


@cli.command()
@click.option("--period", envvar="LGS_PERIOD", help="The report period whose lists went out.")
@click.option(
    "--segments",
    envvar="LGS_SEGMENTS",
    default="",
    metavar="'A,B'",
    help="Segments, comma-separated (default: those marked email_list; or LGS_SEGMENTS).",
)
@click.option(
    "--on",
    "issued_on",
    envvar="LGS_ON",
    default="",
    metavar="YYYY-MM-DD",
    help="Issue date (default: the day after the period ends; or LGS_ON).",
)
@click.option(
    "--replace",
    is_flag=True,
    envvar="LGS_REPLACE",
    help="Replace a campaign recorded from another version or on another day.",
)
def campaign(period: str | None, segments: str, issued_on: str, replace: bool) -> None:
    """Record a published report's campaign lists (targets and holdout) as sent."""
    if not period:
        raise click.UsageError(
            "PERIOD is required, e.g. make campaign PERIOD=2011-09 "
            '[SEGMENTS="At Risk,Can\'t Lose"] [ON=2011-10-03] [REPLACE=1]'
        )
    from .report.ledger import parse_segments, record_campaigns

    result = record_campaigns(
        period, segments=parse_segments(segments), on=issued_on or None, replace=replace
    )
    click.echo(result.summary())


@cli.command("campaigns-status")
def campaigns_status() -> None:
    """List the recorded campaigns, their windows and whether they can be read out yet."""
    from .report.ledger import campaign_status, format_campaign_status

    click.echo(format_campaign_status(*campaign_status()))


def main() -> None:
    """Entry point: run the CLI and turn LgsError into a message and its exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LgsError as exc:
        # one line, except a batch's summary (its lines are made printable one by one)
        shown = printable(str(exc)) if isinstance(exc, BatchError) else terminal_text(exc)
        click.echo(f"error: {shown}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
