"""Email delivery against a real SMTP server (aiosmtpd) on loopback.

Most tests send a hand-made published version (fixed PDF bytes, metrics.json, a pie
PNG, customers.csv); one end-to-end test runs ``run_monthly`` on demo data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import ipaddress
import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from lgs_analysis.config import PROJECT_ROOT, Settings
from lgs_analysis.delivery.config import DeliveryConfig, load_delivery_config
from lgs_analysis.delivery.message import build_message, format_subject
from lgs_analysis.delivery.send import send_report
from lgs_analysis.exceptions import ConfigError, DeliveryError
from lgs_analysis.report.delivery_log import deliveries_path, pending_path, read_deliveries
from lgs_analysis.report.index import write_index

# ---------------------------------------------------------------- a published version

METRICS: dict[str, Any] = {
    "period": "2011-11",
    "period_start": "2011-11-01",
    "period_end": "2011-12-01",
    "previous_period": "2011-10",
    "is_demo": False,
    "net_sales": 123456.78,
    "gross_sales": 130001.5,
    "sales_growth_pct": -4.25,
    "invoices": 1523,
    "placed_orders": 1400,
    "cancelled_invoices": 123,
    "active_customers": 812,
    "new_customers": 57,
    "rfm_customers": 3921,
    "snapshot_date": "2011-12-01",
    "segments": [
        {
            "segment": "Champions",
            "customers": 600,
            "customer_share": 0.153,
            "revenue": 90000.0,
            "revenue_share": 0.62,
        },
        {
            "segment": "Can't Lose",
            "customers": 80,
            "customer_share": 0.0204,
            "revenue": 12000.0,
            "revenue_share": 0.083,
        },
        {
            "segment": "Hibernating",
            "customers": 1000,
            "customer_share": 0.255,
            "revenue": 8000.0,
            "revenue_share": 0.055,
        },
    ],
    "actions": [
        {
            "segment": "Champions",
            "action": "Novel campaigns to keep them interested.",
            "customers": 600,
            "revenue": 90000.0,
        },
        {
            "segment": "Can't Lose",
            "action": "Personalised deals on the goods they bought before.",
            "customers": 80,
            "revenue": 12000.0,
        },
        {
            "segment": "Hibernating",
            "action": "Discount coupons to bring them back.",
            "customers": 1000,
            "revenue": 8000.0,
        },
    ],
}
# every byte value, so a transfer-encoding mistake cannot go unnoticed
PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CUSTOMERS_CSV = (
    "customer_id,recency,frequency,monetary,r,f,m,segment\n"
    "12346,5,20,5000.5,5,5,5,Champions\n"
    "12347,3,30,9000.0,5,5,5,Champions\n"
    "12348,200,6,4000.0,1,5,4,Can't Lose\n"
    "12349,300,1,50.0,1,1,1,Hibernating\n"
    "12350,40,3,300.0,3,3,3,Need Attention\n"
)


def _pie_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.pie([3, 2, 1])
    fig.savefig(path, format="png", dpi=40)
    plt.close(fig)


def make_version_dir(
    reports_dir: Path,
    period: str = "2011-11",
    version: str = "v001",
    metrics: dict[str, Any] | None = None,
    created_at: str = "2011-12-02T06:00:00+00:00",
) -> Path:
    """A published ``reports/<period>/vNNN`` as the report runner leaves it."""
    version_dir = reports_dir / period / version
    (version_dir / "charts").mkdir(parents=True)
    (version_dir / "tables").mkdir()
    data = dict(metrics or METRICS)
    data["period"] = period
    (version_dir / "metrics.json").write_text(json.dumps(data))
    (version_dir / "manifest.json").write_text(
        json.dumps({"period": period, "created_at": created_at})
    )
    (version_dir / "report.pdf").write_bytes(PDF_BYTES)
    (version_dir / "report.html").write_text("<html><body>report</body></html>")
    (version_dir / "tables" / "customers.csv").write_text(CUSTOMERS_CSV)
    _pie_png(version_dir / "charts" / "segment_pie.png")
    latest = version_dir.parent / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(version)
    return version_dir


@pytest.fixture
def version_dir(tmp_path: Path) -> Path:
    return make_version_dir(tmp_path / "reports")


# ---------------------------------------------------------------- a real SMTP server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler that keeps what it accepts; can refuse recipients or DATA."""

    def __init__(self, refuse: set[str] | None = None, data_failures: list[str] | None = None):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse or set()
        self.data_failures = list(data_failures or [])
        self.logins: list[tuple[bytes, bytes]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: recipient unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            if self.data_failures:
                return self.data_failures.pop(0)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued"

    def parsed(self, index: int = 0) -> email.message.EmailMessage:
        return email.message_from_bytes(self.messages[index][2], policy=email.policy.default)


class _DropFirst(SMTP):
    """An SMTP server that drops the first ``drops_left`` connections before the greeting."""

    drops_left = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if _DropFirst.drops_left > 0:
            _DropFirst.drops_left -= 1
            transport.abort()


class _DropController(Controller):
    def factory(self):
        return _DropFirst(self.handler, **self.SMTP_kwargs)


@contextmanager
def smtp_server(
    handler: Inbox, controller_cls: type[Controller] = Controller, **kwargs: Any
) -> Iterator[int]:
    port = _free_port()
    controller = controller_cls(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def settings_for(port: int, tmp_path: Path, **smtp: Any) -> Settings:
    return Settings(
        database_url=f"duckdb:///{tmp_path / 'unused.duckdb'}",
        reports_dir=tmp_path / "reports",
        params_dir=tmp_path / "params",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout=5.0,
        **smtp,
    )


CONFIG = DeliveryConfig(
    sender="LGS Reports <reports@lgs.test>",
    recipients=["marketing@lgs.test", "crm@lgs.test"],
    subject="LGS RFM report {period}: net sales {net_sales}",
    attach_campaign_csvs=True,
    max_attempts=3,
    retry_backoff_seconds=0.05,
)


def _parts(message: email.message.EmailMessage) -> dict[str, list[email.message.Message]]:
    found: dict[str, list] = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


# ---------------------------------------------------------------- the message


def test_send_report_delivers_message_with_figures_pdf_and_inline_pie(
    version_dir: Path, tmp_path: Path
) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        result = send_report(version_dir, config=CONFIG, settings=settings_for(port, tmp_path))

    assert result.status == "sent"
    assert len(inbox.messages) == 1
    mail_from, rcpt_tos, _ = inbox.messages[0]
    assert mail_from == "reports@lgs.test"
    assert rcpt_tos == ["marketing@lgs.test", "crm@lgs.test"]
    message = inbox.parsed()
    assert message.defects == []
    assert message["Subject"] == "LGS RFM report 2011-11: net sales £123,457"
    assert message.get_content_type() == "multipart/mixed"
    parts = _parts(message)
    assert len(parts["multipart/alternative"]) == 1
    assert len(parts["multipart/related"]) == 1

    pdfs = parts["application/pdf"]
    assert len(pdfs) == 1
    assert pdfs[0].get_content_disposition() == "attachment"
    assert pdfs[0].get_filename() == "lgs-rfm-report-2011-11-v001.pdf"
    assert pdfs[0].get_content() == (version_dir / "report.pdf").read_bytes()

    html = parts["text/html"][0].get_content()
    for figure in (
        "£123,457",  # net sales, whole pounds
        "£130,002",  # gross sales
        "-4.2%",  # growth (-4.25 rounded half-even to one decimal)
        "1,523",  # invoices
        "1,400",  # placed orders
        "812",  # active customers
        "3,921",  # customers scored
        "Champions",
        "Can&#x27;t Lose",
        "Hibernating",
        "15.3%",  # Champions' customer share
        "62.0%",  # Champions' revenue share
        "£90,000",
        "Discount coupons to bring them back.",
    ):
        assert figure in html, figure
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html.lower()

    png = parts["image/png"][0]
    cid = png["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert png.get_content() == (version_dir / "charts" / "segment_pie.png").read_bytes()

    text = parts["text/plain"][0].get_content()
    assert "£123,457" in text and "What to do, segment by segment" in text

    csvs = {p.get_filename(): p.get_content() for p in parts["text/csv"]}
    assert sorted(csvs) == [
        "campaign_can_t_lose.csv",
        "campaign_champions.csv",
        "campaign_hibernating.csv",
    ]
    champions = csvs["campaign_champions.csv"]
    champions = champions.decode() if isinstance(champions, bytes) else champions
    assert [line.split(",")[0] for line in champions.splitlines()] == [
        "customer_id",
        "12347",  # biggest spender first
        "12346",
    ]

    records = read_deliveries(version_dir)
    assert len(records) == 1
    assert records[0]["message_id"] == message["Message-ID"].strip()
    assert records[0]["recipients"] == ["marketing@lgs.test", "crm@lgs.test"]
    assert records[0]["attempts"] == 1
    assert deliveries_path(version_dir).parent == version_dir.parent / "deliveries"
    index = (version_dir.parent.parent / "index.html").read_text()
    assert "marketing@lgs.test" in index and "not sent" not in index


def test_send_report_second_run_sends_nothing_unless_resend(
    version_dir: Path, tmp_path: Path
) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = settings_for(port, tmp_path)
        first = send_report(version_dir, config=CONFIG, settings=settings)
        second = send_report(version_dir, config=CONFIG, settings=settings)
        assert len(inbox.messages) == 1
        assert second.status == "skipped"
        assert "already emailed" in second.summary()
        third = send_report(version_dir, resend=True, config=CONFIG, settings=settings)

    assert first.status == "sent" and third.status == "sent"
    assert len(inbox.messages) == 2
    assert [r["message_id"] for r in read_deliveries(version_dir)] == [
        first.message_id,
        third.message_id,
    ]
    assert first.message_id != third.message_id


def test_send_report_new_version_of_sent_period_is_not_sent_again(
    version_dir: Path, tmp_path: Path
) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = settings_for(port, tmp_path)
        send_report(version_dir, config=CONFIG, settings=settings)
        v2 = make_version_dir(tmp_path / "reports", version="v002")
        assert send_report(v2, config=CONFIG, settings=settings).status == "skipped"
        assert send_report(v2, resend=True, config=CONFIG, settings=settings).status == "sent"

    assert len(inbox.messages) == 2
    text = _parts(inbox.parsed(1))["text/plain"][0].get_content()
    assert "it replaces v001" in text


def test_build_message_demo_data_says_so(tmp_path: Path) -> None:
    version = make_version_dir(tmp_path / "reports", metrics={**METRICS, "is_demo": True})
    message = build_message(version, "a@lgs.test", ["b@lgs.test"], "Report {period}")
    assert message["Subject"] == "Report 2011-11 (demo data)"
    parts = _parts(message)
    assert "DEMO DATA" in parts["text/plain"][0].get_content()
    assert "DEMO DATA" in parts["text/html"][0].get_content()


def test_build_message_tolerates_missing_metrics(tmp_path: Path) -> None:
    version = make_version_dir(tmp_path / "reports", metrics={"net_sales": 10.0})
    (version / "charts" / "segment_pie.png").unlink()
    message = build_message(version, "a@lgs.test", ["b@lgs.test"], "R {period} {sales_growth}")
    assert message["Subject"] == "R 2011-11 n/a"
    assert "image/png" not in _parts(message)
    assert "£10" in _parts(message)["text/html"][0].get_content()


def test_format_subject_unknown_field() -> None:
    with pytest.raises(ConfigError, match=r"subject field \{revenue\} is unknown"):
        format_subject("{revenue}", METRICS)


def test_send_report_dry_run_writes_eml_and_records_nothing(
    version_dir: Path, tmp_path: Path
) -> None:
    settings = settings_for(_free_port(), tmp_path)  # nothing listens there
    result = send_report(version_dir, dry_run=True, config=CONFIG, settings=settings)
    assert result.status == "dry-run"
    assert result.eml_path.parent == tmp_path / "reports" / "_outbox"
    assert str(result.eml_path) in result.summary()
    parsed = email.message_from_bytes(result.eml_path.read_bytes(), policy=email.policy.default)
    assert _parts(parsed)["application/pdf"][0].get_content() == PDF_BYTES
    assert read_deliveries(version_dir) == []


# ---------------------------------------------------------------- TLS and AUTH


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lgs-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    import ssl

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        inbox.logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == b"reports" and auth_data.password == b"s3cret pass"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    with smtp_server(
        inbox,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    ) as port:
        yield inbox, port, cert


def test_send_report_starttls_with_auth(tls_server, version_dir: Path, tmp_path: Path) -> None:
    inbox, port, cert = tls_server
    settings = settings_for(
        port,
        tmp_path,
        smtp_tls="starttls",
        smtp_user="reports",
        smtp_password="s3cret pass",
        smtp_ca_file=str(cert),
    )
    result = send_report(version_dir, config=CONFIG, settings=settings)
    assert result.status == "sent"
    assert inbox.logins == [(b"reports", b"s3cret pass")]
    assert len(inbox.messages) == 1
    assert _parts(inbox.parsed())["application/pdf"][0].get_content() == PDF_BYTES


def test_send_report_wrong_password_fails_at_once(
    tls_server, version_dir: Path, tmp_path: Path
) -> None:
    inbox, port, cert = tls_server
    settings = settings_for(
        port,
        tmp_path,
        smtp_tls="starttls",
        smtp_user="reports",
        smtp_password="wrong",
        smtp_ca_file=str(cert),
    )
    with pytest.raises(DeliveryError, match=r"authentication as 'reports' failed .* 535"):
        send_report(version_dir, config=CONFIG, settings=settings)
    assert len(inbox.logins) == 1  # permanent: not retried
    assert inbox.messages == []
    assert read_deliveries(version_dir) == []


def test_send_report_untrusted_certificate_fails(
    tls_server, version_dir: Path, tmp_path: Path
) -> None:
    inbox, port, _ = tls_server
    settings = settings_for(
        port, tmp_path, smtp_tls="starttls", smtp_user="reports", smtp_password="s3cret pass"
    )
    with pytest.raises(DeliveryError, match="not trusted.*LGS_SMTP_CA_FILE"):
        send_report(version_dir, config=CONFIG, settings=settings)
    assert inbox.logins == [] and inbox.messages == []
    assert not deliveries_path(version_dir).exists()


# ---------------------------------------------------------------- failures


def test_send_report_retries_dropped_connection_and_delivers_once(
    version_dir: Path, tmp_path: Path
) -> None:
    inbox = Inbox()
    with smtp_server(inbox, controller_cls=_DropController) as port:
        _DropFirst.drops_left = 1
        result = send_report(version_dir, config=CONFIG, settings=settings_for(port, tmp_path))
    assert _DropFirst.drops_left == 0
    assert result.status == "sent" and result.attempts == 2
    assert len(inbox.messages) == 1
    assert read_deliveries(version_dir)[0]["attempts"] == 2


def test_send_report_retries_4xx_and_delivers_once(version_dir: Path, tmp_path: Path) -> None:
    inbox = Inbox(data_failures=["451 4.3.0 try again later"])
    with smtp_server(inbox) as port:
        result = send_report(version_dir, config=CONFIG, settings=settings_for(port, tmp_path))
    assert result.attempts == 2
    assert len(inbox.messages) == 1


def test_send_report_connection_refused_gives_up_after_attempts(
    version_dir: Path, tmp_path: Path
) -> None:
    settings = settings_for(_free_port(), tmp_path)  # nothing listens there
    with pytest.raises(DeliveryError, match=r"not sent after 3 attempts: cannot reach .*refused"):
        send_report(version_dir, config=CONFIG, settings=settings)
    assert read_deliveries(version_dir) == []


def test_send_report_rejected_recipient_records_nothing(version_dir: Path, tmp_path: Path) -> None:
    inbox = Inbox(refuse={"crm@lgs.test"})
    with smtp_server(inbox) as port:
        with pytest.raises(DeliveryError, match=r"refused recipient\(s\) crm@lgs.test: 550"):
            send_report(version_dir, config=CONFIG, settings=settings_for(port, tmp_path))
    assert inbox.messages == []  # nobody got it: all recipients or none
    assert not deliveries_path(version_dir).exists()


# ---------------------------------------------------------------- configuration


def test_load_delivery_config_shipped_file() -> None:
    config = load_delivery_config(PROJECT_ROOT / "params")
    assert config.recipients and all("@" in r for r in config.recipients)
    format_subject(config.subject, METRICS)  # every field of the template exists


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sender: a@b.c\nrecipients: []\n", "at least one address"),
        ("sender: a@b.c\nrecipients: [x@y.z]\ncc: [q@r.s]\n", "unknown key 'cc'"),
        ("sender: a@b.c\nrecipients: [not an address]\n", "not an email address"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nmax_attempts: '3'\n", "max_attempts must be"),
        ("recipients: [x@y.z]\n", "'sender' is required"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nmax_attempts: 1000000000\n", "from 1 to 10"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nmax_attempts: 0\n", "from 1 to 10"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nmax_attempts: -3\n", "from 1 to 10"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nretry_backoff_seconds: .nan\n", "from 0 to 60"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nretry_backoff_seconds: .inf\n", "from 0 to 60"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nretry_backoff_seconds: -1\n", "from 0 to 60"),
        ("sender: a@b.c\nrecipients: [x@y.z]\nretry_backoff_seconds: 86400\n", "from 0 to 60"),
    ],
    ids=[
        "no-recipient",
        "unknown-key",
        "bad-address",
        "wrong-type",
        "no-sender",
        "attempts-1e9",
        "attempts-0",
        "attempts-negative",
        "backoff-nan",
        "backoff-inf",
        "backoff-negative",
        "backoff-a-day",
    ],
)
def test_load_delivery_config_rejects(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "delivery.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_delivery_config(tmp_path)


# ---------------------------------------------------------------- make monthly end to end


def _has_report_runner() -> bool:
    try:
        import lgs_analysis.ingest.demo  # noqa: F401
        import lgs_analysis.report.build  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _has_report_runner(), reason="the report runner (demo data) is not in")
def test_run_monthly_builds_last_month_and_emails_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb
    from click.testing import CliRunner

    from lgs_analysis.cli import cli
    from lgs_analysis.delivery.monthly import run_monthly

    params = tmp_path / "params"
    params.mkdir()
    shutil.copy(PROJECT_ROOT / "params" / "defaults.yaml", params / "defaults.yaml")
    (params / "delivery.yaml").write_text(
        "sender: reports@lgs.test\nrecipients: [marketing@lgs.test]\n"
        "subject: 'LGS {period}: {net_sales}'\nretry_backoff_seconds: 0.05\n"
    )
    db = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("LGS_DATABASE_URL", f"duckdb:///{db}")
    monkeypatch.setenv("LGS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("LGS_PARAMS_DIR", str(params))
    monkeypatch.setenv("LGS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LGS_SMTP_TLS", "none")
    inbox = Inbox()
    with smtp_server(inbox) as port:
        monkeypatch.setenv("LGS_SMTP_PORT", str(port))
        first = run_monthly()
        second = run_monthly()
        # the command line, as make monthly calls it: nothing sent again; a dry run writes .eml
        again = CliRunner().invoke(cli, ["monthly"])
        dry = CliRunner().invoke(cli, ["monthly", "--dry-run", "--period", first.period.label])

    # the last complete month, worked out here from the demo data's last invoice
    with duckdb.connect(str(db), read_only=True) as conn:
        last_at = conn.execute("select max(invoice_date) from retail").fetchone()[0]
    next_day = last_at.date() + dt.timedelta(days=1)
    if next_day.day == 1:
        expected = f"{last_at:%Y-%m}"
    else:
        first_of_month = last_at.date().replace(day=1)
        expected = f"{first_of_month - dt.timedelta(days=1):%Y-%m}"
    assert first.period.label == expected
    assert first.delivery.status == "sent"
    assert second.created is False and second.version_dir == first.version_dir
    assert second.delivery.status == "skipped"
    assert len(inbox.messages) == 1
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output and "nothing sent" in again.output
    assert dry.exit_code == 0, dry.output
    eml = Path(re.search(r"the message is in (\S+\.eml)", dry.output).group(1))
    assert eml.parent == tmp_path / "reports" / "_outbox" and eml.is_file()

    message = inbox.parsed()
    metrics = json.loads((first.version_dir / "metrics.json").read_text())
    assert metrics["is_demo"] is True
    assert message["Subject"] == f"LGS {expected}: £{round(metrics['net_sales']):,} (demo data)"
    parts = _parts(message)
    assert (
        parts["application/pdf"][0].get_content() == (first.version_dir / "report.pdf").read_bytes()
    )
    html = parts["text/html"][0].get_content()
    assert f"£{round(metrics['net_sales']):,}" in html
    assert f"{metrics['active_customers']:,}" in html
    for segment in metrics["segments"]:
        assert f"£{round(segment['revenue']):,}" in html
    assert "image/png" in parts
    index = (tmp_path / "reports" / "index.html").read_text()
    assert f"{expected}/{first.version_dir.name}/report.pdf" in index
    assert "marketing@lgs.test" in index


class _StallingInbox(Inbox):
    """Holds the DATA answer until released, so the test can kill the sender meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.got_data = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        self.got_data.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_send_report_killed_mid_send_is_not_sent_twice(version_dir: Path, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    params = tmp_path / "params"
    params.mkdir()
    (params / "delivery.yaml").write_text(
        "sender: reports@lgs.test\nrecipients: [marketing@lgs.test]\nmax_attempts: 1\n"
    )
    inbox = _StallingInbox()
    with smtp_server(inbox) as port:
        env = {
            **os.environ,
            "LGS_PARAMS_DIR": str(params),
            "LGS_SMTP_HOST": "127.0.0.1",
            "LGS_SMTP_PORT": str(port),
            "LGS_SMTP_TLS": "none",
        }
        code = (
            f"from lgs_analysis.delivery.send import send_report; send_report({str(version_dir)!r})"
        )
        sender = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT)
        try:
            assert inbox.got_data.wait(30), "the sender never reached DATA"
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait(10)
        finally:
            inbox.release.set()
            if sender.poll() is None:
                sender.kill()
        settings = settings_for(port, tmp_path)
        # the server may or may not have taken it: an unattended run must not send it again
        with pytest.raises(DeliveryError, match="may have been delivered.*RESEND=1"):
            send_report(version_dir, config=CONFIG, settings=settings)
        assert read_deliveries(version_dir) == []
        index = write_index(tmp_path / "reports").read_text()
        assert "send interrupted" in index
        assert send_report(version_dir, resend=True, config=CONFIG, settings=settings).status == (
            "sent"
        )
        assert send_report(version_dir, config=CONFIG, settings=settings).status == "skipped"
    assert len(read_deliveries(version_dir)) == 1
    assert "send interrupted" not in (tmp_path / "reports" / "index.html").read_text()


def test_send_report_implicit_tls(version_dir: Path, tmp_path: Path) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=context) as port:
        settings = settings_for(port, tmp_path, smtp_tls="ssl", smtp_ca_file=str(cert))
        assert send_report(version_dir, config=CONFIG, settings=settings).status == "sent"
    assert len(inbox.messages) == 1


class _LateInbox(Inbox):
    """Takes the message, but answers DATA only after ``delay`` seconds (past the client's
    timeout): the message is delivered, the client never hears so."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import asyncio

        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        await asyncio.sleep(self.delay)
        return "250 2.0.0 queued"


def test_send_report_late_data_reply_is_unknown_never_retried(
    version_dir: Path, tmp_path: Path
) -> None:
    """Issue 11: a server that accepts the message but answers after the client's timeout
    got 4 copies and a re-run sent a 5th. Now: one copy, recorded as unknown, no retry, and
    the next run refuses until RESEND=1, with the same Message-ID on every attempt."""
    inbox = _LateInbox(delay=3.0)
    with smtp_server(inbox) as port:
        settings = dataclasses.replace(settings_for(port, tmp_path), smtp_timeout=1.0)
        with pytest.raises(DeliveryError, match="outcome unknown.*did not confirm it"):
            send_report(version_dir, config=CONFIG, settings=settings)
        assert len(inbox.messages) == 1  # CONFIG allows 3 attempts: none was used
        pending = json.loads(pending_path(version_dir.parent).read_text())
        assert pending["status"] == "unknown"
        first_id = inbox.parsed(0)["Message-ID"]
        assert pending["message_id"] == first_id
        assert read_deliveries(version_dir) == []
        with pytest.raises(DeliveryError, match="never confirmed it.*RESEND=1"):
            send_report(version_dir, config=CONFIG, settings=settings)
        assert len(inbox.messages) == 1
        inbox.delay = 0.0
        result = send_report(version_dir, resend=True, config=CONFIG, settings=settings)
    assert result.status == "sent" and len(inbox.messages) == 2
    assert not pending_path(version_dir.parent).exists()


def test_send_report_explicit_4xx_after_data_is_still_retried(
    version_dir: Path, tmp_path: Path
) -> None:
    """A server that answers the message with 4xx said it did not take it: that stays a
    safe retry. Only silence after the whole message is 'unknown'."""
    inbox = Inbox(data_failures=["451 4.3.0 try again later", "451 4.3.0 try again later"])
    with smtp_server(inbox) as port:
        result = send_report(version_dir, config=CONFIG, settings=settings_for(port, tmp_path))
    assert result.attempts == 3 and len(inbox.messages) == 1


# ---------------------------------------------------------------- state on disk (issue 22)


def _tree(folder: Path) -> list[str]:
    return sorted(f"{p.relative_to(folder)}:{p.lstat().st_size}" for p in folder.rglob("*"))


@pytest.mark.parametrize(
    "payload",
    ['{"period": "2011-11", "deliveries": [{"sent_at": "2011-1', '["v001"]', '{"deliveries": 3}'],
    ids=["truncated", "a list", "wrong shape"],
)
def test_send_report_reads_a_damaged_record_as_maybe_sent(
    version_dir: Path, tmp_path: Path, payload: str
) -> None:
    """Issue 22: a truncated or wrong-shaped deliveries/vNNN.json made every report exit 7
    or raise AttributeError. It is now "may have been sent": no send until RESEND=1, which
    keeps the damaged record aside and records afresh."""
    record = deliveries_path(version_dir)
    record.parent.mkdir(parents=True)
    record.write_text(payload)
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = settings_for(port, tmp_path)
        with pytest.raises(DeliveryError, match="record is damaged.*may have been emailed"):
            send_report(version_dir, config=CONFIG, settings=settings)
        assert inbox.messages == [] and not pending_path(version_dir.parent).exists()
        result = send_report(version_dir, resend=True, config=CONFIG, settings=settings)
        again = send_report(version_dir, config=CONFIG, settings=settings)
    assert result.status == "sent" and again.status == "skipped" and len(inbox.messages) == 1
    assert len(read_deliveries(version_dir)) == 1
    assert [p.read_text() for p in record.parent.glob(".v001.json.damaged-*")] == [payload]


def test_send_report_never_reads_or_writes_through_links(version_dir: Path, tmp_path: Path):
    """A forged latest, a linked deliveries or _outbox folder, a list file outside the
    version: nothing outside the reports folder is read, attached or written."""
    outside = tmp_path / "outside"
    forged = make_version_dir(outside, version="v999")
    (outside / "secret.csv").write_text("customer_id\nLGS-SECRET\n")
    (outside / "deliveries").mkdir()
    (outside / "_outbox").mkdir()
    period = version_dir.parent
    (period / "deliveries").symlink_to(outside / "deliveries", target_is_directory=True)
    (tmp_path / "reports" / "_outbox").symlink_to(outside / "_outbox", target_is_directory=True)
    metrics = json.loads((version_dir / "metrics.json").read_text())
    metrics["actions"][0]["list_file"] = "../../../outside/secret.csv"
    metrics["actions"][0]["email_list"] = True
    (version_dir / "metrics.json").write_text(json.dumps(metrics))
    (period / "latest").unlink()
    (period / "latest").symlink_to(forged, target_is_directory=True)
    before = _tree(outside)
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = settings_for(port, tmp_path)
        with pytest.raises(DeliveryError, match="not a version folder"):
            send_report(period / "latest", config=CONFIG, settings=settings)
        dry = send_report(version_dir, dry_run=True, config=CONFIG, settings=settings)
        sent = send_report(version_dir, config=CONFIG, settings=settings)
    assert _tree(outside) == before
    assert dry.eml_path.parent == tmp_path / "reports" / "_outbox" and dry.eml_path.is_file()
    assert sent.status == "sent" and not (period / "deliveries").is_symlink()
    message = inbox.parsed()
    assert b"LGS-SECRET" not in inbox.messages[0][2]
    assert "secret.csv" not in [p.get_filename() for p in message.walk()]


def test_send_accepted_but_unrecorded_is_recorded_by_the_next_run(
    version_dir: Path, tmp_path: Path
) -> None:
    marker = pending_path(version_dir.parent)
    marker.parent.mkdir(parents=True)
    marker.write_text(
        json.dumps(
            {
                "version": "v001",
                "status": "accepted",
                "message_id": "<lgs-1@lgs.test>",
                "recipients": ["marketing@lgs.test"],
                "sent_at": "2011-12-02T06:00:01+00:00",
                "started_at": "2011-12-02T06:00:00+00:00",
            }
        )
    )
    inbox = Inbox()
    with smtp_server(inbox) as port:
        result = send_report(version_dir, config=CONFIG, settings=settings_for(port, tmp_path))
    assert result.status == "skipped" and inbox.messages == []
    assert [d["message_id"] for d in read_deliveries(version_dir)] == ["<lgs-1@lgs.test>"]
    assert not marker.exists()


# ---------------------------------------------------------------- delivery state (issue 22)


def _config(**changes: Any) -> DeliveryConfig:
    return dataclasses.replace(CONFIG, **changes)


@pytest.mark.parametrize(
    "who",
    ["recipient", "sender", "display name and recipient"],
)
def test_non_ascii_address_goes_out_with_smtputf8_where_offered(
    version_dir: Path, tmp_path: Path, who: str
) -> None:
    config = {
        "recipient": _config(recipients=["zoë@lgs.test", "crm@lgs.test"]),
        "sender": _config(sender="Zoë <zoë@lgs.test>"),
        "display name and recipient": _config(recipients=["Zoë Ångström <zoë@lgs.test>"]),
    }[who]
    inbox = Inbox()
    with smtp_server(inbox, enable_SMTPUTF8=True) as port:
        result = send_report(version_dir, config=config, settings=settings_for(port, tmp_path))
    assert result.status == "sent" and len(inbox.messages) == 1
    mail_from, rcpt_tos, _ = inbox.messages[0]
    addresses = [mail_from, *rcpt_tos]
    assert "zoë@lgs.test" in addresses
    assert "zoë@lgs.test" in str(inbox.parsed()["To"]) + str(inbox.parsed()["From"])


@pytest.mark.parametrize("who", ["recipient", "sender"])
def test_non_ascii_address_is_refused_up_front_without_smtputf8(
    version_dir: Path, tmp_path: Path, who: str
) -> None:
    """Issue 22: zoë@example.com gave a UnicodeEncodeError traceback and left pending.json,
    so every later run refused with "may have been delivered"."""
    config = (
        _config(recipients=["marketing@lgs.test", "zoë@lgs.test"])
        if who == "recipient"
        else _config(sender="zoë@lgs.test")
    )
    inbox = Inbox()
    with smtp_server(inbox, enable_SMTPUTF8=False) as port:
        settings = settings_for(port, tmp_path)
        with pytest.raises(DeliveryError, match="zoë@lgs.test needs SMTPUTF8.*nobody was sent"):
            send_report(version_dir, config=config, settings=settings)
        assert not pending_path(version_dir.parent).exists()
        assert read_deliveries(version_dir) == [] and inbox.messages == []
        # the next run, with the address fixed, is not held back
        assert send_report(version_dir, config=CONFIG, settings=settings).status == "sent"


def test_delivery_config_dedupes_and_keeps_international_domains_ascii(tmp_path: Path) -> None:
    (tmp_path / "delivery.yaml").write_text(
        "sender: reports@lgs.test\n"
        "recipients:\n"
        "  - marketing@lgs.test\n"
        "  - MARKETING@LGS.TEST\n"
        "  - 'Marketing <marketing@lgs.test>'\n"
        "  - crm@lgs.test\n"
        "  - orders@bücher.example\n"
        "  - 'Zoë <zoë@lgs.test>'\n"
        "  - zoë@lgs.test\n"
        "bcc: true\n"
    )
    config = load_delivery_config(tmp_path)
    assert config.recipients == [
        "marketing@lgs.test",
        "crm@lgs.test",
        "orders@xn--bcher-kva.example",
        "Zoë <zoë@lgs.test>",
    ]
    assert config.bcc is True


def test_duplicates_get_one_copy_and_idna_domains_need_no_smtputf8(
    version_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "delivery.yaml").write_text(
        "sender: reports@lgs.test\nrecipients: [a@lgs.test, A@lgs.test, 'A <a@lgs.test>', "
        "info@bücher.example]\n"
    )
    config = load_delivery_config(tmp_path / "params")
    inbox = Inbox()
    with smtp_server(inbox, enable_SMTPUTF8=False) as port:
        send_report(version_dir, config=config, settings=settings_for(port, tmp_path))
    assert inbox.messages[0][1] == ["a@lgs.test", "info@xn--bcher-kva.example"]


def test_bcc_keeps_a_long_list_out_of_the_headers(version_dir: Path, tmp_path: Path) -> None:
    recipients = [f"customer{i}@lgs.test" for i in range(300)]
    inbox = Inbox()
    with smtp_server(inbox) as port:
        result = send_report(
            version_dir,
            config=_config(recipients=recipients, bcc=True),
            settings=settings_for(port, tmp_path),
        )
    _, rcpt_tos, data = inbox.messages[0]
    assert rcpt_tos == recipients and result.recipients == recipients
    assert inbox.parsed()["To"] == "undisclosed-recipients:;"
    assert b"customer1@lgs.test" not in data and b"Bcc" not in data
    assert read_deliveries(version_dir)[0]["bcc"] is True


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 256 kB tmpfs (needs root, as on the CI machine)."""
    import subprocess

    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; return the filler file."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"x" * 4096)
        except OSError:
            pass
    return filler


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.tmp")]


def test_disk_full_before_sending_exits_8_and_sends_nothing(tiny_fs: Path, tmp_path: Path):
    from lgs_analysis.exceptions import ReportsDirError

    version_dir = make_version_dir(tiny_fs / "reports")
    inbox = Inbox()
    with smtp_server(inbox) as port:
        settings = dataclasses.replace(
            settings_for(port, tmp_path), reports_dir=tiny_fs / "reports"
        )
        (version_dir.parent / "deliveries").mkdir()
        filler = _fill(tiny_fs)
        with pytest.raises(ReportsDirError, match="disk is full") as caught:
            send_report(version_dir, config=CONFIG, settings=settings)
        assert caught.value.exit_code == 8
        assert inbox.messages == [] and _leftovers(tiny_fs) == []
        assert not pending_path(version_dir.parent).exists()
        filler.unlink()
        assert send_report(version_dir, config=CONFIG, settings=settings).status == "sent"


class _FillingInbox(Inbox):
    """Accepts the message, but fills the reports' disk before it answers."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        _fill(self.folder)
        return await super().handle_DATA(server, session, envelope)


def test_disk_full_after_the_server_accepted_reads_as_unknown(tiny_fs: Path, tmp_path: Path):
    """Issue 22: the email went out but was not recorded, and nothing said so. The intent
    recorded before sending now stays: the run says the email WAS sent (exit 8), and the
    next run reads the unresolved intent as "may have been delivered", never "not sent"."""
    from lgs_analysis.exceptions import ReportsDirError

    version_dir = make_version_dir(tiny_fs / "reports")
    inbox = _FillingInbox(tiny_fs)
    with smtp_server(inbox) as port:
        settings = dataclasses.replace(
            settings_for(port, tmp_path), reports_dir=tiny_fs / "reports"
        )
        with pytest.raises(ReportsDirError, match="WAS sent.*could not be recorded"):
            send_report(version_dir, config=CONFIG, settings=settings)
        assert len(inbox.messages) == 1 and _leftovers(tiny_fs) == []
        (tiny_fs / "filler").unlink()
        with pytest.raises(DeliveryError, match="may have been delivered"):
            send_report(version_dir, config=CONFIG, settings=settings)
        assert len(inbox.messages) == 1
        assert "may have been delivered" in write_index(tiny_fs / "reports").read_text()
