"""``flask structures create --article`` and ``flask structures article``."""

from __future__ import annotations

from flask.testing import FlaskCliRunner


def test_create_with_an_article_then_change_it(runner: FlaskCliRunner) -> None:
    created = runner.invoke(
        args=[
            "structures",
            "create",
            "PAS90",
            "--name",
            "Les Petits Pas",
            "--type",
            "association",
            "--article",
            "les",
        ]
    )
    assert created.exit_code == 0, created.output
    assert "Created structure PAS90: Les Petits Pas (les Petits Pas)" in created.output
    changed = runner.invoke(args=["structures", "article", "PAS90", "none"])
    assert changed.exit_code == 0, changed.output
    assert "PAS90: Les Petits Pas, à Les Petits Pas, de Les Petits Pas" in changed.output
    derived = runner.invoke(args=["structures", "article", "pas90", "derive"])
    assert "PAS90: les Petits Pas, aux Petits Pas, des Petits Pas" in derived.output


def test_an_unknown_article_is_refused(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "structures",
            "create",
            "X90",
            "--name",
            "X",
            "--type",
            "association",
            "--article",
            "der",
        ]
    )
    assert result.exit_code != 0
    assert "--article" in result.output
