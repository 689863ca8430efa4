"""``flask structures`` and ``flask reference``: the partner structures and reference lists."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import transaction
from app.domain.capacity import MAX_FREE_PLACES
from app.domain.french import Article
from app.services import structures

ARTICLES = tuple(article.value for article in Article)
structures_cli = AppGroup("structures", help="List and create partner structures.")
reference_cli = AppGroup("reference", help="Read and extend the reference lists.")


@structures_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include inactive structures.")
def list_structures(show_all: bool) -> None:
    """One structure a line: code, type, name."""
    with transaction() as session:
        for s in structures.list_structures(session, include_inactive=show_all):
            state = "" if s.active else "  (inactive)"
            click.echo(f"{s.code}\t{s.type.code}\t{s.name}{state}")


@structures_cli.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Full name, as partners know it.")
@click.option(
    "--type",
    "type_code",
    required=True,
    help="Structure type code (see: reference list structure_type).",
)
@click.option("--city", default="", help="Town or city.")
@click.option("--missions", default="", help="What the structure does, in plain words.")
@click.option("--contact", default="", help="How partners reach it (phone, e-mail, address).")
@click.option(
    "--capacity",
    type=click.IntRange(0, MAX_FREE_PLACES),
    default=None,
    help=f"Free places, if known (0 to {MAX_FREE_PLACES}).",
)
@click.option(
    "--article",
    type=click.Choice(ARTICLES),
    default=None,
    help="Article of the name in French sentences: le (au CCAS), la (à la Mission Locale), "
    "l (à l'EPIDE), les (aux Petits Pas), none (à France Travail). Default: derived from the "
    "name.",
)
def create_structure(
    code: str,
    name: str,
    type_code: str,
    city: str,
    missions: str,
    contact: str,
    capacity: int | None,
    article: str | None,
) -> None:
    """Create the partner structure CODE (2-32 capitals, digits, - or _)."""
    with transaction() as session:
        s = structures.create_structure(
            session,
            None,
            code=code,
            name=name,
            type_code=type_code,
            city=city,
            missions=missions,
            contact=contact,
            capacity=capacity,
            article=article,
        )
        click.echo(
            f"Created structure {s.code}: {s.name} ({structures.structure_phrases(s, 'fr').the})"
        )


@structures_cli.command("article")
@click.argument("code")
@click.argument("article", type=click.Choice([*ARTICLES, "derive"]))
def set_article(code: str, article: str) -> None:
    """Set the article of structure CODE's name in French sentences ("derive": from the name)."""
    with transaction() as session:
        s = structures.get_structure(session, code)
        structures.set_structure_article(session, None, s, None if article == "derive" else article)
        forms = structures.structure_phrases(s, "fr")
        click.echo(f"{s.code}: {forms.the}, {forms.to}, {forms.of}")


@reference_cli.command("list")
@click.argument("kind", type=click.Choice(structures.REFERENCE_KINDS))
def list_reference(kind: str) -> None:
    """List the entries of a reference list: code, French label, English label."""
    with transaction() as session:
        items = structures.reference_items(
            session, structures.reference_kind(kind), include_inactive=True
        )
        for item in items:
            state = "" if item.active else "\t(inactive)"
            click.echo(f"{item.code}\t{item.label_fr}\t{item.label_en}{state}")


@reference_cli.command("add")
@click.argument("kind", type=click.Choice(structures.REFERENCE_KINDS))
@click.argument("code")
@click.option("--fr", "label_fr", required=True, help="Label in French.")
@click.option("--en", "label_en", required=True, help="Label in English.")
def add_reference(kind: str, code: str, label_fr: str, label_en: str) -> None:
    """Add CODE to the reference list KIND (for example a QPV of your territory)."""
    with transaction() as session:
        item = structures.add_reference_item(
            session, None, structures.reference_kind(kind), code, label_fr, label_en
        )
        click.echo(f"Added {item.code} to {kind}")
