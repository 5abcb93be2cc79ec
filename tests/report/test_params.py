from pathlib import Path

import pytest

from lgs_analysis.exceptions import ParameterError
from lgs_analysis.report.params import declared_parameters, load_params, parse_overrides

PROJECT_PARAMS = Path(__file__).resolve().parents[2] / "params"


@pytest.fixture
def params_dir(tmp_path: Path) -> Path:
    (tmp_path / "defaults.yaml").write_text(
        "rfm_lookback_months: 12\ninvoice_percentile_cap: 0.85\nshow_all: false\nmap: {}\n"
    )
    return tmp_path


def test_load_params_merges_defaults_period_and_command_line(params_dir):
    (params_dir / "2011.yaml").write_text("rfm_lookback_months: 6\ninvoice_percentile_cap: 1\n")
    merged = load_params("2011", {"rfm_lookback_months": 3}, params_dir)
    assert merged == {
        "rfm_lookback_months": 3,
        "invoice_percentile_cap": 1.0,
        "show_all": False,
        "map": {},
    }


def test_load_params_rejects_unknown_name_listing_known(params_dir):
    with pytest.raises(ParameterError, match="unknown parameter 'lookback'.*rfm_lookback_months"):
        load_params("2011", {"lookback": 3}, params_dir)


def test_load_params_rejects_unknown_name_in_period_file(params_dir):
    (params_dir / "2011-11.yaml").write_text("typo: 1\n")
    with pytest.raises(ParameterError, match=r"2011-11\.yaml"):
        load_params("2011-11", None, params_dir)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rfm_lookback_months", "twelve"),
        ("rfm_lookback_months", 1.5),
        ("show_all", 1),
        ("invoice_percentile_cap", "high"),
        ("map", [1, 2]),
        ("rfm_lookback_months", True),
    ],
)
def test_load_params_rejects_wrong_type(params_dir, name, value):
    with pytest.raises(ParameterError, match=f"parameter '{name}'.*must be"):
        load_params("2011", {name: value}, params_dir)


def test_load_params_rejects_reserved_names(params_dir):
    with pytest.raises(ParameterError, match="set by the runner"):
        load_params("2011", {"output_dir": "/tmp"}, params_dir)


def test_parse_overrides_reads_yaml_scalars():
    assert parse_overrides(["a=20", "b=0.5", "c=true", "d=hello"]) == {
        "a": 20,
        "b": 0.5,
        "c": True,
        "d": "hello",
    }


def test_parse_overrides_rejects_missing_equals():
    with pytest.raises(ParameterError, match="name=value"):
        parse_overrides(["rfm_lookback_months"])


def test_project_defaults_match_template_parameters_cell():
    """The template's parameters cell declares exactly the parameters of defaults.yaml."""
    import nbformat
    import yaml

    nb = nbformat.read(PROJECT_PARAMS.parent / "notebooks" / "rfm_report.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(cell.source, namespace)  # the cell holds only literal assignments
    defaults = yaml.safe_load((PROJECT_PARAMS / "defaults.yaml").read_text())
    assert set(declared_parameters(PROJECT_PARAMS)) == set(defaults)
    for name, value in defaults.items():
        assert namespace[name] == value, name
