"""The quick proofs of ``make formal`` (``python -m verif.formal --quick``), each its own test: a proof that
fails, or a control that passes, fails the suite."""

import pytest

from verif.formal.proofs import all_proofs
from verif.formal.run import run_proof

QUICK = [p for p in all_proofs() if p.quick]


@pytest.mark.parametrize("proof", QUICK, ids=[p.name for p in QUICK])
def test_proof(proof, tmp_path):
    row = run_proof(proof, tmp_path, timeout=600)
    assert row["ok"], f"{proof.name}: {row['status']} (expected {proof.expect}): {row['detail']}"


def test_every_property_kind_is_in_the_quick_set():
    assert {p.property for p in QUICK} == {p.property for p in all_proofs()} - {"arithmetic"}
