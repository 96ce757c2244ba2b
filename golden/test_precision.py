"""The precision study runs, and its numbers keep the relations the report states."""

from golden.precision import markdown, study


def test_small_study_is_consistent():
    result = study(pairs=20_000, seed=1)
    for name, row in result["in_format"].items():
        assert row["exact"]["mean"] < row["lmul-carry"]["mean"], name
        assert row["exact"]["max"] <= 2.0 ** -result_man_bits(name) + 1e-12, name
    for norm in ("carry", "shift"):
        assert set(result["claims"][norm]) == {"m4_vs_e4m3", "m3_better_than_e5m2"}
    assert result["dot_products"]["K=1024 exact bf16"]["mean"] < result["dot_products"]["K=1024 L-Mul (carry)"]["mean"]
    assert "The paper's claims" in markdown(result)


def result_man_bits(name: str) -> int:
    return {"e4m3": 3, "e5m2": 2, "bf16": 7, "fp16": 10, "fp32": 23}.get(name) or int(name.split("m")[1])
