"""The alert rules: well formed, each naming only metrics the gateway exports; promtool checks them when present."""

import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import REGISTRY

import gateway.metrics  # noqa: F401  (declares the metrics the rules refer to)
from tests.conftest import REPO

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
WANTED = {
    "LangoHighErrorRate", "LangoSlowAnswers", "LangoNodeDeaf", "LangoJobBacklog", "LangoJobsFailing",
    "LangoPaymentFailureRate",
}


def _rules() -> list[dict[str, object]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def _exported_sample_names() -> set[str]:
    return {sample.name for family in REGISTRY.collect() for sample in family.samples} | {
        family.name for family in REGISTRY.collect()
    }


def test_every_rule_is_complete_and_the_essential_alerts_exist() -> None:
    rules = _rules()
    assert WANTED <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert rule["expr"] and "for" in rule
        assert rule["labels"]["severity"] in {"page", "ticket"}  # type: ignore[index]
        assert rule["annotations"]["summary"]  # type: ignore[index]


def test_rules_name_only_metrics_the_gateway_exports() -> None:
    exported = _exported_sample_names()
    named = {name for rule in _rules() for name in re.findall(r"\blango_[a-z_]+", str(rule["expr"]))}
    assert named, "no lango_ metric in the rules"
    missing = {name for name in named if name not in exported and re.sub(r"_(bucket|count|sum|total)$", "", name) not in exported}
    assert not missing


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian package prometheus)")
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
