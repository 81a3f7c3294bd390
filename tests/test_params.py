import pytest

from churnops.params import ParamsError, get, get_choice, get_number, load_params

PARAMS = {"base": {"seed": 42, "flag": True}, "train": {"cv_folds": 5, "size": 0.2, "rule": "best"}}


def test_get_walks_dotted_keys():
    assert get(PARAMS, "train.cv_folds") == 5
    assert get(PARAMS, "train.missing", None) is None


def test_get_names_the_missing_key():
    with pytest.raises(ParamsError, match=r"'train\.nope' is missing"):
        get(PARAMS, "train.nope")
    with pytest.raises(ParamsError, match=r"'absent' is missing \(needed: 'absent\.x'\)"):
        get(PARAMS, "absent.x")


@pytest.mark.parametrize(
    ("key", "kwargs", "message"),
    [
        ("base.flag", {}, r"'base\.flag' must be a number, got True"),
        ("train.rule", {}, r"must be a number, got 'best'"),
        ("train.size", {"integer": True}, r"must be an integer, got 0\.2"),
        ("train.cv_folds", {"low": 10}, r"must be in \[10, inf\), got 5"),
        ("train.size", {"low": 0, "high": 0.2, "high_inclusive": False}, r"\[0, 0\.2\), got 0\.2"),
    ],
)
def test_get_number_rejects_with_key_and_value(key, kwargs, message):
    with pytest.raises(ParamsError, match=message):
        get_number(PARAMS, key, **kwargs)


def test_get_number_accepts_in_range():
    assert get_number(PARAMS, "train.size", low=0, high=1) == 0.2


def test_get_choice():
    assert get_choice(PARAMS, "train.rule", ("best", "one_standard_error")) == "best"
    with pytest.raises(ParamsError, match=r"train\.rule' must be one of \['x'\], got 'best'"):
        get_choice(PARAMS, "train.rule", ("x",))


def test_load_params_errors(tmp_path):
    with pytest.raises(ParamsError, match="cannot read params file"):
        load_params(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("3\n")
    with pytest.raises(ParamsError, match="must hold a mapping, got int"):
        load_params(scalar)


def test_project_params_load():
    from tests.conftest import TEST_PARAMS

    params = load_params(TEST_PARAMS)
    assert set(params) >= {"base", "prepare", "featurize", "train", "evaluate"}


def test_yes_and_no_stay_strings_as_dvc_writes_them(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        "base:\n  positive_label: Yes\n  negative_label: no\n  flag: true\n  off: off\n"
    )
    params = load_params(path)
    assert params["base"] == {
        "positive_label": "Yes",
        "negative_label": "no",
        "flag": True,
        "off": "off",
    }
