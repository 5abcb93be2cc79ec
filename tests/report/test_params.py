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


@pytest.mark.parametrize(
    "pair",
    [
        "segment_map=!!set {a: null}",
        "segment_map=!!binary aGVsbG8=",
        "segment_map=!!python/object/apply:os.system ['touch x']",
        "segment_map={'11': !!timestamp 2011-01-01}",
    ],
)
def test_yaml_tags_are_refused(pair):
    with pytest.raises(ParameterError, match="not allowed|cannot read"):
        load_params("2011", parse_overrides([pair]), PROJECT_PARAMS)


def test_yaml_tags_in_a_period_file_are_refused(tmp_path):
    (tmp_path / "defaults.yaml").write_text("segment_map: {}\n")
    (tmp_path / "2011.yaml").write_text('segment_map: !!set {"a": null}\n')
    with pytest.raises(ParameterError, match=r"2011\.yaml.*not allowed"):
        load_params("2011", None, tmp_path)


def test_dates_stay_text_and_values_are_checked_deeply():
    merged = load_params(
        "2011", parse_overrides(['segment_map={"55": 2011-01-01}']), PROJECT_PARAMS
    )
    assert merged["segment_map"] == {"55": "2011-01-01"}
    with pytest.raises(ParameterError, match="non-text key"):
        load_params("2011", {"segment_map": {1: "x"}}, PROJECT_PARAMS)
    with pytest.raises(ParameterError, match="plain data"):
        load_params("2011", {"segment_map": {"11": {1, 2}}}, PROJECT_PARAMS)
    with pytest.raises(ParameterError, match="finite"):
        load_params("2011", {"min_lift": float("inf")}, PROJECT_PARAMS)


@pytest.mark.parametrize(
    ("pair", "match"),
    [
        ("rfm_lookback_months=100000", r"rfm_lookback_months.*\[1, 120\]"),
        ("min_support=0", r"min_support.*\(0.0, 1.0\]"),
        ("min_support=1.5", "min_support"),
        ("min_confidence=-0.1", "min_confidence"),
        ("max_itemset_size=50", "max_itemset_size"),
        ("rfm_monetary=both", "one of net, gross"),
        ('segment_map={"[1-2": "X"}', "not a valid regex"),
        ('segment_map={"11": ""}', "1 to 40 printable"),
        ("top_customers=5;touch${IFS}x", "must be int"),
    ],
)
def test_values_out_of_bounds_are_refused_naming_the_parameter(pair, match):
    with pytest.raises(ParameterError, match=match):
        load_params("2011", parse_overrides([pair]), PROJECT_PARAMS)


@pytest.mark.parametrize(
    ("segment_map", "first", "second"),
    [
        ({"[1-2]4": "Can t Lose"}, "Can't Lose", "Can t Lose"),  # beside the standard name
        ({"[1-2]4": "CAN'T LOSE"}, "Can't Lose", "CAN'T LOSE"),
        ({"55": "Χαμένοι", "54": "χαμένοι"}, "Χαμένοι", "χαμένοι"),
        ({"55": "VIP-1", "54": "VIP 1"}, "VIP-1", "VIP 1"),
        ({"55": "Champions!", "41": "Champions?"}, "Champions?", "Champions"),
    ],
)
def test_segment_names_sharing_a_file_name_are_refused_naming_both(segment_map, first, second):
    with pytest.raises(ParameterError) as caught:
        load_params("2011", {"segment_map": segment_map}, PROJECT_PARAMS)
    assert f"{first!r} and {second!r} would share the file names" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("name", ["Readout", "readout pooled", "READOUT-POOLED"])
def test_a_segment_named_like_the_readout_table_is_refused(name):
    """campaign_readout.csv is the readout's own table: a segment list must not replace it."""
    with pytest.raises(ParameterError, match=r"campaign_readout(_pooled)?\.csv.*readout") as caught:
        load_params("2011", {"segment_map": {"55": name}}, PROJECT_PARAMS)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "segment_map",
    [
        {"[1-2]5": "Can t Lose"},  # replaces the standard name: one file, no clash
        {"55": "Χαμένοι", "54": "Κοιμώμενοι", "53": "Πιστοί"},  # were all campaign_segment.csv
        {"55": "★★", "54": "☆☆"},
    ],
)
def test_segment_names_with_their_own_file_names_are_accepted(segment_map):
    merged = load_params("2011", {"segment_map": segment_map}, PROJECT_PARAMS)
    assert merged["segment_map"] == segment_map


@pytest.mark.parametrize("name", ["VIP\u202e", "V\u200bIP", "\ufeffVIP", "VIP\u2028", "VIP\x9b"])
def test_segment_names_with_invisible_characters_are_refused(name):
    with pytest.raises(ParameterError, match="no control, bidi or zero-width"):
        load_params("2011", {"segment_map": {"55": name}}, PROJECT_PARAMS)


def test_split_overrides_uses_shell_quoting_without_a_shell():
    from lgs_analysis.report.params import split_overrides

    assert split_overrides('top_customers=5 segment_map=\'{"55": "VIP buyers"}\'') == [
        "top_customers=5",
        'segment_map={"55": "VIP buyers"}',
    ]
    with pytest.raises(ParameterError, match="cannot split"):
        split_overrides("a='b")


def test_yaml_anchor_bombs_huge_numbers_and_deep_nesting_are_refused(tmp_path):
    (tmp_path / "defaults.yaml").write_text("segment_map: {}\ntop_customers: 15\n")
    bomb = "segment_map: {a: &a [x,x,x,x,x,x,x,x,x], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]}\n"
    (tmp_path / "2011.yaml").write_text(bomb)
    with pytest.raises(ParameterError, match="anchors and aliases"):
        load_params("2011", None, tmp_path)
    with pytest.raises(ParameterError, match="cannot read value '9{57}\\.\\.\\.'"):
        load_params("2011", parse_overrides(["top_customers=" + "9" * 5000]), tmp_path)
    with pytest.raises(ParameterError, match="cannot read|nested"):
        load_params("2011", parse_overrides(["segment_map=" + "[" * 3000 + "]" * 3000]), tmp_path)
